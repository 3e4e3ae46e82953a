//! The run lock of an import, resume or retry (see `ledger/lease.rs`): taken once the
//! sign-in has named the server and database and before the plan reads the target, so
//! that a second run of the same scope plans only after the first has finished; held
//! while rows are sent, refreshed by a heartbeat thread, and given back on every way
//! out (completed, interrupted, an error: [`RunLock`]'s `Drop`). A process killed
//! outright leaves its lease behind; the next run takes it over once that process is
//! gone. A dry run writes nothing and takes no lock: it only says when a run holds one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::dispatch::Stop;
use crate::error::{Error, Result};
use crate::ledger::{self, Acquired, HEARTBEAT, Holder, Ledger, SELF_STOP_AFTER, Scope};
use crate::spec::Entity;
use crate::ui::Printer;

/// How often a run waiting for the lock (`--wait-for-lock`) asks again.
const POLL: Duration = Duration::from_millis(500);

/// What the messages say of the scope: its entity and its destination.
pub(super) struct Place<'a> {
    /// The scope the lock is for.
    pub scope: Scope,
    /// `"Demo" (db 1)`.
    pub destination: &'a str,
}

impl Place<'_> {
    fn entity(&self) -> Entity {
        self.scope.entity
    }
}

/// When the run lock was last renewed, on the monotonic clock, for the dispatcher to
/// check before every send: a run whose lease another run may soon take over (its
/// heartbeat failing, or the process stopped with Ctrl-Z: the clock runs on while it is
/// stopped) must not send, or two runs would create the same keys.
#[derive(Debug)]
pub(super) struct LeaseClock {
    /// [`crate::os::awake_clock`] when the clock was made: it runs on while the
    /// computer sleeps, so a run woken after minutes stops too.
    origin: Duration,
    /// Milliseconds after `origin` of the last successful heartbeat.
    renewed_ms: AtomicU64,
    /// Whether a lock is held (a run without one, a dry run, has nothing to renew).
    held: AtomicBool,
    /// How old a renewal may get before sending stops ([`SELF_STOP_AFTER`]).
    limit: Duration,
    /// Set once the limit was passed: how old the renewal was.
    expired: Mutex<Option<Duration>>,
}

impl Default for LeaseClock {
    fn default() -> Self {
        LeaseClock::with_limit(SELF_STOP_AFTER)
    }
}

impl LeaseClock {
    fn with_limit(limit: Duration) -> Self {
        LeaseClock {
            origin: crate::os::awake_clock(),
            renewed_ms: AtomicU64::new(0),
            held: AtomicBool::new(false),
            limit,
            expired: Mutex::new(None),
        }
    }

    fn now_ms(&self) -> u64 {
        let elapsed = crate::os::awake_clock().saturating_sub(self.origin);
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    }

    /// The lease was taken or refreshed just now.
    fn renewed(&self) {
        self.renewed_ms.store(self.now_ms(), Ordering::SeqCst);
        self.held.store(true, Ordering::SeqCst);
    }

    /// The lease was given back (or lost): nothing to police any more.
    fn released(&self) {
        self.held.store(false, Ordering::SeqCst);
    }

    /// Whether the lease is held but its last renewal is older than the limit; the
    /// first time, remembers how old for the reason the run gives.
    pub(super) fn expired(&self) -> bool {
        if !self.held.load(Ordering::SeqCst) {
            return self.expired_after().is_some();
        }
        let silent = Duration::from_millis(
            self.now_ms()
                .saturating_sub(self.renewed_ms.load(Ordering::SeqCst)),
        );
        if silent <= self.limit {
            return self.expired_after().is_some();
        }
        if let Ok(mut expired) = self.expired.lock() {
            expired.get_or_insert(silent);
        }
        true
    }

    /// How long the lease had gone unrenewed when sending stopped for it, if it did.
    pub(super) fn expired_after(&self) -> Option<Duration> {
        self.expired.lock().ok().and_then(|e| *e)
    }
}

/// A held run lock; dropping it stops the heartbeat and releases the lease.
pub(super) struct RunLock {
    beat: Option<mpsc::Sender<i64>>,
    thread: Option<JoinHandle<()>>,
    scope: Scope,
    token: String,
}

impl RunLock {
    /// Take the lock of `place` for run `run` (a resumed run; a new one has no id yet):
    /// at once, or after waiting up to `wait` for the run holding it; refused with
    /// [`Error::Busy`] otherwise. The browser's Stop ends the wait.
    pub(super) async fn acquire(
        place: &Place<'_>,
        run: Option<i64>,
        wait: Option<Duration>,
        stop: &Stop,
        ui: &Printer,
    ) -> Result<RunLock> {
        let mut ledger = Ledger::open(&ledger::default_home())?;
        let me = Holder::this_process(run);
        let started = Instant::now();
        let mut told = None;
        loop {
            match ledger.acquire_lease(&place.scope, &me)? {
                Acquired::Taken { took_over } => {
                    if let Some(gone) = took_over {
                        ui.note(&format!(
                            "took over the run lock of {} left by {} (its process is gone)",
                            place.entity(),
                            who(&gone)
                        ));
                    }
                    break;
                }
                Acquired::Held(holder) => {
                    let waited = started.elapsed();
                    let Some(limit) = wait.filter(|limit| waited < *limit) else {
                        return Err(busy(place, &holder, wait.map(|_| waited)));
                    };
                    if told.as_ref() != Some(&holder.token) {
                        ui.note(&format!(
                            "waiting for {} to finish importing {} into {}{} (Ctrl-C stops waiting)",
                            who(&holder),
                            place.entity(),
                            place.destination,
                            if limit == Duration::MAX {
                                String::new()
                            } else {
                                format!(", at most {}", crate::ui::duration(limit))
                            }
                        ));
                        told = Some(holder.token.clone());
                    }
                    if stop.is_interrupted() {
                        return Err(Error::Interrupted);
                    }
                    tokio::time::sleep(POLL.min(limit.saturating_sub(waited))).await;
                }
            }
        }
        stop.lease.renewed();
        let (beat, rx) = mpsc::channel();
        let scope = place.scope.clone();
        let token = me.token.clone();
        let stop = stop.clone();
        let thread = std::thread::spawn(move || heartbeat(ledger, scope, me, rx, stop));
        Ok(RunLock {
            beat: Some(beat),
            thread: Some(thread),
            scope: place.scope.clone(),
            token,
        })
    }

    /// Name the run the lock is held for, once it has begun: `runs list` and a
    /// refused or waiting run show it. Written at once through the run's `ledger`
    /// (before the first send), and kept by the heartbeat from then on.
    pub(super) fn attach_run(&self, ledger: &mut Ledger, run: i64) {
        let _ = ledger.heartbeat_lease(&self.scope, &self.token, Some(run));
        if let Some(beat) = &self.beat {
            let _ = beat.send(run);
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Closing the channel ends the heartbeat thread, which releases the lease.
        self.beat.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Refresh the lease every [`HEARTBEAT`] until the lock is dropped, then release it.
/// Each refresh that is written renews `stop`'s [`LeaseClock`]; one that fails is tried
/// again at the next beat, while the dispatcher stops sending by itself once the last
/// good one is [`SELF_STOP_AFTER`] old. A lease found taken over stops the run at once.
fn heartbeat(mut ledger: Ledger, scope: Scope, me: Holder, rx: mpsc::Receiver<i64>, stop: Stop) {
    let mut run = me.run;
    loop {
        match rx.recv_timeout(HEARTBEAT) {
            Ok(id) => run = Some(id),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        match ledger.heartbeat_lease(&scope, &me.token, run) {
            Ok(true) => stop.lease.renewed(),
            Ok(false) => {
                stop.lose_lock();
                stop.lease.released();
                return;
            }
            Err(_) => {}
        }
    }
    stop.lease.released();
    let _ = ledger.release_lease(&scope, &me.token);
}

/// A dry run takes no lock, but says when a run is writing to its scope: its plan is a
/// picture of a target that is changing.
pub(super) fn tell_if_held(place: &Place<'_>, ui: &Printer) {
    let Ok(ledger) = Ledger::open(&ledger::default_home()) else {
        return;
    };
    if let Ok(Some(holder)) = ledger.lease(&place.scope)
        && !holder.is_gone(Utc::now())
    {
        ui.note(&format!(
            "{} is importing {} into {} right now: this plan may change as it goes",
            who(&holder),
            place.entity(),
            place.destination
        ));
    }
}

/// `run 14 (pid 4242 on host X)`, or `a run still planning (…)`.
fn who(h: &Holder) -> String {
    format!("{} (pid {} on {})", run_name(h), h.pid, host(h))
}

/// `run 14`, or `a run still planning` (a new run plans before it has an id).
fn run_name(h: &Holder) -> String {
    h.run.map_or_else(
        || "a run still planning".to_string(),
        |id| format!("run {id}"),
    )
}

fn host(h: &Holder) -> String {
    if h.host == crate::os::host_name() {
        "this computer".into()
    } else if h.host.is_empty() {
        "another computer".into()
    } else {
        format!("host {}", h.host)
    }
}

/// The refusal: who holds the lock, since when, how lately it was heard from, and how to
/// wait for it; `waited` when `--wait-for-lock` gave up.
fn busy(place: &Place<'_>, h: &Holder, waited: Option<Duration>) -> Error {
    let seen = h.silent_for(Utc::now()).map_or_else(String::new, |d| {
        format!(", last seen {} s ago", d.as_secs())
    });
    let run = run_name(h);
    let check = h.run.map_or_else(
        || "`sheetload runs list`".to_string(),
        |id| format!("`sheetload runs show {id}`"),
    );
    let gave_up = waited.map_or_else(String::new, |w| {
        format!("gave up waiting after {}: ", crate::ui::duration(w))
    });
    let wait = if waited.is_some() {
        "Wait longer with --wait-for-lock (no limit) or --wait-for-lock=DURATION"
    } else {
        "Wait for it with --wait-for-lock"
    };
    let text = format!(
        "{gave_up}another sheetload run is importing {entity} into {dest}: {run}, started {at} by pid {pid} on {host}{seen}. {wait}, or check it with {check}.",
        entity = place.entity(),
        dest = place.destination,
        at = crate::ui::local_time(&h.started_at),
        pid = h.pid,
        host = host(h),
    );
    let plain = format!(
        "Another import is already sending {entity} to {dest} ({run}, started at {at} on {host}). Two imports at once would create every record twice: wait until it has finished (History shows it), then start this import again.",
        entity = place.entity(),
        dest = place.destination,
        at = crate::ui::local_time(&h.started_at),
        host = host(h),
    );
    Error::Busy { text, plain }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::TargetId;

    fn place() -> Place<'static> {
        Place {
            scope: Scope {
                target: TargetId::SalesMania,
                base_url: "http://127.0.0.1:9/".into(),
                database_id: Some("1".into()),
                entity: Entity::Customers,
            },
            destination: "\"Demo\" (db 1)",
        }
    }

    #[test]
    fn the_heartbeat_names_the_run_releases_on_drop_and_stops_a_run_taken_over() {
        let home = tempfile::tempdir().unwrap();
        let scope = place().scope;
        let beat = |me: Holder, stop: Stop, run: i64| {
            let ledger = Ledger::open(home.path()).unwrap();
            let (tx, rx) = mpsc::channel();
            let scope = scope.clone();
            let thread = std::thread::spawn(move || heartbeat(ledger, scope, me, rx, stop));
            tx.send(run).unwrap();
            (tx, thread)
        };
        let mut ledger = Ledger::open(home.path()).unwrap();

        // Held: the run is named at once; dropping the sender releases the lease.
        let me = Holder::this_process(None);
        ledger.acquire_lease(&scope, &me).unwrap();
        let (tx, thread) = beat(me, Stop::default(), 7);
        let deadline = Instant::now() + Duration::from_secs(10);
        while ledger.lease(&scope).unwrap().and_then(|h| h.run) != Some(7) {
            assert!(Instant::now() < deadline, "the run was never named");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(tx);
        thread.join().unwrap();
        assert!(ledger.lease(&scope).unwrap().is_none(), "released");

        // Taken over while this process was not heard from: the run stops sending and
        // the new holder keeps its lease.
        let asleep = Holder {
            pid: 99_999_999,
            ..Holder::this_process(None)
        };
        ledger.acquire_lease(&scope, &asleep).unwrap();
        let next = Holder::this_process(Some(8));
        assert!(matches!(
            ledger.acquire_lease(&scope, &next).unwrap(),
            Acquired::Taken { took_over: Some(_) }
        ));
        let stop = Stop::default();
        let (tx, thread) = beat(asleep, stop.clone(), 7);
        thread.join().unwrap();
        drop(tx);
        assert!(stop.stopped() && stop.is_interrupted());
        assert!(
            stop.reason().unwrap().contains("took over the run lock"),
            "{:?}",
            stop.reason()
        );
        assert_eq!(ledger.lease(&scope).unwrap().unwrap().token, next.token);
    }

    #[test]
    fn a_run_whose_lease_went_unrenewed_past_its_limit_sends_nothing_more() {
        // The limit shrunk from a minute to nothing: any gap since the last renewal is
        // one too long, as ten minutes stopped with Ctrl-Z are for the real one.
        let stop = Stop::default().with_lease(LeaseClock::with_limit(Duration::ZERO));
        assert!(!stop.stopped(), "no lock held: nothing to police");
        stop.lease.renewed();
        std::thread::sleep(Duration::from_millis(5));
        assert!(stop.stopped() && stop.is_interrupted());
        let reason = stop.reason().unwrap_or_default();
        assert!(reason.contains("could not renew its run lock"), "{reason}");
        assert!(reason.contains("sheetload resume"), "{reason}");
        // A late renewal does not restart a run that already stopped.
        stop.lease.renewed();
        assert!(stop.stopped());

        // The real limit: a renewal just now keeps the run sending.
        let fresh = Stop::default();
        fresh.lease.renewed();
        assert!(!fresh.stopped() && fresh.reason().is_none());
        assert!(SELF_STOP_AFTER * 2 <= ledger::STALE_AFTER);
    }

    #[test]
    fn the_refusal_names_the_run_and_how_to_wait_the_plain_one_no_flags() {
        let mut h = Holder::this_process(Some(14));
        h.pid = 4242;
        h.host = "build-7".into();
        let Error::Busy { text, plain } = busy(&place(), &h, None) else {
            panic!("not a busy error");
        };
        assert!(
            text.starts_with(
                "another sheetload run is importing customers into \"Demo\" (db 1): run 14, started "
            ),
            "{text}"
        );
        assert!(
            text.contains("by pid 4242 on host build-7, last seen 0 s ago"),
            "{text}"
        );
        assert!(text.contains("--wait-for-lock"), "{text}");
        assert!(text.contains("`sheetload runs show 14`"), "{text}");
        assert!(
            plain.contains("customers") && plain.contains("run 14"),
            "{plain}"
        );
        assert!(!plain.contains("--") && !plain.contains('`'), "{plain}");
        let Error::Busy { text, .. } = busy(&place(), &h, Some(Duration::from_secs(30))) else {
            panic!("not a busy error");
        };
        assert!(text.starts_with("gave up waiting after 30 s"), "{text}");
    }
}
