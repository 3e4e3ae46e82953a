//! Trackfinity (subscription customers): form-encoded PATCHes of existing customers,
//! signed in by an `api-key` / `api-username` header pair. The API cannot create, list
//! or delete customers, so there is no export and no undo.

pub mod form;

use std::time::Duration;

use super::{BoxFuture, PlanInputs, Target};
use crate::connection::{self, Connected, ConnectionArgs};
use crate::connector::keyed::KeyAuth;
use crate::engine::job::RowPlanner;
use crate::engine::target::DemoLogin;
use crate::error::{Error, Result};
use crate::spec::{Entity, ExportKind, TargetId};
use crate::ui::Printer;

/// The in-process sandbox's demo credentials.
const SANDBOX_USER: &str = "admin";
const SANDBOX_KEY: &str = "tf-demo-key";

/// The Trackfinity target.
pub struct Trackfinity;

impl Target for Trackfinity {
    fn id(&self) -> TargetId {
        TargetId::Trackfinity
    }

    fn label(&self) -> &'static str {
        "Trackfinity"
    }

    fn connect<'a>(
        &'a self,
        args: &'a ConnectionArgs,
        timeout: Duration,
        pool: usize,
        ui: &'a Printer,
    ) -> BoxFuture<'a, Result<Connected>> {
        Box::pin(async move {
            let (base_url, sandbox) = connection::key_target_address(
                args,
                self.label(),
                "your install, e.g. https://track.example.com",
                ui,
            )
            .await?;
            let username = if args.sandbox {
                SANDBOX_USER.to_string()
            } else {
                args.user
                    .clone()
                    .or_else(|| connection::env_var("SHEETLOAD_API_USERNAME"))
                    .ok_or_else(|| Error::usage("no admin user name: set SHEETLOAD_API_USERNAME"))?
            };
            let auth = KeyAuth::Headers {
                username,
                key: connection::api_key(args, SANDBOX_KEY, &base_url)?,
            };
            let collections = [(
                Entity::Customers,
                "/api/customer/set_customer_details".to_string(),
            )]
            .into();
            connection::key_target(
                self.label(),
                base_url,
                auth,
                collections,
                sandbox,
                timeout,
                pool,
            )
        })
    }

    fn planner<'a>(
        &'a self,
        inputs: PlanInputs<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn RowPlanner + 'a>>> {
        Box::pin(async move {
            let cfg = inputs.cfg;
            let p = form::FormPlanner::new(cfg.base.mode, cfg.keep.clone(), cfg.dry_run)?;
            Ok(Box::new(p) as Box<dyn RowPlanner + 'a>)
        })
    }

    fn demo_login(&self) -> DemoLogin {
        DemoLogin {
            user: Some(SANDBOX_USER),
            secret: SANDBOX_KEY,
            database: None,
        }
    }

    fn exports(&self) -> &'static [ExportKind] {
        &[]
    }
}
