//! `sheetload sandbox`: serve the local fake API until Ctrl-C.

use crate::error::{Error, Result, exit};
use crate::sandbox::{SandboxOptions, TargetOptions, serve_forever_with};
use crate::ui::Printer;

/// Serve until interrupted; the state file (if any) is saved on the way out.
pub fn run(opts: &SandboxOptions, targets: &TargetOptions, ui: &Printer) -> Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(format!("cannot start the sandbox runtime: {e}")))?;
    let quiet = ui.quiet;
    let user = opts.user.clone();
    let exposed = !opts.bind.is_loopback();
    runtime
        .block_on(serve_forever_with(opts.clone(), targets.clone(), |handle| {
            if exposed {
                eprintln!(
                    "warning: the sandbox listens on {} — reachable from the network, with demo credentials",
                    handle.addr()
                );
            }
            if !quiet {
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
