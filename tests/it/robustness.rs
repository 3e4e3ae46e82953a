//! No input makes sheetload panic: each bad file ends with one clear sentence and exit 2.

use std::io::Write;

use crate::common::{self, TestEnv};

fn validate(run: TestEnv, file: &str) -> common::Ran {
    run.args(["validate", file, "--entity", "customers"]).run()
}

#[test]
fn renamed_binary_file() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let done = validate(TestEnv::new().file("customers.xlsx", png), "customers.xlsx");
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("customers.xlsx is not a workbook");
    let done = validate(TestEnv::new().file("customers.csv", png), "customers.csv");
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("does not look like");
}

fn real_xlsx() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.xlsx");
    common::xlsx(&p, "Customers", |ws| {
        ws.write_string(0, 0, "Nama").unwrap();
        for r in 1..200 {
            ws.write_string(r, 0, format!("Toko {r}")).unwrap();
        }
    });
    std::fs::read(p).unwrap()
}

#[test]
fn truncated_xlsx() {
    let bytes = real_xlsx();
    let cut = &bytes[..bytes.len() / 2];
    let done = validate(TestEnv::new().file("customers.xlsx", cut), "customers.xlsx");
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("damaged or incomplete");
}

/// A zip whose directory declares gigabytes: refused before anything is unpacked.
#[test]
fn zip_bomb_xlsx() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("xl/workbook.xml", opts).unwrap();
        z.write_all(b"<workbook/>").unwrap();
        z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
        z.write_all(&[b' '; 4096]).unwrap();
        z.finish().unwrap();
    }
    let mut bytes = buf.into_inner();
    // Patch every central-directory entry's uncompressed size to ~4 GB.
    let mut i = 0;
    while i + 46 <= bytes.len() {
        if bytes[i..i + 4] == [0x50, 0x4b, 0x01, 0x02] {
            bytes[i + 24..i + 28].copy_from_slice(&0xF000_0000u32.to_le_bytes());
            i += 46;
        } else {
            i += 1;
        }
    }
    let done = validate(
        TestEnv::new().file("customers.xlsx", bytes),
        "customers.xlsx",
    );
    done.expect_code(2).one_clear_error().stderr_has("zip bomb");
}

#[test]
fn twenty_thousand_columns() {
    let mut csv = String::from("Nama");
    for i in 1..20_000 {
        csv.push_str(&format!(",c{i}"));
    }
    csv.push_str("\nToko A");
    csv.push_str(&",x".repeat(19_999));
    csv.push('\n');
    let done = validate(TestEnv::new().file("wide.csv", csv), "wide.csv");
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("20000 columns");
}

#[test]
fn one_megabyte_cell() {
    // Its row is refused with the cell named; the file is still read (issue 18, point 13).
    let csv = format!("Nama,Alamat\nToko A,{}\n", "x".repeat(1 << 20));
    let done = TestEnv::new()
        .file("big.csv", csv)
        .args(["validate", "big.csv", "--entity", "customers"])
        .run();
    done.expect_code(1);
    let rows = done.records("big.result.xlsx", "Results");
    assert!(
        rows[0]["_error"].starts_with("Alamat (B2): holds 1048576 characters"),
        "{}",
        rows[0]["_error"]
    );
}

#[test]
fn empty_file() {
    let done = validate(TestEnv::new().file("empty.csv", ""), "empty.csv");
    done.expect_code(2).one_clear_error().stderr_has("is empty");
    let done = validate(TestEnv::new().file("blank.csv", "\n\n  \n"), "blank.csv");
    done.expect_code(2).one_clear_error();
}

#[test]
fn header_only() {
    let done = validate(TestEnv::new().file("h.csv", "Nama,Alamat\n"), "h.csv");
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("no data rows");
    let done = validate(
        TestEnv::new().build("h.xlsx", |p| {
            common::xlsx(p, "Customers", |ws| {
                ws.write_string(0, 0, "Nama").unwrap();
            })
        }),
        "h.xlsx",
    );
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("no data rows");
    assert!(
        !done.path("h.result.xlsx").exists(),
        "no result for a failed run"
    );
}

#[test]
fn missing_file_and_folder() {
    let done = validate(TestEnv::new(), "nope.xlsx");
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("no such file");
    let run = TestEnv::new();
    std::fs::create_dir(run.path("dir.csv")).unwrap();
    validate(run, "dir.csv")
        .expect_code(2)
        .one_clear_error()
        .stderr_has("is a folder");
}

#[test]
fn zip_that_is_not_a_workbook() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file("readme.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(b"hello").unwrap();
        z.finish().unwrap();
    }
    let done = validate(
        TestEnv::new().file("customers.xlsx", buf.into_inner()),
        "customers.xlsx",
    );
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("not a spreadsheet");
}

#[test]
fn garbage_bytes_never_panic() {
    // A spread of hostile inputs, each with several extensions.
    let inputs: Vec<Vec<u8>> = vec![
        vec![0xff; 10],
        b"PK\x03\x04garbage".to_vec(),
        vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0],
        b"\"unterminated,quote\nNama\n".to_vec(),
        b"\xef\xbb\xbf".to_vec(),
        b"\xff\xfe".to_vec(),
        b"Nama\n\xff\xfe\xfa\n".to_vec(),
    ];
    for (i, bytes) in inputs.into_iter().enumerate() {
        for ext in ["csv", "xlsx", "xls", "ods", "xlsb"] {
            let name = format!("f{i}.{ext}");
            let done = validate(TestEnv::new().file(&name, &bytes), &name);
            assert!(
                done.code == 1 || done.code == 2,
                "{name}: exit {} {}",
                done.code,
                done.stderr
            );
            assert!(!done.stderr.contains("panicked"), "{name}: {}", done.stderr);
        }
    }
}
