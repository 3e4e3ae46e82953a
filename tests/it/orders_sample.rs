//! `samples/orders.xlsx`: several multi-line orders for the customers and products of the
//! other samples. Regenerate with `SHEETLOAD_WRITE_SAMPLES=1 cargo test --test it orders_sample::`;
//! otherwise the committed file is validated and, end to end, imported into a sandbox
//! (the default seed of `sheetload sandbox`) that first received the customer, product
//! and visit samples: every shipped sample imports as shipped.

use std::path::PathBuf;

use crate::common::{Target, TestEnv, connected, records};

fn sample() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/orders.xlsx"))
}

const HEAD: [&str; 8] = [
    "No Pesanan",
    "Tanggal",
    "Kode Pelanggan",
    "Kode Produk",
    "Jumlah",
    "Satuan",
    "Harga",
    "Diskon Item",
];

/// One order line: (product, qty, unit, price, discount).
type Line = (&'static str, u32, &'static str, &'static str, &'static str);

/// (order, date, customer, lines); the team is the API user's (no Sales column).
fn orders() -> Vec<(&'static str, &'static str, &'static str, Vec<Line>)> {
    vec![
        (
            "SO-2612-001",
            "2026-12-01",
            "SMG-004",
            vec![
                ("PRD-001", 2, "KRAT", "", "5"),
                ("PRD-003", 1, "KARTON", "", ""),
                ("PRD-004", 24, "PCS", "1450", ""),
            ],
        ),
        (
            "SO-2612-002",
            "2026-12-01",
            "SMG-011",
            vec![
                ("PRD-002", 3, "karton", "", ""),
                ("PRD-010", 12, "PCS", "", "2+1"),
            ],
        ),
        (
            "SO-2612-003",
            "2026-12-02",
            "JKT-004",
            vec![
                ("PRD-006", 1, "KARTON", "", ""),
                ("PRD-007", 2, "BOX", "", ""),
                ("PRD-008", 6, "PCS", "", ""),
                ("PRD-015", 1, "KARTON", "", "3"),
            ],
        ),
        (
            "SO-2612-004",
            "2026-12-02",
            "SMG-004",
            vec![("PRD-009", 2, "KARUNG", "", "")],
        ),
        (
            "SO-2612-005",
            "2026-12-03",
            "JKT-004",
            vec![
                ("PRD-011", 1, "BOX", "", ""),
                ("PRD-012", 1, "KARTON", "", ""),
            ],
        ),
    ]
}

fn write(path: &std::path::Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let ws = book.add_worksheet();
    ws.set_name("Orders").unwrap();
    for (c, h) in HEAD.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).unwrap();
        ws.set_column_width(c as u16, 15).unwrap();
    }
    let mut r = 1u32;
    for (no, d, cust, lines) in orders() {
        for (product, qty, unit, price, disc) in lines {
            ws.write_string(r, 0, no).unwrap();
            let dt = rust_xlsxwriter::ExcelDateTime::parse_from_str(d).unwrap();
            ws.write_datetime_with_format(r, 1, &dt, &date).unwrap();
            ws.write_string(r, 2, cust).unwrap();
            ws.write_string(r, 3, product).unwrap();
            ws.write_number(r, 4, qty as f64).unwrap();
            ws.write_string(r, 5, unit).unwrap();
            if !price.is_empty() {
                ws.write_number(r, 6, price.parse::<f64>().unwrap())
                    .unwrap();
            }
            if !disc.is_empty() {
                ws.write_string(r, 7, disc).unwrap();
            }
            r += 1;
        }
    }
    book.set_properties(
        &rust_xlsxwriter::DocProperties::new().set_creation_datetime(
            &rust_xlsxwriter::ExcelDateTime::parse_from_str("2026-11-23T00:00:00").unwrap(),
        ),
    );
    book.save(path).unwrap();
}

#[test]
fn orders_sample_validates_and_imports() {
    if std::env::var("SHEETLOAD_WRITE_SAMPLES").is_ok_and(|v| v == "1") {
        write(&sample());
    }
    let bytes = std::fs::read(sample()).expect("samples/orders.xlsx exists");
    let done = TestEnv::new()
        .file("orders.xlsx", &bytes)
        .args(["validate", "orders.xlsx", "-e", "orders"])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("orders.result.xlsx"), "Results");
    assert_eq!(rows.len(), 12);

    // End to end: customers and products first, then the orders.
    let sb = sheetload::sandbox::spawn_in_thread(Default::default()).unwrap();
    let run = |args: &[&str], dir: &std::path::Path| {
        connected(dir, &sb.base_url(), Target::SalesMania)
            .args(args)
            .output()
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let samples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"));
    for f in [
        "customers.xlsx",
        "products.csv",
        "visits.csv",
        "orders.xlsx",
        "customers-with-errors.xlsx",
    ] {
        std::fs::copy(samples.join(f), dir.path().join(f)).unwrap();
    }
    for (f, e) in [
        ("customers.xlsx", "customers"),
        ("products.csv", "products"),
        ("visits.csv", "visits"),
    ] {
        let out = run(&["import", f, "-e", e], dir.path());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run(&["import", "orders.xlsx", "-e", "orders"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The sample with planted mistakes: its 3 good rows are sent, the 10 others never.
    let out = run(
        &["import", "customers-with-errors.xlsx", "-e", "customers"],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = sb.stats();
    assert_eq!(stats["databases"]["1"]["records"]["orders"], 5);
    assert_eq!(stats["databases"]["1"]["records"]["visits"], 20);
    assert_eq!(stats["databases"]["1"]["records"]["customers"], 43);
    assert_eq!(stats["databases"]["1"]["records"]["products"], 15);
    for f in ["orders", "visits"] {
        let rows = records(&dir.path().join(format!("{f}.result.xlsx")), "Results");
        assert!(rows.iter().all(|r| r["_status"] == "OK"), "{f}: {rows:?}");
    }

    // Every sample imported a second time into the same sandbox creates nothing.
    let creates = |stats: &serde_json::Value| -> u64 {
        stats["requests"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with("POST ") && !k.contains("_sandbox"))
            .flat_map(|(_, v)| v.as_object().unwrap().values())
            .filter_map(serde_json::Value::as_u64)
            .sum()
    };
    let before = creates(&sb.stats());
    for (f, e) in [
        ("customers.xlsx", "customers"),
        ("products.csv", "products"),
        ("visits.csv", "visits"),
        ("orders.xlsx", "orders"),
        ("customers-with-errors.xlsx", "customers"),
    ] {
        let out = run(&["import", f, "-e", e, "--out", "again.xlsx"], dir.path());
        let code = if f.contains("errors") { 1 } else { 0 };
        assert_eq!(
            out.status.code(),
            Some(code),
            "{f} again: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows = records(&dir.path().join("again.xlsx"), "Results");
        assert!(
            rows.iter()
                .all(|r| r["_status"] == "SKIPPED" || r["_status"] == "INVALID"),
            "{f} again: {rows:?}"
        );
    }
    assert_eq!(
        creates(&sb.stats()),
        before,
        "nothing created the second time"
    );
    let stats = sb.stats();
    assert_eq!(stats["databases"]["1"]["records"]["orders"], 5);
    assert_eq!(stats["databases"]["1"]["records"]["visits"], 20);
    assert_eq!(stats["databases"]["1"]["records"]["customers"], 43);
}

/// The other targets' samples, imported twice: the second run creates nothing.
#[test]
fn fatura_and_trackfinity_samples_import_twice_without_creating_twice() {
    let sb = sheetload::sandbox::spawn_in_thread(Default::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let samples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"));
    for f in ["fatura-customers.csv", "trackfinity-customers.csv"] {
        std::fs::copy(samples.join(f), dir.path().join(f)).unwrap();
    }
    let run = |args: &[&str]| {
        connected(dir.path(), &sb.base_url(), Target::Fatura)
            .args(args)
            .output()
            .unwrap()
    };
    let fatura = |mode: &str| {
        run(&[
            "import",
            "fatura-customers.csv",
            "--target",
            "fatura",
            "-e",
            "customers",
            "--mode",
            mode,
        ])
    };
    for (pass, mode) in [(1, "create"), (2, "create"), (3, "upsert")] {
        let out = fatura(mode);
        assert_eq!(
            out.status.code(),
            Some(0),
            "pass {pass}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stats = sb.stats();
        assert_eq!(
            stats["fatura"]["records"]["customers"], 4,
            "pass {pass}: {stats}"
        );
    }
    let rows = records(&dir.path().join("fatura-customers.result.xlsx"), "Results");
    assert!(rows.iter().all(|r| r["_status"] == "SKIPPED"), "{rows:?}");
    // Trackfinity can only update: a second run sends the same PATCHes and creates nothing.
    for pass in [1, 2] {
        let out = connected(dir.path(), &sb.base_url(), Target::Trackfinity)
            .args([
                "import",
                "trackfinity-customers.csv",
                "--target",
                "trackfinity",
            ])
            .args(["-e", "customers"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "pass {pass}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(sb.stats()["trackfinity"]["records"]["customers"], 20);
}
