//! Replays the fuzzing inputs kept in the repository through the fuzz harnesses, so that
//! plain `cargo test` guards what fuzzing found (issue #8):
//!
//! - `fuzz/seeds/<target>/*`: the seed corpus of each cargo-fuzz target;
//! - `fuzz/regressions/<target>/*`: every input that once crashed a target.
//!
//! The harnesses are the fuzz targets' own code (`fuzz/src/lib.rs`, included below), so a
//! crash found by `cargo fuzz run` fails here the same way once its input is copied into
//! `fuzz/regressions/<target>/`. See `fuzz/README.md`.

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod harness;

use std::path::{Path, PathBuf};

fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Crash inputs whose fix has not landed: the replay skips them, and each one fails in
/// its own `#[ignore]`d test below (none now: every crash found so far is fixed).
const OPEN: &[&str] = &[];

/// Run every input of `fuzz/<kind>/<target>/` (but the open ones), naming the file that fails.
fn replay(kind: &str, target: &str) -> usize {
    let files: Vec<PathBuf> = inputs(kind, target)
        .into_iter()
        .filter(|p| {
            let name = format!("{target}/{}", p.file_name().unwrap().to_string_lossy());
            !OPEN.contains(&name.as_str())
        })
        .collect();
    for path in &files {
        replay_one(target, path);
    }
    files.len()
}

fn replay_one(target: &str, path: &Path) {
    let data = std::fs::read(path).unwrap();
    let outcome = std::panic::catch_unwind(|| harness::run(target, &data));
    if let Err(panic) = outcome {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        panic!("fuzz input {} fails: {why}", path.display());
    }
}

fn regression(target: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target)
        .join(name)
}

/// Run `f` on another thread; fail if it has not finished within `secs` (a hang).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(Ok(v)) => v,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("still running after {secs} s: a hang"),
    }
}

#[test]
fn every_target_has_seeds() {
    for target in harness::TARGETS {
        assert!(
            !inputs("seeds", target).is_empty(),
            "fuzz/seeds/{target}/ has no seed"
        );
    }
}

#[test]
fn seeds_csv_reader() {
    replay("seeds", "csv_reader");
}

#[test]
fn seeds_workbook_reader() {
    replay("seeds", "workbook_reader");
}

#[test]
fn seeds_value_parsers() {
    replay("seeds", "value_parsers");
}

#[test]
fn seeds_mapping_file() {
    replay("seeds", "mapping_file");
}

#[test]
fn seeds_response_parsers() {
    replay("seeds", "response_parsers");
}

#[test]
fn regressions_all_targets() {
    for target in harness::TARGETS {
        replay("regressions", target);
    }
}

/// The seeds' workbooks are in the form the fuzzer mutates best (parts, zipped by the
/// harness); make sure that form still yields a real workbook.
#[test]
fn parts_form_builds_a_workbook() {
    let parts = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/workbook_reader/tiny_xlsx.parts"),
    )
    .unwrap();
    let zip = harness::parts_to_zip(&parts).expect("parts form");
    assert!(zip.starts_with(b"PK\x03\x04"));
}

// ---------------------------------------------------------------------------
// Crashes found by fuzzing and not fixed yet (see OPEN above and fuzz/README.md)
// ---------------------------------------------------------------------------

/// The 1024-byte XLS of `xls_cfb_sector_past_eof.xls`: a compound-file header whose only
/// FAT sector is sector 2, i.e. one past the last 512-byte sector of the file, as in an
/// .xls cut short by a failed download.
fn truncated_cfb() -> Vec<u8> {
    let mut xls = Vec::new();
    xls.extend_from_slice(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"); // signature
    xls.extend_from_slice(&[0; 16]); // CLSID
    // minor version 0x3E, major 3, byte order FFFE, sector shift 9 (512), mini shift 6
    xls.extend_from_slice(b"\x3e\x00\x03\x00\xfe\xff\x09\x00\x06\x00");
    xls.extend_from_slice(&[0; 10]); // reserved, directory sector count
    xls.extend_from_slice(b"\x01\x00\x00\x00"); // one FAT sector
    xls.extend_from_slice(b"\x00\x00\x00\x00"); // first directory sector 0
    xls.extend_from_slice(b"\x00\x00\x00\x00"); // transaction signature
    xls.extend_from_slice(b"\x00\x10\x00\x00"); // mini stream cutoff 4096
    xls.extend_from_slice(b"\xfe\xff\xff\xff\x00\x00\x00\x00"); // no mini FAT
    xls.extend_from_slice(b"\xfe\xff\xff\xff\x00\x00\x00\x00"); // no DIFAT sectors
    xls.extend_from_slice(b"\x02\x00\x00\x00"); // DIFAT[0]: the FAT is in sector 2
    xls.resize(512, 0xff); // the other 108 DIFAT entries unused
    xls.resize(1024, 0); // one data sector (sector 0)
    xls
}

fn open_bytes(bytes: &[u8], ext: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("input.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    let table = sheetload::input::open(
        &path,
        &sheetload::input::ReadOptions::default(),
        &|_: &[String]| 0,
    )
    .map_err(|e| e.to_string())?;
    for row in table.rows().map_err(|e| e.to_string())? {
        row.map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[test]
fn truncated_cfb_is_the_regression_file() {
    let file = std::fs::read(regression("workbook_reader", "xls_cfb_sector_past_eof.xls")).unwrap();
    assert_eq!(file, truncated_cfb());
}

#[test]
fn xls_with_sector_past_eof_is_an_error_not_a_panic() {
    let outcome = std::panic::catch_unwind(|| open_bytes(&truncated_cfb(), "xls"));
    let result = outcome.expect("input::open panicked on a truncated .xls");
    let err = result.expect_err("a truncated .xls cannot be read");
    assert!(err.contains("save it again"), "unhelpful error: {err}");
    replay_one(
        "workbook_reader",
        &regression("workbook_reader", "xls_cfb_sector_past_eof.xls"),
    );
}

#[test]
fn ods_with_unclosed_table_is_an_error_not_a_hang() {
    let parts = std::fs::read(regression("workbook_reader", "ods_unclosed_table.parts")).unwrap();
    let ods = harness::parts_to_zip(&parts).expect("parts form");
    let result = within(10, move || open_bytes(&ods, "ods"));
    let err = result.expect_err("an unclosed table cannot be read");
    assert!(err.contains("save it again"), "unhelpful error: {err}");
}

#[test]
fn email_turkish_capital_i() {
    use sheetload::validate::values::parse_email;
    let text = std::fs::read_to_string(regression("value_parsers", "email_turkish_capital_i.txt"))
        .unwrap();
    assert_eq!(text, "INFO@SİRKET.COM.TR");
    if let Ok(email) = parse_email(&text) {
        assert!(!email.contains('\u{307}'), "{email:?} has a combining dot");
        assert_eq!(
            parse_email(&email),
            Ok(email.clone()),
            "normal form refused"
        );
    }
}
