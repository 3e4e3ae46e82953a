//! Rows of the ledger's tables read back into their types, and the conversions the
//! columns need.

use super::{Counts, RowRecord, RunRecord, RunState};
use crate::output::Status;
use crate::spec::Verb;

/// The inverse of [`Status::as_str`], for reading the ledger back (which never holds
/// NOT SENT: a row not sent has no ledger row).
pub(super) fn status_from_str(word: &str) -> Option<Status> {
    Status::from_word(word).filter(|s| *s != Status::NotSent)
}

pub(super) fn serialize_status<S: serde::Serializer>(
    status: &Option<Status>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match status {
        Some(st) => s.serialize_str(st.as_str()),
        None => s.serialize_none(),
    }
}

/// A value in the file that this build cannot read (written by a newer sheetload, or
/// edited by hand).
pub(super) fn bad_value(column: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into())
}

/// A word column read back into its type: a word this build does not know is a clear
/// error, never a silent default.
fn word<T: std::str::FromStr>(r: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = r.get(column)?;
    text.parse::<T>()
        .map_err(|e| bad_value(column, e.to_string()))
}

/// The action column: empty for a row settled without one (older ledgers).
fn verb(r: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<Option<Verb>> {
    let text: String = r.get(column)?;
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<Verb>()
        .map(Some)
        .map_err(|e| bad_value(column, e.to_string()))
}

pub(super) fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let state: String = r.get(3)?;
    let state = state
        .parse::<RunState>()
        .map_err(|_| bad_value(3, format!("unknown run state `{state}`")))?;
    Ok(RunRecord {
        id: r.get(0)?,
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        state,
        target: word(r, 4)?,
        base_url: r.get(5)?,
        database_id: r.get(6)?,
        database_name: r.get(7)?,
        entity: word(r, 8)?,
        mode: word(r, 9)?,
        input_path: r.get(10)?,
        input_fingerprint: r.get(11)?,
        sheet: r.get(12)?,
        config_json: r.get(13)?,
        total_rows: to_u64(r.get(14)?),
        counts: Counts {
            ok: to_u64(r.get(15)?),
            failed: to_u64(r.get(16)?),
            invalid: to_u64(r.get(17)?),
            skipped: to_u64(r.get(18)?),
            unknown: to_u64(r.get(19)?),
            sending: to_u64(r.get(20)?),
        },
        undone_at: r.get(21)?,
    })
}

pub(super) fn row_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RowRecord> {
    let status = match r.get::<_, Option<String>>(4)? {
        None => None,
        Some(word) => Some(
            status_from_str(&word)
                .ok_or_else(|| bad_value(4, format!("unknown status `{word}`")))?,
        ),
    };
    Ok(RowRecord {
        row: r.get(0)?,
        key: r.get(1)?,
        action: verb(r, 2)?,
        sending: r.get(3)?,
        status,
        remote_id: r.get(5)?,
        http: r.get(6)?,
        error: r.get(7)?,
        attempts: r.get(8)?,
        payload_hash: r.get(9)?,
        undone: r.get(10)?,
    })
}

pub(super) fn counts_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Counts> {
    Ok(Counts {
        ok: to_u64(r.get(0)?),
        failed: to_u64(r.get(1)?),
        invalid: to_u64(r.get(2)?),
        skipped: to_u64(r.get(3)?),
        unknown: to_u64(r.get(4)?),
        sending: to_u64(r.get(5)?),
    })
}

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
