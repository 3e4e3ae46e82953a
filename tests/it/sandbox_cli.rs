//! `sheetload sandbox` as a user runs it: it prints where it listens, answers, and stops
//! cleanly on Ctrl-C, saving its state file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect to sandbox");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn sandbox_command_serves_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sheetload"))
        .args(["sandbox", "--port", "0", "--customers", "7", "--state"])
        .arg(&state)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sandbox");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the URL is printed")
        .to_string();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "loopback by default: {url}"
    );
    let addr = url.trim_start_matches("http://");
    let stats = get(addr, "/_sandbox/stats");
    assert!(stats.starts_with("HTTP/1.1 200"), "{stats}");
    let body = stats.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(
        body.contains("\"customers\":14") || body.contains("\"customers\": 14"),
        "7 per database, 2 databases: {body}"
    );
    // Data calls need a bearer.
    let denied = get(addr, "/extapi/v1.0/customers");
    assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let saved = std::fs::read_to_string(&state).expect("state saved on exit");
    assert!(saved.len() > 100);
}
