//! The typed options of an import run, and the copy the ledger keeps for `resume` and
//! `retry` (never the credentials).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::prepare as validate;
use crate::connection::ConnectionArgs;
use crate::dispatch::Policy;
use crate::error::{Error, Result};
use crate::input::ReadOptions;
use crate::spec::Mode;
use crate::validate::{DecimalStyle, ParseOptions};

/// Everything `import` needs, already checked by the CLI layer.
#[derive(Debug, Clone)]
pub struct Config {
    /// Input, entity, mode, reading options and result path.
    pub base: validate::Config,
    /// Where to send.
    pub conn: ConnectionArgs,
    /// Plan only: read calls, no writes.
    pub dry_run: bool,
    /// Concurrency, rate, retries.
    pub policy: Policy,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Stop dispatching after this many failed rows.
    pub max_errors: Option<u64>,
    /// The natural-key field for upsert/lookups, when not the spec's.
    pub key: Option<String>,
    /// Leave out rows whose `_status` column says UNKNOWN (retry of a result workbook).
    pub skip_unknown: bool,
    /// Orders: the field whose equal values make one order (default `ext_order_no`).
    pub group_by: Option<String>,
    /// Confirms a destructive mode (delete, Trackfinity `forget`) or a `--confirm` plan
    /// without asking.
    pub yes: bool,
    /// Show the plan and ask before sending, whatever the mode.
    pub confirm: bool,
    /// Trackfinity `forget`: the fields to keep, comma-separated.
    pub keep: Option<String>,
}

/// What a run needs to be resumed: the options, never the credentials.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub(crate) input: PathBuf,
    target: String,
    entity: String,
    mode: String,
    sheet: Option<String>,
    header_row: Option<u32>,
    encoding: Option<String>,
    delimiter: Option<u8>,
    map: Option<PathBuf>,
    decimals: String,
    date_format: Option<String>,
    out: Option<PathBuf>,
    base_url: Option<String>,
    database: Option<String>,
    profile: Option<String>,
    allow_http: bool,
    sandbox: bool,
    concurrency: usize,
    rate: Option<f64>,
    retries: u32,
    timeout_secs: f64,
    max_errors: Option<u64>,
    key: Option<String>,
    #[serde(default)]
    group_by: Option<String>,
    #[serde(default)]
    keep: Option<String>,
}

/// The options of a run as the ledger keeps them for `resume` and `retry` (never the
/// credentials).
pub(crate) fn stored_options(cfg: &Config) -> String {
    serde_json::to_string(&Stored::from(cfg)).unwrap_or_default()
}

impl Stored {
    /// The options of `cfg` as stored.
    pub(crate) fn from(cfg: &Config) -> Self {
        let b = &cfg.base;
        Stored {
            input: std::fs::canonicalize(&b.input).unwrap_or_else(|_| b.input.clone()),
            target: b.target.clone(),
            entity: b.entity.clone(),
            mode: b.mode.to_string(),
            sheet: b.read.sheet.clone(),
            header_row: b.read.header_row,
            encoding: b.read.encoding.map(|e| e.name().to_string()),
            delimiter: b.read.delimiter,
            map: b.map.clone(),
            decimals: match b.parse.decimals {
                DecimalStyle::Auto => "auto",
                DecimalStyle::DecimalComma => "comma",
                DecimalStyle::DecimalPoint => "point",
            }
            .into(),
            date_format: b.parse.date_format.clone(),
            out: b.out.clone(),
            base_url: cfg.conn.base_url.clone(),
            database: cfg.conn.database.clone(),
            profile: cfg.conn.profile.clone(),
            allow_http: cfg.conn.allow_http,
            sandbox: cfg.conn.sandbox,
            concurrency: cfg.policy.concurrency,
            rate: cfg.policy.rate,
            retries: cfg.policy.retries,
            timeout_secs: cfg.timeout.as_secs_f64(),
            max_errors: cfg.max_errors,
            key: cfg.key.clone(),
            group_by: cfg.group_by.clone(),
            keep: cfg.keep.clone(),
        }
    }

    /// The config a stored run runs with again.
    pub(crate) fn config(&self) -> Result<Config> {
        let mode = Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == self.mode)
            .ok_or_else(|| {
                Error::usage(format!(
                    "the stored run has an unknown mode '{}'",
                    self.mode
                ))
            })?;
        Ok(Config {
            base: validate::Config {
                input: self.input.clone(),
                target: self.target.clone(),
                entity: self.entity.clone(),
                mode,
                read: ReadOptions {
                    sheet: self.sheet.clone(),
                    header_row: self.header_row,
                    encoding: self
                        .encoding
                        .as_deref()
                        .and_then(|e| encoding_rs::Encoding::for_label(e.as_bytes())),
                    delimiter: self.delimiter,
                    ..ReadOptions::default()
                },
                map: self.map.clone(),
                save_map: None,
                parse: ParseOptions {
                    decimals: match self.decimals.as_str() {
                        "comma" => DecimalStyle::DecimalComma,
                        "point" => DecimalStyle::DecimalPoint,
                        _ => DecimalStyle::Auto,
                    },
                    date_format: self.date_format.clone(),
                },
                out: self.out.clone(),
            },
            conn: ConnectionArgs {
                base_url: self.base_url.clone(),
                database: self.database.clone(),
                profile: self.profile.clone(),
                allow_http: self.allow_http,
                sandbox: self.sandbox,
            },
            dry_run: false,
            policy: Policy {
                concurrency: self.concurrency,
                rate: self.rate,
                retries: self.retries,
                ..Policy::default()
            },
            timeout: Duration::from_secs_f64(self.timeout_secs.max(1.0)),
            max_errors: self.max_errors,
            key: self.key.clone(),
            skip_unknown: false,
            group_by: self.group_by.clone(),
            yes: false,
            confirm: false,
            keep: self.keep.clone(),
        })
    }
}
