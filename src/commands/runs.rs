//! `sheetload runs list | show RUN | undo RUN`: the run history kept in the ledger.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use reqwest::Method;

use crate::connection::ConnectionArgs;
use crate::dispatch::{Ctx, Limiter, Policy};
use crate::error::{Error, Result, exit};
use crate::ledger::{self, Ledger, RunRecord};
use crate::output::Status;
use crate::spec::Mode;
use crate::ui::{Printer, records, thousands};

fn open() -> Result<Ledger> {
    Ledger::open(&ledger::default_home())
}

fn find(ledger: &Ledger, id: i64) -> Result<RunRecord> {
    ledger.run(id)?.ok_or_else(|| {
        Error::usage(format!(
            "there is no run {id} in {}; `sheetload runs list` shows the runs",
            ledger.path().display()
        ))
    })
}

fn when(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// `runs list`: the newest runs, one line each.
pub fn list(limit: usize, ui: &Printer) -> Result<u8> {
    let ledger = open()?;
    let runs = ledger.runs(limit)?;
    if ui.json {
        ui.json(&serde_json::to_value(&runs).unwrap_or_default());
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
            when(&r.started_at),
            r.state.as_str(),
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
        r.state.as_str()
    );
    let _ = writeln!(out, "  started   {}", when(&r.started_at));
    if let Some(f) = &r.finished_at {
        let _ = writeln!(out, "  finished  {}", when(f));
    }
    if let Some(u) = &r.undone_at {
        let _ = writeln!(
            out,
            "  undone    {} (`runs undo` deleted what it created)",
            when(u)
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
    if r.state.is_unfinished() {
        let _ = writeln!(out, "`sheetload resume {}` finishes it.", r.id);
    }
    Ok(exit::OK)
}

/// Ask `question` on the terminal; without one, refuse (a deletion of `what` is never
/// confirmed by default).
fn confirmed(question: &str, what: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage(format!(
            "undo deletes {what}: confirm on a terminal, or pass --yes"
        )));
    }
    eprint!("{question}");
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "ya"))
}

/// `runs undo RUN`: delete what the run created, after a confirmation (or `--yes`).
pub fn undo(id: i64, yes: bool, conn: &ConnectionArgs, ui: &Printer) -> Result<u8> {
    let mut ledger = open()?;
    let r = find(&ledger, id)?;
    let created = ledger.created(id)?;
    if !crate::spec::builtin(&r.target, &r.entity)?
        .modes
        .contains(&Mode::Delete)
    {
        return Err(Error::usage(format!(
            "{} {} cannot be deleted through the API, so run {id} cannot be undone: remove them in the app",
            r.target, r.entity
        )));
    }
    if created.is_empty() {
        ledger.finish_undo(id)?;
        ui.summary(&[format!(
            "run {id} created nothing that is still there; nothing to undo"
        )]);
        return Ok(exit::OK);
    }
    if r.config_json.contains("\"sandbox\":true") && !conn.sandbox && conn.base_url.is_none() {
        return Err(Error::usage(format!(
            "run {id} went to an in-process sandbox that no longer exists; nothing to undo"
        )));
    }
    let what = records(created.len() as u64, &r.entity);
    let question = format!(
        "delete the {what} that run {id} created in \"{}\" ({})? [y/N] ",
        r.database_name.clone().unwrap_or_default(),
        r.base_url
    );
    if !yes && !confirmed(&question, &what)? {
        ui.summary(&["nothing deleted".to_string()]);
        return Ok(exit::OK);
    }
    let mut conn = conn.clone();
    if conn.base_url.is_none() && std::env::var("SHEETLOAD_BASE_URL").is_err() {
        conn.base_url = Some(r.base_url.clone());
    }
    if conn.database.is_none() {
        conn.database = r.database_id.clone();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(format!("cannot start the network runtime: {e}")))?;
    let (deleted, failures) = runtime.block_on(async {
        let timeout = Duration::from_secs(30);
        let (_, target) = crate::targets::connect(&r.target, &conn, timeout, 8, ui).await?;
        if r.database_id.as_deref().is_some_and(|d| d != target.database.id) {
            return Err(Error::usage(format!(
                "run {id} wrote to {}, but these credentials reach {}: set SHEETLOAD_DATABASE or the base URL the run used",
                r.database_id.clone().unwrap_or_default(),
                target.database.id
            )));
        }
        let path = target
            .collection(&r.entity)
            .map(str::to_string)
            .ok_or_else(|| Error::usage(format!("unknown entity {}", r.entity)))?;
        let client = target.transport.clone();
        let ctx = Ctx {
            client,
            limiter: Limiter::new(None),
            policy: Policy::default(),
            columns: Default::default(),
        };
        let mut deleted = Vec::new();
        let mut failures = Vec::new();
        for row in &created {
            let Some(remote) = &row.remote_id else { continue };
            let done = ctx.change(Method::DELETE, &format!("{path}/{remote}"), None, None).await;
            match (done.status, done.http) {
                (Some(Status::Ok), _) | (_, Some(404)) => deleted.push(row.row),
                _ => failures.push(format!("row {} (id {remote}): {}", row.row, done.error)),
            }
        }
        Ok::<_, Error>((deleted, failures))
    })?;
    ledger.mark_undone(id, &deleted)?;
    let undone = ledger.finish_undo(id)?;
    let mut lines = vec![format!(
        "run {id}: deleted {} of {} it created{}",
        thousands(deleted.len() as u64),
        records(created.len() as u64, &r.entity),
        if undone {
            "; the run is now marked undone"
        } else {
            ""
        }
    )];
    lines.extend(
        failures
            .iter()
            .take(20)
            .map(|f| format!("  not deleted: {f}")),
    );
    ui.summary(&lines);
    ui.json(&serde_json::json!({
        "command": "runs undo",
        "run": id,
        "created": created.len(),
        "deleted": deleted.len(),
        "not_deleted": failures,
        "undone": undone,
    }));
    Ok(if failures.is_empty() {
        exit::OK
    } else {
        exit::ROWS_FAILED
    })
}
