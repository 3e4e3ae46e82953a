//! The result workbooks of the samples stay the same cell for cell when the readers and
//! writers are made faster: every sheet of each result (validate, a dry run and a real
//! import into a fresh in-process sandbox) is read back with calamine and compared with
//! `tests/it/golden/`, written from the binary before the speed work.
//!
//! Regenerate with `SHEETLOAD_WRITE_GOLDEN=1 cargo test --test it result_identity::`
//! (only when a change to the result is intended); `SHEETLOAD_GOLDEN_BIN=path` runs
//! another build of the binary instead (how the files were made: from `main`'s).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{TestEnv, sheet, sheet_names};

/// Summary lines that differ from run to run (time, paths, versions, run ids).
const VOLATILE: [&str; 10] = [
    "Checked at",
    "Seconds",
    "Rows per second",
    "Finished at",
    "Input",
    "File",
    "Target",
    "Run",
    "sheetload",
    "Duration",
];

/// (name of the golden file, sample, arguments after the input path).
const CASES: [(&str, &str, &[&str]); 11] = [
    (
        "validate-customers",
        "customers.xlsx",
        &["validate", "-e", "customers"],
    ),
    (
        "validate-customers-with-errors",
        "customers-with-errors.xlsx",
        &["validate", "-e", "customers"],
    ),
    (
        "validate-products",
        "products.csv",
        &["validate", "-e", "products"],
    ),
    (
        "validate-visits",
        "visits.csv",
        &["validate", "-e", "visits"],
    ),
    (
        "validate-orders",
        "orders.xlsx",
        &["validate", "-e", "orders"],
    ),
    (
        "validate-fatura",
        "fatura-customers.csv",
        &["validate", "--target", "fatura", "-e", "customers"],
    ),
    (
        "validate-trackfinity",
        "trackfinity-customers.csv",
        &["validate", "--target", "trackfinity", "-e", "customers"],
    ),
    (
        "dry-run-customers",
        "customers.xlsx",
        &["import", "-e", "customers", "--sandbox", "--dry-run"],
    ),
    (
        "import-customers",
        "customers.xlsx",
        &[
            "import",
            "-e",
            "customers",
            "--sandbox",
            "--concurrency",
            "1",
        ],
    ),
    (
        "import-customers-with-errors",
        "customers-with-errors.xlsx",
        &[
            "import",
            "-e",
            "customers",
            "--sandbox",
            "--concurrency",
            "1",
        ],
    ),
    (
        "import-products",
        "products.csv",
        &[
            "import",
            "-e",
            "products",
            "--sandbox",
            "--concurrency",
            "1",
        ],
    ),
];

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/golden")
        .join(format!("{name}.txt"))
}

/// Every sheet of a workbook as text: `== name`, then one line per row with its cells
/// separated by tabs (tabs and line breaks inside a cell escaped), volatile Summary lines
/// left out.
fn dump(path: &Path) -> String {
    let mut out = String::new();
    for name in sheet_names(path) {
        out.push_str(&format!("== {name}\n"));
        for row in sheet(path, &name) {
            if name == "Summary" && row.first().is_some_and(|k| VOLATILE.contains(&k.as_str())) {
                continue;
            }
            let cells: Vec<String> = row.iter().map(|c| c.escape_debug().to_string()).collect();
            out.push_str(cells.join("\t").trim_end());
            out.push('\n');
        }
    }
    out
}

#[test]
fn sample_results_are_unchanged_cell_for_cell() {
    let write = std::env::var_os("SHEETLOAD_WRITE_GOLDEN").is_some();
    let mut differ = Vec::new();
    for (name, sample, args) in CASES {
        let env = TestEnv::new().file(
            sample,
            std::fs::read(samples().join(sample)).expect("sample"),
        );
        let out = env.path("result.xlsx");
        let (command, rest) = args.split_first().expect("a command");
        let mut argv: Vec<String> = vec![command.to_string(), sample.to_string()];
        argv.extend(rest.iter().map(|s| s.to_string()));
        argv.extend(["--out".into(), out.display().to_string()]);
        let bin = std::env::var_os("SHEETLOAD_GOLDEN_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_sheetload").into());
        let ran = Command::new(bin)
            .current_dir(env.dir())
            .env("SHEETLOAD_HOME", env.dir())
            .env_remove("SHEETLOAD_PASSWORD")
            .env_remove("SHEETLOAD_BASE_URL")
            .args(&argv)
            .output()
            .expect("run sheetload");
        let code = ran.status.code().unwrap_or(-1);
        assert!(
            code == 0 || code == 1,
            "{name}: exit {code}\n{}",
            String::from_utf8_lossy(&ran.stderr)
        );
        let text = format!("exit {code}\n{}", dump(&out));
        if write {
            std::fs::create_dir_all(golden(name).parent().expect("dir")).expect("golden dir");
            std::fs::write(golden(name), &text).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(golden(name)).expect("golden file");
        if want != text {
            let first = want
                .lines()
                .zip(text.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .map(|(i, (a, b))| format!("line {}: was {a:?}, now {b:?}", i + 1))
                .unwrap_or_else(|| "lengths differ".into());
            differ.push(format!("{name}: {first}"));
        }
    }
    assert!(
        differ.is_empty(),
        "result workbooks changed:\n{}",
        differ.join("\n")
    );
}
