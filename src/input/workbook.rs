//! Workbooks through calamine: sheet choice, header row, and cell semantics (text stays
//! text, whole-number floats become integer text, date cells become ISO dates, formula
//! cells give their cached value, error cells are kept as errors).
//!
//! XLSX, XLSM and XLSB sheets are streamed ([`super::xlsx_stream`]); XLS and ODS, which
//! calamine only reads whole, are held as a range.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use calamine::{Data, Ods, Range, Reader, Sheet, SheetVisible, Sheets, Xls, Xlsx, open_workbook};

use super::gate::{self, Gate};
use super::limits::{self, DEFAULT_MAX_ROWS};
use super::sheet_choice;
use super::xlsx_stream::{self, Book, KeyPick, StreamedSheet, Survey};
use super::{
    Cell, CellKind, Format, HEADER_SEARCH_ROWS, HeaderScorer, KeyPicker, RawRow, ReadOptions,
    RowIter, Source, Table, cap_cell_size, detect_header, header_texts, xlsx_cells,
};
use crate::error::{Error, Result};

/// One sheet's cells and where the table sits in it.
pub(super) enum SheetData {
    /// Held whole (XLS, ODS, and an XLSX whose cells are out of order).
    Loaded(LoadedSheet),
    /// Streamed again for every pass over its rows.
    Streamed(StreamedSheet),
}

/// A sheet held as a calamine range.
pub(super) struct LoadedSheet {
    range: Range<Data>,
    /// Zero-based absolute row of the range's first row.
    first_row: u32,
    /// Zero-based absolute column of the range's first column.
    first_col: u32,
    /// Zero-based index, inside the range, of the header row.
    header_index: usize,
    width: usize,
    /// Non-blank rows below the header.
    data_rows: u64,
    /// Zero-padding widths of the number cells formatted `00000`…, by absolute
    /// (row, column); empty for most workbooks.
    zero_pad: HashMap<(u32, u32), u8>,
    /// Cells the range cannot express (formulas never calculated, newer error values),
    /// by absolute (row, column); see [`xlsx_cells`].
    marks: HashMap<(u32, u32), Cell>,
}

impl SheetData {
    /// Non-blank rows below the header.
    pub(super) fn data_rows(&self) -> u64 {
        match self {
            SheetData::Loaded(l) => l.data_rows,
            SheetData::Streamed(s) => s.data_rows,
        }
    }

    /// Whether [`Self::data_rows`] counted every row (not so after a quick survey).
    pub(super) fn data_rows_known(&self) -> bool {
        match self {
            SheetData::Loaded(_) => true,
            SheetData::Streamed(s) => !s.verify,
        }
    }

    /// Zero-based absolute column of the table's first column.
    pub(super) fn first_col(&self) -> u32 {
        match self {
            SheetData::Loaded(l) => l.first_col,
            SheetData::Streamed(s) => s.first_col,
        }
    }
}

/// Run a calamine call, turning a panic inside it (seen on damaged XLS files) into the
/// same "damaged file" error as any other reading failure.
pub(super) fn guarded<T>(what: impl FnOnce() -> T) -> std::result::Result<T, String> {
    crate::quiet_panics(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(what)))
        .map_err(|_| "its contents are damaged or cut short".to_string())
}

/// An ODS's `content.xml` must be complete XML: calamine loops forever on a table that
/// is never closed (found by fuzzing), so it is checked, streaming, before calamine reads it.
fn check_ods(path: &Path) -> std::result::Result<(), String> {
    use quick_xml::events::Event;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| e.to_string())?;
    let content = zip
        .by_name("content.xml")
        .map_err(|_| "no content.xml".to_string())?;
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::new(content));
    let mut buf = Vec::new();
    let mut depth: usize = 0;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("content.xml is not well-formed: {e}")),
        }
        buf.clear();
    }
    if depth == 0 {
        Ok(())
    } else {
        Err("content.xml ends before its elements are closed".into())
    }
}

fn open_sheets(path: &Path, format: Format) -> Result<Sheets<std::io::BufReader<std::fs::File>>> {
    // Read as whole ranges: refuse a sheet whose cells span more than memory allows.
    match format {
        Format::Xls => limits::check_xls_extent(path)?,
        Format::Ods => limits::check_ods_extent(path)?,
        _ => {}
    }
    let open = || -> std::result::Result<Sheets<_>, String> {
        Ok(match format {
            Format::Xlsx | Format::Xlsm => {
                Sheets::Xlsx(open_workbook::<Xlsx<_>, _>(path).map_err(|e| e.to_string())?)
            }
            Format::Xls => {
                Sheets::Xls(open_workbook::<Xls<_>, _>(path).map_err(|e| e.to_string())?)
            }
            Format::Ods => {
                check_ods(path)?;
                Sheets::Ods(open_workbook::<Ods<_>, _>(path).map_err(|e| e.to_string())?)
            }
            Format::Xlsb | Format::Csv => return Err("not read as a range".into()),
        })
    };
    guarded(open)
        .and_then(|r| r)
        .map_err(|e| unreadable(path, format, &e))
}

/// The refusal of a workbook calamine cannot open, in the words that fit the cause.
fn unreadable(path: &Path, format: Format, e: &str) -> Error {
    let display = path.display();
    if e.to_ascii_lowercase().contains("password") {
        return Error::input(format!(
            "{display} is encrypted (a password-protected workbook): open it in Excel, remove the password, save it and try again"
        ));
    }
    Error::input(format!(
        "{display} cannot be read as {format} ({}): open it in Excel and save it again",
        short(e)
    ))
}

/// Keep library error text to one short clause.
pub(super) fn short(e: &str) -> String {
    let first = e.lines().next().unwrap_or(e);
    if first.chars().count() > 120 {
        first.chars().take(120).collect::<String>() + "…"
    } else {
        first.to_string()
    }
}

fn has_data(range: &Range<Data>) -> bool {
    range.used_cells().any(|(_, _, d)| match d {
        Data::Empty => false,
        Data::String(s) => !s.trim().is_empty(),
        _ => true,
    })
}

/// Scan every part calamine will read before calamine reads any (the same scans as
/// [`Gate`]'s, awaited): sizes, giant texts and, for worksheets, rows past any limit.
/// Returns whether some worksheet holds a formula (see [`limits::PartScan::formulas`]).
fn prescan(path: &Path, opts: &ReadOptions) -> Result<bool> {
    Gate::start(path, row_cap(opts))?.verdict()
}

/// Rows of values the pre-scan allows a worksheet part. Every sheet is scanned, the
/// chosen one is counted exactly by its survey: so the scan only stops what no
/// `--max-rows` could make readable.
fn row_cap(opts: &ReadOptions) -> u64 {
    let allowance = opts
        .header_row
        .map_or(HEADER_SEARCH_ROWS as u64, |h| u64::from(h) + 1);
    opts.max_rows
        .unwrap_or(DEFAULT_MAX_ROWS)
        .max(DEFAULT_MAX_ROWS)
        .saturating_add(allowance)
}

/// The sheets to try, in order, and notes on the hidden ones: hidden and very hidden
/// sheets hold old or helper data nobody sees, so they are read only when `--sheet`
/// names them.
fn sheet_order(
    path: &Path,
    meta: &[Sheet],
    wanted: Option<&str>,
) -> Result<(Vec<String>, Vec<String>)> {
    let display = path.display();
    let names: Vec<&str> = meta.iter().map(|s| s.name.as_str()).collect();
    let hidden = |s: &Sheet| s.visible != SheetVisible::Visible;
    if let Some(wanted) = wanted {
        let found = meta
            .iter()
            .find(|s| s.name == wanted)
            .or_else(|| meta.iter().find(|s| s.name.eq_ignore_ascii_case(wanted)))
            .ok_or_else(|| {
                Error::usage(format!(
                    "{display} has no sheet \"{wanted}\"; its sheets are: {}",
                    names
                        .iter()
                        .map(|s| format!("\"{s}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let mut notes = Vec::new();
        if hidden(found) {
            notes.push(format!(
                "sheet \"{}\" is hidden in the workbook; reading it because --sheet names it",
                found.name
            ));
        }
        return Ok((vec![found.name.clone()], notes));
    }
    let skipped: Vec<String> = meta
        .iter()
        .filter(|s| hidden(s))
        .map(|s| format!("\"{}\"", s.name))
        .collect();
    let mut notes = Vec::new();
    if !skipped.is_empty() {
        notes.push(format!(
            "skipped {} hidden sheet{} ({}): hidden sheets are not read; name one with --sheet to read it",
            skipped.len(),
            if skipped.len() == 1 { "" } else { "s" },
            skipped.join(", ")
        ));
    }
    let visible = meta
        .iter()
        .filter(|s| !hidden(s))
        .map(|s| s.name.clone())
        .collect();
    Ok((visible, notes))
}

/// The refusal of a workbook none of whose `tried` sheets holds data.
fn no_data(path: &Path, tried: &[String], meta: &[Sheet]) -> Error {
    let hidden: Vec<String> = meta
        .iter()
        .filter(|s| s.visible != SheetVisible::Visible)
        .map(|s| format!("\"{}\"", s.name))
        .collect();
    if hidden.is_empty() {
        Error::input(format!(
            "{} has no data in any sheet ({}): fill a sheet or choose another file",
            path.display(),
            tried.join(", ")
        ))
    } else {
        Error::input(format!(
            "{} has no data in its visible sheets ({}); its hidden sheets ({}) are not read: name one with --sheet to read it",
            path.display(),
            tried.join(", "),
            hidden.join(", ")
        ))
    }
}

pub(super) fn open(
    path: &Path,
    format: Format,
    opts: &ReadOptions,
    score: HeaderScorer<'_>,
    key: Option<KeyPicker<'_>>,
) -> Result<Table> {
    let streamed = matches!(format, Format::Xlsx | Format::Xlsm | Format::Xlsb);
    // A run that can throw its pass away scans the parts beside calamine's read (see
    // `gate`); one that sends rows as it reads them scans them all first.
    let gate = if streamed && opts.quick_survey {
        Some(Gate::start(path, row_cap(opts))?)
    } else {
        None
    };
    let formulas = if gate.is_some() {
        // Not known yet: the pass ends with Error::Reread if there are.
        false
    } else if streamed || format == Format::Ods {
        prescan(path, opts)?
    } else {
        true
    };
    if streamed {
        let book = guarded(|| Book::open(path, format, gate.clone()))
            .and_then(|r| r)
            .map_err(|e| gate::blame(gate.as_deref(), unreadable(path, format, &e)))?;
        // A quick survey (top rows only) needs an XLSX without formulas: see
        // `StreamedSheet::verify`. An XLSB's formulas are not looked for.
        let quick = opts.quick_survey && !formulas && format != Format::Xlsb;
        let pick = key.map(|key| KeyPick { score, key });
        let scans = gate.clone();
        return open_streamed(
            path,
            format,
            (book, gate),
            opts,
            score,
            pick.as_ref(),
            quick,
        )
        .map_err(|e| gate::blame(scans.as_deref(), e));
    }
    let book = open_sheets(path, format)?;
    open_loaded(path, format, book, opts, score)
}

/// Open a sheet of an XLSX, XLSM or XLSB by streaming it.
/// `gate`: the scans the book is read behind, if any (see [`gate`]).
fn open_streamed(
    path: &Path,
    format: Format,
    (mut book, gate): (Book, Option<Arc<Gate>>),
    opts: &ReadOptions,
    score: HeaderScorer<'_>,
    pick: Option<&KeyPick<'_>>,
    quick: bool,
) -> Result<Table> {
    let display = path.display();
    let max_rows = opts.max_rows.unwrap_or(DEFAULT_MAX_ROWS);
    let meta = book.sheets_metadata();
    // A quick survey gathers no keys: the run that asked for it gathers them itself.
    let pick = pick.filter(|_| !quick);
    if meta.is_empty() {
        return Err(Error::input(format!("{display} has no sheets")));
    }
    let (mut order, mut notes) = sheet_order(path, &meta, opts.sheet.as_deref())?;
    let header = match opts.header_row {
        Some(0) => return Err(Error::usage("--header-row counts from 1")),
        h => h.map(|n| n - 1),
    };
    let (named, count) = (opts.sheet.is_some(), meta.len());
    let chosen = sheet_choice::by_headers(&mut book, &mut order, named, score);
    let mut found: Option<(String, Survey)> = None;
    for name in &order {
        let s = xlsx_stream::survey(&mut book, path, name, header, max_rows, pick, quick)?;
        if s.has_data {
            found = Some((name.clone(), s));
            break;
        }
        if opts.sheet.is_some() {
            return Err(Error::input(format!(
                "sheet \"{name}\" of {display} is empty: choose another with --sheet"
            )));
        }
    }
    let (sheet, mut survey) = found.ok_or_else(|| no_data(path, &order, &meta))?;
    notes.extend(sheet_choice::note(chosen, &sheet, named, count));
    if !survey.ordered || survey.special {
        // Out-of-order cells cannot be streamed into rows, and cells the stream cannot
        // express need the whole-range reader: read the sheet whole, once every part
        // has passed its scan.
        drop(book);
        if let Some(gate) = &gate {
            gate.verdict()?;
        }
        let book = open_sheets(path, format)?;
        let mut table = open_loaded(
            path,
            format,
            book,
            &ReadOptions {
                sheet: Some(sheet),
                ..opts.clone()
            },
            score,
        )?;
        table.notes.splice(0..0, notes);
        return Ok(table);
    }
    let header_row = match header {
        Some(h) => {
            if h < survey.first_row || h > survey.last_row {
                return Err(Error::usage(format!(
                    "--header-row {} is outside the data of sheet \"{sheet}\" (rows {}..{})",
                    u64::from(h) + 1,
                    u64::from(survey.first_row) + 1,
                    u64::from(survey.last_row) + 1
                )));
            }
            h
        }
        None => xlsx_stream::header_of(&survey, None, score),
    };
    // Key values gathered for another header or first column than the sheet's are
    // of no use (the survey decided before it saw the whole sheet).
    let keys = survey
        .keys
        .take()
        .filter(|(h, first_col, _)| (*h, *first_col) == (header_row, survey.first_col))
        .map(|(_, _, values)| values);
    let headers = header_texts(&survey.row_texts(header_row));
    let data_rows = survey.data_rows(header_row);
    if survey.complete && data_rows > max_rows {
        return Err(xlsx_stream::too_many_rows(path, &sheet, max_rows));
    }
    let data = StreamedSheet {
        path: path.to_path_buf(),
        format,
        sheet: sheet.clone(),
        header_row,
        first_col: survey.first_col,
        width: headers.len(),
        data_rows,
        max_rows,
        verify: !survey.complete,
        book: Arc::new(std::sync::Mutex::new(Some(book))),
        keys: Arc::new(std::sync::Mutex::new(keys)),
        gate,
    };
    Ok(Table {
        left_out: Default::default(),
        path: path.to_path_buf(),
        format,
        sheet,
        sheets: meta.iter().map(|s| s.name.clone()).collect(),
        headers,
        header_row: header_row.saturating_add(1),
        notes,
        top_rows: super::top_rows(
            (survey.first_row..=survey.last_row)
                .take(HEADER_SEARCH_ROWS)
                .map(|r| (r.saturating_add(1), survey.row_texts(r))),
        ),
        source: Source::Sheet(Arc::new(SheetData::Streamed(data))),
    })
}

/// Open a sheet of an XLS or ODS (or an XLSX out of order) by loading it whole.
fn open_loaded(
    path: &Path,
    format: Format,
    mut book: Sheets<std::io::BufReader<std::fs::File>>,
    opts: &ReadOptions,
    score: HeaderScorer<'_>,
) -> Result<Table> {
    let display = path.display();
    let max_rows = opts.max_rows.unwrap_or(DEFAULT_MAX_ROWS);
    let meta: Vec<Sheet> = book.sheets_metadata().to_vec();
    if meta.is_empty() {
        return Err(Error::input(format!("{display} has no sheets")));
    }
    let mut marks = HashMap::new();
    let mut load = |book: &mut Sheets<_>, name: &str| -> Result<Range<Data>> {
        guarded(|| xlsx_cells::range(book, name, &mut marks))
            .and_then(|r| r)
            .map_err(|e| {
                Error::input(format!(
                    "sheet \"{name}\" of {display} cannot be read ({}): open the file in Excel and save it again",
                    short(&e)
                ))
            })
    };
    let (order, mut notes) = sheet_order(path, &meta, opts.sheet.as_deref())?;
    let mut found = None;
    for name in &order {
        let range = load(&mut book, name)?;
        if has_data(&range) {
            found = Some((name.clone(), range));
            break;
        }
        if opts.sheet.is_some() {
            return Err(Error::input(format!(
                "sheet \"{name}\" of {display} is empty: choose another with --sheet"
            )));
        }
    }
    let (sheet, range) = found.ok_or_else(|| no_data(path, &order, &meta))?;
    notes.extend(sheet_choice::note(
        None,
        &sheet,
        opts.sheet.is_some(),
        meta.len(),
    ));
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let candidates: Vec<Vec<String>> = range
        .rows()
        .take(HEADER_SEARCH_ROWS)
        .map(|r| r.iter().map(|d| to_cell(d).text).collect())
        .collect();
    let header_index = match opts.header_row {
        Some(0) => return Err(Error::usage("--header-row counts from 1")),
        Some(n) => {
            let i = (n as i64) - 1 - first_row as i64;
            if i < 0 || i as usize >= range.height() {
                return Err(Error::usage(format!(
                    "--header-row {n} is outside the data of sheet \"{sheet}\" (rows {}..{})",
                    first_row + 1,
                    first_row as usize + range.height()
                )));
            }
            i as usize
        }
        None => detect_header(&candidates, score).unwrap_or(0),
    };
    let header_cells: Vec<String> = range
        .rows()
        .nth(header_index)
        .map(|r| r.iter().map(|d| to_cell(d).text).collect())
        .unwrap_or_default();
    let headers = header_texts(&header_cells);
    let width = headers.len();
    let data_rows = range
        .rows()
        .skip(header_index + 1)
        .filter(|r| r.iter().take(width).any(|d| !to_cell(d).is_empty()))
        .count() as u64;
    if data_rows > max_rows {
        return Err(xlsx_stream::too_many_rows(path, &sheet, max_rows));
    }
    let zero_pad = match &mut book {
        Sheets::Xlsx(xlsx) => zero_pad_cells(xlsx, &sheet),
        _ => HashMap::new(),
    };
    let data = LoadedSheet {
        range,
        first_row,
        first_col,
        header_index,
        width,
        data_rows,
        zero_pad,
        marks,
    };
    Ok(Table {
        left_out: Default::default(),
        path: path.to_path_buf(),
        format,
        sheet,
        sheets: meta.iter().map(|s| s.name.clone()).collect(),
        headers,
        header_row: first_row + header_index as u32 + 1,
        notes,
        top_rows: super::top_rows(
            candidates
                .into_iter()
                .enumerate()
                .map(|(i, r)| (first_row + i as u32 + 1, r)),
        ),
        source: Source::Sheet(Arc::new(SheetData::Loaded(data))),
    })
}

/// Iterate the data rows below the header; blank rows are skipped.
/// With where to hand the rows back when a reader thread reads them (see
/// [`super::RowsBack`]).
pub(super) fn rows<'a>(
    data: Arc<SheetData>,
    table: &'a Table,
) -> (RowIter<'a>, Option<super::RowsBack>) {
    match &*data {
        SheetData::Streamed(s) => {
            let (rows, back) = xlsx_stream::rows(s.clone());
            (Box::new(rows), Some(back))
        }
        SheetData::Loaded(_) => (Box::new(loaded_rows(data, table)), None),
    }
}

fn loaded_rows<'a>(
    data: Arc<SheetData>,
    _table: &'a Table,
) -> impl Iterator<Item = Result<RawRow>> + Send + 'a {
    let (start, height) = match &*data {
        SheetData::Loaded(l) => (l.header_index + 1, l.range.height()),
        SheetData::Streamed(_) => (0, 0),
    };
    (start..height).filter_map(move |i| {
        let SheetData::Loaded(data) = &*data else {
            return None;
        };
        let number = data.first_row + i as u32 + 1;
        let mut cells: Vec<Cell> = Vec::with_capacity(data.width);
        for col in 0..data.width.min(data.range.width()) {
            let mut cell = data
                .range
                .get((i, col))
                .map(to_cell)
                .unwrap_or_else(Cell::empty);
            let at = (number - 1, data.first_col + col as u32);
            if cell.kind == CellKind::Number && !data.zero_pad.is_empty() {
                cell.zero_pad = data.zero_pad.get(&at).copied().unwrap_or(0);
            }
            if let Some(marked) = data.marks.get(&at) {
                cell = marked.clone();
            }
            cells.push(cap_cell_size(cell));
        }
        if cells.iter().all(Cell::is_empty) {
            return None;
        }
        cells.resize_with(data.width, Cell::empty);
        Some(Ok(RawRow::new(number, cells)))
    })
}

/// The width of a number format that only pads with zeros (`00000` → 5, also as the
/// first section of `00000;-00000`); 0 for any other format, `0` included.
pub(super) fn zero_pad_width(format_code: &str) -> u8 {
    let first = format_code.split(';').next().unwrap_or_default();
    if first.len() >= 2 && first.bytes().all(|b| b == b'0') {
        u8::try_from(first.len()).unwrap_or(u8::MAX)
    } else {
        0
    }
}

/// The cells of an XLSX sheet whose number format pads with zeros, with that width.
///
/// Only the workbook's style palette is read unless some style pads, so most
/// workbooks cost nothing more; otherwise the sheet's style ids are streamed once.
/// A sheet whose styles cannot be read simply has no padded cells.
fn zero_pad_cells<R: std::io::Read + std::io::Seek>(
    book: &mut Xlsx<R>,
    sheet: &str,
) -> HashMap<(u32, u32), u8> {
    let scan = || -> Option<HashMap<(u32, u32), u8>> {
        let mut cells = book.worksheet_cells_reader(sheet).ok()?;
        let widths: Vec<u8> = cells
            .styles()
            .iter()
            .map(|s| {
                s.number_format
                    .as_ref()
                    .map_or(0, |f| zero_pad_width(&f.format_code))
            })
            .collect();
        let mut found = HashMap::new();
        if widths.iter().all(|&w| w == 0) {
            return Some(found);
        }
        while let Ok(Some((row, col, style))) = cells.next_style_id() {
            if let Some(&w) = widths.get(style).filter(|&&w| w > 0) {
                found.insert((row, col), w);
            }
        }
        Some(found)
    };
    guarded(scan).ok().flatten().unwrap_or_default()
}

/// Render a number as a spreadsheet user reads it: `6281234567`, not `6281234567.0`.
pub fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        itoa::Buffer::new().format(f as i64).to_string()
    } else {
        // `ryu` writes the shortest digits without the formatting machinery (a sheet's
        // coordinates are most of its numbers). Within this range it writes no exponent,
        // and with at most 15 significant digits no other text reads back as the same
        // number, so it is what `{f}` writes; else `{f}` decides.
        let mut buffer = ryu::Buffer::new();
        if (1e-4..1e15).contains(&f.abs()) {
            let text = buffer.format_finite(f);
            let significant = text
                .bytes()
                .filter(u8::is_ascii_digit)
                .skip_while(|&d| d == b'0')
                .count();
            if significant <= 15 {
                return text.to_string();
            }
        }
        format!("{f}")
    }
}

/// A calamine value as a [`Cell`] of text.
pub(super) fn to_cell(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::empty(),
        Data::String(s) => Cell::text(s.clone()),
        Data::Int(i) => Cell::new(CellKind::Number, i.to_string()),
        Data::Float(f) => Cell::new(CellKind::Number, number_text(*f)),
        Data::Bool(b) => Cell::new(CellKind::Bool, b.to_string()),
        Data::DateTime(dt) => {
            if dt.is_duration() {
                return Cell::new(CellKind::Number, number_text(dt.as_f64()));
            }
            match dt.as_datetime() {
                Some(t) if t.time() == chrono::NaiveTime::MIN => {
                    Cell::new(CellKind::Date, t.format("%Y-%m-%d").to_string())
                }
                Some(t) => Cell::new(CellKind::Date, t.format("%Y-%m-%d %H:%M:%S").to_string()),
                None => Cell::new(CellKind::Number, number_text(dt.as_f64())),
            }
        }
        Data::DateTimeIso(s) => {
            let text = s.strip_suffix("T00:00:00").unwrap_or(s).replace('T', " ");
            Cell::new(CellKind::Date, text)
        }
        Data::DurationIso(s) => Cell::text(s.clone()),
        Data::Error(e) => Cell::new(CellKind::Error, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_floats_render_as_integers() {
        assert_eq!(number_text(6281234567.0), "6281234567");
        assert_eq!(number_text(-7.110383), "-7.110383");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(number_text(1e20), "100000000000000000000");
    }

    /// The fast path writes what `{f}` writes, for every kind of value in its range.
    #[test]
    fn fast_numbers_read_as_the_standard_ones() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..200_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = match i % 4 {
                // Any bit pattern: every exponent and digit count.
                0 => f64::from_bits(x),
                // Coordinates with a few decimals, as typed.
                1 => ((x % 36_000_000) as f64 - 18_000_000.0) / 100_000.0,
                2 => (x % 1_000_000_000) as f64 / 1000.0,
                _ => (x as f64) * 1e-19,
            };
            if !f.is_finite() || (f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15) {
                continue;
            }
            assert_eq!(number_text(f), format!("{f}"), "{f:e}");
        }
    }

    #[test]
    fn only_zero_padding_formats_have_a_width() {
        assert_eq!(zero_pad_width("00000"), 5);
        assert_eq!(zero_pad_width("000000000000;-000000000000"), 12);
        assert_eq!(zero_pad_width("0"), 0);
        assert_eq!(zero_pad_width("General"), 0);
        assert_eq!(zero_pad_width("0.00"), 0);
        assert_eq!(zero_pad_width("#,##0"), 0);
    }
}
