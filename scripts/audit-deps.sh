#!/usr/bin/env bash
# Installs what the GraphQL-over-HTTP audit test needs: Node.js and the pinned graphql-http
# (with graphql, its peer) from tests/audit/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# Reinstall when the lock file changed since the last install.
stamp=tests/audit/node_modules/.lock-sha256
want=$(sha256sum tests/audit/package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  (cd tests/audit && npm ci --no-audit --no-fund --silent)
  echo "$want" >"$stamp"
fi
