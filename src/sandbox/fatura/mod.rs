//! The Fatura Entegratör target: the customer endpoints of
//! `shared/api/fatura-entegrator.md`, answered as a Laravel app would.
//!
//! Choices where the contract is `[ASSUMED]` or open, kept here so the client's
//! defaults and the sandbox agree:
//! - auth: `Authorization: Bearer <key>` (scheme case-insensitive), else 401
//!   `{"message": "Unauthenticated."}`; `Accept` is not required;
//! - bodies are JSON objects (an empty body is `{}`); malformed JSON is a 400,
//!   a JSON value that is not an object a 422;
//! - create answers 201, get / update / delete 200, all in the envelope
//!   `{"success": true, "data": <customer or null>, "message": "<Turkish>"}`;
//! - the list is NOT enveloped: it is Laravel's length-aware paginator
//!   `{"current_page", "data", "first_page_url", "from", "last_page",
//!   "last_page_url", "next_page_url", "path", "per_page", "prev_page_url",
//!   "to", "total"}` in id order; `limit` defaults to 15 and is clamped to
//!   1..=100, a `page` or `limit` that is not a positive integer falls back to
//!   its default (as Laravel's paginator does); an optional exact `tax_number`
//!   filter lets a client reconcile an unknown create outcome;
//! - validation errors: 422 `{"message": "<first> (ve N hata daha)",
//!   "errors": {"field": ["<Turkish message>", …]}}`, every error at once;
//! - strings are trimmed and `""` is `null` (Laravel's global middleware); on
//!   PATCH a `null`/`""` field is left unchanged (the vendor's own PATCH example
//!   sends `"tax_number": ""` for "no change"), so nothing can be cleared;
//! - `tax_number` is unique in the account (422 "Vergi numarası daha önceden
//!   kayıt edilmiş."), except the anonymous-consumer placeholder `11111111111`;
//! - the API accepts a 10- or 11-digit number for either type (the type
//!   mismatch is a client-side warning);
//! - check order: bearer (401) → unknown id (404) → malformed body (400) →
//!   validation (422); a non-numeric id is a 404 like an unknown one.

mod ids;
mod model;
mod seed;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;
use serde_json::{Map, Value};

pub(crate) use model::FaState;
pub(crate) use seed::seed;

use self::model::FaCustomer;
use super::faults::{RouteClass, api_route};
use super::reply::{self, ApiError};
use super::{Shared, lock};

const CUSTOMERS: &str = "/api/customers";
const CUSTOMER: &str = "/api/customers/{id}";

/// Default and largest page size of the list.
const DEFAULT_LIMIT: usize = 15;
const MAX_LIMIT: usize = 100;

/// The Fatura Entegratör routes, each wrapped in the fault/stats layer.
pub(crate) fn router(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    let r = |template, handlers| api_route(shared, template, RouteClass::Data, handlers);
    Router::new()
        .route(CUSTOMERS, r(CUSTOMERS, get(list).post(create)))
        .route(
            CUSTOMER,
            r(CUSTOMER, get(show).patch(update).delete(destroy)),
        )
}

type Answer = Result<Response, ApiError>;
type RawBody = Result<Bytes, BytesRejection>;
type RawPath = Result<Path<String>, PathRejection>;
type RawQuery = Result<Query<Vec<(String, String)>>, QueryRejection>;

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    success: bool,
    data: T,
    message: &'a str,
}

fn envelope<T: Serialize>(status: StatusCode, data: T, message: &str) -> Response {
    reply::record(
        status,
        &Envelope {
            success: true,
            data,
            message,
        },
    )
}

fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| {
            let (scheme, rest) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    if key == Some(shared.targets.fatura_api_key.as_str()) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("Unauthenticated."))
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("Müşteri bulunamadı.")
}

fn path_id(path: RawPath) -> Result<u64, ApiError> {
    path.ok()
        .and_then(|Path(raw)| raw.parse::<u64>().ok())
        .ok_or_else(not_found)
}

fn object(body: RawBody) -> Result<Map<String, Value>, ApiError> {
    let bytes = body.map_err(|e| {
        ApiError::new(
            e.status(),
            format!("İstek gövdesi okunamadı: {}", e.body_text()),
        )
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "İstek gövdesi bir JSON nesnesi olmalıdır.",
        )),
        Err(e) => Err(ApiError::bad_request(format!(
            "Geçersiz JSON gövdesi: {e}."
        ))),
    }
}

/// Laravel's timestamp format.
fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// POST /api/customers
async fn create(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: RawBody) -> Answer {
    authorize(&shared, &headers)?;
    let body = object(body)?;
    let customer = lock(&shared.fatura).create(&body, &now())?;
    shared.state_changed();
    Ok(envelope(
        StatusCode::CREATED,
        &customer,
        "Müşteri başarıyla oluşturuldu.",
    ))
}

/// GET /api/customers/{id}
async fn show(State(shared): State<Arc<Shared>>, headers: HeaderMap, path: RawPath) -> Answer {
    authorize(&shared, &headers)?;
    let id = path_id(path)?;
    let fa = lock(&shared.fatura);
    let customer = fa.customers.0.get(&id).ok_or_else(not_found)?;
    Ok(envelope(
        StatusCode::OK,
        customer,
        "Müşteri bilgileri getirildi.",
    ))
}

/// PATCH /api/customers/{id}
async fn update(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    path: RawPath,
    body: RawBody,
) -> Answer {
    authorize(&shared, &headers)?;
    let id = path_id(path)?;
    let body = object(body);
    let customer = {
        let mut fa = lock(&shared.fatura);
        if !fa.customers.0.contains_key(&id) {
            return Err(not_found());
        }
        let body = body?;
        fa.patch(id, &body, &now()).ok_or_else(not_found)??
    };
    shared.state_changed();
    Ok(envelope(
        StatusCode::OK,
        &customer,
        "Müşteri başarıyla güncellendi.",
    ))
}

/// DELETE /api/customers/{id}
async fn destroy(State(shared): State<Arc<Shared>>, headers: HeaderMap, path: RawPath) -> Answer {
    authorize(&shared, &headers)?;
    let id = path_id(path)?;
    if !lock(&shared.fatura).delete(id) {
        return Err(not_found());
    }
    shared.state_changed();
    Ok(envelope(
        StatusCode::OK,
        Value::Null,
        "Müşteri başarıyla silindi.",
    ))
}

/// Laravel's `LengthAwarePaginator::toArray()`, without the `links` array.
#[derive(Serialize)]
struct Paginator<'a> {
    current_page: usize,
    data: Vec<&'a FaCustomer>,
    first_page_url: String,
    from: Option<usize>,
    last_page: usize,
    last_page_url: String,
    next_page_url: Option<String>,
    path: String,
    per_page: usize,
    prev_page_url: Option<String>,
    to: Option<usize>,
    total: usize,
}

/// A positive integer parameter; anything else is "not given".
fn positive(params: &[(String, String)], key: &str) -> Option<usize> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .filter(|v| *v >= 1)
}

/// Percent-encodes a query value (unreserved characters stay as they are).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// GET /api/customers?limit=N&page=P[&tax_number=T]
async fn list(State(shared): State<Arc<Shared>>, headers: HeaderMap, query: RawQuery) -> Answer {
    authorize(&shared, &headers)?;
    let params = match query {
        Ok(Query(pairs)) => pairs,
        Err(e) => {
            return Err(ApiError::bad_request(format!(
                "Geçersiz sorgu dizesi: {}",
                e.body_text()
            )));
        }
    };
    let page = positive(&params, "page").unwrap_or(1);
    let limit = positive(&params, "limit").map_or(DEFAULT_LIMIT, |l| l.min(MAX_LIMIT));
    let tax_number = params
        .iter()
        .rev()
        .find(|(k, _)| k == "tax_number")
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty());

    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let path = format!("http://{host}{CUSTOMERS}");
    let mut kept = String::new();
    if positive(&params, "limit").is_some() {
        kept.push_str(&format!("limit={limit}&"));
    }
    if let Some(tax) = tax_number {
        kept.push_str(&format!("tax_number={}&", encode(tax)));
    }
    let url = |p: usize| format!("{path}?{kept}page={p}");

    let fa = lock(&shared.fatura);
    let matching = fa
        .customers
        .0
        .values()
        .filter(|c| tax_number.is_none_or(|t| c.tax_number == t));
    let total = matching.clone().count();
    let last_page = total.div_ceil(limit).max(1);
    let offset = (page - 1).saturating_mul(limit);
    let data: Vec<&FaCustomer> = matching.skip(offset).take(limit).collect();
    let (from, to) = if data.is_empty() {
        (None, None)
    } else {
        (Some(offset + 1), Some(offset + data.len()))
    };
    let body = Paginator {
        current_page: page,
        first_page_url: url(1),
        from,
        last_page,
        last_page_url: url(last_page),
        next_page_url: (page < last_page).then(|| url(page + 1)),
        path: path.clone(),
        per_page: limit,
        prev_page_url: (page > 1).then(|| url(page - 1)),
        to,
        total,
        data,
    };
    Ok(reply::record(StatusCode::OK, &body))
}
