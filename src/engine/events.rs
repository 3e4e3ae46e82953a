//! What the engine tells its front ends while a run goes: the terminal's progress bar is
//! one observer, the browser's live page another; neither is a special case in the loop.

use crate::output::result::Outcome;

/// Something that happened in a run.
#[derive(Debug)]
pub enum Event<'a> {
    /// The rows are read and the plan begins; `total` when the row count is known.
    Started {
        /// Data rows in the input.
        total: Option<u64>,
        /// `true` for a dry run.
        dry_run: bool,
    },
    /// A row has its outcome (sent, skipped, invalid …).
    Settled {
        /// Input row number.
        row: u32,
        /// What happened to it.
        outcome: &'a Outcome,
    },
    /// A row already settled by an earlier attempt of this run (resume).
    AlreadyDone {
        /// Input row number.
        row: u32,
    },
    /// Every request has settled; the result workbook comes next.
    Finished,
}

/// Watches a run. Called on the engine's task: keep it quick.
pub trait Observer: Send {
    /// One event.
    fn event(&mut self, event: Event<'_>);
}
