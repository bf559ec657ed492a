#!/usr/bin/env bash
# The cost of exporting traces: the same release binary with OpenTelemetry export off (A) and on
# (B, always-on sampler, OTLP/HTTP to a live receiver that decodes and counts every span:
# examples/otlp_sink.rs), alternating over ROUNDS rounds through bench/ab.sh. The run counts only
# if the receiver got at least (B's requests x spans per request) spans: nothing was dropped.
#
# Usage: bash bench/otel.sh [OP...]      (default op: q1_feed; the database as for bench/ab.sh)
#
# Env (defaults): SINK_PORT=4318, and bench/ab.sh's (ROUNDS=3 CONNS=32 DURATION=10s ...).
# The batch span processor gets a queue large enough for the load (OTEL_BSP_MAX_QUEUE_SIZE):
# the default 2048 drops spans at thousands of requests a second.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OPS=("${@:-q1_feed}")
SINK_PORT="${SINK_PORT:-4318}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/blog-gateway/target}"
(cd "$ROOT" && cargo build --release --quiet && cargo build --release --quiet --example otlp_sink)
BIN="$CARGO_TARGET_DIR/release/blog-gateway"

# The receiver stands for a collector on another machine: it runs on the load generators' CPU.
PIN=(); [ -n "${WRK_CPU-0}" ] && PIN=(taskset -c "${WRK_CPU-0}")
"${PIN[@]}" "$CARGO_TARGET_DIR/release/examples/otlp_sink" "$SINK_PORT" &
SINK=$!
trap 'kill $SINK 2>/dev/null; wait $SINK 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$SINK_PORT/stats" && break; sleep 0.1; done

ENV_B="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$SINK_PORT OTEL_TRACES_SAMPLER=always_on \
OTEL_BSP_MAX_QUEUE_SIZE=65536 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048 OTEL_BSP_SCHEDULE_DELAY=200" \
  bash "$HERE/ab.sh" "$BIN" "$BIN" "${OPS[@]}"
sleep 1   # the last batch

stats=$(curl -sf "http://127.0.0.1:$SINK_PORT/stats")
python3 - "$HERE/out/ab/results.tsv" "$stats" <<'PY'
import csv, json, sys
rows = [r for r in csv.reader(open(sys.argv[1]), delimiter="\t") if len(r) > 8 and r[0] == "B"]
stats = json.loads(sys.argv[2])
requests = sum(int(r[6] or 0) for r in rows)
need = requests * stats["spans_per_trace"]
print(f"receiver: {stats['spans']} spans in {stats['traces']} traces, {stats['spans_per_trace']} spans "
      f"per request; B measured {requests} requests (warm-ups and health checks not counted)")
if stats["spans"] < need or stats["traces"] < requests:
    print(f"NOT COUNTED: {stats['spans']} spans < {requests} requests x {stats['spans_per_trace']} = {need}")
    sys.exit(1)
print(f"counted: {stats['spans']} >= {need} spans")
PY
