//! Bounds on what a workbook may make sheetload inflate and hold, checked before calamine
//! reads a part: a zip bomb with honest sizes is refused from its central directory, one
//! with a lying directory or a single giant string while its part is streamed through a
//! counter that keeps nothing, so that no input can cost more than a few hundred MB.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Data rows read from one sheet unless `--max-rows` says otherwise: what one Excel sheet
/// holds below its header row.
pub const DEFAULT_MAX_ROWS: u64 = 1_048_575;

/// A worksheet part is streamed, so it may be large; a sheet of a million rows and a
/// dozen columns is about 400 MB of XML.
const MAX_SHEET_PART_BYTES: u64 = 512 << 20;
/// The shared strings are held in memory whole (by calamine), as are the styles and the
/// workbook part: these bound what a workbook costs before its first row.
const MAX_STRINGS_PART_BYTES: u64 = 96 << 20;
/// Any other part calamine reads (workbook, styles, relationships): small in real files.
const MAX_OTHER_PART_BYTES: u64 = 32 << 20;
/// Shared strings kept in memory: each costs calamine about 40 bytes besides its text,
/// and a debug build a couple of seconds per million to read.
const MAX_SHARED_STRINGS: u64 = 2_000_000;
/// The longest stretch of a part without a `<`: one text or one tag. Far past Excel's
/// 32,767 characters a cell, so that a long cell is a row error, not a refusal.
pub(super) const MAX_MARKUP_RUN: u64 = 16 << 20;

/// How a part of a workbook is read, which decides its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PartKind {
    /// A worksheet, streamed cell by cell.
    Sheet,
    /// The shared-string table, held whole.
    Strings,
    /// Another part calamine reads whole (workbook, styles, relationships, ODS content).
    Other,
    /// A part calamine never reads (pictures, printer settings …).
    Unread,
}

impl PartKind {
    /// The kind of the zip entry `name` of an XLSX, XLSM, XLSB or ODS file.
    pub(super) fn of(name: &str) -> PartKind {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("xl/worksheets/") && !lower.contains("/_rels/") {
            PartKind::Sheet
        } else if lower.ends_with("sharedstrings.xml") || lower.ends_with("sharedstrings.bin") {
            PartKind::Strings
        } else if lower == "content.xml" {
            // ODS: calamine reads the whole table into memory.
            PartKind::Strings
        } else if never_read_binary(&lower) {
            PartKind::Unread
        } else if lower.ends_with(".xml") || lower.ends_with(".rels") || lower.ends_with(".bin") {
            PartKind::Other
        } else {
            PartKind::Unread
        }
    }

    /// Most bytes the part may inflate to.
    fn max_bytes(self) -> u64 {
        match self {
            PartKind::Sheet => MAX_SHEET_PART_BYTES,
            PartKind::Strings => MAX_STRINGS_PART_BYTES,
            PartKind::Other => MAX_OTHER_PART_BYTES,
            PartKind::Unread => u64::MAX,
        }
    }
}

/// A binary part no reader of values needs: macros (`vbaProject.bin` and its
/// signatures), printer settings, embedded objects, ActiveX controls. Whatever they
/// hold, the sheets read the same, so they are neither scanned nor refused.
fn never_read_binary(lower: &str) -> bool {
    let file = lower.rsplit('/').next().unwrap_or(lower);
    file.starts_with("vbaproject")
        || file.starts_with("vbadata")
        || ["/printersettings/", "/embeddings/", "/activex/"]
            .iter()
            .any(|dir| lower.contains(dir))
}

/// Whether the zip entry `name` is a workbook's macro part: its macros are never run
/// nor read, which the run says.
pub(super) fn is_macro_part(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    file == "vbaproject.bin"
}

fn mb(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

/// Refuse an entry whose central-directory size is past its kind's limit: before a
/// single byte of it is inflated.
pub(super) fn check_declared_size(path: &Path, name: &str, size: u64) -> Result<()> {
    let kind = PartKind::of(name);
    if size > kind.max_bytes() {
        return Err(too_big(path, name, kind, size));
    }
    Ok(())
}

fn too_big(path: &Path, name: &str, kind: PartKind, size: u64) -> Error {
    let fix = match kind {
        PartKind::Sheet => {
            "split the sheet into several files, or save it as CSV, which is read as a stream"
        }
        _ => "open it in Excel and save it again, or save the sheet as CSV",
    };
    Error::input(format!(
        "{} would unpack its part {name} to {} MB or more, past the {} MB sheetload reads from one part (a zip bomb?): {fix}",
        path.display(),
        mb(size),
        mb(kind.max_bytes()),
    ))
}

/// The refusal of a workbook file that cannot be opened.
pub(super) fn cannot_read(path: &Path, e: &std::io::Error) -> Error {
    Error::input(format!(
        "cannot read {}: {}",
        path.display(),
        super::io_reason(e)
    ))
}

/// The refusal of a workbook whose zip directory cannot be read.
pub(super) fn not_a_zip(path: &Path) -> Error {
    Error::input(format!(
        "{} is damaged (its zip structure cannot be read): open it in Excel and save it again",
        path.display()
    ))
}

/// What streaming a part showed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct PartScan {
    /// Bytes it inflated to.
    pub bytes: u64,
    /// Worksheets: rows holding at least one value (`<v>` or an inline string).
    pub value_rows: u64,
    /// Shared strings: `<si>` elements.
    pub strings: u64,
    /// Shared strings: the count the part declares (`uniqueCount`), which calamine
    /// reserves room for up front.
    pub declared_strings: u64,
    /// Worksheets: `<f>` (formula) elements. A sheet without any cannot hold a formula
    /// that was never calculated, the one cell a streamed pass cannot tell from an
    /// empty one; so only such a sheet may be read without a survey of every row.
    pub formulas: u64,
}

/// Bytes kept from the end of a buffer so that a tag name cut by the buffer's end is
/// looked at whole.
const LOOKAHEAD: usize = 24;

/// The refusal of a part that cannot be unpacked.
pub(super) fn damaged(path: &Path, name: &str) -> Error {
    Error::input(format!(
        "{} is damaged (its part {name} cannot be unpacked): open it in Excel and save it again",
        path.display()
    ))
}

/// The refusal of the part `name` whose scan stopped at `stop`.
pub(super) fn refusal(path: &Path, name: &str, row_cap: u64, stop: Stop) -> Error {
    let display = path.display();
    match stop {
        Stop::Io => damaged(path, name),
        Stop::Size(n) => too_big(path, name, PartKind::of(name), n),
        Stop::Run(at) => Error::input(format!(
            "{display} holds, in its part {name} near byte {at}, one text or tag longer than {} MB, far past the 32,767 characters of a cell (a zip bomb?): open it in Excel and save it again",
            mb(MAX_MARKUP_RUN)
        )),
        Stop::Rows => Error::input(format!(
            "{display} has more than {row_cap} rows in its part {name}, past the --max-rows limit: split the sheet, or raise the limit with --max-rows N"
        )),
        Stop::Strings(n, declared) => Error::input(format!(
            "{display} {} shared strings, more than the {MAX_SHARED_STRINGS} sheetload keeps in memory (a zip bomb?): split the workbook or save the sheet as CSV",
            if declared {
                format!("declares {n}")
            } else {
                format!("holds more than {MAX_SHARED_STRINGS}")
            }
        )),
    }
}

/// Why a scan stopped early.
pub(super) enum Stop {
    Io,
    Size(u64),
    Run(u64),
    Rows,
    /// How many strings, and whether that is the declared count (else a count so far).
    Strings(u64, bool),
}

/// Streams a part through a counter, refusing it as soon as it passes its limits: its
/// size, one text or tag of more than [`MAX_MARKUP_RUN`] bytes, more than `row_cap` rows
/// with values (worksheets), or more shared strings than memory allows.
pub(super) struct Scanner {
    kind: PartKind,
    row_cap: u64,
    /// What the part showed so far.
    pub scan: PartScan,
    /// Absolute offset of the last `<` seen.
    last_lt: u64,
    /// Whether the current `<row>` has had a value yet.
    row_has_value: bool,
    /// The opening bytes of the part, where `uniqueCount` is declared.
    head: Vec<u8>,
    /// Whether the part is XML (binary parts of an XLSB are only measured).
    markup: bool,
    /// Whether the opening bytes have been checked (see [`Self::check_head`]).
    head_checked: bool,
}

impl Scanner {
    /// A scanner for the zip entry `name`, with `row_cap` rows of values allowed.
    pub(super) fn new(name: &str, row_cap: u64) -> Self {
        Scanner {
            kind: PartKind::of(name),
            row_cap,
            scan: PartScan::default(),
            last_lt: 0,
            row_has_value: false,
            head: Vec::new(),
            markup: name.ends_with(".xml") || name.ends_with(".rels"),
            head_checked: false,
        }
    }

    /// Stream the part out of `reader`, stopping at the first limit it passes.
    /// `checked` is called each time everything read so far (but a few bytes kept to
    /// see a tag whole) has passed every check, once the opening bytes have: what was
    /// read up to then may be given to calamine.
    pub(super) fn run(
        &mut self,
        mut reader: impl Read,
        checked: &mut dyn FnMut(),
    ) -> std::result::Result<(), Stop> {
        let mut buf = vec![0u8; 1 << 16];
        let mut filled = 0usize;
        // Absolute offset of buf[0].
        let mut base: u64 = 0;
        loop {
            let n = loop {
                match reader.read(&mut buf[filled..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => return Err(Stop::Io),
                }
            };
            filled += n;
            self.scan.bytes += n as u64;
            if self.scan.bytes > self.kind.max_bytes() {
                return Err(Stop::Size(self.scan.bytes));
            }
            if self.head.len() < 4096 {
                // buf holds [base, base + filled); the head [0, head.len()), base <= head.len().
                let from = (self.head.len() as u64 - base) as usize;
                let to = filled.min(from + 4096 - self.head.len());
                self.head.extend_from_slice(&buf[from..to]);
            }
            let eof = n == 0;
            if !self.head_checked && (self.head.len() >= 4096 || eof) {
                self.check_head()?;
            }
            if !self.markup {
                if eof {
                    return Ok(());
                }
                filled = 0;
                checked();
                continue;
            }
            let end = if eof {
                filled
            } else {
                filled.saturating_sub(LOOKAHEAD)
            };
            for i in memchr::memchr_iter(b'<', &buf[..end]) {
                let at = base + i as u64;
                if at - self.last_lt > MAX_MARKUP_RUN {
                    return Err(Stop::Run(self.last_lt));
                }
                self.last_lt = at;
                let tag = &buf[i + 1..filled.min(i + 1 + LOOKAHEAD)];
                self.tag(tag)?;
            }
            if base + filled as u64 - self.last_lt > MAX_MARKUP_RUN {
                return Err(Stop::Run(self.last_lt));
            }
            if eof {
                break;
            }
            if self.head_checked {
                checked();
            }
            buf.copy_within(end..filled, 0);
            base += end as u64;
            filled -= end;
        }
        Ok(())
    }

    /// Count what the tag starting with `tag` (the bytes after its `<`) opens.
    fn tag(&mut self, tag: &[u8]) -> std::result::Result<(), Stop> {
        // End tags (half of all tags) open nothing.
        if tag.first() == Some(&b'/') {
            return Ok(());
        }
        match self.kind {
            PartKind::Sheet => {
                // Most of a sheet's tags have a one-letter name and no prefix (`<c `,
                // `<v>`, `<t>`): both readings of the name are that letter.
                let name = match tag {
                    [letter, b' ' | b'>' | b'/', ..] => {
                        if *letter == b'f' {
                            self.scan.formulas += 1;
                        }
                        std::slice::from_ref(letter)
                    }
                    // `<is>` (an inline string), two letters: not a formula.
                    [a, b, b' ' | b'>' | b'/', ..]
                        if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() =>
                    {
                        &tag[..2]
                    }
                    _ => {
                        if is_formula_tag(tag) {
                            self.scan.formulas += 1;
                        }
                        local_name(tag)
                    }
                };
                if name == b"row" {
                    self.row_has_value = false;
                } else if (name == b"v" || name == b"is") && !self.row_has_value {
                    self.row_has_value = true;
                    self.scan.value_rows += 1;
                    if self.scan.value_rows > self.row_cap {
                        return Err(Stop::Rows);
                    }
                }
            }
            PartKind::Strings if local_name(tag) == b"si" => {
                self.scan.strings += 1;
                if self.scan.strings > MAX_SHARED_STRINGS {
                    return Err(Stop::Strings(self.scan.strings, false));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Once the opening bytes of a part are in: a worksheet's `<dimension>` whose last
    /// row is past the row limit (no Excel sheet has more than 1,048,576 rows) stops the
    /// scan before the rows are inflated; shared strings declaring more than memory
    /// allows (calamine reserves room for them up front) stop it before calamine sees
    /// the declaration.
    fn check_head(&mut self) -> std::result::Result<(), Stop> {
        self.head_checked = true;
        if self.kind == PartKind::Sheet && last_dimension_row(&self.head) > self.row_cap {
            return Err(Stop::Rows);
        }
        if self.kind == PartKind::Strings {
            self.scan.declared_strings = declared_count(&self.head);
            if self.scan.declared_strings > MAX_SHARED_STRINGS {
                return Err(Stop::Strings(self.scan.declared_strings, true));
            }
        }
        Ok(())
    }
}

/// The element name of a tag's opening bytes, without a namespace prefix: `row` from
/// `x:row r="1">`; empty for an end tag.
fn local_name(tag: &[u8]) -> &[u8] {
    // A name ends at a space, `>` or `/` (a tab or line break there is rare in real
    // files and only makes a tag go uncounted).
    // Names are a few bytes long: a plain loop beats a vectorised search's set-up.
    let end = tag
        .iter()
        .position(|&b| matches!(b, b' ' | b'>' | b'/'))
        .unwrap_or(tag.len());
    let name = &tag[..end];
    match memchr::memrchr(b':', name) {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}

/// Whether a tag's opening bytes open a formula, `<f …>` or `<x:f>`: unlike
/// [`local_name`], any white space ends the name, since a formula missed here would be
/// read as an empty cell.
fn is_formula_tag(tag: &[u8]) -> bool {
    let end = tag
        .iter()
        .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'))
        .unwrap_or(tag.len());
    let name = &tag[..end];
    let name = match memchr::memrchr(b':', name) {
        Some(colon) => &name[colon + 1..],
        None => name,
    };
    name == b"f"
}

/// The last row (1-based) of a worksheet's `<dimension ref="A1:C300">`; 0 when none.
fn last_dimension_row(head: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(head);
    let Some(at) = text.find("dimension ref=") else {
        return 0;
    };
    let value = text[at + "dimension ref=".len()..].trim_start_matches(['"', '\'']);
    let value = &value[..value.find(['"', '\'']).unwrap_or(value.len())];
    let last = value.rsplit(':').next().unwrap_or_default();
    last.trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == '$')
        .parse()
        .unwrap_or(0)
}

/// The `uniqueCount` (or `count`) an `<sst>` element declares; 0 when it declares none.
fn declared_count(head: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(head);
    let Some(start) = text.find("<sst").or_else(|| text.find(":sst")) else {
        return 0;
    };
    let tag = &text[start..];
    let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
    let Some(at) = tag.find("uniqueCount=") else {
        return 0;
    };
    tag[at + "uniqueCount=".len()..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(kind: PartKind, xml: &[u8], cap: u64) -> std::result::Result<PartScan, &'static str> {
        let name = match kind {
            PartKind::Sheet => "xl/worksheets/sheet1.xml",
            PartKind::Strings => "xl/sharedStrings.xml",
            _ => "xl/styles.xml",
        };
        let mut s = Scanner::new(name, cap);
        match s.run(xml, &mut || {}) {
            Ok(()) => Ok(s.scan),
            Err(Stop::Rows) => Err("rows"),
            Err(Stop::Run(_)) => Err("run"),
            Err(Stop::Strings(..)) => Err("strings"),
            Err(_) => Err("other"),
        }
    }

    #[test]
    fn binary_parts_no_reader_needs_are_not_scanned() {
        for name in [
            "xl/vbaProject.bin",
            "xl/vbaProjectSignature.bin",
            "xl/printerSettings/printerSettings1.bin",
            "xl/embeddings/oleObject1.bin",
        ] {
            assert_eq!(PartKind::of(name), PartKind::Unread, "{name}");
        }
        assert_eq!(PartKind::of("xl/workbook.bin"), PartKind::Other);
        assert_eq!(PartKind::of("xl/worksheets/sheet1.bin"), PartKind::Sheet);
        assert!(is_macro_part("xl/vbaProject.bin"));
    }

    #[test]
    fn rows_with_values_are_counted_and_capped() {
        let mut xml = b"<worksheet><sheetData>".to_vec();
        for i in 1..=5 {
            xml.extend(
                format!(
                    "<row r=\"{i}\"><c r=\"A{i}\"><v>1</v></c><c r=\"B{i}\"><v>2</v></c></row>"
                )
                .bytes(),
            );
        }
        xml.extend(b"<row r=\"9\" s=\"1\"/><x:row><x:c><x:is><x:t>a</x:t></x:is></x:c></x:row>");
        xml.extend(b"</sheetData></worksheet>");
        assert_eq!(
            scan(PartKind::Sheet, &xml, 100).map(|s| s.value_rows),
            Ok(6)
        );
        assert_eq!(scan(PartKind::Sheet, &xml, 5), Err("rows"));
    }

    #[test]
    fn a_dimension_past_the_row_limit_stops_the_scan_at_once() {
        let xml = b"<worksheet><dimension ref=\"A1:C3000001\"/><sheetData><row r=\"1\"><c><v>1</v></c></row></sheetData></worksheet>";
        assert_eq!(scan(PartKind::Sheet, xml, 1_048_605), Err("rows"));
        let ok = b"<worksheet><dimension ref=\"A1:C1048576\"/><sheetData></sheetData></worksheet>";
        assert_eq!(
            scan(PartKind::Sheet, ok, 1_048_605).map(|s| s.value_rows),
            Ok(0)
        );
        assert_eq!(last_dimension_row(b"<dimension ref=\"B2\"/>"), 2);
        assert_eq!(local_name(b"x:row r=\"1\">"), b"row");
        assert!(local_name(b"/row>").is_empty());
    }

    #[test]
    fn one_giant_text_is_refused_while_streaming() {
        let mut xml = b"<sst><si><t>".to_vec();
        xml.resize(xml.len() + MAX_MARKUP_RUN as usize + 10, b'a');
        xml.extend(b"</t></si></sst>");
        assert_eq!(scan(PartKind::Strings, &xml, 0), Err("run"));
    }

    #[test]
    fn shared_strings_declared_past_memory_are_refused() {
        let xml = b"<?xml version=\"1.0\"?><sst xmlns=\"x\" count=\"9\" uniqueCount=\"900000000\"><si><t>a</t></si></sst>";
        assert_eq!(scan(PartKind::Strings, xml, 0), Err("strings"));
        let ok = b"<sst uniqueCount=\"2\"><si><t>a</t></si><si><t>b</t></si></sst>";
        let s = scan(PartKind::Strings, ok, 0).unwrap();
        assert_eq!((s.strings, s.declared_strings), (2, 2));
    }

    #[test]
    fn formulas_are_counted_whatever_their_spelling() {
        let xml = b"<worksheet><sheetData><row r=\"1\"><c r=\"A1\"><f>SUM(B1)</f></c><c r=\"B1\"><x:f\nt=\"shared\"/></c><c r=\"C1\" t=\"inlineStr\"><is><t>f</t></is></c><c><font/></c></row></sheetData></worksheet>";
        let scan = scan(PartKind::Sheet, xml, 100).unwrap();
        assert_eq!(scan.formulas, 2);
        let none =
            scan_plain(b"<worksheet><sheetData><row><c><v>1</v></c></row></sheetData></worksheet>");
        assert_eq!(none.formulas, 0);
    }

    fn scan_plain(xml: &[u8]) -> PartScan {
        scan(PartKind::Sheet, xml, 100).unwrap()
    }

    #[test]
    fn part_kinds() {
        assert_eq!(PartKind::of("xl/worksheets/sheet1.xml"), PartKind::Sheet);
        assert_eq!(PartKind::of("xl/sharedStrings.xml"), PartKind::Strings);
        assert_eq!(PartKind::of("xl/styles.xml"), PartKind::Other);
        assert_eq!(PartKind::of("xl/media/image1.png"), PartKind::Unread);
    }
}

/// Cells a sheet read as a whole range (XLS, ODS) may span: calamine allocates its whole
/// bounding box, about 32 bytes a cell, so two cells far apart can cost gigabytes.
pub(super) const MAX_RANGE_CELLS: u64 = 4_000_000;

/// The bounding box of a sheet's cells holding a value, by zero-based rows and columns.
#[derive(Debug, Default, Clone, Copy)]
struct Extent {
    rows: Option<(u64, u64)>,
    cols: Option<(u64, u64)>,
}

impl Extent {
    fn add(&mut self, row: u64, first_col: u64, last_col: u64) {
        self.rows = Some(match self.rows {
            None => (row, row),
            Some((a, b)) => (a.min(row), b.max(row)),
        });
        self.cols = Some(match self.cols {
            None => (first_col, last_col),
            Some((a, b)) => (a.min(first_col), b.max(last_col)),
        });
    }

    fn cells(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => (r1 - r0 + 1).saturating_mul(c1 - c0 + 1),
            _ => 0,
        }
    }
}

fn too_wide_range(path: &Path, sheet: usize, e: &Extent) -> Error {
    let (r0, r1) = e.rows.unwrap_or_default();
    let (c0, c1) = e.cols.unwrap_or_default();
    Error::input(format!(
        "sheet {} of {} spans rows {}–{} and columns {}–{} ({} cells), more than the {} a sheet of this format is read with: remove the far-away cells, or save the workbook as .xlsx (read as a stream)",
        sheet + 1,
        path.display(),
        r0 + 1,
        r1 + 1,
        super::column_letter(c0 as usize),
        super::column_letter(c1 as usize),
        e.cells(),
        MAX_RANGE_CELLS
    ))
}

/// Refuse an XLS whose cells span more than [`MAX_RANGE_CELLS`], walking its BIFF
/// records (constant memory) before calamine builds the ranges.
pub(super) fn check_xls_extent(path: &Path) -> Result<()> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let Ok(Ok(mut cfb)) = crate::quiet_panics(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cfb::CompoundFile::open(file)
        }))
    }) else {
        return Ok(()); // calamine will say what is wrong with it
    };
    let stream = ["/Workbook", "/Book"]
        .into_iter()
        .find_map(|name| cfb.open_stream(name).ok());
    let Some(stream) = stream else {
        return Ok(());
    };
    let mut reader = std::io::BufReader::new(stream);
    let mut sheet: Option<usize> = None;
    let mut sheets = 0usize;
    let mut extent = Extent::default();
    let mut head = [0u8; 4];
    let mut body = Vec::new();
    while reader.read_exact(&mut head).is_ok() {
        let kind = u16::from_le_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_le_bytes([head[2], head[3]]));
        body.resize(len, 0);
        if reader.read_exact(&mut body).is_err() {
            break;
        }
        let u16_at = |i: usize| {
            body.get(i..i + 2)
                .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])))
        };
        match kind {
            // BOF: a substream starts; the first is the workbook globals.
            0x0809 => {
                sheet = if sheets == 0 { None } else { Some(sheets - 1) };
                sheets += 1;
                extent = Extent::default();
            }
            // EOF: a sheet ends.
            0x000A => {
                if let Some(s) = sheet
                    && extent.cells() > MAX_RANGE_CELLS
                {
                    return Err(too_wide_range(path, s, &extent));
                }
                sheet = None;
            }
            // Value cells: FORMULA, LABELSST, NUMBER, RK, LABEL, BOOLERR, RSTRING.
            0x0006 | 0x00FD | 0x0203 | 0x027E | 0x0204 | 0x0205 | 0x00D6 if sheet.is_some() => {
                if let (Some(r), Some(c)) = (u16_at(0), u16_at(2)) {
                    extent.add(r, c, c);
                }
            }
            // MULRK: a run of RK values, its last column at the end.
            0x00BD if sheet.is_some() && len >= 6 => {
                if let (Some(r), Some(c0), Some(c1)) = (u16_at(0), u16_at(2), u16_at(len - 2)) {
                    extent.add(r, c0, c1.max(c0));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Refuse an ODS whose cells holding a value span more than [`MAX_RANGE_CELLS`],
/// counting `number-rows-repeated` / `number-columns-repeated` as calamine expands them.
pub(super) fn check_ods_extent(path: &Path) -> Result<()> {
    use quick_xml::events::Event;
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return Ok(());
    };
    let Ok(content) = zip.by_name("content.xml") else {
        return Ok(());
    };
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::new(content));
    let mut buf = Vec::new();
    let mut sheet = 0usize;
    let mut extent = Extent::default();
    let (mut row, mut row_rep, mut col, mut row_last) = (0u64, 1u64, 0u64, None::<(u64, u64)>);
    let repeat = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> u64 {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .and_then(|a| a.value.trim().parse().ok())
            .unwrap_or(1)
            .max(1)
    };
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break,
            Ok(e) => e,
        };
        match &event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "table" if matches!(event, Event::Start(_)) => {
                    extent = Extent::default();
                    row = 0;
                }
                "table-row" => {
                    row_rep = repeat(e, "table:number-rows-repeated");
                    col = 0;
                    row_last = None;
                    if matches!(event, Event::Empty(_)) {
                        row = row.saturating_add(row_rep);
                    }
                }
                "table-cell" | "covered-table-cell" => {
                    let rep = repeat(e, "table:number-columns-repeated");
                    let valued = matches!(event, Event::Start(_))
                        || e.attributes()
                            .flatten()
                            .any(|a| a.key.as_ref() == "office:value-type");
                    if valued {
                        let first = row_last.map_or(col, |(f, _)| f.min(col));
                        row_last = Some((first, col.saturating_add(rep - 1)));
                    }
                    col = col.saturating_add(rep);
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "table-row" => {
                    if let Some((c0, c1)) = row_last {
                        extent.add(row, c0, c1);
                        extent.add(row.saturating_add(row_rep - 1), c0, c1);
                    }
                    row = row.saturating_add(row_rep);
                }
                "table" => {
                    if extent.cells() > MAX_RANGE_CELLS {
                        return Err(too_wide_range(path, sheet, &extent));
                    }
                    sheet += 1;
                }
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}
