//! Fatura Entegratör (Turkish e-invoice buyers): keyed rows by tax number, a static
//! bearer key, Laravel-style 422 errors.

use std::time::Duration;

use super::{BoxFuture, Target};
use crate::connection::{self, Connected, ConnectionArgs};
use crate::connector::keyed::KeyAuth;
use crate::engine::target::DemoLogin;
use crate::error::Result;
use crate::spec::{Entity, ExportKind, TargetId};
use crate::ui::Printer;

/// The in-process sandbox's demo key.
const SANDBOX_KEY: &str = "fe-demo-key";

/// The Fatura Entegratör target.
pub struct Fatura;

impl Target for Fatura {
    fn id(&self) -> TargetId {
        TargetId::Fatura
    }

    fn label(&self) -> &'static str {
        "Fatura Entegratör"
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
                "e.g. https://app.faturaentegrator.com",
                ui,
            )
            .await?;
            let auth = KeyAuth::Bearer(connection::api_key(args, SANDBOX_KEY, &base_url)?);
            let collections = [(Entity::Customers, "/api/customers".to_string())].into();
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

    fn demo_login(&self) -> DemoLogin {
        DemoLogin {
            user: None,
            secret: SANDBOX_KEY,
            database: None,
        }
    }

    fn exports(&self) -> &'static [ExportKind] {
        &[ExportKind::Customers]
    }
}
