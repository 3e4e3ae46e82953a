//! sheetload: move business records between spreadsheets and SaaS REST APIs.
//!
//! The pipeline (see DESIGN.md): read → map → validate → build payloads → plan →
//! dispatch → ledger → report. `main.rs` only parses arguments and maps errors to exit codes.

pub mod cli;
pub mod commands;
pub mod connection;
pub mod connector;
pub mod dispatch;
pub mod engine;
pub mod error;
pub mod export;
pub mod input;
pub mod ledger;
pub mod mapping;
pub mod os;
pub mod output;
pub mod payload;
pub mod sandbox;
pub mod spec;
pub mod targets;
pub mod ui;
pub mod validate;
pub mod web;

/// When the process started (its first call, made first thing in `main`): the fixed
/// costs of a run — to its first request, after its last answer — are measured from here.
pub fn process_started() -> std::time::Instant {
    static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *STARTED.get_or_init(std::time::Instant::now)
}

thread_local! {
    static QUIET_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` with panic messages silenced on this thread: a panic inside a library that
/// sheetload catches (a damaged workbook) becomes an error message, not a backtrace.
pub fn quiet_panics<T>(f: impl FnOnce() -> T) -> T {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET_PANICS.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET_PANICS.with(|q| q.set(true));
    let out = f();
    QUIET_PANICS.with(|q| q.set(false));
    out
}
