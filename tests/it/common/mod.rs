//! Shared test helpers: [`TestEnv`], the fluent runner of the real binary (temp dir,
//! sandbox, files, arguments), readers of a running sandbox's stats, and readers that
//! turn a result workbook back into text cells with calamine.

mod env;
mod sandbox;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};

pub use env::{Ran, Target, TestEnv, connected, demo_command, sheetload_in};
pub use sandbox::{count, records_in_db, sandbox_get, spawn_sandbox, writes};

/// A row of a result sheet: header → text cell.
pub type Row = HashMap<String, String>;

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
pub fn records(path: &Path, name: &str) -> Vec<Row> {
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

/// How many rows have each `_status`.
pub fn statuses(rows: &[Row]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in rows {
        *m.entry(r["_status"].clone()).or_default() += 1;
    }
    m
}

/// Rewrite a result workbook as Excel would save it after a user fixed its Failed sheet:
/// `header`'s column set to `value` on every failed row, and the Summary that names the
/// run (what `retry` reads).
pub fn fix_failed(result: &Path, header: &str, value: &str) {
    let failed = sheet(result, "Failed");
    let summary = sheet(result, "Summary");
    let col = failed[0].iter().position(|h| h == header).expect("column");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("Failed").unwrap();
    for (i, r) in failed.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            let v = if i > 0 && c == col { value } else { v.as_str() };
            ws.write_string(i as u32, c as u16, v).unwrap();
        }
    }
    let ws = book.add_worksheet();
    ws.set_name("Summary").unwrap();
    for (i, r) in summary.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            ws.write_string(i as u32, c as u16, v).unwrap();
        }
    }
    book.save(result).unwrap();
}

/// Every part of a zip package (XLSX) as one text, to search it for what must not be there.
pub fn unzip_all(path: &Path) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut all = String::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let _ = f.read_to_string(&mut all);
    }
    all
}

/// What a child prints on `pipe`, collected line by line by a thread as it comes, so
/// that a test can wait for a note ([`wait_for_text`]) while the child runs on.
pub fn collect(
    pipe: impl std::io::Read + Send + 'static,
) -> std::sync::Arc<std::sync::Mutex<String>> {
    use std::io::BufRead;
    let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = text.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut s = sink
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            s.push_str(&line);
            s.push('\n');
        }
    });
    text
}

/// Wait (at most 30 s) until `text` holds `note`.
pub fn wait_for_text(text: &std::sync::Mutex<String>, note: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !text.lock().unwrap().contains(note) {
        assert!(
            std::time::Instant::now() < deadline,
            "never printed {note:?}:\n{}",
            text.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
