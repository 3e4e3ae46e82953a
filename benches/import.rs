//! Import throughput against the sandbox (not a timed test): customers at
//! `--latency-ms 20`, concurrency 32 and 128, compared with the ideal concurrency ÷
//! latency, both over the dispatch window and from process start to exit (with the
//! fixed costs before the first request and after the last answer that `--json`
//! reports); peak memory of 10,000 against 1,000,000 rows at latency 0; then the
//! dispatch matrix. Run with `cargo bench --bench import` (`SHEETLOAD_BENCH_QUICK=1`
//! leaves out the million-row import and the matrix).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::watch;
use sheetload::sandbox::{SandboxOptions, spawn_in_thread};

fn csv(path: &Path, rows: usize) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(w, "ext_cust_no,name,city,phone,latitude,longitude,tags").expect("write");
    for i in 0..rows {
        writeln!(
            w,
            "C{i:07},Toko Sumber Rejeki {i},Semarang,0812{i:08},-7.{:06},110.{:06},\"Retail; Semarang\"",
            i % 999_999,
            i % 999_999
        )
        .expect("write");
    }
}

/// Run the release binary; (wall seconds, peak RSS MB, the --json summary).
fn measure(dir: &Path, base_url: &str, args: &[&str]) -> (f64, f64, serde_json::Value) {
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
    let run = watch(&mut child, started, None);
    let secs = run.secs;
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut o, &mut out);
    }
    let json = serde_json::from_str(out.trim()).unwrap_or(serde_json::Value::Null);
    (secs, run.peak_mb, json)
}

/// The dispatch matrix: latencies 5/20/100 ms × concurrency 8/32/128, each as a share of
/// the ideal concurrency ÷ latency. Rows per cell scale with the ideal so each takes ~2 s.
fn matrix() {
    println!();
    println!(
        "| latency ms | concurrency | rows | ideal rows/s | dispatch rows/s | % of ideal | peak RSS MB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for latency in [5u64, 20, 100] {
        for concurrency in [8usize, 32, 128] {
            let ideal = concurrency as f64 / (latency as f64 / 1000.0);
            let rows = ((ideal * 2.0) as usize).clamp(300, 12_000);
            let sb = spawn_in_thread(SandboxOptions {
                latency_ms: latency,
                ..SandboxOptions::default()
            })
            .expect("sandbox");
            let dir = tempfile::tempdir().expect("tempdir");
            csv(&dir.path().join("c.csv"), rows);
            let conc = concurrency.to_string();
            let (_, mb, json) = measure(
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
            let rate = rows as f64 / json["dispatch_seconds"].as_f64().unwrap_or(f64::NAN);
            println!(
                "| {latency} | {concurrency} | {rows} | {ideal:.0} | {rate:.0} | {:.0}% | {mb:.0} |",
                100.0 * rate / ideal
            );
            sb.shutdown();
        }
    }
}

/// Peak memory of an import at latency 0, concurrency 64: the same for 10,000 rows and
/// for 1,000,000 when outcomes are not held for the whole run.
fn memory() {
    println!();
    println!("| rows (latency 0, concurrency 64) | seconds | rows/s | peak RSS MB | OK |");
    println!("|---:|---:|---:|---:|---:|");
    for rows in [10_000usize, 1_000_000] {
        let sb = spawn_in_thread(SandboxOptions::default()).expect("sandbox");
        let dir = tempfile::tempdir().expect("tempdir");
        csv(&dir.path().join("c.csv"), rows);
        let (secs, mb, json) = measure(
            dir.path(),
            &sb.base_url(),
            &[
                "import",
                "c.csv",
                "-e",
                "customers",
                "--concurrency",
                "64",
                "--out",
                "r.csv",
            ],
        );
        println!(
            "| {rows} | {secs:.2} | {:.0} | {mb:.0} | {} |",
            rows as f64 / secs,
            json["ok"]
        );
        sb.shutdown();
    }
}

fn main() {
    let latency = 20u64;
    println!(
        "| rows | concurrency | ideal rows/s | dispatch rows/s | % of ideal | start-to-exit rows/s | % of ideal | to first request ms | after last answer ms | end-to-end s | peak RSS MB | OK |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (rows, concurrency) in [
        (6_400usize, 32usize),
        (10_000, 32),
        (10_000, 128),
        (40_000, 128),
    ] {
        // A fresh sandbox per run, so every run creates all its rows.
        let sb = spawn_in_thread(SandboxOptions {
            latency_ms: latency,
            ..SandboxOptions::default()
        })
        .expect("sandbox");
        let dir = tempfile::tempdir().expect("tempdir");
        csv(&dir.path().join("c.csv"), rows);
        let conc = concurrency.to_string();
        let (secs, mb, json) = measure(
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
        let dispatch = json["dispatch_seconds"].as_f64().unwrap_or(f64::NAN);
        let rate = rows as f64 / dispatch;
        let ideal = concurrency as f64 / (latency as f64 / 1000.0);
        // From process start to exit, sign-in and result file included.
        let t = &json["timings"];
        let whole = rows as f64 / secs;
        let ms = |v: &serde_json::Value| v.as_f64().map_or(f64::NAN, |s| s * 1000.0);
        println!(
            "| {rows} | {concurrency} | {ideal:.0} | {rate:.0} | {:.0}% | {whole:.0} | {:.0}% | {:.0} | {:.0} | {secs:.2} | {mb:.0} | {} |",
            100.0 * rate / ideal,
            100.0 * whole / ideal,
            ms(&t["to_first_request_seconds"]),
            ms(&t["after_last_answer_seconds"]),
            json["ok"]
        );
        sb.shutdown();
    }
    if std::env::var_os("SHEETLOAD_BENCH_QUICK").is_some() {
        return;
    }
    memory();
    matrix();
}
