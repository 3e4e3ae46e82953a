//! The Trackfinity target: the customer calls of `shared/api/trackfinity.md`.
//!
//! Choices where the contract is `[ASSUMED]` or silent, kept here so the
//! client's defaults and the sandbox agree:
//! - auth: headers `api-key` and `api-username` must both match, else 403 with
//!   a short `text/plain` body (the live API answers 403/404 for an IP that is
//!   not on the allow-list too);
//! - write bodies must be `application/x-www-form-urlencoded` (or carry no
//!   content type); a JSON body or any other content type is a 400;
//! - every error body is short `text/plain` (no format is documented);
//!   success is 200 with the JSON body `true`;
//! - a parameter the call does not know is a 400 naming it, so a misspelt
//!   column is not silently dropped; a repeated parameter: the last one wins;
//! - an empty value counts as not sent (clearing needs `REMOVE`);
//! - lookups: `customer_id`, then `subscription_id` (then `orderid` for
//!   lock/unlock) — the first one present wins; an unknown one is a 404;
//! - check order: auth (403) → body encoding (400) → unknown parameter (400) →
//!   no lookup (400) → nothing to set / `password=REMOVE` / bad `keep` (400) →
//!   unknown customer (404) → locked customer refuses edits (400);
//! - `forget` works on a locked customer (erasure is not an edit) and leaves
//!   the lock, `subscription_id` and `orderids` alone;
//! - `GET /api/service/ping` answers `{"status": "ok"}` and is spared the random
//!   faults like a sign-in (rate limit and latency still apply).
//!
//! Test hook (not counted, no auth, no faults):
//! `GET /_sandbox/trackfinity/customers/{id}` shows a stored customer without
//! its password but with `password_set`, `password_changes` and `locked`.

mod model;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde_json::{Value, json};

pub(crate) use model::{TfState, seed};

use self::model::{FIELDS, Lookup};
use super::faults::{RouteClass, api_route};
use super::reply::{self, ApiError};
use super::validate::form_pairs;
use super::{Shared, lock};

const SET_DETAILS: &str = "/api/customer/set_customer_details";
const LOCK: &str = "/api/customer/lock";
const UNLOCK: &str = "/api/customer/unlock";
const FORGET: &str = "/api/customer/forget";
const PING: &str = "/api/service/ping";
const INSPECT: &str = "/_sandbox/trackfinity/customers/{id}";

/// The literal that clears a field.
const REMOVE: &str = "REMOVE";

/// The Trackfinity routes, each API route wrapped in the fault/stats layer.
pub(crate) fn router(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    use RouteClass::{Data, SignIn};
    let r = |template, class, handlers| api_route(shared, template, class, handlers);
    Router::new()
        .route(
            SET_DETAILS,
            r(SET_DETAILS, Data, patch(set_customer_details)),
        )
        .route(LOCK, r(LOCK, Data, patch(lock_customer)))
        .route(UNLOCK, r(UNLOCK, Data, patch(unlock_customer)))
        .route(FORGET, r(FORGET, Data, patch(forget)))
        .route(PING, r(PING, SignIn, get(ping)))
        .route(INSPECT, get(inspect))
}

type Answer = Result<Response, TfError>;
type RawBody = Result<Bytes, BytesRejection>;

/// An error answer: a status and a short `text/plain` body (no error format is
/// documented). Small, since every handler returns it.
#[derive(Debug)]
struct TfError {
    status: StatusCode,
    message: String,
}

impl IntoResponse for TfError {
    fn into_response(self) -> Response {
        reply::text(self.status, self.message)
    }
}

fn fail(status: StatusCode, message: impl Into<String>) -> TfError {
    TfError {
        status,
        message: message.into(),
    }
}

fn bad_request(message: impl Into<String>) -> TfError {
    fail(StatusCode::BAD_REQUEST, message)
}

fn ok_true() -> Response {
    reply::json(StatusCode::OK, Value::Bool(true))
}

/// Both headers must match; names are case-insensitive by HTTP itself.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), TfError> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let targets = &shared.targets;
    if value("api-key") == Some(targets.trackfinity_api_key.as_str())
        && value("api-username") == Some(targets.trackfinity_username.as_str())
    {
        Ok(())
    } else {
        Err(fail(
            StatusCode::FORBIDDEN,
            "Access denied: invalid api-key or api-username, or this IP is not on the allow-list.",
        ))
    }
}

/// The form parameters of a write call; the last of a repeated name wins.
fn form(headers: &HeaderMap, body: RawBody) -> Result<BTreeMap<String, String>, TfError> {
    let bytes = body.map_err(|e| {
        fail(
            e.status(),
            format!("Cannot read the request body: {}", e.body_text()),
        )
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| {
            v.to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|ct| !ct.is_empty());
    let looks_json = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[');
    let is_json = looks_json
        || content_type
            .as_deref()
            .is_some_and(|ct| ct == "application/json" || ct.ends_with("+json"));
    if is_json {
        return Err(bad_request(
            "Invalid request: send the parameters as application/x-www-form-urlencoded, not JSON.",
        ));
    }
    if let Some(ct) = content_type
        && ct != "application/x-www-form-urlencoded"
    {
        return Err(bad_request(format!(
            "Invalid request: unsupported content type {ct}; send application/x-www-form-urlencoded."
        )));
    }
    let pairs = form_pairs(&bytes).map_err(|e| bad_request(format!("Invalid request: {e}.")))?;
    Ok(pairs.into_iter().collect())
}

/// Refuses parameters the call does not know.
fn only_known(params: &BTreeMap<String, String>, known: &[&str]) -> Result<(), TfError> {
    match params.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(bad_request(format!(
            "Invalid request: unknown parameter {unknown}."
        ))),
    }
}

/// A non-empty value.
fn given<'a>(params: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    params
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

/// The first lookup parameter present, in the order given.
fn lookup<'a>(
    params: &'a BTreeMap<String, String>,
    allowed: &[Lookup],
) -> Result<(Lookup, &'a str), TfError> {
    allowed
        .iter()
        .find_map(|&key| given(params, key.param()).map(|v| (key, v)))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|k| k.param()).collect();
            bad_request(format!(
                "Invalid request: {} is required to find the customer.",
                names.join(" or ")
            ))
        })
}

fn unknown_customer(key: Lookup, value: &str) -> TfError {
    fail(
        StatusCode::NOT_FOUND,
        format!(
            "Invalid parameter: no customer with {} {value}.",
            key.param()
        ),
    )
}

/// Runs a change on the customer a lookup names, under the store lock, and
/// schedules a save when it succeeded.
fn change(
    shared: &Shared,
    (key, value): (Lookup, &str),
    apply: impl FnOnce(&mut model::TfCustomer) -> Result<(), TfError>,
) -> Answer {
    let mut tf = lock(&shared.trackfinity);
    let id = tf
        .find(key, value)
        .ok_or_else(|| unknown_customer(key, value))?;
    let customer = tf
        .customers
        .0
        .get_mut(&id)
        .ok_or_else(|| unknown_customer(key, value))?;
    apply(customer)?;
    drop(tf);
    shared.state_changed();
    Ok(ok_true())
}

/// PATCH /api/customer/set_customer_details
async fn set_customer_details(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: RawBody,
) -> Answer {
    authorize(&shared, &headers)?;
    let params = form(&headers, body)?;
    let mut known = vec!["customer_id", "subscription_id"];
    known.extend(FIELDS);
    only_known(&params, &known)?;
    let target = lookup(&params, &[Lookup::Customer, Lookup::Subscription])?;
    let updates: Vec<(&str, &str)> = FIELDS
        .iter()
        .filter_map(|&field| given(&params, field).map(|v| (field, v)))
        .collect();
    if updates.is_empty() {
        return Err(bad_request(format!(
            "Invalid request: at least one field to set is required ({}).",
            FIELDS.join(", ")
        )));
    }
    if given(&params, "password") == Some(REMOVE) {
        return Err(bad_request(
            "Invalid request: password cannot be REMOVEd; send a new password instead.",
        ));
    }
    change(&shared, target, |customer| {
        if customer.locked {
            return Err(bad_request("Invalid request: customer is locked."));
        }
        for (field, value) in updates {
            if field == "password" {
                customer.set_password(value);
            } else if let Some(slot) = customer.text_mut(field) {
                *slot = if value == REMOVE {
                    String::new()
                } else {
                    value.to_owned()
                };
            }
        }
        Ok(())
    })
}

/// PATCH /api/customer/lock and /unlock: one body, a different end state.
async fn set_locked(shared: &Shared, headers: &HeaderMap, body: RawBody, locked: bool) -> Answer {
    authorize(shared, headers)?;
    let params = form(headers, body)?;
    only_known(&params, &["customer_id", "subscription_id", "orderid"])?;
    let target = lookup(
        &params,
        &[Lookup::Customer, Lookup::Subscription, Lookup::Order],
    )?;
    change(shared, target, |customer| {
        customer.locked = locked;
        Ok(())
    })
}

async fn lock_customer(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: RawBody,
) -> Answer {
    set_locked(&shared, &headers, body, true).await
}

async fn unlock_customer(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: RawBody,
) -> Answer {
    set_locked(&shared, &headers, body, false).await
}

/// PATCH /api/customer/forget — clears every field not named in `keep`.
async fn forget(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: RawBody) -> Answer {
    authorize(&shared, &headers)?;
    let params = form(&headers, body)?;
    only_known(&params, &["customer_id", "subscription_id", "keep"])?;
    let target = lookup(&params, &[Lookup::Customer, Lookup::Subscription])?;
    let keep: Vec<&str> = params
        .get("keep")
        .map(|k| {
            k.split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if let Some(unknown) = keep.iter().find(|f| !FIELDS.contains(f)) {
        return Err(bad_request(format!(
            "Invalid request: keep names an unknown field {unknown}; use {}.",
            FIELDS.join(", ")
        )));
    }
    change(&shared, target, |customer| {
        for field in FIELDS.iter().filter(|f| !keep.contains(f)) {
            if *field == "password" {
                customer.password_hash = None;
            } else if let Some(slot) = customer.text_mut(field) {
                slot.clear();
            }
        }
        Ok(())
    })
}

/// GET /api/service/ping — credentials (and, live, the IP allow-list) check.
async fn ping(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Answer {
    authorize(&shared, &headers)?;
    Ok(reply::json(StatusCode::OK, json!({ "status": "ok" })))
}

/// GET /_sandbox/trackfinity/customers/{id} — the test hook.
async fn inspect(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let id = path.ok().and_then(|Path(raw)| raw.parse::<u64>().ok());
    let tf = lock(&shared.trackfinity);
    match id.and_then(|id| tf.customers.0.get(&id)) {
        Some(customer) => reply::json(StatusCode::OK, customer.inspect()),
        None => ApiError::not_found("No such Trackfinity customer.").into_response(),
    }
}
