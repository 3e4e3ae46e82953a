//! The SalesMania target: every endpoint of `shared/api/salesmania.md`, the
//! three-step sign-in, and the server-side validation answers.
//!
//! Choices where the contract is `[ASSUMED]` or open, kept here so the client's
//! defaults and the sandbox agree:
//! - creates answer 201 with the full record (the vendor pages show 200 `{}`;
//!   the client must accept both, see `[ROBUST]`);
//! - lists answer `{"data", "page", "limit", "total"}` in id order; `page`
//!   defaults to 1, `limit` to 20 and must be 1..=100 (more is a 422, not a
//!   silent clamp, so a client that asks for 500 learns it at once);
//!   customers and products can be filtered by exact `ext_cust_no` /
//!   `ext_product_code` (an assumption the client must be able to turn off);
//!   the order list (undocumented) pages and filters like visits, plus
//!   `ext_order_no`;
//! - update and delete answer 200 `{}`; a PATCH of `tags` or `product_units`
//!   replaces the list;
//! - check order: bearer (401) → team token (403) → unknown id (404) → malformed
//!   JSON (400) → validation (422);
//! - a non-numeric id in a path is a 404, like an unknown one.

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
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use serde::Serialize;
use serde_json::{Map, Value, json};

pub(crate) use model::SmState;
pub(crate) use seed::seed;

use self::model::{CustomerFields, Database, NextIds, ProductFields};
use super::faults::{RouteClass, api_route};
use super::reply::{self, ApiError, FieldErrors};
use super::stats::Fault;
use super::store::Table;
use super::token::{BearerError, TeamClaims};
use super::validate::{Field, Obj, is_iso_date, object_body};
use super::{Shared, lock};

const TOKEN: &str = "/extapi/v1.0/token";
const DATABASES: &str = "/extapi/v1.0/databases";
const TEAM_TOKEN: &str = "/extapi/v1.0/team_token";
const CUSTOMERS: &str = "/extapi/v1.0/customers";
const CUSTOMER: &str = "/extapi/v1.0/customers/{id}";
const PRODUCTS: &str = "/extapi/v1.0/products";
const PRODUCT: &str = "/extapi/v1.0/products/{id}";
const VISITS: &str = "/extapi/v1.1/visits";
const ORDERS: &str = "/extapi/v1.0/orders";
const ORDER: &str = "/extapi/v1.0/orders/{id}";
const TEAMS: &str = "/extapi/v1.0/teams";

/// Default and largest page size of a list.
const DEFAULT_LIMIT: u64 = 20;
const MAX_LIMIT: u64 = 100;

/// The SalesMania routes, each already wrapped in the fault/stats layer.
pub(crate) fn router(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    use RouteClass::{Data, SignIn};
    let r = |template, class, handlers| api_route(shared, template, class, handlers);
    Router::new()
        .route(TOKEN, r(TOKEN, SignIn, get(sign_in)))
        .route(DATABASES, r(DATABASES, SignIn, get(databases)))
        .route(TEAM_TOKEN, r(TEAM_TOKEN, SignIn, get(team_token)))
        .route(
            CUSTOMERS,
            r(CUSTOMERS, Data, get(list_customers).post(create_customer)),
        )
        .route(
            CUSTOMER,
            r(
                CUSTOMER,
                Data,
                get(get_customer)
                    .patch(patch_customer)
                    .delete(delete_customer),
            ),
        )
        .route(
            PRODUCTS,
            r(PRODUCTS, Data, get(list_products).post(create_product)),
        )
        .route(
            PRODUCT,
            r(
                PRODUCT,
                Data,
                get(get_product).patch(patch_product).delete(delete_product),
            ),
        )
        .route(VISITS, r(VISITS, Data, get(list_visits).post(create_visit)))
        .route(ORDERS, r(ORDERS, Data, get(list_orders).post(create_order)))
        .route(ORDER, r(ORDER, Data, get(get_order).patch(patch_order)))
        .route(TEAMS, r(TEAMS, Data, get(list_teams)))
}

type Answer = Result<Response, ApiError>;
type RawQuery = Result<Query<Vec<(String, String)>>, QueryRejection>;
type RawPath = Result<Path<String>, PathRejection>;
type RawBody = Result<Bytes, BytesRejection>;

/// Query parameters; the first of a repeated name wins.
struct Params(Vec<(String, String)>);

impl Params {
    fn from(query: RawQuery) -> Result<Self, ApiError> {
        match query {
            Ok(Query(pairs)) => Ok(Params(pairs)),
            Err(e) => Err(ApiError::bad_request(format!(
                "Malformed query string: {}",
                e.body_text()
            ))),
        }
    }

    /// A parameter's value; an empty value counts as missing.
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn integer(&self, key: &str, min: u64, max: u64, errors: &mut FieldErrors) -> Option<u64> {
        let raw = self.get(key)?;
        match raw.trim().parse::<u64>() {
            Ok(v) if (min..=max).contains(&v) => Some(v),
            Ok(_) => {
                errors.add(
                    key,
                    format!("The {key} field must be between {min} and {max}."),
                );
                None
            }
            Err(_) => {
                errors.add(key, format!("The {key} field must be an integer."));
                None
            }
        }
    }

    fn date(&self, key: &str, errors: &mut FieldErrors) -> Option<&str> {
        let raw = self.get(key)?;
        if is_iso_date(raw) {
            Some(raw)
        } else {
            errors.add(
                key,
                format!("The {key} field must be a valid date in the format YYYY-MM-DD."),
            );
            None
        }
    }
}

fn body_bytes(body: RawBody) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        ApiError::new(
            e.status(),
            format!("Cannot read the request body: {}", e.body_text()),
        )
    })
}

/// A path id; anything that is not a positive integer names no record.
fn path_id(path: RawPath, what: &str) -> Result<u64, ApiError> {
    path.ok()
        .and_then(|Path(raw)| raw.parse::<u64>().ok())
        .ok_or_else(|| not_found(what))
}

fn not_found(what: &str) -> ApiError {
    ApiError::not_found(format!("{what} not found."))
}

// ------------------------------------------------------------------ auth

fn bearer(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match shared.auth.check_bearer(value) {
        Ok(()) => Ok(()),
        Err(BearerError::Missing) => Err(ApiError::unauthorized(
            "Unauthenticated: send Authorization: Bearer <token> from /extapi/v1.0/token.",
        )),
        Err(BearerError::Unknown) => Err(ApiError::unauthorized(
            "Unauthenticated: the bearer token is invalid.",
        )),
        Err(BearerError::Expired) => {
            shared.stats.fault(Fault::TokenExpired);
            Err(ApiError::unauthorized(
                "Unauthenticated: the bearer token has expired.",
            ))
        }
    }
}

/// The team token, when one is given; a forged or altered one is a 403.
fn team(shared: &Shared, params: &Params) -> Result<Option<TeamClaims>, ApiError> {
    match params.get("team_token") {
        None => Ok(None),
        Some(token) => shared
            .auth
            .verify_team_token(token)
            .map(Some)
            .ok_or_else(|| ApiError::forbidden("The team token is invalid.")),
    }
}

/// Bearer and team token, as every data call needs.
fn data_call(
    shared: &Shared,
    headers: &HeaderMap,
    params: &Params,
) -> Result<TeamClaims, ApiError> {
    bearer(shared, headers)?;
    team(shared, params)?.ok_or_else(|| {
        ApiError::forbidden(
            "The team_token query parameter is required (from /extapi/v1.0/team_token).",
        )
    })
}

fn no_access() -> ApiError {
    ApiError::forbidden("The team token does not grant access to this database.")
}

fn db(sm: &SmState, claims: TeamClaims) -> Result<&Database, ApiError> {
    sm.databases
        .0
        .get(&claims.db_id)
        .filter(|db| db.teams.0.contains_key(&claims.team_id))
        .ok_or_else(no_access)
}

fn db_mut(databases: &mut Table<Database>, claims: TeamClaims) -> Result<&mut Database, ApiError> {
    databases
        .0
        .get_mut(&claims.db_id)
        .filter(|db| db.teams.0.contains_key(&claims.team_id))
        .ok_or_else(no_access)
}

/// Runs a change under the store lock and schedules a save when it succeeded.
fn write<T>(
    shared: &Shared,
    change: impl FnOnce(&mut SmState) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let result = change(&mut lock(&shared.salesmania));
    if result.is_ok() {
        shared.state_changed();
    }
    result
}

/// GET /extapi/v1.0/token — Basic credentials for a bearer.
async fn sign_in(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Answer {
    let encoded = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| {
            let (scheme, rest) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
        })
        .ok_or_else(|| {
            ApiError::unauthorized("Send Authorization: Basic base64(user:password).")
        })?;
    let decoded = STANDARD_PAD_INDIFFERENT
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::unauthorized("The Basic credentials are not valid base64."))?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| ApiError::unauthorized("The Basic credentials must be user:password."))?;
    if user != shared.opts.user || password != shared.opts.password {
        return Err(ApiError::unauthorized("Invalid user name or password."));
    }
    let token = shared.auth.issue_bearer();
    let body = match shared.auth.ttl() {
        Some(ttl) => json!({ "token": token, "expires_in": ttl.as_secs() }),
        None => json!({ "token": token }),
    };
    Ok(reply::json(StatusCode::OK, body))
}

/// GET /extapi/v1.0/databases — the databases the user can reach.
async fn databases(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Answer {
    bearer(&shared, &headers)?;
    let sm = lock(&shared.salesmania);
    let list: Vec<Value> = sm
        .databases
        .0
        .values()
        .map(|db| json!({ "db_id": db.db_id, "name": db.name }))
        .collect();
    Ok(reply::json(StatusCode::OK, Value::Array(list)))
}

/// GET /extapi/v1.0/team_token?db_id=N — a team token for the API user's team.
async fn team_token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
) -> Answer {
    let params = Params::from(query)?;
    bearer(&shared, &headers)?;
    let mut errors = FieldErrors::default();
    let db_id = params.integer("db_id", 1, u64::MAX, &mut errors);
    if db_id.is_none() && errors.is_empty() {
        errors.add("db_id", "The db_id field is required.");
    }
    errors.into_result()?;
    let db_id = db_id.unwrap_or_default();
    let team_id = {
        let sm = lock(&shared.salesmania);
        sm.databases
            .0
            .get(&db_id)
            .and_then(|db| db.teams.0.keys().next().copied())
            .ok_or_else(|| {
                ApiError::forbidden(format!("You do not have access to database {db_id}."))
            })?
    };
    let token = shared.auth.team_token(TeamClaims { db_id, team_id });
    Ok(reply::json(StatusCode::OK, json!({ "team_token": token })))
}

// ---------------------------------------------------------------- lists

#[derive(Serialize)]
struct ListPage<'a, T> {
    data: Vec<&'a T>,
    page: u64,
    limit: u64,
    total: usize,
}

#[derive(Clone, Copy)]
struct Paging {
    page: u64,
    limit: u64,
}

fn paging(params: &Params, mut errors: FieldErrors) -> Result<Paging, ApiError> {
    let page = params
        .integer("page", 1, u64::MAX, &mut errors)
        .unwrap_or(1);
    let limit = params
        .integer("limit", 1, MAX_LIMIT, &mut errors)
        .unwrap_or(DEFAULT_LIMIT);
    errors.into_result()?;
    Ok(Paging { page, limit })
}

fn list<'a, T: Serialize + 'a>(
    items: impl Iterator<Item = &'a T> + Clone,
    paging: Paging,
) -> Response {
    let total = items.clone().count();
    let offset =
        usize::try_from((paging.page - 1).saturating_mul(paging.limit)).unwrap_or(usize::MAX);
    let limit = usize::try_from(paging.limit).unwrap_or(usize::MAX);
    let page = ListPage {
        data: items.skip(offset).take(limit).collect(),
        page: paging.page,
        limit: paging.limit,
        total,
    };
    reply::record(StatusCode::OK, &page)
}

async fn list_customers(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let paging = paging(&params, FieldErrors::default())?;
    let ext = params.get("ext_cust_no");
    let sm = lock(&shared.salesmania);
    let db = db(&sm, claims)?;
    let items = db
        .customers
        .0
        .values()
        .filter(|c| ext.is_none_or(|e| c.ext_cust_no.as_deref() == Some(e)));
    Ok(list(items, paging))
}

async fn list_products(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let paging = paging(&params, FieldErrors::default())?;
    let ext = params.get("ext_product_code");
    let sm = lock(&shared.salesmania);
    let db = db(&sm, claims)?;
    let items = db
        .products
        .0
        .values()
        .filter(|p| ext.is_none_or(|e| p.ext_product_code.as_deref() == Some(e)));
    Ok(list(items, paging))
}

async fn list_teams(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let paging = paging(&params, FieldErrors::default())?;
    let sm = lock(&shared.salesmania);
    Ok(list(db(&sm, claims)?.teams.0.values(), paging))
}

/// GET /extapi/v1.1/visits — filtered by `date_from`, `date_to` (inclusive) and
/// `team_id`.
async fn list_visits(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let mut errors = FieldErrors::default();
    let from = params.date("date_from", &mut errors);
    let to = params.date("date_to", &mut errors);
    let team_id = params.integer("team_id", 1, u64::MAX, &mut errors);
    let paging = paging(&params, errors)?;
    let sm = lock(&shared.salesmania);
    let items = db(&sm, claims)?.visits.0.values().filter(|v| {
        from.is_none_or(|f| v.date.as_str() >= f)
            && to.is_none_or(|t| v.date.as_str() <= t)
            && team_id.is_none_or(|t| v.team_id == t)
    });
    if shared.opts.live_list_shape {
        return Ok(list(live_shape(items).iter(), paging));
    }
    Ok(list(items, paging))
}

/// Listed visits and orders as a live API might shape them where ours does not: the
/// date a timestamp, the customer's id a string, no `ext_order_no`
/// (`--live-list-shape`), so that a client matching listed records on those fields is
/// tested against that.
fn live_shape<'a, T: Serialize + 'a>(items: impl Iterator<Item = &'a T>) -> Vec<Value> {
    items
        .filter_map(|item| {
            let mut v = serde_json::to_value(item).ok()?;
            let m = v.as_object_mut()?;
            if let Some(Value::String(d)) = m.get("date") {
                let stamped = format!("{d}T00:00:00+07:00");
                m.insert("date".into(), Value::String(stamped));
            }
            if let Some(Value::Number(c)) = m.get("customer_id") {
                let text = c.to_string();
                m.insert("customer_id".into(), Value::String(text));
            }
            m.remove("ext_order_no");
            Some(v)
        })
        .collect()
}

/// GET /extapi/v1.0/orders [ASSUMED: the vendor documents no order list] —
/// filtered like visits by `date_from`, `date_to` (inclusive) and `team_id`, and
/// by exact `ext_order_no` like the other collections' natural keys.
async fn list_orders(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
) -> Answer {
    if shared.opts.no_order_list {
        // The vendor documents no order list: a live API may have none.
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "The GET method is not supported for this route. Supported methods: POST.",
        ));
    }
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let mut errors = FieldErrors::default();
    let from = params.date("date_from", &mut errors);
    let to = params.date("date_to", &mut errors);
    let team_id = params.integer("team_id", 1, u64::MAX, &mut errors);
    let ext = params.get("ext_order_no");
    let paging = paging(&params, errors)?;
    let sm = lock(&shared.salesmania);
    let items = db(&sm, claims)?.orders.0.values().filter(|o| {
        from.is_none_or(|f| o.date.as_str() >= f)
            && to.is_none_or(|t| o.date.as_str() <= t)
            && team_id.is_none_or(|t| o.team_id == t)
            && ext.is_none_or(|e| o.ext_order_no.as_deref() == Some(e))
    });
    if shared.opts.live_list_shape {
        return Ok(list(live_shape(items).iter(), paging));
    }
    Ok(list(items, paging))
}

// ---------------------------------------------------------- single records

async fn get_customer(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    path: RawPath,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let id = path_id(path, "Customer")?;
    let sm = lock(&shared.salesmania);
    let customer = db(&sm, claims)?
        .customers
        .0
        .get(&id)
        .ok_or_else(|| not_found("Customer"))?;
    Ok(reply::record(StatusCode::OK, customer))
}

async fn get_product(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    path: RawPath,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let id = path_id(path, "Product")?;
    let sm = lock(&shared.salesmania);
    let product = db(&sm, claims)?
        .products
        .0
        .get(&id)
        .ok_or_else(|| not_found("Product"))?;
    Ok(reply::record(StatusCode::OK, product))
}

/// GET /extapi/v1.0/orders/{id} — the id is a string in the vendor's path; only
/// numeric strings can name one of our orders.
async fn get_order(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    path: RawPath,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let id = path_id(path, "Order")?;
    let sm = lock(&shared.salesmania);
    let order = db(&sm, claims)?
        .orders
        .0
        .get(&id)
        .ok_or_else(|| not_found("Order"))?;
    Ok(reply::record(StatusCode::OK, order))
}

async fn delete_customer(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    path: RawPath,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let id = path_id(path, "Customer")?;
    write(&shared, |sm| {
        db_mut(&mut sm.databases, claims)?
            .customers
            .0
            .remove(&id)
            .map(drop)
            .ok_or_else(|| not_found("Customer"))
    })?;
    Ok(reply::json(StatusCode::OK, json!({})))
}

async fn delete_product(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    path: RawPath,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let id = path_id(path, "Product")?;
    write(&shared, |sm| {
        db_mut(&mut sm.databases, claims)?
            .products
            .0
            .remove(&id)
            .map(drop)
            .ok_or_else(|| not_found("Product"))
    })?;
    Ok(reply::json(StatusCode::OK, json!({})))
}

// ------------------------------------------------------------------ writes

/// Body checks run outside the store lock; the parsed object lives here.
fn parsed(body: RawBody) -> Result<Map<String, Value>, ApiError> {
    object_body(&body_bytes(body)?)
}

async fn create_customer(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    body: RawBody,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let body = parsed(body)?;
    let obj = Obj::root(&body);
    let mut errors = FieldErrors::default();
    let fields = CustomerFields::read(&obj, &mut errors);
    let customer = write(&shared, |sm| {
        let db = db_mut(&mut sm.databases, claims)?;
        let customer = fields.create(sm.next_id.customer, &obj, errors)?;
        NextIds::take(&mut sm.next_id.customer);
        db.customers.0.insert(customer.id, customer.clone());
        Ok(customer)
    })?;
    Ok(reply::record(StatusCode::CREATED, &customer))
}

async fn patch_customer(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    path: RawPath,
    body: RawBody,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let id = path_id(path, "Customer")?;
    let body = parsed(body);
    write(&shared, |sm| {
        let customer = db_mut(&mut sm.databases, claims)?
            .customers
            .0
            .get_mut(&id)
            .ok_or_else(|| not_found("Customer"))?;
        let body = body?;
        let obj = Obj::root(&body);
        let mut errors = FieldErrors::default();
        let fields = CustomerFields::read(&obj, &mut errors);
        errors.into_result()?;
        fields.apply(customer);
        Ok(())
    })?;
    Ok(reply::json(StatusCode::OK, json!({})))
}

async fn create_product(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    body: RawBody,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let body = parsed(body)?;
    let obj = Obj::root(&body);
    let mut errors = FieldErrors::default();
    let fields = ProductFields::read(&obj, &mut errors);
    let product = write(&shared, |sm| {
        let db = db_mut(&mut sm.databases, claims)?;
        let product = fields.create(sm.next_id.product, &obj, errors)?;
        NextIds::take(&mut sm.next_id.product);
        db.products.0.insert(product.id, product.clone());
        Ok(product)
    })?;
    Ok(reply::record(StatusCode::CREATED, &product))
}

async fn patch_product(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    path: RawPath,
    body: RawBody,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let id = path_id(path, "Product")?;
    let body = parsed(body);
    write(&shared, |sm| {
        let product = db_mut(&mut sm.databases, claims)?
            .products
            .0
            .get_mut(&id)
            .ok_or_else(|| not_found("Product"))?;
        let body = body?;
        let obj = Obj::root(&body);
        let mut errors = FieldErrors::default();
        let fields = ProductFields::read(&obj, &mut errors);
        fields.check_patch(&obj, &mut errors);
        errors.into_result()?;
        fields.apply(product);
        Ok(())
    })?;
    Ok(reply::json(StatusCode::OK, json!({})))
}

/// POST /extapi/v1.1/visits — appended as the last visit of the team's day.
async fn create_visit(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    body: RawBody,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let body = parsed(body)?;
    let obj = Obj::root(&body);
    let visit = write(&shared, |sm| {
        let db = db_mut(&mut sm.databases, claims)?;
        let visit = model::new_visit(&obj, db, claims.team_id, sm.next_id.visit)?;
        NextIds::take(&mut sm.next_id.visit);
        db.visits.0.insert(visit.id, visit.clone());
        Ok(visit)
    })?;
    Ok(reply::record(StatusCode::CREATED, &visit))
}

async fn create_order(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    body: RawBody,
) -> Answer {
    let params = Params::from(query)?;
    let claims = data_call(&shared, &headers, &params)?;
    let body = parsed(body)?;
    let obj = Obj::root(&body);
    let order = write(&shared, |sm| {
        let db = db_mut(&mut sm.databases, claims)?;
        let order = model::new_order(&obj, db, claims.team_id, sm.next_id.order)?;
        NextIds::take(&mut sm.next_id.order);
        db.orders.0.insert(order.id, order.clone());
        Ok(order)
    })?;
    Ok(reply::record(StatusCode::CREATED, &order))
}

/// PATCH /extapi/v1.0/orders/{id} — only `ext_order_status_name` changes. The
/// team token is optional here [DOC]; without one the order is looked up in
/// every database the user can reach.
async fn patch_order(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: RawQuery,
    path: RawPath,
    body: RawBody,
) -> Answer {
    let params = Params::from(query)?;
    bearer(&shared, &headers)?;
    let claims = team(&shared, &params)?;
    let id = path_id(path, "Order")?;
    let body = parsed(body);
    write(&shared, |sm| {
        let order = match claims {
            Some(claims) => db_mut(&mut sm.databases, claims)?.orders.0.get_mut(&id),
            None => sm
                .databases
                .0
                .values_mut()
                .find_map(|db| db.orders.0.get_mut(&id)),
        }
        .ok_or_else(|| not_found("Order"))?;
        let body = body?;
        let obj = Obj::root(&body);
        let mut errors = FieldErrors::default();
        let name = obj.string("ext_order_status_name", None, &mut errors);
        obj.require("ext_order_status_name", &name, &mut errors);
        errors.into_result()?;
        if let Field::Set(name) = name {
            order.ext_order_status_name = Some(name);
        }
        Ok(())
    })?;
    Ok(reply::json(StatusCode::OK, json!({})))
}
