#!/usr/bin/env python3
"""The asyncio version: one aiohttp.ClientSession, every row a task, at most
--concurrency POSTs in flight (asyncio.Semaphore). Signs in once.

    .venv/bin/python aiohttp_concurrent.py customers.csv --concurrency 32 --base-url http://127.0.0.1:8080

Prints one JSON line {"rows", "ok", "failed", "seconds"}; exits 1 if a row failed.
"""

import asyncio
import json
import sys
import time

import aiohttp

from common import basic, customer, parse_args, read_rows


async def run(args):
    rows = read_rows(args.csv)
    api = args.base_url + "/extapi/v1.0"
    # The connector's own limit matches the semaphore, so neither one is the bottleneck.
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as s:
        async with s.get(f"{api}/token", headers={"Authorization": basic(args.user, args.password)}) as r:
            r.raise_for_status()
            bearer = {"Authorization": "Bearer " + (await r.json())["token"]}
        async with s.get(f"{api}/databases", headers=bearer) as r:
            r.raise_for_status()
            if args.database not in [d["db_id"] for d in await r.json()]:
                sys.exit(f"database {args.database} is not available to this user")
        async with s.get(f"{api}/team_token", params={"db_id": args.database}, headers=bearer) as r:
            r.raise_for_status()
            team_token = (await r.json())["team_token"]

        gate = asyncio.Semaphore(args.concurrency)

        async def create(i, row):
            async with gate:
                async with s.post(f"{api}/customers", params={"team_token": team_token},
                                  json=customer(row), headers=bearer) as r:
                    if r.status in (200, 201):
                        await r.read()
                        return True
                    print(f"row {i}: HTTP {r.status} {(await r.text())[:200]}", file=sys.stderr)
                    return False

        results = await asyncio.gather(*(create(i, row) for i, row in enumerate(rows, start=2)))
    return len(rows), sum(results)


def main():
    args = parse_args(__doc__.splitlines()[0], concurrency=True)
    started = time.monotonic()
    rows, ok = asyncio.run(run(args))
    print(json.dumps({"rows": rows, "ok": ok, "failed": rows - ok,
                      "seconds": round(time.monotonic() - started, 3)}))
    return 0 if ok == rows else 1


if __name__ == "__main__":
    sys.exit(main())
