//! Shared by the benches: a child's wall time and peak RSS, its `VmHWM` in
//! `/proc/<pid>/status` (Linux only; 0 elsewhere), read while it runs, because the kernel
//! forgets it once the child is reaped.
#![allow(dead_code)]

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How long a child ran, its peak RSS and how it ended.
pub struct Measured {
    /// Wall seconds from `started` until the child was seen to exit.
    pub secs: f64,
    /// Peak resident set size in MB (`VmHWM`).
    pub peak_mb: f64,
    /// `None` when it outran its limit and was killed.
    pub status: Option<ExitStatus>,
}

impl Measured {
    /// The exit code, -1 when killed or ended by a signal.
    pub fn code(&self) -> i32 {
        self.status.and_then(|s| s.code()).unwrap_or(-1)
    }
}

/// How often a running child's peak RSS is read: `VmHWM` only grows, so a read after
/// the peak has it; what a child adds in its last few milliseconds may be missed.
const PEAK_POLL: Duration = Duration::from_millis(20);

/// The `VmHWM` of process `pid` in kB, if its status can be read now.
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        let v = l.strip_prefix("VmHWM:")?;
        v.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// Waits for `child` (spawned at `started`), with its peak RSS; with a `limit`, kills it
/// once that much time has passed and reports `status: None`. Without one, the exit is
/// awaited on a thread of its own, so that the time ends when the child does, and the
/// peak is polled every [`PEAK_POLL`]: each read of `/proc/<pid>/status` takes the
/// child's memory-map lock (polled every 5 ms it slowed a 1.25 s run by ~30 ms), and
/// `wait4`'s `ru_maxrss` cannot stand in for it, since Linux counts in it the parent's
/// own peak at the moment it spawned the child.
pub fn watch(child: &mut Child, started: Instant, limit: Option<Duration>) -> Measured {
    let pid = child.id();
    let mut peak = 0u64;
    if limit.is_none() {
        let done = std::sync::atomic::AtomicBool::new(false);
        let (status, ended) = std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let status = child.wait().ok();
                let ended = started.elapsed();
                done.store(true, std::sync::atomic::Ordering::Release);
                (status, ended)
            });
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                peak = peak.max(peak_kb(pid).unwrap_or(0));
                std::thread::sleep(PEAK_POLL);
            }
            waiter.join().unwrap_or((None, started.elapsed()))
        });
        return Measured {
            secs: ended.as_secs_f64(),
            peak_mb: peak as f64 / 1024.0,
            status,
        };
    }
    loop {
        peak = peak.max(peak_kb(pid).unwrap_or(0));
        let measured = |status| Measured {
            secs: started.elapsed().as_secs_f64(),
            peak_mb: peak as f64 / 1024.0,
            status,
        };
        if let Ok(Some(status)) = child.try_wait() {
            return measured(Some(status));
        }
        if limit.is_some_and(|l| started.elapsed() > l) {
            let _ = child.kill();
            let _ = child.wait();
            return measured(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
