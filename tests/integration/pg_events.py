#!/usr/bin/env python3
"""Helpers for the PostgreSQL integration tests: read the file sink's JSON lines (schemas off).
  pg_events.py dump FILE                 one compact line per record
  pg_events.py replay FILE TOPIC KEYCOL COLS  replays the records into {key: row} and prints
                                         the rows sorted by key as "key|value|..." lines of the
                                         comma-separated COLS
  pg_events.py count FILE TOPIC KEYCOL   prints duplicates: keys created/read more than once
                                         without a delete in between"""
import json
import sys


def records(path):
    with open(path) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def payload(rec):
    v = rec.get("value")
    if isinstance(v, dict) and "payload" in v and "schema" in v:
        v = v["payload"]
    return v


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "dump":
        for r in records(path):
            v = payload(r)
            if v is None:
                print("tombstone", json.dumps(r.get("key")))
                continue
            src = v.get("source", {})
            print(v.get("op"), json.dumps(r.get("key")), json.dumps(v.get("before")),
                  json.dumps(v.get("after")), src.get("snapshot"), src.get("lsn"), src.get("txId"))
        return
    topic, keycol = sys.argv[3], sys.argv[4]
    rows, seen, dups = {}, {}, 0
    for r in records(path):
        if r.get("topic") != topic:
            continue
        v = payload(r)
        if v is None:
            continue
        op = v["op"]
        if op == "t":
            rows.clear()
            seen.clear()
            continue
        row = v["after"] if op in ("c", "r", "u") else v["before"]
        k = row[keycol]
        if op == "d":
            rows.pop(k, None)
            seen.pop(k, None)
        elif op in ("c", "r"):
            if k in seen:
                dups += 1
                print("duplicate", op, k, file=sys.stderr)
            seen[k] = True
            rows[k] = row
        else:
            if k not in rows:
                print("update of missing row", k, file=sys.stderr)
            rows[k] = row
    if cmd == "count":
        print(dups)
        return
    cols = sys.argv[5].split(",")
    for k in sorted(rows):
        print("|".join([str(k)] + [fmt(rows[k][c]) for c in cols]))


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


main()
