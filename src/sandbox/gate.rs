//! The write gate: a test catches the next N data writes (POST, PATCH, PUT, DELETE) at
//! the door and holds them until it releases them, so that "a run is sending right
//! now" is a state the test sets and observes (`writes_waiting`), not a race against
//! the sandbox's latency. Reads, sign-ins and the writes after the N pass, so a second
//! run can plan and send meanwhile.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::watch;

/// How many writes are still to be caught, how many wait, and a release counter.
pub(crate) struct WriteGate {
    to_catch: AtomicUsize,
    waiting: AtomicUsize,
    releases: watch::Sender<u64>,
}

impl Default for WriteGate {
    fn default() -> Self {
        WriteGate {
            to_catch: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            releases: watch::Sender::new(0),
        }
    }
}

/// Counts a write as waiting while it waits, however its wait ends (the client gone).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl WriteGate {
    /// Catch and hold the next `n` writes; `0` lets every waiting write through at once
    /// and catches none.
    pub(crate) fn hold(&self, n: usize) {
        self.to_catch.store(n, Ordering::SeqCst);
        if n == 0 {
            self.releases.send_modify(|r| *r += 1);
        }
    }

    /// How many writes wait at the gate.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Wait here if this write is one to catch, until released (or `stopping`
    /// resolves: shutdown never waits).
    pub(crate) async fn pass(&self, stopping: impl std::future::Future<Output = ()>) {
        let mut released = self.releases.subscribe();
        let caught = self
            .to_catch
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if !caught {
            return;
        }
        let now = *released.borrow_and_update();
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiting);
        tokio::select! {
            _ = released.wait_for(|r| *r != now) => {}
            () = stopping => {}
        }
    }
}
