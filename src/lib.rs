//! sheetload: move business records between spreadsheets and SaaS REST APIs.
//!
//! The pipeline (see DESIGN.md): read → map → validate → build payloads → plan →
//! dispatch → ledger → report. `main.rs` only parses arguments and maps errors to exit codes.

pub mod cli;
pub mod commands;
pub mod connector;
pub mod dispatch;
pub mod error;
pub mod input;
pub mod ledger;
pub mod mapping;
pub mod output;
pub mod payload;
pub mod sandbox;
pub mod spec;
pub mod ui;
pub mod validate;
