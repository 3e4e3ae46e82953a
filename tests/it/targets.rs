//! Trackfinity and Fatura Entegratör end to end against the sandbox: mixed sheets where
//! bad rows are INVALID and never sent, good rows land with exactly the fields given,
//! REMOVE clears, and a password never appears in any output file.

use crate::common::{Target, TestEnv, count, records, sandbox_get, unzip_all};
use sheetload::sandbox::{SandboxOptions, spawn_in_thread};

#[test]
fn trackfinity_updates_clear_and_keep_passwords_secret() {
    let sb = spawn_in_thread(SandboxOptions::default()).unwrap();
    let before = sandbox_get(&sb, "/_sandbox/trackfinity/customers/2");
    assert!(
        before.is_object(),
        "the sandbox seeds Trackfinity customers: {before}"
    );
    let secret = "N3w-Pa55word!";
    let csv = format!(
        "customer_id,subscription_id,city,address2,password,email\n\
         1,,Semarang,REMOVE,,\n\
         2,,,#CLEAR,{secret},\n\
         ,SUB-000003,Kudus,,,\n\
         4,,,,,not-an-email\n\
         5,,,,,\n\
         6,,,,REMOVE,\n"
    );
    let done = TestEnv::new()
        .against(&sb)
        .target(Target::Trackfinity)
        .file("tf.csv", &csv)
        .args([
            "import",
            "tf.csv",
            "--target",
            "trackfinity",
            "--entity",
            "customers",
            "--mode",
            "update",
        ])
        .run();
    let dir = done.dir();
    done.expect_code(1);
    let rows = records(&done.path("tf.result.xlsx"), "Results");
    let st: Vec<&str> = rows.iter().map(|r| r["_status"].as_str()).collect();
    assert_eq!(
        st,
        ["OK", "OK", "OK", "INVALID", "INVALID", "INVALID"],
        "{rows:?}"
    );
    assert!(
        rows[4]["_error"].contains("nothing to change"),
        "{}",
        rows[4]["_error"]
    );
    assert!(
        rows[5]["_error"].contains("cannot clear a password"),
        "{}",
        rows[5]["_error"]
    );
    assert_eq!(
        count(&sb.stats(), "PATCH /api/customer/set_customer_details"),
        3,
        "invalid rows never sent"
    );
    let c1 = sandbox_get(&sb, "/_sandbox/trackfinity/customers/1");
    assert_eq!(c1["city"], "Semarang");
    assert!(
        c1["address2"].is_null() || c1["address2"] == "",
        "REMOVE cleared it: {c1}"
    );
    let c2 = sandbox_get(&sb, "/_sandbox/trackfinity/customers/2");
    assert_eq!(c2["password_changes"], 1);
    assert_eq!(
        c2["city"], before["city"],
        "empty cells leave fields as they are"
    );
    // The password is in no output: result workbook, ledger, terminal.
    assert!(!done.stderr.contains(secret) && !done.stdout.contains(secret));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == "tf.csv" {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret),
            "{} holds the password",
            path.display()
        );
    }
    let unzipped = unzip_all(&done.path("tf.result.xlsx"));
    assert!(
        !unzipped.contains(secret),
        "the result workbook holds the password"
    );

    // Lock by key, and forget only with --yes.
    let done = TestEnv::new()
        .against(&sb)
        .target(Target::Trackfinity)
        .file("lock.csv", "subscription_id\nSUB-000007\n")
        .args([
            "import",
            "lock.csv",
            "--target",
            "trackfinity",
            "-e",
            "customers",
            "--mode",
            "lock",
        ])
        .run();
    done.expect_code(0);
    assert_eq!(
        sandbox_get(&sb, "/_sandbox/trackfinity/customers/7")["locked"],
        true
    );
    let done = TestEnv::new()
        .against(&sb)
        .target(Target::Trackfinity)
        .file("f.csv", "customer_id\n8\n")
        .args([
            "import",
            "f.csv",
            "--target",
            "trackfinity",
            "-e",
            "customers",
            "--mode",
            "forget",
        ])
        .run();
    done.expect_code(2).one_clear_error().stderr_has("--yes");
    assert_eq!(count(&sb.stats(), "PATCH /api/customer/forget"), 0);
}

/// Every XML part of an XLSX, as text.
#[test]
fn fatura_checks_tax_numbers_and_ibans_before_sending() {
    let sb = spawn_in_thread(SandboxOptions::default()).unwrap();
    // A Windows-1254, ;-separated export from Turkish Excel.
    let text = "Tür;Vergi No;Ünvan;Vergi Dairesi;Ad;Soyad;Ülke;İl;İlçe;Adres;Telefon;IBAN\n\
                şirket;9876543217;ÖRNEK GIDA A.Ş.;Kadıköy;;;TÜRKİYE;İstanbul;Şişli;Büyükdere Cad. 1;0532 123 45 67;TR33 0006 1005 1978 6457 8413 26\n\
                şahıs;34567890170;;;Ayşe;Yılmaz;TÜRKİYE;İzmir;Karşıyaka;Cemal Gürsel Cad. 5;;\n\
                şahıs;11111111111;;;Nihai;Tüketici;TÜRKİYE;Ankara;Çankaya;Atatürk Blv. 9;;\n\
                şirket;9876543210;YANLIŞ VKN LTD;Beyoğlu;;;TÜRKİYE;İstanbul;Beyoğlu;İstiklal Cad. 3;;\n\
                şirket;4540536920;IBAN HATALI A.Ş.;Çankaya;;;TÜRKİYE;Ankara;Çankaya;Kızılay 7;;TR850001000000000012345687\n\
                şahıs;34567890171;;;Mehmet;Demir;TÜRKİYE;Bursa;Nilüfer;FSM Blv. 2;;\n\
                şirket;4540536920;;;;;TÜRKİYE;Ankara;Çankaya;Kızılay 8;;\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1254.encode(text);
    let done = TestEnv::new()
        .against(&sb)
        .target(Target::Fatura)
        .file("fe.csv", bytes.as_ref())
        .args([
            "import",
            "fe.csv",
            "--target",
            "fatura",
            "-e",
            "customers",
            "--encoding",
            "windows-1254",
        ])
        .run();
    done.expect_code(1);
    let rows = records(&done.path("fe.result.xlsx"), "Results");
    let st: Vec<&str> = rows.iter().map(|r| r["_status"].as_str()).collect();
    assert_eq!(
        st,
        ["OK", "OK", "OK", "INVALID", "INVALID", "INVALID", "INVALID"],
        "{rows:?}"
    );
    assert!(
        rows[2]["_error"].contains("warning"),
        "placeholder warns: {}",
        rows[2]["_error"]
    );
    assert!(rows[3]["_error"].contains("VKN"), "{}", rows[3]["_error"]);
    assert!(rows[4]["_error"].contains("IBAN"), "{}", rows[4]["_error"]);
    assert!(rows[5]["_error"].contains("TCKN"), "{}", rows[5]["_error"]);
    assert!(
        rows[6]["_error"].contains("Ünvan"),
        "company needs a title: {}",
        rows[6]["_error"]
    );
    let stats = sb.stats();
    assert_eq!(
        count(&stats, "POST /api/customers"),
        3,
        "invalid rows never sent"
    );
    // Turkish text is stored byte-exact, the phone as 10 digits, the IBAN compact.
    let done = TestEnv::new()
        .against(&sb)
        .target(Target::Fatura)
        .args([
            "export",
            "customers",
            "--target",
            "fatura",
            "--out",
            "fe.xlsx",
        ])
        .run();
    done.expect_code(0);
    let exported = records(&done.path("fe.xlsx"), "Customers");
    assert_eq!(exported.len(), 3);
    let company = exported
        .iter()
        .find(|r| r["tax_number"] == "9876543217")
        .unwrap();
    assert_eq!(company["title"], "ÖRNEK GIDA A.Ş.");
    assert_eq!(company["city"], "İstanbul");
    assert_eq!(company["district"], "Şişli");
    assert_eq!(company["phone"], "5321234567");
    assert_eq!(company["iban"], "TR330006100519786457841326");

    // Upsert by tax number: the unchanged file sends nothing.
    let before =
        count(&sb.stats(), "POST /api/customers") + count(&sb.stats(), "PATCH /api/customers/{id}");
    let done = TestEnv::new()
        .against(&sb)
        .target(Target::Fatura)
        .file("fe.xlsx", std::fs::read(done.path("fe.xlsx")).unwrap())
        .args([
            "import",
            "fe.xlsx",
            "--target",
            "fatura",
            "-e",
            "customers",
            "--mode",
            "upsert",
        ])
        .run();
    done.expect_code(0);
    let after =
        count(&sb.stats(), "POST /api/customers") + count(&sb.stats(), "PATCH /api/customers/{id}");
    assert_eq!(after, before, "round trip wrote nothing");
}
