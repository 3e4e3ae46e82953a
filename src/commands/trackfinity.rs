//! Trackfinity: form-encoded PATCHes of existing customers found by `customer_id` or
//! `subscription_id` (the API cannot create, read or list them). An empty cell leaves a
//! field as it is; `REMOVE` or `#CLEAR` clears it (never a password); `--mode lock` /
//! `unlock` take a sheet of keys; `--mode forget` erases personal data, only with `--yes`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use reqwest::Method;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::connection::Connected;
use super::import::Config;
use super::report::{Finished, report};
use super::validate::Prepared;
use crate::connector::Body;
use crate::dispatch::{Ctx, Done, Limiter};
use crate::error::{Error, Result};
use crate::ledger::{self, Ledger, NewRun, RowOutcome, RunState};
use crate::output::Status;
use crate::output::result::Outcome;
use crate::spec::Mode;
use crate::ui::Printer;
use crate::validate::Validator;

/// Fields that find the customer rather than change it.
const LOOKUP: [&str; 3] = ["customer_id", "subscription_id", "orderid"];

/// Text of a form value: strings as they are, `null` (cleared) as `REMOVE`.
fn form_value(v: &Value) -> String {
    match v {
        Value::Null => "REMOVE".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The form of one row, or why it cannot be sent.
fn form_of(
    payload: &serde_json::Map<String, Value>,
    mode: Mode,
    keep: Option<&str>,
) -> std::result::Result<Vec<(String, String)>, String> {
    let lookups: &[&str] = match mode {
        Mode::Lock | Mode::Unlock => &LOOKUP,
        _ => &LOOKUP[..2],
    };
    let key = lookups
        .iter()
        .find_map(|k| {
            payload
                .get(*k)
                .filter(|v| !v.is_null())
                .map(|v| (k.to_string(), form_value(v)))
        })
        .ok_or_else(|| format!("needs one of {} to find the customer", lookups.join(", ")))?;
    let mut form = vec![key];
    match mode {
        Mode::Update => {
            for (k, v) in payload {
                if !LOOKUP.contains(&k.as_str()) {
                    form.push((k.clone(), form_value(v)));
                }
            }
            if form.len() == 1 {
                return Err(
                    "nothing to change: fill at least one column besides the customer's key (REMOVE clears a field)".into(),
                );
            }
        }
        Mode::Forget => {
            if let Some(k) = keep {
                form.push(("keep".into(), k.to_string()));
            }
        }
        _ => {}
    }
    Ok(form)
}

/// Import a Trackfinity sheet and write the result workbook.
pub async fn import(cfg: Config, ui: &Printer, prepared: Prepared, conn: Connected) -> Result<u8> {
    let started = Instant::now();
    let spec = &prepared.spec;
    let mode = cfg.base.mode;
    let endpoint = match mode {
        Mode::Update => "/api/customer/set_customer_details",
        Mode::Lock => "/api/customer/lock",
        Mode::Unlock => "/api/customer/unlock",
        Mode::Forget => "/api/customer/forget",
        other => {
            return Err(Error::usage(format!(
                "Trackfinity customers cannot be imported with --mode {other} (the API only changes existing customers): use update, lock, unlock or forget"
            )));
        }
    };
    if mode == Mode::Forget && !cfg.yes && !cfg.dry_run {
        return Err(Error::usage(
            "--mode forget erases customers' personal data for good: add --yes to confirm (and --keep FIELDS to keep some)",
        ));
    }
    let ctx = Arc::new(Ctx {
        client: conn.transport.clone(),
        limiter: Limiter::new(cfg.policy.rate),
        policy: cfg.policy.clone(),
        columns: HashMap::new(),
    });
    let validator = Validator::new(
        spec,
        &prepared.mapping,
        &prepared.table,
        mode,
        cfg.base.parse.clone(),
        prepared.dups.as_ref(),
    );
    let mut ledger = Ledger::open(&ledger::default_home())?;
    let run_id = if cfg.dry_run {
        None
    } else {
        Some(ledger.begin_run(&NewRun {
            target: spec.target.clone(),
            base_url: conn.base_url.clone(),
            database_id: Some(conn.database.id.clone()),
            database_name: Some(conn.database.name.clone()),
            entity: spec.entity.clone(),
            mode: mode.to_string(),
            input_path: cfg.base.input.display().to_string(),
            input_fingerprint: ledger::file_fingerprint(&cfg.base.input)?,
            sheet: (!prepared.table.sheets.is_empty()).then(|| prepared.table.sheet.clone()),
            config_json: super::import::stored_options(&cfg),
            total_rows: 0,
        })?)
    };
    let mut outcomes: HashMap<u32, Outcome> = HashMap::new();
    let mut payloads: HashMap<u32, String> = HashMap::new();
    let mut keys: HashMap<u32, Option<String>> = HashMap::new();
    let sem = Arc::new(Semaphore::new(cfg.policy.concurrency.max(1)));
    let mut tasks: JoinSet<(u32, Done)> = JoinSet::new();
    let dispatch_started = Instant::now();
    let word = mode.as_str();
    let settle = |outcomes: &mut HashMap<u32, Outcome>, (row, done): (u32, Done)| {
        outcomes.insert(
            row,
            Outcome {
                status: done.status,
                action: Some(word.into()),
                id: done.id,
                http: done.http,
                error: done.error,
                attempts: Some(done.attempts),
                ..Outcome::default()
            },
        );
    };
    for raw in prepared.table.rows()? {
        let raw = raw?;
        let res = validator.validate(&raw);
        let key = ["customer_id", "subscription_id", "orderid"]
            .iter()
            .find_map(|k| {
                res.payload
                    .get(*k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        keys.insert(raw.number, key.clone());
        if !res.is_valid() {
            outcomes.insert(
                raw.number,
                Outcome {
                    status: Some(Status::Invalid),
                    action: Some(word.into()),
                    error: res.error_text(),
                    ..Outcome::default()
                },
            );
            continue;
        }
        let form = match form_of(&res.payload, mode, cfg.keep.as_deref()) {
            Ok(f) => f,
            Err(why) => {
                outcomes.insert(
                    raw.number,
                    Outcome {
                        status: Some(Status::Invalid),
                        action: Some(word.into()),
                        error: why,
                        ..Outcome::default()
                    },
                );
                continue;
            }
        };
        if cfg.dry_run {
            payloads.insert(raw.number, res.payload_display());
            outcomes.insert(
                raw.number,
                Outcome {
                    status: Some(Status::Valid),
                    action: Some(word.into()),
                    id: key,
                    error: res.warnings.join("; "),
                    ..Outcome::default()
                },
            );
            continue;
        }
        let permit = sem
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::output("dispatch stopped unexpectedly"))?;
        while let Some(finished) = tasks.try_join_next() {
            if let Ok(f) = finished {
                settle(&mut outcomes, f);
            }
        }
        let ctx = ctx.clone();
        let number = raw.number;
        tasks.spawn(async move {
            let mut done = ctx.change_body(Method::PATCH, endpoint, Body::Form(&form), Some(number)).await;
            if done.status == Some(Status::Failed) {
                done.error = match done.http {
                    Some(404) => format!("{}: no such customer (or this machine's IP is not on the install's allow-list)", done.error),
                    Some(403) => format!("{}: refused; check SHEETLOAD_API_KEY / SHEETLOAD_API_USERNAME and that this machine's IP is on the allow-list", done.error),
                    _ => done.error,
                };
            }
            done.id = key;
            drop(permit);
            (number, done)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok(f) = joined {
            settle(&mut outcomes, f);
        }
    }
    let dispatch_seconds = dispatch_started.elapsed().as_secs_f64();
    if let Some(run) = run_id {
        let records: Vec<RowOutcome> = outcomes
            .iter()
            .filter_map(|(row, o)| {
                Some(RowOutcome {
                    row: *row,
                    key: keys.get(row).cloned().flatten(),
                    action: o.action.clone().unwrap_or_default(),
                    status: o.status?,
                    remote_id: o.id.clone(),
                    http: o.http,
                    error: o.error.clone(),
                    attempts: o.attempts.unwrap_or(0),
                })
            })
            .collect();
        ledger.record(run, &records)?;
        ledger.finish_run(run, RunState::Completed)?;
    }
    report(
        &Finished {
            cfg: &cfg,
            prepared: &prepared,
            run_id,
            state: RunState::Completed,
            started,
            dispatch_seconds,
            base_url: &conn.base_url,
            database: &conn.database,
            interrupted: false,
            stop_reason: None,
            problem: None,
        },
        outcomes,
        payloads,
        ui,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_send_only_given_fields_and_remove_for_cleared() {
        let p = json!({"customer_id": "42", "city": "Semarang", "address2": null});
        let f = form_of(p.as_object().unwrap(), Mode::Update, None).unwrap();
        assert_eq!(f[0], ("customer_id".to_string(), "42".to_string()));
        assert!(f.contains(&("address2".to_string(), "REMOVE".to_string())));
        assert!(f.contains(&("city".to_string(), "Semarang".to_string())));
        let only_key = json!({"subscription_id": "SUB-1"});
        assert!(
            form_of(only_key.as_object().unwrap(), Mode::Update, None)
                .unwrap_err()
                .contains("nothing to change")
        );
        assert_eq!(
            form_of(only_key.as_object().unwrap(), Mode::Lock, None)
                .unwrap()
                .len(),
            1
        );
        let f = form_of(
            only_key.as_object().unwrap(),
            Mode::Forget,
            Some("email,country"),
        )
        .unwrap();
        assert_eq!(f[1], ("keep".to_string(), "email,country".to_string()));
    }
}
