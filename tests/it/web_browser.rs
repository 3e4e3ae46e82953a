//! `sheetload ui` in a real browser: headless Chromium over WebDriver (chromedriver),
//! against the real binary and an in-process sandbox. The whole flow — upload a workbook
//! with mistakes, map an unrecognised column by hand, fix a red cell, dry run, import,
//! check the sandbox's records and the downloaded result workbook; Stop mid-import, then
//! `sheetload resume` from the CLI; a second browser without the token is refused.
//! Screenshots of each step go to `<target>/tmp/ui-screenshots/`.
//!
//! Skipped, saying so, where Chromium or chromedriver is missing (`.ci/run` installs them).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use sheetload::sandbox::{SandboxOptions, ThreadSandbox, spawn_in_thread};

use crate::common::{records, xlsx};
use crate::web_http::{Ui, client as http};

const DRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port; killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Option<Driver> {
    let path = if Path::new(DRIVER).exists() {
        PathBuf::from(DRIVER)
    } else {
        let found = Command::new("sh")
            .args(["-c", "command -v chromedriver"])
            .output()
            .ok()?;
        let p = String::from_utf8_lossy(&found.stdout).trim().to_string();
        if p.is_empty() {
            return None;
        }
        PathBuf::from(p)
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(Driver { child, url });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

async fn browser(d: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    let mut chrome = serde_json::json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800"]
    });
    if Path::new("/usr/bin/chromium").exists() {
        chrome["binary"] = "/usr/bin/chromium".into();
    }
    caps.insert("goog:chromeOptions".into(), chrome);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&d.url)
        .await
        .expect("a Chromium session")
}

fn shots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(shots().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn css(c: &Client, sel: &str) -> fantoccini::elements::Element {
    match c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(sel))
        .await
    {
        Ok(e) => e,
        Err(e) => panic!("{sel}: {e}; page: {}", c.source().await.unwrap_or_default()),
    }
}

/// The customers workbook with mistakes: a bad phone (row 4), a column no alias names.
fn workbook(dir: &Path, rows: usize) -> PathBuf {
    let path = dir.join("pelanggan.xlsx");
    xlsx(&path, "Pelanggan", |ws| {
        for (c, h) in [
            "Nama",
            "Kode Pelanggan",
            "No HP",
            "Kota",
            "Alamat Lengkap Toko",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for r in 1..=rows as u32 {
            let phone = if r == 3 {
                "0812-34AB-7890".to_string()
            } else {
                format!("08123456{r:04}")
            };
            for (c, v) in [
                format!("Toko {r}"),
                format!("WEB-{r:04}"),
                phone,
                "Semarang".into(),
                format!("Jl. Pemuda {r}"),
            ]
            .iter()
            .enumerate()
            {
                ws.write_string(r, c as u16, v).unwrap();
            }
        }
    });
    path
}

fn demo_env(sb: &ThreadSandbox) -> Vec<(&'static str, String)> {
    vec![
        ("SHEETLOAD_BASE_URL", sb.base_url()),
        ("SHEETLOAD_USER", "demo".into()),
        ("SHEETLOAD_PASSWORD", "demo".into()),
        ("SHEETLOAD_DATABASE", "1".into()),
    ]
}

fn start_ui(sb: &ThreadSandbox) -> Ui {
    let env = demo_env(sb);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Ui::start(&[], &pairs)
}

/// Connect (the form is filled from the environment), upload, map the unrecognised
/// column to `address`, open the Review grid.
async fn to_review(c: &Client, ui: &Ui, file: &Path, screens: bool) {
    c.goto(&ui.login).await.unwrap();
    css(c, "#connect").await;
    if screens {
        shot(c, "01-connect").await;
    }
    css(c, "#connect").await.click().await.unwrap();
    css(c, "#file")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    css(c, "#upload").await.click().await.unwrap();
    css(c, "#to-map").await;
    if screens {
        shot(c, "02-upload").await;
    }
    css(c, "#to-map").await.click().await.unwrap();
    css(c, "select#col_4")
        .await
        .select_by_value("address")
        .await
        .unwrap();
    if screens {
        shot(c, "03-map").await;
    }
    css(c, "#to-review").await.click().await.unwrap();
    css(c, "table.grid").await;
}

async fn wait_text(c: &Client, sel: &str, want: &str) -> String {
    for _ in 0..300 {
        if let Ok(e) = c.find(Locator::Css(sel)).await
            && let Ok(t) = e.text().await
            && t.contains(want)
        {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{sel} never said {want:?}; page: {}",
        c.source().await.unwrap_or_default()
    );
}

#[test]
fn the_whole_flow_in_a_real_browser() {
    let Some(d) = driver() else {
        println!(
            "skipped: no chromium/chromedriver (install them: apt-get install chromium chromium-driver)"
        );
        return;
    };
    let sb = spawn_in_thread(SandboxOptions::default()).expect("sandbox");
    let ui = start_ui(&sb);
    let work = tempfile::tempdir().unwrap();
    let file = workbook(work.path(), 5);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = browser(&d).await;
        to_review(&c, &ui, &file, true).await;
        let bad = css(&c, "tr[data-row='4'] td[data-col='2'].bad").await;
        assert!(
            bad.attr("title")
                .await
                .unwrap()
                .unwrap_or_default()
                .contains("phone")
        );
        shot(&c, "04-review").await;
        bad.click().await.unwrap();
        let input = css(&c, "tr[data-row='4'] td.editing input").await;
        input.send_keys("081234567777\u{e007}").await.unwrap();
        wait_text(&c, "tr[data-row='4'] td:nth-child(2)", "VALID").await;
        wait_text(&c, "#counts", "0\nwith problems").await;
        shot(&c, "05-fixed").await;
        css(&c, "#dry-run").await.click().await.unwrap();
        css(&c, "table.plan").await;
        let plan = c.source().await.unwrap();
        assert!(plan.contains("would create 5"), "{plan}");
        shot(&c, "06-dry-run").await;
        css(&c, "#to-import").await.click().await.unwrap();
        css(&c, "#concurrency").await;
        shot(&c, "07-import").await;
        css(&c, "#start-import").await.click().await.unwrap();
        css(&c, "#download-result").await;
        let results = c.source().await.unwrap();
        assert!(results.contains("5 OK"), "{results}");
        shot(&c, "08-results").await;
        // The downloaded workbook is the file the run wrote.
        let cookie = c
            .get_all_cookies()
            .await
            .unwrap()
            .into_iter()
            .find(|k| k.name() == format!("sheetload_{}", ui.port))
            .expect("the session cookie");
        let bytes = http()
            .get(format!("{}/results/download", ui.base))
            .header("cookie", format!("{}={}", cookie.name(), cookie.value()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let got = work.path().join("downloaded.xlsx");
        std::fs::write(&got, &bytes).unwrap();
        let rows = records(&got, "Results");
        assert_eq!(rows.len(), 5);
        assert!(rows.iter().all(|r| r["_status"] == "OK"), "{rows:?}");
        assert_eq!(rows[2]["No HP"], "081234567777", "the fixed cell was sent");
        assert_eq!(rows[0]["Alamat Lengkap Toko"], "Jl. Pemuda 1");
        c.goto(&format!("{}/history", ui.base)).await.unwrap();
        css(&c, "a[href='/history/1']").await;
        shot(&c, "09-history").await;
        c.close().await.unwrap();
        // A second browser, without the token, is refused.
        let other = browser(&d).await;
        other.goto(&format!("{}/review", ui.base)).await.unwrap();
        let refused = other.source().await.unwrap();
        assert!(refused.contains("has not signed in"), "{refused}");
        assert!(!refused.contains("Toko 1"));
        other.close().await.unwrap();
    });
    let stats = sb.stats();
    assert_eq!(stats["databases"]["1"]["records"]["customers"], 5);
    let list = Command::new(env!("CARGO_BIN_EXE_sheetload"))
        .args(["runs", "list"])
        .env("SHEETLOAD_HOME", ui.home.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("completed"));
}

#[test]
fn stop_in_the_browser_then_resume_from_the_cli() {
    let Some(d) = driver() else {
        println!(
            "skipped: no chromium/chromedriver (install them: apt-get install chromium chromium-driver)"
        );
        return;
    };
    let sb = spawn_in_thread(SandboxOptions {
        latency_ms: 150,
        ..SandboxOptions::default()
    })
    .expect("sandbox");
    let ui = start_ui(&sb);
    let work = tempfile::tempdir().unwrap();
    let file = workbook(work.path(), 60);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = browser(&d).await;
        to_review(&c, &ui, &file, false).await;
        c.goto(&format!("{}/import", ui.base)).await.unwrap();
        let n = css(&c, "#concurrency").await;
        n.clear().await.unwrap();
        n.send_keys("1").await.unwrap();
        css(&c, "#start-import").await.click().await.unwrap();
        css(&c, "#stop").await;
        for _ in 0..200 {
            let done: u64 = c
                .find(Locator::Css("#p-done"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
                .parse()
                .unwrap_or(0);
            if done >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        shot(&c, "10-importing").await;
        css(&c, "#stop").await.click().await.unwrap();
        c.goto(&format!("{}/results", ui.base)).await.unwrap();
        let text = wait_text(&c, "main", "sheetload resume").await;
        assert!(text.contains("not sent"), "{text}");
        shot(&c, "11-stopped").await;
        c.close().await.unwrap();
    });
    let before = sb.stats()["databases"]["1"]["records"]["customers"]
        .as_u64()
        .unwrap();
    assert!((1..60).contains(&before), "stopped part-way: {before}");
    let mut resume = Command::new(env!("CARGO_BIN_EXE_sheetload"));
    resume
        .arg("resume")
        .env("SHEETLOAD_HOME", ui.home.path())
        .envs(demo_env(&sb));
    let out = resume.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "row 3 is invalid: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = sb.stats();
    assert_eq!(
        stats["databases"]["1"]["records"]["customers"], 59,
        "every valid row once"
    );
}
