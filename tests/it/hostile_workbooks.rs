//! The workbook half of the hostile-and-odd-files corpus, every file generated here:
//! zip bombs with honest sizes, a lying shared-string count, a sheet whose two cells sit
//! far apart, hidden sheets, duplicate zip entries, a pasted blob as a header, web pages
//! and XML spreadsheets named `.xls`, an encrypted workbook, a sheet 16,384 columns wide.
//!
//! Every run is measured: it must end in under 5 s with a peak RSS under 300 MB (the
//! child is killed past that), with one sentence and exit 2 or with rows reported.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{self, Ran, TestEnv, records};

/// Peak RSS past which a run is killed and fails.
const MAX_PEAK_MB: u64 = 300;
/// Wall time past which a run is killed and fails (a debug build).
const MAX_SECONDS: f64 = 5.0;

/// A finished, measured run.
struct Measured {
    done: Ran,
    seconds: f64,
    peak_mb: u64,
}

/// Run `sheetload args…` in `run`'s dir, polling its `VmHWM`; kill it past the bounds.
fn measure(run: TestEnv, args: &[&str]) -> Measured {
    let started = Instant::now();
    let mut child = run
        .command()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn sheetload");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let mut killed = None;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            for l in s.lines() {
                if let Some(v) = l.strip_prefix("VmHWM:") {
                    let kb: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    peak_kb = peak_kb.max(kb);
                }
            }
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        let over_memory = peak_kb / 1024 > MAX_PEAK_MB;
        let over_time = started.elapsed().as_secs_f64() > MAX_SECONDS * 4.0;
        if killed.is_none() && (over_memory || over_time) {
            killed = Some(if over_memory { "memory" } else { "time" });
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let seconds = started.elapsed().as_secs_f64();
    let out = child.wait_with_output().expect("sheetload output");
    let done = run.finish(out);
    assert!(
        killed.is_none(),
        "killed for {} after {seconds:.1} s at {} MB: {args:?}\n{}",
        killed.unwrap_or_default(),
        peak_kb / 1024,
        done.stderr
    );
    eprintln!(
        "{args:?}: {seconds:.2} s, peak {} MB, exit {}",
        peak_kb / 1024,
        done.code
    );
    Measured {
        done,
        seconds,
        peak_mb: peak_kb / 1024,
    }
}

impl Measured {
    /// Within the Done-when bounds.
    fn bounded(&self) -> &Ran {
        assert!(self.seconds < MAX_SECONDS, "took {:.1} s", self.seconds);
        assert!(self.peak_mb < MAX_PEAK_MB, "peak {} MB", self.peak_mb);
        &self.done
    }
}

/// `validate FILE -e customers [extra…]` on `file`, written by `build` in a fresh dir.
fn validate(file: &str, build: impl FnOnce(&Path), extra: &[&str]) -> Measured {
    let run = TestEnv::new().build(file, build);
    let mut args = vec!["validate", file, "-e", "customers"];
    args.extend_from_slice(extra);
    measure(run, &args)
}

/// Write a zip of `(name, bytes)` entries, deflated fast.
fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let file = std::fs::File::create(path).expect("create zip");
    let mut z = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    for (name, bytes) in entries {
        z.start_file(*name, opts).expect("zip entry");
        z.write_all(bytes).expect("zip write");
    }
    z.finish().expect("zip finish");
}

/// The parts around a worksheet and a shared-string table: a minimal, valid XLSX.
fn xlsx_parts(sheet_xml: &[u8], strings_xml: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let ct = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
    let rels = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let wb = br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Customers" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let wbrels = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
    vec![
        ("[Content_Types].xml", ct.to_vec()),
        ("_rels/.rels", rels.to_vec()),
        ("xl/workbook.xml", wb.to_vec()),
        ("xl/_rels/workbook.xml.rels", wbrels.to_vec()),
        ("xl/sharedStrings.xml", strings_xml.to_vec()),
        ("xl/worksheets/sheet1.xml", sheet_xml.to_vec()),
    ]
}

fn write_xlsx(path: &Path, sheet_xml: &[u8], strings_xml: &[u8]) {
    let parts = xlsx_parts(sheet_xml, strings_xml);
    let entries: Vec<(&str, &[u8])> = parts.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    write_zip(path, &entries);
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;
/// The header row `ext_cust_no | name`, from shared strings 0 and 1.
const HEADER_ROW: &str =
    r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>"#;
const STRINGS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>ext_cust_no</t></si><si><t>name</t></si><si><t>Toko</t></si></sst>"#;

/// A sheet of `rows` data rows all sharing one key, with or without a `<dimension>`.
fn many_rows_sheet(rows: u32, dimension: bool) -> Vec<u8> {
    let mut xml = String::with_capacity(rows as usize * 64 + 512);
    xml.push_str(SHEET_HEAD);
    if dimension {
        xml.push_str(&format!(r#"<dimension ref="A1:B{}"/>"#, rows + 1));
    }
    xml.push_str("<sheetData>");
    xml.push_str(HEADER_ROW);
    for r in 2..rows + 2 {
        xml.push_str(&format!(
            r#"<row r="{r}"><c r="A{r}"><v>7</v></c><c r="B{r}" t="s"><v>2</v></c></row>"#
        ));
    }
    xml.push_str("</sheetData></worksheet>");
    xml.into_bytes()
}

/// A sheet with a header and two rows, the second of which holds `cell` in column B.
fn small_sheet(cell: &str) -> Vec<u8> {
    format!(
        r#"{SHEET_HEAD}<sheetData>{HEADER_ROW}<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row><row r="3"><c r="A3"><v>2</v></c>{cell}</row></sheetData></worksheet>"#
    )
    .into_bytes()
}

/// Two million rows sharing one key, with an honest `<dimension>`: refused from the
/// sheet's first bytes, before its rows are inflated.
#[test]
fn millions_of_rows_with_an_honest_dimension_are_refused_at_once() {
    let sheet = many_rows_sheet(2_000_000, true);
    let m = validate("bomb.xlsx", |p| write_xlsx(p, &sheet, STRINGS), &[]);
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("more than 1048605 rows")
        .stderr_has("--max-rows");
    assert!(m.seconds < 2.0, "took {:.1} s", m.seconds);
}

/// The same bomb without a `<dimension>`: its rows are counted while streaming, nothing
/// kept, and the run stops at the limit.
#[test]
fn millions_of_rows_without_a_dimension_stop_at_the_row_limit() {
    let sheet = many_rows_sheet(2_000_000, false);
    let m = validate("bomb.xlsx", |p| write_xlsx(p, &sheet, STRINGS), &[]);
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("more than 1048605 rows");
}

/// `--max-rows` lowers the limit: 5,000 rows against `--max-rows 1000`.
#[test]
fn max_rows_refuses_a_longer_sheet_and_names_the_flag() {
    let sheet = many_rows_sheet(5_000, true);
    let m = validate(
        "long.xlsx",
        |p| write_xlsx(p, &sheet, STRINGS),
        &["--max-rows", "1000"],
    );
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("sheet \"Customers\" of long.xlsx has more than 1000 data rows")
        .stderr_has("raise the limit with --max-rows N");
    let m = validate(
        "long.xlsx",
        |p| write_xlsx(p, &sheet, STRINGS),
        &["--max-rows", "5000"],
    );
    // Every row shares one key: all duplicates, all reported.
    m.bounded()
        .expect_code(1)
        .stderr_has("5,000 rows: 0 valid, 5,000 invalid");
}

/// A shared-string table past what is held in memory, with honest sizes: refused from
/// the zip's directory, before a byte of it is inflated.
#[test]
fn a_giant_shared_string_table_is_refused_before_inflating() {
    let mut strings = br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>ext_cust_no</t></si><si><t>name</t></si><si><t>"#.to_vec();
    strings.resize(strings.len() + (100 << 20), b'x');
    strings.extend_from_slice(b"</t></si></sst>");
    let sheet = small_sheet("");
    let m = validate("sst.xlsx", |p| write_xlsx(p, &sheet, &strings), &[]);
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("would unpack its part xl/sharedStrings.xml to 101 MB or more")
        .stderr_has("zip bomb");
}

/// One 20 MB shared string (within the table's size limit): refused while the part is
/// streamed through a counter, never held.
#[test]
fn one_giant_shared_string_is_refused_while_streaming() {
    let mut strings = br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>ext_cust_no</t></si><si><t>name</t></si><si><t>"#.to_vec();
    strings.resize(strings.len() + (20 << 20), b'x');
    strings.extend_from_slice(b"</t></si></sst>");
    let sheet = small_sheet("");
    let m = validate("sst.xlsx", |p| write_xlsx(p, &sheet, &strings), &[]);
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("one text or tag longer than 16 MB");
}

/// The same as an inline string in the sheet itself.
#[test]
fn one_giant_inline_string_is_refused_while_streaming() {
    let cell = format!(
        r#"<c r="B3" t="inlineStr"><is><t>{}</t></is></c>"#,
        "y".repeat(20 << 20)
    );
    let sheet = small_sheet(&cell);
    let m = validate("inline.xlsx", |p| write_xlsx(p, &sheet, STRINGS), &[]);
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("xl/worksheets/sheet1.xml")
        .stderr_has("one text or tag longer than 16 MB");
}

/// A tiny file declaring four billion shared strings, for which calamine would reserve
/// room up front.
#[test]
fn a_lying_shared_string_count_is_refused() {
    let strings = br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000"><si><t>ext_cust_no</t></si><si><t>name</t></si><si><t>Toko</t></si></sst>"#;
    let sheet = small_sheet("");
    let m = validate("count.xlsx", |p| write_xlsx(p, &sheet, strings), &[]);
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("count.xlsx declares 4000000000 shared strings, more than the 2000000");
}

/// More shared strings than are held in memory, each tiny: counted while streaming.
#[test]
fn too_many_shared_strings_are_refused_while_streaming() {
    let mut strings = br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>ext_cust_no</t></si><si><t>name</t></si>"#.to_vec();
    for _ in 0..2_000_000 {
        strings.extend_from_slice(b"<si><t>a</t></si>");
    }
    strings.extend_from_slice(b"</sst>");
    let sheet = small_sheet("");
    let m = validate("many.xlsx", |p| write_xlsx(p, &sheet, &strings), &[]);
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("many.xlsx holds more than 2000000 shared strings");
}

/// Two data rows, then one stray value at row 200,000, column 600: a range would be
/// 120 million cells; streamed, it costs nothing, and the two rows are read.
#[test]
fn far_apart_cells_cost_no_memory() {
    let sheet = small_sheet(r#"<c r="B3" t="s"><v>2</v></c>"#);
    let text = String::from_utf8(sheet).unwrap().replace(
        "</sheetData>",
        r#"<row r="200000"><c r="WB200000"><v>1</v></c></row></sheetData>"#,
    );
    let m = validate(
        "sparse.xlsx",
        |p| write_xlsx(p, text.as_bytes(), STRINGS),
        &[],
    );
    let dir = m.done.dir();
    // The far cell is past the last header: its row is counted and warned about, not
    // dropped without a word (it has no name, so it is INVALID).
    m.bounded()
        .expect_code(1)
        .stderr_has("3 rows: 2 valid, 1 invalid")
        .stderr_has("holds data under an empty header");
    let rows = records(&dir.join("sparse.result.xlsx"), "Results");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["ext_cust_no"], "2");
    assert!(
        rows[2]["_error"].contains("WB200000"),
        "{}",
        rows[2]["_error"]
    );
}

/// A streamed sheet keeps what the range gave: title rows above the header, blank rows
/// skipped, dates, formula cached values, error cells, zero-padded number formats.
#[test]
fn streamed_sheets_keep_every_cell_semantic() {
    let m = validate(
        "customers.xlsx",
        |p| {
            let mut book = rust_xlsxwriter::Workbook::new();
            let ws = book.add_worksheet();
            ws.set_name("Customers").unwrap();
            let padded = rust_xlsxwriter::Format::new().set_num_format("00000");
            let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
            ws.write_string(0, 1, "Daftar Pelanggan").unwrap();
            for (c, h) in ["Kode Pelanggan", "Nama", "No HP", "Tanggal"]
                .iter()
                .enumerate()
            {
                ws.write_string(2, c as u16 + 1, *h).unwrap();
            }
            ws.write_number_with_format(3, 1, 123.0, &padded).unwrap();
            ws.write_string(3, 2, "Toko İstanbul").unwrap();
            ws.write_string(3, 3, "081234567890").unwrap();
            let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 4, 13).unwrap();
            ws.write_datetime_with_format(3, 4, &d, &date).unwrap();
            // row 5 blank; row 6 a formula with its cached value, row 7 an error.
            ws.write_string(5, 1, "C2").unwrap();
            ws.write_formula(
                5,
                2,
                rust_xlsxwriter::Formula::new("=\"Toko\"&\" B\"").set_result("Toko B"),
            )
            .unwrap();
            ws.write_string(6, 1, "C3").unwrap();
            ws.write_string(6, 2, "Toko C").unwrap();
            ws.write_formula(
                6,
                3,
                rust_xlsxwriter::Formula::new("=NA()").set_result("#N/A"),
            )
            .unwrap();
            book.save(p).unwrap();
        },
        &[],
    );
    let dir = m.done.dir();
    let done = m.bounded();
    done.expect_code(1).stderr_has("3 rows: 2 valid, 1 invalid");
    let rows = records(&dir.join("customers.result.xlsx"), "Results");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(
        rows[0]["_row"], "4",
        "the header was found under the title row"
    );
    assert!(
        rows[0]["_payload"].contains(r#""ext_cust_no":"00123""#),
        "the zero-padding format gives the code as shown: {:?}",
        rows[0]
    );
    assert_eq!(rows[0]["Nama"], "Toko İstanbul");
    assert_eq!(rows[0]["No HP"], "081234567890");
    assert_eq!(rows[0]["Tanggal"], "2026-04-13");
    assert_eq!(rows[1]["_row"], "6", "blank row 5 skipped");
    assert_eq!(rows[1]["Nama"], "Toko B");
    assert_eq!(rows[2]["_status"], "INVALID");
    assert!(rows[2]["_error"].contains("Customers!D7"), "{:?}", rows[2]);
}

/// The hidden first sheet ("Lama", 3 old rows) is skipped for the visible one (12 rows),
/// with a note; `--sheet Lama` reads it, saying it is hidden.
#[test]
fn hidden_sheets_are_skipped_unless_named() {
    let build = |p: &Path| {
        let mut book = rust_xlsxwriter::Workbook::new();
        for (name, rows, hide) in [("Lama", 3u32, 1), ("Customers", 12, 0), ("Rahasia", 5, 2)] {
            let ws = book.add_worksheet();
            ws.set_name(name).unwrap();
            ws.write_string(0, 0, "ext_cust_no").unwrap();
            ws.write_string(0, 1, "name").unwrap();
            for r in 1..=rows {
                ws.write_string(r, 0, format!("{name}-{r}")).unwrap();
                ws.write_string(r, 1, format!("Toko {r}")).unwrap();
            }
            match hide {
                0 => {
                    ws.set_active(true);
                }
                1 => {
                    ws.set_hidden(true);
                }
                2 => {
                    ws.set_very_hidden(true);
                }
                _ => {}
            }
        }
        book.save(p).unwrap();
        assert_eq!(common::sheet_names(p)[0], "Lama");
    };
    let m = validate("book.xlsx", build, &[]);
    m.bounded()
        .expect_code(0)
        .stderr_has("12 rows: 12 valid")
        .stderr_has("skipped 2 hidden sheets (\"Lama\", \"Rahasia\")")
        .stderr_has("--sheet");
    let m = validate("book.xlsx", build, &["--sheet", "Lama"]);
    m.bounded()
        .expect_code(0)
        .stderr_has("3 rows: 3 valid")
        .stderr_has(
            "sheet \"Lama\" is hidden in the workbook; reading it because --sheet names it",
        );
}

/// A workbook whose only data is in a hidden sheet says so instead of "no data".
#[test]
fn data_only_in_a_hidden_sheet_is_explained() {
    let m = validate(
        "book.xlsx",
        |p| {
            let mut book = rust_xlsxwriter::Workbook::new();
            book.add_worksheet()
                .set_name("Kosong")
                .unwrap()
                .set_active(true);
            let ws = book.add_worksheet();
            ws.set_name("Lama").unwrap();
            ws.write_string(0, 0, "ext_cust_no").unwrap();
            ws.write_string(1, 0, "C1").unwrap();
            ws.set_hidden(true);
            book.save(p).unwrap();
        },
        &[],
    );
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("its hidden sheets (\"Lama\") are not read: name one with --sheet");
}

/// Two zip entries named `xl/worksheets/sheet1.xml`: programs disagree on which is the
/// sheet, so the file is refused. (The zip writer refuses duplicates: the second name
/// is patched in after writing.)
#[test]
fn duplicate_zip_entries_are_refused() {
    let m = validate(
        "dup.xlsx",
        |p| {
            let good = small_sheet("");
            let evil = many_rows_sheet(3, false);
            let mut parts = xlsx_parts(&good, STRINGS);
            parts.push(("xl/worksheets/sheet9.xml", evil));
            let entries: Vec<(&str, &[u8])> =
                parts.iter().map(|(n, b)| (*n, b.as_slice())).collect();
            write_zip(p, &entries);
            let bytes = std::fs::read(p).unwrap();
            let from = b"xl/worksheets/sheet9.xml";
            let to = b"xl/worksheets/sheet1.xml";
            let mut patched = bytes.clone();
            let mut i = 0;
            while let Some(at) = patched[i..].windows(from.len()).position(|w| w == from) {
                patched[i + at..i + at + from.len()].copy_from_slice(to);
                i += at + from.len();
            }
            assert_ne!(patched, bytes);
            std::fs::write(p, patched).unwrap();
        },
        &[],
    );
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("two zip entries with the same name");
}

/// A 100,000-character header (a pasted blob): refused up front, naming the cell, with
/// only its start echoed and the right reason, not a failure writing the result.
#[test]
fn an_over_long_header_is_refused_up_front_and_not_echoed() {
    let blob = "Catatan ".repeat(12_500);
    let csv = format!("ext_cust_no,{blob},name\nC1,x,Toko A\n");
    let m = validate("blob.csv", |p| std::fs::write(p, &csv).unwrap(), &[]);
    let done = m.bounded();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("header cell B1 of blob.csv holds 99999 characters, more than the 255")
        .stderr_has("--header-row");
    assert!(!done.stderr.contains("open in Excel"), "{}", done.stderr);
    assert!(
        done.stderr.len() < 1_000,
        "echoed whole: {} bytes",
        done.stderr.len()
    );

    // In a workbook, the message names the sheet's cell.
    let m = validate(
        "blob.xlsx",
        |p| {
            common::xlsx(p, "Customers", |ws| {
                ws.write_string(0, 0, "ext_cust_no").unwrap();
                ws.write_string(0, 1, "name").unwrap();
                ws.write_string(0, 2, "Catatan ".repeat(4_000)).unwrap();
                ws.write_string(1, 0, "C1").unwrap();
            })
        },
        &[],
    );
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("header cell Customers!C1 of blob.xlsx holds 31999 characters");
}

/// Excel's "Save as Web Page" and "XML Spreadsheet 2003", named `.xls`: recognised and
/// named, no markup dumped as headers.
#[test]
fn web_pages_and_xml_spreadsheets_named_xls_are_recognised() {
    let html = "<html xmlns:o=\"urn:schemas-microsoft-com:office:office\">\r\n<head><meta charset=utf-8><style>td{mso-number-format:\\@}</style></head>\r\n<body><table><tr><td>ext_cust_no</td><td>name</td></tr><tr><td>C1</td><td>Toko A</td></tr></table></body></html>\r\n";
    let m = validate("web.xls", |p| std::fs::write(p, html).unwrap(), &[]);
    let done = m.bounded();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("web.xls is a web page (HTML) saved with a .xls name")
        .stderr_has("save it as .xlsx");
    assert!(!done.stderr.contains("<td"), "{}", done.stderr);

    let xml = "\u{feff}<?xml version=\"1.0\"?>\r\n<?mso-application progid=\"Excel.Sheet\"?>\r\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\" xmlns:ss=\"urn:schemas-microsoft-com:office:spreadsheet\">\r\n<Worksheet ss:Name=\"Customers\"><Table><Row><Cell><Data ss:Type=\"String\">ext_cust_no</Data></Cell></Row></Table></Worksheet></Workbook>\r\n";
    let m = validate("xml.xls", |p| std::fs::write(p, xml).unwrap(), &[]);
    let done = m.bounded();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("xml.xls is an XML Spreadsheet 2003 file saved with a .xls name")
        .stderr_has("save it as .xlsx");
    assert!(!done.stderr.contains("<Cell"), "{}", done.stderr);
}

/// A password-protected XLSX is an OLE file holding `EncryptionInfo` and
/// `EncryptedPackage`: said to be encrypted, not "cannot be read as XLS".
#[test]
fn an_encrypted_workbook_says_it_needs_its_password_removed() {
    let m = validate(
        "secret.xlsx",
        |p| {
            let mut cfb = cfb::create(p).unwrap();
            cfb.create_stream("/EncryptionInfo")
                .unwrap()
                .write_all(&[4, 0, 4, 0, 0x40, 0, 0, 0])
                .unwrap();
            cfb.create_stream("/EncryptedPackage")
                .unwrap()
                .write_all(&[0x5A; 4096])
                .unwrap();
            cfb.flush().unwrap();
        },
        &[],
    );
    let done = m.bounded();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("secret.xlsx is encrypted (a password-protected workbook)")
        .stderr_has("remove the password");
    assert!(!done.stderr.contains("Cfb error"), "{}", done.stderr);
}

/// Excel's full width, 16,384 columns with headers (most of them empty), and data: the
/// result is written anyway, without the empty-header columns it has no room for, and
/// its Summary names what was left out.
#[test]
fn a_sheet_of_16384_columns_still_gets_a_result() {
    let m = validate(
        "wide.xlsx",
        |p| {
            common::xlsx(p, "Customers", |ws| {
                ws.write_string(0, 0, "ext_cust_no").unwrap();
                ws.write_string(0, 1, "name").unwrap();
                for c in (2..16_384u16).step_by(500) {
                    ws.write_string(0, c, format!("note {c}")).unwrap();
                }
                ws.write_string(0, 16_383, "last").unwrap();
                for r in 1..=3 {
                    ws.write_string(r, 0, format!("C{r}")).unwrap();
                    ws.write_string(r, 1, format!("Toko {r}")).unwrap();
                    ws.write_string(r, 16_383, "end").unwrap();
                }
            })
        },
        &[],
    );
    let dir = m.done.dir();
    let done = m.bounded();
    done.expect_code(0)
        .stderr_has("3 rows: 3 valid")
        .stderr_has("16384 columns wide");
    let out = dir.join("wide.result.xlsx");
    let results = common::sheet(&out, "Results");
    assert_eq!(results.len(), 4);
    assert!(results[0].len() <= 16_384, "{} columns", results[0].len());
    for h in ["_status", "ext_cust_no", "name", "note 502", "last"] {
        assert!(results[0].iter().any(|c| c == h), "{h} kept");
    }
    assert!(
        results[3].iter().any(|c| c == "end"),
        "the last column's data is kept"
    );
    let summary = common::sheet(&out, "Summary");
    let left_out = summary
        .iter()
        .find(|r| r[0] == "Columns left out")
        .expect("a Columns left out line");
    assert!(left_out[1].contains("with an empty header"), "{left_out:?}");
}

/// Rows written out of order (row 3 before row 2) cannot be streamed into rows: the
/// sheet is read whole instead, and no row is lost or split.
#[test]
fn rows_out_of_order_are_all_read() {
    let sheet = format!(
        r#"{SHEET_HEAD}<sheetData>{HEADER_ROW}<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="s"><v>2</v></c></row><row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row></sheetData></worksheet>"#
    );
    let m = validate(
        "shuffled.xlsx",
        |p| write_xlsx(p, sheet.as_bytes(), STRINGS),
        &[],
    );
    let dir = m.done.dir();
    m.bounded().expect_code(0).stderr_has("2 rows: 2 valid");
    let rows = records(&dir.join("shuffled.result.xlsx"), "Results");
    let numbers: Vec<&str> = rows.iter().map(|r| r["_row"].as_str()).collect();
    assert_eq!(numbers, ["2", "3"]);
    assert_eq!(rows[0]["ext_cust_no"], "1");
}

/// `validate` surveys only a sheet's top rows and reads it once; what only a full
/// survey handles (below those rows) makes it read the sheet again with one, so the
/// result is what it was. Rows 2..=45 of `ext_cust_no | name` in columns B and C,
/// with `extra` (raw cells) appended to row `at`.
fn sheet_below_the_top(at: u32, extra: &str, reorder: bool) -> Vec<u8> {
    let mut rows: Vec<String> = Vec::new();
    rows.push(
        r#"<row r="1"><c r="B1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>"#.to_string(),
    );
    for r in 2..=45u32 {
        let more = if r == at { extra } else { "" };
        rows.push(format!(
            r#"<row r="{r}">{more}<c r="B{r}"><v>{r}</v></c><c r="C{r}" t="s"><v>2</v></c></row>"#
        ));
    }
    if reorder {
        // Row 45 written before rows 41..=44.
        let last = rows.pop().unwrap_or_default();
        rows.insert(40, last);
    }
    format!(
        "{SHEET_HEAD}<sheetData>{}</sheetData></worksheet>",
        rows.concat()
    )
    .into_bytes()
}

#[test]
fn a_cell_left_of_the_table_far_below_the_top_is_not_dropped() {
    let sheet = sheet_below_the_top(44, r#"<c r="A44" t="s"><v>2</v></c>"#, false);
    let m = validate("left.xlsx", |p| write_xlsx(p, &sheet, STRINGS), &[]);
    let dir = m.done.dir();
    m.bounded().expect_code(0).stderr_has("44 rows: 44 valid");
    let rows = records(&dir.join("left.result.xlsx"), "Results");
    assert_eq!(rows.len(), 44);
    let row44 = rows.iter().find(|r| r["_row"] == "44").expect("row 44");
    assert!(
        row44["_error"].contains("empty header"),
        "the cell in column A is named, not dropped: {row44:?}"
    );
    let flagged: Vec<&str> = rows
        .iter()
        .filter(|r| r["_error"].contains("empty header"))
        .map(|r| r["_row"].as_str())
        .collect();
    assert_eq!(flagged, ["44"]);
}

#[test]
fn rows_out_of_order_far_below_the_top_are_all_read_in_order() {
    let sheet = sheet_below_the_top(0, "", true);
    let m = validate("late.xlsx", |p| write_xlsx(p, &sheet, STRINGS), &[]);
    let dir = m.done.dir();
    m.bounded().expect_code(0).stderr_has("44 rows: 44 valid");
    let rows = records(&dir.join("late.result.xlsx"), "Results");
    let numbers: Vec<u32> = rows.iter().map(|r| r["_row"].parse().unwrap()).collect();
    assert_eq!(numbers, (2..=45).collect::<Vec<u32>>());
}

#[test]
fn an_unknown_error_value_far_below_the_top_makes_its_row_invalid() {
    let sheet = sheet_below_the_top(43, "", false);
    let sheet = String::from_utf8(sheet).unwrap().replace(
        r#"<c r="C43" t="s"><v>2</v></c>"#,
        r#"<c r="C43" t="e"><v>#SPILL!</v></c>"#,
    );
    let m = validate(
        "spill.xlsx",
        |p| write_xlsx(p, sheet.as_bytes(), STRINGS),
        &[],
    );
    let dir = m.done.dir();
    m.bounded().expect_code(1).stderr_has("44 rows: 43 valid");
    let rows = records(&dir.join("spill.result.xlsx"), "Results");
    let row43 = rows.iter().find(|r| r["_row"] == "43").expect("row 43");
    assert_eq!(row43["_status"], "INVALID");
    assert!(row43["_error"].contains("#SPILL!"), "{row43:?}");
}

/// `validate` reads a workbook while its parts are scanned beside it (`input::gate`):
/// a part it never reads, here a second worksheet holding one text longer than any
/// cell, still refuses the file once the first sheet is read, and no result is left.
#[test]
fn a_giant_text_in_a_sheet_never_read_still_refuses_the_workbook() {
    let sheet = small_sheet("");
    let giant = format!(
        r#"{SHEET_HEAD}<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{}</t></is></c></row></sheetData></worksheet>"#,
        "z".repeat(20 << 20)
    );
    let m = validate(
        "two.xlsx",
        |p| {
            let mut parts = xlsx_parts(&sheet, STRINGS);
            parts.push(("xl/worksheets/sheet2.xml", giant.into_bytes()));
            let entries: Vec<(&str, &[u8])> =
                parts.iter().map(|(n, b)| (*n, b.as_slice())).collect();
            write_zip(p, &entries);
        },
        &[],
    );
    let dir = m.done.dir();
    m.bounded()
        .expect_code(2)
        .one_clear_error()
        .stderr_has("its part xl/worksheets/sheet2.xml")
        .stderr_has("one text or tag longer than 16 MB");
    assert!(!dir.join("two.result.xlsx").exists(), "no result is left");
}

/// A formula never calculated below the rows a quick survey reads: the scan beside the
/// read finds the workbook's formulas only after the pass began, and the sheet is read
/// again with a full survey, so the row names the formula instead of an empty name.
#[test]
fn a_formula_never_calculated_far_below_the_top_is_named() {
    let sheet = sheet_below_the_top(0, "", false);
    let sheet = String::from_utf8(sheet).unwrap().replace(
        r#"<c r="C44" t="s"><v>2</v></c>"#,
        r#"<c r="C44"><f>UPPER("toko")</f></c>"#,
    );
    let m = validate(
        "formula.xlsx",
        |p| write_xlsx(p, sheet.as_bytes(), STRINGS),
        &[],
    );
    let dir = m.done.dir();
    m.bounded().expect_code(1).stderr_has("44 rows: 43 valid");
    let rows = records(&dir.join("formula.result.xlsx"), "Results");
    assert_eq!(rows.len(), 44);
    let row44 = rows.iter().find(|r| r["_row"] == "44").expect("row 44");
    assert_eq!(row44["_status"], "INVALID");
    assert!(
        row44["_error"].contains("holds a formula that was never calculated"),
        "{row44:?}"
    );
}
