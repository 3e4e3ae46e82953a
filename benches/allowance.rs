//! The API's allowance (issue 33), measured against the sandbox with the release
//! binary (not a timed test): burst 429s at 1 %, 5 % and 20 % (`Retry-After: 1`); the
//! fault mix (8 % 5xx, 5 % burst 429s, short token life, 5 % drop-after-commit) against
//! the same run without faults; a hard limit of 20 requests/s (fixed one-second
//! windows, and a token bucket); a daily quota of 500 with 1,200 rows (park, move the
//! reset, resume); and the fault-free dispatch (6,400 rows at 20 ms, concurrency 32).
//! Run with `cargo bench --bench allowance`.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::watch;
use serde_json::Value;
use sheetload::sandbox::{SandboxOptions, ThreadSandbox, spawn_in_thread};

fn csv(path: &Path, rows: usize) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(w, "ext_cust_no,name,city,phone").expect("write");
    for i in 0..rows {
        writeln!(w, "C{i:07},Toko Sumber Rejeki {i},Semarang,0812{i:08}").expect("write");
    }
}

/// Run the release binary with `--json`; (exit code, wall seconds, the summary).
fn run(dir: &Path, base_url: &str, args: &[&str]) -> (i32, f64, Value) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sheetload"))
        .args(args)
        .args(["--quiet", "--json"])
        .current_dir(dir)
        .env("SHEETLOAD_HOME", dir)
        .env("SHEETLOAD_BASE_URL", base_url)
        .env("SHEETLOAD_USER", "demo")
        .env("SHEETLOAD_PASSWORD", "demo")
        .env("SHEETLOAD_DATABASE", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn sheetload");
    let m = watch(&mut child, started, Some(Duration::from_secs(600)));
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut o, &mut out);
    }
    let json = serde_json::from_str(out.trim()).unwrap_or(Value::Null);
    (m.code(), m.secs, json)
}

fn import(
    sb: &ThreadSandbox,
    rows: usize,
    concurrency: usize,
) -> (tempfile::TempDir, i32, f64, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    csv(&dir.path().join("c.csv"), rows);
    let conc = concurrency.to_string();
    let (code, secs, json) = run(
        dir.path(),
        &sb.base_url(),
        &[
            "import",
            "c.csv",
            "-e",
            "customers",
            "--concurrency",
            &conc,
            "--out",
            "r.csv",
        ],
    );
    (dir, code, secs, json)
}

/// Keys held by more than one customer on the server.
fn duplicates(stats: &Value) -> usize {
    stats["duplicate_keys"]["ext_cust_no"]
        .as_object()
        .map_or(0, |m| m.len())
}

/// (all API requests, those answered 429) the sandbox saw.
fn requests(stats: &Value) -> (u64, u64) {
    let mut all = 0;
    let mut refused = 0;
    for (_, outcomes) in stats["requests"].as_object().into_iter().flatten() {
        for (status, n) in outcomes.as_object().into_iter().flatten() {
            let n = n.as_u64().unwrap_or(0);
            all += n;
            if status == "429" {
                refused += n;
            }
        }
    }
    (all, refused)
}

fn bursts() {
    println!(
        "| burst 429s (Retry-After: 1) | rows | concurrency | latency ms | seconds | OK | 429s |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for share in [0.01, 0.05, 0.2] {
        let sb = spawn_in_thread(SandboxOptions {
            latency_ms: 5,
            burst_429: share,
            ..SandboxOptions::default()
        })
        .expect("sandbox");
        let (_dir, code, secs, json) = import(&sb, 1000, 16);
        let stats = sb.stats();
        println!(
            "| {:.0} % | 1000 | 16 | 5 | {secs:.2} | {} (exit {code}) | {} |",
            share * 100.0,
            json["ok"],
            stats["faults"]["burst_429"]
        );
    }
}

fn fault_mix() {
    println!();
    println!(
        "| run (1,000 rows, concurrency 16, 5 ms) | seconds | OK | unknown | failed | keys twice | × clean |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut clean = f64::NAN;
    for faulty in [false, true] {
        let opts = if faulty {
            SandboxOptions {
                latency_ms: 5,
                fail_rate: 0.08,
                burst_429: 0.05,
                token_ttl: Some(2),
                drop_after_commit: 0.05,
                ..SandboxOptions::default()
            }
        } else {
            SandboxOptions {
                latency_ms: 5,
                ..SandboxOptions::default()
            }
        };
        let sb = spawn_in_thread(opts).expect("sandbox");
        let (_dir, code, secs, json) = import(&sb, 1000, 16);
        if !faulty {
            clean = secs;
        }
        println!(
            "| {} (exit {code}) | {secs:.2} | {} | {} | {} | {} | {:.2} |",
            if faulty { "fault mix" } else { "no faults" },
            json["ok"],
            json["unknown"],
            json["failed"],
            duplicates(&sb.stats()),
            secs / clean
        );
    }
}

fn hard_limit() {
    println!();
    println!(
        "| hard limit 20 req/s (300 rows, concurrency 16, 5 ms) | seconds | OK | requests | 429s | 429 share | OK requests/s (first to last) | % of 20 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, opts) in [
        (
            "fixed 1-s windows",
            SandboxOptions {
                latency_ms: 5,
                rate_limit: Some(20),
                ..SandboxOptions::default()
            },
        ),
        (
            "token bucket (20/s, burst 20)",
            SandboxOptions {
                latency_ms: 5,
                bucket: Some((20.0, 20)),
                ..SandboxOptions::default()
            },
        ),
    ] {
        let sb = spawn_in_thread(opts).expect("sandbox");
        let (_dir, code, secs, json) = import(&sb, 300, 16);
        let stats = sb.stats();
        let (all, refused) = requests(&stats);
        let arrivals = sb.arrivals();
        let mut times: Vec<u64> = arrivals
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(_, v)| v.as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_u64())
            .collect();
        times.sort_unstable();
        let span = match (times.first(), times.last()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 / 1000.0,
            _ => f64::NAN,
        };
        let served = (all - refused) as f64 / span;
        println!(
            "| {name} (exit {code}) | {secs:.2} | {} | {all} | {refused} | {:.1} % | {served:.1} | {:.0} % |",
            json["ok"],
            100.0 * refused as f64 / all as f64,
            100.0 * served / 20.0
        );
    }
}

fn daily_quota() {
    println!();
    println!(
        "| daily quota 500, 1,200 rows | exit | seconds | OK | requests served | plan: parks | plan: requests | resume exit | OK after resume | keys twice | customers |"
    );
    println!("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|");
    let sb = spawn_in_thread(SandboxOptions {
        latency_ms: 5,
        daily_quota: Some(500),
        quota_reset_in: Some(6 * 3600),
        ..SandboxOptions::default()
    })
    .expect("sandbox");
    let (dir, code, secs, json) = import(&sb, 1200, 16);
    let (all, refused) = requests(&sb.stats());
    // 1,200 rows need three days of 500: move the reset and resume until done.
    let (mut code2, mut json2) = (code, Value::Null);
    for _ in 0..4 {
        if code2 != 75 {
            break;
        }
        sb.move_quota_reset(Duration::ZERO);
        let (c, _, j) = run(dir.path(), &sb.base_url(), &["resume"]);
        (code2, json2) = (c, j);
    }
    let stats = sb.stats();
    println!(
        "| park, then resume | {code} | {secs:.2} | {} | {} | {} | {} | {code2} | {} | {} | {} |",
        json["ok"],
        all - refused,
        json["plan"]["quota"]["parks"],
        json["plan"]["requests"],
        json2["ok"],
        duplicates(&stats),
        stats["databases"]["1"]["records"]["customers"]
    );
}

fn fault_free() {
    println!();
    println!(
        "| fault-free (20 ms, concurrency 32) | rows | start-to-exit s | rows/s | of 1,600 | OK |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let sb = spawn_in_thread(SandboxOptions {
        latency_ms: 20,
        ..SandboxOptions::default()
    })
    .expect("sandbox");
    let (_dir, code, secs, json) = import(&sb, 6400, 32);
    let rate = 6400.0 / secs;
    println!(
        "| import --json (exit {code}) | 6400 | {secs:.2} | {rate:.0} | {:.2} | {} |",
        rate / 1600.0,
        json["ok"]
    );
}

fn main() {
    bursts();
    fault_mix();
    hard_limit();
    daily_quota();
    fault_free();
}
