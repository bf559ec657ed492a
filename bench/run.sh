#!/usr/bin/env bash
# Benchmark blog-gateway beside its peers, in one run (issue 8). Method: docs/benchmarks.md.
#
# Usage: bash bench/run.sh [--peers]
#
#   1. cargo build --release
#   2. (LOAD=1) drop/create database GW_DB, start the gateway once so it migrates it, load the
#      shared rig's seed.sql into it; give HASH_USERS active users a real argon2id hash of
#      PASSWORD (one throwaway user registered through the API, its hash copied, then deleted)
#   3. per run (RUNS times): VACUUM; start the gateway (uncached, no rate limits) and time it
#      to its first 200 on /api/health; the five canonical GraphQL operations through the
#      shared rig (../shared/bench/run.sh, same method as the peers); the REST list (wrk);
#      q1_feed and the REST list at a fixed arrival rate (oha); then the writes: REST detail
#      (counts a view), the write mix (wrk), the mixed load of feed, nested and writes at RATE
#      (examples/loadgen.rs), login (wrk); take the run's writes back; the cached
#      anonymous feed on a second gateway start (CACHED=1); with --peers also PostGraphile 4 and 5,
#      Apollo, the limit-axum ceiling and the SQL floor as ../shared/bench/run-all.sh runs them
#   4. (SCALE=1) bench/scale.sh: 1x against DATA_SCALE x data; (SUBSCRIBERS=1)
#      bench/subscribers.sh: 10,000 subscribers; both on by default with --peers
#   5. bench/out/results.md: a table per operation (medians over the runs), ratios to the best
#      peer, every target of issue 23 with measured / met (those of scale.sh and
#      subscribers.sh included)
#
# Env (defaults):
#   RUNS=1            repeat the measurements, report medians (errors: summed)
#   CONNS=32 DURATION=10s WARMUP=2s WRK_CPU=0   wrk shape (-t1), as the shared rig; WRK_CPU is
#                     the taskset CPU list of every load generator, wrk, oha and pgbench
#                     (empty: no pinning)
#   RATE=500 RATE_DURATION=30s RATE_CONNS=CONNS   fixed-arrival-rate runs (oha; the mixed load:
#                     examples/loadgen.rs)
#   MIX=4,2,1,1       the mixed load's weights of feed, nested, addComment, likePost
#   QUIET_PCT=25 QUIET_MAX=60   before each op wait up to QUIET_MAX s for the machine to be
#                     under QUIET_PCT % busy (as the shared rig)
#   GW_DB=blog_bench_gw PEER_DB=blog_bench GW_PORT=5000 DETAIL_ID=915dc7d8-2358-12ce-718a-d8ad379b9aa4
#   LOAD=1 (0: keep both databases as they are)  BUILD=1 (0: use the binary as built)
#   CACHED=1 (0: skip the cached feed)  SYNC_COMMIT_OFF=1 (ALTER DATABASE ... SET
#   synchronous_commit = off on the bench databases, the rig's setting, without a restart)
#   HASH_USERS=200 TOKEN_USERS=100 PASSWORD=password123
#   CARGO_TARGET_DIR=$HOME/.cache/blog-gateway/target
# Everything runs on and is aimed at 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SHARED="$(cd "$HERE/../../shared" && pwd)"
RIG="$SHARED/bench"
OUT="$HERE/out"

PEERS=0
for arg in "$@"; do
  case "$arg" in
    --peers) PEERS=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $arg (usage: bench/run.sh [--peers])" >&2; exit 2 ;;
  esac
done

RUNS="${RUNS:-1}"
export CONNS="${CONNS:-32}" DURATION="${DURATION:-10s}" WARMUP="${WARMUP:-2s}" WRK_CPU="${WRK_CPU-0}"
export PGBENCH_CPU="${PGBENCH_CPU-$WRK_CPU}"   # the rig's sql-floor.sh pins pgbench with it
export QUIET_PCT="${QUIET_PCT:-25}" QUIET_MAX="${QUIET_MAX:-60}"
RATE="${RATE:-500}"; RATE_DURATION="${RATE_DURATION:-30s}"; RATE_CONNS="${RATE_CONNS:-$CONNS}"; MIX="${MIX:-4,2,1,1}"
GW_DB="${GW_DB:-blog_bench_gw}"; PEER_DB="${PEER_DB:-blog_bench}"; GW_PORT="${GW_PORT:-5000}"
DETAIL_ID="${DETAIL_ID:-915dc7d8-2358-12ce-718a-d8ad379b9aa4}"
SCALE="${SCALE:-$PEERS}"; SUBSCRIBERS="${SUBSCRIBERS:-$PEERS}"
LOAD="${LOAD:-1}"; BUILD="${BUILD:-1}"; CACHED="${CACHED:-1}"; SYNC_COMMIT_OFF="${SYNC_COMMIT_OFF:-1}"
HASH_USERS="${HASH_USERS:-200}"; TOKEN_USERS="${TOKEN_USERS:-100}"
export PASSWORD="${PASSWORD:-password123}"
# A fixed key, so the access tokens of one run stay valid across the gateway's restarts.
BENCH_JWT_SECRET="blog-gateway-benchmark-only-secret-0123456789"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
BIN="$CARGO_TARGET_DIR/release/blog-gateway"
GW_URL="http://127.0.0.1:$GW_PORT"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5432 -U postgres)
PIN=(); [ -n "$WRK_CPU" ] && PIN=(taskset -c "$WRK_CPU")
TSV_HEADER='target\top\trps\tp50_ms\tp99_ms\terrors\trequests\tvmhwm_kb\tserver_cpu_pct\tpg_cpu_pct\tother_cpu_pct\tbytes\tids\tdigest\tnote\n'

. "$HERE/lib.sh"

# start_server NAME PORT CMD...: as ../shared/bench/run-all.sh (from the shared folder; the
# command execs the server, so its PID is the server's); sets SRV_PID.
SRV_PID=""
start_server() {
  local name="$1" port="$2" i; shift 2
  port_busy "$port" && { echo "port $port is already in use: $name skipped" >&2; return 1; }
  (cd "$SHARED" && exec "$@" > "$RUN_OUT/$name.log" 2>&1) &
  SRV_PID=$!
  STARTED+=("$SRV_PID")
  for i in $(seq 1 120); do
    port_busy "$port" && { log "started $name pid $SRV_PID"; return 0; }
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.5
  done
  echo "$name did not start; log:" >&2; tail -20 "$RUN_OUT/$name.log" >&2
  stop_pid "$SRV_PID"; return 1
}

# The shared rig's run.sh and sql-floor.sh write their logs next to themselves ("$HERE/out").
# They run here through symlinks in bench/out/rig, so their output lands in bench/out and the
# shared folder stays untouched; the scripts themselves are the shared ones, unchanged.
RIGLINK="$OUT/rig"
rig() { # SCRIPT ARGS...: run one shared rig script (bounded in time)
  local script="$1"; shift
  timeout 3600 bash "$RIGLINK/$script" "$@"
}
collect_rig_output() { # moves the rig's logs of this run into the run folder
  if [ -d "$RIGLINK/out" ]; then
    find "$RIGLINK/out" -mindepth 1 -maxdepth 1 -exec mv -f {} "$RUN_OUT/" \;
  fi
}

# undo_writes T0 VIEWS: takes back what this run wrote, so that every run (and the next
# invocation with LOAD=0) reads the seeded data: the likes, comments and refresh tokens created
# since T0 (the seed's rows are all dated before 2026), their counters, and the detail post's
# view count.
undo_writes() {
  timeout 600 "${PSQL[@]}" -d "$GW_DB" -v t0="$1" -v views="$2" -v detail="$DETAIL_ID" <<'SQL'
BEGIN;
WITH gone AS (DELETE FROM post_likes WHERE created_at >= :'t0' RETURNING post_id)
UPDATE posts p SET likes_count = p.likes_count - g.n
  FROM (SELECT post_id, count(*)::int AS n FROM gone GROUP BY post_id) g WHERE p.id = g.post_id;
WITH gone AS (DELETE FROM comments WHERE created_at >= :'t0' RETURNING post_id)
UPDATE posts p SET comments_count = p.comments_count - g.n
  FROM (SELECT post_id, count(*)::int AS n FROM gone GROUP BY post_id) g WHERE p.id = g.post_id;
DELETE FROM refresh_tokens WHERE created_at >= :'t0';
UPDATE posts SET views = :views WHERE id = :'detail';
COMMIT;
SQL
}

# ---------------------------------------------------------------- setup
mkdir -p "$OUT" "$RIGLINK"
rm -rf "$OUT"/run[0-9]* "$RIGLINK/out"   # the report reads every run*/ folder: none from an earlier invocation
[ "$SCALE" = 1 ] && rm -rf "$OUT/scale"; [ "$SUBSCRIBERS" = 1 ] && rm -rf "$OUT/subscribers"
for f in run.sh check.py wrk-post.lua queries sql-floor.sh pgbench; do
  [ -e "$RIG/$f" ] || die "missing $RIG/$f (the shared benchmark rig)"
  ln -sfnr "$RIG/$f" "$RIGLINK/$f"
done
for tool in wrk psql pgbench curl python3 ss timeout; do
  command -v "$tool" > /dev/null || die "$tool is missing (bash ../shared/bench/setup-services.sh installs the rig's tools)"
done
[ -n "$WRK_CPU" ] && { command -v taskset > /dev/null || die "taskset is missing (util-linux)"; }
pg_isready -h 127.0.0.1 -p 5432 -q || die "no PostgreSQL on 127.0.0.1:5432 (bash ../shared/bench/setup-services.sh)"

OHA="$(command -v oha || true)"
[ -z "$OHA" ] && [ -x "$HOME/.cargo/bin/oha" ] && OHA="$HOME/.cargo/bin/oha"
if [ -z "$OHA" ]; then
  log "oha is missing: cargo install oha --locked (into ~/.cargo/bin)"
  (unset CARGO_TARGET_DIR; timeout 3600 cargo install oha --locked) || die "installing oha failed"
  OHA="$HOME/.cargo/bin/oha"
fi

if [ "$BUILD" = 1 ]; then
  log "cargo build --release (CARGO_TARGET_DIR=$CARGO_TARGET_DIR): the server, examples/loadgen and examples/ceiling"
  (cd "$ROOT" && timeout 3600 cargo build --release --bin blog-gateway --example loadgen --example ceiling)
fi
[ -x "$BIN" ] || die "no release binary at $BIN (run with BUILD=1)"
LOADGEN="$CARGO_TARGET_DIR/release/examples/loadgen"
[ -x "$LOADGEN" ] || die "no $LOADGEN (run with BUILD=1)"

PG_DATA="$("${PSQL[@]}" -d postgres -Atc 'SHOW data_directory' 2>/dev/null || true)"
[ -n "$PG_DATA" ] && PG_PID="$(head -1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   runs: $RUNS   peers: $([ "$PEERS" = 1 ] && echo yes || echo no)"
  echo "cpus: $(nproc) ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))   mem: $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)   loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "postgres: $("${PSQL[@]}" -d postgres -Atc 'SHOW server_version')   shared_buffers: $("${PSQL[@]}" -d postgres -Atc 'SHOW shared_buffers')   synchronous_commit (server): $("${PSQL[@]}" -d postgres -Atc 'SHOW synchronous_commit')$([ "$SYNC_COMMIT_OFF" = 1 ] && echo ', off on the bench databases')"
  echo "wrk: ${PIN[*]:-unpinned} wrk -t1 -c$CONNS -d$DURATION --latency (warm-up $WARMUP); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "fixed rate: ${PIN[*]:-unpinned} oha -q $RATE --latency-correction -c $RATE_CONNS -w --disable-compression -z $RATE_DURATION (warm-up $WARMUP); $("$OHA" --version 2>&1 | head -1)"
  echo "gateway: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && [ -n "$(GIT_OPTIONAL_LOCKS=0 git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ' (with uncommitted changes)'); $(rustc --version 2>/dev/null); CACHE_ENABLED=false RATE_LIMIT_ENABLED=false LOG_FORMAT=json RUST_LOG=warn, database $GW_DB"
  [ "$PEERS" = 1 ] && echo "node: $(node --version 2>/dev/null || echo none)   pgbench: $(pgbench --version)   peers' database: $PEER_DB"
} > "$OUT/env.txt"

# ---------------------------------------------------------------- data
if [ "$LOAD" = 1 ]; then
  log "loading $GW_DB: drop/create, migrate (gateway start), seed.sql"
  port_busy "$GW_PORT" && die "port $GW_PORT is already in use (stop that server or set GW_PORT)"
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$GW_DB\"" \
    || die "could not drop $GW_DB (is something connected to it? SELECT pid, application_name FROM pg_stat_activity WHERE datname = '$GW_DB')"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE \"$GW_DB\""
  t0=$(date +%s%N)
  start_gateway false "$OUT/gateway-migrate.log"
  stop_gateway
  timeout 900 "${PSQL[@]}" -d "$GW_DB" -f "$RIG/seed.sql"
  awk -v ms=$(( ($(date +%s%N) - t0) / 1000000 )) 'BEGIN { printf "gateway database: migrated and seeded in %.1f s\n", ms / 1000 }' >> "$OUT/env.txt"
  if [ "$PEERS" = 1 ]; then
    log "loading $PEER_DB for the peers (../shared/bench/load-data.sh)"
    timeout 900 bash "$RIG/load-data.sh" "$PEER_DB" | tee "$OUT/load-peers.txt"
    grep '^load time' "$OUT/load-peers.txt" | sed 's/^/peers database: /' >> "$OUT/env.txt"
  fi
fi
if [ "$SYNC_COMMIT_OFF" = 1 ]; then
  "${PSQL[@]}" -d postgres -c "ALTER DATABASE \"$GW_DB\" SET synchronous_commit = off"
  [ "$PEERS" = 1 ] && "${PSQL[@]}" -d postgres -c "ALTER DATABASE \"$PEER_DB\" SET synchronous_commit = off"
fi

# Real password hashes for the login and write-mix users. The seed's hashes are well-formed
# argon2id strings of random bytes (nobody can log in with them), so one throwaway user is
# registered through the API (the gateway hashes PASSWORD with its own argon2id settings), its
# hash is copied to the first HASH_USERS active users by id, and the throwaway user is deleted.
hashed=$("${PSQL[@]}" -d "$GW_DB" -Atc "SELECT count(*) || ' ' || count(DISTINCT password_hash) FROM
  (SELECT password_hash FROM users WHERE is_active ORDER BY id LIMIT $HASH_USERS) s")
if [ "$hashed" != "$HASH_USERS 1" ]; then
  log "giving $HASH_USERS active users a real hash of the known password"
  start_gateway false "$OUT/gateway-hash.log"
  tmp_user="bench_hash_$$"
  code=$(curl -sS -m 30 -o "$OUT/register.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"username\":\"$tmp_user\",\"email\":\"$tmp_user@example.com\",\"password\":\"$PASSWORD\"}" \
    "$GW_URL/api/auth/register" || echo 000)
  [ "$code" = 201 ] || die "register answered HTTP $code: $(head -c 300 "$OUT/register.json")"
  "${PSQL[@]}" -d "$GW_DB" -v tmp="$tmp_user" -v n="$HASH_USERS" <<'SQL'
BEGIN;
UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = :'tmp')
 WHERE id IN (SELECT id FROM users WHERE is_active AND username <> :'tmp' ORDER BY id LIMIT :n);
DELETE FROM users WHERE username = :'tmp';
COMMIT;
SQL
  stop_gateway
fi
"${PSQL[@]}" -d "$GW_DB" -Atc "SELECT email FROM users WHERE is_active ORDER BY id LIMIT $HASH_USERS" > "$OUT/login-emails.txt"
"${PSQL[@]}" -d "$GW_DB" -Atc "SELECT id FROM posts WHERE is_published ORDER BY id" > "$OUT/published-posts.txt"

if [ "$PEERS" = 1 ]; then
  for p in postgraphile postgraphile5 apollo; do
    if [ ! -d "$SHARED/peers/$p/node_modules" ]; then
      log "npm ci in ../shared/peers/$p"
      (cd "$SHARED/peers/$p" && timeout 900 npm ci --no-audit --no-fund) || die "npm ci failed in ../shared/peers/$p"
    fi
  done
  if [ ! -x "$RIG/limit-axum/target/release/limit-axum" ]; then
    log "building the limit-axum probe (as ../shared/bench/run-all.sh)"
    (cd "$RIG/limit-axum" && unset CARGO_TARGET_DIR && timeout 1800 cargo build --release) || echo "limit-axum: build failed, skipped" >&2
  fi
fi

# Where each server of the comparison answers GraphQL, and in which dialect.
peer_url() { case "$1" in rust) echo "$GW_URL/graphql" ;; postgraphile) echo http://127.0.0.1:5001/graphql ;; postgraphile5) echo http://127.0.0.1:5005/graphql ;; apollo) echo http://127.0.0.1:5002/ ;; esac; }
# PostGraphile 5 runs with its V4 compatibility preset: it answers the v4 dialect.
peer_dialect() { case "$1" in postgraphile|postgraphile5) echo postgraphile ;; *) echo sdl ;; esac; }
# measure_graphql NAME PID OP: one canonical operation on one server (the shared rig's run.sh)
measure_graphql() {
  SERVER_PID="$2" rig run.sh "$1" "$(peer_url "$1")" "$(peer_dialect "$1")" "$3" \
    || echo "the shared run.sh failed for $1 $3" >&2
}

# measure_mixed: the feed, the nested query and the write mix together at RATE req/s
# (examples/loadgen.rs mixed, MIX weights), latency from when each request was due, every answer
# body-checked; appends a row "mixed@RATErps".
measure_mixed() {
  local json="$RUN_OUT/mixed.json" lim rps p50 p99 reqs errors cpu hwm
  lim=$(( $(secs "$RATE_DURATION") + $(secs "$WARMUP") + 120 ))
  wait_quiet
  cpu_start "$GW_PID"
  "${PIN[@]}" timeout "$lim" "$LOADGEN" --url "$GW_URL" mixed --rate "$RATE" --duration "$(secs "$RATE_DURATION")" \
    --warmup "$(secs "$WARMUP")" --conns "$RATE_CONNS" --mix "$MIX" \
    --feed "$RIG/queries/q1_feed.sdl.json" --nested "$RIG/queries/q2_nested.sdl.json" \
    --tokens "$OUT/tokens.lua" --posts "$OUT/posts.lua" > "$json" 2> "$RUN_OUT/mixed.log" \
    || { tail -5 "$RUN_OUT/mixed.log" >&2; untimed rust "mixed@${RATE}rps" "loadgen failed"; return 0; }
  cpu=$(cpu_end "$GW_PID"); hwm=$(vmhwm "$GW_PID")
  read -r rps p50 p99 reqs errors < <(python3 "$HERE/report.py" mixed "$json")
  row rust "mixed@${RATE}rps" "$rps" "$p50" "$p99" "$errors" "$reqs" "$hwm" ${cpu} - - - \
    "loadgen mixed --rate $RATE --mix $MIX (feed,nested,comment,like) -c $RATE_CONNS, $(secs "$RATE_DURATION") s; bodies checked"
  printf '%-13s %-18s %7s req/s  p50 %8s ms  p99 %8s ms  err %s  VmHWM %s kB  cpu%% srv/pg/other %s\n' \
    rust "mixed@${RATE}rps" "$rps" "$p50" "$p99" "$errors" "$hwm" "${cpu// //}"
}

# ---------------------------------------------------------------- runs
for run in $(seq 1 "$RUNS"); do
  RUN_OUT="$OUT/run$run"
  rm -rf "$RUN_OUT"; mkdir -p "$RUN_OUT"
  export RESULTS_TSV="$RUN_OUT/results.tsv"
  printf "$TSV_HEADER" > "$RESULTS_TSV"
  : > "$RUN_OUT/meta.tsv"
  log "run $run of $RUNS"

  # Every run starts from the same table state: the writes of an earlier run (views, likes,
  # comments, logins) leave dead rows and pages that are no longer all-visible, which makes
  # e.g. the REST list's count(*) visit the heap (10x slower) until (auto)vacuum has run.
  timeout 600 "${PSQL[@]}" -d "$GW_DB" -c 'VACUUM (ANALYZE) users, posts, comments, post_likes, refresh_tokens'
  run_t0=$("${PSQL[@]}" -d "$GW_DB" -Atc 'SELECT now()')
  detail_views=$("${PSQL[@]}" -d "$GW_DB" -Atc "SELECT views FROM posts WHERE id = '$DETAIL_ID'")

  # --- the gateway, uncached, no rate limits: reads first, then the operations that write
  start_gateway false "$RUN_OUT/gateway.log"
  printf 'ready_ms.rust\t%s\n' "$READY_MS" >> "$RUN_OUT/meta.tsv"
  printf 'rss_kb_idle.rust\t%s\n' "$(vmhwm "$GW_PID")" >> "$RUN_OUT/meta.tsv"
  # The five GraphQL operations, each measured on every server back to back (the peers wait
  # idle meanwhile), in an order that rotates with the run: the machine's speed drifts over
  # minutes, and one server's whole pass minutes before another's compared two machine states.
  PEER_PIDS=()
  if [ "$PEERS" = 1 ]; then
    for p in postgraphile:5001 postgraphile5:5005 apollo:5002; do
      start_server "${p%%:*}" "${p##*:}" bash "peers/${p%%:*}/start.sh" "$PEER_DB" && PEER_PIDS+=("${p%%:*}:$SRV_PID")
    done
  fi
  targets=("rust:$GW_PID" "${PEER_PIDS[@]}")
  for op in q1_feed q2_nested q3_detail q4_search q5_popular; do
    for i in "${!targets[@]}"; do
      target="${targets[$(( (i + run - 1) % ${#targets[@]} ))]}"
      measure_graphql "${target%%:*}" "${target##*:}" "$op"
    done
  done
  for target in "${PEER_PIDS[@]}"; do
    name="${target%%:*}" pid="${target##*:}"
    precheck_gql "$name" "q1_feed@${RATE}rps" "$(peer_url "$name")" "$RIG/queries/q1_feed.$(peer_dialect "$name").json" && \
      measure_oha "$name" "q1_feed@${RATE}rps" "$pid" "$(peer_url "$name")" "$RIG/queries/q1_feed.$(peer_dialect "$name").json"
    stop_pid "$pid"
  done
  precheck_rest rust rest_list "$GW_URL/api/posts?limit=20" && \
    measure_wrk rust rest_list "$GW_PID" "$GW_URL/api/posts?limit=20" wrk-request.lua REQ_METHOD=GET
  precheck_gql rust "q1_feed@${RATE}rps" "$GW_URL/graphql" "$RIG/queries/q1_feed.sdl.json" && \
    measure_oha rust "q1_feed@${RATE}rps" "$GW_PID" "$GW_URL/graphql" "$RIG/queries/q1_feed.sdl.json"
  precheck_rest rust "rest_list@${RATE}rps" "$GW_URL/api/posts?limit=20" && \
    measure_oha rust "rest_list@${RATE}rps" "$GW_PID" "$GW_URL/api/posts?limit=20"
  # writes: every GET /api/posts/:id counts a view (an UPDATE of that post)
  precheck_rest rust rest_detail "$GW_URL/api/posts/$DETAIL_ID" && \
    measure_wrk rust rest_detail "$GW_PID" "$GW_URL/api/posts/$DETAIL_ID" wrk-request.lua REQ_METHOD=GET
  timeout 300 python3 "$HERE/prepare.py" "$GW_URL" "$OUT/login-emails.txt" "$OUT/published-posts.txt" "$OUT" "$TOKEN_USERS"
  measure_wrk rust write_mix "$GW_PID" "$GW_URL/graphql" wrk-write.lua \
    TOKENS_LUA="$OUT/tokens.lua" POSTS_LUA="$OUT/posts.lua"
  measure_mixed
  # last: every login verifies an argon2id hash (19 MiB each), which may raise the peak RSS
  measure_wrk rust login "$GW_PID" "$GW_URL/api/auth/login" wrk-login.lua USERS_LUA="$OUT/users.lua"
  stop_gateway
  undo_writes "$run_t0" "$detail_views"

  # --- the cached anonymous feed (in-process response cache; no REDIS_URL)
  if [ "$CACHED" = 1 ]; then
    start_gateway true "$RUN_OUT/gateway-cached.log"
    printf 'ready_ms.rust-cached\t%s\n' "$READY_MS" >> "$RUN_OUT/meta.tsv"
    SERVER_PID="$GW_PID" rig run.sh rust-cached "$GW_URL/graphql" sdl q1_feed || echo "the shared run.sh failed for rust-cached" >&2
    # the feed's answer, for the ceiling of a body of its size
    curl -sS -m 10 -o "$RUN_OUT/feed-answer.json" -H 'Content-Type: application/json' \
      --data-binary @"$RIG/queries/q1_feed.sdl.json" "$GW_URL/graphql" || true
    stop_gateway
  fi

  # --- the HTTP ceiling and the SQL floor, as ../shared/bench/run-all.sh
  if [ "$PEERS" = 1 ]; then
    if [ -x "$RIG/limit-axum/target/release/limit-axum" ] && \
       start_server limit-axum 5004 bench/limit-axum/target/release/limit-axum; then
      SERVER_PID="$SRV_PID" rig run.sh limit-axum http://127.0.0.1:5004/ limit || true
      stop_pid "$SRV_PID"
    fi
    # the same ceiling with a body of the feed's size (examples/ceiling.rs)
    if [ -s "$RUN_OUT/feed-answer.json" ] && \
       start_server limit-axum-feed 5006 "$CARGO_TARGET_DIR/release/examples/ceiling" 5006 "$RUN_OUT/feed-answer.json"; then
      SERVER_PID="$SRV_PID" rig run.sh limit-axum-feed http://127.0.0.1:5006/ limit || true
      stop_pid "$SRV_PID"
    fi
    rig sql-floor.sh "$PEER_DB" || echo "the shared sql-floor.sh failed" >&2
  fi
  collect_rig_output
done

# Parts 3 and 4 of issue 23, each in its own private PostgreSQL (their own scripts).
if [ "$SCALE" = 1 ]; then
  log "bench/scale.sh (DATA_SCALE=${DATA_SCALE:-10})"
  BUILD=0 bash "$HERE/scale.sh" > "$OUT/scale.log" 2>&1 || echo "bench/scale.sh failed (log: $OUT/scale.log)" >&2
fi
if [ "$SUBSCRIBERS" = 1 ]; then
  log "bench/subscribers.sh"
  BUILD=0 bash "$HERE/subscribers.sh" > "$OUT/subscribers.log" 2>&1 || echo "bench/subscribers.sh failed (log: $OUT/subscribers.log)" >&2
fi

python3 "$HERE/report.py" render "$OUT"
log "written: ${OUT#"$ROOT/"}/results.md"
