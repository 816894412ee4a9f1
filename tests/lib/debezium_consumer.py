"""A consumer as a Debezium user writes one for records flattened by ExtractNewRecordState
(Debezium's "New Record State Extraction" docs): it subscribes in a consumer group, reads JSON
values with or without the JsonConverter's {"schema","payload"} wrapper, and keeps a copy of
the table, deleting a row on a tombstone or when "__deleted" is "true". Nothing in it knows
about dbtail. Run with Debian's /usr/bin/python3 (python3-confluent-kafka).

  debezium_consumer.py BOOTSTRAP TOPIC COLUMN,COLUMN... [IDLE_SECONDS]

Prints the copy as tab-separated rows (NULL for null) ordered by key, once no message came for
IDLE_SECONDS (default 3) after the first one.
"""
import json
import sys
import time

from confluent_kafka import Consumer


def payload(raw):
    doc = json.loads(raw)
    if isinstance(doc, dict) and set(doc) == {"schema", "payload"}:
        return doc["payload"]
    return doc


def main():
    bootstrap, topic, columns = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    idle = float(sys.argv[4]) if len(sys.argv) > 4 else 3.0
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "debezium-consumer-%d" % time.time_ns(),
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
    })
    consumer.subscribe([topic])
    table = {}
    last = None
    deadline = time.time() + 60
    while time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            if last is not None and time.time() - last > idle:
                break
            continue
        if msg.error():
            raise SystemExit("consumer error: %s" % msg.error())
        last = time.time()
        key = json.dumps(payload(msg.key()), sort_keys=True)
        if msg.value() is None:
            table.pop(key, None)
            continue
        row = payload(msg.value())
        if row is None or row.get("__deleted") == "true":
            table.pop(key, None)
        else:
            table[key] = row
    consumer.close()
    for key in sorted(table, key=lambda k: [json.loads(k)[c] for c in sorted(json.loads(k))]):
        row = table[key]
        print("\t".join("NULL" if row.get(c) is None else str(row[c]) for c in columns))


if __name__ == "__main__":
    main()
