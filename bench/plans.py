#!/usr/bin/env python3
"""Reads the plans auto_explain logged for one request of each kind (bench/scale.sh's plan pass)
and says whether each statement's work is bounded by an index.

Usage: plans.py PLANS_DIR OP...   (reads PLANS_DIR/OP.log; prints JSON on stdout)

A log holds entries `LOG:  duration: ... ms  plan:` followed by the plan in auto_explain's JSON
format (EXPLAIN ANALYZE, BUFFERS). A statement is flagged when its plan
- scans one of the data tables sequentially (users, posts, comments, post_likes,
  post_search_terms; the kept totals and other small tables are fine), or
- sorts more than SORT_LIMIT rows (a sort of a whole table or of all of a filter's matches,
  instead of reading an index in order), or
- drops more than SORT_LIMIT rows in a filter (`Rows Removed by Filter`: an index scan that
  starts where its condition cannot bound it, such as a keyset page whose cursor condition is
  only a filter, reads every row before the cursor).
For each statement: its text (shortened), time, the most rows any node produced (rows x loops),
shared buffers touched, and its flags. Standard library only.
"""
import json
import re
import sys

DATA_TABLES = {"users", "posts", "comments", "post_likes", "post_search_terms"}
SORT_LIMIT = 1000
ENTRY = re.compile(r"^LOG:\s+duration: ([0-9.]+) ms\s+plan:\s*$", re.M)


def entries(text):
    decoder = json.JSONDecoder()
    for match in ENTRY.finditer(text):
        rest = text[match.end():].lstrip()
        try:
            plan, _ = decoder.raw_decode(rest)
        except ValueError:
            continue
        yield float(match.group(1)), plan


def walk(node):
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


def rows(node):
    return int(node.get("Actual Rows", 0)) * int(node.get("Actual Loops", 1) or 1)


def examine(duration, entry):
    plan = entry.get("Plan", {})
    flags = []
    most = 0
    for node in walk(plan):
        most = max(most, rows(node))
        kind = node.get("Node Type", "")
        relation = node.get("Relation Name", "")
        if kind == "Seq Scan" and relation in DATA_TABLES:
            flags.append(f"sequential scan of {relation} ({rows(node)} rows out)")
        removed = int(node.get("Rows Removed by Filter", 0)) * int(node.get("Actual Loops", 1) or 1)
        if removed > SORT_LIMIT:
            flags.append(f"{removed} rows removed by a filter ({kind} on {relation or '?'})")
        if kind in ("Sort", "Incremental Sort"):
            into = sum(rows(child) for child in node.get("Plans", []))
            if into > SORT_LIMIT:
                flags.append(f"sort of {into} rows ({node.get('Sort Method', '?')})")
    text = " ".join(entry.get("Query Text", "").split())
    return {
        "statement": text if len(text) <= 160 else text[:157] + "...",
        "ms": round(duration, 3),
        "most_rows": most,
        "buffers": int(plan.get("Shared Hit Blocks", 0)) + int(plan.get("Shared Read Blocks", 0)),
        "flags": flags,
    }


def main():
    folder, ops = sys.argv[1], sys.argv[2:]
    report = {}
    for op in ops:
        try:
            text = open(f"{folder}/{op}.log", encoding="utf-8", errors="replace").read()
        except OSError:
            report[op] = {"statements": [], "bounded": None, "error": "no log"}
            continue
        statements = [examine(d, e) for d, e in entries(text)]
        # The pool's liveness checks and the like are not the request's statements.
        statements = [s for s in statements if s["statement"] and s["statement"] != "SELECT 1"]
        report[op] = {
            "statements": statements,
            "bounded": bool(statements) and not any(s["flags"] for s in statements),
        }
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
