//! Load benchmark of the sandbox: how many small requests per second it serves,
//! and whether configured latency stays latency (no queueing) with hundreds of
//! requests in flight.
//!
//! `cargo bench --bench sandbox_load` (set `SANDBOX_BENCH_SECS` to change the
//! 3-second measuring window). The server runs on its own thread and runtime
//! (`spawn_in_thread`, 2 workers); the client is reqwest on a second runtime in
//! the same process, so both share the machine's cores.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};
use sheetload::sandbox::{SandboxOptions, ThreadSandbox, spawn_in_thread};

const CUSTOMERS: &str = "/extapi/v1.0/customers";

struct Target {
    base: String,
    bearer: String,
    team: String,
    ids: Vec<u64>,
}

#[derive(Clone, Copy)]
enum Kind {
    Get,
    Post,
}

struct Outcome {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    /// Sorted latencies in microseconds.
    latencies: Vec<u32>,
}

impl Outcome {
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies[rank]) / 1000.0
    }
}

fn main() {
    let secs: f64 = std::env::var("SANDBOX_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let window = Duration::from_secs_f64(secs);
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");

    let mut rows = Vec::new();

    // (a) no latency: small GETs and small POSTs at concurrency 64.
    let fast = spawn_in_thread(SandboxOptions {
        customers: 1000,
        ..SandboxOptions::default()
    })
    .expect("sandbox");
    let http = client(512);
    let target = Arc::new(client_rt.block_on(prepare(&http, &fast)));
    for (kind, label) in [
        (Kind::Get, "GET  /customers/{id}"),
        (Kind::Post, "POST /customers"),
    ] {
        client_rt.block_on(drive(&http, &target, kind, 64, Duration::from_millis(500)));
        let outcome = client_rt.block_on(drive(&http, &target, kind, 64, window));
        rows.push((label.to_owned(), 64, outcome, None));
    }
    fast.shutdown();

    // (b) latency 20 ms ±20 %, 256 requests in flight.
    let slow = spawn_in_thread(SandboxOptions {
        customers: 1000,
        latency_ms: 20,
        ..SandboxOptions::default()
    })
    .expect("sandbox");
    let http = client(512);
    let target = Arc::new(client_rt.block_on(prepare(&http, &slow)));
    client_rt.block_on(drive(
        &http,
        &target,
        Kind::Get,
        256,
        Duration::from_millis(500),
    ));
    let outcome = client_rt.block_on(drive(&http, &target, Kind::Get, 256, window));
    let peak = slow.stats()["peak_concurrent"].as_u64().unwrap_or(0);
    rows.push((
        "GET  /customers/{id} +20ms".to_owned(),
        256,
        outcome,
        Some(peak),
    ));
    slow.shutdown();

    println!();
    println!(
        "{:<28} {:>5} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7} {:>6}",
        "scenario", "conc", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "peak"
    );
    for (label, conc, o, peak) in &rows {
        println!(
            "{:<28} {:>5} {:>9} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>6}",
            label,
            conc,
            o.requests,
            o.requests as f64 / o.elapsed.as_secs_f64(),
            o.percentile(0.50),
            o.percentile(0.99),
            o.percentile(1.0),
            o.errors,
            peak.map_or("-".to_owned(), |p| p.to_string()),
        );
    }
    println!();
}

fn client(pool: usize) -> Client {
    {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client::builder()
    }
    .no_proxy()
    .pool_max_idle_per_host(pool)
    .timeout(Duration::from_secs(10))
    .build()
    .expect("client")
}

async fn prepare(http: &Client, sandbox: &ThreadSandbox) -> Target {
    let base = sandbox.base_url();
    let token: Value = http
        .get(format!("{base}/extapi/v1.0/token"))
        .basic_auth("demo", Some("demo"))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("json");
    let bearer = token["token"].as_str().expect("token").to_owned();
    let team: Value = http
        .get(format!("{base}/extapi/v1.0/team_token?db_id=1"))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("team token")
        .json()
        .await
        .expect("json");
    let team = team["team_token"].as_str().expect("team_token").to_owned();
    let list: Value = http
        .get(format!("{base}{CUSTOMERS}?limit=100"))
        .bearer_auth(&bearer)
        .query(&[("team_token", &team)])
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let ids = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|c| c["id"].as_u64())
        .collect();
    Target {
        base,
        bearer,
        team,
        ids,
    }
}

/// `concurrency` workers, each sending one request after the other until the
/// window closes (a closed loop: at most `concurrency` requests in flight).
async fn drive(
    http: &Client,
    target: &Arc<Target>,
    kind: Kind,
    concurrency: usize,
    window: Duration,
) -> Outcome {
    let started = Instant::now();
    let deadline = started + window;
    let counter = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let http = http.clone();
            let target = target.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                while Instant::now() < deadline {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let request = match kind {
                        Kind::Get => {
                            let id = target.ids[n % target.ids.len()];
                            http.get(format!("{}{CUSTOMERS}/{id}", target.base))
                        }
                        Kind::Post => http
                            .post(format!("{}{CUSTOMERS}", target.base))
                            .json(&json!({"name": format!("Toko Beban {n}"), "ext_cust_no": format!("L{n:07}")})),
                    }
                    .bearer_auth(&target.bearer)
                    .query(&[("team_token", &target.team)]);
                    let sent = Instant::now();
                    let ok = match request.send().await {
                        Ok(response) => {
                            let ok = response.status().is_success();
                            ok && response.bytes().await.is_ok()
                        }
                        Err(_) => false,
                    };
                    if ok {
                        latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await.expect("worker");
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Outcome {
        requests: latencies.len(),
        errors,
        elapsed,
        latencies,
    }
}
