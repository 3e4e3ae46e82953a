//! `sheetload import`, `resume` and `retry`: turn the command line into engine runs,
//! watch them on the terminal, and write the result workbook and the summary.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use super::report::{Finished, report};
use super::validate::{self, prepare};
use crate::connection;
use crate::engine::{self, Stop, Stored};
use crate::error::{Error, Result, exit};
use crate::ledger::{self, Ledger};
use crate::ui::Printer;

pub use crate::engine::Config;

/// Re-run the failed rows of an earlier result workbook (its `Failed` sheet, possibly
/// fixed by hand) with the options of the run that produced it.
pub fn retry(
    result: &std::path::Path,
    include_unknown: bool,
    out: Option<PathBuf>,
    ui: &Printer,
) -> Result<u8> {
    let summary = read_summary(result)?;
    let run_id: i64 = summary
        .get("Run")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            Error::usage(format!(
                "{} names no run in its Summary sheet (a validation or dry-run result?): import the file instead",
                result.display()
            ))
        })?;
    let ledger = Ledger::open(&ledger::default_home())?;
    let record = ledger.run(run_id)?.ok_or_else(|| {
        Error::usage(format!(
            "run {run_id} of {} is not in this ledger ({}); set SHEETLOAD_HOME to the one that ran it",
            result.display(),
            ledger.path().display()
        ))
    })?;
    drop(ledger);
    let stored: Stored = serde_json::from_str(&record.config_json).map_err(|e| {
        Error::usage(format!(
            "run {run_id} cannot be retried: its stored options are unreadable ({e})"
        ))
    })?;
    let mut cfg = stored.config()?;
    cfg.base.input = result.to_path_buf();
    cfg.base.read.sheet = Some("Failed".into());
    cfg.base.read.header_row = Some(1);
    cfg.base.read.encoding = None;
    cfg.base.read.delimiter = None;
    cfg.base.out = Some(out.unwrap_or_else(|| {
        let stem = result
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "result".into());
        result.with_file_name(format!("{stem}.retry.xlsx"))
    }));
    cfg.skip_unknown = !include_unknown;
    ui.note(&format!(
        "retrying the Failed rows of run {run_id} ({} {})",
        record.entity, record.mode
    ));
    runtime()?.block_on(import(cfg, ui, None))
}

/// The key/value lines of a result workbook's `Summary` sheet.
fn read_summary(path: &std::path::Path) -> Result<HashMap<String, String>> {
    use calamine::Reader as _;
    let mut book = calamine::open_workbook_auto(path).map_err(|e| {
        Error::input(format!(
            "cannot read {} as a result workbook: {e}",
            path.display()
        ))
    })?;
    let range = book.worksheet_range("Summary").map_err(|_| {
        Error::input(format!(
            "{} has no Summary sheet: name a result workbook written by sheetload import",
            path.display()
        ))
    })?;
    Ok(range
        .rows()
        .filter_map(|r| {
            let k = r.first()?.to_string();
            let v = match r.get(1)? {
                calamine::Data::Float(f) => crate::input::number_text(*f),
                other => other.to_string(),
            };
            Some((k, v))
        })
        .collect())
}

/// Run `import` and return its exit code.
pub fn run(cfg: &Config, ui: &Printer) -> Result<u8> {
    if cfg.dry_run && !connection::has_target(&cfg.conn) {
        ui.note("no target given: validating offline (nothing is sent); give a connection (or --sandbox) to also plan create / update / skip per row");
        return validate::run(&cfg.base, ui);
    }
    runtime()?.block_on(import(cfg.clone(), ui, None))
}

/// Finish an interrupted or killed run (the newest unfinished one by default).
pub fn resume(run_id: Option<i64>, ui: &Printer) -> Result<u8> {
    let home = ledger::default_home();
    let ledger = Ledger::open(&home)?;
    let record = match run_id {
        Some(id) => ledger.run(id)?.ok_or_else(|| {
            Error::usage(format!(
                "there is no run {id}; `sheetload runs list` shows the runs"
            ))
        })?,
        None => ledger.last_unfinished()?.ok_or_else(|| {
            Error::usage(
                "there is no unfinished run to resume; `sheetload runs list` shows the runs",
            )
        })?,
    };
    if !record.state.is_unfinished() {
        return Err(Error::usage(format!(
            "run {} is already {}; nothing to resume (use `sheetload retry RESULT.xlsx` for its failed rows)",
            record.id,
            record.state.as_str()
        )));
    }
    let stored: Stored = serde_json::from_str(&record.config_json).map_err(|e| {
        Error::usage(format!(
            "run {} cannot be resumed: its stored options are unreadable ({e})",
            record.id
        ))
    })?;
    let fingerprint = ledger::file_fingerprint(&stored.input)?;
    if fingerprint != record.input_fingerprint {
        return Err(Error::usage(format!(
            "{} has changed since run {} started; resuming would mix two versions of the file — import it as a new run instead",
            stored.input.display(),
            record.id
        )));
    }
    drop(ledger);
    ui.note(&format!(
        "resuming run {} ({} {}, {})",
        record.id,
        record.entity,
        record.mode,
        stored.input.display()
    ));
    let cfg = stored.config()?;
    runtime()?.block_on(import(cfg, ui, Some(record.id)))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(format!("cannot start the network runtime: {e}")))
}

async fn import(cfg: Config, ui: &Printer, resume_of: Option<i64>) -> Result<u8> {
    let started = Instant::now();
    let prepared = prepare(&cfg.base, ui)?;
    // Ctrl-C: stop dispatching, let the requests in flight finish, write everything.
    let stop = Stop::with_limit(cfg.max_errors);
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.interrupt();
            }
        });
    }
    let mut progress = super::progress::Progress::new(*ui);
    let target = crate::targets::get(&prepared.spec.target)?;
    let ran = engine::run(target, &cfg, &prepared, resume_of, stop, &mut progress, ui).await?;
    drop(progress);
    let finished = Finished {
        cfg: &cfg,
        prepared: &prepared,
        run_id: ran.run_id,
        state: ran.state,
        started,
        dispatch_seconds: ran.dispatch_seconds,
        base_url: &ran.base_url,
        database: &ran.database,
        interrupted: ran.interrupted,
        stop_reason: ran.stop_reason.clone(),
        problem: ran.problem.clone(),
    };
    match report(&finished, ran.outcomes, ran.payloads, ui) {
        Err(e) if ran.run_id.is_some() => {
            // Rows were sent: never exit 2 ("nothing sent") now.
            ui.error(&e.to_string());
            if let Some(id) = ran.run_id {
                ui.summary(&[format!(
                    "the ledger holds every row's outcome: `sheetload runs show {id}`"
                )]);
            }
            Ok(if ran.interrupted {
                exit::INTERRUPTED
            } else {
                exit::ROWS_FAILED
            })
        }
        other => other,
    }
}
