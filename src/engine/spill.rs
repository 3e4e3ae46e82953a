//! Every row's outcome, kept on disk rather than in memory while a run lasts: a
//! temporary SQLite file in the system temp folder, written by a thread of its own as
//! outcomes settle and read back in row order by the report stage and the browser's
//! result page. A million-row import then needs no more memory than a ten-thousand-row
//! one.
//!
//! The file holds exactly what the result workbook shows for each row — the outcome
//! columns and, for a dry run, the `_payload` with its secrets already masked — never a
//! password or a token. It is created readable by its owner only and deleted when the
//! run's [`Spill`] is dropped; one that a killed run left behind is swept by the next
//! run once its process is gone.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rusqlite::{Connection, params};

use crate::error::{Error, Result};
use crate::output::Status;
use crate::output::result::Outcome;
use crate::spec::Verb;

/// Outcomes handed to the writer thread at once: one transaction's worth at least.
const BATCH: usize = 512;
/// Batches queued for the writer before the dispatch loop waits for it (a bound on the
/// memory a slow disk can make the queue hold).
const QUEUED: usize = 64;

/// A set of row numbers, one bit per row: which rows already have an outcome from an
/// earlier attempt of a resumed run (125 KB for a million rows, not a map entry each).
#[derive(Debug, Default, Clone)]
pub struct RowSet {
    bits: Vec<u64>,
    len: usize,
}

impl RowSet {
    /// Add `row`.
    pub fn insert(&mut self, row: u32) {
        let (word, bit) = (row as usize / 64, row % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] & (1u64 << bit) == 0 {
            self.bits[word] |= 1u64 << bit;
            self.len += 1;
        }
    }

    /// Whether `row` was added.
    pub fn contains(&self, row: u32) -> bool {
        self.bits
            .get(row as usize / 64)
            .is_some_and(|w| w & (1u64 << (row % 64)) != 0)
    }

    /// How many rows were added.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The temporary file, deleted when dropped (after its connections are closed).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Why the spill could not be written, naming the file and the way out.
fn spill_error(path: &Path, doing: &str, e: impl std::fmt::Display) -> Error {
    Error::output(format!(
        "cannot {doing} the temporary outcome file {}: {e}; free some space there or point \
         TMPDIR (TEMP on Windows) to a folder with room, then resume the run",
        path.display()
    ))
}

/// How every spill's file name starts; the writing process's id follows.
const PREFIX: &str = "sheetload-outcomes-";

/// Delete the spills that killed runs left behind (their process is gone), so that a
/// `kill -9` does not leave outcomes in the temp folder for good; a spill whose process
/// lives is kept (see [`crate::os::process_alive`]).
fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !crate::os::process_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A new, empty spill file in the temp folder with a random name, readable by its owner
/// only, opened for fast throw-away writes (no journal, no syncs: it never outlives
/// the process that writes it).
fn create_file(dir: &Path) -> Result<(TempFile, Connection)> {
    sweep(dir);
    let name = format!(
        "{PREFIX}{}-{:016x}.sqlite",
        std::process::id(),
        fastrand::u64(..)
    );
    let path = dir.join(name);
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    open.open(&path)
        .map_err(|e| spill_error(&path, "create", e))?;
    let file = TempFile(path);
    let conn = Connection::open(&file.0).map_err(|e| spill_error(&file.0, "open", e))?;
    conn.execute_batch(
        "PRAGMA journal_mode = OFF;
         PRAGMA synchronous = OFF;
         CREATE TABLE outcome (
             row INTEGER PRIMARY KEY,
             status TEXT,
             action TEXT,
             id TEXT,
             http INTEGER,
             error TEXT NOT NULL,
             attempts INTEGER,
             payload TEXT,
             changes TEXT NOT NULL
         );",
    )
    .map_err(|e| spill_error(&file.0, "set up", e))?;
    Ok((file, conn))
}

/// One transaction's outcomes; a row given twice keeps the later outcome.
fn insert(conn: &mut Connection, rows: &[(u32, Outcome)]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare(
            "INSERT OR REPLACE INTO outcome
             (row, status, action, id, http, error, attempts, payload, changes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (row, o) in rows {
            stmt.execute(params![
                row,
                o.status.map(Status::as_str),
                o.action.map(Verb::as_str),
                o.id,
                o.http,
                o.error,
                o.attempts,
                o.payload,
                o.changes,
            ])?;
        }
    }
    tx.commit()
}

fn outcome_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<(u32, Outcome)> {
    let bad = |column: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into())
    };
    let status = match r.get::<_, Option<String>>(1)? {
        None => None,
        Some(w) => {
            Some(Status::from_word(&w).ok_or_else(|| bad(1, format!("unknown status `{w}`")))?)
        }
    };
    let action = match r.get::<_, Option<String>>(2)? {
        None => None,
        Some(w) => Some(w.parse::<Verb>().map_err(|e| bad(2, e.to_string()))?),
    };
    Ok((
        r.get(0)?,
        Outcome {
            status,
            action,
            id: r.get(3)?,
            http: r.get(4)?,
            error: r.get(5)?,
            attempts: r.get(6)?,
            payload: r.get(7)?,
            changes: r.get(8)?,
        },
    ))
}

/// Writes outcomes to the spill as they settle: they are gathered in batches and
/// committed by a thread of its own, so that the dispatch loop never waits on the disk
/// (unless the disk falls `QUEUED` batches behind).
pub struct SpillWriter {
    buf: Vec<(u32, Outcome)>,
    tx: Option<mpsc::SyncSender<Vec<(u32, Outcome)>>>,
    thread: Option<std::thread::JoinHandle<(Connection, Option<String>)>>,
    file: Option<TempFile>,
}

impl SpillWriter {
    /// A new spill in the system temp folder.
    pub fn create() -> Result<Self> {
        Self::create_in(&std::env::temp_dir())
    }

    /// A new spill in `dir`.
    pub fn create_in(dir: &Path) -> Result<Self> {
        let (file, mut conn) = create_file(dir)?;
        let (tx, rx) = mpsc::sync_channel::<Vec<(u32, Outcome)>>(QUEUED);
        let thread = std::thread::Builder::new()
            .name("sheetload-spill".into())
            .spawn(move || {
                let mut first_error = None;
                while let Ok(first) = rx.recv() {
                    let mut rows = first;
                    for more in rx.try_iter() {
                        rows.extend(more);
                    }
                    if first_error.is_none()
                        && let Err(e) = insert(&mut conn, &rows)
                    {
                        first_error = Some(e.to_string());
                    }
                }
                (conn, first_error)
            })
            .map_err(|e| spill_error(&file.0, "start the writer of", e))?;
        Ok(SpillWriter {
            buf: Vec::with_capacity(BATCH),
            tx: Some(tx),
            thread: Some(thread),
            file: Some(file),
        })
    }

    /// Keep `row`'s outcome (a row given again keeps the later one).
    pub fn push(&mut self, row: u32, outcome: Outcome) {
        self.buf.push((row, outcome));
        if self.buf.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let rows = std::mem::replace(&mut self.buf, Vec::with_capacity(BATCH));
        if let Some(tx) = &self.tx {
            // A writer that has stopped reports why when it is joined.
            let _ = tx.send(rows);
        }
    }

    /// Commit what is left and hand the spill over for reading. A write that failed is
    /// reported here, so that a result is never written from a spill missing outcomes.
    pub fn finish(mut self) -> Result<Spill> {
        self.flush();
        self.tx = None;
        let file = self
            .file
            .take()
            .ok_or_else(|| Error::output("the temporary outcome file was already closed"))?;
        let joined = self.thread.take().map(|t| t.join());
        match joined {
            Some(Ok((conn, None))) => Ok(Spill { conn, file }),
            Some(Ok((_, Some(e)))) => Err(spill_error(&file.0, "write", e)),
            _ => Err(spill_error(
                &file.0,
                "write",
                "its writer stopped unexpectedly",
            )),
        }
    }
}

impl Drop for SpillWriter {
    fn drop(&mut self) {
        // Close the writer's connection before the file is deleted.
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A run's outcomes on disk, for reading in row order; the file is deleted when this
/// is dropped.
pub struct Spill {
    conn: Connection,
    // Declared after `conn`: the connection is closed before the file is deleted.
    file: TempFile,
}

impl Spill {
    /// Where the file is (tests check that it goes away).
    pub fn path(&self) -> &Path {
        &self.file.0
    }

    /// Every outcome in ascending row order, one at a time: `f` gets each and says
    /// whether to go on.
    pub fn each(&self, mut f: impl FnMut(u32, Outcome) -> Result<bool>) -> Result<()> {
        let read = |e: rusqlite::Error| spill_error(&self.file.0, "read", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT row, status, action, id, http, error, attempts, payload, changes
                 FROM outcome ORDER BY row",
            )
            .map_err(read)?;
        let rows = stmt.query_map([], outcome_from).map_err(read)?;
        for r in rows {
            let (row, o) = r.map_err(read)?;
            if !f(row, o)? {
                break;
            }
        }
        Ok(())
    }

    /// Outcomes in ascending row order, pulled by a merge join: [`Cursor::take`] hands
    /// over the outcome of one row, skipping any row before it.
    pub fn cursor(&self) -> Result<Cursor<'_>> {
        let stmt = self
            .conn
            .prepare(
                "SELECT row, status, action, id, http, error, attempts, payload, changes
                 FROM outcome WHERE row >= ?1 ORDER BY row",
            )
            .map_err(|e| spill_error(&self.file.0, "read", e))?;
        Ok(Cursor {
            stmt,
            path: &self.file.0,
            page: std::collections::VecDeque::new(),
            next_row: 0,
            exhausted: false,
        })
    }
}

/// Rows a [`Cursor`] reads from the file at a time.
const PAGE: usize = 1024;

/// A forward-only reader of a [`Spill`] for a merge join with the input rows: both go
/// in ascending row order, and only one page of outcomes is in memory at a time.
pub struct Cursor<'s> {
    stmt: rusqlite::Statement<'s>,
    path: &'s Path,
    page: std::collections::VecDeque<(u32, Outcome)>,
    /// The first row the next page starts at.
    next_row: u64,
    exhausted: bool,
}

impl Cursor<'_> {
    /// The outcome of `row`, if it has one. Rows must be asked for in ascending order;
    /// outcomes of rows before `row` that were never asked for are passed over.
    pub fn take(&mut self, row: u32) -> Result<Option<Outcome>> {
        loop {
            while let Some((r, _)) = self.page.front() {
                if *r < row {
                    self.page.pop_front();
                } else if *r == row {
                    return Ok(self.page.pop_front().map(|(_, o)| o));
                } else {
                    return Ok(None);
                }
            }
            if self.exhausted {
                return Ok(None);
            }
            self.next_row = self.next_row.max(u64::from(row));
            self.fill()?;
        }
    }

    fn fill(&mut self) -> Result<()> {
        let path = self.path;
        let read = |e: rusqlite::Error| spill_error(path, "read", e);
        let rows = self
            .stmt
            .query_map([self.next_row as i64], outcome_from)
            .map_err(read)?;
        for r in rows.take(PAGE) {
            self.page.push_back(r.map_err(read)?);
        }
        match self.page.back() {
            Some((last, _)) if self.page.len() == PAGE => self.next_row = u64::from(*last) + 1,
            _ => self.exhausted = true,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(status: Status, error: &str) -> Outcome {
        Outcome {
            status: Some(status),
            action: Some(Verb::Create),
            id: Some(format!("id-{error}")),
            http: Some(201),
            error: error.into(),
            attempts: Some(2),
            payload: Some(format!("{{\"e\":\"{error}\"}}")),
            changes: format!("name: a → {error}"),
        }
    }

    #[test]
    fn outcomes_given_out_of_order_come_back_in_row_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpillWriter::create_in(dir.path()).unwrap();
        // More than a batch and more than a cursor page, in descending order.
        for row in (2..3000u32).rev() {
            w.push(row, outcome(Status::Ok, &row.to_string()));
        }
        w.push(7, outcome(Status::Failed, "again"));
        let spill = w.finish().unwrap();
        let mut seen = Vec::new();
        spill
            .each(|row, o| {
                seen.push((row, o));
                Ok(true)
            })
            .unwrap();
        assert_eq!(seen.len(), 2998);
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
        let (row, o) = &seen[5];
        assert_eq!(*row, 7);
        assert_eq!(o.status, Some(Status::Failed), "the later outcome wins");
        assert_eq!(o.error, "again");
        let (_, o) = &seen[0];
        assert_eq!(o.action, Some(Verb::Create));
        assert_eq!(o.id.as_deref(), Some("id-2"));
        assert_eq!(o.http, Some(201));
        assert_eq!(o.attempts, Some(2));
        assert_eq!(o.payload.as_deref(), Some("{\"e\":\"2\"}"));
        assert_eq!(o.changes, "name: a → 2");

        // The merge join: asked in ascending order, with gaps, across page ends.
        let mut c = spill.cursor().unwrap();
        assert!(c.take(1).unwrap().is_none());
        assert_eq!(c.take(2).unwrap().map(|o| o.error), Some("2".into()));
        assert_eq!(c.take(1500).unwrap().map(|o| o.error), Some("1500".into()));
        assert_eq!(c.take(2999).unwrap().map(|o| o.error), Some("2999".into()));
        assert!(c.take(3000).unwrap().is_none());
        drop(c);

        let path = spill.path().to_path_buf();
        assert!(path.exists());
        drop(spill);
        assert!(!path.exists(), "the spill is deleted with the run");
    }

    #[test]
    fn a_writer_dropped_unfinished_deletes_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpillWriter::create_in(dir.path()).unwrap();
        w.push(2, outcome(Status::Ok, "x"));
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn the_spill_of_a_process_that_is_gone_is_swept() {
        let dir = tempfile::tempdir().unwrap();
        // Beyond the largest process id Linux or Windows hands out.
        let gone = dir.path().join(format!("{PREFIX}99999999-0.sqlite"));
        let mine = dir
            .path()
            .join(format!("{PREFIX}{}-1.sqlite", std::process::id()));
        let other = dir.path().join("sheetload-outcomes.txt");
        for f in [&gone, &mine, &other] {
            std::fs::write(f, b"").unwrap();
        }
        let w = SpillWriter::create_in(dir.path()).unwrap();
        assert!(!gone.exists(), "the spill of a gone process is swept");
        assert!(mine.exists() && other.exists());
        drop(w);
    }

    #[test]
    fn a_row_set_holds_sparse_rows() {
        let mut s = RowSet::default();
        assert!(s.is_empty());
        for row in [2, 63, 64, 1_048_576] {
            s.insert(row);
        }
        s.insert(64);
        assert_eq!(s.len(), 4);
        assert!(s.contains(2) && s.contains(63) && s.contains(64) && s.contains(1_048_576));
        assert!(!s.contains(3) && !s.contains(65) && !s.contains(u32::MAX));
    }
}
