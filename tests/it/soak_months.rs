//! The soak of issue 32's "Done when": months of imports as a user makes them, at the
//! edges — two imports of one file started together from two terminals (one
//! `SHEETLOAD_HOME`), one of them SIGKILLed mid-way and its run resumed, then the
//! sandbox restarted without its state (a server that lost its records) between months,
//! and customers, products, visits and orders imported again. It ends with every key
//! once on the server, and no row a result workbook reports OK or SKIPPED with an id
//! that the server lacks. Bounded: a few seconds.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sheetload::sandbox::{SandboxOptions, ThreadSandbox};

use crate::common::{Target, connected, records, records_in_db};
use crate::soak::{free_port, start_sandbox};

/// A month's imports, in order: the sample file, the entity it holds, how many records
/// it makes, and the columns (joined by `+`) that name one record both in the server's
/// export and in the file (a visit has no key of its own: its date, customer and team).
const MONTH: [(&str, &str, u64, &str); 4] = [
    ("customers.xlsx", "customers", 40, "ext_cust_no"),
    ("products.csv", "products", 15, "ext_product_code"),
    ("visits.csv", "visits", 20, "date+customer_code+team"),
    ("orders.xlsx", "orders", 5, "ext_order_no"),
];

/// The value of `key`'s columns in `row`.
fn identity(row: &HashMap<String, String>, key: &str) -> String {
    key.split('+')
        .map(|k| row.get(k).map_or("", String::as_str))
        .collect::<Vec<_>>()
        .join("|")
}

fn client(home: &Path, sb: &ThreadSandbox, args: &[&str]) -> Command {
    let mut c = connected(home, &sb.base_url(), Target::SalesMania);
    c.args(args).stdin(Stdio::null());
    c
}

fn run(home: &Path, sb: &ThreadSandbox, args: &[&str]) -> (i32, String) {
    let out = client(home, sb, args).output().expect("run sheetload");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn must_run(home: &Path, sb: &ThreadSandbox, args: &[&str]) {
    let (code, err) = run(home, sb, args);
    assert_eq!(code, 0, "{args:?} exited {code}:\n{err}");
}

/// Kill `child` if the test fails while it runs.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Month 1's customers: two imports of one file started together, the first SIGKILLed
/// mid-way; the second, told to wait for the lock, takes it over and finishes; the
/// killed run is resumed.
fn two_imports_and_a_kill(home: &Path, sb: &ThreadSandbox) {
    let args = [
        "import",
        "customers.xlsx",
        "-e",
        "customers",
        "--concurrency",
        "2",
    ];
    let spawn = |extra: &[&str]| {
        client(home, sb, &args)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sheetload")
    };
    let customers_at_least = |n: u64| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while records_in_db(&sb.stats(), "1", "customers") < n {
            assert!(Instant::now() < deadline, "the first import never sent {n}");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let mut first = Guard(Some(spawn(&[])));
    customers_at_least(8);
    // Its next two creates (its whole window) wait at the sandbox: it holds the lock
    // and is sending while the second terminal starts.
    sb.hold_writes(2);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sb.writes_waiting() < 2 {
        assert!(
            Instant::now() < deadline,
            "the first import never sent more"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = records_in_db(&sb.stats(), "1", "customers");
    // The second terminal, while the first sends: it waits for the lock, and says so.
    let mut second = Guard(Some(spawn(&["--wait-for-lock=1m", "--out", "second.xlsx"])));
    let second_err = crate::common::collect(
        second
            .0
            .as_mut()
            .and_then(|c| c.stderr.take())
            .expect("stderr piped"),
    );
    crate::common::wait_for_text(&second_err, "waiting for ");
    let mut killed = first.0.take().expect("running");
    killed.kill().expect("SIGKILL the first import");
    killed.wait().expect("reap it");
    // Its held creates go with its connections, never applied.
    while sb.writes_waiting() > 0 {
        assert!(
            Instant::now() < deadline,
            "the killed run's creates still wait"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    sb.hold_writes(0);
    assert_eq!(
        records_in_db(&sb.stats(), "1", "customers"),
        sent,
        "killed mid-way"
    );
    let out = second
        .0
        .take()
        .expect("running")
        .wait_with_output()
        .expect("wait for the second import");
    assert_eq!(
        out.status.code(),
        Some(0),
        "the second import:\n{}",
        second_err.lock().unwrap()
    );
    // The killed run, finished (a bare resume picks the newest unfinished run).
    must_run(home, sb, &["resume"]);
}

/// The server's records of `entity`, through `sheetload export`: how many hold each
/// value of `key`, and their ids (none for visits, which the export lists without).
fn on_server(
    home: &Path,
    sb: &ThreadSandbox,
    entity: &str,
    key: &str,
) -> (HashMap<String, usize>, HashSet<String>) {
    let out = format!("server-{entity}.xlsx");
    must_run(home, sb, &["export", entity, "--out", &out]);
    let path = home.join(&out);
    let first = crate::common::sheet_names(&path)
        .into_iter()
        .next()
        .expect("a sheet");
    let rows = records(&path, &first);
    let mut keys = HashMap::new();
    let mut ids = HashSet::new();
    for r in &rows {
        // Orders list one row per line: count each order once.
        let id = r.get("id").cloned().unwrap_or_default();
        if id.is_empty() || ids.insert(id) {
            *keys.entry(identity(r, key)).or_insert(0) += 1;
        }
    }
    (keys, ids)
}

/// Every key once on the server, as many records as the samples hold, and every row the
/// month's result workbooks report done (OK or SKIPPED with an id) there.
fn check_truth(home: &Path, sb: &ThreadSandbox, month: &str) {
    for (file, entity, count, key) in MONTH {
        let (keys, ids) = on_server(home, sb, entity, key);
        let twice: Vec<_> = keys.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{month}: {entity} held twice: {twice:?}");
        assert_eq!(
            records_in_db(&sb.stats(), "1", entity),
            count,
            "{month}: {entity} on the server"
        );
        let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
        for r in records(&home.join(format!("{stem}.result.xlsx")), "Results") {
            if r["_status"] != "OK" && r["_status"] != "SKIPPED" {
                continue;
            }
            // Found by its id where the export lists ids, else by its key.
            let there = if ids.is_empty() {
                keys.contains_key(&identity(&r, key))
            } else {
                r["_id"].is_empty() || ids.contains(&r["_id"])
            };
            assert!(
                there,
                "{month}: {file} row {} is {} ({}, id {}) but the server has no such {entity}",
                r["_row"], r["_status"], r["_error"], r["_id"]
            );
        }
    }
}

fn samples_in(home: &Path) {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for (f, ..) in MONTH {
        std::fs::copy(samples.join(f), home.join(f)).expect("copy a sample");
    }
}

/// Month 1 on a sandbox at `opts`: customers twice at once with a kill, then the rest
/// of the month, then customers again; every key once, every reported row there.
fn month_one(home: &Path, opts: &SandboxOptions) -> ThreadSandbox {
    samples_in(home);
    let sb = start_sandbox(opts);
    two_imports_and_a_kill(home, &sb);
    for (file, entity, ..) in &MONTH[1..] {
        must_run(home, &sb, &["import", file, "-e", entity]);
    }
    must_run(home, &sb, &["import", "customers.xlsx", "-e", "customers"]);
    check_truth(home, &sb, "month 1");
    sb
}

fn slow(port: u16) -> SandboxOptions {
    SandboxOptions {
        port,
        latency_ms: 30,
        ..SandboxOptions::default()
    }
}

#[test]
fn two_imports_of_one_file_at_once_and_a_kill_leave_every_key_once() {
    let home = tempfile::tempdir().expect("temp dir");
    month_one(home.path(), &slow(0));
}

#[test]
fn months_of_imports_with_two_runs_a_kill_and_a_server_that_lost_its_records() {
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let opts = slow(free_port());
    let sb = month_one(home, &opts);
    // Month 2: the server lost every record (restarted without a state file, at the
    // same address); the same files imported again.
    sb.shutdown();
    let sb = start_sandbox(&SandboxOptions {
        latency_ms: 0,
        ..opts
    });
    for (file, entity, ..) in MONTH {
        let (code, err) = run(home, &sb, &["import", file, "-e", entity]);
        assert_eq!(code, 0, "month 2: {file} exited {code}:\n{err}");
    }
    check_truth(home, &sb, "month 2");
}
