//! The run lock (issue 32, point 1): two imports of one upload started together, with
//! one `SHEETLOAD_HOME`, against one sandbox. The second refuses (or waits with
//! `--wait-for-lock`, then skips everything); every key is created once. A run on
//! another database or entity, or a dry run, is not blocked; a lease left by a
//! SIGKILLed run is taken over and `resume` finishes it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sheetload::sandbox::{SandboxOptions, ThreadSandbox};

use crate::common::{
    Target, collect, connected, records, records_in_db, spawn_sandbox, statuses, wait_for_text,
};
use crate::soak::duplicated_keys;

const ROWS: usize = 60;

fn customers_csv(n: usize) -> String {
    let mut s = String::from("Kode Pelanggan,Nama,Kota,No HP\n");
    for i in 1..=n {
        s.push_str(&format!("C{i:05},Toko {i},Semarang,0812{i:07}\n"));
    }
    s
}

/// A sandbox that catches the first run's first two creates (its whole window at
/// `--concurrency 2`) and holds them until the test releases them: that run holds the
/// lock and is sending for exactly as long as the test needs.
fn held_sandbox() -> ThreadSandbox {
    let sb = spawn_sandbox(SandboxOptions::default());
    sb.hold_writes(2);
    sb
}

/// Wait until the first run's two creates wait at the sandbox: it holds the lock.
fn wait_until_sending(sb: &ThreadSandbox) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while sb.writes_waiting() < 2 {
        assert!(
            Instant::now() < deadline,
            "the first run never began sending"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
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

/// A run spawned in the background, killed if the test fails first; its stderr is
/// collected as it comes, so a test can wait for a note.
struct Running {
    child: Option<Child>,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    fn start(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sheetload");
        let stderr = collect(child.stderr.take().expect("stderr piped"));
        Running {
            child: Some(child),
            stderr,
        }
    }

    /// Wait until it has printed `note` on stderr.
    fn wait_for_note(&self, note: &str) {
        wait_for_text(&self.stderr, note);
    }

    /// Wait for it: its exit code and what it printed on stderr.
    fn finish(mut self) -> (i32, String) {
        let mut child = self.child.take().expect("still running");
        let status = child.wait().expect("wait for sheetload");
        // The pipe's last lines: the collector reads until the child's end closes it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Arc::strong_count(&self.stderr) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let err = self.stderr.lock().unwrap().clone();
        (status.code().unwrap_or(-1), err)
    }

    /// SIGKILL: no chance to release anything.
    fn kill(mut self) {
        let mut child = self.child.take().expect("still running");
        child.kill().expect("SIGKILL the run");
        child.wait().expect("reap it");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn customers(sb: &ThreadSandbox, db: &str) -> u64 {
    records_in_db(&sb.stats(), db, "customers")
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
    let sb = held_sandbox();
    let home = home_with_file();
    let first = Running::start(import(home.path(), &sb, &[]));
    wait_until_sending(&sb);
    let (code, err) = run_to_end(import(home.path(), &sb, &["--out", "second.xlsx"]));
    sb.hold_writes(0);
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
        !home.path().join("second.xlsx").exists(),
        "a refused run writes no result"
    );
}

#[test]
fn with_wait_for_lock_the_second_import_waits_then_skips_every_row() {
    let sb = held_sandbox();
    let home = home_with_file();
    let first = Running::start(import(home.path(), &sb, &[]));
    wait_until_sending(&sb);
    let second = Running::start(import(
        home.path(),
        &sb,
        &["--wait-for-lock=5m", "--out", "second.xlsx"],
    ));
    second.wait_for_note("waiting for run 1 (pid ");
    sb.hold_writes(0);
    let (first_code, first_err) = first.finish();
    let (code, err) = second.finish();
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
    let sb = held_sandbox();
    let home = home_with_file();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    std::fs::copy(samples.join("products.csv"), home.path().join("p.csv")).unwrap();
    let first = Running::start(import(home.path(), &sb, &[]));
    wait_until_sending(&sb);
    // The same file into database 2, while the first run's creates are held.
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
    assert_eq!(
        customers(&sb, "1"),
        0,
        "the first run's creates were all held"
    );
    sb.hold_writes(0);
    let (first_code, first_err) = first.finish();
    assert_eq!(first_code, 0, "the first run:\n{first_err}");
    assert_eq!(customers(&sb, "1"), ROWS as u64);
    assert_eq!(customers(&sb, "2"), ROWS as u64);
    assert_eq!(records_in_db(&sb.stats(), "1", "products"), 15);
}

#[test]
fn the_lease_of_a_killed_run_is_taken_over_and_resume_finishes_it() {
    let sb = held_sandbox();
    let home = home_with_file();
    let first = Running::start(import(home.path(), &sb, &[]));
    wait_until_sending(&sb);
    first.kill();
    // Its held creates go with its connections, never applied.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sb.writes_waiting() > 0 {
        assert!(
            Instant::now() < deadline,
            "the killed run's creates still wait"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    sb.hold_writes(0);
    assert_eq!(customers(&sb, "1"), 0, "killed mid-way");
    // The text and the JSON of `runs list` agree: the killed run has stopped.
    let mut list = connected(home.path(), &sb.base_url(), Target::SalesMania);
    list.args(["runs", "list", "--json"]);
    let out = list.output().expect("runs list --json");
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(runs[0]["state"], "stopped", "{runs}");
    let mut list = connected(home.path(), &sb.base_url(), Target::SalesMania);
    list.args(["runs", "list"]);
    let text = String::from_utf8_lossy(&list.output().expect("runs list").stdout).into_owned();
    assert!(text.contains(" stopped "), "{text}");
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

/// `runs undo` takes the same lock: undoing a run while another import of its entity
/// sends is refused (it would delete what that run plans around), and waits with
/// `--wait-for-lock`.
#[test]
fn undo_refuses_while_another_run_of_its_scope_sends_and_waits_when_asked() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let home = home_with_file();
    let (code, err) = run_to_end(import(home.path(), &sb, &["--out", "first.xlsx"]));
    assert_eq!(code, 0, "run 1:\n{err}");
    assert_eq!(customers(&sb, "1"), ROWS as u64);
    let more: String = customers_csv(ROWS + 10)
        .lines()
        .enumerate()
        .filter(|(i, _)| *i == 0 || *i > ROWS)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(home.path().join("more.csv"), more).unwrap();
    sb.hold_writes(2);
    let mut second = connected(home.path(), &sb.base_url(), Target::SalesMania);
    second
        .args([
            "import",
            "more.csv",
            "-e",
            "customers",
            "--concurrency",
            "2",
        ])
        .stdin(Stdio::null());
    let second = Running::start(second);
    wait_until_sending(&sb);
    let undo = |extra: &[&str]| {
        let mut c = connected(home.path(), &sb.base_url(), Target::SalesMania);
        c.args(["runs", "undo", "1", "--yes"])
            .args(extra)
            .stdin(Stdio::null());
        c
    };
    let (code, err) = run_to_end(undo(&[]));
    assert_eq!(code, 2, "undo must refuse while run 2 sends:\n{err}");
    assert!(
        err.contains("another sheetload run is importing customers into \"Demo\" (db 1)")
            && err.contains("--wait-for-lock"),
        "{err}"
    );
    assert_eq!(customers(&sb, "1"), ROWS as u64, "nothing deleted");
    let waiting = Running::start(undo(&["--wait-for-lock=5m"]));
    waiting.wait_for_note("waiting for ");
    sb.hold_writes(0);
    let (code, err) = second.finish();
    assert_eq!(code, 0, "run 2:\n{err}");
    let (code, err) = waiting.finish();
    assert_eq!(code, 0, "the undo that waited:\n{err}");
    assert!(err.contains("deleted 60 of 60 customers"), "{err}");
    assert_eq!(customers(&sb, "1"), 10, "run 2's records stay");
}
