//! Help texts, labels, run history and machine output of the small commands, as a user
//! meets them: `--help` of every command, `runs list` after real imports and an undo,
//! `template --json`, `sandbox --json`, and a mapping file named in a profile.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common::{self, TestEnv, demo_command, sheet};

/// The output of `sheetload ARGS` (help goes to stdout), asserting exit 0.
fn help(args: &[&str]) -> String {
    let done = TestEnv::new().args(args).run();
    done.expect_code(0);
    done.stdout
}

/// The paragraph of `--help` that describes `flag` (or a positional `<NAME>`): from its
/// line to the next option or positional.
fn paragraph(help: &str, flag: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in help.lines() {
        let text = line.trim_start();
        let indent = line.len() - text.len();
        if indent == 0 && !text.is_empty() {
            inside = false; // a heading: `Options:`, `Examples:`
        } else if indent <= 6 && (text.starts_with('-') || text.starts_with('<')) {
            inside = line.contains(flag);
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(!out.is_empty(), "no {flag} in help:\n{help}");
    out
}

#[test]
fn entity_help_lists_every_entity_including_orders() {
    let entities: Vec<&str> = sheetload::spec::entities(sheetload::spec::TargetId::SalesMania)
        .into_iter()
        .map(|e| e.as_str())
        .collect();
    assert!(entities.contains(&"orders"));
    for (cmd, flag) in [
        (["import", "--help"], "--entity"),
        (["validate", "--help"], "--entity"),
        (["template", "--help"], "<ENTITY>"),
    ] {
        let text = paragraph(&help(&cmd), flag);
        for e in &entities {
            assert!(text.contains(e), "{cmd:?}: {flag} omits {e}:\n{text}");
        }
    }
}

#[test]
fn sandbox_flag_is_not_described_as_an_import_outside_import() {
    for cmd in [
        vec!["export", "--help"],
        vec!["runs", "undo", "--help"],
        vec!["import", "--help"],
    ] {
        let text = paragraph(&help(&cmd), "--sandbox");
        assert!(!text.contains("Import into"), "{cmd:?}:\n{text}");
        assert!(text.contains("sandbox"), "{cmd:?}:\n{text}");
    }
}

#[test]
fn every_command_help_ends_with_examples() {
    for cmd in [
        vec![],
        vec!["import"],
        vec!["validate"],
        vec!["export"],
        vec!["resume"],
        vec!["retry"],
        vec!["runs"],
        vec!["runs", "list"],
        vec!["runs", "show"],
        vec!["runs", "undo"],
        vec!["template"],
        vec!["sandbox"],
    ] {
        let mut args = cmd.clone();
        args.push("--help");
        let text = help(&args);
        let examples = text
            .split_once("Examples:")
            .map(|(_, e)| e)
            .unwrap_or_else(|| panic!("{cmd:?} --help has no examples:\n{text}"));
        let invocation = format!("sheetload {}", cmd.join(" "));
        assert!(
            examples.contains(invocation.trim_end()),
            "{cmd:?}: no example runs `{invocation}`:\n{examples}"
        );
    }
}

#[test]
fn template_json_says_what_was_written() {
    let done = TestEnv::new()
        .args(["--json", "template", "orders", "--out", "o.xlsx"])
        .run();
    done.expect_code(0);
    let line = done.stdout.trim();
    let v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {:?}", done.stdout));
    assert_eq!(v["command"], "template");
    assert_eq!(v["entity"], "orders");
    assert_eq!(v["target"], "salesmania");
    assert_eq!(v["out"], "o.xlsx");
    let headers = &sheet(&done.path("o.xlsx"), "Orders")[0];
    assert!(headers.len() > 5);
    assert_eq!(v["columns"], headers.len());
    assert!(
        !done.stderr.contains("wrote"),
        "no human text: {}",
        done.stderr
    );
}

#[test]
fn sandbox_json_prints_one_line_then_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sheetload"))
        .args(["--json", "sandbox", "--port", "0", "--customers", "4"])
        .env("SHEETLOAD_SANDBOX_PASSWORD", "s3cret-sandbox-pw")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sandbox");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let v: serde_json::Value =
        serde_json::from_str(&first).unwrap_or_else(|e| panic!("{e}: {first}"));
    // Still serving after the line: the stats answer.
    let url = v["url"].as_str().expect("url").to_string();
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    std::io::Write::write_all(
        &mut s,
        format!("GET /_sandbox/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut s, &mut answer).unwrap();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);

    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(v["command"], "sandbox");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(v["salesmania"]["user"], "demo");
    let demo = &v["salesmania"]["databases"][0];
    assert_eq!(demo["id"], 1);
    assert_eq!(demo["name"], "Demo");
    assert_eq!(demo["records"]["customers"], 4);
    assert_eq!(demo["records"]["teams"], 3);
    assert_eq!(v["trackfinity"]["records"]["customers"], 20);
    assert!(!first.contains("s3cret-sandbox-pw"), "{first}");
    assert!(
        !first.contains("tf-demo-key") && !first.contains("fe-demo-key"),
        "{first}"
    );
    assert!(
        !stderr.contains("listening"),
        "no human text with --json: {stderr}"
    );
    assert!(out.status.success(), "{:?}", out.status);
}

/// Customers with one invalid row (a phone with letters): 2 OK, 1 INVALID.
const TWO_GOOD_ONE_BAD: &str = "Kode Pelanggan,Nama,No HP\n\
    C1,Toko Satu,081234567890\n\
    C2,Toko Dua,0812-34AB-7890\n\
    C3,Toko Tiga,081298765432\n";

/// The `runs list` line of run `id`, split in columns, and the header's columns.
fn list_line(stdout: &str, id: &str) -> (Vec<String>, Vec<String>) {
    let mut lines = stdout.lines();
    let head: Vec<String> = lines
        .next()
        .expect("a header")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let row = lines
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .find(|cols| cols.first().is_some_and(|c| c == id))
        .unwrap_or_else(|| panic!("no run {id}:\n{stdout}"));
    (head, row)
}

#[test]
fn runs_list_shows_the_target_and_keeps_invalid_apart_from_failed() {
    let done = TestEnv::new()
        .file("c.csv", TWO_GOOD_ONE_BAD)
        .args(["import", "c.csv", "-e", "customers", "--sandbox"])
        .run();
    let dir = done.dir();
    done.expect_code(1).stderr_has("1 invalid");
    let out = Command::new(env!("CARGO_BIN_EXE_sheetload"))
        .args(["runs", "list"])
        .env("SHEETLOAD_HOME", dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (head, row) = list_line(&stdout, "1");
    let at = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column: {head:?}"))
    };
    // "started" is two words (date and time) on the data line.
    let value = |name: &str| row[at(name) + 1].clone();
    assert_eq!(value("target"), "salesmania", "{stdout}");
    assert_eq!(value("ok"), "2", "{stdout}");
    assert_eq!(value("invalid"), "1", "{stdout}");
    assert_eq!(value("failed"), "0", "{stdout}");
    assert_eq!(value("state"), "completed", "{stdout}");
}

#[test]
fn an_undone_run_reads_undone() {
    let sb = sheetload::sandbox::spawn_in_thread(Default::default()).expect("sandbox");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.csv"),
        "Kode Pelanggan,Nama\nU1,Toko Satu\nU2,Toko Dua\n",
    )
    .unwrap();
    let sheetload = |args: &[&str]| {
        let out = demo_command(dir.path(), &sb.base_url())
            .args(args)
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, _, err) = sheetload(&["import", "c.csv", "-e", "customers"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = sheetload(&["runs", "undo", "1", "--yes"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("deleted 2 of 2 customers"), "{err}");
    assert_eq!(sb.stats()["databases"]["1"]["records"]["customers"], 0);

    let (_, list, _) = sheetload(&["runs", "list"]);
    let (head, row) = list_line(&list, "1");
    let state = head.iter().position(|h| h == "state").unwrap() + 1;
    assert_eq!(row[state], "undone", "{list}");
    let (_, json, _) = sheetload(&["--json", "runs", "list"]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v[0]["state"], "undone", "{json}");
    assert!(v[0]["undone_at"].is_string(), "{json}");
    assert_eq!(v[0]["counts"]["ok"], 2, "what the run did is kept: {json}");
}

#[test]
fn one_record_is_one_not_ones() {
    let sb = sheetload::sandbox::spawn_in_thread(Default::default()).expect("sandbox");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.csv"),
        "Kode Pelanggan,Nama\nS1,Toko Satu\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        demo_command(dir.path(), &sb.base_url())
            .args(args)
            .output()
            .unwrap()
    };
    assert!(
        run(&["import", "c.csv", "-e", "customers"])
            .status
            .success()
    );
    let undo = run(&["runs", "undo", "1", "--yes"]);
    let err = String::from_utf8_lossy(&undo.stderr);
    assert!(err.contains("deleted 1 of 1 customer it created"), "{err}");
    assert!(!err.contains("1 customers"), "{err}");
}

#[test]
fn keyed_targets_are_named_by_host_not_as_a_database() {
    use sheetload::connector::salesmania::Database;
    use sheetload::targets::destination;
    let fatura = Database {
        id: "app.faturaentegrator.com".into(),
        name: "Fatura Entegratör".into(),
    };
    assert_eq!(
        destination(sheetload::spec::TargetId::Fatura, &fatura),
        "Fatura Entegratör at app.faturaentegrator.com"
    );
    let demo = Database {
        id: "1".into(),
        name: "Demo".into(),
    };
    assert_eq!(
        destination(sheetload::spec::TargetId::SalesMania, &demo),
        "\"Demo\" (db 1)"
    );
}

/// A CSV whose headers only a mapping file explains.
const MAPPED: &str = "Outlet Title,Nomor\nToko Satu,M1\nToko Dua,M2\n";

#[test]
fn a_profile_names_a_mapping_file_relative_to_its_folder_and_map_wins() {
    let home = tempfile::tempdir().unwrap();
    let home_str = home.path().to_str().unwrap().to_string();
    std::fs::create_dir_all(home.path().join("maps")).unwrap();
    std::fs::write(
        home.path().join("sheetload.toml"),
        "[profile.default]\nmap = \"maps/outlets.toml\"\n",
    )
    .unwrap();
    std::fs::write(
        home.path().join("maps/outlets.toml"),
        "[columns]\n\"Outlet Title\" = \"name\"\n\"Nomor\" = \"ext_cust_no\"\n",
    )
    .unwrap();

    // The profile's map (found beside its sheetload.toml, not in the current folder).
    for cmd in [
        vec!["validate", "in.csv", "-e", "customers"],
        vec!["import", "in.csv", "-e", "customers", "--dry-run"],
    ] {
        let done = TestEnv::new()
            .file("in.csv", MAPPED)
            .env("SHEETLOAD_HOME", &home_str)
            .args(&cmd)
            .run();
        done.expect_code(0);
        let results = common::records(&done.path("in.result.xlsx"), "Results");
        assert_eq!(results.len(), 2, "{cmd:?}");
        assert!(
            results.iter().all(|r| r["_status"] == "VALID"),
            "{results:?}"
        );
    }

    // --map on the command line wins over the profile's.
    let done = TestEnv::new()
        .file("in.csv", MAPPED)
        .file("other.toml", "[columns]\n\"Nomor\" = \"ext_cust_no\"\n")
        .env("SHEETLOAD_HOME", &home_str)
        .args([
            "validate",
            "in.csv",
            "-e",
            "customers",
            "--map",
            "other.toml",
        ])
        .run();
    done.expect_code(2).one_clear_error().stderr_has("name");

    // A map the profile names but that is missing: a clear error naming the file.
    std::fs::remove_file(home.path().join("maps/outlets.toml")).unwrap();
    let done = TestEnv::new()
        .file("in.csv", MAPPED)
        .env("SHEETLOAD_HOME", &home_str)
        .args(["validate", "in.csv", "-e", "customers"])
        .run();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("outlets.toml");
}

#[test]
fn readme_says_what_a_fresh_machine_needs_and_stays_inside_the_repository() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let setup = readme
        .split_once("## Set up and run")
        .and_then(|(_, rest)| rest.split_once("\n## "))
        .map(|(setup, _)| setup)
        .expect("a setup section");
    assert!(setup.contains("C compiler"), "{setup}");
    assert!(setup.contains("SQLite"), "{setup}");
    assert!(setup.contains("target/"), "disk for target/: {setup}");
    assert!(setup.contains("cargo install --locked --path ."), "{setup}");
    for outside in ["../", "/work/", "shared/api"] {
        assert!(
            !readme.contains(outside),
            "README points outside the repository: {outside}"
        );
    }
}
