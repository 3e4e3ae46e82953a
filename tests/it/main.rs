//! The integration tests, in one binary: the crate is linked once instead of once per
//! file, and every module shares the helpers of `common` (the fluent `TestEnv` runner of
//! the real binary, sandbox and workbook readers).
//!
//! Run one module with `cargo test --test it import::`, one test with
//! `cargo test --test it import::create_then_rerun_creates_nothing_twice`.
//!
//! A new test file `tests/it/NAME.rs` needs one line below (`mod NAME;`) and reaches the
//! helpers with `use crate::common::{TestEnv, records, …};`.

mod common;

mod allowance;
mod cli_fixes;
mod dispatch_fixes;
mod every_target;
mod excel_edges;
mod export;
mod export_fixes;
mod flat_memory;
mod formats;
mod fuzz_regressions;
mod hostile_cells;
mod hostile_csv;
mod hostile_workbooks;
mod import;
mod ledger;
mod manners;
mod matrix;
mod orders;
mod orders_sample;
mod reading_fixes;
mod readme;
mod result_identity;
mod robustness;
mod row_fixes;
mod run_lock;
mod samples;
mod sandbox_cli;
mod sandbox_contract;
mod sandbox_faults;
mod sandbox_targets;
mod security;
mod server_truth;
mod soak;
mod soak_months;
mod targets;
mod template;
mod timings;
mod validate;
mod validation_fixes;
mod web_browser;
mod web_http;
