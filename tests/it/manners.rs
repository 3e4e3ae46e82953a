//! Command-line manners: shell completions and the man page generated from the clap
//! definitions, the request log of `-v`/`-vv` (and that no credential reaches it), and
//! Ctrl-C / SIGTERM against a real running process and a slow or failing sandbox.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Target, TestEnv, count, records, spawn_sandbox};
use sheetload::sandbox::{SandboxOptions, ThreadSandbox};

/// Every subcommand `sheetload --help` lists.
const SUBCOMMANDS: [&str; 10] = [
    "import",
    "validate",
    "export",
    "resume",
    "retry",
    "runs",
    "template",
    "sandbox",
    "completions",
    "man",
];

#[test]
fn completions_are_generated_for_every_shell_and_name_every_subcommand() {
    let help = TestEnv::new().args(["--help"]).run();
    help.expect_code(0);
    for sub in SUBCOMMANDS {
        assert!(
            help.stdout.contains(&format!("  {sub}")),
            "{sub} not in --help"
        );
    }
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let done = TestEnv::new().args(["completions", shell]).run();
        done.expect_code(0);
        assert!(
            done.stdout.contains("sheetload"),
            "{shell}: {}",
            done.stdout
        );
        if shell == "bash" {
            for sub in SUBCOMMANDS {
                assert!(done.stdout.contains(sub), "bash completion lacks {sub}");
            }
            // Flags and value enums are completed too.
            for word in ["--entity", "--dry-run", "--color", "zsh"] {
                assert!(done.stdout.contains(word), "bash completion lacks {word}");
            }
        }
    }
    TestEnv::new()
        .args(["completions", "tcsh"])
        .run()
        .expect_code(2)
        .stderr_has("possible values");
}

#[test]
fn the_man_page_names_every_subcommand_and_pages_can_be_written_to_a_folder() {
    let done = TestEnv::new().args(["man"]).run();
    done.expect_code(0);
    assert!(done.stdout.starts_with(".ie") || done.stdout.contains(".TH"));
    for sub in SUBCOMMANDS {
        assert!(
            done.stdout.contains(&format!("sheetload\\-{sub}")),
            "the man output has no page for {sub}"
        );
    }
    assert!(
        done.stdout.contains("SHEETLOAD_BASE_URL"),
        "env vars are documented"
    );
    // `man` itself renders it (where man is installed).
    if let Ok(mut man) = std::process::Command::new("man")
        .args(["-l", "-"])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        let mut stdin = man.stdin.take().unwrap();
        stdin.write_all(done.stdout.as_bytes()).unwrap();
        drop(stdin);
        let out = man.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("--dry-run"), "{text}");
    }

    let written = TestEnv::new().args(["man", "--dir", "man1"]).run();
    written.expect_code(0);
    for page in [
        "sheetload",
        "sheetload-import",
        "sheetload-runs-undo",
        "sheetload-man",
    ] {
        let text = std::fs::read_to_string(written.path(&format!("man1/{page}.1")))
            .unwrap_or_else(|e| panic!("{page}.1: {e}"));
        assert!(text.contains(".TH"), "{page}: {text}");
    }
}

/// The credentials a test run uses, none of which may reach stderr at any verbosity.
const PASSWORD: &str = "Pw-9xQ2-secret";

fn no_secrets(stderr: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!stderr.contains(s), "{s:?} leaked into the log:\n{stderr}");
    }
    for marker in ["Basic ", "Bearer", "smx_", "authorization", "Authorization"] {
        assert!(!stderr.contains(marker), "{marker:?} in the log:\n{stderr}");
    }
    for (i, _) in stderr.match_indices("team_token=") {
        assert!(
            stderr[i + "team_token=".len()..].starts_with("***"),
            "an unmasked team_token:\n{stderr}"
        );
    }
}

#[test]
fn vv_logs_every_request_with_status_and_timing_and_never_a_secret() {
    use base64::Engine as _;
    let sb = spawn_sandbox(SandboxOptions {
        user: "ops".into(),
        password: PASSWORD.into(),
        ..SandboxOptions::default()
    });
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ops:{PASSWORD}"));
    let levels: [(&[&str], Option<&str>); 5] = [
        (&[], None),
        (&["-v"], None),
        (&["-vv"], None),
        (&["-vvv"], None),
        (&[], Some("trace")),
    ];
    for (level, (flags, var)) in levels.into_iter().enumerate() {
        // New customers each time, so that every level sees creates.
        let csv = format!(
            "Kode Pelanggan,Nama,No HP\nL{level}A,Toko A,081234567{level}\nL{level}B,Toko B,081234568{level}\n"
        );
        let mut env = TestEnv::new()
            .against(&sb)
            .env("SHEETLOAD_USER", "ops")
            .env("SHEETLOAD_PASSWORD", PASSWORD)
            .file("c.csv", &csv)
            .args(["import", "c.csv", "-e", "customers", "--mode", "upsert"])
            .args(flags.iter().copied());
        if let Some(v) = var {
            env = env.env("SHEETLOAD_LOG", v);
        }
        let done = env.run();
        done.expect_code(0);
        no_secrets(&done.stderr, &[PASSWORD, &basic]);
        let debug = flags.iter().any(|f| f.starts_with("-vv")) || var.is_some();
        let logged = done
            .stderr
            .contains("POST /extapi/v1.0/customers?team_token=*** → 201 in ");
        assert_eq!(logged, debug, "{flags:?} {var:?}:\n{}", done.stderr);
        if debug {
            // Sign-in steps, lookups and creates, each with its row and attempt.
            for part in [
                "GET /extapi/v1.0/token → 200 in ",
                "GET /extapi/v1.0/team_token?",
                "row{row=2}:try{attempt=1}: POST /extapi/v1.0/customers",
                " ms",
            ] {
                assert!(
                    done.stderr.contains(part),
                    "{part:?} missing:\n{}",
                    done.stderr
                );
            }
        }
    }
    // The keyed targets: an API key in a header or as a bearer never shows either.
    for (target, file, entity_args) in [
        (
            Target::Trackfinity,
            "tf.csv",
            "customer_id,city\n1,Semarang\n2,Kudus\n",
        ),
        (
            Target::Fatura,
            "fe.csv",
            "Tür;Vergi No;Ünvan;Vergi Dairesi;Ülke;İl;İlçe;Adres\nşirket;9876543217;ÖRNEK GIDA A.Ş.;Kadıköy;TÜRKİYE;İstanbul;Şişli;Büyükdere Cad. No:1\n",
        ),
    ] {
        let done = TestEnv::new()
            .against(&sb)
            .target(target)
            .file(file, entity_args)
            .args([
                "import",
                file,
                "--target",
                target.name(),
                "-e",
                "customers",
                "-vvv",
            ])
            .run();
        assert!(
            done.stderr.contains(" → 200 in ") || done.stderr.contains(" → 201 in "),
            "{target:?}:\n{}",
            done.stderr
        );
        no_secrets(&done.stderr, &["tf-demo-key", "fe-demo-key"]);
    }
}

#[test]
fn v_tells_the_retries_and_waits() {
    let sb = spawn_sandbox(SandboxOptions {
        write_fail_rate: 0.5,
        seed: 7,
        ..SandboxOptions::default()
    });
    let mut csv = String::from("Kode Pelanggan,Nama,No HP\n");
    for i in 0..12 {
        csv.push_str(&format!("C{i},Toko {i},08123456{i:02}\n"));
    }
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", csv)
        .args(["import", "c.csv", "-e", "customers", "-v", "--retries", "8"])
        .run();
    done.expect_code(0);
    assert!(
        done.stderr
            .contains("POST /extapi/v1.0/customers: HTTP 503; looking it up; trying again in "),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("row{row="), "{}", done.stderr);
    assert!(
        done.stderr
            .contains("signed in to 127.0.0.1 as demo; database 1"),
        "{}",
        done.stderr
    );
    // -v is not -vv: no line per request.
    assert!(!done.stderr.contains(" → 201 in "), "{}", done.stderr);
}

fn spawn(env: &TestEnv) -> Child {
    env.command()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sheetload")
}

fn signal(child: &Child, name: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -{name} failed");
}

/// Wait until `ready` says so about the sandbox's stats, at most 30 seconds.
fn wait_until(sb: &ThreadSandbox, what: &str, ready: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready(&sb.stats()) {
        assert!(Instant::now() < deadline, "never got to: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Wait for the child to exit, at most `limit`; its exit code and stderr.
fn exits_within(mut child: Child, limit: Duration) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    loop {
        if child.try_wait().expect("poll").is_some() {
            let out = child.wait_with_output().expect("output");
            return (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
                started.elapsed(),
            );
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "still running {limit:?} after the signal:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn customers(n: usize) -> String {
    let mut csv = String::from("Kode Pelanggan,Nama,No HP\n");
    for i in 0..n {
        csv.push_str(&format!("C{i:04},Toko {i},0812{i:07}\n"));
    }
    csv
}

#[test]
fn sigterm_stops_like_ctrl_c_and_writes_the_result() {
    let sb = spawn_sandbox(SandboxOptions {
        latency_ms: 30,
        ..SandboxOptions::default()
    });
    let env = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers(600))
        .args(["import", "c.csv", "-e", "customers", "--concurrency", "4"]);
    let child = spawn(&env);
    wait_until(&sb, "40 creates", |s| {
        count(s, "POST /extapi/v1.0/customers") >= 40
    });
    signal(&child, "TERM");
    let (code, stderr, _) = exits_within(child, Duration::from_secs(30));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("sheetload resume"), "{stderr}");
    let rows = records(&env.path("c.result.xlsx"), "Results");
    assert_eq!(rows.len(), 600);
    let ok = rows.iter().filter(|r| r["_status"] == "OK").count();
    let not_sent = rows.iter().filter(|r| r["_status"] == "NOT SENT").count();
    assert!(ok >= 40 && not_sent > 0, "{ok} OK, {not_sent} not sent");
    assert_eq!(ok + not_sent, 600);
}

#[test]
fn the_second_ctrl_c_exits_at_once() {
    // Every data call stalls far beyond the run, so the first Ctrl-C alone would wait.
    // Trackfinity updates by id go out at once: no sign-in, no lookups first.
    let sb = spawn_sandbox(SandboxOptions {
        stall_rate: 1.0,
        ..SandboxOptions::default()
    });
    let mut csv = String::from("customer_id,city\n");
    for id in 1..=10 {
        csv.push_str(&format!("{id},Kudus\n"));
    }
    let env = TestEnv::new()
        .against(&sb)
        .target(Target::Trackfinity)
        .file("tf.csv", csv)
        .args([
            "import",
            "tf.csv",
            "--target",
            "trackfinity",
            "-e",
            "customers",
        ])
        .args(["--concurrency", "2", "--timeout", "120"]);
    let child = spawn(&env);
    wait_until(&sb, "two requests in flight", |s| {
        s["in_flight"].as_u64().unwrap_or(0) >= 2
    });
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(700));
    let mut child = child;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first Ctrl-C lets the requests in flight finish"
    );
    signal(&child, "INT");
    let (code, stderr, took) = exits_within(child, Duration::from_secs(5));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(stderr.contains("Ctrl-C again quits at once"), "{stderr}");
    assert!(stderr.contains("quitting now"), "{stderr}");
    // The ledger knows the run is unfinished: resume is the way on.
    let runs = TestEnv::new()
        .env("SHEETLOAD_HOME", env.dir().to_str().unwrap())
        .args(["runs", "list"])
        .run();
    runs.expect_code(0);
    assert!(
        runs.stdout.contains("tf.csv") || runs.stderr.contains("tf.csv"),
        "{}",
        runs.stdout
    );
}

#[test]
fn ctrl_c_cuts_a_retry_wait_short() {
    // Every create is refused with 503 (not stored): rows back off for minutes.
    let sb = spawn_sandbox(SandboxOptions {
        write_fail_rate: 1.0,
        ..SandboxOptions::default()
    });
    let env = TestEnv::new()
        .against(&sb)
        .file("c.csv", customers(10))
        .args(["import", "c.csv", "-e", "customers"])
        .args(["--concurrency", "2", "--retries", "12"]);
    let child = spawn(&env);
    wait_until(&sb, "each row's second try", |s| {
        count(s, "POST /extapi/v1.0/customers") >= 4
    });
    signal(&child, "INT");
    let (code, stderr, took) = exits_within(child, Duration::from_secs(10));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(took < Duration::from_secs(3), "{took:?}: {stderr}");
    let rows = records(&env.path("c.result.xlsx"), "Results");
    assert_eq!(rows.len(), 10);
    // A row cut short in the wait before its lookup may have been stored: UNKNOWN,
    // saying how it is looked up; never NOT SENT or FAILED as if nothing had left.
    assert!(
        rows.iter().all(|r| r["_status"] == "FAILED"
            || r["_status"] == "NOT SENT"
            || (r["_status"] == "UNKNOWN"
                && r["_error"].contains("--include-unknown looks it up"))),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r["_error"].contains("interrupted (Ctrl-C)")
                || r["_error"].contains("stopped before it could be looked up")),
        "{rows:?}"
    );
}

#[test]
fn sheetload_toml_is_found_in_the_xdg_config_dir_and_the_ledger_in_the_data_dir() {
    let env = TestEnv::new().file("c.csv", "Nama,Telepon\nA,0812345678\n");
    let (config, data) = (env.path("xdg-config"), env.path("xdg-data"));
    std::fs::create_dir_all(config.join("sheetload")).unwrap();
    std::fs::write(
        config.join("sheetload/sheetload.toml"),
        "[profile.office]\nbase_url = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = env
            .command()
            .env_remove("SHEETLOAD_HOME")
            .env("HOME", env.dir())
            .env("XDG_CONFIG_HOME", &config)
            .env("XDG_DATA_HOME", &data)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&["import", "c.csv", "-e", "customers", "--profile", "nope"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr
            .contains("xdg-config/sheetload/sheetload.toml has no [profile.nope]; it has: office"),
        "{stderr}"
    );
    let (code, stderr) = run(&["runs", "list"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        data.join("sheetload").is_dir(),
        "the ledger goes under XDG_DATA_HOME"
    );
}

#[test]
fn color_follows_the_flag_no_color_and_clicolor_force() {
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let mut env = TestEnv::new().args(["validate", "missing.csv", "-e", "customers"]);
        env = env.args(args.iter().copied());
        for (k, v) in envs {
            env = env.env(k, v);
        }
        let done = env.run();
        done.expect_code(2);
        done.stderr.clone()
    };
    const RED_ERROR: &str = "\u{1b}[1m\u{1b}[31merror:";
    let has_escape = |s: &str| s.contains('\u{1b}');
    // A pipe is not a terminal: no colour unless asked for.
    assert!(!has_escape(&run(&[], &[])));
    assert!(run(&["--color", "always"], &[]).contains(RED_ERROR));
    assert!(run(&[], &[("CLICOLOR_FORCE", "1")]).contains(RED_ERROR));
    assert!(!has_escape(&run(
        &["--color", "never"],
        &[("CLICOLOR_FORCE", "1")]
    )));
    assert!(!has_escape(&run(
        &[],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    )));
    // clap's own errors obey --color too.
    let done = TestEnv::new()
        .env("CLICOLOR_FORCE", "1")
        .args(["--color", "never", "import", "--nope"])
        .run();
    done.expect_code(2);
    assert!(!has_escape(&done.stderr), "{}", done.stderr);
}

#[test]
fn sheetload_log_blank_is_off_and_a_wrong_level_is_named() {
    TestEnv::new()
        .env("SHEETLOAD_LOG", "")
        .args(["runs", "list"])
        .run()
        .expect_code(0);
    TestEnv::new()
        .env("SHEETLOAD_LOG", "loud")
        .args(["runs", "list"])
        .run()
        .expect_code(2)
        .stderr_has("'loud' is not a log level: use off, error, warn, info, debug or trace");
}
