#!/usr/bin/env bash
# Fault injection on a private Postgres (initdb in a temp dir, a free port) and a private
# redis-server, never the shared ones; every load is aimed at 127.0.0.1 and bounded in time.
#   1. Postgres stopped and restarted while wrk drives reads and a writer adds comments:
#      requests during the outage fail fast (503), none hang past the timeout, the gateway
#      answers again within 2 s of Postgres being back (no restart), no acknowledged write is lost.
#   2. Redis stopped and started under load: no 5xx.
#   3. SIGTERM while slow requests are in flight: every one of them completes.
# Usage: bash scripts/faults.sh        (needs wrk, PostgreSQL 15 binaries, redis-server; as root)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/blog-gateway"
PGBIN="/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -n 1)/bin"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port); REDISPORT=$(free_port); PORT=$(free_port)
WORK=$(mktemp -d); chown postgres "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  redis-cli -p "$REDISPORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

pg_start() { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -o "-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1" -l "$WORK/pg.log" -w start >/dev/null; }
pg_stop() { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast -w stop >/dev/null; }
redis_start() { redis-server --port "$REDISPORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes >/dev/null; }
now() { date +%s.%N; }
health() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/api/health" || true; }

runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
pg_start
redis_start
DB="postgres://postgres@127.0.0.1:$PGPORT/faults"
"$BIN" seed --database-url "$DB" --users 50 --posts 200 --comments 500 --likes 500 >/dev/null

start_gateway() {
  DATABASE_URL="$DB" REDIS_URL="redis://127.0.0.1:$REDISPORT" PORT="$PORT" CACHE_ENABLED=false RATE_LIMIT_MAX=100000000 \
    REQUEST_TIMEOUT_SECS=5 JWT_SECRET=faults-secret-faults-secret-faults-secret RUST_LOG=warn \
    "$BIN" >"$WORK/gateway.log" 2>&1 &
  GATEWAY=$!; PIDS+=("$GATEWAY")
  for _ in $(seq 1 100); do [ "$(health)" = 200 ] && return 0; sleep 0.1; done
  echo "the gateway did not start" >&2; exit 1
}
start_gateway
TOKEN=$(curl -s "http://127.0.0.1:$PORT/api/auth/login" -H 'content-type: application/json' \
  -d '{"email":"user@example.com","password":"password123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["accessToken"])')
POST=$(curl -s "http://127.0.0.1:$PORT/api/posts?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')

echo "== 1. Postgres restarted under load"
(wrk -t1 -c16 -d16s --latency "http://127.0.0.1:$PORT/api/posts?limit=5" >"$WORK/wrk-pg.txt" 2>&1) &
WRK=$!
: >"$WORK/acked"
(
  end=$(( $(date +%s) + 15 )); i=0
  while [ "$(date +%s)" -lt "$end" ]; do
    i=$((i + 1))
    code=$(curl -s -o "$WORK/c.json" -w '%{http_code}' --max-time 6 "http://127.0.0.1:$PORT/api/posts/$POST/comments" \
      -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "{\"content\":\"fault comment $i\"}" || true)
    [ "$code" = 201 ] && python3 -c 'import json; print(json.load(open("'"$WORK"'/c.json"))["data"]["id"])' >>"$WORK/acked"
    sleep 0.05
  done
) &
WRITER=$!
sleep 4
pg_stop
t0=$(now); code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/api/posts"); t1=$(now)
echo "during the outage: GET /api/posts answered $code in $(python3 -c "print(round($t1-$t0,3))") s"
echo "during the outage: health $(health)"
sleep 4
pg_start; back=$(now)
until [ "$(health)" = 200 ]; do sleep 0.05; done
ready=$(now)
echo "recovered $(python3 -c "print(round($ready-$back,3))") s after Postgres was back (target < 2 s)"
wait "$WRK" "$WRITER"
grep -E "Latency|Requests/sec|Non-2xx|Socket errors" "$WORK/wrk-pg.txt" | sed 's/^/  wrk: /'
echo "  wrk max latency must stay under the 5 s request timeout: $(grep -E '^ +Latency' "$WORK/wrk-pg.txt" | awk '{print $4}')"
acked=$(wc -l <"$WORK/acked")
ids=$(paste -sd, "$WORK/acked" | sed "s/\([^,]*\)/'\1'/g")
found=$(psql -X -At "$DB" -c "SELECT count(*) FROM comments WHERE id IN (${ids:-NULL})")
echo "acknowledged comments: $acked; found in Postgres: $found (no committed write lost: $([ "$acked" = "$found" ] && echo yes || echo NO))"
counter=$(psql -X -At "$DB" -c "SELECT comments_count = (SELECT count(*) FROM comments WHERE post_id = p.id) FROM posts p WHERE id = '$POST'")
echo "counter consistent with rows: $counter"

echo "== 2. Redis stopped and started under load"
(wrk -t1 -c16 -d10s "http://127.0.0.1:$PORT/api/posts?limit=5" >"$WORK/wrk-redis.txt" 2>&1) &
WRK=$!
sleep 3; redis-cli -p "$REDISPORT" shutdown nosave >/dev/null 2>&1 || true
echo "Redis down: health $(curl -s --max-time 3 "http://127.0.0.1:$PORT/api/health")"
sleep 3; redis_start
wait "$WRK"
grep -E "Requests/sec|Non-2xx|Socket errors" "$WORK/wrk-redis.txt" | sed 's/^/  wrk: /'
grep -q "Non-2xx" "$WORK/wrk-redis.txt" && echo "  NON-2XX ANSWERS SEEN" || echo "  0 non-2xx answers"
sleep 2; echo "after restart: health $(curl -s --max-time 2 "http://127.0.0.1:$PORT/api/health")"

echo "== 3. SIGTERM with requests in flight"
NESTED='{"query":"{ posts(first: 50) { nodes { id author { username } comments(first: 5) { nodes { id author { username } } } } } }"}'
for i in $(seq 1 20); do
  (curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 "http://127.0.0.1:$PORT/graphql" \
    -H 'content-type: application/json' -d "$NESTED" >>"$WORK/inflight") &
done
sleep 0.05
kill -TERM "$GATEWAY"
status=0; wait "$GATEWAY" || status=$?
sleep 0.5
echo "in-flight answers: $(sort "$WORK/inflight" | uniq -c | tr '\n' ' ')(every one should be 200, or 000 for a connection made after the signal)"
[ "$status" = 0 ] && echo "the gateway exited 0 after draining" || echo "the gateway exited with status $status"
