//! `sheetload runs list | show RUN`: the run history kept in the ledger (`runs undo` is
//! `commands::undo`).

use std::collections::HashMap;
use std::io::Write;

use chrono::Utc;

use crate::error::{Error, Result, exit};
use crate::ledger::{self, Ledger, RunRecord, RunState};
use crate::output::Status;
use crate::ui::{Printer, local_time, thousands};

pub(crate) fn open() -> Result<Ledger> {
    Ledger::open(&ledger::default_home())
}

pub(crate) fn find(ledger: &Ledger, id: i64) -> Result<RunRecord> {
    ledger.run(id)?.ok_or_else(|| {
        Error::usage(format!(
            "there is no run {id} in {}; `sheetload runs list` shows the runs",
            ledger.path().display()
        ))
    })
}

/// What `runs` calls a run's state: a `running` run whose process still holds the run
/// lock is running; one left `running` by a process that is gone (killed, crashed)
/// has stopped, and `resume` finishes it.
fn state_word(r: &RunRecord, holders: &HashMap<i64, ledger::Holder>) -> &'static str {
    match r.state {
        RunState::Running if holders.get(&r.id).is_none_or(|h| h.is_gone(Utc::now())) => "stopped",
        state => state.as_str(),
    }
}

/// `runs list`: the newest runs, one line each.
pub fn list(limit: usize, ui: &Printer) -> Result<u8> {
    let ledger = open()?;
    let runs = ledger.runs(limit)?;
    let holders = ledger.lease_holders()?;
    if ui.json {
        // The same state word as the text: a run a crash left `running` has stopped.
        let listed: Vec<_> = runs
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["state"] = state_word(r, &holders).into();
                v
            })
            .collect();
        ui.json(&serde_json::Value::Array(listed));
        return Ok(exit::OK);
    }
    let mut out = std::io::stdout().lock();
    if runs.is_empty() {
        let _ = writeln!(out, "no runs yet in {}", ledger.path().display());
        return Ok(exit::OK);
    }
    let _ = writeln!(
        out,
        "{:>5}  {:<16}  {:<11}  {:<11} {:<9} {:<7}  {:>6} {:>6} {:>7} {:>6} {:>6}  database / input",
        "run",
        "started",
        "state",
        "target",
        "entity",
        "mode",
        "ok",
        "skip",
        "invalid",
        "failed",
        "unkn"
    );
    for r in runs {
        let c = &r.counts;
        let _ = writeln!(
            out,
            "{:>5}  {:<16}  {:<11}  {:<11} {:<9} {:<7}  {:>6} {:>6} {:>7} {:>6} {:>6}  {} / {}",
            r.id,
            local_time(&r.started_at),
            state_word(&r, &holders),
            r.target,
            r.entity,
            r.mode,
            c.ok,
            c.skipped,
            c.invalid,
            c.failed,
            c.unknown + c.sending,
            r.database_name.clone().unwrap_or_default(),
            r.input_path
        );
    }
    Ok(exit::OK)
}

/// `runs show RUN`: one run in detail, with its failed rows.
pub fn show(id: i64, ui: &Printer) -> Result<u8> {
    let ledger = open()?;
    let r = find(&ledger, id)?;
    let rows = ledger.rows(id)?;
    if ui.json {
        ui.json(&serde_json::json!({"run": r, "rows": rows}));
        return Ok(exit::OK);
    }
    let c = &r.counts;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "run {}: {} {} — {}",
        r.id,
        r.entity,
        r.mode,
        state_word(&r, &ledger.lease_holders()?)
    );
    let _ = writeln!(out, "  started   {}", local_time(&r.started_at));
    if let Some(f) = &r.finished_at {
        let _ = writeln!(out, "  finished  {}", local_time(f));
    }
    if let Some(u) = &r.undone_at {
        let _ = writeln!(
            out,
            "  undone    {} (`runs undo` deleted what it created)",
            local_time(u)
        );
    }
    let _ = writeln!(out, "  target    {} {}", r.target, r.base_url);
    let _ = writeln!(
        out,
        "  database  {} (id {})",
        r.database_name.clone().unwrap_or_default(),
        r.database_id.clone().unwrap_or_default()
    );
    let _ = writeln!(out, "  input     {}", r.input_path);
    let _ = writeln!(
        out,
        "  rows      {} OK, {} skipped, {} invalid, {} failed, {} unknown, {} in flight",
        thousands(c.ok),
        thousands(c.skipped),
        thousands(c.invalid),
        thousands(c.failed),
        thousands(c.unknown),
        thousands(c.sending)
    );
    let bad: Vec<_> = rows
        .iter()
        .filter(|x| x.sending || x.status.is_some_and(Status::is_failure))
        .collect();
    for x in bad.iter().take(20) {
        let status = if x.sending {
            "SENDING"
        } else {
            x.status.map(Status::as_str).unwrap_or("")
        };
        let _ = writeln!(out, "  row {:>6}  {:<8} {}", x.row, status, x.error);
    }
    if bad.len() > 20 {
        let _ = writeln!(
            out,
            "  … and {} more (see the result workbook)",
            bad.len() - 20
        );
    }
    if let Some(h) = ledger.lease_holders()?.get(&r.id)
        && r.state == RunState::Running
        && !h.is_gone(Utc::now())
    {
        let _ = writeln!(
            out,
            "Still going: pid {} on {}; an import of the same entity and database with --wait-for-lock waits for it.",
            h.pid,
            if h.host.is_empty() { "?" } else { &h.host }
        );
    } else if r.state.is_unfinished() {
        let _ = writeln!(out, "`sheetload resume {}` finishes it.", r.id);
    }
    Ok(exit::OK)
}
