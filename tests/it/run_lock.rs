//! The run lock (issue 32, point 1): two imports of one upload started together, with
//! one `SHEETLOAD_HOME`, against one sandbox. The second refuses (or waits with
//! `--wait-for-lock`, then skips everything); every key is created once. A run on
//! another database or entity, or a dry run, is not blocked; a lease left by a
//! SIGKILLed run is taken over and `resume` finishes it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sheetload::sandbox::{SandboxOptions, ThreadSandbox};

use crate::common::{Target, connected, records, records_in_db, spawn_sandbox, statuses};
use crate::soak::duplicated_keys;

const ROWS: usize = 60;

fn customers_csv(n: usize) -> String {
    let mut s = String::from("Kode Pelanggan,Nama,Kota,No HP\n");
    for i in 1..=n {
        s.push_str(&format!("C{i:05},Toko {i},Semarang,0812{i:07}\n"));
    }
    s
}

/// A sandbox slow enough (every answer 40 ms late) that a 60-row import at 2 requests
/// at a time is still sending when the second run starts.
fn slow_sandbox() -> ThreadSandbox {
    spawn_sandbox(SandboxOptions {
        latency_ms: 40,
        ..SandboxOptions::default()
    })
}

fn home_with_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("c.csv"), customers_csv(ROWS)).expect("write c.csv");
    dir
}

/// `import c.csv -e customers`, 2 requests at a time unless `extra` says otherwise.
fn import(home: &Path, sb: &ThreadSandbox, extra: &[&str]) -> Command {
    let mut c = connected(home, &sb.base_url(), Target::SalesMania);
    c.args(["import", "c.csv", "-e", "customers"])
        .args(extra)
        .stdin(Stdio::null());
    if !extra.contains(&"--concurrency") {
        c.args(["--concurrency", "2"]);
    }
    c
}

/// A run spawned in the background, killed if the test fails first.
struct Running(Option<Child>);

impl Running {
    fn start(mut cmd: Command) -> Running {
        Running(Some(
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start sheetload"),
        ))
    }

    /// Wait for it: its exit code and what it printed on stderr.
    fn finish(mut self) -> (i32, String) {
        let child = self.0.take().expect("still running");
        let out = child.wait_with_output().expect("wait for sheetload");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// SIGKILL: no chance to release anything.
    fn kill(mut self) {
        let mut child = self.0.take().expect("still running");
        child.kill().expect("SIGKILL the run");
        child.wait().expect("reap it");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn customers(sb: &ThreadSandbox, db: &str) -> u64 {
    records_in_db(&sb.stats(), db, "customers")
}

/// Wait until the sandbox holds at least `n` customers in `db`: the first run is then
/// sending, its lock taken.
fn wait_for_customers(sb: &ThreadSandbox, db: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while customers(sb, db) < n {
        assert!(
            Instant::now() < deadline,
            "the first run never began sending"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_to_end(mut cmd: Command) -> (i32, String) {
    let out = cmd.output().expect("run sheetload");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_second_import_of_the_same_upload_refuses_and_every_key_is_created_once() {
    let sb = slow_sandbox();
    let home = home_with_file();
    let first = Running::start(import(home.path(), &sb, &[]));
    wait_for_customers(&sb, "1", 1);
    let (code, err) = run_to_end(import(home.path(), &sb, &["--out", "second.xlsx"]));
    let still_sending = customers(&sb, "1") < ROWS as u64;
    let (first_code, first_err) = first.finish();
    assert_eq!(first_code, 0, "the first run:\n{first_err}");
    // Before the lock: 100 customers for 60 rows, 40 keys twice (both runs planned
    // "create" for what the other was creating).
    let stats = sb.stats();
    assert_eq!(duplicated_keys(&stats), Vec::<String>::new());
    assert_eq!(customers(&sb, "1"), ROWS as u64);
    assert_eq!(code, 2, "the second run must refuse, nothing sent:\n{err}");
    assert!(
        err.contains("another sheetload run is importing customers into \"Demo\" (db 1): run ")
            && err.contains("--wait-for-lock")
            && err.contains("sheetload runs show"),
        "{err}"
    );
    assert!(
        still_sending,
        "the first run had finished before the second was refused"
    );
    assert!(
        !home.path().join("second.xlsx").exists(),
        "a refused run writes no result"
    );
}

#[test]
fn with_wait_for_lock_the_second_import_waits_then_skips_every_row() {
    let sb = slow_sandbox();
    let home = home_with_file();
    let first = Running::start(import(home.path(), &sb, &[]));
    wait_for_customers(&sb, "1", 1);
    let (code, err) = run_to_end(import(
        home.path(),
        &sb,
        &["--wait-for-lock=5m", "--out", "second.xlsx"],
    ));
    let (first_code, first_err) = first.finish();
    assert_eq!(first_code, 0, "the first run:\n{first_err}");
    assert_eq!(code, 0, "the second run:\n{err}");
    assert!(err.contains("waiting for run "), "{err}");
    let rows = records(&home.path().join("second.xlsx"), "Results");
    assert_eq!(rows.len(), ROWS);
    assert_eq!(
        statuses(&rows).get("SKIPPED"),
        Some(&ROWS),
        "the second run found every key the first created: {:?}",
        statuses(&rows)
    );
    assert_eq!(duplicated_keys(&sb.stats()), Vec::<String>::new());
    assert_eq!(customers(&sb, "1"), ROWS as u64);
}

#[test]
fn a_run_on_another_database_or_entity_or_a_dry_run_is_not_blocked() {
    let sb = slow_sandbox();
    let home = home_with_file();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    std::fs::copy(samples.join("products.csv"), home.path().join("p.csv")).unwrap();
    let first = Running::start(import(home.path(), &sb, &[]));
    wait_for_customers(&sb, "1", 1);
    // The same file into database 2.
    // Many requests at a time: done while the first run still sends.
    let mut other_db = import(
        home.path(),
        &sb,
        &["--concurrency", "16", "--out", "db2.xlsx"],
    );
    other_db.env("SHEETLOAD_DATABASE", "2");
    let (code, err) = run_to_end(other_db);
    assert_eq!(code, 0, "database 2:\n{err}");
    // Products into database 1.
    let mut products = connected(home.path(), &sb.base_url(), Target::SalesMania);
    products.args(["import", "p.csv", "-e", "products", "--concurrency", "16"]);
    let (code, err) = run_to_end(products);
    assert_eq!(code, 0, "products:\n{err}");
    // A dry run of the same scope sends nothing, takes no lock, and says who sends.
    let (code, err) = run_to_end(import(
        home.path(),
        &sb,
        &["--dry-run", "--concurrency", "16", "--out", "plan.xlsx"],
    ));
    assert_eq!(code, 0, "the dry run:\n{err}");
    assert!(
        err.contains("is importing customers into \"Demo\" (db 1) right now"),
        "{err}"
    );
    let still_sending = customers(&sb, "1") < ROWS as u64;
    let (first_code, first_err) = first.finish();
    assert_eq!(first_code, 0, "the first run:\n{first_err}");
    assert!(
        still_sending,
        "the first run had finished before the others ran"
    );
    assert_eq!(customers(&sb, "2"), ROWS as u64);
    assert_eq!(records_in_db(&sb.stats(), "1", "products"), 15);
}

#[test]
fn the_lease_of_a_killed_run_is_taken_over_and_resume_finishes_it() {
    let sb = slow_sandbox();
    let home = home_with_file();
    let first = Running::start(import(home.path(), &sb, &[]));
    wait_for_customers(&sb, "1", 5);
    first.kill();
    assert!(customers(&sb, "1") < ROWS as u64, "killed mid-way");
    let mut resume = connected(home.path(), &sb.base_url(), Target::SalesMania);
    resume.arg("resume").stdin(Stdio::null());
    let (code, err) = run_to_end(resume);
    assert_eq!(code, 0, "resume:\n{err}");
    assert!(
        err.contains("took over the run lock of customers left by run 1 (pid "),
        "{err}"
    );
    assert_eq!(duplicated_keys(&sb.stats()), Vec::<String>::new());
    assert_eq!(customers(&sb, "1"), ROWS as u64);
    // The lease is given back: the next import of the file runs at once.
    let (code, err) = run_to_end(import(home.path(), &sb, &["--out", "again.xlsx"]));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("took over"), "{err}");
}
