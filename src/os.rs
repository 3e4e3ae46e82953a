//! Questions to the operating system, in one place with one path per OS (DESIGN.md):
//! whether a process still runs, when it started, and this computer's name. The run lock, the sweep of
//! spills that killed runs left and the browser's stale upload folders all ask here,
//! so a port to another OS changes this file only.

/// Whether process `pid` runs on this computer. A process that exists but belongs to
/// another user counts as running. A pid no process can have (0, out of range) is
/// gone. Where the OS cannot be asked, every process counts as running, so that
/// nothing of a live run is ever taken or deleted.
pub fn process_alive(pid: u32) -> bool {
    imp::process_alive(pid)
}

/// When process `pid` started, in the OS's own unit (Linux: clock ticks since boot;
/// Windows: its creation FILETIME); `None` when the OS cannot tell. The run lock stores
/// it beside the pid: a pid that runs with another start time was reused by another
/// program, and its holder is gone.
pub fn process_started(pid: u32) -> Option<u64> {
    imp::process_started(pid)
}

/// A monotonic clock that also runs while the computer sleeps (Linux: `CLOCK_BOOTTIME`;
/// macOS's `CLOCK_MONOTONIC` and Windows' performance counter do already): a run that
/// wakes from a suspend sees how long it was away, as a process resumed after Ctrl-Z
/// does. Only differences between two readings mean anything.
pub fn awake_clock() -> std::time::Duration {
    imp::awake_clock()
}

/// This computer's name, as the run lock records who holds it; empty when the OS does
/// not tell.
pub fn host_name() -> String {
    imp::host_name()
}

/// Time since this process first asked, on std's monotonic clock: where the OS has no
/// better one.
fn process_clock() -> std::time::Duration {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(std::time::Instant::now).elapsed()
}

#[cfg(unix)]
mod imp {
    pub fn process_alive(pid: u32) -> bool {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if pid <= 0 {
            // 0 and negative pids name process groups, never one process.
            return false;
        }
        // SAFETY: signal 0 sends nothing: `kill` only checks that the process exists
        // and may be signalled; it reads and writes no memory of ours.
        let exists = unsafe { libc::kill(pid, 0) } == 0
            // EPERM: it exists, owned by another user. ESRCH: no such process.
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        exists && !zombie(pid)
    }

    /// A process that has ended but that its parent has not reaped yet still answers
    /// `kill`: on Linux its state in `/proc` tells it is a zombie, holding nothing.
    #[cfg(target_os = "linux")]
    fn zombie(pid: libc::pid_t) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            // `pid (name) S …`: the name may hold spaces and parentheses.
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn zombie(_pid: libc::pid_t) -> bool {
        false
    }

    /// Field 22 of `/proc/<pid>/stat`, `starttime`, counted after the name's `)`.
    #[cfg(target_os = "linux")]
    pub fn process_started(pid: u32) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (_, rest) = stat.rsplit_once(')')?;
        // `rest` begins with field 3 (the state): field 22 is its 20th word.
        rest.split_whitespace().nth(19)?.parse().ok()
    }

    #[cfg(not(target_os = "linux"))]
    pub fn process_started(_pid: u32) -> Option<u64> {
        None
    }

    pub fn awake_clock() -> std::time::Duration {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        const CLOCK: libc::clockid_t = libc::CLOCK_BOOTTIME;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid, writable timespec for the call to fill.
        if unsafe { libc::clock_gettime(CLOCK, &mut t) } != 0 {
            return super::process_clock();
        }
        std::time::Duration::new(
            u64::try_from(t.tv_sec).unwrap_or(0),
            u32::try_from(t.tv_nsec).unwrap_or(0),
        )
    }

    pub fn host_name() -> String {
        let mut buf = [0u8; 256];
        // SAFETY: `buf` is writable for the length given; `gethostname` writes at most
        // that many bytes.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc != 0 {
            return String::new();
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    }
}

#[cfg(windows)]
mod imp {
    use windows_sys::Win32::Foundation::{
        CloseHandle, ERROR_ACCESS_DENIED, FILETIME, GetLastError, STILL_ACTIVE,
    };
    use windows_sys::Win32::System::Threading::{
        GetExitCodeProcess, GetProcessTimes, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
    };

    pub fn process_started(pid: u32) -> Option<u64> {
        if pid == 0 {
            return None;
        }
        let zero = FILETIME {
            dwLowDateTime: 0,
            dwHighDateTime: 0,
        };
        let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
        // SAFETY: the handle is checked before use and closed once; the four times are
        // written into locals of the type the call asks for.
        let asked = unsafe {
            let handle = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
            if handle.is_null() {
                return None;
            }
            let asked = GetProcessTimes(handle, &mut created, &mut exited, &mut kernel, &mut user);
            CloseHandle(handle);
            asked
        };
        (asked != 0)
            .then(|| (u64::from(created.dwHighDateTime) << 32) | u64::from(created.dwLowDateTime))
    }

    pub fn process_alive(pid: u32) -> bool {
        if pid == 0 {
            return false;
        }
        // SAFETY: the handle is checked before use and closed once; the exit code is
        // written into a local of the type the call asks for.
        unsafe {
            let handle = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
            if handle.is_null() {
                // Access denied: it exists, owned by another user.
                return GetLastError() == ERROR_ACCESS_DENIED;
            }
            let mut code: u32 = 0;
            let asked = GetExitCodeProcess(handle, &mut code);
            CloseHandle(handle);
            asked != 0 && code == STILL_ACTIVE as u32
        }
    }

    pub fn awake_clock() -> std::time::Duration {
        super::process_clock()
    }

    pub fn host_name() -> String {
        std::env::var("COMPUTERNAME").unwrap_or_default()
    }
}

#[cfg(not(any(unix, windows)))]
mod imp {
    pub fn process_alive(_pid: u32) -> bool {
        true
    }

    pub fn process_started(_pid: u32) -> Option<u64> {
        None
    }

    pub fn awake_clock() -> std::time::Duration {
        super::process_clock()
    }

    pub fn host_name() -> String {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_and_one_beyond_every_pid_range_does_not() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(0));
        // Beyond the largest pid Linux (4,194,304) and Windows hand out.
        assert!(!process_alive(99_999_999));
        assert!(!process_alive(u32::MAX));
    }

    #[test]
    fn a_child_that_exited_is_gone_reaped_or_not() {
        let Ok(mut child) = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--list")
            .stdout(std::process::Stdio::null())
            .spawn()
        else {
            return;
        };
        let pid = child.id();
        // Ended but not reaped: a zombie, which Linux tells apart (it says so within
        // moments of the child's end; a zombie taken for alive never does).
        #[cfg(target_os = "linux")]
        {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while process_alive(pid) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            assert!(!process_alive(pid), "a zombie holds nothing");
        }
        child.wait().unwrap();
        // Reaped: the pid is free (unless reused at once, which the OS avoids).
        assert!(!process_alive(pid));
    }

    #[test]
    fn a_process_start_time_is_stable_and_tells_processes_apart() {
        let me = process_started(std::process::id());
        if cfg!(any(target_os = "linux", windows)) {
            assert!(me.is_some());
        }
        assert_eq!(process_started(std::process::id()), me);
        assert_eq!(process_started(99_999_999), None);
        assert_eq!(process_started(0), None);
    }

    #[test]
    fn the_awake_clock_moves_forward() {
        let a = awake_clock();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(awake_clock() >= a + std::time::Duration::from_millis(5));
    }

    #[test]
    fn this_computer_has_a_name() {
        assert!(!host_name().is_empty());
    }
}
