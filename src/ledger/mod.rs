//! The run ledger (SQLite): every row outcome, committed as it happens.
//!
//! Why it exists: a run killed mid-way (SIGKILL, a closed laptop) must be resumable
//! without re-sending finished rows; the rows that were *in flight* at the crash must be
//! known, so they are reconciled by looking their key up rather than POSTed twice; next
//! month's upsert must know the remote ids learned this month; and a run must be listable,
//! showable and undoable.
//!
//! The importer writes in batches (one transaction per call, many rows per call) because
//! it completes thousands of rows a second: [`Ledger::mark_sending`] before requests go
//! out, [`Ledger::record`] when their outcomes are known. One row per (run, row) is kept
//! and upserted, so a row moves `sending` → outcome, and a resumed run overwrites.
//!
//! The ledger stores no payloads (only their hashes) and no credentials: base URLs lose
//! their userinfo and query, and secret-looking keys of the run configuration are
//! redacted.

mod hash;
mod home;
mod lease;
mod redact;
mod schema;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{SecondsFormat, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::output::Status;
use crate::output::result::Outcome;
use crate::spec::{Entity, Mode, TargetId, Verb};
#[cfg(test)]
use rows::status_from_str;
use rows::{counts_from_row, row_from_row, run_from_row, serialize_status, to_i64};

mod rows;

pub use hash::{file_fingerprint, payload_hash};
pub use home::{config_dirs, default_home};
pub use lease::{Acquired, HEARTBEAT, Holder, SELF_STOP_AFTER, STALE_AFTER};
pub use redact::{redact_base_url, redact_text};

/// The ledger's file name inside the sheetload home.
pub const FILE_NAME: &str = "ledger.sqlite3";

/// How a run ended, or that it has not (yet): the user contract of `runs list` and
/// the selector of `resume`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Started and not finished; after a crash a run stays in this state.
    Running,
    /// Every row was processed (whatever its status).
    Completed,
    /// Stopped by the user (Ctrl-C); `resume` continues it.
    Interrupted,
    /// Stopped by an error that ended the run (authentication, ledger, …).
    Failed,
    /// `runs undo` deleted every record the run created.
    Undone,
}

impl RunState {
    /// The word stored in the ledger and shown by `runs list`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Completed => "completed",
            RunState::Interrupted => "interrupted",
            RunState::Failed => "failed",
            RunState::Undone => "undone",
        }
    }

    /// Whether `resume` can pick the run up.
    pub fn is_unfinished(self) -> bool {
        matches!(self, RunState::Running | RunState::Interrupted)
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for RunState {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "running" => Ok(RunState::Running),
            "completed" => Ok(RunState::Completed),
            "interrupted" => Ok(RunState::Interrupted),
            "failed" => Ok(RunState::Failed),
            "undone" => Ok(RunState::Undone),
            _ => Err(Error::usage(format!(
                "unknown run state `{s}`; use running, completed, interrupted, failed or undone"
            ))),
        }
    }
}

/// What is known of a run when it starts; stored so that `runs show` can tell what was
/// done and `resume` can check it is given the same input and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// The target written to.
    pub target: TargetId,
    /// API base URL; any userinfo, query or fragment is removed before storing.
    pub base_url: String,
    /// The target's database (account partition) id, when it has them. Resolve a
    /// database *name* to its id first: remote ids are scoped by it.
    pub database_id: Option<String>,
    /// The database's display name, for `runs show`.
    pub database_name: Option<String>,
    /// The kind of record imported.
    pub entity: Entity,
    /// Import mode.
    pub mode: Mode,
    /// The input file as the user named it.
    pub input_path: String,
    /// [`file_fingerprint`] of the input, so `resume` can refuse an edited file.
    pub input_fingerprint: String,
    /// The sheet read, for workbooks.
    pub sheet: Option<String>,
    /// The effective options as JSON (no secrets; secret-looking keys are redacted anyway).
    pub config_json: String,
    /// Data rows in the input.
    pub total_rows: u64,
}

/// Which remote records a natural key can refer to: the same key means different
/// records on another target, server, database or entity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The target.
    pub target: TargetId,
    /// API base URL (normalised like [`redact_base_url`] before use).
    pub base_url: String,
    /// The target's database id, if it has databases.
    pub database_id: Option<String>,
    /// The kind of record.
    pub entity: Entity,
}

impl From<&RunRecord> for Scope {
    fn from(run: &RunRecord) -> Self {
        Scope {
            target: run.target,
            base_url: run.base_url.clone(),
            database_id: run.database_id.clone(),
            entity: run.entity,
        }
    }
}

/// A row about to be sent: recorded before the request so that, after a crash, the
/// rows whose outcome is unknown are exactly the ones still marked `sending`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRow {
    /// Input row number (as shown in `_row`).
    pub row: u32,
    /// Natural key, used to reconcile the row after a crash.
    pub key: Option<String>,
    /// What is being done.
    pub action: Verb,
    /// [`payload_hash`] of the request body.
    pub payload_hash: String,
}

/// A row's final outcome as the ledger records it: the row, its natural key (needed for
/// the key → id memory) and the one outcome type the dispatch loop settles and the
/// result workbook shows (a row without a status
/// is not recorded).
#[derive(Debug, Clone)]
pub struct RowOutcome {
    /// Input row number.
    pub row: u32,
    /// Natural key.
    pub key: Option<String>,
    /// What happened to the row.
    pub outcome: Outcome,
}

/// A row as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowRecord {
    /// Input row number.
    pub row: u32,
    /// Natural key.
    pub key: Option<String>,
    /// What was (or is being) done; `None` for a row settled without one.
    pub action: Option<Verb>,
    /// True when the row was in flight and no outcome was recorded: after a crash, its
    /// fate is unknown and must be reconciled, not blindly re-sent.
    pub sending: bool,
    /// The outcome; `None` while `sending`.
    #[serde(serialize_with = "serialize_status")]
    pub status: Option<Status>,
    /// The remote record's id, when known.
    pub remote_id: Option<String>,
    /// Final HTTP status, when a request was made.
    pub http: Option<u16>,
    /// Why the row failed.
    pub error: String,
    /// Requests made.
    pub attempts: u32,
    /// Hash of the last payload marked as sending.
    pub payload_hash: Option<String>,
    /// True once `runs undo` deleted the record this row created.
    pub undone: bool,
}

impl RowRecord {
    /// The row's outcome as the result workbook shows it; `None` while it is in flight.
    /// The one conversion from what the ledger holds back to the settled outcome, so a
    /// resumed run reports earlier rows exactly as they were settled.
    pub fn outcome(&self) -> Option<Outcome> {
        let status = self.status.filter(|_| !self.sending)?;
        Some(Outcome {
            status: Some(status),
            action: self.action,
            id: self.remote_id.clone(),
            http: self.http,
            error: self.error.clone(),
            attempts: Some(self.attempts),
            ..Outcome::default()
        })
    }
}

/// Row counts of a run, by status. Stored when the run finishes; computed from its rows
/// while it is unfinished, so `runs show` of a crashed run tells how far it got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// OK rows (and VALID rows of a dry run).
    pub ok: u64,
    /// FAILED rows.
    pub failed: u64,
    /// INVALID rows.
    pub invalid: u64,
    /// SKIPPED rows.
    pub skipped: u64,
    /// UNKNOWN rows.
    pub unknown: u64,
    /// Rows marked sending with no outcome: in flight when the run stopped.
    pub sending: u64,
}

impl Counts {
    /// Rows with an outcome or in flight; `total_rows - processed()` were never reached.
    pub fn processed(&self) -> u64 {
        self.ok + self.failed + self.invalid + self.skipped + self.unknown + self.sending
    }
}

/// A run as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    /// The run id users type after `resume` and `runs show|undo`.
    pub id: i64,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC; `None` while running (or after a crash).
    pub finished_at: Option<String>,
    /// RFC 3339 UTC: when `runs undo` deleted the last record the run created.
    pub undone_at: Option<String>,
    /// How it ended.
    pub state: RunState,
    /// See [`NewRun`].
    pub target: TargetId,
    /// Without userinfo, query or fragment.
    pub base_url: String,
    /// See [`NewRun`].
    pub database_id: Option<String>,
    /// See [`NewRun`].
    pub database_name: Option<String>,
    /// See [`NewRun`].
    pub entity: Entity,
    /// See [`NewRun`].
    pub mode: Mode,
    /// See [`NewRun`].
    pub input_path: String,
    /// See [`NewRun`].
    pub input_fingerprint: String,
    /// See [`NewRun`].
    pub sheet: Option<String>,
    /// See [`NewRun`] (secrets redacted).
    pub config_json: String,
    /// See [`NewRun`].
    pub total_rows: u64,
    /// Rows by status.
    pub counts: Counts,
}

/// The run ledger: one SQLite file in the sheetload home, shared by every run.
///
/// Not `Sync`: keep one `Ledger` per thread (an async importer should own it in one
/// writer task and send it batches). Several processes may open the same file; writers
/// wait up to 5 s for each other.
#[derive(Debug)]
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

/// What the ledger was doing when SQLite failed, for the error message.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Doing {
    Open,
    Read,
    Write,
}

const RUN_COLUMNS: &str = "id, started_at, finished_at, state, target, base_url, database_id, \
     database_name, entity, mode, input_path, input_fingerprint, sheet, config_json, total_rows, \
     n_ok, n_failed, n_invalid, n_skipped, n_unknown, n_sending, undone_at";

const ROW_COLUMNS: &str = "row_no, natural_key, action, sending, status, remote_id, http, error, \
     attempts, payload_hash, undone";

const SQL_SENDING: &str = "
INSERT INTO run_rows (run, row_no, natural_key, action, sending, payload_hash, undone, updated_at)
VALUES (?1, ?2, ?3, ?4, 1, ?5, 0, ?6)
ON CONFLICT (run, row_no) DO UPDATE SET
    natural_key = excluded.natural_key, action = excluded.action, sending = 1,
    status = NULL, remote_id = NULL, http = NULL, error = '',
    payload_hash = excluded.payload_hash, undone = 0, updated_at = excluded.updated_at";

const SQL_RECORD: &str = "
INSERT INTO run_rows (run, row_no, natural_key, action, sending, status, remote_id, http, error,
                      attempts, undone, updated_at)
VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, ?9, 0, ?10)
ON CONFLICT (run, row_no) DO UPDATE SET
    natural_key = coalesce(excluded.natural_key, natural_key), action = excluded.action,
    sending = 0, status = excluded.status, remote_id = excluded.remote_id,
    http = excluded.http, error = excluded.error, attempts = excluded.attempts,
    undone = 0, updated_at = excluded.updated_at";

const SQL_REMEMBER: &str = "
INSERT INTO remote_ids (target, base_url, database_id, entity, natural_key, remote_id, run,
                        row_no, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (target, base_url, database_id, entity, natural_key) DO UPDATE SET
    remote_id = excluded.remote_id, run = excluded.run, row_no = excluded.row_no,
    updated_at = excluded.updated_at";

const SQL_FORGET_DELETED: &str = "
DELETE FROM remote_ids
WHERE target = ?1 AND base_url = ?2 AND database_id = ?3 AND entity = ?4
  AND (natural_key = ?5 OR remote_id = ?6)";

const SQL_COUNTS: &str = "
SELECT coalesce(sum(sending = 0 AND status IN ('OK', 'VALID')), 0),
       coalesce(sum(sending = 0 AND status = 'FAILED'), 0),
       coalesce(sum(sending = 0 AND status = 'INVALID'), 0),
       coalesce(sum(sending = 0 AND status = 'SKIPPED'), 0),
       coalesce(sum(sending = 0 AND status = 'UNKNOWN'), 0),
       coalesce(sum(sending = 1), 0)
FROM run_rows WHERE run = ?1";

impl Ledger {
    /// Open the ledger in `home`, creating both if needed: `home` private to the user
    /// (0700 on unix), the file created 0600 before SQLite opens it (its `-wal` and
    /// `-shm` files inherit that mode), so row keys and ids are never world-readable.
    /// WAL with `synchronous=NORMAL` keeps a batch commit cheap and lets `runs list`
    /// read during an import. Older schemas are migrated; a file that is not a sheetload
    /// ledger, or is from a newer sheetload, is refused without being modified.
    pub fn open(home: &Path) -> Result<Ledger> {
        create_home(home)?;
        let path = home.join(FILE_NAME);
        create_private_file(&path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&path, flags)
            .map_err(|e| sql_error(&path, Doing::Open, &e))?;
        schema::prepare(&mut conn, &path)?;
        Ok(Ledger { conn, path })
    }

    /// The ledger file, for messages (`runs` prints where the history is kept).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Start a run (state `running`) and return its id. The base URL is stored without
    /// userinfo and the configuration with secrets redacted.
    pub fn begin_run(&mut self, run: &NewRun) -> Result<i64> {
        let config = redact::scrub_config(&run.config_json).map_err(|e| {
            Error::output(format!(
                "cannot record the run in the ledger at {}: its configuration is not JSON ({e}); \
                 this is a bug in sheetload, please report it",
                self.path.display()
            ))
        })?;
        let now = now();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO runs (started_at, state, target, base_url, database_id, database_name,
                                   entity, mode, input_path, input_fingerprint, sheet, config_json,
                                   total_rows)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    now,
                    RunState::Running.as_str(),
                    run.target.as_str(),
                    redact_base_url(&run.base_url),
                    run.database_id,
                    run.database_name,
                    run.entity.as_str(),
                    run.mode.as_str(),
                    run.input_path,
                    run.input_fingerprint,
                    run.sheet,
                    config,
                    to_i64(run.total_rows),
                ],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Mark rows as in flight, in one transaction. Call it BEFORE their requests go out:
    /// a crash between the two then leaves them `sending` (to reconcile), never absent
    /// (which would mean "not sent" and lead to a duplicate POST).
    pub fn mark_sending(&mut self, run: i64, rows: &[PendingRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.require_run(run)?;
        let now = now();
        self.write(|tx| {
            let mut upsert = tx.prepare(SQL_SENDING)?;
            for r in rows {
                upsert.execute(params![
                    run,
                    r.row,
                    r.key,
                    r.action.as_str(),
                    r.payload_hash,
                    now
                ])?;
            }
            Ok(())
        })
    }

    /// Record final outcomes, in one transaction, and update the key → id memory of the
    /// run's scope: OK `create`/`update`/`upsert`/`match` with a key and an id remember
    /// it (latest wins), OK `delete` forgets the key and the id.
    pub fn record(&mut self, run: i64, outcomes: &[RowOutcome]) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let scope = self.stored_scope(run)?;
        let now = now();
        self.write(|tx| {
            let mut upsert = tx.prepare(SQL_RECORD)?;
            let mut remember = tx.prepare(SQL_REMEMBER)?;
            let mut forget = tx.prepare(SQL_FORGET_DELETED)?;
            let (target, base_url, database, entity) = scope.params();
            for RowOutcome {
                row,
                key,
                outcome: o,
            } in outcomes
            {
                let Some(status) = o.status else {
                    continue;
                };
                let act = o.action.map(|a| a.as_str()).unwrap_or_default();
                upsert.execute(params![
                    run,
                    row,
                    key,
                    act,
                    status.as_str(),
                    o.id,
                    o.http,
                    o.error,
                    o.attempts.unwrap_or(0),
                    now
                ])?;
                if status != Status::Ok {
                    continue;
                }
                match memory_effect(o.action) {
                    Memory::Remember => {
                        if let (Some(key), Some(id)) = (key, &o.id) {
                            remember.execute(params![
                                target, base_url, database, entity, key, id, run, row, now
                            ])?;
                        }
                    }
                    Memory::Forget => {
                        if key.is_some() || o.id.is_some() {
                            forget
                                .execute(params![target, base_url, database, entity, key, o.id])?;
                        }
                    }
                    Memory::None => {}
                }
            }
            Ok(())
        })
    }

    /// End a run: set its state and `finished_at`, and store its counts computed from
    /// its rows. With [`RunState::Running`] it only stores the counts (a checkpoint).
    pub fn finish_run(&mut self, run: i64, state: RunState) -> Result<()> {
        self.require_run(run)?;
        let finished = (state != RunState::Running).then(now);
        self.write(|tx| {
            let c = tx.query_row(SQL_COUNTS, [run], counts_from_row)?;
            tx.execute(
                "UPDATE runs SET state = ?2, finished_at = ?3, n_ok = ?4, n_failed = ?5,
                     n_invalid = ?6, n_skipped = ?7, n_unknown = ?8, n_sending = ?9
                 WHERE id = ?1",
                params![
                    run,
                    state.as_str(),
                    finished,
                    to_i64(c.ok),
                    to_i64(c.failed),
                    to_i64(c.invalid),
                    to_i64(c.skipped),
                    to_i64(c.unknown),
                    to_i64(c.sending)
                ],
            )?;
            Ok(())
        })
    }

    /// Put an interrupted (or crashed) run back to `running` for `resume`, which then
    /// records into the same run id so its rows are upserted, not duplicated.
    pub fn reopen_run(&mut self, run: i64) -> Result<()> {
        self.require_run(run)?;
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET state = ?2, finished_at = NULL WHERE id = ?1",
                params![run, RunState::Running.as_str()],
            )?;
            Ok(())
        })
    }

    /// One run, or `None` if the id is not in the ledger (for `runs show|undo`).
    pub fn run(&self, id: i64) -> Result<Option<RunRecord>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1");
        let run = self
            .conn
            .query_row(&sql, [id], run_from_row)
            .optional()
            .map_err(|e| self.read_error(&e))?;
        run.map(|r| self.with_live_counts(r)).transpose()
    }

    /// The newest runs first, at most `limit` (for `runs list`).
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRecord>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let runs = self
            .query(&sql, [limit], run_from_row)
            .map_err(|e| self.read_error(&e))?;
        runs.into_iter().map(|r| self.with_live_counts(r)).collect()
    }

    /// The newest run that is `running` or `interrupted` and that no live process is
    /// still running (its run lock tells): what a bare `sheetload resume` continues.
    pub fn last_unfinished(&self) -> Result<Option<RunRecord>> {
        let now = Utc::now();
        let going = self.lease_holders()?;
        let sql =
            format!("SELECT {RUN_COLUMNS} FROM runs WHERE state IN (?1, ?2) ORDER BY id DESC");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.read_error(&e))?;
        let mut runs = stmt
            .query_map(
                [RunState::Running.as_str(), RunState::Interrupted.as_str()],
                run_from_row,
            )
            .map_err(|e| self.read_error(&e))?;
        let run = runs
            .find(|r| {
                r.as_ref()
                    .map_or(true, |r| going.get(&r.id).is_none_or(|h| h.is_gone(now)))
            })
            .transpose()
            .map_err(|e| self.read_error(&e))?;
        run.map(|r| self.with_live_counts(r)).transpose()
    }

    /// Every recorded row of a run, by row number (for `resume` and `runs show`).
    /// Rows never reached have no record.
    pub fn rows(&self, run: i64) -> Result<Vec<RowRecord>> {
        let sql = format!("SELECT {ROW_COLUMNS} FROM run_rows WHERE run = ?1 ORDER BY row_no");
        self.query(&sql, [run], row_from_row)
            .map_err(|e| self.read_error(&e))
    }

    /// Every recorded row of a run, by row number, one at a time: `resume` streams a
    /// million-row run's outcomes into its spill without holding them all at once.
    pub fn each_row(&self, run: i64, mut f: impl FnMut(RowRecord) -> Result<()>) -> Result<()> {
        let sql = format!("SELECT {ROW_COLUMNS} FROM run_rows WHERE run = ?1 ORDER BY row_no");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.read_error(&e))?;
        let rows = stmt
            .query_map([run], row_from_row)
            .map_err(|e| self.read_error(&e))?;
        for r in rows {
            f(r.map_err(|e| self.read_error(&e))?)?;
        }
        Ok(())
    }

    /// Natural key → remote id for `scope`, learned from OK create/update/upsert/match
    /// outcomes of every run (latest wins); keys whose record was deleted (OK delete,
    /// or undone) are absent. Upsert and reference resolution start from this.
    pub fn known_ids(&self, scope: &Scope) -> Result<HashMap<String, String>> {
        let scope = StoredScope::from_scope(scope);
        let (target, base_url, database, entity) = scope.params();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT natural_key, remote_id FROM remote_ids
                 WHERE target = ?1 AND base_url = ?2 AND database_id = ?3 AND entity = ?4",
            )
            .map_err(|e| self.read_error(&e))?;
        let pairs = stmt
            .query_map(params![target, base_url, database, entity], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<HashMap<_, _>>>())
            .map_err(|e| self.read_error(&e))?;
        Ok(pairs)
    }

    /// The records a run created and that still exist: what `runs undo` deletes.
    pub fn created(&self, run: i64) -> Result<Vec<RowRecord>> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM run_rows
             WHERE run = ?1 AND sending = 0 AND status = 'OK' AND action = ?2
               AND remote_id IS NOT NULL AND undone = 0
             ORDER BY row_no"
        );
        self.query(&sql, params![run, Verb::Create.as_str()], row_from_row)
            .map_err(|e| self.read_error(&e))
    }

    /// Forget rows that were marked as being sent but never went out (a run stopped
    /// while they waited for a free slot), so that a resume sends them without a lookup.
    pub fn clear_sending(&mut self, run: i64, rows: &[u32]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut del =
                tx.prepare("DELETE FROM run_rows WHERE run = ?1 AND row_no = ?2 AND sending = 1")?;
            for &row in rows {
                del.execute(params![run, row])?;
            }
            Ok(())
        })
    }

    /// Mark rows whose created record `runs undo` deleted, and forget their ids from the
    /// key → id memory (only where the memory still maps to that id: a key re-created
    /// later keeps its newer id). Unknown row numbers are ignored.
    pub fn mark_undone(&mut self, run: i64, rows: &[u32]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let scope = self.stored_scope(run)?;
        let now = now();
        self.write(|tx| {
            let mut mark = tx.prepare(
                "UPDATE run_rows SET undone = 1, updated_at = ?3
                 WHERE run = ?1 AND row_no = ?2 RETURNING remote_id",
            )?;
            let mut forget = tx.prepare(
                "DELETE FROM remote_ids
                 WHERE target = ?1 AND base_url = ?2 AND database_id = ?3 AND entity = ?4
                   AND remote_id = ?5",
            )?;
            let (target, base_url, database, entity) = scope.params();
            for &row in rows {
                let id: Option<Option<String>> = mark
                    .query_row(params![run, row, now], |r| r.get(0))
                    .optional()?;
                if let Some(Some(id)) = id {
                    forget.execute(params![target, base_url, database, entity, id])?;
                }
            }
            Ok(())
        })
    }

    /// Close an undo: once nothing the run created is left (every created row undone),
    /// the run's state becomes [`RunState::Undone`] with the time, so `runs list` no
    /// longer calls it `completed`. Returns whether it did; a partly undone run keeps
    /// its state until a later `runs undo` deletes the rest.
    pub fn finish_undo(&mut self, run: i64) -> Result<bool> {
        self.require_run(run)?;
        let now = now();
        self.write(|tx| {
            let left: i64 = tx.query_row(
                "SELECT count(*) FROM run_rows
                 WHERE run = ?1 AND sending = 0 AND status = 'OK' AND action = ?2
                   AND remote_id IS NOT NULL AND undone = 0",
                params![run, Verb::Create.as_str()],
                |r| r.get(0),
            )?;
            let undone: i64 = tx.query_row(
                "SELECT count(*) FROM run_rows WHERE run = ?1 AND undone = 1",
                [run],
                |r| r.get(0),
            )?;
            if left > 0 || undone == 0 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE runs SET state = ?2, undone_at = coalesce(undone_at, ?3) WHERE id = ?1",
                params![run, RunState::Undone.as_str(), now],
            )?;
            Ok(true)
        })
    }

    /// Forget keys from the key → id memory of `scope`, e.g. when the target answers 404
    /// for an id the ledger remembered (the record was deleted outside sheetload).
    pub fn forget(&mut self, scope: &Scope, keys: &[String]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let scope = StoredScope::from_scope(scope);
        self.write(|tx| {
            let mut forget = tx.prepare(
                "DELETE FROM remote_ids
                 WHERE target = ?1 AND base_url = ?2 AND database_id = ?3 AND entity = ?4
                   AND natural_key = ?5",
            )?;
            let (target, base_url, database, entity) = scope.params();
            for key in keys {
                forget.execute(params![target, base_url, database, entity, key])?;
            }
            Ok(())
        })
    }

    /// Run `f` in one IMMEDIATE transaction (taking the write lock up front, so two
    /// processes wait for each other instead of failing half-way) and commit it.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let path = &self.path;
        let err = |e: rusqlite::Error| sql_error(path, Doing::Write, &e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let value = f(&tx).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(value)
    }

    fn query<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Vec<T>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(params, f)?;
        rows.collect()
    }

    fn read_error(&self, e: &rusqlite::Error) -> Error {
        sql_error(&self.path, Doing::Read, e)
    }

    /// A finished run keeps the counts stored when it finished; an unfinished one
    /// (possibly crashed, its stored counts stale) gets them from its rows.
    fn with_live_counts(&self, mut run: RunRecord) -> Result<RunRecord> {
        if run.finished_at.is_none() {
            run.counts = self
                .conn
                .query_row(SQL_COUNTS, [run.id], counts_from_row)
                .map_err(|e| self.read_error(&e))?;
        }
        Ok(run)
    }

    fn require_run(&self, run: i64) -> Result<()> {
        self.stored_scope(run).map(drop)
    }

    /// The scope of a stored run, as stored (base URL already normalised).
    fn stored_scope(&self, run: i64) -> Result<StoredScope> {
        self.conn
            .query_row(
                "SELECT target, base_url, database_id, entity FROM runs WHERE id = ?1",
                [run],
                |r| {
                    Ok(StoredScope {
                        target: r.get(0)?,
                        base_url: r.get(1)?,
                        database_id: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                        entity: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.read_error(&e))?
            .ok_or_else(|| {
                Error::usage(format!(
                    "run {run} is not in the run ledger at {}; `sheetload runs list` shows the runs it holds",
                    self.path.display()
                ))
            })
    }
}

/// A scope as the `remote_ids` table keys it: normalised base URL, no database as ''.
struct StoredScope {
    target: String,
    base_url: String,
    database_id: String,
    entity: String,
}

impl StoredScope {
    fn from_scope(scope: &Scope) -> Self {
        StoredScope {
            target: scope.target.to_string(),
            base_url: redact_base_url(&scope.base_url),
            database_id: scope.database_id.clone().unwrap_or_default(),
            entity: scope.entity.to_string(),
        }
    }

    fn params(&self) -> (&str, &str, &str, &str) {
        (
            &self.target,
            &self.base_url,
            &self.database_id,
            &self.entity,
        )
    }
}

/// What an OK outcome does to the key → id memory.
enum Memory {
    Remember,
    Forget,
    None,
}

fn memory_effect(action: Option<Verb>) -> Memory {
    match action {
        Some(Verb::Delete) => Memory::Forget,
        Some(v) if v.teaches_id() => Memory::Remember,
        _ => Memory::None,
    }
}

/// Now, as RFC 3339 UTC with milliseconds (sorts as text).
fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Create the home directory, private to the user on unix. An existing directory is
/// left as it is (the user may have chosen its permissions).
fn create_home(home: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(home).map_err(|e| {
        Error::output(format!(
            "cannot create the sheetload home directory {}: {}; set SHEETLOAD_HOME to a writable directory",
            home.display(),
            crate::input::io_reason(&e)
        ))
    })
}

/// Create the ledger file 0600 if it does not exist, so that it never exists, even
/// for an instant, with the umask's wider permissions.
fn create_private_file(path: &Path) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if path.is_dir() {
                Err(schema::not_ours(path))
            } else {
                Ok(())
            }
        }
        Err(e) => Err(Error::output(format!(
            "cannot create the run ledger at {}: {}; check the disk space and permissions of {} (SHEETLOAD_HOME)",
            path.display(),
            crate::input::io_reason(&e),
            dir_of(path).display()
        ))),
    }
}

fn dir_of(path: &Path) -> &Path {
    path.parent().unwrap_or(path)
}

/// Turn an SQLite failure into a message that says what failed, where, and what to do.
pub(crate) fn sql_error(path: &Path, doing: Doing, e: &rusqlite::Error) -> Error {
    let verb = match doing {
        Doing::Open => "open",
        Doing::Read => "read",
        Doing::Write => "write",
    };
    let dir = dir_of(path).display();
    if let rusqlite::Error::FromSqlConversionFailure(_, _, inner) = e {
        return Error::output(format!(
            "cannot {verb} the run ledger at {}: it holds a value this sheetload does not know \
             ({inner}); upgrade sheetload, or move the file away to start a new history",
            path.display()
        ));
    }
    let (reason, fix) = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => return schema::not_ours(path),
        Some(ErrorCode::DatabaseCorrupt) => (
            "the file is damaged".to_string(),
            "move it away (a new ledger will be created) or set SHEETLOAD_HOME to another directory"
                .to_string(),
        ),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => (
            "another sheetload process holds it".to_string(),
            "wait for that run to finish and try again".to_string(),
        ),
        Some(ErrorCode::DiskFull) => (
            "the disk is full".to_string(),
            format!("free some space on the disk holding {dir}"),
        ),
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => (
            "permission denied or the file cannot be opened".to_string(),
            format!("check the permissions of {dir} (SHEETLOAD_HOME)"),
        ),
        _ => (
            e.to_string(),
            format!("check the disk space and permissions of {dir} (SHEETLOAD_HOME)"),
        ),
    };
    Error::output(format!(
        "cannot {verb} the run ledger at {}: {reason}; {fix}",
        path.display()
    ))
}
