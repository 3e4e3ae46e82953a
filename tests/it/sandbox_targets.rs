//! Contract tests of the Trackfinity and Fatura Entegratör sandboxes: every
//! endpoint and every error of `shared/api/trackfinity.md` and
//! `shared/api/fatura-entegrator.md`, through a plain HTTP client against a
//! sandbox on an ephemeral port, plus their faults, stats and state file.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};
use sheetload::sandbox::{Sandbox, SandboxError, SandboxHandle, SandboxOptions, TargetOptions};

const SET: &str = "/api/customer/set_customer_details";
const LOCK: &str = "/api/customer/lock";
const UNLOCK: &str = "/api/customer/unlock";
const FORGET: &str = "/api/customer/forget";
const PING: &str = "/api/service/ping";
const FA: &str = "/api/customers";

// ------------------------------------------------------------------ helpers

/// An answer: status, headers, the raw text, and the body as JSON (a JSON
/// string when the body is not JSON, `null` when empty).
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: HeaderMap,
    text: String,
    body: Value,
}

impl Reply {
    fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The Laravel 422 field errors, as `field -> [messages]`.
    fn errors(&self) -> &serde_json::Map<String, Value> {
        assert_eq!(self.status, 422, "expected a 422, got {self:?}");
        assert!(self.body["message"].is_string(), "no message in {self:?}");
        self.body["errors"].as_object().expect("errors object")
    }

    /// The messages for one field.
    fn error(&self, field: &str) -> Vec<String> {
        self.errors()
            .get(field)
            .and_then(Value::as_array)
            .map(|m| {
                m.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
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
        serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
    };
    Reply {
        status,
        headers,
        text,
        body,
    }
}

fn http_client() -> Client {
    {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client::builder()
    }
    .no_proxy()
    .timeout(Duration::from_secs(10))
    .build()
    .expect("http client")
}

/// A client of one sandbox, speaking both new targets.
struct Api {
    sandbox: SandboxHandle,
    http: Client,
}

impl Api {
    async fn start(opts: SandboxOptions, targets: TargetOptions) -> Api {
        let sandbox = Sandbox::start_with(opts, targets)
            .await
            .expect("sandbox starts");
        Api {
            sandbox,
            http: http_client(),
        }
    }

    async fn default() -> Api {
        Api::start(SandboxOptions::default(), TargetOptions::default()).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    // ------------------------------------------------------- Trackfinity

    /// A Trackfinity request with the default credentials.
    fn tf(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("api-key", "tf-demo-key")
            .header("api-username", "admin")
    }

    /// PATCH with a form body, as the vendor's examples send.
    async fn tf_form(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        send(self.tf(Method::PATCH, path).form(form)).await
    }

    /// The stored customer, through the test hook.
    async fn tf_customer(&self, id: u64) -> Value {
        let r = send(
            self.http
                .get(self.url(&format!("/_sandbox/trackfinity/customers/{id}"))),
        )
        .await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body
    }

    // ---------------------------------------------------------- Fatura

    fn fa(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth("fe-demo-key")
            .header("accept", "application/json")
    }

    async fn fa_get(&self, path: &str) -> Reply {
        send(self.fa(Method::GET, path)).await
    }

    async fn fa_post(&self, body: Value) -> Reply {
        send(self.fa(Method::POST, FA).json(&body)).await
    }

    async fn fa_patch(&self, id: u64, body: Value) -> Reply {
        send(self.fa(Method::PATCH, &format!("{FA}/{id}")).json(&body)).await
    }

    async fn fa_delete(&self, path: &str) -> Reply {
        send(self.fa(Method::DELETE, path)).await
    }

    /// Creates a customer and returns its id.
    async fn fa_create(&self, body: Value) -> u64 {
        let r = self.fa_post(body).await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["data"]["id"].as_u64().expect("data.id")
    }

    async fn stats(&self) -> Value {
        send(self.http.get(self.url("/_sandbox/stats"))).await.body
    }
}

/// A valid company body, with the Turkish letters a client must not mangle.
fn company() -> Value {
    json!({
        "type": "company",
        "tax_number": "9876543217",
        "tax_office": "Şişli",
        "title": "ÖRNEK GIDA SAN. VE TİC. A.Ş.",
        "country": "TÜRKİYE",
        "city": "İSTANBUL",
        "district": "Şişli",
        "address": "Büyükdere Cd. No:1 Kat:2",
        "postcode": "34360",
        "phone": "5321234567",
        "email": "muhasebe@ornek.com.tr",
        "iban": "TR330006100519786457841326"
    })
}

/// A valid person body.
fn person(tax_number: &str) -> Value {
    json!({
        "type": "person",
        "tax_number": tax_number,
        "name": "Ayşe Gül",
        "surname": "YILDIRIM",
        "country": "TÜRKİYE",
        "city": "İzmir",
        "district": "Karşıyaka",
        "address": "Cemal Gürsel Cd. 5"
    })
}

/// `body` with `changes` merged in (a `null` removes the key).
fn with(mut body: Value, changes: Value) -> Value {
    if let (Some(body), Some(changes)) = (body.as_object_mut(), changes.as_object()) {
        for (k, v) in changes {
            if v.is_null() {
                body.remove(k);
            } else {
                body.insert(k.clone(), v.clone());
            }
        }
    }
    body
}

fn count(stats: &Value, route: &str, outcome: &str) -> u64 {
    stats["requests"][route][outcome].as_u64().unwrap_or(0)
}

// -------------------------------------------------------------- Trackfinity

#[tokio::test]
async fn trackfinity_auth_needs_both_headers() {
    let api = Api::start(
        SandboxOptions::default(),
        TargetOptions {
            trackfinity_api_key: "44b5498dbcb481a0d00b404c0169af62".into(),
            trackfinity_username: "tf_admin".into(),
            ..TargetOptions::default()
        },
    )
    .await;
    let ping = |key: Option<&str>, user: Option<&str>| {
        let mut r = api.http.get(api.url(PING));
        if let Some(key) = key {
            r = r.header("api-key", key);
        }
        if let Some(user) = user {
            r = r.header("api-username", user);
        }
        send(r)
    };
    let key = "44b5498dbcb481a0d00b404c0169af62";
    let ok = ping(Some(key), Some("tf_admin")).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.body, json!({"status": "ok"}));
    for (k, u) in [
        (None, Some("tf_admin")),
        (Some(key), None),
        (Some("wrong"), Some("tf_admin")),
        (Some(key), Some("admin")),
        (None, None),
    ] {
        let r = ping(k, u).await;
        assert_eq!(r.status, 403, "{k:?} {u:?}: {r:?}");
        assert!(r.content_type().starts_with("text/plain"), "{r:?}");
        assert!(
            r.text.contains("allow-list"),
            "says why it may be the IP: {r:?}"
        );
    }
    // Header names are case-insensitive.
    let r = send(
        api.http
            .get(api.url(PING))
            .header("API-KEY", key)
            .header("Api-Username", "tf_admin"),
    )
    .await;
    assert_eq!(r.status, 200);
    // Write calls check credentials before anything else.
    let r = send(
        api.http
            .patch(api.url(SET))
            .header("api-key", "nope")
            .header("api-username", "tf_admin")
            .form(&[("customer_id", "1"), ("firstname", "X")]),
    )
    .await;
    assert_eq!(r.status, 403);
    let stats = api.stats().await;
    assert_eq!(count(&stats, "GET /api/service/ping", "403"), 5);
    assert_eq!(count(&stats, "GET /api/service/ping", "200"), 2);
    assert_eq!(
        count(&stats, "PATCH /api/customer/set_customer_details", "403"),
        1
    );
}

#[tokio::test]
async fn trackfinity_set_customer_details_takes_a_form() {
    let api = Api::default().await;
    let before = api.tf_customer(1).await;
    assert_eq!(before["customer_id"], 1);
    assert_eq!(before["subscription_id"], "SUB-000001");
    assert_eq!(before["locked"], false);
    assert_eq!(before["password_set"], true);
    assert_eq!(before["password_changes"], 0);
    assert!(before.get("password").is_none() && before.get("password_hash").is_none());

    // The vendor's example, as form fields.
    let r = api
        .tf_form(
            SET,
            &[
                ("customer_id", "1"),
                ("firstname", "Test"),
                ("zip", "66666"),
                ("email", "test@testmail.com"),
                ("country", "US"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, json!(true));
    assert_eq!(r.text, "true");
    assert!(r.content_type().starts_with("application/json"));
    let after = api.tf_customer(1).await;
    assert_eq!(after["firstname"], "Test");
    assert_eq!(after["zip"], "66666");
    assert_eq!(after["email"], "test@testmail.com");
    assert_eq!(after["lastname"], before["lastname"], "unsent fields stay");
    assert_eq!(after["city"], before["city"]);

    // By subscription id; UTF-8 survives the form encoding; an empty value is
    // not sent.
    let r = api
        .tf_form(
            SET,
            &[
                ("subscription_id", "SUB-000002"),
                ("city", "İstanbul Şişli"),
                ("lastname", ""),
                ("custom3", "a+b&c=d"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let c2 = api.tf_customer(2).await;
    assert_eq!(c2["city"], "İstanbul Şişli");
    assert_eq!(c2["custom3"], "a+b&c=d");
    assert!(!c2["lastname"].as_str().unwrap().is_empty());

    // JSON is refused, whether announced or not.
    let r = send(
        api.tf(Method::PATCH, SET)
            .json(&json!({"customer_id": 1, "firstname": "Json"})),
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("x-www-form-urlencoded"), "{r:?}");
    let r = send(
        api.tf(Method::PATCH, SET)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(r#"{"customer_id": 1, "firstname": "Json"}"#),
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
    let r = send(
        api.tf(Method::PATCH, SET)
            .header("content-type", "text/plain")
            .body("customer_id=1&firstname=X"),
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(
        api.tf_customer(1).await["firstname"],
        "Test",
        "nothing applied"
    );

    // Lookup errors: none (400), unknown (404), not a number (404).
    let r = api.tf_form(SET, &[("firstname", "X")]).await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("customer_id or subscription_id"), "{r:?}");
    for form in [
        [("customer_id", "999"), ("firstname", "X")],
        [("customer_id", "abc"), ("firstname", "X")],
        [("subscription_id", "SUB-999999"), ("firstname", "X")],
    ] {
        let r = api.tf_form(SET, &form).await;
        assert_eq!(r.status, 404, "{form:?}: {r:?}");
        assert!(r.content_type().starts_with("text/plain"));
    }
    // Nothing to set (400); an unknown parameter (400, named).
    for form in [
        &[("customer_id", "1")][..],
        &[("customer_id", "1"), ("firstname", "")][..],
    ] {
        let r = api.tf_form(SET, form).await;
        assert_eq!(r.status, 400, "{form:?}: {r:?}");
        assert!(r.text.contains("at least one field"), "{r:?}");
    }
    let r = api
        .tf_form(SET, &[("customer_id", "1"), ("phone", "555")])
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("phone"), "{r:?}");

    // Wrong method: 405, counted.
    let r = send(
        api.http
            .post(api.url(SET))
            .header("api-key", "tf-demo-key")
            .header("api-username", "admin")
            .form(&[("customer_id", "1"), ("firstname", "X")]),
    )
    .await;
    assert_eq!(r.status, 405);
    let stats = api.stats().await;
    assert_eq!(
        stats["requests"]["PATCH /api/customer/set_customer_details"],
        json!({"200": 2, "400": 7, "404": 3})
    );
    assert_eq!(
        count(&stats, "POST /api/customer/set_customer_details", "405"),
        1
    );
}

#[tokio::test]
async fn trackfinity_remove_clears_fields_but_never_the_password() {
    let api = Api::default().await;
    let before = api.tf_customer(3).await;
    let r = api
        .tf_form(
            SET,
            &[
                ("customer_id", "3"),
                ("address1", "REMOVE"),
                ("custom1", "REMOVE"),
                ("state", "remove"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let c = api.tf_customer(3).await;
    assert_eq!(c["address1"], "");
    assert_eq!(c["custom1"], "");
    assert_eq!(c["state"], "remove", "only the exact literal clears");
    assert_eq!(c["firstname"], before["firstname"]);

    // REMOVE on the password is refused, and nothing else in the call applies.
    let r = api
        .tf_form(
            SET,
            &[("customer_id", "3"), ("password", "REMOVE"), ("city", "X")],
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("password"), "{r:?}");
    let c = api.tf_customer(3).await;
    assert_eq!(c["password_set"], true);
    assert_eq!(c["password_changes"], 0);
    assert_eq!(c["city"], before["city"]);

    // A new password is stored (as a hash: never shown) and counted.
    let secret = "N3w-Pa55word!";
    for _ in 0..2 {
        let r = api
            .tf_form(SET, &[("customer_id", "3"), ("password", secret)])
            .await;
        assert_eq!(r.status, 200, "{r:?}");
    }
    let c = api.tf_customer(3).await;
    assert_eq!(c["password_changes"], 2);
    assert_eq!(c["password_set"], true);
    assert!(!c.to_string().contains(secret));
}

#[tokio::test]
async fn trackfinity_lock_unlock_and_forget() {
    let api = Api::default().await;
    let seeded = api.tf_customer(5).await;
    let order = seeded["orderids"][0]
        .as_str()
        .expect("an order id")
        .to_owned();

    // Lock by order id; a locked customer refuses edits.
    let r = api.tf_form(LOCK, &[("orderid", &order)]).await;
    assert_eq!((r.status, r.body.clone()), (200, json!(true)), "{r:?}");
    assert_eq!(api.tf_customer(5).await["locked"], true);
    let r = api.tf_form(LOCK, &[("customer_id", "5")]).await;
    assert_eq!(r.status, 200, "locking twice is fine");
    let r = api
        .tf_form(SET, &[("customer_id", "5"), ("firstname", "Nope")])
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("customer is locked"), "{r:?}");
    assert_eq!(api.tf_customer(5).await["firstname"], seeded["firstname"]);

    // Unlock by subscription id; edits work again.
    let r = api
        .tf_form(UNLOCK, &[("subscription_id", "SUB-000005")])
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = api
        .tf_form(SET, &[("customer_id", "5"), ("firstname", "Yes")])
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(api.tf_customer(5).await["locked"], false);

    // Lookup errors.
    let r = api.tf_form(LOCK, &[]).await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("orderid"), "{r:?}");
    let r = api.tf_form(UNLOCK, &[("orderid", "ORD-0")]).await;
    assert_eq!(r.status, 404, "{r:?}");
    let r = api
        .tf_form(LOCK, &[("customer_id", "5"), ("firstname", "X")])
        .await;
    assert_eq!(r.status, 400, "lock takes no fields: {r:?}");

    // Forget keeps only what `keep` names, works on a locked customer, and
    // leaves the lookups alone.
    let r = api.tf_form(LOCK, &[("customer_id", "6")]).await;
    assert_eq!(r.status, 200);
    let six = api.tf_customer(6).await;
    let r = api
        .tf_form(FORGET, &[("customer_id", "6"), ("keep", "email, country")])
        .await;
    assert_eq!((r.status, r.body.clone()), (200, json!(true)), "{r:?}");
    let c = api.tf_customer(6).await;
    assert_eq!(c["email"], six["email"]);
    assert_eq!(c["country"], six["country"]);
    for field in [
        "firstname",
        "lastname",
        "username",
        "address1",
        "address2",
        "city",
        "state",
        "zip",
        "custom1",
        "custom2",
        "custom3",
        "custom4",
        "custom5",
    ] {
        assert_eq!(c[field], "", "{field} forgotten: {c}");
    }
    assert_eq!(c["password_set"], false);
    assert_eq!(c["subscription_id"], "SUB-000006");
    assert_eq!(c["orderids"], six["orderids"]);
    assert_eq!(c["locked"], true);
    // Without keep, everything goes; keep may name only real fields.
    let r = api
        .tf_form(FORGET, &[("subscription_id", "SUB-000007")])
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let c = api.tf_customer(7).await;
    assert_eq!(
        (c["email"].clone(), c["country"].clone()),
        (json!(""), json!(""))
    );
    let r = api
        .tf_form(FORGET, &[("customer_id", "8"), ("keep", "email,phone")])
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("phone"), "{r:?}");
    let r = api.tf_form(FORGET, &[("keep", "email")]).await;
    assert_eq!(r.status, 400, "{r:?}");
    let r = api.tf_form(FORGET, &[("customer_id", "4040")]).await;
    assert_eq!(r.status, 404, "{r:?}");
    assert_ne!(
        api.tf_customer(8).await["firstname"],
        "",
        "nothing forgotten"
    );

    let stats = api.stats().await;
    assert_eq!(
        stats["trackfinity"]["records"],
        json!({"customers": 20, "locked": 1})
    );
    assert_eq!(count(&stats, "PATCH /api/customer/forget", "200"), 2);
    assert_eq!(count(&stats, "PATCH /api/customer/lock", "200"), 3);
    assert_eq!(count(&stats, "PATCH /api/customer/unlock", "404"), 1);
}

#[tokio::test]
async fn trackfinity_seed_is_sized_deterministic_and_reset() {
    let targets = TargetOptions {
        trackfinity_customers: 3,
        ..TargetOptions::default()
    };
    let opts = SandboxOptions {
        seed: 42,
        ..SandboxOptions::default()
    };
    let a = Api::start(opts.clone(), targets.clone()).await;
    let b = Api::start(opts.clone(), targets.clone()).await;
    let c = Api::start(SandboxOptions { seed: 43, ..opts }, targets).await;
    let a3 = a.tf_customer(3).await;
    assert_eq!(a3, b.tf_customer(3).await, "same seed, same customers");
    let mut others = Vec::new();
    for id in 1..=3 {
        others.push((a.tf_customer(id).await, c.tf_customer(id).await));
    }
    assert!(
        others.iter().any(|(x, y)| x != y),
        "another seed, other customers"
    );
    assert_eq!(a3["subscription_id"], "SUB-000003");
    assert!(a3["email"].as_str().unwrap().contains('@'));
    assert!(!a3["address1"].as_str().unwrap().is_empty());
    let r = send(a.http.get(a.url("/_sandbox/trackfinity/customers/4"))).await;
    assert_eq!(r.status, 404);
    let r = a.tf_form(SET, &[("customer_id", "4"), ("city", "X")]).await;
    assert_eq!(r.status, 404);

    // Reset reseeds and zeroes the counters.
    let r = a
        .tf_form(SET, &[("customer_id", "3"), ("city", "Changed")])
        .await;
    assert_eq!(r.status, 200);
    let r = send(a.http.post(a.url("/_sandbox/reset"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(a.tf_customer(3).await, a3);
    let stats = a.stats().await;
    assert_eq!(
        stats["requests"],
        json!({}),
        "the hook is not counted either"
    );
    assert_eq!(stats["trackfinity"]["records"]["customers"], 3);
}

// ------------------------------------------------------------------ Fatura

#[tokio::test]
async fn fatura_auth_is_a_bearer_key() {
    let api = Api::default().await;
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("fe-demo-key"),
        Some("Basic fe-demo-key"),
    ] {
        let mut r = api.http.get(api.url(FA));
        if let Some(auth) = auth {
            r = r.header("authorization", auth);
        }
        let r = send(r).await;
        assert_eq!(r.status, 401, "{auth:?}: {r:?}");
        assert_eq!(r.body, json!({"message": "Unauthenticated."}));
    }
    // The scheme is case-insensitive and Accept is not required.
    let r = send(
        api.http
            .get(api.url(FA))
            .header("authorization", "bearer fe-demo-key"),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    // Auth comes before everything else, even on a bad body or unknown id.
    let r = send(api.http.post(api.url(FA)).body("{not json")).await;
    assert_eq!(r.status, 401);
    let r = send(api.http.delete(api.url(&format!("{FA}/999")))).await;
    assert_eq!(r.status, 401);

    let custom = Api::start(
        SandboxOptions::default(),
        TargetOptions {
            fatura_api_key: "live-like-key".into(),
            ..TargetOptions::default()
        },
    )
    .await;
    assert_eq!(
        custom.fa_get(FA).await.status,
        401,
        "the default key is refused"
    );
    let r = send(custom.http.get(custom.url(FA)).bearer_auth("live-like-key")).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn fatura_create_and_get_keep_turkish_text_in_an_envelope() {
    let api = Api::default().await;
    let r = api.fa_post(company()).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["success"], true);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    let data = &r.body["data"];
    assert_eq!(data["id"], 1);
    for (k, v) in company().as_object().unwrap() {
        assert_eq!(&data[k], v, "{k} stored byte-exact");
    }
    for k in ["name", "surname"] {
        assert_eq!(data[k], Value::Null, "every column is returned");
    }
    assert!(data["created_at"].as_str().unwrap().ends_with('Z'));

    let got = api.fa_get(&format!("{FA}/1")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["success"], true);
    assert_eq!(got.body["data"], *data);
    assert!(
        got.text.contains("\"city\":\"İSTANBUL\""),
        "raw UTF-8: {}",
        got.text
    );
    assert!(got.text.contains("\"district\":\"Şişli\""));

    // Laravel trims strings and reads "" as null; nothing else is touched.
    let r = api
        .fa_post(with(
            person("34567890170"),
            json!({"name": "  ılgın ", "email": "", "city": "\u{feff}iğdır"}),
        ))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["data"]["name"], "ılgın");
    assert_eq!(r.body["data"]["city"], "iğdır", "case never changed");
    assert_eq!(r.body["data"]["email"], Value::Null);
    assert_eq!(r.body["data"]["id"], 2);

    // Either length for either type; the anonymous consumer may repeat.
    api.fa_create(with(company(), json!({"tax_number": "17291716060"})))
        .await;
    api.fa_create(with(person("4540536920"), json!({}))).await;
    for _ in 0..2 {
        api.fa_create(person("11111111111")).await;
    }
    let stats = api.stats().await;
    assert_eq!(stats["fatura"]["records"], json!({"customers": 6}));
    assert_eq!(
        stats["fatura"]["duplicate_keys"],
        json!({"tax_number": {"11111111111": 2}})
    );
    assert_eq!(count(&stats, "POST /api/customers", "201"), 6);
    assert_eq!(count(&stats, "GET /api/customers/{id}", "200"), 1);
    // SalesMania's part of the stats keeps its shape.
    assert_eq!(
        stats["records"],
        json!({"customers": 0, "products": 0, "visits": 0, "orders": 0, "teams": 6})
    );
}

#[tokio::test]
async fn fatura_answers_422_in_turkish_for_every_rule() {
    let api = Api::default().await;
    // Everything missing: every always-required field at once.
    let r = api.fa_post(json!({})).await;
    let errors = r.errors();
    let expected = [
        ("type", "Müşteri tipi alanı gereklidir."),
        ("tax_number", "Vergi numarası alanı gereklidir."),
        ("country", "Ülke alanı gereklidir."),
        ("address", "Adres alanı gereklidir."),
        ("city", "İl alanı gereklidir."),
        ("district", "İlçe alanı gereklidir."),
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:?}");
    for (field, message) in expected {
        assert_eq!(r.error(field), [message], "{field}");
    }
    let message = r.body["message"].as_str().unwrap();
    assert!(message.ends_with("(ve 5 hata daha)"), "{message}");
    // An empty body is {} too.
    let r = send(api.fa(Method::POST, FA)).await;
    assert_eq!(r.errors().len(), 6);

    // One broken field at a time; the message is Turkish and names the rule.
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"type": "firma"}), "type", "geçersiz"),
        (
            json!({"tax_number": "987654321"}),
            "tax_number",
            "10 haneli VKN veya 11 haneli TCKN",
        ),
        (
            json!({"tax_number": "98765432A7"}),
            "tax_number",
            "10 haneli VKN",
        ),
        (
            json!({"tax_number": "9876543210"}),
            "tax_number",
            "Vergi numarası geçersiz.",
        ),
        (
            json!({"tax_number": "34567890171"}),
            "tax_number",
            "Vergi numarası geçersiz.",
        ),
        (
            json!({"tax_number": "04567890170"}),
            "tax_number",
            "Vergi numarası geçersiz.",
        ),
        (
            json!({"tax_number": 9876543217_u64}),
            "tax_number",
            "metin olmalıdır",
        ),
        (
            json!({"title": null}),
            "title",
            "Ünvan alanı, müşteri tipi company olduğunda gereklidir.",
        ),
        (
            json!({"tax_office": ""}),
            "tax_office",
            "Vergi dairesi alanı, müşteri tipi company",
        ),
        (json!({"phone": "05321234567"}), "phone", "10 haneli"),
        (json!({"phone": "532 123 45 67"}), "phone", "10 haneli"),
        (json!({"phone": "0532123456"}), "phone", "başında 0"),
        (
            json!({"iban": "TR850001000000000012345687"}),
            "iban",
            "IBAN geçersiz.",
        ),
        (
            json!({"iban": "TR8500010000000000123456"}),
            "iban",
            "IBAN geçersiz.",
        ),
        (
            json!({"email": "muhasebe.ornek.com.tr"}),
            "email",
            "E-posta geçerli bir e-posta adresi olmalıdır.",
        ),
        (
            json!({"country": "   "}),
            "country",
            "Ülke alanı gereklidir.",
        ),
        (
            json!({"address": "x".repeat(501)}),
            "address",
            "en fazla 500 karakter",
        ),
    ];
    for (change, field, needle) in cases {
        let r = api.fa_post(with(company(), change.clone())).await;
        assert_eq!(r.errors().len(), 1, "{change}: {r:?}");
        let messages = r.error(field);
        assert!(
            messages.len() == 1 && messages[0].contains(needle),
            "{change}: {messages:?}"
        );
        assert_eq!(r.body["message"], messages[0], "one error, no suffix");
    }
    // A person needs a name and a surname instead.
    let r = api
        .fa_post(with(
            person("34567890170"),
            json!({"name": null, "surname": ""}),
        ))
        .await;
    assert_eq!(
        r.error("name"),
        ["Ad alanı, müşteri tipi person olduğunda gereklidir."]
    );
    assert_eq!(
        r.error("surname"),
        ["Soyad alanı, müşteri tipi person olduğunda gereklidir."]
    );
    assert_eq!(
        r.body["message"],
        "Ad alanı, müşteri tipi person olduğunda gereklidir. (ve 1 hata daha)"
    );

    // A tax number is unique in the account.
    api.fa_create(company()).await;
    let r = api
        .fa_post(with(company(), json!({"title": "BAŞKA A.Ş."})))
        .await;
    assert_eq!(
        r.error("tax_number"),
        ["Vergi numarası daha önceden kayıt edilmiş."]
    );
    // Broken JSON is a 400; JSON that is not an object a 422.
    let r = send(
        api.fa(Method::POST, FA)
            .header("content-type", "application/json")
            .body("{\"type\": "),
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body["message"].is_string());
    let r = send(api.fa(Method::POST, FA).json(&json!([company()]))).await;
    assert_eq!(r.status, 422, "{r:?}");

    let stats = api.stats().await;
    assert_eq!(
        stats["fatura"]["records"]["customers"], 1,
        "nothing invalid stored"
    );
    assert_eq!(count(&stats, "POST /api/customers", "422"), 22);
}

#[tokio::test]
async fn fatura_patch_delete_and_unknown_ids() {
    let api = Api::default().await;
    let id = api.fa_create(company()).await;
    let other = api.fa_create(person("34567890170")).await;
    let created = api.fa_get(&format!("{FA}/{id}")).await.body["data"].clone();

    // Partial: only what is sent changes; "" and null change nothing (the
    // vendor's own example sends "tax_number": "").
    let r = api
        .fa_patch(
            id,
            json!({"district": "Beşiktaş", "phone": "5559876543", "tax_number": "", "tax_office": null, "unknown": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["success"], true);
    let data = &r.body["data"];
    assert_eq!(data["district"], "Beşiktaş");
    assert_eq!(data["phone"], "5559876543");
    assert_eq!(data["tax_number"], "9876543217");
    assert_eq!(data["tax_office"], "Şişli");
    assert_eq!(data["city"], "İSTANBUL");
    assert_eq!(data["created_at"], created["created_at"]);
    assert!(data.get("unknown").is_none());
    assert_eq!(api.fa_get(&format!("{FA}/{id}")).await.body["data"], *data);
    // An empty PATCH is a successful no-op.
    let r = api.fa_patch(id, json!({})).await;
    assert_eq!((r.status, &r.body["data"]), (200, data));

    // Rules hold on PATCH too, checked on the record as it would be stored.
    let r = api.fa_patch(other, json!({"type": "company"})).await;
    assert!(
        r.error("title")[0].contains("company olduğunda gereklidir"),
        "{r:?}"
    );
    assert!(!r.error("tax_office").is_empty());
    let r = api
        .fa_patch(other, json!({"type": "company", "title": "AYŞE GÜL YILDIRIM ŞAHIS ŞTİ.", "tax_office": "Karşıyaka"}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = api
        .fa_patch(other, json!({"tax_number": "9876543217"}))
        .await;
    assert_eq!(
        r.error("tax_number"),
        ["Vergi numarası daha önceden kayıt edilmiş."]
    );
    let r = api.fa_patch(id, json!({"tax_number": "9876543217"})).await;
    assert_eq!(r.status, 200, "its own number is not a duplicate: {r:?}");
    let r = api
        .fa_patch(id, json!({"iban": "TR00", "email": "x"}))
        .await;
    assert_eq!(r.errors().len(), 2);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .ends_with("(ve 1 hata daha)")
    );
    // Changing the tax number frees the old one.
    let r = api.fa_patch(id, json!({"tax_number": "4540536920"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = api
        .fa_patch(other, json!({"tax_number": "9876543217"}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");

    // Unknown and malformed ids are 404 on every verb; 404 before a bad body.
    for path in [format!("{FA}/999"), format!("{FA}/abc"), format!("{FA}/-1")] {
        assert_eq!(api.fa_get(&path).await.status, 404, "{path}");
        assert_eq!(api.fa_delete(&path).await.status, 404, "{path}");
        let r = send(api.fa(Method::PATCH, &path).body("{broken")).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.body["message"], "Müşteri bulunamadı.");
    }
    let r = send(
        api.fa(Method::PATCH, &format!("{FA}/{id}"))
            .header("content-type", "application/json")
            .body("{broken"),
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");

    // Delete: the envelope with null data; then it is gone.
    let r = api.fa_delete(&format!("{FA}/{id}")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["success"], true);
    assert_eq!(r.body["data"], Value::Null);
    assert_eq!(api.fa_get(&format!("{FA}/{id}")).await.status, 404);
    assert_eq!(api.fa_delete(&format!("{FA}/{id}")).await.status, 404);
    // Ids are not reused; the number is free again.
    let again = api
        .fa_create(with(company(), json!({"tax_number": "4540536920"})))
        .await;
    assert_eq!(again, other + 1);

    let stats = api.stats().await;
    assert_eq!(count(&stats, "DELETE /api/customers/{id}", "200"), 1);
    assert_eq!(count(&stats, "DELETE /api/customers/{id}", "404"), 4);
    assert_eq!(count(&stats, "PATCH /api/customers/{id}", "404"), 3);
    assert_eq!(stats["fatura"]["records"]["customers"], 2);
}

#[tokio::test]
async fn fatura_list_is_a_laravel_paginator() {
    let api = Api::start(
        SandboxOptions::default(),
        TargetOptions {
            fatura_customers: 23,
            ..TargetOptions::default()
        },
    )
    .await;
    let r = api.fa_get(FA).await;
    assert_eq!(r.status, 200, "{r:?}");
    let page = &r.body;
    assert!(page.get("success").is_none(), "not enveloped: {page}");
    assert_eq!(page["current_page"], 1);
    assert_eq!(page["per_page"], 15);
    assert_eq!(page["total"], 23);
    assert_eq!(page["last_page"], 2);
    assert_eq!(
        (page["from"].clone(), page["to"].clone()),
        (json!(1), json!(15))
    );
    assert_eq!(page["data"].as_array().unwrap().len(), 15);
    assert_eq!(page["prev_page_url"], Value::Null);
    let base = api.sandbox.base_url();
    assert_eq!(page["path"], format!("{base}{FA}"));
    assert_eq!(page["next_page_url"], format!("{base}{FA}?page=2"));
    assert_eq!(page["first_page_url"], format!("{base}{FA}?page=1"));
    assert_eq!(page["last_page_url"], format!("{base}{FA}?page=2"));
    let ids: Vec<u64> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (1..=15).collect::<Vec<_>>(), "id order");

    // Seeded customers are valid and Turkish: re-creating one is refused only
    // as a duplicate.
    let first = page["data"][0].clone();
    assert_eq!(first["type"], "company");
    assert_eq!(first["country"], "TÜRKİYE");
    let mut again = first.clone();
    for k in ["id", "created_at", "updated_at"] {
        again.as_object_mut().unwrap().remove(k);
    }
    let r = api.fa_post(again).await;
    assert_eq!(
        r.errors().keys().collect::<Vec<_>>(),
        ["tax_number"],
        "{r:?}"
    );
    assert_eq!(page["data"][1]["type"], "person");
    assert!(page["data"][1]["name"].is_string());

    let r = api.fa_get(&format!("{FA}?limit=10&page=3")).await;
    let p = &r.body;
    assert_eq!(
        (p["current_page"].clone(), p["per_page"].clone()),
        (json!(3), json!(10))
    );
    assert_eq!((p["from"].clone(), p["to"].clone()), (json!(21), json!(23)));
    assert_eq!(p["last_page"], 3);
    assert_eq!(p["next_page_url"], Value::Null);
    assert_eq!(p["prev_page_url"], format!("{base}{FA}?limit=10&page=2"));
    // Past the end: empty, from/to null. Oversized limits are clamped to 100;
    // junk falls back to the defaults.
    let p = api.fa_get(&format!("{FA}?page=9")).await.body;
    assert_eq!(p["data"], json!([]));
    assert_eq!(
        (p["from"].clone(), p["to"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(p["total"], 23);
    let p = api.fa_get(&format!("{FA}?limit=500")).await.body;
    assert_eq!(
        (p["per_page"].clone(), p["last_page"].clone()),
        (json!(100), json!(1))
    );
    assert_eq!(p["data"].as_array().unwrap().len(), 23);
    let p = api.fa_get(&format!("{FA}?limit=abc&page=0")).await.body;
    assert_eq!(
        (p["per_page"].clone(), p["current_page"].clone()),
        (json!(15), json!(1))
    );
    // The exact tax_number filter, for reconciling an unknown create outcome.
    let tax = first["tax_number"].as_str().unwrap();
    let p = api.fa_get(&format!("{FA}?tax_number={tax}")).await.body;
    assert_eq!(p["total"], 1);
    assert_eq!(p["data"][0]["id"], 1);
    let p = api
        .fa_get(&format!("{FA}?tax_number=9876543217"))
        .await
        .body;
    assert_eq!(
        (p["total"].clone(), p["last_page"].clone()),
        (json!(0), json!(1))
    );

    // An empty account lists as an empty first page.
    let empty = Api::default().await;
    let p = empty.fa_get(FA).await.body;
    assert_eq!(
        (
            p["total"].clone(),
            p["data"].clone(),
            p["last_page"].clone()
        ),
        (json!(0), json!([]), json!(1))
    );
}

// ------------------------------------------------------------------ faults

#[tokio::test]
async fn trackfinity_faults_are_answered_and_counted() {
    // Every data call fails without being applied; ping is spared.
    let api = Api::start(
        SandboxOptions {
            fail_rate: 1.0,
            ..SandboxOptions::default()
        },
        TargetOptions::default(),
    )
    .await;
    let before = api.tf_customer(1).await;
    for _ in 0..3 {
        let r = api
            .tf_form(SET, &[("customer_id", "1"), ("city", "Nowhere")])
            .await;
        assert!([500, 502, 503].contains(&r.status), "{r:?}");
    }
    assert_eq!(api.tf_customer(1).await, before, "nothing applied");
    assert_eq!(send(api.tf(Method::GET, PING)).await.status, 200);
    let stats = api.stats().await;
    let route = &stats["requests"]["PATCH /api/customer/set_customer_details"];
    let failed: u64 = ["500", "502", "503"]
        .iter()
        .filter_map(|s| route[*s].as_u64())
        .sum();
    assert_eq!(failed, 3, "{stats}");
    assert_eq!(stats["faults"]["fail"], 3);

    // The rate limit covers Trackfinity too: 429 with Retry-After.
    let api = Api::start(
        SandboxOptions {
            rate_limit: Some(2),
            ..SandboxOptions::default()
        },
        TargetOptions::default(),
    )
    .await;
    let mut limited = 0;
    for _ in 0..8 {
        let r = api.tf_form(LOCK, &[("customer_id", "2")]).await;
        match r.status {
            200 => {}
            429 => {
                assert_eq!(r.headers["retry-after"], "1");
                limited += 1;
            }
            other => panic!("unexpected {other}: {r:?}"),
        }
    }
    assert!(limited >= 4, "{limited} limited");
    let stats = api.stats().await;
    assert_eq!(count(&stats, "PATCH /api/customer/lock", "429"), limited);
    assert_eq!(stats["faults"]["rate_limited"], limited);
}

#[tokio::test]
async fn fatura_faults_are_answered_and_counted() {
    // A create that is committed and then never answered.
    let api = Api::start(
        SandboxOptions {
            drop_after_commit: 1.0,
            ..SandboxOptions::default()
        },
        TargetOptions::default(),
    )
    .await;
    let err = api
        .fa(Method::POST, FA)
        .json(&company())
        .send()
        .await
        .expect_err("no answer at all");
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    // It was stored: reconcile by tax number; re-sending is a duplicate.
    let p = api
        .fa_get(&format!("{FA}?tax_number=9876543217"))
        .await
        .body;
    assert_eq!(p["total"], 1, "{p}");
    let r = api.fa_post(company()).await;
    assert_eq!(
        r.error("tax_number"),
        ["Vergi numarası daha önceden kayıt edilmiş."]
    );
    // PATCH is not a create: answered normally.
    assert_eq!(
        api.fa_patch(1, json!({"postcode": "34394"})).await.status,
        200
    );
    let stats = api.stats().await;
    assert_eq!(
        stats["requests"]["POST /api/customers"],
        json!({"dropped": 1, "422": 1})
    );
    assert_eq!(stats["faults"]["dropped_after_commit"], 1);
    assert_eq!(stats["fatura"]["records"]["customers"], 1);

    // 5xx without applying; and 429 with Retry-After.
    let api = Api::start(
        SandboxOptions {
            fail_rate: 1.0,
            ..SandboxOptions::default()
        },
        TargetOptions::default(),
    )
    .await;
    for _ in 0..3 {
        let r = api.fa_post(company()).await;
        assert!([500, 502, 503].contains(&r.status), "{r:?}");
    }
    let stats = api.stats().await;
    let route = &stats["requests"]["POST /api/customers"];
    let failed: u64 = ["500", "502", "503"]
        .iter()
        .filter_map(|s| route[*s].as_u64())
        .sum();
    assert_eq!(failed, 3, "{stats}");
    assert_eq!(stats["fatura"]["records"]["customers"], 0);

    let api = Api::start(
        SandboxOptions {
            rate_limit: Some(2),
            ..SandboxOptions::default()
        },
        TargetOptions::default(),
    )
    .await;
    let mut limited = 0;
    for _ in 0..8 {
        let r = api.fa_get(FA).await;
        match r.status {
            200 => {}
            429 => {
                assert_eq!(r.headers["retry-after"], "1");
                limited += 1;
            }
            other => panic!("unexpected {other}: {r:?}"),
        }
    }
    assert!(limited >= 4, "{limited} limited");
    let stats = api.stats().await;
    assert_eq!(count(&stats, "GET /api/customers", "429"), limited);
}

// ------------------------------------------------------------ state, options

#[tokio::test]
async fn both_stores_survive_a_restart_and_old_state_files_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let opts = SandboxOptions {
        state: Some(path.clone()),
        ..SandboxOptions::default()
    };
    let api = Api::start(opts.clone(), TargetOptions::default()).await;
    let r = api
        .tf_form(
            SET,
            &[
                ("customer_id", "2"),
                ("city", "Kudus"),
                ("password", "s3cret"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(api.tf_form(LOCK, &[("customer_id", "3")]).await.status, 200);
    let id = api.fa_create(company()).await;
    api.sandbox.shutdown().await;
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(!saved.contains("s3cret"), "only a hash is stored");

    // The options differ now, but the file wins.
    let api = Api::start(
        opts.clone(),
        TargetOptions {
            trackfinity_customers: 2,
            fatura_customers: 5,
            ..TargetOptions::default()
        },
    )
    .await;
    let c2 = api.tf_customer(2).await;
    assert_eq!(c2["city"], "Kudus");
    assert_eq!(c2["password_changes"], 1);
    assert_eq!(api.tf_customer(3).await["locked"], true);
    let got = api.fa_get(&format!("{FA}/{id}")).await;
    assert_eq!(got.body["data"]["district"], "Şişli");
    // Counters and the uniqueness index come back too.
    assert_eq!(api.fa_create(person("34567890170")).await, id + 1);
    let r = api.fa_post(company()).await;
    assert_eq!(r.status, 422);
    api.sandbox.shutdown().await;

    // A file written before these targets existed: they are seeded.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let map = doc.as_object_mut().unwrap();
    assert!(map.remove("trackfinity").is_some() && map.remove("fatura").is_some());
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    let api = Api::start(
        opts,
        TargetOptions {
            trackfinity_customers: 4,
            fatura_customers: 2,
            ..TargetOptions::default()
        },
    )
    .await;
    let stats = api.stats().await;
    assert_eq!(stats["trackfinity"]["records"]["customers"], 4);
    assert_eq!(stats["fatura"]["records"]["customers"], 2);
    assert_ne!(api.tf_customer(2).await["city"], "Kudus");
    api.sandbox.shutdown().await;
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(saved["trackfinity"].is_object() && saved["fatura"].is_object());
}

#[tokio::test]
async fn bad_target_options_are_refused_before_binding() {
    for (targets, option) in [
        (
            TargetOptions {
                trackfinity_api_key: String::new(),
                ..TargetOptions::default()
            },
            "trackfinity_api_key",
        ),
        (
            TargetOptions {
                trackfinity_username: "ad\nmin".into(),
                ..TargetOptions::default()
            },
            "trackfinity_username",
        ),
        (
            TargetOptions {
                fatura_api_key: " key".into(),
                ..TargetOptions::default()
            },
            "fatura_api_key",
        ),
        (
            TargetOptions {
                fatura_customers: usize::MAX,
                ..TargetOptions::default()
            },
            "fatura_customers",
        ),
    ] {
        match Sandbox::start_with(SandboxOptions::default(), targets).await {
            Err(SandboxError::InvalidOption { option: o, .. }) => assert_eq!(o, option),
            other => panic!("{option}: {other:?}"),
        }
    }
}
