//! Trackfinity: form-encoded PATCHes of existing customers found by `customer_id` or
//! `subscription_id` (the API cannot create, read or list them). An empty cell leaves a
//! field as it is; `REMOVE` or `#CLEAR` clears it (never a password); `--mode lock` /
//! `unlock` take a sheet of keys; `--mode forget` erases personal data, only with `--yes`.

use reqwest::Method;
use serde_json::Value;

use crate::engine::job::{Job, Request, RequestBody, RowPlanner, Step};
use crate::engine::keyed::join_notes;
use crate::error::{Error, Result};
use crate::input::RawRow;
use crate::output::Status;
use crate::output::result::Outcome;
use crate::payload::Action;
use crate::spec::Mode;
use crate::validate::RowResult;

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

/// The Trackfinity endpoint of a mode; the API only changes existing customers.
pub fn endpoint(mode: Mode) -> Result<&'static str> {
    Ok(match mode {
        Mode::Update => "/api/customer/set_customer_details",
        Mode::Lock => "/api/customer/lock",
        Mode::Unlock => "/api/customer/unlock",
        Mode::Forget => "/api/customer/forget",
        other => {
            return Err(Error::usage(format!(
                "Trackfinity customers cannot be imported with --mode {other} (the API only changes existing customers): use update, lock, unlock or forget"
            )));
        }
    })
}

/// Trackfinity rows as form PATCHes of the customer each row names.
pub struct FormPlanner {
    mode: Mode,
    endpoint: &'static str,
    keep: Option<String>,
    dry_run: bool,
}

impl FormPlanner {
    /// A planner for `mode`. `--mode forget` erases personal data for good: like any
    /// destructive mode it is confirmed (or `--yes`) by the engine before anything is
    /// sent.
    pub fn new(mode: Mode, keep: Option<String>, dry_run: bool) -> Result<Self> {
        let endpoint = endpoint(mode)?;
        Ok(FormPlanner {
            mode,
            endpoint,
            keep,
            dry_run,
        })
    }
}

impl RowPlanner for FormPlanner {
    fn row(&mut self, _raw: &RawRow, res: RowResult, out: &mut Vec<Step>) {
        let word = crate::spec::Verb::from(self.mode);
        let key = LOOKUP.iter().find_map(|k| {
            res.payload
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let invalid = |error: String| Step::Settle {
            row: res.number,
            key: key.clone(),
            outcome: Outcome {
                status: Some(Status::Invalid),
                action: Some(word),
                error,
                ..Outcome::default()
            },
        };
        if !res.is_valid() {
            out.push(invalid(res.error_text()));
            return;
        }
        let form = match form_of(&res.payload.to_map(), self.mode, self.keep.as_deref()) {
            Ok(f) => f,
            Err(why) => {
                out.push(invalid(why));
                return;
            }
        };
        out.push(Step::Send(Job {
            rows: vec![res.number],
            key: key.clone(),
            lookup: None,
            action: Action::Update {
                id: key.unwrap_or_default(),
            },
            word,
            request: Some(Request {
                method: Method::PATCH,
                path: self.endpoint.to_string(),
                body: RequestBody::Form(form),
            }),
            note: join_notes("", &res.warnings),
            changes: String::new(),
            sequence: None,
            shown: if self.dry_run {
                res.payload_display()
            } else {
                String::new()
            },
        }));
    }

    fn explain(&self, _job: &Job, done: &mut Outcome) {
        if done.status != Some(Status::Failed) {
            return;
        }
        let hint = match done.http {
            Some(404) => {
                "no such customer (or this machine's IP is not on the install's allow-list)"
            }
            Some(403) => {
                "refused; check SHEETLOAD_API_KEY / SHEETLOAD_API_USERNAME and that this machine's IP is on the allow-list"
            }
            _ => return,
        };
        done.error = format!("{}: {hint}", done.error);
    }
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
