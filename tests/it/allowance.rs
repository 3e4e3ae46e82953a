//! The API's allowance (issue 33 points 1–4, issue 32 point 11), end to end through the
//! real binary and a sandbox that rations like real APIs: burst 429s whatever the rate,
//! a token bucket, a per-minute window, a daily quota whose reset the test moves; the
//! pacer that keeps `--rate` from the first request; a run that parks (exit 75) when
//! the quota is spent and finishes on `resume` after the reset; the flight plan.

use std::time::Duration;

use crate::common::{TestEnv, records, sandbox_get, spawn_sandbox, statuses};
use serde_json::Value;
use sheetload::sandbox::SandboxOptions;

fn customers_csv(n: usize) -> String {
    let mut s = String::from("Kode Pelanggan,Nama,Kota,No HP\n");
    for i in 1..=n {
        s.push_str(&format!("C{i:05},Toko {i},Semarang,0812{i:07}\n"));
    }
    s
}

/// Every key on the server once: no duplicates, `n` customers in database 1.
fn every_key_once(stats: &Value, n: u64) {
    let dups = stats["duplicate_keys"]["ext_cust_no"]
        .as_object()
        .map_or(0, |m| m.len());
    assert_eq!(dups, 0, "{}", stats["duplicate_keys"]);
    assert_eq!(
        stats["databases"]["1"]["records"]["customers"], n,
        "{stats}"
    );
}

/// Issue 32.11: `--rate 10 --concurrency 16` is a ceiling from the first request: the
/// sandbox sees one data request in the first 100 ms and at most 11 in the first second
/// (the old limiter let a second's worth go at once: 9 POSTs in 48 ms).
#[test]
fn the_rate_ceiling_holds_from_the_first_request() {
    let sb = spawn_sandbox(SandboxOptions::default());
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers_csv(14))
        .args(["import", "c.csv", "-e", "customers", "--concurrency", "16"])
        .args(["--rate", "10"])
        .run();
    done.expect_code(0);
    let arrivals = sandbox_get(&sb, "/_sandbox/arrivals");
    let mut data: Vec<u64> = arrivals
        .as_object()
        .expect("arrivals")
        .iter()
        .filter(|(route, _)| route.contains("/customers"))
        .flat_map(|(_, ms)| ms.as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_u64())
        .collect();
    data.sort_unstable();
    assert!(data.len() >= 15, "{arrivals}");
    let first = data[0];
    let within = |ms: u64| data.iter().filter(|t| **t < first + ms).count();
    assert_eq!(within(90), 1, "{data:?}");
    assert!(within(1000) <= 11, "{data:?}");
}

/// Issue 33.1 and 33.2: a fifth of the data calls answered 429 whatever the rate, with
/// and without `Retry-After`: every row ends OK, each key once, and the 429s were
/// bursts (counted by the sandbox), not failed rows.
#[test]
fn burst_429s_with_and_without_retry_after_end_every_row_ok_once() {
    for retry_after in [Some(1), None] {
        let done = TestEnv::new()
            .sandbox(SandboxOptions {
                burst_429: 0.2,
                burst_retry_after: retry_after,
                ..SandboxOptions::default()
            })
            .file("c.csv", customers_csv(40))
            .args(["import", "c.csv", "-e", "customers", "--concurrency", "8"])
            .run();
        done.expect_code(0);
        let rows = records(&done.path("c.result.xlsx"), "Results");
        assert_eq!(statuses(&rows).get("OK"), Some(&40), "{retry_after:?}");
        let stats = done.stats();
        assert!(
            stats["faults"]["burst_429"].as_u64().unwrap_or(0) > 0,
            "{stats}"
        );
        every_key_once(&stats, 40);
    }
}

/// Issue 33.1: a token bucket and a per-minute window refuse with `Retry-After` and the
/// `RateLimit-*` headers; the run still ends every row OK, each key once.
#[test]
fn a_token_bucket_and_a_per_minute_window_are_ridden_out() {
    let done = TestEnv::new()
        .sandbox(SandboxOptions {
            bucket: Some((40.0, 5)),
            per_minute: Some(1000),
            ..SandboxOptions::default()
        })
        .file("c.csv", customers_csv(30))
        .args(["import", "c.csv", "-e", "customers", "--concurrency", "8"])
        .run();
    done.expect_code(0);
    let stats = done.stats();
    assert!(
        stats["faults"]["rate_limited"].as_u64().unwrap_or(0) > 0,
        "{stats}"
    );
    every_key_once(&stats, 30);
}

/// Issue 33.3 and 33.4: a daily quota of 25 with 40 rows. The flight plan (`--json`)
/// says the quota runs out before the end; the run parks with exit 75 and the words the
/// user needs; the server saw no more than its quota; after the (moved) reset, `resume`
/// sends the rest, every key once.
#[test]
fn a_spent_daily_quota_parks_the_run_and_resume_after_the_reset_finishes_it() {
    let sb = spawn_sandbox(SandboxOptions {
        daily_quota: Some(25),
        quota_reset_in: Some(5 * 3600),
        ..SandboxOptions::default()
    });
    let parked = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers_csv(40))
        .args(["import", "c.csv", "-e", "customers", "--concurrency", "4"])
        .args(["--json"])
        .run();
    parked.expect_code(75);
    parked
        .stderr_has("rows left; the quota resets at ")
        .stderr_has("`sheetload resume 1` then, or run with `--wait-for-quota`");
    let json: Value = serde_json::from_str(parked.stdout.trim()).expect("--json");
    assert_eq!(json["plan"]["requests"]["creates"], 40, "{json}");
    assert_eq!(json["plan"]["quota"]["parks"], true, "{json}");
    assert!(json["parked_until"].is_string(), "{json}");
    let stats = sb.stats();
    let served: u64 = stats["requests"]
        .as_object()
        .expect("requests")
        .values()
        .flat_map(|m| m.as_object().cloned().unwrap_or_default())
        .filter(|(status, _)| status != "429")
        .filter_map(|(_, n)| n.as_u64())
        .sum();
    assert!(served <= 25, "{stats}");
    let created = stats["databases"]["1"]["records"]["customers"]
        .as_u64()
        .unwrap_or(0);
    assert!(created > 0 && created < 40, "{stats}");

    sb.move_quota_reset(Duration::ZERO);
    let resumed = parked.again().args(["resume"]).run();
    resumed.expect_code(0);
    let rows = records(&resumed.path("c.result.xlsx"), "Results");
    assert_eq!(statuses(&rows).get("OK"), Some(&40), "{}", resumed.stderr);
    every_key_once(&sb.stats(), 40);
}

/// Issue 33.3: a profile's `quota_per_day` parks the run when it has sent that many
/// requests, whatever the server says.
#[test]
fn a_profiles_quota_per_day_parks_the_run() {
    let done = TestEnv::new()
        .sandbox(SandboxOptions::default())
        .file("sheetload.toml", "[profile.default]\nquota_per_day = 12\n")
        .file("c.csv", customers_csv(30))
        .args(["import", "c.csv", "-e", "customers", "--concurrency", "4"])
        .run();
    done.expect_code(75);
    done.stderr_has("rows left; the quota resets at 00:00 UTC");
    let created = done.stats()["databases"]["1"]["records"]["customers"]
        .as_u64()
        .unwrap_or(0);
    assert!(created > 0 && created <= 12, "{created}");
}

/// Issue 33.4: `--confirm` shows the flight plan (requests by kind, the predicted time)
/// before anything is sent; `--json` has it with what the run actually sent.
#[test]
fn the_flight_plan_is_shown_before_sending_and_compared_after() {
    let env = TestEnv::new()
        .sandbox(SandboxOptions::default())
        .file("c.csv", customers_csv(10))
        .args(["import", "c.csv", "-e", "customers", "--confirm"])
        .stdin_null()
        .run();
    env.expect_code(2);
    env.stderr_has("10 creates").stderr_has("predicted");
    assert_eq!(env.stats()["databases"]["1"]["records"]["customers"], 0);
    let done = env
        .again()
        .args(["import", "c.csv", "-e", "customers", "--json"])
        .run();
    done.expect_code(0);
    let json: Value = serde_json::from_str(done.stdout.trim()).expect("--json");
    assert_eq!(json["plan"]["requests"]["creates"], 10, "{json}");
    assert_eq!(json["actual"]["requests"]["creates"], 10, "{json}");
    assert!(json["plan"]["seconds"].is_number(), "{json}");
}
