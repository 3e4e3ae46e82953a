//! One import run from a prepared sheet to every row's outcome, whatever the target:
//! connect, read what is there, choose the planner, confirm, open the run in the
//! ledger, dispatch. Writing the result and printing are the caller's.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use super::confirm::{confirm_plan, row_total};
use super::dispatch::{Loop, Settled, Stop};
use super::events::{Event, Observer};
use super::ledger_writer::spawn_ledger;
use super::lock::{Place, RunLock, tell_if_held};
use super::remote::column_names;
use super::spill::{RowSet, Spill, SpillWriter};
use super::target::{PlanInputs, Target};
use super::{Config, stored_options};
use crate::connection;
use crate::connector::Database;
use crate::dispatch::{Ctx, Limiter};
use crate::engine::prepare::Prepared;
use crate::error::Result;
use crate::ledger::{self, Ledger, NewRun, RunState, Scope};
use crate::ui::Printer;
use crate::validate::Validator;

/// What a run did, for the result workbook and the summary.
pub struct Ran {
    /// The ledger's run, unless a dry run.
    pub run_id: Option<i64>,
    /// Completed or interrupted.
    pub state: RunState,
    /// Seconds spent in the dispatch loop.
    pub dispatch_seconds: f64,
    /// Seconds spent signing in (and connecting) before anything else was sent.
    pub sign_in_seconds: f64,
    /// When the first row's request was handed to the request slots.
    pub first_sent: Option<Instant>,
    /// When the last outcome settled.
    pub last_settled: Option<Instant>,
    /// Ctrl-C (or Stop) ended it.
    pub interrupted: bool,
    /// The API's quota was spent: the run parked until then (exit 75).
    pub parked: Option<std::time::SystemTime>,
    /// The flight plan, when one was made (`--confirm`, `--json`, a known quota).
    pub flight: Option<super::flight::FlightPlan>,
    /// What the run sent, by kind.
    pub sent: super::flight::Requests,
    /// Why rows were left unsent, if they were.
    pub stop_reason: Option<String>,
    /// A problem after sending began (a ledger write that failed).
    pub problem: Option<String>,
    /// Every row's outcome (rows without one were not sent), `_payload` included for a
    /// dry run: on disk, read back in row order. An error when the spill could not be
    /// written: the result workbook then fails (the ledger still has every outcome),
    /// never the run whose rows were sent.
    pub outcomes: Result<Spill>,
    /// The target's address.
    pub base_url: String,
    /// Where the run wrote.
    pub database: Database,
}

impl Ran {
    /// The outcomes to write the result from, or why they cannot be read.
    pub fn spill(&self) -> Result<&Spill> {
        self.outcomes
            .as_ref()
            .map_err(|e| crate::error::Error::output(e.to_string()))
    }

    /// What the result workbook and the summary need of this run: one place for every
    /// front end (the terminal, the browser).
    pub fn finished<'a>(
        &'a self,
        cfg: &'a Config,
        prepared: &'a Prepared,
        started: Instant,
    ) -> super::report::Finished<'a> {
        super::report::Finished {
            cfg,
            prepared,
            run_id: self.run_id,
            state: self.state,
            started,
            dispatch_seconds: self.dispatch_seconds,
            sign_in_seconds: self.sign_in_seconds,
            first_sent: self.first_sent,
            last_settled: self.last_settled,
            base_url: &self.base_url,
            database: &self.database,
            interrupted: self.interrupted,
            parked: self.parked,
            flight: self.flight.as_ref(),
            sent: self.sent,
            stop_reason: self.stop_reason.clone(),
            problem: self.problem.clone(),
        }
    }
}

/// Run one import (or resume `resume_of`) until every row has its outcome or `stop`
/// says so. Nothing is sent before every output path is known to be writable and, for
/// a destructive mode or `--confirm`, the plan was confirmed.
pub async fn run(
    target: &'static dyn Target,
    cfg: &Config,
    prepared: &Prepared,
    resume_of: Option<i64>,
    stop: Stop,
    observer: &mut dyn Observer,
    ui: &Printer,
) -> Result<Ran> {
    crate::output::check_writable(&prepared.out)?;
    if cfg.dry_run {
        ui.note("dry run: read calls only; nothing is created, changed or deleted");
    }
    let spec = &prepared.spec;
    let mode = cfg.base.mode;
    // `--key` is the spec's natural key by now (see `prepare::with_key`).
    let key_field = spec.natural_key.clone();
    let signing_in = Instant::now();
    let (conn, ctx) = connect(target, cfg, prepared, &stop, ui).await?;
    let sign_in_seconds = signing_in.elapsed().as_secs_f64();
    // One run at a time per scope, from before the plan reads the target to the end.
    let lock = lock_scope(cfg, prepared, &conn, resume_of, &stop, ui).await?;
    let validator = Validator::new(
        spec,
        &prepared.mapping,
        &prepared.table,
        mode,
        cfg.base.parse.clone(),
        prepared.dups.as_ref(),
    );
    // The planner for this kind of target, and the plan confirmed where it must be.
    let mut planner = target
        .planner(PlanInputs {
            cfg,
            prepared,
            ctx: &ctx,
            conn: &conn,
            key_field: key_field.as_deref(),
            ui,
        })
        .await?;
    let flight = match resume_of {
        None => flight_plan(cfg, prepared, &validator, planner.as_mut(), &ctx, &conn, ui)?,
        Some(_) => None,
    };

    let mut spill = SpillWriter::create()?;
    let (ledger_tx, ledger_thread, run_id, before, in_flight_before) =
        start_ledger(cfg, prepared, &conn, resume_of, &mut spill, lock.as_ref())?;
    stop.arm();
    observer.event(Event::Started {
        total: row_total(prepared),
        dry_run: cfg.dry_run,
    });
    let dispatch_started = Instant::now();
    let mut settled = Settled {
        done_before: before,
        spill,
        ledger: ledger_tx,
        observer,
        first_sent: None,
        last_settled: None,
    };
    let mut dispatch = Loop {
        table: &prepared.table,
        validator: &validator,
        ctx: ctx.clone(),
        concurrency: cfg.policy.concurrency,
        dry_run: cfg.dry_run,
        skip_unknown: cfg.skip_unknown,
        stop: stop.clone(),
        in_flight_before,
        problem: None,
    };
    dispatch.run(planner.as_mut(), &mut settled).await?;
    settled.observer.event(Event::Finished);
    let dispatch_seconds = dispatch_started.elapsed().as_secs_f64();
    let interrupted = stop.is_interrupted();
    let mut problem = dispatch.problem.take();
    let state = if interrupted || stop.stopped() || problem.is_some() {
        RunState::Interrupted
    } else {
        RunState::Completed
    };
    let Settled {
        spill,
        ledger,
        first_sent,
        last_settled,
        ..
    } = settled;
    let sent = super::flight::Requests::sent(
        ctx.limiter.sent_by_kind(),
        flight.as_ref().map_or(0, |f| f.requests.list_pages),
    );
    drop(ledger);
    if let (Some(handle), Some(run)) = (ledger_thread, run_id)
        && let Some(p) = close_run(handle, run, state)
    {
        problem.get_or_insert(p);
    }
    let outcomes = spill.finish();
    Ok(Ran {
        run_id,
        state,
        dispatch_seconds,
        sign_in_seconds,
        first_sent,
        last_settled,
        interrupted,
        parked: stop.parked(),
        flight,
        sent,
        stop_reason: stop.reason(),
        problem,
        outcomes,
        base_url: conn.base_url.clone(),
        database: conn.database.clone(),
    })
}

/// The plan counted and its flight plan, before anything is written, confirmed where it
/// must be: for a plan that must be confirmed, for `--json`, and wherever a daily quota
/// is known (a plan that would park is told before the run starts). Not on resume (the
/// caller's): the rows an earlier attempt settled would be counted again.
fn flight_plan(
    cfg: &Config,
    prepared: &Prepared,
    validator: &Validator<'_>,
    planner: &mut dyn super::job::RowPlanner,
    ctx: &Ctx,
    conn: &connection::Connected,
    ui: &Printer,
) -> Result<Option<super::flight::FlightPlan>> {
    let quota = ctx.limiter.quota();
    let quota_known = quota.per_day().is_some() || quota.snapshot().remaining.is_some();
    let wanted = super::confirm::must_confirm(cfg) || ui.json || quota_known;
    if cfg.dry_run || !wanted {
        return Ok(None);
    }
    let counted = super::confirm::count_plan(prepared, validator, planner)?;
    let plan = super::flight::FlightPlan::new(counted.requests, ctx, cfg.policy.concurrency);
    if plan.quota.as_ref().is_some_and(|q| q.parks) {
        ui.warn(&format!("flight plan: {}", plan.text()));
    }
    confirm_plan(cfg, prepared, &counted, Some(&plan), &conn.destination())?;
    Ok(Some(plan))
}

/// The ledger's side of a run: its writer thread, the run, the rows an earlier attempt
/// settled and those it left in flight.
type LedgerSide = (
    Option<std::sync::mpsc::Sender<super::ledger_writer::LedgerMsg>>,
    Option<super::ledger_writer::LedgerThread>,
    Option<i64>,
    RowSet,
    HashSet<u32>,
);

/// Open the run in the ledger (and name it in the run lock) and start its writer
/// thread; a dry run has no ledger.
fn start_ledger(
    cfg: &Config,
    prepared: &Prepared,
    conn: &connection::Connected,
    resume_of: Option<i64>,
    spill: &mut SpillWriter,
    lock: Option<&RunLock>,
) -> Result<LedgerSide> {
    if cfg.dry_run {
        return Ok((None, None, None, RowSet::default(), HashSet::new()));
    }
    let (mut ledger, run, before, in_flight) = open_run(cfg, prepared, conn, resume_of, spill)?;
    if let Some(lock) = lock {
        lock.attach_run(&mut ledger, run);
    }
    let (tx, h) = spawn_ledger(ledger, run);
    Ok((Some(tx), Some(h), Some(run), before, in_flight))
}

/// The run lock of the run's scope (target, server, database, entity), taken before the
/// plan reads the target, so that a second run plans only once the first has finished.
/// A dry run writes nothing and takes none; it only says when a run holds it.
async fn lock_scope(
    cfg: &Config,
    prepared: &Prepared,
    conn: &connection::Connected,
    resume_of: Option<i64>,
    stop: &Stop,
    ui: &Printer,
) -> Result<Option<RunLock>> {
    let destination = conn.destination();
    let place = Place {
        scope: Scope {
            target: prepared.spec.target,
            base_url: conn.base_url.clone(),
            database_id: Some(conn.database.id.clone()),
            entity: prepared.spec.entity,
        },
        destination: &destination,
    };
    if cfg.dry_run {
        tell_if_held(&place, ui);
        return Ok(None);
    }
    RunLock::acquire(&place, resume_of, cfg.wait_for_lock, stop, ui)
        .await
        .map(Some)
}

/// Sign in to the run's target, and the request context every job shares.
async fn connect(
    target: &dyn Target,
    cfg: &Config,
    prepared: &Prepared,
    stop: &Stop,
    ui: &Printer,
) -> Result<(connection::Connected, Arc<Ctx>)> {
    let conn = target
        .connect(&cfg.conn, cfg.timeout, cfg.policy.concurrency, ui)
        .await?;
    stop.quota.configure(cfg.quota_per_day, cfg.wait_for_quota);
    let ctx = Arc::new(Ctx {
        client: conn.transport.clone(),
        limiter: Limiter::new(cfg.policy.rate).with_quota(stop.quota.clone()),
        policy: cfg.policy.clone(),
        columns: column_names(&prepared.spec, prepared),
        interrupted: stop.interrupted.clone(),
        service: target.label(),
    });
    Ok((conn, ctx))
}

/// Wait for the ledger thread to commit the last outcomes and close the run; a problem
/// is told, never hidden, but does not undo what was sent.
fn close_run(
    handle: super::ledger_writer::LedgerThread,
    run: i64,
    state: RunState,
) -> Option<String> {
    match handle.join() {
        Ok((mut ledger, error)) => {
            if let Some(e) = error {
                return Some(format!("{e} (run {run} may be incomplete in the ledger)"));
            }
            ledger.finish_run(run, state).err().map(|e| e.to_string())
        }
        Err(_) => Some("the run ledger stopped unexpectedly".into()),
    }
}

/// A run opened in the ledger: the ledger, the run, the rows it already has an outcome
/// for, and the rows that were being sent when it stopped.
type Opened = (Ledger, i64, RowSet, HashSet<u32>);

/// The run in the ledger: a new one, or the one being resumed with the rows that were
/// in flight when it stopped; the outcomes it already has go to `spill` (for the result
/// workbook) and their rows to the returned set (so they are not sent again).
fn open_run(
    cfg: &Config,
    prepared: &Prepared,
    conn: &connection::Connected,
    resume_of: Option<i64>,
    spill: &mut SpillWriter,
) -> Result<Opened> {
    let spec = &prepared.spec;
    let mut ledger = Ledger::open(&ledger::default_home())?;
    let mut done = RowSet::default();
    let mut in_flight = HashSet::new();
    let run = match resume_of {
        Some(id) => {
            ledger.each_row(id, |r| {
                if r.sending {
                    in_flight.insert(r.row);
                } else if let Some(outcome) = r.outcome() {
                    done.insert(r.row);
                    spill.push(r.row, outcome);
                }
                Ok(())
            })?;
            ledger.reopen_run(id)?;
            id
        }
        None => ledger.begin_run(&NewRun {
            target: spec.target,
            base_url: conn.base_url.clone(),
            database_id: Some(conn.database.id.clone()),
            database_name: Some(conn.database.name.clone()),
            entity: spec.entity,
            mode: cfg.base.mode,
            input_path: std::fs::canonicalize(&cfg.base.input)
                .unwrap_or_else(|_| cfg.base.input.clone())
                .display()
                .to_string(),
            input_fingerprint: ledger::file_fingerprint(&cfg.base.input)?,
            sheet: (!prepared.table.sheets.is_empty()).then(|| prepared.table.sheet.clone()),
            config_json: stored_options(cfg),
            total_rows: 0,
        })?,
    };
    Ok((ledger, run, done, in_flight))
}
