//! The plan shown and confirmed before anything is sent: always for a destructive mode
//! (delete), for every import with `--confirm` or a profile's `confirm = true`.

use std::collections::HashMap;

use super::Config;
use crate::commands::connection;
use crate::commands::validate::Prepared;
use crate::error::{Error, Result};
use crate::payload::plan::{Planned, Planner};
use crate::spec::Mode;
use crate::ui::thousands;
use crate::validate::Validator;

/// The plan of every row, counted, before anything is sent — for a destructive mode
/// (delete) or `--confirm` — and the question to the user; without a terminal, `--yes`
/// is needed. Nothing is sent when the answer is no.
pub(crate) fn confirm_plan(
    cfg: &Config,
    prepared: &Prepared,
    validator: &Validator<'_>,
    mut planner: Planner<'_>,
    conn: &connection::Connected,
) -> Result<()> {
    let mode = cfg.base.mode;
    let destructive = matches!(mode, Mode::Delete | Mode::Forget);
    if cfg.dry_run || cfg.yes || !(destructive || cfg.confirm) {
        return Ok(());
    }
    let mut counts: HashMap<&'static str, u64> = HashMap::new();
    let mut invalid = 0u64;
    for raw in prepared.table.rows()? {
        let res = validator.validate(&raw?);
        match planner.plan(&res) {
            Planned::Send(s) => *counts.entry(s.action.word()).or_default() += 1,
            Planned::Done(_) => invalid += 1,
        }
    }
    let entity = &prepared.spec.entity;
    let c = |w: &str| counts.get(w).copied().unwrap_or(0);
    let place = conn.destination();
    let plan = if destructive {
        let n = c("delete").max(c("create") + c("update"));
        format!("{mode} {} from {place}", crate::ui::records(n, entity))
    } else {
        format!(
            "create {}, update {}, delete {} {entity} in {place} ({} unchanged)",
            thousands(c("create")),
            thousands(c("update")),
            thousands(c("delete")),
            thousands(c("skip"))
        )
    };
    let plan = if invalid > 0 {
        format!("{plan}; {} not sendable", crate::ui::count(invalid, "row"))
    } else {
        plan
    };
    match crate::ui::ask(&format!("{plan}?")) {
        Some(true) => Ok(()),
        Some(false) => Err(Error::usage(format!(
            "not confirmed: nothing was sent ({plan})"
        ))),
        None => Err(Error::usage(format!(
            "--mode {mode} would {plan}: confirm on a terminal, or pass --yes; nothing was sent"
        ))),
    }
}

/// `--confirm` for the targets whose plan is made while sending (orders, Trackfinity):
/// the rows and where they go, asked before anything is sent.
pub(crate) fn confirm_rows(cfg: &Config, prepared: &Prepared, place: &str) -> Result<()> {
    if cfg.dry_run || cfg.yes || !cfg.confirm {
        return Ok(());
    }
    let rows = crate::ui::count(row_total(prepared).unwrap_or(0), "row");
    let plan = format!(
        "{} {rows} of {} to {place}",
        cfg.base.mode, prepared.spec.entity
    );
    match crate::ui::ask(&format!("{plan}?")) {
        Some(true) => Ok(()),
        Some(false) => Err(Error::usage(format!(
            "not confirmed: nothing was sent ({plan})"
        ))),
        None => Err(Error::usage(format!(
            "--confirm: {plan}: confirm on a terminal, or pass --yes; nothing was sent"
        ))),
    }
}

/// Rows in the input, for the progress bar (CSV has no row count: it is counted).
pub fn row_total(prepared: &Prepared) -> Option<u64> {
    prepared.table.row_count_hint().or_else(|| {
        let rows = prepared.table.rows().ok()?;
        Some(rows.count() as u64)
    })
}
