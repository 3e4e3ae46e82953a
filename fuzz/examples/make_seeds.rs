//! Writes the committed seed inputs in `fuzz/seeds/<target>/` (run from `fuzz/`):
//!
//!     cargo run --example make_seeds
//!
//! Seeds are small on purpose; every one of them is replayed by `tests/it/fuzz_regressions.rs`.
//! The workbook seeds are real files written by rust_xlsxwriter and the zip crate, read
//! back through sheetload here to prove they are valid; `customers.xls` is a copy of
//! `tests/fixtures/customers.xls` (nothing in Rust writes XLS).

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use sheetload::input::{self, ReadOptions};
use sheetload::validate::turkish;
use sheetload_fuzz::{PART_MARK, PARTS_MAGIC, TARGETS};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    for t in TARGETS {
        let dir = root.join(t);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
    }
    let w = |target: &str, name: &str, bytes: &[u8]| {
        let path: PathBuf = root.join(target).join(name);
        fs::write(&path, bytes).unwrap();
    };

    // --- csv_reader ---------------------------------------------------------------
    w(
        "csv_reader",
        "customers.csv",
        "Nama Toko,Alamat,Kota,No HP,lat,lng,tags\n\
         Toko Maju,\"Jl. Pemuda 12, Semarang\",Semarang,0812-3456-7890,-7.110383,110.473812,\"a,b\"\n\
         Warung Bu Sri,Jl. X,Kudus,+62 811 222 333,\"-6,8\",\"110,8\",\n"
            .as_bytes(),
    );
    w(
        "csv_reader",
        "title_rows_semicolon.csv",
        "Daftar Pelanggan November\r\n\r\nnama;alamat;kota;harga;tanggal\r\n\
         Toko A;Jl. Y;Solo;1.234,50;04/03/2024\r\n;;;;\r\n'=HYPERLINK(\"x\");Jl. Z;Pati;Rp 1.500.000,-;2024-03-04\r\n"
            .as_bytes(),
    );
    w(
        "csv_reader",
        "bom_tab_quoted.tsv",
        "\u{feff}name\tphone\tnote\nA\t0532 123 45 67\t\"two\nlines\"\nB\t\t\"quote \"\"x\"\"\"\n"
            .as_bytes(),
    );
    // Turkish text in windows-1254 (not UTF-8): ş = 0xFE, İ = 0xDD, ı = 0xFD.
    w(
        "csv_reader",
        "windows1254.csv",
        b"unvan,sehir\nK\xfdz\xfdlay A.\xde.,\xddstanbul\n\xfeirket,Ankara\n",
    );
    w(
        "csv_reader",
        "cr_only_pipe.csv",
        b"name|city|phone\rToko|Solo|0812345678\r|\r'+62|Kudus|x\r",
    );
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "name,kota\nÇay Evi,İzmir\n".encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    w("csv_reader", "utf16le.csv", &utf16);

    // --- workbook_reader ----------------------------------------------------------
    let xlsx = tiny_xlsx();
    check_workbook(&xlsx, "xlsx");
    w("workbook_reader", "tiny.xlsx", &xlsx);
    // The same workbook's essential parts, unzipped, for the XML readers.
    let parts = zip_parts(
        &xlsx,
        &[
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/sharedStrings.xml",
            "xl/styles.xml",
            "xl/worksheets/sheet1.xml",
            "xl/worksheets/sheet2.xml",
        ],
    );
    check_workbook(&sheetload_fuzz::parts_to_zip(&parts).unwrap(), "xlsx");
    w("workbook_reader", "tiny_xlsx.parts", &parts);
    let ods = tiny_ods();
    check_workbook(&ods, "ods");
    w("workbook_reader", "tiny.ods", &ods);
    let parts = zip_parts(&ods, &["mimetype", "META-INF/manifest.xml", "content.xml"]);
    check_workbook(&sheetload_fuzz::parts_to_zip(&parts).unwrap(), "ods");
    w("workbook_reader", "tiny_ods.parts", &parts);
    let xls =
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/customers.xls"))
            .unwrap();
    check_workbook(&xls, "xls");
    w("workbook_reader", "customers.xls", &xls);

    // --- value_parsers ------------------------------------------------------------
    let vkn = {
        let first9 = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        let d = turkish::vkn_check_digit(&first9);
        format!("123 456 789{d}")
    };
    let tckn = {
        let first9 = [1, 0, 0, 0, 0, 0, 0, 1, 4];
        let (a, b) = turkish::tckn_check_digits(&first9);
        format!("100000014{a}{b}")
    };
    let cells: &[(&str, &[u8])] = &[
        ("decimal_comma", "Rp 1.234.567,89".as_bytes()),
        ("decimal_point", b"-1,234.5"),
        ("scientific", b"1.5E-3"),
        ("id", b"123456.0"),
        ("bool", "Hayır".as_bytes()),
        ("date_iso_time", b"2024-03-04T10:00:00+07:00"),
        ("date_named", b"17 Agustus 2024"),
        ("date_ambiguous", b"04/03/2024 10:30"),
        ("date_serial", b"45352"),
        ("date_format", b"%d.%m.%Y\x1f04.03.2024"),
        ("location", "(-7.110383, 110.473812°)".as_bytes()),
        ("coordinate", b"7,11 LS"),
        ("phone", "+62 (812) 3456\u{2013}7890".as_bytes()),
        ("email", b"Sri.Rahayu@Toko-Maju.CO.ID"),
        ("tags", b"grosir; Semarang, grosir\n"),
        ("discount", b"10% + 2,5+0"),
        ("vkn", vkn.as_bytes()),
        ("tckn", tckn.as_bytes()),
        ("iban", b"TR33 0006 1005 1978 6457 8413 26"),
        ("tr_phone", b"+90 (0532) 123-45-67"),
        ("turkish_case", "İSTANBUL ıi I\u{307}".as_bytes()),
        ("f64_bits", &0.1f64.to_le_bytes()),
    ];
    for (name, bytes) in cells {
        w("value_parsers", &format!("{name}.txt"), bytes);
    }

    // --- mapping_file -------------------------------------------------------------
    w(
        "mapping_file",
        "columns.toml",
        b"[columns]\n\"Nama Toko\" = \"name\"\n\"No HP\" = \"phone\"\n\n[constants]\nstatus = true\n\
          tags = \"grosir\"\n\n[defaults]\ncity = \"Semarang\"\nlatitude = -7.1\n\nignore = [\"Catatan\"]\n",
    );
    w(
        "mapping_file",
        "with_headers.toml",
        b"ignore = [\"memo\"]\n[columns]\n\"Satuan 2\" = \"unit2_name\"\n\"Harga\" = \"price\"\n---\n\
          Kode\nNama\nHarga\nSatuan 2\nunit2_price\nmemo\n_status\n\nNama\n",
    );
    w(
        "mapping_file",
        "bad_value.toml",
        b"[constants]\ntags = [\"a\", \"b\"]\n[defaults]\nwhen = 2024-03-04T10:00:00Z\n",
    );
    w(
        "mapping_file",
        "unknown_field.toml",
        b"[columns]\nX = \"nope\"\n---\nX\nname\n",
    );

    // --- response_parsers ---------------------------------------------------------
    let claims = "eyJkYl9pZCI6Mjk4MSwidGVhbV9pZCI6NX0"; // base64url of {"db_id":2981,"team_id":5}
    let responses: &[(&str, String)] = &[
        ("bearer", r#"{"token":"abc","expires_in":3600}"#.into()),
        ("bearer_data", r#"{"data":{"access_token":"b","expires_in":-1}}"#.into()),
        ("databases", r#"[{"db_id":2981,"name":"PT Maju"},{"id":"7"},{"name":"x"}]"#.into()),
        ("team_token", format!(r#"{{"data":{{"team_token":"{claims}.sig"}}}}"#)),
        ("team_token_bare", format!(r#""{claims}.sig""#)),
        ("page", r#"{"data":{"data":[{"id":1},{"id":"2"}],"total":2}}"#.into()),
        ("items", r#"{"items":[{"id":1.5}],"total":1}"#.into()),
        ("created", r#"{"data":{"id":42}}"#.into()),
        (
            "api_error",
            r#"{"message":"The given data was invalid.","errors":{"name":["required"],"phone":"bad","x":3}}"#.into(),
        ),
        ("api_error_list", r#"{"error":{"message":"nope"},"errors":["a",1]}"#.into()),
    ];
    for (name, text) in responses {
        w("response_parsers", &format!("{name}.json"), text.as_bytes());
    }
    eprintln!("seeds written to {}", root.display());
}

/// Two small sheets: typed cells (text, number, date, bool, formula) under a title row.
fn tiny_xlsx() -> Vec<u8> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Formula, Workbook};
    let mut book = Workbook::new();
    // A fixed creation time, so that the seed is the same file on every run.
    let created = ExcelDateTime::from_ymd(2026, 1, 1).unwrap();
    book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let ws = book.add_worksheet();
    ws.set_name("Pelanggan").unwrap();
    ws.write_string(0, 0, "Daftar Pelanggan").unwrap();
    for (c, h) in ["Nama Toko", "No HP", "lat", "Harga", "Tanggal", "Aktif"]
        .iter()
        .enumerate()
    {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    ws.write_string(3, 0, "Toko Maju").unwrap();
    ws.write_number(3, 1, 6281234567.0).unwrap();
    ws.write_number(3, 2, -7.110383).unwrap();
    ws.write_number(3, 3, 1500000.0).unwrap();
    let d = ExcelDateTime::from_ymd(2024, 3, 4).unwrap();
    ws.write_datetime_with_format(3, 4, &d, &date).unwrap();
    ws.write_boolean(3, 5, true).unwrap();
    ws.write_string(4, 0, "Warung").unwrap();
    ws.write_formula(4, 3, Formula::new("=D4*2").set_result("3000000"))
        .unwrap();
    let ws2 = book.add_worksheet();
    ws2.set_name("Sheet2").unwrap();
    ws2.write_string(1, 1, "name").unwrap();
    ws2.write_string(1, 2, "city").unwrap();
    ws2.write_string(2, 1, "B").unwrap();
    book.save_to_buffer().unwrap()
}

/// The smallest ODS calamine accepts: mimetype, manifest and content.
fn tiny_ods() -> Vec<u8> {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Customers"><table:table-row><table:table-cell office:value-type="string"><text:p>name</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>phone</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>since</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="2"><table:table-cell office:value-type="string"><text:p>Toko</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="6281234567"/><table:table-cell office:value-type="date" office:date-value="2024-03-04"/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="2" office:value-type="boolean" office:boolean-value="true"/><table:table-cell office:value-type="percentage" office:value="0.05"/></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default();
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("META-INF/manifest.xml", deflated).unwrap();
    zip.write_all(manifest.as_bytes()).unwrap();
    zip.start_file("content.xml", deflated).unwrap();
    zip.write_all(content.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

/// The named entries of a zip in the harness's parts form.
fn zip_parts(zip_bytes: &[u8], names: &[&str]) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    let mut out = PARTS_MAGIC.to_vec();
    for name in names {
        let Ok(mut f) = zip.by_name(name) else {
            continue;
        };
        let first = out.len() == PARTS_MAGIC.len();
        out.extend_from_slice(if first { &PART_MARK[1..] } else { PART_MARK });
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
        f.read_to_end(&mut out).unwrap();
    }
    out
}

/// Prove a seed workbook is valid: it opens and yields rows.
fn check_workbook(bytes: &[u8], ext: &str) {
    let path = std::env::temp_dir().join(format!("sheetload-seed-{}.{ext}", std::process::id()));
    fs::write(&path, bytes).unwrap();
    let table = input::open(&path, &ReadOptions::default(), &|_: &[String]| 0)
        .unwrap_or_else(|e| panic!("seed .{ext} does not open: {e}"));
    let rows = table
        .rows()
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert!(!rows.is_empty(), "seed .{ext} has no rows");
    let _ = fs::remove_file(&path);
}
