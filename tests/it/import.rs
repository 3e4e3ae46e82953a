//! `sheetload import` end to end: the real binary over loopback HTTP to the sandbox
//! (started in this test process), a real SQLite ledger, result workbooks read back.

use std::collections::HashMap;

use crate::common::{
    self, TestEnv, count, records, records_in_db, spawn_sandbox, statuses, writes,
};
use serde_json::Value;
use sheetload::sandbox::{SandboxOptions, ThreadSandbox};

fn customers_csv(n: usize, first: usize) -> String {
    let mut s = String::from("Kode Pelanggan,Nama,Kota,No HP,Lintang,Bujur,Tag\n");
    for i in first..first + n {
        s.push_str(&format!(
            "C{i:05},Toko {i},Semarang,0812{i:07},-7.{:06},110.{:06},\"Retail; Semarang\"\n",
            i % 999_999,
            i % 999_999
        ));
    }
    s
}

fn customers_in_db1(stats: &Value) -> u64 {
    records_in_db(stats, "1", "customers")
}

fn no_duplicates(stats: &Value) {
    let dups = &stats["duplicate_keys"]["ext_cust_no"];
    assert!(
        dups.as_object().is_none_or(|m| m.is_empty()),
        "duplicated keys: {dups}"
    );
}

#[test]
fn create_then_rerun_creates_nothing_twice() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers_csv(30, 1))
        .args([
            "import",
            "c.csv",
            "--entity",
            "customers",
            "--concurrency",
            "4",
        ])
        .run();
    done.expect_code(0).stderr_has("30 OK");
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows.len(), 30);
    assert!(
        rows.iter()
            .all(|r| r["_status"] == "OK" && r["_action"] == "create")
    );
    assert!(
        rows.iter()
            .all(|r| !r["_id"].is_empty() && r["_http"] == "201")
    );
    let stats = sb.stats();
    assert_eq!(customers_in_db1(&stats), 30);
    assert_eq!(count(&stats, "POST /extapi/v1.0/customers"), 30);

    // The same file again: every row already exists, nothing is created.
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers_csv(30, 1))
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(0).stderr_has("30 skipped");
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert!(
        rows[0]["_error"].contains("already exists"),
        "{}",
        rows[0]["_error"]
    );
    let stats = sb.stats();
    assert_eq!(count(&stats, "POST /extapi/v1.0/customers"), 30);
    assert_eq!(customers_in_db1(&stats), 30);
}

#[test]
fn upsert_sends_only_new_and_changed_rows() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers_csv(20, 1))
        .args(["import", "c.csv", "-e", "customers", "--mode", "upsert"])
        .run();
    done.expect_code(0);
    let before = writes(&sb.stats());
    assert_eq!(before, 20);

    // Unchanged: no write at all.
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers_csv(20, 1))
        .args(["import", "c.csv", "-e", "customers", "--mode", "upsert"])
        .run();
    done.expect_code(0).stderr_has("20 skipped");
    assert_eq!(
        writes(&sb.stats()),
        before,
        "an unchanged upsert writes nothing"
    );

    // Next month: one changed phone, two new customers.
    let mut next = customers_csv(22, 1);
    next = next.replace("08120000005,", "08999999999,");
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", next)
        .args(["import", "c.csv", "-e", "customers", "--mode", "upsert"])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    let actions: Vec<&str> = rows.iter().map(|r| r["_action"].as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "update").count(), 1);
    assert_eq!(actions.iter().filter(|a| **a == "create").count(), 2);
    assert_eq!(actions.iter().filter(|a| **a == "skip").count(), 19);
    let stats = sb.stats();
    assert_eq!(count(&stats, "PATCH /extapi/v1.0/customers/{id}"), 1);
    assert_eq!(count(&stats, "POST /extapi/v1.0/customers"), 22);
    assert_eq!(customers_in_db1(&stats), 22);
}

#[test]
fn update_and_delete_by_natural_key() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers_csv(5, 1))
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(0);
    let done = TestEnv::new()
        .against(&sb)
        .file(
            "u.csv",
            "Kode Pelanggan,Kota\nC00001,Kudus\nC00002,Semarang\nC09999,Solo\n",
        )
        .args(["import", "u.csv", "-e", "customers", "--mode", "update"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("u.result.xlsx"), "Results");
    assert_eq!(rows[0]["_status"], "OK");
    assert_eq!(rows[0]["_action"], "update");
    assert_eq!(rows[1]["_status"], "SKIPPED", "already Semarang");
    assert_eq!(rows[2]["_status"], "FAILED");
    assert!(
        rows[2]["_error"].contains("no customer with ext_cust_no 'C09999'"),
        "{}",
        rows[2]["_error"]
    );
    assert_eq!(count(&sb.stats(), "PATCH /extapi/v1.0/customers/{id}"), 1);

    let done = TestEnv::new()
        .against(&sb)
        .file("d.csv", "ext_cust_no\nC00003\nC00004\n")
        .args([
            "import",
            "d.csv",
            "-e",
            "customers",
            "--mode",
            "delete",
            "--yes",
        ])
        .run();
    done.expect_code(0);
    let stats = sb.stats();
    assert_eq!(count(&stats, "DELETE /extapi/v1.0/customers/{id}"), 2);
    assert_eq!(customers_in_db1(&stats), 3);
}

#[test]
fn products_and_visits_with_references() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let products = "ext_product_code,name,qty_on_hand,unit_name,unit_price,unit_ratio,unit2_name,unit2_price,unit2_ratio\n\
                    P1,Teh Botol,10,PCS,5000,1,BOX,57000,12\nP2,Kopi,5,PCS,3000,,,,\n";
    let done = TestEnv::new()
        .against(&sb)
        .file("p.csv", products)
        .args(["import", "p.csv", "-e", "products"])
        .run();
    done.expect_code(0);
    assert_eq!(sb.stats()["databases"]["1"]["records"]["products"], 2);

    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers_csv(3, 1))
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(0);
    // Teams are seeded by the sandbox; read one name to refer to it.
    let teams = sb.stats();
    assert!(teams["records"]["teams"].as_u64().unwrap() > 0);
    let visits =
        "date,customer_code,team_id\n2026-12-01,C00001,\n2026-12-02,C00002,\n2026-12-03,C09999,\n";
    let done = TestEnv::new()
        .against(&sb)
        .file("v.csv", visits)
        .args(["import", "v.csv", "-e", "visits"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("v.result.xlsx"), "Results");
    assert_eq!(rows[0]["_status"], "OK", "{}", rows[0]["_error"]);
    assert_eq!(rows[1]["_status"], "OK");
    assert_eq!(rows[2]["_status"], "INVALID");
    assert!(
        rows[2]["_error"].contains("C09999"),
        "{}",
        rows[2]["_error"]
    );
    let stats = sb.stats();
    assert_eq!(
        count(&stats, "POST /extapi/v1.1/visits"),
        2,
        "the unresolved row is never sent"
    );
}

#[test]
fn dry_run_makes_only_read_calls() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers_csv(3, 1))
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(0);
    let before = writes(&sb.stats());
    let mut next = customers_csv(5, 1);
    next = next.replace("Toko 2,", "Toko Dua,");
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", next)
        .args([
            "import",
            "c.csv",
            "-e",
            "customers",
            "--mode",
            "upsert",
            "--dry-run",
        ])
        .run();
    done.expect_code(0);
    assert_eq!(writes(&sb.stats()), before);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    let actions: Vec<&str> = rows.iter().map(|r| r["_action"].as_str()).collect();
    assert_eq!(actions, ["skip", "update", "skip", "create", "create"]);
    assert!(rows[3]["_payload"].contains("\"ext_cust_no\":\"C00004\""));
}

#[test]
fn invalid_rows_are_never_sent() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let csv =
        "Nama,No HP,Lintang,Bujur\nToko A,0812345678,-7.1,110.4\n,abc,-97,110\nToko C,0812,,\n";
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", csv)
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(statuses(&rows)["INVALID"], 2);
    assert_eq!(count(&sb.stats(), "POST /extapi/v1.0/customers"), 1);
    let failed = common::sheet(&done.path("c.result.xlsx"), "Failed");
    assert_eq!(failed[0][..4], ["Nama", "No HP", "Lintang", "Bujur"]);
    assert_eq!(failed.len(), 3);
}

#[test]
fn unknown_referenced_ids_are_invalid_before_sending_in_real_and_dry_runs() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers_csv(1, 1))
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(0);
    let id = records(&done.path("c.result.xlsx"), "Results")[0]["_id"].clone();
    // A visit for a team id and a customer id the database does not have: the server
    // would answer 422; the plan (dry run and real run alike) refuses it first.
    let csv = format!(
        "Tanggal,customer_id,ID Sales\n2026-12-01,{id},999999\n2026-12-01,888888,\n2026-12-02,{id},\n"
    );
    for dry in [true, false] {
        let mut args = vec!["import", "v.csv", "-e", "visits"];
        if dry {
            args.push("--dry-run");
        }
        let done = TestEnv::new()
            .against(&sb)
            .file("v.csv", &csv)
            .args(&args)
            .run();
        done.expect_code(1);
        let rows = records(&done.path("v.result.xlsx"), "Results");
        let ctx = if dry { "dry run" } else { "real run" };
        assert_eq!(rows[0]["_status"], "INVALID", "{ctx}");
        assert!(
            rows[0]["_error"].contains("ID Sales")
                && rows[0]["_error"].contains("no team with id '999999'"),
            "{ctx}: {}",
            rows[0]["_error"]
        );
        assert_eq!(rows[1]["_status"], "INVALID", "{ctx}");
        assert!(
            rows[1]["_error"].contains("no customer with id '888888'"),
            "{ctx}: {}",
            rows[1]["_error"]
        );
        assert_eq!(
            rows[2]["_status"],
            if dry { "VALID" } else { "OK" },
            "{ctx}"
        );
    }
    assert_eq!(count(&sb.stats(), "POST /extapi/v1.1/visits"), 1);
}

#[test]
fn authentication_and_connection_errors() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let done = TestEnv::new()
        .against(&sb)
        .env("SHEETLOAD_PASSWORD", "wrong-secret-9")
        .file("c.csv", customers_csv(1, 1))
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(3)
        .one_clear_error()
        .stderr_has("SHEETLOAD_PASSWORD");
    assert!(!done.stderr.contains("wrong-secret-9"));

    let done = TestEnv::new()
        .against(&sb)
        .env("SHEETLOAD_DATABASE", "Nope")
        .file("c.csv", customers_csv(1, 1))
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("1 \"Demo\"");

    let done = TestEnv::new()
        .env("SHEETLOAD_USER", "demo")
        .env("SHEETLOAD_PASSWORD", "demo")
        .file("c.csv", customers_csv(1, 1))
        .args([
            "import",
            "c.csv",
            "-e",
            "customers",
            "--base-url",
            "http://example.com",
        ])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("--allow-http");

    let done = TestEnv::new()
        .env("SHEETLOAD_USER", "demo")
        .file("c.csv", customers_csv(1, 1))
        .args([
            "import",
            "c.csv",
            "-e",
            "customers",
            "--base-url",
            &sb.base_url(),
        ])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("SHEETLOAD_PASSWORD");
}

#[test]
fn sandbox_flag_runs_the_whole_pipeline_in_process() {
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/customers.xlsx");
    let done = TestEnv::new()
        .file("customers.xlsx", std::fs::read(samples).unwrap())
        .args(["import", "customers.xlsx", "-e", "customers", "--sandbox"])
        .run();
    done.expect_code(0).stderr_has("40 OK");
    let rows = records(&done.path("customers.result.xlsx"), "Results");
    assert!(rows.iter().all(|r| r["_status"] == "OK"));
    let summary = common::sheet(&done.path("customers.result.xlsx"), "Summary");
    let db = summary.iter().find(|r| r[0] == "Database").unwrap();
    assert_eq!(db[1], "Demo (id 1)");
    assert!(summary.iter().any(|r| r[0] == "Run" && !r[1].is_empty()));
}

/// The fault run: 2,000 customers through random 5xx, 429 bursts, bearers
/// expiring mid-run and creates answered by a dropped connection. Every row ends OK,
/// no key is stored twice, exactly 2,000 customers exist.
#[test]
fn fault_run_loses_and_duplicates_nothing() {
    let sb = spawn_sandbox(SandboxOptions {
        seed: 7,
        fail_rate: 0.1,
        rate_limit: Some(250),
        token_ttl: Some(2),
        drop_after_commit: 0.05,
        ..SandboxOptions::default()
    });
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers_csv(2000, 1))
        .args([
            "import",
            "c.csv",
            "-e",
            "customers",
            "--concurrency",
            "16",
            "--retries",
            "10",
        ])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows.len(), 2000);
    let by_status = statuses(&rows);
    assert_eq!(by_status.get("OK"), Some(&2000), "{by_status:?}");
    let stats = sb.stats();
    assert_eq!(customers_in_db1(&stats), 2000);
    no_duplicates(&stats);
    let faults = &stats["faults"];
    for f in [
        "fail",
        "rate_limited",
        "token_expired",
        "dropped_after_commit",
    ] {
        assert!(
            faults[f].as_u64().unwrap() > 0,
            "fault {f} never happened: {faults}"
        );
    }
    // Rows whose create was dropped were reconciled by key, not re-sent blindly.
    assert!(
        rows.iter()
            .any(|r| r["_error"].contains("so it was created"))
    );
}

fn spawn_import(sb: &ThreadSandbox, dir: &std::path::Path, args: &[&str]) -> std::process::Child {
    common::demo_command(dir, &sb.base_url())
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start sheetload")
}

/// Wait until the sandbox has seen at least `n` customer creates.
fn wait_for_creates(sb: &ThreadSandbox, n: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while count(&sb.stats(), "POST /extapi/v1.0/customers") < n {
        assert!(
            std::time::Instant::now() < deadline,
            "the import never got going"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn killed_run_resumes_without_duplicates() {
    let sb = spawn_sandbox(SandboxOptions {
        latency_ms: 20,
        ..SandboxOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.csv"), customers_csv(1200, 1)).unwrap();
    let args = ["import", "c.csv", "-e", "customers", "--concurrency", "8"];
    let mut child = spawn_import(&sb, dir.path(), &args);
    wait_for_creates(&sb, 300);
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let created_before = customers_in_db1(&sb.stats());
    assert!(created_before < 1200, "killed too late to mean anything");

    let out = common::demo_command(dir.path(), &sb.base_url())
        .args(["resume"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stats = sb.stats();
    assert_eq!(customers_in_db1(&stats), 1200);
    no_duplicates(&stats);
    let rows = records(&dir.path().join("c.result.xlsx"), "Results");
    assert_eq!(rows.len(), 1200);
    assert!(
        rows.iter()
            .all(|r| r["_status"] == "OK" && !r["_id"].is_empty()),
        "{:?}",
        statuses(&rows)
    );
    // Rows finished before the kill were not sent again.
    assert!(count(&stats, "POST /extapi/v1.0/customers") < 1200 + 8 + 1);
}

#[test]
fn ctrl_c_writes_the_result_and_resume_finishes() {
    let sb = spawn_sandbox(SandboxOptions {
        latency_ms: 20,
        ..SandboxOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.csv"), customers_csv(800, 1)).unwrap();
    let args = ["import", "c.csv", "-e", "customers", "--concurrency", "4"];
    let child = spawn_import(&sb, dir.path(), &args);
    wait_for_creates(&sb, 100);
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("sheetload resume"), "{stderr}");
    let rows = records(&dir.path().join("c.result.xlsx"), "Results");
    assert_eq!(rows.len(), 800);
    let ok = rows.iter().filter(|r| r["_status"] == "OK").count();
    assert!(ok > 0 && ok < 800, "{ok}");
    assert!(rows.iter().any(|r| r["_error"].contains("not sent")));
    let not_sent = rows.iter().filter(|r| r["_status"] == "NOT SENT").count();
    assert_eq!(ok + not_sent, 800, "an unsent row says NOT SENT");
    assert_eq!(ok as u64, customers_in_db1(&sb.stats()));
    // Rows per second counts the rows that were processed, not the ones left unsent.
    let summary: HashMap<String, String> =
        common::sheet(&dir.path().join("c.result.xlsx"), "Summary")
            .into_iter()
            .filter(|r| r.len() >= 2)
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
    let rate: f64 = summary["Rows per second"].parse().unwrap();
    let seconds: f64 = summary["Seconds"].parse().unwrap();
    assert!(
        (rate * seconds - ok as f64).abs() <= seconds + 1.0,
        "{rate} rows/s over {seconds} s for {ok} rows processed"
    );

    let out = common::demo_command(dir.path(), &sb.base_url())
        .args(["resume"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = sb.stats();
    assert_eq!(customers_in_db1(&stats), 800);
    no_duplicates(&stats);
    assert_eq!(
        count(&stats, "POST /extapi/v1.0/customers"),
        800,
        "nothing sent twice"
    );
}

#[test]
fn retry_runs_the_fixed_failed_rows_and_runs_history_undoes() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let csv = "Kode Pelanggan,Nama,No HP\nC1,Toko A,0812345678\nC2,,0812345679\nC3,Toko C,08x\n";
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", csv)
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    let dir = done.dir();
    done.expect_code(1);
    let result = done.path("c.result.xlsx");
    let failed = common::sheet(&result, "Failed");
    assert_eq!(failed.len(), 3, "two invalid rows: {failed:?}");
    let summary = common::sheet(&result, "Summary");
    let run_id = summary.iter().find(|r| r[0] == "Run").unwrap()[1].clone();

    // The user fixes both rows on the Failed sheet, as they would in Excel.
    let fixed = dir.join("c.result.xlsx");
    let head = failed[0].clone();
    let mut body = failed[1..].to_vec();
    let name_col = head.iter().position(|h| h == "Nama").unwrap();
    let phone_col = head.iter().position(|h| h == "No HP").unwrap();
    for r in &mut body {
        if r[name_col].is_empty() {
            r[name_col] = "Toko B".into();
        }
        r[phone_col] = "0812000000".into();
    }
    {
        // The fixed Failed sheet and the Summary naming the run, as Excel would save them.
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.set_name("Failed").unwrap();
        for (c, h) in head.iter().enumerate() {
            ws.write_string(0, c as u16, h).unwrap();
        }
        for (i, r) in body.iter().enumerate() {
            for (c, v) in r.iter().enumerate() {
                ws.write_string(i as u32 + 1, c as u16, v).unwrap();
            }
        }
        let ws = book.add_worksheet();
        ws.set_name("Summary").unwrap();
        ws.write_string(0, 0, "Run").unwrap();
        ws.write_string(0, 1, &run_id).unwrap();
        book.save(&fixed).unwrap();
    }
    let out = common::demo_command(dir, &sb.base_url())
        .args(["retry", "c.result.xlsx"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = records(&dir.join("c.result.retry.xlsx"), "Results");
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["_status"] == "OK"), "{rows:?}");
    assert_eq!(customers_in_db1(&sb.stats()), 3);

    // History: list and show, then undo the first run (it created one customer).
    let sheetload = |args: &[&str]| {
        common::demo_command(dir, &sb.base_url())
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let list = sheetload(&["runs", "list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("completed"), "{text}");
    let show = sheetload(&["runs", "show", &run_id]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.contains("1 OK"), "{text}");
    assert!(text.contains("INVALID"), "{text}");
    let refused = sheetload(&["runs", "undo", &run_id]);
    assert_eq!(refused.status.code(), Some(2), "no terminal and no --yes");
    let undo = sheetload(&["runs", "undo", &run_id, "--yes"]);
    assert_eq!(
        undo.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&undo.stderr)
    );
    assert_eq!(customers_in_db1(&sb.stats()), 2);
    assert_eq!(count(&sb.stats(), "DELETE /extapi/v1.0/customers/{id}"), 1);
    let again = sheetload(&["runs", "undo", &run_id, "--yes"]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        count(&sb.stats(), "DELETE /extapi/v1.0/customers/{id}"),
        1,
        "undone once only"
    );
}

#[test]
fn secrets_never_reach_outputs() {
    let secret = "Pa55-w0rd-Sekret";
    let sb = spawn_sandbox(SandboxOptions {
        password: secret.into(),
        ..SandboxOptions::default()
    });
    let done = TestEnv::new()
        .against(&sb)
        .env("SHEETLOAD_PASSWORD", secret)
        .file("c.csv", customers_csv(5, 1))
        .args(["import", "c.csv", "-e", "customers", "--json"])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    assert!(!done.stderr.contains(secret) && !done.stdout.contains(secret));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(secret),
            "{} holds the password",
            path.display()
        );
        assert!(
            !text.contains("team_token="),
            "{} holds a team token",
            path.display()
        );
        assert!(
            !text.contains("Bearer "),
            "{} holds a bearer",
            path.display()
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("ledger.sqlite3"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the ledger is private: {mode:o}");
    }
}

#[test]
fn products_update_and_delete_and_max_errors() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let products = "ext_product_code,name,qty_on_hand,unit_name,unit_price\nP1,Teh,10,PCS,5000\nP2,Kopi,5,PCS,3000\nP3,Gula,7,PCS,14000\n";
    let done = TestEnv::new()
        .against(&sb)
        .file("p.csv", products)
        .args(["import", "p.csv", "-e", "products"])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    std::fs::write(
        dir.join("u.csv"),
        "ext_product_code,qty_on_hand\nP1,11\nP2,5\n",
    )
    .unwrap();
    let out = common::demo_command(dir, &sb.base_url())
        .args(["import", "u.csv", "-e", "products", "--mode", "update"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = records(&dir.join("u.result.xlsx"), "Results");
    assert_eq!(rows[0]["_action"], "update");
    assert_eq!(rows[1]["_status"], "SKIPPED", "qty unchanged");
    assert_eq!(count(&sb.stats(), "PATCH /extapi/v1.0/products/{id}"), 1);
    std::fs::write(dir.join("d.csv"), "ext_product_code\nP3\n").unwrap();
    let out = common::demo_command(dir, &sb.base_url())
        .args([
            "import", "d.csv", "-e", "products", "--mode", "delete", "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sb.stats()["databases"]["1"]["records"]["products"], 2);

    // Invalid rows never count toward --max-errors: each gets its reasons, and the
    // valid row is still sent.
    let mut bad = String::from("Nama,No HP\n");
    for i in 0..10 {
        bad.push_str(&format!("Toko {i},bukan-nomor\n"));
    }
    bad.push_str("Toko Baik,0812345678\n");
    let done = TestEnv::new()
        .against(&sb)
        .file("bad.csv", bad)
        .args(["import", "bad.csv", "-e", "customers", "--max-errors", "3"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("bad.result.xlsx"), "Results");
    assert_eq!(
        rows.iter().filter(|r| r["_status"] == "INVALID").count(),
        10
    );
    assert!(rows.iter().take(10).all(|r| r["_error"].contains("No HP")));
    assert_eq!(rows[10]["_status"], "OK");
    assert_eq!(count(&sb.stats(), "POST /extapi/v1.0/customers"), 1);
}
