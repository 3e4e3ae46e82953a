//! The other workbook formats (XLS 97-2003, ODS) and results too large for one sheet.

use std::io::Write;

use crate::common::{TestEnv, records, sheet, sheet_names};
use serde_json::Value;
use sheetload::input::{Cell, RawRow};
use sheetload::output::Status;
use sheetload::output::result::{self, Columns, Outcome, SummaryData};

fn payload(row: &std::collections::HashMap<String, String>) -> Value {
    serde_json::from_str(&row["_payload"]).expect("payload is JSON")
}

/// `tests/fixtures/customers.xls` was written with Python's xlwt: a title row, the header
/// on row 3, a phone stored as a number, text with leading zeros, date cells.
#[test]
fn xls_97_2003() {
    let fixture = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/customers.xls"
    ))
    .unwrap();
    let done = TestEnv::new()
        .file("customers.xls", fixture)
        .args(["validate", "customers.xls", "-e", "customers"])
        .run();
    done.expect_code(1).stderr_has("\"Tanggal Daftar\"");
    let rows = records(&done.path("customers.result.xlsx"), "Results");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["_row"], "4");
    let p = payload(&rows[0]);
    assert_eq!(p["phone"], "6281234567");
    assert_eq!(p["ext_cust_no"], "007");
    assert_eq!(p["location"]["lat"], -7.110383);
    assert_eq!(rows[1]["_status"], "VALID");
    assert_eq!(payload(&rows[1])["phone"], "081234567890");
    assert_eq!(rows[2]["_status"], "INVALID");
    let err = &rows[2]["_error"];
    assert!(
        err.contains("Nama (Pelanggan!A6)") && err.contains("Lintang (Pelanggan!D6)"),
        "{err}"
    );
    // The date cell is written back as that date.
    assert_eq!(rows[0]["Tanggal Daftar"], "2026-11-03");
}

fn ods(content_rows: &str) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        z.start_file("mimetype", stored).unwrap();
        z.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
            .unwrap();
        z.start_file("META-INF/manifest.xml", stored).unwrap();
        z.write_all(br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#).unwrap();
        z.start_file("content.xml", stored).unwrap();
        write!(
            z,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet><table:table table:name="Kunjungan">{content_rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
        )
        .unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

fn s(t: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="string"><text:p>{t}</text:p></table:table-cell>"#
    )
}

#[test]
fn ods_spreadsheet() {
    let f = |v: &str| {
        format!(
            r#"<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>"#
        )
    };
    let d = |v: &str| {
        format!(
            r#"<table:table-cell office:value-type="date" office:date-value="{v}"><text:p>{v}</text:p></table:table-cell>"#
        )
    };
    let row = |cells: Vec<String>| format!("<table:table-row>{}</table:table-row>", cells.concat());
    let content = [
        row(vec![s("Tanggal"), s("customer_id"), s("Sales")]),
        row(vec![d("2026-12-01"), f("101"), s("Budi Santoso")]),
        row(vec![d("2026-12-02T00:00:00"), f("102.5"), s("Siti")]),
    ]
    .concat();
    let done = TestEnv::new()
        .file("visits.ods", ods(&content))
        .args(["validate", "visits.ods", "-e", "visits"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("visits.result.xlsx"), "Results");
    let p = payload(&rows[0]);
    assert_eq!(p["date"], "2026-12-01");
    assert_eq!(p["customer_id"], 101);
    assert_eq!(
        p["_resolve"]["team_id"],
        "teams by name/email = Budi Santoso"
    );
    assert_eq!(payload(&rows[1])["date"], "2026-12-02");
    assert!(
        rows[1]["_error"].contains("'102.5' is not a valid id"),
        "{}",
        rows[1]["_error"]
    );
}

#[test]
fn results_continue_on_further_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.result.xlsx");
    let headers = vec!["Nama".to_string()];
    let mut sink =
        result::create_with_sheet_limit(&path, &headers, Columns::default(), 10).unwrap();
    for n in 0..25u32 {
        let row = RawRow::new(n + 2, vec![Cell::text(format!("Toko {n}"))]);
        let status = if n % 2 == 0 {
            Status::Valid
        } else {
            Status::Invalid
        };
        sink.row(
            &row,
            &Outcome {
                status: Some(status),
                ..Outcome::default()
            },
        )
        .unwrap();
    }
    sink.finish(&SummaryData::default()).unwrap();
    assert_eq!(
        sheet_names(&path),
        [
            "Results",
            "Failed",
            "Results (2)",
            "Results (3)",
            "Failed (2)",
            "Summary"
        ]
    );
    assert_eq!(sheet(&path, "Results").len(), 11);
    assert_eq!(sheet(&path, "Results (3)").len(), 6);
    let last = sheet(&path, "Results (3)");
    assert_eq!(last[5][0], "26");
    assert_eq!(last[5][1], "VALID");
    assert_eq!(last[5][3], "Toko 24");
    // 12 invalid rows: 10 on Failed, 2 on Failed (2).
    assert_eq!(sheet(&path, "Failed").len(), 11);
    assert_eq!(sheet(&path, "Failed (2)").len(), 3);
}

/// A workbook row with data past the last header keeps its place in the count and warns
/// about the cell, instead of dropping it without a word; a row with data only there is
/// still a row.
#[test]
fn xlsx_data_past_the_last_header_is_warned_about_and_no_row_disappears() {
    let done = TestEnv::new()
        .build("c.xlsx", |p| {
            crate::common::xlsx(p, "Customers", |ws| {
                ws.write_string(0, 0, "Nama").unwrap();
                ws.write_string(0, 1, "No HP").unwrap();
                ws.write_string(1, 0, "Toko A").unwrap();
                ws.write_string(1, 1, "0812345678").unwrap();
                ws.write_string(1, 3, "catatan lama").unwrap();
                ws.write_string(2, 4, "hanya di sini").unwrap();
                ws.write_string(3, 0, "Toko C").unwrap();
            });
        })
        .args(["validate", "c.xlsx", "-e", "customers"])
        .run();
    done.expect_code(1);
    let rows = done.records("c.result.xlsx", "Results");
    assert_eq!(rows.len(), 3, "every row with data is counted: {rows:?}");
    assert!(
        rows[0]["_error"].contains("column D") && rows[0]["_error"].contains("D2"),
        "{}",
        rows[0]["_error"]
    );
    assert_eq!(rows[0]["_status"], "VALID");
    assert!(
        rows[1]["_error"].contains("column E"),
        "{}",
        rows[1]["_error"]
    );
    assert_eq!(rows[1]["_status"], "INVALID");
    assert_eq!(rows[2]["_status"], "VALID");
}

/// An XLS whose two cells sit at A1 and IV65536 would make calamine allocate 16.7 M
/// cells: refused from its records, before any range is built.
#[test]
fn an_xls_whose_cells_span_too_far_is_refused_before_loading() {
    let done = TestEnv::new()
        .build("far.xls", |p| {
            let mut book = cfb::create(p).unwrap();
            let mut ws = book.create_stream("/Workbook").unwrap();
            let rec = |ws: &mut dyn Write, kind: u16, body: &[u8]| {
                ws.write_all(&kind.to_le_bytes()).unwrap();
                ws.write_all(&(body.len() as u16).to_le_bytes()).unwrap();
                ws.write_all(body).unwrap();
            };
            let bof = [0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0];
            let number = |row: u16, col: u16| {
                let mut b = Vec::new();
                b.extend(row.to_le_bytes());
                b.extend(col.to_le_bytes());
                b.extend(0u16.to_le_bytes());
                b.extend(1.0f64.to_le_bytes());
                b
            };
            rec(&mut ws, 0x0809, &bof);
            rec(&mut ws, 0x000A, &[]);
            rec(&mut ws, 0x0809, &[0x00, 0x06, 0x10, 0x00, 0, 0, 0, 0]);
            rec(&mut ws, 0x0203, &number(0, 0));
            rec(&mut ws, 0x0203, &number(65535, 255));
            rec(&mut ws, 0x000A, &[]);
        })
        .args(["validate", "far.xls", "-e", "customers"])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("spans rows 1–65536 and columns A–IV");
}

/// An ODS row of values repeated two million times would be expanded whole: refused
/// from its content, before calamine reads it.
#[test]
fn an_ods_with_a_row_repeated_millions_of_times_is_refused_before_loading() {
    let done = TestEnv::new()
        .build("rep.ods", |p| {
            let file = std::fs::File::create(p).unwrap();
            let mut zip = zip::ZipWriter::new(file);
            let stored = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            zip.start_file("mimetype", stored).unwrap();
            zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
                .unwrap();
            zip.start_file("content.xml", stored).unwrap();
            zip.write_all(
                br#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Customers">
<table:table-row><table:table-cell office:value-type="string"><text:p>Nama</text:p></table:table-cell></table:table-row>
<table:table-row table:number-rows-repeated="2000000"><table:table-cell office:value-type="string" table:number-columns-repeated="4"><text:p>Toko</text:p></table:table-cell></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>"#,
            )
            .unwrap();
            zip.finish().unwrap();
        })
        .args(["validate", "rep.ods", "-e", "customers"])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("more than the 4000000");
}
