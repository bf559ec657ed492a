#!/usr/bin/env bash
# The data-scale benchmark (issue 23, part 3): the same requests on 1x and DATA_SCALE x data made
# by the same generator (`blog-gateway seed`), measured back to back, each request alternating
# between the two sizes; then the plan of every statement each request runs at DATA_SCALE x
# (auto_explain: EXPLAIN ANALYZE with BUFFERS of the statements as the gateway sends them),
# checked for index-bounded work by bench/plans.py. Method and figures: docs/benchmarks.md.
#
# Usage: bash bench/scale.sh
#
#   1. a private PostgreSQL (bench/lib.sh: the shared server's defaults, auto_explain loaded)
#   2. `blog-gateway seed` at 1x (1,000 users, 20,000 posts, 100,000 comments, 200,000 likes)
#      and at DATA_SCALE x, into blog_scale_1x and blog_scale_<N>x; VACUUM ANALYZE
#   3. two gateways (uncached, no rate limits), one per size; for each request, wrk on 1x then
#      on N x: the five canonical GraphQL operations (the shared rig's bodies; the detail's post
#      is one with the average number of comments, 5, at both sizes), the REST list (page 1 and
#      page DEEP_PAGE, 20 a page), the feed's page after a cursor DEEP_PAGE pages in (q1_after),
#      and the REST detail (which counts a view)
#   4. the plan pass at N x: one request each with auto_explain on for that database (after one
#      unlogged request of the same kind)
#   5. bench/out/scale/results.md: throughput at both sizes, the ratios, the plans, the targets
#
# Env (defaults): DATA_SCALE=10 DEEP_PAGE=500 LOAD=1 (0: keep the seeded databases; the private
#   server lives as long as the script, so LOAD=0 only makes sense with KEEP_PG_DIR) BUILD=1
#   CONNS=32 DURATION=10s WARMUP=2s WRK_CPU=0 QUIET_PCT=25 QUIET_MAX=60 PG_PRIVATE_PORT=5440
#   GW_PORT=5010 (1x; N x on GW_PORT + 1)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
RIG="$(cd "$HERE/../../shared/bench" && pwd)"
OUT="$HERE/out/scale"

DATA_SCALE="${DATA_SCALE:-10}"; DEEP_PAGE="${DEEP_PAGE:-500}"; BUILD="${BUILD:-1}"
export CONNS="${CONNS:-32}" DURATION="${DURATION:-10s}" WARMUP="${WARMUP:-2s}" WRK_CPU="${WRK_CPU-0}"
export QUIET_PCT="${QUIET_PCT:-25}" QUIET_MAX="${QUIET_MAX:-60}"
PG_PRIVATE_PORT="${PG_PRIVATE_PORT:-5440}"; GW_PORT="${GW_PORT:-5010}"; BASE_PORT="$GW_PORT"
BENCH_JWT_SECRET="blog-gateway-benchmark-only-secret-0123456789"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
BIN="$CARGO_TARGET_DIR/release/blog-gateway"
PIN=(); [ -n "$WRK_CPU" ] && PIN=(taskset -c "$WRK_CPU")
TSV_HEADER='target\top\trps\tp50_ms\tp99_ms\terrors\trequests\tvmhwm_kb\tserver_cpu_pct\tpg_cpu_pct\tother_cpu_pct\tbytes\tids\tdigest\tnote\n'
GW_DB=unused

. "$HERE/lib.sh"

[[ "$DATA_SCALE" =~ ^[0-9]+$ ]] && [ "$DATA_SCALE" -ge 2 ] || die "DATA_SCALE must be a whole number >= 2"
for tool in wrk psql curl python3 ss timeout; do
  command -v "$tool" > /dev/null || die "$tool is missing"
done
if [ "$BUILD" = 1 ]; then
  log "cargo build --release"
  (cd "$ROOT" && timeout 3600 cargo build --release --quiet)
fi
[ -x "$BIN" ] || die "no release binary at $BIN (run with BUILD=1)"

rm -rf "$OUT"; mkdir -p "$OUT/plans"
export RUN_OUT="$OUT" RESULTS_TSV="$OUT/results.tsv"
printf "$TSV_HEADER" > "$RESULTS_TSV"

pg_private_start "$PG_PRIVATE_PORT"
PG_PID="$PGP_PID"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PRIVATE_PORT" -U postgres)
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   data scale: 1x and ${DATA_SCALE}x   deep page: $DEEP_PAGE"
  echo "cpus: $(nproc) ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))   mem: $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "postgres: private $("${PSQL[@]}" -d postgres -Atc 'SHOW server_version') on :$PG_PRIVATE_PORT, shared_buffers $("${PSQL[@]}" -d postgres -Atc 'SHOW shared_buffers'), synchronous_commit off"
  echo "wrk: ${PIN[*]:-unpinned} wrk -t1 -c$CONNS -d$DURATION --latency (warm-up $WARMUP)"
  echo "gateway: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && [ -n "$(GIT_OPTIONAL_LOCKS=0 git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ' (with uncommitted changes)'); CACHE_ENABLED=false RATE_LIMIT_ENABLED=false"
} > "$OUT/env.txt"

SCALES=(1 "$DATA_SCALE")
declare -A PID DETAIL URL
for s in "${SCALES[@]}"; do
  db="blog_scale_${s}x"
  log "seeding $db: $((1000 * s)) users, $((20000 * s)) posts, $((100000 * s)) comments, $((200000 * s)) likes"
  t0=$(date +%s%N)
  timeout 3600 "$BIN" seed --users $((1000 * s)) --posts $((20000 * s)) --comments $((100000 * s)) \
    --likes $((200000 * s)) --database-url "$PGP_URL/$db" > "$OUT/seed.${s}x.txt" 2>&1 \
    || die "seeding $db failed: $(tail -5 "$OUT/seed.${s}x.txt")"
  timeout 1800 "${PSQL[@]}" -d "$db" -c 'VACUUM (ANALYZE)'
  awk -v s="$s" -v ms=$(( ($(date +%s%N) - t0) / 1000000 )) \
    'BEGIN { printf "%sx: seeded and vacuumed in %.1f s\n", s, ms / 1000 }' | tee -a "$OUT/env.txt"
  echo "${s}x: $("${PSQL[@]}" -d "$db" -Atc "SELECT pg_size_pretty(pg_database_size(current_database())) || ', ' ||
    (SELECT count(*) FROM posts) || ' posts, ' || (SELECT count(*) FROM comments) || ' comments, ' || (SELECT count(*) FROM post_likes) || ' likes'")" >> "$OUT/env.txt"
  # A post with the average number of comments (5 at every size): the same answer size at both.
  DETAIL[$s]=$("${PSQL[@]}" -d "$db" -Atc "SELECT id FROM posts WHERE is_published AND comments_count = 5 ORDER BY id LIMIT 1")
  [ -n "${DETAIL[$s]}" ] || die "no published post with 5 comments in $db"
  python3 - "$RIG/queries/q3_detail.sdl.json" "${DETAIL[$s]}" > "$OUT/q3_detail.${s}x.json" <<'PY'
import json, sys
body = json.load(open(sys.argv[1]))
body["variables"]["id"] = sys.argv[2]
print(json.dumps(body))
PY
  # The feed's page after a cursor DEEP_PAGE pages in (the GraphQL way to page deep): the cursor
  # of row DEEP_PAGE x 20 of the newest-first order, in the gateway's cursor format.
  after=$("${PSQL[@]}" -d "$db" -Atc "SELECT id || ' ' || (extract(epoch FROM created_at) * 1000000)::bigint FROM posts
    WHERE is_published ORDER BY created_at DESC, id OFFSET $((DEEP_PAGE * 20 - 1)) LIMIT 1")
  [ -n "$after" ] || die "$db has fewer than $((DEEP_PAGE * 20)) published posts"
  python3 - $after > "$OUT/q1_after.${s}x.json" <<'PY'
import base64, json, sys
cursor = base64.urlsafe_b64encode(f"newest|{sys.argv[1]}|t{sys.argv[2]}".encode()).decode().rstrip("=")
print(json.dumps({"query": "query After($after: String) { posts(first: 20, after: $after) { nodes { id title } } }",
                  "variables": {"after": cursor}}))
PY
done

start_scale_gateways() { # LOG_SUFFIX
  local i=0 s
  for s in "${SCALES[@]}"; do
    GW_PORT=$((BASE_PORT + i)) GW_DATABASE_URL="$PGP_URL/blog_scale_${s}x" start_gateway false "$OUT/gateway.${s}x$1.log"
    PID[$s]="$GW_PID"; URL[$s]="http://127.0.0.1:$((BASE_PORT + i))"; i=$((i + 1))
  done
}
stop_scale_gateways() { local s; for s in "${SCALES[@]}"; do stop_pid "${PID[$s]}"; done; }

# request OP SCALE -> "URL LUA VAR=value..." (the arguments of measure_wrk after the PID)
request() {
  local op="$1" s="$2" url="${URL[$2]}"
  case "$op" in
    q3_detail|q1_after) echo "$url/graphql wrk-request.lua REQ_METHOD=POST BODY_FILE=$OUT/$op.${s}x.json" ;;
    q*) echo "$url/graphql wrk-request.lua REQ_METHOD=POST BODY_FILE=$RIG/queries/$op.sdl.json" ;;
    rest_list) echo "$url/api/posts?limit=20 wrk-request.lua REQ_METHOD=GET" ;;
    rest_list_deep) echo "$url/api/posts?limit=20&page=$DEEP_PAGE wrk-request.lua REQ_METHOD=GET" ;;
    rest_detail) echo "$url/api/posts/${DETAIL[$s]} wrk-request.lua REQ_METHOD=GET" ;;
  esac
}
OPS=(q1_feed q2_nested q3_detail q4_search q5_popular q1_after rest_list rest_list_deep rest_detail)

start_scale_gateways ""
for op in "${OPS[@]}"; do
  for s in "${SCALES[@]}"; do
    read -r url lua vars <<< "$(request "$op" "$s")"
    # One checked request first: an operation that fails is not timed.
    if [[ "$op" == q* ]]; then
      precheck_gql "${s}x" "$op" "$url" "${vars##*BODY_FILE=}" || continue
    else
      precheck_rest "${s}x" "$op" "$url" || continue
    fi
    # shellcheck disable=SC2086
    measure_wrk "${s}x" "$op" "${PID[$s]}" "$url" "$lua" $vars
  done
done
stop_scale_gateways

# The plan pass: every statement of one request of each kind, as the gateway sends it.
db="blog_scale_${DATA_SCALE}x"
"${PSQL[@]}" -d postgres -c "ALTER DATABASE \"$db\" SET auto_explain.log_min_duration = 0" \
  -c "ALTER DATABASE \"$db\" SET auto_explain.log_analyze = on" \
  -c "ALTER DATABASE \"$db\" SET auto_explain.log_buffers = on"
SCALES=("$DATA_SCALE")
start_scale_gateways ".plans"
s="$DATA_SCALE"
for op in "${OPS[@]}"; do
  read -r url lua vars <<< "$(request "$op" "$s")"
  # Twice, the second logged: the plans of a request as it runs under load, after the
  # connection prepared its statements and the deep page found its mark (domain::page_marks).
  for pass in warm logged; do
    sleep 0.5; from=$(stat -c %s "$PGP_LOG")
    if [[ "$op" == q* ]]; then
      curl -sS -m 30 -o "$OUT/plans/$op.answer.json" -H 'Content-Type: application/json' --data-binary @"${vars##*BODY_FILE=}" "$url"
    else
      curl -sS -m 30 -o "$OUT/plans/$op.answer.json" "$url"
    fi
  done
  sleep 0.5
  tail -c +$((from + 1)) "$PGP_LOG" > "$OUT/plans/$op.log"
done
stop_scale_gateways
"${PSQL[@]}" -d postgres -c "ALTER DATABASE \"$db\" RESET ALL"

python3 "$HERE/plans.py" "$OUT/plans" "${OPS[@]}" > "$OUT/plans.json"
python3 "$HERE/report.py" scale "$OUT" "$DATA_SCALE" "$DEEP_PAGE"
log "written: ${OUT#"$ROOT/"}/results.md"
