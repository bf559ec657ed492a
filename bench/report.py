#!/usr/bin/env python3
"""Helpers of bench/run.sh: parse load-generator output, render bench/out/results.md.

Usage:
  report.py wrk LOG        prints "rps p50_ms p99_ms requests errors" of a wrk --latency log
                           (errors = non-2xx + socket errors + the "body_errors:" line that
                           bench/wrk-common.lua prints)
  report.py oha JSON       the same from an oha JSON report (errors = non-2xx + failed
                           requests; oha does not look at bodies)
  report.py mixed JSON     the same from examples/loadgen.rs mixed (errors: bodies checked)
  report.py check-rest STATUS FILE
                           checks one legacy REST answer before it is load-tested: HTTP 2xx,
                           JSON, "success": true; prints "ok bytes=N" or "error: ..." (exit 1)
  report.py render OUT     reads OUT/env.txt, OUT/run*/results.tsv and OUT/run*/meta.tsv,
                           writes OUT/results.md and prints it
  report.py subscribers OUT EVENTS
                           bench/subscribers.sh's report: OUT/<kind>.<phase>.json (loadgen),
                           .ticks, .rss, .statements.tsv -> OUT/results.md, printed
  report.py scale OUT N DEEP_PAGE
                           bench/scale.sh's report: OUT/results.tsv (targets "1x" and "<N>x"),
                           OUT/plans.json (bench/plans.py) -> OUT/results.md, printed

results.tsv has the columns of the shared rig (../shared/bench/run.sh):
  target op rps p50_ms p99_ms errors requests vmhwm_kb server_cpu_pct pg_cpu_pct
  other_cpu_pct bytes ids digest note
meta.tsv: "key<TAB>value" lines (ready_ms.<target>, ...).
With several runs every figure is the median over the runs, except errors (the sum).
Standard library only.
"""
import csv
import glob
import json
import os
import re
import statistics
import sys

PEERS = ["postgraphile", "postgraphile5", "apollo"]
TARGET_ORDER = ["rust", "rust-cached"] + PEERS + ["limit-axum", "limit-axum-feed", "limit-node", "sql-floor"]
GQL_OPS = ["q1_feed", "q2_nested", "q3_detail", "q4_search", "q5_popular"]


def to_ms(v):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", v)
    if not m:
        return float("nan")
    n, unit = float(m.group(1)), m.group(2)
    return n * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(path):
    text = open(path).read()
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    reqs = re.search(r"^\s+(\d+) requests in", text, re.M)
    if not (rps and p50 and p99 and reqs):
        raise SystemExit(f"{path}: not a complete wrk --latency report")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    body = re.search(r"^body_errors: (\d+)", text, re.M)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    errors += int(body.group(1)) if body else 0
    print(f"{float(rps.group(1)):.0f} {to_ms(p50.group(1)):.2f} {to_ms(p99.group(1)):.2f} {reqs.group(1)} {errors}")


def parse_oha(path):
    doc = json.load(open(path))
    summary = doc.get("summary", {})
    pct = doc.get("latencyPercentiles", {})
    codes = doc.get("statusCodeDistribution", {}) or {}
    errs = doc.get("errorDistribution", {}) or {}
    ok = sum(n for c, n in codes.items() if 200 <= int(c) <= 299)
    bad = sum(n for c, n in codes.items() if not 200 <= int(c) <= 299)
    failed = sum(errs.values())

    def ms(v):
        return float("nan") if v is None else v * 1000.0

    rps = summary.get("requestsPerSec") or 0.0
    print(f"{rps:.0f} {ms(pct.get('p50')):.2f} {ms(pct.get('p99')):.2f} {ok + bad + failed} {bad + failed}")


def parse_mixed(path):
    """examples/loadgen.rs mixed's JSON -> "rps p50_ms p99_ms requests errors" (the row's columns)."""
    with open(path) as f:
        r = json.load(f)
    a = r["all"]
    print(r["achieved_rps"], a["p50_ms"], a["p99_ms"], a["count"], r["errors"])


def check_rest(status, path):
    raw = open(path, "rb").read()
    if not status.isdigit() or not 200 <= int(status) <= 299:
        print(f"error: HTTP {status}: {raw[:200]!r}")
        return 1
    try:
        doc = json.loads(raw)
    except ValueError as e:
        print(f"error: not JSON ({e}): {raw[:200]!r}")
        return 1
    if not isinstance(doc, dict) or doc.get("success") is not True:
        print(f"error: not a success body: {raw[:200]!r}")
        return 1
    print(f"ok bytes={len(raw)}")
    return 0


# ---------------------------------------------------------------- render


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, digits=0):
    if v is None:
        return "-"
    return f"{v:.{digits}f}"


def op_order(op):
    base = op.split("@")[0]
    order = GQL_OPS + ["rest_list", "rest_detail", "write_mix", "mixed", "login", "hello"]
    return (order.index(base) if base in order else len(order), "@" in op, op)


def render(out):
    runs = sorted(glob.glob(os.path.join(out, "run*", "results.tsv")),
                  key=lambda p: int(re.search(r"run(\d+)", p).group(1)))
    if not runs:
        raise SystemExit(f"no {out}/run*/results.tsv")
    rows = {}  # (op, target) -> list of row dicts (one per run)
    for path in runs:
        with open(path, newline="") as f:
            for r in csv.DictReader(f, delimiter="\t"):
                rows.setdefault((r["op"], r["target"]), []).append(r)
    meta = {}
    for path in glob.glob(os.path.join(out, "run*", "meta.tsv")):
        for line in open(path):
            if "\t" in line:
                k, v = line.rstrip("\n").split("\t", 1)
                meta.setdefault(k, []).append(num(v))
    targets = sorted({t for _, t in rows}, key=lambda t: (TARGET_ORDER.index(t) if t in TARGET_ORDER else 99, t))
    ops = sorted({o for o, _ in rows}, key=op_order)

    agg = {}
    for key, rs in rows.items():
        timed = [r for r in rs if num(r["rps"]) is not None]
        a = {
            "runs": len(rs),
            "timed": len(timed),
            "rps": med(num(r["rps"]) for r in timed),
            "rps_min": min((num(r["rps"]) for r in timed), default=None),
            "rps_max": max((num(r["rps"]) for r in timed), default=None),
            "p50": med(num(r["p50_ms"]) for r in timed),
            "p99": med(num(r["p99_ms"]) for r in timed),
            "errors": sum(int(num(r["errors"]) or 0) for r in timed),
            "requests": med(num(r["requests"]) for r in timed),
            "rss": med((num(r["vmhwm_kb"]) or 0) / 1024 if num(r["vmhwm_kb"]) else None for r in timed),
            # server CPU time per request: a figure that moves much less with foreign load than req/s
            "cpu_ms": med(10.0 * num(r["server_cpu_pct"]) / num(r["rps"])
                          if num(r["server_cpu_pct"]) is not None and num(r["rps"]) else None for r in timed),
            "cpu": " / ".join(fmt(med(num(r[c]) for r in timed)) for c in ("server_cpu_pct", "pg_cpu_pct", "other_cpu_pct")),
            "notes": sorted({r["note"] for r in rs if r["note"]}),
            "untimed": [r["note"] for r in rs if num(r["rps"]) is None],
        }
        agg[key] = a

    def best_peer(op):
        cands = [(t, agg[(op, t)]) for t in PEERS if (op, t) in agg and agg[(op, t)]["rps"] is not None]
        if not cands:
            return None, None
        if "@" in op:  # fixed arrival rate: the best peer is the one with the lowest p99
            return min(cands, key=lambda c: c[1]["p99"] if c[1]["p99"] is not None else float("inf"))
        return max(cands, key=lambda c: c[1]["rps"])

    lines = []
    w = lines.append
    w("# blog-gateway benchmark results")
    w("")
    w(f"Generated by `bench/run.sh` ({len(runs)} run{'s' if len(runs) > 1 else ''}"
      f"{'; every figure is the median over the runs, errors are summed' if len(runs) > 1 else ''}).")
    w("")
    env = os.path.join(out, "env.txt")
    if os.path.exists(env):
        w("```")
        w(open(env).read().rstrip())
        w("```")
        w("")
    w("## Requests/s")
    w("")
    w("sql-floor: pgbench transactions/s (one transaction = the SQL of one logical query); "
      "`op@Nrps`: achieved rate at a fixed arrival rate of N requests/s.")
    w("")
    w("| operation | " + " | ".join(targets) + " |")
    w("|---|" + "---:|" * len(targets))
    for op in ops:
        cells = []
        for t in targets:
            a = agg.get((op, t))
            if a is None:
                cells.append("")
            elif a["rps"] is None:
                cells.append("NOT TIMED")
            else:
                cells.append(fmt(a["rps"]) + (" (e)" if a["errors"] else ""))
        w(f"| {op} | " + " | ".join(cells) + " |")
    w("")
    if any(a["errors"] for a in agg.values()):
        w("(e): the operation had errors (see its table; the failing answers are saved as "
          "`run*/errbody.*` and `run*/resp.*`).")
        w("")
    w("## Per operation")
    w("")
    w("Peak RSS is `VmHWM` of the server process after the operation: the peak since that "
      "server process started (earlier operations of the same process included). CPU is in % of "
      "one core over the measured window (the machine has 200 %): server / Postgres (every "
      "database's backends, so foreign database work counts here too) / everything else (the load "
      "generator plus foreign load). srv CPU ms/req = server CPU time per request, which moves "
      "much less with foreign load than req/s.")
    for op in ops:
        w("")
        w(f"### {op}")
        w("")
        bt, ba = best_peer(op)
        head = ("| target | req/s | p50 ms | p99 ms | errors | requests | peak RSS MiB | CPU % srv / pg / other "
                "| srv CPU ms/req |")
        sep = "|---|---:|---:|---:|---:|---:|---:|---|---:|"
        if ba:
            head += f" vs best peer ({bt}) |"
            sep += "---|"
        if len(runs) > 1:
            head += " req/s min-max |"
            sep += "---|"
        head += " note |"
        sep += "---|"
        w(head)
        w(sep)
        for t in targets:
            a = agg.get((op, t))
            if a is None:
                continue
            if a["rps"] is None:
                w(f"| {t} | NOT TIMED | | | | | | | |" + (" |" if ba else "") + (" |" if len(runs) > 1 else "")
                  + f" {'; '.join(a['untimed'])[:200]} |")
                continue
            cells = [t, fmt(a["rps"]), fmt(a["p50"], 2), fmt(a["p99"], 2), str(a["errors"]), fmt(a["requests"]),
                     fmt(a["rss"]), a["cpu"], fmt(a["cpu_ms"], 2)]
            if ba:
                if t != "rust":
                    cells.append("")
                elif "@" in op:
                    cells.append(f"p99 {a['p99'] / ba['p99']:.2f}x" if ba["p99"] else "-")
                else:
                    cells.append(f"req/s {a['rps'] / ba['rps']:.2f}x, p99 {a['p99'] / ba['p99']:.2f}x"
                                 if ba["rps"] and ba["p99"] else "-")
            if len(runs) > 1:
                cells.append(f"{fmt(a['rps_min'])}-{fmt(a['rps_max'])}")
            cells.append("; ".join(a["notes"] + ([f"{a['runs'] - a['timed']} run(s) not timed"] if a["timed"] < a["runs"] else [])))
            w("| " + " | ".join(cells) + " |")

    # ------------------------------------------------------------ targets of the issue
    w("")
    w("## Targets (issue 23)")
    w("")
    w("| target | measured | met |")
    w("|---|---|---|")

    for op in GQL_OPS:
        a = agg.get((op, "rust"))
        bt, ba = best_peer(op)
        if not a or a["rps"] is None:
            w(f"| {op}: >= 3x best peer req/s, p99 no worse | not measured | - |")
        elif not ba:
            w(f"| {op}: >= 3x best peer req/s, p99 no worse | {fmt(a['rps'])} req/s, p99 {fmt(a['p99'], 2)} ms (peers not run) | - |")
        else:
            ratio = a["rps"] / ba["rps"]
            ok = ratio >= 3.0 and a["p99"] <= ba["p99"]
            w(f"| {op}: >= 3x best peer req/s, p99 no worse | {ratio:.2f}x {bt} ({fmt(a['rps'])} vs {fmt(ba['rps'])} req/s), "
              f"p99 {fmt(a['p99'], 2)} vs {fmt(ba['p99'], 2)} ms | {verdict(ok)} |")
    rust_rows = [(o, t) for (o, t) in agg if t in ("rust", "rust-cached")]
    errs = sum(agg[k]["errors"] for k in rust_rows)
    untimed = [f"{o} ({t})" for (o, t) in rust_rows if agg[(o, t)]["timed"] < agg[(o, t)]["runs"]]
    bad = [f"{o} ({t}): {agg[(o, t)]['errors']}" for (o, t) in sorted(rust_rows, key=lambda k: op_order(k[0]))
           if agg[(o, t)]["errors"]]
    w(f"| 0 errors (every gateway operation) | {errs} errors{': ' + ', '.join(bad) if bad else ''}"
      f"{'; not timed: ' + ', '.join(untimed) if untimed else ''} | {verdict(errs == 0 and not untimed)} |")
    for op in ("q1_feed", "q2_nested"):
        a, f = agg.get((op, "rust")), agg.get((op, "sql-floor"))
        if a and f and a["rps"] and f["rps"]:
            r = a["rps"] / f["rps"]
            w(f"| uncached {op} >= 70% of its SQL floor | {r * 100:.0f}% ({fmt(a['rps'])} req/s vs {fmt(f['rps'])} tx/s) | {verdict(r >= 0.7)} |")
        else:
            w(f"| uncached {op} >= 70% of its SQL floor | needs `--peers` | - |")
    a, c, cf = agg.get(("q1_feed", "rust-cached")), agg.get(("hello", "limit-axum")), agg.get(("hello", "limit-axum-feed"))
    if a and c and a["rps"] and c["rps"]:
        r = a["rps"] / c["rps"]
        extra = (f"; with a body of the feed's size the ceiling is {fmt(cf['rps'])} req/s: {a['rps'] / cf['rps'] * 100:.0f}%"
                 if cf and cf["rps"] else "")
        w(f"| cached anonymous feed >= 50% of the HTTP ceiling (limit-axum) | {r * 100:.0f}% ({fmt(a['rps'])} vs "
          f"{fmt(c['rps'])} req/s){extra} | {verdict(r >= 0.5)} |")
    elif a and a["rps"]:
        w(f"| cached anonymous feed >= 50% of the HTTP ceiling (limit-axum) | {fmt(a['rps'])} req/s (limit-axum needs `--peers`) | - |")
    a = agg.get(("rest_list", "rust"))
    if a and a["rps"]:
        w(f"| REST list >= 2x its 1,045 req/s of 2026-12-07 at 1x | {fmt(a['rps'])} req/s ({a['rps'] / 1045:.2f}x), "
          f"Postgres {a['cpu'].split(' / ')[1]}% CPU | {verdict(a['rps'] >= 2 * 1045)} |")
    mixed = [k for k in agg if k[0].startswith("mixed@") and k[1] == "rust"]
    for k in mixed:
        a = agg[k]
        w(f"| {k[0]} (feed, nested and writes together): p99 < 25 ms, 0 errors | p99 {fmt(a['p99'], 2)} ms at "
          f"{fmt(a['rps'])} req/s, {a['errors']} errors | {verdict(a['p99'] is not None and a['p99'] < 25 and a['errors'] == 0)} |")
    rss_all = [agg[k]["rss"] for k in rust_rows if agg[k]["rss"] is not None and k[0] != "login"]
    if rss_all:
        w(f"| (issue 8) peak RSS <= 64 MiB | {fmt(max(rss_all))} MiB over every operation but login | {verdict(max(rss_all) <= 64)} |")
    ready = med(meta.get("ready_ms.rust", []))
    if ready is not None:
        w(f"| (issue 8) start to ready < 1 s | {fmt(ready)} ms median | {verdict(ready < 1000)} |")
    # bench/scale.sh and bench/subscribers.sh, when run.sh ran them: their targets as they printed them
    for sub in ("scale", "subscribers"):
        path = os.path.join(out, sub, "results.md")
        if os.path.exists(path):
            text = open(path).read()
            section = text.split("## Targets", 1)[1].split("\n## ", 1)[0] if "## Targets" in text else ""
            for line in section.splitlines():
                if line.startswith("| ") and not line.startswith("| target |"):
                    w(line)
    w("")
    if meta:
        w("## Other figures")
        w("")
        w("| figure | median | every run |")
        w("|---|---:|---|")
        for k in sorted(meta):
            w(f"| {k} | {fmt(med(meta[k]))} | {', '.join(fmt(v) for v in meta[k])} |")
        w("")
    finish_report(out, lines)


def verdict(ok):
    """A target's "met" cell."""
    return "-" if ok is None else ("yes" if ok else "**no**")


def start_report(out, title):
    """A report's lines and their writer, opened with its title and OUT/env.txt."""
    lines = []
    w = lines.append
    w(f"# {title}")
    w("")
    try:
        w("```\n" + open(os.path.join(out, "env.txt")).read().rstrip() + "\n```")
    except OSError:
        pass
    w("")
    return lines, w


def finish_report(out, lines):
    """Writes OUT/results.md and prints it."""
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "results.md"), "w") as fh:
        fh.write(text)
    sys.stdout.write(text)


def subscribers_report(out, events):
    hz = os.sysconf("SC_CLK_TCK")
    lines, w = start_report(out, "Subscribers (bench/subscribers.sh)")
    w("| subscription | subscribers | deliveries (missed, errors) | delivery p50 / p99 ms | last subscriber p50 / p99 / max ms "
      "| write p50 ms | server CPU over the events | VmHWM / VmRSS MiB | statements per event (no subscriber) |")
    w("|---|---:|---|---|---|---:|---:|---|---|")
    figures = {}
    for path in sorted(glob.glob(os.path.join(out, "*.subscribers.json"))):
        kind = os.path.basename(path).split(".")[0]

        def read(phase, suffix):
            try:
                return open(os.path.join(out, f"{kind}.{phase}.{suffix}")).read()
            except OSError:
                return ""
        r = json.loads(read("subscribers", "json") or "{}")
        ticks = [line.split() for line in read("subscribers", "ticks").splitlines() if line.strip()]
        cpu = None
        if len(ticks) == 2:
            secs = (int(ticks[1][0]) - int(ticks[0][0])) / 1e9
            cpu = (int(ticks[1][1]) - int(ticks[0][1])) / hz / secs * 100 if secs > 0 else None
        rss = dict(line.split()[:2] for line in read("subscribers", "rss").splitlines() if line.strip())
        hwm, now = num(rss.get("VmHWM:")), num(rss.get("VmRSS:"))

        def per_event(phase):
            total, top = 0, []
            for line in read(phase, "statements.tsv").splitlines():
                calls, _, query = line.partition("\t")
                total += int(calls)
                top.append((int(calls), query))
            return total / events, top
        with_subs, top = per_event("subscribers")
        alone, _ = per_event("baseline")
        figures[kind] = {"r": r, "cpu": cpu, "hwm": hwm, "with": with_subs, "alone": alone}
        d, last, wr = r.get("delivery", {}), r.get("last_subscriber", {}), r.get("write", {})
        w(f"| {r.get('kind', kind)}{' (capacity run)' if kind == 'capacity' else ''} | {r.get('subscribers', '-')} | {r.get('deliveries', '-')} ({r.get('missed', '-')}, "
          f"{r.get('errors', '-')}) | {d.get('p50_ms', '-')} / {d.get('p99_ms', '-')} | {last.get('p50_ms', '-')} / "
          f"{last.get('p99_ms', '-')} / {last.get('max_ms', '-')} | {wr.get('p50_ms', '-')} | "
          f"{fmt(cpu)}% of a core | {fmt(hwm and hwm / 1024)} / {fmt(now and now / 1024)} | "
          f"{with_subs:.1f} ({alone:.1f}) |")
        figures[kind]["top"] = top
    w("")
    for kind, f in figures.items():
        w(f"Statements over the {events} measured events of {kind}, with subscribers (pg_stat_statements):")
        w("")
        w("| calls | per event | statement |")
        w("|---:|---:|---|")
        for calls, query in f["top"][:12]:
            q = " ".join(query.split())
            q = (q if len(q) <= 150 else q[:147] + "...").replace("|", "\\|")
            w(f"| {calls} | {calls / events:.2f} | `{q}` |")
        w("")
    w("## Targets (issue 23, part 4)")
    w("")
    w("| target | measured | met |")
    w("|---|---|---|")
    for kind, f in figures.items():
        r = f["r"]
        p99 = r.get("last_subscriber", {}).get("p99_ms")
        complete = r.get("missed") == 0 and r.get("errors") == 0
        w(f"| {kind}: every event reaches all {r.get('subscribers')} subscribers | {r.get('deliveries')} deliveries, "
          f"{r.get('missed')} missed, {r.get('errors')} errors | {verdict(complete)} |")
        w(f"| {kind}: p99 from the write to the last subscriber < 1 s | {p99} ms | {verdict(p99 is not None and p99 < 1000)} |")
        if kind != "capacity":
            w(f"| {kind}: RSS < 256 MiB | VmHWM {fmt(f['hwm'] and f['hwm'] / 1024)} MiB | {verdict(f['hwm'] is not None and f['hwm'] < 256 * 1024)} |")
        extra = f["with"] - f["alone"]
        w(f"| {kind}: one read per event, not one per subscriber | {f['with']:.1f} statements per event with "
          f"subscribers, {f['alone']:.1f} without: {extra:.1f} for the fan-out | {verdict(extra <= 1.5)} |")
        subs, cpu = r.get("subscribers") or 0, f["cpu"]
        if kind == "capacity" and cpu:
            ok = subs / os.cpu_count() > 5000 and complete and p99 is not None and p99 < 1000
            w(f"| subscribers per core above Hasura's 5,000 (commentAdded, every event to all within 1 s) | {subs:,} "
              f"subscribers on {os.cpu_count()} cores = {subs / os.cpu_count():,.0f} per core of the machine, last subscriber "
              f"p99 {p99} ms, VmHWM {fmt(f['hwm'] and f['hwm'] / 1024)} MiB; the server used {fmt(cpu)}% of one core over "
              f"the events | {verdict(ok)} |")
    w("")
    finish_report(out, lines)


SCALE_OPS = GQL_OPS + ["q1_after", "rest_list", "rest_list_deep", "rest_detail"]


def scale_report(out, n, deep_page):
    rows = {}
    with open(os.path.join(out, "results.tsv"), newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows[(r["op"], r["target"])] = r
    with open(os.path.join(out, "plans.json")) as f:
        plans = json.load(f)
    big = f"{n}x"
    lines, w = start_report(out, f"Data scale: 1x and {big} (bench/scale.sh)")
    w(f"| request | 1x req/s | 1x p99 ms | {big} req/s | {big} p99 ms | {big} / 1x | errors | plans at {big} |")
    w("|---|---:|---:|---:|---:|---:|---:|---|")
    ratios = {}
    for op in SCALE_OPS:
        a, b = rows.get((op, "1x")), rows.get((op, big))
        ra, rb = num(a and a["rps"]), num(b and b["rps"])
        ratio = rb / ra if ra and rb else None
        ratios[op] = ratio
        errors = sum(int(num(r["errors"]) or 0) for r in (a, b) if r)
        plan = plans.get(op, {})
        flags = [f for st in plan.get("statements", []) for f in st["flags"]]
        plan_note = ("index-bounded" if plan.get("bounded") else "; ".join(flags) or "no plans") + \
            f" ({len(plan.get('statements', []))} statements)"
        w(f"| {op} | {fmt(ra)} | {fmt(num(a and a['p99_ms']), 2)} | {fmt(rb)} | {fmt(num(b and b['p99_ms']), 2)} | "
          f"{'-' if ratio is None else f'{ratio * 100:.0f}%'} | {errors} | {plan_note} |")
    w("")
    w("## Targets (issue 23, part 3)")
    w("")
    w("| target | measured | met |")
    w("|---|---|---|")

    for op in GQL_OPS + ["rest_list", "rest_detail"]:
        r = ratios.get(op)
        w(f"| {op} at {big} keeps >= 80% of its 1x req/s | {'not measured' if r is None else f'{r * 100:.0f}%'} | "
          f"{verdict(None if r is None else r >= 0.8)} |")
    first, deep = num((rows.get(("rest_list", big)) or {}).get("rps")), num((rows.get(("rest_list_deep", big)) or {}).get("rps"))
    if first and deep:
        w(f"| REST list page {deep_page} within 2x of page 1 at {big} | page {deep_page} {fmt(deep)} vs page 1 "
          f"{fmt(first)} req/s ({first / deep:.2f}x slower) | {verdict(deep * 2 >= first)} |")
    feed, after = num((rows.get(("q1_feed", big)) or {}).get("rps")), num((rows.get(("q1_after", big)) or {}).get("rps"))
    if feed and after:
        w(f"| (beside the targets) the feed's page after a cursor {deep_page} pages in, against its first page, at {big} | "
          f"{fmt(after)} vs {fmt(feed)} req/s ({after / feed * 100:.0f}%; it selects fewer fields) | - |")
    unbounded = [op for op in SCALE_OPS if plans.get(op, {}).get("bounded") is False]
    w(f"| every statement index-bounded at {big} (no sequential scan of a data table, no sort of more than "
      f"1,000 rows, no filter dropping more than 1,000) | {'all bounded' if not unbounded else 'not: ' + ', '.join(unbounded)} | {verdict(not unbounded)} |")
    w("")
    w(f"## Statements at {big} (auto_explain, EXPLAIN ANALYZE with BUFFERS)")
    w("")
    for op in SCALE_OPS:
        w(f"### {op}")
        w("")
        w("| ms | most rows of a node | buffers | flags | statement |")
        w("|---:|---:|---:|---|---|")
        for st in plans.get(op, {}).get("statements", []):
            text = st["statement"].replace("|", "\\|")
            w(f"| {st['ms']} | {st['most_rows']} | {st['buffers']} | {'; '.join(st['flags']) or '-'} | `{text}` |")
        w("")
    finish_report(out, lines)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "check-rest":
        return check_rest(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "subscribers":
        subscribers_report(sys.argv[2], int(sys.argv[3]))
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "scale":
        scale_report(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return 0
    if len(sys.argv) != 3 or sys.argv[1] not in ("wrk", "oha", "mixed", "render"):
        print(__doc__, file=sys.stderr)
        return 2
    {"wrk": parse_wrk, "oha": parse_oha, "mixed": parse_mixed, "render": render}[sys.argv[1]](sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
