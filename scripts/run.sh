#!/usr/bin/env bash
# Runs the server on a fresh machine: starts Postgres and Redis when needed, builds the release
# binary, and serves on 127.0.0.1:3000 (the server creates and migrates its database itself).
# Environment variables (see the README) pass through, e.g. PORT=4000 bash scripts/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
cargo build --release --quiet
exec "$CARGO_TARGET_DIR/release/blog-gateway" "$@"
