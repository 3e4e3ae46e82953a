//! `sheetload runs undo RUN`: delete what a run created, after the plan is confirmed on a
//! terminal (or `--yes`); refused with one sentence where the API cannot delete.

use crate::commands::runs::{find, open};
use crate::connection::ConnectionArgs;
use crate::engine::undo::delete_created;
use crate::error::{Error, Result, exit};
use crate::spec::Mode;
use crate::ui::{Printer, records, thousands};

/// Undo run `id` and return the exit code; `wait_for_lock` as for an import.
pub fn undo(
    id: i64,
    yes: bool,
    wait_for_lock: Option<std::time::Duration>,
    conn: &ConnectionArgs,
    ui: &Printer,
) -> Result<u8> {
    let mut ledger = open()?;
    let r = find(&ledger, id)?;
    let created = ledger.created(id)?;
    if !crate::spec::builtin(r.target, r.entity)?
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
    let went_to_sandbox =
        crate::engine::stored_config(&r.config_json, id, "undone").is_ok_and(|c| c.conn.sandbox);
    if went_to_sandbox && !conn.sandbox && conn.base_url.is_none() {
        return Err(Error::usage(format!(
            "run {id} went to an in-process sandbox that no longer exists; nothing to undo"
        )));
    }
    let what = records(created.len() as u64, r.entity.as_str());
    let place = format!(
        "\"{}\" ({})",
        r.database_name.clone().unwrap_or_default(),
        r.base_url
    );
    if !yes {
        match crate::ui::ask(&format!(
            "delete the {what} that run {id} created in {place}?"
        )) {
            Some(true) => {}
            Some(false) => {
                ui.summary(&["nothing deleted".to_string()]);
                return Ok(exit::OK);
            }
            None => {
                return Err(Error::usage(format!(
                    "undo deletes {what}: confirm on a terminal, or pass --yes"
                )));
            }
        }
    }
    let mut conn = conn.clone();
    if conn.base_url.is_none() && std::env::var("SHEETLOAD_BASE_URL").is_err() {
        conn.base_url = Some(r.base_url.clone());
    }
    if conn.database.is_none() {
        conn.database = r.database_id.clone();
    }
    let target = crate::targets::get(r.target);
    let done = crate::connection::runtime()?.block_on(delete_created(
        target,
        &r,
        &conn,
        wait_for_lock,
        ui,
    ))?;
    ledger.mark_undone(id, &done.deleted)?;
    let undone = ledger.finish_undo(id)?;
    let mut lines = vec![format!(
        "run {id}: deleted {} of {} it created{}",
        thousands(done.deleted.len() as u64),
        records(done.created as u64, r.entity.as_str()),
        if undone {
            "; the run is now marked undone"
        } else {
            ""
        }
    )];
    lines.extend(
        done.failures
            .iter()
            .take(20)
            .map(|f| format!("  not deleted: {f}")),
    );
    ui.summary(&lines);
    ui.json(&serde_json::json!({
        "command": "runs undo",
        "run": id,
        "created": done.created,
        "deleted": done.deleted.len(),
        "not_deleted": done.failures,
        "undone": undone,
    }));
    Ok(if done.failures.is_empty() {
        exit::OK
    } else {
        exit::ROWS_FAILED
    })
}
