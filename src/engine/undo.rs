//! Undo a run: delete, through the target's API, the records the run created and that
//! are still there, holding the run lock of the run's scope (as an import does), so that
//! no resume of the run or other import of its entity plans or creates meanwhile. What
//! the ledger remembers of the deleted records is the caller's to update.

use std::time::Duration;

use reqwest::Method;

use super::dispatch::Stop;
use super::lock::{Place, RunLock};
use super::target::Target;
use crate::connection::ConnectionArgs;
use crate::dispatch::{Ctx, Limiter, Policy};
use crate::error::{Error, Result};
use crate::ledger::{self, Ledger, RunRecord, Scope};
use crate::output::Status;
use crate::ui::Printer;

/// What an undo did: the rows whose record is gone (deleted now, or already absent),
/// and a reason per record that could not be deleted.
pub struct Undone {
    /// How many records the run had created and were still there, read under the lock.
    pub created: usize,
    /// Input rows whose created record no longer exists.
    pub deleted: Vec<u32>,
    /// `row 3 (id 1000002): HTTP 403 …` for each record left.
    pub failures: Vec<String>,
}

/// Delete the records run `r` created on `target`, signed in with `conn`, once its
/// scope's run lock is taken (waiting up to `wait_for_lock`, else refused with
/// [`Error::Busy`]). The records are read from the ledger under the lock: `created`,
/// read before, may have grown meanwhile.
pub async fn delete_created(
    target: &dyn Target,
    r: &RunRecord,
    conn: &ConnectionArgs,
    wait_for_lock: Option<Duration>,
    ui: &Printer,
) -> Result<Undone> {
    let timeout = Duration::from_secs(30);
    let connected = target.connect(conn, timeout, 8, ui).await?;
    if r.database_id
        .as_deref()
        .is_some_and(|d| d != connected.database.id)
    {
        return Err(Error::usage(format!(
            "run {} wrote to {}, but these credentials reach {}: set SHEETLOAD_DATABASE or the base URL the run used",
            r.id,
            r.database_id.clone().unwrap_or_default(),
            connected.database.id
        )));
    }
    let path = connected
        .collection(r.entity)
        .map(str::to_string)
        .ok_or_else(|| Error::usage(format!("unknown entity {}", r.entity)))?;
    let destination = connected.destination();
    let place = Place {
        scope: Scope {
            target: r.target,
            base_url: connected.base_url.clone(),
            database_id: Some(connected.database.id.clone()),
            entity: r.entity,
        },
        destination: &destination,
    };
    let stop = Stop::default();
    let _lock = RunLock::acquire(&place, Some(r.id), wait_for_lock, &stop, ui).await?;
    let created = Ledger::open(&ledger::default_home())?.created(r.id)?;
    let ctx = Ctx {
        client: connected.transport.clone(),
        limiter: Limiter::new(None),
        policy: Policy::default(),
        columns: Default::default(),
        interrupted: Default::default(),
        service: target.label(),
    };
    let mut out = Undone {
        created: created.len(),
        deleted: Vec::new(),
        failures: Vec::new(),
    };
    for row in &created {
        let Some(remote) = &row.remote_id else {
            continue;
        };
        if stop.stopped() {
            out.failures.push(format!(
                "row {} (id {remote}): not tried, {}",
                row.row,
                stop.reason().unwrap_or_default()
            ));
            continue;
        }
        let done = ctx
            .change(Method::DELETE, &format!("{path}/{remote}"), None, None)
            .await;
        match (done.status, done.http) {
            (Some(Status::Ok), _) | (_, Some(404)) => out.deleted.push(row.row),
            _ => out
                .failures
                .push(format!("row {} (id {remote}): {}", row.row, done.error)),
        }
    }
    Ok(out)
}
