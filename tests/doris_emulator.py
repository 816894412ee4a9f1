#!/usr/bin/env python3
"""Apache Doris emulator for dbtail's integration tests (Python 3, standard library only).

It emulates the parts of Doris that a Stream Load client touches, with the
wire formats, messages and semantics of the Doris sources listed below, so
that dbtail can be tested without a Doris cluster.

Two HTTP servers, both bound to 127.0.0.1:

* FE port (Doris' http_port, 8030 by default), after
  fe/.../httpv2/rest/LoadAction.java, RestBaseController.java,
  StmtExecutionAction.java (+ util/StatementSubmitter.java,
  util/streamresponse/JsonStreamResponse.java), GetStreamLoadState.java,
  entity/ResponseEntityBuilder.java, ResponseBody.java, RestBaseResult.java,
  exception/RestApiExceptionHandler.java, controller/BaseController.java:
    PUT  /api/{db}/{table}/_stream_load      auth, Expect check, 307 to the BE
    PUT  /api/{db}/_stream_load_2pc          auth, header check, 307 to the BE
    PUT  /api/{db}/{table}/_stream_load_2pc  same
    POST /api/query/{ns}/{db}                SQL: {"stmt": "..."}
    GET  /api/{db}/get_load_state?label=L    label state
    GET  /api/{db}/{table}/_schema, /api/health, /api/backends
    /_emulator/...                           test-only admin endpoints (below)

* BE port (Doris' webserver_port, 8040 by default), after
  be/src/http/action/stream_load.cpp, stream_load_2pc.cpp,
  be/src/runtime/stream_load/stream_load_context.cpp (to_json),
  stream_load_executor.cpp, be/src/common/status.cpp (to_json / TStatus),
  be/src/runtime/runtime_state.cpp (error log lines),
  be/src/vec/sink/vtablet_block_convertor.cpp (value validation),
  be/src/vec/exec/format/json/new_json_reader.cpp (JSON reading):
    PUT /api/{db}/{table}/_stream_load       executes a stream load
    PUT /api/{db}[/{table}]/_stream_load_2pc commit / abort a pre-committed txn
    GET /api/_load_error_log?file=...        the filtered-rows log (ErrorURL)

The FE side of a load (begin/commit/abort txn, label bookkeeping, the load
plan checks) follows fe/.../service/FrontendServiceImpl.java,
transaction/DatabaseTransactionMgr.java, GlobalTransactionMgr.java,
common/LabelAlreadyUsedException.java, common/FeNameFormat.java and
planner/StreamLoadPlanner.java / NereidsStreamLoadPlanner.java.
Table semantics (merge-on-write upsert, delete sign, sequence column,
partial column update) follow the Doris manuals "Sequence column",
"Batch delete", "Partial column update", "Handling messy data" (strict mode)
and the storage code that implements them (rowset writer / partial_update_info).

Admin endpoints (FE port only, not part of Doris):
    POST   /_emulator/faults   {"mode": "http500"|"hang"|"drop"|"publish_timeout"
                                |"fail_after_commit", "count": N, "db": opt,
                                "table": opt, "at": "be"|"fe"|"2pc",
                                "hang_seconds": opt, "apply": opt bool,
                                "message": opt}  (an object or a list of them)
    GET    /_emulator/faults   pending faults;  DELETE clears them
    GET    /_emulator/state    databases, tables with rows, labels, transactions
    GET    /_emulator/loads    every stream load / 2PC call received
    POST   /_emulator/reset    forget everything (keeps information_schema)
    POST   /_emulator/config   {"txn_expire_seconds": .., "hang_seconds": ..}

Usage:
    python3 tests/doris_emulator.py --fe-port 0 --be-port 0 [--user root --password '']
        [--data-dir DIR] [--ready-file FILE] [--txn-expire-seconds S]
        [--hang-seconds S] [--timezone TZ] [--no-redirect-userinfo] [--verbose]
Port 0 picks a free port.  Once both ports listen, {"fe": "127.0.0.1:P",
"be": "127.0.0.1:P"} is printed and written (atomically) to --ready-file.
With --data-dir, tables, labels and transactions are kept in
DIR/doris_emulator_state.json and reloaded on start.  SIGTERM/SIGINT exit 0.

Where the emulator knowingly differs from Doris it says so in a comment
starting with "EMULATOR:".
"""

import argparse
import base64
import copy
import datetime
import decimal
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:  # named time zones for DATETIME values like "2024-01-01 10:00:00 Asia/Tokyo"
    import zoneinfo
except ImportError:  # pragma: no cover
    zoneinfo = None

# Decimal arithmetic must not lose digits of DECIMAL(38..76, s) values.
decimal.DefaultContext.prec = 100
decimal.setcontext(decimal.Context(prec=100))

DELETE_SIGN = "__DORIS_DELETE_SIGN__"
SEQ_COL = "__DORIS_SEQUENCE_COL__"
LABEL_REGEX = r"^[-_A-Za-z0-9:]{1,128}$"      # FeNameFormat.getLabelRegex()
MAX_ERROR_NUM = 50                             # RuntimeState::MAX_ERROR_NUM
MAX_STRING_LENGTH = 2147483643                 # ScalarType.MAX_STRING_LENGTH
DEFAULT_VARCHAR_LENGTH = 65533


class Config:
    """Run-time settings (CLI flags; some changeable via /_emulator/config)."""
    user = "root"
    password = ""
    fe_port = 0
    be_port = 0
    data_dir = None
    verbose = False
    # Config.stream_load_default_precommit_timeout_second (fe/.../common/Config.java)
    txn_expire_seconds = 3600.0
    hang_seconds = 30.0
    timezone = "UTC"
    # be conf string_type_length_soft_limit_bytes (1 MiB): longer STRING values are filtered
    string_limit_bytes = 1048576
    # be conf streaming_load_json_max_mb
    json_max_mb = 100
    # Config.stream_load_default_timeout_second
    default_load_timeout = 259200
    # Doris' FE puts "user:password@" into the 307 Location (RestBaseController.redirectTo)
    redirect_userinfo = True


CONF = Config()


# --------------------------------------------------------------------------
# JSON helpers
# --------------------------------------------------------------------------

def _reject_constant(name):
    raise ValueError("Invalid value.")


def json_loads(text):
    """Parse JSON keeping numbers exact: floats become Decimal (so "1.50" keeps its
    digits for DECIMAL/VARCHAR columns) and NaN/Infinity are rejected like rapidjson."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def jdump(o):
    """Compact JSON that writes Decimal values as plain numbers."""
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return str(o)
    if isinstance(o, Decimal):
        return format(o, "f")
    if isinstance(o, float):
        if o != o or o in (float("inf"), float("-inf")):
            return "null"
        return repr(o)
    if isinstance(o, str):
        return json.dumps(o, ensure_ascii=False)
    if isinstance(o, (list, tuple)):
        return "[" + ",".join(jdump(x) for x in o) + "]"
    if isinstance(o, dict):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + jdump(v)
                              for k, v in o.items()) + "}"
    return json.dumps(str(o), ensure_ascii=False)


def pretty(obj):
    """rapidjson::PrettyWriter layout (4-space indent, '"Key": value')."""
    return json.dumps(obj, indent=4, ensure_ascii=False)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

class DorisError(Exception):
    """A non-OK doris::Status.  `code` is the TStatusCode / ErrorCode name that
    Status::to_string() prints in brackets; `msg` the message."""

    def __init__(self, code, msg, existing_job_status=None):
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.existing_job_status = existing_job_status

    def to_string(self):
        return "[%s]%s" % (self.code, self.msg)


def be_error(code, msg):
    return DorisError(code, msg)


def fe_error(msg, code="ANALYSIS_ERROR", errcode=2, **kw):
    """An error that came back from the FE over thrift: the BE wraps it with
    Status::create(TStatus) which prefixes "TStatus: ", and the FE's
    UserException message starts with "errCode = N, detailMessage = "."""
    return DorisError(code, "TStatus: errCode = %d, detailMessage = %s" % (errcode, msg), **kw)


class SqlError(Exception):
    """Error of the SQL endpoint; `data` is what ends up in the reply."""

    def __init__(self, data):
        super().__init__(data)
        self.data = data


_CONN_ID = [0]


def sql_error(detail, errcode=2):
    # StatementSubmitter runs the statement over JDBC; the failure surfaces as
    # "Failed to execute sql: " + ExecutionException.getMessage(), i.e. the
    # SQLException's toString().
    _CONN_ID[0] += 1
    return SqlError("Failed to execute sql: java.sql.SQLException: (conn=%d) errCode = %d, "
                    "detailMessage = %s" % (_CONN_ID[0], errcode, detail))


def sql_parse_error(detail):
    return SqlError("Failed to execute sql: java.lang.Exception: error happens when parsing stmt: "
                    + detail)


# --------------------------------------------------------------------------
# Column types and value conversion
# --------------------------------------------------------------------------

INT_RANGES = {
    "TINYINT": (-2 ** 7, 2 ** 7 - 1),
    "SMALLINT": (-2 ** 15, 2 ** 15 - 1),
    "INT": (-2 ** 31, 2 ** 31 - 1),
    "BIGINT": (-2 ** 63, 2 ** 63 - 1),
    "LARGEINT": (-2 ** 127, 2 ** 127 - 1),
}
INT_ORDER = ["TINYINT", "SMALLINT", "INT", "BIGINT", "LARGEINT"]
TYPE_ALIASES = {
    "INTEGER": "INT", "BOOL": "BOOLEAN", "DECIMALV2": "DECIMAL", "DECIMALV3": "DECIMAL",
    "NUMERIC": "DECIMAL", "DATEV2": "DATE", "DATETIMEV2": "DATETIME", "DATEV1": "DATE",
    "DATETIMEV1": "DATETIME", "TEXT": "STRING", "JSONB": "JSON", "REAL": "DOUBLE",
}
KNOWN_TYPES = set(INT_RANGES) | {"BOOLEAN", "FLOAT", "DOUBLE", "DECIMAL", "DATE", "DATETIME",
                                 "CHAR", "VARCHAR", "STRING", "JSON", "ARRAY"}


class ColType:
    def __init__(self, base, length=None, precision=None, scale=None, item=None):
        self.base = base
        self.length = length
        self.precision = precision
        self.scale = scale
        self.item = item

    @property
    def is_int(self):
        return self.base in INT_RANGES

    @property
    def is_string(self):
        return self.base in ("CHAR", "VARCHAR", "STRING")

    def sql(self):
        """Lower-case spelling used by SHOW CREATE TABLE."""
        b = self.base
        if b == "DECIMAL":
            return "decimal(%d,%d)" % (self.precision, self.scale)
        if b == "DATETIME":
            return "datetime(%d)" % self.scale if self.scale else "datetime"
        if b in ("CHAR", "VARCHAR"):
            return "%s(%d)" % (b.lower(), self.length)
        if b == "STRING":
            return "text"
        if b == "ARRAY":
            return "array<%s>" % self.item.sql()
        return b.lower()

    def desc(self):
        """Upper-case spelling used by DESC / type debug strings."""
        b = self.base
        if b == "DECIMAL":
            return "DECIMAL(%d, %d)" % (self.precision, self.scale)
        if b == "DATETIME":
            return "DATETIME(%d)" % self.scale if self.scale else "DATETIME"
        if b in ("CHAR", "VARCHAR"):
            return "%s(%d)" % (b, self.length)
        if b == "STRING":
            return "TEXT"
        if b == "ARRAY":
            return "ARRAY<%s>" % self.item.desc()
        return b

    def meta_name(self):
        """Type name in a result-set "meta" entry (the JDBC column type name)."""
        if self.base == "STRING":
            return "VARCHAR"
        return self.base

    def to_json(self):
        return {"base": self.base, "length": self.length, "precision": self.precision,
                "scale": self.scale, "item": self.item.to_json() if self.item else None}

    @staticmethod
    def from_json(d):
        return ColType(d["base"], d.get("length"), d.get("precision"), d.get("scale"),
                       ColType.from_json(d["item"]) if d.get("item") else None)

    def same(self, other):
        return self.to_json() == other.to_json()


def make_type(name, params, item=None):
    base = TYPE_ALIASES.get(name.upper(), name.upper())
    if base not in KNOWN_TYPES:
        raise sql_error("Unknown data type: %s" % name)
    if base == "DECIMAL":
        p = params[0] if params else 9
        s = params[1] if len(params) > 1 else 0
        if not (1 <= p <= 76) or not (0 <= s <= p):
            raise sql_error("Invalid decimal type with precision = %d, scale = %d" % (p, s))
        return ColType(base, precision=p, scale=s)
    if base == "DATETIME":
        s = params[0] if params else 0
        if not 0 <= s <= 6:
            raise sql_error("Scale of Datetime/Time must between 0 and 6. Scale was set to: %d" % s)
        return ColType(base, scale=s)
    if base == "CHAR":
        return ColType(base, length=params[0] if params else 1)
    if base == "VARCHAR":
        return ColType(base, length=params[0] if params else DEFAULT_VARCHAR_LENGTH)
    if base == "STRING":
        return ColType(base, length=MAX_STRING_LENGTH)
    if base == "ARRAY":
        if item is None:
            raise sql_error("ARRAY type needs an item type")
        return ColType(base, item=item)
    return ColType(base)


def parse_type_string(s):
    p = Parser(s)
    t = p.parse_type()
    if not p.at_end():
        raise sql_error("Invalid type: %s" % s)
    return t


class CastFail(Exception):
    """The value could not be converted to the column type.  Doris turns it into
    NULL when strict_mode is off and filters the row when it is on."""


class Invalid(Exception):
    """The value converted but violates the column definition (string too long,
    decimal out of precision).  Doris always filters such rows
    (vtablet_block_convertor.cpp _validate_column)."""


_DT_RE = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[ T](\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?)?)?"
    r"\s*(Z|[+-]\d{1,2}(?::?\d{2})?|[A-Za-z][A-Za-z0-9_+\-]*/[A-Za-z0-9_+\-/]+|UTC|GMT)?$")
_DT_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?)?$")


def _tzinfo(name):
    if name in (None, ""):
        return None
    if name in ("Z", "UTC", "GMT"):
        return datetime.timezone.utc
    m = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", name)
    if m:
        delta = datetime.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
        return datetime.timezone(delta if m.group(1) == "+" else -delta)
    if zoneinfo is not None:
        try:
            return zoneinfo.ZoneInfo(name)
        except Exception:
            pass
    raise CastFail()


def parse_datetime(raw, scale, load_tz):
    """Return (datetime, microseconds rounded to `scale`)."""
    if isinstance(raw, bool):
        raise CastFail()
    if isinstance(raw, int):
        raw = str(raw)
    if not isinstance(raw, str):
        raise CastFail()
    s = raw.strip()
    m = _DT_RE.match(s)
    tzname = None
    if m:
        y, mo, d, hh, mi, ss, frac, tzname = m.groups()
    else:
        m = _DT_COMPACT_RE.match(s)
        if not m:
            raise CastFail()
        y, mo, d, hh, mi, ss, frac = m.groups()
    try:
        dt = datetime.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
    except ValueError:
        raise CastFail()
    # fractional seconds: round half up to the column scale (DATETIMEV2 cast rounds)
    micro_total = Decimal("0." + frac) if frac else Decimal(0)
    q = Decimal(1).scaleb(-scale)
    micro_total = micro_total.quantize(q, rounding=decimal.ROUND_HALF_UP)
    if micro_total >= 1:
        dt += datetime.timedelta(seconds=1)
        micro_total -= 1
    dt = dt.replace(microsecond=int(micro_total * 1000000))
    if tzname:
        # Doris 2.1+ accepts a zone suffix and converts into the load's time zone.
        src = _tzinfo(tzname)
        dst = _tzinfo(load_tz) or datetime.timezone.utc
        dt = dt.replace(tzinfo=src).astimezone(dst).replace(tzinfo=None)
    if not (1 <= dt.year <= 9999):
        raise CastFail()
    return dt


def fmt_date(dt):
    return "%04d-%02d-%02d" % (dt.year, dt.month, dt.day)


def fmt_datetime(dt, scale):
    s = "%s %02d:%02d:%02d" % (fmt_date(dt), dt.hour, dt.minute, dt.second)
    if scale:
        s += "." + ("%06d" % dt.microsecond)[:scale]
    return s


def raw_text(raw):
    """How a source value is shown in error messages."""
    if raw is None:
        return "NULL"
    if isinstance(raw, str):
        return raw
    return jdump(raw)


def decimal_bounds(p, s):
    mx = (Decimal(10) ** (p - s) - Decimal(1).scaleb(-s)).quantize(Decimal(1).scaleb(-s))
    return -mx, mx


def convert(ct, raw, load_tz, prefix=""):
    """Convert a source value (JSON-decoded or CSV text) into the canonical
    internal value of column type `ct`.  None means NULL."""
    if raw is None:
        return None
    b = ct.base
    if b in INT_RANGES:
        if isinstance(raw, bool):
            v = int(raw)
        elif isinstance(raw, int):
            v = raw
        elif isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
            v = int(raw)
        else:
            # JSON doubles and "1.5" do not cast to integer types (NULL / filtered)
            raise CastFail()
        lo, hi = INT_RANGES[b]
        if not lo <= v <= hi:
            raise CastFail()      # out of range -> NULL, or filtered in strict mode
        return v
    if b == "BOOLEAN":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str):
            t = raw.strip().lower()
            if t in ("true", "1"):
                return True
            if t in ("false", "0"):
                return False
        raise CastFail()
    if b in ("FLOAT", "DOUBLE"):
        if isinstance(raw, bool):
            raise CastFail()
        try:
            if isinstance(raw, (int, Decimal)):
                v = float(raw)
            elif isinstance(raw, str) and re.fullmatch(
                    r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", raw):
                v = float(raw)
            else:
                raise CastFail()
        except (OverflowError, ValueError):
            raise CastFail()
        if v != v or v in (float("inf"), float("-inf")):
            raise CastFail()
        return v
    if b == "DECIMAL":
        if isinstance(raw, bool):
            raise CastFail()
        if isinstance(raw, int):
            d = Decimal(raw)
        elif isinstance(raw, Decimal):
            d = raw
        elif isinstance(raw, str) and re.fullmatch(
                r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", raw):
            d = Decimal(raw.strip())
        else:
            raise CastFail()
        q = Decimal(1).scaleb(-ct.scale)
        try:
            d = d.quantize(q, rounding=decimal.ROUND_HALF_UP)
        except decimal.InvalidOperation:
            d = None
        lo, hi = decimal_bounds(ct.precision, ct.scale)
        if d is None or d > hi or d < lo:
            raise Invalid("%sdecimal value is not valid for definition, value=%s, precision=%d, "
                          "scale=%d, min=%s, max=%s; " % (prefix, raw_text(raw), ct.precision,
                                                          ct.scale, lo, hi))
        return d
    if b == "DATE":
        return fmt_date(parse_datetime(raw, 0, load_tz))
    if b == "DATETIME":
        return fmt_datetime(parse_datetime(raw, ct.scale, load_tz), ct.scale)
    if b in ("CHAR", "VARCHAR", "STRING"):
        if isinstance(raw, str):
            s = raw
        elif isinstance(raw, bool):
            s = "true" if raw else "false"
        elif isinstance(raw, (int, Decimal)):
            s = str(raw)
        else:
            s = jdump(raw)
        data = s.encode("utf-8")
        n = len(data)
        limit = min(CONF.string_limit_bytes, ct.length) if ct.length > 0 else CONF.string_limit_bytes
        if n > limit:
            first = data[:32].decode("utf-8", "replace")
            if n > ct.length:
                raise Invalid("%sthe length of input is too long than schema. first 32 bytes of "
                              "input str: [%s] schema length: %d; actual length: %d; "
                              % (prefix, first, ct.length, n))
            raise Invalid("%sthe length of input string is too long than vec schema. first 32 "
                          "bytes of input str: [%s] schema length: %d; limit length: %d; actual "
                          "length: %d; " % (prefix, first, ct.length, limit, n))
        return s
    if b == "JSON":
        if isinstance(raw, str):
            try:
                return jdump(json_loads(raw))
            except ValueError:
                raise CastFail()
        return jdump(raw)
    if b == "ARRAY":
        if isinstance(raw, str):
            try:
                raw = json_loads(raw)
            except ValueError:
                raise CastFail()
        if not isinstance(raw, list):
            raise CastFail()
        return [convert(ct.item, x, load_tz, prefix="ARRAY type failed: ") for x in raw]
    raise CastFail()


def zero_value(ct):
    if ct.is_int:
        return 0
    return {"BOOLEAN": False, "FLOAT": 0.0, "DOUBLE": 0.0, "DECIMAL": Decimal(0).quantize(
        Decimal(1).scaleb(-(ct.scale or 0))), "DATE": "1970-01-01",
        "DATETIME": fmt_datetime(datetime.datetime(1970, 1, 1), ct.scale or 0),
        "JSON": "null", "ARRAY": []}.get(ct.base, "")


def compare_values(a, b):
    """Order of sequence-column values; NULL sorts first."""
    if a is None and b is None:
        return 0
    if a is None:
        return -1
    if b is None:
        return 1
    if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)):
        a, b = Decimal(str(a)), Decimal(str(b))
    return (a > b) - (a < b)


def sort_key(v):
    if v is None:
        return (0, 0)
    if isinstance(v, bool):
        return (1, int(v))
    if isinstance(v, (int, float, Decimal)):
        return (1, Decimal(str(v)))
    if isinstance(v, list):
        return (2, jdump(v))
    return (2, str(v))


# --------------------------------------------------------------------------
# Schema objects
# --------------------------------------------------------------------------

class Column:
    def __init__(self, name, ctype, nullable=True, default=None, has_default=False,
                 is_key=False, comment="", auto_inc=False, agg=None):
        self.name = name
        self.type = ctype
        self.nullable = nullable
        self.default = default              # string, or "CURRENT_TIMESTAMP"
        self.has_default = has_default      # DEFAULT NULL counts as no default (like Doris)
        self.is_key = is_key
        self.comment = comment
        self.auto_inc = auto_inc
        self.agg = agg

    def to_json(self):
        return {"name": self.name, "type": self.type.to_json(), "nullable": self.nullable,
                "default": self.default, "has_default": self.has_default, "is_key": self.is_key,
                "comment": self.comment, "auto_inc": self.auto_inc, "agg": self.agg}

    @staticmethod
    def from_json(d):
        return Column(d["name"], ColType.from_json(d["type"]), d["nullable"], d["default"],
                      d["has_default"], d["is_key"], d.get("comment", ""), d.get("auto_inc", False),
                      d.get("agg"))

    def default_value(self, load_tz):
        """Value for a column the load does not provide."""
        if not self.has_default:
            return None
        if str(self.default).upper().startswith("CURRENT_TIMESTAMP"):
            now = datetime.datetime.now(_tzinfo(load_tz) or datetime.timezone.utc)
            now = now.replace(tzinfo=None)
            if self.type.base == "DATE":
                return fmt_date(now)
            return fmt_datetime(now, self.type.scale or 0)
        try:
            return convert(self.type, self.default, load_tz)
        except (CastFail, Invalid):
            return None


class Table:
    def __init__(self, db, name):
        self.db = db
        self.name = name
        self.columns = []          # visible columns in order
        self.keys_type = "DUPLICATE"
        self.key_cols = []
        self.mow = False
        self.seq_type = None       # ColType of __DORIS_SEQUENCE_COL__, or None
        self.seq_map_col = None    # property function_column.sequence_col
        self.skip_bitmap = False   # enable_unique_key_skip_bitmap_column (flexible partial update)
        self.light_sc = True
        self.properties = {}
        self.comment = ""
        self.distribution = ""
        # UNIQUE: key tuple -> {"vals": {col: value}, "seq": value}; DUPLICATE: list of vals
        self.rows = {}
        self.dup_rows = []
        # UNIQUE + sequence: a deleted key keeps its delete-sign row (and its sequence
        # value) in storage, so an older row arriving later still loses to it.
        self.tombstones = {}

    @property
    def is_unique(self):
        return self.keys_type == "UNIQUE"

    @property
    def has_delete_sign(self):
        # Batch delete (the hidden delete sign column) exists on UNIQUE tables only.
        return self.is_unique

    def col(self, name):
        ln = name.lower()
        for c in self.columns:
            if c.name.lower() == ln:
                return c
        return None

    def hidden_cols(self):
        out = []
        if self.has_delete_sign:
            out.append(Column(DELETE_SIGN, ColType("TINYINT"), False, "0", True))
        if self.seq_type is not None:
            out.append(Column(SEQ_COL, self.seq_type, True))
        return out

    def full_col(self, name):
        c = self.col(name)
        if c:
            return c
        for h in self.hidden_cols():
            if h.name.lower() == name.lower():
                return h
        return None

    def visible_names(self):
        return [c.name for c in self.columns]

    def row_count(self):
        return len(self.rows) if self.is_unique else len(self.dup_rows)

    def all_rows(self):
        """Rows as dicts (visible columns + hidden sequence value), sorted by key."""
        names = self.visible_names()
        if self.is_unique:
            items = []
            for key, r in self.rows.items():
                d = {n: r["vals"].get(n) for n in names}
                if self.seq_type is not None:
                    d[SEQ_COL] = r["seq"]
                items.append(d)
        else:
            items = [{n: v.get(n) for n in names} for v in self.dup_rows]
        keys = self.key_cols
        items.sort(key=lambda d: [sort_key(d.get(k)) for k in keys])
        return items

    def to_json(self):
        return {
            "name": self.name, "columns": [c.to_json() for c in self.columns],
            "keys_type": self.keys_type, "key_cols": self.key_cols, "mow": self.mow,
            "seq_type": self.seq_type.to_json() if self.seq_type else None,
            "seq_map_col": self.seq_map_col, "skip_bitmap": self.skip_bitmap,
            "light_sc": self.light_sc, "properties": self.properties, "comment": self.comment,
            "distribution": self.distribution,
            "rows": [[list(k), r["vals"], r["seq"]] for k, r in self.rows.items()],
            "dup_rows": self.dup_rows,
            "tombstones": [[list(k), s] for k, s in self.tombstones.items()],
        }

    @staticmethod
    def from_json(db, d):
        t = Table(db, d["name"])
        t.columns = [Column.from_json(c) for c in d["columns"]]
        t.keys_type = d["keys_type"]
        t.key_cols = d["key_cols"]
        t.mow = d["mow"]
        t.seq_type = ColType.from_json(d["seq_type"]) if d.get("seq_type") else None
        t.seq_map_col = d.get("seq_map_col")
        t.skip_bitmap = d.get("skip_bitmap", False)
        t.light_sc = d.get("light_sc", True)
        t.properties = d.get("properties", {})
        t.comment = d.get("comment", "")
        t.distribution = d.get("distribution", "")
        t.rows = {tuple(k): {"vals": v, "seq": s} for k, v, s in d.get("rows", [])}
        t.dup_rows = d.get("dup_rows", [])
        t.tombstones = {tuple(k): s for k, s in d.get("tombstones", [])}
        return t


# --------------------------------------------------------------------------
# SQL tokenizer / parser helpers
# --------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"""
   (?P<ws>\s+)
  |(?P<comment>--[^\n]*|/\*.*?\*/)
  |(?P<qid>`(?:[^`]|``)*`)
  |(?P<str>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  |(?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?(?![A-Za-z_]))
  |(?P<id>[A-Za-z_0-9\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)
  |(?P<op><=>|<=|>=|!=|<>|[(),.;=<>*+\-/%\[\]]|\S)
""", re.X | re.S)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "Z": "\x1a", "\\": "\\",
            "'": "'", '"': '"'}


def _unquote_string(tok):
    q = tok[0]
    body = tok[1:-1].replace(q + q, q)
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def tokenize(sql):
    toks = []
    pos = 0
    while pos < len(sql):
        m = _TOKEN_RE.match(sql, pos)
        if not m:
            raise sql_parse_error("unexpected character at %d" % pos)
        pos = m.end()
        kind = m.lastgroup
        text = m.group(kind)
        if kind in ("ws", "comment"):
            continue
        if kind == "qid":
            toks.append(("qid", text[1:-1].replace("``", "`")))
        elif kind == "str":
            toks.append(("str", _unquote_string(text)))
        else:
            toks.append((kind, text))
    toks.append(("eof", ""))
    return toks


class Parser:
    def __init__(self, sql):
        self.sql = sql
        self.toks = tokenize(sql)
        self.i = 0

    def peek(self, k=0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self):
        t = self.toks[self.i]
        if t[0] != "eof":
            self.i += 1
        return t

    def is_kw(self, word, k=0):
        t = self.peek(k)
        return t[0] == "id" and t[1].upper() == word

    def kw(self, *words):
        for k, w in enumerate(words):
            if not self.is_kw(w, k):
                return False
        self.i += len(words)
        return True

    def expect_kw(self, *words):
        if not self.kw(*words):
            raise sql_parse_error("expected %s near '%s'" % (" ".join(words), self.peek()[1]))

    def op(self, o):
        t = self.peek()
        if t[0] == "op" and t[1] == o:
            self.i += 1
            return True
        return False

    def expect_op(self, o):
        if not self.op(o):
            raise sql_parse_error("expected '%s' near '%s'" % (o, self.peek()[1]))

    def ident(self):
        t = self.next()
        if t[0] in ("id", "qid"):
            return t[1]
        raise sql_parse_error("expected identifier near '%s'" % t[1])

    def name_or_string(self):
        t = self.next()
        if t[0] in ("id", "qid", "str"):
            return t[1]
        raise sql_parse_error("expected name near '%s'" % t[1])

    def qualified(self):
        a = self.ident()
        if self.op("."):
            b = self.ident()
            if self.op("."):          # catalog.db.table
                return b, self.ident()
            return a, b
        return None, a

    def at_end(self):
        while self.op(";"):
            pass
        return self.peek()[0] == "eof"

    def int_lit(self):
        neg = self.op("-")
        t = self.next()
        if t[0] != "num" or not t[1].isdigit():
            raise sql_parse_error("expected integer near '%s'" % t[1])
        return -int(t[1]) if neg else int(t[1])

    def skip_parens(self):
        """Skip a balanced (...) group (index definitions, partitions, ...)."""
        self.expect_op("(")
        depth = 1
        while depth:
            t = self.next()
            if t[0] == "eof":
                raise sql_parse_error("unbalanced parentheses")
            if t[0] == "op" and t[1] == "(":
                depth += 1
            elif t[0] == "op" and t[1] == ")":
                depth -= 1

    def name_list(self):
        self.expect_op("(")
        names = [self.ident()]
        while self.op(","):
            names.append(self.ident())
        self.expect_op(")")
        return names

    def properties(self):
        self.expect_op("(")
        props = {}
        if self.op(")"):
            return props
        while True:
            k = self.name_or_string()
            self.expect_op("=")
            v = self.next()
            props[k] = v[1]
            if not self.op(","):
                break
        self.expect_op(")")
        return props

    def parse_type(self):
        name = self.ident()
        up = name.upper()
        if up in ("ARRAY",):
            self.expect_op("<")
            item = self.parse_type()
            self.expect_op(">")
            return make_type("ARRAY", [], item)
        params = []
        if self.op("("):
            params.append(self.int_lit())
            while self.op(","):
                params.append(self.int_lit())
            self.expect_op(")")
        return make_type(name, params)

    # ---- expressions (WHERE of SELECT, stream load `where` / `delete`) ----
    def parse_expr(self):
        left = self._and()
        while self.kw("OR") or self.op("||"):
            left = ("or", left, self._and())
        return left

    def _and(self):
        left = self._not()
        while self.kw("AND") or self.op("&&"):
            left = ("and", left, self._not())
        return left

    def _not(self):
        if self.kw("NOT") or self.op("!"):
            return ("not", self._not())
        return self._pred()

    def _pred(self):
        left = self._operand()
        neg = False
        if self.kw("IS"):
            neg = self.kw("NOT")
            self.expect_kw("NULL")
            return ("isnull", left, neg)
        if self.kw("NOT"):
            neg = True
        if self.kw("IN"):
            self.expect_op("(")
            vals = [self._operand()]
            while self.op(","):
                vals.append(self._operand())
            self.expect_op(")")
            return ("in", left, vals, neg)
        if self.kw("LIKE"):
            return ("like", left, self._operand(), neg)
        if self.kw("BETWEEN"):
            lo = self._operand()
            self.expect_kw("AND")
            return ("between", left, lo, self._operand(), neg)
        for o in ("=", "<=>", "!=", "<>", "<=", ">=", "<", ">"):
            if self.op(o):
                return ("cmp", o, left, self._operand())
        if neg:
            raise sql_parse_error("bad predicate")
        return left

    def _operand(self):
        t = self.peek()
        if t[0] == "op" and t[1] == "(":
            self.next()
            e = self.parse_expr()
            self.expect_op(")")
            return e
        if t[0] == "op" and t[1] == "-":
            self.next()
            n = self.next()
            if n[0] != "num":
                raise sql_parse_error("bad number")
            return ("lit", -_num(n[1]))
        self.next()
        if t[0] == "num":
            return ("lit", _num(t[1]))
        if t[0] == "str":
            return ("lit", t[1])
        if t[0] == "id" and t[1].upper() == "NULL":
            return ("lit", None)
        if t[0] == "id" and t[1].upper() in ("TRUE", "FALSE"):
            return ("lit", t[1].upper() == "TRUE")
        if t[0] in ("id", "qid"):
            name = t[1]
            if self.op("."):
                name = self.ident()
            return ("col", name)
        raise sql_parse_error("unexpected '%s'" % t[1])


def _num(text):
    if re.fullmatch(r"\d+", text):
        return int(text)
    return Decimal(text)


def _coerce(a, b):
    if isinstance(a, bool):
        a = int(a)
    if isinstance(b, bool):
        b = int(b)
    na = isinstance(a, (int, float, Decimal))
    nb = isinstance(b, (int, float, Decimal))
    if na and nb:
        return Decimal(str(a)), Decimal(str(b))
    if na != nb:
        try:
            return Decimal(str(a).strip()), Decimal(str(b).strip())
        except decimal.InvalidOperation:
            return str(a), str(b)
    return a, b


def eval_expr(e, get):
    """Three-valued evaluation; `get(name)` returns a column value."""
    k = e[0]
    if k == "lit":
        return e[1]
    if k == "col":
        return get(e[1])
    if k == "and":
        a, b = eval_expr(e[1], get), eval_expr(e[2], get)
        if a is False or b is False:
            return False
        return None if a is None or b is None else bool(a and b)
    if k == "or":
        a, b = eval_expr(e[1], get), eval_expr(e[2], get)
        if a is True or b is True:
            return True
        return None if a is None or b is None else bool(a or b)
    if k == "not":
        a = eval_expr(e[1], get)
        return None if a is None else not a
    if k == "isnull":
        v = eval_expr(e[1], get)
        return (v is not None) if e[2] else (v is None)
    if k == "cmp":
        o = e[1]
        a, b = eval_expr(e[2], get), eval_expr(e[3], get)
        if o == "<=>":
            if a is None or b is None:
                return a is None and b is None
        if a is None or b is None:
            return None
        a, b = _coerce(a, b)
        try:
            return {"=": a == b, "<=>": a == b, "!=": a != b, "<>": a != b, "<": a < b,
                    "<=": a <= b, ">": a > b, ">=": a >= b}[o]
        except TypeError:
            return None
    if k == "in":
        v = eval_expr(e[1], get)
        if v is None:
            return None
        hit = False
        for x in e[2]:
            a, b = _coerce(v, eval_expr(x, get))
            if a == b:
                hit = True
        return (not hit) if e[3] else hit
    if k == "like":
        v, pat = eval_expr(e[1], get), eval_expr(e[2], get)
        if v is None or pat is None:
            return None
        rx = "^" + "".join(".*" if c == "%" else "." if c == "_" else re.escape(c)
                           for c in str(pat)) + "$"
        hit = re.match(rx, str(v), re.S) is not None
        return (not hit) if e[3] else hit
    if k == "between":
        v = eval_expr(e[1], get)
        lo, hi = eval_expr(e[2], get), eval_expr(e[3], get)
        if v is None or lo is None or hi is None:
            return None
        a, l2 = _coerce(v, lo)
        a2, h2 = _coerce(v, hi)
        hit = l2 <= a and a2 <= h2
        return (not hit) if e[4] else hit
    raise sql_parse_error("bad expression")


def parse_condition(text):
    p = Parser(text)
    e = p.parse_expr()
    if not p.at_end():
        raise sql_parse_error("unexpected '%s'" % p.peek()[1])
    return e


# --------------------------------------------------------------------------
# The emulated cluster state (one global lock)
# --------------------------------------------------------------------------

class Txn:
    def __init__(self, txn_id, db, table, label, timeout):
        self.id = txn_id
        self.db = db
        self.table = table
        self.label = label
        self.status = "PREPARE"       # PREPARE, PRECOMMITTED, COMMITTED, VISIBLE, ABORTED
        self.reason = ""
        self.timeout = timeout
        self.prepare_time = time.time()
        self.precommit_time = None
        self.finish_time = None
        self.ops = []                 # pending row operations of a pre-committed 2PC load
        self.two_pc = False
        self.load_tz = CONF.timezone

    def to_json(self, with_ops=False):
        d = {"txn_id": self.id, "db": self.db, "table": self.table, "label": self.label,
             "status": self.status, "reason": self.reason, "timeout": self.timeout,
             "prepare_time": self.prepare_time, "precommit_time": self.precommit_time,
             "finish_time": self.finish_time, "two_phase_commit": self.two_pc,
             "pending_rows": len(self.ops), "load_tz": self.load_tz}
        if with_ops:
            d["ops"] = self.ops
        return d

    @staticmethod
    def from_json(d):
        t = Txn(d["txn_id"], d["db"], d["table"], d["label"], d.get("timeout", 600))
        t.status = d["status"]
        t.reason = d.get("reason", "")
        t.prepare_time = d.get("prepare_time") or time.time()
        t.precommit_time = d.get("precommit_time")
        t.finish_time = d.get("finish_time")
        t.two_pc = d.get("two_phase_commit", False)
        t.load_tz = d.get("load_tz") or CONF.timezone
        t.ops = d.get("ops", [])
        for op in t.ops:
            op["key"] = tuple(op["key"]) if op.get("key") is not None else None
            if op.get("cols") is not None:
                op["cols"] = list(op["cols"])
        return t


def _enc_default(o):
    if isinstance(o, Decimal):
        return {"__decimal__": format(o, "f")}
    if isinstance(o, (set, tuple)):
        return list(o)
    raise TypeError(repr(o))


def _dec_hook(d):
    if len(d) == 1 and "__decimal__" in d:
        return Decimal(d["__decimal__"])
    return d


class Store:
    """All tables, labels and transactions.  Every access holds `lock`."""

    def __init__(self):
        self.lock = threading.RLock()
        self.reset_state()
        self.faults = []
        self.loads = []
        self.error_logs = {}
        self.fault_seq = 0

    def reset_state(self):
        self.dbs = {"information_schema": {}}   # db -> {table_name: Table}
        self.txns = {}                          # id -> Txn
        self.labels = {}                        # db -> {label: [txn ids]}
        self.next_txn_id = 1000

    # ---- persistence (optional --data-dir) ----
    def state_path(self):
        return os.path.join(CONF.data_dir, "doris_emulator_state.json") if CONF.data_dir else None

    def save(self):
        path = self.state_path()
        if not path:
            return
        data = {
            "dbs": {db: [t.to_json() for t in tables.values()] for db, tables in self.dbs.items()},
            "txns": [t.to_json(with_ops=True) for t in self.txns.values()],
            "labels": self.labels,
            "next_txn_id": self.next_txn_id,
        }
        tmp = path + ".tmp.%d" % os.getpid()
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, default=_enc_default)
        os.replace(tmp, path)

    def load(self):
        path = self.state_path()
        if not path or not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as f:
            data = json.load(f, object_hook=_dec_hook)
        self.dbs = {db: {t["name"]: Table.from_json(db, t) for t in tables}
                    for db, tables in data["dbs"].items()}
        self.dbs.setdefault("information_schema", {})
        self.txns = {t["txn_id"]: Txn.from_json(t) for t in data["txns"]}
        self.labels = data["labels"]
        self.next_txn_id = data["next_txn_id"]

    # ---- lookups (Doris names: db and table names are case-sensitive by default
    #      (lower_case_table_names=0); column names are case-insensitive) ----
    def get_db(self, db):
        return self.dbs.get(db)

    def get_table(self, db, name):
        tables = self.dbs.get(db)
        if tables is None:
            return None
        return tables.get(name)

    # ---- transactions / labels ----
    def label_txns(self, db, label):
        return [self.txns[i] for i in self.labels.get(db, {}).get(label, []) if i in self.txns]

    def label_state(self, db, label):
        txns = self.label_txns(db, label)
        if not txns:
            return "UNKNOWN"
        return max(txns, key=lambda t: t.id).status

    def begin_txn(self, db, table, label, timeout):
        for t in self.label_txns(db, label):
            if t.status != "ABORTED":
                # LabelAlreadyUsedException(TransactionState): job status by txn state
                job = {"PREPARE": "RUNNING", "PRECOMMITTED": "PRECOMMITTED",
                       "COMMITTED": "FINISHED", "VISIBLE": "FINISHED"}[t.status]
                raise fe_error("Label [%s] has already been used, relate to txn [%d]"
                               % (label, t.id), code="LABEL_ALREADY_EXISTS",
                               existing_job_status=job)
        txn = Txn(self.next_txn_id, db, table, label, timeout)
        self.next_txn_id += 1
        self.txns[txn.id] = txn
        self.labels.setdefault(db, {}).setdefault(label, []).append(txn.id)
        return txn

    def abort_txn(self, txn, reason):
        if txn.status in ("PREPARE", "PRECOMMITTED"):
            txn.status = "ABORTED"
            txn.reason = reason
            txn.finish_time = time.time()
            txn.ops = []

    def expire_txns(self):
        """The FE's transaction cleaner: time out PREPARE txns after their load
        timeout and PRECOMMITTED ones after stream_load_default_precommit_timeout_second."""
        now = time.time()
        changed = False
        for t in self.txns.values():
            if t.status == "PRECOMMITTED" and now - (t.precommit_time or now) > CONF.txn_expire_seconds:
                self.abort_txn(t, "timeout by txn manager")
                changed = True
            elif t.status == "PREPARE" and now - t.prepare_time > t.timeout:
                self.abort_txn(t, "timeout by txn manager")
                changed = True
        return changed

    # ---- applying row operations (the storage engine) ----
    def apply_ops(self, db, table_name, ops, load_tz):
        table = self.get_table(db, table_name)
        if table is None:
            return
        for op in ops:
            apply_op(table, op, load_tz)

    # ---- fault injection ----
    def take_fault(self, at, db, table):
        for f in self.faults:
            if f["at"] != at or f["count"] <= 0:
                continue
            if f.get("db") and f["db"] != db:
                continue
            if f.get("table") and f["table"] != table:
                continue
            f["count"] -= 1
            fault = dict(f)
            self.faults = [x for x in self.faults if x["count"] > 0]
            return fault
        return None

    def log(self, entry):
        entry["seq"] = len(self.loads) + 1
        entry["time"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        self.loads.append(entry)


STORE = Store()


def apply_op(table, op, load_tz):
    """Apply one row operation at commit/publish time."""
    names = table.visible_names()
    if not table.is_unique:
        # DUPLICATE KEY: every row is appended; there is no delete sign column.
        vals = op["vals"]
        table.dup_rows.append({n: vals.get(n) for n in names})
        return
    key = tuple(op["vals"].get(k) for k in table.key_cols)
    existing = table.rows.get(key)
    has_seq = table.seq_type is not None
    seq = op.get("seq")
    if has_seq:
        if not op.get("seq_given"):
            # partial update without the sequence column: keep the stored value
            seq = existing["seq"] if existing else None
        else:
            old = existing["seq"] if existing else table.tombstones.get(key, "__none__")
            # A row replaces the stored one when its sequence value is >= the stored
            # value (the later load wins on equality); a smaller one is ignored -
            # delete-sign rows included.
            if old != "__none__" and compare_values(seq, old) < 0:
                return
    if op.get("delete"):
        table.rows.pop(key, None)
        if has_seq:
            table.tombstones[key] = seq
        return
    cols = op.get("cols")
    if cols is None:
        merged = {n: op["vals"].get(n) for n in names}
    else:
        if existing is not None:
            merged = dict(existing["vals"])
        else:
            merged = {}
            for c in table.columns:
                merged[c.name] = c.default_value(load_tz)
        for n in cols:
            c = table.col(n)
            if c is not None:
                merged[c.name] = op["vals"].get(c.name)
        merged = {n: merged.get(n) for n in names}
    table.rows[key] = {"vals": merged, "seq": seq}
    table.tombstones.pop(key, None)


# --------------------------------------------------------------------------
# SQL endpoint (StmtExecutionAction)
# --------------------------------------------------------------------------

def exec_sql(stmt, default_db):
    """Execute one statement; return ("exec", None) or ("rs", meta, rows)."""
    p = Parser(stmt)
    if p.at_end():
        raise sql_parse_error("empty statement")
    if p.kw("CREATE"):
        if p.kw("DATABASE") or p.kw("SCHEMA"):
            return sql_create_db(p)
        p.kw("EXTERNAL")
        if p.kw("TABLE"):
            return sql_create_table(p, default_db)
    elif p.kw("DROP"):
        if p.kw("DATABASE") or p.kw("SCHEMA"):
            return sql_drop_db(p)
        if p.kw("TABLE"):
            return sql_drop_table(p, default_db)
    elif p.kw("ALTER", "TABLE"):
        return sql_alter_table(p, default_db)
    elif p.kw("TRUNCATE"):
        p.kw("TABLE")
        return sql_truncate(p, default_db)
    elif p.kw("SHOW"):
        return sql_show(p, default_db)
    elif p.kw("DESC") or p.kw("DESCRIBE"):
        return sql_desc(p, default_db)
    elif p.kw("SELECT"):
        return sql_select(p, default_db)
    # StatementSubmitter only runs queries, SHOW and DDL statements.
    raise SqlError("Failed to execute sql: java.lang.Exception: Unsupported statement type")


def _resolve_table(db, name, default_db):
    db = db or default_db
    if STORE.get_db(db) is None:
        raise sql_error("Unknown database '%s'" % db)
    t = STORE.get_table(db, name)
    return db, t


def sql_create_db(p):
    ine = p.kw("IF", "NOT", "EXISTS")
    name = p.ident()
    if p.kw("PROPERTIES"):
        p.properties()
    if not p.at_end():
        raise sql_parse_error("unexpected '%s'" % p.peek()[1])
    if name in STORE.dbs:
        if ine:
            return ("exec", None)
        raise sql_error("Can't create database '%s'; database exists" % name)
    STORE.dbs[name] = {}
    return ("exec", None)


def sql_drop_db(p):
    ie = p.kw("IF", "EXISTS")
    name = p.ident()
    p.kw("FORCE")
    if name not in STORE.dbs:
        if ie:
            return ("exec", None)
        raise sql_error("Can't drop database '%s'; database doesn't exist" % name)
    if name == "information_schema":
        raise sql_error("Access denied for user 'root' to database 'information_schema'")
    del STORE.dbs[name]
    return ("exec", None)


def parse_column_def(p, keys_type=None):
    name = p.ident()
    ctype = p.parse_type()
    col = Column(name, ctype)
    explicit_null = None
    while True:
        if p.kw("KEY"):
            col.is_key = True
        elif p.kw("NOT", "NULL"):
            explicit_null = False
        elif p.kw("NULL"):
            explicit_null = True
        elif any(p.is_kw(a) for a in ("REPLACE", "SUM", "MAX", "MIN", "REPLACE_IF_NOT_NULL",
                                        "NONE", "HLL_UNION", "BITMAP_UNION")):
            col.agg = p.next()[1].upper()
        elif p.kw("AUTO_INCREMENT"):
            col.auto_inc = True
            if p.op("("):
                p.int_lit()
                p.expect_op(")")
        elif p.kw("DEFAULT"):
            t = p.next()
            if t[0] == "id" and t[1].upper() == "NULL":
                col.default, col.has_default = None, False
            elif t[0] == "id" and t[1].upper() in ("CURRENT_TIMESTAMP", "NOW", "CURRENT_DATE"):
                col.default, col.has_default = "CURRENT_TIMESTAMP", True
                if p.op("("):
                    if not p.op(")"):
                        p.int_lit()
                        p.expect_op(")")
            elif t[0] == "op" and t[1] == "-":
                n = p.next()
                col.default, col.has_default = "-" + n[1], True
            elif t[0] == "op" and t[1] == "(":
                p.i -= 1
                p.skip_parens()
                col.default, col.has_default = None, False
            else:
                col.default, col.has_default = t[1], True
        elif p.kw("ON", "UPDATE"):
            p.next()
            if p.op("("):
                if not p.op(")"):
                    p.int_lit()
                    p.expect_op(")")
        elif p.kw("COMMENT"):
            col.comment = p.next()[1]
        else:
            break
    if explicit_null is not None:
        col.nullable = explicit_null
    return col


def sql_create_table(p, default_db):
    ine = p.kw("IF", "NOT", "EXISTS")
    db, name = p.qualified()
    db = db or default_db
    if p.kw("LIKE"):
        raise SqlError("Failed to execute sql: java.lang.Exception: Unsupported statement type")
    p.expect_op("(")
    cols = []
    while True:
        if p.is_kw("INDEX"):
            p.next()
            p.ident()
            p.skip_parens()
            while not (p.peek()[0] == "op" and p.peek()[1] in (",", ")")):
                if p.peek()[0] == "op" and p.peek()[1] == "(":
                    p.skip_parens()
                else:
                    p.next()
        else:
            cols.append(parse_column_def(p))
        if p.op(","):
            continue
        p.expect_op(")")
        break
    t = Table(db, name)
    t.columns = cols
    keys_type = None
    key_cols = None
    props = {}
    while not p.at_end():
        if p.kw("ENGINE"):
            p.expect_op("=")
            p.ident()
        elif any(p.is_kw(k) and p.is_kw("KEY", 1) for k in ("UNIQUE", "DUPLICATE", "AGGREGATE",
                                                               "PRIMARY")):
            keys_type = p.next()[1].upper()
            p.next()
            key_cols = p.name_list()
            if p.kw("CLUSTER", "BY"):
                p.name_list()
        elif p.kw("COMMENT"):
            t.comment = p.next()[1]
        elif p.kw("AUTO") or p.kw("PARTITION", "BY"):
            while not p.at_end() and not p.is_kw("DISTRIBUTED") and not p.is_kw("PROPERTIES"):
                if p.peek()[0] == "op" and p.peek()[1] == "(":
                    p.skip_parens()
                else:
                    p.next()
        elif p.kw("DISTRIBUTED", "BY"):
            if p.kw("HASH"):
                dcols = p.name_list()
                t.distribution = "DISTRIBUTED BY HASH(%s)" % ", ".join("`%s`" % c for c in dcols)
            else:
                p.expect_kw("RANDOM")
                t.distribution = "DISTRIBUTED BY RANDOM"
            if p.kw("BUCKETS"):
                b = p.next()[1]
                t.distribution += " BUCKETS %s" % b.upper()
        elif p.kw("ROLLUP"):
            p.skip_parens()
        elif p.kw("PROPERTIES"):
            props = p.properties()
        else:
            raise sql_parse_error("unexpected '%s'" % p.peek()[1])
    if STORE.get_db(db) is None:
        raise sql_error("Unknown database '%s'" % db)
    if STORE.get_table(db, name) is not None:
        if ine:
            return ("exec", None)
        raise sql_error("Table '%s' already exists" % name, errcode=1050)
    if not cols:
        raise sql_error("Table should contain at least one column")
    seen = set()
    for c in cols:
        if c.name.lower() in seen:
            raise sql_error("Duplicate column name '%s'" % c.name)
        seen.add(c.name.lower())
    if keys_type == "PRIMARY":
        keys_type = "UNIQUE"
    if keys_type == "AGGREGATE" or any(c.agg not in (None, "NONE") and keys_type != "UNIQUE"
                                       for c in cols):
        # EMULATOR: aggregate tables are out of scope for a CDC sink
        raise sql_error("emulator supports UNIQUE KEY and DUPLICATE KEY tables only")
    if keys_type is None:
        # Doris picks leading columns as DUPLICATE keys (up to 3, stopping at a string)
        keys_type = "DUPLICATE"
        key_cols = []
        for c in cols[:3]:
            if c.type.base in ("FLOAT", "DOUBLE", "JSON", "ARRAY", "STRING"):
                break
            key_cols.append(c.name)
            if c.type.is_string:
                break
        if not key_cols:
            key_cols = [cols[0].name]
    resolved = []
    for i, k in enumerate(key_cols):
        c = t.col(k)
        if c is None:
            raise sql_error("Key column[%s] doesn't exist." % k)
        if i >= len(cols) or cols[i].name.lower() != k.lower():
            raise sql_error("Key columns should be a ordered prefix of the schema. KeyColumns[%d] "
                            "(starts from zero) is %s, but corresponding column is %s in the "
                            "previous columns declaration." % (i, k, cols[i].name if i < len(cols)
                                                               else ""))
        if c.type.base in ("FLOAT", "DOUBLE"):
            raise sql_error("Float or double can not used as a key, use decimal instead.")
        if c.type.base == "STRING":
            raise sql_error("String Type should not be used in key column[%s]." % c.name)
        if c.type.base == "JSON":
            raise sql_error("JSONB type should not be used in key column[%s]." % c.name)
        if c.type.base == "ARRAY":
            raise sql_error("Array can only be used in the non-key column of the duplicate table "
                            "at present.")
        c.is_key = True
        resolved.append(c.name)
    for c in cols:
        if c.name not in resolved:
            c.is_key = False
    t.keys_type = keys_type
    t.key_cols = resolved
    t.properties = props
    lp = {k.lower(): v for k, v in props.items()}
    if keys_type == "UNIQUE":
        # enable_unique_key_merge_on_write defaults to true since Doris 2.1
        t.mow = lp.get("enable_unique_key_merge_on_write", "true").lower() == "true"
    t.light_sc = lp.get("light_schema_change", "true").lower() == "true"
    if "function_column.sequence_col" in lp or "function_column.sequence_type" in lp:
        if keys_type != "UNIQUE":
            raise sql_error("Sequence column only support UNIQUE_KEYS")
        if "function_column.sequence_col" in lp:
            mc = t.col(lp["function_column.sequence_col"])
            if mc is None:
                raise sql_error("The specified sequence column[%s] not exists"
                                % lp["function_column.sequence_col"])
            t.seq_map_col = mc.name
            t.seq_type = copy.deepcopy(mc.type)
        else:
            st = parse_type_string(lp["function_column.sequence_type"])
            t.seq_type = st
        if not (t.seq_type.is_int or t.seq_type.base in ("DATE", "DATETIME")):
            raise sql_error("Sequence type only support integer types and date types")
    if lp.get("enable_unique_key_skip_bitmap_column", "false").lower() == "true":
        if not (keys_type == "UNIQUE" and t.mow):
            raise sql_error("table property enable_unique_key_skip_bitmap_column can only be set "
                            "in merge-on-write unique table.")
        t.skip_bitmap = True
    if not t.distribution:
        t.distribution = "DISTRIBUTED BY RANDOM BUCKETS AUTO"
    STORE.dbs[db][name] = t
    return ("exec", None)


def sql_drop_table(p, default_db):
    ie = p.kw("IF", "EXISTS")
    db, name = p.qualified()
    p.kw("FORCE")
    db, t = _resolve_table(db, name, default_db)
    if t is None:
        if ie:
            return ("exec", None)
        raise sql_error("Unknown table '%s'" % name, errcode=1051)
    del STORE.dbs[db][name]
    return ("exec", None)


def sql_truncate(p, default_db):
    db, name = p.qualified()
    db, t = _resolve_table(db, name, default_db)
    if t is None:
        raise sql_error("Unknown table '%s'" % name)
    t.rows, t.dup_rows, t.tombstones = {}, [], {}
    return ("exec", None)


def _widening_ok(old, new):
    if old.same(new):
        return True
    if old.is_int and new.is_int:
        return INT_ORDER.index(new.base) >= INT_ORDER.index(old.base)
    if old.base == "FLOAT" and new.base == "DOUBLE":
        return True
    if old.base in ("CHAR", "VARCHAR") and new.base in ("VARCHAR", "STRING"):
        return new.length >= old.length
    if old.base == "STRING" and new.base == "STRING":
        return True
    if old.base == "DECIMAL" and new.base == "DECIMAL":
        return new.scale == old.scale and new.precision >= old.precision
    if old.base == "DATETIME" and new.base == "DATETIME":
        return new.scale >= old.scale
    if old.base == "DATE" and new.base == "DATETIME":
        return True
    if old.is_int and new.base in ("VARCHAR", "STRING"):
        return True
    return False


def sql_alter_table(p, default_db):
    db, name = p.qualified()
    db, t = _resolve_table(db, name, default_db)
    if t is None:
        raise sql_error("Unknown table '%s'" % name)
    while True:
        if p.kw("ADD", "COLUMN") or p.kw("ADD"):
            if p.peek()[0] == "op" and p.peek()[1] == "(":
                p.next()
                newcols = [parse_column_def(p)]
                while p.op(","):
                    newcols.append(parse_column_def(p))
                p.expect_op(")")
                pos = None
            else:
                newcols = [parse_column_def(p)]
                pos = None
                if p.kw("AFTER"):
                    pos = ("after", p.ident())
                elif p.kw("FIRST"):
                    pos = ("first", None)
            if p.kw("TO"):
                p.ident()
            if p.kw("PROPERTIES"):
                p.properties()
            for c in newcols:
                if t.col(c.name) is not None:
                    raise sql_error("Can not add column which already exists in base table: %s"
                                    % c.name)
                if c.is_key and t.is_unique:
                    raise sql_error("Can not add key column %s to unique table" % c.name)
                idx = len(t.columns)
                if pos and pos[0] == "first":
                    idx = 0
                elif pos and pos[0] == "after":
                    ac = t.col(pos[1])
                    if ac is None:
                        raise sql_error("Column[%s] does not exists" % pos[1])
                    idx = t.columns.index(ac) + 1
                t.columns.insert(idx, c)
                # existing rows take the new column's default (NULL if none).
                # EMULATOR: a NOT NULL column without default is filled with the type's
                # zero value instead of being refused.
                fill = c.default_value(CONF.timezone)
                if fill is None and not c.nullable:
                    fill = zero_value(c.type)
                for r in t.rows.values():
                    r["vals"][c.name] = fill
                for r in t.dup_rows:
                    r[c.name] = fill
        elif p.kw("DROP", "COLUMN") or p.kw("DROP"):
            cname = p.ident()
            if p.kw("FROM"):
                p.ident()
            c = t.col(cname)
            if c is None:
                raise sql_error("Column does not exists: %s" % cname)
            if c.is_key and t.is_unique:
                raise sql_error("Can not drop key column in Unique data model table")
            if c.is_key and len(t.key_cols) == 1:
                raise sql_error("Can not drop all key columns")
            if t.seq_map_col and t.seq_map_col.lower() == c.name.lower():
                raise sql_error("Can not drop sequence mapping column[%s] in Unique data model "
                                "table[%s]" % (c.name, t.name))
            t.columns.remove(c)
            if c.is_key:
                t.key_cols = [k for k in t.key_cols if k != c.name]
            for r in t.rows.values():
                r["vals"].pop(c.name, None)
            for r in t.dup_rows:
                r.pop(c.name, None)
        elif p.kw("MODIFY", "COLUMN"):
            nc = parse_column_def(p)
            if p.kw("AFTER"):
                p.ident()
            p.kw("FIRST")
            c = t.col(nc.name)
            if c is None:
                raise sql_error("Column[%s] does not exists" % nc.name)
            if not _widening_ok(c.type, nc.type):
                raise sql_error("Can not change %s to %s" % (c.type.desc(), nc.type.desc()))
            if c.nullable and not nc.nullable:
                raise sql_error("Can not change from nullable to non-nullable")
            old_type = c.type
            c.type = nc.type
            c.nullable = nc.nullable
            c.comment = nc.comment or c.comment
            if nc.has_default:
                c.default, c.has_default = nc.default, True
            if t.seq_map_col and t.seq_map_col.lower() == c.name.lower():
                t.seq_type = copy.deepcopy(nc.type)

            def reconv(v):
                if v is None:
                    return None
                try:
                    if old_type.base == "DECIMAL" or isinstance(v, Decimal):
                        return convert(nc.type, v, CONF.timezone)
                    return convert(nc.type, v if not isinstance(v, list) else jdump(v),
                                   CONF.timezone)
                except (CastFail, Invalid):
                    return v
            for r in t.rows.values():
                r["vals"][c.name] = reconv(r["vals"].get(c.name))
            for r in t.dup_rows:
                r[c.name] = reconv(r.get(c.name))
            if c.is_key and t.is_unique:
                t.rows = {tuple(r["vals"].get(k) for k in t.key_cols): r for r in t.rows.values()}
        elif p.kw("RENAME", "COLUMN"):
            old, new = p.ident(), p.ident()
            c = t.col(old)
            if c is None:
                raise sql_error("Column[%s] does not exists" % old)
            if t.col(new) is not None:
                raise sql_error("Column name[%s] is already used" % new)
            for r in t.rows.values():
                r["vals"][new] = r["vals"].pop(c.name, None)
            for r in t.dup_rows:
                r[new] = r.pop(c.name, None)
            t.key_cols = [new if k == c.name else k for k in t.key_cols]
            if t.seq_map_col == c.name:
                t.seq_map_col = new
            c.name = new
        elif p.kw("RENAME"):
            new = p.ident()
            if STORE.get_table(db, new) is not None:
                raise sql_error("Table name[%s] is already used" % new)
            del STORE.dbs[db][t.name]
            t.name = new
            STORE.dbs[db][new] = t
        elif p.kw("ENABLE", "FEATURE"):
            feat = p.name_or_string().upper()
            props = {}
            if p.kw("WITH", "PROPERTIES"):
                props = p.properties()
            if feat == "UPDATE_FLEXIBLE_COLUMNS":
                if not (t.is_unique and t.mow):
                    raise sql_error("Unique key model with merge on write only support "
                                    "UPDATE_FLEXIBLE_COLUMNS")
                t.skip_bitmap = True
            elif feat == "SEQUENCE_LOAD":
                if not t.is_unique:
                    raise sql_error("Sequence column only support UNIQUE_KEYS")
                lp = {k.lower(): v for k, v in props.items()}
                t.seq_type = parse_type_string(lp.get("function_column.sequence_type", "bigint"))
            elif feat != "BATCH_DELETE":
                raise sql_error("unknown feature name: %s" % feat)
        elif p.kw("SET"):
            props = p.properties()
            t.properties.update(props)
        elif p.kw("MODIFY", "COMMENT"):
            t.comment = p.next()[1]
        else:
            raise sql_parse_error("unsupported ALTER TABLE clause near '%s'" % p.peek()[1])
        if not p.op(","):
            break
    if not p.at_end():
        raise sql_parse_error("unexpected '%s'" % p.peek()[1])
    return ("exec", None)


def show_create_table(t):
    lines = []
    for c in t.columns:
        s = "  `%s` %s %s" % (c.name, c.type.sql(), "NULL" if c.nullable else "NOT NULL")
        if c.auto_inc:
            s += " AUTO_INCREMENT(1)"
        if c.has_default:
            s += " DEFAULT CURRENT_TIMESTAMP" if c.default == "CURRENT_TIMESTAMP" else \
                ' DEFAULT "%s"' % c.default
        s += ' COMMENT "%s"' % c.comment
        lines.append(s)
    props = {"replication_allocation": "tag.location.default: 1"}
    if t.is_unique:
        props["enable_unique_key_merge_on_write"] = "true" if t.mow else "false"
    if t.seq_map_col:
        props["function_column.sequence_col"] = t.seq_map_col
    elif t.seq_type is not None:
        props["function_column.sequence_type"] = t.seq_type.sql()
    props["light_schema_change"] = "true" if t.light_sc else "false"
    if t.skip_bitmap:
        props["enable_unique_key_skip_bitmap_column"] = "true"
    for k, v in t.properties.items():
        props.setdefault(k, v)
    text = "CREATE TABLE `%s` (\n%s\n) ENGINE=OLAP\n%s KEY(%s)\nCOMMENT '%s'\n%s\nPROPERTIES (\n%s\n);" % (
        t.name, ",\n".join(lines), t.keys_type, ", ".join("`%s`" % k for k in t.key_cols),
        t.comment or "OLAP", t.distribution,
        ",\n".join('"%s" = "%s"' % (k, v) for k, v in props.items()))
    return text


def sql_show(p, default_db):
    if p.kw("DATABASES") or p.kw("SCHEMAS"):
        return ("rs", [("Database", "VARCHAR")], [[d] for d in sorted(STORE.dbs)])
    full = p.kw("FULL")
    if p.kw("TABLES"):
        db = default_db
        if p.kw("FROM") or p.kw("IN"):
            db = p.ident()
        if STORE.get_db(db) is None:
            raise sql_error("Unknown database '%s'" % db)
        like = None
        if p.kw("LIKE"):
            like = p.next()[1]
        names = sorted(STORE.dbs[db])
        if like is not None:
            names = [n for n in names if eval_expr(("like", ("lit", n), ("lit", like), False),
                                                   None)]
        if full:
            return ("rs", [("Tables_in_" + db, "VARCHAR"), ("Table_type", "VARCHAR")],
                    [[n, "BASE TABLE"] for n in names])
        return ("rs", [("Tables_in_" + db, "VARCHAR")], [[n] for n in names])
    if p.kw("CREATE", "TABLE"):
        db, name = p.qualified()
        db, t = _resolve_table(db, name, default_db)
        if t is None:
            raise sql_error("Unknown table '%s'" % name)
        return ("rs", [("Table", "VARCHAR"), ("Create Table", "VARCHAR")],
                [[t.name, show_create_table(t)]])
    if p.kw("COLUMNS") or p.kw("FIELDS"):
        p.kw("FROM") or p.kw("IN")
        db, name = p.qualified()
        if p.kw("FROM") or p.kw("IN"):
            db = p.ident()
        return sql_desc_table(db, name, default_db)
    if p.kw("TRANSACTION"):
        db = default_db
        if p.kw("FROM") or p.kw("IN"):
            db = p.ident()
        if STORE.get_db(db) is None:
            raise sql_error("Unknown database '%s'" % db)
        cond = None
        if p.kw("WHERE"):
            cond = p.parse_expr()
        cols = ["TransactionId", "Label", "Coordinator", "TransactionStatus", "LoadJobSourceType",
                "PrepareTime", "PreCommitTime", "CommitTime", "PublishTime", "FinishTime",
                "Reason", "ErrorReplicasCount", "ListenerId", "TimeoutMs", "ErrMsg"]

        def ts(x):
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(x)) if x else "NULL"
        rows = []
        for txn in sorted(STORE.txns.values(), key=lambda x: x.id):
            if txn.db != db:
                continue
            info = {"id": txn.id, "label": txn.label, "status": txn.status}
            if cond is not None and not eval_expr(cond, lambda n: info.get(n.lower())):
                continue
            rows.append([str(txn.id), txn.label, "BE: 127.0.0.1", txn.status,
                         "BACKEND_STREAMING", ts(txn.prepare_time), ts(txn.precommit_time),
                         ts(txn.finish_time if txn.status in ("COMMITTED", "VISIBLE") else None),
                         ts(txn.finish_time if txn.status == "VISIBLE" else None),
                         ts(txn.finish_time), txn.reason, "0", "-1", str(txn.timeout * 1000), ""])
        return ("rs", [(c, "VARCHAR") for c in cols], rows)
    raise SqlError("Failed to execute sql: java.lang.Exception: Unsupported statement type")


def sql_desc(p, default_db):
    db, name = p.qualified()
    p.kw("ALL")
    return sql_desc_table(db, name, default_db)


def sql_desc_table(db, name, default_db):
    db, t = _resolve_table(db, name, default_db)
    if t is None:
        raise sql_error("Unknown table '%s'" % name)
    rows = []
    for c in t.columns:
        extra = ""
        if t.is_unique and not c.is_key:
            extra = "REPLACE"
        if c.auto_inc:
            extra = "AUTO_INCREMENT"
        rows.append([c.name, c.type.desc(), "Yes" if c.nullable else "No",
                     "true" if c.is_key else "false", c.default if c.has_default else None, extra])
    return ("rs", [(h, "VARCHAR") for h in ("Field", "Type", "Null", "Key", "Default", "Extra")],
            rows)


def sql_select(p, default_db):
    items = []      # ("star",) | ("count", alias) | ("col", name, alias) | ("lit", v, alias)
    while True:
        if p.op("*"):
            items.append(("star",))
        elif p.is_kw("COUNT") and p.peek(1) == ("op", "("):
            p.next()
            p.next()
            if not p.op("*"):
                p.parse_expr()
            p.expect_op(")")
            alias = "count(*)"
            if p.kw("AS") or p.peek()[0] in ("id", "qid") and not p.is_kw("FROM"):
                alias = p.ident()
            items.append(("count", alias))
        else:
            t = p.peek()
            if t[0] in ("num", "str") or (t[0] == "op" and t[1] == "-"):
                e = p._operand()
                alias = jdump(e[1]) if not isinstance(e[1], str) else e[1]
                if p.kw("AS"):
                    alias = p.ident()
                items.append(("lit", e[1], alias))
            else:
                name = p.ident()
                if p.op("."):
                    if p.op("*"):
                        items.append(("star",))
                        if not p.op(","):
                            break
                        continue
                    name = p.ident()
                alias = name
                if p.kw("AS"):
                    alias = p.ident()
                elif p.peek()[0] in ("id", "qid") and not p.is_kw("FROM"):
                    alias = p.ident()
                items.append(("col", name, alias))
        if not p.op(","):
            break
    if not p.kw("FROM"):
        if not p.at_end():
            raise sql_parse_error("unexpected '%s'" % p.peek()[1])
        meta = [(it[2], "VARCHAR" if isinstance(it[1], str) else "BIGINT") for it in items
                if it[0] == "lit"]
        return ("rs", meta, [[it[1] for it in items if it[0] == "lit"]])
    db, name = p.qualified()
    if p.peek()[0] in ("id", "qid") and not any(p.is_kw(k) for k in ("WHERE", "ORDER", "LIMIT")):
        p.kw("AS")
        p.ident()
    dbn = db or default_db
    if STORE.get_db(dbn) is None:
        raise sql_error("Unknown database '%s'" % dbn)
    t = STORE.get_table(dbn, name)
    if t is None:
        raise sql_error("Table [%s] does not exist in database [%s]." % (name, dbn))
    cond = None
    order = []
    limit = None
    offset = 0
    if p.kw("WHERE"):
        cond = p.parse_expr()
    if p.kw("ORDER", "BY"):
        while True:
            t2 = p.peek()
            if t2[0] == "num":
                p.next()
                ref = ("pos", int(t2[1]))
            else:
                ref = ("name", p.ident())
                if p.op("."):
                    ref = ("name", p.ident())
            desc = False
            if p.kw("DESC"):
                desc = True
            else:
                p.kw("ASC")
            order.append((ref, desc))
            if not p.op(","):
                break
    if p.kw("LIMIT"):
        a = p.int_lit()
        if p.op(","):
            offset, limit = a, p.int_lit()
        else:
            limit = a
            if p.kw("OFFSET"):
                offset = p.int_lit()
    if not p.at_end():
        raise sql_parse_error("unexpected '%s'" % p.peek()[1])

    rows = t.all_rows()

    def getter(row):
        def get(n):
            c = t.full_col(n)
            if c is None:
                raise sql_error("Unknown column '%s' in 'table list'" % n)
            if c.name == SEQ_COL:
                return row.get(SEQ_COL)
            if c.name == DELETE_SIGN:
                return 0
            return row.get(c.name)
        return get
    if cond is not None:
        rows = [r for r in rows if eval_expr(cond, getter(r)) is True]
    if any(it[0] == "count" for it in items):
        out_meta, out = [], []
        for it in items:
            if it[0] == "count":
                out_meta.append((it[1], "BIGINT"))
                out.append(len(rows))
            elif it[0] == "lit":
                out_meta.append((it[2], "VARCHAR"))
                out.append(it[1])
            else:
                raise sql_error("select list expression not produced by aggregation output")
        return ("rs", out_meta, [out])
    cols = []       # (out name, getter name, ctype)
    for it in items:
        if it[0] == "star":
            for c in t.columns:
                cols.append((c.name, c.name, c.type))
        elif it[0] == "col":
            c = t.full_col(it[1])
            if c is None:
                raise sql_error("Unknown column '%s' in 'table list'" % it[1])
            cols.append((it[2] if it[2] != it[1] else c.name, c.name, c.type))
        else:
            cols.append((it[2], None, it[1]))
    for ref, desc in reversed(order):
        if ref[0] == "pos":
            cname = cols[ref[1] - 1][1]
        else:
            cname = ref[1]
            for oc in cols:
                if oc[0].lower() == cname.lower():
                    cname = oc[1] or cname
        rows.sort(key=lambda r, n=cname: sort_key(getter(r)(n)), reverse=desc)
    rows = rows[offset:]
    if limit is not None:
        rows = rows[:limit]
    meta = [(oc[0], oc[2].meta_name() if isinstance(oc[2], ColType) else "VARCHAR") for oc in cols]
    data = []
    for r in rows:
        g = getter(r)
        data.append([result_value(g(oc[1]), oc[2]) if oc[1] is not None else oc[2]
                     for oc in cols])
    return ("rs", meta, data)


def _array_text(v):
    if v is None:
        return "null"
    if isinstance(v, list):
        return "[" + ", ".join(_array_text(x) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "1" if v else "0"
    return jdump(v)


def result_value(v, ct):
    """A value as the JDBC driver returns it (StatementSubmitter uses getObject,
    getString for DATE/DATETIME)."""
    if v is None:
        return None
    if isinstance(ct, ColType) and ct.base == "ARRAY":
        return _array_text(v)
    return v


def state_value(v):
    """Values in /_emulator/state: decimals as strings so no digit is lost."""
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, list):
        return [state_value(x) for x in v]
    return v


# --------------------------------------------------------------------------
# Stream load (be/src/http/action/stream_load.cpp + FE load planning)
# --------------------------------------------------------------------------

class LoadCtx:
    """StreamLoadContext: what to_json() prints."""

    def __init__(self):
        self.txn_id = -1
        self.label = ""
        self.comment = ""
        self.two_pc = False
        self.group_commit = False
        self.status = None
        self.total = 0
        self.loaded = 0
        self.filtered = 0
        self.unselected = 0
        self.load_bytes = 0
        self.start = time.time()
        self.load_ms = 0
        self.begin_ms = 0
        self.put_ms = 0
        self.read_ms = 0
        self.write_ms = 0
        self.commit_ms = 0
        self.error_url = ""

    def status_name(self):
        if self.status is None:
            return "Success"
        if self.status.code == "PUBLISH_TIMEOUT":
            return "Publish Timeout"
        if self.status.code == "LABEL_ALREADY_EXISTS":
            return "Label Already Exists"
        return "Fail"

    def to_json(self):
        d = {"TxnId": self.txn_id, "Label": self.label, "Comment": self.comment}
        if not self.group_commit:
            d["TwoPhaseCommit"] = "true" if self.two_pc else "false"
        else:
            d["GroupCommit"] = True
        d["Status"] = self.status_name()
        if self.status is not None and self.status.code == "LABEL_ALREADY_EXISTS":
            d["ExistingJobStatus"] = self.status.existing_job_status or ""
        d["Message"] = "OK" if self.status is None else self.status.to_string()
        d["NumberTotalRows"] = self.total
        d["NumberLoadedRows"] = self.loaded
        d["NumberFilteredRows"] = self.filtered
        d["NumberUnselectedRows"] = self.unselected
        d["LoadBytes"] = self.load_bytes
        d["LoadTimeMs"] = self.load_ms
        if not self.group_commit:
            d["BeginTxnTimeMs"] = self.begin_ms
        d["StreamLoadPutTimeMs"] = self.put_ms
        d["ReadDataTimeMs"] = self.read_ms
        d["WriteDataTimeMs"] = self.write_ms
        if not self.group_commit:
            d["CommitAndPublishTimeMs"] = self.commit_ms
        if self.error_url:
            d["ErrorURL"] = self.error_url
        return d


def parse_basic_auth(value):
    """be/src/http/utils.cpp parse_basic_auth: "Basic base64(user:passwd)"."""
    if not value:
        return None
    parts = value.split()
    if len(parts) != 2 or parts[0].lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(parts[1], validate=False).decode("utf-8")
    except Exception:
        return None
    if ":" not in decoded:
        return None
    user, pwd = decoded.split(":", 1)
    # "user@cluster" is accepted; the FE strips the cluster part
    user = user.split("@", 1)[0]
    if ":" in user:             # "default_cluster:user"
        user = user.split(":", 1)[1]
    return user, pwd


def check_password(user, pwd):
    return user == CONF.user and pwd == CONF.password


def access_denied(user, pwd):
    return "Access denied for user '%s@127.0.0.1' (using password: %s)" % (
        user, "YES" if pwd else "NO")


class ColumnsSpec:
    """The `columns` header: source field names (in order) and `dst=expr` mappings."""

    def __init__(self, text):
        self.sources = []       # bare names, in order (CSV position / JSON key / jsonpaths)
        self.mappings = {}      # lower(dst) -> (dst, expr)
        self.targets = []       # every name on the left: bare names and dst of mappings
        for item in _split_top(text):
            item = item.strip()
            if not item:
                continue
            m = re.match(r"^`?([^`=\s]+)`?\s*=\s*(.+)$", item, re.S)
            if m:
                dst, expr_text = m.group(1), m.group(2).strip()
                try:
                    expr = parse_condition(expr_text)
                except SqlError:
                    raise fe_error("emulator: unsupported column expression: %s" % item)
                if expr[0] not in ("col", "lit"):
                    # EMULATOR: only `dst=src_column` and `dst=literal` are implemented
                    raise fe_error("emulator: unsupported column expression: %s" % item)
                self.mappings[dst.lower()] = (dst, expr)
                self.targets.append(dst)
            else:
                name = item.strip("`")
                self.sources.append(name)
                self.targets.append(name)


def _split_top(text):
    out, depth, cur, q = [], 0, [], None
    for ch in text:
        if q:
            cur.append(ch)
            if ch == q:
                q = None
            continue
        if ch in "'\"":
            q = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur))
    return out


def _jsonpath_get(obj, path):
    """Minimal JSONPath ($, .name, ['name'], [index])."""
    path = path.strip()
    if not path.startswith("$"):
        return False, None
    toks = re.findall(r"\.([^.\[\]]+)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[(\d+)\]",
                      path[1:])
    cur = obj
    for a, b, c, d in toks:
        if d:
            if not isinstance(cur, list) or int(d) >= len(cur):
                return False, None
            cur = cur[int(d)]
        else:
            k = a or b or c
            if not isinstance(cur, dict) or k not in cur:
                return False, None
            cur = cur[k]
    return True, cur


class ErrorLog:
    """The per-load error log behind ErrorURL (RuntimeState::append_error_msg_to_file)."""

    def __init__(self):
        self.lines = []
        self.count = 0

    def add(self, reason, src_line):
        if self.count < MAX_ERROR_NUM:
            # "export reason first in case src line too long and be truncated"
            self.lines.append("Reason: %s. src line [%s]; " % (reason, src_line))
        elif self.count == MAX_ERROR_NUM:
            self.lines.append("TOO MUCH ERROR! already reach %d. show no more next error."
                              % MAX_ERROR_NUM)
        self.count += 1


def _hdr_bool(h, name):
    return h.get(name, "").strip().lower() == "true"


def read_source_rows(fmt, body, h, src_names, elog):
    """Split the body into source rows.  Yields (fields, src_line) where fields
    is a dict {name: raw} of the fields present, or (None, src_line) for a row
    that could not be parsed (already logged)."""
    if fmt == "csv":
        yield from _read_csv(body, h, src_names, elog)
        return
    by_line = _hdr_bool(h, "read_json_by_line")
    strip = _hdr_bool(h, "strip_outer_array")
    if not h.get("read_json_by_line") and not h.get("strip_outer_array"):
        # Doris 3.x: with neither option set, JSON is read line by line
        by_line = True
    jsonpaths = None
    if h.get("jsonpaths"):
        try:
            jsonpaths = json_loads(h["jsonpaths"])
            if not isinstance(jsonpaths, list):
                raise ValueError
        except ValueError:
            raise be_error("DATA_QUALITY_ERROR", "Invalid json path: %s" % h["jsonpaths"])
    json_root = h.get("json_root", "")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        elog.add("Parse json data for JsonDoc failed. code: 21, error info: The input is not "
                 "valid UTF-8", "")
        yield None, ""
        return
    docs = [ln for ln in text.split("\n")] if by_line else [text]
    for doc in docs:
        doc_s = doc.strip().rstrip("\r")
        if not doc_s:
            continue
        try:
            val = json_loads(doc_s)
        except ValueError as e:
            elog.add("Parse json data for JsonDoc failed. code: 3, error info: %s" % e, doc_s)
            yield None, doc_s
            continue
        if json_root:
            ok, val = _jsonpath_get(val, json_root)
            if not ok:
                elog.add("JSON Root not found.", doc_s)
                yield None, doc_s
                continue
        if isinstance(val, list):
            if not strip:
                elog.add("JSON data is array-object, `strip_outer_array` must be TRUE.", doc_s)
                yield None, doc_s
                continue
            objs = val
        else:
            if strip:
                elog.add("JSON data is not an array-object, `strip_outer_array` must be FALSE.",
                         doc_s)
                yield None, doc_s
                continue
            objs = [val]
        for obj in objs:
            line = jdump(obj)
            if jsonpaths is not None:
                fields = {}
                for name, path in zip(src_names, jsonpaths):
                    ok, v = _jsonpath_get(obj, str(path))
                    if ok:
                        fields[name] = v
                yield fields, line
                continue
            if not isinstance(obj, dict):
                elog.add("Expect json object value", line)
                yield None, line
                continue
            yield obj, line


def _sep(h, name, default):
    v = h.get(name)
    if not v:
        return default
    if v.lower().startswith("\\x") and len(v) >= 4:
        try:
            return bytes.fromhex(v[2:]).decode("latin-1")
        except ValueError:
            return v
    return v


def _read_csv(body, h, src_names, elog):
    sep = _sep(h, "column_separator", "\t")
    delim = _sep(h, "line_delimiter", "\n")
    enclose = h.get("enclose", "")
    trim_quotes = _hdr_bool(h, "trim_double_quotes")
    text = body.decode("utf-8", "replace")
    lines = text.split(delim)
    if lines and lines[-1] == "":
        lines.pop()
    skip = 0
    fmt = h.get("format", "").lower()
    if fmt == "csv_with_names":
        skip = 1
    elif fmt == "csv_with_names_and_types":
        skip = 2
    try:
        skip += int(h.get("skip_lines", "0") or 0)
    except ValueError:
        pass
    for line in lines[skip:]:
        if delim == "\n" and line.endswith("\r"):
            line = line[:-1]
        if enclose:
            parts, cur, inq = [], [], False
            i = 0
            while i < len(line):
                ch = line[i]
                if ch == enclose:
                    inq = not inq
                elif not inq and line.startswith(sep, i):
                    parts.append("".join(cur))
                    cur = []
                    i += len(sep)
                    continue
                else:
                    cur.append(ch)
                i += 1
            parts.append("".join(cur))
        else:
            parts = line.split(sep)
        if trim_quotes:
            parts = [x[1:-1] if len(x) >= 2 and x[0] == '"' and x[-1] == '"' else x for x in parts]
        if len(parts) != len(src_names):
            more = len(parts) > len(src_names)
            elog.add("actual column number in csv file is %s than schema column number.actual "
                     "number: %d, column separator: [%s], line delimiter: [%s], schema column "
                     "number: %d; " % ("more" if more else "less", len(parts), sep,
                                       delim.replace("\n", "\\n"), len(src_names)), line)
            yield None, line
            continue
        fields = {}
        for name, v in zip(src_names, parts):
            fields[name] = None if v == "\\N" else v
        yield fields, line


class LoadPlan:
    """What the FE's streamLoadPut planning decides about a load."""
    pass


def plan_load(table, h, fmt, strict):
    """Header/plan checks of stream_load.cpp _process_put and the FE's
    StreamLoadPlanner; returns a LoadPlan."""
    pl = LoadPlan()
    pl.strict = strict
    merge = h.get("merge_type", "")
    pl.merge = "APPEND"
    if merge:
        if merge.upper() not in ("APPEND", "DELETE", "MERGE"):
            raise be_error("INVALID_ARGUMENT", "Invalid merge type %s" % merge)
        pl.merge = merge.upper()
        if pl.merge == "MERGE" and not h.get("delete"):
            raise be_error("INVALID_ARGUMENT", "Excepted DELETE ON clause when merge type is MERGE.")
        if pl.merge != "MERGE" and h.get("delete"):
            raise be_error("INVALID_ARGUMENT",
                           "Not support DELETE ON clause when merge type is not MERGE.")
    mode = "UPSERT"
    if h.get("unique_key_update_mode"):
        m = h["unique_key_update_mode"].upper()
        if m not in ("UPSERT", "UPDATE_FIXED_COLUMNS", "UPDATE_FLEXIBLE_COLUMNS"):
            raise be_error("INVALID_ARGUMENT", "Invalid unique_key_partial_mode %s, must be one of "
                           "'UPSERT', 'UPDATE_FIXED_COLUMNS' or 'UPDATE_FLEXIBLE_COLUMNS'"
                           % h["unique_key_update_mode"])
        if m == "UPDATE_FLEXIBLE_COLUMNS":
            if fmt != "json":
                raise be_error("INVALID_ARGUMENT", "flexible partial update only support json "
                               "format as input file currently")
            for hn, what in (("fuzzy_parse", None), ("columns", "'columns'"),
                             ("jsonpaths", "'jsonpaths'"), ("hidden_columns", "'hidden_columns'"),
                             ("function_column.sequence_col", "'function_column.sequence_col'"),
                             ("merge_type", "'merge_type'"), ("where", "'where'")):
                if hn == "fuzzy_parse":
                    if _hdr_bool(h, hn):
                        raise be_error("INVALID_ARGUMENT", "Don't support flexible partial update "
                                       "when 'fuzzy_parse' is enabled")
                elif h.get(hn):
                    raise be_error("INVALID_ARGUMENT", "Don't support flexible partial update when "
                                   "%s is specified" % what)
        mode = m
    elif _hdr_bool(h, "partial_columns"):
        # only considered when unique_key_update_mode is not set
        mode = "UPDATE_FIXED_COLUMNS"
    pol = h.get("partial_update_new_key_behavior", "")
    pl.new_key_policy = "APPEND"
    if pol:
        if pol.upper() not in ("APPEND", "ERROR"):
            raise be_error("INVALID_ARGUMENT", "Invalid partial_update_new_key_behavior %s, must "
                           "be one of {'APPEND', 'ERROR'}" % pol.upper())
        pl.new_key_policy = pol.upper()

    # ---- FE: StreamLoadPlanner.plan() ----
    if not table.is_unique and pl.merge != "APPEND":
        raise fe_error("load by MERGE or DELETE is only supported in unique tables.")
    seq_hdr = h.get("function_column.sequence_col", "")
    if mode != "UPDATE_FLEXIBLE_COLUMNS" and table.seq_type is not None and not seq_hdr \
            and table.seq_map_col is None:
        raise fe_error("Table %s has sequence column, need to specify the sequence column"
                       % table.name)
    if table.seq_type is None and seq_hdr:
        raise fe_error("There is no sequence column in the table %s" % table.name)
    if mode != "UPSERT" and not (table.is_unique and table.mow):
        raise fe_error("Only unique key merge on write support partial update")
    pl.columns = ColumnsSpec(h["columns"]) if h.get("columns") else None
    pl.hidden = [x.strip().strip("`") for x in h.get("hidden_columns", "").split(",")
                 if x.strip()]
    if mode == "UPDATE_FIXED_COLUMNS" and pl.columns is None:
        mode = "UPSERT"      # no column list: a normal full-row load
    if mode == "UPDATE_FLEXIBLE_COLUMNS":
        if not table.skip_bitmap:
            raise fe_error("Flexible partial update can only support table with skip bitmap "
                           "hidden column. But table %s doesn't have it. You can use `ALTER TABLE "
                           "%s ENABLE FEATURE \"UPDATE_FLEXIBLE_COLUMNS\";` to add it to the table."
                           % (table.name, table.name))
        if not table.light_sc:
            raise fe_error("Flexible partial update can only support table with light_schema_change"
                           " enabled. But table %s's property light_schema_change is false"
                           % table.name)
    pl.update_cols = None
    if mode == "UPDATE_FIXED_COLUMNS":
        named = {n.lower() for n in pl.columns.targets} | {n.lower() for n in pl.hidden}
        upd = []
        missing_other = False
        for c in table.columns:
            if c.name.lower() in named:
                upd.append(c.name)
            elif c.is_key and not c.auto_inc:
                raise fe_error("Partial update should include all key columns, missing: %s"
                               % c.name)
            elif not (c.is_key and c.auto_inc):
                missing_other = True
        if SEQ_COL.lower() in named and not seq_hdr:
            raise fe_error("Partial update should not include invisible column except delete "
                           "sign column: %s" % SEQ_COL)
        if not missing_other:
            mode = "UPSERT"          # every column is present: a full-row load
        else:
            pl.update_cols = upd
            # can_insert_new_rows_in_partial_update: every unmentioned column must have a
            # default value or be nullable for a new key to be insertable
            pl.missing_blocker = None
            for c in table.columns:
                if c.name not in upd and not c.has_default and not c.nullable \
                        and not c.auto_inc:
                    pl.missing_blocker = c.name
                    break
    pl.mode = mode
    if mode == "UPSERT" and pl.columns is not None:
        # unmentioned columns get their default; a NOT NULL one without default is an error
        named = {n.lower() for n in pl.columns.targets} | {n.lower() for n in pl.hidden}
        for c in table.columns:
            if c.name.lower() not in named and not c.has_default and not c.nullable \
                    and not c.auto_inc:
                raise fe_error("Column has no default value. column: %s" % c.name)
    # source field names (CSV positions / JSON keys / jsonpaths order)
    if pl.columns is not None:
        pl.src_names = list(pl.columns.sources)
    else:
        pl.src_names = table.visible_names()
    for hc in pl.hidden:
        if hc.lower() not in [s.lower() for s in pl.src_names]:
            pl.src_names.append(hc)
    pl.seq_src = seq_hdr or None
    pl.where = _load_condition(h, "where")
    pl.delete_cond = _load_condition(h, "delete")
    return pl


def _load_condition(h, name):
    if not h.get(name):
        return None
    try:
        return parse_condition(h[name])
    except SqlError:
        # EMULATOR: only simple predicates (=, <>, <, IN, LIKE, IS NULL, AND/OR/NOT)
        raise fe_error("emulator: cannot parse %s expression: %s" % (name, h[name]))


def _lookup(fields, name):
    """JSON key lookup: exact first, then case-insensitive (column names are
    case-insensitive in Doris)."""
    if name in fields:
        return True, fields[name]
    ln = name.lower()
    for k, v in fields.items():
        if isinstance(k, str) and k.lower() == ln:
            return True, v
    return False, None


def build_ops(table, pl, rows_iter, h, ctx, elog, load_tz, fmt):
    """Turn source rows into row operations; counts total/filtered/unselected."""
    ops = []
    src_lower = {s.lower() for s in pl.src_names}
    flexible = pl.mode == "UPDATE_FLEXIBLE_COLUMNS"
    for fields, line in rows_iter:
        ctx.total += 1
        if fields is None:
            ctx.filtered += 1
            continue
        # --- reader: pick the source fields present in this row ---
        present = {}
        for s in pl.src_names:
            ok, v = _lookup(fields, s)
            if ok:
                present[s.lower()] = v
        if flexible:
            for k in fields:
                if isinstance(k, str):
                    present.setdefault(k.lower(), fields[k])
        if fmt == "json" and not flexible and not any(s.lower() in present for s in pl.src_names):
            elog.add("All fields is null, this is a invalid row.", line)
            ctx.filtered += 1
            continue

        def src(name):
            return present.get(name.lower())

        bad = None
        vals = {}
        # --- visible columns ---
        for c in table.columns:
            ln = c.name.lower()
            m = pl.columns.mappings.get(ln) if pl.columns is not None else None
            if m is not None:
                expr = m[1]
                if expr[0] == "lit":
                    raw, has = expr[1], True
                else:
                    has = expr[1].lower() in present
                    raw = present.get(expr[1].lower())
            elif ln in src_lower or flexible:
                has = ln in present
                raw = present.get(ln)
            else:
                has, raw = False, None
            if not has:
                if pl.mode == "UPDATE_FIXED_COLUMNS" and c.name not in pl.update_cols:
                    continue
                if flexible:
                    continue
                if c.has_default:
                    vals[c.name] = c.default_value(load_tz)
                    continue
                if not c.nullable and (ln in src_lower or m is not None) and fmt == "json":
                    bad = ("The column `%s` is not nullable, but it's not found in jsondata."
                           % c.name, line)
                    break
                vals[c.name] = None
                if not c.nullable:
                    bad = ("column_name[%s], null value for not null column, type=%s"
                           % (c.name, c.type.desc()), "")
                    break
                continue
            try:
                v = convert(c.type, raw, load_tz)
            except CastFail:
                if pl.strict:
                    bad = ("column(%s) value is incorrect while strict mode is true, src value is %s"
                           % (c.name, raw_text(raw)), line)
                    break
                v = None
            except Invalid as e:
                bad = ("column_name[%s], %s" % (c.name, e), "")
                break
            if v is None and not c.nullable:
                bad = ("column_name[%s], null value for not null column, type=%s"
                       % (c.name, c.type.desc()), "")
                break
            vals[c.name] = v
        if bad is not None:
            elog.add(bad[0], bad[1])
            ctx.filtered += 1
            continue

        def target(name):
            c = table.col(name)
            if c is not None and c.name in vals:
                return vals[c.name]
            return src(name)

        # --- where: rows that do not match are "unselected" ---
        if pl.where is not None and eval_expr(pl.where, target) is not True:
            ctx.unselected += 1
            continue
        # --- delete sign ---
        delete = False
        if table.has_delete_sign:
            if pl.merge == "DELETE":
                delete = True
            elif pl.merge == "MERGE":
                delete = eval_expr(pl.delete_cond, target) is True
            else:
                d_has = DELETE_SIGN.lower() in present and (
                    DELETE_SIGN.lower() in src_lower or flexible)
                if pl.columns is not None and DELETE_SIGN.lower() in pl.columns.mappings:
                    e = pl.columns.mappings[DELETE_SIGN.lower()][1]
                    raw = e[1] if e[0] == "lit" else src(e[1])
                    d_has = True
                else:
                    raw = present.get(DELETE_SIGN.lower())
                if d_has and raw is not None:
                    try:
                        delete = convert(ColType("TINYINT"), raw, load_tz) != 0
                    except (CastFail, Invalid):
                        delete = False
        # --- sequence value ---
        seq, seq_given = None, False
        if table.seq_type is not None:
            raw, has = None, False
            if pl.seq_src:
                c = table.col(pl.seq_src)
                if c is not None and c.name in vals:
                    raw, has = vals[c.name], True
                else:
                    has = pl.seq_src.lower() in present
                    raw = present.get(pl.seq_src.lower())
            elif table.seq_map_col:
                c = table.col(table.seq_map_col)
                if c.name in vals:
                    raw, has = vals[c.name], True
            if not has and SEQ_COL.lower() in present and (SEQ_COL.lower() in src_lower
                                                             or flexible):
                raw, has = present[SEQ_COL.lower()], True
            if has:
                try:
                    seq = convert(table.seq_type, raw, load_tz)
                except (CastFail, Invalid):
                    seq = None
                seq_given = True
            elif pl.mode == "UPSERT":
                seq_given = True    # full-row load: the (NULL) sequence value is compared
        op = {"vals": vals, "delete": delete, "seq": seq, "seq_given": seq_given, "line": line}
        if table.is_unique:
            missing_key = [k for k in table.key_cols if k not in vals]
            if missing_key:
                # EMULATOR: flexible rows must carry every key column
                elog.add("the key column `%s` is missing in the row" % missing_key[0], line)
                ctx.filtered += 1
                continue
            op["key"] = tuple(vals[k] for k in table.key_cols)
        if pl.mode == "UPDATE_FIXED_COLUMNS":
            op["cols"] = list(pl.update_cols)
        elif flexible:
            op["cols"] = [c.name for c in table.columns if c.name in vals]
        ops.append(op)
    return ops


def check_partial_new_keys(table, pl, ops, ctx, load_tz):
    """Partial column update: rows whose key is not in the table yet
    (partial_update_info.cpp handle_new_key / rowset writer)."""
    if pl.mode not in ("UPDATE_FIXED_COLUMNS", "UPDATE_FLEXIBLE_COLUMNS"):
        return ops
    exists = {}
    out = []
    for op in ops:
        key = op["key"]
        ex = exists.get(key, key in table.rows)
        if op["delete"]:
            exists[key] = False
            out.append(op)
            continue
        if not ex:
            if pl.new_key_policy == "ERROR":
                raise be_error("INVALID_ARGUMENT", "Can't append new rows in partial update when "
                               "partial_update_new_key_behavior is ERROR. Row with key=[%s] is not "
                               "in table." % ", ".join(raw_text(k) for k in key))
            if pl.strict:
                # strict mode: only existing keys may be updated; the row is filtered
                # (counted, but no error-log line)
                ctx.filtered += 1
                continue
            if pl.mode == "UPDATE_FIXED_COLUMNS":
                if pl.missing_blocker:
                    raise be_error("INVALID_SCHEMA", "the unmentioned column `%s` should have "
                                   "default value or be nullable for newly inserted rows in "
                                   "non-strict mode partial update" % pl.missing_blocker)
            else:
                for c in table.columns:
                    if c.name not in op["vals"] and not c.has_default and not c.nullable:
                        raise be_error("INVALID_SCHEMA", "the unmentioned column `%s` should have "
                                       "default value or be nullable for newly inserted rows in "
                                       "non-strict mode flexible partial update" % c.name)
        exists[key] = True
        out.append(op)
    return out


def new_load_id():
    return "%016x" % (uuid.uuid4().int >> 64)


class StreamLoadResult:
    def __init__(self, http_code=200, body=b"", drop=False, ctype="text/plain; charset=UTF-8"):
        self.http_code = http_code
        self.body = body
        self.drop = drop
        self.ctype = ctype


def stream_load(db, table_name, h, body, chunked, has_cl, fault):
    """Execute one stream load on the BE; returns a StreamLoadResult."""
    ctx = LoadCtx()
    ctx.label = h.get("label", "")
    # two_phase_commit is compared case-sensitively ("true" only)
    ctx.two_pc = h.get("two_phase_commit", "") == "true"
    log = {"kind": "stream_load", "db": db, "table": table_name,
           "headers": {k: v for k, v in h.items() if k != "authorization"},
           "body_bytes": len(body), "fault": fault["mode"] if fault else None}
    txn = None
    ops = []
    pl = None
    load_tz = h.get("timezone") or h.get("time_zone") or CONF.timezone
    elog = ErrorLog()
    try:
        try:
            # ---- on_header: group commit decision (_handle_group_commit) ----
            gc = h.get("group_commit", "")
            if gc and gc.lower() not in ("async_mode", "sync_mode", "off_mode"):
                raise be_error("INVALID_ARGUMENT",
                               "group_commit can only be [async_mode, sync_mode, off_mode]")
            if gc.lower() in ("async_mode", "sync_mode"):
                cl = 0
                if has_cl:
                    try:
                        cl = int(h.get("content-length", "0"))
                    except ValueError:
                        cl = 0
                if cl > 0 or chunked:
                    if chunked:
                        ctx.label = ""
                    partial = _hdr_bool(h, "partial_columns")
                    upd = h.get("unique_key_update_mode", "").upper() in (
                        "UPDATE_FIXED_COLUMNS", "UPDATE_FLEXIBLE_COLUMNS")
                    if not (partial or h.get("partitions") or h.get("temporary_partitions")
                            or ctx.two_pc or upd):
                        if ctx.label:
                            raise be_error("INVALID_ARGUMENT",
                                           "label and group_commit can't be set at the same time")
                        ctx.group_commit = True
            if not ctx.group_commit and not ctx.label:
                ctx.label = str(uuid.uuid4())
            # ---- _on_header ----
            auth = parse_basic_auth(h.get("authorization"))
            if auth is None:
                raise be_error("NOT_AUTHORIZED", "no valid Basic authorization")
            user, pwd = auth
            fmt_h = h.get("format", "")
            fmt = fmt_h.lower() or "csv"
            if fmt in ("csv_with_names", "csv_with_names_and_types", "hive_text"):
                fmt = "csv"
            if fmt not in ("csv", "json", "parquet", "orc", "arrow"):
                raise be_error("DATA_FILE_TYPE_ERROR", "unknown data format, format=%s" % fmt_h)
            if fmt in ("parquet", "orc", "arrow") or h.get("compress_type"):
                raise be_error("NOT_IMPLEMENTED_ERROR", "emulator: only plain csv and json data "
                               "are supported")
            if not has_cl and not chunked:
                raise be_error("INVALID_ARGUMENT", "content_length is empty and transfer-encoding!="
                               "chunked, please set content_length or transfer-encoding=chunked")
            if has_cl and chunked:
                raise be_error("INVALID_ARGUMENT",
                               "please do not set both content_length and transfer-encoding")
            if has_cl and fmt == "json" and not _hdr_bool(h, "read_json_by_line"):
                limit = CONF.json_max_mb * 1024 * 1024
                if len(body) > limit:
                    raise be_error("EXCEEDED_LIMIT", "json body size %d bytes (%.2f MiB) exceeds "
                                   "the limit of %d bytes (%d MiB) set by BE's conf "
                                   "streaming_load_json_max_mb. Increase it if you are sure this "
                                   "load is reasonable" % (len(body), len(body) / 1048576.0, limit,
                                                           CONF.json_max_mb))
            timeout = CONF.default_load_timeout
            if h.get("timeout"):
                if not re.fullmatch(r"\s*[+-]?\d+.*", h["timeout"]):
                    raise be_error("INVALID_ARGUMENT", "Invalid timeout format, stoi")
                timeout = int(re.match(r"\s*([+-]?\d+)", h["timeout"]).group(1))
            ctx.comment = h.get("comment", "")
            strict = False
            if h.get("strict_mode"):
                if h["strict_mode"].lower() not in ("true", "false"):
                    raise be_error("INVALID_ARGUMENT", "Invalid strict mode format. Must be bool type")
                strict = h["strict_mode"].lower() == "true"
            # ---- begin_txn (FE loadTxnBegin) ----
            t0 = time.time()
            with STORE.lock:
                if not check_password(user, pwd):
                    raise fe_error(access_denied(user, pwd))
                if not ctx.group_commit and not re.match(LABEL_REGEX, ctx.label):
                    raise fe_error("Label format error. regex: %s, label: %s"
                                   % (LABEL_REGEX, ctx.label))
                if STORE.get_db(db) is None:
                    raise fe_error("unknown databases, dbName=%s" % db, errcode=7)
                table = STORE.get_table(db, table_name)
                if table is None:
                    raise fe_error("unknown table, tableName=%s" % table_name, errcode=7)
                if not ctx.group_commit:
                    if timeout > 259200 or timeout < 1:
                        raise fe_error("Invalid timeout: %d. Timeout should between 1 and 259200 "
                                       "seconds" % timeout)
                    txn = STORE.begin_txn(db, table_name, ctx.label, timeout)
                    txn.two_pc = ctx.two_pc
                    ctx.txn_id = txn.id
                    STORE.save()
                else:
                    ctx.label = "group_commit_%s_%s" % (new_load_id(), new_load_id())
            ctx.begin_ms = int((time.time() - t0) * 1000)
            ctx.load_bytes = len(body)
            # ---- injected "hang": the txn exists (label RUNNING) while we stall ----
            if fault and fault["mode"] == "hang":
                time.sleep(float(fault.get("hang_seconds") or CONF.hang_seconds))
                if fault.get("apply") is False:
                    raise be_error("CANCELLED", "emulator: load cancelled after injected hang")
            # ---- _process_put: plan (FE streamLoadPut) and execute ----
            t1 = time.time()
            with STORE.lock:
                table = STORE.get_table(db, table_name)
                if table is None:
                    raise fe_error("unknown table, tableName=%s" % table_name, errcode=7)
                pl = plan_load(table, h, "json" if fmt == "json" else "csv", strict)
                ctx.put_ms = int((time.time() - t1) * 1000)
                t2 = time.time()
                rows = read_source_rows("json" if fmt == "json" else "csv", body, h,
                                        pl.src_names, elog)
                ops = build_ops(table, pl, rows, h, ctx, elog, load_tz, fmt)
                ctx.read_ms = int((time.time() - t2) * 1000)
                t3 = time.time()
                ops = check_partial_new_keys(table, pl, ops, ctx, load_tz)
                ctx.loaded = ctx.total - ctx.filtered - ctx.unselected
                if elog.lines:
                    hi, lo = new_load_id(), new_load_id()
                    fname = "__shard_0/error_log_insert_stmt_%s-%s_%s_%s" % (hi, lo, hi, lo)
                    STORE.error_logs[fname] = "\n".join(elog.lines) + "\n"
                    ctx.error_url = "http://127.0.0.1:%d/api/_load_error_log?file=%s" % (
                        CONF.be_port, fname)
                max_ratio = 0.0
                if h.get("max_filter_ratio"):
                    try:
                        max_ratio = float(h["max_filter_ratio"])
                    except ValueError:
                        max_ratio = 0.0
                selected = ctx.total - ctx.unselected
                if selected > 0 and ctx.filtered / float(selected) > max_ratio:
                    # NOTE (Doris): "Do not modify the error message here"
                    raise be_error("DATA_QUALITY_ERROR", "too many filtered rows")
                ctx.write_ms = int((time.time() - t3) * 1000)
                # ---- commit / pre-commit ----
                t4 = time.time()
                if txn is not None and txn.status == "ABORTED":
                    raise fe_error("transaction [%d] is already aborted. abort reason: %s"
                                   % (txn.id, txn.reason))
                clean_ops = [{k: v for k, v in op.items() if k != "line"} for op in ops]
                if ctx.group_commit:
                    STORE.apply_ops(db, table_name, clean_ops, load_tz)
                    gtxn = Txn(STORE.next_txn_id, db, table_name, ctx.label, timeout)
                    STORE.next_txn_id += 1
                    gtxn.status, gtxn.finish_time = "VISIBLE", time.time()
                    STORE.txns[gtxn.id] = gtxn
                    STORE.labels.setdefault(db, {}).setdefault(ctx.label, []).append(gtxn.id)
                    ctx.txn_id = gtxn.id
                elif ctx.two_pc:
                    txn.status = "PRECOMMITTED"
                    txn.precommit_time = time.time()
                    txn.ops = clean_ops
                    txn.load_tz = load_tz
                else:
                    STORE.apply_ops(db, table_name, clean_ops, load_tz)
                    txn.status = "VISIBLE"
                    txn.finish_time = time.time()
                    if fault and fault["mode"] == "publish_timeout":
                        # committed, the data "becomes visible later"
                        ctx.status = DorisError("PUBLISH_TIMEOUT", "TStatus: transaction commit "
                                                "successfully, BUT data will be visible later")
                STORE.save()
                ctx.commit_ms = int((time.time() - t4) * 1000)
            if fault and fault["mode"] == "fail_after_commit":
                # the commit went through, but the BE's commit RPC "timed out"
                ctx.status = be_error("THRIFT_RPC_ERROR", fault.get("message") or
                                      "failed to call frontend service, FE(127.0.0.1:9020), "
                                      "reason: THRIFT_EAGAIN (timed out)")
        except DorisError as e:
            ctx.status = e
            if txn is not None and txn.status == "PREPARE":
                with STORE.lock:
                    STORE.abort_txn(txn, e.to_string())
                    STORE.save()
    except Exception as e:  # never leave a PREPARE txn behind on emulator bugs
        ctx.status = be_error("INTERNAL_ERROR", "emulator error: %r" % (e,))
        if txn is not None and txn.status == "PREPARE":
            with STORE.lock:
                STORE.abort_txn(txn, "emulator error")
        if CONF.verbose:
            import traceback
            traceback.print_exc()
    ctx.load_ms = int((time.time() - ctx.start) * 1000)
    reply = ctx.to_json()
    log.update({"label": ctx.label, "txn_id": ctx.txn_id, "rows_total": ctx.total,
                "rows_loaded": ctx.loaded, "rows_filtered": ctx.filtered,
                "rows_unselected": ctx.unselected, "status": reply["Status"],
                "message": reply["Message"], "two_phase_commit": ctx.two_pc,
                "group_commit": ctx.group_commit, "error_url": ctx.error_url,
                "http_status": 200, "reply": reply})
    if fault and fault["mode"] == "drop":
        log["http_status"] = None
        log["status"] = "Dropped (%s)" % reply["Status"]
    with STORE.lock:
        STORE.log(log)
    if fault and fault["mode"] == "drop":
        return StreamLoadResult(drop=True)
    return StreamLoadResult(200, (pretty(reply) + "\n").encode("utf-8"))


def operate_2pc(db, h, fault):
    """be/src/http/action/stream_load_2pc.cpp + FE loadTxn2PC."""
    label = h.get("label", "")
    txn_s = h.get("txn_id", "")
    msg = ""
    if label:
        msg += "label [%s] " % label
    txn_id = None
    log = {"kind": "2pc", "db": db, "label": label, "txn_id": txn_s,
           "operation": h.get("txn_operation", ""), "fault": fault["mode"] if fault else None}

    def reply(status, m):
        log.update({"status": status, "msg": m})
        with STORE.lock:
            STORE.log(log)
        return pretty({"status": status, "msg": m}).encode("utf-8")
    if txn_s:
        msg += "transaction [%s] " % txn_s
        mm = re.match(r"\s*\+?(\d+)", txn_s)
        if not mm:
            return reply("INTERNAL_ERROR", "convert txn_id [%s] failed, reason=stoull" % txn_s)
        txn_id = int(mm.group(1))
    op = h.get("txn_operation", "")
    msg += op + " successfully."
    if op not in ("commit", "abort"):
        return reply("INTERNAL_ERROR", "transaction operation should be 'commit' or 'abort'")
    if fault and fault["mode"] == "hang":
        time.sleep(float(fault.get("hang_seconds") or CONF.hang_seconds))
    auth = parse_basic_auth(h.get("authorization"))
    with STORE.lock:
        try:
            if auth is None:
                raise fe_error("Access denied for user '@127.0.0.1' (using password: NO)")
            if not check_password(*auth):
                raise fe_error(access_denied(*auth))
            if STORE.get_db(db) is None:
                raise fe_error("unknown databases, dbName=%s" % db, errcode=7)
            if txn_id is None and not label:
                raise fe_error("No transaction id or label selected.")
            if txn_id is not None:
                txn = STORE.txns.get(txn_id)
                if txn is not None and txn.db != db:
                    txn = None
                shown = txn_id
            else:
                cands = STORE.label_txns(db, label)
                if not cands:
                    raise fe_error("transaction not found, label=%s" % label)
                wanted = ("PRECOMMITTED",) if op == "commit" else ("PRECOMMITTED", "PREPARE")
                txn = next((t for t in cands if t.status in wanted), None)
                if txn is None:
                    raise fe_error("running transaction not found, label=%s" % label)
                shown = txn.id
            if txn is None:
                raise fe_error("transaction [%d] not found." % shown)
            if op == "commit":
                if txn.status == "ABORTED":
                    raise fe_error("transaction [%d] is already aborted. abort reason: %s"
                                   % (txn.id, txn.reason))
                if txn.status == "VISIBLE":
                    raise fe_error("transaction [%d] is already visible, not pre-committed."
                                   % txn.id)
                if txn.status == "COMMITTED":
                    raise fe_error("transaction [%d] is already committed, not pre-committed."
                                   % txn.id)
                if txn.status == "PREPARE":
                    raise fe_error("transaction [%d] is prepare, not pre-committed." % txn.id)
                STORE.apply_ops(txn.db, txn.table, txn.ops, txn.load_tz)
                txn.status = "VISIBLE"
                txn.finish_time = time.time()
                txn.ops = []
            else:
                if txn.status == "ABORTED":
                    raise fe_error("transaction [%d] is already aborted, abort reason: %s"
                                   % (txn.id, txn.reason))
                if txn.status in ("COMMITTED", "VISIBLE"):
                    raise fe_error("transaction [%d] is already %s, could not abort."
                                   % (txn.id, txn.status))
                STORE.abort_txn(txn, "User Abort")
            STORE.save()
        except DorisError as e:
            log.update({"status": e.code, "msg": e.msg})
            STORE.log(log)
            return pretty({"status": e.code, "msg": e.msg}).encode("utf-8")
    if fault and fault["mode"] == "fail_after_commit":
        return reply("THRIFT_RPC_ERROR", fault.get("message") or
                     "failed to call frontend service, FE(127.0.0.1:9020), reason: THRIFT_EAGAIN "
                     "(timed out)")
    return reply("Success", msg)


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False      # a "hang" fault must not block shutdown
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DorisEmulator/1.0"
    sys_version = ""

    def log_message(self, fmt, *args):
        if CONF.verbose:
            sys.stderr.write("[%s] %s\n" % (self.server.role, fmt % args))

    def hdrs(self):
        # header names are case-insensitive (evhttp / servlet)
        out = {}
        for k, v in self.headers.items():
            out.setdefault(k.lower(), v.strip())
        return out

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("truncated chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        tr = self.rfile.readline(65537)
                        if tr in (b"\r\n", b"\n", b""):
                            break
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        cl = self.headers.get("Content-Length")
        if cl:
            n = int(cl)
            data = bytearray()
            while len(data) < n:
                chunk = self.rfile.read(n - len(data))
                if not chunk:
                    raise ConnectionError("truncated body")
                data += chunk
            return bytes(data)
        return b""

    def send(self, code, body, ctype="application/json;charset=UTF-8", headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def send_json(self, obj, code=200):
        self.send(code, json.dumps(obj, ensure_ascii=False, default=str))

    def split(self):
        u = urllib.parse.urlsplit(self.path)
        return u.path, u.query

    def do_PUT(self):
        self.dispatch("PUT")

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        try:
            self.route(method)
        except (ConnectionError, BrokenPipeError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # keep the server alive on emulator bugs
            if CONF.verbose:
                import traceback
                traceback.print_exc()
            try:
                self.send(500, "emulator internal error: %r" % (e,), "text/plain")
            except Exception:
                pass


def fe_body(msg, code, data):
    """ResponseEntityBuilder / ResponseBody: {"msg","code","data","count"}."""
    return {"msg": msg, "code": code, "data": data, "count": 0}


class FEHandler(_Handler):

    def is_load_path(self):
        return self.path.split("?", 1)[0].rstrip("/").endswith(("_stream_load",
                                                                 "_stream_load_2pc"))

    def handle_expect_100(self):
        # A load is answered (307 or an error) without asking for the body: the
        # client then sends it to the BE.  Other endpoints read their body, and the
        # servlet container answers "100 Continue" when they do.
        if self.is_load_path():
            return True
        return BaseHTTPRequestHandler.handle_expect_100(self)

    def drain(self):
        """Read and discard a body the client sends anyway (no Expect header, or
        an endpoint that already said "100 Continue")."""
        if "expect" not in self.hdrs() or not self.is_load_path():
            try:
                self.read_body()
            except Exception:
                pass

    def check_auth(self):
        """RestBaseController.executeCheckPassword; None if OK, else the error body."""
        h = self.hdrs()
        auth = parse_basic_auth(h.get("authorization"))
        if auth is None:
            # UnauthorizedException -> RestApiExceptionHandler -> HTTP 200
            return fe_body("Unauthorized", 401, "Need auth information.")
        if not check_password(*auth):
            return fe_body("Unauthorized", 401, access_denied(*auth))
        return None

    def redirect(self, path, query):
        h = self.hdrs()
        auth = parse_basic_auth(h.get("authorization"))
        userinfo = ""
        if CONF.redirect_userinfo and auth is not None:
            userinfo = "%s:%s@" % (urllib.parse.quote(auth[0], safe=""),
                                   urllib.parse.quote(auth[1], safe=""))
        # new URI("http", userInfo, host, port, path, "", null).toASCIIString() ends
        # with "?" (empty query); the original query string is appended after it.
        loc = "http://%s127.0.0.1:%d%s?%s" % (userinfo, CONF.be_port, path, query)
        self.send(307, b"", "text/html;charset=utf-8", {"Location": loc})

    def fe_fault(self, db, table):
        with STORE.lock:
            fault = STORE.take_fault("fe", db, table)
        if not fault:
            return False
        self.drain()
        if fault["mode"] == "hang":
            time.sleep(float(fault.get("hang_seconds") or CONF.hang_seconds))
            return False
        if fault["mode"] == "drop":
            self.close_connection = True
            return True
        self.send(500, "Internal Server Error", "text/plain")
        return True

    def route(self, method):
        path, query = self.split()
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if path.startswith("/_emulator/"):
            return self.admin(method, path)
        if method == "PUT" and len(parts) == 4 and parts[0] == "api" and parts[3] == "_stream_load":
            db, table = parts[1], parts[2]
            if self.fe_fault(db, table):
                return
            err = self.check_auth()
            if err:
                self.drain()
                return self.send_json(err)
            if "expect" not in self.hdrs():
                # "A 'Load' request must have 100-continue header"
                self.drain()
                return self.send_json({"status": "FAILED",
                                       "msg": "There is no 100-continue header"})
            return self.redirect(path, query)
        if method == "PUT" and parts[0] == "api" and parts[-1] == "_stream_load_2pc" \
                and len(parts) in (3, 4):
            if self.fe_fault(parts[1], parts[2] if len(parts) == 4 else None):
                return
            self.drain()
            err = self.check_auth()
            if err:
                return self.send_json(err)
            h = self.hdrs()
            if not h.get("txn_id") and not h.get("label"):
                return self.send_json({"status": "FAILED",
                                       "msg": "No transaction id or label selected."})
            if not h.get("txn_operation"):
                return self.send_json({"status": "FAILED", "msg": "No transaction operation("
                                       "'commit' or 'abort') selected."})
            return self.redirect(path, query)
        if method == "POST" and len(parts) == 4 and parts[:2] == ["api", "query"]:
            return self.sql(parts[3])
        if method == "GET" and len(parts) == 3 and parts[0] == "api" and parts[2] == "get_load_state":
            err = self.check_auth()
            if err:
                return self.send_json(err)
            label = urllib.parse.parse_qs(query).get("label", [""])[0]
            with STORE.lock:
                if STORE.get_db(parts[1]) is None:
                    return self.send_json(fe_body("Error", 1, "unknown databases, dbName=%s"
                                                  % parts[1]))
                state = STORE.label_state(parts[1], label)
            return self.send_json(fe_body("success", 0, state))
        if method == "GET" and len(parts) == 4 and parts[0] == "api" and parts[3] == "_schema":
            return self.schema(parts[1], parts[2])
        if method == "GET" and path.rstrip("/") == "/api/health":
            return self.send_json(fe_body("success", 0, {"online_backend_num": 1,
                                                         "total_backend_num": 1}))
        if method == "GET" and path.rstrip("/") == "/api/backends":
            return self.send_json(fe_body("success", 0, {"backends": [
                {"ip": "127.0.0.1", "http_port": CONF.be_port, "is_alive": True}]}))
        self.drain()
        self.send_json({"timestamp": int(time.time() * 1000), "status": 404, "error": "Not Found",
                        "path": path}, code=404)

    def schema(self, db, table):
        err = self.check_auth()
        if err:
            return self.send_json(err)
        with STORE.lock:
            t = STORE.get_table(db, table)
            if t is None:
                return self.send_json(fe_body("Error", 1, "Table [%s] does not exist in database "
                                              "[%s]." % (table, db)))
            props = [{"name": c.name, "aggregation_type": "REPLACE" if t.is_unique and not c.is_key
                      else "", "comment": c.comment, "type": c.type.base,
                      "precision": str(c.type.precision or 0), "scale": str(c.type.scale or 0)}
                     for c in t.columns]
            data = {"keysType": t.keys_type + "_KEYS", "properties": props, "status": 200}
        return self.send_json(fe_body("success", 0, data))

    def sql(self, db):
        """StmtExecutionAction.executeSQL."""
        h = self.hdrs()
        raw = self.read_body()
        auth = parse_basic_auth(h.get("authorization"))
        if h.get("authorization") is None:
            return self.send_json(fe_body("Unauthorized", 401, "Cookie is invalid"))
        if auth is None:
            return self.send_json(fe_body("Unauthorized", 401, "Need auth information."))
        if not check_password(*auth):
            return self.send_json(fe_body("Unauthorized", 401, access_denied(*auth)))
        try:
            req = json.loads(raw.decode("utf-8") or "null")
        except Exception as e:
            return self.send_json(fe_body("Internal Error", 500, "com.google.gson.JsonSyntaxException:"
                                          " %s" % e))
        stmt = req.get("stmt") if isinstance(req, dict) else None
        if not stmt:
            return self.send_json(fe_body("Bad Request", 403, "Missing statement request body"))
        stream = h.get("x-doris-stream", "").lower() != "false"
        start = time.time()
        with STORE.lock:
            try:
                if STORE.get_db(db) is None:
                    raise sql_error("Unknown database '%s'" % db, errcode=1049)
                result = exec_sql(stmt, db)
                if result[0] == "exec":
                    STORE.save()
            except SqlError as e:
                return self.send_json(fe_body("Error", 1, e.data))
        took = int((time.time() - start) * 1000)
        if result[0] == "exec":
            data = {"type": "exec_status", "status": {}, "time": took}
            if stream:      # JsonStreamResponse.handleDdlAndExport
                body = '{"msg":"success","code":0,"data":' + jdump(data) + "}"
            else:
                body = jdump(fe_body("success", 0, data))
            return self.send(200, body)
        meta = [{"name": n, "type": t} for n, t in result[1]]
        data = {"type": "result_set", "meta": meta, "data": result[2], "time": took}
        if stream:          # JsonStreamResponse.handleQueryAndShow
            body = '{"data":' + jdump(data) + ',"msg":"success","code":0}'
        else:
            body = jdump(fe_body("success", 0, data))
        return self.send(200, body)

    # ---- /_emulator admin ----
    def admin(self, method, path):
        raw = self.read_body()
        name = path[len("/_emulator/"):].strip("/")
        if name == "faults":
            if method == "POST":
                try:
                    spec = json.loads(raw.decode("utf-8") or "{}")
                except ValueError as e:
                    return self.send_json({"ok": False, "error": str(e)}, 400)
                specs = spec if isinstance(spec, list) else [spec]
                added = []
                with STORE.lock:
                    for s in specs:
                        mode = s.get("mode")
                        if mode not in ("http500", "hang", "drop", "publish_timeout",
                                        "fail_after_commit"):
                            return self.send_json({"ok": False, "error": "unknown mode %r" % mode},
                                                  400)
                        at = s.get("at", "be")
                        if at not in ("be", "fe", "2pc"):
                            return self.send_json({"ok": False, "error": "bad 'at' %r" % at}, 400)
                        STORE.fault_seq += 1
                        f = {"id": STORE.fault_seq, "mode": mode, "count": int(s.get("count", 1)),
                             "at": at, "db": s.get("db"), "table": s.get("table"),
                             "hang_seconds": s.get("hang_seconds"), "apply": s.get("apply"),
                             "message": s.get("message")}
                        STORE.faults.append(f)
                        added.append(f)
                return self.send_json({"ok": True, "faults": added})
            if method == "DELETE":
                with STORE.lock:
                    STORE.faults = []
                return self.send_json({"ok": True})
            with STORE.lock:
                return self.send_json({"faults": STORE.faults})
        if name == "state" and method == "GET":
            with STORE.lock:
                return self.send_json(dump_state())
        if name == "loads":
            with STORE.lock:
                if method == "DELETE":
                    STORE.loads = []
                    return self.send_json({"ok": True})
                return self.send_json({"loads": STORE.loads})
        if name == "reset" and method == "POST":
            with STORE.lock:
                STORE.reset_state()
                STORE.faults = []
                STORE.loads = []
                STORE.error_logs = {}
                STORE.save()
            return self.send_json({"ok": True})
        if name == "config" and method == "POST":
            try:
                spec = json.loads(raw.decode("utf-8") or "{}")
            except ValueError as e:
                return self.send_json({"ok": False, "error": str(e)}, 400)
            for k in ("txn_expire_seconds", "hang_seconds"):
                if k in spec:
                    setattr(CONF, k, float(spec[k]))
            return self.send_json({"ok": True, "txn_expire_seconds": CONF.txn_expire_seconds,
                                   "hang_seconds": CONF.hang_seconds})
        return self.send_json({"ok": False, "error": "unknown admin endpoint"}, 404)


def dump_state():
    dbs = {}
    for db, tables in STORE.dbs.items():
        out = {}
        for name, t in tables.items():
            out[name] = {
                "keys_type": t.keys_type, "merge_on_write": t.mow, "key_columns": t.key_cols,
                "sequence_type": t.seq_type.desc() if t.seq_type else None,
                "sequence_map_column": t.seq_map_col, "flexible_partial_update": t.skip_bitmap,
                "columns": [{"name": c.name, "type": c.type.desc(), "nullable": c.nullable,
                             "key": c.is_key, "default": c.default if c.has_default else None}
                            for c in t.columns],
                "row_count": t.row_count(),
                "rows": [{k: state_value(v) for k, v in r.items()} for r in t.all_rows()],
            }
        dbs[db] = {"tables": out}
    labels = {}
    for db, m in STORE.labels.items():
        labels[db] = {}
        for label, ids in m.items():
            txns = [STORE.txns[i] for i in ids if i in STORE.txns]
            if txns:
                last = max(txns, key=lambda t: t.id)
                labels[db][label] = {"txn_id": last.id, "status": last.status,
                                     "txn_ids": [t.id for t in txns]}
    return {"databases": dbs, "labels": labels,
            "transactions": [t.to_json() for t in sorted(STORE.txns.values(), key=lambda x: x.id)],
            "faults": STORE.faults}


class BEHandler(_Handler):
    # BaseHTTPRequestHandler.handle_expect_100 answers "100 Continue" (like libevent).

    def route(self, method):
        path, query = self.split()
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if method == "PUT" and len(parts) == 4 and parts[0] == "api" and parts[3] == "_stream_load":
            return self.load(parts[1], parts[2])
        if method == "PUT" and parts[0] == "api" and parts[-1] == "_stream_load_2pc" \
                and len(parts) in (3, 4):
            body = self.read_body()
            del body
            with STORE.lock:
                fault = STORE.take_fault("2pc", parts[1], parts[2] if len(parts) == 4 else None)
            if fault and fault["mode"] in ("drop", "http500") and not fault.get("apply"):
                # the request never reaches the FE: nothing changes
                with STORE.lock:
                    STORE.log({"kind": "2pc", "db": parts[1], "label": self.hdrs().get("label", ""),
                               "txn_id": self.hdrs().get("txn_id", ""),
                               "operation": self.hdrs().get("txn_operation", ""),
                               "status": fault["mode"], "msg": "injected", "fault": fault["mode"]})
                if fault["mode"] == "drop":
                    self.close_connection = True
                    return
                return self.send(500, "Internal Server Error", "text/plain")
            out = operate_2pc(parts[1], self.hdrs(), fault)
            if fault and fault["mode"] == "drop":
                self.close_connection = True      # applied, but the reply is lost
                return
            if fault and fault["mode"] == "http500":
                return self.send(500, "Internal Server Error", "text/plain")
            # HttpChannel::send_reply: default content type
            return self.send(200, out, "text/plain; charset=UTF-8")
        if method == "GET" and path == "/api/_load_error_log":
            f = urllib.parse.parse_qs(query).get("file", [""])[0]
            with STORE.lock:
                text = STORE.error_logs.get(f)
            if text is None:
                return self.send(404, "File not exists", "text/plain")
            return self.send(200, text, "text/plain; charset=utf-8")
        if method == "GET" and path.rstrip("/") == "/api/health":
            return self.send(200, pretty({"status": "OK", "msg": "To Be Added"}))
        self.send(404, "Not Found", "text/plain")

    def load(self, db, table):
        h = self.hdrs()
        chunked = "chunked" in h.get("transfer-encoding", "").lower()
        has_cl = "content-length" in h
        body = self.read_body()
        with STORE.lock:
            fault = STORE.take_fault("be", db, table)
        if fault and fault["mode"] == "http500":
            with STORE.lock:
                STORE.log({"kind": "stream_load", "db": db, "table": table,
                           "label": h.get("label", ""), "txn_id": -1,
                           "headers": {k: v for k, v in h.items() if k != "authorization"},
                           "body_bytes": len(body), "rows_total": 0, "rows_loaded": 0,
                           "rows_filtered": 0, "rows_unselected": 0, "status": "HTTP 500",
                           "message": "injected", "http_status": 500, "fault": "http500"})
            return self.send(500, "Internal Server Error", "text/plain")
        if fault and fault["mode"] == "drop" and not fault.get("apply"):
            with STORE.lock:
                STORE.log({"kind": "stream_load", "db": db, "table": table,
                           "label": h.get("label", ""), "txn_id": -1,
                           "headers": {k: v for k, v in h.items() if k != "authorization"},
                           "body_bytes": len(body), "rows_total": 0, "rows_loaded": 0,
                           "rows_filtered": 0, "rows_unselected": 0, "status": "Dropped",
                           "message": "injected", "http_status": None, "fault": "drop"})
            self.close_connection = True
            return
        res = stream_load(db, table, h, body, chunked, has_cl, fault)
        if res.drop:
            self.close_connection = True
            return
        try:
            self.send(res.http_code, res.body, "text/plain; charset=UTF-8")
        except (BrokenPipeError, ConnectionError):
            pass    # the client gave up (e.g. after a "hang"): the load still happened


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def _expiry_loop(stop):
    while not stop.wait(0.5):
        with STORE.lock:
            if STORE.expire_txns():
                STORE.save()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Apache Doris FE/BE emulator for tests")
    ap.add_argument("--fe-port", type=int, default=0, help="FE http port (0 = pick a free port)")
    ap.add_argument("--be-port", type=int, default=0, help="BE http port (0 = pick a free port)")
    ap.add_argument("--user", default="root")
    ap.add_argument("--password", default="")
    ap.add_argument("--data-dir", default=None, help="persist tables/labels/txns here as JSON")
    ap.add_argument("--ready-file", default=None,
                    help='write {"fe": "127.0.0.1:P", "be": "127.0.0.1:P"} here when listening')
    ap.add_argument("--txn-expire-seconds", type=float, default=3600.0,
                    help="abort PRECOMMITTED txns after this long (Doris: "
                         "stream_load_default_precommit_timeout_second = 3600)")
    ap.add_argument("--hang-seconds", type=float, default=30.0,
                    help="default stall of the 'hang' fault")
    ap.add_argument("--timezone", default="UTC", help="load time zone when no header sets one")
    ap.add_argument("--no-redirect-userinfo", action="store_true",
                    help="leave user:password out of the FE's 307 Location")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)
    CONF.user, CONF.password = a.user, a.password
    CONF.data_dir = a.data_dir
    CONF.txn_expire_seconds = a.txn_expire_seconds
    CONF.hang_seconds = a.hang_seconds
    CONF.timezone = a.timezone
    CONF.redirect_userinfo = not a.no_redirect_userinfo
    CONF.verbose = a.verbose
    if CONF.data_dir:
        os.makedirs(CONF.data_dir, exist_ok=True)
        STORE.load()

    fe = _Server(("127.0.0.1", a.fe_port), FEHandler)
    fe.role = "FE"
    be = _Server(("127.0.0.1", a.be_port), BEHandler)
    be.role = "BE"
    CONF.fe_port = fe.server_address[1]
    CONF.be_port = be.server_address[1]
    stop = threading.Event()
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
               for s in (fe, be)]
    threads.append(threading.Thread(target=_expiry_loop, args=(stop,), daemon=True))
    for t in threads:
        t.start()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ready = json.dumps({"fe": "127.0.0.1:%d" % CONF.fe_port, "be": "127.0.0.1:%d" % CONF.be_port})
    if a.ready_file:
        tmp = a.ready_file + ".tmp.%d" % os.getpid()
        with open(tmp, "w") as f:
            f.write(ready + "\n")
        os.replace(tmp, a.ready_file)
    print(ready, flush=True)

    while not stop.wait(0.5):
        pass
    for s in (fe, be):
        s.shutdown()
        s.server_close()
    with STORE.lock:
        STORE.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
