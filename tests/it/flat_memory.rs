//! Imports in constant memory: outcomes go to a temporary spill on disk as they settle
//! and the result workbook is written by joining the re-read input with it in row order.
//! These tests check what the spill must carry — a resumed run's earlier outcomes, a dry
//! run's `_payload` — and that it leaves nothing behind.

use crate::common::{TestEnv, count};
use sheetload::sandbox::SandboxOptions;

const HEADER: &str = "Kode Pelanggan,Nama,Kota,No HP\n";

/// Files the runs left in their temp folder (the spill must be gone).
fn leftovers(tmp: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_resumed_run_shows_the_outcomes_of_its_earlier_attempt() {
    // Every write fails: the first attempt stops after two failed sends, with an invalid
    // row before them; the resumed attempt sends two more and stops again.
    let mut csv = String::from(HEADER);
    csv.push_str("C001,Toko 1,Semarang,bukan-nomor\n");
    for i in 2..=8 {
        csv.push_str(&format!("C00{i},Toko {i},Semarang,08120000000{i}\n"));
    }
    let tmp = tempfile::tempdir().unwrap();
    let tmp_dir = tmp.path().to_string_lossy().into_owned();
    let first = TestEnv::new()
        .sandbox(SandboxOptions {
            write_fail_rate: 1.0,
            ..SandboxOptions::default()
        })
        .env("TMPDIR", &tmp_dir)
        .file("c.csv", csv)
        .args([
            "import",
            "c.csv",
            "-e",
            "customers",
            "--concurrency",
            "1",
            "--retries",
            "0",
            "--max-errors",
            "2",
        ])
        .run();
    first.expect_code(1).stderr_has("--max-errors 2 reached");
    let before = first.records("c.result.xlsx", "Results");
    let status = |rows: &[crate::common::Row]| {
        rows.iter()
            .map(|r| r["_status"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        status(&before),
        [
            "INVALID", "FAILED", "FAILED", "NOT SENT", "NOT SENT", "NOT SENT", "NOT SENT",
            "NOT SENT"
        ]
    );

    let second = first.again().args(["resume"]).run();
    second.expect_code(1);
    let after = second.records("c.result.xlsx", "Results");
    assert_eq!(
        status(&after),
        [
            "INVALID", "FAILED", "FAILED", "FAILED", "FAILED", "NOT SENT", "NOT SENT", "NOT SENT"
        ],
        "the rows settled before the stop keep their outcome, the next two are sent"
    );
    for (b, a) in before.iter().zip(&after).take(3) {
        assert_eq!(b["_row"], a["_row"]);
        assert_eq!(b["_action"], a["_action"]);
        assert_eq!(b["_http"], a["_http"]);
        assert_eq!(b["_error"], a["_error"], "row {}", a["_row"]);
    }
    // (An invalid row's `_attempts` reads back from the ledger as 0, not empty.)
    assert_eq!(before[1]["_attempts"], after[1]["_attempts"]);
    assert_eq!(after[1]["_attempts"], "1");
    assert!(
        after[0]["_error"].contains("No HP"),
        "{}",
        after[0]["_error"]
    );
    assert_eq!(
        count(&second.stats(), "POST /extapi/v1.0/customers"),
        4,
        "no row is sent twice"
    );
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
}

#[test]
fn a_dry_runs_payload_column_is_read_back_from_the_spill() {
    let mut csv = String::from(HEADER);
    for i in 1..=1500 {
        let phone = if i == 700 {
            "bukan-nomor".to_string()
        } else {
            format!("0812{i:07}")
        };
        csv.push_str(&format!("C{i:05},Toko {i},Semarang,{phone}\n"));
    }
    let tmp = tempfile::tempdir().unwrap();
    let done = TestEnv::new()
        .sandbox(SandboxOptions::default())
        .env("TMPDIR", &tmp.path().to_string_lossy())
        .file("c.csv", csv)
        .args(["import", "c.csv", "-e", "customers", "--dry-run"])
        .run();
    done.expect_code(1);
    let rows = done.records("c.result.xlsx", "Results");
    assert_eq!(rows.len(), 1500);
    for (i, r) in rows.iter().enumerate() {
        let n = i + 1;
        if n == 700 {
            assert_eq!(r["_status"], "INVALID");
            assert_eq!(r["_payload"], "", "an invalid row shows no payload");
            continue;
        }
        assert_eq!(r["_status"], "VALID", "row {n}");
        assert_eq!(r["_action"], "create");
        let p: serde_json::Value = serde_json::from_str(&r["_payload"])
            .unwrap_or_else(|e| panic!("row {n}: `{}`: {e}", r["_payload"]));
        assert_eq!(
            p["ext_cust_no"],
            format!("C{n:05}"),
            "row {n}'s own payload"
        );
        assert_eq!(p["name"], format!("Toko {n}"));
    }
    assert_eq!(count(&done.stats(), "POST /extapi/v1.0/customers"), 0);
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
}
