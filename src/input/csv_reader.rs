//! Delimited text: delimiter sniffing, BOM and legacy encodings, streaming rows.

mod quotes;
mod shape;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use encoding_rs::Encoding;
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

use super::{
    Cell, Format, HEADER_SEARCH_ROWS, HeaderScorer, RawRow, ReadOptions, RowDefect, RowIter,
    Source, Table, cap_cell_size, detect_header, header_texts,
};
use crate::error::{Error, Result};

/// Candidate delimiters, in order of preference on a tie.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// What is needed to (re-)read the rows of a CSV.
pub(super) struct CsvSource {
    path: PathBuf,
    encoding: Option<&'static Encoding>,
    /// What a field that is not text makes of its row.
    on_bad: OnBad,
    delimiter: u8,
    terminator: csv::Terminator,
    /// Zero-based record index of the header (blank lines are not records).
    header_index: usize,
    width: usize,
    /// How many fields a record may have.
    shape: shape::Shape,
    /// The unclosed-quote check was left to the rows pass (see
    /// [`ReadOptions::quick_survey`]): its scan rides along every pass, and a quote
    /// never closed ends the pass with that error at the end of the file.
    scan_quotes: bool,
}

/// What a field whose bytes are not text (not UTF-8, in a file read without
/// transcoding) makes of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnBad {
    /// The file is in the given `--encoding`, transcoded: a field that is still not text
    /// could not be decoded, and the file is refused.
    Given,
    /// The file looks like a legacy code page nothing guessed: refused with the
    /// `--encoding` to pass.
    Refuse,
    /// The file is UTF-8 but for a few bytes: the field is kept with the bytes
    /// replaced (so the row can be shown) and its row is refused naming the byte.
    Mark,
}

/// A field whose bytes are not text: its position in the record and its first bad
/// byte.
pub(super) type BadField = (usize, u8);

type Decoded = DecodeReaderBytes<BufReader<File>, Vec<u8>>;

fn decoder(path: &Path, encoding: Option<&'static Encoding>) -> Result<Decoded> {
    let file = File::open(path).map_err(|e| {
        Error::input(format!(
            "cannot read {}: {}",
            path.display(),
            super::io_reason(&e)
        ))
    })?;
    Ok(DecodeReaderBytesBuilder::new()
        .encoding(encoding)
        .bom_sniffing(true)
        .strip_bom(true)
        .build(BufReader::with_capacity(1 << 16, file)))
}

fn reader(
    path: &Path,
    encoding: Option<&'static Encoding>,
    delimiter: u8,
    terminator: csv::Terminator,
) -> Result<csv::Reader<quotes::Scanning<Decoded>>> {
    Ok(reader_builder(delimiter, terminator)
        .from_reader(quotes::Scanning::new(decoder(path, encoding)?, None)))
}

/// How every pass parses the records.
fn reader_builder(delimiter: u8, terminator: csv::Terminator) -> csv::ReaderBuilder {
    let mut builder = csv::ReaderBuilder::new();
    builder
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .terminator(terminator)
        .buffer_capacity(1 << 16);
    builder
}

/// The decoded first 64 KB of the file, read once for sniffing the delimiter and the
/// line terminator.
fn sample(path: &Path, encoding: Option<&'static Encoding>) -> Result<Vec<u8>> {
    let mut sample = Vec::with_capacity(1 << 16);
    decoder(path, encoding)?
        .take(1 << 16)
        .read_to_end(&mut sample)
        .map_err(|e| {
            Error::input(format!(
                "cannot read {}: {}",
                path.display(),
                super::io_reason(&e)
            ))
        })?;
    Ok(sample)
}

/// Split records on `\n` (the trailing `\r` of CRLF files is removed from the last field)
/// so that reported line numbers are right: the csv crate miscounts lines of CRLF files.
/// Only files using bare `\r` (old Mac) keep the crate's any-newline terminator.
fn terminator(sample: &[u8]) -> csv::Terminator {
    if sample.contains(&b'\r') && !sample.contains(&b'\n') {
        csv::Terminator::CRLF
    } else {
        csv::Terminator::Any(b'\n')
    }
}

/// The line the record just read starts on; files split on bare `\r` report no lines,
/// so count records.
///
/// The csv crate dates a record from where its read began, before the blank lines the
/// read skipped: so count back from where it ended instead, past the line breaks inside
/// its quoted fields and its own.
fn line_of<R: std::io::Read>(
    rdr: &csv::Reader<quotes::Scanning<R>>,
    rec: &csv::ByteRecord,
    index: usize,
) -> u32 {
    let end = rdr.position();
    let inside = rec.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
    let own = u64::from(!rdr.get_ref().ends_unterminated(end.byte()));
    let first = end.line().saturating_sub(inside + own).max(1);
    if end.line() > 1 || index <= 1 {
        u32::try_from(first).unwrap_or(u32::MAX)
    } else {
        index as u32
    }
}

/// Field `i` of a record, without the `\r` that CRLF leaves on the last field.
fn field(record: &csv::ByteRecord, i: usize) -> Option<&[u8]> {
    let f = record.get(i)?;
    if i + 1 == record.len() {
        Some(f.strip_suffix(b"\r").unwrap_or(f))
    } else {
        Some(f)
    }
}

/// Convert one record to text cells, naming the line when it is not valid text.
fn record_texts(path: &Path, record: &csv::ByteRecord, on_bad: OnBad) -> Result<Vec<String>> {
    let mut texts = Vec::with_capacity(record.len());
    record_texts_into(path, record, on_bad, &mut texts, &mut Vec::new())?;
    Ok(texts)
}

/// [`record_texts`] into `texts` (emptied first), whose room a pass reuses row after row;
/// with [`OnBad::Mark`], the fields that are not text go to `bad`.
fn record_texts_into(
    path: &Path,
    record: &csv::ByteRecord,
    on_bad: OnBad,
    texts: &mut Vec<String>,
    bad: &mut Vec<BadField>,
) -> Result<()> {
    texts.clear();
    bad.clear();
    // Checked as one text (one call, not one per field), each field then cut out of it
    // where it starts and ends on a character; a field that does not is looked at alone.
    if let Ok(text) = std::str::from_utf8(record.as_slice()) {
        let last = record.len().saturating_sub(1);
        for i in 0..record.len() {
            let Some(cut) = record.range(i).and_then(|r| text.get(r)) else {
                texts.clear();
                break;
            };
            let cut = if i == last {
                cut.strip_suffix('\r').unwrap_or(cut)
            } else {
                cut
            };
            texts.push(cut.to_string());
        }
        if texts.len() == record.len() {
            return Ok(());
        }
    }
    let line = record.position().map(|p| p.line()).unwrap_or(0);
    for i in 0..record.len() {
        let field = field(record, i).unwrap_or_default();
        let e = match std::str::from_utf8(field) {
            Ok(s) => {
                texts.push(s.to_string());
                continue;
            }
            Err(e) => e,
        };
        let byte = field.get(e.valid_up_to()).copied().unwrap_or(0);
        match on_bad {
            OnBad::Mark => {
                texts.push(String::from_utf8_lossy(field).into_owned());
                bad.push((i, byte));
            }
            OnBad::Given => {
                return Err(Error::input(format!(
                    "line {line} of {} cannot be decoded with the given --encoding",
                    path.display()
                )));
            }
            OnBad::Refuse => {
                return Err(Error::input(format!(
                    "line {line} of {} is not valid UTF-8 (byte 0x{byte:02X}); the file was probably saved in a legacy code page: pass --encoding windows-1252 (Western European) or --encoding windows-1254 (Turkish)",
                    path.display()
                )));
            }
        }
    }
    Ok(())
}

/// The row defect of a field whose bytes are not text, in a file that is otherwise
/// UTF-8: the row is refused naming the cell and the byte, and nothing of it is sent.
fn not_text(table: &Table, row: u32, col: usize, byte: u8) -> RowDefect {
    let column = table.column_name(col);
    RowDefect {
        invalid: true,
        place: format!("{column} ({})", table.cell_name(row, col)),
        column,
        summary: "holds bytes that are not text".into(),
        detail: format!(
            "holds the byte 0x{byte:02X}, which is not UTF-8 text like the rest of the file (shown as \u{FFFD}): the value was damaged or pasted from another program; type it again (if the whole file is in a legacy code page, pass --encoding windows-1252 or windows-1254)"
        ),
    }
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    let at = e
        .position()
        .map(|p| format!(" at line {}", p.line()))
        .unwrap_or_default();
    match e.kind() {
        csv::ErrorKind::Io(io) => Error::input(format!(
            "cannot read {}{at}: {}",
            path.display(),
            super::io_reason(io)
        )),
        _ => Error::input(format!("cannot read {}{at}: {e}", path.display())),
    }
}

/// Read the first records with `delimiter`, as text, with the line each starts on.
fn first_records(
    path: &Path,
    encoding: Option<&'static Encoding>,
    on_bad: OnBad,
    delimiter: u8,
    terminator: csv::Terminator,
    limit: usize,
) -> Result<(Vec<Vec<String>>, Vec<u64>)> {
    let mut rdr = reader(path, encoding, delimiter, terminator)?;
    let mut out = Vec::new();
    let mut lines = Vec::new();
    let mut rec = csv::ByteRecord::new();
    while out.len() < limit {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {
                out.push(record_texts(path, &rec, on_bad)?);
                lines.push(u64::from(line_of(&rdr, &rec, out.len())));
            }
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e)),
        }
    }
    Ok((out, lines))
}

/// The top records with their lines, for [`Table::top_rows`].
fn numbered_top(records: &[Vec<String>], lines: &[u64]) -> Vec<(u32, Vec<String>)> {
    let numbered = records.iter().zip(lines);
    super::top_rows(numbered.map(|(r, &l)| (u32::try_from(l).unwrap_or(u32::MAX), r.clone())))
}

/// Choose the delimiter: the one whose rows name the most known headers, then the one
/// that splits the first lines most consistently into the most columns. `skip` lines
/// (above a header row given with `--header-row`) are not looked at.
fn sniff_delimiter(sample: &[u8], skip: usize, score: HeaderScorer<'_>) -> u8 {
    let text = String::from_utf8_lossy(sample);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .skip(skip)
        .take(HEADER_SEARCH_ROWS)
        .collect();
    let mut best = (b',', (0usize, 0usize, 0usize));
    for d in DELIMITERS {
        let rows: Vec<Vec<String>> = lines.iter().map(|l| split_quoted(l, d)).collect();
        let header_score = rows.iter().map(|r| score(r)).max().unwrap_or(0);
        let counts: Vec<usize> = rows.iter().map(|r| r.len()).collect();
        let mode = most_common(&counts);
        let consistent = counts.iter().filter(|&&c| c == mode && c > 1).count();
        let key = (header_score, consistent, mode);
        if key > best.1 {
            best = (d, key);
        }
    }
    best.0
}

/// Split one line on `d` outside double quotes (good enough for sniffing).
fn split_quoted(line: &str, d: u8) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && c.is_ascii() && c as u8 == d {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn most_common(v: &[usize]) -> usize {
    let mut best = (0, 0);
    for &x in v {
        let n = v.iter().filter(|&&y| y == x).count();
        if n > best.1 || (n == best.1 && x > best.0) {
            best = (x, n);
        }
    }
    best.0
}

fn delimiter_name(d: u8) -> &'static str {
    match d {
        b',' => "','",
        b';' => "';'",
        b'\t' => "TAB",
        b'|' => "'|'",
        _ => "that delimiter",
    }
}

fn delimiter_arg(d: u8) -> &'static str {
    match d {
        b',' => "--delimiter ','",
        b';' => "--delimiter ';'",
        b'\t' => "--delimiter tab",
        b'|' => "--delimiter '|'",
        _ => "--delimiter",
    }
}

pub(super) fn open(path: &Path, opts: &ReadOptions, score: HeaderScorer<'_>) -> Result<Table> {
    // A file the user says is UTF-8 is read as it is, not transcoded, whatever its
    // first bytes look like: a byte that is not text marks its row (never U+FFFD in a
    // payload), and the file is never refused as a legacy code page.
    if opts.encoding == Some(encoding_rs::UTF_8) {
        let as_is = ReadOptions {
            encoding: None,
            ..opts.clone()
        };
        return open_as(path, &as_is, score, true);
    }
    open_as(path, opts, score, false)
}

/// What a field that is not text makes of the file: marks its row when the file is
/// UTF-8 (named by the user, or so by its first bytes).
fn on_bad(path: &Path, encoding: Option<&'static Encoding>, utf8_given: bool) -> Result<OnBad> {
    Ok(match encoding {
        _ if utf8_given => OnBad::Mark,
        Some(_) => OnBad::Given,
        None if super::sniff::head_is_utf8(path)? => OnBad::Mark,
        None => OnBad::Refuse,
    })
}

/// [`open`]; `utf8_given`: the user named UTF-8 (`opts.encoding` is then `None`).
fn open_as(
    path: &Path,
    opts: &ReadOptions,
    score: HeaderScorer<'_>,
    utf8_given: bool,
) -> Result<Table> {
    let display = path.display();
    if let Some(sheet) = &opts.sheet {
        return Err(Error::usage(format!(
            "--sheet {sheet}: {display} is a CSV (text) file, which has no sheets; drop --sheet, or give the workbook that has that sheet"
        )));
    }
    let sample = sample(path, opts.encoding)?;
    let terminator = terminator(&sample);
    let given_row = match opts.header_row {
        Some(0) => return Err(Error::usage("--header-row counts from 1")),
        Some(n) => Some(n as usize),
        None => None,
    };
    let delimiter = match opts.delimiter {
        Some(d) => d,
        None => sniff_delimiter(&sample, given_row.map_or(0, |n| n - 1), score),
    };
    // A run that can throw its pass away leaves the check to that pass (one read of the
    // file, not two), unless the first records already reach the end of the file or
    // fail: a quote left open among them would have made them what they are.
    let defer = opts.quick_survey;
    if !defer {
        check_quotes(path, opts.encoding, delimiter, terminator)?;
    }
    // An explicit header row is honoured however far down it is; the records below it
    // are read too, to learn how many fields a data row has.
    let limit = given_row
        .map_or(0, |n| n + HEADER_SEARCH_ROWS)
        .max(2 * HEADER_SEARCH_ROWS);
    let on_bad = on_bad(path, opts.encoding, utf8_given)?;
    let first = first_records(path, opts.encoding, on_bad, delimiter, terminator, limit);
    let scan_quotes = match &first {
        Ok((records, _)) if defer && records.len() == limit => true,
        _ => {
            if defer {
                check_quotes(path, opts.encoding, delimiter, terminator)?;
            }
            false
        }
    };
    let (records, lines) = first?;
    if records
        .iter()
        .all(|r| r.iter().all(|c| c.trim().is_empty()))
    {
        return Err(Error::input(format!(
            "{display} has no rows (only blank lines): export the sheet again or choose another file"
        )));
    }
    let header_index = match given_row {
        Some(n) => {
            if n > records.len() {
                return Err(Error::usage(format!(
                    "--header-row {n} is beyond the end of {display}, which has {} row{}: give the number of the header row",
                    records.len(),
                    if records.len() == 1 { "" } else { "s" }
                )));
            }
            n - 1
        }
        None => {
            detect_header(&records[..records.len().min(HEADER_SEARCH_ROWS)], score).unwrap_or(0)
        }
    };
    let headers = header_texts(&records[header_index]);
    let data_fields: Vec<usize> = records[header_index + 1..]
        .iter()
        .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
        .map(Vec::len)
        .collect();
    let shape = shape::Shape::new(
        records[header_index].len(),
        lines[header_index],
        &data_fields,
        delimiter,
    );
    if records.iter().all(|r| r.len() <= 1) {
        check_single_column(path, &records, delimiter, opts.delimiter.is_some(), score)?;
    }
    let header_line = header_index as u32 + 1;
    let mut notes = Vec::new();
    if opts.delimiter.is_none() && delimiter != b',' {
        notes.push(format!("delimiter {} detected", delimiter_name(delimiter)));
    }
    let sheet = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("csv")
        .to_string();
    let width = headers.len();
    Ok(Table {
        left_out: Default::default(),
        path: path.to_path_buf(),
        format: Format::Csv,
        sheet,
        sheets: Vec::new(),
        headers,
        header_row: header_line,
        notes,
        top_rows: numbered_top(&records, &lines),
        source: Source::Csv(CsvSource {
            path: path.to_path_buf(),
            encoding: opts.encoding,
            on_bad,
            delimiter,
            terminator,
            header_index,
            width,
            shape,
            scan_quotes,
        }),
    })
}

/// Refuse a file in which a quote opens a value and is never closed: the csv reader
/// would read everything after it as that one value, and those rows would vanish.
fn check_quotes(
    path: &Path,
    encoding: Option<&'static Encoding>,
    delimiter: u8,
    terminator: csv::Terminator,
) -> Result<()> {
    let cr_ends = matches!(terminator, csv::Terminator::CRLF);
    let found = quotes::find_unclosed(decoder(path, encoding)?, delimiter, cr_ends);
    match found.map_err(|e| cannot_read(path, &e))? {
        None => Ok(()),
        Some(offset) => Err(unclosed_quote(path, encoding, delimiter, offset)),
    }
}

/// The error for a quote that opens the value at stream offset `offset` and is never
/// closed: where it is, and how many lines it would swallow.
fn unclosed_quote(
    path: &Path,
    encoding: Option<&'static Encoding>,
    delimiter: u8,
    offset: u64,
) -> Error {
    let at = match decoder(path, encoding)
        .and_then(|d| quotes::locate(d, offset, delimiter).map_err(|e| cannot_read(path, &e)))
    {
        Ok(at) => at,
        Err(e) => return e,
    };
    Error::input(format!(
        "{}: the quote that opens the value in column {} of line {} ({}) is never closed, so the {} line{} after it would be read as one cell: close the quote, or double it (\"\") if it is part of the value",
        path.display(),
        super::column_letter(at.field),
        at.line,
        at.preview,
        at.lines_after,
        if at.lines_after == 1 { "" } else { "s" }
    ))
}

/// A file that could not be read (after it was opened).
fn cannot_read(path: &Path, e: &std::io::Error) -> Error {
    Error::input(format!(
        "cannot read {}: {}",
        path.display(),
        super::io_reason(e)
    ))
}

/// Refuse UTF-32 text, which the decoder would take for UTF-16 (its little-endian BOM
/// starts with UTF-16's) and turn into garbage. With or without a BOM.
pub(super) fn refuse_utf32(path: &Path) -> Result<()> {
    let mut head = [0u8; 64];
    let n = File::open(path)
        .and_then(|f| {
            let mut n = 0;
            let mut f = f.take(64);
            loop {
                match f.read(&mut head[n..])? {
                    0 => return Ok(n),
                    k => n += k,
                }
            }
        })
        .unwrap_or(0);
    let head = &head[..n];
    let units: Vec<&[u8]> = head.chunks_exact(4).collect();
    let all = |f: fn(&[u8]) -> bool| units.len() >= 2 && units.iter().all(|u| f(u));
    // Without a BOM: every 4-byte unit a character of the Basic Multilingual Plane,
    // its two high bytes zero (UTF-16 text has no such runs of zeros).
    let order = if head.starts_with(&[0xFF, 0xFE, 0, 0])
        || all(|u| u[2..] == [0, 0] && u[..2] != [0, 0])
    {
        "little-endian"
    } else if head.starts_with(&[0, 0, 0xFE, 0xFF]) || all(|u| u[..2] == [0, 0] && u[2..] != [0, 0])
    {
        "big-endian"
    } else {
        return Ok(());
    };
    Err(Error::input(format!(
        "{} is UTF-32 text ({order}), which sheetload does not read: save it again as UTF-8 (in Excel: CSV UTF-8) or UTF-16",
        path.display()
    )))
}

/// Everything landed in one column: if another delimiter splits the rows into known
/// headers (or, with a forced delimiter, into several columns), say which one to use.
fn check_single_column(
    path: &Path,
    records: &[Vec<String>],
    delimiter: u8,
    forced: bool,
    score: HeaderScorer<'_>,
) -> Result<()> {
    let texts: Vec<&str> = records
        .iter()
        .filter_map(|r| r.first())
        .map(String::as_str)
        .filter(|t| !t.trim().is_empty())
        .collect();
    for d in DELIMITERS.into_iter().filter(|&d| d != delimiter) {
        let splits: Vec<Vec<String>> = texts.iter().map(|t| split_quoted(t, d)).collect();
        let header = splits.iter().find(|p| p.len() > 1 && score(p) > 0);
        let mostly_split = splits.iter().filter(|p| p.len() > 1).count() * 2 > splits.len();
        if header.is_some() || (forced && mostly_split) {
            let shown = header
                .map(|h| h.join(&(d as char).to_string()))
                .or_else(|| texts.first().map(|t| t.to_string()))
                .unwrap_or_default();
            return Err(Error::input(format!(
                "{} splits into a single column with delimiter {}, but its rows (\"{}\") are separated by {}: pass {}",
                path.display(),
                delimiter_name(delimiter),
                truncate(&shown, 60),
                delimiter_name(d),
                delimiter_arg(d)
            )));
        }
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

impl CsvSource {
    pub(super) fn scan_column(&self, col: usize, f: &mut dyn FnMut(u32, &str)) -> Result<()> {
        let mut rdr = reader(&self.path, self.encoding, self.delimiter, self.terminator)?;
        let mut rec = csv::ByteRecord::new();
        let mut index = 0usize;
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => return Err(csv_error(&self.path, e)),
            }
            index += 1;
            if index <= self.header_index + 1 {
                continue;
            }
            let Some(raw) = field(&rec, col) else {
                continue;
            };
            let number = line_of(&rdr, &rec, index);
            let text = match std::str::from_utf8(raw) {
                Ok(t) => std::borrow::Cow::Borrowed(t),
                // The rows pass refuses the row, naming the byte.
                Err(_) if self.on_bad == OnBad::Mark => String::from_utf8_lossy(raw),
                Err(_) => {
                    return Err(Error::input(format!(
                        "line {number} of {} is not valid UTF-8; pass --encoding (windows-1252, windows-1254 …)",
                        self.path.display()
                    )));
                }
            };
            let text = text.trim();
            if !text.is_empty() {
                f(number, text);
            }
        }
    }

    pub(super) fn rows<'a>(&'a self, table: &'a Table) -> Result<RowIter<'a>> {
        let cr_ends = matches!(self.terminator, csv::Terminator::CRLF);
        let scan = self
            .scan_quotes
            .then(|| quotes::Scan::new(self.delimiter, cr_ends));
        let mut rdr = reader_builder(self.delimiter, self.terminator).from_reader(
            quotes::Scanning::new(decoder(&self.path, self.encoding)?, scan),
        );
        let mut rec = csv::ByteRecord::new();
        let mut texts: Vec<String> = Vec::new();
        let mut bad: Vec<BadField> = Vec::new();
        let mut index = 0usize;
        let mut ended = false;
        let iter = std::iter::from_fn(move || {
            loop {
                if ended {
                    return None;
                }
                match rdr.read_byte_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => {
                        ended = true;
                        let offset = rdr.get_ref().unclosed_at_end()?;
                        return Some(Err(unclosed_quote(
                            &self.path,
                            self.encoding,
                            self.delimiter,
                            offset,
                        )));
                    }
                    Err(e) => return Some(Err(csv_error(&self.path, e))),
                }
                index += 1;
                if index <= self.header_index + 1 {
                    continue;
                }
                let number = line_of(&rdr, &rec, index);
                if let Err(e) =
                    record_texts_into(&self.path, &rec, self.on_bad, &mut texts, &mut bad)
                {
                    return Some(Err(e));
                }
                if texts.iter().all(|t| t.trim().is_empty()) {
                    continue;
                }
                let defects = self.shape.defects(table, number, &texts);
                let mut cells: Vec<Cell> = Vec::with_capacity(self.width);
                for t in texts.drain(..).take(self.width) {
                    let cell = match super::csv_unguard(&t) {
                        u if u.len() != t.len() => Cell::text(u.to_string()),
                        _ => Cell::text(t),
                    };
                    cells.push(cap_cell_size(cell));
                }
                cells.resize_with(self.width, Cell::empty);
                let mut row = RawRow::new(number, cells);
                row.defects = defects;
                row.defects.extend(
                    bad.iter()
                        .map(|&(col, byte)| not_text(table, number, col, byte)),
                );
                return Some(Ok(row));
            }
        });
        Ok(Box::new(iter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record is checked as one text, but a character cut by a delimiter is still
    /// not valid text: `é` is C3 A9, here split over two fields.
    #[test]
    fn a_character_cut_by_a_delimiter_is_refused() {
        let path = Path::new("x.csv");
        let split = csv::ByteRecord::from(vec![&b"\xC3"[..], &b"\xA9"[..]]);
        let refused = record_texts(path, &split, OnBad::Refuse).expect_err("not valid text");
        assert!(
            refused.to_string().contains("not valid UTF-8 (byte 0xC3)"),
            "{refused}"
        );
        let (mut texts, mut bad) = (Vec::new(), Vec::new());
        record_texts_into(path, &split, OnBad::Mark, &mut texts, &mut bad).unwrap();
        assert_eq!(bad, [(0, 0xC3), (1, 0xA9)], "each field names its byte");
        let whole = csv::ByteRecord::from(vec![&b"caf\xC3\xA9"[..], &b"x\r"[..]]);
        assert_eq!(
            record_texts(path, &whole, OnBad::Refuse).unwrap(),
            ["café", "x"]
        );
    }

    #[test]
    fn split_respects_quotes() {
        assert_eq!(split_quoted("a;\"b;c\";d", b';'), vec!["a", "b;c", "d"]);
    }

    #[test]
    fn most_common_prefers_larger_on_tie() {
        assert_eq!(most_common(&[3, 3, 1, 1]), 3);
        assert_eq!(most_common(&[2, 4, 4]), 4);
    }
}
