#!/usr/bin/env python3
"""Reads the demo's JSON-lines files ({"topic", "key", "value"} per line, schemas off).

    events.py rows FILE TOPIC...  rows the events leave for each TOPIC, replayed by key, one
                                  number a line
    events.py show FILE           a summary per topic, one change of each kind in full, the live
                                  changes one per line
"""
import json
import sys


def records(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            # The file sink may be half-way through a line.
            if not line.endswith("\n"):
                break
            if line.strip():
                yield json.loads(line)


def rows(path, topics):
    live = {t: set() for t in topics}
    for r in records(path):
        v = r["value"]
        if r["topic"] not in live or v is None:
            continue
        key = json.dumps(r["key"], sort_keys=True)
        if v["op"] == "d":
            live[r["topic"]].discard(key)
        else:
            live[r["topic"]].add(key)
    return [len(live[t]) for t in topics]


def one_line(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def show(path):
    ops = {}
    first = {}
    live = []
    for r in records(path):
        v = r["value"]
        op = "tombstone" if v is None else v["op"]
        ops.setdefault(r["topic"], {}).setdefault(op, 0)
        ops[r["topic"]][op] += 1
        first.setdefault(op, r)
        if v is not None and op != "r":
            live.append(r)
    for topic in sorted(ops):
        counts = ", ".join("%s %d" % (op, n) for op, n in sorted(ops[topic].items()))
        print("  %-36s %s" % (topic, counts))
    for op, label in (("r", "a snapshot read"), ("u", "a live update")):
        if op in first:
            print("\n  %s (op %s), in full:" % (label, op))
            text = json.dumps(first[op], indent=2, ensure_ascii=False)
            print("\n".join("    " + line for line in text.splitlines()))
    if live:
        print("\n  the live changes (op, topic, key, after or before):")
    for r in live[:12]:
        v = r["value"]
        row = v["after"] if v["after"] is not None else v["before"]
        print("    %s %s %s %s" % (v["op"], r["topic"], one_line(r["key"]), one_line(row)))
    if len(live) > 12:
        print("    ... and %d more" % (len(live) - 12))


def main(argv):
    if len(argv) >= 4 and argv[1] == "rows":
        for n in rows(argv[2], argv[3:]):
            print(n)
    elif len(argv) == 3 and argv[1] == "show":
        show(argv[2])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
