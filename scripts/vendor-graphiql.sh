#!/usr/bin/env bash
# Re-fetches the pinned GraphiQL assets (UMD builds) that the binary embeds and serves under
# /graphiql/static/. GraphiQL 4.1.2 is the last release with a UMD build (5.x needs a bundler).
# Usage: bash scripts/vendor-graphiql.sh   (needs npm and the npm registry)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=assets/graphiql
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent graphiql@4.1.2 react@18.3.1 react-dom@18.3.1 >/dev/null)
for pkg in graphiql-4.1.2 react-18.3.1 react-dom-18.3.1; do
  mkdir -p "$work/$pkg" && tar -xzf "$work/$pkg.tgz" -C "$work/$pkg"
done
mkdir -p "$dest"
cp "$work/graphiql-4.1.2/package/graphiql.min.js" "$work/graphiql-4.1.2/package/graphiql.min.css" "$dest/"
cp "$work/graphiql-4.1.2/package/LICENSE" "$dest/LICENSE.graphiql"
cp "$work/react-18.3.1/package/umd/react.production.min.js" "$dest/"
cp "$work/react-18.3.1/package/LICENSE" "$dest/LICENSE.react"
cp "$work/react-dom-18.3.1/package/umd/react-dom.production.min.js" "$dest/"
cp "$work/react-dom-18.3.1/package/LICENSE" "$dest/LICENSE.react-dom"
cat > "$dest/README.md" <<'MD'
# Vendored GraphiQL assets

Served by the binary under `/graphiql/static/` (embedded at build time), so GraphiQL works
offline. Pinned: graphiql 4.1.2 (`graphiql.min.js`, `graphiql.min.css`), react 18.3.1 and
react-dom 18.3.1 (UMD production builds), each from its npm package, with its licence.
Re-fetch with `bash scripts/vendor-graphiql.sh`.
MD
ls -l "$dest"
