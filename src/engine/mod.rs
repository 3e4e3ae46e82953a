//! The import pipeline as a library, driven alike by `import`, `resume`, `retry` and
//! (next) the browser: prepare (read → map → validate, in `commands::validate`) → plan →
//! dispatch → ledger → report. What happens is told to an [`events::Observer`] as it
//! happens; the terminal's progress bar is one, never a special case inside the loop.
//!
//! What differs per kind of target is a [`job::RowPlanner`]: keyed rows ([`keyed`]),
//! grouped rows (orders) and form changes (Trackfinity). One dispatch loop
//! ([`dispatch`]) holds the permits, the queue, sending marks, Ctrl-C, `--max-errors`
//! and the ledger writer for all of them.

pub mod again;
mod config;
mod confirm;
pub mod dispatch;
pub mod events;
pub mod flight;
pub mod job;
pub mod keyed;
mod ledger_writer;
mod lock;
pub mod prepare;
pub mod quota;
mod remote;
pub mod report;
mod run;
mod signals;
pub mod spill;
pub mod target;
pub mod undo;
pub mod validate;

pub use config::Config;
pub(crate) use config::{stored_config, stored_options};
pub use confirm::row_total;
pub use dispatch::Stop;
pub(crate) use remote::references;
pub use run::{Ran, run};
