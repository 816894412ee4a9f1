#!/usr/bin/env python3
"""A writer at a fixed rate, for the streaming benchmarks: prints SQL statements on stdout
(piped into a database client), each inserting BATCH rows, paced so that ROWS rows per second
go out for SECONDS seconds. Every row carries its commit wall time in microseconds (the
statement's own clock, so a backlogged server shows as lag, not as early timestamps).

  paced_sql.py mariadb|postgres TABLE RATE SECONDS BATCH [FIRST_ID]

The table has columns (id, committed_us, kind, amount, note). At the end it prints
"written ROWS rows in S s" on stderr."""
import sys
import time

NOW_US = {
    "mariadb": "CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)",
    "postgres": "(extract(epoch from clock_timestamp()) * 1000000)::bigint",
}


def statement(flavour, table, first, last):
    if flavour == "mariadb":
        ids, g = f"seq_{first}_to_{last}", "seq"
    else:
        ids, g = f"generate_series({first}, {last}) g", "g"
    return (f"INSERT INTO {table} SELECT {g}, {NOW_US[flavour]}, "
            f"CASE {g} % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' ELSE 'done' END, "
            f"{g} % 100000 / 100, CONCAT('order note ', {g}) FROM {ids};\n")


def main():
    flavour, table = sys.argv[1], sys.argv[2]
    rate, seconds, batch = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    next_id = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    total = int(rate * seconds)
    out = sys.stdout
    start = time.monotonic()
    written = 0
    while written < total:
        # The batch that keeps the rate: sent when its time has come.
        due = start + written / rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        n = min(batch, total - written)
        out.write(statement(flavour, table, next_id, next_id + n - 1))
        out.flush()
        next_id += n
        written += n
    elapsed = time.monotonic() - start
    print(f"written {written} rows in {elapsed:.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
