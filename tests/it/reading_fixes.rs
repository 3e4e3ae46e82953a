//! Reading and mapping defects of issue 36, each shown end to end with the real binary:
//! CSV row numbers after blank lines, the sheet chosen by its headers, headers nobody
//! knows, two-digit years under a four-digit format, macros that are not read, and
//! repeated warnings counted instead of flooding the terminal.

use crate::common::{TestEnv, records};

// ---------------------------------------------------------------------------------------
// CSV row numbers after a blank line
// ---------------------------------------------------------------------------------------

/// A record after a blank line is named by its own line, not the line its read began on.
#[test]
fn csv_rows_after_a_blank_line_keep_their_own_line() {
    let csv = "Kode Pelanggan,Nama,Lintang,Bujur\n\
               C1,Toko A,-7.1,110.4\n\
               \n\
               C2,Toko B,#CLEAR,110.47\n\
               \n\
               \n\
               C3,Toko C,#CLEAR,110.47";
    let done = TestEnv::new()
        .file("c.csv", csv)
        .args(["validate", "c.csv", "-e", "customers", "--mode", "update"])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows[1]["_row"], "4", "{:?}", rows[1]);
    assert!(rows[1]["_error"].contains("(C4)"), "{}", rows[1]["_error"]);
    // The last line has no line break of its own.
    assert_eq!(rows[2]["_row"], "7", "{:?}", rows[2]);
    assert!(rows[2]["_error"].contains("(C7)"), "{}", rows[2]["_error"]);
}

// ---------------------------------------------------------------------------------------
// A two-digit year under a four-digit --date-format
// ---------------------------------------------------------------------------------------

/// `05/12/26` under `%m/%d/%Y` is refused with the fix, never sent as the year 0026.
#[test]
fn a_two_digit_year_under_a_four_digit_format_is_refused_with_the_fix() {
    let done = TestEnv::new()
        .file(
            "v.csv",
            "Tanggal,Kode Pelanggan\n05/12/26,C1\n05/12/2026,C2\n",
        )
        .args([
            "validate",
            "v.csv",
            "-e",
            "visits",
            "--date-format",
            "%m/%d/%Y",
        ])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("v.result.xlsx"), "Results");
    assert_eq!(rows[0]["_status"], "INVALID", "{:?}", rows[0]);
    let err = &rows[0]["_error"];
    assert!(
        err.contains("05/12/2026") && err.contains("--date-format %m/%d/%y"),
        "{err}"
    );
    assert_eq!(rows[1]["_status"], "VALID", "{:?}", rows[1]);
}

// ---------------------------------------------------------------------------------------
// Repeated warnings are counted, not printed each time
// ---------------------------------------------------------------------------------------

/// A mapping file with many entries that match nothing prints a few warnings and a count.
#[test]
fn repeated_warnings_are_counted_not_printed_each_time() {
    let mut map = String::from("[columns]\n");
    for i in 0..2_000 {
        let field = ["name", "phone", "address"][i % 3];
        map.push_str(&format!("\"Kolom Hilang {i}\" = \"{field}\"\n"));
    }
    let done = TestEnv::new()
        .file("c.csv", "Kode Pelanggan,Nama\nC1,Toko A\n")
        .file("m.toml", map)
        .args(["validate", "c.csv", "-e", "customers", "--map", "m.toml"])
        .run();
    let told = done
        .stderr
        .lines()
        .filter(|l| l.contains("matches no column"))
        .count();
    assert!(told <= 6, "{told} lines:\n{}", done.stderr);
    assert!(
        done.stderr.contains("… and 1,995 more like it"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.len() < 10_000, "{} bytes", done.stderr.len());
}

// ---------------------------------------------------------------------------------------
// A workbook with macros
// ---------------------------------------------------------------------------------------

/// Set the compression method of the zip entry `name` to `method` in its local header
/// and its central-directory record: a part no reader of this file can unpack.
fn set_method(zip: &mut [u8], name: &[u8], method: u16) {
    let mut patched = 0;
    for at in 0..zip.len().saturating_sub(name.len()) {
        if &zip[at..at + name.len()] != name {
            continue;
        }
        if at >= 30 && zip[at - 30..at - 26] == *b"PK\x03\x04" {
            zip[at - 30 + 8..at - 30 + 10].copy_from_slice(&method.to_le_bytes());
            patched += 1;
        } else if at >= 46 && zip[at - 46..at - 42] == *b"PK\x01\x02" {
            zip[at - 46 + 10..at - 46 + 12].copy_from_slice(&method.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "both headers of the entry");
}

/// An `.xlsm` whose macro part is not what any reader expects (stored with a method
/// nobody unpacks, or bytes that are no VBA project): the sheets are read and a note
/// says the macros were ignored.
#[test]
fn a_workbook_with_macros_is_read_and_its_macros_ignored() {
    let noise: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for unpackable in [true, false] {
        let done = TestEnv::new()
            .file("vbaProject.bin", &noise)
            .build("m.xlsm", |path| {
                let mut book = rust_xlsxwriter::Workbook::new();
                let dir = path.parent().expect("dir");
                book.add_vba_project(dir.join("vbaProject.bin"))
                    .expect("vba");
                let sheet = book.add_worksheet();
                sheet.set_name("Pelanggan").expect("name");
                for (c, h) in ["Kode Pelanggan", "Nama"].iter().enumerate() {
                    sheet.write_string(0, c as u16, *h).expect("write");
                }
                sheet.write_string(1, 0, "C1").expect("write");
                sheet.write_string(1, 1, "Toko A").expect("write");
                book.save(path).expect("save");
                if !unpackable {
                    let mut bytes = std::fs::read(path).expect("read");
                    // Deflate64: neither the zip crate nor calamine unpacks it.
                    set_method(&mut bytes, b"xl/vbaProject.bin", 9);
                    std::fs::write(path, bytes).expect("write");
                }
            })
            .args(["validate", "m.xlsm", "-e", "customers", "--mode", "update"])
            .run();
        done.expect_code(0);
        assert!(
            done.stderr
                .contains("macros (xl/vbaProject.bin) were ignored"),
            "{}",
            done.stderr
        );
        let rows = records(&done.path("m.result.xlsx"), "Results");
        assert_eq!(rows.len(), 1, "{unpackable}");
        assert_eq!(rows[0]["_status"], "VALID", "{:?}", rows[0]);
    }
}

// ---------------------------------------------------------------------------------------
// The sheet chosen by its headers
// ---------------------------------------------------------------------------------------

/// A first sheet of instructions before the data: the sheet whose headers name the
/// entity's fields is read, and the run says which and why.
#[test]
fn the_sheet_whose_headers_match_the_entity_is_taken() {
    let done = TestEnv::new()
        .build("c.xlsx", |path| {
            let mut book = rust_xlsxwriter::Workbook::new();
            let help = book.add_worksheet();
            help.set_name("Petunjuk").expect("name");
            help.write_string(0, 0, "Isi satu pelanggan per baris.")
                .expect("write");
            help.write_string(1, 0, "Kolom Kode Pelanggan wajib diisi.")
                .expect("write");
            let data = book.add_worksheet();
            data.set_name("Pelanggan").expect("name");
            for (c, h) in ["Kode Pelanggan", "Nama", "Kota"].iter().enumerate() {
                data.write_string(0, c as u16, *h).expect("write");
            }
            for r in 1..=3u32 {
                data.write_string(r, 0, format!("C{r}")).expect("write");
                data.write_string(r, 1, format!("Toko {r}")).expect("write");
                data.write_string(r, 2, "Semarang").expect("write");
            }
            book.save(path).expect("save");
        })
        .args(["validate", "c.xlsx", "-e", "customers", "--mode", "update"])
        .run();
    done.expect_code(0);
    done.stderr_has("reading sheet \"Pelanggan\" (of 2): its headers name the most fields");
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|r| r["_status"] == "VALID"), "{rows:?}");
}

// ---------------------------------------------------------------------------------------
// Headers the entity does not know
// ---------------------------------------------------------------------------------------

/// Turkish headers on a SalesMania customers file: the run says no header row matched,
/// shows the first rows, and how to map them, instead of only a missing field.
#[test]
fn headers_the_entity_does_not_know_are_explained_with_the_first_rows() {
    let csv = "Müşteri Kodu;Müşteri Adı;Şehir\n\
               M1;Toko Sinar;İzmir\n\
               M2;Ahmet Gıda;Ankara\n";
    let done = TestEnv::new()
        .file("t.csv", csv)
        .args(["validate", "t.csv", "-e", "customers"])
        .run();
    done.expect_code(2);
    done.one_clear_error();
    done.stderr_has("no header row of t.csv names the fields of customers")
        .stderr_has("row 1: \"Müşteri Kodu\", \"Müşteri Adı\", \"Şehir\"")
        .stderr_has("row 2: \"M1\", \"Toko Sinar\", \"İzmir\"")
        .stderr_has("--map")
        .stderr_has("--header-row N");
}
