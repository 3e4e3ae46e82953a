//! "Export what people edit": `export orders` in the layout `import -e orders` reads,
//! visits exported with customer code and team name beside the ids, and `--save-map`
//! on validate/import writing the mapping that was used.

use std::collections::HashMap;
use std::path::Path;

use crate::common::{TestEnv, count, demo_command, records, sheet, sheetload_in};
use serde_json::{Value, json};
use sheetload::sandbox::{SandboxOptions, ThreadSandbox, spawn_in_thread};

type Row = HashMap<String, String>;

/// A sandbox with customers C000001…, products P000001… (SKU-00001…) and three teams,
/// keeping its store in `state` so a copy with other ids can be made from it.
fn sandbox(state: &Path) -> ThreadSandbox {
    spawn_in_thread(SandboxOptions {
        customers: 6,
        products: 5,
        seed: 7,
        state: Some(state.to_path_buf()),
        ..SandboxOptions::default()
    })
    .expect("sandbox")
}

/// A copy of a sandbox's saved store with every team, customer and product id moved by
/// `by` and no visits or orders: the same codes and names under other ids.
fn shifted_copy(from: &Path, to: &Path, by: u64) -> ThreadSandbox {
    let mut doc: Value = serde_json::from_slice(&std::fs::read(from).unwrap()).unwrap();
    let sm = &mut doc["salesmania"];
    for db in sm["databases"].as_array_mut().unwrap() {
        for collection in ["teams", "customers", "products"] {
            for r in db[collection].as_array_mut().unwrap() {
                r["id"] = json!(r["id"].as_u64().unwrap() + by);
            }
        }
        db["visits"] = json!([]);
        db["orders"] = json!([]);
    }
    for v in sm["next_id"].as_object_mut().unwrap().values_mut() {
        *v = json!(v.as_u64().unwrap() + by);
    }
    std::fs::write(to, serde_json::to_vec(&doc).unwrap()).unwrap();
    sandbox(to)
}

/// Run sheetload in `dir` (its ledger home) against `sb`; returns (exit code, stderr).
fn sl(dir: &Path, sb: &ThreadSandbox, args: &[&str]) -> (i32, String) {
    let out = demo_command(dir, &sb.base_url())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(dir: &Path, sb: &ThreadSandbox, args: &[&str]) {
    let (code, stderr) = sl(dir, sb, args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Row>) {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let rows = rdr
        .records()
        .map(|r| {
            headers
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect();
    (headers, rows)
}

/// Team names of a sandbox, in id order (the first is the API user's own).
fn team_names(dir: &Path, sb: &ThreadSandbox) -> Vec<String> {
    ok(dir, sb, &["export", "teams", "--out", "teams.csv"]);
    csv_rows(&dir.join("teams.csv"))
        .1
        .into_iter()
        .map(|t| t["name"].clone())
        .collect()
}

/// The headers `sheetload template ENTITY` writes.
fn template_headers(dir: &Path, sb: &ThreadSandbox, entity: &str) -> Vec<String> {
    let file = format!("{entity}-template.xlsx");
    ok(dir, sb, &["template", entity, "--out", &file]);
    let mut sheet_name = entity.to_string();
    sheet_name[..1].make_ascii_uppercase();
    sheet(&dir.join(&file), &sheet_name)[0].clone()
}

/// What an order line is, without any id: the fields a person reads and edits.
fn readable(rows: &[Row], fields: &[&str]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = rows
        .iter()
        .map(|r| fields.iter().map(|f| r[*f].clone()).collect())
        .collect();
    out.sort();
    out
}

const ORDER_FIELDS: [&str; 15] = [
    "ext_order_no",
    "date",
    "customer_code",
    "team",
    "description",
    "disc_percent",
    "status",
    "product_code",
    "qty",
    "unit",
    "price",
    "item_disc_percent",
    "item_disc_amount",
    "line_description",
    "ext_order_line_id",
];

#[test]
fn orders_export_one_row_per_line_and_import_back_recreates_them_once() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let a = sandbox(&dir.join("a.json"));
    let teams = team_names(dir, &a);
    let sheet_text = format!(
        "ext_order_no,date,customer_code,team,description,disc_percent,status,product_code,qty,unit,price,item_disc_percent,item_disc_amount,line_description,ext_order_line_id\n\
         SO-001,2026-12-01,C000001,{t1},Kirim pagi,2.5,Diproses,P000001,2,box,,5+2,,İkinci kat,1\n\
         SO-001,2026-12-01,C000001,{t1},Kirim pagi,2.5,Diproses,P000002,1.5,PCS,1000,,,,2\n\
         SO-002,2026-12-03,C000002,,,,,P000003,3,PCS,,,500,,\n\
         SO-003,2026-12-09,C000003,{t2},,,Baru,SKU-00004,1,BOX,,,,,\n",
        t1 = teams[1],
        t2 = teams[2]
    );
    std::fs::write(dir.join("orders.csv"), sheet_text).unwrap();
    ok(dir, &a, &["import", "orders.csv", "-e", "orders"]);

    // The export: the import template's columns, one row per line, readable references.
    ok(dir, &a, &["export", "orders", "--out", "exported.csv"]);
    let (headers, rows) = csv_rows(&dir.join("exported.csv"));
    assert_eq!(headers, template_headers(dir, &a, "orders"));
    assert_eq!(rows.len(), 4, "{rows:?}");
    let so1: Vec<&Row> = rows
        .iter()
        .filter(|r| r["ext_order_no"] == "SO-001")
        .collect();
    assert_eq!(so1.len(), 2);
    assert!(
        so1.iter()
            .all(|r| r["id"] == so1[0]["id"] && !r["id"].is_empty())
    );
    assert!(so1.iter().all(|r| r["customer_code"] == "C000001"
        && r["team"] == teams[1]
        && r["status"] == "Diproses"
        && r["disc_percent"] == "2.5"
        && r["description"] == "Kirim pagi"
        && !r["customer_id"].is_empty()));
    assert_eq!(so1[0]["unit"], "BOX", "the server's spelling of the unit");
    assert_eq!(so1[0]["item_disc_percent"], "5+2");
    assert_eq!(so1[0]["line_description"], "İkinci kat");
    assert!(
        !so1[0]["price"].is_empty(),
        "the unit's price was filled in"
    );
    let so2 = rows.iter().find(|r| r["ext_order_no"] == "SO-002").unwrap();
    assert_eq!(so2["team"], teams[0], "the API user's team");
    assert_eq!(so2["item_disc_amount"], "500");
    let so3 = rows.iter().find(|r| r["ext_order_no"] == "SO-003").unwrap();
    assert_eq!(
        so3["product_code"], "P000004",
        "a product given by SKU shows its code"
    );
    // XLSX: the same rows, dates as date cells.
    ok(dir, &a, &["export", "orders", "--out", "exported.xlsx"]);
    let x = records(&dir.join("exported.xlsx"), "Orders");
    assert_eq!(
        readable(&x, &["ext_order_no", "date", "product_code"]).len(),
        4
    );
    assert!(x.iter().any(|r| r["date"] == "2026-12-01"));

    // Into the same database: the ledger knows these orders, nothing is sent.
    let posts = count(&a.stats(), "POST /extapi/v1.0/orders");
    ok(dir, &a, &["import", "exported.csv", "-e", "orders"]);
    assert_eq!(count(&a.stats(), "POST /extapi/v1.0/orders"), posts);
    let back = records(&dir.join("exported.result.xlsx"), "Results");
    assert!(back.iter().all(|r| r["_status"] == "SKIPPED"), "{back:?}");
    a.shutdown();

    // Into an empty database whose ids all differ: the same orders, once each.
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("exported.csv"), other.path().join("exported.csv")).unwrap();
    let b = shifted_copy(&dir.join("a.json"), &other.path().join("b.json"), 100);
    ok(
        other.path(),
        &b,
        &["import", "exported.csv", "-e", "orders"],
    );
    assert_eq!(count(&b.stats(), "POST /extapi/v1.0/orders"), 3);
    ok(
        other.path(),
        &b,
        &["export", "orders", "--out", "again.csv"],
    );
    let (_, again) = csv_rows(&other.path().join("again.csv"));
    assert_eq!(
        readable(&again, &ORDER_FIELDS),
        readable(&rows, &ORDER_FIELDS)
    );
    let ids = |rows: &[Row], code: &str| -> String {
        rows.iter().find(|r| r["customer_code"] == code).unwrap()["customer_id"].clone()
    };
    assert_ne!(ids(&again, "C000001"), ids(&rows, "C000001"), "ids differ");
}

#[test]
fn orders_export_filters_keep_whole_orders() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let a = sandbox(&dir.join("a.json"));
    let teams = team_names(dir, &a);
    let sheet_text = format!(
        "ext_order_no,date,customer_code,team,product_code,qty,unit\n\
         SO-1,2026-12-01,C000001,{t1},P000001,1,PCS\n\
         SO-1,2026-12-01,C000001,{t1},P000002,2,PCS\n\
         SO-2,2026-12-05,C000002,{t1},P000003,1,PCS\n\
         SO-3,2026-12-05,C000003,{t2},P000002,1,PCS\n\
         SO-4,2026-12-20,C000004,{t1},P000004,1,PCS\n",
        t1 = teams[1],
        t2 = teams[2]
    );
    std::fs::write(dir.join("orders.csv"), sheet_text).unwrap();
    // One at a time, so the ids (and the export's order) follow the sheet's order.
    ok(
        dir,
        &a,
        &["import", "orders.csv", "-e", "orders", "--concurrency", "1"],
    );
    let orders_in = |args: &[&str]| -> Vec<(String, usize)> {
        let mut full = vec!["export", "orders", "--out", "f.csv"];
        full.extend_from_slice(args);
        ok(dir, &a, &full);
        let (_, rows) = csv_rows(&dir.join("f.csv"));
        let mut count: Vec<(String, usize)> = Vec::new();
        for r in rows {
            match count.iter_mut().find(|(k, _)| *k == r["ext_order_no"]) {
                Some((_, n)) => *n += 1,
                None => count.push((r["ext_order_no"].clone(), 1)),
            }
        }
        count
    };
    let o = |v: &[(&str, usize)]| -> Vec<(String, usize)> {
        v.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    };
    assert_eq!(
        orders_in(&[
            "--team",
            &teams[1],
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-10"
        ]),
        o(&[("SO-1", 2), ("SO-2", 1)])
    );
    // A line filter keeps the whole order it matches; --limit counts orders.
    assert_eq!(
        orders_in(&["--where", "product_code=p000002"]),
        o(&[("SO-1", 2), ("SO-3", 1)])
    );
    assert_eq!(orders_in(&["--limit", "1"]), o(&[("SO-1", 2)]));
    let (code, stderr) = sl(
        dir,
        &a,
        &["export", "orders", "--out", "f.csv", "--team", "Nobody"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no team 'Nobody'"), "{stderr}");
}

#[test]
fn visits_export_carries_codes_and_names_and_lands_right_where_ids_differ() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let a = sandbox(&dir.join("a.json"));
    let teams = team_names(dir, &a);
    let visits = format!(
        "date,customer_code,team\n2026-12-01,C000001,{t1}\n2026-12-01,C000002,{t2}\n2026-12-02,C000003,\n2026-12-03,C000001,{t2}\n",
        t1 = teams[1],
        t2 = teams[2]
    );
    std::fs::write(dir.join("visits.csv"), visits).unwrap();
    ok(dir, &a, &["import", "visits.csv", "-e", "visits"]);
    ok(dir, &a, &["export", "visits", "--out", "exported.csv"]);
    let (headers, rows) = csv_rows(&dir.join("exported.csv"));
    assert_eq!(headers, template_headers(dir, &a, "visits"));
    assert_eq!(
        headers,
        ["date", "customer_id", "customer_code", "team_id", "team"]
    );
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter()
            .all(|r| !r["customer_id"].is_empty() && !r["team_id"].is_empty())
    );
    let fields = ["date", "customer_code", "team"];
    let want = vec![
        vec!["2026-12-01".to_string(), "C000001".into(), teams[1].clone()],
        vec!["2026-12-01".into(), "C000002".into(), teams[2].clone()],
        vec!["2026-12-02".into(), "C000003".into(), teams[0].clone()],
        vec!["2026-12-03".into(), "C000001".into(), teams[2].clone()],
    ];
    assert_eq!(readable(&rows, &fields), want);
    a.shutdown();

    // A fresh database with the same codes and names under other ids.
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("exported.csv"), other.path().join("exported.csv")).unwrap();
    let b = shifted_copy(&dir.join("a.json"), &other.path().join("b.json"), 100);
    ok(
        other.path(),
        &b,
        &["import", "exported.csv", "-e", "visits"],
    );
    ok(
        other.path(),
        &b,
        &["export", "visits", "--out", "again.csv"],
    );
    let (_, again) = csv_rows(&other.path().join("again.csv"));
    assert_eq!(
        readable(&again, &fields),
        want,
        "every visit on the right customer and team"
    );
    ok(other.path(), &b, &["export", "customers", "--out", "c.csv"]);
    let ids_of = |file: &str, key: &str| -> HashMap<String, String> {
        csv_rows(&other.path().join(file))
            .1
            .into_iter()
            .map(|c| (c[key].clone(), c["id"].clone()))
            .collect()
    };
    let customer_ids = ids_of("c.csv", "ext_cust_no");
    ok(other.path(), &b, &["export", "teams", "--out", "t.csv"]);
    let team_ids = ids_of("t.csv", "name");
    let ids_in_a: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r["customer_code"].as_str(), r["customer_id"].as_str()))
        .collect();
    for now in &again {
        assert_eq!(now["customer_id"], customer_ids[&now["customer_code"]]);
        assert_eq!(now["team_id"], team_ids[&now["team"]]);
        assert_ne!(
            now["customer_id"],
            ids_in_a[now["customer_code"].as_str()],
            "the ids really differ"
        );
    }
}

/// The Summary sheet's `Column X → field` lines and the `_payload` of every row.
fn understood(result: &Path) -> (Vec<Vec<String>>, Vec<String>) {
    let columns = sheet(result, "Summary")
        .into_iter()
        .filter(|r| r[0].starts_with("Column "))
        .collect();
    let payloads = records(result, "Results")
        .into_iter()
        .map(|r| r["_payload"].clone())
        .collect();
    (columns, payloads)
}

#[test]
fn save_map_writes_the_map_that_was_used_and_it_maps_the_same_again() {
    let csv = "Outlet Title,Wilayah,Kode Pelanggan,Kota,Catatan,Warna\n\
               Toko Maju,retail,007,,ring twice,red\n\
               Warung İbu,grosir,0815,Solo,,blue\n";
    let map = "ignore = [\"Catatan\"]\n[columns]\n\"Outlet Title\" = \"name\"\n\"Wilayah\" = \"tags\"\n[constants]\nstatus = false\n[defaults]\ncity = \"Semarang\"\n";
    let done = TestEnv::new()
        .file("customers.csv", csv)
        .file("map.toml", map)
        .args([
            "validate",
            "customers.csv",
            "-e",
            "customers",
            "--map",
            "map.toml",
            "--save-map",
            "saved.toml",
            "--out",
            "first.xlsx",
        ])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    let saved = std::fs::read_to_string(dir.join("saved.toml")).unwrap();
    assert!(saved.contains("\"Outlet Title\" = \"name\""), "{saved}");
    assert!(
        saved.contains("\"Kode Pelanggan\" = \"ext_cust_no\""),
        "{saved}"
    );
    assert!(
        saved.contains("Warna"),
        "unmapped columns are named: {saved}"
    );
    let first = understood(&dir.join("first.xlsx"));
    assert!(first.1[0].contains("\"007\"") && first.1[0].contains("\"Semarang\""));

    // The same file with the saved map alone: the same mapping, the same payloads.
    let out = sheetload_in(dir)
        .args([
            "validate",
            "customers.csv",
            "-e",
            "customers",
            "--map",
            "saved.toml",
        ])
        .args(["--out", "second.xlsx"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("Catatan"), "the ignore was kept: {stderr}");
    assert_eq!(understood(&dir.join("second.xlsx")), first);
}

#[test]
fn save_map_from_an_import_pins_auto_matched_headers_for_next_month() {
    let csv = "Nama,Kode Pelanggan,No HP,Kota,Lintang,Bujur\nToko A,C-01,081234567890,Solo,-7.56,110.82\n";
    let done = TestEnv::new()
        .file("june.csv", csv)
        .args(["import", "june.csv", "-e", "customers", "--sandbox"])
        .args(["--save-map", "customers-map.toml", "--quiet"])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    let saved = std::fs::read_to_string(dir.join("customers-map.toml")).unwrap();
    for line in [
        "Nama = \"name\"",
        "\"Kode Pelanggan\" = \"ext_cust_no\"",
        "\"No HP\" = \"phone\"",
        "Lintang = \"latitude\"",
        "Bujur = \"longitude\"",
    ] {
        assert!(saved.contains(line), "{line} in {saved}");
    }
    // Next month's file: other spelling, other column order, a new column; the saved
    // map maps it the same way and validate says so column by column.
    let july = "no. hp,KODE PELANGGAN,Kota,nama,Bujur,Lintang,Sales\n0812 1111 2222,C-02,Solo,Toko B,110.8,-7.5,Budi\n";
    std::fs::write(dir.join("july.csv"), july).unwrap();
    let out = sheetload_in(dir)
        .args([
            "validate",
            "july.csv",
            "-e",
            "customers",
            "--map",
            "customers-map.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (columns, payloads) = understood(&dir.join("july.result.xlsx"));
    let mapped: Vec<(String, String)> = columns
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    for (col, field) in [
        ("no. hp", "phone"),
        ("KODE PELANGGAN", "ext_cust_no"),
        ("nama", "name"),
        ("Lintang", "latitude"),
    ] {
        assert!(
            mapped
                .iter()
                .any(|(c, f)| c.contains(col) && f == &format!("→ {field}")),
            "{col} → {field} in {mapped:?}"
        );
    }
    assert!(payloads[0].contains("\"081211112222\""), "{}", payloads[0]);

    // The input itself is never overwritten.
    let done = TestEnv::new()
        .file("june.csv", csv)
        .args([
            "validate",
            "june.csv",
            "-e",
            "customers",
            "--save-map",
            "june.csv",
        ])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("is the input file itself");
}

/// GET of the sandbox's order list, signed in as the demo user: (status, body).
async fn list_orders(base: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |url: String| http.get(url);
    let token: Value = get(format!("{base}/extapi/v1.0/token"))
        .basic_auth("demo", Some("demo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["token"].as_str().unwrap().to_string();
    let team: Value = get(format!("{base}/extapi/v1.0/team_token"))
        .bearer_auth(&bearer)
        .query(&[("db_id", "1")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = get(format!("{base}/extapi/v1.0/orders"))
        .bearer_auth(&bearer)
        .query(&[("team_token", team["team_token"].as_str().unwrap())])
        .query(query)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[test]
fn sandbox_lists_orders_by_page_like_visits() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let a = sandbox(&dir.join("a.json"));
    let teams = team_names(dir, &a);
    let sheet_text = format!(
        "ext_order_no,date,customer_code,team,product_code,qty,unit\n\
         SO-1,2026-12-01,C000001,,P000001,1,PCS\n\
         SO-2,2026-12-05,C000002,{t1},P000003,1,PCS\n\
         SO-3,2026-12-07,C000003,{t1},P000002,1,PCS\n",
        t1 = teams[1]
    );
    std::fs::write(dir.join("orders.csv"), sheet_text).unwrap();
    // One at a time, so the ids follow the sheet's order.
    ok(
        dir,
        &a,
        &["import", "orders.csv", "-e", "orders", "--concurrency", "1"],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = a.base_url();
    let numbers = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["ext_order_no"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, page2) = rt.block_on(list_orders(&base, &[("page", "2"), ("limit", "2")]));
    assert_eq!(status, 200, "{page2}");
    assert_eq!(
        (numbers(&page2), page2["total"].as_u64()),
        (vec!["SO-3".into()], Some(3))
    );
    assert!(page2["data"][0]["ordered_products"][0]["product_id"].is_u64());
    let (_, dated) = rt.block_on(list_orders(
        &base,
        &[("date_from", "2026-12-02"), ("date_to", "2026-12-06")],
    ));
    assert_eq!(numbers(&dated), ["SO-2"]);
    let team_id = page2["data"][0]["team_id"].to_string();
    let (_, by_team) = rt.block_on(list_orders(&base, &[("team_id", &team_id)]));
    assert_eq!(numbers(&by_team), ["SO-2", "SO-3"]);
    let (_, by_no) = rt.block_on(list_orders(&base, &[("ext_order_no", "SO-1")]));
    assert_eq!(numbers(&by_no), ["SO-1"]);
    let (status, bad) = rt.block_on(list_orders(&base, &[("date_from", "01/12/2026")]));
    assert_eq!(status, 422, "{bad}");
    assert!(bad["errors"]["date_from"].is_array(), "{bad}");
}
