//! Readers of a running sandbox: its `/_sandbox/stats` document (requests per route and
//! status, records per database) and its `/_sandbox/…` inspection routes.

use std::io::{Read, Write};

use serde_json::Value;
use sheetload::sandbox::{SandboxOptions, ThreadSandbox, spawn_in_thread};

/// Requests the sandbox saw on `method_route` (`"POST /extapi/v1.0/customers"`), any status.
pub fn count(stats: &Value, method_route: &str) -> u64 {
    stats["requests"][method_route]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

/// Write requests (POST, PATCH, DELETE) on the API's routes, any status; the sandbox's
/// own `/_sandbox/…` routes are not counted.
pub fn writes(stats: &Value) -> u64 {
    stats["requests"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| {
            (k.starts_with("POST ") || k.starts_with("PATCH ") || k.starts_with("DELETE "))
                && !k.contains("_sandbox")
        })
        .map(|(_, v)| {
            v.as_object()
                .unwrap()
                .values()
                .filter_map(Value::as_u64)
                .sum::<u64>()
        })
        .sum()
}

/// Records of `collection` (`"customers"`) the SalesMania sandbox holds in database `db`.
pub fn records_in_db(stats: &Value, db: &str, collection: &str) -> u64 {
    stats["databases"][db]["records"][collection]
        .as_u64()
        .unwrap_or_else(|| panic!("no count of {collection} in database {db}: {stats}"))
}

/// `GET path` on the sandbox over a plain loopback connection, the body as JSON
/// (`Null` when it is not JSON): for the `/_sandbox/…` inspection routes.
pub fn sandbox_get(sb: &ThreadSandbox, path: &str) -> Value {
    let addr = sb.base_url().trim_start_matches("http://").to_string();
    let addr = addr.trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// A sandbox on its own thread, for a test that points several runs at it.
pub fn spawn_sandbox(opts: SandboxOptions) -> ThreadSandbox {
    spawn_in_thread(opts).expect("sandbox starts")
}
