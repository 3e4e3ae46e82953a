//! XLSX and XLSB sheets read as a stream of cells (calamine's cell readers), never as a
//! whole range: memory stays flat however many rows a sheet has, and a sheet whose two
//! cells sit at A1 and XFD1048576 costs nothing.
//!
//! A sheet is surveyed once when it is opened (where its cells start, its top rows for
//! header detection, how many rows hold data, which is checked against `--max-rows`),
//! then every pass over its rows streams it again on a reader thread.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use calamine::{Data, DataRef, Reader, Xlsb, XlsbError, Xlsx, XlsxError, open_workbook};

use super::workbook::{guarded, short, to_cell, zero_pad_width};
use super::{Cell, CellKind, Format, HEADER_SEARCH_ROWS, RawRow, cap_cell_size};
use crate::error::{Error, Result};

/// An opened workbook whose sheets can be streamed.
pub(super) enum Book {
    /// XLSX or XLSM.
    Xlsx(Xlsx<BufReader<std::fs::File>>),
    /// XLSB.
    Xlsb(Xlsb<BufReader<std::fs::File>>),
}

impl Book {
    /// Open the workbook at `path` for streaming.
    pub(super) fn open(path: &Path, format: Format) -> std::result::Result<Book, String> {
        Ok(match format {
            Format::Xlsb => Book::Xlsb(open_workbook(path).map_err(|e: XlsbError| e.to_string())?),
            _ => Book::Xlsx(open_workbook(path).map_err(|e: XlsxError| e.to_string())?),
        })
    }

    /// The workbook's sheets with their visibility, in workbook order.
    pub(super) fn sheets_metadata(&self) -> Vec<calamine::Sheet> {
        match self {
            Book::Xlsx(b) => b.sheets_metadata().to_vec(),
            Book::Xlsb(b) => b.sheets_metadata().to_vec(),
        }
    }

    /// Visit the cells of `sheet` in file order with their zero-padding width (see
    /// [`Cell::zero_pad`]), until `f` breaks. A chart sheet has no cells.
    fn for_each_cell(
        &mut self,
        sheet: &str,
        f: &mut dyn FnMut(u32, u32, DataRef<'_>, u8) -> ControlFlow<()>,
    ) -> std::result::Result<(), String> {
        match self {
            Book::Xlsx(book) => {
                let mut cells = match book.worksheet_cells_reader(sheet) {
                    Ok(c) => c,
                    Err(XlsxError::NotAWorksheet(_)) => return Ok(()),
                    Err(e) => return Err(e.to_string()),
                };
                let widths: Vec<u8> = cells
                    .styles()
                    .iter()
                    .map(|s| {
                        s.number_format
                            .as_ref()
                            .map_or(0, |f| zero_pad_width(&f.format_code))
                    })
                    .collect();
                while let Some((cell, style)) =
                    cells.next_cell_with_style_id().map_err(|e| e.to_string())?
                {
                    let (row, col) = cell.get_position();
                    let pad = widths.get(style).copied().unwrap_or(0);
                    if f(row, col, cell.get_value().clone(), pad).is_break() {
                        break;
                    }
                }
            }
            Book::Xlsb(book) => {
                let mut cells = book
                    .worksheet_cells_reader(sheet)
                    .map_err(|e| e.to_string())?;
                while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
                    let (row, col) = cell.get_position();
                    if f(row, col, cell.get_value().clone(), 0).is_break() {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Visit the cells of `sheet` in file order for the survey, noting whether any cell
    /// is one calamine's streamed values cannot express: a formula never calculated, or
    /// an error value newer than calamine knows. Such a sheet is read whole instead (see
    /// `xlsx_cells`), so that those cells are row errors, not lost or fatal.
    fn survey_cells(
        &mut self,
        sheet: &str,
        special: &mut bool,
        f: &mut dyn FnMut(u32, u32, DataRef<'_>, u8) -> ControlFlow<()>,
    ) -> std::result::Result<(), String> {
        let Book::Xlsx(book) = self else {
            return self.for_each_cell(sheet, f);
        };
        let mut cells = match book.worksheet_cells_reader(sheet) {
            Ok(c) => c,
            Err(XlsxError::NotAWorksheet(_)) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        loop {
            match cells.next_cell_with_formula_metadata() {
                Ok(Some(record)) => {
                    if matches!(record.value, DataRef::Empty) && record.formula.is_some() {
                        *special = true;
                        return Ok(());
                    }
                    let (row, col) = record.pos;
                    if f(row, col, record.value, 0).is_break() {
                        return Ok(());
                    }
                }
                Ok(None) => return Ok(()),
                Err(XlsxError::CellError(_)) => {
                    *special = true;
                    return Ok(());
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}

/// What one pass over a sheet found.
#[derive(Debug, Default)]
pub(super) struct Survey {
    /// Zero-based row and column of the first non-empty cell (top-left of the data).
    pub first_row: u32,
    /// See `first_row`.
    pub first_col: u32,
    /// Zero-based last row holding a non-empty cell.
    pub last_row: u32,
    /// Whether any cell holds more than white space.
    pub has_data: bool,
    /// The first [`HEADER_SEARCH_ROWS`] rows from `first_row` (and an explicit header
    /// row), as (column, text) pairs by zero-based row.
    pub head: BTreeMap<u32, Vec<(u32, String)>>,
    /// Rows holding more than white space, each with its zero-based row.
    nonblank: u64,
    /// Non-blank rows among those kept in `head`.
    nonblank_head: Vec<u32>,
    /// Whether the cells came in row order (else the sheet is read as a whole range).
    pub ordered: bool,
    /// Whether a cell needs the whole-range reader (a formula never calculated, an
    /// error value calamine does not know): the sheet is then read as a whole range.
    pub special: bool,
}

impl Survey {
    /// Non-blank rows below the zero-based `header` row.
    pub(super) fn data_rows(&self, header: u32) -> u64 {
        let above = self.nonblank_head.iter().filter(|&&r| r <= header).count() as u64;
        self.nonblank.saturating_sub(above)
    }

    /// The texts of the zero-based `row`, from `first_col`, as a range row would give them.
    pub(super) fn row_texts(&self, row: u32) -> Vec<String> {
        let Some(cells) = self.head.get(&row) else {
            return Vec::new();
        };
        let width = cells
            .iter()
            .map(|(c, _)| (c - self.first_col) as usize + 1)
            .max()
            .unwrap_or(0);
        let mut texts = vec![String::new(); width];
        for (c, t) in cells {
            texts[(c - self.first_col) as usize] = t.clone();
        }
        texts
    }
}

/// Survey `sheet`: one streaming pass that keeps only its top rows. `header` is an
/// explicit zero-based header row, kept even below the search window. Refuses a sheet
/// with more than `max_rows` non-blank rows besides those that may sit above the header.
pub(super) fn survey(
    book: &mut Book,
    path: &Path,
    sheet: &str,
    header: Option<u32>,
    max_rows: u64,
) -> Result<Survey> {
    let mut s = Survey {
        ordered: true,
        ..Survey::default()
    };
    let mut started = false;
    let allowance = header.map_or(HEADER_SEARCH_ROWS as u64, |h| u64::from(h) + 1);
    let mut row_cur: Option<u32> = None;
    let mut row_blank = true;
    let mut over = false;
    let mut visit = |row: u32, col: u32, value: DataRef<'_>, _pad: u8| {
        if matches!(value, DataRef::Empty) {
            return ControlFlow::Continue(());
        }
        if row_cur != Some(row) {
            if row_cur.is_some_and(|r| row < r) {
                s.ordered = false;
                return ControlFlow::Break(());
            }
            if !row_blank {
                s.nonblank += 1;
            }
            row_cur = Some(row);
            row_blank = true;
        }
        if !started {
            started = true;
            s.first_row = row;
            s.first_col = col;
        }
        s.first_col = s.first_col.min(col);
        s.last_row = row;
        let in_head = row - s.first_row < HEADER_SEARCH_ROWS as u32 || Some(row) == header;
        if !blank(&value) {
            s.has_data = true;
            if row_blank && (in_head || header.is_some_and(|h| row <= h)) {
                s.nonblank_head.push(row);
            }
            row_blank = false;
        }
        // Only the top rows' texts are kept: no cell below them is converted.
        if in_head {
            s.head
                .entry(row)
                .or_default()
                .push((col, cell_of(value).text));
        }
        if s.nonblank > max_rows.saturating_add(allowance) {
            over = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    };
    let display = path.display();
    let mut special = false;
    guarded(|| book.survey_cells(sheet, &mut special, &mut visit))
        .and_then(|r| r)
        .map_err(|e| {
            Error::input(format!(
                "sheet \"{sheet}\" of {display} cannot be read ({}): open the file in Excel and save it again",
                short(&e)
            ))
        })?;
    if !row_blank {
        s.nonblank += 1;
    }
    if special {
        s.special = true;
        s.has_data = true;
    }
    if over {
        return Err(too_many_rows(path, sheet, max_rows));
    }
    Ok(s)
}

/// Whether a streamed value is blank as a [`Cell`] made of it would be (nothing, or only
/// white space), without making the cell.
fn blank(value: &DataRef<'_>) -> bool {
    match value {
        DataRef::Empty => true,
        DataRef::String(s) | DataRef::DurationIso(s) => s.trim().is_empty(),
        DataRef::SharedString(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A streamed value as a [`Cell`]: [`to_cell`], moving an owned text into the cell
/// instead of copying it twice (once into a `Data`, once into the cell).
fn cell_of(value: DataRef<'_>) -> Cell {
    match value {
        DataRef::String(s) => Cell::text(s),
        DataRef::SharedString(s) => Cell::text(s),
        other => to_cell(&Data::from(other)),
    }
}

/// The refusal of a sheet past `--max-rows`.
pub(super) fn too_many_rows(path: &Path, sheet: &str, max_rows: u64) -> Error {
    Error::input(format!(
        "sheet \"{sheet}\" of {} has more than {max_rows} data rows, the --max-rows limit: split it into several files, or raise the limit with --max-rows N",
        path.display()
    ))
}

/// A streamed sheet: where its table sits, enough to stream its rows again.
#[derive(Clone)]
pub(super) struct StreamedSheet {
    /// The workbook file.
    pub path: PathBuf,
    /// XLSX, XLSM or XLSB.
    pub format: Format,
    /// The sheet's name.
    pub sheet: String,
    /// Zero-based row of the header.
    pub header_row: u32,
    /// Zero-based column of the table's first column.
    pub first_col: u32,
    /// Header columns.
    pub width: usize,
    /// Non-blank rows below the header, as the survey counted them.
    pub data_rows: u64,
    /// The `--max-rows` limit.
    pub max_rows: u64,
    /// The opened workbook, lent to one pass at a time: its shared strings are read
    /// once, not once per pass (a pass that finds it lent opens its own).
    pub book: Arc<Mutex<Option<Book>>>,
}

/// Visit one column's trimmed, non-empty values (as the sheet shows them) with their
/// row numbers, converting no other cell: the duplicate-key pass costs the parse of the
/// sheet, not a row of cells per row.
pub(super) fn scan_column(
    sheet: &StreamedSheet,
    col: usize,
    f: &mut dyn FnMut(u32, &str),
) -> Result<()> {
    let want = sheet
        .first_col
        .saturating_add(u32::try_from(col).unwrap_or(u32::MAX));
    let scan = || -> std::result::Result<(), String> {
        let lent = sheet.book.lock().ok().and_then(|mut b| b.take());
        let mut book = match lent {
            Some(b) => b,
            None => Book::open(&sheet.path, sheet.format)?,
        };
        let mut visit = |row: u32, c: u32, value: DataRef<'_>, pad: u8| {
            if row <= sheet.header_row || c != want || blank(&value) {
                return ControlFlow::Continue(());
            }
            let mut cell = cell_of(value);
            if cell.kind == CellKind::Number {
                cell.zero_pad = pad;
            }
            let cell = cap_cell_size(cell);
            let key = cell.shown_text();
            let key = key.trim();
            if !key.is_empty() {
                f(row.saturating_add(1), key);
            }
            ControlFlow::Continue(())
        };
        let scanned = book.for_each_cell(&sheet.sheet, &mut visit);
        if let Ok(mut shelf) = sheet.book.lock() {
            shelf.get_or_insert(book);
        }
        scanned
    };
    guarded(scan).and_then(|r| r).map_err(|e| {
        Error::input(format!(
            "sheet \"{}\" of {} cannot be read ({}): open the file in Excel and save it again",
            sheet.sheet,
            sheet.path.display(),
            short(&e)
        ))
    })
}

/// Cells sent from the reader thread at a time (in whole rows, at least one): a few
/// MB, however wide the sheet.
const CHUNK_CELLS: usize = 1 << 16;

/// Stream the data rows below the header on a reader thread; blank rows are skipped.
/// Dropping the iterator stops the thread.
pub(super) fn rows(sheet: StreamedSheet) -> impl Iterator<Item = Result<RawRow>> + Send {
    let (tx, rx) = mpsc::sync_channel::<Vec<Result<RawRow>>>(2);
    let spawned = std::thread::Builder::new()
        .name("sheet-reader".into())
        .spawn(move || {
            let failed = tx.clone();
            let outcome = crate::quiet_panics(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stream(&sheet, &tx)))
            });
            let error = match outcome {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e,
                Err(_) => "its contents are damaged or cut short".to_string(),
            };
            let _ = failed.send(vec![Err(Error::input(format!(
                "sheet \"{}\" of {} cannot be read ({}): open the file in Excel and save it again",
                sheet.sheet,
                sheet.path.display(),
                short(&error)
            )))]);
        });
    let first: Option<Result<RawRow>> = spawned
        .err()
        .map(|e| Err(Error::input(format!("cannot start reading the sheet: {e}"))));
    first.into_iter().chain(rx.into_iter().flatten())
}

/// The reader thread's work: assemble rows from cells and send them in chunks.
/// Returns a library error's text; a closed channel just ends it.
fn stream(
    sheet: &StreamedSheet,
    tx: &mpsc::SyncSender<Vec<Result<RawRow>>>,
) -> std::result::Result<(), String> {
    let lent = sheet.book.lock().ok().and_then(|mut b| b.take());
    let mut book = match lent {
        Some(b) => b,
        None => Book::open(&sheet.path, sheet.format)?,
    };
    let streamed = stream_book(sheet, &mut book, tx);
    if let Ok(mut shelf) = sheet.book.lock() {
        shelf.get_or_insert(book);
    }
    streamed
}

/// [`stream`] with the workbook in hand.
fn stream_book(
    sheet: &StreamedSheet,
    book: &mut Book,
    tx: &mpsc::SyncSender<Vec<Result<RawRow>>>,
) -> std::result::Result<(), String> {
    let chunk_rows = (CHUNK_CELLS / sheet.width.max(1)).max(1);
    let mut chunk: Vec<Result<RawRow>> = Vec::with_capacity(chunk_rows);
    let mut current: Option<RawRow> = None;
    let mut sent: u64 = 0;
    let mut closed = false;
    let width = sheet.width;
    // Finish a row: keep it unless blank; send a full chunk. Break when the reader is gone
    // or the row limit is passed.
    let mut flush = |row: Option<RawRow>, chunk: &mut Vec<Result<RawRow>>, last: bool| {
        if let Some(row) = row.filter(|r| !r.cells.iter().all(Cell::is_empty)) {
            sent += 1;
            if sent > sheet.max_rows {
                chunk.push(Err(too_many_rows(
                    &sheet.path,
                    &sheet.sheet,
                    sheet.max_rows,
                )));
                let _ = tx.send(std::mem::take(chunk));
                return ControlFlow::Break(());
            }
            chunk.push(Ok(row));
        }
        if (chunk.len() >= chunk_rows || last) && !chunk.is_empty() {
            let full = std::mem::replace(chunk, Vec::with_capacity(chunk_rows));
            if tx.send(full).is_err() {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    };
    let mut visit = |row: u32, col: u32, value: DataRef<'_>, pad: u8| {
        if row <= sheet.header_row || col < sheet.first_col {
            return ControlFlow::Continue(());
        }
        let c = (col - sheet.first_col) as usize;
        if matches!(value, DataRef::Empty) {
            return ControlFlow::Continue(());
        }
        let number = row.saturating_add(1);
        if current.as_ref().is_none_or(|r| r.number != number) {
            let done = current.replace(RawRow::new(number, vec![Cell::empty(); width]));
            if flush(done, &mut chunk, false).is_break() {
                closed = true;
                return ControlFlow::Break(());
            }
        }
        let mut cell = cell_of(value);
        if cell.kind == CellKind::Number {
            cell.zero_pad = pad;
        }
        // An over-long cell makes its row INVALID (the validator names it), not the file.
        let cell = cap_cell_size(cell);
        if let Some(r) = current.as_mut() {
            if c < width {
                r.cells[c] = cell;
            } else if r.cells.len() == width && !cell.is_empty() {
                // Data past the last header: kept (the first such cell of the row) so
                // that the table warns about it instead of dropping it without a word.
                r.cells.resize(c + 1, Cell::empty());
                r.cells[c] = cell;
            }
        }
        ControlFlow::Continue(())
    };
    book.for_each_cell(&sheet.sheet, &mut visit)?;
    if !closed {
        let _ = flush(current.take(), &mut chunk, true);
    }
    Ok(())
}
