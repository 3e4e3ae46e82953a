//! Shared test helpers: a fluent runner for the real binary in a temp dir, and readers
//! that turn a result workbook back into text cells with calamine.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use calamine::{Data, Reader, open_workbook_auto};

/// A run of the `sheetload` binary in its own temp dir (also its `SHEETLOAD_HOME`).
pub struct Run {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    envs: Vec<(String, String)>,
}

/// What a run produced.
pub struct Done {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub dir: PathBuf,
}

impl Run {
    pub fn new() -> Self {
        Run {
            dir: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// Path of a file inside the run's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a file into the run's directory.
    pub fn file(self, name: &str, bytes: impl AsRef<[u8]>) -> Self {
        std::fs::write(self.path(name), bytes).expect("write fixture");
        self
    }

    /// Let a closure build a file (e.g. an XLSX) at the given path.
    pub fn build(self, name: &str, f: impl FnOnce(&Path)) -> Self {
        f(&self.path(name));
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.args
            .extend(args.into_iter().map(|s| s.as_ref().to_string()));
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.envs.push((k.into(), v.into()));
        self
    }

    pub fn run(self) -> (Done, tempfile::TempDir) {
        let out: Output = Command::new(env!("CARGO_BIN_EXE_sheetload"))
            .args(&self.args)
            .current_dir(self.dir.path())
            .env("SHEETLOAD_HOME", self.dir.path())
            .env_remove("SHEETLOAD_PASSWORD")
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("run sheetload");
        let done = Done {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            dir: self.dir.path().to_path_buf(),
        };
        (done, self.dir)
    }
}

impl Done {
    /// Assert the exit code, showing stderr when it differs.
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "exit code {} (expected {expected})\nstderr:\n{}\nstdout:\n{}",
            self.code, self.stderr, self.stdout
        );
        self
    }

    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    /// Exactly one error sentence, no panic or backtrace.
    pub fn one_clear_error(&self) -> &Self {
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
        assert!(!self.stderr.contains("RUST_BACKTRACE"), "{}", self.stderr);
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "expected one error line:\n{}", self.stderr);
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// A `sheetload` command run in `dir` (also its `SHEETLOAD_HOME`) against a SalesMania
/// sandbox at `base_url` with the demo credentials and database 1.
pub fn demo_command(dir: &Path, base_url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sheetload"));
    c.current_dir(dir)
        .env("SHEETLOAD_HOME", dir)
        .env("SHEETLOAD_BASE_URL", base_url)
        .env("SHEETLOAD_USER", "demo")
        .env("SHEETLOAD_PASSWORD", "demo")
        .env("SHEETLOAD_DATABASE", "1");
    c
}

/// A sheet of a workbook as text cells (numbers as Rust formats them).
pub fn sheet(path: &Path, name: &str) -> Vec<Vec<String>> {
    let mut book = open_workbook_auto(path).expect("open result workbook");
    let range = book.worksheet_range(name).expect("sheet exists");
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|d| match d {
                    Data::Empty => String::new(),
                    Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                    Data::DateTime(dt) => match dt.as_datetime() {
                        Some(t) if t.time() == chrono::NaiveTime::MIN => {
                            t.format("%Y-%m-%d").to_string()
                        }
                        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
                        None => dt.to_string(),
                    },
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// Sheet names of a workbook.
pub fn sheet_names(path: &Path) -> Vec<String> {
    open_workbook_auto(path)
        .expect("open workbook")
        .sheet_names()
        .to_vec()
}

/// Rows of a sheet as header → value maps.
pub fn records(path: &Path, name: &str) -> Vec<std::collections::HashMap<String, String>> {
    let rows = sheet(path, name);
    let Some((head, body)) = rows.split_first() else {
        return Vec::new();
    };
    body.iter()
        .map(|r| {
            head.iter()
                .cloned()
                .zip(r.iter().cloned().chain(std::iter::repeat(String::new())))
                .collect()
        })
        .collect()
}

/// Write a simple XLSX: one sheet, each cell written by a closure.
pub fn xlsx(path: &Path, sheet: &str, write: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).expect("sheet name");
    write(ws);
    book.save(path).expect("save xlsx");
}
