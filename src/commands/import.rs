//! `sheetload import`, `resume` and `retry`: turn the command line into engine runs,
//! watch them on the terminal, and write the result workbook and the summary.

use std::path::PathBuf;
use std::time::Instant;

use super::report::report;
use super::validate::{self, prepare};
use crate::connection;
use crate::engine::{self, Stop};
use crate::error::{Result, exit};
use crate::ui::Printer;

pub use crate::engine::Config;

/// Re-run the failed rows of an earlier result workbook (its `Failed` sheet, possibly
/// fixed by hand) with the options of the run that produced it.
pub fn retry(
    result: &std::path::Path,
    include_unknown: bool,
    out: Option<PathBuf>,
    yes: bool,
    allow_excel_damage: bool,
    wait_for_lock: Option<std::time::Duration>,
    ui: &Printer,
) -> Result<u8> {
    let (mut cfg, record) = crate::engine::again::retry(result, include_unknown, out)?;
    cfg.yes = yes;
    cfg.allow_excel_damage |= allow_excel_damage;
    cfg.wait_for_lock = wait_for_lock;
    let run_id = record.id;
    ui.note(&format!(
        "retrying the Failed rows of run {run_id} ({} {})",
        record.entity, record.mode
    ));
    connection::runtime()?.block_on(import(cfg, ui, None))
}

/// Run `import` and return its exit code.
pub fn run(cfg: &Config, ui: &Printer) -> Result<u8> {
    if cfg.dry_run && !connection::has_target(&cfg.conn) {
        ui.note("no target given: validating offline (nothing is sent); give a connection (or --sandbox) to also plan create / update / skip per row");
        return validate::run(&cfg.base, ui);
    }
    connection::runtime()?.block_on(import(cfg.clone(), ui, None))
}

/// Hand the memory that the passes before sending (the survey, the duplicate keys) used
/// and freed back to the system. The sending runs on other threads, which do not reuse
/// this thread's free pages: held, they stayed in the import's peak for the whole run
/// (3 MB of a million-row file's 37–41 MB).
fn release_freed_memory() {
    // SAFETY: `mi_collect` has no preconditions; it only returns free pages of the
    // allocator's heaps to the system (and does nothing to blocks in use).
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// Finish an interrupted or killed run (the newest unfinished one by default).
pub fn resume(
    run_id: Option<i64>,
    wait_for_lock: Option<std::time::Duration>,
    wait_for_quota: bool,
    ui: &Printer,
) -> Result<u8> {
    let (mut cfg, record) = crate::engine::again::resume(run_id)?;
    cfg.wait_for_lock = wait_for_lock;
    cfg.wait_for_quota = wait_for_quota;
    ui.note(&format!(
        "resuming run {} ({} {}, {})",
        record.id,
        record.entity,
        record.mode,
        cfg.base.input.display()
    ));
    connection::runtime()?.block_on(import(cfg, ui, Some(record.id)))
}

async fn import(mut cfg: Config, ui: &Printer, resume_of: Option<i64>) -> Result<u8> {
    let started = Instant::now();
    if cfg.dry_run {
        cfg.base = crate::engine::prepare::keep_real_result(&cfg.base, ui);
    }
    let prepared = crate::engine::prepare::with_key(
        prepare(&cfg.base, ui)?,
        cfg.key.as_deref(),
        cfg.group_by.as_deref(),
    )?;
    release_freed_memory();
    // Ctrl-C once sending begins: stop dispatching, let the requests in flight finish,
    // write everything.
    let stop = Stop::with_limit(cfg.max_errors).on_ctrl_c();
    let printer = *ui;
    stop.quota
        .on_wait(Box::new(move |text: &str| printer.warn(text)));
    let mut progress = super::progress::Progress::new(*ui);
    let target = crate::targets::get(prepared.spec.target);
    let ran = engine::run(target, &cfg, &prepared, resume_of, stop, &mut progress, ui).await?;
    drop(progress);
    let finished = ran.finished(&cfg, &prepared, started);
    match report(&finished, ran.spill(), ui) {
        Err(e) if ran.run_id.is_some() => {
            // Rows were sent: never exit 2 ("nothing sent") now.
            ui.error(&e.to_string());
            if let Some(id) = ran.run_id {
                ui.summary(&[format!(
                    "the ledger holds every row's outcome: `sheetload runs show {id}`"
                )]);
            }
            Ok(if ran.interrupted {
                exit::INTERRUPTED
            } else if ran.parked.is_some() {
                exit::PARKED
            } else {
                exit::ROWS_FAILED
            })
        }
        other => other,
    }
}
