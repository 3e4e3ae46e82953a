//! The guarantees hold for every target, not only SalesMania's keyed rows: `retry` of an
//! orders or a Trackfinity run, `runs undo` of a Fatura Entegratör run.

mod common;

use std::path::Path;

use common::records;
use serde_json::Value;
use sheetload::sandbox::{SandboxOptions, ThreadSandbox, spawn_in_thread};

fn count(stats: &Value, route: &str) -> u64 {
    stats["requests"][route]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

/// `sheetload` in `dir` (its `SHEETLOAD_HOME`) against `sb`, with every target's demo
/// credentials.
fn sheetload(sb: &ThreadSandbox, dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sheetload"))
        .args(args)
        .current_dir(dir)
        .env("SHEETLOAD_HOME", dir)
        .env("SHEETLOAD_BASE_URL", sb.base_url())
        .env("SHEETLOAD_USER", "demo")
        .env("SHEETLOAD_PASSWORD", "demo")
        .env("SHEETLOAD_DATABASE", "1")
        .env("SHEETLOAD_API_KEY", "fe-demo-key")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run sheetload")
}

fn code(out: &std::process::Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Rewrite a result workbook as a user fixing its Failed sheet in Excel would save it:
/// the Failed sheet (edited by `fix`) and the Summary that names the run.
fn fix_failed(result: &Path, fix: impl Fn(&[String], &mut Vec<String>)) {
    let failed = common::sheet(result, "Failed");
    let summary = common::sheet(result, "Summary");
    let head = failed[0].clone();
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("Failed").unwrap();
    for (c, h) in head.iter().enumerate() {
        ws.write_string(0, c as u16, h).unwrap();
    }
    for (i, r) in failed[1..].iter().enumerate() {
        let mut r = r.clone();
        fix(&head, &mut r);
        for (c, v) in r.iter().enumerate() {
            ws.write_string(i as u32 + 1, c as u16, v).unwrap();
        }
    }
    let ws = book.add_worksheet();
    ws.set_name("Summary").unwrap();
    for (i, r) in summary.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            ws.write_string(i as u32, c as u16, v).unwrap();
        }
    }
    book.save(result).unwrap();
}

#[test]
fn an_orders_run_can_be_retried_from_its_fixed_failed_sheet() {
    let sb = spawn_in_thread(SandboxOptions {
        customers: 3,
        products: 3,
        ..SandboxOptions::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = sheetload(&sb, dir.path(), &["export", "products", "--out", "p.xlsx"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let product = records(&dir.path().join("p.xlsx"), "Products")[0]["id"].clone();
    let out = sheetload(&sb, dir.path(), &["export", "customers", "--out", "c.xlsx"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let customer = records(&dir.path().join("c.xlsx"), "Customers")[0]["id"].clone();
    // SO-2 names a unit the product does not have: its group is INVALID.
    let csv = format!(
        "No Pesanan,Tanggal,customer_id,product_id,Jumlah,Satuan\n\
         SO-1,2026-12-01,{customer},{product},2,PCS\n\
         SO-2,2026-12-01,{customer},{product},1,LUSIN\n"
    );
    std::fs::write(dir.path().join("o.csv"), csv).unwrap();
    let out = sheetload(&sb, dir.path(), &["import", "o.csv", "-e", "orders"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(sb.stats()["databases"]["1"]["records"]["orders"], 1);
    let result = dir.path().join("o.result.xlsx");
    fix_failed(&result, |head, r| {
        let unit = head.iter().position(|h| h == "Satuan").unwrap();
        r[unit] = "PCS".into();
    });
    let out = sheetload(&sb, dir.path(), &["retry", "o.result.xlsx"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = records(&dir.path().join("o.result.retry.xlsx"), "Results");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["_status"], "OK", "{rows:?}");
    assert_eq!(sb.stats()["databases"]["1"]["records"]["orders"], 2);
}

#[test]
fn a_trackfinity_run_can_be_retried_from_its_fixed_failed_sheet() {
    let sb = spawn_in_thread(SandboxOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "customer_id,city,email\n1,Semarang,\n2,,not-an-email\n",
    )
    .unwrap();
    let tf = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sheetload"))
            .args(args)
            .current_dir(dir.path())
            .env("SHEETLOAD_HOME", dir.path())
            .env("SHEETLOAD_BASE_URL", sb.base_url())
            .env("SHEETLOAD_API_KEY", "tf-demo-key")
            .env("SHEETLOAD_API_USERNAME", "admin")
            .output()
            .unwrap()
    };
    let out = tf(&[
        "import",
        "t.csv",
        "--target",
        "trackfinity",
        "-e",
        "customers",
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    fix_failed(&dir.path().join("t.result.xlsx"), |head, r| {
        let email = head.iter().position(|h| h == "email").unwrap();
        r[email] = "budi@example.com".into();
    });
    let out = tf(&["retry", "t.result.xlsx"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = records(&dir.path().join("t.result.retry.xlsx"), "Results");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["_status"], "OK", "{rows:?}");
    let body = reqwest_get(&sb, "/_sandbox/trackfinity/customers/2");
    assert_eq!(body["email"], "budi@example.com", "{body}");
}

fn reqwest_get(sb: &ThreadSandbox, path: &str) -> Value {
    use std::io::{Read, Write};
    let addr = sb.base_url().trim_start_matches("http://").to_string();
    let addr = addr.trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[test]
fn a_fatura_run_can_be_undone() {
    let sb = spawn_in_thread(SandboxOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/samples/fatura-customers.csv"),
        dir.path().join("f.csv"),
    )
    .unwrap();
    let out = sheetload(
        &sb,
        dir.path(),
        &["import", "f.csv", "--target", "fatura", "-e", "customers"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sb.stats()["fatura"]["records"]["customers"], 4);
    // Without SHEETLOAD_USER: Fatura needs only its key.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sheetload"))
        .args(["runs", "undo", "1", "--yes"])
        .current_dir(dir.path())
        .env("SHEETLOAD_HOME", dir.path())
        .env("SHEETLOAD_BASE_URL", sb.base_url())
        .env("SHEETLOAD_API_KEY", "fe-demo-key")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sb.stats()["fatura"]["records"]["customers"], 0);
    assert_eq!(count(&sb.stats(), "DELETE /api/customers/{id}"), 4);
    // A Trackfinity run creates nothing the API could delete: refused with a sentence.
    std::fs::write(dir.path().join("t.csv"), "customer_id,city\n1,Kudus\n").unwrap();
    let tf = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sheetload"))
            .args(args)
            .current_dir(dir.path())
            .env("SHEETLOAD_HOME", dir.path())
            .env("SHEETLOAD_BASE_URL", sb.base_url())
            .env("SHEETLOAD_API_KEY", "tf-demo-key")
            .env("SHEETLOAD_API_USERNAME", "admin")
            .output()
            .unwrap()
    };
    let out = tf(&[
        "import",
        "t.csv",
        "--target",
        "trackfinity",
        "-e",
        "customers",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = tf(&["runs", "undo", "2", "--yes"]);
    let text = stderr(&out);
    assert!(
        text.contains("nothing to undo") || text.contains("cannot be deleted"),
        "{text}"
    );
}
