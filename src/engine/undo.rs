//! Undo a run: delete, through the target's API, the records the run created and that
//! are still there. What the ledger remembers of them is the caller's to update.

use std::time::Duration;

use reqwest::Method;

use super::target::Target;
use crate::connection::ConnectionArgs;
use crate::dispatch::{Ctx, Limiter, Policy};
use crate::error::{Error, Result};
use crate::ledger::{RowRecord, RunRecord};
use crate::output::Status;
use crate::ui::Printer;

/// What an undo did: the rows whose record is gone (deleted now, or already absent),
/// and a reason per record that could not be deleted.
pub struct Undone {
    /// Input rows whose created record no longer exists.
    pub deleted: Vec<u32>,
    /// `row 3 (id 1000002): HTTP 403 …` for each record left.
    pub failures: Vec<String>,
}

/// Delete the `created` records of run `r` on `target`, signed in with `conn`.
pub async fn delete_created(
    target: &dyn Target,
    r: &RunRecord,
    created: &[RowRecord],
    conn: &ConnectionArgs,
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
    let ctx = Ctx {
        client: connected.transport.clone(),
        limiter: Limiter::new(None),
        policy: Policy::default(),
        columns: Default::default(),
        interrupted: Default::default(),
        service: target.label(),
    };
    let mut out = Undone {
        deleted: Vec::new(),
        failures: Vec::new(),
    };
    for row in created {
        let Some(remote) = &row.remote_id else {
            continue;
        };
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
