#!/usr/bin/env bash
# Logins under load (issue 4): logins per second, and the p99 of an anonymous read (the feed
# query) alone and while logins run; the second must stay within 2x the first. Uses a scratch
# database seeded by `blog-gateway seed` (every user's password is password123), a release
# gateway on 127.0.0.1, and the wrk scripts of bench/run.sh. Bounded in time.
# Usage: bash bench/logins.sh      Env: DURATION (10s) LOGIN_CONNS (16) READ_CONNS (8)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"; LOGIN_CONNS="${LOGIN_CONNS:-16}"; READ_CONNS="${READ_CONNS:-8}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/blog-gateway"
OUT=bench/out/logins; mkdir -p "$OUT"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DB="postgres://postgres@127.0.0.1:5432/blog_bench_logins"
psql -X -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS blog_bench_logins WITH (FORCE)" postgres 2>/dev/null
"$BIN" seed --database-url "$DB" --users 500 --posts 5000 --comments 20000 --likes 20000 >/dev/null
psql -X -At "$DB" -c "SELECT email FROM users WHERE is_active ORDER BY id LIMIT 200" \
  | awk 'BEGIN { print "return {" } { printf "  \"%s\",\n", $1 } END { print "}" }' >"$OUT/users.lua"
echo '{"query":"query Feed { posts(first: 20) { nodes { id title likeCount commentCount author { id username fullName } } pageInfo { hasNextPage endCursor } } }"}' >"$OUT/feed.json"
DATABASE_URL="$DB" PORT="$PORT" RATE_LIMIT_ENABLED=false CACHE_ENABLED=false RUST_LOG=error \
  JWT_SECRET=logins-secret-logins-secret-logins-secret "$BIN" >"$OUT/gateway.log" 2>&1 &
GATEWAY=$!
trap 'kill $GATEWAY 2>/dev/null || true; psql -X -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS blog_bench_logins WITH (FORCE)" postgres 2>/dev/null || true' EXIT
until curl -s -o /dev/null "http://127.0.0.1:$PORT/api/health"; do sleep 0.1; done
URL="http://127.0.0.1:$PORT"
read_run() {
  REQ_METHOD=POST BODY_FILE="$OUT/feed.json" taskset -c 0 wrk -t1 -c"$READ_CONNS" -d"$DURATION" --latency \
    -s bench/wrk-request.lua "$URL/graphql"
}
login_run() {
  USERS_LUA="$OUT/users.lua" taskset -c 0 wrk -t1 -c"$LOGIN_CONNS" -d"$1" --latency -s bench/wrk-login.lua "$URL/api/auth/login"
}
summary() { # requests/s, p50, p99, errors
  awk '/Requests\/sec/ {r=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {e+=$5} /Socket errors/ {e+=1} /body_errors/ {e+=$2}
       END { printf "%s req/s, p50 %s, p99 %s, errors %d", r, p50, p99, e }' "$1"
}
read_run >/dev/null # warm-up
read_run >"$OUT/read-alone.txt"
login_run "$DURATION" >"$OUT/logins-alone.txt"
login_run 14s >"$OUT/logins-with-reads.txt" &
LOGINS=$!
sleep 2
read_run >"$OUT/read-during-logins.txt"
wait "$LOGINS"
echo "read alone:          $(summary "$OUT/read-alone.txt")"
echo "logins alone:        $(summary "$OUT/logins-alone.txt")"
echo "read during logins:  $(summary "$OUT/read-during-logins.txt")"
echo "logins during reads: $(summary "$OUT/logins-with-reads.txt")"
python3 - "$OUT/read-alone.txt" "$OUT/read-during-logins.txt" <<'PY'
import re, sys
def p99(path):
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", open(path).read(), re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
alone, during = p99(sys.argv[1]), p99(sys.argv[2])
print(f"read p99 during logins / alone: {during / alone:.2f}x (target <= 2x)")
PY
