//! `sheetload ui` with a 100,000-row workbook (not a timed test): the release binary
//! serves the wizard; the bench uploads a generated 100k-row customer XLSX (9 columns, 1%
//! invalid rows), opens the Review grid (every row validated), then times pages of the
//! grid, the "only rows with problems" filter and a cell edit, and prints the server's
//! peak RSS (`VmHWM`, read until it exits). Run with `cargo bench --bench web`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const HEAD: [&str; 9] = [
    "Nama",
    "Alamat",
    "Kota",
    "No HP",
    "Kode Pelanggan",
    "Lintang",
    "Bujur",
    "Tag",
    "Aktif",
];

fn make_xlsx(path: &Path, rows: usize) {
    if path.exists() {
        return;
    }
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet_with_constant_memory().expect("sheet");
    ws.set_name("Customers").expect("name");
    for (c, h) in HEAD.iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("write");
    }
    for i in 0..rows {
        let n = i as u32 + 1;
        let phone = if i % 100 == 99 {
            "08xx-123".to_string()
        } else {
            format!("08{:010}", 1_200_000_000 + i)
        };
        let cells = [
            format!("Toko Sumber Rejeki {i}"),
            format!("Jl. Pemuda No. {}", i % 500 + 1),
            "Semarang".to_string(),
            phone,
            format!("C{i:07}"),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(n, c as u16, v).expect("write");
        }
        ws.write_number(n, 5, -7.0 - (i % 1000) as f64 / 1000.0)
            .expect("write");
        ws.write_number(n, 6, 110.0 + (i % 997) as f64 / 1000.0)
            .expect("write");
        ws.write_string(n, 7, "Retail").expect("write");
        ws.write_string(n, 8, "ya").expect("write");
    }
    book.save(path).expect("save xlsx");
}

fn multipart(path: &Path) -> (String, Vec<u8>) {
    let b = "XbenchBoundaryX";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{b}\r\nContent-Disposition: form-data; name=\"entity\"\r\n\r\ncustomers\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"customers-100k.xlsx\"\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(&std::fs::read(path).expect("fixture"));
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-data");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let xlsx = dir.join("customers-100k-ui.xlsx");
    eprintln!("generating {} (cached)…", xlsx.display());
    make_xlsx(&xlsx, 100_000);
    let home = tempfile::tempdir().expect("home");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sheetload"))
        .args(["ui", "--no-open"])
        .env("SHEETLOAD_HOME", home.path())
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sheetload ui");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let login = loop {
        let l = lines.next().expect("a line").expect("utf-8");
        if let Some(u) = l.strip_prefix("open: ") {
            break u.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let base = login.split("/login").next().unwrap_or_default().to_string();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut rows = Vec::new();
    rt.block_on(async {
        let res = c.get(&login).send().await.expect("login");
        let cookie = res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let timed =
            |what: String, t: Instant, ok: bool| (what, t.elapsed().as_secs_f64() * 1000.0, ok);
        let (kind, body) = multipart(&xlsx);
        let t = Instant::now();
        let up = c
            .post(format!("{base}/upload"))
            .header("cookie", &cookie)
            .header("content-type", kind)
            .body(body)
            .send()
            .await
            .expect("upload");
        rows.push(timed(
            "upload 100k-row XLSX (stored, opened, header found)".into(),
            t,
            up.status() == 303,
        ));
        let t = Instant::now();
        let first = c
            .get(format!("{base}/review"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("review");
        let ok = first.status() == 200 && first.text().await.unwrap_or_default().contains("99,000");
        rows.push(timed(
            "first Review page (prepare + validate every row)".into(),
            t,
            ok,
        ));
        for page in [1usize, 10, 500, 1999] {
            let t = Instant::now();
            let r = c
                .get(format!("{base}/review?page={page}"))
                .header("cookie", &cookie)
                .send()
                .await
                .expect("page");
            let ok = r.status() == 200 && r.text().await.is_ok();
            rows.push(timed(format!("grid page {page} (50 rows)"), t, ok));
        }
        for page in [0usize, 19] {
            let t = Instant::now();
            let r = c
                .get(format!("{base}/review?problems=1&page={page}"))
                .header("cookie", &cookie)
                .send()
                .await
                .expect("page");
            let ok = r.status() == 200 && r.text().await.is_ok();
            rows.push(timed(
                format!("only rows with problems, page {page}"),
                t,
                ok,
            ));
        }
        let t = Instant::now();
        let r = c
            .post(format!("{base}/review/cell"))
            .header("cookie", &cookie)
            .form(&[("row", "100"), ("col", "3"), ("value", "081234567890")])
            .send()
            .await
            .expect("edit");
        let ok = r.status() == 200 && r.text().await.unwrap_or_default().contains("VALID");
        rows.push(timed("edit a red cell (row re-validated)".into(), t, ok));
    });
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let run = common::watch(&mut child, started, None);
    println!("| step | ms | ok |");
    println!("|---|---:|---|");
    for (what, ms, ok) in rows {
        println!("| {what} | {ms:.0} | {} |", if ok { "yes" } else { "NO" });
    }
    println!("server peak RSS: {:.0} MB", run.peak_mb);
}
