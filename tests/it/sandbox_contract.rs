//! Contract tests of the SalesMania sandbox: every endpoint of
//! `shared/api/salesmania.md` and every error it lists, through a plain HTTP
//! client against a sandbox on an ephemeral port.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};
use sheetload::sandbox::{Sandbox, SandboxError, SandboxHandle, SandboxOptions, spawn_in_thread};

const CUSTOMERS: &str = "/extapi/v1.0/customers";
const PRODUCTS: &str = "/extapi/v1.0/products";
const VISITS: &str = "/extapi/v1.1/visits";
const ORDERS: &str = "/extapi/v1.0/orders";
const TEAMS: &str = "/extapi/v1.0/teams";

// ------------------------------------------------------------------ helpers

/// An answer: status, headers, and the body as JSON (a JSON string when the
/// body is not JSON, `null` when empty).
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    /// The field errors of a 422, as `field -> [messages]`.
    fn errors(&self) -> &serde_json::Map<String, Value> {
        assert_eq!(self.status, 422, "expected a 422, got {self:?}");
        assert!(self.body["message"].is_string(), "no message in {self:?}");
        self.body["errors"].as_object().expect("errors object")
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors()
            .get(field)
            .and_then(Value::as_array)
            .is_some_and(|m| !m.is_empty() && m.iter().all(Value::is_string))
    }
}

async fn send(builder: RequestBuilder) -> Reply {
    let response = builder.send().await.expect("request failed");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// A signed-in client of one sandbox database.
struct Api {
    sandbox: SandboxHandle,
    base: String,
    http: Client,
    bearer: String,
    team: String,
}

impl Api {
    async fn start(opts: SandboxOptions) -> Api {
        let sandbox = Sandbox::start(opts).await.expect("sandbox starts");
        let base = sandbox.base_url();
        let http = http_client();
        let (bearer, team) = sign_in(&http, &base, 1).await;
        Api {
            sandbox,
            base,
            http,
            bearer,
            team,
        }
    }

    async fn default() -> Api {
        Api::start(SandboxOptions::default()).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the bearer and team token, as every data call carries.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.bearer)
            .query(&[("team_token", &self.team)])
    }

    async fn get(&self, path: &str) -> Reply {
        send(self.request(Method::GET, path)).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        send(self.request(Method::POST, path).json(&body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> Reply {
        send(self.request(Method::PATCH, path).json(&body)).await
    }

    async fn delete(&self, path: &str) -> Reply {
        send(self.request(Method::DELETE, path)).await
    }

    async fn stats(&self) -> Value {
        send(self.http.get(self.url("/_sandbox/stats"))).await.body
    }

    async fn customer(&self, name: &str, ext: &str) -> u64 {
        let r = self
            .post(CUSTOMERS, json!({"name": name, "ext_cust_no": ext}))
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["id"].as_u64().expect("id")
    }

    async fn product(&self, name: &str) -> u64 {
        let r = self.post(PRODUCTS, product_body(name)).await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["id"].as_u64().expect("id")
    }
}

async fn sign_in(http: &Client, base: &str, db_id: u64) -> (String, String) {
    let r = send(
        http.get(format!("{base}/extapi/v1.0/token"))
            .basic_auth("demo", Some("demo")),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let bearer = r.body["token"].as_str().expect("token").to_owned();
    let r = send(
        http.get(format!("{base}/extapi/v1.0/team_token"))
            .bearer_auth(&bearer)
            .query(&[("db_id", db_id)]),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let team = r.body["team_token"]
        .as_str()
        .expect("team_token")
        .to_owned();
    (bearer, team)
}

fn product_body(name: &str) -> Value {
    json!({
        "name": name,
        "ext_product_code": format!("P-{name}"),
        "qty_on_hand": 10,
        "default_disc": "55.55+3",
        "product_units": [
            {"name": "PCS", "price": 5000, "ratio": 1},
            {"name": "BOX", "price": 57000, "ratio": 12}
        ]
    })
}

fn decode_team_token(token: &str) -> Value {
    let (payload, signature) = token.split_once('.').expect("payload.signature");
    assert!(!signature.is_empty());
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json")
}

/// Every data endpoint, with a path that names an existing-looking id.
const DATA_CALLS: [(&str, &str); 16] = [
    ("GET", CUSTOMERS),
    ("POST", CUSTOMERS),
    ("GET", "/extapi/v1.0/customers/1000001"),
    ("PATCH", "/extapi/v1.0/customers/1000001"),
    ("DELETE", "/extapi/v1.0/customers/1000001"),
    ("GET", PRODUCTS),
    ("POST", PRODUCTS),
    ("GET", "/extapi/v1.0/products/2000001"),
    ("PATCH", "/extapi/v1.0/products/2000001"),
    ("DELETE", "/extapi/v1.0/products/2000001"),
    ("GET", VISITS),
    ("POST", VISITS),
    ("POST", ORDERS),
    ("GET", "/extapi/v1.0/orders/4000001"),
    ("PATCH", "/extapi/v1.0/orders/4000001"),
    ("GET", TEAMS),
];

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).expect("method")
}

// -------------------------------------------------------------------- auth

#[tokio::test]
async fn sign_in_takes_three_steps() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let base = sandbox.base_url();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert_eq!(base, format!("http://{}", sandbox.addr()));
    let http = http_client();
    let token_url = format!("{base}/extapi/v1.0/token");

    // 1. Basic credentials → bearer.
    let r = send(http.get(&token_url).basic_auth("demo", Some("demo"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.body["expires_in"], 3600);
    let bearer = r.body["token"].as_str().unwrap().to_owned();
    for bad in [
        http.get(&token_url).basic_auth("demo", Some("wrong")),
        http.get(&token_url).basic_auth("nobody", Some("demo")),
        http.get(&token_url),
        http.get(&token_url)
            .header("Authorization", "Basic !!!not-base64"),
        http.get(&token_url)
            .header("Authorization", "Basic ZGVtbw=="), // "demo", no colon
        http.get(&token_url).bearer_auth(&bearer),
    ] {
        let r = send(bad).await;
        assert_eq!(r.status, 401, "{r:?}");
        assert!(r.body["message"].is_string(), "{r:?}");
        let text = r.body.to_string();
        assert!(
            !text.contains("demo") && !text.contains(&bearer),
            "secret echoed: {text}"
        );
    }

    // 2. Bearer → databases.
    let dbs_url = format!("{base}/extapi/v1.0/databases");
    let r = send(http.get(&dbs_url).bearer_auth(&bearer)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!([{"db_id": 1, "name": "Demo"}, {"db_id": 2, "name": "Training"}])
    );
    assert_eq!(send(http.get(&dbs_url)).await.status, 401);
    assert_eq!(
        send(http.get(&dbs_url).bearer_auth("smx_forged"))
            .await
            .status,
        401
    );

    // 3. Bearer + db_id → team token shaped base64url(JSON).signature.
    let tt_url = format!("{base}/extapi/v1.0/team_token");
    let r = send(
        http.get(&tt_url)
            .bearer_auth(&bearer)
            .query(&[("db_id", 1)]),
    )
    .await;
    assert_eq!(r.status, 200);
    let team = r.body["team_token"].as_str().unwrap();
    assert_eq!(
        decode_team_token(team),
        json!({"db_id": 1, "team_id": 24001})
    );
    let r = send(
        http.get(&tt_url)
            .bearer_auth(&bearer)
            .query(&[("db_id", 2)]),
    )
    .await;
    assert_eq!(
        decode_team_token(r.body["team_token"].as_str().unwrap()),
        json!({"db_id": 2, "team_id": 24004})
    );
    assert!(
        send(http.get(&tt_url).bearer_auth(&bearer))
            .await
            .has_error("db_id")
    );
    let r = send(
        http.get(&tt_url)
            .bearer_auth(&bearer)
            .query(&[("db_id", "abc")]),
    )
    .await;
    assert!(r.has_error("db_id"));
    let r = send(
        http.get(&tt_url)
            .bearer_auth(&bearer)
            .query(&[("db_id", 99)]),
    )
    .await;
    assert_eq!(r.status, 403, "{r:?}");
    let r = send(http.get(&tt_url).query(&[("db_id", 1)])).await;
    assert_eq!(r.status, 401);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn every_data_call_checks_bearer_then_team_token() {
    let api = Api::default().await;
    let (payload, signature) = api.team.rsplit_once('.').unwrap();
    let other_db = URL_SAFE_NO_PAD.encode(br#"{"db_id":2,"team_id":24004}"#);
    let tampered = [
        format!("{other_db}.{signature}"),
        format!("{payload}.{}", "A".repeat(signature.len())),
        format!("{payload}x.{signature}"),
        payload.to_owned(),
        "garbage".to_owned(),
    ];
    for (name, path) in DATA_CALLS {
        let m = method(name);
        let url = api.url(path);
        let team = [("team_token", api.team.as_str())];
        // Missing, unknown, malformed bearer → 401 with a message.
        for r in [
            send(api.http.request(m.clone(), &url).query(&team)).await,
            send(
                api.http
                    .request(m.clone(), &url)
                    .query(&team)
                    .bearer_auth("nope"),
            )
            .await,
            send(
                api.http
                    .request(m.clone(), &url)
                    .query(&team)
                    .header("Authorization", "Token x"),
            )
            .await,
        ] {
            assert_eq!(r.status, 401, "{name} {path}: {r:?}");
            assert!(r.body["message"].is_string());
        }
        // Valid bearer, missing team token → 403 (except on Update order, where
        // it is optional and the unknown id gives 404).
        let r = send(api.http.request(m.clone(), &url).bearer_auth(&api.bearer)).await;
        let expected = if name == "PATCH" && path.starts_with(ORDERS) {
            404
        } else {
            403
        };
        assert_eq!(r.status, expected, "{name} {path}: {r:?}");
        assert!(r.body["message"].is_string());
        // Any change to the token → 403, everywhere.
        for bad in &tampered {
            let r = send(
                api.http
                    .request(m.clone(), &url)
                    .bearer_auth(&api.bearer)
                    .query(&[("team_token", bad)]),
            )
            .await;
            assert_eq!(r.status, 403, "{name} {path} with {bad}: {r:?}");
        }
    }
}

// --------------------------------------------------------------- customers

#[tokio::test]
async fn customers_create_get_patch_delete() {
    let api = Api::default().await;
    let full = json!({
        "name": "Toko Sumber Rejeki",
        "address": "Jl. Pemuda No. 5",
        "city": "Semarang",
        "phone": "081234567890",
        "ext_cust_no": "C000123",
        "location": {"lat": -7.110383, "lon": 110.473812},
        "status": true,
        "tags": ["retail", "prioritas"]
    });
    let r = api.post(CUSTOMERS, full.clone()).await;
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.body["id"].as_u64().unwrap();
    let mut expected = full.clone();
    expected["id"] = json!(id);
    assert_eq!(r.body, expected);

    // Only the name is required; status defaults to true, tags to [].
    let r = api.post(CUSTOMERS, json!({"name": "Warung Bu Sri"})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["status"], true);
    assert_eq!(r.body["tags"], json!([]));
    assert_eq!(r.body["location"], Value::Null);
    let second = r.body["id"].as_u64().unwrap();
    assert!(second > id, "ids increase");

    let path = format!("{CUSTOMERS}/{id}");
    let r = api.get(&path).await;
    assert_eq!((r.status, &r.body), (200, &expected));

    // PATCH changes only the fields sent, answers {}.
    let r = api
        .patch(&path, json!({"phone": "0899", "tags": ["grosir"]}))
        .await;
    assert_eq!((r.status, &r.body), (200, &json!({})));
    let r = api.get(&path).await;
    expected["phone"] = json!("0899");
    expected["tags"] = json!(["grosir"]);
    assert_eq!(r.body, expected);
    let r = api
        .patch(&path, json!({"status": false, "location": null}))
        .await;
    assert_eq!(r.status, 200);
    let r = api.get(&path).await;
    assert_eq!(r.body["status"], false);
    assert_eq!(r.body["location"], Value::Null);
    assert_eq!(r.body["name"], "Toko Sumber Rejeki");
    let r = api.patch(&path, json!({})).await;
    assert_eq!(r.status, 200);

    // Unknown and non-numeric ids → 404.
    for missing in ["999", "abc", "-1", "1.5"] {
        let p = format!("{CUSTOMERS}/{missing}");
        assert_eq!(api.get(&p).await.status, 404, "{missing}");
        assert_eq!(api.patch(&p, json!({"name": "x"})).await.status, 404);
        assert_eq!(api.delete(&p).await.status, 404);
    }

    // DELETE → 200 {}, then gone.
    let r = api.delete(&path).await;
    assert_eq!((r.status, &r.body), (200, &json!({})));
    assert_eq!(api.get(&path).await.status, 404);
    assert_eq!(api.delete(&path).await.status, 404);
    api.sandbox.shutdown().await;
}

#[tokio::test]
async fn customer_validation_answers_422_with_field_errors() {
    let api = Api::default().await;
    for (body, fields) in [
        (json!({}), vec!["name"]),
        (json!({"name": ""}), vec!["name"]),
        (json!({"name": "   "}), vec!["name"]),
        (json!({"name": null}), vec!["name"]),
        (json!({"name": 42}), vec!["name"]),
        (
            json!({"name": "A", "location": {"lat": -91, "lon": 0}}),
            vec!["location.lat"],
        ),
        (
            json!({"name": "A", "location": {"lat": 0, "lon": 180.5}}),
            vec!["location.lon"],
        ),
        (
            json!({"name": "A", "location": {"lat": 1.5}}),
            vec!["location.lon"],
        ),
        (
            json!({"name": "A", "location": {"lon": 1.5}}),
            vec!["location.lat"],
        ),
        (
            json!({"name": "A", "location": {}}),
            vec!["location.lat", "location.lon"],
        ),
        (
            json!({"name": "A", "location": {"lat": "1", "lon": "2"}}),
            vec!["location.lat", "location.lon"],
        ),
        (json!({"name": "A", "location": [1, 2]}), vec!["location"]),
        (json!({"name": "A", "status": "yes"}), vec!["status"]),
        (json!({"name": "A", "tags": "retail"}), vec!["tags"]),
        (json!({"name": "A", "tags": ["ok", 5]}), vec!["tags.1"]),
        (json!({"name": "A", "phone": 628123}), vec!["phone"]),
        (
            json!({"name": "A", "ext_cust_no": 123}),
            vec!["ext_cust_no"],
        ),
        (
            json!({"address": 1, "city": true}),
            vec!["name", "address", "city"],
        ),
    ] {
        let r = api.post(CUSTOMERS, body.clone()).await;
        for field in &fields {
            assert!(r.has_error(field), "{body} should fail on {field}: {r:?}");
        }
        assert_eq!(r.errors().len(), fields.len(), "{body}: {r:?}");
    }
    // Boundaries are inclusive.
    let r = api
        .post(
            CUSTOMERS,
            json!({"name": "A", "location": {"lat": -90, "lon": 180}}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");

    // PATCH validates what it is given; nothing changes on a 422.
    let id = r.body["id"].as_u64().unwrap();
    let path = format!("{CUSTOMERS}/{id}");
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": null}), "name"),
        (json!({"location": {"lat": 100, "lon": 0}}), "location.lat"),
        (json!({"status": 1}), "status"),
    ] {
        assert!(api.patch(&path, body).await.has_error(field));
    }
    assert_eq!(api.get(&path).await.body["name"], "A");
    assert_eq!(api.stats().await["records"]["customers"], 1);
}

#[tokio::test]
async fn lists_are_paginated() {
    let api = Api::default().await;
    for i in 1..=5 {
        api.customer(&format!("Toko {i}"), &format!("C{i:06}"))
            .await;
    }
    let r = api.get(&format!("{CUSTOMERS}?page=1&limit=2")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (
            r.body["page"].as_u64(),
            r.body["limit"].as_u64(),
            r.body["total"].as_u64()
        ),
        (Some(1), Some(2), Some(5))
    );
    let names: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Toko 1", "Toko 2"]);
    let r = api.get(&format!("{CUSTOMERS}?page=3&limit=2")).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["data"][0]["name"], "Toko 5");
    let r = api.get(&format!("{CUSTOMERS}?page=4&limit=2")).await;
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(r.body["total"], 5);
    // Defaults: page 1, limit 20.
    let r = api.get(CUSTOMERS).await;
    assert_eq!(
        (r.body["page"].as_u64(), r.body["limit"].as_u64()),
        (Some(1), Some(20))
    );
    assert_eq!(r.body["data"].as_array().unwrap().len(), 5);
    let r = api.get(&format!("{CUSTOMERS}?limit=100")).await;
    assert_eq!(r.status, 200);
    // Out of range or not a number → 422 naming the parameter.
    for (query, field) in [
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("limit=-1", "limit"),
    ] {
        assert!(
            api.get(&format!("{CUSTOMERS}?{query}"))
                .await
                .has_error(field),
            "{query}"
        );
    }
    // Exact filter on the natural key.
    let r = api.get(&format!("{CUSTOMERS}?ext_cust_no=C000004")).await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["data"][0]["name"], "Toko 4");
}

// ---------------------------------------------------------------- products

#[tokio::test]
async fn products_create_get_patch_delete() {
    let api = Api::default().await;
    let body = product_body("Kopi Bubuk 200g");
    let r = api.post(PRODUCTS, body.clone()).await;
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.body["id"].as_u64().unwrap();
    assert_eq!(r.body["name"], body["name"]);
    assert_eq!(r.body["qty_on_hand"], 10);
    assert_eq!(r.body["product_units"], body["product_units"]);
    assert_eq!(r.body["default_disc"], "55.55+3");
    assert_eq!(r.body["status"], true);
    let path = format!("{PRODUCTS}/{id}");
    let r = api.get(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["ext_product_code"], "P-Kopi Bubuk 200g");

    let r = api
        .patch(&path, json!({"qty_on_hand": 7.5, "product_units": [{"name": "PCS", "price": 5100, "ratio": 1}]}))
        .await;
    assert_eq!((r.status, &r.body), (200, &json!({})));
    let r = api.get(&path).await;
    assert_eq!(r.body["qty_on_hand"], 7.5);
    assert_eq!(
        r.body["product_units"],
        json!([{"name": "PCS", "price": 5100, "ratio": 1}])
    );
    assert_eq!(r.body["name"], "Kopi Bubuk 200g");

    for (body, field) in [
        (json!({"product_units": []}), "product_units"),
        (
            json!({"product_units": [{"name": "BOX", "ratio": 12}]}),
            "product_units",
        ),
        (json!({"product_units": null}), "product_units"),
        (json!({"qty_on_hand": null}), "qty_on_hand"),
        (json!({"name": "x".repeat(201)}), "name"),
    ] {
        assert!(api.patch(&path, body).await.has_error(field));
    }
    assert_eq!(api.get("/extapi/v1.0/products/77").await.status, 404);
    assert_eq!(
        api.patch("/extapi/v1.0/products/77", json!({}))
            .await
            .status,
        404
    );
    assert_eq!(api.delete(&path).await.status, 200);
    assert_eq!(api.get(&path).await.status, 404);
    assert_eq!(api.delete(&path).await.status, 404);

    let r = api.get(PRODUCTS).await;
    assert_eq!(r.body["total"], 0);
}

#[tokio::test]
async fn product_validation_answers_422_with_field_errors() {
    let api = Api::default().await;
    let units = json!([{"name": "PCS", "price": 5000, "ratio": 1}]);
    let with = |patch: Value| {
        let mut body = json!({"name": "Gula Pasir 1kg", "qty_on_hand": 5, "product_units": units});
        for (k, v) in patch.as_object().unwrap() {
            if v == &json!("<remove>") {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let unit = |name: Value, price: Value, ratio: Value| json!({"name": name, "price": price, "ratio": ratio});
    for (body, fields) in [
        (with(json!({"name": "<remove>"})), vec!["name"]),
        (with(json!({"name": ""})), vec!["name"]),
        (with(json!({"name": "é".repeat(201)})), vec!["name"]),
        (
            with(json!({"qty_on_hand": "<remove>"})),
            vec!["qty_on_hand"],
        ),
        (with(json!({"qty_on_hand": "5"})), vec!["qty_on_hand"]),
        (
            with(json!({"product_units": "<remove>"})),
            vec!["product_units"],
        ),
        (with(json!({"product_units": []})), vec!["product_units"]),
        (
            with(json!({"product_units": {"name": "PCS"}})),
            vec!["product_units"],
        ),
        (
            with(json!({"product_units": [unit(json!("BOX"), json!(1), json!(12))]})),
            vec!["product_units"],
        ),
        (
            with(json!({"product_units": [unit(json!("PCS"), json!(1), json!(0))]})),
            vec!["product_units.0.ratio"],
        ),
        (
            with(
                json!({"product_units": [unit(json!("PCS"), json!(1), json!(1)), unit(json!("BOX"), json!(1), json!(1.5))]}),
            ),
            vec!["product_units.1.ratio"],
        ),
        (
            with(json!({"product_units": [unit(json!("PCS"), json!(1), json!("1"))]})),
            vec!["product_units.0.ratio"],
        ),
        (
            with(json!({"product_units": [{"name": "PCS", "price": 1}]})),
            vec!["product_units.0.ratio"],
        ),
        (
            with(json!({"product_units": [unit(json!("P".repeat(51)), json!(1), json!(1))]})),
            vec!["product_units.0.name"],
        ),
        (
            with(json!({"product_units": [unit(json!(""), json!(1), json!(1))]})),
            vec!["product_units.0.name"],
        ),
        (
            with(json!({"product_units": [{"price": 1, "ratio": 1}]})),
            vec!["product_units.0.name"],
        ),
        (
            with(json!({"product_units": [unit(json!("PCS"), json!("mahal"), json!(1))]})),
            vec!["product_units.0.price"],
        ),
        (
            with(
                json!({"product_units": [unit(json!("PCS"), json!(1), json!(1)), unit(json!("PCS"), json!(2), json!(12))]}),
            ),
            vec!["product_units.1.name"],
        ),
        (
            with(json!({"product_units": [unit(json!("PCS"), json!(1), json!(1)), json!("BOX")]})),
            vec!["product_units.1"],
        ),
        (with(json!({"default_disc": "5,5"})), vec!["default_disc"]),
        (with(json!({"default_disc": 5})), vec!["default_disc"]),
        (with(json!({"tags": [1]})), vec!["tags.0"]),
        (with(json!({"status": "true"})), vec!["status"]),
        (json!({}), vec!["name", "qty_on_hand", "product_units"]),
    ] {
        let r = api.post(PRODUCTS, body.clone()).await;
        for field in &fields {
            assert!(r.has_error(field), "{body} should fail on {field}: {r:?}");
        }
        assert_eq!(r.errors().len(), fields.len(), "{body}: {r:?}");
    }
    // 200 characters (not bytes) and 50-character unit names are fine.
    let r = api
        .post(PRODUCTS, with(json!({"name": "é".repeat(200), "product_units": [unit(json!("U".repeat(50)), json!(0), json!(1))]})))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(api.stats().await["records"]["products"], 1);
}

// ------------------------------------------------------------------ visits

#[tokio::test]
async fn visits_use_v1_1_append_per_day_and_filter() {
    let api = Api::default().await;
    let customer = api.customer("Toko A", "C1").await;
    let teams = api.get(TEAMS).await;
    let other_team = teams.body["data"][1]["id"].as_u64().unwrap();

    let r = api
        .post(
            VISITS,
            json!({"date": "2024-01-01", "customer_id": customer}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["team_id"], 24001, "defaults to the token's team");
    assert_eq!(r.body["seq"], 1);
    assert_eq!(r.body["date"], "2024-01-01");
    assert_eq!(r.body["customer_id"], customer);
    assert!(r.body["id"].as_u64().is_some());
    let r = api
        .post(
            VISITS,
            json!({"date": "2024-01-01", "customer_id": customer}),
        )
        .await;
    assert_eq!(r.body["seq"], 2, "appended as the last visit of the day");
    let r = api
        .post(
            VISITS,
            json!({"date": "2024-01-01", "customer_id": customer, "team_id": other_team}),
        )
        .await;
    assert_eq!(
        (r.body["team_id"].as_u64(), r.body["seq"].as_u64()),
        (Some(other_team), Some(1))
    );
    api.post(
        VISITS,
        json!({"date": "2024-02-15", "customer_id": customer}),
    )
    .await;

    // The v1.0 path does not exist.
    let r = api
        .post(
            "/extapi/v1.0/visits",
            json!({"date": "2024-01-01", "customer_id": customer}),
        )
        .await;
    assert_eq!(r.status, 404);

    for (body, fields) in [
        (json!({}), vec!["date", "customer_id"]),
        (json!({"date": "2024-01-01"}), vec!["customer_id"]),
        (json!({"customer_id": customer}), vec!["date"]),
        (
            json!({"date": "01/01/2024", "customer_id": customer}),
            vec!["date"],
        ),
        (
            json!({"date": "2024-02-30", "customer_id": customer}),
            vec!["date"],
        ),
        (
            json!({"date": 20240101, "customer_id": customer}),
            vec!["date"],
        ),
        (
            json!({"date": "2024-01-01", "customer_id": 424242}),
            vec!["customer_id"],
        ),
        (
            json!({"date": "2024-01-01", "customer_id": "1"}),
            vec!["customer_id"],
        ),
        (
            json!({"date": "2024-01-01", "customer_id": customer, "team_id": 1}),
            vec!["team_id"],
        ),
        (
            json!({"date": "2024-01-01", "customer_id": customer, "team_id": "x"}),
            vec!["team_id"],
        ),
    ] {
        let r = api.post(VISITS, body.clone()).await;
        for field in &fields {
            assert!(r.has_error(field), "{body} should fail on {field}: {r:?}");
        }
        assert_eq!(r.errors().len(), fields.len(), "{body}: {r:?}");
    }

    let total = |r: &Reply| r.body["total"].as_u64().unwrap();
    assert_eq!(total(&api.get(VISITS).await), 4);
    assert_eq!(
        total(&api.get(&format!("{VISITS}?date_from=2024-01-02")).await),
        1
    );
    assert_eq!(
        total(&api.get(&format!("{VISITS}?date_to=2024-01-01")).await),
        3
    );
    assert_eq!(
        total(
            &api.get(&format!(
                "{VISITS}?date_from=2024-01-01&date_to=2024-01-01&team_id={other_team}"
            ))
            .await
        ),
        1
    );
    assert_eq!(
        total(&api.get(&format!("{VISITS}?team_id=24001&limit=1")).await),
        3
    );
    assert_eq!(
        api.get(&format!("{VISITS}?team_id=24001&limit=1"))
            .await
            .body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        api.get(&format!("{VISITS}?date_from=yesterday"))
            .await
            .has_error("date_from")
    );
    assert!(
        api.get(&format!("{VISITS}?date_to=2024-13-01"))
            .await
            .has_error("date_to")
    );
    assert!(
        api.get(&format!("{VISITS}?team_id=abc"))
            .await
            .has_error("team_id")
    );
}

// ------------------------------------------------------------------ orders

#[tokio::test]
async fn orders_create_get_and_update_status_name() {
    let api = Api::default().await;
    let customer = api.customer("Toko A", "C1").await;
    let product = api.product("Teh").await;
    let order = json!({
        "date": "2024-03-01",
        "customer_id": customer,
        "description": "pesanan rutin",
        "ordered_products": [
            {"product_id": product, "qty": 2, "unit": "BOX", "price": 57000, "item_disc_percent": "5+2", "ext_order_line_id": 1},
            {"product_id": product, "qty": 3, "unit": "PCS", "price": 5000, "item_disc_amount": 500, "description": "bonus"}
        ],
        "disc_percent": "2.5",
        "total_paid": 100000,
        "visit_status": "Order",
        "ext_order_no": "SO-0001",
        "ext_order_status_name": "Open"
    });
    let r = api.post(ORDERS, order.clone()).await;
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.body["id"].as_u64().unwrap();
    assert_eq!(r.body["status"], "Baru", "status defaults to Baru");
    assert_eq!(r.body["team_id"], 24001);
    assert_eq!(r.body["ordered_products"][0]["unit"], "BOX");
    assert_eq!(r.body["ordered_products"][1]["item_disc_amount"], 500);
    assert_eq!(r.body["ext_order_no"], "SO-0001");

    let path = format!("{ORDERS}/{id}");
    let r = api.get(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["ordered_products"].as_array().unwrap().len(), 2);
    assert_eq!(api.get(&format!("{ORDERS}/SO-0001")).await.status, 404);
    assert_eq!(api.get(&format!("{ORDERS}/123")).await.status, 404);

    // PATCH: only ext_order_status_name; team token optional.
    let r = api
        .patch(
            &path,
            json!({"ext_order_status_name": "Shipped", "status": "Batal"}),
        )
        .await;
    assert_eq!((r.status, &r.body), (200, &json!({})));
    let r = api.get(&path).await;
    assert_eq!(r.body["ext_order_status_name"], "Shipped");
    assert_eq!(
        r.body["status"], "Baru",
        "other fields are not updatable here"
    );
    let r = send(
        api.http
            .patch(api.url(&path))
            .bearer_auth(&api.bearer)
            .json(&json!({"ext_order_status_name": "Delivered"})),
    )
    .await;
    assert_eq!(r.status, 200, "without team token: {r:?}");
    assert_eq!(
        api.get(&path).await.body["ext_order_status_name"],
        "Delivered"
    );
    let r = send(
        api.http
            .patch(api.url(&path))
            .json(&json!({"ext_order_status_name": "x"})),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = send(
        api.http
            .patch(api.url(&path))
            .bearer_auth(&api.bearer)
            .query(&[("team_token", "forged.token")])
            .json(&json!({"ext_order_status_name": "x"})),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(
        api.patch(&path, json!({}))
            .await
            .has_error("ext_order_status_name")
    );
    assert!(
        api.patch(&path, json!({"ext_order_status_name": 5}))
            .await
            .has_error("ext_order_status_name")
    );
    assert_eq!(
        api.patch(
            &format!("{ORDERS}/SO-0001"),
            json!({"ext_order_status_name": "x"})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        api.patch(
            &format!("{ORDERS}/999"),
            json!({"ext_order_status_name": "x"})
        )
        .await
        .status,
        404
    );

    // Every status in the list is accepted.
    for status in ["Baru", "Diproses", "Terkirim", "Lunas", "Batal"] {
        let mut body = order.clone();
        body["status"] = json!(status);
        assert_eq!(api.post(ORDERS, body).await.status, 201, "{status}");
    }
}

#[tokio::test]
async fn order_validation_answers_422_with_field_errors() {
    let api = Api::default().await;
    let customer = api.customer("Toko A", "C1").await;
    let product = api.product("Teh").await;
    let line = json!({"product_id": product, "qty": 1, "unit": "PCS", "price": 5000});
    let order = |patch: Value| {
        let mut body = json!({"date": "2024-03-01", "customer_id": customer, "ordered_products": [line.clone()]});
        for (k, v) in patch.as_object().unwrap() {
            if v == &json!("<remove>") {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let mut bad_unit = line.clone();
    bad_unit["unit"] = json!("KARTON");
    let mut lower_unit = line.clone();
    lower_unit["unit"] = json!("pcs");
    let mut bad_product = line.clone();
    bad_product["product_id"] = json!(customer);
    let mut both_discounts = line.clone();
    both_discounts["item_disc_percent"] = json!("5");
    both_discounts["item_disc_amount"] = json!(100);
    let mut zero_qty = line.clone();
    zero_qty["qty"] = json!(0);
    let mut no_unit = line.clone();
    no_unit.as_object_mut().unwrap().remove("unit");
    for (body, fields) in [
        (order(json!({"customer_id": 999})), vec!["customer_id"]),
        (
            order(json!({"customer_id": "<remove>"})),
            vec!["customer_id"],
        ),
        (order(json!({"date": "<remove>"})), vec!["date"]),
        (order(json!({"date": "2024-3-1"})), vec!["date"]),
        (order(json!({"team_id": 5})), vec!["team_id"]),
        (
            order(json!({"ordered_products": "<remove>"})),
            vec!["ordered_products"],
        ),
        (
            order(json!({"ordered_products": []})),
            vec!["ordered_products"],
        ),
        (
            order(json!({"ordered_products": {"a": 1}})),
            vec!["ordered_products"],
        ),
        (
            order(json!({"ordered_products": [line.clone(), bad_unit]})),
            vec!["ordered_products.1.unit"],
        ),
        (
            order(json!({"ordered_products": [lower_unit]})),
            vec!["ordered_products.0.unit"],
        ),
        (
            order(json!({"ordered_products": [line.clone(), bad_product]})),
            vec!["ordered_products.1.product_id"],
        ),
        (
            order(json!({"ordered_products": [both_discounts]})),
            vec!["ordered_products.0.item_disc_amount"],
        ),
        (
            order(json!({"ordered_products": [zero_qty]})),
            vec!["ordered_products.0.qty"],
        ),
        (
            order(json!({"ordered_products": [no_unit]})),
            vec!["ordered_products.0.unit"],
        ),
        (
            order(json!({"ordered_products": [line.clone(), 7]})),
            vec!["ordered_products.1"],
        ),
        (order(json!({"status": "Open"})), vec!["status"]),
        (order(json!({"status": "baru"})), vec!["status"]),
        (order(json!({"disc_percent": "lima"})), vec!["disc_percent"]),
        (order(json!({"total_paid": "100"})), vec!["total_paid"]),
        (order(json!({"disc_amount": -1})), vec!["disc_amount"]),
        (json!({}), vec!["date", "customer_id", "ordered_products"]),
    ] {
        let r = api.post(ORDERS, body.clone()).await;
        for field in &fields {
            assert!(r.has_error(field), "{body} should fail on {field}: {r:?}");
        }
        assert_eq!(r.errors().len(), fields.len(), "{body}: {r:?}");
    }
    let msg = api
        .post(
            ORDERS,
            order(
                json!({"ordered_products": [{"product_id": product, "qty": 1, "unit": "KARTON"}]}),
            ),
        )
        .await;
    let text = msg.errors()["ordered_products.0.unit"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains("PCS") && text.contains("BOX"),
        "names the valid units: {text}"
    );
    assert_eq!(api.stats().await["records"]["orders"], 0);
}

// ------------------------------------------------------------------- teams

#[tokio::test]
async fn teams_are_listed_with_their_fields() {
    let api = Api::default().await;
    let r = api.get(TEAMS).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["total"], 3);
    let teams = r.body["data"].as_array().unwrap();
    assert_eq!(teams.len(), 3);
    for team in teams {
        let keys: Vec<&str> = team
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 5, "{team}");
        for key in ["id", "name", "email", "role", "status"] {
            assert!(keys.contains(&key), "{team} lacks {key}");
        }
        assert!(team["email"].as_str().unwrap().contains('@'));
    }
    assert_eq!(teams[0]["id"], 24001);
    assert_eq!(teams[0]["role"], "admin");
    let r = api.get(&format!("{TEAMS}?limit=2&page=2")).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
}

// ------------------------------------------------------------- databases

#[tokio::test]
async fn databases_keep_separate_records() {
    let api = Api::default().await;
    let (_, team2) = sign_in(&api.http, &api.base, 2).await;
    let in_db1 = api.customer("Toko Demo", "C1").await;
    let r = send(
        api.http
            .post(api.url(CUSTOMERS))
            .bearer_auth(&api.bearer)
            .query(&[("team_token", &team2)])
            .json(&json!({"name": "Toko Training", "ext_cust_no": "C1"})),
    )
    .await;
    assert_eq!(r.status, 201);
    let in_db2 = r.body["id"].as_u64().unwrap();
    let list1 = api.get(CUSTOMERS).await;
    assert_eq!(list1.body["total"], 1);
    assert_eq!(list1.body["data"][0]["id"], in_db1);
    assert_eq!(api.get(&format!("{CUSTOMERS}/{in_db2}")).await.status, 404);
    let r = send(
        api.http
            .get(api.url(&format!("{CUSTOMERS}/{in_db2}")))
            .bearer_auth(&api.bearer)
            .query(&[("team_token", &team2)]),
    )
    .await;
    assert_eq!(r.body["name"], "Toko Training");
    let stats = api.stats().await;
    assert_eq!(stats["records"]["customers"], 2, "summed over databases");
    assert_eq!(stats["databases"]["1"]["records"]["customers"], 1);
    assert_eq!(stats["databases"]["2"]["records"]["customers"], 1);
    assert_eq!(
        stats["duplicate_keys"]["ext_cust_no"],
        json!({}),
        "same key in two databases is no duplicate"
    );
}

// ------------------------------------------------------------- robustness

#[tokio::test]
async fn malformed_bodies_never_cause_a_server_error() {
    let api = Api::default().await;
    let customer = api.customer("Toko A", "C1").await;
    let product = api.product("Teh").await;
    let order = api
        .post(ORDERS, json!({"date": "2024-03-01", "customer_id": customer, "ordered_products": [{"product_id": product, "qty": 1, "unit": "PCS"}]}))
        .await
        .body["id"]
        .as_u64()
        .unwrap();
    let targets = [
        (Method::POST, CUSTOMERS.to_owned()),
        (Method::PATCH, format!("{CUSTOMERS}/{customer}")),
        (Method::POST, PRODUCTS.to_owned()),
        (Method::PATCH, format!("{PRODUCTS}/{product}")),
        (Method::POST, VISITS.to_owned()),
        (Method::POST, ORDERS.to_owned()),
        (Method::PATCH, format!("{ORDERS}/{order}")),
    ];
    // Malformed JSON → 400 with a message.
    for (m, path) in &targets {
        for raw in ["{", "{\"name\": }", "nul", "\u{0}", "{\"a\":1}}", "[1,"] {
            let r = send(
                api.request(m.clone(), path)
                    .header("Content-Type", "application/json")
                    .body(raw),
            )
            .await;
            assert_eq!(r.status, 400, "{m} {path} {raw:?}: {r:?}");
            assert!(r.body["message"].as_str().unwrap().contains("JSON"));
        }
        // Valid JSON that is not an object → 422 with a message.
        for raw in ["[]", "\"text\"", "42", "true", "null"] {
            let r = send(api.request(m.clone(), path).body(raw)).await;
            assert_eq!(r.status, 422, "{m} {path} {raw:?}: {r:?}");
            assert!(r.body["message"].is_string());
        }
        // Wrong types in every field: a 4xx, never a 5xx.
        let weird = [
            json!(null),
            json!(true),
            json!(-1),
            json!(1e308),
            json!(u64::MAX),
            json!(-9.5),
            json!(""),
            json!("x"),
            json!([]),
            json!([null]),
            json!({}),
            json!({"lat": {}}),
        ];
        let fields = [
            "name",
            "address",
            "phone",
            "ext_cust_no",
            "location",
            "status",
            "tags",
            "qty_on_hand",
            "product_units",
            "default_disc",
            "date",
            "customer_id",
            "team_id",
            "ordered_products",
            "status",
            "disc_percent",
            "disc_amount",
            "total_paid",
            "ext_order_status_name",
        ];
        for value in &weird {
            let body: serde_json::Map<String, Value> = fields
                .iter()
                .map(|f| ((*f).to_owned(), value.clone()))
                .collect();
            let r = send(api.request(m.clone(), path).json(&body)).await;
            assert!(r.status < 500, "{m} {path} {value}: {r:?}");
            for item in [
                json!([value]),
                json!([{"name": value, "ratio": value, "price": value, "product_id": value, "qty": value, "unit": value}]),
            ] {
                let body = json!({"name": "A", "product_units": item, "ordered_products": item, "date": "2024-01-01", "customer_id": customer, "qty_on_hand": 1});
                let r = send(api.request(m.clone(), path).json(&body)).await;
                assert!(r.status < 500, "{m} {path} {body}: {r:?}");
            }
        }
    }
    // A huge body is refused with a JSON message, not a crash.
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let r = send(api.request(Method::POST, CUSTOMERS).body(big)).await;
    assert!((400..500).contains(&r.status), "{r:?}");
    // A weird query string is fine.
    let r = api.get(&format!("{CUSTOMERS}?page=%FF&limit=%%")).await;
    assert!((400..500).contains(&r.status), "{r:?}");
    // The server still answers normally.
    assert_eq!(
        api.get(&format!("{CUSTOMERS}/{customer}")).await.status,
        200
    );
    let stats = api.stats().await;
    for (route, outcomes) in stats["requests"].as_object().unwrap() {
        for status in outcomes.as_object().unwrap().keys() {
            assert!(!status.starts_with('5'), "{route} answered {status}");
        }
    }
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let api = Api::default().await;
    let r = api.get("/extapi/v1.0/nothing").await;
    assert_eq!(r.status, 404);
    assert!(r.body["message"].is_string());
    let r = send(api.request(Method::PUT, CUSTOMERS)).await;
    assert_eq!(r.status, 405);
    let stats = api.stats().await;
    assert_eq!(stats["requests"]["GET (unmatched)"]["404"], 1);
    assert_eq!(stats["requests"]["PUT /extapi/v1.0/customers"]["405"], 1);
}

// ------------------------------------------------------------------ stats

#[tokio::test]
async fn stats_report_requests_records_duplicates_and_concurrency() {
    let api = Api::default().await;
    api.customer("Toko A", "C000001").await;
    api.customer("Toko B", "C000001").await;
    api.customer("Toko C", "C000002").await;
    api.product("Teh").await;
    api.product("Teh").await;
    assert_eq!(api.post(CUSTOMERS, json!({})).await.status, 422);
    let stats = api.stats().await;
    assert_eq!(
        stats["requests"]["POST /extapi/v1.0/customers"],
        json!({"201": 3, "422": 1})
    );
    assert_eq!(
        stats["requests"]["GET /extapi/v1.0/token"],
        json!({"200": 1})
    );
    assert_eq!(
        stats["requests"]["GET /extapi/v1.0/team_token"],
        json!({"200": 1})
    );
    assert!(
        stats["requests"].get("GET /_sandbox/stats").is_none(),
        "control calls are not counted"
    );
    assert_eq!(
        stats["records"],
        json!({"customers": 3, "products": 2, "visits": 0, "orders": 0, "teams": 6})
    );
    assert_eq!(
        stats["duplicate_keys"],
        json!({"ext_cust_no": {"C000001": 2}, "ext_product_code": {"P-Teh": 2}, "ext_order_no": {}})
    );
    assert_eq!(
        stats["databases"]["1"]["duplicate_keys"]["ext_cust_no"],
        json!({"C000001": 2})
    );
    assert!(stats["peak_concurrent"].as_u64().unwrap() >= 1);
    assert_eq!(stats["in_flight"], 0);
    assert_eq!(
        stats["faults"],
        json!({"fail": 0, "rate_limited": 0, "token_expired": 0, "dropped_after_commit": 0, "stalled": 0, "burst_429": 0, "quota_exhausted": 0})
    );
    assert_eq!(stats["state"], Value::Null);

    // Reset reseeds the store and zeroes the counters.
    let r = send(api.http.post(api.url("/_sandbox/reset"))).await;
    assert_eq!(r.status, 200);
    let stats = api.stats().await;
    assert_eq!(stats["records"]["customers"], 0);
    assert_eq!(stats["requests"], json!({}));
    assert_eq!(
        api.sandbox.stats()["records"]["teams"],
        6,
        "read directly too"
    );
    let health = send(api.http.get(api.url("/_sandbox/health"))).await;
    assert_eq!(health.body, json!({"ok": true}));
}

#[tokio::test]
async fn seeding_is_deterministic_and_plausible() {
    let opts = SandboxOptions {
        customers: 25,
        products: 4,
        teams: 2,
        seed: 42,
        ..SandboxOptions::default()
    };
    let a = Api::start(opts.clone()).await;
    let b = Api::start(opts.clone()).await;
    let c = Api::start(SandboxOptions { seed: 43, ..opts }).await;
    let list_a = a.get(&format!("{CUSTOMERS}?limit=100")).await.body;
    let list_b = b.get(&format!("{CUSTOMERS}?limit=100")).await.body;
    let list_c = c.get(&format!("{CUSTOMERS}?limit=100")).await.body;
    assert_eq!(list_a, list_b, "same seed, same store");
    assert_ne!(
        list_a["data"], list_c["data"],
        "another seed, another store"
    );
    assert_eq!(list_a["total"], 25);
    let first = &list_a["data"][0];
    assert_eq!(first["ext_cust_no"], "C000001");
    assert_eq!(list_a["data"][24]["ext_cust_no"], "C000025");
    assert!(first["phone"].as_str().unwrap().starts_with("08"));
    assert!(first["city"].is_string() && first["address"].as_str().unwrap().starts_with("Jl. "));
    let products = a.get(PRODUCTS).await.body;
    assert_eq!(products["total"], 4);
    let units: Vec<&str> = products["data"][0]["product_units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["PCS", "BOX"]);
    assert_eq!(products["data"][0]["product_units"][0]["ratio"], 1);
    assert_eq!(a.get(TEAMS).await.body["total"], 2);
    // Seeded records are valid input for the other endpoints.
    let customer = first["id"].as_u64().unwrap();
    let product = products["data"][0]["id"].as_u64().unwrap();
    let r = a
        .post(ORDERS, json!({"date": "2024-05-01", "customer_id": customer, "ordered_products": [{"product_id": product, "qty": 1, "unit": "BOX"}]}))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(a.stats().await["duplicate_keys"]["ext_cust_no"], json!({}));
}

// ---------------------------------------------------------------- options

#[tokio::test]
async fn bad_options_are_refused_before_binding() {
    for (opts, option) in [
        (
            SandboxOptions {
                fail_rate: 1.5,
                ..Default::default()
            },
            "fail_rate",
        ),
        (
            SandboxOptions {
                stall_rate: f64::NAN,
                ..Default::default()
            },
            "stall_rate",
        ),
        (
            SandboxOptions {
                drop_after_commit: -0.1,
                ..Default::default()
            },
            "drop_after_commit",
        ),
        (
            SandboxOptions {
                teams: 0,
                ..Default::default()
            },
            "teams",
        ),
        (
            SandboxOptions {
                rate_limit: Some(0),
                ..Default::default()
            },
            "rate_limit",
        ),
        (
            SandboxOptions {
                token_ttl: Some(0),
                ..Default::default()
            },
            "token_ttl",
        ),
    ] {
        match Sandbox::start(opts).await {
            Err(SandboxError::InvalidOption { option: o, .. }) => assert_eq!(o, option),
            other => panic!("expected InvalidOption({option}), got {other:?}"),
        }
    }
    let first = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let taken = SandboxOptions {
        port: first.addr().port(),
        ..Default::default()
    };
    let err = Sandbox::start(taken).await.unwrap_err();
    assert!(matches!(err, SandboxError::Bind { .. }), "{err}");
    assert!(
        err.to_string().starts_with("cannot listen on 127.0.0.1:"),
        "{err}"
    );
    first.shutdown().await;
}

// ------------------------------------------------------------------ thread

/// Synchronous use, as a CLI integration test would: no runtime in the test.
#[test]
fn spawn_in_thread_serves_synchronous_callers() {
    let sandbox = spawn_in_thread(SandboxOptions::default()).unwrap();
    let base = sandbox.base_url();
    assert!(base.starts_with("http://127.0.0.1:"));
    let mut stream = TcpStream::connect(sandbox.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET /extapi/v1.0/token HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ZGVtbzpkZW1v\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"token\""));
    assert_eq!(
        sandbox.stats()["requests"]["GET /extapi/v1.0/token"]["200"],
        1
    );
    let addr = sandbox.addr();
    sandbox.shutdown();
    assert!(TcpStream::connect(addr).is_err(), "no longer listening");

    // Drop shuts down too.
    let dropped = spawn_in_thread(SandboxOptions::default()).unwrap();
    let addr = dropped.addr();
    drop(dropped);
    assert!(TcpStream::connect(addr).is_err());

    // Start errors come back to the caller.
    let err = spawn_in_thread(SandboxOptions {
        teams: 0,
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, SandboxError::InvalidOption { .. }));
}

/// A client that talks to the loopback sandbox directly, even when the
/// environment names an HTTP proxy.
fn http_client() -> Client {
    {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client::builder()
    }
    .no_proxy()
    .build()
    .expect("http client")
}
