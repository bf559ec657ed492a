#!/usr/bin/env bash
# Runs the whole test suite: starts Postgres and Redis when needed, then every unit and
# integration test (the integration tests talk to the real servers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/browser-deps.sh
bash scripts/audit-deps.sh
bash scripts/fuzz-deps.sh
bash scripts/clients-deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo test --all-targets "$@"
