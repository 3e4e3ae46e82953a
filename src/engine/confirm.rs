//! The plan shown and confirmed before anything is sent: always for a destructive mode
//! (delete, forget), for every import with `--confirm` or a profile's `confirm = true`.
//! The plan is counted by the run's own planner, so what is asked is what is sent.

use std::collections::BTreeMap;

use super::Config;
use super::flight::{FlightPlan, Requests};
use super::job::{RowPlanner, Step};
use crate::engine::prepare::Prepared;
use crate::error::{Error, Result};
use crate::spec::{Mode, Verb};
use crate::ui::{count, records};
use crate::validate::Validator;
use reqwest::Method;

/// The plan counted by the run's planner: jobs by action, rows that cannot be sent,
/// and the requests the jobs make.
pub(crate) struct Counted {
    jobs: BTreeMap<&'static str, u64>,
    invalid: u64,
    /// Requests by kind (the list pages are the flight plan's to fill in).
    pub requests: Requests,
}

/// Whether the plan must be shown and confirmed before anything is sent.
pub(crate) fn must_confirm(cfg: &Config) -> bool {
    let destructive = matches!(cfg.base.mode, Mode::Delete | Mode::Forget);
    !(cfg.dry_run || cfg.yes || !(destructive || cfg.confirm))
}

/// Count the plan with `planner` (which is then reset, so that the run plans again).
pub(crate) fn count_plan(
    prepared: &Prepared,
    validator: &Validator<'_>,
    planner: &mut dyn RowPlanner,
) -> Result<Counted> {
    let mut c = Counted {
        jobs: BTreeMap::new(),
        invalid: 0,
        requests: Requests::default(),
    };
    let mut steps = Vec::new();
    let mut tally = |steps: &mut Vec<Step>| {
        for step in steps.drain(..) {
            match step {
                Step::Send(job) => {
                    *c.jobs.entry(job.word.as_str()).or_default() += 1;
                    match job.request.as_ref().map(|r| r.method.clone()) {
                        Some(Method::POST) => c.requests.creates += 1,
                        Some(Method::DELETE) => c.requests.deletes += 1,
                        Some(_) => c.requests.updates += 1,
                        None => {}
                    }
                }
                Step::Settle { .. } => c.invalid += 1,
                Step::SettleAll(rows) => c.invalid += rows.len() as u64,
            }
        }
    };
    for raw in prepared.table.rows()? {
        let raw = raw?;
        let res = validator.validate(&raw);
        planner.row(&raw, res, &mut steps);
        tally(&mut steps);
    }
    planner.finish(&mut steps);
    tally(&mut steps);
    planner.reset();
    Ok(c)
}

/// Ask about the counted plan (and its flight plan); without a terminal, `--yes` is
/// needed. Nothing is sent when the answer is no.
pub(crate) fn confirm_plan(
    cfg: &Config,
    prepared: &Prepared,
    counted: &Counted,
    flight: Option<&FlightPlan>,
    place: &str,
) -> Result<()> {
    let mode = cfg.base.mode;
    let destructive = matches!(mode, Mode::Delete | Mode::Forget);
    if !must_confirm(cfg) {
        return Ok(());
    }
    let (jobs, invalid) = (&counted.jobs, counted.invalid);
    let entity = prepared.spec.entity;
    let n = |w: &str| jobs.get(w).copied().unwrap_or(0);
    let plan = if destructive {
        format!(
            "{mode} {} from {place}",
            records(n(mode.as_str()), entity.as_str())
        )
    } else {
        let doing: Vec<String> = jobs
            .iter()
            .filter(|(w, _)| **w != Verb::Skip.as_str())
            .map(|(w, c)| format!("{w} {c}"))
            .collect();
        let doing = if doing.is_empty() {
            "send nothing".to_string()
        } else {
            doing.join(", ")
        };
        let sent: u64 = jobs
            .iter()
            .filter(|(w, _)| **w != Verb::Skip.as_str())
            .map(|(_, c)| c)
            .sum();
        let noun = if sent == 1 {
            entity.one()
        } else {
            entity.as_str()
        };
        format!(
            "{doing} {noun} in {place} ({} unchanged)",
            n(Verb::Skip.as_str())
        )
    };
    let plan = if invalid > 0 {
        format!("{plan}; {} not sendable", count(invalid, "row"))
    } else {
        plan
    };
    let plan = match flight {
        Some(f) => format!("{plan} [{}]", f.text()),
        None => plan,
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

/// Rows in the input, for the progress bar (CSV has no row count: it is counted).
pub fn row_total(prepared: &Prepared) -> Option<u64> {
    prepared.table.row_count_hint().or_else(|| {
        let rows = prepared.table.rows().ok()?;
        Some(rows.count() as u64)
    })
}
