//! The end of an import: the result workbook (every input row with its outcome), the
//! summary on the terminal and in `--json`, and the exit code.
//!
//! Once a row has been sent, nothing here may end the run with exit 2 ("nothing was
//! sent"): a result file that cannot be written goes to a fallback path beside it (or
//! under `SHEETLOAD_HOME`), and the counts and the real exit code are still given.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::import::Config;
use super::validate::Prepared;
use crate::connector::salesmania::Database;
use crate::error::{Result, exit};
use crate::ledger::RunState;
use crate::output::Status;
use crate::output::result::{self, Columns, Outcome, SummaryData};
use crate::ui::{Printer, thousands};

/// What a finished import hands to [`report`].
pub(crate) struct Finished<'a> {
    /// The run's options.
    pub cfg: &'a Config,
    /// The input, mapping and result path.
    pub prepared: &'a Prepared,
    /// The ledger's run, unless a dry run.
    pub run_id: Option<i64>,
    /// Completed or interrupted.
    pub state: RunState,
    /// When the process started the run.
    pub started: Instant,
    /// Seconds spent sending.
    pub dispatch_seconds: f64,
    /// The target's address.
    pub base_url: &'a str,
    /// The database written to (for targets without databases, a label for the account).
    pub database: &'a Database,
    /// Ctrl-C ended the run (exit 130).
    pub interrupted: bool,
    /// Why rows were left unsent, when the run stopped early (`--max-errors 5 reached`).
    pub stop_reason: Option<String>,
    /// A problem after sending began (a ledger write that failed): reported, and the
    /// exit code is at least 1, but the result is still written.
    pub problem: Option<String>,
}

/// Row counts of a run, gathered while the result workbook is written.
#[derive(Default)]
struct Tally {
    total: u64,
    by_status: HashMap<Status, u64>,
    /// Dry run: rows per planned action (`create`, `update` …).
    by_action: HashMap<String, u64>,
    kinds: HashMap<String, usize>,
}

impl Tally {
    fn of(&self, s: Status) -> u64 {
        self.by_status.get(&s).copied().unwrap_or(0)
    }

    fn would(&self, action: &str) -> u64 {
        self.by_action.get(action).copied().unwrap_or(0)
    }

    /// Rows that reached an outcome (not the ones left unsent).
    fn settled(&self) -> u64 {
        self.total - self.of(Status::NotSent)
    }

    fn groups(&self) -> Vec<(usize, String)> {
        let mut g: Vec<(usize, String)> = self.kinds.iter().map(|(k, n)| (*n, k.clone())).collect();
        g.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        g
    }
}

fn not_sent_reason(f: &Finished<'_>) -> String {
    let why = f
        .stop_reason
        .clone()
        .unwrap_or_else(|| "the run stopped before this row".into());
    match f.run_id {
        Some(id) => format!("not sent: {why} (`sheetload resume {id}` sends it)"),
        None => format!("not sent: {why}"),
    }
}

/// Write every input row with its outcome to `path`; returns where it went and the counts.
fn write_result(
    f: &Finished<'_>,
    outcomes: &HashMap<u32, Outcome>,
    payloads: &HashMap<u32, String>,
    path: &Path,
) -> Result<(PathBuf, Tally)> {
    let prepared = f.prepared;
    let dry_run = f.cfg.dry_run;
    let columns = Columns {
        action: true,
        remote: true,
        attempts: !dry_run,
        payload: dry_run,
        changes: true,
    };
    let mut sink = result::create_masked(
        path,
        &prepared.table.headers,
        columns,
        &prepared.secret_columns(),
    )?;
    let mut tally = Tally::default();
    let unsent = not_sent_reason(f);
    for raw in prepared.table.rows()? {
        let raw = raw?;
        tally.total += 1;
        let mut o = outcomes
            .get(&raw.number)
            .cloned()
            .unwrap_or_else(|| Outcome {
                status: Some(Status::NotSent),
                error: unsent.clone(),
                ..Outcome::default()
            });
        if let Some(s) = o.status {
            *tally.by_status.entry(s).or_default() += 1;
            if s.is_failure() && s != Status::NotSent {
                // A failed row's warnings are not what failed it.
                for kind in crate::validate::error_kinds(&o.error)
                    .into_iter()
                    .filter(|k| !k.starts_with("warning: "))
                {
                    *tally.kinds.entry(kind).or_default() += 1;
                }
            }
            if dry_run && matches!(s, Status::Valid | Status::Skipped) {
                let a = o.action.clone().unwrap_or_default();
                *tally.by_action.entry(a).or_default() += 1;
            }
        }
        if dry_run {
            o.payload = payloads.get(&raw.number).cloned();
        }
        sink.row(&raw, &o)?;
    }
    let summary = SummaryData {
        lines: summary_sheet(f, &tally),
        error_groups: tally.groups(),
        ..SummaryData::default()
    };
    let written = sink.finish(&summary)?;
    Ok((written, tally))
}

/// Other places for the result workbook when its own path cannot be written (open in
/// Excel, a read-only folder): beside it with a time stamp, then under `SHEETLOAD_HOME`,
/// then the temp folder.
fn fallback_paths(path: &Path) -> Vec<PathBuf> {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "result".into());
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "xlsx".into());
    let name = format!("{stem}-{stamp}.{ext}");
    let mut out = vec![path.with_file_name(&name)];
    out.push(crate::ledger::default_home().join("results").join(&name));
    out.push(std::env::temp_dir().join(&name));
    out
}

fn summary_sheet(f: &Finished<'_>, t: &Tally) -> Vec<(String, String)> {
    let cfg = f.cfg;
    let spec = &f.prepared.spec;
    let seconds = f.started.elapsed().as_secs_f64();
    let mut lines: Vec<(String, String)> = vec![
        (
            "Run".into(),
            match (cfg.dry_run, f.run_id) {
                (true, _) => "dry run (read calls only, nothing written)".into(),
                (false, Some(id)) => id.to_string(),
                (false, None) => String::new(),
            },
        ),
        ("State".into(), f.state.as_str().into()),
        ("Input".into(), cfg.base.input.display().to_string()),
        ("Target".into(), format!("{} {}", spec.target, f.base_url)),
        (
            "Database".into(),
            format!("{} (id {})", f.database.name, f.database.id),
        ),
        ("Entity".into(), spec.entity.clone()),
        ("Mode".into(), cfg.base.mode.to_string()),
        ("Rows".into(), t.total.to_string()),
    ];
    if cfg.dry_run {
        for a in ["create", "update", "skip", "delete"] {
            lines.push((format!("Would {a}"), t.would(a).to_string()));
        }
    }
    for s in [
        Status::Ok,
        Status::Valid,
        Status::Skipped,
        Status::Invalid,
        Status::Failed,
        Status::Unknown,
        Status::NotSent,
    ] {
        if t.of(s) > 0 {
            lines.push((s.as_str().into(), t.of(s).to_string()));
        }
    }
    if let Some(why) = &f.stop_reason {
        lines.push(("Stopped".into(), why.clone()));
    }
    if let Some(p) = &f.problem {
        lines.push(("Problem".into(), p.clone()));
    }
    lines.extend([
        ("Seconds".into(), format!("{seconds:.2}")),
        (
            "Rows per second".into(),
            format!("{:.0}", t.settled() as f64 / seconds.max(1e-9)),
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
    lines
}

/// The terminal summary: a dry run says so on its first and last line and counts what
/// it would do; a real run counts what happened.
fn terminal_lines(f: &Finished<'_>, t: &Tally, result_path: &Path) -> Vec<String> {
    let spec = &f.prepared.spec;
    let seconds = f.started.elapsed().as_secs_f64();
    let rate = t.settled() as f64 / seconds.max(1e-9);
    let place = format!(
        "{} {}",
        spec.entity,
        crate::targets::destination(&spec.target, f.database)
    );
    let n = thousands;
    let rows = crate::ui::count(t.total, "row");
    let mut out = Vec::new();
    if f.cfg.dry_run {
        out.push(format!(
            "dry run — nothing was sent: {rows} → {place}: would create {}, would update {}, would skip {}, would delete {}, {} invalid ({seconds:.1}s)",
            n(t.would("create")),
            n(t.would("update")),
            n(t.would("skip")),
            n(t.would("delete")),
            n(t.of(Status::Invalid)),
        ));
    } else {
        let not_sent = t.of(Status::NotSent);
        out.push(format!(
            "{rows} → {place}: {} OK, {} skipped, {} invalid, {} failed, {} unknown{} ({seconds:.1}s, {rate:.0} rows/s)",
            n(t.of(Status::Ok)),
            n(t.of(Status::Skipped)),
            n(t.of(Status::Invalid)),
            n(t.of(Status::Failed)),
            n(t.of(Status::Unknown)),
            if not_sent > 0 {
                format!(", {} not sent", n(not_sent))
            } else {
                String::new()
            },
        ));
    }
    for (count, what) in t.groups().iter().take(10) {
        out.push(format!(
            "  {}: {what}",
            crate::ui::count(*count as u64, "row")
        ));
    }
    if let Some(p) = &f.problem {
        out.push(format!("problem: {p}"));
    }
    out.push(format!("result: {}", result_path.display()));
    if let (RunState::Interrupted, Some(id)) = (f.state, f.run_id) {
        let why = f.stop_reason.as_deref().unwrap_or("stopped early");
        out.push(format!(
            "run {id} {why}; `sheetload resume {id}` sends the rest"
        ));
    }
    if f.cfg.dry_run {
        out.push("dry run: nothing was created, changed or deleted".into());
    }
    out
}

/// Write the result workbook (every input row with its outcome), print the summary and
/// choose the exit code.
pub(crate) fn report(
    f: &Finished<'_>,
    outcomes: HashMap<u32, Outcome>,
    payloads: HashMap<u32, String>,
    ui: &Printer,
) -> Result<u8> {
    let out = &f.prepared.out;
    let (result_path, t) = match write_result(f, &outcomes, &payloads, out) {
        Ok(done) => done,
        Err(first) => {
            let mut last = first.to_string();
            let mut written = None;
            for alt in fallback_paths(out) {
                if let Some(dir) = alt.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                match write_result(f, &outcomes, &payloads, &alt) {
                    Ok(done) => {
                        ui.warn(&format!(
                            "{first}; the result was written to {} instead",
                            alt.display()
                        ));
                        written = Some(done);
                        break;
                    }
                    Err(e) => last = e.to_string(),
                }
            }
            match written {
                Some(done) => done,
                None => return Err(crate::error::Error::output(last)),
            }
        }
    };
    ui.summary(&terminal_lines(f, &t, &result_path));
    let seconds = f.started.elapsed().as_secs_f64();
    ui.json(&serde_json::json!({
        "command": if f.cfg.dry_run { "import --dry-run" } else { "import" },
        "dry_run": f.cfg.dry_run,
        "run": f.run_id,
        "state": f.state.as_str(),
        "database": {"id": f.database.id, "name": f.database.name},
        "rows": t.total,
        "ok": t.of(Status::Ok),
        "valid": t.of(Status::Valid),
        "skipped": t.of(Status::Skipped),
        "invalid": t.of(Status::Invalid),
        "failed": t.of(Status::Failed),
        "unknown": t.of(Status::Unknown),
        "not_sent": t.of(Status::NotSent),
        "would": if f.cfg.dry_run {
            serde_json::json!({
                "create": t.would("create"),
                "update": t.would("update"),
                "skip": t.would("skip"),
                "delete": t.would("delete"),
            })
        } else {
            serde_json::Value::Null
        },
        "stopped": f.stop_reason,
        "problem": f.problem,
        "seconds": seconds,
        "dispatch_seconds": f.dispatch_seconds,
        "concurrency": f.cfg.policy.concurrency,
        "result": result_path.display().to_string(),
    }));
    if f.interrupted {
        return Ok(exit::INTERRUPTED);
    }
    let bad = t.of(Status::Invalid)
        + t.of(Status::Failed)
        + t.of(Status::Unknown)
        + t.of(Status::NotSent);
    Ok(if bad == 0 && f.problem.is_none() {
        exit::OK
    } else {
        exit::ROWS_FAILED
    })
}
