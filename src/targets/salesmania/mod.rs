//! SalesMania (Indonesian sales-force automation): customers, products, visits, orders
//! and teams in company databases, behind a three-step sign-in (see
//! `connector::salesmania`). Orders are grouped rows ([`orders::Grouped`]); the rest are
//! keyed rows.

pub mod orders;

use std::collections::HashMap;
use std::time::Duration;

use super::{BoxFuture, PlanInputs, Target};
use crate::connection::{self, Connected, ConnectionArgs};
use crate::connector::Database;
use crate::engine::job::RowPlanner;
use crate::engine::target::DemoLogin;
use crate::error::Result;
use crate::spec::{Entity, ExportKind, TargetId};
use crate::ui::Printer;

/// The SalesMania target.
pub struct SalesMania;

impl Target for SalesMania {
    fn id(&self) -> TargetId {
        TargetId::SalesMania
    }

    fn label(&self) -> &'static str {
        "SalesMania"
    }

    fn connect<'a>(
        &'a self,
        args: &'a ConnectionArgs,
        timeout: Duration,
        pool: usize,
        ui: &'a Printer,
    ) -> BoxFuture<'a, Result<Connected>> {
        Box::pin(async move {
            let (client, sandbox) = connection::connect(args, timeout, pool, ui).await?;
            let p = client.paths().clone();
            let collections: HashMap<Entity, String> = Entity::ALL
                .into_iter()
                .map(|e| (e, p.collection(e).to_string()))
                .collect();
            Ok(Connected {
                destination: SalesMania.destination(client.database()),
                transport: client.clone(),
                base_url: client.base_url().to_string(),
                database: client.database().clone(),
                collections,
                sandbox,
                // A visit without a team is filed under the team token's team.
                filled_by_target: client
                    .team_id()
                    .map(|team| vec![("team_id".to_string(), team.to_string())])
                    .unwrap_or_default(),
            })
        })
    }

    fn destination(&self, database: &Database) -> String {
        format!("\"{}\" (db {})", database.name, database.id)
    }

    fn planner<'a>(
        &'a self,
        inputs: PlanInputs<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn RowPlanner + 'a>>> {
        Box::pin(async move {
            if inputs.prepared.spec.group_by.is_some() {
                let g = orders::Grouped::new(
                    inputs.prepared,
                    inputs.cfg.base.mode,
                    inputs.ctx,
                    inputs.conn,
                )
                .await?;
                return Ok(Box::new(g) as Box<dyn RowPlanner + 'a>);
            }
            crate::engine::keyed::planner(inputs).await
        })
    }

    fn exports(&self) -> &'static [ExportKind] {
        &ExportKind::ALL
    }

    fn has_databases(&self) -> bool {
        true
    }

    fn demo_login(&self) -> DemoLogin {
        DemoLogin {
            user: Some("demo"),
            secret: "demo",
            database: Some("1"),
        }
    }
}
