//! What the engine needs of a target: sign-in, where a run writes, how its rows are
//! planned, what it can list. The targets (`crate::targets`) implement it; the engine
//! never names one.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::Config;
use super::job::RowPlanner;
use super::prepare::Prepared;
use crate::connection::{Connected, ConnectionArgs};
use crate::connector::Database;
use crate::dispatch::Ctx;
use crate::error::Result;
use crate::spec::{ExportKind, TargetId};
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
    /// Which target it is.
    fn id(&self) -> TargetId;

    /// Its name on the command line and in the ledger (`fatura`).
    fn name(&self) -> &'static str {
        self.id().as_str()
    }

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
    fn exports(&self) -> &'static [ExportKind];

    /// Whether the account holds databases to choose from (SalesMania's).
    fn has_databases(&self) -> bool {
        false
    }

    /// How to sign in to this target's part of the built-in sandbox, for a front end
    /// that starts one sandbox and lets the user try every target on it.
    fn demo_login(&self) -> DemoLogin;
}

/// The sandbox's demo credentials of one target (public knowledge: the sandbox is local).
#[derive(Debug, Clone, Copy)]
pub struct DemoLogin {
    /// User or admin name, when the target signs in with one.
    pub user: Option<&'static str>,
    /// Password or API key.
    pub secret: &'static str,
    /// The database to write to, when the target has databases.
    pub database: Option<&'static str>,
}
