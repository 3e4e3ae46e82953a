//! Ctrl-C and SIGTERM during a run: the first stops the sending (requests in flight
//! finish, the ledger and result workbook are written); the second ends the process at
//! once, which is safe because every row was marked *sending* in the ledger before its
//! request left, so `sheetload resume` knows what may have arrived.

use crate::error::exit;

/// Ctrl-C, and on Unix SIGTERM (what `kill`, systemd and CI runners send), registered
/// as soon as this is built.
pub(super) struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Start listening (inside the runtime).
    pub(super) fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// The next Ctrl-C or SIGTERM; `false` when no signal can be listened for.
    pub(super) async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            if self.interrupt.is_none() && self.terminate.is_none() {
                return false;
            }
            async fn recv(s: Option<&mut tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                _ = recv(self.interrupt.as_mut()) => true,
                _ = recv(self.terminate.as_mut()) => true,
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.is_ok()
        }
    }
}

/// Call `first` on the first signal; on the second, exit with the interrupted code.
pub(super) fn watch(first: impl FnOnce() + Send + 'static) {
    let mut signals = Signals::listen();
    tokio::spawn(async move {
        if !signals.next().await {
            return;
        }
        first();
        eprintln!(
            "interrupted: finishing the requests in flight and writing the result (Ctrl-C again quits at once; `sheetload resume` finishes the run later)"
        );
        if signals.next().await {
            eprintln!("interrupted again: quitting now; `sheetload resume` finishes the run");
            std::process::exit(i32::from(exit::INTERRUPTED));
        }
    });
}
