//! Readers: CSV/TSV and workbooks (XLSX, XLSM, XLSB, XLS, ODS) into rows of text cells.
//!
//! Every cell stays text until a field spec types it, and every cell keeps enough origin
//! (sheet, row, column) for a message to name it as `Customers!D14`.

mod csv_reader;
mod gate;
mod limits;
mod not_records;
mod sheet_choice;
mod sniff;
mod workbook;
mod xlsx_cells;
mod xlsx_stream;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};

pub use limits::DEFAULT_MAX_ROWS;
pub use sniff::Format;
pub use workbook::number_text;

/// Undo `output::csv_safe` on text read back from a CSV.
pub fn csv_unguard(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => value,
    }
}

/// Excel's limit on characters in one cell; longer text cannot round-trip through a sheet.
pub const MAX_CELL_CHARS: usize = 32_767;
/// Excel's limit on columns; the result workbook adds a few of its own.
pub const MAX_COLUMNS: usize = 16_384 - 8;
/// How many leading rows are searched for the header row.
const HEADER_SEARCH_ROWS: usize = 30;

/// What the spreadsheet said about a cell, before any field spec types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Nothing, or only white space.
    Empty,
    /// Text as written.
    Text,
    /// A numeric cell, already rendered as canonical decimal text (`6281234567`, `-7.11`).
    Number,
    /// A date cell, rendered `YYYY-MM-DD` (or with a time when it has one).
    Date,
    /// A boolean cell, rendered `true` / `false`.
    Bool,
    /// An error cell such as `#N/A`; the text is the error code.
    Error,
    /// A formula whose value was never calculated (the file was written by a program
    /// that does not calculate); the text is the formula, `=…`, when known.
    Uncalculated,
    /// A cell longer than a spreadsheet cell can hold ([`MAX_CELL_CHARS`]); the text
    /// is only its beginning, so that one such cell costs neither memory nor the run.
    TooLong {
        /// How many characters the cell really holds.
        chars: usize,
    },
}

/// One cell's text and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// How the spreadsheet stored it.
    pub kind: CellKind,
    /// The text (empty for `Empty`).
    pub text: String,
    /// For a number cell whose number format pads with zeros (`00000`), that width: the
    /// sheet shows `123` as `00123`, and a text field must get what the user sees.
    /// 0 when there is no such format (always, outside XLSX).
    pub zero_pad: u8,
}

impl Cell {
    /// An empty cell.
    pub fn empty() -> Self {
        Cell {
            kind: CellKind::Empty,
            text: String::new(),
            zero_pad: 0,
        }
    }

    /// A cell of some kind with its text, as a reader found it.
    pub fn new(kind: CellKind, text: impl Into<String>) -> Self {
        Cell {
            kind,
            text: text.into(),
            zero_pad: 0,
        }
    }

    /// A text cell; white-space-only text counts as empty.
    pub fn text(s: impl Into<String>) -> Self {
        let text = s.into();
        let kind = if text.trim().is_empty() {
            CellKind::Empty
        } else {
            CellKind::Text
        };
        Cell {
            kind,
            text,
            zero_pad: 0,
        }
    }

    /// Whether the cell holds nothing.
    pub fn is_empty(&self) -> bool {
        self.kind == CellKind::Empty
    }

    /// The text as the spreadsheet shows it: a number with a zero-padding format padded
    /// to its width (`123` formatted `00000` → `00123`), any other cell its text.
    pub fn shown_text(&self) -> std::borrow::Cow<'_, str> {
        let width = usize::from(self.zero_pad);
        let digits = self.text.len();
        if self.kind == CellKind::Number
            && digits < width
            && self.text.bytes().all(|b| b.is_ascii_digit())
        {
            format!("{}{}", "0".repeat(width - digits), self.text).into()
        } else {
            self.text.as_str().into()
        }
    }
}

/// A data row: its 1-based row number in the sheet (or CSV record line) and its cells,
/// aligned with the table's header columns.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// Row number as a spreadsheet shows it.
    pub number: u32,
    /// Cells in header order; missing trailing cells are empty.
    pub cells: Vec<Cell>,
    /// What the reader found wrong with the row as a whole (see [`RowDefect`]).
    pub defects: Vec<RowDefect>,
}

impl RawRow {
    /// A row as read, with nothing wrong found yet.
    pub fn new(number: u32, cells: Vec<Cell>) -> Self {
        RawRow {
            number,
            cells,
            defects: Vec::new(),
        }
    }
}

/// Something wrong with a row that only the reader can see (its fields do not line up
/// with the header, a stray carriage return joined two lines, data stands under no
/// header). The validator reports it like any other problem or warning, so a damaged row
/// is shown and counted, never silently repaired or dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct RowDefect {
    /// Whether it makes the row INVALID (otherwise it is a warning).
    pub invalid: bool,
    /// The column(s) to blame, as summaries name them (`column D`).
    pub column: String,
    /// Where, as the message names it: `line 9`, `column D (D7)`.
    pub place: String,
    /// Value-free text for grouping: "has more fields than the header".
    pub summary: String,
    /// The full reason, after the place: what, and how to fix it.
    pub detail: String,
}

/// An encoding stored by its WHATWG label (`windows-1254`).
mod encoding_label {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        e: &Option<&'static encoding_rs::Encoding>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match e {
            Some(e) => s.serialize_some(e.name()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<&'static encoding_rs::Encoding>, D::Error> {
        let label: Option<String> = Option::deserialize(d)?;
        Ok(label.and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes())))
    }
}

/// What to say when a CSV is read in a guessed code page, so that a wrong guess is
/// caught before anything is sent.
fn guessed_encoding_note(guess: &'static encoding_rs::Encoding) -> String {
    let (what, other) = if guess == encoding_rs::WINDOWS_1254 {
        ("Turkish", "windows-1252")
    } else {
        ("Western", "windows-1254")
    };
    format!(
        "the file is not UTF-8: read as {} ({what}), its likeliest code page; if names look wrong in the result, pass --encoding {other} (or the right one)",
        guess.name().to_lowercase()
    )
}

/// How to read the input; all optional.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ReadOptions {
    /// Sheet to read (default: the first with data).
    pub sheet: Option<String>,
    /// 1-based header row (default: detected).
    pub header_row: Option<u32>,
    /// Encoding of a CSV without BOM (default UTF-8).
    #[serde(with = "encoding_label")]
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// CSV delimiter (default: sniffed among `, ; TAB |`).
    pub delimiter: Option<u8>,
    /// Most data rows read (default [`DEFAULT_MAX_ROWS`]): a bound on what a hostile
    /// file can make a run cost.
    pub max_rows: Option<u64>,
    /// Read the file once where a pass of its own would come first, for a run that can
    /// throw its rows pass away (`validate`), never for one that sends. A streamed sheet
    /// (an XLSX without formulas) is surveyed at its top rows only: its rows pass then
    /// stops with [`Error::Reread`] at anything only a full survey handles (a cell left
    /// of the table, cells out of order, an error value calamine does not know). A CSV's
    /// check for a quote never closed rides along the rows pass, which ends with that
    /// error at the end of the file instead of before the first row.
    #[serde(skip)]
    pub quick_survey: bool,
}

/// Scores a candidate header row: how many of its cells name a known field.
pub type HeaderScorer<'a> = &'a dyn Fn(&[String]) -> usize;

/// Names the column whose values the duplicate-key pass will scan, given the headers
/// (`None`: no such pass). A streamed sheet gathers that column while it is surveyed,
/// so that the pass reads nothing again.
pub type KeyPicker<'a> = &'a dyn Fn(&[String]) -> Option<usize>;

/// An opened input: where it came from, its header, and a way to iterate its rows
/// (more than once, so that duplicate keys can be found before rows are reported).
pub struct Table {
    /// The input file.
    pub path: PathBuf,
    /// What the file turned out to be.
    pub format: Format,
    /// Sheet name used in cell references (the file stem for CSV).
    pub sheet: String,
    /// All sheet names of a workbook (empty for CSV).
    pub sheets: Vec<String>,
    /// Header texts, trimmed, one per column.
    pub headers: Vec<String>,
    /// 1-based row number of the header.
    pub header_row: u32,
    /// Notes worth telling the user (delimiter, encoding, sheet chosen).
    pub notes: Vec<String>,
    /// The first non-blank rows of the sheet, header or not, with their 1-based row
    /// numbers: shown when no header row names the entity's fields.
    pub top_rows: Vec<(u32, Vec<String>)>,
    source: Source,
    /// The rows the passes left out as not records (see [`not_records`]).
    left_out: not_records::LeftOut,
}

enum Source {
    Csv(csv_reader::CsvSource),
    Sheet(Arc<workbook::SheetData>),
}

/// Iterator over a table's data rows; blank rows are skipped.
pub type RowIter<'a> = Box<dyn Iterator<Item = Result<RawRow>> + Send + 'a>;

/// Where a pass hands back the rows it is done with, for the thread that read them to
/// free (a streamed sheet's reader thread): mimalloc then reuses that memory at once,
/// where rows freed on another thread cost it fresh pages and remote frees.
pub type RowsBack = std::sync::mpsc::SyncSender<Vec<RawRow>>;

impl Table {
    /// Iterate the data rows below the header, from the start.
    pub fn rows(&self) -> Result<RowIter<'_>> {
        Ok(self.rows_handing_back()?.0)
    }

    /// [`Self::rows`], and where to hand the rows back when they are read on a thread
    /// of their own (`None`: they were read on the caller's).
    pub fn rows_handing_back(&self) -> Result<(RowIter<'_>, Option<RowsBack>)> {
        let (rows, back): (RowIter<'_>, Option<RowsBack>) = match &self.source {
            Source::Csv(src) => (src.rows(self)?, None),
            Source::Sheet(data) => workbook::rows(data.clone(), self),
        };
        let headerless: Vec<usize> = (0..self.headers.len())
            .filter(|&c| self.headers[c].is_empty())
            .collect();
        // A workbook row may carry a cell past the last header (CSV warns by itself).
        let sheet = matches!(self.source, Source::Sheet(_));
        let width = self.headers.len();
        let mut before_records = true;
        let rows = Box::new(rows.filter_map(move |row| {
            let mut row = match row {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            // Rows that describe or sum the columns are left out (and named) alike by
            // every pass, before anything looks at their cells.
            if let Some(why) =
                not_records::reason(&row.cells[..row.cells.len().min(width)], before_records)
            {
                self.left_out.add(row.number, why);
                return None;
            }
            before_records = false;
            for &col in &headerless {
                if row.cells.get(col).is_some_and(|c| !c.is_empty()) {
                    row.defects.push(self.headerless_data(row.number, col));
                }
            }
            if sheet && row.cells.len() > width {
                if let Some(col) = (width..row.cells.len()).find(|&c| !row.cells[c].is_empty()) {
                    row.defects.push(self.headerless_data(row.number, col));
                }
                row.cells.truncate(width);
            }
            Some(Ok(row))
        }));
        Ok((rows, back))
    }

    /// What the run says of the rows left out as not records (a row describing the
    /// columns, a total), naming each; `None` when every row was a record.
    pub fn left_out_note(&self) -> Option<String> {
        self.left_out.note()
    }

    /// The warning for a value in a column without a header: nothing maps it, so it
    /// would be dropped without a word.
    fn headerless_data(&self, row: u32, col: usize) -> RowDefect {
        let letter = column_letter(col + self.first_col());
        RowDefect {
            invalid: false,
            column: format!("column {letter}"),
            place: format!("column {letter} ({})", self.cell_name(row, col)),
            summary: "holds data under an empty header".into(),
            detail: format!(
                "holds data under an empty header cell, so it is not imported: give column {letter} a header (or clear the cell)"
            ),
        }
    }

    /// How many data rows there are, when known without reading the file (workbooks:
    /// blank rows included, so an upper bound); `None` for CSV.
    pub fn row_count_hint(&self) -> Option<u64> {
        match &self.source {
            Source::Csv(_) => None,
            Source::Sheet(d) => d.data_rows_known().then(|| d.data_rows()),
        }
    }

    /// Visit one column's trimmed, non-empty values (as the sheet shows them, see
    /// [`Cell::shown_text`]) with their row numbers, reading no more than that column
    /// (the duplicate-key pass over a million-row CSV).
    pub fn scan_column(&self, col: usize, f: &mut dyn FnMut(u32, &str)) -> Result<()> {
        match &self.source {
            Source::Csv(src) => src.scan_column(col, f),
            Source::Sheet(data) => {
                if let workbook::SheetData::Streamed(s) = &**data {
                    return xlsx_stream::scan_column(s, col, f);
                }
                for row in self.rows()? {
                    let row = row?;
                    if let Some(c) = row.cells.get(col).filter(|c| !c.is_empty()) {
                        f(row.number, c.shown_text().trim());
                    }
                }
                Ok(())
            }
        }
    }

    /// The spreadsheet reference of a cell: `Customers!D14` (quoted when needed).
    pub fn cell_ref(&self, row: u32, col: usize) -> String {
        cell_ref(&self.sheet, row, col + self.first_col())
    }

    /// The cell as messages about a row name it: `Customers!D14` in a workbook, plain
    /// `D14` in a CSV, whose one sheet has no name of its own.
    pub fn cell_name(&self, row: u32, col: usize) -> String {
        if self.sheets.is_empty() {
            format!("{}{row}", column_letter(col + self.first_col()))
        } else {
            self.cell_ref(row, col)
        }
    }

    /// A human name for column `col`: its header, or its letter when the header is empty.
    pub fn column_name(&self, col: usize) -> String {
        match self.headers.get(col) {
            Some(h) if !h.is_empty() => h.clone(),
            _ => format!("column {}", column_letter(col + self.first_col())),
        }
    }

    /// Zero-based absolute column of the first table column (workbooks may start at B).
    pub fn first_col(&self) -> usize {
        match &self.source {
            Source::Csv(_) => 0,
            Source::Sheet(d) => d.first_col() as usize,
        }
    }
}

/// `A`, `B`, … `Z`, `AA` … for a zero-based column index.
pub fn column_letter(mut col: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// `Sheet!D14`, quoting sheet names that Excel would quote.
pub fn cell_ref(sheet: &str, row: u32, col: usize) -> String {
    let plain = sheet
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    if plain && !sheet.is_empty() {
        format!("{sheet}!{}{row}", column_letter(col))
    } else {
        format!(
            "'{}'!{}{row}",
            sheet.replace('\'', "''"),
            column_letter(col)
        )
    }
}

/// Open `path`, pick the sheet and header row, and return the table ready to iterate.
pub fn open(path: &Path, opts: &ReadOptions, score: HeaderScorer<'_>) -> Result<Table> {
    open_keyed(path, opts, score, None)
}

/// [`open`], telling the reader which column [`Table::scan_column`] will be asked for.
pub fn open_keyed(
    path: &Path,
    opts: &ReadOptions,
    score: HeaderScorer<'_>,
    key: Option<KeyPicker<'_>>,
) -> Result<Table> {
    let display = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::input(format!(
            "cannot open {display}: {}; check the path and that you may read it",
            io_reason(&e)
        ))
    })?;
    if meta.is_dir() {
        return Err(Error::input(format!(
            "{display} is a folder, not a spreadsheet; name a .xlsx, .xls, .ods or .csv file"
        )));
    }
    if !meta.is_file() {
        return Err(Error::input(format!(
            "{display} is {}, not a regular file: save the data to a file and give that file",
            special_kind(&meta)
        )));
    }
    if meta.len() == 0 {
        return Err(Error::input(format!(
            "{display} is empty (0 bytes); export the sheet again or choose another file"
        )));
    }
    csv_reader::refuse_utf32(path)?;
    let (format, note) = sniff::detect(path)?;
    let mut table = match format {
        Format::Csv => match opts.encoding {
            // UTF-8 is read as it is (see `csv_reader::open`).
            Some(_) => csv_reader::open(path, opts, score)?,
            None => match sniff::legacy_encoding(path)? {
                Some(guess) => {
                    let opts = ReadOptions {
                        encoding: Some(guess),
                        ..opts.clone()
                    };
                    let mut table = csv_reader::open(path, &opts, score)?;
                    table.notes.push(guessed_encoding_note(guess));
                    table
                }
                None => csv_reader::open(path, opts, score)?,
            },
        },
        _ => workbook::open(path, format, opts, score, key)?,
    };
    table.notes.extend(note);
    check_headers(&table)?;
    let width = table.headers.len();
    if width > SHEET_COLUMNS {
        let first = table.first_col() + SHEET_COLUMNS;
        let last = table.first_col() + width - 1;
        return Err(Error::input(format!(
            "{display} has {width} columns, more than the {SHEET_COLUMNS} of a spreadsheet: delete the columns from {} (\"{}\") to {} (\"{}\") and try again",
            column_letter(first),
            short_text(&table.headers[SHEET_COLUMNS]),
            column_letter(last),
            short_text(&table.headers[width - 1]),
        )));
    }
    if width > MAX_COLUMNS {
        table.notes.push(format!(
            "{display} is {width} columns wide and a result workbook sheet holds {SHEET_COLUMNS} with its own columns: the result leaves out the columns it cannot hold, those with an empty header first, and lists them on its Summary sheet"
        ));
    }
    Ok(table)
}

/// What a path that is not a regular file is: a pipe or a device never holds a sheet,
/// and reading one would block or never end.
fn special_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    let _ = meta;
    "a special file"
}

/// Columns one sheet holds.
const SHEET_COLUMNS: usize = 16_384;

/// At most 40 characters of a text, for a message.
fn short_text(s: &str) -> String {
    let mut t: String = s.chars().take(40).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t.escape_debug().to_string()
}

/// Most characters a header may have: Excel's limit for a table column name. A longer
/// one is a paragraph or a pasted blob in the header row, never a column name.
pub const MAX_HEADER_CHARS: usize = 255;

/// Refuse a header row holding a text too long to be a column name, before it is echoed
/// in warnings or written to a result workbook; the message shows only its start.
fn check_headers(table: &Table) -> Result<()> {
    let long = table
        .headers
        .iter()
        .enumerate()
        .find(|(_, h)| h.len() > MAX_HEADER_CHARS && h.chars().count() > MAX_HEADER_CHARS);
    let Some((col, h)) = long else {
        return Ok(());
    };
    Err(Error::input(format!(
        "header cell {} of {} holds {} characters, more than the {MAX_HEADER_CHARS} a column name may have (it starts \"{}\"): shorten it, or give the real header row with --header-row N",
        table.cell_name(table.header_row, col),
        table.path.display(),
        h.chars().count(),
        short_text(h)
    )))
}

/// A short reason for an I/O error, without Rust's `(os error 2)` noise.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// Pick the header row among the first rows: the one naming the most known fields; when
/// none names any, the first row with at least two non-empty cells (title rows have one).
fn detect_header(candidates: &[Vec<String>], score: HeaderScorer<'_>) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, row) in candidates.iter().enumerate().take(HEADER_SEARCH_ROWS) {
        let s = score(row);
        if s > 0 && best.is_none_or(|(_, b)| s > b) {
            best = Some((i, s));
        }
    }
    if let Some((i, _)) = best {
        return Some(i);
    }
    candidates
        .iter()
        .position(|r| r.iter().filter(|c| !c.trim().is_empty()).count() >= 2)
        .or_else(|| {
            candidates
                .iter()
                .position(|r| r.iter().any(|c| !c.trim().is_empty()))
        })
}

/// How many of the top rows [`Table::top_rows`] keeps.
const TOP_ROWS: usize = 5;

/// The first [`TOP_ROWS`] non-blank of `rows` (1-based number, texts).
fn top_rows(rows: impl Iterator<Item = (u32, Vec<String>)>) -> Vec<(u32, Vec<String>)> {
    rows.filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
        .take(TOP_ROWS)
        .collect()
}

/// How much of an over-long cell is kept, in characters, to show what it was.
const TOO_LONG_KEPT_CHARS: usize = 100;

/// A cell that a spreadsheet could not hold becomes a [`CellKind::TooLong`] cell: its row
/// is then refused with the cell named, and the rest of the file is still read.
pub(super) fn cap_cell_size(cell: Cell) -> Cell {
    if cell.text.len() <= MAX_CELL_CHARS {
        return cell;
    }
    let chars = cell.text.chars().count();
    if chars <= MAX_CELL_CHARS {
        return cell;
    }
    let mut text: String = cell.text.chars().take(TOO_LONG_KEPT_CHARS).collect();
    text.push('…');
    Cell {
        kind: CellKind::TooLong { chars },
        text,
        zero_pad: 0,
    }
}

/// Trim header texts (keeping them otherwise verbatim) and pad/truncate to `width`.
fn header_texts(row: &[String]) -> Vec<String> {
    let mut headers: Vec<String> = row.iter().map(|h| h.trim().to_string()).collect();
    while headers.last().is_some_and(|h| h.is_empty()) {
        headers.pop();
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
        assert_eq!(column_letter(16383), "XFD");
    }

    #[test]
    fn cell_refs_quote_when_needed() {
        assert_eq!(cell_ref("Customers", 14, 3), "Customers!D14");
        assert_eq!(cell_ref("My Sheet", 2, 0), "'My Sheet'!A2");
        assert_eq!(cell_ref("O'Neil", 2, 0), "'O''Neil'!A2");
    }

    #[test]
    fn header_detection_skips_title_rows() {
        let rows = vec![
            vec!["Daftar Pelanggan November".to_string()],
            vec![],
            vec!["Nama".into(), "Alamat".into(), "Kota".into()],
            vec!["Toko A".into(), "Jl. X".into(), "Semarang".into()],
        ];
        let score = |r: &[String]| {
            r.iter()
                .filter(|c| ["Nama", "Alamat", "Kota"].contains(&c.as_str()))
                .count()
        };
        assert_eq!(detect_header(&rows, &score), Some(2));
        let none = |_: &[String]| 0;
        assert_eq!(detect_header(&rows, &none), Some(2));
    }
}
