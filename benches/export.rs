//! Export throughput and memory (not a timed test): 200,000 customers seeded in an
//! in-process sandbox, exported by the release binary to XLSX and to CSV.
//! Run with `cargo bench --bench export`.

mod common;

use std::process::{Command, Stdio};
use std::time::Instant;

use common::watch;
use sheetload::sandbox::{SandboxOptions, spawn_in_thread};

fn main() {
    let n = 200_000usize;
    eprintln!("seeding {n} customers…");
    let sb = spawn_in_thread(SandboxOptions {
        customers: n,
        ..SandboxOptions::default()
    })
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("tempdir");
    println!("| export | records | seconds | records/s | peak RSS MB |");
    println!("|---|---:|---:|---:|---:|");
    for out in ["customers.xlsx", "customers.csv"] {
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sheetload"))
            .args(["export", "customers", "--out", out, "--quiet"])
            .current_dir(dir.path())
            .env("SHEETLOAD_HOME", dir.path())
            .env("SHEETLOAD_BASE_URL", sb.base_url())
            .env("SHEETLOAD_USER", "demo")
            .env("SHEETLOAD_PASSWORD", "demo")
            .env("SHEETLOAD_DATABASE", "1")
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn");
        let run = watch(&mut child, started, None);
        let (secs, code) = (run.secs, run.status.and_then(|s| s.code()));
        assert_eq!(code, Some(0), "export failed");
        println!(
            "| customers → {out} | {n} | {secs:.2} | {:.0} | {:.0} |",
            n as f64 / secs,
            run.peak_mb
        );
    }
}
