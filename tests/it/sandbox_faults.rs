//! One test per fault knob of the sandbox: the fault happens, as a client sees
//! it, and `/_sandbox/stats` counts it. Plus persistence across a restart and
//! shutdown that cannot be held up.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Client, RequestBuilder};
use serde_json::{Value, json};
use sheetload::sandbox::{Sandbox, SandboxError, SandboxHandle, SandboxOptions};

const CUSTOMERS: &str = "/extapi/v1.0/customers";

/// A signed-in client of database 1 of one sandbox.
struct Api {
    sandbox: SandboxHandle,
    http: Client,
    bearer: String,
    team: String,
}

impl Api {
    async fn start(opts: SandboxOptions) -> Api {
        Api::start_with(opts, http_client()).await
    }

    async fn start_with(opts: SandboxOptions, http: Client) -> Api {
        let sandbox = Sandbox::start(opts).await.expect("sandbox starts");
        let (bearer, team) = sign_in(&http, &sandbox.base_url()).await;
        Api {
            sandbox,
            http,
            bearer,
            team,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.bearer)
            .query(&[("team_token", &self.team)])
    }

    fn post(&self, path: &str, body: Value) -> RequestBuilder {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.bearer)
            .query(&[("team_token", &self.team)])
            .json(&body)
    }

    async fn stats(&self) -> Value {
        self.http
            .get(self.url("/_sandbox/stats"))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats json")
    }
}

async fn sign_in(http: &Client, base: &str) -> (String, String) {
    let token: Value = http
        .get(format!("{base}/extapi/v1.0/token"))
        .basic_auth("demo", Some("demo"))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("token json");
    let bearer = token["token"].as_str().expect("token").to_owned();
    let team: Value = http
        .get(format!("{base}/extapi/v1.0/team_token?db_id=1"))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("team token")
        .json()
        .await
        .expect("team json");
    (
        bearer,
        team["team_token"].as_str().expect("team_token").to_owned(),
    )
}

async fn status(request: RequestBuilder) -> u16 {
    request
        .send()
        .await
        .expect("an HTTP answer")
        .status()
        .as_u16()
}

#[tokio::test]
async fn latency_delays_every_answer_concurrently() {
    let api = Api::start(SandboxOptions {
        latency_ms: 100,
        ..Default::default()
    })
    .await;
    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(status(api.get(CUSTOMERS)).await, 200);
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(80), "{took:?}");
        assert!(took < Duration::from_millis(400), "{took:?}");
    }
    // 32 requests at once take about one latency, not 32: no queueing.
    let api = Arc::new(api);
    let started = Instant::now();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move { status(api.get(CUSTOMERS)).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1000), "{took:?}");
    let stats = api.stats().await;
    assert!(stats["peak_concurrent"].as_u64().unwrap() >= 16, "{stats}");
    assert_eq!(stats["in_flight"], 0);
}

#[tokio::test]
async fn fail_rate_answers_5xx_without_applying_the_request() {
    let api = Api::start(SandboxOptions {
        fail_rate: 0.5,
        seed: 7,
        ..Default::default()
    })
    .await;
    let mut created = 0;
    let mut failed = 0;
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..40 {
        let response = api
            .post(CUSTOMERS, json!({"name": format!("Toko {i}")}))
            .send()
            .await
            .unwrap();
        let code = response.status().as_u16();
        match code {
            201 => created += 1,
            500 | 502 | 503 => {
                failed += 1;
                seen.insert(code);
                let body = response.text().await.unwrap();
                if code == 502 {
                    assert!(body.contains("<html>"), "a proxy page: {body}");
                } else {
                    let json: Value = serde_json::from_str(&body).unwrap();
                    assert!(json["message"].is_string());
                }
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!((8..=32).contains(&failed), "{failed} of 40 failed");
    assert!(seen.len() >= 2, "several 5xx kinds: {seen:?}");
    let stats = api.stats().await;
    assert_eq!(stats["faults"]["fail"], failed);
    assert_eq!(
        stats["records"]["customers"], created,
        "failed requests were not applied"
    );
    let route = &stats["requests"]["POST /extapi/v1.0/customers"];
    assert_eq!(route["201"], created);
    let counted: u64 = ["500", "502", "503"]
        .iter()
        .filter_map(|s| route[*s].as_u64())
        .sum();
    assert_eq!(counted, failed);
    // Sign-in is spared, so a client can always get going.
    for _ in 0..10 {
        let _ = sign_in(&api.http, &api.sandbox.base_url()).await;
    }
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let api = Api::start(SandboxOptions {
            fail_rate: 0.5,
            seed: 99,
            ..Default::default()
        })
        .await;
        let mut codes = Vec::new();
        for _ in 0..20 {
            codes.push(status(api.get(CUSTOMERS)).await);
        }
        runs.push(codes);
    }
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let api = Arc::new(
        Api::start(SandboxOptions {
            rate_limit: Some(5),
            ..Default::default()
        })
        .await,
    );
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move {
                let r = api.get(CUSTOMERS).send().await.unwrap();
                let retry = r
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                (r.status().as_u16(), retry)
            })
        })
        .collect();
    let mut ok = 0;
    let mut limited = 0;
    for task in tasks {
        match task.await.unwrap() {
            (200, None) => ok += 1,
            (429, Some(retry)) => {
                assert_eq!(retry, "1");
                limited += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // At most two one-second windows are touched by a burst this short.
    assert!(ok <= 10, "{ok} admitted");
    assert!(limited >= 20, "{limited} limited");
    let stats = api.stats().await;
    assert_eq!(stats["faults"]["rate_limited"], limited);
    assert_eq!(
        stats["requests"]["GET /extapi/v1.0/customers"]["429"],
        limited
    );
    // After waiting as told, requests go through again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(status(api.get(CUSTOMERS)).await, 200);
}

#[tokio::test]
async fn bearer_expires_after_its_ttl() {
    let api = Api::start(SandboxOptions {
        token_ttl: Some(1),
        ..Default::default()
    })
    .await;
    assert_eq!(status(api.get(CUSTOMERS)).await, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = api.get(CUSTOMERS).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    let stats = api.stats().await;
    assert_eq!(stats["faults"]["token_expired"], 1);
    // Signing in again gives a working bearer; the team token stays valid.
    let (bearer, _) = sign_in(&api.http, &api.sandbox.base_url()).await;
    let r = api
        .http
        .get(api.url(CUSTOMERS))
        .bearer_auth(&bearer)
        .query(&[("team_token", &api.team)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn drop_after_commit_resets_the_connection_after_storing() {
    let api = Api::start(SandboxOptions {
        drop_after_commit: 1.0,
        ..Default::default()
    })
    .await;
    let err = api
        .post(
            CUSTOMERS,
            json!({"name": "Toko Hilang", "ext_cust_no": "C000777"}),
        )
        .send()
        .await
        .expect_err("no answer at all");
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    // The record was committed all the same: the outcome-unknown case.
    let list: Value = api
        .get(&format!("{CUSTOMERS}?ext_cust_no=C000777"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "{list}");
    // Failed validation commits nothing and is answered normally.
    assert_eq!(status(api.post(CUSTOMERS, json!({}))).await, 422);
    let stats = api.stats().await;
    assert_eq!(stats["faults"]["dropped_after_commit"], 1);
    assert_eq!(stats["records"]["customers"], 1);
    assert_eq!(
        stats["requests"]["POST /extapi/v1.0/customers"],
        json!({"dropped": 1, "422": 1})
    );

    // With a rate of 0.5, some creates are answered and some are not, and every
    // one of them is stored.
    let api = Api::start(SandboxOptions {
        drop_after_commit: 0.5,
        seed: 3,
        ..Default::default()
    })
    .await;
    let mut answered = 0;
    let mut dropped = 0;
    for i in 0..20 {
        match api
            .post(CUSTOMERS, json!({"name": format!("T{i}")}))
            .send()
            .await
        {
            Ok(r) => {
                assert_eq!(r.status().as_u16(), 201);
                answered += 1;
            }
            Err(_) => dropped += 1,
        }
    }
    assert!(
        answered > 0 && dropped > 0,
        "{answered} answered, {dropped} dropped"
    );
    let stats = api.stats().await;
    assert_eq!(stats["faults"]["dropped_after_commit"], dropped);
    assert_eq!(stats["records"]["customers"], 20);
}

#[tokio::test]
async fn stall_outlasts_the_client_timeout_and_not_the_shutdown() {
    let http = {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client::builder()
    }
    .no_proxy()
    .timeout(Duration::from_millis(300))
    .build()
    .unwrap();
    let api = Arc::new(
        Api::start_with(
            SandboxOptions {
                stall_rate: 1.0,
                ..Default::default()
            },
            http,
        )
        .await,
    );
    let err = api
        .post(CUSTOMERS, json!({"name": "Toko Lambat"}))
        .send()
        .await
        .expect_err("stalled");
    assert!(err.is_timeout(), "{err:?}");
    let err = api.get(CUSTOMERS).send().await.expect_err("stalled");
    assert!(err.is_timeout(), "{err:?}");
    // The server notices that the client gave up: nothing is left hanging.
    let stats = until(&api, |s| s["in_flight"] == 0).await;
    assert_eq!(stats["faults"]["stalled"], 2);
    assert_eq!(stats["records"]["customers"], 1, "applied before the stall");
    assert_eq!(stats["in_flight"], 0, "{stats}");
    assert_eq!(
        stats["requests"]["POST /extapi/v1.0/customers"],
        json!({"cancelled": 1})
    );

    // A patient client is answered at shutdown, which does not wait 300 s.
    let request = http_client()
        .get(api.url(CUSTOMERS))
        .bearer_auth(&api.bearer)
        .query(&[("team_token", &api.team)]);
    let patient = tokio::spawn(status(request));
    until(&api, |s| s["in_flight"] == 1).await;
    let api = Arc::into_inner(api).expect("last reference");
    let started = Instant::now();
    api.sandbox.shutdown().await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "shutdown took {took:?}");
    assert_eq!(patient.await.unwrap(), 200);
}

/// The stats once `ready` holds for them (a test fails after 5 s).
async fn until(api: &Api, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stats = api.stats().await;
        if ready(&stats) {
            return stats;
        }
        assert!(Instant::now() < deadline, "stats never got there: {stats}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn shutdown_cuts_connections_that_never_finish_a_request() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let addr = sandbox.addr();
    // Half a request, never completed, on a connection kept open.
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /extapi/v1.0/customers HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    sandbox.shutdown().await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    drop(stream);
}

#[tokio::test]
async fn state_file_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.json");
    let opts = SandboxOptions {
        state: Some(path.clone()),
        customers: 2,
        ..Default::default()
    };
    let api = Api::start(opts.clone()).await;
    let created: Value = api
        .post(
            CUSTOMERS,
            json!({"name": "Toko Tetap", "ext_cust_no": "C999"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_u64().unwrap();
    // Saved in the background within a few flush intervals, before shutdown.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.contains("Toko Tetap") {
            break;
        }
        assert!(Instant::now() < deadline, "not saved in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats = api.stats().await;
    assert!(stats["state"]["saves"].as_u64().unwrap() >= 1, "{stats}");
    assert_eq!(stats["state"]["last_error"], Value::Null);
    api.sandbox.shutdown().await;
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["sandbox.json"], "no temporary files left");

    // Restarted with other seeding options: the file wins.
    let api = Api::start(SandboxOptions {
        customers: 50,
        ..opts.clone()
    })
    .await;
    let r: Value = api
        .get(&format!("{CUSTOMERS}/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["name"], "Toko Tetap");
    let list: Value = api
        .get(CUSTOMERS)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 3);
    let next: Value = api
        .post(CUSTOMERS, json!({"name": "Toko Baru"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(next["id"].as_u64().unwrap() > id, "ids keep increasing");
    // The team token of the first run is still accepted (same seed).
    api.sandbox.shutdown().await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("Toko Baru"), "flushed on shutdown");

    // A file that is not ours is refused and left alone.
    let foreign = dir.path().join("other.json");
    std::fs::write(&foreign, r#"{"hello": "world"}"#).unwrap();
    let err = Sandbox::start(SandboxOptions {
        state: Some(foreign.clone()),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(err, SandboxError::StateFormat { .. }), "{err}");
    assert_eq!(
        std::fs::read_to_string(&foreign).unwrap(),
        r#"{"hello": "world"}"#
    );
    std::fs::write(&foreign, "{ not json").unwrap();
    let err = Sandbox::start(SandboxOptions {
        state: Some(foreign),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(err, SandboxError::StateFormat { .. }), "{err}");
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
