//! The targets sheetload writes to, behind one trait. What differs per target — how it
//! signs in, where a run writes, how its rows are planned, what it can list and delete —
//! lives in its folder; the engine and the commands ask the registry below.
//!
//! Adding a target: a folder `src/targets/<name>/` with a type implementing [`Target`]
//! (its connection, and a planner if its rows are not plain keyed rows), its spec files
//! under `templates/<name>/` listed in [`crate::spec`], and one line in `TARGETS` below.
//! A sandbox router of its own under `src/sandbox/<name>/` lets it be rehearsed.

pub mod fatura;
pub mod salesmania;
pub mod trackfinity;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::commands::connection::{Connected, ConnectionArgs};
use crate::commands::validate::Prepared;
use crate::connector::Database;
use crate::dispatch::Ctx;
use crate::engine::Config;
use crate::engine::job::RowPlanner;
use crate::error::{Error, Result};
use crate::ui::Printer;

/// A boxed future, for the trait's async steps.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// What a planner is made from.
pub struct PlanInputs<'a> {
    /// The run's options.
    pub cfg: &'a Config,
    /// The sheet, mapped.
    pub prepared: &'a Prepared,
    /// Signed-in requests.
    pub ctx: &'a Ctx,
    /// The target's connection (collections, database).
    pub conn: &'a Connected,
    /// The natural-key field (`--key` or the spec's).
    pub key_field: Option<&'a str>,
    /// For notes ("reading the customers already in …").
    pub ui: &'a Printer,
}

/// One target API.
pub trait Target: Sync {
    /// Its name on the command line and in the ledger (`fatura`).
    fn name(&self) -> &'static str;

    /// How its users call it (`Fatura Entegratör`).
    fn label(&self) -> &'static str;

    /// Sign in (or start the in-process sandbox with `--sandbox`).
    fn connect<'a>(
        &'a self,
        args: &'a ConnectionArgs,
        timeout: Duration,
        pool: usize,
        ui: &'a Printer,
    ) -> BoxFuture<'a, Result<Connected>>;

    /// How messages name where a run writes. A target without databases names its
    /// account by host (the database id of such a target is its host).
    fn destination(&self, database: &Database) -> String {
        format!("{} at {}", database.name, database.id)
    }

    /// The planner for a run: keyed rows unless the target says otherwise.
    fn planner<'a>(
        &'a self,
        inputs: PlanInputs<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn RowPlanner + 'a>>> {
        Box::pin(crate::engine::keyed::planner(inputs))
    }

    /// What `export` can write from this target.
    fn exports(&self) -> &'static [&'static str];
}

/// Every target, one line each.
static TARGETS: &[&dyn Target] = &[
    &salesmania::SalesMania,
    &trackfinity::Trackfinity,
    &fatura::Fatura,
];

/// The target chosen when `--target` is not given.
pub const DEFAULT: &str = "salesmania";

/// The target named `name` (as `--target` spells it).
pub fn get(name: &str) -> Result<&'static dyn Target> {
    TARGETS
        .iter()
        .copied()
        .find(|t| t.name().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            Error::usage(format!(
                "unknown target '{name}': use {}",
                names().join(", ")
            ))
        })
}

/// The targets' names, for messages and help.
pub fn names() -> Vec<&'static str> {
    TARGETS.iter().map(|t| t.name()).collect()
}
