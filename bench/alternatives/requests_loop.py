#!/usr/bin/env python3
"""The plain loop most people write first: one requests.Session, one POST per
row, one after the other. Signs in once (token -> databases -> team_token).

    .venv/bin/python requests_loop.py customers.csv --base-url http://127.0.0.1:8080

Prints one JSON line {"rows", "ok", "failed", "seconds"}; exits 1 if a row failed.
"""

import json
import sys
import time

import requests

from common import basic, customer, parse_args, read_rows


def main():
    args = parse_args(__doc__.splitlines()[0])
    started = time.monotonic()
    rows = read_rows(args.csv)
    api = args.base_url + "/extapi/v1.0"
    s = requests.Session()

    r = s.get(f"{api}/token", headers={"Authorization": basic(args.user, args.password)}, timeout=30)
    r.raise_for_status()
    s.headers["Authorization"] = "Bearer " + r.json()["token"]
    r = s.get(f"{api}/databases", timeout=30)
    r.raise_for_status()
    if args.database not in [d["db_id"] for d in r.json()]:
        sys.exit(f"database {args.database} is not available to this user")
    r = s.get(f"{api}/team_token", params={"db_id": args.database}, timeout=30)
    r.raise_for_status()
    team_token = r.json()["team_token"]

    ok = failed = 0
    for i, row in enumerate(rows, start=2):
        r = s.post(f"{api}/customers", params={"team_token": team_token}, json=customer(row), timeout=30)
        if r.status_code in (200, 201):
            ok += 1
        else:
            failed += 1
            print(f"row {i}: HTTP {r.status_code} {r.text[:200]}", file=sys.stderr)
    print(json.dumps({"rows": len(rows), "ok": ok, "failed": failed,
                      "seconds": round(time.monotonic() - started, 3)}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
