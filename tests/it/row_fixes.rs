//! Defects found by trying every feature as a user would ("Every row right", "Safe by
//! default"): each test here failed before its fix. The real binary over loopback HTTP
//! to the in-process sandbox, a real ledger, result workbooks read back.

use std::collections::HashMap;

use crate::common::{self, Target, TestEnv, count, records, records_in_db, spawn_sandbox};
use serde_json::Value;
use sheetload::sandbox::{SandboxOptions, ThreadSandbox};

fn records_in_db1(sb: &ThreadSandbox, collection: &str) -> u64 {
    records_in_db(&sb.stats(), "1", collection)
}

fn column(rows: &[HashMap<String, String>], name: &str) -> Vec<String> {
    rows.iter().map(|r| r[name].clone()).collect()
}

/// Seeded customers of database 1 (id, ext_cust_no) and teams (id, name), read through
/// the API as a user would see them.
/// (id, code or name) of each record.
type Labelled = Vec<(i64, String)>;

fn seeded(sb: &ThreadSandbox) -> (Labelled, Labelled) {
    let done = TestEnv::new()
        .against(sb)
        .args(["export", "customers", "--out", "c.xlsx"])
        .run();
    done.expect_code(0);
    let customers = records(&done.path("c.xlsx"), "Customers")
        .iter()
        .map(|r| (r["id"].parse().unwrap(), r["ext_cust_no"].clone()))
        .collect();
    let done = TestEnv::new()
        .against(sb)
        .args(["export", "teams", "--out", "t.xlsx"])
        .run();
    done.expect_code(0);
    let teams = records(&done.path("t.xlsx"), "Teams")
        .iter()
        .map(|r| (r["id"].parse().unwrap(), r["name"].clone()))
        .collect();
    (customers, teams)
}

#[test]
fn visits_rerun_creates_nothing_and_each_team_day_keeps_sheet_order() {
    let sb = spawn_sandbox(SandboxOptions {
        customers: 20,
        teams: 3,
        latency_ms: 15,
        ..SandboxOptions::default()
    });
    let (customers, teams) = seeded(&sb);
    assert!(customers.len() >= 12 && teams.len() >= 2);
    // Two teams' routes for one day, interleaved in the sheet, plus the same customer
    // twice for one team (a second visit that day is a real second visit).
    let mut csv = String::from("Tanggal,customer_id,team_id\n");
    let mut planned: HashMap<i64, Vec<i64>> = HashMap::new();
    for i in 0..12 {
        let team = teams[i % 2].0;
        let customer = customers[i].0;
        csv.push_str(&format!("2026-12-07,{customer},{team}\n"));
        planned.entry(team).or_default().push(customer);
    }
    csv.push_str(&format!("2026-12-07,{},{}\n", customers[0].0, teams[0].0));
    planned.entry(teams[0].0).or_default().push(customers[0].0);
    let done = TestEnv::new()
        .against(&sb)
        .file("v.csv", &csv)
        .args(["import", "v.csv", "-e", "visits", "--concurrency", "16"])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    assert_eq!(records_in_db1(&sb, "visits"), 13);

    // The route of each team-day comes back in sheet order.
    for (team, route) in &planned {
        let done = TestEnv::new()
            .against(&sb)
            .args([
                "export",
                "visits",
                "--team",
                &team.to_string(),
                "--from",
                "2026-12-07",
                "--to",
                "2026-12-07",
                "--out",
                "e.xlsx",
            ])
            .run();
        done.expect_code(0);
        let got: Vec<i64> = records(&done.path("e.xlsx"), "Visits")
            .iter()
            .map(|r| r["customer_id"].parse().unwrap())
            .collect();
        assert_eq!(&got, route, "team {team}'s day in sheet order");
    }

    // The same sheet again: nothing is created twice; every row says why.
    let again = common::demo_command(dir, &sb.base_url())
        .args(["import", "v.csv", "-e", "visits", "--out", "again.xlsx"])
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(records_in_db1(&sb, "visits"), 13, "nothing created twice");
    let rows = records(&dir.join("again.xlsx"), "Results");
    assert!(column(&rows, "_status").iter().all(|s| s == "SKIPPED"));
    assert!(
        rows[0]["_error"].contains("already created by an earlier sheetload run"),
        "{}",
        rows[0]["_error"]
    );
    // One row more than before: only that one is new.
    csv.push_str(&format!("2026-12-08,{},{}\n", customers[1].0, teams[1].0));
    std::fs::write(dir.join("v.csv"), &csv).unwrap();
    let third = common::demo_command(dir, &sb.base_url())
        .args(["import", "v.csv", "-e", "visits", "--out", "third.xlsx"])
        .output()
        .unwrap();
    assert_eq!(third.status.code(), Some(0));
    assert_eq!(records_in_db1(&sb, "visits"), 14);
}

#[test]
fn max_errors_counts_failed_sends_only_and_stops_at_the_limit() {
    // Every create answers 500; without a key a row then ends UNKNOWN (a failed send).
    let sb = spawn_sandbox(SandboxOptions {
        fail_rate: 1.0,
        ..SandboxOptions::default()
    });
    let mut csv = String::from("Nama,No HP\n");
    for i in 0..20 {
        csv.push_str(&format!("Toko {i},0812345{i:04}\n"));
        csv.push_str(&format!("Rusak {i},bukan-nomor\n"));
    }
    let done = TestEnv::new()
        .against(&sb)
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
            "5",
        ])
        .run();
    done.expect_code(1).stderr_has("--max-errors 5 reached");
    assert_eq!(
        count(&sb.stats(), "POST /extapi/v1.0/customers"),
        5,
        "exactly the limit was sent"
    );
    let rows = records(&done.path("c.result.xlsx"), "Results");
    let invalid: Vec<_> = rows.iter().filter(|r| r["_status"] == "INVALID").collect();
    assert_eq!(invalid.len(), 20, "every invalid row keeps its reason");
    assert!(invalid.iter().all(|r| r["_error"].contains("No HP")));
    let not_sent: Vec<_> = rows.iter().filter(|r| r["_status"] == "NOT SENT").collect();
    assert_eq!(not_sent.len(), 15);
    assert!(
        not_sent[0]["_error"].contains("--max-errors 5 reached"),
        "{}",
        not_sent[0]["_error"]
    );
    let failed = common::sheet(&done.path("c.result.xlsx"), "Failed");
    assert_eq!(
        failed.len(),
        1 + 40,
        "NOT SENT rows are on the Failed sheet too"
    );
}

#[test]
fn fatura_placeholder_tax_number_never_merges_buyers() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let fe = |sb: &ThreadSandbox| TestEnv::new().against(sb).target(Target::Fatura);
    let head = "type,tax_number,name,surname,country,city,district,address\n";
    let first =
        format!("{head}person,11111111111,Nihai,Tüketici,TÜRKİYE,Ankara,Çankaya,Atatürk Blv. 9\n");
    let done = fe(&sb)
        .file("a.csv", first)
        .args(["import", "a.csv", "--target", "fatura", "-e", "customers"])
        .run();
    done.expect_code(0);
    assert_eq!(count(&sb.stats(), "POST /api/customers"), 1);
    // Another anonymous buyer, upserted: created, never a PATCH of the first one.
    let second = format!(
        "{head}person,11111111111,Zeynep,Kaya,TÜRKİYE,İzmir,Konak,Kordon 1\nperson,111.111.111.11,Ali,Veli,TÜRKİYE,Bursa,Nilüfer,FSM 2\n"
    );
    let done = fe(&sb)
        .file("b.csv", &second)
        .args([
            "import",
            "b.csv",
            "--target",
            "fatura",
            "-e",
            "customers",
            "--mode",
            "upsert",
        ])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("b.result.xlsx"), "Results");
    assert_eq!(column(&rows, "_action"), ["create", "create"], "{rows:?}");
    assert_eq!(count(&sb.stats(), "PATCH /api/customers/{id}"), 0);
    assert_eq!(count(&sb.stats(), "POST /api/customers"), 3);
    // In update mode such a row names nobody: INVALID, nothing sent.
    let done = fe(&sb)
        .file("c.csv", &second)
        .args([
            "import",
            "c.csv",
            "--target",
            "fatura",
            "-e",
            "customers",
            "--mode",
            "update",
        ])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(column(&rows, "_status"), ["INVALID", "INVALID"]);
    assert!(
        rows[0]["_error"].contains("shared"),
        "{}",
        rows[0]["_error"]
    );
    assert_eq!(count(&sb.stats(), "PATCH /api/customers/{id}"), 0);
}

#[test]
fn upsert_with_stale_ids_falls_back_to_the_key() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let csv = "Kode Pelanggan,Nama,No HP\nK1,Toko Satu,0812000001\nK2,Toko Dua,0812000002\n";
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", csv)
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    let ids = column(&records(&done.path("c.result.xlsx"), "Results"), "_id");
    let del = common::demo_command(dir, &sb.base_url())
        .args([
            "import",
            "c.csv",
            "-e",
            "customers",
            "--mode",
            "delete",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(del.status.code(), Some(0));
    // An old export: ids that no longer exist, keys that are free again (a third row
    // names an id never given out: two rows naming one id are duplicates in the file).
    let stale = format!(
        "id,ext_cust_no,name,phone\n{},K1,Toko Satu,0812000001\n{},K2,Toko Dua,0812000002\n99999999,,Tanpa Kode,0812000003\n",
        ids[0], ids[1]
    );
    std::fs::write(dir.join("s.csv"), stale).unwrap();
    let up = common::demo_command(dir, &sb.base_url())
        .args(["import", "s.csv", "-e", "customers", "--mode", "upsert"])
        .output()
        .unwrap();
    assert_eq!(up.status.code(), Some(1));
    let rows = records(&dir.join("s.result.xlsx"), "Results");
    assert_eq!(
        column(&rows, "_status"),
        ["OK", "OK", "INVALID"],
        "{rows:?}"
    );
    assert_eq!(column(&rows, "_action")[..2], ["create", "create"]);
    assert!(
        rows[0]["_error"].contains("no longer exists"),
        "{}",
        rows[0]["_error"]
    );
    // Without a key it cannot be created: INVALID (nothing was sent), not FAILED.
    assert!(
        rows[2]["_error"].contains("ext_cust_no"),
        "{}",
        rows[2]["_error"]
    );
}

#[test]
fn an_unwritable_result_path_stops_the_run_before_anything_is_sent() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", "Nama,No HP\nToko,0812345678\n")
        .build("busy.xlsx", |p| std::fs::create_dir(p).unwrap())
        .args(["import", "c.csv", "-e", "customers", "--out", "busy.xlsx"])
        .run();
    done.expect_code(2)
        .stderr_has("cannot write the result file");
    assert!(done.stderr.contains("nothing was sent"), "{}", done.stderr);
    assert_eq!(count(&sb.stats(), "POST /extapi/v1.0/customers"), 0);
}

#[test]
fn a_result_path_lost_during_the_run_goes_to_a_fallback_with_the_real_exit_code() {
    let sb = spawn_sandbox(SandboxOptions {
        latency_ms: 40,
        ..SandboxOptions::default()
    });
    let mut csv = String::from("Nama,No HP\n");
    for i in 0..60 {
        csv.push_str(&format!("Toko {i},0812345{i:04}\n"));
    }
    let run = TestEnv::new().against(&sb).file("c.csv", csv);
    let dir = run.dir().to_path_buf();
    let out = dir.join("r.xlsx");
    let child = common::demo_command(&dir, &sb.base_url())
        .args(["import", "c.csv", "-e", "customers", "--concurrency", "1"])
        .args(["--out", out.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once rows are being sent, the result path becomes a folder (a user's mistake,
    // a sync tool): the rename at the end fails.
    let started = std::time::Instant::now();
    while count(&sb.stats(), "POST /extapi/v1.0/customers") == 0 {
        assert!(started.elapsed().as_secs() < 20, "import never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::create_dir(&out).unwrap();
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("instead"), "{stderr}");
    assert!(stderr.contains("60 OK"), "{stderr}");
    let fallback = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("r-") && p.is_file())
        })
        .expect("fallback workbook beside the lost path");
    assert_eq!(records(&fallback, "Results").len(), 60);
    drop(run);
}

#[test]
fn destructive_and_confirmed_modes_need_a_yes() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", "Kode Pelanggan,Nama\nD1,Satu\nD2,Dua\nD3,Tiga\n")
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    let before = records_in_db1(&sb, "customers");
    // No terminal, no --yes: the plan is shown, nothing is deleted, exit 2.
    let out = common::demo_command(dir, &sb.base_url())
        .args(["import", "c.csv", "-e", "customers", "--mode", "delete"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("delete 3 customers from \"Demo\" (db 1)"),
        "{stderr}"
    );
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(count(&sb.stats(), "DELETE /extapi/v1.0/customers/{id}"), 0);
    assert_eq!(records_in_db1(&sb, "customers"), before);
    // --confirm asks for any mode.
    std::fs::write(dir.join("n.csv"), "Nama\nBaru\n").unwrap();
    let out = common::demo_command(dir, &sb.base_url())
        .args(["import", "n.csv", "-e", "customers", "--confirm"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("create 1"));
    assert_eq!(records_in_db1(&sb, "customers"), before);
    // Orders too.
    std::fs::write(
        dir.join("o.csv"),
        "No Pesanan,Tanggal,customer_id,product_id,Qty,Satuan\nSO-1,2026-12-01,1,1,1,PCS\n",
    )
    .unwrap();
    let out = common::demo_command(dir, &sb.base_url())
        .args(["import", "o.csv", "-e", "orders", "--confirm"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("--confirm") || text.contains("--yes"),
        "{text}"
    );
    assert!(text.contains("order"), "{text}");
    assert_eq!(count(&sb.stats(), "POST /extapi/v1.0/orders"), 0);
    // A profile can ask for the confirmation on every import.
    std::fs::write(
        dir.join("sheetload.toml"),
        "[profile.default]\nconfirm = true\n",
    )
    .unwrap();
    let out = common::demo_command(dir, &sb.base_url())
        .args(["import", "n.csv", "-e", "customers"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(records_in_db1(&sb, "customers"), before);
    std::fs::remove_file(dir.join("sheetload.toml")).unwrap();
    // With --yes it happens.
    let out = common::demo_command(dir, &sb.base_url())
        .args([
            "import",
            "c.csv",
            "-e",
            "customers",
            "--mode",
            "delete",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(records_in_db1(&sb, "customers"), before - 3);
}

#[test]
fn a_dry_run_says_so_and_counts_what_it_would_do() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let done = TestEnv::new()
        .against(&sb)
        .file(
            "c.csv",
            "Kode Pelanggan,Nama,Kota\nR1,Satu,Semarang\nR2,Dua,Solo\n",
        )
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    std::fs::write(
        dir.join("u.csv"),
        "Kode Pelanggan,Nama,Kota\nR1,Satu,Semarang\nR2,Dua,Yogyakarta\nR3,Tiga,Kudus\nR4,,Kudus\n",
    )
    .unwrap();
    let out = common::demo_command(dir, &sb.base_url())
        .args([
            "import",
            "u.csv",
            "-e",
            "customers",
            "--mode",
            "upsert",
            "--dry-run",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].contains("dry run"), "first line: {stderr}");
    assert!(
        lines.last().unwrap().contains("dry run"),
        "last line: {stderr}"
    );
    assert!(
        stderr.contains("would create 1, would update 1, would skip 1, would delete 0, 1 invalid"),
        "{stderr}"
    );
    assert!(!stderr.contains(" OK"), "{stderr}");
    let rows = records(&dir.join("u.result.xlsx"), "Results");
    // The update shows what it would send, not the whole record, and the change.
    assert_eq!(rows[1]["_payload"], r#"{"city":"Yogyakarta"}"#);
    assert_eq!(rows[1]["_changes"], "city: Solo → Yogyakarta");
    // JSON says the same.
    let out = common::demo_command(dir, &sb.base_url())
        .args([
            "--json",
            "import",
            "u.csv",
            "-e",
            "customers",
            "--mode",
            "upsert",
        ])
        .args(["--dry-run"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["would"]["create"], 1);
    assert_eq!(v["would"]["update"], 1);
    assert_eq!(v["would"]["skip"], 1);
    assert_eq!(count(&sb.stats(), "PATCH /extapi/v1.0/customers/{id}"), 0);
    // The real run records the same change.
    let out = common::demo_command(dir, &sb.base_url())
        .args(["import", "u.csv", "-e", "customers", "--mode", "upsert"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rows = records(&dir.join("u.result.xlsx"), "Results");
    assert_eq!(rows[1]["_status"], "OK");
    assert_eq!(rows[1]["_changes"], "city: Solo → Yogyakarta");
}

#[test]
fn fatura_delete_dry_run_says_would_delete() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let fe = |sb: &ThreadSandbox| TestEnv::new().against(sb).target(Target::Fatura);
    let csv = "type,tax_number,title,tax_office,country,city,district,address\ncompany,9876543217,ÖRNEK A.Ş.,Kadıköy,TÜRKİYE,İstanbul,Şişli,Cad. 1\n";
    let done = fe(&sb)
        .file("a.csv", csv)
        .args(["import", "a.csv", "--target", "fatura", "-e", "customers"])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    let out = common::connected(dir, &sb.base_url(), Target::Fatura)
        .args(["import", "a.csv", "--target", "fatura", "-e", "customers"])
        .args(["--mode", "delete", "--dry-run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("would delete 1"), "{stderr}");
    assert!(!stderr.contains("1 OK"), "{stderr}");
    assert_eq!(count(&sb.stats(), "DELETE /api/customers/{id}"), 0);
}

#[test]
fn the_progress_bar_shows_total_percentage_rate_and_eta_on_a_terminal() {
    let sb = spawn_sandbox(SandboxOptions {
        latency_ms: 40,
        ..SandboxOptions::default()
    });
    let mut csv = String::from("Nama,No HP\n");
    for i in 0..30 {
        csv.push_str(&format!("Toko {i},0812345{i:04}\n"));
    }
    let done = TestEnv::new().against(&sb).file("c.csv", csv).run();
    let dir = done.dir();
    // `script` gives the import a terminal, as a user's shell would.
    let command = format!(
        "{} import c.csv -e customers --concurrency 1",
        env!("CARGO_BIN_EXE_sheetload")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env("SHEETLOAD_HOME", dir)
        .env("SHEETLOAD_BASE_URL", sb.base_url())
        .env("SHEETLOAD_USER", "demo")
        .env("SHEETLOAD_PASSWORD", "demo")
        .env("SHEETLOAD_DATABASE", "1")
        .output();
    let Ok(out) = out else {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    };
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{screen}");
    assert!(screen.contains("/30 ·"), "a total: {screen}");
    assert!(screen.contains("% ·"), "a percentage: {screen}");
    assert!(screen.contains("rows/s"), "a whole-number rate: {screen}");
    assert!(screen.contains("ETA "), "an ETA: {screen}");
    assert!(!screen.contains(".0000/s"), "{screen}");
}
