//! The report stage: the result workbook — every input row with its outcome — written
//! where it was asked for, or, once rows were sent, at a fallback beside it (or under
//! `SHEETLOAD_HOME`, or the temp folder), so that a run that sent rows never ends with
//! "nothing was sent".

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::Config;
use super::prepare::Prepared;
use super::spill::Spill;
use crate::connector::Database;
use crate::error::Result;
use crate::ledger::RunState;
use crate::output::Status;
use crate::output::result::{self, Columns, Outcome, SummaryData};
use crate::spec::Verb;

/// What a finished import hands to the report stage.
pub struct Finished<'a> {
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
    /// Seconds spent signing in.
    pub sign_in_seconds: f64,
    /// When the first row's request went out, if one did.
    pub first_sent: Option<Instant>,
    /// When the last outcome settled, if one did.
    pub last_settled: Option<Instant>,
    /// The target's address.
    pub base_url: &'a str,
    /// The database written to (for targets without databases, a label for the account).
    pub database: &'a Database,
    /// Ctrl-C ended the run (exit 130).
    pub interrupted: bool,
    /// The API's quota was spent: the run parked until it resets (exit 75).
    pub parked: Option<std::time::SystemTime>,
    /// The flight plan, when one was made.
    pub flight: Option<&'a super::flight::FlightPlan>,
    /// What the run sent, by kind.
    pub sent: super::flight::Requests,
    /// Why rows were left unsent, when the run stopped early (`--max-errors 5 reached`).
    pub stop_reason: Option<String>,
    /// A problem after sending began (a ledger write that failed): reported, and the
    /// exit code is at least 1, but the result is still written.
    pub problem: Option<String>,
}

/// Row counts of a run, gathered while the result workbook is written.
#[derive(Default)]
pub struct Tally {
    /// Data rows in the input.
    pub total: u64,
    by_status: HashMap<Status, u64>,
    /// Dry run: rows per planned action (`create`, `update` …).
    by_action: HashMap<Verb, u64>,
    kinds: HashMap<String, usize>,
}

impl Tally {
    /// Rows with status `s`.
    pub fn of(&self, s: Status) -> u64 {
        self.by_status.get(&s).copied().unwrap_or(0)
    }

    /// Dry run: rows that would get `action`.
    pub fn would(&self, action: Verb) -> u64 {
        self.by_action.get(&action).copied().unwrap_or(0)
    }

    /// A dry run's count of every row: `would create 3, would update 2, would skip 0,
    /// would delete 0, 1 invalid, 1 would fail` (a row the real run would fail, such as
    /// a delete of an id the target does not have, counted as it will end).
    pub fn would_line(&self) -> String {
        let n = crate::ui::thousands;
        format!(
            "would create {}, would update {}, would skip {}, would delete {}, {} invalid, {} would fail",
            n(self.would(Verb::Create)),
            n(self.would(Verb::Update)),
            n(self.would(Verb::Skip)),
            n(self.would(Verb::Delete)),
            n(self.of(Status::Invalid)),
            n(self.of(Status::Failed) + self.of(Status::Unknown)),
        )
    }

    /// Rows that reached an outcome (not the ones left unsent).
    pub fn settled(&self) -> u64 {
        self.total - self.of(Status::NotSent)
    }

    /// (rows, kind of error), most frequent first.
    pub fn groups(&self) -> Vec<(usize, String)> {
        result::ranked(self.kinds.clone())
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
/// The input is read again and joined with the spill's outcomes as both go in row order,
/// so that memory stays flat however many rows there are.
fn write_result(f: &Finished<'_>, spill: &Spill, path: &Path) -> Result<(PathBuf, Tally)> {
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
    let mut outcomes = spill.cursor()?;
    for raw in prepared.table.rows()? {
        let raw = raw?;
        tally.total += 1;
        let mut o = outcomes.take(raw.number)?.unwrap_or_else(|| Outcome {
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
            if dry_run
                && matches!(s, Status::Valid | Status::Skipped)
                && let Some(a) = o.action
            {
                *tally.by_action.entry(a).or_default() += 1;
            }
        }
        if !dry_run {
            o.payload = None;
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
        ("Entity".into(), spec.entity.to_string()),
        ("Mode".into(), cfg.base.mode.to_string()),
        ("Rows".into(), t.total.to_string()),
    ];
    if cfg.dry_run {
        for a in [Verb::Create, Verb::Update, Verb::Skip, Verb::Delete] {
            lines.push((format!("Would {a}"), t.would(a).to_string()));
        }
    }
    for s in Status::ALL {
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
    if let Some(n) = f.prepared.table.left_out_note() {
        lines.push(("Left out".into(), n));
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

/// Where the result workbook went, and the run's counts.
pub struct Written {
    /// The workbook's path (a fallback when the asked-for one could not be written).
    pub path: PathBuf,
    /// Row counts.
    pub tally: Tally,
    /// Why the asked-for path was not used, when a fallback was.
    pub fell_back: Option<String>,
}

/// Write the result workbook at its path, or at the first fallback that works; fails
/// only when none can be written.
pub fn write(f: &Finished<'_>, spill: &Spill) -> Result<Written> {
    let out = &f.prepared.out;
    let first = match write_result(f, spill, out) {
        Ok((path, tally)) => {
            return Ok(Written {
                path,
                tally,
                fell_back: None,
            });
        }
        Err(e) => e,
    };
    let mut last = first.to_string();
    for alt in fallback_paths(out) {
        if let Some(dir) = alt.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        match write_result(f, spill, &alt) {
            Ok((path, tally)) => {
                return Ok(Written {
                    path,
                    tally,
                    fell_back: Some(first.to_string()),
                });
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(crate::error::Error::output(last))
}
