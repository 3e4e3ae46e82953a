//! Running a sheet again: `resume` finishes an interrupted or killed run with its stored
//! options; `retry` re-runs the fixed `Failed` sheet of a result workbook with the options
//! of the run that wrote it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Config;
use super::config::stored_config;
use crate::error::{Error, Result};
use crate::ledger::{self, Ledger, RunRecord};

/// The config that re-runs the `Failed` sheet of result workbook `result` with the
/// options of the run that wrote it, and that run.
pub fn retry(
    result: &Path,
    include_unknown: bool,
    out: Option<PathBuf>,
) -> Result<(Config, RunRecord)> {
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
    let mut cfg = stored_config(&record.config_json, run_id, "retried")?;
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
    cfg.retrying = true;
    Ok((cfg, record))
}

/// The config that finishes run `run_id` (the newest unfinished one by default), and
/// that run; refused when the run is finished or its input changed since.
pub fn resume(run_id: Option<i64>) -> Result<(Config, RunRecord)> {
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
    let cfg = stored_config(&record.config_json, record.id, "resumed")?;
    let fingerprint = ledger::file_fingerprint(&cfg.base.input)?;
    if fingerprint != record.input_fingerprint {
        return Err(Error::usage(format!(
            "{} has changed since run {} started; resuming would mix two versions of the file — import it as a new run instead",
            cfg.base.input.display(),
            record.id
        )));
    }
    drop(ledger);
    Ok((cfg, record))
}

/// The key/value lines of a result workbook's `Summary` sheet.
/// The run whose result workbook `path` is, if it is one: its Summary sheet names the
/// run (a validation's or a dry run's does not).
pub(crate) fn run_of_result(path: &Path) -> Option<i64> {
    read_summary(path).ok()?.get("Run")?.trim().parse().ok()
}

fn read_summary(path: &Path) -> Result<HashMap<String, String>> {
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
