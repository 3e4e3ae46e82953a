//! Latency that is what it says: tokio's timer runs on a one-millisecond wheel and rounds
//! every sleep up to its next tick, so a configured 20 ms was answered in about 21 ms and
//! every throughput figure measured against the sandbox carried a 5 % error that was not
//! the client's. The last stretch of a simulated latency is therefore timed by one thread
//! that sleeps with the operating system's clock (tens of microseconds off, not a tick).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// How much of a sleep is left to tokio's wheel: everything but its last two ticks.
const COARSE_MARGIN: Duration = Duration::from_millis(2);

/// One waiting sleep: when it ends, who to wake, and an order among equal deadlines.
type Waiting = (Reverse<(Instant, u64)>, WakeOnDrop);

/// The sender that ends a sleep; ordered by nothing (the deadline orders the heap).
struct WakeOnDrop(oneshot::Sender<()>);

impl PartialEq for WakeOnDrop {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for WakeOnDrop {}
impl PartialOrd for WakeOnDrop {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for WakeOnDrop {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

/// A sleep handed to the timer thread: when it ends and who to wake.
type Request = (Instant, oneshot::Sender<()>);

/// The timer thread's inbox; started on first use, lives as long as the process.
fn timer() -> Option<&'static std::sync::Mutex<Sender<Request>>> {
    static TIMER: OnceLock<Option<std::sync::Mutex<Sender<Request>>>> = OnceLock::new();
    TIMER
        .get_or_init(|| {
            let (tx, rx) = channel();
            std::thread::Builder::new()
                .name("sandbox-timer".into())
                .spawn(move || run(rx))
                .ok()
                .map(|_| std::sync::Mutex::new(tx))
        })
        .as_ref()
}

/// Wake every sleep whose deadline has come, waiting on the inbox until the next one.
fn run(rx: Receiver<Request>) {
    let mut heap: BinaryHeap<Waiting> = BinaryHeap::new();
    let mut seq = 0u64;
    loop {
        let now = Instant::now();
        while heap.peek().is_some_and(|(Reverse((at, _)), _)| *at <= now) {
            if let Some((_, WakeOnDrop(tx))) = heap.pop() {
                let _ = tx.send(());
            }
        }
        let next = match heap.peek() {
            Some((Reverse((at, _)), _)) => rx.recv_timeout(at.saturating_duration_since(now)),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match next {
            Ok((at, tx)) => {
                seq += 1;
                heap.push((Reverse((at, seq)), WakeOnDrop(tx)));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Sleep for `d`, to within the operating system's timer precision.
pub(crate) async fn sleep(d: Duration) {
    let deadline = Instant::now() + d;
    if d > COARSE_MARGIN {
        tokio::time::sleep_until((deadline - COARSE_MARGIN).into()).await;
    }
    let (tx, rx) = oneshot::channel();
    let sent = timer().is_some_and(|t| match t.lock() {
        Ok(inbox) => inbox.send((deadline, tx)).is_ok(),
        Err(_) => false,
    });
    if sent {
        let _ = rx.await;
    } else {
        // No timer thread (it could not start): tokio's own, a tick coarser.
        tokio::time::sleep_until(deadline.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sleeps_as_long_as_asked_never_less() {
        // Many sleeps at once, as under load: each ends, and none before its time (how
        // much later is the benchmark's to report, not a timed test's).
        let asked = Duration::from_micros(20_300);
        let mut tasks = Vec::new();
        for _ in 0..64 {
            tasks.push(tokio::spawn(async move {
                let start = Instant::now();
                sleep(asked).await;
                start.elapsed()
            }));
        }
        for t in tasks {
            let took = t.await.unwrap();
            assert!(took >= asked, "woke early: {took:?}");
            assert!(
                took < Duration::from_secs(5),
                "never woke in time: {took:?}"
            );
        }
        // A sleep shorter than the coarse margin goes to the thread at once.
        let start = Instant::now();
        sleep(Duration::from_micros(300)).await;
        assert!(start.elapsed() >= Duration::from_micros(300));
    }
}
