//! Validation defects reported from the field, each shown end to end with the real binary:
//! clearing coordinates, product units without a ratio, numbers formatted with leading
//! zeros, summaries that keep the kind of error, messages that name sheet and cell,
//! numbers Excel has mangled, non-workbooks named `.xlsx`, and date separators.

use std::collections::HashMap;

use crate::common::{self, TestEnv, records, sheet};
use rust_xlsxwriter::Format;
use serde_json::Value;

fn payload(row: &HashMap<String, String>) -> Value {
    serde_json::from_str(&row["_payload"]).expect("payload is JSON")
}

/// The Summary sheet's rows as (first, second) cell pairs.
fn summary(path: &std::path::Path) -> Vec<(String, String)> {
    sheet(path, "Summary")
        .into_iter()
        .map(|r| {
            let mut it = r.into_iter();
            (it.next().unwrap_or_default(), it.next().unwrap_or_default())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// #CLEAR on separate coordinate columns
// ---------------------------------------------------------------------------------------

#[test]
fn clear_in_both_coordinate_columns_clears_the_location() {
    let csv = "Kode Pelanggan,Nama,Lintang,Bujur\n\
               C1,Toko A,#CLEAR,#CLEAR\n\
               C2,Toko B,#CLEAR,110.47\n";
    let done = TestEnv::new()
        .file("c.csv", csv)
        .args(["validate", "c.csv", "-e", "customers", "--mode", "update"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows[0]["_status"], "VALID", "{}", rows[0]["_error"]);
    let p = payload(&rows[0]);
    assert_eq!(p["location"], Value::Null, "{p}");
    assert!(
        p.as_object().unwrap().contains_key("location"),
        "the location is sent, as null: {p}"
    );
    // Half a location cannot be cleared: the row says which column to fix.
    assert_eq!(rows[1]["_status"], "INVALID");
    let err = &rows[1]["_error"];
    assert!(
        err.contains("Lintang (C3): is cleared while Bujur (D3) is given"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Product units: only the base unit may leave its ratio empty
// ---------------------------------------------------------------------------------------

fn products_xlsx(path: &std::path::Path, rows: &[[&str; 8]]) {
    common::xlsx(path, "Products", |ws| {
        let head = [
            "Nama", "Qty", "Satuan", "Harga", "Isi", "Satuan 2", "Harga 2", "Isi 2",
        ];
        for (c, h) in head.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
                }
            }
        }
    });
}

#[test]
fn a_second_unit_without_ratio_is_invalid_and_names_its_cell() {
    let done = TestEnv::new()
        .build("p.xlsx", |p| {
            products_xlsx(
                p,
                &[
                    ["Teh", "10", "PCS", "5000", "1", "BOX", "57000", ""],
                    ["Kopi", "5", "PCS", "3000", "", "KRAT", "70000", "24"],
                    ["Gula", "5", "PCS", "3000", "", "KARUNG", "90000", ""],
                ],
            )
        })
        .args(["validate", "p.xlsx", "-e", "products"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("p.result.xlsx"), "Results");
    assert_eq!(rows[0]["_status"], "INVALID", "{}", rows[0]["_payload"]);
    let err = &rows[0]["_error"];
    assert!(err.starts_with("Isi 2 (Products!H2): is empty"), "{err}");
    // The base unit may leave its ratio empty: it is 1.
    assert_eq!(rows[1]["_status"], "VALID", "{}", rows[1]["_error"]);
    let units = &payload(&rows[1])["product_units"];
    assert_eq!(units[0]["ratio"], 1, "{units}");
    assert_eq!(units[1]["ratio"], 24, "{units}");
    // Two units without a ratio: neither is known to be the base.
    assert_eq!(rows[2]["_status"], "INVALID");
    let err = &rows[2]["_error"];
    assert!(err.contains("Isi (Products!E4)"), "{err}");
    assert!(err.contains("Isi 2 (Products!H4)"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Number formats that show leading zeros
// ---------------------------------------------------------------------------------------

#[test]
fn zero_padding_number_formats_keep_their_leading_zeros() {
    let done = TestEnv::new()
        .build("c.xlsx", |p| {
            common::xlsx(p, "Customers", |ws| {
                for (c, h) in ["Nama", "Kode Pelanggan", "No HP"].iter().enumerate() {
                    ws.write_string(0, c as u16, *h).unwrap();
                }
                let five = Format::new().set_num_format("00000");
                let twelve = Format::new().set_num_format("000000000000");
                ws.write_string(1, 0, "Toko A").unwrap();
                ws.write_number_with_format(1, 1, 123.0, &five).unwrap();
                ws.write_number_with_format(1, 2, 81234567890.0, &twelve)
                    .unwrap();
                // An invalid row (no name) goes to the Failed sheet, format and all.
                ws.write_number_with_format(2, 1, 7.0, &five).unwrap();
            })
        })
        .args(["validate", "c.xlsx", "-e", "customers"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    let p = payload(&rows[0]);
    assert_eq!(p["ext_cust_no"], "00123", "{p}");
    assert_eq!(p["phone"], "081234567890", "{p}");
    // What the sheet showed is exactly what is sent: nothing to warn about.
    assert_eq!(rows[0]["_error"], "", "{:?}", rows[0]);
    // The Failed sheet, validated again, still reads 00007.
    let again = TestEnv::new()
        .file(
            "failed.xlsx",
            std::fs::read(done.path("c.result.xlsx")).unwrap(),
        )
        .args([
            "validate",
            "failed.xlsx",
            "-e",
            "customers",
            "--sheet",
            "Failed",
        ])
        .run();
    again.expect_code(1);
    let rows = records(&again.path("failed.result.xlsx"), "Results");
    assert_eq!(payload(&rows[0])["ext_cust_no"], "00007", "{:?}", rows[0]);
}

// ---------------------------------------------------------------------------------------
// Summaries keep the kind of error
// ---------------------------------------------------------------------------------------

#[test]
fn import_summary_groups_by_kind_of_error_and_duplicates_into_one_line() {
    let csv = "Kode Pelanggan,Nama,No HP\n\
               C1,Toko A,0812-34AB-7890\n\
               C1,Toko B,0812-12XY-0000\n\
               C1,Toko C,081234567890\n";
    let done = TestEnv::new()
        .file("c.csv", csv)
        .args([
            "import",
            "c.csv",
            "-e",
            "customers",
            "--dry-run",
            "--sandbox",
        ])
        .run();
    done.expect_code(1);
    let kinds: Vec<&str> = done
        .stderr
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(" row"))
        .collect();
    assert!(
        kinds.contains(&"  3 rows: Kode Pelanggan: is duplicated in the file"),
        "{}",
        done.stderr
    );
    assert!(
        kinds.contains(&"  2 rows: No HP: is not a phone number"),
        "{}",
        done.stderr
    );
    let sum = summary(&done.path("c.result.xlsx"));
    assert!(
        sum.contains(&(
            "3".into(),
            "Kode Pelanggan: is duplicated in the file".into()
        )),
        "{sum:?}"
    );
}

#[test]
fn error_kind_takes_out_cells_values_and_row_lists() {
    use sheetload::validate::error_kind;
    assert_eq!(
        error_kind("No HP (Customers!B6): '0812-34AB-7890' is not a phone number"),
        "No HP: is not a phone number"
    );
    assert_eq!(
        error_kind(
            "Kode Pelanggan (E10): 'C1' is duplicated in the file: it also appears in rows 4, 6; keep one row per Kode Pelanggan"
        ),
        error_kind(
            "Kode Pelanggan (E15): 'C7' is duplicated in the file: it also appears in row 3; keep one row per Kode Pelanggan"
        )
    );
}

// ---------------------------------------------------------------------------------------
// Messages name sheet, cell and the user's header
// ---------------------------------------------------------------------------------------

#[test]
fn messages_name_the_sheet_the_cell_and_the_header() {
    let done = TestEnv::new()
        .build("c.xlsx", |p| {
            common::xlsx(p, "Customers", |ws| {
                let head = [
                    "Nama",
                    "Kode Pelanggan",
                    "Kota",
                    "No HP",
                    "Lintang",
                    "Bujur",
                ];
                for (c, h) in head.iter().enumerate() {
                    ws.write_string(0, c as u16, *h).unwrap();
                }
                ws.write_string(1, 0, "Toko A").unwrap();
                ws.write_string(1, 1, "C1").unwrap();
                ws.write_string(1, 3, "0812-ABC").unwrap();
                ws.write_number(1, 4, -7.11).unwrap();
                ws.write_string(2, 0, "Toko B").unwrap();
                ws.write_string(2, 1, "C1").unwrap();
            })
        })
        .args(["validate", "c.xlsx", "-e", "customers"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    let err = &rows[0]["_error"];
    assert!(err.contains("No HP (Customers!D2): '0812-ABC'"), "{err}");
    assert!(
        err.contains("Bujur (Customers!F2): is empty while Lintang (Customers!E2) is given"),
        "{err}"
    );
    assert!(
        err.contains("Kode Pelanggan (Customers!B2): 'C1' is duplicated"),
        "{err}"
    );
    // A CSV has one unnamed sheet: the cell alone.
    let done = TestEnv::new()
        .file("c.csv", "Nama,Lintang,Bujur\nToko A,-7.11,\n")
        .args(["validate", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert!(
        rows[0]["_error"].contains("Bujur (C2): is empty while Lintang (B2) is given"),
        "{}",
        rows[0]["_error"]
    );
}

#[test]
fn unresolved_references_name_the_sheet_and_cell() {
    let done = TestEnv::new()
        .build("v.xlsx", |p| {
            common::xlsx(p, "Visits", |ws| {
                for (c, h) in ["Tanggal", "Kode Pelanggan"].iter().enumerate() {
                    ws.write_string(0, c as u16, *h).unwrap();
                }
                ws.write_string(1, 0, "2026-12-01").unwrap();
                ws.write_string(1, 1, "NOPE-404").unwrap();
            })
        })
        .args(["import", "v.xlsx", "-e", "visits", "--dry-run", "--sandbox"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("v.result.xlsx"), "Results");
    assert_eq!(rows[0]["_status"], "INVALID");
    assert!(
        rows[0]["_error"].starts_with("Kode Pelanggan (Visits!B2): no customer"),
        "{}",
        rows[0]["_error"]
    );
}

// ---------------------------------------------------------------------------------------
// Numbers Excel already mangled
// ---------------------------------------------------------------------------------------

#[test]
fn codes_and_phones_stored_as_numbers_are_warned_about() {
    let done = TestEnv::new()
        .build("c.xlsx", |p| {
            common::xlsx(p, "Customers", |ws| {
                for (c, h) in ["Nama", "Kode Pelanggan", "No HP"].iter().enumerate() {
                    ws.write_string(0, c as u16, *h).unwrap();
                }
                ws.write_string(1, 0, "Toko A").unwrap();
                ws.write_string(1, 1, "00123").unwrap();
                ws.write_string(1, 2, "081234567890").unwrap();
                ws.write_string(2, 0, "Toko B").unwrap();
                ws.write_number(2, 1, 124.0).unwrap();
                ws.write_number(2, 2, 81234567890.0).unwrap();
            })
        })
        .args(["validate", "c.xlsx", "-e", "customers"])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows[0]["_error"], "", "text cells are not warned about");
    assert_eq!(rows[1]["_status"], "VALID");
    let err = &rows[1]["_error"];
    assert!(
        err.contains("warning: Kode Pelanggan (Customers!B3): '124' is a number cell"),
        "{err}"
    );
    assert!(
        err.contains("warning: No HP (Customers!C3): '81234567890' is a number cell"),
        "{err}"
    );
    done.stderr_has("1 row: warning: No HP: is a number cell");
    let sum = summary(&done.path("c.result.xlsx"));
    assert!(
        sum.contains(&("Rows".into(), "Kind of warning".into())),
        "{sum:?}"
    );
    assert!(
        sum.iter()
            .any(|(n, k)| n == "1" && k.starts_with("warning: Kode Pelanggan: is a number cell")),
        "{sum:?}"
    );
    // A CSV holds text only: the same values are not warned about.
    let done = TestEnv::new()
        .file(
            "c.csv",
            "Nama,Kode Pelanggan,No HP\nToko B,124,81234567890\n",
        )
        .args(["validate", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows[0]["_error"], "");
}

#[test]
fn barcodes_stored_as_numbers_are_warned_about() {
    let done = TestEnv::new()
        .build("p.xlsx", |p| {
            common::xlsx(p, "Products", |ws| {
                for (c, h) in ["Nama", "Qty", "Barcode", "Satuan"].iter().enumerate() {
                    ws.write_string(0, c as u16, *h).unwrap();
                }
                ws.write_string(1, 0, "Teh").unwrap();
                ws.write_number(1, 1, 10.0).unwrap();
                ws.write_number(1, 2, 12345678905.0).unwrap();
                ws.write_string(1, 3, "PCS").unwrap();
            })
        })
        .args(["validate", "p.xlsx", "-e", "products"])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("p.result.xlsx"), "Results");
    assert!(
        rows[0]["_error"]
            .contains("warning: Barcode (Products!C2): '12345678905' is a number cell"),
        "{}",
        rows[0]["_error"]
    );
}

#[test]
fn phones_stored_as_fractions_or_negative_numbers_are_invalid() {
    let done = TestEnv::new()
        .build("c.xlsx", |p| {
            common::xlsx(p, "Customers", |ws| {
                for (c, h) in ["Nama", "No HP"].iter().enumerate() {
                    ws.write_string(0, c as u16, *h).unwrap();
                }
                ws.write_string(1, 0, "Toko A").unwrap();
                ws.write_number(1, 1, 81234567.5).unwrap();
                ws.write_string(2, 0, "Toko B").unwrap();
                ws.write_number(2, 1, -81234567.0).unwrap();
            })
        })
        .args(["validate", "c.xlsx", "-e", "customers"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows[0]["_status"], "INVALID", "{}", rows[0]["_payload"]);
    assert!(
        rows[0]["_error"].starts_with("No HP (Customers!B2): is a number with decimals"),
        "{}",
        rows[0]["_error"]
    );
    assert_eq!(rows[1]["_status"], "INVALID", "{}", rows[1]["_payload"]);
    assert!(
        rows[1]["_error"].starts_with("No HP (Customers!B3): is a negative number"),
        "{}",
        rows[1]["_error"]
    );
}

// ---------------------------------------------------------------------------------------
// Files named like workbooks that are not
// ---------------------------------------------------------------------------------------

#[test]
fn garbage_named_xlsx_is_not_a_workbook() {
    let garbage: &[u8] = b"\xde\xad\xbe\xef\xca\xfe\xba\xbe garbage \x93\x94\xfa\xfb\xfc";
    for name in ["x.xlsx", "x.xls", "x.ods"] {
        let done = TestEnv::new()
            .file(name, garbage)
            .args(["validate", name, "-e", "customers"])
            .run();
        done.expect_code(2).one_clear_error().stderr_has(&format!(
            "{name} is not a workbook (its bytes are neither XLSX/ZIP nor XLS nor ODS); save it from Excel again or give a CSV"
        ));
    }
    // A CSV saved with a workbook's name is still read for what it is.
    let done = TestEnv::new()
        .file("y.xlsx", "Nama,Kota\nToko A,Semarang\n")
        .args(["validate", "y.xlsx", "-e", "customers"])
        .run();
    done.expect_code(0);
}

// ---------------------------------------------------------------------------------------
// Dates and --date-format
// ---------------------------------------------------------------------------------------

#[test]
fn a_declared_date_format_reads_dates_written_with_another_separator() {
    let visits = "Tanggal,Kode Pelanggan\n14-12-2026,C1\n03.04.2026,C2\n";
    // Without --date-format, 14-12-2026 can only be 14 December.
    let done = TestEnv::new()
        .file("v.csv", visits)
        .args(["validate", "v.csv", "-e", "visits"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("v.result.xlsx"), "Results");
    assert_eq!(payload(&rows[0])["date"], "2026-12-14");
    assert_eq!(rows[1]["_status"], "INVALID", "03.04.2026 is ambiguous");
    // With it, the format decides, whichever separator the cell uses.
    for fmt in ["%d/%m/%Y", "%d-%m-%Y"] {
        let done = TestEnv::new()
            .file("v.csv", visits)
            .args(["validate", "v.csv", "-e", "visits", "--date-format", fmt])
            .run();
        done.expect_code(0);
        let rows = records(&done.path("v.result.xlsx"), "Results");
        assert_eq!(payload(&rows[0])["date"], "2026-12-14", "{fmt}");
        assert_eq!(payload(&rows[1])["date"], "2026-04-03", "{fmt}");
    }
    // A value the format cannot read stays invalid: the format is not second-guessed.
    let done = TestEnv::new()
        .file("v.csv", "Tanggal,Kode Pelanggan\n12-14-2026,C1\n")
        .args([
            "validate",
            "v.csv",
            "-e",
            "visits",
            "--date-format",
            "%d/%m/%Y",
        ])
        .run();
    done.expect_code(1);
}
