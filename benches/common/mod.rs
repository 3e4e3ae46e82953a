//! Shared by the benches: a child's wall time and peak RSS (Linux only). The peak is
//! `wait4`'s `ru_maxrss`, or, for a child killed past a time limit, its `VmHWM` in
//! `/proc/<pid>/status` read every 5 ms.
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

/// The `VmHWM` of process `pid` in kB, if its status can be read now.
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        let v = l.strip_prefix("VmHWM:")?;
        v.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// Waits for `child` (spawned at `started`), with its peak RSS; with a `limit`, kills it
/// once that much time has passed and reports `status: None` (polling `/proc` for the
/// peak meanwhile). Without one, the child is reaped with `wait4`, whose `ru_maxrss` is
/// the peak the kernel kept: exact, and nothing reads `/proc` while the child runs (each
/// read takes the child's memory-map lock; polled every 5 ms it slowed a 1.25 s run by
/// ~30 ms).
pub fn watch(child: &mut Child, started: Instant, limit: Option<Duration>) -> Measured {
    let pid = child.id();
    let mut peak = 0u64;
    if limit.is_none() {
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero `rusage` is a valid value of the plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let reaped = loop {
            // SAFETY: `status` and `usage` are valid for writes for the call; `pid` is
            // this process's own child, not yet reaped (std reaps only in `wait`).
            let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
            if r != -1 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
            {
                break r;
            }
        };
        let secs = started.elapsed().as_secs_f64();
        let status = (reaped == pid as libc::pid_t)
            .then(|| std::os::unix::process::ExitStatusExt::from_raw(status));
        return Measured {
            secs,
            // Linux gives ru_maxrss in kB.
            peak_mb: usage.ru_maxrss as f64 / 1024.0,
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
