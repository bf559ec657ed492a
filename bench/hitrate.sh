#!/usr/bin/env bash
# The response cache's hit rate under reads that follow a Zipf distribution over the posts with
# 2 % of requests likes or comments (bench/hitrate.py), for two binaries on identical copies of
# one seeded database: A (default: a build of the global-generation cache, given as BASELINE)
# and B (this tree's release build, per-entity invalidation). Figures: docs/benchmarks.md.
#
# Usage: BASELINE=/path/to/old/blog-gateway bash bench/hitrate.sh
#   (build a baseline with: git worktree add /tmp/bg-baseline e923dd2 &&
#    (cd /tmp/bg-baseline && cargo build --release) && cp <target>/release/blog-gateway ...)
#
# Env (defaults): REQUESTS=40000 WRITE_SHARE=0.02 ZIPF=1.0 THREADS=8 ROUNDS=1
#   SEED_SIZES="--users 1000 --posts 20000 --comments 100000 --likes 200000" TOKEN_USERS=50
#   PG=postgres://postgres@127.0.0.1:5432 REDIS_URL=redis://127.0.0.1:6379 PORT=5077
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
REQUESTS="${REQUESTS:-40000}"; WRITE_SHARE="${WRITE_SHARE:-0.02}"; ZIPF="${ZIPF:-1.0}"
THREADS="${THREADS:-8}"; ROUNDS="${ROUNDS:-1}"; TOKEN_USERS="${TOKEN_USERS:-50}"
SEED_SIZES="${SEED_SIZES:---users 1000 --posts 20000 --comments 100000 --likes 200000}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"; REDIS="${REDIS_URL:-redis://127.0.0.1:6379}"
PORT="${PORT:-5077}"
: "${BASELINE:?set BASELINE to the binary to compare with (see the header)}"

(cd "$ROOT" && cargo build --release --quiet)
CURRENT="$CARGO_TARGET_DIR/release/blog-gateway"
WORK="$(mktemp -d)"
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS blog_hitrate_run WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "seeding the template ($SEED_SIZES)"
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS blog_hitrate_tmpl WITH (FORCE)"
# shellcheck disable=SC2086
"$CURRENT" seed --database-url "$PG/blog_hitrate_tmpl" $SEED_SIZES >/dev/null
psql -qAt "$PG/blog_hitrate_tmpl" -c \
  "SELECT id FROM posts WHERE is_published ORDER BY md5(id::text)" > "$WORK/posts.txt"
psql -qAt "$PG/blog_hitrate_tmpl" -c \
  "SELECT email FROM users WHERE is_active ORDER BY email LIMIT $TOKEN_USERS" > "$WORK/emails.txt"
echo "$(wc -l < "$WORK/posts.txt") published posts, Zipf s=$ZIPF, $REQUESTS requests, writes $WRITE_SHARE"

run() {   # run LABEL BINARY -> prints the JSON line
  local label=$1 binary=$2 prefix="hitrate-$1-$RANDOM$RANDOM:"
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS blog_hitrate_run WITH (FORCE)" \
    -c "CREATE DATABASE blog_hitrate_run TEMPLATE blog_hitrate_tmpl"
  DATABASE_URL="$PG/blog_hitrate_run" REDIS_URL="$REDIS" REDIS_PREFIX="$prefix" PORT="$PORT" \
    CACHE_ENABLED=true RATE_LIMIT_ENABLED=false APP_ENV=test RUST_LOG=warn \
    JWT_SECRET=hitrate-secret-hitrate-secret-hitrate "$binary" serve > "$WORK/$label.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/health" && break; sleep 0.1; done
  : > "$WORK/tokens.txt"
  while read -r email; do
    curl -sf -H 'content-type: application/json' \
      -d "{\"email\":\"$email\",\"password\":\"password123\"}" "http://127.0.0.1:$PORT/api/auth/login" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["accessToken"])' >> "$WORK/tokens.txt"
  done < "$WORK/emails.txt"
  python3 "$HERE/hitrate.py" "http://127.0.0.1:$PORT" "$WORK/posts.txt" "$WORK/tokens.txt" \
    --requests "$REQUESTS" --write-share "$WRITE_SHARE" --zipf "$ZIPF" --threads "$THREADS"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  redis-cli -u "$REDIS" --scan --pattern "$prefix*" | xargs -r -n 500 redis-cli -u "$REDIS" DEL >/dev/null
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round: A (baseline: $BASELINE) $(run A "$BASELINE")"
  echo "round $round: B (per-entity: this tree)  $(run B "$CURRENT")"
done
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS blog_hitrate_tmpl WITH (FORCE)"
