"""Reads Kafka topics back for the tests and compares them with the file sink's lines.

Run with Debian's /usr/bin/python3 (python3-confluent-kafka). A test tool, not part of dbtail.

  kafka_records.py dump BOOTSTRAP [--isolation LEVEL] [--exclude REGEX] [--wait-for N]
      Prints every message of every topic (but those matching --exclude and Kafka's internal
      "__" topics) as the file sink writes a record: {"topic":T,"key":K,"value":V}, K and V the
      message's bytes (null when absent). Per partition in offset order. --wait-for N polls
      until at least N messages are there (up to 60 s).
  kafka_records.py same WANT GOT [--at-least-once]
      Compares two such files. Exactly: the same records, and for every key the same sequence.
      At least once: GOT holds no record WANT lacks, and for every key WANT's sequence is a
      subsequence of GOT's (replays after a crash repeat a tail, never skip or reorder).
      Prints one "#" line per difference; exit status 1 when there is any.
"""
import argparse
import collections
import json
import re
import sys
import time

from confluent_kafka import Consumer, TopicPartition, KafkaException


def record_line(topic, key, value):
    # The file sink writes the topic as a JSON string and the key and value verbatim.
    k = key.decode() if key is not None else "null"
    v = value.decode() if value is not None else "null"
    return '{"topic":%s,"key":%s,"value":%s}' % (json.dumps(topic, ensure_ascii=False), k, v)


def read_all(bootstrap, isolation, exclude):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "dbtail-test-dump",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "isolation.level": isolation,
        "auto.offset.reset": "earliest",
    })
    try:
        md = consumer.list_topics(timeout=10)
        parts = []
        for name, t in sorted(md.topics.items()):
            if name.startswith("__") or (exclude and re.search(exclude, name)):
                continue
            for p in sorted(t.partitions):
                parts.append(TopicPartition(name, p, 0))
        if not parts:
            return []
        consumer.assign(parts)
        pending = {(tp.topic, tp.partition) for tp in parts}
        got = collections.defaultdict(list)
        deadline = time.time() + 60
        while pending and time.time() < deadline:
            m = consumer.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    pending.discard((m.topic(), m.partition()))
                    continue
                raise KafkaException(m.error())
            got[(m.topic(), m.partition())].append(record_line(m.topic(), m.key(), m.value()))
        if pending:
            raise SystemExit("kafka_records: no end reached in %s" % sorted(pending))
        return [line for tp in sorted(got) for line in got[tp]]
    finally:
        consumer.close()


def dump(args):
    deadline = time.time() + 60
    while True:
        lines = read_all(args.bootstrap, args.isolation, args.exclude)
        if len(lines) >= args.wait_for or time.time() >= deadline:
            break
        time.sleep(0.5)
    for line in lines:
        print(line)


def by_key(lines):
    seqs = collections.defaultdict(list)
    for line in lines:
        r = json.loads(line)
        seqs[(r["topic"], json.dumps(r["key"], sort_keys=True))].append(line)
    return seqs


def is_subsequence(want, got):
    it = iter(got)
    return all(any(w == g for g in it) for w in want)


def same(args):
    want = [l.rstrip("\n") for l in open(args.want) if l.strip()]
    got = [l.rstrip("\n") for l in open(args.got) if l.strip()]
    w, g = by_key(want), by_key(got)
    problems = []
    if not args.at_least_once and len(want) != len(got):
        problems.append("%d records, want %d" % (len(got), len(want)))
    foreign = set(got) - set(want)
    for line in sorted(foreign)[:5]:
        problems.append("not in want: %s" % line[:200])
    for k in sorted(set(w) | set(g)):
        ws, gs = w.get(k, []), g.get(k, [])
        ok = is_subsequence(ws, gs) if args.at_least_once else ws == gs
        if not ok:
            problems.append("key %s %s: %d records in want, %d in got" %
                            (k[0], k[1][:120], len(ws), len(gs)))
    for p in problems[:20]:
        print("#   " + p)
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("bootstrap")
    d.add_argument("--isolation", default="read_uncommitted")
    d.add_argument("--exclude")
    d.add_argument("--wait-for", type=int, default=0)
    s = sub.add_parser("same")
    s.add_argument("want")
    s.add_argument("got")
    s.add_argument("--at-least-once", action="store_true")
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args)
        return 0
    return same(args)


if __name__ == "__main__":
    sys.exit(main())
