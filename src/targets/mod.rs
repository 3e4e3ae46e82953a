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

use std::time::Duration;

use crate::connection::{Connected, ConnectionArgs};
use crate::connector::Database;
pub use crate::engine::target::{BoxFuture, PlanInputs, Target};
use crate::error::Result;
pub use crate::spec::TargetId;
use crate::ui::Printer;

/// The registry: each target's implementation, one line each (the compiler checks that
/// no [`TargetId`] is left out).
pub fn get(id: TargetId) -> &'static dyn Target {
    match id {
        TargetId::SalesMania => &salesmania::SalesMania,
        TargetId::Trackfinity => &trackfinity::Trackfinity,
        TargetId::Fatura => &fatura::Fatura,
    }
}

/// The target chosen when `--target` is not given.
pub const DEFAULT: TargetId = crate::spec::DEFAULT_TARGET;

/// Sign in to target `id`.
pub async fn connect(
    id: TargetId,
    args: &ConnectionArgs,
    timeout: Duration,
    pool: usize,
    ui: &Printer,
) -> Result<(&'static dyn Target, Connected)> {
    let target = get(id);
    Ok((target, target.connect(args, timeout, pool, ui).await?))
}

/// How messages name where a run of target `id` wrote.
pub fn destination(id: TargetId, database: &Database) -> String {
    get(id).destination(database)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_answers_to_its_own_id() {
        for id in TargetId::ALL {
            assert_eq!(get(id).id(), id);
        }
    }
}
