//! `sheetload import` (and `resume`): validate, plan against the target's records,
//! dispatch concurrently with safe retries, commit every outcome to the ledger as it
//! happens, and write the result workbook from the input and those outcomes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinSet;

use super::connection::{self, ConnectionArgs};
use super::report::{Finished, report};
use super::validate::{self, Prepared, prepare};
use crate::dispatch::{Column, Ctx, Done, Key, Limiter, Policy};
use crate::error::{Error, Result, exit};
use crate::input::ReadOptions;
use crate::ledger::{self, Ledger, NewRun, PendingRow, RowOutcome, RunState, Scope};
use crate::output::Status;
use crate::output::result::Outcome;
use crate::payload::plan::{Planned, Planner, Send, display_body};
use crate::payload::{Action, Index, Resolver};
use crate::spec::{EntitySpec, Mode};
use crate::ui::{Printer, thousands};
use crate::validate::{DecimalStyle, ParseOptions, RowResult, Validator};

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
struct Stored {
    input: PathBuf,
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
    fn from(cfg: &Config) -> Self {
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

    fn config(&self) -> Result<Config> {
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

/// Re-run the failed rows of an earlier result workbook (its `Failed` sheet, possibly
/// fixed by hand) with the options of the run that produced it.
pub fn retry(
    result: &std::path::Path,
    include_unknown: bool,
    out: Option<PathBuf>,
    ui: &Printer,
) -> Result<u8> {
    let summary = read_summary(result)?;
    let run_id: i64 = summary
        .get("Run")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            Error::usage(format!(
                "{} names no run in its Summary sheet (a validation or dry-run result?): import the file instead",
                result.display()
            ))
        })?;
    let ledger = Ledger::open(&ledger::default_home())?;
    let record = ledger.run(run_id)?.ok_or_else(|| {
        Error::usage(format!(
            "run {run_id} of {} is not in this ledger ({}); set SHEETLOAD_HOME to the one that ran it",
            result.display(),
            ledger.path().display()
        ))
    })?;
    drop(ledger);
    let stored: Stored = serde_json::from_str(&record.config_json).map_err(|e| {
        Error::usage(format!(
            "run {run_id} cannot be retried: its stored options are unreadable ({e})"
        ))
    })?;
    let mut cfg = stored.config()?;
    cfg.base.input = result.to_path_buf();
    cfg.base.read.sheet = Some("Failed".into());
    cfg.base.read.header_row = Some(1);
    cfg.base.read.encoding = None;
    cfg.base.read.delimiter = None;
    cfg.base.out = Some(out.unwrap_or_else(|| {
        let stem = result
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "result".into());
        result.with_file_name(format!("{stem}.retry.xlsx"))
    }));
    cfg.skip_unknown = !include_unknown;
    ui.note(&format!(
        "retrying the Failed rows of run {run_id} ({} {})",
        record.entity, record.mode
    ));
    runtime()?.block_on(import(cfg, ui, None))
}

/// The key/value lines of a result workbook's `Summary` sheet.
fn read_summary(path: &std::path::Path) -> Result<HashMap<String, String>> {
    use calamine::Reader as _;
    let mut book = calamine::open_workbook_auto(path).map_err(|e| {
        Error::input(format!(
            "cannot read {} as a result workbook: {e}",
            path.display()
        ))
    })?;
    let range = book.worksheet_range("Summary").map_err(|_| {
        Error::input(format!(
            "{} has no Summary sheet: name a result workbook written by sheetload import",
            path.display()
        ))
    })?;
    Ok(range
        .rows()
        .filter_map(|r| {
            let k = r.first()?.to_string();
            let v = match r.get(1)? {
                calamine::Data::Float(f) => crate::input::number_text(*f),
                other => other.to_string(),
            };
            Some((k, v))
        })
        .collect())
}

/// Run `import` and return its exit code.
pub fn run(cfg: &Config, ui: &Printer) -> Result<u8> {
    if cfg.dry_run && !connection::has_target(&cfg.conn) {
        ui.note("no target given: validating offline (nothing is sent); give a connection (or --sandbox) to also plan create / update / skip per row");
        return validate::run(&cfg.base, ui);
    }
    runtime()?.block_on(import(cfg.clone(), ui, None))
}

/// Finish an interrupted or killed run (the newest unfinished one by default).
pub fn resume(run_id: Option<i64>, ui: &Printer) -> Result<u8> {
    let home = ledger::default_home();
    let ledger = Ledger::open(&home)?;
    let record = match run_id {
        Some(id) => ledger.run(id)?.ok_or_else(|| {
            Error::usage(format!(
                "there is no run {id}; `sheetload runs list` shows the runs"
            ))
        })?,
        None => ledger.last_unfinished()?.ok_or_else(|| {
            Error::usage(
                "there is no unfinished run to resume; `sheetload runs list` shows the runs",
            )
        })?,
    };
    if !record.state.is_unfinished() {
        return Err(Error::usage(format!(
            "run {} is already {}; nothing to resume (use `sheetload retry RESULT.xlsx` for its failed rows)",
            record.id,
            record.state.as_str()
        )));
    }
    let stored: Stored = serde_json::from_str(&record.config_json).map_err(|e| {
        Error::usage(format!(
            "run {} cannot be resumed: its stored options are unreadable ({e})",
            record.id
        ))
    })?;
    let fingerprint = ledger::file_fingerprint(&stored.input)?;
    if fingerprint != record.input_fingerprint {
        return Err(Error::usage(format!(
            "{} has changed since run {} started; resuming would mix two versions of the file — import it as a new run instead",
            stored.input.display(),
            record.id
        )));
    }
    drop(ledger);
    ui.note(&format!(
        "resuming run {} ({} {}, {})",
        record.id,
        record.entity,
        record.mode,
        stored.input.display()
    ));
    let cfg = stored.config()?;
    runtime()?.block_on(import(cfg, ui, Some(record.id)))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(format!("cannot start the network runtime: {e}")))
}

/// Messages to the ledger thread, which batches whatever is queued into one transaction.
enum LedgerMsg {
    Sending(PendingRow, oneshot::Sender<Result<()>>),
    Done(RowOutcome),
    /// Marked as sending, but the run stopped before it went out.
    Unsent(u32),
}

/// The ledger on its own thread: rows about to be sent are committed (and acknowledged)
/// before their request goes out; outcomes are committed in batches as they arrive.
/// The thread hands the ledger back with the first write error, if any, so that a lost
/// outcome is never silent.
type LedgerThread = std::thread::JoinHandle<(Ledger, Option<String>)>;

fn spawn_ledger(mut ledger: Ledger, run: i64) -> (mpsc::Sender<LedgerMsg>, LedgerThread) {
    let (tx, rx) = mpsc::channel::<LedgerMsg>();
    let handle = std::thread::spawn(move || {
        let mut first_error = None;
        while let Ok(first) = rx.recv() {
            let mut sending = Vec::new();
            let mut acks = Vec::new();
            let mut done = Vec::new();
            let mut unsent = Vec::new();
            for msg in std::iter::once(first).chain(rx.try_iter()) {
                match msg {
                    LedgerMsg::Sending(row, ack) => {
                        sending.push(row);
                        acks.push(ack);
                    }
                    LedgerMsg::Done(o) => done.push(o),
                    LedgerMsg::Unsent(row) => unsent.push(row),
                }
            }
            // Rows waiting to be sent go first, in their own small transaction, so that
            // their acknowledgement never waits behind a large batch of outcomes.
            let result = if sending.is_empty() {
                Ok(())
            } else {
                ledger.mark_sending(run, &sending)
            };
            if let Err(e) = &result {
                first_error.get_or_insert_with(|| e.to_string());
            }
            for ack in acks {
                let _ = ack.send(match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(Error::output(e.to_string())),
                });
            }
            if !done.is_empty()
                && let Err(e) = ledger.record(run, &done)
            {
                first_error.get_or_insert_with(|| e.to_string());
            }
            if !unsent.is_empty()
                && let Err(e) = ledger.clear_sending(run, &unsent)
            {
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
        (ledger, first_error)
    });
    (tx, handle)
}

/// One row's work, owned so that it can run on its own task.
struct Job {
    /// Notes for `_error` that do not make the row fail (validation warnings, a stale
    /// id replaced by the key).
    note: String,
    row: u32,
    /// The key the ledger files the row under (natural key or content identity).
    key: Option<String>,
    action: Action,
    body: Option<Value>,
    path: String,
    /// The natural key, for reconciling an ambiguous create by lookup.
    lookup: Option<Key>,
    /// For an update, old → new per field.
    changes: String,
}

/// Where a row waits in its sequence (one team's visits of one day): it starts when the
/// row before it has settled, and signals the row after it when it has.
struct Turn {
    after: Option<oneshot::Receiver<()>>,
    done: oneshot::Sender<()>,
}

/// The rows of a run that have an outcome, and where each outcome goes as it settles:
/// the ledger (committed in batches on its own thread), the progress bar, the map the
/// result workbook is written from.
struct Settled {
    outcomes: HashMap<u32, Outcome>,
    ledger: Option<mpsc::Sender<LedgerMsg>>,
    bar: indicatif::ProgressBar,
    ok: u64,
    bad: u64,
}

impl Settled {
    fn settle(&mut self, row: u32, key: Option<String>, o: Outcome) {
        if o.status.is_some_and(Status::is_failure) {
            self.bad += 1;
        } else {
            self.ok += 1;
        }
        self.bar.inc(1);
        if o.status.is_some_and(Status::is_failure) || self.ok.is_multiple_of(64) {
            self.bar.set_message(format!(
                "· OK {} · failed {}",
                thousands(self.ok),
                thousands(self.bad)
            ));
        }
        if let (Some(tx), Some(status)) = (&self.ledger, o.status) {
            let _ = tx.send(LedgerMsg::Done(RowOutcome {
                row,
                key,
                action: o.action.clone().unwrap_or_default(),
                status,
                remote_id: o.id.clone(),
                http: o.http,
                error: o.error.clone(),
                attempts: o.attempts.unwrap_or(0),
            }));
        }
        self.outcomes.insert(row, o);
    }
}

/// Why the run stops sending: Ctrl-C, or `--max-errors` failed sends. Requests in
/// flight finish either way; rows not yet sent are reported NOT SENT.
#[derive(Clone, Default)]
struct Stop {
    /// Ctrl-C: stop reading rows too.
    interrupted: Arc<AtomicBool>,
    /// Stop sending (Ctrl-C or the error limit); checked by every task before it sends.
    sending: Arc<AtomicBool>,
    /// Failed or unknown sends so far.
    failures: Arc<AtomicU64>,
    limit: Option<u64>,
}

impl Stop {
    fn stopped(&self) -> bool {
        self.sending.load(Ordering::SeqCst)
    }

    /// Count a send's outcome; at the limit, stop sending.
    fn count(&self, done: &Done) {
        if matches!(done.status, Some(Status::Failed | Status::Unknown)) {
            let n = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
            if self.limit.is_some_and(|m| n >= m) {
                self.sending.store(true, Ordering::SeqCst);
            }
        }
    }

    fn reason(&self) -> Option<String> {
        if self.interrupted.load(Ordering::SeqCst) {
            Some("interrupted (Ctrl-C)".into())
        } else if self.stopped() {
            self.limit.map(|m| {
                format!(
                    "--max-errors {m} reached ({} failed sends)",
                    self.failures.load(Ordering::SeqCst)
                )
            })
        } else {
            None
        }
    }
}

/// Payload path → the sheet's column, so that server field errors name the user's
/// columns and cells.
fn column_names(spec: &EntitySpec, p: &Prepared) -> HashMap<String, Column> {
    let sheet = (!p.table.sheets.is_empty()).then(|| p.table.sheet.clone());
    let column = |c: Option<usize>, fallback: String| Column {
        name: c.map(|c| p.table.column_name(c)).unwrap_or(fallback),
        col: c.map(|c| c + p.table.first_col()),
        sheet: sheet.clone(),
    };
    let mut out = HashMap::new();
    for (i, f) in spec.fields.iter().enumerate() {
        if let Some(path) = &f.path {
            let name = column(p.mapping.fields[i].column, f.name.clone());
            out.entry(path.clone()).or_insert_with(|| name.clone());
            if f.kind == crate::spec::FieldType::Location {
                out.entry(format!("{path}.lat"))
                    .or_insert_with(|| name.clone());
                out.entry(format!("{path}.lon")).or_insert(name);
            }
        }
    }
    for (g, group) in spec.groups.iter().enumerate() {
        for (k, inst) in p.mapping.groups.get(g).into_iter().flatten().enumerate() {
            for (m, member) in group.fields.iter().enumerate() {
                let name = column(inst[m].column, group.header(k + 1, &member.name));
                if let Some(mp) = &member.path {
                    out.insert(format!("{}.{k}.{mp}", group.path), name);
                }
            }
        }
    }
    out
}

/// The target's current records (to compare with) and the referenced entities (to
/// resolve codes and check ids), each list read once.
async fn read_remote(
    ctx: &Ctx,
    conn: &connection::Connected,
    prepared: &Prepared,
    mode: Mode,
    key_field: Option<&str>,
    path: &str,
    ui: &Printer,
) -> Result<(Index, Resolver)> {
    let spec = &prepared.spec;
    let key_column_given = key_field
        .and_then(|k| spec.fields.iter().position(|f| f.name == k))
        .is_some_and(|i| prepared.mapping.fields[i].is_bound());
    let mut index = Index::default();
    if mode != Mode::Create || key_column_given {
        ui.note(&format!(
            "reading the {} already in {} \"{}\"…",
            spec.entity, conn.database.id, conn.database.name
        ));
        let records = ctx
            .list_all(path, &[])
            .await
            .map_err(|e| Error::usage(format!("cannot plan the import: {e}")))?;
        index = Index::new(records, key_field);
    }
    let mut resolver = Resolver::default();
    let mut lists: HashMap<String, Vec<Value>> = HashMap::new();
    for (i, f) in spec.fields.iter().enumerate() {
        let (Some(r), true) = (&f.resolve, prepared.mapping.fields[i].is_bound()) else {
            continue;
        };
        let Some(rpath) = conn.collection(&r.entity) else {
            continue;
        };
        if !lists.contains_key(&r.entity) {
            let records = ctx.list_all(rpath, &[]).await.map_err(|e| {
                Error::usage(format!("cannot resolve {} references: {e}", r.entity))
            })?;
            lists.insert(r.entity.clone(), records);
        }
        if let Some(records) = lists.get(&r.entity) {
            resolver.add(&r.entity, &r.by, records);
        }
    }
    Ok((index, resolver))
}

/// What earlier runs created of an entity without a natural key (visits), by content
/// identity, so that the same rows are not created twice.
fn remembered(spec: &EntitySpec, conn: &connection::Connected) -> Result<HashMap<String, String>> {
    if !spec.remember_by_content {
        return Ok(HashMap::new());
    }
    let ledger = Ledger::open(&ledger::default_home())?;
    ledger.known_ids(&Scope {
        target: spec.target.clone(),
        base_url: conn.base_url.clone(),
        database_id: Some(conn.database.id.clone()),
        entity: spec.entity.clone(),
    })
}

/// The plan of every row, counted, before anything is sent — for a destructive mode
/// (delete) or `--confirm` — and the question to the user; without a terminal, `--yes`
/// is needed. Nothing is sent when the answer is no.
fn confirm_plan(
    cfg: &Config,
    prepared: &Prepared,
    validator: &Validator<'_>,
    mut planner: Planner<'_>,
    conn: &connection::Connected,
) -> Result<()> {
    let mode = cfg.base.mode;
    let destructive = matches!(mode, Mode::Delete | Mode::Forget);
    if cfg.dry_run || cfg.yes || !(destructive || cfg.confirm) {
        return Ok(());
    }
    let mut counts: HashMap<&'static str, u64> = HashMap::new();
    let mut invalid = 0u64;
    for raw in prepared.table.rows()? {
        let res = validator.validate(&raw?);
        match planner.plan(&res) {
            Planned::Send(s) => *counts.entry(s.action.word()).or_default() += 1,
            Planned::Done(_) => invalid += 1,
        }
    }
    let entity = &prepared.spec.entity;
    let c = |w: &str| counts.get(w).copied().unwrap_or(0);
    let place = conn.destination();
    let plan = if destructive {
        let n = c("delete").max(c("create") + c("update"));
        format!("{mode} {} from {place}", crate::ui::records(n, entity))
    } else {
        format!(
            "create {}, update {}, delete {} {entity} in {place} ({} unchanged)",
            thousands(c("create")),
            thousands(c("update")),
            thousands(c("delete")),
            thousands(c("skip"))
        )
    };
    let plan = if invalid > 0 {
        format!("{plan}; {} not sendable", crate::ui::count(invalid, "row"))
    } else {
        plan
    };
    match crate::ui::ask(&format!("{plan}?")) {
        Some(true) => Ok(()),
        Some(false) => Err(Error::usage(format!(
            "not confirmed: nothing was sent ({plan})"
        ))),
        None => Err(Error::usage(format!(
            "--mode {mode} would {plan}: confirm on a terminal, or pass --yes; nothing was sent"
        ))),
    }
}

/// `--confirm` for the targets whose plan is made while sending (orders, Trackfinity):
/// the rows and where they go, asked before anything is sent.
fn confirm_rows(cfg: &Config, prepared: &Prepared, place: &str) -> Result<()> {
    if cfg.dry_run || cfg.yes || !cfg.confirm {
        return Ok(());
    }
    let rows = crate::ui::count(row_total(prepared).unwrap_or(0), "row");
    let plan = format!(
        "{} {rows} of {} to {place}",
        cfg.base.mode, prepared.spec.entity
    );
    match crate::ui::ask(&format!("{plan}?")) {
        Some(true) => Ok(()),
        Some(false) => Err(Error::usage(format!(
            "not confirmed: nothing was sent ({plan})"
        ))),
        None => Err(Error::usage(format!(
            "--confirm: {plan}: confirm on a terminal, or pass --yes; nothing was sent"
        ))),
    }
}

/// The run in the ledger: a new one, or the one being resumed with the outcomes it has
/// and the rows that were in flight when it stopped.
fn open_run(
    cfg: &Config,
    prepared: &Prepared,
    conn: &connection::Connected,
    resume_of: Option<i64>,
) -> Result<(
    Ledger,
    i64,
    HashMap<u32, Outcome>,
    HashMap<u32, Option<String>>,
)> {
    let spec = &prepared.spec;
    let mut ledger = Ledger::open(&ledger::default_home())?;
    let mut outcomes = HashMap::new();
    let mut in_flight = HashMap::new();
    let run = match resume_of {
        Some(id) => {
            for r in ledger.rows(id)? {
                if r.sending {
                    in_flight.insert(r.row, r.key.clone());
                } else if let Some(status) = r.status {
                    outcomes.insert(
                        r.row,
                        Outcome {
                            status: Some(status),
                            action: Some(r.action.clone()),
                            id: r.remote_id.clone(),
                            http: r.http,
                            error: r.error.clone(),
                            attempts: Some(r.attempts),
                            ..Outcome::default()
                        },
                    );
                }
            }
            ledger.reopen_run(id)?;
            id
        }
        None => ledger.begin_run(&NewRun {
            target: spec.target.clone(),
            base_url: conn.base_url.clone(),
            database_id: Some(conn.database.id.clone()),
            database_name: Some(conn.database.name.clone()),
            entity: spec.entity.clone(),
            mode: cfg.base.mode.to_string(),
            input_path: std::fs::canonicalize(&cfg.base.input)
                .unwrap_or_else(|_| cfg.base.input.clone())
                .display()
                .to_string(),
            input_fingerprint: ledger::file_fingerprint(&cfg.base.input)?,
            sheet: (!prepared.table.sheets.is_empty()).then(|| prepared.table.sheet.clone()),
            config_json: stored_options(cfg),
            total_rows: 0,
        })?,
    };
    Ok((ledger, run, outcomes, in_flight))
}

/// Rows in the input, for the progress bar (CSV has no row count: it is counted).
fn row_total(prepared: &Prepared) -> Option<u64> {
    prepared.table.row_count_hint().or_else(|| {
        let rows = prepared.table.rows().ok()?;
        Some(rows.count() as u64)
    })
}

/// The sequence a job belongs to (one team's visits of one day), if its entity has
/// sequences: the values of the spec's `sequence_by` paths in its body.
fn sequence_of(spec: &EntitySpec, body: Option<&Value>) -> Option<String> {
    if spec.sequence_by.is_empty() {
        return None;
    }
    let body = body?;
    Some(
        spec.sequence_by
            .iter()
            .map(|p| {
                p.split('.')
                    .try_fold(body, |v, k| v.get(k))
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\u{1f}"),
    )
}

async fn import(cfg: Config, ui: &Printer, resume_of: Option<i64>) -> Result<u8> {
    let started = Instant::now();
    let prepared = prepare(&cfg.base, ui)?;
    // Every output is checked before the first request: a run never sends rows and
    // then fails for a file it cannot write.
    crate::output::check_writable(&prepared.out)?;
    if cfg.dry_run {
        ui.note("dry run: read calls only; nothing is created, changed or deleted");
    }
    if prepared.spec.group_by.is_some() {
        if resume_of.is_some() {
            return Err(Error::usage(
                "orders runs cannot be resumed; run the same sheet again: orders already created are skipped",
            ));
        }
        confirm_rows(&cfg, &prepared, &prepared.spec.target)?;
        return super::orders::import(cfg, ui, prepared).await;
    }
    let spec = &prepared.spec;
    let mode = cfg.base.mode;
    let key_field = cfg.key.clone().or_else(|| spec.natural_key.clone());
    if let Some(k) = &cfg.key
        && spec.field(k).is_none()
    {
        return Err(Error::usage(format!(
            "--key {k} is not a field of {}",
            spec.entity
        )));
    }

    // Connect (an in-process sandbox with --sandbox) and sign in.
    let conn = connection::connect_target(
        &cfg.conn,
        &spec.target,
        cfg.timeout,
        cfg.policy.concurrency,
        ui,
    )
    .await?;
    if spec.target == "trackfinity" {
        confirm_rows(&cfg, &prepared, &conn.destination())?;
        return super::trackfinity::import(cfg, ui, prepared, conn).await;
    }
    let path = conn
        .collection(&spec.entity)
        .map(str::to_string)
        .unwrap_or_else(|| spec.endpoint.clone());
    let ctx = Arc::new(Ctx {
        client: conn.transport.clone(),
        limiter: Limiter::new(cfg.policy.rate),
        policy: cfg.policy.clone(),
        columns: column_names(spec, &prepared),
    });
    let (index, resolver) = read_remote(
        &ctx,
        &conn,
        &prepared,
        mode,
        key_field.as_deref(),
        &path,
        ui,
    )
    .await?;
    let remembered = remembered(spec, &conn)?;
    let validator = Validator::new(
        spec,
        &prepared.mapping,
        &prepared.table,
        mode,
        cfg.base.parse.clone(),
        prepared.dups.as_ref(),
    );
    let planner = || {
        Planner::new(
            spec,
            mode,
            key_field.as_deref(),
            &index,
            &resolver,
            &remembered,
        )
    };
    if resume_of.is_none() {
        confirm_plan(&cfg, &prepared, &validator, planner(), &conn)?;
    }

    let (ledger_tx, ledger_thread, run_id, settled_before, in_flight_before) = if cfg.dry_run {
        (None, None, None, HashMap::new(), HashMap::new())
    } else {
        let (ledger, run, before, in_flight) = open_run(&cfg, &prepared, &conn, resume_of)?;
        let (tx, h) = spawn_ledger(ledger, run);
        (Some(tx), Some(h), Some(run), before, in_flight)
    };

    // Ctrl-C: stop dispatching, let the requests in flight finish, write everything.
    let stop = Stop {
        limit: cfg.max_errors,
        ..Stop::default()
    };
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.interrupted.store(true, Ordering::SeqCst);
                stop.sending.store(true, Ordering::SeqCst);
            }
        });
    }
    let mut settled = Settled {
        outcomes: settled_before,
        ledger: ledger_tx,
        bar: ui.progress(
            row_total(&prepared),
            if cfg.dry_run { "planning" } else { "importing" },
        ),
        ok: 0,
        bad: 0,
    };
    let dispatch_started = Instant::now();
    let mut loop_state = Loop {
        cfg: &cfg,
        prepared: &prepared,
        validator: &validator,
        planner: planner(),
        ctx: ctx.clone(),
        path: &path,
        key_field: key_field.as_deref(),
        stop: stop.clone(),
        in_flight_before,
        payloads: HashMap::new(),
        problem: None,
    };
    loop_state.run(&mut settled).await?;
    let Loop {
        payloads, problem, ..
    } = loop_state;
    settled.bar.finish_and_clear();
    let dispatch_seconds = dispatch_started.elapsed().as_secs_f64();
    let interrupted = stop.interrupted.load(Ordering::SeqCst);
    let state = if interrupted || stop.stopped() || problem.is_some() {
        RunState::Interrupted
    } else {
        RunState::Completed
    };
    let Settled {
        outcomes, ledger, ..
    } = settled;
    drop(ledger);
    let mut problem = problem;
    if let (Some(handle), Some(run)) = (ledger_thread, run_id) {
        match handle.join() {
            Ok((mut ledger, error)) => {
                if let Some(e) = error {
                    problem
                        .get_or_insert(format!("{e} (run {run} may be incomplete in the ledger)"));
                }
                if let Err(e) = ledger.finish_run(run, state) {
                    problem.get_or_insert(e.to_string());
                }
            }
            Err(_) => {
                problem.get_or_insert("the run ledger stopped unexpectedly".into());
            }
        }
    }
    let finished = Finished {
        cfg: &cfg,
        prepared: &prepared,
        run_id,
        state,
        started,
        dispatch_seconds,
        base_url: &conn.base_url,
        database: &conn.database,
        interrupted,
        stop_reason: stop.reason(),
        problem,
    };
    match report(&finished, outcomes, payloads, ui) {
        Err(e) if run_id.is_some() => {
            // Rows were sent: never exit 2 ("nothing sent") now.
            ui.error(&e.to_string());
            if let Some(id) = run_id {
                ui.summary(&[format!(
                    "the ledger holds every row's outcome: `sheetload runs show {id}`"
                )]);
            }
            Ok(if interrupted {
                exit::INTERRUPTED
            } else {
                exit::ROWS_FAILED
            })
        }
        other => other,
    }
}

/// The dispatch loop of one run: rows are read, validated and planned in sheet order,
/// and the ones to send are queued up to one window ahead of the requests in flight.
struct Loop<'a> {
    cfg: &'a Config,
    prepared: &'a Prepared,
    validator: &'a Validator<'a>,
    planner: Planner<'a>,
    ctx: Arc<Ctx>,
    path: &'a str,
    key_field: Option<&'a str>,
    stop: Stop,
    /// Rows that were being sent when an earlier attempt of this run stopped.
    in_flight_before: HashMap<u32, Option<String>>,
    /// Dry run: `_payload` per row.
    payloads: HashMap<u32, String>,
    /// A problem that ended reading early after sending began.
    problem: Option<String>,
}

impl Loop<'_> {
    async fn run(&mut self, settled: &mut Settled) -> Result<()> {
        let concurrency = self.cfg.policy.concurrency.max(1);
        let sem = Arc::new(Semaphore::new(concurrency));
        let queue = Arc::new(Semaphore::new(2 * concurrency));
        // Rows waiting for their turn in a sequence hold no slot of the window.
        let backlog = Arc::new(Semaphore::new(10_000));
        let mut tails: HashMap<String, oneshot::Receiver<()>> = HashMap::new();
        let mut tasks: JoinSet<(Job, Done)> = JoinSet::new();
        let status_column = self
            .prepared
            .table
            .headers
            .iter()
            .position(|h| h == "_status");
        let mut rows = self.prepared.table.rows()?;
        loop {
            if self.stop.interrupted.load(Ordering::SeqCst) {
                break;
            }
            let raw = match rows.next() {
                None => break,
                Some(Ok(raw)) => raw,
                Some(Err(e)) => {
                    self.problem = Some(e.to_string());
                    break;
                }
            };
            let number = raw.number;
            if settled.outcomes.contains_key(&number) {
                settled.bar.inc(1);
                continue;
            }
            if self.cfg.skip_unknown
                && status_column.is_some_and(|c| raw.cells[c].text.trim() == "UNKNOWN")
            {
                let o = Outcome {
                    status: Some(Status::Skipped),
                    action: Some("skip".into()),
                    error: "left out: its earlier outcome is unknown; check it on the target, then retry with --include-unknown".into(),
                    ..Outcome::default()
                };
                settled.settle(number, None, o);
                continue;
            }
            let res = self.validator.validate(&raw);
            let s = match self.planner.plan(&res) {
                Planned::Done(o) => {
                    settled.settle(number, res.key.clone(), o);
                    continue;
                }
                Planned::Send(s) => s,
            };
            let note = join_notes(&s.note, &res.warnings);
            if self.cfg.dry_run {
                self.payloads
                    .insert(number, display_body(s.body.as_ref(), &res.secrets));
                settled.settle(number, s.ledger_key.clone(), dry_outcome(&s, note));
                continue;
            }
            if let Some(o) = self.reconcile(number, &s, &res).await {
                settled.settle(number, s.ledger_key.clone(), o);
                continue;
            }
            if let Action::Skip { id, reason } = &s.action {
                let o = Outcome {
                    status: Some(Status::Skipped),
                    action: Some("skip".into()),
                    id: id.clone(),
                    error: join_notes(reason, &[]),
                    changes: String::new(),
                    ..Outcome::default()
                };
                settled.settle(number, s.ledger_key.clone(), o);
                continue;
            }
            if self.stop.stopped() {
                // The error limit was reached: the rest is validated, not sent.
                continue;
            }
            let turn = sequence_of(&self.prepared.spec, s.body.as_ref()).map(|seq| {
                let (done, next) = oneshot::channel();
                Turn {
                    after: tails.insert(seq, next),
                    done,
                }
            });
            let job = Job {
                note,
                row: number,
                key: s.ledger_key.clone(),
                lookup: self
                    .key_field
                    .map(str::to_string)
                    .zip(res.key.clone())
                    .map(|(field, value)| Key { field, value }),
                path: self.path.to_string(),
                action: s.action,
                body: s.body,
                changes: s.changes,
            };
            let waits = turn.as_ref().is_some_and(|t| t.after.is_some());
            // Commit "sending" before the request goes out, so a crash leaves a trace. It
            // is queued before waiting for a free slot, so that the commit overlaps the
            // requests in flight; a row waiting for its turn is marked when its turn comes.
            let ack = if waits {
                None
            } else {
                mark_sending(&settled.ledger, &job)
            };
            // Rows queue up to one window ahead of the requests in flight; a row still
            // queued when the run stops is unmarked and reported as not sent.
            let window = if waits { &backlog } else { &queue };
            let queued = tokio::select! {
                p = window.clone().acquire_owned() => p.map_err(|_| Error::output("dispatch stopped unexpectedly"))?,
                _ = wait_for(&self.stop.sending) => {
                    if let (Some(tx), Some(_)) = (&settled.ledger, &ack) {
                        let _ = tx.send(LedgerMsg::Unsent(job.row));
                    }
                    continue;
                }
            };
            let ctx = self.ctx.clone();
            let sem = sem.clone();
            let stop = self.stop.clone();
            let tx = settled.ledger.clone();
            tasks.spawn(async move {
                let _queued = queued;
                let turn = turn;
                let (after, _done) = match turn {
                    Some(t) => (t.after, Some(t.done)),
                    None => (None, None),
                };
                if let Some(after) = after {
                    let _ = after.await;
                    if stop.stopped() {
                        return (job, Done::default());
                    }
                }
                let ack = match ack {
                    Some(a) => Some(a),
                    None => mark_sending(&tx, &job),
                };
                if let Some(ack) = ack
                    && !matches!(ack.await, Ok(Ok(())))
                {
                    let done = Done {
                        status: Some(Status::Failed),
                        error: "not sent: the run ledger could not be written".into(),
                        ..Done::default()
                    };
                    return (job, done);
                }
                let permit = sem.acquire_owned().await;
                if permit.is_err() || stop.stopped() {
                    if let Some(tx) = tx {
                        let _ = tx.send(LedgerMsg::Unsent(job.row));
                    }
                    return (job, Done::default());
                }
                let done = execute(&ctx, &job).await;
                stop.count(&done);
                drop(permit);
                (job, done)
            });
            while let Some(joined) = tasks.try_join_next() {
                settle_joined(settled, joined);
            }
        }
        drop(rows);
        while let Some(joined) = tasks.join_next().await {
            settle_joined(settled, joined);
        }
        Ok(())
    }

    /// A row that was in flight when an earlier attempt of this run stopped may have
    /// landed: look its key up; without one it stays UNKNOWN rather than risk a
    /// duplicate. `None`: send it normally.
    async fn reconcile(&mut self, number: u32, s: &Send, res: &RowResult) -> Option<Outcome> {
        let prior_key = self.in_flight_before.remove(&number)?;
        let unknown = |error: String| Outcome {
            status: Some(Status::Unknown),
            action: Some("create".into()),
            error,
            attempts: Some(1),
            ..Outcome::default()
        };
        let found = |id: Option<String>, error: String| Outcome {
            status: Some(Status::Ok),
            action: Some("create".into()),
            id,
            error,
            attempts: Some(1),
            ..Outcome::default()
        };
        match &s.action {
            // Its create landed before the stop: the index already holds the key.
            Action::Skip { id: Some(id), .. } if self.cfg.base.mode == Mode::Create => Some(found(
                Some(id.clone()),
                "was being sent when the run stopped; found on the server, so it was created"
                    .into(),
            )),
            Action::Create => {
                let lookup = self
                    .key_field
                    .zip(prior_key.or_else(|| res.key.clone()))
                    .map(|(f, v)| Key {
                        field: f.to_string(),
                        value: v,
                    });
                let Some(k) = lookup else {
                    return Some(unknown("was being sent when the run stopped; without a natural key it cannot be looked up: check on the target before sending it again".into()));
                };
                match self.ctx.find_by_key(self.path, &k).await {
                    Ok(Some(rec)) => Some(found(
                        crate::connector::parse::record_id(&rec),
                        format!(
                            "was being sent when the run stopped; found {} {} on the server",
                            k.field, k.value
                        ),
                    )),
                    Ok(None) => None,
                    Err(e) => Some(unknown(format!(
                        "was being sent when the run stopped, and looking it up failed ({e})"
                    ))),
                }
            }
            _ => None,
        }
    }
}

/// Ask the ledger thread to commit "sending" for a job; the receiver says when it has.
fn mark_sending(
    ledger: &Option<mpsc::Sender<LedgerMsg>>,
    job: &Job,
) -> Option<oneshot::Receiver<Result<()>>> {
    let tx = ledger.as_ref()?;
    let (ack_tx, ack_rx) = oneshot::channel();
    let pending = PendingRow {
        row: job.row,
        key: job.key.clone(),
        action: job.action.word().to_string(),
        payload_hash: ledger::payload_hash(
            job.body
                .as_ref()
                .map(|b| b.to_string())
                .unwrap_or_default()
                .as_bytes(),
        ),
    };
    let _ = tx.send(LedgerMsg::Sending(pending, ack_tx));
    Some(ack_rx)
}

fn settle_joined(
    settled: &mut Settled,
    joined: std::result::Result<(Job, Done), tokio::task::JoinError>,
) {
    // A task without a status never sent its row (the run stopped first).
    if let Ok((job, done)) = joined
        && done.status.is_some()
    {
        let key = job.key.clone();
        let row = job.row;
        settled.settle(row, key, outcome_of(job, done));
    }
}

/// `note; warning: …` — the notes a row carries into `_error` without failing.
fn join_notes(note: &str, warnings: &[String]) -> String {
    std::iter::once(note.to_string())
        .filter(|n| !n.is_empty())
        .chain(warnings.iter().map(|w| format!("warning: {w}")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A dry run's outcome: VALID for what would be sent, SKIPPED for what would not.
fn dry_outcome(s: &Send, note: String) -> Outcome {
    let (status, id, reason) = match &s.action {
        Action::Skip { id, reason } => (Status::Skipped, id.clone(), reason.clone()),
        Action::Update { id } | Action::Delete { id } => {
            (Status::Valid, Some(id.clone()), String::new())
        }
        Action::Create => (Status::Valid, None, String::new()),
    };
    let error = [reason, note]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Outcome {
        status: Some(status),
        action: Some(s.action.word().into()),
        id,
        error,
        changes: s.changes.clone(),
        ..Outcome::default()
    }
}

async fn wait_for(flag: &AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn execute(ctx: &Ctx, job: &Job) -> Done {
    match &job.action {
        Action::Create => {
            let body = job.body.clone().unwrap_or(Value::Object(Map::new()));
            ctx.create(&job.path, &body, job.lookup.as_ref(), Some(job.row))
                .await
        }
        Action::Update { id } => {
            let mut done = ctx
                .change(
                    Method::PATCH,
                    &format!("{}/{id}", job.path),
                    job.body.as_ref(),
                    Some(job.row),
                )
                .await;
            done.id = Some(id.clone());
            done
        }
        Action::Delete { id } => {
            let mut done = ctx
                .change(
                    Method::DELETE,
                    &format!("{}/{id}", job.path),
                    None,
                    Some(job.row),
                )
                .await;
            done.id = Some(id.clone());
            done
        }
        Action::Skip { .. } => Done {
            status: Some(Status::Skipped),
            ..Done::default()
        },
    }
}

fn outcome_of(job: Job, done: Done) -> Outcome {
    let error = match (done.error.is_empty(), job.note.is_empty()) {
        (_, true) => done.error,
        (true, false) => job.note,
        (false, false) => format!("{}; {}", done.error, job.note),
    };
    Outcome {
        status: done.status,
        action: Some(job.action.word().into()),
        id: done.id,
        http: done.http,
        error,
        attempts: Some(done.attempts),
        payload: None,
        changes: job.changes,
    }
}
