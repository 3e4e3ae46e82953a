#!/usr/bin/env python3
"""Two sheetload binaries on the validate bench's workloads, alternating, N runs each:
median wall, CPU (user+sys) and peak RSS.

usage: bench/compare_validate.py OLD NEW [N]   (the fixtures of `cargo bench --bench
validate`, in $BENCH_DATA or target/tmp/bench-data)"""
import subprocess, sys, statistics, os, tempfile
old, new, n = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5
d = os.environ.get('BENCH_DATA', 'target/tmp/bench-data')
work = [
    ('100k XLSX → result.xlsx', ['validate', f'{d}/customers-100k.xlsx', '-e', 'customers', '--out', '/tmp/cmp.xlsx']),
    ('100k XLSX → result.csv', ['validate', f'{d}/customers-100k.xlsx', '-e', 'customers', '--out', '/tmp/cmp.csv']),
    ('1M CSV → result.csv', ['validate', f'{d}/customers-1m.csv', '-e', 'customers', '--out', '/tmp/cmp1m.csv']),
]
for name, args in work:
    res = {old: [], new: []}
    for i in range(n):
        for b in (old, new):
            with tempfile.NamedTemporaryFile('r') as t:
                home = tempfile.mkdtemp()
                subprocess.run(['/usr/bin/time', '-o', t.name, '-f', '%e %U %S %M', b] + args,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, 'SHEETLOAD_HOME': home})
                e, u, s, m = t.read().strip().splitlines()[-1].split()
                res[b].append((float(e), float(u) + float(s), int(m) / 1024))
    row = [name]
    for b in (old, new):
        r = res[b]
        row.append(f"{statistics.median(x[0] for x in r):.2f} s / {statistics.median(x[1] for x in r):.2f} s CPU / {statistics.median(x[2] for x in r):.0f} MB")
    print(' | '.join(row), flush=True)
