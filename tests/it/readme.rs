//! The README's commands are run as a new user would run them: every `sheetload` line
//! of every `sh` block, in a folder holding a copy of `samples/`, with nothing but the
//! built binary (a block that starts with `# needs an account` is only parsed). A
//! command the README shows that no longer works, or a sample output that is not what
//! prints, fails here.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use crate::common::sheetload_in;

const README: &str = include_str!("../../README.md");

/// A fenced block: its info string and its lines.
struct Block {
    info: String,
    lines: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            match open.take() {
                Some(b) => out.push(b),
                None => {
                    open = Some(Block {
                        info: info.trim().to_string(),
                        lines: Vec::new(),
                    })
                }
            }
        } else if let Some(b) = open.as_mut() {
            b.lines.push(trimmed.to_string());
        }
    }
    assert!(open.is_none(), "a code block of the README is never closed");
    out
}

/// The shell words of a command line, without a trailing comment.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, '#') if !started || word.is_empty() => break,
            (None, c) if c.is_whitespace() => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(word);
    }
    out
}

fn copy_samples(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let dest = to.join("samples");
    std::fs::create_dir_all(&dest).expect("samples folder");
    for entry in std::fs::read_dir(&from).expect("samples/") {
        let entry = entry.expect("a sample");
        std::fs::copy(entry.path(), dest.join(entry.file_name())).expect("copy a sample");
    }
}

/// `sheetload ui` serves until stopped: it must print its address, then it is stopped.
fn run_ui(dir: &Path, args: &[String]) {
    let mut child = sheetload_in(dir)
        .args(args)
        .arg("--no-open")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sheetload ui");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut found = false;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if line.contains("http://127.0.0.1:") && line.contains("token=") {
                    found = true;
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(found, "`sheetload ui` printed no address with its token: {printed}");
}

#[test]
fn every_command_the_readme_shows_runs_as_shown() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_samples(dir.path());
    let all = blocks(README);
    let mut ran = 0;
    for (i, block) in all.iter().enumerate() {
        if block.info != "sh" {
            continue;
        }
        if block
            .lines
            .first()
            .is_some_and(|l| l.starts_with("# needs an account"))
        {
            continue;
        }
        for line in &block.lines {
            let w = words(line);
            let Some((program, args)) = w.split_first() else {
                continue;
            };
            if program == "cargo" {
                // Building is CI's own job; the test command must be exactly CI's.
                if args.first().map(String::as_str) == Some("test") {
                    let ci = include_str!("../../.ci/run");
                    let last = ci.lines().rev().find(|l| !l.trim().is_empty());
                    assert_eq!(last, Some(line.trim()), "the README's test command is not CI's");
                }
                continue;
            }
            assert_eq!(program, "sheetload", "README block line: {line}");
            if args.first().map(String::as_str) == Some("ui") {
                run_ui(dir.path(), args);
                ran += 1;
                continue;
            }
            let out = sheetload_in(dir.path())
                .args(args)
                .stdin(Stdio::null())
                .output()
                .expect("run a README command");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let code = out.status.code().unwrap_or(-1);
            assert!(
                code == 0 || code == 1,
                "`{line}` exited {code} (0 or 1 expected): {stderr}"
            );
            // A plain block right after a command's block is what it prints.
            if let Some(shown) = all.get(i + 1).filter(|b| b.info.is_empty()) {
                for expected in shown.lines.iter().filter(|l| !l.contains('…')) {
                    let expected = expected.split(" (0.").next().unwrap_or(expected);
                    assert!(
                        stderr.contains(expected),
                        "the README shows `{expected}` after `{line}`, which printed:\n{stderr}"
                    );
                }
            }
            ran += 1;
        }
    }
    assert!(ran >= 4, "only {ran} README commands were run");
}

#[test]
fn shell_words_are_split_as_a_shell_would() {
    assert_eq!(
        words(r#"export A="PT Maju Jaya"   # id or name"#),
        ["export", "A=PT Maju Jaya"]
    );
    assert_eq!(words("sheetload ui # opens"), ["sheetload", "ui"]);
    assert!(words("# a comment").is_empty());
}
