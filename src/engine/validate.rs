//! The offline run (`validate`, `import --dry-run` without a connection): every row
//! validated on all cores, in order, into the result workbook, counted by kind of error.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::time::Instant;

use super::prepare::{Config, Prepared, gather_key, has_key_check, prepare_with, secret_columns};
use crate::error::{Error, Result};
use crate::input::{self, RawRow};
use crate::mapping::Mapping;
use crate::output::Status;
use crate::output::result::{self, Columns, Outcome, SummaryData};
use crate::spec::{self};
use crate::ui::Printer;
use crate::validate::duplicates::DuplicateIndex;
use crate::validate::{Validator, error_kind};

/// One validated row as the summary counts it.
struct Verdict {
    /// What the result workbook shows.
    outcome: Outcome,
    /// (field and kind, column) per kind of problem, once each.
    kinds: Vec<(String, String)>,
    /// Kinds of warning, once each.
    warned: Vec<String>,
}

/// What the writer stage hands back: the result so far, and what it counted.
struct Written {
    sink: Box<dyn result::ResultSink>,
    report: Report,
    tally: Tally,
    /// The keys gathered, when no duplicate index was built before the pass.
    gather: Option<DuplicateIndex>,
}

/// Rows validated together, as one task: big enough that a task costs little to hand
/// out, small enough to stream.
const CHUNK: usize = 2048;

/// Chunks being validated or waiting to be written: enough that every core has one and
/// the next is ready.
const IN_FLIGHT: usize = 4;

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
    /// The rows left out as not records (a row describing the columns, a total),
    /// named; `None` when every row was one.
    pub left_out: Option<String>,
}

/// The whole offline pipeline; usable from tests and benchmarks without a terminal.
pub fn validate_file(cfg: &Config, ui: &Printer) -> Result<Report> {
    let started = Instant::now();
    let cfg = &super::prepare::keep_real_result(cfg, ui);
    // The file is read once where it can be: a sheet's survey stops at its top rows
    // (`quick_survey`), and duplicate keys are gathered during the pass instead of in a
    // pass of their own. A file that has duplicates is validated a second time with
    // them; a sheet whose rows meet what only a full survey handles, read again with one.
    let quick = Config {
        read: crate::input::ReadOptions {
            quick_survey: true,
            ..cfg.read.clone()
        },
        ..cfg.clone()
    };
    let first = prepare_with(&quick, ui, true)?;
    let (prepared, (sink, mut report, tally)) = match validated(cfg, ui, &first) {
        Err(Error::Reread(_)) => {
            drop(first);
            let again = Config {
                save_map: None,
                ..cfg.clone()
            };
            let quiet = Printer {
                quiet: true,
                json: false,
            };
            let full = prepare_with(&again, &quiet, true)?;
            let done = validated(cfg, ui, &full)?;
            (full, done)
        }
        other => (first, other?),
    };
    let Prepared {
        spec,
        table,
        mapping,
        out,
        ..
    } = &prepared;
    if report.rows == 0 {
        drop(sink);
        remove_partial(out);
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
    report.left_out = table.left_out_note();

    let summary = SummaryData {
        lines: summary_lines(cfg, table, mapping, &report, spec),
        error_groups: report.error_groups.clone(),
        warning_groups: report.warning_groups.clone(),
    };
    report.result = sink.finish(&summary)?;
    Ok(report)
}

/// Every row validated into the result (not yet finished), the duplicate keys gathered
/// on the way, and the rows validated again if some key is duplicated.
fn validated(
    cfg: &Config,
    ui: &Printer,
    prepared: &Prepared,
) -> Result<(Box<dyn result::ResultSink>, Report, Tally)> {
    let gather = (prepared.dups.is_none() && has_key_check(prepared))
        .then(|| DuplicateIndex::with_capacity(most_rows(cfg, &prepared.table)));
    match pass(cfg, ui, prepared, prepared.dups.as_ref(), gather)? {
        Pass::Done(sink, report, tally) => Ok((sink, report, tally)),
        Pass::Duplicated(dups) => match pass(cfg, ui, prepared, Some(&dups), None)? {
            Pass::Done(sink, report, tally) => Ok((sink, report, tally)),
            Pass::Duplicated(_) => Err(Error::output("the duplicate keys were gathered twice")),
        },
    }
}

/// Most data rows the input can hold, for the keys gathered on the way: the count a
/// full survey found, else one row per 16 bytes of the file, within `--max-rows`.
/// Room reserved for them is not touched until used; grown as rows came, the list was
/// copied into fresh memory at every doubling (2% of a million-row CSV's CPU).
fn most_rows(cfg: &Config, table: &input::Table) -> usize {
    let limit = cfg.read.max_rows.unwrap_or(input::DEFAULT_MAX_ROWS);
    let by_size = std::fs::metadata(&cfg.input).map_or(0, |m| m.len() / 16);
    let rows = table.row_count_hint().unwrap_or(by_size).min(limit);
    usize::try_from(rows).unwrap_or(0)
}

/// How one pass over the rows ended.
enum Pass {
    /// Every row is in the result (not yet finished) and counted.
    Done(Box<dyn result::ResultSink>, Report, Tally),
    /// Keys were gathered and some is duplicated: the result was discarded, and the
    /// rows are to be validated again with these duplicates.
    Duplicated(DuplicateIndex),
}

/// One pass: every row read, validated (on all cores) and written, in order; `gather`
/// collects the rows' keys when no duplicate index was built before.
fn pass(
    cfg: &Config,
    ui: &Printer,
    prepared: &Prepared,
    dups: Option<&DuplicateIndex>,
    gather: Option<DuplicateIndex>,
) -> Result<Pass> {
    let Prepared {
        spec,
        table,
        mapping,
        out,
        ..
    } = prepared;
    let validator = Validator::new(spec, mapping, table, cfg.mode, cfg.parse.clone(), dups);
    let columns = Columns {
        payload: true,
        ..Columns::default()
    };
    let sink = result::create_masked(out, &table.headers, columns, &secret_columns(spec, mapping))?;
    let bar = ui.progress(None, "validating");
    // Reading, validating (on every core) and writing overlap: the reader sends chunks,
    // each chunk is validated as one task on the pool (the cores work on different
    // chunks, so none waits for the slowest part of another), and the writer puts the
    // chunks back in order as they come. The writer also counts the verdicts and
    // gathers the keys. At most IN_FLIGHT chunks are between the reader and the file.
    let (tx_rows, rx_rows) = sync_channel::<Result<Vec<RawRow>>>(2);
    let (tx_done, rx_done) = channel::<(usize, Vec<RawRow>, Vec<Verdict>)>();
    let (tx_slot, rx_slot) = sync_channel::<()>(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        let _ = tx_slot.send(());
    }
    // Written chunks go back to the reader, which frees their rows where they were
    // allocated (a free from another thread costs several times as much) and fills
    // the emptied vector again.
    let (tx_back, rx_back) = sync_channel::<Vec<RawRow>>(IN_FLIGHT);
    let written = std::thread::scope(|s| -> Result<Written> {
        s.spawn(move || read_chunks(table, &tx_rows, &rx_back));
        let progress = bar.clone();
        let writer = s.spawn(move || {
            let done = Written {
                sink,
                report: Report::default(),
                tally: Tally::default(),
                gather,
            };
            write_in_order(prepared, done, &rx_done, &tx_slot, &tx_back, &progress)
        });
        let mut failure = None;
        let validator = &validator;
        rayon::in_place_scope(|tasks| {
            for (seq, chunk) in rx_rows.into_iter().enumerate() {
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
                // A slot frees when the writer has written a chunk; none: it stopped.
                if rx_slot.recv().is_err() {
                    break;
                }
                let tx = tx_done.clone();
                tasks.spawn(move |_| {
                    let verdicts = chunk.iter().map(|r| verdict(validator, r)).collect();
                    let _ = tx.send((seq, chunk, verdicts));
                });
            }
        });
        drop(tx_done);
        let written = writer
            .join()
            .map_err(|_| Error::output("the result writer stopped unexpectedly"))?;
        match failure {
            Some(e) => Err(e),
            None => written,
        }
    });
    bar.finish_and_clear();
    let Written {
        sink,
        report,
        tally,
        gather,
    } = match written {
        Ok(w) => w,
        Err(e) => {
            remove_partial(out);
            return Err(e);
        }
    };
    if let Some(mut g) = gather {
        g.finish();
        if g.duplicated_keys() > 0 {
            drop(sink);
            remove_partial(out);
            return Ok(Pass::Duplicated(g));
        }
    }
    Ok(Pass::Done(sink, report, tally))
}

/// The writer stage: the validated chunks put back in file order, each row counted, its
/// key gathered and written; a written chunk frees a slot and goes back to the reader.
fn write_in_order(
    prepared: &Prepared,
    mut done: Written,
    validated: &Receiver<(usize, Vec<RawRow>, Vec<Verdict>)>,
    slot: &SyncSender<()>,
    back: &SyncSender<Vec<RawRow>>,
    progress: &indicatif::ProgressBar,
) -> Result<Written> {
    let mut early: BTreeMap<usize, (Vec<RawRow>, Vec<Verdict>)> = BTreeMap::new();
    let mut next = 0;
    for (seq, rows, verdicts) in validated {
        early.insert(seq, (rows, verdicts));
        while let Some((rows, verdicts)) = early.remove(&next) {
            next += 1;
            progress.inc(rows.len() as u64);
            for (raw, verdict) in rows.iter().zip(verdicts) {
                if let Some(g) = done.gather.as_mut() {
                    gather_key(prepared, raw, g);
                }
                let outcome = done.tally.add(&mut done.report, verdict);
                done.sink.row(raw, &outcome)?;
            }
            let _ = slot.send(());
            // Full (the reader is ahead) or gone: the rows are freed here.
            let _ = back.try_send(rows);
        }
    }
    Ok(done)
}

/// The reader stage: the table's rows in chunks of [`CHUNK`], then the first read error;
/// each chunk in a vector the writer sent `back` when there is one.
fn read_chunks(
    table: &input::Table,
    tx: &SyncSender<Result<Vec<RawRow>>>,
    back: &Receiver<Vec<RawRow>>,
) {
    let (mut rows, hand_back) = match table.rows_handing_back() {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Err(e));
            return;
        }
    };
    loop {
        let mut chunk = match back.try_recv() {
            Ok(mut used) => match &hand_back {
                // Rows read on a thread of their own go back to it to be freed (or, when
                // it has enough to free, are freed here).
                Some(reader) => {
                    let _ = reader.try_send(used);
                    Vec::with_capacity(CHUNK)
                }
                None => {
                    used.clear();
                    used
                }
            },
            Err(_) => Vec::with_capacity(CHUNK),
        };
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
        ("Target".into(), spec.target.to_string()),
        ("Entity".into(), spec.entity.to_string()),
        ("Mode".into(), cfg.mode.to_string()),
        ("Rows".into(), report.rows.to_string()),
        ("VALID".into(), report.valid.to_string()),
        ("INVALID".into(), report.invalid.to_string()),
        ("Rows with warnings".into(), report.warned.to_string()),
    ]);
    if let Some(n) = &report.left_out {
        lines.push(("Left out".into(), n.clone()));
    }
    lines.extend([
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
