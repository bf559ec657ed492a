#!/usr/bin/env bash
# Runs the whole test suite: starts Postgres and Redis when needed, installs what the browser,
# audit, fuzz and client tests need, then every unit and integration test (the integration tests
# talk to the real servers). Prints how long each stage took.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() {
  local name=$1 begun=$SECONDS
  shift
  "$@"
  echo "test stage: $name took $((SECONDS - begun)) s"
}
stage services bash scripts/services.sh
stage browser-deps bash scripts/browser-deps.sh
stage audit-deps bash scripts/audit-deps.sh
stage fuzz-deps bash scripts/fuzz-deps.sh
stage clients-deps bash scripts/clients-deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
stage build cargo test --all-targets --no-run --quiet "$@"
# The attack suite (tests/it/attacks.rs) runs against the release binary.
stage release-build cargo build --release --quiet
stage cargo-test cargo test --all-targets "$@"
