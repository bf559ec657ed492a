#!/usr/bin/env bash
# A/B of two gateway binaries on the shared rig's GraphQL operations: the measurement behind the
# "Measured gain" lines in src/ (a speed-up stays only with its figure and the command that
# shows it).
#
# Usage: bash bench/ab.sh BIN_A BIN_B [OP...]      (default ops: q1_feed q2_nested q3_detail)
#
# The database must be loaded (run `bash bench/run.sh` once; it leaves GW_DB as it found it).
# Each round starts A, measures every op with ../shared/bench/run.sh (same method as the
# benchmark), stops it, then does the same for B; ROUNDS rounds alternate A and B so a change
# of the machine's load hits both. Prints per op and binary the median req/s and the median
# server CPU per request (ms), which moves much less with foreign load than req/s.
#
# Env (defaults): ROUNDS=3 CONNS=32 DURATION=10s WARMUP=2s WRK_CPU=0 QUIET_PCT=25 QUIET_MAX=60
#   GW_DB=blog_bench_gw GW_PORT=5000
#   ENV_A= ENV_B=   extra NAME=value settings of each side's gateway, space-separated (the same
#                   binary twice with other settings: bench/otel.sh)
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
HERE="$(cd "$(dirname "$0")" && pwd)"
RIG="$(cd "$HERE/../../shared/bench" && pwd)"
BIN_A="$(realpath "$1")"; BIN_B="$(realpath "$2")"; shift 2
OPS=("${@:-q1_feed q2_nested q3_detail}")
# shellcheck disable=SC2206
OPS=(${OPS[*]})
ROUNDS="${ROUNDS:-3}"; GW_DB="${GW_DB:-blog_bench_gw}"; GW_PORT="${GW_PORT:-5000}"
export CONNS="${CONNS:-32}" DURATION="${DURATION:-10s}" WARMUP="${WARMUP:-2s}" WRK_CPU="${WRK_CPU-0}"
export QUIET_PCT="${QUIET_PCT:-25}" QUIET_MAX="${QUIET_MAX:-60}"
OUT="$HERE/out/ab"; mkdir -p "$OUT"
TSV="$OUT/results.tsv"; : > "$TSV"
URL="http://127.0.0.1:$GW_PORT"

PID=""
stop() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; PID=""; }
trap stop EXIT

start() { # BIN [NAME=value...]
  local bin="$1"; shift
  env -i PATH="$PATH" HOME="$HOME" "$@" \
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/$GW_DB" HOST=127.0.0.1 PORT="$GW_PORT" \
    CACHE_ENABLED=false RATE_LIMIT_ENABLED=false JWT_SECRET="ab-benchmark-secret-of-at-least-32-characters" \
    LOG_FORMAT=json RUST_LOG=warn "$bin" > "$OUT/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null -m 1 "$URL/api/health" && return 0
    kill -0 "$PID" 2>/dev/null || { tail -20 "$OUT/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "the gateway $bin was not ready within 60 s" >&2; exit 1
}

for round in $(seq 1 "$ROUNDS"); do
  for side in A B; do
    bin="$BIN_A"; settings="${ENV_A:-}"
    [ "$side" = B ] && bin="$BIN_B" && settings="${ENV_B:-}"
    echo "round $round: $side ($bin${settings:+ with $settings})"
    # shellcheck disable=SC2086
    start "$bin" $settings
    SERVER_PID="$PID" RESULTS_TSV="$TSV" bash "$RIG/run.sh" "$side" "$URL/graphql" sdl "${OPS[@]}" \
      > "$OUT/round$round-$side.log" 2>&1 || { tail -20 "$OUT/round$round-$side.log" >&2; exit 1; }
    stop
  done
done

python3 - "$TSV" <<'PY'
import csv, statistics, sys
rows = [r for r in csv.reader(open(sys.argv[1]), delimiter="\t") if len(r) > 8]
by = {}
for r in rows:
    name, op, rps, cpu = r[0], r[1], float(r[2] or 0), r[8]
    if rps <= 0 or not cpu:
        continue
    by.setdefault((op, name), []).append((rps, 10.0 * float(cpu) / rps))
print(f"{'op':<12} {'side':<4} {'req/s (median)':>15} {'srv CPU ms/req':>15}  runs")
for (op, name) in sorted(by):
    runs = by[(op, name)]
    print(f"{op:<12} {name:<4} {statistics.median(r for r, _ in runs):>15.0f} "
          f"{statistics.median(c for _, c in runs):>15.3f}  {len(runs)}")
PY
