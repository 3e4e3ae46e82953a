#!/usr/bin/env python3
"""Two sheetload binaries' imports against `sheetload sandbox --latency-ms L` (NEW's
sandbox, a fresh process per run), alternating, 3 runs each: the dispatch window
(--json dispatch_seconds) and start to exit, as shares of concurrency / latency.

usage: bench/compare_dispatch.py OLD NEW"""
import subprocess, sys, time, os, tempfile, json, socket, statistics
old, new = sys.argv[1], sys.argv[2]
cases = [(6400, 32, 20), (10000, 128, 20), (12000, 32, 5), (12000, 128, 5), (2560, 128, 100)]
port = 18100
def csv(path, rows):
    with open(path, 'w') as f:
        f.write("ext_cust_no,name,city,phone,latitude,longitude,tags\n")
        for i in range(rows):
            f.write(f'C{i:07},Toko Sumber Rejeki {i},Semarang,0812{i:08},-7.{i%999999:06},110.{i%999999:06},"Retail; Semarang"\n')
def wait_port(p):
    for _ in range(200):
        try:
            socket.create_connection(('127.0.0.1', p), 0.2).close(); return
        except OSError: time.sleep(0.05)
for rows, conc, lat in cases:
    d = tempfile.mkdtemp(); csv(f'{d}/c.csv', rows)
    res = {old: [], new: []}
    for i in range(3):
        for b in (old, new):
            port = globals()['port'] + 1
            globals()['port'] = port
            sb = subprocess.Popen([new, 'sandbox', '--port', str(port), '--latency-ms', str(lat)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_port(port)
            home = tempfile.mkdtemp()
            env = {**os.environ, 'SHEETLOAD_HOME': home, 'SHEETLOAD_BASE_URL': f'http://127.0.0.1:{port}',
                   'SHEETLOAD_USER': 'demo', 'SHEETLOAD_PASSWORD': 'demo', 'SHEETLOAD_DATABASE': '1'}
            t0 = time.monotonic()
            out = subprocess.run([b, 'import', 'c.csv', '-e', 'customers', '--concurrency', str(conc),
                                  '--out', f'{home}/r.csv', '--quiet', '--json'], cwd=d, env=env,
                                 capture_output=True, text=True)
            whole = time.monotonic() - t0
            sb.terminate(); sb.wait()
            try:
                j = json.loads(out.stdout.strip().splitlines()[-1])
            except Exception:
                print('bad output', b, out.stderr[-300:]); continue
            ok = j.get('ok')
            res[b].append((rows / j['dispatch_seconds'], rows / whole, ok))
    ideal = conc / (lat / 1000)
    line = f"| {rows} | {conc} | {lat} |"
    for b in (old, new):
        r = res[b]
        disp = statistics.median(x[0] for x in r); whole = statistics.median(x[1] for x in r)
        line += f" {100*disp/ideal:.0f}% / {100*whole/ideal:.0f}% |"
    print(line, flush=True)
