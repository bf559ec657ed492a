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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
stage cargo-test bash -c 'set -o pipefail; cargo test --all-targets "$@" 2>&1 | tee "$0"' "$log" "$@"
# Every test binary's summary line, added up; the number may only grow (.ci/test-floor). A plain
# `cargo test` skips the tests whose tools are missing and names them; here they all run.
run=$( (grep -Eo '^test result: ok\. [0-9]+ passed' "$log" || true) | awk '{ n += $4 } END { print n + 0 }')
skipped=$(grep -c '^SKIPPED ' "$log" || true)
floor=$(cat .ci/test-floor)
echo "tests run: $run (floor $floor), skipped: $skipped"
if [ $# -eq 0 ] && { [ "$run" -lt "$floor" ] || [ "$skipped" -gt 0 ]; }; then
  echo "fewer tests ran than .ci/test-floor says, or some were skipped: a test was lost or a tool is missing" >&2
  exit 1
fi
