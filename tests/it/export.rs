//! `sheetload export` against the sandbox, and the round trip: export → (edit) → import
//! back with `--mode upsert`.

use crate::common::{self, TestEnv, count, records, sheet, writes};
use sheetload::sandbox::{SandboxOptions, ThreadSandbox, spawn_in_thread};

fn seeded() -> ThreadSandbox {
    spawn_in_thread(SandboxOptions {
        customers: 60,
        products: 25,
        seed: 11,
        ..SandboxOptions::default()
    })
    .expect("sandbox")
}

#[test]
fn exported_customers_and_products_import_back_unchanged() {
    let sb = seeded();
    for (what, n) in [("customers", 60), ("products", 25)] {
        let file = format!("{what}.xlsx");
        let done = TestEnv::new()
            .against(&sb)
            .args(["export", what, "--out", &file])
            .run();
        let dir = done.dir();
        done.expect_code(0);
        let rows = records(&done.path(&file), &{
            let mut s = what.to_string();
            s[..1].make_ascii_uppercase();
            s
        });
        assert_eq!(rows.len(), n);
        assert!(rows.iter().all(|r| !r["id"].is_empty()));
        let summary = sheet(&done.path(&file), "Summary");
        assert!(
            summary
                .iter()
                .any(|r| r[0] == "Database" && r[1] == "Demo (id 1)")
        );

        let before = writes(&sb.stats());
        let out = common::demo_command(dir, &sb.base_url())
            .args(["import", &file, "-e", what, "--mode", "upsert"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
        let result = dir.join(format!("{what}.result.xlsx"));
        let back = records(&result, "Results");
        assert_eq!(back.len(), n);
        let not_skipped: Vec<_> = back.iter().filter(|r| r["_status"] != "SKIPPED").collect();
        assert!(not_skipped.is_empty(), "{what}: {not_skipped:?}");
        assert_eq!(
            writes(&sb.stats()),
            before,
            "{what}: the round trip wrote something"
        );
    }
}

#[test]
fn one_edited_price_is_one_patch_of_that_field() {
    let sb = seeded();
    let done = TestEnv::new()
        .against(&sb)
        .args(["export", "products", "--out", "p.csv"])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    let text = std::fs::read_to_string(done.path("p.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let mut rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let price = headers.iter().position(|h| h == "unit_price").unwrap();
    let id_col = headers.iter().position(|h| h == "id").unwrap();
    let id = rows[3][id_col].to_string();
    let mut edited: Vec<String> = rows[3].iter().map(str::to_string).collect();
    edited[price] = "123456".into();
    rows[3] = csv::StringRecord::from(edited);
    let mut w = csv::Writer::from_path(dir.join("p.csv")).unwrap();
    w.write_record(&headers).unwrap();
    for r in &rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    drop(w);

    let before = sb.stats();
    let out = common::demo_command(dir, &sb.base_url())
        .args(["import", "p.csv", "-e", "products", "--mode", "upsert"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = sb.stats();
    assert_eq!(writes(&after) - writes(&before), 1, "exactly one write");
    assert_eq!(
        count(&after, "PATCH /extapi/v1.0/products/{id}")
            - count(&before, "PATCH /extapi/v1.0/products/{id}"),
        1
    );
    let back = records(&dir.join("p.result.xlsx"), "Results");
    let updated: Vec<_> = back.iter().filter(|r| r["_action"] == "update").collect();
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["_id"], id);

    // The PATCH carried only the units: export again and compare every other column.
    let done = TestEnv::new()
        .against(&sb)
        .args(["export", "products", "--out", "again.csv"])
        .run();
    done.expect_code(0);
    let again = std::fs::read_to_string(done.path("again.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(again.as_bytes());
    let now: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let row = now.iter().find(|r| r[id_col] == id).unwrap();
    let was = rows.iter().find(|r| r[id_col] == id).unwrap();
    for (i, h) in headers.iter().enumerate() {
        assert_eq!(&row[i], &was[i], "column {h} after the edit");
    }
}

#[test]
fn filters_limits_csv_guard_and_other_entities() {
    let sb = seeded();
    let done = TestEnv::new()
        .against(&sb)
        .args([
            "export",
            "customers",
            "--out",
            "c.csv",
            "--where",
            "status=true",
            "--limit",
            "10",
            "--bom",
        ])
        .run();
    done.expect_code(0);
    let bytes = std::fs::read(done.path("c.csv")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8_lossy(&bytes[3..]).into_owned();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let status = h.iter().position(|x| x == "status").unwrap();
    let rows: Vec<_> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| &r[status] == "true"));

    let done = TestEnv::new()
        .against(&sb)
        .args(["export", "teams", "--out", "t.xlsx"])
        .run();
    done.expect_code(0);
    let teams = records(&done.path("t.xlsx"), "Teams");
    assert_eq!(teams.len(), 3);
    assert!(teams.iter().all(|t| t["email"].contains('@')));

    let done = TestEnv::new()
        .against(&sb)
        .args(["export", "databases", "--out", "d.csv"])
        .run();
    done.expect_code(0);
    let d = std::fs::read_to_string(done.path("d.csv")).unwrap();
    assert!(d.contains("1,Demo"), "{d}");

    let done = TestEnv::new()
        .against(&sb)
        .args([
            "export",
            "customers",
            "--out",
            "c.xlsx",
            "--where",
            "colour=red",
        ])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("no column colour");
}

#[test]
fn visits_by_date_and_team() {
    let sb = seeded();
    // Create visits through an import, then export a date window for one team.
    let done = TestEnv::new()
        .against(&sb)
        .args(["export", "customers", "--out", "c.csv", "--limit", "2"])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    let c = std::fs::read_to_string(done.path("c.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(c.as_bytes());
    let ids: Vec<String> = rdr.records().map(|r| r.unwrap()[0].to_string()).collect();
    let done = TestEnv::new()
        .against(&sb)
        .args(["export", "teams", "--out", "t.csv"])
        .run();
    done.expect_code(0);
    let t = std::fs::read_to_string(done.path("t.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(t.as_bytes());
    let teams: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let (team_id, team_name) = (teams[0][0].to_string(), teams[0][1].to_string());
    let visits = format!(
        "date,customer_id,team_id\n2026-12-01,{a},{team_id}\n2026-12-02,{b},{team_id}\n2026-12-09,{a},{team_id}\n2026-12-02,{a},{}\n",
        &teams[1][0],
        a = ids[0],
        b = ids[1]
    );
    std::fs::write(dir.join("v.csv"), visits).unwrap();
    let out = common::demo_command(dir, &sb.base_url())
        .args(["import", "v.csv", "-e", "visits"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done = TestEnv::new()
        .against(&sb)
        .args([
            "export",
            "visits",
            "--out",
            "v.xlsx",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-05",
            "--team",
            &team_name,
        ])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("v.xlsx"), "Visits");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r["team_id"] == team_id));
    assert!(
        rows[0]["date"].starts_with("2026-12-0"),
        "dates are date cells: {}",
        rows[0]["date"]
    );
}
