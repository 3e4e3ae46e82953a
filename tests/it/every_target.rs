//! The guarantees hold for every target, not only SalesMania's keyed rows: `retry` of an
//! orders or a Trackfinity run, `runs undo` of a Fatura Entegratör run.

use std::path::Path;

use crate::common::{Target, connected, count, fix_failed, records, sandbox_get};
use sheetload::sandbox::{SandboxOptions, ThreadSandbox, spawn_in_thread};

/// `sheetload` in `dir` (its `SHEETLOAD_HOME`) against `sb`, with every target's demo
/// credentials.
fn sheetload(sb: &ThreadSandbox, dir: &Path, args: &[&str]) -> std::process::Output {
    connected(dir, &sb.base_url(), Target::SalesMania)
        .envs(Target::Fatura.credentials().iter().copied())
        .args(args)
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
    fix_failed(&result, "Satuan", "PCS");
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
        connected(dir.path(), &sb.base_url(), Target::Trackfinity)
            .args(args)
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
    fix_failed(
        &dir.path().join("t.result.xlsx"),
        "email",
        "budi@example.com",
    );
    let out = tf(&["retry", "t.result.xlsx"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = records(&dir.path().join("t.result.retry.xlsx"), "Results");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["_status"], "OK", "{rows:?}");
    let body = sandbox_get(&sb, "/_sandbox/trackfinity/customers/2");
    assert_eq!(body["email"], "budi@example.com", "{body}");
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
    let out = connected(dir.path(), &sb.base_url(), Target::Fatura)
        .args(["runs", "undo", "1", "--yes"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sb.stats()["fatura"]["records"]["customers"], 0);
    assert_eq!(count(&sb.stats(), "DELETE /api/customers/{id}"), 4);
    // A Trackfinity run creates nothing the API could delete: refused with a sentence.
    std::fs::write(dir.path().join("t.csv"), "customer_id,city\n1,Kudus\n").unwrap();
    let tf = |args: &[&str]| {
        connected(dir.path(), &sb.base_url(), Target::Trackfinity)
            .args(args)
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
