#!/usr/bin/env bash
# Every PostgreSQL type the reader decodes, through the snapshot and the stream (insert, update,
# delete), compared with what the server itself prints for the same row.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
start_postgres || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots

psql_q "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE ty (id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
  n numeric(10,3), nu numeric, c char(3), vc varchar(20), t text, by bytea, d date, tm time,
  ttz timetz, ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb, x xml,
  ip inet, cid cidr, mac macaddr, bt bit(4), vb varbit(12), m money, e mood, dom posint,
  ai int4[], at text[], ad date[]);"
ROW1="(1, true, -32768, 2147483647, -9223372036854775808, 1.5, 'NaN', 12.345, '-0.000000001',
 'ab', 'héllo', E'line\\nnext\\ttab', '\\x00ff10', '2024-02-29', '23:59:59.999999', '10:15:30.5+02',
 '2024-01-02 03:04:05.678901', '2024-01-02 03:04:05.678901+05:30', '1 year 2 months 3 days 04:05:06.789',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}', '{\"b\": null, \"a\": 1}', '<r>x</r>',
 '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'101', 1234.56, 'happy', 7,
 '{1,NULL,3}', '{\"a b\",\"c\\\"d\",NULL}', '{2024-01-01,1999-12-31}')"
psql_q "INSERT INTO ty VALUES $ROW1; INSERT INTO ty (id) VALUES (2);"
pg_config_file "$W/c.json" decimal.handling.mode=string binary.handling.mode=hex
start_dbtail dbtail1 run -c "$W/c.json"
wait_for 30 grep -q "streaming from slot" "$TMP_ROOT/dbtail1.log" || cat "$TMP_ROOT/dbtail1.log"
psql_q "INSERT INTO ty SELECT 3, b, i2, i4, i8, '-Infinity', 2.5e-300, n, '123456789012345678901234567890.5',
  c, vc, t, by, '0044-03-15 BC', tm, '00:30:00-01', '294000-12-31 23:59:59', 'infinity', '-1 day -02:00:00', u, j, jb, x,
  ip, cid, mac, B'0001', B'100000000', -0.5, 'sad', 3, '{}', at, ad FROM ty WHERE id = 1;
  UPDATE ty SET vc = 'changed', iv = '5 minutes' WHERE id = 3; DELETE FROM ty WHERE id = 3;"
wait_for 30 sh -c "grep -q '\"op\":\"d\"' '$W/out.jsonl'"
stop_dbtail

# The server's own text of each row (snapshot rows 1-2, streamed row 3 as inserted).
psql_q "SELECT row_to_json(r) FROM (SELECT id, b, i2, i4, i8, f4::text, f8::text, n::text, nu::text, c, vc, t,
  encode(by, 'hex') AS by, (d - '1970-01-01'::date) AS d,
  (extract(epoch FROM tm) * 1000000)::bigint AS tm, ttz::text, (extract(epoch FROM ts) * 1000000)::bigint AS ts,
  tstz, iv::text, u, j::text, jb::text, x::text, ip::text, cid::text, mac::text, bt::text, vb::text,
  (m::numeric)::text AS m, e::text, dom, ai, at, ad FROM ty WHERE id <= 2 ORDER BY id) r" >"$W/server.json"
BC_DAYS=$(psql_q "SELECT '0044-03-15 BC'::date - '1970-01-01'::date")
python3 - "$W/out.jsonl" "$W/server.json" "$BC_DAYS" <<'PY'
import base64, datetime, json, math, sys
events = [json.loads(l) for l in open(sys.argv[1])]
server = {r["id"]: r for r in map(json.loads, open(sys.argv[2]))}
def ok(name, cond, detail=""):
    print(("ok" if cond else "not ok") + " - test_pg_types: " + name)
    if not cond:
        print("#   " + str(detail)[:400])
def row(op, id_, field="after"):
    for e in events:
        v = e["value"]
        if v and v["op"] == op and (v[field] or {}).get("id") == id_:
            return v[field]
snap = row("r", 1)
nulls = row("r", 2)
s = server[1]
ok("snapshot row read", snap is not None)
ok("null row: every column null", nulls is not None and all(v is None for k, v in nulls.items() if k != "id"), nulls)
if snap:
    def same(col, got, want):
        ok("snapshot %s: %r" % (col, want), got == want, "got %r want %r" % (got, want))
    same("b", snap["b"], s["b"])
    for c in ("i2", "i4", "i8", "dom", "d", "tm"):
        same(c, snap[c], s[c])
    same("f4", snap["f4"], float(s["f4"]))
    same("f8 NaN", str(snap["f8"]), "NaN")
    same("n", snap["n"], s["n"]); same("nu", snap["nu"], s["nu"])
    for c in ("c", "vc", "t", "u", "e"):
        same(c, snap[c], s[c])
    same("by", snap["by"], s["by"])
    same("ts", snap["ts"], s["ts"])
    same("tstz", snap["tstz"], s["tstz"].replace("+00:00", "Z"))
    same("ttz", snap["ttz"], "08:15:30.5Z")
    same("j", snap["j"], s["j"]); same("jb", snap["jb"], s["jb"]); same("x", snap["x"], s["x"])
    for c in ("ip", "cid", "mac"):
        same(c, snap[c], s[c])
    same("m", snap["m"], s["m"])
    same("ai", snap["ai"], s["ai"]); same("at", snap["at"], s["at"])
    same("ad", snap["ad"], [(datetime.date.fromisoformat(x) - datetime.date(1970, 1, 1)).days for x in s["ad"]])
    # interval as Debezium's MicroDuration: months of 30.4375 days
    same("iv", snap["iv"], int(((14 * 30.4375 + 3) * 86400 + 4 * 3600 + 5 * 60 + 6.789) * 1000000))
ins = row("c", 3)
upd = row("u", 3)
dele = row("d", 3, "before")
ok("stream insert, update, delete of the typed row", ins is not None and upd is not None and dele is not None)
if ins:
    ok("stream: -Infinity float4", str(ins["f4"]) == "-Infinity", ins["f4"])
    ok("stream: 2.5e-300", ins["f8"] == 2.5e-300, ins["f8"])
    ok("stream: large numeric exact", ins["nu"] == "123456789012345678901234567890.5", ins["nu"])
    ok("stream: BC date", ins["d"] == int(sys.argv[3]), (ins["d"], sys.argv[3]))
    ok("stream: timetz to UTC", ins["ttz"] == "01:30:00Z", ins["ttz"])
    ok("stream: negative money", ins["m"] == "-0.50", ins["m"])
    ok("stream: enum", ins["e"] == "sad", ins["e"])
    ok("stream: empty array", ins["ai"] == [], ins["ai"])
    ok("stream: same text values as the snapshot", snap and all(ins[c] == snap[c] for c in ("c", "vc", "t", "by", "u", "j", "jb", "x", "ip", "mac", "at", "ad")))
if upd:
    ok("stream update: changed values", upd["vc"] == "changed" and upd["iv"] == 300000000, upd)
PY

# A snapshot reads a table whose every column has a binary decoder in COPY's binary format, any
# other in text: the same values must come out of both. tb has only such columns; tt the same
# ones and an xml column, which makes it text. Their rows are the edge cases of each type.
psql_q "CREATE TABLE tb (id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f8 float8,
  n numeric(10,3), nu numeric, c char(3), vc varchar(20), t text, nm name, by bytea, d date,
  ts timestamp, tstz timestamptz, u uuid, j json, jb jsonb, e mood, dom posint);
CREATE TABLE tt (LIKE tb INCLUDING ALL, x xml);
INSERT INTO tb VALUES
 (1, true, -32768, -2147483648, -9223372036854775808, 'NaN', 0, 0, 'a', '', '', 'n', '', 'infinity',
  'infinity', 'infinity', '00000000-0000-0000-0000-000000000000', '{}', '{}', 'sad', 1),
 (2, false, 32767, 2147483647, 9223372036854775807, 'Infinity', -9999999.999, 'NaN', 'abc', 'héllo', E'a\\tb\\nc\\\\d\\re',
  'x y', '\\x00ff5c0a09', '-infinity', '-infinity', '-infinity', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{\"a\": [1, 2.50]}', '{\"b\": null, \"a\": 1}', 'happy', 2147483647),
 (3, NULL, 0, 0, 0, '-Infinity', 0.001, '-0.000000000000000000001', NULL, NULL, NULL, NULL, NULL,
  '0044-03-15 BC', '4713-01-01 00:00:00 BC', '0001-01-01 00:00:00+00 BC', NULL, NULL, NULL, NULL, NULL),
 (4, true, 1, 1, 1, '-0', 1, '123456789012345678901234567890.5', ' z', 'ünï', repeat('long ', 500), '',
  '\\x', '5874897-12-31', '294000-12-31 23:59:59.999999', '1999-12-31 23:59:59.999999+00',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', '[]', '[1, \"x\", {\"k\": [true, null]}]', 'ok', 3),
 (5, false, -1, -1, -1, 2.5e-300, 10000, 'Infinity', NULL, 'x', 'y', 'z', '\\x01', '2000-01-01',
  '2000-01-01 00:00:00', '1970-01-01 00:00:00.000001+00', NULL, 'null', '\"s\"', NULL, 4),
 (6, NULL, NULL, NULL, NULL, 1.7976931348623157e308, 9999.9, '-Infinity', NULL, NULL, NULL, NULL, NULL,
  '1999-12-31', '1999-12-31 23:59:59.999999', '2000-01-01 00:00:00+00', NULL, NULL, NULL, NULL, NULL),
 (7, NULL, NULL, NULL, NULL, 5e-324, 100000.001, 100000000, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL),
 (8, NULL, NULL, NULL, NULL, -1.5, -0.5, 0.00, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL),
 (9, NULL, NULL, NULL, NULL, NULL, NULL, '1e-30', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL),
 (10, NULL, NULL, NULL, NULL, NULL, NULL, '10000.0001', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL);
INSERT INTO tb SELECT g, g % 2 = 0, g % 30000, g * 7919, g::bigint * 1000003, g / 7.0, g / 1000.0, g * 1.0001,
  'x', 'v' || g, 't' || g, 'n' || g, int4send(g), '2024-01-01'::date + g, '2024-01-01'::timestamp + g * interval '1 ms',
  '2024-01-01'::timestamptz + g * interval '1 s', md5(g::text)::uuid, json_build_object('g', g),
  jsonb_build_object('g', g), (ARRAY['sad','ok','happy'])[g % 3 + 1]::mood, g
  FROM generate_series(11, 2600) g;
INSERT INTO tt SELECT *, '<x/>' FROM tb;"
rm -f "$W/out.jsonl" "$W/offsets.json"
drop_slots
# fetch size 1000: chunks end inside the table, so the keys the next chunk starts after are
# read from binary rows too
pg_config_file "$W/c2.json" snapshot.mode=initial_only table.include.list=public.tb,public.tt \
    log.level=debug snapshot.fetch.size=1000 decimal.handling.mode=string binary.handling.mode=hex \
    slot.name=formats publication.name=formats
"$DBTAIL" snapshot -c "$W/c2.json" 2>"$TMP_ROOT/formats.log"
check "snapshot of tb and tt" test $? -eq 0
check "tb read in COPY's binary format" grep -q "reading public.tb in COPY's binary format" "$TMP_ROOT/formats.log"
check "tt read in COPY's text format" grep -q "reading public.tt in COPY's text format" "$TMP_ROOT/formats.log"
python3 - "$W/out.jsonl" <<'PY'
import json, sys
rows = {"tb": {}, "tt": {}}
for line in open(sys.argv[1]):
    r = json.loads(line)
    v = r["value"]
    if v and v["op"] == "r":
        a = dict(v["after"])
        a.pop("x", None)
        rows[v["source"]["table"]][a["id"]] = a
def ok(name, cond, detail=""):
    print(("ok" if cond else "not ok") + " - test_pg_types: " + name)
    if not cond:
        print("#   " + str(detail)[:600])
ok("binary and text snapshots: 2600 rows each", len(rows["tb"]) == 2600 and len(rows["tt"]) == 2600,
   (len(rows["tb"]), len(rows["tt"])))
diff = [(i, rows["tb"].get(i), rows["tt"].get(i)) for i in sorted(rows["tt"]) if rows["tb"].get(i) != rows["tt"][i]]
ok("binary and text snapshots: the same values, edge cases included", not diff, diff[:2])
ok("binary snapshot: the edge rows as the server prints them",
   rows["tb"].get(3, {}).get("nu") == "-0.000000000000000000001" and rows["tb"].get(2, {}).get("t") == "a\tb\nc\\d\re"
   and rows["tb"].get(4, {}).get("nu") == "123456789012345678901234567890.5" and rows["tb"].get(9, {}).get("nu") == "0.000000000000000000000000000001"
   and rows["tb"].get(1, {}).get("i8") == -9223372036854775808, [rows["tb"].get(i) for i in (1, 2, 3, 4, 9)])
PY
