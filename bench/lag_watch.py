#!/usr/bin/env python3
"""Follows dbtail's file sink output and its state file while a paced writer (paced_sql.py)
runs, and measures per row the lag from its commit at MariaDB (the row's committed_us column)
to two moments:
  - output: its line appears in the file sink's file;
  - durable: the state file holds a position past the row's (the checkpoint that covers it).
It stops when ROWS lines have been read and are durable, or after TIMEOUT seconds, and prints
one line of key=value pairs (milliseconds): rows, output_p50, output_p99, output_max,
durable_p50, durable_p99, durable_max, first_commit_us, last_output_us.

  lag_watch.py OUTPUT_FILE STATE_FILE ROWS TIMEOUT"""
import json
import os
import re
import sys
import time
from collections import deque

ROW = re.compile(rb'"committed_us":(\d+).*?"file":"([^"]+)","pos":(\d+)')


def now_us():
    return time.time_ns() // 1000


def percentile(sorted_values, q):
    if not sorted_values:
        return -1
    i = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return sorted_values[i]


def state_position(path):
    try:
        with open(path) as f:
            p = json.load(f)["position"]
        return (p["file"], int(p["pos"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main():
    out_path, state_path = sys.argv[1], sys.argv[2]
    want, deadline = int(sys.argv[3]), time.monotonic() + float(sys.argv[4])
    output_lag, durable_lag = [], []
    pending = deque()  # (file, pos, committed_us) of rows read but not yet durable
    first_commit, last_output = None, None
    state_mtime = None
    rest = b""
    f = None
    while time.monotonic() < deadline:
        if f is None:
            try:
                f = open(out_path, "rb")
            except FileNotFoundError:
                time.sleep(0.01)
                continue
        chunk = f.read(1 << 22)
        if chunk:
            at = now_us()
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            for m in ROW.finditer(data, 0, cut):
                committed = int(m.group(1))
                if first_commit is None:
                    first_commit = committed
                output_lag.append(at - committed)
                pending.append((m.group(2).decode(), int(m.group(3)), committed))
            last_output = at
        try:
            mtime = os.stat(state_path).st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime is not None and mtime != state_mtime:
            pos = state_position(state_path)
            if pos is not None:
                state_mtime = mtime
                at = now_us()
                while pending and (pending[0][0], pending[0][1]) < pos:
                    durable_lag.append(at - pending.popleft()[2])
        if len(output_lag) >= want and not pending:
            break
        if not chunk:
            time.sleep(0.005)
    output_lag.sort()
    durable_lag.sort()
    ms = lambda v: f"{v / 1000:.0f}"
    print(" ".join([
        f"rows={len(output_lag)}", f"durable_rows={len(durable_lag)}",
        f"output_p50={ms(percentile(output_lag, 0.5))}",
        f"output_p99={ms(percentile(output_lag, 0.99))}",
        f"output_max={ms(output_lag[-1] if output_lag else -1)}",
        f"durable_p50={ms(percentile(durable_lag, 0.5))}",
        f"durable_p99={ms(percentile(durable_lag, 0.99))}",
        f"durable_max={ms(durable_lag[-1] if durable_lag else -1)}",
        f"first_commit_us={first_commit or 0}", f"last_output_us={last_output or 0}",
    ]))


if __name__ == "__main__":
    main()
