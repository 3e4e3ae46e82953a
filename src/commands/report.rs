//! The end of an import on the terminal: the summary (a dry run says so on its first and
//! last line), `--json`, and the exit code. The result workbook is the engine's
//! (`engine::report`).

use std::path::Path;
use std::time::Instant;

use crate::engine::report::{Finished, Tally, write};
use crate::engine::spill::Spill;
use crate::error::{Result, exit};
use crate::ledger::RunState;
use crate::output::Status;
use crate::ui::{Printer, thousands};

/// The terminal summary: a dry run says so on its first and last line and counts what
/// it would do; a real run counts what happened.
fn terminal_lines(f: &Finished<'_>, t: &Tally, result_path: &Path) -> Vec<String> {
    let spec = &f.prepared.spec;
    let seconds = f.started.elapsed().as_secs_f64();
    let rate = t.settled() as f64 / seconds.max(1e-9);
    let place = format!(
        "{} {}",
        spec.entity,
        crate::targets::destination(spec.target, f.database)
    );
    let n = thousands;
    let rows = crate::ui::count(t.total, "row");
    let mut out = Vec::new();
    if f.cfg.dry_run {
        out.push(format!(
            "dry run — nothing was sent: {rows} → {place}: {} ({seconds:.1}s)",
            t.would_line()
        ));
    } else {
        let not_sent = t.of(Status::NotSent);
        out.push(format!(
            "{rows} → {place}: {} OK, {} skipped, {} invalid, {} failed, {} unknown{} ({seconds:.1}s, {rate:.0} rows/s)",
            n(t.of(Status::Ok)),
            n(t.of(Status::Skipped)),
            n(t.of(Status::Invalid)),
            n(t.of(Status::Failed)),
            n(t.of(Status::Unknown)),
            if not_sent > 0 {
                format!(", {} not sent", n(not_sent))
            } else {
                String::new()
            },
        ));
    }
    for (count, what) in t.groups().iter().take(10) {
        out.push(format!(
            "  {}: {what}",
            crate::ui::count(*count as u64, "row")
        ));
    }
    if let Some(p) = &f.problem {
        out.push(format!("problem: {p}"));
    }
    if let Some(n) = f.prepared.table.left_out_note() {
        out.push(format!("note: {n}"));
    }
    if let Some(plan) = f.flight {
        out.push(format!(
            "planned {} requests ({}); sent {} in {:.1}s",
            thousands(plan.requests.total()),
            plan.text(),
            thousands(f.sent.total()),
            f.dispatch_seconds
        ));
    }
    out.push(format!("result: {}", result_path.display()));
    if let Some(at) = f.parked {
        let left = t.of(Status::NotSent);
        out.push(crate::engine::quota::parked_message(left, at, f.run_id));
    } else if let (RunState::Interrupted, Some(id)) = (f.state, f.run_id) {
        let why = f.stop_reason.as_deref().unwrap_or("stopped early");
        out.push(format!(
            "run {id} {why}; `sheetload resume {id}` sends the rest"
        ));
    }
    if f.cfg.dry_run {
        out.push("dry run: nothing was created, changed or deleted".into());
    }
    out
}

/// Where the time of a run went, from the process start: the fixed costs before the
/// first request (sign-in aside) and after the last answer (the result workbook aside)
/// are the ones that must stay small whatever the rows.
fn timings(f: &Finished<'_>, result_seconds: f64) -> serde_json::Value {
    let process = crate::process_started();
    let since = |t: Option<Instant>| t.map(|t| t.duration_since(process).as_secs_f64());
    let first = since(f.first_sent);
    let last = since(f.last_settled);
    let total = process.elapsed().as_secs_f64();
    serde_json::json!({
        "sign_in_seconds": f.sign_in_seconds,
        "to_first_request_seconds": first.map(|s| (s - f.sign_in_seconds).max(0.0)),
        "first_to_last_answer_seconds": first.zip(last).map(|(a, b)| (b - a).max(0.0)),
        "result_seconds": result_seconds,
        "after_last_answer_seconds": last.map(|l| (total - l - result_seconds).max(0.0)),
        "total_seconds": total,
    })
}

/// Write the result workbook (every input row with its outcome), print the summary and
/// choose the exit code.
pub(crate) fn report(f: &Finished<'_>, outcomes: Result<&Spill>, ui: &Printer) -> Result<u8> {
    let writing = Instant::now();
    let written = write(f, outcomes?)?;
    let result_seconds = writing.elapsed().as_secs_f64();
    if let Some(why) = &written.fell_back {
        ui.warn(&format!(
            "{why}; the result was written to {} instead",
            written.path.display()
        ));
    }
    let (result_path, t) = (written.path, written.tally);
    ui.summary(&terminal_lines(f, &t, &result_path));
    if let (true, Some(at)) = (ui.json, f.parked) {
        // The summary is left out for --json; a parked run's way on is not.
        let left = t.of(Status::NotSent);
        ui.warn(&crate::engine::quota::parked_message(left, at, f.run_id));
    }
    let seconds = f.started.elapsed().as_secs_f64();
    ui.json(&serde_json::json!({
        "command": if f.cfg.dry_run { "import --dry-run" } else { "import" },
        "dry_run": f.cfg.dry_run,
        "run": f.run_id,
        "state": f.state.as_str(),
        "database": {"id": f.database.id, "name": f.database.name},
        "rows": t.total,
        "ok": t.of(Status::Ok),
        "valid": t.of(Status::Valid),
        "skipped": t.of(Status::Skipped),
        "invalid": t.of(Status::Invalid),
        "failed": t.of(Status::Failed),
        "unknown": t.of(Status::Unknown),
        "not_sent": t.of(Status::NotSent),
        "would": if f.cfg.dry_run {
            serde_json::json!({
                "create": t.would(crate::spec::Verb::Create),
                "update": t.would(crate::spec::Verb::Update),
                "skip": t.would(crate::spec::Verb::Skip),
                "delete": t.would(crate::spec::Verb::Delete),
            })
        } else {
            serde_json::Value::Null
        },
        "stopped": f.stop_reason,
        "plan": f.flight.map(|p| p.json()),
        "actual": crate::engine::flight::actual_json(&f.sent, f.dispatch_seconds),
        "parked_until": f.parked.map(|at| chrono::DateTime::<chrono::Utc>::from(at).to_rfc3339()),
        "problem": f.problem,
        "seconds": seconds,
        "dispatch_seconds": f.dispatch_seconds,
        "timings": timings(f, result_seconds),
        "concurrency": f.cfg.policy.concurrency,
        "result": result_path.display().to_string(),
    }));
    if f.interrupted {
        return Ok(exit::INTERRUPTED);
    }
    if f.parked.is_some() {
        return Ok(exit::PARKED);
    }
    let bad = t.of(Status::Invalid)
        + t.of(Status::Failed)
        + t.of(Status::Unknown)
        + t.of(Status::NotSent);
    Ok(if bad == 0 && f.problem.is_none() {
        exit::OK
    } else {
        exit::ROWS_FAILED
    })
}
