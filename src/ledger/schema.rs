//! The ledger's schema and how an existing file is recognised and migrated forward.
//!
//! The file is stamped with an SQLite `application_id` so that pointing `SHEETLOAD_HOME`
//! at a directory holding some other database is refused instead of altered, and with
//! `user_version` so that each sheetload applies only the migrations the file lacks and
//! refuses a file written by a newer sheetload rather than misreading it.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::{Doing, sql_error};
use crate::error::{Error, Result};

/// `SHLD` in ASCII: marks the file as a sheetload ledger in its SQLite header.
pub(super) const APPLICATION_ID: i32 = 0x5348_4C44;

/// How long a writer waits for another sheetload process holding the ledger.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Migration `i` takes a file from version `i` to version `i + 1`. Append only: a
/// published migration is never edited, because files out there already ran it.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4];

/// The schema version this build writes.
pub(super) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 1. `run_rows` holds one row per (run, input row), upserted as the row moves
/// from `sending` to its outcome. `remote_ids` is the natural key → remote id memory,
/// maintained by `record` and `mark_undone` so that a lookup never scans the history.
/// No table holds payloads or credentials.
const V1: &str = "
CREATE TABLE runs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at        TEXT    NOT NULL,
    finished_at       TEXT,
    state             TEXT    NOT NULL,
    target            TEXT    NOT NULL,
    base_url          TEXT    NOT NULL,
    database_id       TEXT,
    database_name     TEXT,
    entity            TEXT    NOT NULL,
    mode              TEXT    NOT NULL,
    input_path        TEXT    NOT NULL,
    input_fingerprint TEXT    NOT NULL,
    sheet             TEXT,
    config_json       TEXT    NOT NULL,
    total_rows        INTEGER NOT NULL,
    n_ok              INTEGER NOT NULL DEFAULT 0,
    n_failed          INTEGER NOT NULL DEFAULT 0,
    n_invalid         INTEGER NOT NULL DEFAULT 0,
    n_skipped         INTEGER NOT NULL DEFAULT 0,
    n_unknown         INTEGER NOT NULL DEFAULT 0,
    n_sending         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_state ON runs (state, id);

CREATE TABLE run_rows (
    run          INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    row_no       INTEGER NOT NULL,
    natural_key  TEXT,
    action       TEXT    NOT NULL,
    sending      INTEGER NOT NULL CHECK (sending IN (0, 1)),
    status       TEXT,
    remote_id    TEXT,
    http         INTEGER,
    error        TEXT    NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    payload_hash TEXT,
    undone       INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1)),
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (run, row_no),
    CHECK (sending = 1 OR status IS NOT NULL)
) WITHOUT ROWID;

CREATE TABLE remote_ids (
    target      TEXT    NOT NULL,
    base_url    TEXT    NOT NULL,
    database_id TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    natural_key TEXT    NOT NULL,
    remote_id   TEXT    NOT NULL,
    run         INTEGER NOT NULL,
    row_no      INTEGER NOT NULL,
    updated_at  TEXT    NOT NULL,
    PRIMARY KEY (target, base_url, database_id, entity, natural_key)
) WITHOUT ROWID;
CREATE INDEX remote_ids_by_id ON remote_ids (target, base_url, database_id, entity, remote_id);
";

/// Version 2. `runs.undone_at`: when `runs undo` deleted the last record a run created
/// (its state is then `undone`). Version 1 files gain the column, empty, and read as before.
const V2: &str = "
ALTER TABLE runs ADD COLUMN undone_at TEXT;
";

/// Version 3. `run_leases`: the run lock, one row per scope (target, server, database,
/// entity) that a run is writing to, naming its holder (see `lease.rs`). Empty when no
/// run is going; a row a killed run left is taken over by the next one.
const V3: &str = "
CREATE TABLE run_leases (
    target       TEXT    NOT NULL,
    base_url     TEXT    NOT NULL,
    database_id  TEXT    NOT NULL,
    entity       TEXT    NOT NULL,
    run          INTEGER,
    pid          INTEGER NOT NULL,
    host         TEXT    NOT NULL,
    token        TEXT    NOT NULL,
    started_at   TEXT    NOT NULL,
    heartbeat_at TEXT    NOT NULL,
    PRIMARY KEY (target, base_url, database_id, entity)
) WITHOUT ROWID;
";

/// Version 4. `run_leases.pid_started`: when the holder's process started (see
/// `os::process_started`), so that a live process on this computer is never taken over
/// for a late heartbeat, yet a pid reused by another program is. Empty where the OS does
/// not tell, and for leases of version 3 (those fall back to the heartbeat's age).
const V4: &str = "
ALTER TABLE run_leases ADD COLUMN pid_started INTEGER;
";

/// The schema as text, for the report and for anyone reading the file by hand.
#[cfg(test)]
pub(super) fn schema_sql() -> &'static str {
    V1
}

/// Configure a freshly opened connection, check the file is ours, and migrate it.
/// Nothing is written to a file that turns out not to be a sheetload ledger.
pub(super) fn prepare(conn: &mut Connection, path: &Path) -> Result<()> {
    let err = |e: rusqlite::Error| sql_error(path, Doing::Open, &e);
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    check_identity(conn, path)?;
    // WAL lets `runs list` read while an import writes; NORMAL keeps each commit free of
    // fsync (a power cut may lose the last commits, a killed process loses nothing).
    conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get::<_, String>(0))
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(err)?;
    migrate(conn, path)
}

/// Refuse a file that is some other program's database, or a newer sheetload's ledger.
fn check_identity(conn: &Connection, path: &Path) -> Result<()> {
    let err = |e: rusqlite::Error| sql_error(path, Doing::Open, &e);
    let app: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(err)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err)?;
    if app == 0 && version == 0 {
        let objects: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(err)?;
        if objects == 0 {
            return Ok(()); // a new, empty file
        }
    }
    if app != APPLICATION_ID {
        return Err(not_ours(path));
    }
    if version > VERSION {
        return Err(Error::output(format!(
            "the run ledger at {} was written by a newer sheetload (schema version {version}, \
             this one knows up to {VERSION}); upgrade sheetload or set SHEETLOAD_HOME to another directory",
            path.display()
        )));
    }
    Ok(())
}

/// The error for a file that is not a sheetload ledger.
pub(super) fn not_ours(path: &Path) -> Error {
    Error::output(format!(
        "{} is not a sheetload run ledger; move it away (a new ledger will be created) \
         or set SHEETLOAD_HOME to another directory",
        path.display()
    ))
}

/// Apply the missing migrations in one transaction, re-reading the version inside it
/// so that two processes opening a new ledger at once migrate it once.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let err = |e: rusqlite::Error| sql_error(path, Doing::Open, &e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err)?;
    if version >= VERSION {
        return Ok(()); // dropping the transaction rolls it back; nothing was written
    }
    for sql in MIGRATIONS
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.execute_batch(sql).map_err(err)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(err)?;
    tx.pragma_update(None, "user_version", VERSION)
        .map_err(err)?;
    tx.commit().map_err(err)
}
