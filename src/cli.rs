//! The command line (clap types only), turned into plain configs before the core runs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::error::{Error, Result};
use crate::input::ReadOptions;
use crate::spec::{Entity, ExportKind, Mode, TargetId};
use crate::validate::{DecimalStyle, ParseOptions};

mod examples;
mod values;
mod web;
pub use web::UiArgs;

/// Move business records between spreadsheets and SaaS REST APIs, row by row.
#[derive(Debug, Parser)]
#[command(
    name = "sheetload",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = examples::MAIN
)]
pub struct Cli {
    /// Show only errors (no progress, notes or summary).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Print the run summary as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log to stderr: -v retries, waits and sign-ins; -vv also every request (method,
    /// path, status, time, attempt, row). Credentials are never logged.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The log level by name, as -v/-vv do: off, error, warn, info, debug or trace.
    #[arg(
        long,
        global = true,
        env = "SHEETLOAD_LOG",
        value_name = "LEVEL",
        value_parser = crate::ui::log::Level::parse
    )]
    pub log: Option<crate::ui::log::Level>,
    /// Colour the status words and the error prefix: auto (on a terminal, unless
    /// NO_COLOR is set; CLICOLOR_FORCE forces it), always or never.
    #[arg(long, global = true, value_name = "WHEN", default_value_t = clap::ColorChoice::Auto)]
    pub color: clap::ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
// One value per process, parsed once: boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Send a sheet's rows to the target and write a result workbook.
    #[command(after_help = examples::IMPORT)]
    Import(ImportArgs),
    /// Check every row of a sheet and write a result workbook; nothing is sent.
    #[command(after_help = examples::VALIDATE)]
    Validate(ValidateArgs),
    /// Export teams, products, customers, visits, orders or databases to Excel or CSV.
    #[command(after_help = examples::EXPORT)]
    Export(ExportArgs),
    /// Finish an interrupted or killed import without re-sending finished rows.
    #[command(after_help = examples::RESUME)]
    Resume(ResumeArgs),
    /// Re-run the failed rows of a result workbook (fix them on its Failed sheet first).
    #[command(after_help = examples::RETRY)]
    Retry(RetryArgs),
    /// The run history: list, show one, or undo what a run created.
    #[command(after_help = examples::RUNS)]
    Runs(RunsArgs),
    /// Write a blank workbook to fill in, with notes, drop-downs and a Guide sheet.
    #[command(after_help = examples::TEMPLATE)]
    Template(TemplateArgs),
    /// Run a local fake of the SalesMania, Trackfinity and Fatura Entegratör APIs (with
    /// fault injection) to rehearse on.
    #[command(after_help = examples::SANDBOX)]
    Sandbox(SandboxArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    #[command(after_help = examples::COMPLETIONS)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of sheetload and every subcommand, or write one
    /// page per command into a folder.
    #[command(after_help = examples::MAN)]
    Man {
        /// Write sheetload.1, sheetload-import.1 … into this folder instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Open the import wizard in the browser: a local server on 127.0.0.1 with the same
    /// engine and ledger (connect, upload, map, review, dry run, import, results).
    #[command(after_help = web::EXAMPLES)]
    Ui(UiArgs),
}

/// `sheetload sandbox`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8089)]
    pub port: u16,
    /// Address to listen on; loopback unless you really mean to expose it.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Seed for generated records and fault decisions (same seed, same run).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Customers generated per database on a fresh start.
    #[arg(long, default_value_t = 0)]
    pub customers: usize,
    /// Products generated per database on a fresh start.
    #[arg(long, default_value_t = 0)]
    pub products: usize,
    /// Teams (sales users) generated per database on a fresh start.
    #[arg(long, default_value_t = 3)]
    pub teams: usize,
    /// User name accepted by the sign-in (the password is `demo`, or
    /// SHEETLOAD_SANDBOX_PASSWORD).
    #[arg(long, default_value = "demo")]
    pub user: String,
    /// Added to every answer, with ±20% jitter.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Share of data calls answered 500/502/503 without being applied (0..1).
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub fail_rate: f64,
    /// Share of writes (POST/PATCH/DELETE) answered 503 without being applied, reads
    /// untouched (0..1).
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub write_fail_rate: f64,
    /// Requests per second accepted; the excess gets 429 with Retry-After.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Share of data calls answered 429 whatever the rate (a gateway's bursts) (0..1).
    #[arg(long = "burst-429", default_value_t = 0.0, value_name = "F")]
    pub burst_429: f64,
    /// Retry-After (seconds) of those burst 429s.
    #[arg(long, default_value_t = 1, value_name = "SECS")]
    pub burst_retry_after: u64,
    /// Send the burst 429s without Retry-After.
    #[arg(long)]
    pub burst_no_retry_after: bool,
    /// A token bucket: requests per second refilled (with --bucket-burst).
    #[arg(long, value_name = "PER_SEC")]
    pub bucket_rate: Option<f64>,
    /// The token bucket's size: requests accepted at once (default: one second's worth).
    #[arg(long, value_name = "N", requires = "bucket_rate")]
    pub bucket_burst: Option<u32>,
    /// Requests accepted per fixed minute; the excess gets 429 until the minute ends.
    #[arg(long, value_name = "N")]
    pub per_minute: Option<u32>,
    /// Requests accepted per day; then 429 with a Retry-After of hours until the reset.
    #[arg(long, value_name = "N")]
    pub daily_quota: Option<u32>,
    /// Seconds until the daily quota resets (default: the next 00:00 UTC); tests move it
    /// with POST /_sandbox/quota {"reset_in": SECS}.
    #[arg(long, value_name = "SECS")]
    pub quota_reset_in: Option<u64>,
    /// Bearer lifetime in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub token_ttl: u64,
    /// Share of creates that are stored and then answered by a dropped connection (0..1).
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub drop_after_commit: f64,
    /// Answer every create 504 at once and commit it this many ms later (0: off).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub late_commit_ms: u64,
    /// List visits and orders with timestamp dates, string customer ids, no ext_order_no.
    #[arg(long)]
    pub live_list_shape: bool,
    /// Answer GET on the order list 405 (no order list, as the vendor documents).
    #[arg(long)]
    pub no_order_list: bool,
    /// Answer creates `200 {}` without the new record's id, as the vendor documents it.
    #[arg(long)]
    pub empty_create_answer: bool,
    /// Share of calls whose answer is held back far beyond any client timeout (0..1).
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub stall_rate: f64,
    /// Keep the records in this JSON file across restarts.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Trackfinity customers generated on a fresh start (ids 1..N, SUB-000001..).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub trackfinity_customers: usize,
    /// Fatura Entegratör customers generated on a fresh start.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub fatura_customers: usize,
}

impl SandboxArgs {
    /// The other targets' options (keys stay the documented demo keys).
    pub fn targets(&self) -> crate::sandbox::TargetOptions {
        crate::sandbox::TargetOptions {
            trackfinity_customers: self.trackfinity_customers,
            fatura_customers: self.fatura_customers,
            ..crate::sandbox::TargetOptions::default()
        }
    }

    /// The sandbox options. The password comes from SHEETLOAD_SANDBOX_PASSWORD, read
    /// here rather than through `#[arg(env)]`: a secret must have no flag that would put
    /// it in argv (and in `ps`).
    pub fn options(&self) -> crate::sandbox::SandboxOptions {
        crate::sandbox::SandboxOptions {
            port: self.port,
            bind: self.bind,
            seed: self.seed,
            customers: self.customers,
            products: self.products,
            teams: self.teams,
            user: self.user.clone(),
            password: std::env::var("SHEETLOAD_SANDBOX_PASSWORD").unwrap_or_else(|_| "demo".into()),
            latency_ms: self.latency_ms,
            fail_rate: self.fail_rate,
            write_fail_rate: self.write_fail_rate,
            rate_limit: self.rate_limit,
            token_ttl: Some(self.token_ttl),
            drop_after_commit: self.drop_after_commit,
            late_commit_ms: self.late_commit_ms,
            live_list_shape: self.live_list_shape,
            no_order_list: self.no_order_list,
            empty_create_answer: self.empty_create_answer,
            stall_rate: self.stall_rate,
            state: self.state.clone(),
            burst_429: self.burst_429,
            burst_retry_after: (!self.burst_no_retry_after).then_some(self.burst_retry_after),
            bucket: self.bucket_rate.map(|r| {
                let burst = self.bucket_burst.unwrap_or(r.ceil().max(1.0) as u32);
                (r, burst)
            }),
            per_minute: self.per_minute,
            daily_quota: self.daily_quota,
            quota_reset_in: self.quota_reset_in,
        }
    }
}

/// How to read the input file.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Sheet to read (default: the first sheet with data).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Row number of the header (default: found automatically below title rows).
    #[arg(long, value_name = "N")]
    pub header_row: Option<u32>,
    /// Encoding of a CSV without BOM: utf-8 (default), windows-1252, windows-1254, iso-8859-9 …
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
    /// CSV delimiter: ',', ';', 'tab' or '|' (default: detected).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// Refuse a workbook sheet with more data rows than this, before validating any
    /// (default 1048575, what one Excel sheet holds below its header).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rows: Option<u64>,
    /// Numbers written as text use ',' as the decimal separator (1.234,56).
    #[arg(long, conflicts_with = "decimal_point")]
    pub decimal_comma: bool,
    /// Numbers written as text use '.' as the decimal separator (1,234.56).
    #[arg(long)]
    pub decimal_point: bool,
    /// Format of dates written as text, e.g. %d/%m/%Y (ISO dates are always accepted).
    #[arg(long, value_name = "FORMAT")]
    pub date_format: Option<String>,
    /// Mapping file: rename headers, set constants and defaults (TOML).
    #[arg(long, value_name = "MAP.toml")]
    pub map: Option<PathBuf>,
    /// Write the mapping this run used (matched headers, and --map's ignores,
    /// constants and defaults) to this file, for --map next time.
    #[arg(long, value_name = "MAP.toml")]
    pub save_map: Option<PathBuf>,
}

/// `sheetload validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The spreadsheet: .xlsx, .xlsm, .xlsb, .xls, .ods, .csv or .tsv.
    pub file: PathBuf,
    /// What the rows are: customers, products, visits or orders (SalesMania);
    /// customers (Trackfinity, Fatura Entegratör).
    #[arg(long, short, value_name = "ENTITY", ignore_case = true)]
    pub entity: Entity,
    /// Which API.
    #[arg(long, default_value_t = crate::spec::DEFAULT_TARGET, ignore_case = true)]
    pub target: TargetId,
    /// The import mode (default: create, or the entity's first mode, e.g. update for
    /// Trackfinity).
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Result file (.xlsx, or .csv for one CSV); default: <input>.result.xlsx beside the
    /// input, or <input>.check.xlsx for a check (validate, --dry-run) when the former
    /// holds a real run's result.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Where to send.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The API's base URL (else a profile's).
    #[arg(long, value_name = "URL", env = "SHEETLOAD_BASE_URL")]
    pub base_url: Option<String>,
    /// Database by id or name.
    #[arg(long, value_name = "ID|NAME", env = "SHEETLOAD_DATABASE")]
    pub database: Option<String>,
    /// Profile of sheetload.toml to use (default "default").
    #[arg(long, value_name = "NAME", env = "SHEETLOAD_PROFILE")]
    pub profile: Option<String>,
    /// Allow plain http:// to a host other than this machine.
    #[arg(long)]
    pub allow_http: bool,
    /// Use a fresh in-process sandbox with the demo data instead of a real account (no
    /// account needed; nothing leaves this machine). Wins over --base-url and --profile.
    #[arg(long)]
    pub sandbox: bool,
}

impl ConnectArgs {
    fn config(&self) -> crate::connection::ConnectionArgs {
        // An empty variable (`SHEETLOAD_BASE_URL=`) means unset, as it always has.
        let given = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
        let sandbox = self.sandbox;
        crate::connection::ConnectionArgs {
            base_url: given(&self.base_url).filter(|_| !sandbox),
            database: given(&self.database),
            profile: given(&self.profile).filter(|_| !sandbox),
            allow_http: self.allow_http,
            sandbox: self.sandbox,
            ..Default::default()
        }
    }
}

/// `sheetload import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub sheet: ValidateArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Plan only: read calls to fill _action per row; nothing is written.
    #[arg(long)]
    pub dry_run: bool,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,
    /// Requests per second at most.
    #[arg(long, value_name = "PER_SEC")]
    pub rate: Option<f64>,
    /// Further tries for a request that failed in a retryable way.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub retries: u32,
    /// Seconds to wait for one answer.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub timeout: f64,
    /// Stop sending after this many failed rows (resume continues).
    #[arg(long, value_name = "N")]
    pub max_errors: Option<u64>,
    /// Field that identifies records for upsert and lookups (default: the entity's key).
    #[arg(long, value_name = "FIELD")]
    pub key: Option<String>,
    /// Orders: rows with the same value in this field make one order (default ext_order_no).
    #[arg(long, value_name = "FIELD")]
    pub group_by: Option<String>,
    /// Confirm a destructive mode (--mode delete, Trackfinity --mode forget) or the
    /// --confirm plan without being asked.
    #[arg(long)]
    pub yes: bool,
    /// Show the plan (create / update / delete counts) and ask before sending anything.
    #[arg(long)]
    pub confirm: bool,
    /// When the API's daily quota is spent, sleep until it resets and go on, instead of
    /// parking the run (exit 75, `sheetload resume` after the reset).
    #[arg(long)]
    pub wait_for_quota: bool,
    /// Trackfinity --mode forget: fields to keep, comma-separated (e.g. email,country).
    #[arg(long, value_name = "FIELDS")]
    pub keep: Option<String>,
    /// Send updates that replace a stored value with what looks like Excel's damage of
    /// it (081… → 81…, 6.28524E+12, a date as 46095); by default such rows are held.
    #[arg(long)]
    pub allow_excel_damage: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// What a run does when another run is writing to the same target, database and entity.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// When another run is importing the same entity into the same database, wait for
    /// it to finish (at most DURATION: 90s, 10m, 2h; no value: as long as it takes)
    /// instead of refusing.
    #[arg(long, value_name = "DURATION", num_args = 0..=1, require_equals = true,
          default_missing_value = "")]
    pub wait_for_lock: Option<String>,
}

impl LockArgs {
    /// How long to wait for the run lock: `None` refuses at once, `Duration::MAX` waits
    /// as long as it takes.
    pub fn wait(&self) -> Result<Option<std::time::Duration>> {
        self.wait_for_lock.as_deref().map(parse_wait).transpose()
    }
}

/// `--wait-for-lock` given alone (as long as it takes), or with `90`, `90s`, `10m`,
/// `2h`.
fn parse_wait(text: &str) -> Result<std::time::Duration> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(std::time::Duration::MAX);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let per = match unit.trim() {
        "" | "s" | "sec" => Some(1),
        "m" | "min" => Some(60),
        "h" => Some(3600),
        _ => None,
    };
    match (n.parse::<u64>(), per) {
        (Ok(n), Some(per)) => Ok(std::time::Duration::from_secs(n.saturating_mul(per))),
        _ => Err(Error::usage(format!(
            "--wait-for-lock={text} is not a duration: give seconds (90, 90s), minutes (10m) or hours (2h), or no value to wait as long as it takes"
        ))),
    }
}

impl ImportArgs {
    /// The plain config the core runs on.
    pub fn config(&self) -> Result<commands::import::Config> {
        if self.concurrency == 0 || self.concurrency > 1024 {
            return Err(Error::usage("--concurrency must be between 1 and 1024"));
        }
        if !(self.timeout.is_finite() && self.timeout > 0.0) {
            return Err(Error::usage(
                "--timeout must be a positive number of seconds",
            ));
        }
        if self.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err(Error::usage(
                "--rate must be a positive number of requests per second",
            ));
        }
        Ok(commands::import::Config {
            base: self
                .sheet
                .config_for_profile(self.connect.profile.as_deref())?,
            conn: self.connect.config(),
            dry_run: self.dry_run,
            policy: crate::dispatch::Policy {
                concurrency: self.concurrency,
                rate: self.rate,
                retries: self.retries,
                ..crate::dispatch::Policy::default()
            },
            timeout: std::time::Duration::from_secs_f64(self.timeout),
            max_errors: self.max_errors,
            key: self.key.clone(),
            skip_unknown: false,
            group_by: self.group_by.clone(),
            yes: self.yes,
            confirm: self.confirm
                || crate::connection::profile_confirms(self.connect.profile.as_deref())?,
            keep: self.keep.clone(),
            allow_excel_damage: self.allow_excel_damage,
            plain_words: false,
            retrying: false,
            wait_for_lock: self.lock.wait()?,
            wait_for_quota: self.wait_for_quota,
            quota_per_day: crate::connection::profile_quota(self.connect.profile.as_deref())?,
        })
    }
}

/// `sheetload export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    #[arg(value_enum, ignore_case = true)]
    pub what: ExportKind,
    /// The file to write: .xlsx, or .csv.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// At most this many records.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Keep only records whose column equals the value (repeatable): --where city=Semarang.
    #[arg(long = "where", value_name = "COLUMN=VALUE")]
    pub filters: Vec<String>,
    /// Visits or orders from this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Visits or orders up to this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Visits or orders of one team: id, name or e-mail.
    #[arg(long, value_name = "TEAM")]
    pub team: Option<String>,
    /// Start the CSV with a byte-order mark, so that Excel reads it as UTF-8.
    #[arg(long)]
    pub bom: bool,
    /// Seconds to wait for one answer.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub timeout: f64,
    /// Which API (one that can list its records: salesmania or fatura).
    #[arg(long, default_value_t = crate::spec::DEFAULT_TARGET, ignore_case = true)]
    pub target: TargetId,
}

impl ExportArgs {
    /// The plain config the core runs on.
    pub fn config(&self) -> Result<commands::export::Config> {
        let filters = self
            .filters
            .iter()
            .map(|f| {
                f.split_once('=')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or_else(|| {
                        Error::usage(format!("--where '{f}' must look like column=value"))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        for d in [&self.from, &self.to].into_iter().flatten() {
            if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
                return Err(Error::usage(format!(
                    "--from/--to '{d}' must be a date like 2026-12-01"
                )));
            }
        }
        if !matches!(self.what, ExportKind::Visits | ExportKind::Orders)
            && (self.from.is_some() || self.to.is_some() || self.team.is_some())
        {
            return Err(Error::usage(
                "--from, --to and --team apply to visits and orders only",
            ));
        }
        if !(self.timeout.is_finite() && self.timeout > 0.0) {
            return Err(Error::usage(
                "--timeout must be a positive number of seconds",
            ));
        }
        Ok(commands::export::Config {
            what: self.what,
            out: self.out.clone(),
            conn: self.connect.config(),
            limit: self.limit,
            filters,
            from: self.from.clone(),
            to: self.to.clone(),
            team: self.team.clone(),
            bom: self.bom,
            timeout: std::time::Duration::from_secs_f64(self.timeout),
            target: self.target,
        })
    }
}

/// `sheetload retry`.
#[derive(Debug, Args)]
pub struct RetryArgs {
    /// A result workbook written by `sheetload import`.
    pub result: PathBuf,
    /// Also re-send rows whose earlier outcome is UNKNOWN (check them first).
    #[arg(long)]
    pub include_unknown: bool,
    /// Where to write this retry's result (default: `RESULT.retry.xlsx` beside it).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Confirm a destructive run's plan (delete, forget) without being asked.
    #[arg(long)]
    pub yes: bool,
    /// Send the held updates whose new value looks like Excel's damage of the stored
    /// one (see `import --allow-excel-damage`); a key never is.
    #[arg(long)]
    pub allow_excel_damage: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// `sheetload runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// What to do (default: list).
    #[command(subcommand)]
    pub action: Option<RunsAction>,
}

/// `runs` subcommands.
#[derive(Debug, Subcommand)]
pub enum RunsAction {
    /// The newest runs: state, target, counts (ok, skipped, invalid, failed, unknown).
    #[command(after_help = examples::RUNS_LIST)]
    List {
        /// How many.
        #[arg(long, default_value_t = 30)]
        limit: usize,
    },
    /// One run in detail.
    #[command(after_help = examples::RUNS_SHOW)]
    Show {
        /// Run id.
        run: i64,
    },
    /// Delete the records a run created (SalesMania customers, products, orders).
    #[command(after_help = examples::RUNS_UNDO)]
    Undo {
        /// Run id.
        run: i64,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        connect: ConnectArgs,
        #[command(flatten)]
        lock: LockArgs,
    },
}

impl RunsArgs {
    /// Run the chosen action.
    pub fn run(&self, ui: &crate::ui::Printer) -> Result<u8> {
        match &self.action {
            None => commands::runs::list(30, ui),
            Some(RunsAction::List { limit }) => commands::runs::list(*limit, ui),
            Some(RunsAction::Show { run }) => commands::runs::show(*run, ui),
            Some(RunsAction::Undo {
                run,
                yes,
                connect,
                lock,
            }) => commands::undo::undo(*run, *yes, lock.wait()?, &connect.config(), ui),
        }
    }
}

/// `sheetload resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run to finish (default: the newest unfinished one).
    pub run: Option<i64>,
    #[command(flatten)]
    pub lock: LockArgs,
    /// When the API's daily quota is spent, sleep until it resets and go on, instead of
    /// parking the run (exit 75).
    #[arg(long)]
    pub wait_for_quota: bool,
}

/// `sheetload template`.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// The entity: customers, products, visits or orders (SalesMania); customers
    /// (Trackfinity, Fatura Entegratör).
    #[arg(value_name = "ENTITY", ignore_case = true)]
    pub entity: Entity,
    /// Which API's template.
    #[arg(long, default_value_t = crate::spec::DEFAULT_TARGET, ignore_case = true)]
    pub target: TargetId,
    /// Where to write the workbook (default: `ENTITY-template.xlsx`).
    #[arg(long, short, value_name = "FILE.xlsx")]
    pub out: Option<PathBuf>,
}

fn encoding(label: &str) -> Result<&'static encoding_rs::Encoding> {
    encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        Error::usage(format!(
            "unknown --encoding '{label}': use utf-8, windows-1252, windows-1254 (= iso-8859-9), iso-8859-1 or utf-16le"
        ))
    })
}

fn delimiter(s: &str) -> Result<u8> {
    match s {
        "tab" | "TAB" | "\\t" | "\t" => Ok(b'\t'),
        s if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(Error::usage(format!(
            "--delimiter '{s}' is not one character: use ',', ';', 'tab' or '|'"
        ))),
    }
}

fn date_format(f: &str) -> Result<String> {
    crate::validate::check_date_format(f)
}

impl ReadArgs {
    fn read_options(&self) -> Result<ReadOptions> {
        Ok(ReadOptions {
            sheet: self.sheet.clone(),
            header_row: self.header_row,
            encoding: self.encoding.as_deref().map(encoding).transpose()?,
            delimiter: self.delimiter.as_deref().map(delimiter).transpose()?,
            max_rows: self.max_rows,
            quick_survey: false,
        })
    }

    fn parse_options(&self) -> Result<ParseOptions> {
        Ok(ParseOptions {
            decimals: if self.decimal_comma {
                DecimalStyle::DecimalComma
            } else if self.decimal_point {
                DecimalStyle::DecimalPoint
            } else {
                DecimalStyle::Auto
            },
            date_format: self.date_format.as_deref().map(date_format).transpose()?,
        })
    }
}

impl ValidateArgs {
    /// The plain config the core runs on (the mapping file of the profile named by
    /// SHEETLOAD_PROFILE, or the default one, unless `--map` is given).
    pub fn config(&self) -> Result<commands::validate::Config> {
        self.config_for_profile(None)
    }

    /// [`config`](Self::config) with the mapping file of `profile` (`--profile`) when
    /// `--map` is not given: a profile may name the map its sheets need.
    pub fn config_for_profile(&self, profile: Option<&str>) -> Result<commands::validate::Config> {
        // The profile is read even when --map wins, so that a broken sheetload.toml is
        // reported by every command alike, not only by those that connect.
        let profile_map = crate::connection::profile_map(profile)?;
        let map = self.read.map.clone().or(profile_map);
        Ok(commands::validate::Config {
            input: self.file.clone(),
            target: self.target,
            entity: self.entity,
            mode: match self.mode {
                Some(m) => m,
                None => crate::spec::builtin(self.target, self.entity)
                    .ok()
                    .and_then(|s| s.modes.first().copied())
                    .unwrap_or(Mode::Create),
            },
            read: self.read.read_options()?,
            map,
            save_map: self.read.save_map.clone(),
            parse: self.read.parse_options()?,
            out: self.out.clone(),
        })
    }
}

impl TemplateArgs {
    /// The plain config the core runs on.
    pub fn config(&self) -> commands::template::Config {
        commands::template::Config {
            target: self.target,
            entity: self.entity,
            out: self
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("{}-template.xlsx", self.entity))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn encodings_and_delimiters() {
        assert_eq!(encoding("iso-8859-9").unwrap().name(), "windows-1254");
        assert_eq!(encoding("Windows-1252").unwrap().name(), "windows-1252");
        assert!(encoding("klingon").is_err());
        assert_eq!(delimiter("tab").unwrap(), b'\t');
        assert_eq!(delimiter(";").unwrap(), b';');
        assert!(delimiter(";;").is_err());
        assert!(date_format("%d/%m/%Y").is_ok());
        assert!(date_format("%d/%m").is_err());
    }
}
