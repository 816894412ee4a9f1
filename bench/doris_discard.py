#!/usr/bin/env python3
"""A Doris that accepts everything and keeps nothing, for the Doris benchmarks: the FE's 307 to
a BE path, the BE's Stream Load "Success" reply after reading the body, and enough of the FE's
SQL endpoint for dbtail's sink (CREATE/ALTER acknowledged, SHOW CREATE TABLE and DESC answered
from the CREATE TABLE it was sent, SHOW DATABASES). Bodies are counted, not parsed: rows are
lines. Per load it notes when the body had fully arrived; with --latency-column NAME it also
reads that column's value (a commit time in microseconds since the epoch) from every row and
keeps the row's commit-to-loaded latency.

  doris_discard.py --port 0 --ready-file FILE [--save FILE] [--latency-column NAME]

FILE gets two lines once it listens: its host:port and its process id.

--save appends every body to FILE (to replay the same bytes with curl). GET /_stats answers
{"loads", "rows", "bytes", "first_start", "last_end", "busy", "tables": {"db.table": rows},
"latency_ms": {"n", "p50", "p99", "max"}} (times in seconds since the epoch); POST /_reset
clears them, and its body {"latency_column": NAME} (or {}) sets or unsets --latency-column."""
import argparse
import json
import os
import queue
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {}
LATENCIES = []
TABLES = {}  # "db.table" -> CREATE TABLE text
DATABASES = set()
OPTS = None
SAVE = None


def reset():
    with LOCK:
        STATS.update(loads=0, rows=0, bytes=0, first_start=None, last_end=None, busy=0.0,
                     tables={})
        LATENCIES.clear()


def unquote(name):
    return name.strip().strip("`")


def split_top(text):
    """Splits a column list at the commas outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def columns_of(ddl):
    start = ddl.index("(") + 1
    end = ddl.index(") ENGINE")
    cols = []
    for part in split_top(ddl[start:end]):
        m = re.match(r"\s*`((?:[^`]|``)+)`\s+(\S+)", part)
        if m:
            cols.append((m.group(1).replace("``", "`"), m.group(2)))
    return cols


TABLE_NAME = r"((?:`(?:[^`]|``)+`|\w+)(?:\.(?:`(?:[^`]|``)+`|\w+))?)"


def qualified(db, name):
    parts = re.findall(r"`((?:[^`]|``)+)`|(\w+)", name)
    names = [a or b for a, b in parts]
    return ".".join(names) if len(names) == 2 else db + "." + names[0]


def run_sql(db, stmt):
    """(kind, meta, rows) for a statement; kind "exec" or "result_set"."""
    s = stmt.strip().rstrip(";")
    m = re.match(r"(?is)CREATE\s+DATABASE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\S+)", s)
    if m:
        DATABASES.add(unquote(m.group(1)))
        return "exec", None, None
    m = re.match(r"(?is)CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?" + TABLE_NAME, s)
    if m:
        TABLES.setdefault(qualified(db, m.group(1)), s)
        return "exec", None, None
    m = re.match(r"(?is)SHOW\s+CREATE\s+TABLE\s+" + TABLE_NAME, s)
    if m:
        name = qualified(db, m.group(1))
        if name not in TABLES:
            raise KeyError("Unknown table '%s'" % name)
        return "result_set", [("Table", "CHAR"), ("Create Table", "CHAR")], [
            [name.split(".", 1)[1], TABLES[name]]]
    m = re.match(r"(?is)(?:DESC|DESCRIBE)\s+" + TABLE_NAME, s)
    if m:
        name = qualified(db, m.group(1))
        if name not in TABLES:
            raise KeyError("Unknown table '%s'" % name)
        rows = [[c, t, "YES", "false", None, "NONE"] for c, t in columns_of(TABLES[name])]
        meta = [(n, "CHAR") for n in ("Field", "Type", "Null", "Key", "Default", "Extra")]
        return "result_set", meta, rows
    if re.match(r"(?is)SHOW\s+DATABASES", s):
        return "result_set", [("Database", "CHAR")], [[d] for d in sorted(DATABASES)]
    # ALTER TABLE and anything else: acknowledged, nothing kept.
    return "exec", None, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def handle_expect_100(self):
        # The FE answers 307 before the body, as Doris does; only the BE asks for it.
        if self.path.startswith("/be/"):
            return super().handle_expect_100()
        return True

    def reply(self, code, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body_chunks(self):
        """The body in chunks (buffer, length) read into one buffer that is reused: this
        machine's page faults would cost more than the reading if each body got fresh memory."""
        buf = self.server.buffers.get()
        try:
            view = memoryview(buf)
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return
                    while size > 0:
                        n = self.rfile.readinto(view[:min(size, len(buf))])
                        if not n:
                            raise ConnectionError("the body ended early")
                        size -= n
                        yield buf, n
                    self.rfile.readline()
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                n = self.rfile.readinto(view[:min(left, len(buf))])
                if not n:
                    raise ConnectionError("the body ended early")
                left -= n
                yield buf, n
        finally:
            self.server.buffers.put(buf)

    def read_body(self):
        return b"".join(bytes(buf[:n]) for buf, n in self.body_chunks())

    def do_PUT(self):
        if not self.path.startswith("/be/"):
            # FE: to the BE. An announced body is not sent; a body sent anyway is read first,
            # so that closing the connection cannot reset it under the reply.
            if "100-continue" not in self.headers.get("Expect", "").lower():
                for _ in self.body_chunks():
                    pass
            host = self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_port
            self.close_connection = True
            return self.reply(307, "", [("Location", "http://%s/be%s" % (host, self.path)),
                                        ("Connection", "close")])
        start = time.time()
        rows = size = 0
        last = b"\n"
        committed = []
        column = re.compile(rb'"' + OPTS.latency_column.encode() + rb'":(\d+)') \
            if OPTS.latency_column else None
        table = ".".join(self.path.split("?")[0].split("/")[3:5])
        carry = b""
        for buf, n in self.body_chunks():
            rows += buf.count(b"\n", 0, n)
            size += n
            last = buf[n - 1:n]
            if column:
                # A line cut by the chunk's end is searched whole with the next chunk.
                first = buf.find(b"\n", 0, n)
                if first < 0:
                    carry += bytes(buf[:n])
                    continue
                committed += column.findall(carry + bytes(buf[:first]))
                cut = buf.rfind(b"\n", 0, n)
                committed += [m.group(1) for m in column.finditer(buf, first, cut)]
                carry = bytes(buf[cut + 1:n])
            if SAVE is not None:
                with LOCK:
                    SAVE.write(memoryview(buf)[:n])
        if column and carry:
            committed += column.findall(carry)
        if last != b"\n":
            rows += 1
            if SAVE is not None:
                with LOCK:
                    SAVE.write(b"\n")
        end = time.time()
        at_us = int(end * 1e6)
        with LOCK:
            STATS["loads"] += 1
            STATS["rows"] += rows
            STATS["tables"][table] = STATS["tables"].get(table, 0) + rows
            STATS["bytes"] += size
            if STATS["first_start"] is None:
                STATS["first_start"] = start
            STATS["last_end"] = end
            LATENCIES.extend((at_us - int(v)) / 1000.0 for v in committed)
            if SAVE is not None:
                SAVE.flush()
            txn = STATS["loads"]
            STATS["busy"] += time.time() - start
        label = self.headers.get("label", "")
        self.reply(200, json.dumps({
            "TxnId": txn, "Label": label, "Comment": "", "TwoPhaseCommit": "false",
            "Status": "Success", "Message": "OK", "NumberTotalRows": rows,
            "NumberLoadedRows": rows, "NumberFilteredRows": 0, "NumberUnselectedRows": 0,
            "LoadBytes": size, "LoadTimeMs": int((end - start) * 1000)}))

    def do_POST(self):
        body = self.read_body()
        if self.path == "/_reset":
            reset()
            OPTS.latency_column = json.loads(body or b"{}").get("latency_column")
            return self.reply(200, "{}")
        m = re.match(r"^/api/query/[^/]+/([^/?]+)", self.path)
        if not m:
            return self.reply(404, json.dumps({"msg": "not found", "code": 404}))
        try:
            stmt = json.loads(body or b"{}").get("stmt") or ""
            with LOCK:
                kind, meta, rows = run_sql(m.group(1), stmt)
        except (KeyError, ValueError) as e:
            return self.reply(200, json.dumps({"msg": "Error", "code": 1, "data": str(e)}))
        if kind == "exec":
            data = {"type": "exec_status", "status": {}, "time": 0}
        else:
            data = {"type": "result_set", "meta": [{"name": n, "type": t} for n, t in meta],
                    "data": rows, "time": 0}
        self.reply(200, json.dumps({"msg": "success", "code": 0, "data": data}))

    def do_GET(self):
        if self.path != "/_stats":
            return self.reply(404, json.dumps({"msg": "not found", "code": 404}))
        with LOCK:
            out = dict(STATS)
            lat = sorted(LATENCIES)
        pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None
        out["latency_ms"] = {"n": len(lat), "p50": pick(0.5), "p99": pick(0.99),
                             "max": round(lat[-1], 1) if lat else None}
        self.reply(200, json.dumps(out))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET

    def __init__(self, *args):
        super().__init__(*args)
        self.buffers = queue.LifoQueue()
        for _ in range(8):
            self.buffers.put(bytearray(1 << 20))


def main():
    global OPTS, SAVE
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--save")
    ap.add_argument("--latency-column")
    OPTS = ap.parse_args()
    if OPTS.save:
        SAVE = open(OPTS.save, "ab")
    reset()
    srv = Server(("127.0.0.1", OPTS.port), Handler)
    with open(OPTS.ready_file + ".tmp", "w") as f:
        f.write("127.0.0.1:%d\n%d\n" % (srv.server_port, os.getpid()))
    os.rename(OPTS.ready_file + ".tmp", OPTS.ready_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
