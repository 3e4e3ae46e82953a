//! sheetload against the tools a user would otherwise reach for (not a timed test):
//! the same 2,000-customer CSV (`ALT_ROWS` to change) imported into a fresh sandbox
//! at `latency_ms: 20` by
//!
//! - `sheetload import --concurrency 32` (the release binary),
//! - a Python `requests` loop (`bench/alternatives/requests_loop.py`, sequential),
//! - a Python `aiohttp` script at the same concurrency (`aiohttp_concurrent.py`),
//! - newman with the CSV as iteration data (`salesmania.postman_collection.json`).
//!
//! Each signs in (token → databases → team_token) and POSTs every row. Afterwards
//! the sandbox must hold exactly N customers in database 1, no `ext_cust_no`
//! twice, and each stored record must be what the row says (read back through the
//! list API). Prints a markdown table with wall seconds, rows/s, the child's peak
//! RSS (VmHWM from /proc, polled; Linux only) and sheetload's rate ÷ the
//! contender's. Run with `bash bench/alternatives/setup.sh` (optional: the bench
//! runs it when `.venv` or `node_modules` is missing) and
//! `cargo bench --bench alternatives`. A contender whose tool cannot be installed
//! is reported as skipped, never as a failure. `ALT_ONLY=sheetload,newman` runs a
//! subset.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Measured as Run, watch};
use serde_json::{Value, json};
use sheetload::sandbox::{SandboxOptions, spawn_in_thread};

const LATENCY_MS: u64 = 20;
const CONCURRENCY: usize = 32;
/// The contenders, in the order they run and are listed (`ALT_ONLY` takes these).
const KEYS: [&str; 4] = ["sheetload", "requests", "aiohttp", "newman"];

fn ext_no(i: usize) -> String {
    format!("C{i:07}")
}

/// The same rows as `benches/import.rs`.
fn csv(path: &Path, rows: usize) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(w, "ext_cust_no,name,city,phone,latitude,longitude,tags").expect("write");
    for i in 0..rows {
        writeln!(
            w,
            "{},Toko Sumber Rejeki {i},Semarang,0812{i:08},-7.{:06},110.{:06},\"Retail; Semarang\"",
            ext_no(i),
            i % 999_999,
            i % 999_999
        )
        .expect("write");
    }
    w.flush().expect("flush");
}

/// What row `i` must look like once stored (the fields the CSV sets, plus the
/// default status).
fn expected(i: usize) -> Value {
    let coord = |deg: &str| format!("{deg}.{:06}", i % 999_999).parse::<f64>().unwrap();
    json!({
        "name": format!("Toko Sumber Rejeki {i}"),
        "ext_cust_no": ext_no(i),
        "city": "Semarang",
        "phone": format!("0812{i:08}"),
        "location": {"lat": coord("-7"), "lon": coord("110")},
        "tags": ["Retail", "Semarang"],
        "status": true,
    })
}

/// One contender's row of the table.
struct Outcome {
    rate: f64,
    secs: f64,
    peak_mb: f64,
    correct: String,
}

/// Runs `cmd` with stdout and stderr to files in `dir`, polling the child's VmHWM
/// until it exits or `limit` passes (then it is killed and `status` is None).
fn measure(mut cmd: Command, dir: &Path, tag: &str, limit: Duration) -> Run {
    let out = std::fs::File::create(dir.join(format!("{tag}.out"))).expect("stdout file");
    let err = std::fs::File::create(dir.join(format!("{tag}.err"))).expect("stderr file");
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {tag}: {e}"));
    watch(&mut child, started, Some(limit))
}

/// Every customer of database 1, read through the list API (after the run, untimed).
fn stored_customers(base_url: &str) -> Result<Vec<Value>, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let e = |e: reqwest::Error| e.to_string();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(e)?;
        let api = format!("{base_url}/extapi/v1.0");
        let token: Value = http
            .get(format!("{api}/token"))
            .basic_auth("demo", Some("demo"))
            .send()
            .await
            .map_err(e)?
            .error_for_status()
            .map_err(e)?
            .json()
            .await
            .map_err(e)?;
        let bearer = token["token"].as_str().ok_or("no bearer")?.to_owned();
        let team: Value = http
            .get(format!("{api}/team_token"))
            .bearer_auth(&bearer)
            .query(&[("db_id", "1")])
            .send()
            .await
            .map_err(e)?
            .error_for_status()
            .map_err(e)?
            .json()
            .await
            .map_err(e)?;
        let team_token = team["team_token"].as_str().ok_or("no team token")?;
        let mut all = Vec::new();
        for page in 1.. {
            let body: Value = http
                .get(format!("{api}/customers"))
                .bearer_auth(&bearer)
                .query(&[("team_token", team_token), ("limit", "100")])
                .query(&[("page", page)])
                .send()
                .await
                .map_err(e)?
                .error_for_status()
                .map_err(e)?
                .json()
                .await
                .map_err(e)?;
            let data = body["data"].as_array().ok_or("a page without data")?;
            all.extend(data.iter().cloned());
            if data.len() < 100 {
                break;
            }
        }
        Ok(all)
    })
}

/// "yes", or what is wrong: the exit, the count, duplicates, or stored fields.
fn verdict(run: &Run, stats: &Value, base_url: &str, rows: usize) -> String {
    let mut problems = Vec::new();
    match run.status {
        None => problems.push("killed after the time limit".to_owned()),
        Some(s) if !s.success() => problems.push(format!("exit {}", s.code().unwrap_or(-1))),
        Some(_) => {}
    }
    let db = &stats["databases"]["1"];
    let stored = db["records"]["customers"].as_u64().unwrap_or(0) as usize;
    if stored != rows {
        problems.push(format!("{stored} stored"));
    }
    let dups = db["duplicate_keys"]["ext_cust_no"]
        .as_object()
        .map_or(0, |m| m.len());
    if dups > 0 {
        problems.push(format!("{dups} duplicate ext_cust_no"));
    }
    match stored_customers(base_url) {
        Err(e) => problems.push(format!("cannot read back: {e}")),
        Ok(list) => {
            // Which fields differ from the row, and in how many records.
            let mut differ: std::collections::BTreeMap<String, usize> = Default::default();
            for c in &list {
                let want = c["ext_cust_no"]
                    .as_str()
                    .and_then(|s| s.strip_prefix('C'))
                    .and_then(|s| s.parse::<usize>().ok())
                    .filter(|i| *i < rows)
                    .map(expected);
                let Some(want) = want else {
                    *differ.entry("ext_cust_no".to_owned()).or_default() += 1;
                    continue;
                };
                for (k, v) in want.as_object().unwrap() {
                    if &c[k] != v {
                        let n = differ.entry(k.clone()).or_default();
                        if *n == 0 {
                            eprintln!("  first wrong {k}: stored {}, row says {v}", c[k]);
                        }
                        *n += 1;
                    }
                }
            }
            for (field, n) in differ {
                problems.push(format!("{field} wrong in {n} records"));
            }
        }
    }
    if problems.is_empty() {
        "yes".to_owned()
    } else {
        format!("no: {}", problems.join(", "))
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A command that must exit 0 for a contender's tool to count as installed.
fn works(program: &Path, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

struct Contender {
    name: &'static str,
    key: &'static str,
    /// `Err(why)` when the tool is not available.
    command: Result<Command, String>,
}

/// Whether each contender's tool is installed: `Err(why)` when not. Checked once.
struct Tools {
    requests: Result<(), String>,
    aiohttp: Result<(), String>,
    newman: Result<(), String>,
}

fn tools(alt: &Path) -> Tools {
    let python = alt.join(".venv/bin/python");
    let python_with = |module: &str| -> Result<(), String> {
        if !python.exists() {
            return Err(format!("{} missing (setup.sh failed?)", python.display()));
        }
        if !works(&python, &["-c", &format!("import {module}")]) {
            return Err(format!("`import {module}` fails in {}", python.display()));
        }
        Ok(())
    };
    let newman = alt.join("node_modules/.bin/newman");
    Tools {
        requests: python_with("requests"),
        aiohttp: python_with("aiohttp"),
        newman: if !newman.exists() {
            Err(format!("{} missing (setup.sh failed?)", newman.display()))
        } else if !works(&newman, &["--version"]) {
            Err(format!("`{} --version` fails", newman.display()))
        } else {
            Ok(())
        },
    }
}

/// The four contenders, pointed at `base_url`.
fn contenders(alt: &Path, tools: &Tools, dir: &Path, base_url: &str) -> Vec<Contender> {
    let csv = dir.join("c.csv");
    let python = alt.join(".venv/bin/python");
    let newman = alt.join("node_modules/.bin/newman");

    let mut sheetload = Command::new(env!("CARGO_BIN_EXE_sheetload"));
    sheetload
        .args(["import", "c.csv", "-e", "customers", "--concurrency"])
        .arg(CONCURRENCY.to_string())
        .args(["--quiet", "--json"]);

    let requests = tools.requests.clone().map(|()| {
        let mut c = Command::new(&python);
        c.arg(alt.join("requests_loop.py"))
            .arg(&csv)
            .args(["--base-url", base_url]);
        c
    });
    let aiohttp = tools.aiohttp.clone().map(|()| {
        let mut c = Command::new(&python);
        c.arg(alt.join("aiohttp_concurrent.py"))
            .arg(&csv)
            .args(["--concurrency", &CONCURRENCY.to_string()])
            .args(["--base-url", base_url]);
        c
    });
    let newman = tools.newman.clone().map(|()| {
        let mut c = Command::new(&newman);
        c.arg("run")
            .arg(alt.join("salesmania.postman_collection.json"))
            .arg("-d")
            .arg(&csv)
            .arg("--env-var")
            .arg(format!("base_url={base_url}"))
            .args(["--env-var", "user=demo", "--env-var", "password=demo"])
            .args(["--env-var", "db_id=1", "--color", "off"]);
        c
    });

    let mut list = vec![
        Contender {
            name: "sheetload import --concurrency 32",
            key: "sheetload",
            command: Ok(sheetload),
        },
        Contender {
            name: "Python requests loop (sequential)",
            key: "requests",
            command: requests,
        },
        Contender {
            name: "Python aiohttp, 32 concurrent",
            key: "aiohttp",
            command: aiohttp,
        },
        Contender {
            name: "newman, CSV as iteration data",
            key: "newman",
            command: newman,
        },
    ];
    for c in &mut list {
        if let Ok(cmd) = &mut c.command {
            cmd.current_dir(dir)
                .env("SHEETLOAD_HOME", dir)
                .env("SHEETLOAD_BASE_URL", base_url)
                .env("SHEETLOAD_USER", "demo")
                .env("SHEETLOAD_PASSWORD", "demo")
                .env("SHEETLOAD_DATABASE", "1");
        }
    }
    list
}

/// Installs the contenders into bench/alternatives/ when something is missing.
fn setup(alt: &Path) {
    if alt.join(".venv/bin/python").exists() && alt.join("node_modules/.bin/newman").exists() {
        return;
    }
    eprintln!("running bench/alternatives/setup.sh (local .venv and node_modules)…");
    match Command::new("bash").arg(alt.join("setup.sh")).output() {
        Ok(o) => {
            eprint!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            if !o.status.success() {
                eprintln!("setup.sh failed; what it could not install is skipped");
            }
        }
        Err(e) => eprintln!("cannot run setup.sh ({e}); the contenders it installs are skipped"),
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

fn ratio(base: Option<f64>, rate: f64) -> String {
    match base {
        Some(b) if rate > 0.0 => {
            let r = b / rate;
            if r >= 10.0 {
                format!("{r:.0}×")
            } else {
                format!("{r:.1}×")
            }
        }
        _ => "—".to_owned(),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let rows: usize = std::env::var("ALT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2_000);
    let only: Option<Vec<String>> = std::env::var("ALT_ONLY")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_lowercase()).collect());
    let alt = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/alternatives");
    setup(&alt);
    let tools = tools(&alt);
    let dir = tempfile::tempdir().expect("tempdir");
    csv(&dir.path().join("c.csv"), rows);
    // Generous, but bounded: the slowest contender (newman) needs about 50 ms a row.
    let limit = Duration::from_secs(600).max(Duration::from_millis(500) * rows as u32);

    // (contender, what it did) or (contender, why it was skipped)
    let mut results: Vec<(&str, Result<Outcome, String>)> = Vec::new();
    let mut notes = Vec::new();
    // The contenders are built per run because each gets a fresh sandbox (its own URL).
    for (idx, key) in KEYS.into_iter().enumerate() {
        if only.as_ref().is_some_and(|o| !o.iter().any(|k| k == key)) {
            continue;
        }
        let sb = spawn_in_thread(SandboxOptions {
            latency_ms: LATENCY_MS,
            ..SandboxOptions::default()
        })
        .expect("sandbox");
        let c = contenders(&alt, &tools, dir.path(), &sb.base_url()).swap_remove(idx);
        debug_assert_eq!(c.key, key);
        let cmd = match c.command {
            Ok(cmd) => cmd,
            Err(why) => {
                eprintln!("{}: skipped: {why}", c.name);
                results.push((c.name, Err(why)));
                continue;
            }
        };
        eprintln!("{}: {rows} rows…", c.name);
        let run = measure(cmd, dir.path(), c.key, limit);
        // The stats before the read-back, whose requests are not the contender's.
        let stats = sb.stats();
        let ok = verdict(&run, &stats, &sb.base_url(), rows);
        let rate = rows as f64 / run.secs;
        eprintln!(
            "  {:.1} s, {rate:.0} rows/s, {:.0} MB, correct: {ok}",
            run.secs, run.peak_mb
        );
        if ok != "yes" {
            let err = dir.path().join(format!("{}.err", c.key));
            let out = dir.path().join(format!("{}.out", c.key));
            eprintln!(
                "  stdout tail:\n{}\n  stderr tail:\n{}",
                tail(&out, 15),
                tail(&err, 15)
            );
        }
        // What the contender asked the server, per route: the sign-in, the POSTs, and
        // anything else it does (a look-up, a retry).
        let routes: Vec<String> = stats["requests"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(route, outcomes)| {
                        let n: u64 = outcomes
                            .as_object()
                            .map_or(0, |o| o.values().filter_map(Value::as_u64).sum());
                        format!("{route} ×{n}")
                    })
                    .collect()
            })
            .unwrap_or_default();
        notes.push(format!(
            "{}: {}; at most {} in flight",
            c.key,
            routes.join(", "),
            stats["peak_concurrent"]
        ));
        results.push((
            c.name,
            Ok(Outcome {
                rate,
                secs: run.secs,
                peak_mb: run.peak_mb,
                correct: ok,
            }),
        ));
        sb.shutdown();
    }

    let base = results
        .iter()
        .find(|(n, r)| n.starts_with("sheetload") && r.is_ok())
        .and_then(|(_, r)| r.as_ref().ok())
        .map(|o| o.rate);
    println!(
        "{rows} customers, sandbox latency {LATENCY_MS} ms, {} CPUs ({}), {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        chrono::Local::now().format("%Y-%m-%d")
    );
    println!();
    println!(
        "| contender | rows | seconds | rows/s | peak RSS MB | ratio vs sheetload | correct |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|");
    for (name, r) in &results {
        match r {
            Ok(o) => println!(
                "| {name} | {rows} | {:.2} | {:.0} | {:.0} | {} | {} |",
                o.secs,
                o.rate,
                o.peak_mb,
                ratio(base, o.rate),
                o.correct
            ),
            Err(why) => println!("| {name} | — | — | — | — | — | skipped: {why} |"),
        }
    }
    println!();
    for n in notes {
        println!("- {n}");
    }
}
