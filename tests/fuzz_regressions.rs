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
#[path = "../fuzz/src/lib.rs"]
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

/// Run every input of `fuzz/<kind>/<target>/`, naming the file that fails.
fn replay(kind: &str, target: &str) -> usize {
    let files = inputs(kind, target);
    for path in &files {
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
    files.len()
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
