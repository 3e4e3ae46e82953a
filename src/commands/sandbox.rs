//! `sheetload sandbox`: serve the local fake API until Ctrl-C.

use serde_json::{Value, json};

use crate::error::{Error, Result, exit};
use crate::sandbox::{SandboxHandle, SandboxOptions, TargetOptions, serve_forever_with};
use crate::ui::Printer;

/// Serve until interrupted; the state file (if any) is saved on the way out.
pub fn run(opts: &SandboxOptions, targets: &TargetOptions, ui: &Printer) -> Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(format!("cannot start the sandbox runtime: {e}")))?;
    let ui = *ui;
    let user = opts.user.clone();
    let exposed = !opts.bind.is_loopback();
    runtime
        .block_on(serve_forever_with(opts.clone(), targets.clone(), |handle| {
            if exposed {
                // Even with --quiet: this is a security warning, not chatter.
                eprintln!(
                    "warning: the sandbox listens on {} — reachable from the network, with demo credentials",
                    handle.addr()
                );
            }
            if ui.json {
                ui.json(&ready_json(handle, &user));
            } else if !ui.quiet {
                eprintln!(
                    "sandbox listening on {}\n  SalesMania: user {user}, password from SHEETLOAD_SANDBOX_PASSWORD (default demo), database 1 \"Demo\"\n  Trackfinity: api-username admin, api-key tf-demo-key\n  Fatura Entegratör: Bearer fe-demo-key\n  stats: {}/_sandbox/stats — Ctrl-C to stop",
                    handle.base_url(),
                    handle.base_url()
                );
            }
        }))
        .map_err(|e| Error::usage(format!("sandbox: {e}")))?;
    Ok(exit::OK)
}

/// The one line `sandbox --json` prints once it listens, for scripts that start it: where
/// it is, which user and databases to use and what was seeded. No password or key: they
/// are the documented demo ones, or come from SHEETLOAD_SANDBOX_PASSWORD.
fn ready_json(handle: &SandboxHandle, user: &str) -> Value {
    let stats = handle.stats();
    let databases: Vec<Value> = stats["databases"]
        .as_object()
        .map(|dbs| {
            dbs.iter()
                .map(|(id, db)| {
                    json!({
                        "id": id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n)),
                        "name": db["name"],
                        "records": db["records"],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "command": "sandbox",
        "url": handle.base_url(),
        "stats_url": format!("{}/_sandbox/stats", handle.base_url()),
        "salesmania": {
            "user": user,
            "password_from": "SHEETLOAD_SANDBOX_PASSWORD (default demo)",
            "database": 1,
            "databases": databases,
        },
        "trackfinity": {
            "api_username": "admin",
            "records": stats["trackfinity"]["records"],
        },
        "fatura": {
            "records": stats["fatura"]["records"],
        },
    })
}
