//! The terminal's view of an import: one observer of the engine's events.

use indicatif::ProgressBar;

use crate::engine::events::{Event, Observer};
use crate::ui::{Printer, thousands};

/// The terminal's view of a run: a progress bar (on a terminal, without `--quiet`) with
/// the total, the percentage, rows/s, the ETA and the OK / failed counts. One observer of
/// the engine's events among others.
pub struct Progress {
    printer: Printer,
    bar: Option<ProgressBar>,
    ok: u64,
    bad: u64,
}

impl Progress {
    /// No bar until the run starts.
    pub fn new(printer: Printer) -> Self {
        Progress {
            printer,
            bar: None,
            ok: 0,
            bad: 0,
        }
    }
}

impl Observer for Progress {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Started { total, dry_run } => {
                let what = if dry_run { "planning" } else { "importing" };
                self.bar = Some(self.printer.progress(total, what));
            }
            Event::Settled { outcome, .. } => {
                let failed = outcome.status.is_some_and(|s| s.is_failure());
                if failed {
                    self.bad += 1;
                } else {
                    self.ok += 1;
                }
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                    if failed || self.ok.is_multiple_of(64) {
                        bar.set_message(format!(
                            "· OK {} · failed {}",
                            thousands(self.ok),
                            thousands(self.bad)
                        ));
                    }
                }
            }
            Event::AlreadyDone { .. } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            Event::Finished => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
