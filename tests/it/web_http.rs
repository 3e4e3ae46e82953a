//! `sheetload ui` over HTTP: the real binary on a loopback port, driven by reqwest. Every
//! security point of issue 14 §5 has a test here that fails without it, and every route
//! answers.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use reqwest::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use sheetload::sandbox::{SandboxOptions, spawn_in_thread};

/// A running `sheetload ui` child in a temp `SHEETLOAD_HOME`; killed on drop.
pub struct Ui {
    pub child: Child,
    pub home: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The printed sign-in address, with the token.
    pub login: String,
    pub port: u16,
}

impl Ui {
    /// Start `sheetload ui --no-open` with `extra` flags and environment.
    pub fn start(extra: &[&str], envs: &[(&str, &str)]) -> Ui {
        let home = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_sheetload"))
            .args(["ui", "--no-open"])
            .args(extra)
            .current_dir(home.path())
            .env("SHEETLOAD_HOME", home.path())
            .env_remove("SHEETLOAD_BASE_URL")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sheetload ui starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let login = loop {
            let line = lines
                .next()
                .expect("a line from sheetload ui")
                .expect("utf-8");
            if let Some(url) = line.strip_prefix("open: ") {
                break url.to_string();
            }
        };
        // Keep draining stderr so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let base = login.split("/login").next().unwrap_or_default().to_string();
        let port = base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        Ui {
            child,
            home,
            base,
            login,
            port,
        }
    }

    /// The session folder(s) holding this server's uploads.
    pub fn session_dirs(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.home.path().join("ui"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("session-"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Stop it as Ctrl-C would (SIGTERM) and wait.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

/// Sign in with the printed address; the cookie header to send.
async fn sign_in(ui: &Ui) -> String {
    let res = client().get(&ui.login).send().await.expect("login");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = res
        .headers()
        .get(SET_COOKIE)
        .expect("a cookie")
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_string()
}

/// The Results page once the run started in the browser has finished (20 s at most).
async fn finished_results(ui: &Ui, cookie: &str) -> String {
    let mut results = String::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        results = client()
            .get(format!("{}/results", ui.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if results.contains("Download the result workbook") {
            break;
        }
    }
    results
}

/// A multipart body with one file and the entity.
fn multipart(name: &str, bytes: &[u8], entity: &str) -> (String, Vec<u8>) {
    let b = "XsheetloadBoundaryX";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{b}\r\nContent-Disposition: form-data; name=\"entity\"\r\n\r\n{entity}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{b}\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\ncreate\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

async fn upload(ui: &Ui, cookie: &str, name: &str, bytes: &[u8]) -> (StatusCode, String) {
    let (kind, body) = multipart(name, bytes, "customers");
    let res = client()
        .post(format!("{}/upload", ui.base))
        .header(COOKIE, cookie)
        .header(ORIGIN, &ui.base)
        .header("content-type", kind)
        .body(body)
        .send()
        .await
        .expect("upload");
    (res.status(), res.text().await.unwrap_or_default())
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(name),
    )
    .expect("sample")
}

#[test]
fn every_request_without_the_token_is_refused() {
    let ui = Ui::start(&[], &[]);
    rt().block_on(async {
        for path in [
            "/",
            "/connect",
            "/assets/style.css",
            "/review",
            "/history",
            "/import/events",
        ] {
            let res = client()
                .get(format!("{}{path}", ui.base))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
            let text = res.text().await.unwrap();
            assert!(text.contains("open the address (with its token)"), "{text}");
        }
        let bad = client()
            .get(format!("{}/login?token=0123", ui.base))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
        assert!(bad.headers().get(SET_COOKIE).is_none());
        let forged = client()
            .get(format!("{}/connect", ui.base))
            .header(COOKIE, format!("sheetload_{}={}", ui.port, "f".repeat(64)))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
        let cookie = sign_in(&ui).await;
        let ok = client()
            .get(format!("{}/connect", ui.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers().get("x-frame-options").unwrap(), "DENY");
        let token = ui.login.rsplit('=').next().unwrap();
        assert!(
            !ok.text().await.unwrap().contains(token),
            "the token is never in a page"
        );
    });
}

#[test]
fn a_wrong_host_or_a_cross_site_origin_is_refused() {
    let ui = Ui::start(&[], &[]);
    rt().block_on(async {
        let cookie = sign_in(&ui).await;
        let rebound = client()
            .get(format!("{}/connect", ui.base))
            .header(COOKIE, &cookie)
            .header(HOST, format!("evil.example:{}", ui.port))
            .send()
            .await
            .unwrap();
        assert_eq!(rebound.status(), StatusCode::MISDIRECTED_REQUEST);
        assert!(
            rebound
                .text()
                .await
                .unwrap()
                .contains("answers only to 127.0.0.1")
        );
        let cross = client()
            .post(format!("{}/connect/demo", ui.base))
            .header(COOKIE, &cookie)
            .header(ORIGIN, "http://evil.example")
            .form(&[("target", "salesmania")])
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status(), StatusCode::FORBIDDEN);
        assert!(cross.text().await.unwrap().contains("another site"));
        let site = client()
            .post(format!("{}/connect/demo", ui.base))
            .header(COOKIE, &cookie)
            .header("sec-fetch-site", "cross-site")
            .form(&[("target", "salesmania")])
            .send()
            .await
            .unwrap();
        assert_eq!(site.status(), StatusCode::FORBIDDEN);
        let same = client()
            .post(format!("{}/connect/demo", ui.base))
            .header(COOKIE, &cookie)
            .header(ORIGIN, &ui.base)
            .form(&[("target", "salesmania")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            same.status(),
            StatusCode::SEE_OTHER,
            "its own pages may post"
        );
    });
}

#[test]
fn a_non_loopback_address_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_sheetload"))
        .args(["ui", "--no-open", "--bind", "0.0.0.0"])
        .env("SHEETLOAD_HOME", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("listens on this machine only") && err.contains("0.0.0.0"),
        "{err}"
    );
}

#[test]
fn uploads_are_capped_checked_owner_only_and_removed_at_the_end() {
    let mut ui = Ui::start(&["--max-upload-mb", "1", "--max-rows", "5"], &[]);
    rt().block_on(async {
        let cookie = sign_in(&ui).await;
        let (status, text) = upload(&ui, &cookie, "big.csv", &vec![b'a'; 1_200_000]).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            text.contains("larger than the upload limit of 1 MB"),
            "{text}"
        );
        let (status, text) = upload(
            &ui,
            &cookie,
            "garbage.xlsx",
            b"\x00\x01PK\x03 not a workbook at all",
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text.contains("garbage.xlsx:"), "{text}");
        let (status, text) =
            upload(&ui, &cookie, "customers.xlsx", &sample("customers.xlsx")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text.contains("has more than 5 data rows"), "{text}");
        let (status, text) = upload(
            &ui,
            &cookie,
            "small.csv",
            b"Nama,Kode Pelanggan\nToko A,C1\n",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{text}");
    });
    let dirs = ui.session_dirs();
    assert_eq!(dirs.len(), 1);
    let files: Vec<PathBuf> = std::fs::read_dir(&dirs[0])
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().ends_with("small.csv")),
        "{files:?}"
    );
    assert!(
        !files.iter().any(|f| f.to_string_lossy().contains("big.csv")
            || f.to_string_lossy().contains("garbage")
            || f.to_string_lossy().contains("customers")),
        "refused uploads are not kept: {files:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dirs[0]), 0o700);
        for f in &files {
            if f.to_string_lossy().ends_with("small.csv") {
                assert_eq!(mode(f), 0o600, "{}", f.display());
            }
        }
    }
    ui.stop();
    assert!(
        !dirs[0].exists(),
        "the uploads are removed when the server stops"
    );
}

#[test]
fn every_route_answers_and_a_run_is_in_the_cli_ledger_with_no_secret_anywhere() {
    let password = "Pw-3xample-Never-Shown";
    let sb = spawn_in_thread(SandboxOptions {
        password: password.into(),
        ..SandboxOptions::default()
    })
    .expect("sandbox");
    let ui = Ui::start(&[], &[]);
    let pages = rt().block_on(async {
        let cookie = sign_in(&ui).await;
        let c = client();
        let post = |path: &str, form: &[(&str, &str)]| {
            c.post(format!("{}{path}", ui.base))
                .header(COOKIE, &cookie)
                .header(ORIGIN, &ui.base)
                .form(form)
                .send()
        };
        let wrong = post(
            "/connect",
            &[
                ("target", "salesmania"),
                ("base_url", &sb.base_url()),
                ("user", "demo"),
                ("secret", "nope"),
                ("database", "1"),
            ],
        )
        .await
        .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.text().await.unwrap().contains("refused the sign-in"));
        let ok = post(
            "/connect",
            &[
                ("target", "salesmania"),
                ("base_url", &sb.base_url()),
                ("user", "demo"),
                ("secret", password),
                ("database", "1"),
            ],
        )
        .await
        .unwrap();
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        let listed = post(
            "/connect/databases",
            &[
                ("target", "salesmania"),
                ("base_url", &sb.base_url()),
                ("user", "demo"),
                ("secret", ""),
            ],
        )
        .await
        .unwrap();
        assert_eq!(listed.status(), StatusCode::OK);
        let listed = listed.text().await.unwrap();
        assert!(
            listed.contains(
                r#"<select id="database" name="database"><option value="1">Demo</option>"#
            ),
            "the picker lists the account's databases, the typed password reused: {listed}"
        );
        let (status, _) = upload(
            &ui,
            &cookie,
            "customers-with-errors.xlsx",
            &sample("customers-with-errors.xlsx"),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let mut pages = Vec::new();
        for path in [
            "/connect",
            "/upload",
            "/map",
            "/review",
            "/review?problems=1&page=0",
            "/review/counts",
            "/map/download",
            "/dryrun",
            "/import",
            "/history",
            "/export",
            "/templates",
            "/templates/salesmania/customers",
            "/assets/app.js",
        ] {
            let res = c
                .get(format!("{}{path}", ui.base))
                .header(COOKIE, &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            pages.push(res.bytes().await.unwrap().to_vec());
        }
        let fixed = c
            .get(format!("{}/review/fixed.xlsx", ui.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(fixed.status(), StatusCode::OK);
        assert!(fixed.bytes().await.unwrap().starts_with(b"PK"), "an xlsx");
        let start = post("/import", &[("concurrency", "4")]).await.unwrap();
        assert_eq!(start.status(), StatusCode::SEE_OTHER);
        let results = finished_results(&ui, &cookie).await;
        assert!(
            results.contains("3 OK") && results.contains("10 invalid"),
            "{results}"
        );
        let events = c
            .get(format!("{}/import/events", ui.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            events.headers().get("content-type").unwrap(),
            "text/event-stream"
        );
        assert!(events.text().await.unwrap().contains("event: done"));
        let book = c
            .get(format!("{}/results/download", ui.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(book.status(), StatusCode::OK);
        pages.push(book.bytes().await.unwrap().to_vec());
        for path in ["/results", "/history", "/history/1", "/history/1/undo"] {
            let res = c
                .get(format!("{}{path}", ui.base))
                .header(COOKIE, &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            pages.push(res.bytes().await.unwrap().to_vec());
        }
        let export = post("/export", &[("what", "customers"), ("format", "csv")])
            .await
            .unwrap();
        assert_eq!(export.status(), StatusCode::OK);
        let csv = export.text().await.unwrap();
        assert_eq!(
            csv.lines().count(),
            4,
            "a header and the 3 customers created: {csv}"
        );
        let unconfirmed = post("/history/1/undo", &[]).await.unwrap();
        assert_eq!(
            unconfirmed.status(),
            StatusCode::SEE_OTHER,
            "no undo without the confirmation"
        );
        let undone = post("/history/1/undo", &[("confirm", "yes")])
            .await
            .unwrap();
        let text = undone.text().await.unwrap();
        assert!(text.contains("deleted 3 of 3 customers"), "{text}");
        pages
    });
    assert_eq!(sb.stats()["databases"]["1"]["records"]["customers"], 0);
    for p in &pages {
        assert!(
            !String::from_utf8_lossy(p).contains(password),
            "no page or download holds the password"
        );
    }
    let list = Command::new(env!("CARGO_BIN_EXE_sheetload"))
        .args(["runs", "list"])
        .env("SHEETLOAD_HOME", ui.home.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains("undone") && text.contains("customers"),
        "{text}"
    );
    let ledger = std::fs::read(ui.home.path().join("ledger.sqlite3")).unwrap();
    assert!(
        !String::from_utf8_lossy(&ledger).contains(password),
        "the ledger holds no password"
    );
}

#[test]
fn the_failed_rows_are_fixed_in_the_grid_and_retried() {
    let sb = spawn_in_thread(SandboxOptions::default()).expect("sandbox");
    let ui = Ui::start(
        &[],
        &[
            ("SHEETLOAD_BASE_URL", &sb.base_url()),
            ("SHEETLOAD_USER", "demo"),
            ("SHEETLOAD_PASSWORD", "demo"),
            ("SHEETLOAD_DATABASE", "1"),
        ],
    );
    rt().block_on(async {
        let cookie = sign_in(&ui).await;
        let c = client();
        let post = |path: &str, form: &[(&str, &str)]| {
            c.post(format!("{}{path}", ui.base))
                .header(COOKIE, &cookie)
                .header(ORIGIN, &ui.base)
                .form(form)
                .send()
        };
        let ok = post(
            "/connect",
            &[("target", "salesmania"), ("base_url", &sb.base_url())],
        )
        .await
        .unwrap();
        assert_eq!(
            ok.status(),
            StatusCode::SEE_OTHER,
            "the password comes from the environment"
        );
        let (status, _) = upload(
            &ui,
            &cookie,
            "customers-with-errors.xlsx",
            &sample("customers-with-errors.xlsx"),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        post("/import", &[("concurrency", "2")]).await.unwrap();
        assert!(finished_results(&ui, &cookie).await.contains("3 OK"));
        let fix = post("/results/fix", &[]).await.unwrap();
        assert_eq!(fix.status(), StatusCode::SEE_OTHER);
        let grid = c
            .get(format!("{}/review", ui.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            grid.contains(r#"data-cell="Failed!D3" data-value="0812-34AB-7890" class="bad""#),
            "the Failed sheet in the grid: {grid}"
        );
        let edited = post(
            "/review/cell",
            &[("row", "3"), ("col", "3"), ("value", "081234567890")],
        )
        .await
        .unwrap();
        assert!(edited.text().await.unwrap().contains("status-VALID"));
        post("/import", &[("concurrency", "2")]).await.unwrap();
        let again = finished_results(&ui, &cookie).await;
        assert!(
            again.contains("10 rows")
                && again.contains("1 OK")
                && again.contains(".result.retry.xlsx"),
            "{again}"
        );
    });
    assert_eq!(sb.stats()["databases"]["1"]["records"]["customers"], 4);
}

#[test]
fn try_with_demo_data_needs_no_account() {
    let ui = Ui::start(&[], &[]);
    rt().block_on(async {
        let cookie = sign_in(&ui).await;
        let c = client();
        let connect = c
            .get(format!("{}/connect", ui.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(connect.contains("Try with demo data"));
        let demo = c
            .post(format!("{}/connect/demo", ui.base))
            .header(COOKIE, &cookie)
            .header(ORIGIN, &ui.base)
            .form(&[("target", "salesmania")])
            .send()
            .await
            .unwrap();
        assert_eq!(demo.status(), StatusCode::SEE_OTHER);
        let (status, _) = upload(&ui, &cookie, "customers.xlsx", &sample("customers.xlsx")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let start = c
            .post(format!("{}/import", ui.base))
            .header(COOKIE, &cookie)
            .header(ORIGIN, &ui.base)
            .form(&[("concurrency", "4")])
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), StatusCode::SEE_OTHER);
        let results = finished_results(&ui, &cookie).await;
        assert!(
            results.contains("&quot;Demo&quot; (db 1)") && results.contains(" 0 failed"),
            "{results}"
        );
        assert!(results.contains("Every row went through"), "{results}");
    });
}

#[test]
fn a_mapping_with_a_default_is_saved_and_applied_next_time_the_headers_match() {
    let ui = Ui::start(&[], &[]);
    rt().block_on(async {
        let cookie = sign_in(&ui).await;
        let c = client();
        let csv = b"Outlet Title,Kode Pelanggan\nToko A,C1\nToko B,\n";
        let (status, _) = upload(&ui, &cookie, "outlets.csv", csv).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let map = c
            .get(format!("{}/map", ui.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            map.contains(r#"<tr class="missing"><td>name <strong>required, no column</strong>"#),
            "{map}"
        );
        let saved = c
            .post(format!("{}/map", ui.base))
            .header(COOKIE, &cookie)
            .header(ORIGIN, &ui.base)
            .form(&[
                ("col_0", "name"),
                ("col_1", "ext_cust_no"),
                ("extra_kind", "default"),
                ("extra_field", "ext_cust_no"),
                ("extra_value", "NO-CODE"),
                ("save", "1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let toml = c
            .get(format!("{}/map/download", ui.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            toml.contains(r#""Outlet Title" = "name""#)
                && toml.contains("[defaults]")
                && toml.contains(r#"ext_cust_no = "NO-CODE""#),
            "{toml}"
        );
        let grid = c
            .get(format!("{}/review", ui.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            grid.contains(r#"<b class="status-VALID">2</b>valid"#),
            "the default fills the empty code: {grid}"
        );
        let (status, _) = upload(&ui, &cookie, "outlets-next-month.csv", csv).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let map = c
            .get(format!("{}/map", ui.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            map.contains("The mapping you saved for these headers was applied."),
            "{map}"
        );
        assert!(
            map.contains(r#"<option value="name" selected>name</option>"#),
            "{map}"
        );
    });
}

#[test]
fn a_long_list_of_failed_rows_is_cut_at_2000_and_says_how_many_more() {
    let ui = Ui::start(&[], &[]);
    let mut csv = String::from("Kode Pelanggan,Nama,No HP\n");
    for i in 0..2_150 {
        csv.push_str(&format!("C{i:05},Toko {i},bukan-nomor\n"));
    }
    rt().block_on(async {
        let cookie = sign_in(&ui).await;
        let c = client();
        let post = |path: &str, form: &[(&str, &str)]| {
            c.post(format!("{}{path}", ui.base))
                .header(COOKIE, &cookie)
                .header(ORIGIN, &ui.base)
                .form(form)
                .send()
        };
        let demo = post("/connect/demo", &[("target", "salesmania")])
            .await
            .unwrap();
        assert_eq!(demo.status(), StatusCode::SEE_OTHER);
        let (status, _) = upload(&ui, &cookie, "bad.csv", csv.as_bytes()).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        post("/import", &[("concurrency", "4")]).await.unwrap();
        let results = finished_results(&ui, &cookie).await;
        assert_eq!(
            results.matches("<td class=\"status-INVALID\">").count(),
            2_000,
            "the page lists the first 2,000 rows"
        );
        assert!(results.contains("<th scope=\"row\">2</th>"), "row 2 first");
        assert!(
            results.contains(r#"id="more-rows">… and 150 more"#),
            "{}",
            &results[results.len().saturating_sub(2000)..]
        );
    });
}

/// Issue 32, point 1, in the browser: an import started while a terminal imports the
/// same entity into the same database (one `SHEETLOAD_HOME`) is refused, in plain words
/// without flags or commands, and sends nothing.
#[test]
fn a_browser_import_while_a_terminal_imports_the_same_entity_is_refused_in_plain_words() {
    let sb = spawn_in_thread(SandboxOptions::default()).expect("sandbox");
    // The terminal's first two creates (its whole window) wait at the sandbox until
    // the browser's import has been refused: the terminal sends all along.
    sb.hold_writes(2);
    let envs = [
        ("SHEETLOAD_BASE_URL", sb.base_url()),
        ("SHEETLOAD_USER", "demo".into()),
        ("SHEETLOAD_PASSWORD", "demo".into()),
        ("SHEETLOAD_DATABASE", "1".into()),
    ];
    let env_refs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ui = Ui::start(&[], &env_refs);
    let mut csv = String::from("Kode Pelanggan,Nama,Kota,No HP\n");
    for i in 1..=60 {
        csv.push_str(&format!("C{i:05},Toko {i},Semarang,0812{i:07}\n"));
    }
    std::fs::write(ui.home.path().join("c.csv"), &csv).unwrap();
    let mut terminal = crate::common::demo_command(ui.home.path(), &sb.base_url())
        .args(["import", "c.csv", "-e", "customers", "--concurrency", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the terminal's import starts");
    let customers = || sb.stats()["databases"]["1"]["records"]["customers"].as_u64();
    while sb.writes_waiting() < 2 {
        assert!(
            terminal.try_wait().unwrap().is_none(),
            "the terminal's import ended"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let page = rt().block_on(async {
        let cookie = sign_in(&ui).await;
        let c = client();
        let post = |path: &str, form: &[(&str, &str)]| {
            c.post(format!("{}{path}", ui.base))
                .header(COOKIE, &cookie)
                .header(ORIGIN, &ui.base)
                .form(form)
                .send()
        };
        let base_url = sb.base_url();
        let connected = post(
            "/connect",
            &[("target", "salesmania"), ("base_url", &base_url)],
        );
        assert_eq!(connected.await.unwrap().status(), StatusCode::SEE_OTHER);
        let (status, _) = upload(&ui, &cookie, "c.csv", csv.as_bytes()).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        post("/import", &[("concurrency", "2")]).await.unwrap();
        let mut page = String::new();
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            page = c
                .get(format!("{}/results", ui.base))
                .header(COOKIE, &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if page.contains("msg error") || page.contains("Download the result workbook") {
                break;
            }
        }
        page
    });
    assert_eq!(
        customers().unwrap_or(0),
        0,
        "the browser's import sent nothing"
    );
    sb.hold_writes(0);
    assert_eq!(terminal.wait().unwrap().code(), Some(0));
    assert!(
        page.contains("Another import is already sending customers to")
            && page.contains("wait until it has finished"),
        "{page}"
    );
    assert!(
        !page.contains("--wait-for-lock") && !page.contains("runs show"),
        "{page}"
    );
    assert_eq!(customers(), Some(60), "every key once");
}
