//! The guarantees hold for every target, not only SalesMania's keyed rows: `retry` of an
//! orders or a Trackfinity run, `runs undo` of a Fatura Entegratör run.

use crate::common::{Target, TestEnv, count, fix_failed, sandbox_get};
use sheetload::sandbox::SandboxOptions;

#[test]
fn an_orders_run_can_be_retried_from_its_fixed_failed_sheet() {
    let done = TestEnv::new()
        .sandbox(SandboxOptions {
            customers: 3,
            products: 3,
            ..SandboxOptions::default()
        })
        .stdin_null()
        .args(["export", "products", "--out", "p.xlsx"])
        .expect_code(0);
    let product = done.records("p.xlsx", "Products")[0]["id"].clone();
    let done = done
        .again()
        .args(["export", "customers", "--out", "c.xlsx"])
        .expect_code(0);
    let customer = done.records("c.xlsx", "Customers")[0]["id"].clone();
    // SO-2 names a unit the product does not have: its group is INVALID.
    let csv = format!(
        "No Pesanan,Tanggal,customer_id,product_id,Jumlah,Satuan\n\
         SO-1,2026-12-01,{customer},{product},2,PCS\n\
         SO-2,2026-12-01,{customer},{product},1,LUSIN\n"
    );
    let done = done
        .again()
        .file("o.csv", csv)
        .args(["import", "o.csv", "-e", "orders"])
        .expect_code(1);
    assert_eq!(done.stats()["databases"]["1"]["records"]["orders"], 1);
    fix_failed(&done.path("o.result.xlsx"), "Satuan", "PCS");
    let done = done.again().args(["retry", "o.result.xlsx"]).expect_code(0);
    let rows = done.records("o.result.retry.xlsx", "Results");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["_status"], "OK", "{rows:?}");
    assert_eq!(done.stats()["databases"]["1"]["records"]["orders"], 2);
}

#[test]
fn a_trackfinity_run_can_be_retried_from_its_fixed_failed_sheet() {
    let done = TestEnv::new()
        .sandbox(SandboxOptions::default())
        .target(Target::Trackfinity)
        .file(
            "t.csv",
            "customer_id,city,email\n1,Semarang,\n2,,not-an-email\n",
        )
        .args([
            "import",
            "t.csv",
            "--target",
            "trackfinity",
            "-e",
            "customers",
        ])
        .expect_code(1);
    fix_failed(&done.path("t.result.xlsx"), "email", "budi@example.com");
    let done = done.again().args(["retry", "t.result.xlsx"]).expect_code(0);
    let rows = done.records("t.result.retry.xlsx", "Results");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["_status"], "OK", "{rows:?}");
    let body = sandbox_get(done.server(), "/_sandbox/trackfinity/customers/2");
    assert_eq!(body["email"], "budi@example.com", "{body}");
}

#[test]
fn a_fatura_run_can_be_undone() {
    let fatura = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/fatura-customers.csv"
    ))
    .unwrap();
    let done = TestEnv::new()
        .sandbox(SandboxOptions::default())
        .target(Target::Fatura)
        .stdin_null()
        .file("f.csv", fatura)
        .args(["import", "f.csv", "--target", "fatura", "-e", "customers"])
        .expect_code(0);
    assert_eq!(done.stats()["fatura"]["records"]["customers"], 4);
    // Without SHEETLOAD_USER: Fatura needs only its key.
    let done = done
        .again()
        .args(["runs", "undo", "1", "--yes"])
        .expect_code(0);
    assert_eq!(done.stats()["fatura"]["records"]["customers"], 0);
    assert_eq!(count(&done.stats(), "DELETE /api/customers/{id}"), 4);
    // A Trackfinity run creates nothing the API could delete: refused with a sentence.
    let done = done
        .again()
        .target(Target::Trackfinity)
        .file("t.csv", "customer_id,city\n1,Kudus\n")
        .args([
            "import",
            "t.csv",
            "--target",
            "trackfinity",
            "-e",
            "customers",
        ])
        .expect_code(0);
    let done = done.again().args(["runs", "undo", "2", "--yes"]).run();
    let text = &done.stderr;
    assert!(
        text.contains("nothing to undo") || text.contains("cannot be deleted"),
        "{text}"
    );
}
