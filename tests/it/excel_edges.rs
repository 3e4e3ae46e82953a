//! What Excel and real users do to a sheet between months (issue 32, points 5–9): a
//! column turned into numbers, rows that explain or sum the columns, a stray byte that
//! is not UTF-8, duplicate ids and a constant key, a check run after a real import.
//! The real binary against the in-process sandbox over loopback, real files read back.

use crate::common::{self, TestEnv, records, sheet, spawn_sandbox, writes, xlsx};
use sheetload::sandbox::{SandboxOptions, ThreadSandbox};

/// The server's customers as `export` gives them: ext_cust_no → record.
fn exported(sb: &ThreadSandbox) -> std::collections::HashMap<String, common::Row> {
    let done = TestEnv::new()
        .against(sb)
        .args(["export", "customers", "--out", "c.xlsx"])
        .run();
    done.expect_code(0);
    records(&done.path("c.xlsx"), "Customers")
        .into_iter()
        .map(|r| (r["ext_cust_no"].clone(), r))
        .collect()
}

fn small_sandbox() -> ThreadSandbox {
    spawn_sandbox(SandboxOptions {
        customers: 3,
        ..SandboxOptions::default()
    })
}

fn by_key<'a>(rows: &'a [common::Row], key: &str) -> &'a common::Row {
    rows.iter()
        .find(|r| r.values().any(|v| v == key))
        .unwrap_or_else(|| panic!("no row for {key}: {rows:?}"))
}

#[test]
fn an_update_that_would_store_excels_damage_is_held_unless_allowed() {
    let sb = small_sandbox();
    // Month 1: the phones as typed, with their leading zero.
    TestEnv::new()
        .against(&sb)
        .file(
            "m1.csv",
            "Kode,Nama,No HP,Kota\nEX-1,Toko Satu,081312591167,Kudus\nEX-2,Toko Dua,081312591168,Kudus\n",
        )
        .args(["import", "m1.csv", "-e", "customers"])
        .run()
        .expect_code(0);
    // Month 3: Excel turned the phone column into numbers; EX-2 really moved to Pati.
    let month3 = |path: &std::path::Path| {
        xlsx(path, "Customers", |ws| {
            for (c, h) in ["Kode", "Nama", "No HP", "Kota"].iter().enumerate() {
                ws.write_string(0, c as u16, *h).unwrap();
            }
            ws.write_string(1, 0, "EX-1").unwrap();
            ws.write_string(1, 1, "Toko Satu").unwrap();
            ws.write_number(1, 2, 81312591167.0).unwrap();
            ws.write_string(1, 3, "Kudus").unwrap();
            ws.write_string(2, 0, "EX-2").unwrap();
            ws.write_string(2, 1, "Toko Dua").unwrap();
            ws.write_string(2, 2, "081312591168").unwrap();
            ws.write_string(2, 3, "Pati").unwrap();
        })
    };
    let before = writes(&sb.stats());
    let done = TestEnv::new()
        .against(&sb)
        .build("m3.xlsx", month3)
        .args(["import", "m3.xlsx", "-e", "customers", "--mode", "upsert"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("m3.result.xlsx"), "Results");
    let held = by_key(&rows, "EX-1");
    assert_eq!(held["_status"], "INVALID", "{held:?}");
    assert!(
        held["_error"].contains(
            "No HP (Customers!C2): the server has 081312591167, this sheet 81312591167 — it looks like Excel dropped the leading zero. Format the column as Text and type the value again, or run with --allow-excel-damage (import or retry) to send it anyway"
        ),
        "{held:?}"
    );
    assert_eq!(
        by_key(&rows, "EX-2")["_status"],
        "OK",
        "an ordinary change is sent"
    );
    assert_eq!(
        writes(&sb.stats()) - before,
        1,
        "only EX-2's update was sent"
    );
    let server = exported(&sb);
    assert_eq!(
        server["EX-1"]["phone"], "081312591167",
        "the good value stays"
    );
    assert_eq!(server["EX-2"]["city"], "Pati");

    // A user who means it sends it.
    TestEnv::new()
        .against(&sb)
        .build("m3.xlsx", month3)
        .args(["import", "m3.xlsx", "-e", "customers", "--mode", "upsert"])
        .args(["--allow-excel-damage"])
        .run()
        .expect_code(0);
    assert_eq!(exported(&sb)["EX-1"]["phone"], "81312591167");
}

#[test]
fn duplicate_ids_and_a_constant_key_are_duplicates_in_the_file() {
    let sb = small_sandbox();
    TestEnv::new()
        .against(&sb)
        .file("c.csv", "Kode,Nama,Kota\nEX-8,Toko Delapan,Semarang\n")
        .args(["import", "c.csv", "-e", "customers"])
        .run()
        .expect_code(0);
    let id = exported(&sb)["EX-8"]["id"].clone();

    // Two rows naming one id: neither is sent, each names the other.
    let before = writes(&sb.stats());
    let done = TestEnv::new()
        .against(&sb)
        .file("u.csv", format!("id,Kota\n{id},Kudus\n{id},Pati\n"))
        .args(["import", "u.csv", "-e", "customers", "--mode", "update"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("u.result.xlsx"), "Results");
    assert_eq!(rows.len(), 2);
    for (r, other) in rows.iter().zip(["row 3", "row 2"]) {
        assert_eq!(r["_status"], "INVALID", "{r:?}");
        assert!(
            r["_error"].contains(&format!(
                "'{id}' is duplicated in the file: it also appears in {other}"
            )),
            "{r:?}"
        );
    }
    assert_eq!(writes(&sb.stats()), before, "nothing sent");
    assert_eq!(exported(&sb)["EX-8"]["city"], "Semarang");

    // A constant on the key gives every row the same key: all are duplicates.
    let done = TestEnv::new()
        .against(&sb)
        .file("n.csv", "Nama\nToko A\nToko B\nToko C\n")
        .file("m.toml", "[constants]\next_cust_no = \"X\"\n")
        .args(["import", "n.csv", "-e", "customers", "--map", "m.toml"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("n.result.xlsx"), "Results");
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().all(|r| r["_status"] == "INVALID"
            && r["_error"].contains("'X' is duplicated in the file")
            && r["_error"].contains("constant")),
        "{rows:?}"
    );
    assert!(rows[0]["_error"].contains("rows 3, 4"), "{:?}", rows[0]);
    assert_eq!(writes(&sb.stats()), before, "nothing created");
}

#[test]
fn rows_that_describe_or_sum_the_columns_are_left_out_and_named() {
    let sb = small_sandbox();
    let csv = "Kode,Nama,Kota\n(wajib),(wajib),(opsional)\nEX-61,Toko A,Kudus\nEX-62,Toko B,Pati\nTotal,2,\n";
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", csv)
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    done.expect_code(0)
        .stderr_has("row 2 describes the columns ((wajib) | (wajib) | (opsional))")
        .stderr_has("row 5 sums the rows above (Total | 2)");
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows.len(), 2, "{rows:?}");
    let server = exported(&sb);
    assert!(server.contains_key("EX-61") && server.contains_key("EX-62"));
    assert!(!server.contains_key("(wajib)") && !server.contains_key("Total"));
    let summary = sheet(&done.path("c.result.xlsx"), "Summary");
    assert!(
        summary
            .iter()
            .any(|r| r[0] == "Left out" && r[1].contains("row 5")),
        "{summary:?}"
    );

    // The same in a workbook, a footer in Indonesian.
    let done = TestEnv::new()
        .build("c.xlsx", |path| {
            xlsx(path, "Customers", |ws| {
                let rows: [&[&str]; 4] = [
                    &["Kode", "Nama", "Kota"],
                    &["Required", "Required", "Optional"],
                    &["EX-63", "Toko C", "Kudus"],
                    &["Jumlah:", "1", ""],
                ];
                for (r, row) in rows.iter().enumerate() {
                    for (c, v) in row.iter().enumerate() {
                        ws.write_string(r as u32 + u32::from(r == 3), c as u16, *v)
                            .unwrap();
                    }
                }
            })
        })
        .args(["validate", "c.xlsx", "-e", "customers"])
        .run();
    done.expect_code(0)
        .stderr_has("row 2 describes the columns (Required | Required | Optional)")
        .stderr_has("row 5 sums the rows above (Jumlah: | 1)");
    assert_eq!(records(&done.path("c.result.xlsx"), "Results").len(), 1);

    // A template sheetload writes, filled in, imports every row it holds.
    let done = TestEnv::new()
        .args(["template", "customers", "--out", "t.xlsx"])
        .run();
    done.expect_code(0);
    let template = done.path("t.xlsx");
    let headers = sheet(&template, "Customers").remove(0);
    let at = |h: &str| headers.iter().position(|x| x == h).unwrap();
    let rows = [("EX-64", "(PT) Maju"), ("EX-65", "Total")]
        .map(|(code, name)| vec![(at("ext_cust_no"), code), (at("name"), name)]);
    let done = TestEnv::new()
        .against(&sb)
        .build("filled.xlsx", |path| fill_template(&template, path, &rows))
        .args(["import", "filled.xlsx", "-e", "customers"])
        .run();
    done.expect_code(0);
    assert!(!done.stderr.contains("not a record"), "{}", done.stderr);
    assert_eq!(
        records(&done.path("filled.result.xlsx"), "Results").len(),
        2
    );
    let server = exported(&sb);
    assert_eq!(server["EX-64"]["name"], "(PT) Maju");
    assert_eq!(server["EX-65"]["name"], "Total");
}

/// `template`'s workbook with `rows` (column index, text) typed under its header, as a
/// user fills it in Excel: the template's own parts (styles, validations, comments,
/// Guide sheet) copied as they are, the rows added to its first sheet.
fn fill_template(template: &std::path::Path, out: &std::path::Path, rows: &[Vec<(usize, &str)>]) {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::fs::File::open(template).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let col = |i: usize| char::from(b'A' + u8::try_from(i).unwrap());
    let mut added = String::new();
    for (r, row) in rows.iter().enumerate() {
        let n = r + 2;
        added.push_str(&format!("<row r=\"{n}\">"));
        let mut cells = row.clone();
        cells.sort();
        for (c, text) in cells {
            let text = text.replace('&', "&amp;").replace('<', "&lt;");
            added.push_str(&format!(
                "<c r=\"{}{n}\" t=\"inlineStr\"><is><t>{text}</t></is></c>",
                col(c)
            ));
        }
        added.push_str("</row>");
    }
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let xml = String::from_utf8(bytes).unwrap();
            assert!(xml.contains("</sheetData>"), "{xml}");
            bytes = xml
                .replace("</sheetData>", &format!("{added}</sheetData>"))
                .into_bytes();
        }
        zout.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zout.write_all(&bytes).unwrap();
    }
    zout.finish().unwrap();
}

#[test]
fn a_utf8_file_with_a_bad_byte_stays_utf8_and_refuses_only_that_row() {
    let bytes: &[u8] =
        b"Kode,Nama,Kota\nEX-71,Caf\xE9 Lama,Kudus\nEX-72,G\xC4\xB1da \xC5\x9Een,\xC4\xB0zmir\n";
    for extra in [&[][..], &["--encoding", "utf-8"][..]] {
        let done = TestEnv::new()
            .file("c.csv", bytes)
            .args(["validate", "c.csv", "-e", "customers", "--out", "r.csv"])
            .args(extra.iter().copied())
            .run();
        done.expect_code(1);
        let stderr = &done.stderr;
        assert!(
            !stderr.contains("windows-1254 (Turkish)"),
            "{extra:?}: {stderr}"
        );
        let out = std::fs::read_to_string(done.path("r.csv")).unwrap();
        let bad = out.lines().find(|l| l.contains("EX-71")).unwrap();
        assert!(bad.contains("INVALID"), "{extra:?}: {bad}");
        assert!(
            bad.contains("Nama (B2): holds the byte 0xE9, which is not UTF-8 text"),
            "{extra:?}: {bad}"
        );
        assert!(!bad.contains("replacement character"), "blamed once: {bad}");
        let good = out.lines().find(|l| l.contains("EX-72")).unwrap();
        assert!(
            good.contains("VALID") && good.contains("Gıda Şen"),
            "{extra:?}: {good}"
        );
    }
    // Against the server: the good row is created as written, nothing holds U+FFFD.
    let sb = small_sandbox();
    TestEnv::new()
        .against(&sb)
        .file("c.csv", bytes)
        .args(["import", "c.csv", "-e", "customers", "--encoding", "utf-8"])
        .run()
        .expect_code(1);
    let server = exported(&sb);
    assert_eq!(server["EX-72"]["name"], "Gıda Şen");
    assert!(!server.contains_key("EX-71"));
    assert!(
        server
            .values()
            .all(|r| r.values().all(|v| !v.contains('\u{FFFD}')))
    );
}

#[test]
fn a_check_never_replaces_a_real_runs_result() {
    let sb = small_sandbox();
    let env = TestEnv::new()
        .against(&sb)
        .file(
            "c.csv",
            "Kode,Nama,No HP\nEX-91,Toko A,0812345678\nEX-92,Toko B,12\n",
        )
        .args(["import", "c.csv", "-e", "customers"]);
    let done = env.run();
    done.expect_code(1);
    let result = done.path("c.result.xlsx");
    let run_line = |path: &std::path::Path| {
        sheet(path, "Summary")
            .into_iter()
            .find(|r| r[0] == "Run")
            .map(|r| r[1].clone())
    };
    let run = run_line(&result).unwrap();
    assert!(run.parse::<i64>().is_ok(), "{run}");

    // validate, then a dry run: each writes its own file and says so.
    let again = done.again();
    let done = again.args(["validate", "c.csv", "-e", "customers"]).run();
    done.expect_code(1).stderr_has("c.check.xlsx");
    assert_eq!(run_line(&result).as_deref(), Some(run.as_str()));
    assert_eq!(records(&done.path("c.check.xlsx"), "Results").len(), 2);
    let done = done
        .again()
        .against(&sb)
        .args(["import", "c.csv", "-e", "customers", "--dry-run"])
        .run();
    done.expect_code(1).stderr_has("c.check.xlsx");
    assert_eq!(run_line(&result).as_deref(), Some(run.as_str()));

    // The real run's Failed sheet is still there for retry.
    common::fix_failed(&result, "No HP", "0812345679");
    let done = done
        .again()
        .against(&sb)
        .args(["retry", "c.result.xlsx"])
        .run();
    done.expect_code(0);
    assert!(exported(&sb).contains_key("EX-92"));
}

#[test]
fn a_key_excel_damaged_is_held_never_created_again() {
    let sb = small_sandbox();
    TestEnv::new()
        .against(&sb)
        .file("m1.csv", "Kode,Nama,Kota\n00123,Toko Nol,Kudus\n")
        .args(["import", "m1.csv", "-e", "customers"])
        .run()
        .expect_code(0);
    let customers = exported(&sb).len();
    // Month 2: Excel made the key column numbers; 124 is really new.
    let month2 = |path: &std::path::Path| {
        xlsx(path, "Customers", |ws| {
            for (c, h) in ["Kode", "Nama", "Kota"].iter().enumerate() {
                ws.write_string(0, c as u16, *h).unwrap();
            }
            ws.write_number(1, 0, 123.0).unwrap();
            ws.write_string(1, 1, "Toko Nol").unwrap();
            ws.write_string(1, 2, "Pati").unwrap();
            ws.write_number(2, 0, 124.0).unwrap();
            ws.write_string(2, 1, "Toko Baru").unwrap();
        })
    };
    for extra in [
        &["--mode", "upsert"][..],
        &["--mode", "create"][..],
        &["--mode", "upsert", "--allow-excel-damage"][..],
    ] {
        let done = TestEnv::new()
            .against(&sb)
            .build("m2.xlsx", month2)
            .args(["import", "m2.xlsx", "-e", "customers"])
            .args(extra.iter().copied())
            .run();
        done.expect_code(1);
        let rows = records(&done.path("m2.result.xlsx"), "Results");
        let held = by_key(&rows, "123");
        assert_eq!(held["_status"], "INVALID", "{extra:?}: {held:?}");
        assert!(
            held["_error"].contains(
                "Kode (Customers!A2): the server has 00123, this sheet 123 — it looks like Excel dropped the leading zero; not sent, as it would create a second customer. Format the column as Text and type the key again as the server has it; --allow-excel-damage does not apply to keys"
            ),
            "{extra:?}: {held:?}"
        );
        let new = &by_key(&rows, "124")["_status"];
        assert!(new == "OK" || new == "SKIPPED", "{extra:?}: {new}");
    }
    let server = exported(&sb);
    assert_eq!(server.len(), customers + 1, "only 124 was created");
    assert!(!server.contains_key("123"));
    assert_eq!(server["00123"]["city"], "Kudus");
}

#[test]
fn a_held_update_can_be_sent_by_retry() {
    let sb = small_sandbox();
    TestEnv::new()
        .against(&sb)
        .file("m1.csv", "Kode,Nama,No HP\nEX-81,Toko A,081312591100\n")
        .args(["import", "m1.csv", "-e", "customers"])
        .run()
        .expect_code(0);
    let done = TestEnv::new()
        .against(&sb)
        .file("m2.csv", "Kode,Nama,No HP\nEX-81,Toko A,81312591100\n")
        .args(["import", "m2.csv", "-e", "customers", "--mode", "upsert"])
        .run();
    done.expect_code(1);
    assert_eq!(exported(&sb)["EX-81"]["phone"], "081312591100");
    // Retried as it is, the row is held again: its cell is still Excel's damage.
    let done = done
        .again()
        .against(&sb)
        .args(["retry", "m2.result.xlsx"])
        .run();
    done.expect_code(1);
    assert_eq!(exported(&sb)["EX-81"]["phone"], "081312591100");
    let done = done
        .again()
        .against(&sb)
        .args(["retry", "m2.result.xlsx", "--allow-excel-damage"])
        .run();
    done.expect_code(0);
    assert_eq!(exported(&sb)["EX-81"]["phone"], "81312591100");
}

#[test]
fn utf8_named_by_the_user_is_read_as_utf8_even_when_ascii_but_one_byte() {
    let bytes: &[u8] = b"Kode,Nama,Kota\nEX-75,Caf\xE9,Kudus\nEX-76,Toko Dua,Pati\n";
    let done = TestEnv::new()
        .file("c.csv", bytes)
        .args(["validate", "c.csv", "-e", "customers", "--out", "r.csv"])
        .args(["--encoding", "utf-8"])
        .run();
    done.expect_code(1);
    assert!(!done.stderr.contains("legacy code page"), "{}", done.stderr);
    let out = std::fs::read_to_string(done.path("r.csv")).unwrap();
    let bad = out.lines().find(|l| l.contains("EX-75")).unwrap();
    assert!(
        bad.contains("INVALID")
            && bad.contains("Nama (B2): holds the byte 0xE9, which is not UTF-8 text"),
        "{bad}"
    );
    let good = out.lines().find(|l| l.contains("EX-76")).unwrap();
    assert!(
        good.contains("VALID") && !good.contains("INVALID"),
        "{good}"
    );
}

#[test]
fn a_workbook_text_cell_is_a_change_not_excels_damage() {
    let sb = small_sandbox();
    TestEnv::new()
        .against(&sb)
        .file("m1.csv", "Kode,Nama,No HP\nEX-85,Toko A,05321234567\n")
        .args(["import", "m1.csv", "-e", "customers"])
        .run()
        .expect_code(0);
    // Typed as text in a workbook: the user meant the new number.
    let done = TestEnv::new()
        .against(&sb)
        .build("m2.xlsx", |path| {
            xlsx(path, "Customers", |ws| {
                for (c, h) in ["Kode", "Nama", "No HP"].iter().enumerate() {
                    ws.write_string(0, c as u16, *h).unwrap();
                }
                ws.write_string(1, 0, "EX-85").unwrap();
                ws.write_string(1, 1, "Toko A").unwrap();
                ws.write_string(1, 2, "5321234567").unwrap();
            })
        })
        .args(["import", "m2.xlsx", "-e", "customers", "--mode", "upsert"])
        .run();
    done.expect_code(0);
    assert_eq!(exported(&sb)["EX-85"]["phone"], "5321234567");
}
