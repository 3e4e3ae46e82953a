//! The result workbook: `Results` (status columns + the input row), `Failed` (failed rows
//! in the input's own layout, re-importable as is) and `Summary`; or one CSV instead.
//!
//! Rows are streamed: XLSX sheets use rust_xlsxwriter's constant-memory mode, so memory
//! does not grow with the row count.

use std::fs::File;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatBorder, Workbook, Worksheet, XlsxError};

use super::{Status, csv_safe};
use crate::error::{Error, Result};
use crate::input::{Cell, CellKind, MAX_CELL_CHARS, RawRow};

/// Rows one sheet holds, header excluded.
const MAX_SHEET_ROWS: u32 = 1_048_575;
/// Columns one sheet holds.
const MAX_SHEET_COLUMNS: usize = 16_384;

/// The result columns a run fills for one row.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// `_status`.
    pub status: Option<Status>,
    /// `_action` (create / update / skip …).
    pub action: Option<crate::spec::Verb>,
    /// `_id`, the created or matched remote id.
    pub id: Option<String>,
    /// `_http`, the last HTTP status.
    pub http: Option<u16>,
    /// `_error`, every reason.
    pub error: String,
    /// `_attempts`.
    pub attempts: Option<u32>,
    /// `_payload`, the JSON that would be / was sent.
    pub payload: Option<String>,
    /// `_changes`: for an update, each field that changes, old → new.
    pub changes: String,
}

/// Which optional result columns this kind of run shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Columns {
    /// Show `_action`.
    pub action: bool,
    /// Show `_id` and `_http`.
    pub remote: bool,
    /// Show `_attempts`.
    pub attempts: bool,
    /// Show `_payload`.
    pub payload: bool,
    /// Show `_changes` (imports: what an update changes).
    pub changes: bool,
}

/// A result column before the input's own: which outcome field it shows. Rows are
/// written by matching these, not their names (a string comparison per column per row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Front {
    Row,
    Status,
    Action,
    Id,
    Http,
    Error,
    Changes,
    Attempts,
}

impl Front {
    /// The column's title.
    fn name(self) -> &'static str {
        match self {
            Front::Row => "_row",
            Front::Status => "_status",
            Front::Action => "_action",
            Front::Id => "_id",
            Front::Http => "_http",
            Front::Error => "_error",
            Front::Changes => "_changes",
            Front::Attempts => "_attempts",
        }
    }
}

impl Columns {
    fn front(&self) -> Vec<Front> {
        let mut v = vec![Front::Row, Front::Status];
        if self.action {
            v.push(Front::Action);
        }
        if self.remote {
            v.extend([Front::Id, Front::Http]);
        }
        v.push(Front::Error);
        if self.changes {
            v.push(Front::Changes);
        }
        if self.attempts {
            v.push(Front::Attempts);
        }
        v
    }
}

/// Key/value lines and counts for the `Summary` sheet.
#[derive(Debug, Clone, Default)]
pub struct SummaryData {
    /// (label, value) lines, in order.
    pub lines: Vec<(String, String)>,
    /// (count of rows, description) per kind of error, most frequent first.
    pub error_groups: Vec<(usize, String)>,
    /// (count of rows, description) per kind of warning, most frequent first.
    pub warning_groups: Vec<(usize, String)>,
}

/// Counts per kind as (count, kind), most frequent first, then by kind: the order of
/// the Summary sheet's tables and of the terminal summary.
pub fn ranked(counts: std::collections::HashMap<String, usize>) -> Vec<(usize, String)> {
    let mut groups: Vec<(usize, String)> = counts.into_iter().map(|(k, n)| (n, k)).collect();
    groups.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    groups
}

/// Where result rows go.
pub trait ResultSink: Send {
    /// Write one row's outcome next to its input cells.
    fn row(&mut self, row: &RawRow, outcome: &Outcome) -> Result<()>;
    /// Write the summary and move the file into place.
    fn finish(self: Box<Self>, summary: &SummaryData) -> Result<PathBuf>;
}

/// Open the right writer for `path` (`.csv` → CSV, anything else → XLSX).
pub fn create(path: &Path, headers: &[String], columns: Columns) -> Result<Box<dyn ResultSink>> {
    create_with_sheet_limit(path, headers, columns, MAX_SHEET_ROWS)
}

/// [`create`], leaving the `secret` columns (passwords) empty in every sheet: a result
/// workbook is shared and mailed around, and an empty cell re-imports as "unchanged".
pub fn create_masked(
    path: &Path,
    headers: &[String],
    columns: Columns,
    secret: &[usize],
) -> Result<Box<dyn ResultSink>> {
    let inner = create_with_sheet_limit(path, headers, columns, MAX_SHEET_ROWS)?;
    if secret.is_empty() {
        return Ok(inner);
    }
    Ok(Box::new(Masked {
        inner,
        secret: secret.to_vec(),
    }))
}

/// A sink that empties some input cells before writing.
struct Masked {
    inner: Box<dyn ResultSink>,
    secret: Vec<usize>,
}

impl ResultSink for Masked {
    fn row(&mut self, row: &RawRow, outcome: &Outcome) -> Result<()> {
        let mut row = row.clone();
        for &c in &self.secret {
            if let Some(cell) = row.cells.get_mut(c) {
                *cell = Cell::empty();
            }
        }
        self.inner.row(&row, outcome)
    }

    fn finish(self: Box<Self>, summary: &SummaryData) -> Result<PathBuf> {
        self.inner.finish(summary)
    }
}

/// [`create`] with a smaller rows-per-sheet limit, so that the overflow onto
/// `Results (2)` can be exercised without writing a million rows.
pub fn create_with_sheet_limit(
    path: &Path,
    headers: &[String],
    columns: Columns,
    sheet_rows: u32,
) -> Result<Box<dyn ResultSink>> {
    // Result columns of an earlier run (`_status` … on a retried Failed sheet) are stale:
    // this run writes its own.
    let keep: Vec<usize> = (0..headers.len())
        .filter(|&i| !headers[i].starts_with('_'))
        .collect();
    let mut keep = keep;
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("tsv"));
    // `Results` adds its status columns, `Failed` three: an input as wide as a sheet
    // cannot keep all of its columns in either.
    let room = MAX_SHEET_COLUMNS
        - (columns.front().len() + usize::from(columns.payload))
            .max(["_row", "_status", "_error"].len());
    let left_out = if is_csv {
        Vec::new()
    } else {
        fit_columns(&mut keep, headers, room)
    };
    let kept: Vec<String> = keep.iter().map(|&i| headers[i].clone()).collect();
    let inner: Box<dyn ResultSink> = if is_csv {
        Box::new(CsvSink::new(path, &kept, columns)?)
    } else {
        let mut sink = XlsxSink::new(path, &kept, columns, sheet_rows.clamp(1, MAX_SHEET_ROWS))?;
        sink.left_out = describe_left_out(headers, &left_out);
        Box::new(sink)
    };
    if keep.len() == headers.len() {
        Ok(inner)
    } else {
        Ok(Box::new(Projected { inner, keep }))
    }
}

/// Drop input columns from `keep` until `room` are left: first those with an empty
/// header (they carry nothing that can be imported), then the rightmost. Returns the
/// dropped ones, in column order.
fn fit_columns(keep: &mut Vec<usize>, headers: &[String], room: usize) -> Vec<usize> {
    let mut dropped = Vec::new();
    while keep.len() > room {
        let at = keep
            .iter()
            .rposition(|&i| headers[i].trim().is_empty())
            .unwrap_or(keep.len() - 1);
        dropped.push(keep.remove(at));
    }
    dropped.sort_unstable();
    dropped
}

/// The Summary line naming the columns a too-wide input lost in the result.
fn describe_left_out(headers: &[String], dropped: &[usize]) -> Option<String> {
    if dropped.is_empty() {
        return None;
    }
    let empty = dropped
        .iter()
        .filter(|&&i| headers[i].trim().is_empty())
        .count();
    let named: Vec<String> = dropped
        .iter()
        .filter(|&&i| !headers[i].trim().is_empty())
        .map(|&i| format!("\"{}\" (input column {})", headers[i], i + 1))
        .collect();
    let mut parts = Vec::new();
    if empty > 0 {
        parts.push(format!("{empty} with an empty header"));
    }
    if !named.is_empty() {
        let more = named.len().saturating_sub(20);
        let mut list = named.into_iter().take(20).collect::<Vec<_>>().join(", ");
        if more > 0 {
            list.push_str(&format!(" and {more} more"));
        }
        parts.push(list);
    }
    Some(format!(
        "{} input columns are not copied here, as a sheet holds {MAX_SHEET_COLUMNS} columns with the result's own: {}",
        dropped.len(),
        parts.join("; ")
    ))
}

/// A sink that drops some input columns before writing.
struct Projected {
    inner: Box<dyn ResultSink>,
    keep: Vec<usize>,
}

impl ResultSink for Projected {
    fn row(&mut self, row: &RawRow, outcome: &Outcome) -> Result<()> {
        let cells = self
            .keep
            .iter()
            .map(|&i| row.cells.get(i).cloned().unwrap_or_else(Cell::empty))
            .collect();
        self.inner.row(&RawRow::new(row.number, cells), outcome)
    }

    fn finish(self: Box<Self>, summary: &SummaryData) -> Result<PathBuf> {
        self.inner.finish(summary)
    }
}

/// Write next to the final path and rename at the end, so that a failed run never leaves
/// a half-written result where the user expects a whole one.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

fn write_failed(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::output(format!(
        "cannot write the result file {}: {what}; check that the folder exists and the file is not open in Excel",
        path.display()
    ))
}

fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    if s.len() <= MAX_CELL_CHARS {
        return s.into();
    }
    let mut t: String = s.chars().take(MAX_CELL_CHARS - 20).collect();
    t.push_str(" …(truncated)");
    t.into()
}

struct XlsxSink {
    path: PathBuf,
    book: Workbook,
    headers: Vec<String>,
    columns: Columns,
    front: Vec<Front>,
    /// (sheet index, next row) of the current Results and Failed sheets.
    results: (usize, u32, u32),
    failed: (usize, u32, u32),
    formats: Formats,
    sheet_rows: u32,
    /// The Summary line naming input columns the sheets had no room for.
    left_out: Option<String>,
    /// Each data sheet's column widths, set when the workbook is finished: a sheet with
    /// column settings looks every unformatted cell's column up in a hash map as it is
    /// written, and the widths only matter once the sheet is saved.
    widths: Vec<(usize, Vec<f64>)>,
}

struct Formats {
    header: Format,
    date: Format,
    datetime: Format,
    good: Format,
    bad: Format,
    neutral: Format,
}

impl XlsxSink {
    fn new(path: &Path, headers: &[String], columns: Columns, sheet_rows: u32) -> Result<Self> {
        let formats = Formats {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xDDEBF7))
                .set_border_bottom(FormatBorder::Thin),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            good: Format::new().set_background_color(Color::RGB(0xC6EFCE)),
            bad: Format::new().set_background_color(Color::RGB(0xFFC7CE)),
            neutral: Format::new().set_background_color(Color::RGB(0xFFEB9C)),
        };
        let mut book = Workbook::new();
        // Deflate level 1: the result's XML compresses to a file a little larger than at
        // the default level 6, written in a fraction of the time (saving is the one step
        // of a run that no other stage overlaps).
        book.set_zip_compression_level(1);
        let mut sink = XlsxSink {
            path: path.to_path_buf(),
            book,
            headers: headers.to_vec(),
            columns,
            front: columns.front(),
            results: (0, 1, 1),
            failed: (0, 1, 1),
            formats,
            sheet_rows,
            left_out: None,
            widths: Vec::new(),
        };
        sink.results.0 = sink
            .add_sheet("Results", true)
            .map_err(|e| write_failed(path, e))?;
        sink.failed.0 = sink
            .add_sheet("Failed", false)
            .map_err(|e| write_failed(path, e))?;
        Ok(sink)
    }

    /// Add a constant-memory sheet with its header row; returns its index.
    fn add_sheet(&mut self, name: &str, results: bool) -> Result<usize, XlsxError> {
        let index = self.book.worksheets().len();
        let mut titles: Vec<String> = Vec::new();
        if results {
            titles.extend(self.front.iter().map(|f| f.name().to_string()));
            titles.extend(self.headers.iter().cloned());
            if self.columns.payload {
                titles.push("_payload".into());
            }
        } else {
            titles.extend(self.headers.iter().cloned());
            titles.extend(["_row", "_status", "_error"].map(String::from));
        }
        let header = self.formats.header.clone();
        let widths = titles
            .iter()
            .map(|t| match t.as_str() {
                "_error" | "_payload" => 60.0,
                "_changes" => 40.0,
                "_row" | "_http" | "_attempts" => 7.0,
                "_status" | "_action" => 10.0,
                _ => (t.chars().count() as f64 + 2.0).clamp(10.0, 40.0),
            })
            .collect();
        self.widths.push((index, widths));
        let ws = self.book.add_worksheet_with_constant_memory()?;
        ws.set_name(name)?;
        ws.set_freeze_panes(1, 0)?;
        for (c, t) in titles.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, t, &header)?;
        }
        let last = titles.len().saturating_sub(1) as u16;
        ws.autofilter(0, 0, 0, last)?;
        Ok(index)
    }

    fn write_cell(
        ws: &mut Worksheet,
        f: &Formats,
        r: u32,
        c: u16,
        cell: &Cell,
    ) -> Result<(), XlsxError> {
        match cell.kind {
            CellKind::Empty => {}
            CellKind::Number => match cell.text.parse::<f64>() {
                // Keep a zero-padding format, so that `00123` re-imports as `00123`.
                Ok(n) if cell.zero_pad > 0 && significant_digits(&cell.text) <= 15 => {
                    let pad = Format::new().set_num_format("0".repeat(cell.zero_pad.into()));
                    ws.write_number_with_format(r, c, n, &pad)?;
                }
                Ok(n) if significant_digits(&cell.text) <= 15 => {
                    ws.write_number(r, c, n)?;
                }
                _ => {
                    ws.write_string(r, c, &cell.text)?;
                }
            },
            CellKind::Date => match parse_date_time(&cell.text) {
                Some((d, false)) => {
                    ws.write_datetime_with_format(r, c, d, &f.date)?;
                }
                Some((d, true)) => {
                    ws.write_datetime_with_format(r, c, d, &f.datetime)?;
                }
                None => {
                    ws.write_string(r, c, &cell.text)?;
                }
            },
            CellKind::Bool => {
                ws.write_boolean(r, c, cell.text == "true")?;
            }
            CellKind::Text
            | CellKind::Error
            | CellKind::Uncalculated
            | CellKind::TooLong { .. } => {
                ws.write_string(r, c, clip(&cell.text))?;
            }
        }
        Ok(())
    }

    fn write_row(&mut self, row: &RawRow, o: &Outcome) -> Result<(), XlsxError> {
        if self.results.1 > self.sheet_rows {
            let n = self.results.2 + 1;
            self.results = (self.add_sheet(&format!("Results ({n})"), true)?, 1, n);
        }
        let (idx, r, _) = self.results;
        let payload = self.columns.payload;
        let nh = self.headers.len();
        let ws = self.book.worksheet_from_index(idx)?;
        let mut c: u16 = 0;
        for name in &self.front {
            match *name {
                Front::Row => {
                    ws.write_number(r, c, row.number)?;
                }
                Front::Status => {
                    if let Some(s) = o.status {
                        let fmt = match s {
                            Status::Ok | Status::Valid => &self.formats.good,
                            Status::Skipped => &self.formats.neutral,
                            _ => &self.formats.bad,
                        };
                        ws.write_string_with_format(r, c, s.as_str(), fmt)?;
                    }
                }
                Front::Action => {
                    if let Some(a) = o.action {
                        ws.write_string(r, c, a.as_str())?;
                    }
                }
                Front::Id => {
                    if let Some(id) = &o.id {
                        ws.write_string(r, c, id)?;
                    }
                }
                Front::Http => {
                    if let Some(h) = o.http {
                        ws.write_number(r, c, h)?;
                    }
                }
                Front::Error if !o.error.is_empty() => {
                    ws.write_string(r, c, clip(&o.error))?;
                }
                Front::Changes if !o.changes.is_empty() => {
                    ws.write_string(r, c, clip(&o.changes))?;
                }
                Front::Attempts => {
                    if let Some(a) = o.attempts {
                        ws.write_number(r, c, a)?;
                    }
                }
                _ => {}
            }
            c += 1;
        }
        for (i, cell) in row.cells.iter().take(nh).enumerate() {
            Self::write_cell(ws, &self.formats, r, c + i as u16, cell)?;
        }
        c += nh as u16;
        if payload && let Some(p) = &o.payload {
            ws.write_string(r, c, clip(p))?;
        }
        self.results.1 += 1;

        if o.status.is_some_and(Status::is_failure) {
            if self.failed.1 > self.sheet_rows {
                let n = self.failed.2 + 1;
                self.failed = (self.add_sheet(&format!("Failed ({n})"), false)?, 1, n);
            }
            let (idx, r, _) = self.failed;
            let ws = self.book.worksheet_from_index(idx)?;
            for (i, cell) in row.cells.iter().take(nh).enumerate() {
                Self::write_cell(ws, &self.formats, r, i as u16, cell)?;
            }
            ws.write_number(r, nh as u16, row.number)?;
            if let Some(s) = o.status {
                ws.write_string(r, nh as u16 + 1, s.as_str())?;
            }
            if !o.error.is_empty() {
                ws.write_string(r, nh as u16 + 2, clip(&o.error))?;
            }
            self.failed.1 += 1;
        }
        Ok(())
    }

    fn write_summary(&mut self, s: &SummaryData) -> Result<(), XlsxError> {
        let bold = Format::new().set_bold();
        let ws = self.book.add_worksheet();
        ws.set_name("Summary")?;
        ws.set_column_width(0, 28)?;
        ws.set_column_width(1, 90)?;
        let mut r = 0u32;
        if let Some(left_out) = &self.left_out {
            ws.write_string_with_format(r, 0, "Columns left out", &bold)?;
            ws.write_string(r, 1, clip(left_out))?;
            r += 1;
        }
        for (k, v) in &s.lines {
            ws.write_string_with_format(r, 0, k, &bold)?;
            match v.parse::<f64>() {
                Ok(n) if !v.starts_with('0') || v == "0" || v.contains('.') => {
                    ws.write_number(r, 1, n)?;
                }
                _ => {
                    ws.write_string(r, 1, clip(v))?;
                }
            }
            r += 1;
        }
        for (groups, title) in [
            (&s.error_groups, "Kind of error"),
            (&s.warning_groups, "Kind of warning"),
        ] {
            if groups.is_empty() {
                continue;
            }
            r += 1;
            ws.write_string_with_format(r, 0, "Rows", &bold)?;
            ws.write_string_with_format(r, 1, title, &bold)?;
            r += 1;
            for (n, what) in groups {
                ws.write_number(r, 0, *n as f64)?;
                ws.write_string(r, 1, clip(what))?;
                r += 1;
            }
        }
        Ok(())
    }
}

impl ResultSink for XlsxSink {
    fn row(&mut self, row: &RawRow, outcome: &Outcome) -> Result<()> {
        self.write_row(row, outcome)
            .map_err(|e| write_failed(&self.path, e))
    }

    fn finish(mut self: Box<Self>, summary: &SummaryData) -> Result<PathBuf> {
        let path = self.path.clone();
        // Filters cover the written rows.
        let last_col = (self.front.len() + self.headers.len() + usize::from(self.columns.payload))
            .saturating_sub(1) as u16;
        let (ri, rr, _) = self.results;
        if let Ok(ws) = self.book.worksheet_from_index(ri) {
            let _ = ws.autofilter(0, 0, rr.saturating_sub(1).max(1), last_col);
        }
        for (index, widths) in std::mem::take(&mut self.widths) {
            let ws = self
                .book
                .worksheet_from_index(index)
                .map_err(|e| write_failed(&path, e))?;
            for (c, width) in widths.into_iter().enumerate() {
                ws.set_column_width(c as u16, width)
                    .map_err(|e| write_failed(&path, e))?;
            }
        }
        self.write_summary(summary)
            .map_err(|e| write_failed(&path, e))?;
        let tmp = temp_path(&path);
        self.book.save(&tmp).map_err(|e| write_failed(&path, e))?;
        super::replace_file(&tmp, &path).map_err(|e| write_failed(&path, e))?;
        Ok(path)
    }
}

fn significant_digits(s: &str) -> usize {
    s.trim_start_matches('-')
        .trim_start_matches(['0', '.'])
        .chars()
        .filter(char::is_ascii_digit)
        .count()
}

/// `YYYY-MM-DD[ HH:MM:SS]` → Excel date; the bool says whether it has a time.
fn parse_date_time(s: &str) -> Option<(ExcelDateTime, bool)> {
    let (date, time) = match s.split_once(' ') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut it = date.split('-');
    let y: u16 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    let dt = ExcelDateTime::from_ymd(y, m, d).ok()?;
    match time {
        None => Some((dt, false)),
        Some(t) => {
            let mut it = t.split(':');
            let h: u16 = it.next()?.parse().ok()?;
            let mi: u8 = it.next()?.parse().ok()?;
            let se: f64 = it.next().unwrap_or("0").parse().ok()?;
            Some((dt.and_hms(h, mi, se).ok()?, true))
        }
    }
}

struct CsvSink {
    path: PathBuf,
    tmp: PathBuf,
    out: csv::Writer<File>,
    front: Vec<Front>,
    payload: bool,
    width: usize,
    /// One row's fields, gathered so that the writer can take them in one go: the csv
    /// crate copies a whole record that needs no quoting straight into its buffer,
    /// where field by field it goes through its quoting state machine byte by byte.
    record: csv::ByteRecord,
}

impl CsvSink {
    fn new(path: &Path, headers: &[String], columns: Columns) -> Result<Self> {
        let tmp = temp_path(path);
        let file =
            File::create(&tmp).map_err(|e| write_failed(path, crate::input::io_reason(&e)))?;
        let mut out = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(file);
        let front = columns.front();
        let mut titles: Vec<&str> = front.iter().map(|f| f.name()).collect();
        titles.extend(headers.iter().map(String::as_str));
        if columns.payload {
            titles.push("_payload");
        }
        out.write_record(titles.iter().map(|t| csv_safe(t).into_owned()))
            .map_err(|e| write_failed(path, e))?;
        Ok(CsvSink {
            path: path.to_path_buf(),
            tmp,
            out,
            front,
            payload: columns.payload,
            width: headers.len(),
            record: csv::ByteRecord::new(),
        })
    }
}

impl ResultSink for CsvSink {
    fn row(&mut self, row: &RawRow, o: &Outcome) -> Result<()> {
        let rec = &mut self.record;
        rec.clear();
        let mut field = |v: &str| rec.push_field(csv_safe(v).as_bytes());
        // The row number written without a String of its own (a million allocations).
        let mut number = itoa::Buffer::new();
        for name in &self.front {
            match *name {
                Front::Row => field(number.format(row.number)),
                Front::Status => field(o.status.map(Status::as_str).unwrap_or_default()),
                Front::Action => field(o.action.map(|a| a.as_str()).unwrap_or_default()),
                Front::Id => field(o.id.as_deref().unwrap_or_default()),
                Front::Http => field(&o.http.map(|h| h.to_string()).unwrap_or_default()),
                Front::Error => field(&o.error),
                Front::Changes => field(&o.changes),
                Front::Attempts => field(&o.attempts.map(|a| a.to_string()).unwrap_or_default()),
            }
        }
        for cell in row.cells.iter().take(self.width) {
            field(&cell.text);
        }
        if self.payload {
            // JSON starts with `{`: never a formula, and must stay valid JSON.
            rec.push_field(o.payload.as_deref().unwrap_or_default().as_bytes());
        }
        self.out
            .write_byte_record(rec)
            .map_err(|e| write_failed(&self.path, e))
    }

    fn finish(mut self: Box<Self>, _summary: &SummaryData) -> Result<PathBuf> {
        self.out.flush().map_err(|e| write_failed(&self.path, e))?;
        drop(self.out);
        super::replace_file(&self.tmp, &self.path).map_err(|e| write_failed(&self.path, e))?;
        Ok(self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_wide_inputs_lose_empty_headers_first() {
        let headers: Vec<String> = ["a", "", "b", "", "c"].map(String::from).to_vec();
        let mut keep: Vec<usize> = (0..5).collect();
        assert_eq!(fit_columns(&mut keep, &headers, 3), vec![1, 3]);
        assert_eq!(keep, vec![0, 2, 4]);
        assert_eq!(fit_columns(&mut keep, &headers, 2), vec![4]);
        let line = describe_left_out(&headers, &[1, 3, 4]).unwrap();
        assert!(line.contains("2 with an empty header"), "{line}");
        assert!(line.contains("\"c\" (input column 5)"), "{line}");
        assert_eq!(describe_left_out(&headers, &[]), None);
    }

    #[test]
    fn digits_are_counted_for_precision() {
        assert_eq!(significant_digits("6281234567"), 10);
        assert_eq!(significant_digits("1234567890123456"), 16);
        assert_eq!(significant_digits("-0.00125"), 3);
    }

    #[test]
    fn dates_parse_for_excel() {
        assert!(matches!(parse_date_time("2024-03-01"), Some((_, false))));
        assert!(matches!(
            parse_date_time("2024-03-01 10:30:00"),
            Some((_, true))
        ));
        assert!(parse_date_time("2024-13-01").is_none());
    }
}
