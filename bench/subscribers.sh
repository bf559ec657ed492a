#!/usr/bin/env bash
# The subscriber benchmark (issue 23, part 4): SOCKETS x PER_SOCKET subscribers of one instance
# (with Redis, as in production), one event at a time fanned out to all of them, for
# `commentAdded` (every subscriber on one post) and `postPublished`. Method and figures:
# docs/benchmarks.md.
#
# Usage: bash bench/subscribers.sh
#
#   1. a private PostgreSQL (bench/lib.sh; pg_stat_statements loaded), `blog-gateway seed` at the
#      benchmark's size; the shared Redis, under a key prefix of this run
#   2. one gateway, its per-socket and per-client subscription caps raised to the run's sizes
#   3. per kind: a baseline of EVENTS writes with no subscriber (the write's own statements),
#      then SOCKETS x PER_SOCKET subscribers (examples/loadgen.rs) and EVENTS writes, one at a
#      time, each timed from its request to every subscriber's `next`; the server's CPU over the
#      events, its RSS, and pg_stat_statements over the events
#   4. the capacity run: CAPACITY_SOCKETS x PER_SOCKET subscribers of commentAdded (default
#      30,000: 15,000 per core of two), the same measurements (Hasura's published figure is
#      5,000 per core)
#   5. bench/out/subscribers/results.md: delivery p50/p99, last subscriber p50/p99, RSS, CPU,
#      statements per event beside the baseline, and the targets
#
# Env (defaults): SOCKETS=100 PER_SOCKET=100 EVENTS=20 GAP_MS=200 KINDS="comment post"
#   CAPACITY_SOCKETS=300 (0: no capacity run) CAPACITY_RATE=2000 (its subscriptions per second:
#   30,000 at once exhaust the pool, since each subscribe checks its post)
#   REDIS_URL=redis://127.0.0.1:6379 PG_PRIVATE_PORT=5441 GW_PORT=5020 BUILD=1
#   LOADGEN_CPU=0 (taskset CPU list of the generator; empty: not pinned)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OUT="$HERE/out/subscribers"

SOCKETS="${SOCKETS:-100}"; PER_SOCKET="${PER_SOCKET:-100}"; EVENTS="${EVENTS:-20}"; GAP_MS="${GAP_MS:-200}"
KINDS="${KINDS:-comment post}"; CAPACITY_SOCKETS="${CAPACITY_SOCKETS:-300}"; CAPACITY_RATE="${CAPACITY_RATE:-2000}"; REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
PG_PRIVATE_PORT="${PG_PRIVATE_PORT:-5441}"; GW_PORT="${GW_PORT:-5020}"; BUILD="${BUILD:-1}"
LOADGEN_CPU="${LOADGEN_CPU-0}"
BENCH_JWT_SECRET="blog-gateway-benchmark-only-secret-0123456789"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
BIN="$CARGO_TARGET_DIR/release/blog-gateway"
LOADGEN="$CARGO_TARGET_DIR/release/examples/loadgen"
GW_DB=unused

. "$HERE/lib.sh"

for tool in psql curl python3 ss redis-cli; do
  command -v "$tool" > /dev/null || die "$tool is missing"
done
if [ "$BUILD" = 1 ]; then
  log "cargo build --release (the server and examples/loadgen)"
  (cd "$ROOT" && timeout 3600 cargo build --release --quiet --bin blog-gateway --example loadgen)
fi
[ -x "$BIN" ] && [ -x "$LOADGEN" ] || die "no release binary or loadgen (run with BUILD=1)"
redis-cli -u "$REDIS_URL" ping > /dev/null || die "no Redis at $REDIS_URL"
PIN=(); [ -n "$LOADGEN_CPU" ] && PIN=(taskset -c "$LOADGEN_CPU")

rm -rf "$OUT"; mkdir -p "$OUT"
pg_private_start "$PG_PRIVATE_PORT"
PG_PID="$PGP_PID"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PRIVATE_PORT" -U postgres)
DB=blog_subscribers
log "seeding $DB at the benchmark's size"
"$BIN" seed --users 1000 --posts 20000 --comments 100000 --likes 200000 --database-url "$PGP_URL/$DB" > "$OUT/seed.txt" 2>&1 \
  || die "seeding failed: $(tail -5 "$OUT/seed.txt")"
"${PSQL[@]}" -d "$DB" -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' -c 'VACUUM (ANALYZE)'
PREFIX="bench-subscribers-$$:"
MOST_SOCKETS=$(( CAPACITY_SOCKETS > SOCKETS ? CAPACITY_SOCKETS : SOCKETS ))
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   subscribers: $SOCKETS sockets x $PER_SOCKET   events: $EVENTS, $GAP_MS ms apart"
  echo "cpus: $(nproc) ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))   mem: $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "postgres: private $("${PSQL[@]}" -d postgres -Atc 'SHOW server_version'), $(grep -o 'seeded .*' "$OUT/seed.txt" | sed 's/; demo accounts.*//' | cut -c1-200)"
  echo "redis: $(redis-cli -u "$REDIS_URL" info server | awk -F: '/^redis_version/ { print $2 }' | tr -d '\r') (shared, keys under $PREFIX)"
  echo "generator: examples/loadgen.rs (one thread)${LOADGEN_CPU:+, pinned to CPU $LOADGEN_CPU}"
  echo "gateway: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && [ -n "$(GIT_OPTIONAL_LOCKS=0 git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ' (with uncommitted changes)'); GRAPHQL_MAX_SUBSCRIPTIONS_PER_SOCKET=$PER_SOCKET GRAPHQL_MAX_SUBSCRIPTIONS_PER_CLIENT=$((MOST_SOCKETS * PER_SOCKET))"
} > "$OUT/env.txt"

GW_DATABASE_URL="$PGP_URL/$DB"
GW_EXTRA_ENV=(REDIS_URL="$REDIS_URL" REDIS_PREFIX="$PREFIX"
  GRAPHQL_MAX_SUBSCRIPTIONS_PER_SOCKET="$PER_SOCKET"
  GRAPHQL_MAX_SUBSCRIPTIONS_PER_CLIENT=$((MOST_SOCKETS * PER_SOCKET)))
cleanup_redis() { redis-cli -u "$REDIS_URL" --scan --pattern "${PREFIX}*" | xargs -r redis-cli -u "$REDIS_URL" del > /dev/null || true; }
trap 'cleanup; cleanup_redis' EXIT

POST=$("${PSQL[@]}" -d "$DB" -Atc "SELECT id FROM posts WHERE is_published ORDER BY id LIMIT 1")

# The hooks run by loadgen around the measured events: reset the statement counts and note the
# server's CPU ticks; then read both.
cat > "$OUT/hook.sh" <<'HOOK'
#!/usr/bin/env bash
# hook.sh before|after PHASE: pg_stat_statements and CPU ticks around the measured events
set -euo pipefail
. "$BENCH_HOOK_ENV"
ticks() { awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
case "$1" in
  before)
    "${PSQL[@]}" -d "$DB" -Atc 'SELECT pg_stat_statements_reset()' > /dev/null
    echo "$(date +%s%N) $(ticks "$GW_PID")" > "$OUT/$2.ticks" ;;
  after)
    sleep 1   # backends report their statement counts at the end of each statement; give the last a moment
    echo "$(date +%s%N) $(ticks "$GW_PID")" >> "$OUT/$2.ticks"
    awk '/^VmHWM:|^VmRSS:/ { print $1, $2 }' "/proc/$GW_PID/status" > "$OUT/$2.rss"
    "${PSQL[@]}" -d "$DB" -AtF $'\t' -c "SELECT calls, regexp_replace(query, '\s+', ' ', 'g') FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC" > "$OUT/$2.statements.tsv" ;;
esac
HOOK

start_gateway false "$OUT/gateway.log"
{
  declare -p PSQL
  echo "DB=$DB OUT=$OUT GW_PID=$GW_PID"
} > "$OUT/hook.env"
export BENCH_HOOK_ENV="$OUT/hook.env"
login=$(curl -sS -m 10 -H 'Content-Type: application/json' -d '{"email":"user@example.com","password":"password123"}' \
  "http://127.0.0.1:$GW_PORT/api/auth/login")
TOKEN=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["tokens"]["accessToken"])' <<< "$login") \
  || die "login failed: $login"
echo "rss_kb_idle $(awk '/^VmRSS:/ { print $2 }' "/proc/$GW_PID/status")" > "$OUT/idle.rss"

RUNS_TO_DO=()
for kind in $KINDS; do RUNS_TO_DO+=("$kind:$kind:baseline:0" "$kind:$kind:subscribers:$SOCKETS"); done
[ "$CAPACITY_SOCKETS" -gt 0 ] && RUNS_TO_DO+=("capacity:comment:baseline:0" "capacity:comment:subscribers:$CAPACITY_SOCKETS")
for todo in "${RUNS_TO_DO[@]}"; do
  IFS=: read -r label kind phase sockets <<< "$todo"
  name="$label.$phase"
  rate=0; [ "$label" = capacity ] && rate="$CAPACITY_RATE"
  log "$name: $sockets sockets x $PER_SOCKET, $EVENTS events"
  "${PIN[@]}" timeout 900 "$LOADGEN" --url "http://127.0.0.1:$GW_PORT" subscribers --kind "$kind" \
    --sockets "$sockets" --per-socket "$PER_SOCKET" --events "$EVENTS" --gap-ms "$GAP_MS" \
    --post "$POST" --token "$TOKEN" --subscribe-rate "$rate" \
    --before-events "bash '$OUT/hook.sh' before $name" --after-events "bash '$OUT/hook.sh' after $name" \
    > "$OUT/$name.json" 2> "$OUT/$name.log" || { tail -5 "$OUT/$name.log" >&2; die "loadgen failed ($name)"; }
  cat "$OUT/$name.json"
done
stop_gateway

python3 "$HERE/report.py" subscribers "$OUT" "$EVENTS"
log "written: ${OUT#"$ROOT/"}/results.md"
