//! `sheetload validate` (= `import --dry-run` without a connection): read, map, validate
//! every row, and write the result workbook. Nothing is sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Error, Result, exit};
use crate::input::{self, RawRow, ReadOptions};
use crate::mapping::{HeaderIndex, MapFile, Mapping};
use crate::output::Status;
use crate::output::result::{self, Columns, Outcome, SummaryData};
use crate::spec::{self, Mode};
use crate::ui::{Printer, thousands};
use crate::validate::{ParseOptions, Validator, duplicates::DuplicateIndex, error_kind};

/// Everything `validate` needs, already checked by the CLI layer.
#[derive(Debug, Clone)]
pub struct Config {
    /// The spreadsheet to read.
    pub input: PathBuf,
    /// Target whose spec applies (`salesmania`).
    pub target: String,
    /// Entity (`customers`, `products`, `visits`).
    pub entity: String,
    /// Mode whose requirements apply.
    pub mode: Mode,
    /// Reader options.
    pub read: ReadOptions,
    /// Optional mapping file.
    pub map: Option<PathBuf>,
    /// Where to write the mapping used (`--save-map`), in the format `--map` reads.
    pub save_map: Option<PathBuf>,
    /// Number and date reading.
    pub parse: ParseOptions,
    /// Result path (default `<stem>.result.xlsx` beside the input).
    pub out: Option<PathBuf>,
}

/// One validated row as the summary counts it.
struct Verdict {
    /// What the result workbook shows.
    outcome: Outcome,
    /// (field and kind, column) per kind of problem, once each.
    kinds: Vec<(String, String)>,
    /// Kinds of warning, once each.
    warned: Vec<String>,
}

/// Rows validated together; big enough to keep both cores busy, small enough to stream.
const CHUNK: usize = 4096;

/// The default result path: `<input stem>.result.xlsx` beside the input.
pub fn default_result_path(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sheetload".into());
    input.with_file_name(format!("{stem}.result.xlsx"))
}

/// What a finished validation found, for the terminal, `--json` and tests.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Data rows read.
    pub rows: u64,
    /// Rows that passed.
    pub valid: u64,
    /// Rows with at least one problem.
    pub invalid: u64,
    /// (rows, description) per kind of problem, most frequent first.
    pub error_groups: Vec<(usize, String)>,
    /// Rows with at least one warning (valid or not).
    pub warned: u64,
    /// (rows, kind) per kind of warning, most frequent first: `warning: No HP: is a
    /// number cell, …`.
    pub warning_groups: Vec<(usize, String)>,
    /// Where the result went.
    pub result: PathBuf,
    /// Seconds taken.
    pub seconds: f64,
}

/// Run the validation and return the exit code (0 all valid, 1 some invalid).
pub fn run(cfg: &Config, ui: &Printer) -> Result<u8> {
    let report = validate_file(cfg, ui)?;
    print_report(cfg, &report, ui);
    Ok(if report.invalid == 0 {
        exit::OK
    } else {
        exit::ROWS_FAILED
    })
}

/// Everything known before the first row is processed: the spec, the opened table,
/// its mapping, the result path and the duplicate keys. Shared by validate and import.
pub struct Prepared {
    /// The entity spec.
    pub spec: spec::EntitySpec,
    /// The opened input.
    pub table: input::Table,
    /// Columns → fields.
    pub mapping: Mapping,
    /// Where the result goes.
    pub out: PathBuf,
    /// Natural keys seen more than once in the file.
    pub dups: Option<DuplicateIndex>,
}

impl Prepared {
    /// Input columns that hold secrets (passwords): never written back out.
    pub fn secret_columns(&self) -> Vec<usize> {
        secret_columns(&self.spec, &self.mapping)
    }
}

fn secret_columns(spec: &spec::EntitySpec, mapping: &Mapping) -> Vec<usize> {
    spec.fields
        .iter()
        .zip(&mapping.fields)
        .filter(|(f, _)| f.secret)
        .filter_map(|(_, b)| b.column)
        .collect()
}

/// Load the spec, open and map the input, check the result path and find duplicate
/// keys; every problem found here stops the run before any row is processed.
pub fn prepare(cfg: &Config, ui: &Printer) -> Result<Prepared> {
    let spec = spec::builtin(&cfg.target, &cfg.entity)?;
    if !spec.modes.contains(&cfg.mode) {
        return Err(Error::usage(format!(
            "{} cannot be imported with --mode {}; supported: {}",
            spec.entity,
            cfg.mode,
            spec.modes
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let map = cfg.map.as_deref().map(MapFile::load).transpose()?;
    let index = HeaderIndex::new(&spec);
    let renamed: Vec<String> = map
        .iter()
        .flat_map(|m| m.columns.keys().map(|k| crate::mapping::normalize(k)))
        .collect();
    let score = |row: &[String]| {
        index.score(row)
            + row
                .iter()
                .filter(|c| renamed.contains(&crate::mapping::normalize(c)))
                .count()
    };
    let table = input::open(&cfg.input, &cfg.read, &score)?;
    for n in &table.notes {
        ui.note(n);
    }
    let mapping = Mapping::resolve(&spec, &table.headers, map.as_ref(), cfg.mode)?;
    for w in &mapping.warnings {
        ui.warn(w);
    }
    let unmapped = mapping.unmapped_headers(&table.headers);
    if !unmapped.is_empty() {
        let shown: Vec<String> = unmapped
            .iter()
            .take(12)
            .map(|h| format!("\"{h}\""))
            .collect();
        let more = if unmapped.len() > 12 {
            format!(" and {} more", unmapped.len() - 12)
        } else {
            String::new()
        };
        ui.warn(&format!(
            "{} column{} not imported (no matching field): {}{more}; map them with --map or ignore this",
            unmapped.len(),
            if unmapped.len() == 1 { " is" } else { "s are" },
            shown.join(", ")
        ));
    }

    if let Some(path) = &cfg.save_map {
        crate::mapping::save(path, &spec.entity, &mapping, &table, map.as_ref())?;
        ui.note(&format!("mapping saved to {}", path.display()));
    }

    let out = cfg
        .out
        .clone()
        .unwrap_or_else(|| default_result_path(&cfg.input));
    if same_file(&out, &cfg.input) {
        return Err(Error::usage(format!(
            "the result path {} is the input file itself: choose another --out",
            out.display()
        )));
    }

    // First pass: duplicate natural keys, so every row of a group can be flagged.
    let dups = find_duplicates(&spec, &mapping, &table)?;
    Ok(Prepared {
        spec,
        table,
        mapping,
        out,
        dups,
    })
}

/// The whole offline pipeline; usable from tests and benchmarks without a terminal.
pub fn validate_file(cfg: &Config, ui: &Printer) -> Result<Report> {
    let started = Instant::now();
    let Prepared {
        spec,
        table,
        mapping,
        out,
        dups,
    } = prepare(cfg, ui)?;
    let validator = Validator::new(
        &spec,
        &mapping,
        &table,
        cfg.mode,
        cfg.parse.clone(),
        dups.as_ref(),
    );
    let columns = Columns {
        payload: true,
        ..Columns::default()
    };
    let sink = result::create_masked(
        &out,
        &table.headers,
        columns,
        &secret_columns(&spec, &mapping),
    )?;
    let bar = ui.progress(None, "validating");
    let mut report = Report::default();
    let mut tally = Tally::default();
    // Three stages on their own threads so that reading, validating (on every core) and
    // writing overlap: reader → validate → writer, with small bounded queues between.
    let (tx_rows, rx_rows) = sync_channel::<Result<Vec<RawRow>>>(2);
    let (tx_out, rx_out) = sync_channel::<(Vec<RawRow>, Vec<Outcome>)>(2);
    let sink = std::thread::scope(|s| -> Result<Box<dyn result::ResultSink>> {
        let table = &table;
        s.spawn(move || read_chunks(table, &tx_rows));
        let writer = s.spawn(move || -> Result<Box<dyn result::ResultSink>> {
            let mut sink = sink;
            for (rows, outcomes) in rx_out {
                for (raw, outcome) in rows.iter().zip(&outcomes) {
                    sink.row(raw, outcome)?;
                }
            }
            Ok(sink)
        });
        let mut failure = None;
        for chunk in rx_rows {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            let validated: Vec<Verdict> =
                chunk.par_iter().map(|r| verdict(&validator, r)).collect();
            let outcomes = validated
                .into_iter()
                .map(|v| tally.add(&mut report, v))
                .collect();
            bar.inc(chunk.len() as u64);
            if tx_out.send((chunk, outcomes)).is_err() {
                break;
            }
        }
        drop(tx_out);
        let written = writer
            .join()
            .map_err(|_| Error::output("the result writer stopped unexpectedly"))?;
        match failure {
            Some(e) => Err(e),
            None => written,
        }
    });
    let sink = match sink {
        Ok(s) => s,
        Err(e) => {
            remove_partial(&out);
            return Err(e);
        }
    };
    bar.finish_and_clear();
    if report.rows == 0 {
        drop(sink);
        remove_partial(&out);
        return Err(Error::input(format!(
            "{} has a header row (row {}{}) but no data rows below it: add rows, or check --sheet / --header-row",
            cfg.input.display(),
            table.header_row,
            if table.sheets.is_empty() {
                String::new()
            } else {
                format!(" of sheet \"{}\"", table.sheet)
            }
        )));
    }
    let mut described: HashMap<String, usize> = HashMap::new();
    for ((summary, column), n) in tally.errors {
        *described
            .entry(describe_group(&summary, &column))
            .or_default() += n;
    }
    report.error_groups = result::ranked(described);
    report.warning_groups = result::ranked(tally.warnings);
    report.seconds = started.elapsed().as_secs_f64();

    let summary = SummaryData {
        lines: summary_lines(cfg, &table, &mapping, &report, &spec),
        error_groups: report.error_groups.clone(),
        warning_groups: report.warning_groups.clone(),
    };
    report.result = sink.finish(&summary)?;
    Ok(report)
}

/// The reader stage: the table's rows in chunks of [`CHUNK`], then the first read error.
fn read_chunks(table: &input::Table, tx: &std::sync::mpsc::SyncSender<Result<Vec<RawRow>>>) {
    let mut rows = match table.rows() {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Err(e));
            return;
        }
    };
    loop {
        let mut chunk = Vec::with_capacity(CHUNK);
        for row in rows.by_ref().take(CHUNK) {
            match row {
                Ok(r) => chunk.push(r),
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
        if chunk.is_empty() || tx.send(Ok(chunk)).is_err() {
            return;
        }
    }
}

/// Remove the half-written result of a run that stopped (the sink writes `<out>.partial`).
fn remove_partial(out: &Path) {
    let _ = std::fs::remove_file(out.with_file_name(format!(
        "{}.partial",
        out.file_name().unwrap_or_default().to_string_lossy()
    )));
}

/// Validate one row and note the kinds of problem and warning it has, once each.
fn verdict(validator: &Validator<'_>, row: &RawRow) -> Verdict {
    let res = validator.validate(row);
    let mut kinds: Vec<(String, String)> = res
        .problems
        .iter()
        .map(|p| (format!("{} {}", p.field, p.summary), p.column.clone()))
        .collect();
    kinds.sort();
    kinds.dedup();
    let mut warned: Vec<String> = res
        .warnings
        .iter()
        .map(|w| error_kind(&format!("warning: {w}")))
        .collect();
    warned.sort();
    warned.dedup();
    let outcome = Outcome {
        status: Some(if res.is_valid() {
            Status::Valid
        } else {
            Status::Invalid
        }),
        error: res.error_text(),
        payload: Some(res.payload_display()),
        ..Outcome::default()
    };
    Verdict {
        outcome,
        kinds,
        warned,
    }
}

/// Rows per kind of problem and of warning, counted as the chunks come back.
#[derive(Default)]
struct Tally {
    /// (field and kind, column) → rows.
    errors: HashMap<(String, String), usize>,
    /// Kind of warning → rows.
    warnings: HashMap<String, usize>,
}

impl Tally {
    /// Count one row into the report and the kinds; returns its outcome for the writer.
    fn add(&mut self, report: &mut Report, v: Verdict) -> Outcome {
        report.rows += 1;
        if v.kinds.is_empty() {
            report.valid += 1;
        } else {
            report.invalid += 1;
        }
        report.warned += u64::from(!v.warned.is_empty());
        for k in v.kinds {
            *self.errors.entry(k).or_default() += 1;
        }
        for w in v.warned {
            *self.warnings.entry(w).or_default() += 1;
        }
        v.outcome
    }
}

/// "phone is not a number (column Telepon)".
pub(crate) fn describe_group(summary: &str, column: &str) -> String {
    format!("{summary} (column {column})")
}

fn find_duplicates(
    spec: &spec::EntitySpec,
    mapping: &Mapping,
    table: &input::Table,
) -> Result<Option<DuplicateIndex>> {
    if spec.group_by.is_some() {
        // Rows sharing the key are one record's lines (an order), not duplicates.
        return Ok(None);
    }
    let Some(kf) = spec
        .natural_key
        .as_ref()
        .and_then(|k| spec.fields.iter().position(|f| &f.name == k))
    else {
        return Ok(None);
    };
    let b = &mapping.fields[kf];
    let Some(col) = b.column else {
        return Ok(None);
    };
    let mut dups = DuplicateIndex::new();
    if let Some(default) = b.default.as_deref() {
        // Empty cells take the default key: fall back to full rows.
        for row in table.rows()? {
            let row = row?;
            let cell = &row.cells[col];
            let shown = cell.shown_text();
            let key = if cell.is_empty() {
                default
            } else {
                shown.trim()
            };
            if !spec.is_shared_key(key) {
                dups.add(key, row.number);
            }
        }
    } else {
        table.scan_column(col, &mut |row, key| {
            if !spec.is_shared_key(key) {
                dups.add(key, row)
            }
        })?;
    }
    dups.finish();
    Ok(Some(dups))
}

pub(crate) fn summary_lines(
    cfg: &Config,
    table: &input::Table,
    mapping: &Mapping,
    report: &Report,
    spec: &spec::EntitySpec,
) -> Vec<(String, String)> {
    let mut lines = vec![
        (
            "Run".to_string(),
            "validation (dry run, nothing sent)".to_string(),
        ),
        ("Input".into(), cfg.input.display().to_string()),
        ("Format".into(), table.format.to_string()),
    ];
    if !table.sheets.is_empty() {
        lines.push(("Sheet".into(), table.sheet.clone()));
    }
    lines.extend([
        ("Header row".into(), table.header_row.to_string()),
        ("Target".into(), spec.target.clone()),
        ("Entity".into(), spec.entity.clone()),
        ("Mode".into(), cfg.mode.to_string()),
        ("Rows".into(), report.rows.to_string()),
        ("VALID".into(), report.valid.to_string()),
        ("INVALID".into(), report.invalid.to_string()),
        ("Rows with warnings".into(), report.warned.to_string()),
        ("Seconds".into(), format!("{:.2}", report.seconds)),
        (
            "Rows per second".into(),
            format!("{:.0}", report.rows as f64 / report.seconds.max(1e-9)),
        ),
        (
            "Checked at".into(),
            chrono::Local::now()
                .format("%Y-%m-%d %H:%M:%S %z")
                .to_string(),
        ),
        ("sheetload".into(), env!("CARGO_PKG_VERSION").to_string()),
    ]);
    for (col, target) in mapping.column_targets.iter().enumerate() {
        if let Some(t) = target {
            lines.push((
                format!("Column {}", table.column_name(col)),
                format!("→ {t}"),
            ));
        }
    }
    for h in mapping.unmapped_headers(&table.headers) {
        lines.push((format!("Column {h}"), "not imported".into()));
    }
    lines
}

fn print_report(cfg: &Config, r: &Report, ui: &Printer) {
    let mut lines = vec![format!(
        "{} rows: {} valid, {} invalid ({:.1}s) — result: {}",
        thousands(r.rows),
        thousands(r.valid),
        thousands(r.invalid),
        r.seconds,
        r.result.display()
    )];
    for (n, what) in r.error_groups.iter().take(15) {
        lines.push(format!(
            "  {} row{}: {what}",
            thousands(*n as u64),
            if *n == 1 { "" } else { "s" }
        ));
    }
    if r.error_groups.len() > 15 {
        lines.push(format!(
            "  … and {} more kinds; see the Summary sheet",
            r.error_groups.len() - 15
        ));
    }
    for (n, what) in r.warning_groups.iter().take(10) {
        lines.push(format!(
            "  {} row{}: {what}",
            thousands(*n as u64),
            if *n == 1 { "" } else { "s" }
        ));
    }
    if r.warning_groups.len() > 10 {
        lines.push(format!(
            "  … and {} more kinds of warning; see the Summary sheet",
            r.warning_groups.len() - 10
        ));
    }
    if r.invalid > 0 {
        lines.push("Fix the rows on the Failed sheet and validate that sheet again.".to_string());
    }
    ui.summary(&lines);
    ui.json(&serde_json::json!({
        "command": "validate",
        "input": cfg.input.display().to_string(),
        "entity": cfg.entity,
        "rows": r.rows,
        "valid": r.valid,
        "invalid": r.invalid,
        "seconds": r.seconds,
        "result": r.result.display().to_string(),
        "errors": r.error_groups.iter().map(|(n, w)| serde_json::json!({"rows": n, "error": w})).collect::<Vec<_>>(),
        "warnings": r.warning_groups.iter().map(|(n, w)| serde_json::json!({"rows": n, "warning": w})).collect::<Vec<_>>(),
    }));
}

/// Whether two paths name the same file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}
