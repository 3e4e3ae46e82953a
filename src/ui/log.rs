//! `-v` / `-vv` / `--log LEVEL` (`SHEETLOAD_LOG`): this crate's `tracing` events on
//! stderr through `tracing-subscriber`, with the time since start. `info` (`-v`) tells
//! retries, waits and sign-ins; `debug` (`-vv`) adds every request with its status and
//! timing (see [`crate::connector::log`] for what is masked). Other crates' events stay
//! off whatever the level: their messages are not checked for credentials.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::time::Uptime;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Log levels by name, for `--log` and `SHEETLOAD_LOG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Level {
    /// Nothing.
    Off,
    /// Errors only (sheetload reports those anyway).
    Error,
    /// Warnings.
    Warn,
    /// Retries, waits, sign-ins (`-v`).
    Info,
    /// Every request: method, path, status, time, attempt, row (`-vv`).
    Debug,
    /// Everything this crate logs (`-vvv`).
    Trace,
}

impl Level {
    /// `--log` / `SHEETLOAD_LOG`: a level name in any case; blank (`SHEETLOAD_LOG=`) is
    /// off, as a blank variable means unset everywhere else.
    pub fn parse(text: &str) -> Result<Level, String> {
        use clap::ValueEnum as _;
        if text.trim().is_empty() {
            return Ok(Level::Off);
        }
        Level::from_str(text.trim(), true).map_err(|_| {
            format!("'{text}' is not a log level: use off, error, warn, info, debug or trace")
        })
    }

    /// The level `-v` given `count` times asks for.
    pub fn from_verbosity(count: u8) -> Level {
        match count {
            0 => Level::Off,
            1 => Level::Info,
            2 => Level::Debug,
            _ => Level::Trace,
        }
    }

    fn filter(self) -> LevelFilter {
        match self {
            Level::Off => LevelFilter::OFF,
            Level::Error => LevelFilter::ERROR,
            Level::Warn => LevelFilter::WARN,
            Level::Info => LevelFilter::INFO,
            Level::Debug => LevelFilter::DEBUG,
            Level::Trace => LevelFilter::TRACE,
        }
    }
}

static ON: AtomicBool = AtomicBool::new(false);

/// Whether a log goes to stderr: the progress bar then stays hidden, so that the two
/// do not overwrite each other.
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Start logging at the higher of `-v`'s count and `--log`; nothing when both are off.
pub fn init(verbose: u8, level: Option<Level>) {
    let level = Level::from_verbosity(verbose).max(level.unwrap_or(Level::Off));
    if level == Level::Off {
        return;
    }
    let only_ours = Targets::new().with_target(env!("CARGO_CRATE_NAME"), level.filter());
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_timer(Uptime::default())
        .with_target(false)
        .with_ansi(false);
    if tracing_subscriber::registry()
        .with(stderr)
        .with(only_ours)
        .try_init()
        .is_ok()
    {
        ON.store(true, Ordering::Relaxed);
    }
}
