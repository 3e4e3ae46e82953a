//! The run lock: at most one run at a time writes to one scope (target, server,
//! database, entity). Two imports of the same upload started together would both plan
//! "create" for every key and both send it; the lease makes the second one wait or
//! refuse instead.
//!
//! A lease is a row of `run_leases`, keyed by the scope, naming its holder (pid, host,
//! a random token, the run once it has one) and refreshed by the holder's heartbeat.
//! It is taken in one IMMEDIATE transaction (so two processes cannot both find the
//! scope free), released by its holder, and taken over when its holder is gone: on this
//! computer when its process no longer runs (or its pid now names another process, told
//! by its start time), elsewhere when its heartbeat is older than [`STALE_AFTER`]. A live
//! process of this computer is never taken over for a late heartbeat (it may be stopped
//! with Ctrl-Z and carry on). Every change names the holder's token, so a holder that was
//! taken over can neither refresh nor release the new holder's lease; and a holder stops
//! sending by itself once its own last good heartbeat is [`SELF_STOP_AFTER`] old, before
//! any other run may take it over (see `engine::lock`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Ledger, Scope, StoredScope, now};
use crate::error::Result;

/// A holder not heard from for this long is taken to be gone, wherever it runs: a
/// process on another computer (whose pid cannot be asked about), or a pid of this
/// computer that some other program reused. Generous: the holder beats every few
/// seconds, and a slow disk must not cost it its lease.
pub const STALE_AFTER: Duration = Duration::from_secs(120);

/// A holder whose last successful heartbeat is this old sends nothing more: half of
/// [`STALE_AFTER`], so it has stopped well before another run may take its lease over.
pub const SELF_STOP_AFTER: Duration = Duration::from_secs(STALE_AFTER.as_secs() / 2);

/// How often a holder refreshes its lease.
pub const HEARTBEAT: Duration = Duration::from_secs(3);

/// Who holds a scope's run lock, as the lease records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    /// The holder's run, once it has begun one (a new run plans before it begins).
    pub run: Option<i64>,
    /// The holder's process id on `host`.
    pub pid: u32,
    /// When that process started ([`crate::os::process_started`]): tells a reused pid.
    #[serde(skip)]
    pub pid_started: Option<u64>,
    /// The computer it runs on.
    pub host: String,
    /// The holder's identity: one process may hold several scopes (the browser).
    #[serde(skip)]
    pub token: String,
    /// RFC 3339 UTC: when it took the lease.
    pub started_at: String,
    /// RFC 3339 UTC: its last heartbeat.
    pub heartbeat_at: String,
}

impl Holder {
    /// A new holder for this process: a random token, this pid and computer.
    pub fn this_process(run: Option<i64>) -> Holder {
        let now = now();
        Holder {
            run,
            pid: std::process::id(),
            pid_started: crate::os::process_started(std::process::id()),
            host: crate::os::host_name(),
            token: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            started_at: now.clone(),
            heartbeat_at: now,
        }
    }

    /// How long since its last heartbeat (zero for a heartbeat in the future: clocks
    /// differ between computers); `None` when the stored time cannot be read.
    pub fn silent_for(&self, now: DateTime<Utc>) -> Option<Duration> {
        let beat = DateTime::parse_from_rfc3339(&self.heartbeat_at).ok()?;
        Some(
            (now - beat.with_timezone(&Utc))
                .to_std()
                .unwrap_or(Duration::ZERO),
        )
    }

    /// Whether the holder is gone, so its lease may be taken over. On this computer: its
    /// process no longer runs, or its pid now names a process that started at another
    /// time (reused); a live process is never gone however late its heartbeat (stopped
    /// with Ctrl-Z, it resumes sending). Elsewhere, or where the start time is unknown:
    /// not heard from for [`STALE_AFTER`], or a heartbeat that cannot be read.
    pub fn is_gone(&self, now: DateTime<Utc>) -> bool {
        if self.host == crate::os::host_name() {
            if !crate::os::process_alive(self.pid) {
                return true;
            }
            if let (Some(stored), Some(running)) =
                (self.pid_started, crate::os::process_started(self.pid))
            {
                return stored != running;
            }
        }
        self.silent_for(now).is_none_or(|d| d > STALE_AFTER)
    }
}

/// What [`Ledger::acquire_lease`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    /// The lease is the caller's; `took_over` is the gone holder it replaced.
    Taken {
        /// The holder whose lease was taken over, if any.
        took_over: Option<Holder>,
    },
    /// Another live holder has it.
    Held(Holder),
}

const LEASE_COLUMNS: &str = "run, pid, host, token, started_at, heartbeat_at, pid_started";

const SCOPE_IS: &str = "target = ?1 AND base_url = ?2 AND database_id = ?3 AND entity = ?4";

fn holder_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Holder> {
    Ok(Holder {
        run: r.get(0)?,
        pid: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        host: r.get(2)?,
        token: r.get(3)?,
        started_at: r.get(4)?,
        heartbeat_at: r.get(5)?,
        pid_started: r
            .get::<_, Option<i64>>(6)?
            .and_then(|t| u64::try_from(t).ok()),
    })
}

impl Ledger {
    /// Take the run lock of `scope` for `me`, in one IMMEDIATE transaction: a free
    /// scope becomes `me`'s; one whose holder [`is_gone`](Holder::is_gone) is taken
    /// over with a compare-and-swap on that holder's token; one held by a live holder is
    /// left alone and that holder returned.
    pub fn acquire_lease(&mut self, scope: &Scope, me: &Holder) -> Result<Acquired> {
        let scope = StoredScope::from_scope(scope);
        let now_text = now();
        let now = Utc::now();
        let pid_started = me.pid_started.and_then(|t| i64::try_from(t).ok());
        self.write(|tx| {
            let (target, base_url, database, entity) = scope.params();
            let inserted = tx.execute(
                "INSERT INTO run_leases (target, base_url, database_id, entity, run, pid, host,
                                         token, started_at, heartbeat_at, pid_started)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)
                 ON CONFLICT DO NOTHING",
                params![
                    target,
                    base_url,
                    database,
                    entity,
                    me.run,
                    me.pid,
                    me.host,
                    me.token,
                    now_text,
                    pid_started
                ],
            )?;
            if inserted == 1 {
                return Ok(Acquired::Taken { took_over: None });
            }
            let holder = tx.query_row(
                &format!("SELECT {LEASE_COLUMNS} FROM run_leases WHERE {SCOPE_IS}"),
                params![target, base_url, database, entity],
                holder_from_row,
            )?;
            if !holder.is_gone(now) {
                return Ok(Acquired::Held(holder));
            }
            let swapped = tx.execute(
                &format!(
                    "UPDATE run_leases SET run = ?5, pid = ?6, host = ?7, token = ?8,
                         started_at = ?9, heartbeat_at = ?9, pid_started = ?11
                     WHERE {SCOPE_IS} AND token = ?10"
                ),
                params![
                    target,
                    base_url,
                    database,
                    entity,
                    me.run,
                    me.pid,
                    me.host,
                    me.token,
                    now_text,
                    holder.token,
                    pid_started
                ],
            )?;
            Ok(if swapped == 1 {
                Acquired::Taken {
                    took_over: Some(holder),
                }
            } else {
                Acquired::Held(holder)
            })
        })
    }

    /// Refresh the heartbeat of `token`'s lease of `scope` (and name its run, once it
    /// has one). `false`: the lease is no longer `token`'s — it was taken over.
    pub fn heartbeat_lease(
        &mut self,
        scope: &Scope,
        token: &str,
        run: Option<i64>,
    ) -> Result<bool> {
        let scope = StoredScope::from_scope(scope);
        let now = now();
        self.write(|tx| {
            let (target, base_url, database, entity) = scope.params();
            let changed = tx.execute(
                &format!(
                    "UPDATE run_leases SET heartbeat_at = ?5, run = coalesce(?6, run)
                     WHERE {SCOPE_IS} AND token = ?7"
                ),
                params![target, base_url, database, entity, now, run, token],
            )?;
            Ok(changed == 1)
        })
    }

    /// Give up `token`'s lease of `scope`; a lease that is no longer `token`'s is left
    /// to its holder.
    pub fn release_lease(&mut self, scope: &Scope, token: &str) -> Result<()> {
        let scope = StoredScope::from_scope(scope);
        self.write(|tx| {
            let (target, base_url, database, entity) = scope.params();
            tx.execute(
                &format!("DELETE FROM run_leases WHERE {SCOPE_IS} AND token = ?5"),
                params![target, base_url, database, entity, token],
            )?;
            Ok(())
        })
    }

    /// The holder of `scope`'s run lock, if any (gone or not).
    pub fn lease(&self, scope: &Scope) -> Result<Option<Holder>> {
        let scope = StoredScope::from_scope(scope);
        let (target, base_url, database, entity) = scope.params();
        self.conn
            .query_row(
                &format!("SELECT {LEASE_COLUMNS} FROM run_leases WHERE {SCOPE_IS}"),
                params![target, base_url, database, entity],
                holder_from_row,
            )
            .optional()
            .map_err(|e| self.read_error(&e))
    }

    /// The holders of every lease that names its run, by run id: `runs list` tells a
    /// run still going from one a crash left `running`.
    pub fn lease_holders(&self) -> Result<std::collections::HashMap<i64, Holder>> {
        let holders = self
            .query(
                &format!("SELECT {LEASE_COLUMNS} FROM run_leases WHERE run IS NOT NULL"),
                [],
                holder_from_row,
            )
            .map_err(|e| self.read_error(&e))?;
        Ok(holders
            .into_iter()
            .filter_map(|h| Some((h.run?, h)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Entity, TargetId};

    fn scope(database: &str, entity: Entity) -> Scope {
        Scope {
            target: TargetId::SalesMania,
            base_url: "http://demo:secret@127.0.0.1:9/".into(),
            database_id: Some(database.into()),
            entity,
        }
    }

    /// A holder of another process: `pid` on `host`.
    fn other(pid: u32, host: &str) -> Holder {
        Holder {
            pid,
            host: host.into(),
            ..Holder::this_process(None)
        }
    }

    fn taken(a: Acquired) -> Option<Holder> {
        match a {
            Acquired::Taken { took_over } => took_over,
            Acquired::Held(h) => panic!("held by {h:?}"),
        }
    }

    fn held(a: Acquired) -> Holder {
        match a {
            Acquired::Held(h) => h,
            Acquired::Taken { .. } => panic!("taken, not held"),
        }
    }

    #[test]
    fn a_held_scope_refuses_a_second_holder_until_released() {
        let home = tempfile::tempdir().unwrap();
        let mut a = Ledger::open(home.path()).unwrap();
        let mut b = Ledger::open(home.path()).unwrap();
        let s = scope("1", Entity::Customers);
        let first = Holder::this_process(Some(14));
        // The same process (the browser) holding it counts as alive.
        let second = Holder::this_process(None);
        assert_eq!(taken(a.acquire_lease(&s, &first).unwrap()), None);
        let h = held(b.acquire_lease(&s, &second).unwrap());
        assert_eq!((h.run, h.pid), (Some(14), std::process::id()));
        assert_eq!(h.token, first.token);
        // Another entity, another database: not blocked.
        for other in [scope("1", Entity::Orders), scope("2", Entity::Customers)] {
            assert_eq!(taken(b.acquire_lease(&other, &second).unwrap()), None);
        }
        // Only the holder releases.
        b.release_lease(&s, &second.token).unwrap();
        assert!(b.lease(&s).unwrap().is_some());
        a.release_lease(&s, &first.token).unwrap();
        assert!(b.lease(&s).unwrap().is_none());
        assert_eq!(taken(b.acquire_lease(&s, &second).unwrap()), None);
    }

    #[test]
    fn a_lease_whose_process_is_gone_is_taken_over_and_its_holder_learns_it() {
        let home = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(home.path()).unwrap();
        let s = scope("1", Entity::Customers);
        // A pid no process has, on this computer: a run killed with SIGKILL.
        let dead = other(99_999_999, &crate::os::host_name());
        assert_eq!(taken(ledger.acquire_lease(&s, &dead).unwrap()), None);
        let me = Holder::this_process(Some(3));
        let gone = taken(ledger.acquire_lease(&s, &me).unwrap()).expect("took over");
        assert_eq!(gone.pid, 99_999_999);
        assert_eq!(ledger.lease(&s).unwrap().unwrap().token, me.token);
        // The old holder can neither refresh nor release the new lease.
        assert!(!ledger.heartbeat_lease(&s, &dead.token, None).unwrap());
        ledger.release_lease(&s, &dead.token).unwrap();
        assert!(ledger.heartbeat_lease(&s, &me.token, Some(4)).unwrap());
        let holders = ledger.lease_holders().unwrap();
        assert_eq!(holders.get(&4).map(|h| h.pid), Some(std::process::id()));
    }

    #[test]
    fn another_computers_lease_is_taken_over_only_once_its_heartbeat_is_old() {
        let home = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(home.path()).unwrap();
        let s = scope("1", Entity::Customers);
        // Its pid cannot be asked about: only the heartbeat tells.
        let far = other(99_999_999, "some-other-computer");
        assert_eq!(taken(ledger.acquire_lease(&s, &far).unwrap()), None);
        let me = Holder::this_process(None);
        assert_eq!(held(ledger.acquire_lease(&s, &me).unwrap()).host, far.host);
        let old = (Utc::now() - STALE_AFTER - Duration::from_secs(5))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        ledger
            .conn
            .execute("UPDATE run_leases SET heartbeat_at = ?1", [old])
            .unwrap();
        let gone = taken(ledger.acquire_lease(&s, &me).unwrap()).expect("took over");
        assert_eq!(gone.host, "some-other-computer");
    }

    /// Set every lease's heartbeat `age` ago.
    fn age_heartbeats(ledger: &Ledger, age: Duration) {
        let old = (Utc::now() - age).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        ledger
            .conn
            .execute("UPDATE run_leases SET heartbeat_at = ?1", [old])
            .unwrap();
    }

    #[test]
    fn a_live_process_of_this_computer_keeps_its_lease_however_late_unless_its_pid_was_reused() {
        let home = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(home.path()).unwrap();
        let s = scope("1", Entity::Customers);
        let me = Holder::this_process(None);
        // Stopped with Ctrl-Z for ten minutes: still alive, still its lease.
        let stopped = Holder::this_process(Some(5));
        assert_eq!(taken(ledger.acquire_lease(&s, &stopped).unwrap()), None);
        age_heartbeats(&ledger, STALE_AFTER * 5);
        if stopped.pid_started.is_some() {
            assert_eq!(held(ledger.acquire_lease(&s, &me).unwrap()).run, Some(5));
            // The same pid, started at another time: another program reused it.
            ledger
                .conn
                .execute("UPDATE run_leases SET pid_started = pid_started + 1", [])
                .unwrap();
            let gone = taken(ledger.acquire_lease(&s, &me).unwrap()).expect("took over");
            assert_eq!(gone.run, Some(5));
            ledger.release_lease(&s, &me.token).unwrap();
        }
        // A start time unknown (an older lease, an OS that does not tell): the
        // heartbeat's age decides, as before.
        let unknown = Holder {
            pid_started: None,
            ..Holder::this_process(Some(6))
        };
        assert_eq!(taken(ledger.acquire_lease(&s, &unknown).unwrap()), None);
        assert_eq!(held(ledger.acquire_lease(&s, &me).unwrap()).run, Some(6));
        age_heartbeats(&ledger, STALE_AFTER + Duration::from_secs(5));
        assert_eq!(
            taken(ledger.acquire_lease(&s, &me).unwrap()).map(|h| h.run),
            Some(Some(6))
        );
    }

    #[test]
    fn a_bare_resume_passes_over_a_run_still_going() {
        let home = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(home.path()).unwrap();
        let run = |l: &mut Ledger| {
            l.begin_run(&crate::ledger::NewRun {
                target: TargetId::SalesMania,
                base_url: "http://127.0.0.1:9/".into(),
                database_id: Some("1".into()),
                database_name: None,
                entity: Entity::Customers,
                mode: crate::spec::Mode::Create,
                input_path: "c.csv".into(),
                input_fingerprint: "f".into(),
                sheet: None,
                config_json: "{}".into(),
                total_rows: 1,
            })
            .unwrap()
        };
        let (crashed, going) = (run(&mut ledger), run(&mut ledger));
        let s = scope("1", Entity::Customers);
        let me = Holder::this_process(Some(going));
        taken(ledger.acquire_lease(&s, &me).unwrap());
        assert_eq!(ledger.last_unfinished().unwrap().unwrap().id, crashed);
        ledger.release_lease(&s, &me.token).unwrap();
        assert_eq!(ledger.last_unfinished().unwrap().unwrap().id, going);
    }

    #[test]
    fn a_version_2_ledger_gains_the_lease_table() {
        let home = tempfile::tempdir().unwrap();
        {
            let ledger = Ledger::open(home.path()).unwrap();
            ledger
                .conn
                .execute_batch("DROP TABLE run_leases; PRAGMA user_version = 2;")
                .unwrap();
        }
        let mut ledger = Ledger::open(home.path()).unwrap();
        let s = scope("1", Entity::Customers);
        assert!(ledger.lease(&s).unwrap().is_none());
        let me = Holder::this_process(None);
        assert_eq!(taken(ledger.acquire_lease(&s, &me).unwrap()), None);
    }

    #[test]
    fn a_holder_is_gone_when_silent_too_long_or_its_process_ended() {
        let now = Utc::now();
        let late = now + chrono::Duration::seconds(121);
        let me = Holder::this_process(None);
        assert!(!me.is_gone(now));
        // Alive here with a known start time: never gone for its silence alone.
        assert_eq!(me.is_gone(late), me.pid_started.is_none());
        let far = other(99_999_999, "elsewhere");
        assert!(!far.is_gone(now) && far.is_gone(late));
        let unknown_start = Holder {
            pid_started: None,
            ..Holder::this_process(None)
        };
        assert!(!unknown_start.is_gone(now) && unknown_start.is_gone(late));
        assert!(other(99_999_999, &crate::os::host_name()).is_gone(now));
        let unreadable = Holder {
            heartbeat_at: "yesterday".into(),
            pid_started: None,
            ..Holder::this_process(None)
        };
        assert!(unreadable.is_gone(now));
    }
}
