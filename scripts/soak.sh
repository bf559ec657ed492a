#!/usr/bin/env bash
# Soak: DURATION (default 300 s) of mixed read/write load on a release gateway over a scratch
# database, reporting errors (must be 0) and the server's RSS after warm-up and at the end (no
# growth beyond 10 %). Aimed at 127.0.0.1 only; bounded by DURATION.
# Usage: bash scripts/soak.sh [DURATION_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-300}"
for tool in wrk curl psql python3; do
  command -v "$tool" >/dev/null || { echo "soak: $tool is missing (Debian: apt-get install wrk curl postgresql-client python3)" >&2; exit 1; }
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/blog-gateway"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DB="postgres://postgres@127.0.0.1:5432/blog_soak"
psql -X -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS blog_soak WITH (FORCE)" postgres
"$BIN" seed --database-url "$DB" --users 200 --posts 2000 --comments 10000 --likes 10000 >/dev/null
DATABASE_URL="$DB" PORT="$PORT" RATE_LIMIT_ENABLED=false CACHE_ENABLED=false RUST_LOG=error \
  JWT_SECRET=soak-secret-soak-secret-soak-secret-soak "$BIN" >/dev/null 2>&1 &
GATEWAY=$!
trap 'kill $GATEWAY 2>/dev/null || true' EXIT
until curl -s -o /dev/null "http://127.0.0.1:$PORT/api/health"; do sleep 0.1; done
export SOAK_TOKEN=$(curl -s "http://127.0.0.1:$PORT/api/auth/login" -H 'content-type: application/json' \
  -d '{"email":"user@example.com","password":"password123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["accessToken"])')
export SOAK_POSTS=$(curl -s "http://127.0.0.1:$PORT/api/posts?limit=100" | python3 -c 'import json,sys; print(",".join(p["id"] for p in json.load(sys.stdin)["data"]))')
rss() { awk '/VmRSS/ {print $2}' "/proc/$GATEWAY/status"; }
wrk -t1 -c16 -d10s -s scripts/soak.lua "http://127.0.0.1:$PORT" >/dev/null
start=$(rss)
echo "soak: ${DURATION} s of mixed load; RSS after warm-up ${start} kB"
# RSS every 30 s, to tell a plateau (allocator and pool warm-up) from steady growth (a leak).
(while sleep 30; do printf '%s ' "$(rss)"; done) &
SAMPLER=$!
wrk -t1 -c16 -d"${DURATION}s" -s scripts/soak.lua "http://127.0.0.1:$PORT" | tail -n 1
kill "$SAMPLER" 2>/dev/null || true
echo
echo "RSS samples (kB, every 30 s) printed above the summary line"
end=$(rss)
echo "RSS at the end ${end} kB, growth $(python3 -c "print(round(100 * ($end - $start) / $start, 1))") % (limit 10 %)"
