//! The typed options of an import run, and the copy the ledger keeps for `resume` and
//! `retry` (never the credentials).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::prepare as validate;
use crate::connection::ConnectionArgs;
use crate::dispatch::Policy;
use crate::error::{Error, Result};

/// Everything `import` needs, already checked by the CLI layer; serialised as is for
/// `resume` and `retry`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Input, entity, mode, reading options and result path.
    pub base: validate::Config,
    /// Where to send.
    pub conn: ConnectionArgs,
    /// Plan only: read calls, no writes.
    #[serde(default)]
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
    #[serde(default)]
    pub skip_unknown: bool,
    /// Orders: the field whose equal values make one order (default `ext_order_no`).
    pub group_by: Option<String>,
    /// Confirms a destructive mode (delete, Trackfinity `forget`) or a `--confirm` plan
    /// without asking.
    #[serde(skip)]
    pub yes: bool,
    /// Show the plan and ask before sending, whatever the mode.
    #[serde(skip)]
    pub confirm: bool,
    /// Trackfinity `forget`: the fields to keep, comma-separated.
    pub keep: Option<String>,
    /// When another run holds the run lock of the same scope: wait up to this long for
    /// it (`Duration::MAX`: as long as it takes) instead of refusing at once. Asked
    /// each time, like `--yes`.
    #[serde(skip)]
    pub wait_for_lock: Option<Duration>,
    /// Send an update even where it replaces a stored value with what looks like its
    /// Excel-damaged form (a dropped leading zero, `6.28524E+12`, a date serial).
    #[serde(default)]
    pub allow_excel_damage: bool,
    /// Say a held row's fix in plain words, without flags: the browser's runs, where
    /// no flag can be given. Set by whoever starts the run, each time.
    #[serde(skip)]
    pub plain_words: bool,
    /// The input is a result workbook sheetload wrote (`retry`): its cells are text
    /// whatever the user's were, so none of them was typed as text on purpose.
    #[serde(skip)]
    pub retrying: bool,
    /// When the API's quota is spent, sleep until it resets instead of parking.
    #[serde(skip)]
    pub wait_for_quota: bool,
    /// The profile's `quota_per_day`: requests the run may send per day (UTC).
    #[serde(default)]
    pub quota_per_day: Option<u64>,
}

/// The options of a run as the ledger keeps them for `resume` and `retry`: the typed
/// config itself (never a credential: those are never in it), with the input's full
/// path, and without the answers that only count once (`--yes`, `--confirm`).
pub(crate) fn stored_options(cfg: &Config) -> String {
    let mut cfg = cfg.clone();
    cfg.base.input = std::fs::canonicalize(&cfg.base.input).unwrap_or(cfg.base.input);
    // A key pasted into the address (`?api_key=…`) is never stored.
    cfg.conn.base_url = cfg
        .conn
        .base_url
        .as_deref()
        .map(crate::ledger::redact_base_url);
    serde_json::to_string(&cfg).unwrap_or_default()
}

/// The options of a stored run; `doing` ("resumed", "retried") names what failed.
pub(crate) fn stored_config(json: &str, run: i64, doing: &str) -> Result<Config> {
    serde_json::from_str(json).map_err(|e| {
        Error::usage(format!(
            "run {run} cannot be {doing}: its stored options are unreadable ({e}); it was started by an older sheetload: import the file as a new run instead"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::ReadOptions;
    use crate::spec::Mode;
    use crate::validate::{DecimalStyle, ParseOptions};

    #[test]
    fn the_stored_options_are_the_typed_config_without_one_time_answers() {
        let cfg = Config {
            base: validate::Config {
                input: "/no/such/dir/c.csv".into(),
                target: crate::spec::TargetId::Fatura,
                entity: crate::spec::Entity::Customers,
                mode: Mode::Upsert,
                read: ReadOptions {
                    encoding: encoding_rs::Encoding::for_label(b"windows-1254"),
                    delimiter: Some(b';'),
                    ..ReadOptions::default()
                },
                map: None,
                save_map: Some("m.toml".into()),
                parse: ParseOptions {
                    decimals: DecimalStyle::DecimalComma,
                    date_format: Some("%d/%m/%Y".into()),
                },
                out: None,
            },
            conn: ConnectionArgs {
                sandbox: true,
                ..ConnectionArgs::default()
            },
            dry_run: false,
            policy: Policy {
                concurrency: 3,
                ..Policy::default()
            },
            timeout: Duration::from_secs(7),
            max_errors: Some(4),
            key: None,
            skip_unknown: false,
            group_by: None,
            yes: true,
            confirm: true,
            keep: Some("email".into()),
            wait_for_lock: Some(Duration::from_secs(60)),
            allow_excel_damage: false,
            plain_words: true,
            retrying: true,
            wait_for_quota: true,
            quota_per_day: Some(500),
        };
        let json = stored_options(&cfg);
        let back = stored_config(&json, 1, "resumed").unwrap();
        assert_eq!(back.base.mode, Mode::Upsert);
        assert_eq!(
            back.base.read.encoding.map(|e| e.name()),
            Some("windows-1254")
        );
        assert_eq!(back.base.parse.decimals, DecimalStyle::DecimalComma);
        assert_eq!(back.policy.concurrency, 3);
        assert_eq!(back.timeout, Duration::from_secs(7));
        assert_eq!(back.max_errors, Some(4));
        assert_eq!(back.keep.as_deref(), Some("email"));
        assert!(back.conn.sandbox);
        assert!(!back.yes && !back.confirm, "a confirmation counts once");
        assert!(back.wait_for_lock.is_none(), "waiting is asked each time");
        assert!(!back.plain_words, "the browser says so each time");
        assert!(!back.retrying, "retry says so each time");
        assert!(back.base.save_map.is_none(), "the map is saved once");
        let err = stored_config(r#"{"input":"x"}"#, 9, "resumed").unwrap_err();
        assert!(err.to_string().contains("run 9 cannot be resumed"), "{err}");
    }
}
