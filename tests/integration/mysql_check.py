#!/usr/bin/env python3
"""Checks on the JSON lines dbtail's file sink (and `dbtail decode`) write, for the MySQL tests.

  mysql_check.py final STREAM SNAPSHOT TOPIC
      The rows the change events of TOPIC in STREAM leave (applied in order) equal the rows a
      later snapshot read (op "r" in SNAPSHOT): binlog decoding agrees with the server's SELECT.
  mysql_check.py same A B TOPIC [--positional]
      The records of TOPIC in A and B are the same, in the same order (--positional: compare
      the row values by position, for binlogs without column names).
  mysql_check.py state FILE TOPIC TSV
      Replaying FILE's records of TOPIC (snapshot and changes) gives exactly the rows of TSV
      (`mariadb --batch` output of SELECT id, ... ORDER BY id), and no change is there twice.
  mysql_check.py get FILE TOPIC ID FIELD
      Prints the JSON of FIELD of the last row image of key ID (for spot checks).
Prints one "ok - ..." or "not ok - ..." line per check; exit status 1 on a failure.
"""
import json
import sys

failures = 0


def report(ok, what, detail=""):
    global failures
    print(("ok - " if ok else "not ok - ") + what)
    if not ok:
        failures += 1
        if detail:
            for line in detail.splitlines()[:20]:
                print("#   " + line)


def records(path, topic):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if r["topic"] == topic:
                out.append(r)
    return out


def key_of(rec):
    k = rec["key"]
    return json.dumps(k, sort_keys=True)


def apply(rows, rec):
    v = rec["value"]
    if v is None:  # tombstone
        return
    op = v["op"]
    if op in ("c", "r", "u"):
        rows[key_of(rec)] = v["after"]
    elif op == "d":
        rows.pop(key_of(rec), None)


def cmd_final(stream, snapshot, topic):
    rows = {}
    for r in records(stream, topic):
        if r["value"] is not None and r["value"]["op"] != "r":
            apply(rows, r)
    snap = {}
    for r in records(snapshot, topic):
        if r["value"] is not None and r["value"]["op"] == "r":
            snap[key_of(r)] = r["value"]["after"]
    report(len(rows) > 0, "%s: the stream has rows (%d)" % (topic, len(rows)))
    report(set(rows) == set(snap), "%s: stream and snapshot have the same keys" % topic,
           "stream: %s\nsnapshot: %s" % (sorted(rows), sorted(snap)))
    for k in sorted(set(rows) & set(snap)):
        diff = [c for c in snap[k] if rows[k].get(c, "<absent>") != snap[k][c]]
        report(not diff, "%s: row %s decoded from the binlog equals the server's SELECT" % (topic, k),
               "\n".join("%s: binlog %s, select %s" % (c, json.dumps(rows[k].get(c, "<absent>")),
                                                     json.dumps(snap[k][c])) for c in diff))


def values(v, positional):
    if v is None or not positional:
        return v
    return list(v.values())


def cmd_same(a, b, topic, positional):
    ra, rb = records(a, topic), records(b, topic)
    if positional:
        # Without a key there is no tombstone.
        ra = [r for r in ra if r["value"] is not None]
        rb = [r for r in rb if r["value"] is not None]
    report(len(ra) == len(rb) and len(ra) > 0,
           "%s: %d and %d records" % (topic, len(ra), len(rb)))
    bad = []
    for i, (x, y) in enumerate(zip(ra, rb)):
        vx, vy = x["value"], y["value"]
        if vx is None or vy is None:
            same = vx == vy
        else:
            same = (vx["op"] == vy["op"] and
                    values(vx.get("before"), positional) == values(vy.get("before"), positional) and
                    values(vx.get("after"), positional) == values(vy.get("after"), positional) and
                    all(vx["source"].get(f) == vy["source"].get(f)
                        for f in ("file", "pos", "row", "gtid", "server_id", "ts_ms")))
            if not positional:
                same = same and x == y
        if not same:
            bad.append("record %d:\n  %s\n  %s" % (i, json.dumps(x), json.dumps(y)))
    report(not bad, "%s: the same records in both" % topic, "\n".join(bad[:3]))


def cmd_state(path, topic, tsv):
    rows = {}
    seen = set()
    dups = []
    for r in records(path, topic):
        v = r["value"]
        if v is None:
            continue
        if v["op"] == "r":
            ident = ("r", key_of(r))
        else:
            s = v["source"]
            ident = (v["op"], s["file"], s["pos"], s["row"], key_of(r))
        if ident in seen:
            dups.append(str(ident))
        seen.add(ident)
        apply(rows, r)
    report(not dups, "%s: no event twice (%d events)" % (topic, len(seen)), "\n".join(dups[:10]))
    want = {}
    with open(tsv, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts == [""]:
                continue
            want[parts[0]] = parts[1:]
    got = {}
    for k, after in rows.items():
        ident = str(list(json.loads(k).values())[0])
        got[ident] = [("NULL" if x is None else str(x)) for i, x in enumerate(after.values()) if i > 0]
    missing = sorted(set(want) - set(got), key=int)
    extra = sorted(set(got) - set(want), key=int)
    differ = sorted([k for k in set(want) & set(got) if want[k] != got[k]], key=int)
    report(not missing and not extra and not differ,
           "%s: the replayed rows equal the table (%d rows)" % (topic, len(want)),
           "missing %s\nextra %s\ndiffer %s" % (missing[:10], extra[:10],
                                                  [(k, want[k], got[k]) for k in differ[:5]]))


def cmd_get(path, topic, ident, field):
    last = None
    for r in records(path, topic):
        v = r["value"]
        if v is None or str(list(r["key"].values())[0]) != ident:
            continue
        last = v["after"] if v["after"] is not None else v["before"]
    print(json.dumps(None if last is None else last.get(field, "<absent>")))


def main(argv):
    if len(argv) >= 4 and argv[0] == "final":
        cmd_final(argv[1], argv[2], argv[3])
    elif len(argv) >= 4 and argv[0] == "same":
        cmd_same(argv[1], argv[2], argv[3], "--positional" in argv[4:])
    elif len(argv) == 4 and argv[0] == "state":
        cmd_state(argv[1], argv[2], argv[3])
    elif len(argv) == 5 and argv[0] == "get":
        cmd_get(argv[1], argv[2], argv[3], argv[4])
        return 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
