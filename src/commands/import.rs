//! `sheetload import` (and `resume`): validate, plan against the target's records,
//! dispatch concurrently with safe retries, commit every outcome to the ledger as it
//! happens, and write the result workbook from the input and those outcomes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinSet;

use super::connection::{self, ConnectionArgs};
use super::validate::{self, Prepared, prepare};
use crate::dispatch::{Ctx, Done, Key, Limiter, Policy};
use crate::error::{Error, Result, exit};
use crate::input::ReadOptions;
use crate::ledger::{self, Ledger, NewRun, PendingRow, RowOutcome, RunState};
use crate::output::Status;
use crate::output::result::{self, Columns, Outcome, SummaryData};
use crate::payload::{self, Action, Index, Resolver};
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
    /// Confirms a destructive mode (Trackfinity `forget`).
    pub yes: bool,
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
                },
                map: self.map.clone(),
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
            group_by: None,
            yes: false,
            keep: None,
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
    /// Warnings the row passed validation with, kept for its result.
    note: String,
    row: u32,
    key: Option<String>,
    action: Action,
    body: Option<Value>,
    path: String,
    lookup: Option<Key>,
}

/// Payload path → the sheet's column, so that server field errors name the user's columns.
fn column_names(spec: &EntitySpec, p: &Prepared) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (i, f) in spec.fields.iter().enumerate() {
        if let Some(path) = &f.path {
            let name = p.mapping.fields[i]
                .column
                .map(|c| p.table.column_name(c))
                .unwrap_or_else(|| f.name.clone());
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
                let name = inst[m]
                    .column
                    .map(|c| p.table.column_name(c))
                    .unwrap_or_else(|| group.header(k + 1, &member.name));
                if let Some(mp) = &member.path {
                    out.insert(format!("{}.{k}.{mp}", group.path), name);
                }
            }
        }
    }
    out
}

async fn import(cfg: Config, ui: &Printer, resume_of: Option<i64>) -> Result<u8> {
    let started = Instant::now();
    let prepared = prepare(&cfg.base, ui)?;
    if prepared.spec.group_by.is_some() {
        if resume_of.is_some() {
            return Err(Error::usage(
                "orders runs cannot be resumed; run the same sheet again: orders already created are skipped",
            ));
        }
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
    let collection = spec.endpoint.clone();

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
        return super::trackfinity::import(cfg, ui, prepared, conn).await;
    }
    let database = conn.database.clone();
    let path = conn
        .collection(&spec.entity)
        .map(str::to_string)
        .unwrap_or(collection);
    let ctx = Arc::new(Ctx {
        client: conn.transport.clone(),
        limiter: Limiter::new(cfg.policy.rate),
        policy: cfg.policy.clone(),
        columns: column_names(spec, &prepared),
    });

    // What is there already: the records to compare with, and the references to resolve.
    let key_column_given = key_field
        .as_ref()
        .and_then(|k| spec.fields.iter().position(|f| &f.name == k))
        .is_some_and(|i| prepared.mapping.fields[i].is_bound());
    let needs_index = mode != Mode::Create || key_column_given;
    let mut index = Index::default();
    if needs_index {
        ui.note(&format!(
            "reading the {} already in {} \"{}\"…",
            spec.entity, database.id, database.name
        ));
        let records = ctx
            .list_all(&path, &[])
            .await
            .map_err(|e| Error::usage(format!("cannot plan the import: {e}")))?;
        index = Index::new(records, key_field.as_deref());
    }
    let mut resolver = Resolver::default();
    for (i, f) in spec.fields.iter().enumerate() {
        let (Some(r), true) = (&f.resolve, prepared.mapping.fields[i].is_bound()) else {
            continue;
        };
        let Some(rpath) = conn.collection(&r.entity) else {
            continue;
        };
        let records = ctx
            .list_all(rpath, &[])
            .await
            .map_err(|e| Error::usage(format!("cannot resolve {} references: {e}", r.entity)))?;
        resolver.add(&r.entity, &r.by, &records);
    }

    // The ledger: a new run, or the one being resumed with what it already did.
    let home = ledger::default_home();
    let mut outcomes: HashMap<u32, Outcome> = HashMap::new();
    let mut in_flight_before: HashMap<u32, Option<String>> = HashMap::new();
    let ledger_run = if cfg.dry_run {
        None
    } else {
        let mut ledger = Ledger::open(&home)?;
        let run = match resume_of {
            Some(id) => {
                for r in ledger.rows(id)? {
                    if r.sending {
                        in_flight_before.insert(r.row, r.key.clone());
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
                                payload: None,
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
                database_id: Some(database.id.clone()),
                database_name: Some(database.name.clone()),
                entity: spec.entity.clone(),
                mode: mode.to_string(),
                input_path: std::fs::canonicalize(&cfg.base.input)
                    .unwrap_or_else(|_| cfg.base.input.clone())
                    .display()
                    .to_string(),
                input_fingerprint: ledger::file_fingerprint(&cfg.base.input)?,
                sheet: (!prepared.table.sheets.is_empty()).then(|| prepared.table.sheet.clone()),
                config_json: serde_json::to_string(&Stored::from(&cfg)).unwrap_or_default(),
                total_rows: 0,
            })?,
        };
        Some((run, ledger))
    };
    let (ledger_tx, ledger_thread, run_id) = match ledger_run {
        Some((run, ledger)) => {
            let (tx, h) = spawn_ledger(ledger, run);
            (Some(tx), Some(h), Some(run))
        }
        None => (None, None, None),
    };

    // Ctrl-C: stop dispatching, let the requests in flight finish, write everything.
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let interrupted = interrupted.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                interrupted.store(true, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
            }
        });
    }

    let validator = Validator::new(
        spec,
        &prepared.mapping,
        &prepared.table,
        mode,
        cfg.base.parse.clone(),
        prepared.dups.as_ref(),
    );
    let bar = ui.progress(
        prepared.table.row_count_hint(),
        if cfg.dry_run { "planning" } else { "importing" },
    );
    let mut shown = (0u64, 0u64);
    let sem = Arc::new(Semaphore::new(cfg.policy.concurrency.max(1)));
    let queue = Arc::new(Semaphore::new(2 * cfg.policy.concurrency.max(1)));
    let mut tasks: JoinSet<(Job, Done)> = JoinSet::new();
    let mut failures: u64 = 0;
    let mut stopped_early = false;
    let mut payloads: HashMap<u32, String> = HashMap::new();

    let mut record = |outcomes: &mut HashMap<u32, Outcome>,
                      failures: &mut u64,
                      row: u32,
                      key: Option<String>,
                      o: Outcome| {
        if o.status
            .is_some_and(|s| matches!(s, Status::Failed | Status::Unknown | Status::Invalid))
        {
            *failures += 1;
        } else {
            shown.0 += 1;
        }
        bar.inc(1);
        if *failures != shown.1 || shown.0.is_multiple_of(64) {
            shown.1 = *failures;
            bar.set_message(format!("OK {} · failed {}", shown.0, *failures));
        }
        if let (Some(tx), Some(status)) = (&ledger_tx, o.status) {
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
        outcomes.insert(row, o);
    };

    let status_column = prepared.table.headers.iter().position(|h| h == "_status");
    let dispatch_started = Instant::now();
    let mut rows = prepared.table.rows()?;
    loop {
        if stop.load(Ordering::SeqCst) {
            stopped_early = true;
            break;
        }
        if cfg.max_errors.is_some_and(|m| failures >= m) {
            stopped_early = true;
            break;
        }
        let Some(raw) = rows.next() else { break };
        let raw = raw?;
        let number = raw.number;
        if outcomes.contains_key(&number) {
            bar.inc(1);
            continue;
        }
        if cfg.skip_unknown && status_column.is_some_and(|c| raw.cells[c].text.trim() == "UNKNOWN")
        {
            let o = Outcome {
                status: Some(Status::Skipped),
                action: Some("skip".into()),
                error: "left out: its earlier outcome is unknown; check it in SalesMania, then retry with --include-unknown".into(),
                ..Outcome::default()
            };
            record(&mut outcomes, &mut failures, number, None, o);
            continue;
        }
        let res = validator.validate(&raw);
        if cfg.dry_run {
            payloads.insert(number, res.payload_display());
        }
        let plan = plan_row(&res, mode, spec, key_field.as_deref(), &index, &resolver);
        let (action, body) = match plan {
            Planned::Done(o) => {
                record(&mut outcomes, &mut failures, number, res.key.clone(), o);
                continue;
            }
            Planned::Send(action, body) => (action, body),
        };
        // A row that was in flight when an earlier attempt of this run stopped: it may
        // have landed. Look its key up; without one it stays UNKNOWN rather than risk a
        // duplicate.
        let was_in_flight = in_flight_before.remove(&number);
        if was_in_flight.is_some()
            && mode == Mode::Create
            && let Action::Skip { id: Some(id), .. } = &action
        {
            // Its create landed before the stop: the index already holds the key.
            let o = Outcome {
                status: Some(Status::Ok),
                action: Some("create".into()),
                id: Some(id.clone()),
                error:
                    "was being sent when the run stopped; found on the server, so it was created"
                        .into(),
                attempts: Some(1),
                ..Outcome::default()
            };
            record(&mut outcomes, &mut failures, number, res.key.clone(), o);
            continue;
        }
        if let Some(prior_key) = was_in_flight
            && action == Action::Create
        {
            let lookup = key_field
                .as_ref()
                .zip(prior_key.or_else(|| res.key.clone()))
                .map(|(f, v)| Key {
                    field: f.clone(),
                    value: v,
                });
            let o = match lookup {
                None => Some(Outcome {
                    status: Some(Status::Unknown),
                    action: Some("create".into()),
                    error: "was being sent when the run stopped; without a natural key it cannot be looked up: check in SalesMania before sending it again".into(),
                    attempts: Some(1),
                    ..Outcome::default()
                }),
                Some(k) => match ctx.find_by_key(&path, &k).await {
                    Ok(Some(found)) => Some(Outcome {
                        status: Some(Status::Ok),
                        action: Some("create".into()),
                        id: crate::connector::parse::record_id(&found),
                        error: format!("was being sent when the run stopped; found {} {} on the server", k.field, k.value),
                        attempts: Some(1),
                        ..Outcome::default()
                    }),
                    Ok(None) => None,
                    Err(e) => Some(Outcome {
                        status: Some(Status::Unknown),
                        action: Some("create".into()),
                        error: format!("was being sent when the run stopped, and looking it up failed ({e})"),
                        attempts: Some(1),
                        ..Outcome::default()
                    }),
                },
            };
            if let Some(o) = o {
                record(&mut outcomes, &mut failures, number, res.key.clone(), o);
                continue;
            }
        }
        if cfg.dry_run {
            let (status, id) = match &action {
                Action::Skip { id, .. } => (Status::Skipped, id.clone()),
                Action::Update { id } | Action::Delete { id } => (Status::Valid, Some(id.clone())),
                Action::Create => (Status::Valid, None),
            };
            let error = match &action {
                Action::Skip { reason, .. } => reason.clone(),
                _ => String::new(),
            };
            record(
                &mut outcomes,
                &mut failures,
                number,
                res.key.clone(),
                Outcome {
                    status: Some(status),
                    action: Some(action.word().into()),
                    id,
                    error,
                    ..Outcome::default()
                },
            );
            continue;
        }
        if let Action::Skip { id, reason } = &action {
            record(
                &mut outcomes,
                &mut failures,
                number,
                res.key.clone(),
                Outcome {
                    status: Some(Status::Skipped),
                    action: Some("skip".into()),
                    id: id.clone(),
                    error: reason.clone(),
                    ..Outcome::default()
                },
            );
            continue;
        }
        let job = Job {
            note: res
                .warnings
                .iter()
                .map(|w| format!("warning: {w}"))
                .collect::<Vec<_>>()
                .join("; "),
            row: number,
            key: res.key.clone(),
            lookup: key_field
                .clone()
                .zip(res.key.clone())
                .map(|(field, value)| Key { field, value }),
            path: path.clone(),
            action,
            body,
        };
        // Commit "sending" before the request goes out, so a crash leaves a trace. It is
        // queued before waiting for a free slot, so that the commit overlaps the requests
        // in flight instead of adding to each row's time.
        let ack = match &ledger_tx {
            Some(tx) => {
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
            None => None,
        };
        // Rows queue up to one window ahead of the requests in flight, so that their
        // "sending" marks are committed before a slot frees up; a row still queued
        // when the run stops is unmarked and reported as not sent.
        let queued = tokio::select! {
            p = queue.clone().acquire_owned() => p.map_err(|_| Error::output("dispatch stopped unexpectedly"))?,
            _ = wait_for(&stop) => {
                if let Some(tx) = &ledger_tx {
                    let _ = tx.send(LedgerMsg::Unsent(job.row));
                }
                stopped_early = true;
                break;
            }
        };
        let ctx = ctx.clone();
        let sem = sem.clone();
        let stop = stop.clone();
        let tx = ledger_tx.clone();
        tasks.spawn(async move {
            let _queued = queued;
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
            if permit.is_err() || stop.load(Ordering::SeqCst) {
                if let Some(tx) = tx {
                    let _ = tx.send(LedgerMsg::Unsent(job.row));
                }
                return (job, Done::default());
            }
            let done = execute(&ctx, &job).await;
            drop(permit);
            (job, done)
        });
        while let Some(joined) = tasks.try_join_next() {
            if let Ok((job, done)) = joined
                && done.status.is_some()
            {
                let o = outcome_of(&job, done);
                record(&mut outcomes, &mut failures, job.row, job.key.clone(), o);
            }
        }
    }
    drop(rows);
    while let Some(joined) = tasks.join_next().await {
        // A task without a status never sent its row (the run stopped first).
        if let Ok((job, done)) = joined
            && done.status.is_some()
        {
            let o = outcome_of(&job, done);
            record(&mut outcomes, &mut failures, job.row, job.key.clone(), o);
        }
    }
    bar.finish_and_clear();
    let dispatch_seconds = dispatch_started.elapsed().as_secs_f64();

    let state = if interrupted.load(Ordering::SeqCst) || stopped_early {
        RunState::Interrupted
    } else {
        RunState::Completed
    };
    drop(ledger_tx);
    if let (Some(handle), Some(run)) = (ledger_thread, run_id) {
        let (mut ledger, error) = handle
            .join()
            .map_err(|_| Error::output("the run ledger stopped unexpectedly"))?;
        if let Some(e) = error {
            return Err(Error::output(format!(
                "{e} (run {run} may be incomplete in the ledger)"
            )));
        }
        ledger.finish_run(run, state)?;
    }

    report(
        &Finished {
            cfg: &cfg,
            prepared: &prepared,
            run_id,
            state,
            started,
            dispatch_seconds,
            base_url: &conn.base_url,
            database: &database,
            interrupted: interrupted.load(Ordering::SeqCst),
        },
        outcomes,
        payloads,
        ui,
    )
}

/// What a finished import hands to [`report`].
pub(crate) struct Finished<'a> {
    pub cfg: &'a Config,
    pub prepared: &'a Prepared,
    pub run_id: Option<i64>,
    pub state: RunState,
    pub started: Instant,
    pub dispatch_seconds: f64,
    pub base_url: &'a str,
    pub database: &'a crate::connector::salesmania::Database,
    pub interrupted: bool,
}

/// Write the result workbook (every input row with its outcome), print the summary and
/// choose the exit code.
pub(crate) fn report(
    f: &Finished<'_>,
    mut outcomes: HashMap<u32, Outcome>,
    mut payloads: HashMap<u32, String>,
    ui: &Printer,
) -> Result<u8> {
    let Finished {
        cfg,
        prepared,
        run_id,
        state,
        started,
        dispatch_seconds,
        base_url,
        database,
        interrupted,
    } = *f;
    let spec = &prepared.spec;
    let mode = cfg.base.mode;
    // The result workbook: every input row with its outcome.
    let columns = Columns {
        action: true,
        remote: true,
        attempts: !cfg.dry_run,
        payload: cfg.dry_run,
    };
    let mut sink = result::create_masked(
        &prepared.out,
        &prepared.table.headers,
        columns,
        &prepared.secret_columns(),
    )?;
    let mut counts: HashMap<Status, u64> = HashMap::new();
    let mut total = 0u64;
    let mut not_sent = 0u64;
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for raw in prepared.table.rows()? {
        let raw = raw?;
        total += 1;
        let mut o = outcomes.remove(&raw.number).unwrap_or_else(|| {
            not_sent += 1;
            Outcome {
                error: match run_id {
                    Some(id) => format!("not sent: the run stopped before this row (`sheetload resume {id}` continues)"),
                    None => "not sent: the run stopped before this row".into(),
                },
                ..Outcome::default()
            }
        });
        if let Some(s) = o.status {
            *counts.entry(s).or_default() += 1;
            if s.is_failure() {
                for kind in crate::validate::error_kinds(&o.error) {
                    *kinds.entry(kind).or_default() += 1;
                }
            }
        }
        if cfg.dry_run {
            o.payload = payloads.remove(&raw.number);
        }
        sink.row(&raw, &o)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let c = |s: Status| counts.get(&s).copied().unwrap_or(0);
    let mut lines: Vec<(String, String)> = vec![
        (
            "Run".into(),
            match (cfg.dry_run, run_id) {
                (true, _) => "dry run (read calls only, nothing written)".into(),
                (false, Some(id)) => id.to_string(),
                (false, None) => String::new(),
            },
        ),
        ("State".into(), state.as_str().into()),
        ("Input".into(), cfg.base.input.display().to_string()),
        ("Target".into(), format!("{} {}", spec.target, base_url)),
        (
            "Database".into(),
            format!("{} (id {})", database.name, database.id),
        ),
        ("Entity".into(), spec.entity.clone()),
        ("Mode".into(), mode.to_string()),
        ("Rows".into(), total.to_string()),
    ];
    for s in [
        Status::Ok,
        Status::Valid,
        Status::Skipped,
        Status::Invalid,
        Status::Failed,
        Status::Unknown,
    ] {
        if c(s) > 0 {
            lines.push((s.as_str().into(), c(s).to_string()));
        }
    }
    if not_sent > 0 {
        lines.push(("Not sent".into(), not_sent.to_string()));
    }
    lines.extend([
        ("Seconds".into(), format!("{seconds:.2}")),
        (
            "Rows per second".into(),
            format!("{:.0}", total as f64 / seconds.max(1e-9)),
        ),
        ("Concurrency".into(), cfg.policy.concurrency.to_string()),
        (
            "Finished at".into(),
            chrono::Local::now()
                .format("%Y-%m-%d %H:%M:%S %z")
                .to_string(),
        ),
        ("sheetload".into(), env!("CARGO_PKG_VERSION").into()),
    ]);
    let mut error_groups: Vec<(usize, String)> = kinds.into_iter().map(|(k, n)| (n, k)).collect();
    error_groups.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let result_path = sink.finish(&SummaryData {
        lines,
        error_groups: error_groups.clone(),
        ..SummaryData::default()
    })?;

    let mut summary = vec![format!(
        "{} rows → {} \"{}\" (db {}): {} OK, {} skipped, {} invalid, {} failed, {} unknown{} ({seconds:.1}s, {:.0} rows/s)",
        thousands(total),
        spec.entity,
        database.name,
        database.id,
        thousands(c(Status::Ok) + c(Status::Valid)),
        thousands(c(Status::Skipped)),
        thousands(c(Status::Invalid)),
        thousands(c(Status::Failed)),
        thousands(c(Status::Unknown)),
        if not_sent > 0 {
            format!(", {} not sent", thousands(not_sent))
        } else {
            String::new()
        },
        total as f64 / seconds.max(1e-9),
    )];
    for (n, what) in error_groups.iter().take(10) {
        summary.push(format!(
            "  {n} row{}: {what}",
            if *n == 1 { "" } else { "s" }
        ));
    }
    summary.push(format!("result: {}", result_path.display()));
    if let (RunState::Interrupted, Some(id)) = (state, run_id) {
        summary.push(format!(
            "run {id} stopped early; `sheetload resume {id}` sends the rest"
        ));
    }
    ui.summary(&summary);
    ui.json(&serde_json::json!({
        "command": if cfg.dry_run { "import --dry-run" } else { "import" },
        "run": run_id,
        "state": state.as_str(),
        "database": {"id": database.id, "name": database.name},
        "rows": total,
        "ok": c(Status::Ok),
        "valid": c(Status::Valid),
        "skipped": c(Status::Skipped),
        "invalid": c(Status::Invalid),
        "failed": c(Status::Failed),
        "unknown": c(Status::Unknown),
        "not_sent": not_sent,
        "seconds": seconds,
        "dispatch_seconds": dispatch_seconds,
        "concurrency": cfg.policy.concurrency,
        "result": result_path.display().to_string(),
    }));
    if interrupted {
        return Ok(exit::INTERRUPTED);
    }
    let bad = c(Status::Invalid) + c(Status::Failed) + c(Status::Unknown) + not_sent;
    Ok(if bad == 0 {
        exit::OK
    } else {
        exit::ROWS_FAILED
    })
}

async fn wait_for(flag: &AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What to do with one validated row.
enum Planned {
    /// Already decided (invalid, skipped, not found).
    Done(Outcome),
    /// Send this.
    Send(Action, Option<Value>),
}

fn failed(action: &str, status: Status, error: String) -> Planned {
    Planned::Done(Outcome {
        status: Some(status),
        action: Some(action.into()),
        error,
        ..Outcome::default()
    })
}

fn plan_row(
    res: &RowResult,
    mode: Mode,
    spec: &EntitySpec,
    key_field: Option<&str>,
    index: &Index,
    resolver: &Resolver,
) -> Planned {
    let word = mode.as_str();
    if !res.is_valid() {
        return failed(word, Status::Invalid, res.error_text());
    }
    let mut payload: Map<String, Value> = res.payload.clone();
    for r in &res.refs {
        match resolver.resolve(&r.entity, &r.by, &r.value) {
            Some(id) => {
                let v = id
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(id.to_string()));
                crate::validate::set_path(&mut payload, &r.path, v);
            }
            None => {
                return failed(
                    word,
                    Status::Invalid,
                    format!(
                        "{}: no {} with {} '{}' in this database; check the value or create it first",
                        r.column,
                        r.entity.trim_end_matches('s'),
                        r.by.join(" or "),
                        r.value
                    ),
                );
            }
        }
    }
    let key = res.key.as_deref();
    let key_name = key_field.unwrap_or("key");
    // The remote record this row is about, by id or natural key.
    let target = || -> Option<String> {
        if let Some(id) = res.id {
            return Some(id.to_string());
        }
        key.and_then(|k| index.id_for_key(k)).map(str::to_string)
    };
    let entity_one = spec.entity.trim_end_matches('s');
    match mode {
        Mode::Create => match key.and_then(|k| index.id_for_key(k)) {
            Some(id) => Planned::Send(
                Action::Skip {
                    id: Some(id.to_string()),
                    reason: format!(
                        "already exists as {entity_one} {id} ({key_name} {}); not created again — use --mode upsert to update it",
                        key.unwrap_or_default()
                    ),
                },
                None,
            ),
            None => Planned::Send(Action::Create, Some(Value::Object(payload))),
        },
        Mode::Update | Mode::Upsert => {
            let Some(id) = target() else {
                if mode == Mode::Upsert {
                    return Planned::Send(Action::Create, Some(Value::Object(payload)));
                }
                return failed(
                    word,
                    Status::Failed,
                    format!(
                        "no {entity_one} with {key_name} '{}' in this database; use --mode upsert to create it",
                        key.unwrap_or_default()
                    ),
                );
            };
            let changes = match index.record(&id) {
                Some(remote) if !remote.is_null() => payload::diff(&payload, remote),
                Some(_) => payload,
                None if res.id.is_some() && !index.is_empty() => {
                    return failed(
                        word,
                        Status::Failed,
                        format!("no {entity_one} with id {id} in this database"),
                    );
                }
                None => payload,
            };
            if changes.is_empty() {
                Planned::Send(
                    Action::Skip {
                        id: Some(id),
                        reason: String::new(),
                    },
                    None,
                )
            } else {
                Planned::Send(Action::Update { id }, Some(Value::Object(changes)))
            }
        }
        Mode::Delete => match target() {
            Some(id) => Planned::Send(Action::Delete { id }, None),
            None => failed(
                word,
                Status::Failed,
                format!(
                    "no {entity_one} with {key_name} '{}' in this database",
                    key.unwrap_or_default()
                ),
            ),
        },
        Mode::Lock | Mode::Unlock | Mode::Forget => failed(
            word,
            Status::Invalid,
            format!("{} has no {word} mode", spec.entity),
        ),
    }
}

async fn execute(ctx: &Ctx, job: &Job) -> Done {
    match &job.action {
        Action::Create => {
            let body = job.body.clone().unwrap_or(Value::Object(Map::new()));
            ctx.create(&job.path, &body, job.lookup.as_ref()).await
        }
        Action::Update { id } => {
            let mut done = ctx
                .change(
                    Method::PATCH,
                    &format!("{}/{id}", job.path),
                    job.body.as_ref(),
                )
                .await;
            done.id = Some(id.clone());
            done
        }
        Action::Delete { id } => {
            let mut done = ctx
                .change(Method::DELETE, &format!("{}/{id}", job.path), None)
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

fn outcome_of(job: &Job, done: Done) -> Outcome {
    let error = match (done.error.is_empty(), job.note.is_empty()) {
        (_, true) => done.error,
        (true, false) => job.note.clone(),
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
    }
}
