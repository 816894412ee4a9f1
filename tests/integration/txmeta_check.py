"""Checks the transaction metadata in a file sink's JSON lines (schemas off). A test tool.

  txmeta_check.py FILE PREFIX
      Every change record between a BEGIN and an END on PREFIX.transaction carries a
      `transaction` block whose total_order counts 1, 2, ... and whose data_collection_order
      counts per "schema.table"; the END's event_count and data_collections hold those counts,
      listed in java.util.HashMap's order; the ids share the source's txId; BEGIN's ts_ms is
      the first change's source.ts_ms and END's the commit time. Snapshot rows have a null
      block and stand outside any pair; every other change is inside one. Tombstones and
      heartbeats are no event.
      Prints "# ..." per problem and exits 1 when there is any; otherwise prints
      "TRANSACTIONS EVENTS" (the counts checked).
"""
import json
import sys


def java_bucket_order(names):
    # HashMap iteration order for fewer than 13 keys (a 16-slot table): by bucket of
    # String.hashCode ^ (h >>> 16), then insertion order.
    def bucket(s):
        h = 0
        data = s.encode("utf-16-be")
        for i in range(0, len(data), 2):
            h = (31 * h + int.from_bytes(data[i:i + 2], "big")) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & 15
    assert len(names) < 13, "the check models a 16-slot table only"
    return sorted(names, key=lambda n: bucket(n))  # sorted() is stable


def main():
    path, prefix = sys.argv[1], sys.argv[2]
    tx_topic = prefix + ".transaction"
    problems = []
    open_tx = None
    ntx = nevents = 0
    for lineno, line in enumerate(open(path), 1):
        rec = json.loads(line)
        topic, key, value = rec["topic"], rec["key"], rec["value"]

        def bad(msg):
            problems.append("line %d: %s" % (lineno, msg))

        if topic == tx_topic:
            if key != {"id": value["id"]}:
                bad("key %r does not name the id %r" % (key, value["id"]))
            if value["status"] == "BEGIN":
                if open_tx is not None:
                    bad("BEGIN inside transaction %s" % open_tx["id"])
                if value["event_count"] is not None or value["data_collections"] is not None:
                    bad("BEGIN with counts: %r" % value)
                open_tx = {"id": value["id"], "ts_ms": value["ts_ms"], "total": 0,
                           "per": {}, "txid": None, "first": True}
            elif value["status"] == "END":
                if open_tx is None:
                    bad("END outside a transaction")
                    continue
                if open_tx["total"] == 0:
                    bad("END of a transaction without changes")
                if value["event_count"] != open_tx["total"]:
                    bad("event_count %r, counted %d" % (value["event_count"], open_tx["total"]))
                want = [{"data_collection": n, "event_count": open_tx["per"][n]}
                        for n in java_bucket_order(list(open_tx["per"]))]
                if value["data_collections"] != want:
                    bad("data_collections %r, want %r" % (value["data_collections"], want))
                if not value["id"].startswith("%s:" % open_tx["txid"]):
                    bad("END id %r is not of txId %s" % (value["id"], open_tx["txid"]))
                if value["ts_ms"] != open_tx["commit_ms"]:
                    bad("END ts_ms %r, commit time %r" % (value["ts_ms"], open_tx["commit_ms"]))
                ntx += 1
                open_tx = None
            else:
                bad("status %r" % value["status"])
            continue
        if value is None or "op" not in value:
            continue  # a tombstone or a heartbeat
        block = value.get("transaction")
        if value["op"] == "r":
            if block is not None or open_tx is not None:
                bad("snapshot row with block %r or inside a transaction" % (block,))
            continue
        if open_tx is None:
            bad("change (op %s) outside a BEGIN/END pair" % value["op"])
            continue
        source = value["source"]
        name = "%s.%s" % (source["schema"], source["table"])
        open_tx["total"] += 1
        open_tx["per"][name] = open_tx["per"].get(name, 0) + 1
        nevents += 1
        want = {"total_order": open_tx["total"], "data_collection_order": open_tx["per"][name]}
        if block is None or {k: block[k] for k in want} != want:
            bad("block %r, want %r" % (block, want))
            continue
        if open_tx["first"]:
            open_tx["first"] = False
            open_tx["txid"] = source["txId"]
            if open_tx["ts_ms"] != source["ts_ms"]:
                bad("BEGIN ts_ms %r, first change's %r" % (open_tx["ts_ms"], source["ts_ms"]))
            if not open_tx["id"].startswith("%s:" % source["txId"]):
                bad("BEGIN id %r is not of txId %s" % (open_tx["id"], source["txId"]))
        elif source["txId"] != open_tx["txid"]:
            bad("txId %s inside transaction of txId %s" % (source["txId"], open_tx["txid"]))
        if not block["id"].startswith("%s:" % source["txId"]):
            bad("block id %r is not of txId %s" % (block["id"], source["txId"]))
        open_tx["commit_ms"] = source["ts_ms"]
    if open_tx is not None:
        problems.append("transaction %s has no END" % open_tx["id"])
    for p in problems[:20]:
        print("# " + p)
    if problems:
        return 1
    print(ntx, nevents)
    return 0


if __name__ == "__main__":
    sys.exit(main())
