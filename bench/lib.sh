#!/usr/bin/env bash
# Shared by the benchmark scripts (bench/run.sh, bench/scale.sh, bench/subscribers.sh): sourced,
# never run. Expects ROOT, HERE, BIN, GW_PORT, GW_DB and the wrk settings (CONNS, DURATION,
# WARMUP, QUIET_PCT, QUIET_MAX, PIN, RATE...) of the script that sources it; RUN_OUT and
# RESULTS_TSV per measurement; PG_PID for the Postgres CPU column. Everything runs on and is
# aimed at 127.0.0.1; every process started through it is stopped on exit.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { echo "bench/$(basename "$0"): $*" >&2; exit 1; }
secs() { # 10s / 2m / 30 -> seconds
  case "$1" in *m) echo $(( ${1%m} * 60 ));; *s) echo "${1%s}";; *) echo "$1";; esac
}

# ---------------------------------------------------------------- processes
STARTED=()   # every process this script started (stopped on exit)
stop_pid() {
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
  pg_private_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { ss -Hltn "sport = :$1" | grep -q .; }

# start_gateway CACHE_ENABLED LOGFILE: starts the release binary with the bench settings on
# GW_PORT, on GW_DATABASE_URL (default: GW_DB on the shared server), with GW_EXTRA_ENV (an array
# of NAME=value) added; sets GW_PID and READY_MS (process start to the first 200 on
# /api/health, curl polling).
GW_EXTRA_ENV=()
GW_PID=""; READY_MS=""
start_gateway() {
  local cache="$1" logf="$2" t0 now code url="http://127.0.0.1:$GW_PORT"
  port_busy "$GW_PORT" && die "port $GW_PORT is already in use (stop that server or set GW_PORT)"
  t0=$(date +%s%N)
  env -i PATH="$PATH" HOME="$HOME" \
    DATABASE_URL="${GW_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$GW_DB}" HOST=127.0.0.1 PORT="$GW_PORT" \
    CACHE_ENABLED="$cache" RATE_LIMIT_ENABLED=false JWT_SECRET="$BENCH_JWT_SECRET" JWT_EXPIRE=6h \
    LOG_FORMAT=json RUST_LOG=warn "${GW_EXTRA_ENV[@]}" \
    "$BIN" > "$logf" 2>&1 &
  GW_PID=$!
  STARTED+=("$GW_PID")
  while :; do
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url/api/health" 2>/dev/null || true)
    [ "$code" = 200 ] && break
    kill -0 "$GW_PID" 2>/dev/null || { tail -20 "$logf" >&2; die "the gateway exited during start (log: $logf)"; }
    now=$(date +%s%N)
    [ $(( (now - t0) / 1000000000 )) -lt 60 ] || { tail -20 "$logf" >&2; die "the gateway was not ready within 60 s"; }
    sleep 0.005
  done
  READY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  log "gateway pid $GW_PID on :$GW_PORT (CACHE_ENABLED=$cache) ready in $READY_MS ms"
}
stop_gateway() { [ -n "$GW_PID" ] && stop_pid "$GW_PID"; GW_PID=""; }

# ---------------------------------------------------------------- CPU accounting
HZ_NCPU="$(nproc)"
proc_ticks() { # utime + stime of one process (0 when gone)
  awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat" 2>/dev/null || echo 0
}
PG_PID=""
pg_ticks() { # postmaster + its reaped children + its live children
  [ -n "$PG_PID" ] || { echo 0; return; }
  local t c
  t=$(awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] + f[14] + f[15] }' "/proc/$PG_PID/stat" 2>/dev/null || echo 0)
  for c in $(ps --ppid "$PG_PID" -o pid= 2>/dev/null); do t=$(( t + $(proc_ticks "$c") )); done
  echo "$t"
}
machine_ticks() { # busy and total jiffies of all CPUs
  awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}
wait_quiet() { # up to QUIET_MAX s until the machine is under QUIET_PCT % busy over 1 s
  local waited=0 b0 t0 b1 t1 pct
  while :; do
    read -r b0 t0 < <(machine_ticks); sleep 1; read -r b1 t1 < <(machine_ticks)
    pct=$(( 100 * (b1 - b0) / ( (t1 - t0) > 0 ? (t1 - t0) : 1 ) ))
    [ "$pct" -lt "$QUIET_PCT" ] && return 0
    waited=$((waited + 1))
    if [ "$waited" -ge "$QUIET_MAX" ]; then echo "  (machine still ${pct}% busy after ${waited} s; measuring anyway)"; return 0; fi
  done
}
CPU0=()
cpu_start() { local b t; read -r b t < <(machine_ticks); CPU0=("$(proc_ticks "$1")" "$(pg_ticks)" "$b" "$t"); }
cpu_end() { # PID -> "server pg other" in % of one core over the window since cpu_start
  local s p b t
  s=$(proc_ticks "$1"); p=$(pg_ticks); read -r b t < <(machine_ticks)
  # Postgres CPU can come out negative when one of its processes that was counted at the start
  # exits unreaped: then it is "-" and "other" includes it.
  awk -v s=$((s - CPU0[0])) -v p=$((p - CPU0[1])) -v b=$((b - CPU0[2])) -v t=$((t - CPU0[3])) -v n="$HZ_NCPU" \
    'BEGIN { if (t < 1) t = 1; k = 100 * n / t; pg = sprintf("%.0f", p * k); if (p < 0) { p = 0; pg = "-" }
             o = (b - s - p) * k; if (o < 0) o = 0; printf "%.0f %s %.0f\n", s * k, pg, o }'
}
vmhwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo -; }

# ---------------------------------------------------------------- measurements
row() { # appends one TSV row (the rig's columns)
  local IFS=$'\t'; echo "$*" >> "$RESULTS_TSV"
}
untimed() { # TARGET OP REASON
  echo "$1 $2: NOT TIMED: $3"
  row "$1" "$2" - - - - - - - - - - - - "${3//$'\t'/ }"
}
precheck_rest() { # TARGET OP URL -> 0 when one GET answers a success body; sets CHECK_BYTES
  local code check resp="$RUN_OUT/resp.$1.$2.json"
  code=$(curl -sS -m 10 -o "$resp" -w '%{http_code}' "$3" 2>/dev/null || echo 000)
  check=$(python3 "$HERE/report.py" check-rest "$code" "$resp" || true)
  [[ "$check" == ok* ]] || { untimed "$1" "$2" "$check"; return 1; }
  CHECK_BYTES="${check#ok bytes=}"
}
precheck_gql() { # TARGET OP URL BODY -> 0 when one POST answers data without errors (rig's check.py)
  local code check resp="$RUN_OUT/resp.$1.$2.json"
  code=$(curl -sS -m 10 -o "$resp" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$4" "$3" 2>/dev/null || echo 000)
  check=$(python3 "$RIG/check.py" "$code" "$resp" || true)
  [[ "$check" == ok* ]] || { untimed "$1" "$2" "$check"; return 1; }
  CHECK_BYTES=$(echo "$check" | sed -E 's/^ok bytes=([0-9]+).*/\1/')
}

# measure_wrk TARGET OP PID URL LUA [VAR=value...]: WARMUP then DURATION of
# wrk -t1 -cCONNS --latency with one of bench/wrk-*.lua; appends a row.
measure_wrk() {
  local target="$1" op="$2" pid="$3" url="$4" lua="$5"; shift 5
  local logf="$RUN_OUT/wrk.$target.$op.txt" lim rps p50 p99 reqs errors cpu hwm
  lim=$(( $(secs "$DURATION") + $(secs "$WARMUP") + 60 ))
  wait_quiet
  env "$@" ERR_FILE="$RUN_OUT/errbody.$target.$op.warmup" "${PIN[@]}" \
    timeout "$lim" wrk -t1 -c"$CONNS" -d"$WARMUP" -s "$HERE/$lua" "$url" > /dev/null
  cpu_start "$pid"
  env "$@" ERR_FILE="$RUN_OUT/errbody.$target.$op" "${PIN[@]}" \
    timeout "$lim" wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$HERE/$lua" "$url" > "$logf"
  cpu=$(cpu_end "$pid"); hwm=$(vmhwm "$pid")
  read -r rps p50 p99 reqs errors < <(python3 "$HERE/report.py" wrk "$logf")
  row "$target" "$op" "$rps" "$p50" "$p99" "$errors" "$reqs" "$hwm" ${cpu} "${CHECK_BYTES:--}" - - ""
  printf '%-13s %-18s %7s req/s  p50 %8s ms  p99 %8s ms  err %s  VmHWM %s kB  cpu%% srv/pg/other %s\n' \
    "$target" "$op" "$rps" "$p50" "$p99" "$errors" "$hwm" "${cpu// //}"
  CHECK_BYTES=""
}

OHA=""
# measure_oha TARGET OP PID URL [BODY_FILE]: oha at a fixed arrival rate (RATE req/s with
# latency correction, i.e. latency counted from when each request was due), WARMUP then
# RATE_DURATION; GET without a body, POST application/json with one.
measure_oha() {
  local target="$1" op="$2" pid="$3" url="$4" body="${5:-}"
  local json="$RUN_OUT/oha.$target.$op.json" lim rps p50 p99 reqs errors cpu hwm
  # -w: requests still running at the deadline finish (instead of counting as aborted);
  # --disable-compression: no Accept-Encoding, like wrk (the gateway would gzip otherwise)
  local args=(-q "$RATE" --latency-correction -c "$RATE_CONNS" -w --disable-compression --no-tui --output-format json)
  [ -n "$WRK_CPU" ] && args+=(--worker-threads 1)
  [ -n "$body" ] && args+=(-m POST -T application/json -D "$body")
  lim=$(( $(secs "$RATE_DURATION") + $(secs "$WARMUP") + 60 ))
  wait_quiet
  "${PIN[@]}" timeout "$lim" "$OHA" "${args[@]}" -z "$WARMUP" "$url" > /dev/null
  cpu_start "$pid"
  "${PIN[@]}" timeout "$lim" "$OHA" "${args[@]}" -z "$RATE_DURATION" "$url" > "$json"
  cpu=$(cpu_end "$pid"); hwm=$(vmhwm "$pid")
  read -r rps p50 p99 reqs errors < <(python3 "$HERE/report.py" oha "$json")
  row "$target" "$op" "$rps" "$p50" "$p99" "$errors" "$reqs" "$hwm" ${cpu} "${CHECK_BYTES:--}" - - \
    "oha -q $RATE --latency-correction -c $RATE_CONNS -z $RATE_DURATION; status codes only"
  printf '%-13s %-18s %7s req/s  p50 %8s ms  p99 %8s ms  err %s  VmHWM %s kB  cpu%% srv/pg/other %s\n' \
    "$target" "$op" "$rps" "$p50" "$p99" "$errors" "$hwm" "${cpu// //}"
  CHECK_BYTES=""
}

# ---------------------------------------------------------------- a private PostgreSQL
# For the benchmarks that need what the shared server is not set up for: pg_stat_statements
# (statements per event) and auto_explain (the plan of every statement a request runs), which
# must be preloaded at server start. pg_private_start PORT: initdb in a fresh directory under
# TMPDIR and start it on 127.0.0.1:PORT with the shared server's planner and memory defaults
# (shared_buffers 128MB), synchronous_commit off (as the rig); sets PGP_DIR, PGP_LOG, PGP_PID,
# PGP_URL (of database postgres). Stopped and removed on exit (pg_private_stop).
PGP_DIR=""; PGP_LOG=""; PGP_PID=""; PGP_URL=""; PGP_AS=()
pg_private_start() {
  local port="$1" bindir
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -x "$bindir/initdb" ] || die "PostgreSQL's server programs are missing (Debian package postgresql)"
  port_busy "$port" && die "port $port is already in use (set PG_PRIVATE_PORT)"
  PGP_DIR="$(mktemp -d "${TMPDIR:-/tmp}/bg-bench-pg.XXXXXX")"
  PGP_LOG="$PGP_DIR/postgres.log"
  PGP_AS=()
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGP_DIR"; PGP_AS=(runuser -u postgres --); fi
  "${PGP_AS[@]}" "$bindir/initdb" -D "$PGP_DIR/data" -U postgres --auth=trust -E UTF8 --no-sync > "$PGP_DIR/initdb.log" \
    || die "initdb failed: $(tail -5 "$PGP_DIR/initdb.log")"
  cat >> "$PGP_DIR/data/postgresql.conf" <<CONF
# bench: a private server
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGP_DIR'
max_connections = 300
synchronous_commit = off
shared_preload_libraries = 'pg_stat_statements,auto_explain'
pg_stat_statements.track = all
# auto_explain stays off (-1) but for the databases that set it (bench/scale.sh's plan pass)
auto_explain.log_min_duration = -1
auto_explain.log_format = json
log_line_prefix = ''
CONF
  "${PGP_AS[@]}" "$bindir/pg_ctl" -D "$PGP_DIR/data" -l "$PGP_LOG" -w -t 60 start > /dev/null \
    || die "the private PostgreSQL did not start: $(tail -5 "$PGP_LOG")"
  PGP_PID="$(head -1 "$PGP_DIR/data/postmaster.pid")"
  PGP_URL="postgres://postgres@127.0.0.1:$port"
  PGP_BINDIR="$bindir"
  log "private PostgreSQL $("$bindir/postgres" --version | awk '{ print $3 }') on :$port (pid $PGP_PID)"
}
pg_private_stop() {
  [ -n "$PGP_DIR" ] || return 0
  "${PGP_AS[@]}" "$PGP_BINDIR/pg_ctl" -D "$PGP_DIR/data" -m fast -w stop > /dev/null 2>&1 || true
  rm -rf "$PGP_DIR"; PGP_DIR=""
}
