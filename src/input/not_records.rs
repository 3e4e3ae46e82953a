//! Rows that are not records: a row under the header that describes the columns
//! (`(wajib)` / `(opsional)`, `required`, `contoh: 0812…`, the shape of templates that
//! explain their columns) and a row that sums them (`Total | 2`, `Jumlah`, `Toplam`).
//! Every pass over a table leaves them out the same way, and the run names them, so
//! that they are never sent as records and never silently dropped either.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::Cell;

/// Words that, alone in a cell, say whether a column must be filled in.
const DESCRIBING_WORDS: &[&str] = &[
    "required",
    "optional",
    "mandatory",
    "wajib",
    "wajib diisi",
    "harus diisi",
    "opsional",
    "tidak wajib",
    "boleh kosong",
    "zorunlu",
    "zorunlu değil",
    "opsiyonel",
    "isteğe bağlı",
];

/// Words that start a cell explaining what goes in a column (`contoh: 0812…`).
const DESCRIBING_PREFIXES: &[&str] = &[
    "contoh:",
    "example:",
    "e.g.",
    "format:",
    "örnek:",
    "misal:",
    "isi dengan",
];

/// Words that, alone in the first cell of a row of numbers, make it a sum.
const SUM_WORDS: &[&str] = &[
    "total",
    "totals",
    "grand total",
    "sub total",
    "subtotal",
    "sum",
    "jumlah",
    "jumlah total",
    "total jumlah",
    "toplam",
    "genel toplam",
    "ara toplam",
];

/// Whether a cell explains its column rather than holding a value.
fn describes(text: &str) -> bool {
    let t = text.trim();
    let wrapped = |open: char, close: char| t.starts_with(open) && t.ends_with(close);
    if t.len() >= 3 && (wrapped('(', ')') || wrapped('[', ']')) {
        return true;
    }
    let lower = t.trim_matches('*').trim().to_lowercase();
    DESCRIBING_WORDS.contains(&lower.as_str())
        || DESCRIBING_PREFIXES.iter().any(|p| lower.starts_with(p))
}

/// Whether a cell holds a number as sums show them (`2`, `1.250.000`, `-3,5`).
fn numeric(text: &str) -> bool {
    let t = text.trim();
    t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b',' | b'-' | b'+' | b' '))
}

/// Why the row is not a record, if it is not: the reason, naming what it holds.
/// `before_records` says no record has been read yet (a describing row only stands
/// under the header).
pub(super) fn reason(cells: &[Cell], before_records: bool) -> Option<String> {
    let mut filled = cells.iter().filter(|c| !c.is_empty());
    let first = filled.next()?;
    if before_records {
        if describes(&first.text) && filled.clone().all(|c| describes(&c.text)) {
            return Some(format!("describes the columns ({})", shown(cells)));
        }
        return None;
    }
    let label = first.text.trim().trim_end_matches(':').trim();
    // Every sum word is ASCII: compared without a lowercase copy of every row's cell.
    if label.len() <= 16
        && SUM_WORDS.iter().any(|w| w.eq_ignore_ascii_case(label))
        && filled.all(|c| numeric(&c.text))
    {
        return Some(format!("sums the rows above ({})", shown(cells)));
    }
    None
}

/// The row's filled cells as `a | b | c`, the first few.
fn shown(cells: &[Cell]) -> String {
    let filled: Vec<&str> = cells
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| c.text.trim())
        .collect();
    let mut s: String = filled
        .iter()
        .take(4)
        .copied()
        .collect::<Vec<_>>()
        .join(" | ");
    if filled.len() > 4 {
        s.push_str(" | …");
    }
    s.chars().take(120).collect()
}

/// The rows of a table left out as not records, by row number, with why; shared by the
/// table's passes (each finds the same rows).
#[derive(Debug, Clone, Default)]
pub struct LeftOut(Arc<Mutex<BTreeMap<u32, String>>>);

impl LeftOut {
    /// Note that row `row` was left out because it `why` (`sums the rows above …`).
    pub(super) fn add(&self, row: u32, why: String) {
        if let Ok(mut m) = self.0.lock() {
            m.entry(row).or_insert(why);
        }
    }

    /// What a run says of them: `2 rows are not records and were left out: row 2
    /// describes the columns (…); row 9 sums the rows above (Total | 2)`; `None` when
    /// every row was a record.
    pub fn note(&self) -> Option<String> {
        let m = self.0.lock().ok()?;
        if m.is_empty() {
            return None;
        }
        let listed: Vec<String> = m
            .iter()
            .take(10)
            .map(|(row, why)| format!("row {row} {why}"))
            .collect();
        let more = if m.len() > 10 {
            format!("; and {} more", m.len() - 10)
        } else {
            String::new()
        };
        let head = if m.len() == 1 {
            "1 row is not a record".to_string()
        } else {
            format!("{} rows are not records", m.len())
        };
        Some(format!(
            "{head} and left out, never sent: {}{more}; if one is a record, change the text that makes it look like a column note or a total",
            listed.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<Cell> {
        cells.iter().map(|c| Cell::text(*c)).collect()
    }

    #[test]
    fn a_row_explaining_the_columns_under_the_header_is_no_record() {
        let r = row(&["(wajib)", "(wajib)", "(opsional)", ""]);
        assert_eq!(
            reason(&r, true).as_deref(),
            Some("describes the columns ((wajib) | (wajib) | (opsional))")
        );
        assert!(reason(&row(&["Required", "optional", "contoh: 0812"]), true).is_some());
        // Below the first record it is data (whatever it is).
        assert_eq!(reason(&r, false), None);
        // A record with one parenthesised value is a record.
        assert_eq!(reason(&row(&["C1", "(PT) Maju", "Semarang"]), true), None);
    }

    #[test]
    fn a_row_summing_the_columns_is_no_record() {
        assert!(reason(&row(&["Total", "2"]), false).is_some());
        assert!(reason(&row(&["", "JUMLAH:", "1.250.000", ""]), false).is_some());
        assert!(reason(&row(&["Toplam", "2", "3,5"]), false).is_some());
        // A customer called Total in Semarang is a record.
        assert_eq!(reason(&row(&["Total", "Semarang"]), false), None);
        assert_eq!(reason(&row(&["C9", "Total", "2"]), false), None);
    }

    #[test]
    fn the_note_names_each_row() {
        let l = LeftOut::default();
        assert_eq!(l.note(), None);
        l.add(9, "sums the rows above (Total | 2)".into());
        l.add(2, "describes the columns ((wajib))".into());
        l.add(9, "again".into());
        let note = l.note().unwrap();
        assert!(
            note.starts_with("2 rows are not records and left out, never sent: row 2 describes the columns ((wajib)); row 9 sums the rows above (Total | 2)"),
            "{note}"
        );
    }
}
