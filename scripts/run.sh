#!/usr/bin/env bash
# Runs the server on a fresh machine: starts Postgres and Redis when needed, builds the release
# binary, fills an empty database with the demo data (SEED_DEMO=0 skips that; a database with
# users is left as it is), and serves on 127.0.0.1:3000 (the server creates and migrates its
# database itself). Environment variables (see the README) pass through, e.g.
# PORT=4000 bash scripts/run.sh; arguments run a subcommand instead (bash scripts/run.sh seed --reset).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/blog-gateway"
if [ "$#" -eq 0 ] && [ "${SEED_DEMO:-1}" = 1 ]; then
  if output=$("$BIN" seed 2>&1); then
    echo "demo data seeded: admin@example.com, moderator@example.com, user@example.com (password123)"
  else
    echo "demo data not seeded: $(echo "$output" | tail -n 1)"
  fi
fi
exec "$BIN" "$@"
