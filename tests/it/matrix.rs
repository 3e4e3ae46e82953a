//! Every guarantee for every target: {SalesMania customers, products, visits, orders;
//! Trackfinity update and lock; Fatura Entegratör customers} × {Ctrl-C then `resume`,
//! SIGKILL then `resume`, `retry` of the fixed Failed sheet, `--max-errors`, `runs undo`,
//! ledger rows committed while the run is in flight}. A cell the API cannot do (undo
//! without a delete endpoint) must be refused with one clear sentence.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, Target, connected, count, fix_failed, records};
use serde_json::Value;
use sheetload::sandbox::{SandboxOptions, ThreadSandbox, spawn_in_thread};

/// Rows in the sheets that are interrupted: enough to stop half-way at the latency used.
const ROWS: usize = 24;

/// What the seeded sandbox holds, read back through the API.
struct Seeds {
    customers: Vec<String>,
    products: Vec<String>,
    teams: Vec<String>,
}

/// One row of the matrix: what is imported, and how to tell what landed.
struct Case {
    name: &'static str,
    target: Target,
    entity: &'static str,
    mode: &'static str,
    /// The route every write of the case goes to.
    write: &'static str,
    /// The sheet of `n` rows; with `bad`, that row has a mistake fixable in `fix.0`.
    sheet: fn(&Seeds, usize, Option<usize>) -> String,
    /// Header of the column holding the mistake, and the value that fixes it.
    fix: (&'static str, &'static str),
    /// What the API offers to undo a run; `None`: undo is refused.
    undo: bool,
    /// A create can be looked up by its natural key after a lost answer.
    reconciles: bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "salesmania customers",
            target: Target::SalesMania,
            entity: "customers",
            mode: "create",
            write: "POST /extapi/v1.0/customers",
            sheet: |_, n, bad| {
                let mut s = String::from("Kode Pelanggan,Nama,No HP\n");
                for i in 0..n {
                    let phone = if bad == Some(i) { "08x" } else { "0812345678" };
                    s.push_str(&format!("M{i:04},Toko {i},{phone}\n"));
                }
                s
            },
            fix: ("No HP", "0812345678"),
            undo: true,
            reconciles: true,
        },
        Case {
            name: "salesmania products",
            target: Target::SalesMania,
            entity: "products",
            mode: "create",
            write: "POST /extapi/v1.0/products",
            sheet: |_, n, bad| {
                let mut s =
                    String::from("ext_product_code,name,qty_on_hand,unit_name,unit_price\n");
                for i in 0..n {
                    let qty = if bad == Some(i) { "banyak" } else { "10" };
                    s.push_str(&format!("MP{i:04},Produk {i},{qty},PCS,5000\n"));
                }
                s
            },
            fix: ("qty_on_hand", "10"),
            undo: true,
            reconciles: true,
        },
        Case {
            name: "salesmania visits",
            target: Target::SalesMania,
            entity: "visits",
            mode: "create",
            write: "POST /extapi/v1.1/visits",
            sheet: |seeds, n, bad| {
                let mut s = String::from("Tanggal,customer_id,team_id\n");
                for i in 0..n {
                    let date = if bad == Some(i) {
                        "32/13/2026".to_string()
                    } else {
                        format!("2026-12-{:02}", 1 + i % 28)
                    };
                    let c = &seeds.customers[i % seeds.customers.len()];
                    let t = &seeds.teams[i % seeds.teams.len()];
                    s.push_str(&format!("{date},{c},{t}\n"));
                }
                s
            },
            fix: ("Tanggal", "2026-12-31"),
            undo: false,
            reconciles: false,
        },
        Case {
            name: "salesmania orders",
            target: Target::SalesMania,
            entity: "orders",
            mode: "create",
            write: "POST /extapi/v1.0/orders",
            sheet: |seeds, n, bad| {
                let mut s =
                    String::from("No Pesanan,Tanggal,customer_id,product_id,Jumlah,Satuan\n");
                for i in 0..n {
                    let qty = if bad == Some(i) { "dua" } else { "2" };
                    let c = &seeds.customers[i % seeds.customers.len()];
                    let p = &seeds.products[i % seeds.products.len()];
                    s.push_str(&format!("MO-{i:04},2026-12-01,{c},{p},{qty},PCS\n"));
                }
                s
            },
            fix: ("Jumlah", "2"),
            undo: false,
            reconciles: false,
        },
        Case {
            name: "trackfinity update",
            target: Target::Trackfinity,
            entity: "customers",
            mode: "update",
            write: "PATCH /api/customer/set_customer_details",
            sheet: |_, n, bad| {
                let mut s = String::from("customer_id,city,email\n");
                for i in 0..n.min(20) {
                    let email = if bad == Some(i) { "bukan-email" } else { "" };
                    s.push_str(&format!("{},Kota {i},{email}\n", i + 1));
                }
                s
            },
            fix: ("email", "ganti@example.com"),
            undo: false,
            reconciles: true,
        },
        Case {
            name: "trackfinity lock",
            target: Target::Trackfinity,
            entity: "customers",
            mode: "lock",
            write: "PATCH /api/customer/lock",
            sheet: |_, n, bad| {
                let mut s = String::from("customer_id\n");
                for i in 0..n.min(20) {
                    if bad == Some(i) {
                        s.push_str("satu\n");
                    } else {
                        s.push_str(&format!("{}\n", i + 1));
                    }
                }
                s
            },
            fix: ("customer_id", "20"),
            undo: false,
            reconciles: true,
        },
        Case {
            name: "fatura customers",
            target: Target::Fatura,
            entity: "customers",
            mode: "create",
            write: "POST /api/customers",
            sheet: |_, n, bad| {
                let mut s = String::from(
                    "type,tax_number,title,tax_office,country,city,district,address\n",
                );
                for i in 0..n {
                    let vkn = if bad == Some(i) {
                        "1234567891".to_string()
                    } else {
                        vkn(1000 + i as u64)
                    };
                    s.push_str(&format!(
                        "company,{vkn},FİRMA {i} A.Ş.,Kadıköy,TÜRKİYE,İstanbul,Şişli,Cad. {i}\n"
                    ));
                }
                s
            },
            fix: ("tax_number", "9876543217"),
            undo: true,
            reconciles: true,
        },
    ]
}

/// A valid VKN (the official check digit) built from a 9-digit stem.
fn vkn(stem: u64) -> String {
    let digits: Vec<u32> = format!("{stem:09}")
        .chars()
        .map(|c| c.to_digit(10).unwrap_or(0))
        .collect();
    let mut sum = 0;
    for (i, &d) in digits.iter().enumerate() {
        let p = (d + 9 - i as u32) % 10;
        let mut v = (p * 2u32.pow(9 - i as u32)) % 9;
        if p != 0 && v == 0 {
            v = 9;
        }
        sum += v;
    }
    let check = (10 - sum % 10) % 10;
    format!("{stem:09}{check}")
}

fn sandbox(latency_ms: u64, write_fail_rate: f64) -> ThreadSandbox {
    spawn_in_thread(SandboxOptions {
        customers: 6,
        products: 3,
        teams: 3,
        latency_ms,
        write_fail_rate,
        ..SandboxOptions::default()
    })
    .expect("sandbox")
}

fn command(case: &Case, sb: &ThreadSandbox, dir: &Path) -> Command {
    let mut c = connected(dir, &sb.base_url(), case.target);
    c.stdin(Stdio::null());
    c
}

fn import_args<'a>(case: &'a Case, file: &'a str) -> Vec<&'a str> {
    vec![
        "import",
        file,
        "--target",
        case.target.name(),
        "-e",
        case.entity,
        "--mode",
        case.mode,
        "--concurrency",
        "1",
    ]
}

fn run(case: &Case, sb: &ThreadSandbox, dir: &Path, args: &[&str]) -> Output {
    command(case, sb, dir).args(args).output().expect("run")
}

fn spawn(case: &Case, sb: &ThreadSandbox, dir: &Path, args: &[&str]) -> Child {
    command(case, sb, dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

fn ok_writes(stats: &Value, route: &str) -> u64 {
    stats["requests"][route]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with('2'))
                .filter_map(|(_, v)| v.as_u64())
                .sum()
        })
        .unwrap_or(0)
}

fn wait_for_writes(sb: &ThreadSandbox, route: &str, n: u64) {
    let start = Instant::now();
    while count(&sb.stats(), route) < n {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{route} never reached {n}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn seeds(sb: &ThreadSandbox, dir: &Path) -> Seeds {
    let sm = &cases()[0];
    let ids = |what: &str, sheet: &str| -> Vec<String> {
        let out = run(
            sm,
            sb,
            dir,
            &["export", what, "--out", &format!("{what}.xlsx")],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        records(&dir.join(format!("{what}.xlsx")), sheet)
            .iter()
            .map(|r| r["id"].clone())
            .collect()
    };
    Seeds {
        customers: ids("customers", "Customers"),
        products: ids("products", "Products"),
        teams: ids("teams", "Teams"),
    }
}

fn signal(child: &Child, sig: &str) {
    Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
}

/// Stop the run half-way (SIGINT or SIGKILL), then `resume`: every row ends with one
/// outcome, nothing is written twice.
fn interrupt_then_resume(case: &Case, sig: &str) {
    let sb = sandbox(25, 0.0);
    let dir = tempfile::tempdir().unwrap();
    let seeds = seeds(&sb, dir.path());
    let sheet = (case.sheet)(&seeds, ROWS, None);
    let rows = sheet.lines().count() as u64 - 1;
    std::fs::write(dir.path().join("m.csv"), &sheet).unwrap();
    let child = spawn(case, &sb, dir.path(), &import_args(case, "m.csv"));
    wait_for_writes(&sb, case.write, 4);
    signal(&child, sig);
    let out = child.wait_with_output().unwrap();
    let ctx = format!("{} / {sig}", case.name);
    if sig == "-INT" {
        assert_eq!(out.status.code(), Some(130), "{ctx}: {}", stderr(&out));
        let result = records(&dir.path().join("m.result.xlsx"), "Results");
        assert!(
            result.iter().any(|r| r["_status"] == "NOT SENT"),
            "{ctx}: stopped half-way"
        );
    }
    let before = ok_writes(&sb.stats(), case.write);
    assert!(before < rows, "{ctx}: the run was stopped before its end");
    let out = run(case, &sb, dir.path(), &["resume"]);
    let code = out.status.code();
    let result = records(&dir.path().join("m.result.xlsx"), "Results");
    let unknown = result.iter().filter(|r| r["_status"] == "UNKNOWN").count();
    let ok = result.iter().filter(|r| r["_status"] == "OK").count();
    if case.reconciles || sig == "-INT" {
        assert_eq!(code, Some(0), "{ctx}: {}", stderr(&out));
        assert_eq!(ok as u64, rows, "{ctx}: every row OK once");
    } else {
        // A create without a key to look up: the one in flight at the kill may be
        // UNKNOWN, never sent twice.
        assert!(unknown <= 1, "{ctx}: {unknown} unknown");
        assert_eq!(ok + unknown, rows as usize, "{ctx}");
    }
    let landed = ok_writes(&sb.stats(), case.write);
    if case.write.starts_with("POST") {
        assert!(
            landed <= rows,
            "{ctx}: {landed} creates for {rows} rows: something was sent twice"
        );
        assert!(landed >= ok as u64, "{ctx}: every OK row landed");
    } else {
        assert!(landed >= rows, "{ctx}: every change landed");
    }
}

#[test]
fn ctrl_c_then_resume_for_every_target() {
    for case in cases() {
        interrupt_then_resume(&case, "-INT");
    }
}

#[test]
fn sigkill_then_resume_for_every_target() {
    for case in cases() {
        interrupt_then_resume(&case, "-KILL");
    }
}

#[test]
fn retry_of_the_fixed_failed_sheet_for_every_target() {
    for case in cases() {
        let sb = sandbox(0, 0.0);
        let dir = tempfile::tempdir().unwrap();
        let seeds = seeds(&sb, dir.path());
        let sheet = (case.sheet)(&seeds, 4, Some(2));
        std::fs::write(dir.path().join("m.csv"), sheet).unwrap();
        let out = run(&case, &sb, dir.path(), &import_args(&case, "m.csv"));
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            case.name,
            stderr(&out)
        );
        let result = dir.path().join("m.result.xlsx");
        assert_eq!(common::sheet(&result, "Failed").len(), 2, "{}", case.name);
        let before = ok_writes(&sb.stats(), case.write);
        fix_failed(&result, case.fix.0, case.fix.1);
        let out = run(&case, &sb, dir.path(), &["retry", "m.result.xlsx"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            case.name,
            stderr(&out)
        );
        let rows = records(&dir.path().join("m.result.retry.xlsx"), "Results");
        assert_eq!(rows.len(), 1, "{}", case.name);
        assert_eq!(rows[0]["_status"], "OK", "{}: {rows:?}", case.name);
        assert_eq!(
            ok_writes(&sb.stats(), case.write),
            before + 1,
            "{}: the fixed row, once",
            case.name
        );
    }
}

#[test]
fn max_errors_stops_sending_for_every_target() {
    for case in cases() {
        // Reads work, every write fails: the plan is made, the sends fail.
        let sb = sandbox(0, 1.0);
        let dir = tempfile::tempdir().unwrap();
        let seeds = seeds(&sb, dir.path());
        let sheet = (case.sheet)(&seeds, 8, None);
        std::fs::write(dir.path().join("m.csv"), sheet).unwrap();
        let mut args = import_args(&case, "m.csv");
        args.extend(["--retries", "0", "--max-errors", "2"]);
        let out = run(&case, &sb, dir.path(), &args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            case.name,
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("--max-errors 2 reached"),
            "{}",
            case.name
        );
        assert_eq!(
            count(&sb.stats(), case.write),
            2,
            "{}: exactly the limit was sent",
            case.name
        );
        let rows = records(&dir.path().join("m.result.xlsx"), "Results");
        assert_eq!(
            rows.iter().filter(|r| r["_status"] == "NOT SENT").count(),
            6,
            "{}",
            case.name
        );
    }
}

#[test]
fn runs_undo_deletes_what_a_run_created_or_says_why_it_cannot() {
    for case in cases() {
        let sb = sandbox(0, 0.0);
        let dir = tempfile::tempdir().unwrap();
        let seeds = seeds(&sb, dir.path());
        let sheet = (case.sheet)(&seeds, 3, None);
        std::fs::write(dir.path().join("m.csv"), sheet).unwrap();
        let out = run(&case, &sb, dir.path(), &import_args(&case, "m.csv"));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            case.name,
            stderr(&out)
        );
        let run_id = common::sheet(&dir.path().join("m.result.xlsx"), "Summary")
            .iter()
            .find(|r| r[0] == "Run")
            .map(|r| r[1].clone())
            .unwrap();
        let out = run(&case, &sb, dir.path(), &["runs", "undo", &run_id, "--yes"]);
        let text = stderr(&out);
        if case.undo {
            assert_eq!(out.status.code(), Some(0), "{}: {text}", case.name);
            let deletes: u64 = sb.stats()["requests"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| k.starts_with("DELETE "))
                .flat_map(|(_, v)| v.as_object().unwrap().values())
                .filter_map(Value::as_u64)
                .sum();
            assert_eq!(deletes, 3, "{}", case.name);
        } else {
            assert_ne!(out.status.code(), Some(0), "{}: {text}", case.name);
            let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error:")).collect();
            assert_eq!(errors.len(), 1, "{}: one sentence: {text}", case.name);
            assert!(
                errors[0].contains("cannot be deleted") || errors[0].contains("nothing to undo"),
                "{}: {text}",
                case.name
            );
        }
    }
}

#[test]
fn the_ledger_holds_outcomes_while_the_run_is_in_flight_for_every_target() {
    for case in cases() {
        let sb = sandbox(40, 0.0);
        let dir = tempfile::tempdir().unwrap();
        let seeds = seeds(&sb, dir.path());
        let sheet = (case.sheet)(&seeds, 16, None);
        std::fs::write(dir.path().join("m.csv"), sheet).unwrap();
        let mut child = spawn(&case, &sb, dir.path(), &import_args(&case, "m.csv"));
        wait_for_writes(&sb, case.write, 4);
        // The run is still going: its settled rows are in the ledger already.
        let out = run(&case, &sb, dir.path(), &["--json", "runs", "show", "1"]);
        let still_running = child.try_wait().unwrap().is_none();
        let show: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let settled = show["rows"]
            .as_array()
            .map(|rows| rows.iter().filter(|r| r["status"] == "OK").count())
            .unwrap_or(0);
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            still_running,
            "{}: the run ended too soon to observe",
            case.name
        );
        assert!(
            settled >= 2,
            "{}: {settled} outcomes committed while in flight: {show}",
            case.name
        );
    }
}
