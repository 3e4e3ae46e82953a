//! `sheetload ui`: its flags (clap types only).

use clap::Args;

/// The examples under `sheetload ui --help`.
pub const EXAMPLES: &str = "\
Examples:
  # open the wizard in the default browser (no account needed: \"Try with demo data\")
  sheetload ui

  # a fixed port, no browser: open the printed address (it holds the session token)
  sheetload ui --port 8090 --no-open

  # against your account: the Connect page is filled from these (the password stays
  # in the server's memory when typed in the page)
  export SHEETLOAD_BASE_URL=https://api.salesmania.id SHEETLOAD_USER=ops@example.com
  sheetload ui";

/// `sheetload ui`.
#[derive(Debug, Args)]
pub struct UiArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on: only this machine's loopback (127.0.0.1 or ::1) is accepted.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Do not open the browser; only print the address.
    #[arg(long)]
    pub no_open: bool,
    /// Largest file accepted by the Upload page, in MB.
    #[arg(long, default_value_t = 200, value_name = "MB")]
    pub max_upload_mb: u64,
    /// Most data rows an uploaded sheet may hold.
    #[arg(long, default_value_t = 1_048_575, value_name = "N")]
    pub max_rows: u64,
}

impl UiArgs {
    /// The server's options.
    pub fn options(&self) -> crate::web::Options {
        crate::web::Options {
            bind: self.bind,
            port: self.port,
            open: !self.no_open,
            max_upload: self.max_upload_mb.saturating_mul(1024 * 1024),
            max_rows: self.max_rows,
        }
    }
}
