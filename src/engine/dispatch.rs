//! The one dispatch loop, whatever the target: rows are read, validated and planned in
//! sheet order; jobs are queued up to one window ahead of the requests in flight, each
//! marked *sending* in the ledger before its request leaves; outcomes are committed as
//! they settle; Ctrl-C and `--max-errors` stop the sending, never the accounting.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::Method;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinSet;

use super::events::{Event, Observer};
use super::job::{Job, RowPlanner, Step};
use super::ledger_writer::LedgerMsg;
use super::spill::{RowSet, SpillWriter};
use crate::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::input::Table;
use crate::ledger::{self, PendingRow, RowOutcome};
use crate::output::Status;
use crate::output::result::Outcome;
use crate::payload::Action;
use crate::spec::Verb;
use crate::validate::Validator;

/// Why the run stops sending: Ctrl-C, `--max-errors` failed sends, or the API's quota
/// spent (the run parks). Requests in flight finish either way; rows not yet sent are
/// reported NOT SENT, and `resume` sends them.
#[derive(Clone, Default)]
pub struct Stop {
    /// Ctrl-C (or the browser's Stop): stop reading rows too.
    pub interrupted: Arc<AtomicBool>,
    /// Stop sending (Ctrl-C or the error limit); checked by every task before it sends.
    pub sending: Arc<AtomicBool>,
    /// Failed or unknown sends so far.
    failures: Arc<AtomicU64>,
    /// `--max-errors`.
    pub limit: Option<u64>,
    /// The API's daily quota as the run learns it; once spent, the run parks.
    pub quota: Arc<crate::dispatch::Quota>,
    /// Listen for Ctrl-C once sending begins (the terminal's front end): before then a
    /// Ctrl-C at a password or confirmation prompt ends the process as usual.
    pub ctrl_c: bool,
}

impl Stop {
    /// A stop that triggers after `limit` failed sends, if given.
    pub fn with_limit(limit: Option<u64>) -> Self {
        Stop {
            limit,
            ..Stop::default()
        }
    }

    /// Ctrl-C (SIGINT) or SIGTERM stops the run like [`Stop::interrupt`] once dispatch
    /// begins; a second one ends the process at once.
    pub fn on_ctrl_c(mut self) -> Self {
        self.ctrl_c = true;
        self
    }

    /// Start listening for Ctrl-C and SIGTERM, if asked for; called as the dispatch
    /// loop starts.
    pub(crate) fn arm(&self) {
        if !self.ctrl_c {
            return;
        }
        let stop = self.clone();
        super::signals::watch(move || stop.interrupt());
    }

    /// Stop as Ctrl-C does: requests in flight finish, nothing more is sent.
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        self.sending.store(true, Ordering::SeqCst);
    }

    /// Whether Ctrl-C (or Stop) was asked for.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// Whether sending has stopped, for any reason.
    pub fn stopped(&self) -> bool {
        self.sending.load(Ordering::SeqCst) || self.parked().is_some()
    }

    /// When the API's quota resets, if the run parked for it.
    pub fn parked(&self) -> Option<std::time::SystemTime> {
        self.quota.parked()
    }

    /// Count a send's outcome; at the limit, stop sending.
    fn count(&self, done: &Outcome) {
        if matches!(done.status, Some(Status::Failed | Status::Unknown)) {
            let n = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
            if self.limit.is_some_and(|m| n >= m) {
                self.sending.store(true, Ordering::SeqCst);
            }
        }
    }

    /// Why rows were left unsent, if they were.
    pub fn reason(&self) -> Option<String> {
        if self.is_interrupted() {
            Some("interrupted (Ctrl-C)".into())
        } else if let Some(at) = self.parked() {
            Some(format!(
                "parked: the API's quota is spent until {}",
                super::quota::reset_text(at)
            ))
        } else if self.stopped() {
            self.limit.map(|m| {
                format!(
                    "--max-errors {m} reached ({} failed sends)",
                    self.failures.load(Ordering::SeqCst)
                )
            })
        } else {
            None
        }
    }
}

/// The rows of a run that have an outcome, and where each outcome goes as it settles:
/// the ledger (committed in batches on its own thread), the observer (progress), the
/// spill the result workbook is written from (on disk, so that memory stays flat
/// however many rows the run has).
pub struct Settled<'o> {
    /// Rows an earlier attempt of a resumed run settled: passed over, not sent again.
    pub done_before: RowSet,
    /// Every outcome of the run, `_payload` included for a dry run.
    pub spill: SpillWriter,
    /// The ledger thread, unless a dry run.
    pub ledger: Option<mpsc::Sender<LedgerMsg>>,
    /// Who watches the run.
    pub observer: &'o mut dyn Observer,
    /// When the first row's job was handed to the request slots (its request goes out
    /// then, or as soon as the rate limit lets it).
    pub first_sent: Option<Instant>,
    /// When the last outcome settled.
    pub last_settled: Option<Instant>,
}

impl Settled<'_> {
    /// A row's outcome: to the ledger, the observer and the result.
    pub fn settle(&mut self, row: u32, key: Option<String>, o: Outcome) {
        self.settle_all(vec![(row, key, o)]);
    }

    /// The outcomes of rows that belong together (an order's lines): committed to the
    /// ledger in one transaction, so that a crash never leaves a record half settled.
    pub fn settle_all(&mut self, rows: Vec<(u32, Option<String>, Outcome)>) {
        if let Some(tx) = &self.ledger {
            let records: Vec<RowOutcome> = rows
                .iter()
                .filter_map(|(row, key, o)| row_outcome(*row, key.clone(), o))
                .collect();
            if !records.is_empty() {
                let _ = tx.send(LedgerMsg::Done(records));
            }
        }
        self.last_settled = Some(Instant::now());
        for (row, _, o) in rows {
            self.observer.event(Event::Settled { row, outcome: &o });
            self.spill.push(row, o);
        }
    }
}

/// The ledger's record of a row's outcome; `None` while it has no status. What the
/// ledger does not keep (`_payload`, `_changes`) is left out of it.
fn row_outcome(row: u32, key: Option<String>, o: &Outcome) -> Option<RowOutcome> {
    o.status?;
    Some(RowOutcome {
        row,
        key,
        outcome: Outcome {
            payload: None,
            changes: String::new(),
            ..o.clone()
        },
    })
}

/// Where a job waits in its sequence: it starts when the job before it has settled, and
/// signals the job after it when it has.
struct Turn {
    after: Option<oneshot::Receiver<()>>,
    done: oneshot::Sender<()>,
}

/// What the loop needs besides the planner.
pub struct Loop<'a> {
    /// The input.
    pub table: &'a Table,
    /// Validates each row.
    pub validator: &'a Validator<'a>,
    /// Signed-in requests, shared limiter and policy.
    pub ctx: Arc<Ctx>,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Plan only: nothing is sent.
    pub dry_run: bool,
    /// Leave out rows whose `_status` column says UNKNOWN (a retried Failed sheet).
    pub skip_unknown: bool,
    /// Ctrl-C and the error limit.
    pub stop: Stop,
    /// Rows that were being sent when an earlier attempt of this run stopped, with
    /// their key: they may have landed, so they are reconciled before anything else.
    pub in_flight_before: HashMap<u32, Option<String>>,
    /// A problem that ended reading early (the input changed mid-run).
    pub problem: Option<String>,
}

impl Loop<'_> {
    /// Read, validate, plan and send every row; returns when every request has settled.
    pub async fn run(
        &mut self,
        planner: &mut dyn RowPlanner,
        settled: &mut Settled<'_>,
    ) -> Result<()> {
        let mut sender = Sender::new(self.concurrency.max(1));
        let status_column = self.table.headers.iter().position(|h| h == "_status");
        let mut steps = Vec::new();
        let mut rows = self.table.rows()?;
        loop {
            if self.stop.is_interrupted() {
                break;
            }
            let raw = match rows.next() {
                None => break,
                Some(Ok(raw)) => raw,
                Some(Err(e)) => {
                    self.problem = Some(e.to_string());
                    break;
                }
            };
            let number = raw.number;
            if settled.done_before.contains(number) {
                settled.observer.event(Event::AlreadyDone { row: number });
                continue;
            }
            if self.skip_unknown
                && status_column.is_some_and(|c| raw.cells[c].text.trim() == "UNKNOWN")
            {
                let o = Outcome {
                    status: Some(Status::Skipped),
                    action: Some(Verb::Skip),
                    error: "left out: its earlier outcome is unknown; check it on the target, then retry with --include-unknown".into(),
                    ..Outcome::default()
                };
                settled.settle(number, None, o);
                continue;
            }
            let res = self.validator.validate(&raw);
            planner.row(&raw, res, &mut steps);
            for step in steps.drain(..) {
                self.take(step, planner, settled, &mut sender).await?;
            }
        }
        drop(rows);
        if !self.stop.is_interrupted() {
            planner.finish(&mut steps);
            for step in steps.drain(..) {
                self.take(step, planner, settled, &mut sender).await?;
            }
        }
        while let Some(joined) = sender.tasks.join_next().await {
            settle_joined(planner, settled, joined);
        }
        Ok(())
    }

    /// One step: settle it, or send it (a dry run only shows it).
    async fn take(
        &mut self,
        step: Step,
        planner: &mut dyn RowPlanner,
        settled: &mut Settled<'_>,
        sender: &mut Sender,
    ) -> Result<()> {
        let job = match step {
            Step::Settle { row, key, outcome } => {
                settled.settle(row, key, outcome);
                return Ok(());
            }
            Step::SettleAll(rows) => {
                settled.settle_all(rows);
                return Ok(());
            }
            Step::Send(job) => job,
        };
        if self.dry_run {
            settle_job(settled, &job, dry_outcome(&job));
            return Ok(());
        }
        if let Some(o) = self.reconcile(&job).await {
            settle_job(settled, &job, o);
            return Ok(());
        }
        if let Action::Skip { id, reason } = &job.action {
            let o = Outcome {
                status: Some(Status::Skipped),
                action: Some(Verb::Skip),
                id: id.clone(),
                error: [reason.as_str(), job.note.as_str()]
                    .into_iter()
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
                    .join("; "),
                ..Outcome::default()
            };
            settle_job(settled, &job, o);
            return Ok(());
        }
        if self.stop.stopped() {
            // The error limit was reached: the rest is validated, not sent.
            return Ok(());
        }
        sender.send(job, &self.ctx, &self.stop, settled).await?;
        while let Some(joined) = sender.tasks.try_join_next() {
            settle_joined(planner, settled, joined);
        }
        Ok(())
    }

    /// A job whose rows were in flight when an earlier attempt of this run stopped may
    /// have landed: a create is looked up by its key (without one it stays UNKNOWN
    /// rather than risk a duplicate); a change is idempotent and simply sent again.
    /// `None`: send it normally.
    async fn reconcile(&mut self, job: &Job) -> Option<Outcome> {
        let mut prior = None;
        let mut was = false;
        for row in &job.rows {
            if let Some(k) = self.in_flight_before.remove(row) {
                was = true;
                prior = prior.or(k);
            }
        }
        if !was {
            return None;
        }
        let outcome = |status, id, error: String| Outcome {
            status: Some(status),
            action: Some(Verb::Create),
            id,
            error,
            attempts: Some(1),
            ..Outcome::default()
        };
        match (&job.action, &job.request) {
            // Its create landed before the stop: the plan already found it.
            (Action::Skip { id: Some(id), .. }, _) => Some(outcome(
                Status::Ok,
                Some(id.clone()),
                "was being sent when the run stopped; found on the server, so it was created"
                    .into(),
            )),
            (Action::Create, Some(request)) => {
                let Some(k) = job.lookup.clone() else {
                    return Some(outcome(
                        Status::Unknown,
                        None,
                        "was being sent when the run stopped; without a natural key it cannot be looked up: check on the target before sending it again".into(),
                    ));
                };
                match self.ctx.find_by_key(&request.path, &k).await {
                    Ok(Some(rec)) => Some(outcome(
                        Status::Ok,
                        crate::connector::parse::record_id(&rec),
                        format!(
                            "was being sent when the run stopped; found {} {} on the server",
                            k.field, k.value
                        ),
                    )),
                    Ok(None) => None,
                    Err(e) => Some(outcome(
                        Status::Unknown,
                        None,
                        format!(
                            "was being sent when the run stopped, and looking it up failed ({e})"
                        ),
                    )),
                }
            }
            _ => None,
        }
    }
}

/// The tasks in flight and the windows that bound them.
struct Sender {
    /// Requests in flight.
    permits: Arc<Semaphore>,
    /// Jobs queued, one window ahead of the requests in flight.
    queue: Arc<Semaphore>,
    /// Jobs waiting for their turn in a sequence hold no slot of the window.
    backlog: Arc<Semaphore>,
    /// The last job of each sequence.
    tails: HashMap<String, oneshot::Receiver<()>>,
    /// Says when the job queued last has taken its slot: jobs take slots in sheet
    /// order (at `--concurrency 1` they are sent exactly in sheet order).
    last_in_line: Option<oneshot::Receiver<()>>,
    tasks: JoinSet<(Job, Outcome)>,
}

impl Sender {
    fn new(concurrency: usize) -> Self {
        Sender {
            permits: Arc::new(Semaphore::new(concurrency)),
            queue: Arc::new(Semaphore::new(2 * concurrency)),
            backlog: Arc::new(Semaphore::new(10_000)),
            tails: HashMap::new(),
            last_in_line: None,
            tasks: JoinSet::new(),
        }
    }

    async fn send(
        &mut self,
        job: Job,
        ctx: &Arc<Ctx>,
        stop: &Stop,
        settled: &mut Settled<'_>,
    ) -> Result<()> {
        let turn = job.sequence.clone().map(|seq| {
            let (done, next) = oneshot::channel();
            Turn {
                after: self.tails.insert(seq, next),
                done,
            }
        });
        let waits = turn.as_ref().is_some_and(|t| t.after.is_some());
        // Commit "sending" before the request goes out, so a crash leaves a trace. A job
        // that can be reconciled after a crash (a change, or a create with a key to look
        // up) is marked as it is queued, so the commit overlaps the requests in flight.
        // One that cannot (a create without a key) is marked only once it holds a slot:
        // after a kill, at most `concurrency` rows are then of unknown fate.
        let early = !waits
            && (job.lookup.is_some()
                || job
                    .request
                    .as_ref()
                    .is_some_and(|r| r.method != Method::POST));
        let ack = if early {
            mark_sending(&settled.ledger, &job)
        } else {
            None
        };
        let window = if waits { &self.backlog } else { &self.queue };
        let queued = tokio::select! {
            p = window.clone().acquire_owned() => p.map_err(|_| Error::output("dispatch stopped unexpectedly"))?,
            _ = wait_for(&stop.sending) => {
                if let (Some(tx), Some(_)) = (&settled.ledger, &ack) {
                    for &row in &job.rows {
                        let _ = tx.send(LedgerMsg::Unsent(row));
                    }
                }
                return Ok(());
            }
        };
        // A job waiting for its turn in a sequence takes a slot when its turn comes;
        // every other job takes one after the job queued before it.
        let (in_line, took_slot) = if waits {
            (None, None)
        } else {
            let (took, next) = oneshot::channel();
            (self.last_in_line.replace(next), Some(took))
        };
        let ctx = ctx.clone();
        let permits = self.permits.clone();
        let stop = stop.clone();
        let tx = settled.ledger.clone();
        settled.first_sent.get_or_insert_with(Instant::now);
        self.tasks.spawn(async move {
            let _queued = queued;
            let (after, _done) = match turn {
                Some(t) => (t.after, Some(t.done)),
                None => (None, None),
            };
            if let Some(after) = after {
                let _ = after.await;
            }
            if let Some(before) = in_line {
                let _ = before.await;
            }
            // A job marked as it was queued waits for that commit before it takes a
            // slot, so that a slow commit never holds a request slot idle.
            let early_ack = match ack {
                Some(a) => Some(a.await),
                None => None,
            };
            let permit = permits.acquire_owned().await;
            if let Some(took) = took_slot {
                let _ = took.send(());
            }
            if permit.is_err() || stop.stopped() {
                if let (Some(tx), Some(_)) = (&tx, &early_ack) {
                    for &row in &job.rows {
                        let _ = tx.send(LedgerMsg::Unsent(row));
                    }
                }
                return (job, Outcome::default());
            }
            let committed = match early_ack {
                Some(result) => Some(result),
                None => match mark_sending(&tx, &job) {
                    Some(a) => Some(a.await),
                    None => None,
                },
            };
            if let Some(result) = committed
                && !matches!(result, Ok(Ok(())))
            {
                let done = Outcome {
                    status: Some(Status::Failed),
                    error: "not sent: the run ledger could not be written".into(),
                    ..Outcome::default()
                };
                return (job, done);
            }
            let done = execute(&ctx, &job).await;
            stop.count(&done);
            if !early && let (Some(tx), Some(_)) = (&tx, done.status) {
                commit_now(tx, &job, &done).await;
            } else if done.status.is_none()
                && let Some(tx) = &tx
            {
                // Stopped before anything left: not in flight any more.
                for &row in &job.rows {
                    let _ = tx.send(LedgerMsg::Unsent(row));
                }
            }
            drop(permit);
            (job, done)
        });
        Ok(())
    }
}

/// Ask the ledger thread to commit "sending" for a job's rows; the receiver says when
/// it has.
fn mark_sending(
    ledger: &Option<mpsc::Sender<LedgerMsg>>,
    job: &Job,
) -> Option<oneshot::Receiver<Result<()>>> {
    let tx = ledger.as_ref()?;
    let (ack_tx, ack_rx) = oneshot::channel();
    let hash = ledger::payload_hash(
        job.request
            .as_ref()
            .map(|r| r.body.hash_text())
            .unwrap_or_default()
            .as_bytes(),
    );
    let pending = job
        .rows
        .iter()
        .map(|&row| PendingRow {
            row,
            key: job.key.clone(),
            action: job.word,
            payload_hash: hash.clone(),
        })
        .collect();
    let _ = tx.send(LedgerMsg::Sending(pending, ack_tx));
    Some(ack_rx)
}

/// Commit a job's outcome and wait for it, before its slot is freed.
async fn commit_now(tx: &mpsc::Sender<LedgerMsg>, job: &Job, done: &Outcome) {
    let o = outcome_of(job, done.clone());
    let outcomes: Vec<RowOutcome> = job
        .rows
        .iter()
        .filter_map(|&row| row_outcome(row, job.key.clone(), &o))
        .collect();
    if outcomes.is_empty() {
        return;
    }
    let (ack, done_rx) = oneshot::channel();
    if tx.send(LedgerMsg::Settled(outcomes, ack)).is_ok() {
        let _ = done_rx.await;
    }
}

fn settle_joined(
    planner: &dyn RowPlanner,
    settled: &mut Settled<'_>,
    joined: std::result::Result<(Job, Outcome), tokio::task::JoinError>,
) {
    // A task without a status never sent its rows (the run stopped first).
    let Ok((job, mut done)) = joined else { return };
    if done.status.is_none() {
        return;
    }
    planner.explain(&job, &mut done);
    let o = outcome_of(&job, done);
    settle_job(settled, &job, o);
}

/// Every row of `job` gets `o`, in one ledger transaction.
fn settle_job(settled: &mut Settled<'_>, job: &Job, o: Outcome) {
    let rows = job
        .rows
        .iter()
        .map(|&row| (row, job.key.clone(), o.clone()))
        .collect();
    settled.settle_all(rows);
}

/// A dry run's outcome: VALID for what would be sent, SKIPPED for what would not; its
/// `_payload` shows what would be sent.
fn dry_outcome(job: &Job) -> Outcome {
    let (status, id, reason) = match &job.action {
        Action::Skip { id, reason } => (Status::Skipped, id.clone(), reason.clone()),
        Action::Update { id } | Action::Delete { id } => {
            (Status::Valid, Some(id.clone()), String::new())
        }
        Action::Create => (Status::Valid, None, String::new()),
    };
    let error = [reason.as_str(), job.note.as_str()]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Outcome {
        status: Some(status),
        action: Some(job.word),
        id,
        error,
        payload: Some(job.shown.clone()),
        changes: job.changes.clone(),
        ..Outcome::default()
    }
}

async fn wait_for(flag: &AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn execute(ctx: &Ctx, job: &Job) -> Outcome {
    let Some(request) = &job.request else {
        return Outcome {
            status: Some(Status::Skipped),
            ..Outcome::default()
        };
    };
    let row = job.rows.first().copied();
    let mut done = match (&request.method, &request.body) {
        (&Method::POST, super::job::RequestBody::Json(body)) => {
            ctx.create(&request.path, body, job.lookup.as_ref(), row)
                .await
        }
        (method, body) => {
            ctx.change_body(method.clone(), &request.path, body.as_body(), row)
                .await
        }
    };
    if let Action::Update { id } | Action::Delete { id } = &job.action {
        done.id = Some(id.clone());
    }
    done
}

/// The row outcome a job's requests settled, with what the plan knew: the action, its
/// notes and, for an update, the changes.
fn outcome_of(job: &Job, mut o: Outcome) -> Outcome {
    if !job.note.is_empty() {
        o.error = if o.error.is_empty() {
            job.note.clone()
        } else {
            format!("{}; {}", o.error, job.note)
        };
    }
    o.action = Some(job.word);
    o.attempts = Some(o.attempts.unwrap_or(0));
    o.payload = None;
    o.changes = job.changes.clone();
    o
}
