//! A dry run or import started from the browser: the engine's run on a thread and
//! runtime of its own (as the CLI runs it), an observer counting its events for the
//! live page, the Stop handle (Ctrl-C's meaning), and the result workbook written by
//! the engine's own report stage — the very file the CLI writes.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::engine::events::{Event, Observer};
use crate::engine::report::write;
use crate::engine::{self, Config, Stop};
use crate::error::Result;
use crate::output::Status;
use crate::ui::{Printer, thousands};

/// One row of a finished run, as the Dry run and Results pages list it.
#[derive(Debug, Clone)]
pub struct RowLine {
    /// Input row.
    pub row: u32,
    /// `_status`.
    pub status: String,
    /// `_action`.
    pub action: String,
    /// `_id`.
    pub id: String,
    /// `_changes`: old → new.
    pub changes: String,
    /// `_error`.
    pub error: String,
}

/// What a finished run left.
#[derive(Debug, Clone)]
pub struct Done {
    /// The ledger's run (none for a dry run).
    pub run_id: Option<i64>,
    /// The result workbook.
    pub result: PathBuf,
    /// Summary lines.
    pub lines: Vec<String>,
    /// Dry run: every row's plan; import: the rows that did not succeed (the first
    /// [`LISTED`] in row order: the page stays small, the workbook has them all).
    pub rows: Vec<RowLine>,
    /// Rows like those of `rows` left out of it.
    pub more: u64,
    /// Rows that failed, were invalid or unknown.
    pub bad: u64,
    /// Stopped before every row was sent.
    pub interrupted: bool,
}

/// Rows a finished run's page lists at most.
pub const LISTED: usize = 2000;

/// The rows the page lists, read from the run's spill in row order: a dry run's every
/// row, an import's rows that did not succeed; the first [`LISTED`] of them, and how many
/// more there are. Only those are kept, however many rows the run had.
fn listed(spill: &crate::engine::spill::Spill, dry_run: bool) -> Result<(Vec<RowLine>, u64)> {
    let mut rows = Vec::new();
    let mut more = 0u64;
    spill.each(|row, o| {
        if !dry_run && !o.status.is_some_and(|s| s.is_failure()) {
            return Ok(true);
        }
        if rows.len() == LISTED {
            more += 1;
            return Ok(true);
        }
        rows.push(RowLine {
            row,
            status: o.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
            action: o.action.map(|a| a.as_str()).unwrap_or_default().to_owned(),
            id: o.id.unwrap_or_default(),
            changes: o.changes,
            error: o.error,
        });
        Ok(true)
    })?;
    Ok((rows, more))
}

/// A run in progress or finished.
pub struct Job {
    /// Plan only.
    pub dry_run: bool,
    /// Stop: requests in flight finish, nothing more is sent, resumable.
    pub stop: Stop,
    total: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    done: AtomicU64,
    started: Instant,
    end: Mutex<Option<std::result::Result<Done, String>>>,
}

/// Progress as the live page shows it.
#[derive(serde::Serialize)]
pub struct Progress {
    /// Rows settled.
    pub done: u64,
    /// Rows in all, when known.
    pub total: Option<u64>,
    /// OK, skipped or valid.
    pub ok: u64,
    /// Failed, invalid or unknown.
    pub failed: u64,
    /// `123 rows/s`.
    pub rate: String,
    /// `0:42`.
    pub eta: String,
    /// `running`, `stopping`, `finished`.
    pub state: &'static str,
}

impl Job {
    /// The live counts.
    pub fn progress(&self) -> Progress {
        let done = self.done.load(Ordering::Relaxed);
        let total = match self.total.load(Ordering::Relaxed) {
            u64::MAX => None,
            t => Some(t),
        };
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = done as f64 / secs;
        let eta = match total {
            Some(t) if rate > 0.0 && t >= done => {
                let s = ((t - done) as f64 / rate) as u64;
                format!("{}:{:02}", s / 60, s % 60)
            }
            _ => "–".into(),
        };
        Progress {
            done,
            total,
            ok: self.ok.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            rate: format!("{} rows/s", thousands(rate.round() as u64)),
            eta,
            state: if self.finished() {
                "finished"
            } else if self.stop.is_interrupted() {
                "stopping: requests in flight finish"
            } else {
                "running"
            },
        }
    }

    /// Whether the run has ended (its result written or its error known).
    pub fn finished(&self) -> bool {
        self.end.lock().map(|e| e.is_some()).unwrap_or(true)
    }

    /// How it ended, once it has.
    pub fn end(&self) -> Option<std::result::Result<Done, String>> {
        self.end.lock().ok().and_then(|e| e.clone())
    }
}

/// The engine's events, counted.
struct Counter(Arc<Job>);

impl Observer for Counter {
    fn event(&mut self, event: Event<'_>) {
        let j = &self.0;
        match event {
            Event::Started { total, .. } => {
                j.total.store(total.unwrap_or(u64::MAX), Ordering::Relaxed)
            }
            Event::Settled { outcome, .. } => {
                let bad = outcome.status.is_some_and(|s| s.is_failure());
                if bad { &j.failed } else { &j.ok }.fetch_add(1, Ordering::Relaxed);
                j.done.fetch_add(1, Ordering::Relaxed);
            }
            Event::AlreadyDone { .. } => {
                j.done.fetch_add(1, Ordering::Relaxed);
                j.ok.fetch_add(1, Ordering::Relaxed);
            }
            Event::Finished => {}
        }
    }
}

/// Start `cfg` (resuming `resume_of`) on its own thread.
pub fn start(cfg: Config, resume_of: Option<i64>) -> Arc<Job> {
    let job = Arc::new(Job {
        dry_run: cfg.dry_run,
        stop: Stop::with_limit(cfg.max_errors),
        total: AtomicU64::new(u64::MAX),
        ok: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        done: AtomicU64::new(0),
        started: Instant::now(),
        end: Mutex::new(None),
    });
    let j = job.clone();
    std::thread::spawn(move || {
        let out = crate::connection::runtime()
            .and_then(|rt| rt.block_on(run(j.clone(), cfg, resume_of)))
            .map_err(|e| match e {
                // The terminal's refusal names flags and commands; the page says it plainly.
                crate::error::Error::Busy { plain, .. } => plain,
                e => e.to_string(),
            });
        if let Ok(mut end) = j.end.lock() {
            *end = Some(out);
        }
    });
    job
}

async fn run(job: Arc<Job>, mut cfg: Config, resume_of: Option<i64>) -> Result<Done> {
    let ui = Printer {
        quiet: true,
        json: false,
    };
    if cfg.dry_run {
        cfg.base = engine::prepare::keep_real_result(&cfg.base, &ui);
    }
    let started = Instant::now();
    let prepared = engine::prepare::with_key(
        engine::prepare::prepare(&cfg.base, &ui)?,
        cfg.key.as_deref(),
        cfg.group_by.as_deref(),
    )?;
    let target = crate::targets::get(prepared.spec.target);
    let mut counter = Counter(job.clone());
    let ran = engine::run(
        target,
        &cfg,
        &prepared,
        resume_of,
        job.stop.clone(),
        &mut counter,
        &ui,
    )
    .await?;
    let finished = ran.finished(&cfg, &prepared, started);
    let spill = ran.spill()?;
    let written = write(&finished, spill)?;
    let t = &written.tally;
    let n = thousands;
    let mut lines = vec![if cfg.dry_run {
        format!(
            "dry run — nothing was sent: {} rows: {}",
            n(t.total),
            t.would_line()
        )
    } else {
        format!(
            "{} rows → {}: {} OK, {} skipped, {} invalid, {} failed, {} unknown, {} not sent",
            n(t.total),
            crate::targets::destination(prepared.spec.target, &ran.database),
            n(t.of(Status::Ok)),
            n(t.of(Status::Skipped)),
            n(t.of(Status::Invalid)),
            n(t.of(Status::Failed)),
            n(t.of(Status::Unknown)),
            n(t.of(Status::NotSent))
        )
    }];
    for (count, what) in t.groups().iter().take(10) {
        lines.push(format!(
            "{}: {what}",
            crate::ui::count(*count as u64, "row")
        ));
    }
    if let Some(why) = &written.fell_back {
        lines.push(format!(
            "{why}; the result was written to {} instead",
            written.path.display()
        ));
    }
    if let Some(p) = &ran.problem {
        lines.push(format!("problem: {p}"));
    }
    if let (crate::ledger::RunState::Interrupted, Some(id)) = (ran.state, ran.run_id) {
        // The Stop button means what Ctrl-C means on a terminal; say which it was.
        let why = ran
            .stop_reason
            .as_deref()
            .unwrap_or("stopped early")
            .replace("(Ctrl-C)", "(Stop)");
        lines.push(format!(
            "run {id} {why}; Resume (History) or `sheetload resume {id}` sends the rest"
        ));
    }
    let (rows, more) = listed(spill, cfg.dry_run)?;
    let bad = t.of(Status::Invalid) + t.of(Status::Failed) + t.of(Status::Unknown);
    Ok(Done {
        run_id: ran.run_id,
        result: written.path,
        lines,
        rows,
        more,
        bad,
        interrupted: ran.interrupted,
    })
}
