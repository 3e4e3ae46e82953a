//! Security checks as tests: TLS certificates verified, keys never printed or stored,
//! formula-like cells never turned into formulas in any output.

use std::net::TcpListener;
use std::process::{Command, Stdio};

use crate::common::{self, Target, TestEnv, connected, unzip_all};
use sheetload::sandbox::{SandboxOptions, spawn_in_thread};

/// Every part of an XLSX (zip) as text.
#[test]
fn tls_certificates_are_verified() {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("k.pem"), dir.path().join("c.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-days",
            "1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed (Debian package openssl)");
    assert!(made.success());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-www",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
        ])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until it listens.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let done = TestEnv::new()
        .env("SHEETLOAD_USER", "demo")
        .env("SHEETLOAD_PASSWORD", "demo")
        .file("c.csv", "Nama\nToko A\n")
        .args([
            "import",
            "c.csv",
            "-e",
            "customers",
            "--base-url",
            &format!("https://localhost:{port}"),
        ])
        .run();
    let _ = server.kill();
    let _ = server.wait();
    done.expect_code(2)
        .one_clear_error()
        .stderr_has("certificate");
}

#[test]
fn api_keys_never_reach_messages_or_files() {
    let sb = spawn_in_thread(SandboxOptions::default()).unwrap();
    let csv = "Tür;Vergi No;Ünvan;Vergi Dairesi;Ülke;İl;İlçe;Adres\nşirket;9876543217;A A.Ş.;Kadıköy;TÜRKİYE;İstanbul;Şişli;Adres 1\n";
    // A wrong key: refused, and the message does not echo it.
    let done = TestEnv::new()
        .env("SHEETLOAD_BASE_URL", &sb.base_url())
        .env("SHEETLOAD_API_KEY", "wrong-key-Zq81")
        .file("f.csv", csv)
        .args(["import", "f.csv", "--target", "fatura", "-e", "customers"])
        .run();
    assert_ne!(done.code, 0);
    assert!(!done.stderr.contains("wrong-key-Zq81"), "{}", done.stderr);
    // The right key: nothing it writes holds the key.
    let done = TestEnv::new()
        .against(&sb)
        .target(Target::Fatura)
        .file("f.csv", csv)
        .args([
            "import",
            "f.csv",
            "--target",
            "fatura",
            "-e",
            "customers",
            "--json",
        ])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    assert!(!done.stderr.contains("fe-demo-key") && !done.stdout.contains("fe-demo-key"));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = if path.extension().is_some_and(|e| e == "xlsx") {
            unzip_all(&path)
        } else {
            String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()
        };
        assert!(
            !text.contains("fe-demo-key"),
            "{} holds the API key",
            path.display()
        );
    }
}

#[test]
fn formula_like_cells_never_become_formulas() {
    let sb = spawn_in_thread(SandboxOptions::default()).unwrap();
    let csv = "Kode Pelanggan,Nama,Alamat\nC1,=HYPERLINK(\"http://x\"),@SUM(A1)\nC2,+cmd|' /C calc'!A0,-2+3\n";
    let done = TestEnv::new()
        .against(&sb)
        .file("c.csv", csv)
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    let dir = done.dir();
    done.expect_code(0);
    let result = unzip_all(&done.path("c.result.xlsx"));
    assert!(
        !result.contains("<f>"),
        "the result workbook holds a formula"
    );
    // Exports: XLSX with no formula, CSV with the guard.
    let run = |args: &[&str]| {
        let out = connected(dir, &sb.base_url(), Target::SalesMania)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["export", "customers", "--out", "e.xlsx"]);
    run(&["export", "customers", "--out", "e.csv"]);
    assert!(!unzip_all(&dir.join("e.xlsx")).contains("<f>"));
    let text = std::fs::read_to_string(dir.join("e.csv")).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(text.contains("'@SUM(A1)"), "{text}");
    assert!(text.contains("'+cmd"), "{text}");
    assert!(
        text.contains(",-2+3"),
        "numbers-only text stays as it is: {text}"
    );
    // And the guarded CSV imports back to the same text.
    run(&["import", "e.csv", "-e", "customers", "--mode", "upsert"]);
    let back = common::records(&dir.join("e.result.xlsx"), "Results");
    assert!(back.iter().all(|r| r["_status"] == "SKIPPED"), "{back:?}");
}
