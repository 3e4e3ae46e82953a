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

use calamine::{Data, DataRef, Reader, Xlsb, XlsbError, Xlsx, XlsxError};

use super::gate::{Gate, GatedFile};
use super::workbook::{guarded, short, to_cell, zero_pad_width};
use super::{
    Cell, CellKind, Format, HEADER_SEARCH_ROWS, HeaderScorer, KeyPicker, RawRow, cap_cell_size,
    detect_header,
};
use crate::error::{Error, Result};

/// An opened workbook whose sheets can be streamed.
pub(super) enum Book {
    /// XLSX or XLSM.
    Xlsx(Xlsx<BufReader<GatedFile>>),
    /// XLSB.
    Xlsb(Xlsb<BufReader<GatedFile>>),
}

impl Book {
    /// Open the workbook at `path` for streaming; with a `gate`, calamine reads only
    /// what its scans have checked.
    pub(super) fn open(
        path: &Path,
        format: Format,
        gate: Option<Arc<Gate>>,
    ) -> std::result::Result<Book, String> {
        let file = GatedFile::open(path, gate).map_err(|e| super::io_reason(&e))?;
        let file = BufReader::new(file);
        Ok(match format {
            Format::Xlsb => Book::Xlsb(Xlsb::new(file).map_err(|e: XlsbError| e.to_string())?),
            _ => Book::Xlsx(Xlsx::new(file).map_err(|e: XlsxError| e.to_string())?),
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
        self.for_each_cell_or_unknown(sheet, f, None)
    }

    /// [`Self::for_each_cell`]; with `unknown`, an error value calamine does not know
    /// ends the visit and sets it instead of failing the sheet.
    fn for_each_cell_or_unknown(
        &mut self,
        sheet: &str,
        f: &mut dyn FnMut(u32, u32, DataRef<'_>, u8) -> ControlFlow<()>,
        mut unknown: Option<&mut bool>,
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
                loop {
                    let (cell, style) = match cells.next_cell_with_style_id() {
                        Ok(Some(next)) => next,
                        Ok(None) => break,
                        Err(XlsxError::CellError(_)) if unknown.is_some() => {
                            if let Some(u) = unknown.as_mut() {
                                **u = true;
                            }
                            break;
                        }
                        Err(e) => return Err(e.to_string()),
                    };
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

    /// The texts of the top rows of `sheet` (at most `rows` from its first cell), by
    /// row, in column order: enough to judge its header without reading it whole.
    pub(super) fn head(&mut self, sheet: &str, rows: u32) -> Vec<Vec<String>> {
        let mut head: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        let mut first: Option<u32> = None;
        let mut visit = |row: u32, _col: u32, value: DataRef<'_>, _pad: u8| {
            let top = *first.get_or_insert(row);
            if row < top || row - top >= rows {
                return ControlFlow::Break(());
            }
            let text = cell_of(value).text;
            if !text.trim().is_empty() {
                head.entry(row).or_default().push(text);
            }
            ControlFlow::Continue(())
        };
        // A sheet that cannot be read here is judged empty; the survey reports it.
        let _ = guarded(|| self.for_each_cell(sheet, &mut visit));
        head.into_values().collect()
    }

    /// Visit the cells of `sheet` in file order for the survey, noting whether any cell
    /// is one calamine's streamed values cannot express: a formula never calculated, or
    /// an error value newer than calamine knows. Such a sheet is read whole instead (see
    /// `xlsx_cells`), so that those cells are row errors, not lost or fatal.
    ///
    /// `pads` is set when some style of the workbook pads numbers with zeros: the
    /// survey's values then differ from what the sheet shows.
    fn survey_cells(
        &mut self,
        sheet: &str,
        special: &mut bool,
        pads: &mut bool,
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
        *pads = cells.styles().iter().any(|s| {
            s.number_format
                .as_ref()
                .is_some_and(|f| zero_pad_width(&f.format_code) > 0)
        });
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
    /// The key column's values, gathered on the way (see [`KeyPick`]), with the
    /// (header row, first column) they were gathered for.
    pub keys: Option<(u32, u32, ColumnValues)>,
    /// Whether every row was surveyed (a quick survey stops below the top rows).
    pub complete: bool,
}

/// How a survey can gather the duplicate-key column while it streams, so that the
/// duplicate-key pass costs no pass over the sheet: the header is detected as soon as
/// the top rows are in, and `key` names the column (`None`: gather nothing).
pub(super) struct KeyPick<'a> {
    /// Scores a candidate header row.
    pub score: HeaderScorer<'a>,
    /// The table column of the key, given the headers.
    pub key: KeyPicker<'a>,
}

/// One column's trimmed, non-empty values with their row numbers, in one buffer.
#[derive(Debug, Default)]
pub(super) struct ColumnValues {
    /// The table column.
    pub col: usize,
    text: String,
    /// (1-based row, end of its value in `text`).
    ends: Vec<(u32, usize)>,
}

impl ColumnValues {
    fn push(&mut self, row: u32, value: &str) {
        self.text.push_str(value);
        self.ends.push((row, self.text.len()));
    }

    /// Visit the values in sheet order.
    pub(super) fn for_each(&self, f: &mut dyn FnMut(u32, &str)) {
        let mut start = 0;
        for &(row, end) in &self.ends {
            f(row, &self.text[start..end]);
            start = end;
        }
    }
}

/// The zero-based header row: `header` when given, else the best of the top rows.
pub(super) fn header_of(s: &Survey, header: Option<u32>, score: HeaderScorer<'_>) -> u32 {
    if let Some(h) = header {
        return h;
    }
    let candidates: Vec<Vec<String>> = (s.first_row..=s.last_row)
        .take(HEADER_SEARCH_ROWS)
        .map(|r| s.row_texts(r))
        .collect();
    s.first_row + detect_header(&candidates, score).unwrap_or(0) as u32
}

/// The value a key cell contributes to the duplicate-key pass, if any: what the sheet
/// shows (no zero padding here), trimmed.
fn key_text(value: DataRef<'_>) -> Option<String> {
    let cell = cap_cell_size(cell_of(value));
    let key = cell.shown_text().trim().to_string();
    (!key.is_empty()).then_some(key)
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
/// A `quick` survey stops once the top rows (and the header) are in and hold data.
pub(super) fn survey(
    book: &mut Book,
    path: &Path,
    sheet: &str,
    header: Option<u32>,
    max_rows: u64,
    pick: Option<&KeyPick<'_>>,
    quick: bool,
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
    // Gathering the key column: undecided, then (header, first column, its absolute
    // column, the values), or given up.
    let mut gather: Option<Option<(u32, u32, u32, ColumnValues)>> = pick.map(|_| None);
    let mut stopped = false;
    let mut visit = |row: u32, col: u32, value: DataRef<'_>, _pad: u8| {
        if matches!(value, DataRef::Empty) {
            return ControlFlow::Continue(());
        }
        if quick
            && started
            && s.has_data
            && row.saturating_sub(s.first_row) >= HEADER_SEARCH_ROWS as u32
            && header.is_none_or(|h| row > h)
        {
            stopped = true;
            return ControlFlow::Break(());
        }
        if let (Some(None), Some(pick)) = (&gather, pick)
            && started
            && row.saturating_sub(s.first_row) >= HEADER_SEARCH_ROWS as u32
            && header.is_none_or(|h| row > h)
        {
            gather = Some(key_column(&s, header, pick));
        }
        if let Some(Some((h, _, abs, values))) = &mut gather
            && col == *abs
            && row > *h
            && !blank(&value)
            && let Some(k) = key_text(value.clone())
        {
            values.push(row.saturating_add(1), &k);
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
    let mut pads = false;
    guarded(|| book.survey_cells(sheet, &mut special, &mut pads, &mut visit))
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
    s.complete = !stopped;
    if special {
        s.special = true;
        s.has_data = true;
    }
    if !pads && let Some(Some((h, first_col, _, values))) = gather {
        s.keys = Some((h, first_col, values));
    }
    if over {
        return Err(too_many_rows(path, sheet, max_rows));
    }
    Ok(s)
}

/// Once the top rows are all in: the header row and the key column (header, first
/// column, the key's absolute column, the key values of the top rows already passed),
/// or `None` when the sheet has no key column.
fn key_column(
    s: &Survey,
    header: Option<u32>,
    pick: &KeyPick<'_>,
) -> Option<(u32, u32, u32, ColumnValues)> {
    let h = header_of(s, header, pick.score);
    let headers = super::header_texts(&s.row_texts(h));
    (pick.key)(&headers).map(|key| {
        let abs = s.first_col + key as u32;
        let mut values = ColumnValues {
            col: key,
            ..ColumnValues::default()
        };
        for (&r, cells) in s.head.range(h + 1..) {
            for (c, text) in cells {
                if *c == abs
                    && let Some(k) = key_text(DataRef::SharedString(text))
                {
                    values.push(r + 1, &k);
                }
            }
        }
        (h, s.first_col, abs, values)
    })
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
    /// Whether the survey was quick: the rows pass then checks what a full survey would
    /// have (no cell left of the table or out of row order, no unknown error value)
    /// and ends with [`Error::Reread`] when one is there.
    pub verify: bool,
    /// The opened workbook, lent to one pass at a time: its shared strings are read
    /// once, not once per pass (a pass that finds it lent opens its own).
    pub book: Arc<Mutex<Option<Book>>>,
    /// The key column's values as the survey gathered them, for the one duplicate-key
    /// pass that asks for that column (taken by it: the memory is given back).
    pub keys: Arc<Mutex<Option<ColumnValues>>>,
    /// The scans the workbook is read behind (see [`super::gate`]), when they ran
    /// beside the survey: a pass ends with their verdict.
    pub gate: Option<Arc<Gate>>,
}

impl StreamedSheet {
    /// The verdict of the scans the book is read behind, if any: their refusal, or
    /// [`Error::Reread`] when a quick survey met a workbook with formulas (see
    /// `StreamedSheet::verify`).
    fn settled(&self) -> Result<()> {
        let Some(gate) = &self.gate else {
            return Ok(());
        };
        if gate.verdict()? && self.verify {
            return Err(Error::Reread(format!(
                "sheet \"{}\": the workbook holds formulas",
                self.sheet
            )));
        }
        Ok(())
    }
}

/// Visit one column's trimmed, non-empty values (as the sheet shows them) with their
/// row numbers, converting no other cell: the duplicate-key pass costs the parse of the
/// sheet, not a row of cells per row.
pub(super) fn scan_column(
    sheet: &StreamedSheet,
    col: usize,
    f: &mut dyn FnMut(u32, &str),
) -> Result<()> {
    let gathered = sheet.keys.lock().ok().and_then(|mut k| k.take());
    if let Some(values) = gathered.filter(|v| v.col == col) {
        values.for_each(f);
        return Ok(());
    }
    let want = sheet
        .first_col
        .saturating_add(u32::try_from(col).unwrap_or(u32::MAX));
    sheet.settled()?;
    let scan = || -> std::result::Result<(), String> {
        let lent = sheet.book.lock().ok().and_then(|mut b| b.take());
        let mut book = match lent {
            Some(b) => b,
            None => Book::open(&sheet.path, sheet.format, sheet.gate.clone())?,
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

/// Cells sent from the reader thread at a time (in whole rows, at least one): about a
/// megabyte, however wide the sheet; the fewer rows wait in the channel, the less
/// fresh memory the pass touches.
const CHUNK_CELLS: usize = 1 << 14;

/// Stream the data rows below the header on a reader thread; blank rows are skipped.
/// Dropping the iterator stops the thread. Rows handed back on the sender are freed
/// on the reader thread (see [`super::RowsBack`]).
pub(super) fn rows(
    sheet: StreamedSheet,
) -> (
    impl Iterator<Item = Result<RawRow>> + Send,
    mpsc::SyncSender<Vec<RawRow>>,
) {
    let (tx, rx) = mpsc::sync_channel::<Vec<Result<RawRow>>>(2);
    let (back, used) = mpsc::sync_channel::<Vec<RawRow>>(RETURNED_CHUNKS);
    let spawned = std::thread::Builder::new()
        .name("sheet-reader".into())
        .spawn(move || {
            let failed = tx.clone();
            let outcome = crate::quiet_panics(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    stream(&sheet, &tx, &used)
                }))
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
    (first.into_iter().chain(rx.into_iter().flatten()), back)
}

/// Chunks of used rows waiting for the reader thread to free them; past that, the
/// pass frees them itself.
const RETURNED_CHUNKS: usize = 2;

/// The reader thread's work: assemble rows from cells and send them in chunks.
/// Returns a library error's text; a closed channel just ends it.
fn stream(
    sheet: &StreamedSheet,
    tx: &mpsc::SyncSender<Vec<Result<RawRow>>>,
    used: &mpsc::Receiver<Vec<RawRow>>,
) -> std::result::Result<(), String> {
    let lent = sheet.book.lock().ok().and_then(|mut b| b.take());
    let mut book = match lent {
        Some(b) => b,
        None => Book::open(&sheet.path, sheet.format, sheet.gate.clone())?,
    };
    let streamed = stream_book(sheet, &mut book, tx, used);
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
    used: &mpsc::Receiver<Vec<RawRow>>,
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
            // The rows handed back are freed here, where they were allocated.
            for rows in used.try_iter() {
                drop(rows);
            }
            let full = std::mem::replace(chunk, Vec::with_capacity(chunk_rows));
            if tx.send(full).is_err() {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    };
    // After a quick survey: the first cell that a full survey would have read the sheet
    // differently for, and the last row seen (cells must come in row order).
    let mut reread: Option<&'static str> = None;
    let mut last_row = 0u32;
    let mut visit = |row: u32, col: u32, value: DataRef<'_>, pad: u8| {
        if sheet.verify && !matches!(value, DataRef::Empty) {
            if col < sheet.first_col {
                reread = Some("a cell lies left of the table's first column");
                return ControlFlow::Break(());
            }
            if row < last_row {
                reread = Some("its cells are not in row order");
                return ControlFlow::Break(());
            }
            last_row = row;
        }
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
    let mut unknown = false;
    let read = book.for_each_cell_or_unknown(
        &sheet.sheet,
        &mut visit,
        sheet.verify.then_some(&mut unknown),
    );
    // The rows are not all in until the scans the book was read behind have passed
    // (calamine stopped where a refused part held it back).
    if !closed && let Err(e) = sheet.settled() {
        chunk.push(Err(e));
        let _ = tx.send(chunk);
        return Ok(());
    }
    read?;
    if unknown {
        reread = Some("a cell holds an error value calamine does not know");
    }
    if let Some(why) = reread {
        // The rows read so far are in the chunk; the run that reads them starts over.
        chunk.push(Err(Error::Reread(format!(
            "sheet \"{}\": {why}",
            sheet.sheet
        ))));
        let _ = tx.send(chunk);
        return Ok(());
    }
    if !closed {
        let _ = flush(current.take(), &mut chunk, true);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::workbook::SheetData;
    use super::super::{Source, Table, open, open_keyed};

    /// A sheet with a title row, a header on row 3 and 60 rows whose keys repeat.
    fn workbook(path: &std::path::Path) {
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "Daftar Pelanggan").unwrap();
        for (c, h) in ["Nama", "Kode"].iter().enumerate() {
            ws.write_string(2, c as u16, *h).unwrap();
        }
        for i in 0..60u32 {
            ws.write_string(3 + i, 0, format!("Toko {i}")).unwrap();
            if i % 7 == 3 {
                ws.write_number(3 + i, 1, f64::from(i % 5)).unwrap();
            } else if i % 11 != 0 {
                ws.write_string(3 + i, 1, format!(" K{} ", i % 9)).unwrap();
            }
        }
        book.save(path).unwrap();
    }

    fn keys(table: &Table) -> Vec<(u32, String)> {
        let mut out = Vec::new();
        table
            .scan_column(1, &mut |row, key| out.push((row, key.to_string())))
            .unwrap();
        out
    }

    fn gathered(table: &Table) -> bool {
        match &table.source {
            Source::Sheet(data) => match &**data {
                SheetData::Streamed(s) => s.keys.lock().unwrap().is_some(),
                SheetData::Loaded(_) => false,
            },
            Source::Csv(_) => false,
        }
    }

    #[test]
    fn the_survey_gathers_the_key_column_as_a_scan_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.xlsx");
        workbook(&path);
        let score = |r: &[String]| r.iter().filter(|c| *c == "Nama" || *c == "Kode").count();
        let plain = open(&path, &Default::default(), &score).unwrap();
        assert!(!gathered(&plain));
        let streamed = keys(&plain);
        let pick = |h: &[String]| h.iter().position(|c| c == "Kode");
        let keyed = open_keyed(&path, &Default::default(), &score, Some(&pick)).unwrap();
        assert_eq!(keyed.header_row, 3);
        assert!(gathered(&keyed), "the survey kept the key column");
        assert_eq!(keys(&keyed), streamed);
        assert!(!gathered(&keyed), "the values are handed over once");
        // A second scan streams the sheet again, with the same values.
        assert_eq!(keys(&keyed), streamed);
        assert_eq!(streamed.len(), 54);
        assert_eq!(streamed[0], (5, "K1".into()));
        assert_eq!(streamed[2], (7, "3".into()));
    }
}
