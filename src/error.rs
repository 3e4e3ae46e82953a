//! Errors that end a run, and the exit codes they map to.
//!
//! A failed *row* is never one of these: it is a result with a status. These are the
//! conditions under which nothing (more) can be done: unusable input, bad configuration,
//! refused credentials, an interruption.

use std::fmt;

/// Exit codes are part of the command-line contract (README, DESIGN.md).
pub mod exit {
    /// Every row OK (or VALID in a dry run).
    pub const OK: u8 = 0;
    /// Some rows failed, were invalid or ended unknown.
    pub const ROWS_FAILED: u8 = 1;
    /// Usage, configuration or unreadable input, or another run holds the run lock of
    /// the same target, database and entity; nothing was sent.
    pub const USAGE: u8 = 2;
    /// The target refused the credentials.
    pub const AUTH: u8 = 3;
    /// Parked: the API's quota is spent; everything is written and `resume` goes on
    /// after the reset.
    pub const PARKED: u8 = 75;
    /// Interrupted by Ctrl-C; the ledger and result workbook are still written.
    pub const INTERRUPTED: u8 = 130;
}

/// Why a run could not go on; each kind has its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line or a configuration/mapping file is wrong.
    #[error("{0}")]
    Usage(String),
    /// The input file cannot be read or has no usable table.
    #[error("{0}")]
    Input(String),
    /// The target refused the credentials.
    #[error("{0}")]
    Auth(String),
    /// Writing an output file failed.
    #[error("{0}")]
    Output(String),
    /// Another run is writing to the same target, database and entity (the run lock
    /// is held): nothing was sent. `plain` says it without flags or commands, for the
    /// browser.
    #[error("{text}")]
    Busy {
        /// The message for the terminal: who holds the lock, how to wait for it.
        text: String,
        /// The same in plain words.
        plain: String,
    },
    /// The user pressed Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// A sheet read after a quick survey (see `ReadOptions::quick_survey`) met what only
    /// a full survey handles: the run starts over with one. Never shown to a user.
    #[error("{0}: the sheet must be read again with a full survey")]
    Reread(String),
}

impl Error {
    /// The documented exit code for this kind of failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_)
            | Error::Input(_)
            | Error::Output(_)
            | Error::Reread(_)
            | Error::Busy { .. } => exit::USAGE,
            Error::Auth(_) => exit::AUTH,
            Error::Interrupted => exit::INTERRUPTED,
        }
    }

    /// Shorthand for an input error built with `format!`-style arguments.
    pub fn input(msg: impl fmt::Display) -> Self {
        Error::Input(msg.to_string())
    }

    /// Shorthand for a usage error.
    pub fn usage(msg: impl fmt::Display) -> Self {
        Error::Usage(msg.to_string())
    }

    /// Shorthand for an output error.
    pub fn output(msg: impl fmt::Display) -> Self {
        Error::Output(msg.to_string())
    }
}

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
