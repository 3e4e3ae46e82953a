//! One module per command; each takes a plain config (never clap types) and returns the
//! exit code its outcome deserves.

pub mod export;
pub mod import;
pub mod manual;
pub mod progress;
pub mod report;
pub mod runs;
pub mod sandbox;
pub mod template;
pub mod undo;
pub mod validate;
pub mod web;
