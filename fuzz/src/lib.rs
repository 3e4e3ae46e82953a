//! The fuzz harnesses of sheetload, shared by the cargo-fuzz targets in `fuzz_targets/`
//! and by the regression test `tests/it/fuzz_regressions.rs`, which includes this file with
//! `#[path]`. So it may use only `std`, `sheetload` and dependencies of both crates
//! (`serde_json`, `chrono`, `encoding_rs`, `zip`), never `libfuzzer-sys`.
//!
//! Each harness feeds arbitrary bytes to a public entry point and checks the contract:
//! no panic, whatever the input, plus a few properties the documentation promises (noted
//! next to each assertion). A failed assertion is a crash, like a panic.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Datelike as _;
use serde_json::Value;
use sheetload::input::{self, MAX_CELL_CHARS, MAX_COLUMNS, ReadOptions, Table};
use sheetload::mapping::{HeaderIndex, MapFile, Mapping};
use sheetload::spec::{self, EntitySpec, Mode};
use sheetload::validate::turkish::{self, Checked};
use sheetload::validate::values::{self, DecimalStyle, ParseOptions, ValueError};

/// The harness names, one per cargo-fuzz target and per folder of `seeds/` and `regressions/`.
pub const TARGETS: [&str; 5] = [
    "csv_reader",
    "workbook_reader",
    "value_parsers",
    "mapping_file",
    "response_parsers",
];

/// Run the harness called `target` on `data` (the regression test's entry point).
pub fn run(target: &str, data: &[u8]) {
    match target {
        "csv_reader" => csv_reader(data),
        "workbook_reader" => workbook_reader(data),
        "value_parsers" => value_parsers(data),
        "mapping_file" => mapping_file(data),
        "response_parsers" => response_parsers(data),
        other => panic!("no fuzz harness named {other}"),
    }
}

// ---------------------------------------------------------------------------
// Readers
// ---------------------------------------------------------------------------

/// The readers take a path: write the input to a file of this process's own.
struct TempInput(PathBuf);

impl TempInput {
    fn new(data: &[u8], ext: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("sheetload-fuzz-{}-{n}.{ext}", std::process::id()));
        std::fs::write(&path, data).expect("cannot write the fuzz input to the temp dir");
        TempInput(path)
    }
}

impl Drop for TempInput {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Built-in specs, parsed once.
fn specs() -> &'static [EntitySpec] {
    static SPECS: OnceLock<Vec<EntitySpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        spec::targets()
            .into_iter()
            .flat_map(|t| spec::entities(t).into_iter().map(move |e| (t, e)))
            .map(|(t, e)| spec::builtin(t, e).expect("built-in spec"))
            .collect()
    })
}

fn customers() -> &'static EntitySpec {
    static SPEC: OnceLock<EntitySpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        spec::builtin(spec::TargetId::SalesMania, spec::Entity::Customers).expect("built-in spec")
    })
}

fn customers_index() -> &'static HeaderIndex {
    static INDEX: OnceLock<HeaderIndex> = OnceLock::new();
    INDEX.get_or_init(|| HeaderIndex::new(customers()))
}

/// Open the file and read every row, as the commands do (stopping at the first error).
fn read_all(path: &std::path::Path, opts: &ReadOptions, real_scorer: bool) {
    let none = |_: &[String]| 0;
    let known = |row: &[String]| customers_index().score(row);
    let table = if real_scorer {
        input::open(path, opts, &known)
    } else {
        input::open(path, opts, &none)
    };
    let Ok(table) = table else { return };
    check_table(&table);
}

fn check_table(table: &Table) {
    // Documented: headers are trimmed, one per column, within the result workbook's limit.
    assert!(
        table.headers.len() <= MAX_COLUMNS,
        "too many columns accepted"
    );
    for h in &table.headers {
        assert_eq!(h, h.trim(), "header not trimmed");
    }
    let _ = table.row_count_hint();
    for col in 0..table.headers.len().min(4) {
        let _ = table.column_name(col);
        let _ = table.cell_ref(table.header_row, col);
    }
    let Ok(rows) = table.rows() else { return };
    let mut last = 0u32;
    for row in rows {
        let Ok(row) = row else { break };
        // Documented: cells are aligned with the header columns; one cell fits in a sheet.
        assert_eq!(
            row.cells.len(),
            table.headers.len(),
            "row {} is not aligned with the header",
            row.number
        );
        for cell in &row.cells {
            assert!(cell.text.chars().count() <= MAX_CELL_CHARS);
        }
        // Row numbers name rows in messages: each data row has its own, below the header.
        assert!(
            row.number > last,
            "row numbers go back: {} after {last}",
            row.number
        );
        last = row.number;
        let _ = table.cell_ref(row.number, row.cells.len());
    }
    if !table.headers.is_empty() {
        let _ = table.scan_column(0, &mut |_, text| {
            assert_eq!(text, text.trim());
        });
    }
}

/// CSV reader: the input as a `.csv` file, read with default options and with one other
/// set of options chosen by the input's length (delimiter, encoding, header row, scorer).
pub fn csv_reader(data: &[u8]) {
    let file = TempInput::new(data, "csv");
    read_all(&file.0, &ReadOptions::default(), false);
    let mut opts = ReadOptions::default();
    let mut real_scorer = false;
    match data.len() % 6 {
        0 => real_scorer = true,
        1 => opts.delimiter = Some(b';'),
        2 => opts.encoding = Some(encoding_rs::WINDOWS_1254),
        3 => {
            opts.encoding = Some(encoding_rs::WINDOWS_1252);
            opts.delimiter = Some(b'\t');
        }
        4 => opts.header_row = Some(1 + u32::from(data.first().copied().unwrap_or(0) % 4)),
        _ => {
            opts.delimiter = Some(b'|');
            opts.header_row = Some(2);
            real_scorer = true;
        }
    }
    read_all(&file.0, &opts, real_scorer);
}

/// First line of a workbook given as its parts (see [`parts_to_zip`]).
pub const PARTS_MAGIC: &[u8] = b"sheetload-fuzz-zip\n";
/// Starts each part's name line in the parts form.
pub const PART_MARK: &[u8] = b"\n--- ";

/// Zip the parts of `PARTS_MAGIC` then `--- name\n` + content, ... (stored, with correct
/// checksums): a mutated byte inside a real zip only breaks its CRC, so this form lets
/// the fuzzer reach calamine's XML readers. `None` when `data` is not in that form.
pub fn parts_to_zip(data: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write as _;
    let body = data.strip_prefix(PARTS_MAGIC)?;
    let body = body.strip_prefix(&PART_MARK[1..])?;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut seen = std::collections::HashSet::new();
    for part in split_bytes(body, PART_MARK) {
        let (name, content) = match part.iter().position(|&b| b == b'\n') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &[][..]),
        };
        let name = String::from_utf8_lossy(name).into_owned();
        if !seen.insert(name.clone()) || zip.start_file(name, stored).is_err() {
            continue;
        }
        zip.write_all(content).ok()?;
    }
    Some(zip.finish().ok()?.into_inner())
}

fn split_bytes<'a>(mut s: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match s.windows(sep.len()).position(|w| w == sep) {
            Some(i) => {
                let part = &s[..i];
                s = &s[i + sep.len()..];
                Some(part)
            }
            None => {
                done = true;
                Some(s)
            }
        }
    })
}

/// Workbook reader: the input as a workbook file (`.xlsx`, `.xls` or `.ods` by the input's
/// length). The format is sniffed from the content, so zip inputs reach the XLSX/XLSB/ODS
/// readers and OLE inputs the XLS reader. Input in the parts form is zipped first.
pub fn workbook_reader(data: &[u8]) {
    let zipped = parts_to_zip(data);
    let data = zipped.as_deref().unwrap_or(data);
    let ext = match data.len() % 4 {
        0 => "ods",
        1 => "xls",
        _ => "xlsx",
    };
    let file = TempInput::new(data, ext);
    read_all(&file.0, &ReadOptions::default(), true);
    if data.len().is_multiple_of(3) {
        let opts = ReadOptions {
            sheet: Some("sheet2".into()),
            header_row: Some(2),
            ..ReadOptions::default()
        };
        read_all(&file.0, &opts, false);
    }
}

// ---------------------------------------------------------------------------
// Value parsers
// ---------------------------------------------------------------------------

/// Errors name the cell in one report line: short, no line breaks.
fn check_error<T>(r: &Result<T, ValueError>) {
    if let Err(e) = r {
        assert!(!e.summary.is_empty(), "empty summary");
        assert!(
            !e.detail.contains(['\n', '\r']),
            "error detail breaks the report line: {:?}",
            e.detail
        );
        assert!(
            e.detail.chars().count() <= 1024,
            "error detail of {} chars",
            e.detail.chars().count()
        );
    }
}

const STYLES: [DecimalStyle; 3] = [
    DecimalStyle::Auto,
    DecimalStyle::DecimalComma,
    DecimalStyle::DecimalPoint,
];

fn options(decimals: DecimalStyle, date_format: Option<&str>) -> ParseOptions {
    ParseOptions {
        decimals,
        date_format: date_format.map(str::to_string),
    }
}

/// Every value parser on the input as text. `FORMAT\x1fTEXT` also tries TEXT with the
/// user's `--date-format FORMAT`; the first 8 bytes, as an f64, check that a numeric cell's
/// canonical text reads back as the same number.
pub fn value_parsers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    parse_all(text);
    if let Some((fmt, rest)) = text.split_once('\u{1f}') {
        // The format is the user's own, so the detail may quote it as it is.
        let _ = values::parse_date(rest, &options(DecimalStyle::Auto, Some(fmt)));
    }
    if let Some(bytes) = data.get(..8) {
        number_round_trip(f64::from_le_bytes(bytes.try_into().unwrap()));
    }
}

fn number_round_trip(f: f64) {
    if !f.is_finite() {
        return;
    }
    let text = input::number_text(f);
    for style in STYLES {
        let opts = options(style, None);
        // A numeric cell's canonical text is read back exactly, whatever the style.
        match values::parse_decimal(&text, true, &opts) {
            Ok(v) => assert!(v == f, "{text:?} read back as {v}, not {f}"),
            Err(e) => panic!("numeric cell {text:?} ({f:e}) refused: {e}"),
        }
        if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
            assert_eq!(values::parse_integer(&text, true, &opts), Ok(f as i64));
        }
    }
}

fn parse_all(text: &str) {
    for style in STYLES {
        for numeric in [false, true] {
            let opts = options(style, None);
            let r = values::parse_decimal(text, numeric, &opts);
            check_error(&r);
            if let Ok(v) = r {
                assert!(v.is_finite(), "parse_decimal gave {v}");
            }
            let r = values::parse_integer(text, numeric, &opts);
            check_error(&r);
            if let Ok(v) = r {
                assert!(v.unsigned_abs() < 1 << 53, "parse_integer gave {v}");
            }
        }
    }

    let r = values::parse_id(text);
    check_error(&r);
    if let Ok(id) = r {
        assert!(id >= 1, "parse_id gave {id}");
    }

    check_error(&values::parse_bool(text));

    for fmt in [None, Some("%d/%m/%Y")] {
        let r = values::parse_date(text, &options(DecimalStyle::Auto, fmt));
        check_error(&r);
        if fmt.is_none()
            && let Ok(d) = r
            && (1000..=9999).contains(&d.year())
        {
            // An accepted date reads back the same from its ISO text.
            let iso = d.format("%Y-%m-%d").to_string();
            assert_eq!(values::parse_date(&iso, &ParseOptions::default()), Ok(d));
        }
    }

    let r = values::parse_latitude(text);
    check_error(&r);
    if let Ok(v) = r {
        assert!((-90.0..=90.0).contains(&v), "latitude {v}");
    }
    let r = values::parse_longitude(text);
    check_error(&r);
    if let Ok(v) = r {
        assert!((-180.0..=180.0).contains(&v), "longitude {v}");
    }
    let r = values::parse_location(text);
    check_error(&r);
    if let Ok((lat, lon)) = r {
        assert!((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon));
    }

    // Normalizers: the normal form is accepted and kept as it is.
    let r = values::parse_phone(text);
    check_error(&r);
    if let Ok(p) = &r {
        assert_eq!(
            values::parse_phone(p).as_ref(),
            Ok(p),
            "phone not idempotent"
        );
    }
    let r = values::parse_email(text);
    check_error(&r);
    if let Ok(e) = &r {
        assert_eq!(
            values::parse_email(e).as_ref(),
            Ok(e),
            "email not idempotent"
        );
    }
    let r = values::parse_discount(text);
    check_error(&r);
    if let Ok(d) = &r {
        assert_eq!(
            values::parse_discount(d).as_ref(),
            Ok(d),
            "discount not idempotent"
        );
    }
    for tag in values::parse_tags(text) {
        assert!(!tag.is_empty() && !tag.contains([',', ';', '\n', '\r']));
    }

    let r = turkish::parse_tax_number(text);
    check_error(&r);
    if let Ok(Checked::Ok(n) | Checked::Warn(n, _)) = &r {
        let again = turkish::parse_tax_number(n);
        let same = matches!(&again, Ok(Checked::Ok(m) | Checked::Warn(m, _)) if m == n);
        assert!(same, "tax number {n:?} not idempotent: {again:?}");
    }
    let r = turkish::parse_iban(text);
    check_error(&r);
    if let Ok(i) = &r {
        assert_eq!(
            turkish::parse_iban(i).as_ref(),
            Ok(i),
            "IBAN not idempotent"
        );
        assert!(turkish::iban_valid(i));
    }
    let r = turkish::parse_tr_phone(text);
    check_error(&r);
    if let Ok(p) = &r {
        assert_eq!(
            turkish::parse_tr_phone(p).as_ref(),
            Ok(p),
            "TR phone not idempotent"
        );
    }
    let _ = turkish::vkn_valid(text);
    let _ = turkish::tckn_valid(text);
}

// ---------------------------------------------------------------------------
// Mapping file
// ---------------------------------------------------------------------------

const DEFAULT_HEADERS: &[&str] = &[
    "Nama Toko",
    "Alamat",
    "Kota",
    "No HP",
    "lat",
    "lng",
    "Kode Toko",
    "Catatan",
    "_status",
    "",
];

/// A mapping file, then optionally `\n---\n` and one header per line (default: a typical
/// Indonesian customer sheet plus the mapped headers), resolved for every built-in spec.
pub fn mapping_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (toml_text, header_text) = match text.split_once("\n---\n") {
        Some((a, b)) => (a, Some(b)),
        None => (text.as_ref(), None),
    };
    let Ok(map) = MapFile::parse(toml_text, "fuzz.toml") else {
        // Without a valid file, still resolve the headers alone.
        if let Some(h) = header_text {
            let headers: Vec<String> = h.lines().map(str::to_string).collect();
            resolve(customers(), &headers, None, Mode::Create);
        }
        return;
    };
    let headers: Vec<String> = match header_text {
        Some(h) => h.lines().map(str::to_string).collect(),
        None => DEFAULT_HEADERS
            .iter()
            .map(|s| s.to_string())
            .chain(map.columns.keys().cloned())
            .chain(map.ignore.iter().cloned())
            .collect(),
    };
    for mode in Mode::ALL {
        resolve(customers(), &headers, Some(&map), mode);
    }
    for spec in specs() {
        resolve(spec, &headers, Some(&map), Mode::Create);
    }
}

fn resolve(spec: &EntitySpec, headers: &[String], map: Option<&MapFile>, mode: Mode) {
    let _ = customers_index().score(headers);
    let Ok(m) = Mapping::resolve(spec, headers, map, mode) else {
        return;
    };
    assert_eq!(m.fields.len(), spec.fields.len());
    assert_eq!(m.column_targets.len(), headers.len());
    assert_eq!(m.groups.len(), spec.groups.len());
    for b in m.fields.iter().chain(m.groups.iter().flatten().flatten()) {
        if let Some(c) = b.column {
            assert!(
                c < headers.len(),
                "binding to column {c} of {}",
                headers.len()
            );
        }
    }
    assert!(m.unmapped.iter().all(|&c| c < headers.len()));
    let _ = m.unmapped_headers(headers);
}

// ---------------------------------------------------------------------------
// Connector responses
// ---------------------------------------------------------------------------

/// Every response reader on the input as JSON; the token-claims reader on it as text.
pub fn response_parsers(data: &[u8]) {
    use sheetload::connector::parse;

    let text = String::from_utf8_lossy(data);
    let _ = parse::team_token_claims(&text);
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Some((token, _)) = parse::bearer(&v, &["token", "access_token"]) {
        assert!(!token.is_empty(), "empty bearer accepted");
    }
    let _ = parse::databases(&v, &["db_id", "id"]);
    if let Some(token) = parse::team_token(&v, &["team_token", "token"]) {
        assert!(!token.is_empty(), "empty team token accepted");
        let _ = parse::team_token_claims(&token);
    }
    let (items, _) = parse::page(&v);
    for item in items.iter().take(64) {
        let _ = parse::record_id(item);
    }
    if let Some(id) = parse::created_id(&v) {
        assert!(!id.is_empty(), "empty id accepted");
    }
    let _ = parse::api_error(&v);
    let _ = parse::scalar_text(&v);
}
