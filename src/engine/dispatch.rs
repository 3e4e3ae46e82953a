//! The one dispatch loop, whatever the target: rows are read, validated and planned in
//! sheet order; jobs are queued up to one window ahead of the requests in flight, each
//! marked *sending* in the ledger before its request leaves; outcomes are committed as
//! they settle; Ctrl-C and `--max-errors` stop the sending, never the accounting.

use std::collections::{HashMap, HashSet};
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
use crate::dispatch::{Ctx, Unsettled};
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
    /// The run lock was taken over by another run (this one was not heard from for
    /// minutes: a computer asleep): stop as Ctrl-C does, so two runs never send at once.
    lost_lock: Arc<AtomicBool>,
    /// The run lock's last successful heartbeat: past its limit the run sends nothing
    /// more, before any other run may take the lock over.
    pub(super) lease: Arc<super::lock::LeaseClock>,
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

    /// This stop, policing the run lock with `lease` (a test's short limit).
    #[cfg(test)]
    pub(super) fn with_lease(mut self, lease: super::lock::LeaseClock) -> Self {
        self.lease = Arc::new(lease);
        self
    }

    /// Stop as Ctrl-C does: requests in flight finish, nothing more is sent.
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        self.sending.store(true, Ordering::SeqCst);
    }

    /// Stop because another run took the run lock over: as [`Stop::interrupt`], with
    /// its own reason.
    pub fn lose_lock(&self) {
        self.lost_lock.store(true, Ordering::SeqCst);
        self.interrupt();
    }

    /// Whether Ctrl-C (or Stop) was asked for.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// Whether sending has stopped, for any reason.
    pub fn stopped(&self) -> bool {
        if self.lease.expired() {
            self.interrupt();
        }
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
        if let Some(silent) = self.lease.expired_after() {
            Some(format!(
                "stopped: this run could not renew its run lock for {} s (was it suspended, or the ledger unwritable?), so it sent nothing more; `sheetload resume` sends the rest",
                silent.as_secs()
            ))
        } else if self.lost_lock.load(Ordering::SeqCst) {
            Some(format!(
                "stopped: another sheetload run took over the run lock after this one was not heard from for {} s (was the computer asleep?)",
                crate::ledger::STALE_AFTER.as_secs()
            ))
        } else if self.is_interrupted() {
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
    /// Rows that were being sent when an earlier attempt of this run stopped: they
    /// may have landed, so they are reconciled before anything else.
    pub in_flight_before: HashSet<u32>,
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
                if planner.wants_done_rows() {
                    planner.done_before(&self.validator.validate(&raw));
                }
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
        loop {
            while let Some(joined) = sender.tasks.join_next().await {
                sender.settle_joined(planner, settled, joined);
            }
            if sender.pending.is_empty() {
                return Ok(());
            }
            self.resolve(settled, &mut sender).await?;
        }
    }

    /// Settle the creates waiting for the listing ([`Unsettled`]) from one listing per
    /// collection: found is OK with its id; a lost create not found was never stored
    /// and is sent again (up to the retries); a create answered without an id and not
    /// found stays OK without one. Only a listing that fails leaves a lost create
    /// UNKNOWN.
    async fn resolve(&mut self, settled: &mut Settled<'_>, sender: &mut Sender) -> Result<()> {
        let mut batch = std::mem::take(&mut sender.pending);
        if self.stop.is_interrupted() {
            // Ctrl-C: nothing more is sent, lookups included. A lost create stays
            // "sending" in the ledger, so that `resume` looks it up; a created one is
            // OK, its id unknown.
            for u in batch.drain(..) {
                if let Unsettled::NoId = u.why {
                    let mut o = u.outcome;
                    o.error =
                        "created, but the answer named no id (not looked up: interrupted)".into();
                    settle_job(settled, &u.job, outcome_of(&u.job, o));
                }
            }
            return Ok(());
        }
        let mut paths: Vec<String> = Vec::new();
        for u in &batch {
            let path = u
                .job
                .request
                .as_ref()
                .map(|r| r.path.clone())
                .unwrap_or_default();
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        let mut found: Vec<Option<std::result::Result<Option<String>, String>>> =
            (0..batch.len()).map(|_| None).collect();
        for path in &paths {
            let mine: Vec<usize> = (0..batch.len())
                .filter(|&i| {
                    let job = &batch[i].job;
                    job.lookup.is_some() && job.request.as_ref().is_some_and(|r| &r.path == path)
                })
                .collect();
            let keys: Vec<&crate::dispatch::Key> = mine
                .iter()
                .filter_map(|&i| batch[i].job.lookup.as_ref())
                .collect();
            match self.ctx.find_created(path, &keys).await {
                Ok(ids) => {
                    for (&i, id) in mine.iter().zip(ids) {
                        found[i] = Some(Ok(id));
                    }
                }
                Err(e) => {
                    for &i in &mine {
                        found[i] = Some(Err(e.clone()));
                    }
                }
            }
        }
        for (u, found) in batch.into_iter().zip(found) {
            let found = found.unwrap_or_else(|| Err("it has no key to look up".into()));
            let Unresolved {
                job,
                mut outcome,
                why,
            } = u;
            match settle_found(&self.ctx, &job, &mut outcome, &why, found) {
                Found::Settled => {
                    self.stop.count(&outcome);
                    settle_job(settled, &job, outcome_of(&job, outcome));
                }
                Found::Absent if self.stop.stopped() => {
                    // Not stored, and the run stops: nothing is sent, the row is not
                    // done (it stays "sending" in the ledger; `resume` looks it up).
                }
                Found::Absent => {
                    let first = job.rows.first().copied().unwrap_or_default();
                    let tries = sender.resent.entry(first).or_insert(0);
                    *tries += 1;
                    if *tries > self.ctx.policy.retries {
                        outcome.status = Some(Status::Failed);
                        outcome.error = format!(
                            "not created after {} tries ({}); checked on the server each time, nothing was stored",
                            *tries, outcome.error
                        );
                        self.stop.count(&outcome);
                        settle_job(settled, &job, outcome_of(&job, outcome));
                    } else {
                        sender.send(job, &self.ctx, &self.stop, settled).await?;
                    }
                }
            }
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
        match self.reconcile(&job) {
            Reconciled::Settle(o) => {
                settle_job(settled, &job, o);
                return Ok(());
            }
            // A job in a sequence (a team's day of visits) is looked up at once, so
            // that if it is sent again it keeps its place in the sequence.
            Reconciled::LookUp if job.sequence.is_some() => {
                if let Some(o) = self.look_up_now(&job).await {
                    settle_job(settled, &job, outcome_of(&job, o));
                    return Ok(());
                }
            }
            Reconciled::LookUp => {
                sender.pending.push(Unresolved {
                    job,
                    outcome: Outcome {
                        status: Some(Status::Unknown),
                        attempts: Some(1),
                        ..Outcome::default()
                    },
                    why: Unsettled::Lost("the run stopped before its answer came".into()),
                });
                return Ok(());
            }
            Reconciled::Send => {}
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
            sender.settle_joined(planner, settled, joined);
        }
        if sender.pending.len() >= LOOKUP_BATCH {
            self.resolve(settled, sender).await?;
        }
        Ok(())
    }

    /// A job whose rows were in flight when an earlier attempt of this run stopped may
    /// have landed: a create is looked up by its key with the run's other creates to
    /// look up (without one it stays UNKNOWN rather than risk a duplicate); a change is
    /// idempotent and simply sent again.
    fn reconcile(&mut self, job: &Job) -> Reconciled {
        let mut was = false;
        for row in &job.rows {
            was |= self.in_flight_before.remove(row);
        }
        if !was {
            return Reconciled::Send;
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
            (Action::Skip { id: Some(id), .. }, _) => Reconciled::Settle(outcome(
                Status::Ok,
                Some(id.clone()),
                "was being sent when the run stopped; found on the server, so it was created"
                    .into(),
            )),
            (Action::Create, Some(_)) if job.lookup.is_some() => Reconciled::LookUp,
            (Action::Create, Some(_)) => Reconciled::Settle(outcome(
                Status::Unknown,
                None,
                "was being sent when the run stopped; without a natural key it cannot be looked up: check on the target before sending it again".into(),
            )),
            _ => Reconciled::Send,
        }
    }
}

impl Loop<'_> {
    /// [`Reconciled::LookUp`] for one job, at once: its outcome when found (or when
    /// looking failed), `None` when it was never stored and is to be sent.
    async fn look_up_now(&self, job: &Job) -> Option<Outcome> {
        let (request, key) = (job.request.as_ref()?, job.lookup.as_ref()?);
        let found = self
            .ctx
            .find_created(&request.path, &[key])
            .await
            .map(|ids| ids.into_iter().next().flatten());
        let mut o = Outcome {
            status: Some(Status::Unknown),
            attempts: Some(1),
            ..Outcome::default()
        };
        let why = Unsettled::Lost("the run stopped before its answer came".into());
        match settle_found(&self.ctx, job, &mut o, &why, found) {
            Found::Settled => Some(o),
            Found::Absent => None,
        }
    }
}

/// What becomes of a job that may have been sent by an earlier attempt of the run.
enum Reconciled {
    /// Decided without a request.
    Settle(Outcome),
    /// A create to look up with the others before it is sent again.
    LookUp,
    /// Send it as planned.
    Send,
}

/// Creates waiting for the listing at most, before they are looked up together.
const LOOKUP_BATCH: usize = 500;

/// A create whose outcome waits for the listing.
struct Unresolved {
    job: Job,
    outcome: Outcome,
    why: Unsettled,
}

/// What the listing said of an [`Unresolved`] create.
enum Found {
    /// The outcome is final.
    Settled,
    /// Lost, and not on the target: never stored.
    Absent,
}

/// Fill `o` from what the listing found for `job`'s key.
fn settle_found(
    ctx: &Ctx,
    job: &Job,
    o: &mut Outcome,
    why: &Unsettled,
    found: std::result::Result<Option<String>, String>,
) -> Found {
    let (field, value) = job
        .lookup
        .as_ref()
        .map(|k| (k.field.as_str(), k.value.as_str()))
        .unwrap_or(("key", ""));
    match (found, why) {
        (Ok(Some(id)), Unsettled::NoId) => {
            o.status = Some(Status::Ok);
            o.id = Some(id);
            o.error.clear();
        }
        (Ok(Some(id)), Unsettled::Lost(reason)) => {
            o.status = Some(Status::Ok);
            o.id = Some(id);
            o.error = format!(
                "sent, but {reason}; found {field} {value} on the server, so it was created"
            );
        }
        (Ok(None), Unsettled::NoId) => {
            o.status = Some(Status::Ok);
            o.error = format!(
                "created, but the answer named no id and {field} {value} is not in the listing"
            );
        }
        (Ok(None), Unsettled::Lost(reason)) => {
            o.error = format!("sent, but {reason}; {field} {value} is not on the server");
            return Found::Absent;
        }
        (Err(e), Unsettled::NoId) => {
            o.status = Some(Status::Ok);
            o.error =
                format!("created, but the answer named no id, and looking it up failed ({e})");
        }
        (Err(e), Unsettled::Lost(reason)) => {
            o.status = Some(Status::Unknown);
            o.error = format!(
                "sent, but {reason}, and looking up {field} {value} failed ({e}); check in {} before sending this row again",
                ctx.service
            );
        }
    }
    Found::Settled
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
    tasks: JoinSet<(Job, Outcome, Option<Unsettled>)>,
    /// Creates waiting for the listing.
    pending: Vec<Unresolved>,
    /// How often each lost create (by its first row) was sent again.
    resent: HashMap<u32, u32>,
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
            pending: Vec::new(),
            resent: HashMap::new(),
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
                return (job, Outcome::default(), None);
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
                return (job, unwritable_ledger(), None);
            }
            let (done, unsettled) = execute(&ctx, &job).await;
            if unsettled.is_none() {
                stop.count(&done);
            }
            // Provisional (waits for the listing): stays "sending" for `resume`.
            let settled_now = !early && unsettled.is_none();
            if settled_now && let (Some(tx), Some(_)) = (&tx, done.status) {
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
            (job, done, unsettled)
        });
        Ok(())
    }
}

/// A job's outcome when its "sending" could not be committed: it was not sent.
fn unwritable_ledger() -> Outcome {
    Outcome {
        status: Some(Status::Failed),
        error: "not sent: the run ledger could not be written".into(),
        ..Outcome::default()
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

impl Sender {
    /// A finished task's rows: settled, or kept for the listing.
    fn settle_joined(
        &mut self,
        planner: &dyn RowPlanner,
        settled: &mut Settled<'_>,
        joined: std::result::Result<(Job, Outcome, Option<Unsettled>), tokio::task::JoinError>,
    ) {
        // A task without a status never sent its rows (the run stopped first).
        let Ok((job, mut done, unsettled)) = joined else {
            return;
        };
        if done.status.is_none() {
            return;
        }
        if let Some(why) = unsettled {
            self.pending.push(Unresolved {
                job,
                outcome: done,
                why,
            });
            return;
        }
        planner.explain(&job, &mut done);
        let o = outcome_of(&job, done);
        settle_job(settled, &job, o);
    }
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

/// A job's request. A create whose answer named no id, or was lost where the target
/// cannot be searched, comes back [`Unsettled`], for the run's listing.
async fn execute(ctx: &Ctx, job: &Job) -> (Outcome, Option<Unsettled>) {
    let Some(request) = &job.request else {
        let o = Outcome {
            status: Some(Status::Skipped),
            ..Outcome::default()
        };
        return (o, None);
    };
    let row = job.rows.first().copied();
    let (mut done, unsettled) = match (&request.method, &request.body) {
        (&Method::POST, super::job::RequestBody::Json(body)) => {
            ctx.create_or_defer(&request.path, body, job.lookup.as_ref(), row)
                .await
        }
        (method, body) => {
            let done = ctx
                .change_body(method.clone(), &request.path, body.as_body(), row)
                .await;
            (done, None)
        }
    };
    if let Action::Update { id } | Action::Delete { id } = &job.action {
        done.id = Some(id.clone());
    }
    (done, unsettled)
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
