#!/usr/bin/env python3
"""doris_count.py FE DB STMT...: runs each SELECT COUNT(*) through the Doris FE's SQL endpoint
(POST /api/query/default_cluster/DB, user root, no password) and prints one number a line, or ?
where the statement failed (a table not created yet)."""
import base64
import json
import sys
import urllib.request


def count(fe, db, stmt):
    req = urllib.request.Request(
        "http://%s/api/query/default_cluster/%s" % (fe, db),
        data=json.dumps({"stmt": stmt}).encode(),
        headers={"Content-Type": "application/json",
                 "Authorization": "Basic " + base64.b64encode(b"root:").decode()},
        method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            reply = json.load(resp)
        return str(reply["data"]["data"][0][0])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return "?"


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    for stmt in argv[3:]:
        print(count(argv[1], argv[2], stmt))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
