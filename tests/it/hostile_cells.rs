//! Hostile and odd cells (issue 18, the cell-level points), each generated here and run
//! through the real binary: control characters, formulas never calculated, Excel's newer
//! error values, date serials that are times or negative, a date column mixing day-first
//! and month-first orders, and a 5 MB cell. Every input ends quickly with a row-level
//! reason (exit 1) and no row disappears from the count.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{self, Ran, TestEnv, records};

/// What a generated input may take, in a debug build, at most.
const TIME_LIMIT: Duration = Duration::from_secs(5);

/// Run `validate FILE -e ENTITY` on a prepared run, checking the time limit.
fn validate(run: TestEnv, file: &str, entity: &str) -> Ran {
    let start = Instant::now();
    let out = run.args(["validate", file, "-e", entity]).run();
    assert!(
        start.elapsed() < TIME_LIMIT,
        "{file} took {:?}",
        start.elapsed()
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out
}

/// The Results rows of a run's result workbook.
fn results(done: &Ran, file: &str) -> Vec<HashMap<String, String>> {
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    records(&done.path(&format!("{stem}.result.xlsx")), "Results")
}

/// One cell of a hand-made sheet.
enum X<'a> {
    /// A text cell (an inline string).
    Str(&'a str),
    /// A number cell.
    Num(f64),
    /// An error cell, as Excel stores a formula's error result: `#SPILL!`.
    Error(&'a str),
    /// A formula with no cached value, as written by tools that do not calculate.
    Formula(&'a str),
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A worksheet's XML from rows of cells, every cell with its `r` reference.
fn sheet_xml(rows: &[Vec<X<'_>>]) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        let n = r + 1;
        xml.push_str(&format!(r#"<row r="{n}">"#));
        for (c, cell) in row.iter().enumerate() {
            let at = format!("{}{n}", char::from(b'A' + c as u8));
            xml.push_str(&match cell {
                X::Str(s) => format!(
                    r#"<c r="{at}" t="inlineStr"><is><t>{}</t></is></c>"#,
                    xml_escape(s)
                ),
                X::Num(v) => format!(r#"<c r="{at}"><v>{v}</v></c>"#),
                X::Error(code) => {
                    format!(r#"<c r="{at}" t="e"><f>A1/0</f><v>{code}</v></c>"#)
                }
                X::Formula(f) => format!(r#"<c r="{at}"><f>{}</f></c>"#, xml_escape(f)),
            });
        }
        xml.push_str("</row>");
    }
    xml.push_str("</sheetData></worksheet>");
    xml
}

/// An XLSX with one sheet "Customers" whose cells are exactly `rows`: a workbook made by
/// rust_xlsxwriter with its sheet XML replaced, for cells it cannot write.
fn raw_xlsx(path: &Path, rows: &[Vec<X<'_>>]) {
    common::xlsx(path, "Customers", |ws| {
        ws.write_string(0, 0, "placeholder").unwrap();
    });
    let mut original = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for i in 0..original.len() {
            let mut entry = original.by_index(i).unwrap();
            let name = entry.name().unwrap().to_string();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            if name == "xl/worksheets/sheet1.xml" {
                bytes = sheet_xml(rows).into_bytes();
            }
            z.start_file(name, opts).unwrap();
            z.write_all(&bytes).unwrap();
        }
        z.finish().unwrap();
    }
    std::fs::write(path, out.into_inner()).unwrap();
}

// ---------------------------------------------------------------------------------------
// Point 7: control characters
// ---------------------------------------------------------------------------------------

#[test]
fn control_characters_make_the_row_invalid_and_never_reach_the_terminal() {
    let csv = "Nama,Alamat,Tags\n\
               \"Toko \x1b[31mMerah\x1b[0m\",Jl. A,vip\n\
               Toko B\x07,Jl. B,vip\n\
               Toko C,Jl. C\x7f,vip\n\
               Toko D,Jl. D,vip\u{9b}2J\n\
               Toko E,\"Jl. E\nRT 01\tRW 02\",vip\n";
    let done = validate(TestEnv::new().file("c.csv", csv), "c.csv", "customers");
    done.expect_code(1);
    assert!(
        !done.stdout.contains('\x1b') && !done.stderr.contains('\x1b'),
        "an escape sequence reached the terminal: {:?}",
        done.stderr
    );
    let rows = results(&done, "c.csv");
    assert_eq!(rows.len(), 5);
    let expect = [
        ("Nama (A2)", "U+001B"),
        ("Nama (A3)", "U+0007"),
        ("Alamat (B4)", "U+007F"),
        ("Tags (C5)", "U+009B"),
    ];
    for (row, (place, code)) in rows.iter().zip(expect) {
        assert_eq!(row["_status"], "INVALID", "{row:?}");
        let err = &row["_error"];
        assert!(
            err.starts_with(&format!("{place}: holds the control character {code}")),
            "{err}"
        );
        assert!(err.contains("CLEAN"), "says how to remove it: {err}");
        assert!(!err.contains('\x1b') && !err.contains('\u{9b}'), "{err:?}");
    }
    // Line breaks and tabs inside a cell are text, not control characters to refuse.
    assert_eq!(rows[4]["_status"], "VALID", "{}", rows[4]["_error"]);

    // A header holding one is still matched, and shown escaped wherever it is named.
    let csv = format!("Nama\x07,No HP\n{},081234567890\n", "x".repeat(300));
    let done = validate(TestEnv::new().file("h.csv", csv), "h.csv", "customers");
    done.expect_code(1);
    assert!(
        !done.stdout.contains('\x07') && !done.stderr.contains('\x07'),
        "{:?}",
        done.stderr
    );
    let rows = results(&done, "h.csv");
    assert!(
        rows[0]["_error"].starts_with("Nama\\u{7} (A2): is longer than the 255 characters"),
        "{}",
        rows[0]["_error"]
    );
}

// ---------------------------------------------------------------------------------------
// Point 8: formulas with no cached value
// ---------------------------------------------------------------------------------------

#[test]
fn a_formula_never_calculated_is_named_not_reported_as_empty() {
    let done = validate(
        TestEnv::new().build("c.xlsx", |p| {
            raw_xlsx(
                p,
                &[
                    vec![X::Str("Nama"), X::Str("No HP")],
                    vec![X::Formula("UPPER(\"toko a\")"), X::Str("081234567890")],
                    vec![X::Str("Toko B"), X::Formula("\"0812\"&\"34567890\"")],
                    // A row holding nothing but a formula is a row too, not a blank one.
                    vec![X::Str(""), X::Formula("B3")],
                    vec![X::Str("Toko D"), X::Str("081234567891")],
                ],
            )
        }),
        "c.xlsx",
        "customers",
    );
    done.expect_code(1);
    let rows = results(&done, "c.xlsx");
    assert_eq!(rows.len(), 4, "no row disappears: {rows:?}");
    for (row, place) in rows
        .iter()
        .zip(["Nama (Customers!A2)", "No HP (Customers!B3)"])
    {
        assert_eq!(row["_status"], "INVALID");
        let err = &row["_error"];
        assert!(
            err.starts_with(&format!(
                "{place}: holds a formula that was never calculated"
            )),
            "{err}"
        );
        assert!(err.contains("open the file in Excel and save it"), "{err}");
        assert!(!err.contains("empty") && !err.contains("required"), "{err}");
    }
    assert_eq!(rows[2]["_row"], "4");
    assert!(
        rows[2]["_error"]
            .contains("No HP (Customers!B4): holds a formula that was never calculated"),
        "{}",
        rows[2]["_error"]
    );
    assert_eq!(rows[3]["_status"], "VALID", "{}", rows[3]["_error"]);
}

// ---------------------------------------------------------------------------------------
// Point 12: Excel's newer error values
// ---------------------------------------------------------------------------------------

#[test]
fn newer_excel_error_values_are_row_errors_naming_the_cell() {
    let codes = [
        "#N/A",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BUSY!",
        "#CONNECT!",
        "#UNKNOWN!",
        "#EXTERNAL!",
        "#PYTHON!",
        "#GETTING_DATA",
        "#BLOCKED!",
    ];
    let names: Vec<String> = (0..codes.len()).map(|i| format!("Toko {i}")).collect();
    let mut rows = vec![vec![X::Str("Nama"), X::Str("No HP")]];
    for (name, code) in names.iter().zip(codes) {
        rows.push(vec![X::Str(name), X::Error(code)]);
    }
    rows.push(vec![X::Str("Toko Z"), X::Str("081234567890")]);
    let done = validate(
        TestEnv::new().build("c.xlsx", |p| raw_xlsx(p, &rows)),
        "c.xlsx",
        "customers",
    );
    done.expect_code(1);
    let got = results(&done, "c.xlsx");
    assert_eq!(got.len(), codes.len() + 1);
    for (i, (row, code)) in got.iter().zip(codes).enumerate() {
        assert_eq!(row["_status"], "INVALID", "{code}");
        let err = &row["_error"];
        let place = format!("No HP (Customers!B{})", i + 2);
        assert!(
            err.starts_with(&format!(
                "{place}: holds a formula error: the cell shows {code}"
            )),
            "{err}"
        );
    }
    assert_eq!(got[codes.len()]["_status"], "VALID");
}

// ---------------------------------------------------------------------------------------
// Point 9: dates
// ---------------------------------------------------------------------------------------

#[test]
fn date_serials_that_are_times_or_negative_are_refused() {
    let done = validate(
        TestEnv::new().build("v.xlsx", |p| {
            common::xlsx(p, "Visits", |ws| {
                let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
                ws.write_string(0, 0, "Tanggal").unwrap();
                ws.write_string(0, 1, "Kode Pelanggan").unwrap();
                for (r, serial) in [0.5, -1.0, 0.0, 45352.0, 45352.75].iter().enumerate() {
                    let r = r as u32 + 1;
                    ws.write_number_with_format(r, 0, *serial, &date).unwrap();
                    ws.write_string(r, 1, format!("C{r}")).unwrap();
                }
            })
        }),
        "v.xlsx",
        "visits",
    );
    done.expect_code(1);
    let rows = results(&done, "v.xlsx");
    assert_eq!(rows.len(), 5);
    let expect = [
        "Tanggal (Visits!A2): holds the time 12:00:00, not a date",
        "Tanggal (Visits!A3): holds the serial -1, not a date",
        "Tanggal (Visits!A4): holds the serial 0, not a date",
    ];
    for (row, start) in rows.iter().zip(expect) {
        assert_eq!(row["_status"], "INVALID", "{row:?}");
        assert!(row["_error"].starts_with(start), "{}", row["_error"]);
    }
    for row in &rows[3..] {
        assert_eq!(row["_status"], "VALID", "{}", row["_error"]);
        let payload: serde_json::Value = serde_json::from_str(&row["_payload"]).unwrap();
        assert_eq!(payload["date"], "2024-03-01", "{payload}");
    }
}

#[test]
fn a_date_column_mixing_day_first_and_month_first_is_refused() {
    let visits = "Tanggal,Kode Pelanggan\n\
                  13/04/2026,C1\n\
                  25/12/2026,C2\n\
                  04/13/2026,C3\n\
                  2026-04-14,C4\n\
                  14/04/2026,C5\n";
    let done = validate(TestEnv::new().file("v.csv", visits), "v.csv", "visits");
    done.expect_code(1);
    let rows = results(&done, "v.csv");
    assert_eq!(rows.len(), 5);
    let statuses: Vec<&str> = rows.iter().map(|r| r["_status"].as_str()).collect();
    assert_eq!(statuses, ["VALID", "VALID", "INVALID", "VALID", "VALID"]);
    let err = &rows[2]["_error"];
    assert!(
        err.starts_with(
            "Tanggal (A4): '04/13/2026' puts the month first, but rows 2, 3 and 6 of this column put the day first"
        ),
        "{err}"
    );
    assert!(
        err.contains("--date-format") && err.contains("YYYY-MM-DD"),
        "{err}"
    );

    // As many of each: neither order can be trusted, and both sides say so.
    let even = "Tanggal,Kode Pelanggan\n13/04/2026,C1\n04/13/2026,C2\n";
    let done = validate(TestEnv::new().file("v.csv", even), "v.csv", "visits");
    done.expect_code(1);
    let rows = results(&done, "v.csv");
    assert!(
        rows[0]["_error"].starts_with("Tanggal (A2): '13/04/2026' puts the day first, but row 3 of this column puts the month first"),
        "{}",
        rows[0]["_error"]
    );
    assert!(
        rows[1]["_error"].starts_with("Tanggal (A3): '04/13/2026' puts the month first, but row 2 of this column puts the day first"),
        "{}",
        rows[1]["_error"]
    );

    // A declared format settles the order: the month-first date is then simply not real.
    let done = TestEnv::new()
        .file("v.csv", visits)
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
    let rows = results(&done, "v.csv");
    assert!(
        rows[2]["_error"].starts_with("Tanggal (A4): '04/13/2026' is not a real date"),
        "{}",
        rows[2]["_error"]
    );
}

// ---------------------------------------------------------------------------------------
// Point 13: a 5 MB cell
// ---------------------------------------------------------------------------------------

const HUGE: usize = 5 * 1024 * 1024;

fn check_huge_cell_rows(done: &Ran, file: &str, place: &str) {
    done.expect_code(1);
    let rows = results(done, file);
    assert_eq!(rows.len(), 3, "no row disappears");
    assert_eq!(rows[0]["_status"], "VALID", "{}", rows[0]["_error"]);
    assert_eq!(rows[1]["_status"], "INVALID");
    let err = &rows[1]["_error"];
    assert!(
        err.starts_with(&format!(
            "{place}: holds 5242880 characters; a spreadsheet cell holds at most 32767"
        )),
        "{}",
        err.chars().take(300).collect::<String>()
    );
    assert!(err.len() < 1000, "the value is not echoed whole");
    assert_eq!(rows[2]["_status"], "VALID", "the run goes on");
}

#[test]
fn a_5mb_cell_makes_its_row_invalid_and_the_run_goes_on() {
    let csv = format!(
        "Nama,Alamat\nToko A,Jl. A\nToko B,{}\nToko C,Jl. C\n",
        "x".repeat(HUGE)
    );
    let done = validate(TestEnv::new().file("c.csv", csv), "c.csv", "customers");
    check_huge_cell_rows(&done, "c.csv", "Alamat (B3)");

    let huge = "y".repeat(HUGE);
    let done = validate(
        TestEnv::new().build("c.xlsx", |p| {
            raw_xlsx(
                p,
                &[
                    vec![X::Str("Nama"), X::Str("Alamat")],
                    vec![X::Str("Toko A"), X::Str("Jl. A")],
                    vec![X::Str("Toko B"), X::Str(&huge)],
                    vec![X::Str("Toko C"), X::Num(12.0)],
                ],
            )
        }),
        "c.xlsx",
        "customers",
    );
    check_huge_cell_rows(&done, "c.xlsx", "Alamat (Customers!B3)");
}
