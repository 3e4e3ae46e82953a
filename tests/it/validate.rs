//! `sheetload validate` end to end: real files in, a real result workbook read back with
//! calamine, statuses and messages asserted cell by cell.

use crate::common::{self, TestEnv, records, sheet, sheet_names};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula};
use serde_json::Value;

fn payload(row: &std::collections::HashMap<String, String>) -> Value {
    serde_json::from_str(&row["_payload"]).expect("payload is JSON")
}

#[test]
fn xlsx_cells_keep_their_meaning_and_errors_name_the_cell() {
    let done = TestEnv::new()
        .build("customers.xlsx", |p| {
            common::xlsx(p, "Pelanggan", |ws| {
                ws.write_string(0, 0, "Daftar Pelanggan November").unwrap();
                let head = [
                    "Nama",
                    "No HP",
                    "Kode Pelanggan",
                    "Lintang",
                    "Bujur",
                    "Tag",
                    "Aktif",
                ];
                for (c, h) in head.iter().enumerate() {
                    ws.write_string(2, c as u16, *h).unwrap();
                }
                // Row 4: numbers stored as numbers, text with leading zeros.
                ws.write_string(3, 0, "Toko İstanbul Şube").unwrap();
                ws.write_number(3, 1, 6281234567.0).unwrap();
                ws.write_string(3, 2, "007").unwrap();
                ws.write_number(3, 3, -7.110383).unwrap();
                ws.write_number(3, 4, 110.473812).unwrap();
                ws.write_string(3, 5, "Semarang; Retail").unwrap();
                ws.write_boolean(3, 6, true).unwrap();
                // Row 5: a broken formula and a bad phone.
                ws.write_string(4, 0, "Toko Dua").unwrap();
                ws.write_string(4, 1, "0812-ABC").unwrap();
                ws.write_string(4, 2, "C2").unwrap();
                ws.write_formula(4, 3, Formula::new("=NA()").set_result("#N/A"))
                    .unwrap();
                ws.write_number(4, 4, 110.0).unwrap();
                // Row 6 is blank and skipped; row 7 valid with text phone.
                ws.write_string(6, 0, "Toko Tiga").unwrap();
                ws.write_string(6, 1, "0812 3456 7890").unwrap();
                ws.write_string(6, 6, "tidak").unwrap();
            })
        })
        .args(["validate", "customers.xlsx", "--entity", "customers"])
        .run();
    done.expect_code(1).stderr_has("3 rows: 2 valid, 1 invalid");
    let result = done.path("customers.result.xlsx");
    assert_eq!(sheet_names(&result), ["Results", "Failed", "Summary"]);
    let rows = records(&result, "Results");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["_row"], "4");
    assert_eq!(rows[0]["_status"], "VALID");
    let p = payload(&rows[0]);
    assert_eq!(p["name"], "Toko İstanbul Şube");
    assert_eq!(
        p["phone"], "6281234567",
        "a numeric phone keeps all its digits"
    );
    assert_eq!(p["ext_cust_no"], "007", "leading zeros survive");
    assert_eq!(p["location"]["lat"], -7.110383);
    assert_eq!(p["location"]["lon"], 110.473812);
    assert_eq!(p["tags"], serde_json::json!(["Semarang", "Retail"]));
    assert_eq!(p["status"], true);
    // The input cells are written back as they were.
    assert_eq!(rows[0]["Kode Pelanggan"], "007");
    assert_eq!(rows[0]["No HP"], "6281234567");

    assert_eq!(rows[1]["_row"], "5");
    assert_eq!(rows[1]["_status"], "INVALID");
    let err = &rows[1]["_error"];
    assert!(err.contains("Lintang (Pelanggan!D5)"), "{err}");
    assert!(err.contains("#N/A"), "{err}");
    assert!(err.contains("No HP (Pelanggan!B5)"), "{err}");
    assert!(err.contains("'0812-ABC' is not a phone number"), "{err}");

    assert_eq!(rows[2]["_row"], "7");
    assert_eq!(rows[2]["_status"], "VALID");
    let p = payload(&rows[2]);
    assert_eq!(p["phone"], "081234567890");
    assert_eq!(p["status"], false);

    // Failed: the input layout, then _row and _error.
    let failed = sheet(&result, "Failed");
    assert_eq!(
        failed[0],
        [
            "Nama",
            "No HP",
            "Kode Pelanggan",
            "Lintang",
            "Bujur",
            "Tag",
            "Aktif",
            "_row",
            "_status",
            "_error"
        ]
    );
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[1][0], "Toko Dua");
    assert_eq!(failed[1][7], "5");

    let summary = sheet(&result, "Summary");
    let get = |k: &str| {
        summary
            .iter()
            .find(|r| r[0] == k)
            .map(|r| r[1].clone())
            .unwrap_or_default()
    };
    assert_eq!(get("Rows"), "3");
    assert_eq!(get("INVALID"), "1");
    assert_eq!(get("Sheet"), "Pelanggan");
    assert_eq!(get("Header row"), "3");
}

#[test]
fn date_cells_become_iso_and_ambiguous_text_dates_are_refused() {
    let done = TestEnv::new()
        .build("visits.xlsx", |p| {
            common::xlsx(p, "Visits", |ws| {
                for (c, h) in ["Tanggal", "customer_id"].iter().enumerate() {
                    ws.write_string(0, c as u16, *h).unwrap();
                }
                let fmt = Format::new().set_num_format("dd/mm/yyyy");
                let d = ExcelDateTime::from_ymd(2026, 12, 3).unwrap();
                ws.write_datetime_with_format(1, 0, &d, &fmt).unwrap();
                ws.write_number(1, 1, 101.0).unwrap();
                ws.write_string(2, 0, "03/04/2026").unwrap();
                ws.write_number(2, 1, 102.0).unwrap();
                ws.write_string(3, 0, "25/12/2026").unwrap();
                ws.write_number(3, 1, 103.0).unwrap();
            })
        })
        .args(["validate", "visits.xlsx", "--entity", "visits"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("visits.result.xlsx"), "Results");
    assert_eq!(payload(&rows[0])["date"], "2026-12-03");
    assert_eq!(payload(&rows[0])["customer_id"], 101);
    assert_eq!(rows[1]["_status"], "INVALID");
    assert!(
        rows[1]["_error"].contains("--date-format"),
        "{}",
        rows[1]["_error"]
    );
    assert_eq!(payload(&rows[2])["date"], "2026-12-25");

    // With a declared format the same file is valid.
    let done = TestEnv::new()
        .build("visits.xlsx", |p| {
            common::xlsx(p, "Visits", |ws| {
                ws.write_string(0, 0, "date").unwrap();
                ws.write_string(0, 1, "customer_code").unwrap();
                ws.write_string(1, 0, "03/04/2026").unwrap();
                ws.write_string(1, 1, "C-1").unwrap();
            })
        })
        .args([
            "validate",
            "visits.xlsx",
            "-e",
            "visits",
            "--date-format",
            "%d/%m/%Y",
        ])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("visits.result.xlsx"), "Results");
    let p = payload(&rows[0]);
    assert_eq!(p["date"], "2026-04-03");
    assert!(
        p.get("customer_id").is_none(),
        "a code is resolved later, not sent as is"
    );
    assert_eq!(
        p["_resolve"]["customer_id"],
        "customers by ext_cust_no = C-1"
    );
}

#[test]
fn csv_encodings_and_delimiters() {
    let text = "Nama;Kota;Telepon\nİSTANBUL Gıda;İzmir;0532 111 22 33\n";
    // UTF-8 with BOM, semicolons.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    // UTF-16 LE with BOM.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    // Windows-1254 (Turkish), needs --encoding.
    let (cp1254, _, _) = encoding_rs::WINDOWS_1254.encode(text);
    for (name, bytes, extra) in [
        ("bom.csv", bom, vec![]),
        ("utf16.csv", utf16, vec![]),
        (
            "tr.csv",
            cp1254.to_vec(),
            vec!["--encoding", "windows-1254"],
        ),
        ("tr2.csv", cp1254.to_vec(), vec!["--encoding", "iso-8859-9"]),
    ] {
        let done = TestEnv::new()
            .file(name, &bytes)
            .args(["validate", name, "-e", "customers", "--out", "r.csv"])
            .args(extra)
            .run();
        done.expect_code(0);
        let out = std::fs::read_to_string(done.path("r.csv")).unwrap();
        assert!(out.contains("İSTANBUL Gıda"), "{name}: {out}");
        assert!(out.contains(r#""name"":""İSTANBUL Gıda""#), "{name}: {out}");
        assert!(out.contains(r#""phone"":""05321112233""#), "{name}: {out}");
    }
    // Without --encoding, a Turkish legacy file is read in the code page chardetng
    // guesses, and the note says how to override it.
    let (cp1254, _, _) = encoding_rs::WINDOWS_1254.encode(text);
    let done = TestEnv::new()
        .file("tr.csv", cp1254.as_ref())
        .args(["validate", "tr.csv", "-e", "customers", "--out", "r.csv"])
        .run();
    done.expect_code(0)
        .stderr_has("read as windows-1254 (Turkish)")
        .stderr_has("pass --encoding windows-1252");
    let out = std::fs::read_to_string(done.path("r.csv")).unwrap();
    assert!(out.contains("İSTANBUL Gıda"), "{out}");
    // A code page no sheet of ours comes in (Shift_JIS) is refused with the fix.
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("Nama,Kota\n東京商店,東京都\n");
    let done = TestEnv::new()
        .file("jp.csv", sjis.as_ref())
        .args(["validate", "jp.csv", "-e", "customers"])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("--encoding windows-1254");
}

#[test]
fn tab_and_pipe_delimiters_are_sniffed() {
    for (d, name) in [('\t', "t.tsv"), ('|', "p.csv"), (',', "c.csv")] {
        let body = format!("Nama{d}Kota\nToko, A{d}Semarang\n")
            .replace("Toko, A", if d == ',' { "\"Toko, A\"" } else { "Toko, A" });
        let done = TestEnv::new()
            .file(name, body)
            .args(["validate", name, "-e", "customers", "--out", "r.csv"])
            .run();
        done.expect_code(0);
        let out = std::fs::read_to_string(done.path("r.csv")).unwrap();
        assert!(out.contains(r#""name"":""Toko, A""#), "{name}: {out}");
    }
}

#[test]
fn wrong_forced_delimiter_names_the_right_one() {
    let done = TestEnv::new()
        .file("c.csv", "Nama;Kota\nA;B\n")
        .args(["validate", "c.csv", "-e", "customers", "--delimiter", ","])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("pass --delimiter ';'");
}

#[test]
fn missing_required_field_stops_before_any_row() {
    let done = TestEnv::new()
        .file("c.csv", "Alamat,Kota\nJl. X,Semarang\n")
        .args(["validate", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("`name`")
        .stderr_has("\"Alamat\", \"Kota\"");
    assert!(!done.path("c.result.xlsx").exists());
    // Update needs an id or the natural key.
    let done = TestEnv::new()
        .file("c.csv", "Nama,Kota\nA,Semarang\n")
        .args(["validate", "c.csv", "-e", "customers", "--mode", "update"])
        .run();
    done.expect_code(2).stderr_has("`id` or `ext_cust_no`");
}

#[test]
fn duplicate_keys_flag_every_row_and_name_the_others() {
    let done = TestEnv::new()
        .file("c.csv", "name,ext_cust_no\nA,C1\nB,C2\nC,C1\nD,C3\nE,C1\n")
        .args(["validate", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(1)
        .stderr_has("3 rows: ext_cust_no is duplicated in the file");
    let rows = records(&done.path("c.result.xlsx"), "Results");
    let status: Vec<&str> = rows.iter().map(|r| r["_status"].as_str()).collect();
    assert_eq!(status, ["INVALID", "VALID", "INVALID", "VALID", "INVALID"]);
    assert!(
        rows[0]["_error"].contains("rows 4, 6"),
        "{}",
        rows[0]["_error"]
    );
    assert!(
        rows[2]["_error"].contains("rows 2, 6"),
        "{}",
        rows[2]["_error"]
    );
}

#[test]
fn product_units_from_column_groups() {
    let csv = "\
name,qty_on_hand,unit_name,unit_price,unit_ratio,unit2_name,unit2_price,unit2_ratio,default_disc
Teh,10,PCS,5000,1,BOX,57000,12,5+2.5
Kopi,10,PCS,3000,,,,,
Gula,5,PCS,3000,2,BOX,30000,12,
Susu,5,PCS,3000,1,BOX,30000,1,
Roti,5,,,,,,,
Air,5,PCS,1000,1,pcs,1000,6,
Mie,5,PCS,1000,1,,2000,,
Es,5,PCS,1000,1,BOX,9000,12,200
";
    let done = TestEnv::new()
        .file("p.csv", csv)
        .args(["validate", "p.csv", "-e", "products"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("p.result.xlsx"), "Results");
    let by_name = |n: &str| rows.iter().find(|r| r["name"] == n).unwrap();
    let teh = by_name("Teh");
    assert_eq!(teh["_status"], "VALID", "{}", teh["_error"]);
    let p = payload(teh);
    assert_eq!(
        p["product_units"],
        serde_json::json!([{"name":"PCS","price":5000,"ratio":1},{"name":"BOX","price":57000,"ratio":12}])
    );
    assert_eq!(p["default_disc"], "5+2.5");
    assert_eq!(p["qty_on_hand"], 10);
    let kopi = by_name("Kopi");
    assert_eq!(
        kopi["_status"], "VALID",
        "a single unit is the base unit: {}",
        kopi["_error"]
    );
    assert_eq!(payload(kopi)["product_units"][0]["ratio"], 1);
    assert!(by_name("Gula")["_error"].contains("no unit has ratio = 1"));
    assert!(
        by_name("Susu")["_error"].contains("unit_ratio (E5), unit2_ratio (H5): all have ratio = 1"),
        "{}",
        by_name("Susu")["_error"]
    );
    assert!(by_name("Roti")["_error"].contains("no unit is given"));
    assert!(by_name("Air")["_error"].contains("given twice"));
    assert!(
        by_name("Mie")["_error"].contains("unit2_name"),
        "{}",
        by_name("Mie")["_error"]
    );
    assert!(by_name("Es")["_error"].contains("default_disc"));
}

#[test]
fn decimal_separators_are_never_guessed() {
    let csv = "name,qty_on_hand,unit_name,unit_price\nA,5.000,PCS,1000\nB,\"1.234,5\",PCS,1000\nC,12.5,PCS,1000\n";
    let done = TestEnv::new()
        .file("p.csv", csv)
        .args(["validate", "p.csv", "-e", "products"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("p.result.xlsx"), "Results");
    assert_eq!(rows[0]["_status"], "INVALID");
    assert!(
        rows[0]["_error"].contains("--decimal-comma"),
        "{}",
        rows[0]["_error"]
    );
    assert_eq!(payload(&rows[1])["qty_on_hand"], 1234.5);
    assert_eq!(payload(&rows[2])["qty_on_hand"], 12.5);
    let done = TestEnv::new()
        .file(
            "p.csv",
            "name,qty_on_hand,unit_name,unit_price\nA,5.000,PCS,\"1,5\"\n",
        )
        .args(["validate", "p.csv", "-e", "products", "--decimal-comma"])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("p.result.xlsx"), "Results");
    assert_eq!(payload(&rows[0])["qty_on_hand"], 5000);
    assert_eq!(payload(&rows[0])["product_units"][0]["price"], 1.5);
}

#[test]
fn location_column_and_coordinate_rules() {
    let csv = "\
Nama,Lokasi,Lintang,Bujur
A,\"-7.110383, 110.473812\",,
B,\"110.47, -7.11\",,
C,,-7.1,
D,\"-7.1, 110.4\",-7.1,110.4
E,\"0, 0\",,
";
    let done = TestEnv::new()
        .file("c.csv", csv)
        .args(["validate", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(
        payload(&rows[0])["location"],
        serde_json::json!({"lat": -7.110383, "lon": 110.473812})
    );
    assert!(
        rows[1]["_error"].contains("swapped"),
        "{}",
        rows[1]["_error"]
    );
    assert!(rows[2]["_error"].contains("Bujur"), "{}", rows[2]["_error"]);
    assert!(
        rows[3]["_error"].contains("only one"),
        "{}",
        rows[3]["_error"]
    );
    assert_eq!(rows[4]["_status"], "INVALID");
}

#[test]
fn map_file_and_unmapped_warning() {
    let done = TestEnv::new()
        .file("c.csv", "Outlet Title,Region,Catatan\nToko A,Jawa,x\n")
        .file(
            "map.toml",
            "[columns]\n\"Outlet Title\" = \"name\"\n\"Region\" = \"tags\"\n[constants]\nstatus = false\n[defaults]\ncity = \"Semarang\"\n",
        )
        .args(["validate", "c.csv", "-e", "customers", "--map", "map.toml"])
        .run();
    done.expect_code(0).stderr_has("\"Catatan\"");
    let rows = records(&done.path("c.result.xlsx"), "Results");
    let p = payload(&rows[0]);
    assert_eq!(p["name"], "Toko A");
    assert_eq!(p["tags"], serde_json::json!(["Jawa"]));
    assert_eq!(p["status"], false);
    assert_eq!(p["city"], "Semarang");
    let done = TestEnv::new()
        .file("c.csv", "Nama\nA\n")
        .file("map.toml", "[constants]\nstatuz = 1\n")
        .args(["validate", "c.csv", "-e", "customers", "--map", "map.toml"])
        .run();
    done.expect_code(2).one_clear_error().stderr_has("statuz");
}

#[test]
fn sheet_choice_and_header_row() {
    let build = |p: &std::path::Path| {
        let mut book = rust_xlsxwriter::Workbook::new();
        book.add_worksheet().set_name("Kosong").unwrap();
        let ws = book.add_worksheet();
        ws.set_name("Data Pelanggan").unwrap();
        ws.write_string(0, 1, "Nama").unwrap();
        ws.write_string(1, 1, "Toko A").unwrap();
        let ws = book.add_worksheet();
        ws.set_name("Lain").unwrap();
        ws.write_string(4, 0, "Judul").unwrap();
        ws.write_string(5, 0, "Nama").unwrap();
        ws.write_string(6, 0, "Toko B").unwrap();
        book.save(p).unwrap();
    };
    // Default: first sheet with data; the cell reference includes the offset column B.
    let done = TestEnv::new()
        .build("b.xlsx", build)
        .args(["validate", "b.xlsx", "-e", "customers"])
        .run();
    done.expect_code(0).stderr_has("Data Pelanggan");
    // Unknown sheet lists the sheets.
    let done = TestEnv::new()
        .build("b.xlsx", build)
        .args(["validate", "b.xlsx", "-e", "customers", "--sheet", "Nope"])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("\"Kosong\", \"Data Pelanggan\", \"Lain\"");
    // Forced header row on another sheet.
    let done = TestEnv::new()
        .build("b.xlsx", build)
        .args([
            "validate",
            "b.xlsx",
            "-e",
            "customers",
            "--sheet",
            "lain",
            "--header-row",
            "6",
        ])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("b.result.xlsx"), "Results");
    assert_eq!(rows[0]["_row"], "7");
    assert_eq!(payload(&rows[0])["name"], "Toko B");
}

#[test]
fn csv_result_guards_formulas() {
    let done = TestEnv::new()
        .file("c.csv", "Nama,Kota\n=HYPERLINK(\"x\"),@SUM(1)\n")
        .args(["validate", "c.csv", "-e", "customers", "--out", "r.csv"])
        .run();
    done.expect_code(0);
    let out = std::fs::read_to_string(done.path("r.csv")).unwrap();
    assert!(out.contains("'=HYPERLINK"), "{out}");
    assert!(out.contains("'@SUM(1)"), "{out}");
    // XLSX results keep the text as text (never a formula).
    let done = TestEnv::new()
        .file("c.csv", "Nama\n=1+1\n")
        .args(["validate", "c.csv", "-e", "customers"])
        .run();
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows[0]["Nama"], "=1+1");
}

#[test]
fn json_summary_on_stdout() {
    let done = TestEnv::new()
        .file("c.csv", "Nama,Telepon\nA,abc\nB,0812345678\n")
        .args(["validate", "c.csv", "-e", "customers", "--json"])
        .run();
    done.expect_code(1);
    let v: Value = serde_json::from_str(done.stdout.trim()).expect("json on stdout");
    assert_eq!(v["rows"], 2);
    assert_eq!(v["invalid"], 1);
    assert_eq!(v["errors"][0]["rows"], 1);
    assert!(
        v["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("column Telepon")
    );
}

#[test]
fn import_dry_run_without_a_connection_validates_offline() {
    let done = TestEnv::new()
        .file("c.csv", "Nama,Telepon\nA,abc\nB,0812345678\n")
        .env("SHEETLOAD_BASE_URL", "")
        .args(["import", "c.csv", "-e", "customers", "--dry-run"])
        .run();
    done.expect_code(1).stderr_has("validating offline");
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows[0]["_status"], "INVALID");
    assert_eq!(rows[1]["_status"], "VALID");
}
