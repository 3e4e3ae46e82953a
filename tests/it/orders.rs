//! Orders from one sheet: 300 lines making 60 orders, references by code, conflicting
//! groups, unknown products and units — against the sandbox; reruns; status updates.

use std::collections::HashMap;

use crate::common::{self, TestEnv, count, demo_command, records};
use serde_json::Value;
use sheetload::sandbox::{SandboxOptions, ThreadSandbox, spawn_in_thread};

fn seeded() -> ThreadSandbox {
    spawn_in_thread(SandboxOptions {
        customers: 20,
        products: 12,
        seed: 5,
        ..SandboxOptions::default()
    })
    .expect("sandbox")
}

fn sheetload(sb: &ThreadSandbox, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    demo_command(dir, &sb.base_url())
        .args(args)
        .output()
        .expect("run sheetload")
}

/// 60 orders × 5 lines. Orders 7, 21, 33 have a date that differs between rows; orders
/// 12 and 45 name an unknown product; orders 18 and 50 a unit no product has.
fn sheet() -> (String, Vec<usize>) {
    let bad = vec![7, 12, 18, 21, 33, 45, 50];
    let mut s =
        String::from("No Pesanan,Tanggal,Kode Pelanggan,Kode Produk,Jumlah,Satuan,Harga,Status\n");
    for o in 1..=60usize {
        for l in 1..=5usize {
            let date = if [7, 21, 33].contains(&o) && l == 3 {
                "2026-12-02"
            } else {
                "2026-12-01"
            };
            let product = if [12, 45].contains(&o) && l == 2 {
                "P999999".to_string()
            } else {
                format!("P{:06}", (o + l) % 12 + 1)
            };
            let unit = if [18, 50].contains(&o) && l == 4 {
                "KRAT"
            } else if l % 2 == 0 {
                "box"
            } else {
                "PCS"
            };
            let price = if l == 5 {
                "".to_string()
            } else {
                "1000".to_string()
            };
            let status = if o % 2 == 0 { "New" } else { "" };
            s.push_str(&format!(
                "SO-{o:03},{date},C{:06},{product},{l},{unit},{price},{status}\n",
                o % 20 + 1
            ));
        }
    }
    (s, bad)
}

#[test]
fn sixty_orders_from_three_hundred_lines() {
    let sb = seeded();
    let (csv, bad) = sheet();
    let done = TestEnv::new()
        .against(&sb)
        .file("orders.csv", &csv)
        .args(["import", "orders.csv", "--entity", "orders"])
        .run();
    let dir = done.dir();
    done.expect_code(1);
    let stats = sb.stats();
    assert_eq!(
        count(&stats, "POST /extapi/v1.0/orders"),
        53,
        "invalid groups never sent"
    );
    assert_eq!(stats["databases"]["1"]["records"]["orders"], 53);
    let rows = records(&done.path("orders.result.xlsx"), "Results");
    assert_eq!(rows.len(), 300);
    let mut by_order: HashMap<String, Vec<&HashMap<String, String>>> = HashMap::new();
    for r in &rows {
        by_order.entry(r["No Pesanan"].clone()).or_default().push(r);
    }
    for o in 1..=60usize {
        let lines = &by_order[&format!("SO-{o:03}")];
        assert_eq!(lines.len(), 5);
        let statuses: Vec<&str> = lines.iter().map(|r| r["_status"].as_str()).collect();
        if bad.contains(&o) {
            assert!(
                statuses.iter().all(|s| *s == "INVALID"),
                "SO-{o:03}: {statuses:?}"
            );
            let err = &lines[0]["_error"];
            assert!(err.contains(&format!("order SO-{o:03}")), "{err}");
        } else {
            assert!(
                statuses.iter().all(|s| *s == "OK"),
                "SO-{o:03}: {statuses:?} {}",
                lines[0]["_error"]
            );
            let id = &lines[0]["_id"];
            assert!(lines.iter().all(|r| &r["_id"] == id), "one id per order");
        }
    }
    assert!(
        by_order["SO-007"][0]["_error"].contains("column Tanggal differs"),
        "{}",
        by_order["SO-007"][0]["_error"]
    );
    assert!(
        by_order["SO-012"][1]["_error"].contains("P999999"),
        "{}",
        by_order["SO-012"][1]["_error"]
    );
    assert!(
        by_order["SO-018"][3]["_error"].contains("'KRAT' is not a unit"),
        "{}",
        by_order["SO-018"][3]["_error"]
    );

    // The lines landed with the server's unit spelling and the product's price.
    let id = by_order["SO-002"][0]["_id"].clone();
    let order = get_order(&sb, &id);
    let lines = order["ordered_products"].as_array().unwrap();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[1]["unit"], "BOX");
    assert!(
        lines[4]["price"].as_f64().unwrap() > 0.0,
        "price taken from the product"
    );
    assert_eq!(order["status"], "Baru");

    // A rerun creates nothing.
    let out = sheetload(&sb, dir, &["import", "orders.csv", "--entity", "orders"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        count(&sb.stats(), "POST /extapi/v1.0/orders"),
        53,
        "nothing created twice"
    );
    let again = records(&dir.join("orders.result.xlsx"), "Results");
    assert_eq!(
        again.iter().filter(|r| r["_status"] == "SKIPPED").count(),
        265
    );

    // ERP status labels reach the right orders, by ext_order_no through the ledger.
    std::fs::write(
        dir.join("status.csv"),
        "ext_order_no,ext_order_status_name\nSO-002,Invoiced\nSO-004,Shipped\nSO-999,Lost\n",
    )
    .unwrap();
    let out = sheetload(
        &sb,
        dir,
        &[
            "import",
            "status.csv",
            "--entity",
            "orders",
            "--mode",
            "update",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = records(&dir.join("status.result.xlsx"), "Results");
    assert_eq!(r[0]["_status"], "OK");
    assert_eq!(r[1]["_status"], "OK");
    assert_eq!(r[2]["_status"], "FAILED");
    assert_eq!(count(&sb.stats(), "PATCH /extapi/v1.0/orders/{id}"), 2);
    assert_eq!(get_order(&sb, &id)["ext_order_status_name"], "Invoiced");
    let id4 = by_order["SO-004"][0]["_id"].clone();
    assert_eq!(get_order(&sb, &id4)["ext_order_status_name"], "Shipped");
}

/// GET an order through the API with a fresh sign-in (plain HTTP over loopback).
fn get_order(sb: &ThreadSandbox, id: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        let base = sb.base_url();
        let t: Value = c
            .get(format!("{base}/extapi/v1.0/token"))
            .basic_auth("demo", Some("demo"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bearer = t["token"].as_str().unwrap().to_string();
        let tt: Value = c
            .get(format!("{base}/extapi/v1.0/team_token?db_id=1"))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let team = tt["team_token"].as_str().unwrap().to_string();
        let v: Value = c
            .get(format!("{base}/extapi/v1.0/orders/{id}"))
            .bearer_auth(&bearer)
            .query(&[("team_token", team)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.get("data").cloned().unwrap_or(v)
    })
}

#[test]
fn orders_template_and_offline_validation() {
    let done = TestEnv::new()
        .args(["template", "orders", "--out", "orders.xlsx"])
        .run();
    done.expect_code(0);
    let head = common::sheet(&done.path("orders.xlsx"), "Orders");
    assert!(head[0].contains(&"ext_order_no".to_string()));
    assert!(head[0].contains(&"product_code".to_string()));
}
