//! Hostile and odd CSV files, and the files around them (mapping files, sheetload.toml),
//! every one generated here: each ends in under 5 s and under 300 MB with either a
//! row-level reason or one sentence and exit 2, and no row disappears from the count.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TestEnv, records, sheetload_in};

/// What a measured run of the binary did.
struct Measured {
    code: i32,
    stderr: String,
    seconds: f64,
    peak_mb: f64,
}

/// Run `sheetload ARGS` in `dir` (also its ledger home), polling the child's peak RSS
/// (`VmHWM`, Linux) until it exits.
fn measure(dir: &Path, args: &[&str]) -> Measured {
    let err_path = dir.join(format!("stderr-{}.txt", fastrand_suffix()));
    let err_file = std::fs::File::create(&err_path).expect("stderr file");
    let started = Instant::now();
    let mut child = sheetload_in(dir)
        .args(args)
        .env_remove("SHEETLOAD_PASSWORD")
        .env_remove("SHEETLOAD_BASE_URL")
        .env_remove("SHEETLOAD_PROFILE")
        .stdout(Stdio::null())
        .stderr(Stdio::from(err_file))
        .spawn()
        .expect("spawn sheetload");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let code = loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            for l in s.lines() {
                if let Some(v) = l.strip_prefix("VmHWM:") {
                    let kb = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    peak_kb = peak_kb.max(kb);
                }
            }
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code().unwrap_or(-1);
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{args:?} hangs"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    Measured {
        code,
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        seconds: started.elapsed().as_secs_f64(),
        peak_mb: peak_kb as f64 / 1024.0,
    }
}

/// A distinct name per call, so that several runs in one directory keep their stderr.
fn fastrand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

impl Measured {
    /// The bounds: under 5 s (debug build) and 300 MB, never a panic.
    fn bounded(&self) -> &Self {
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        assert!(
            self.seconds < 5.0,
            "took {:.1}s: {}",
            self.seconds,
            self.stderr
        );
        assert!(self.peak_mb < 300.0, "peak {:.0} MB", self.peak_mb);
        self
    }

    /// Refused with exit 2 and exactly one short error sentence containing `needle`.
    fn refused(&self, needle: &str) -> &Self {
        self.bounded();
        assert_eq!(self.code, 2, "{}", self.stderr);
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "one error line:\n{}", self.stderr);
        assert!(self.stderr.lines().count() <= 3, "short:\n{}", self.stderr);
        assert!(
            self.stderr.contains(needle),
            "lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    /// Finished (0 or 1) and the summary counts `rows` rows: none vanished.
    fn counted(&self, rows: &str) -> &Self {
        self.bounded();
        assert!(self.code == 0 || self.code == 1, "{}", self.stderr);
        assert!(
            self.stderr.contains(&format!("{rows} rows")),
            "expected {rows} rows:\n{}",
            self.stderr
        );
        self
    }

    fn has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

const HEAD: &str = "Nama,Alamat,Kota,Kode Pelanggan";

/// `n` customer lines (without header), one per line.
fn lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("Toko {i},Jl Pemuda {i},Semarang,C{i:03}"))
        .collect()
}

fn csv(head: &str, body: &[String]) -> String {
    let mut s = format!("{head}\n");
    for l in body {
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// Validate `name` in `run`'s directory, then import it into a sandbox.
fn both(run: &TestEnv, name: &str, extra: &[&str]) -> (Measured, Measured) {
    let mut v = vec!["validate", name, "-e", "customers"];
    v.extend_from_slice(extra);
    let mut i = vec![
        "import",
        name,
        "-e",
        "customers",
        "--sandbox",
        "--out",
        "i.xlsx",
    ];
    i.extend_from_slice(extra);
    (measure(run.dir(), &v), measure(run.dir(), &i))
}

#[test]
fn duplicate_keys_shared_by_30000_rows_take_linear_time_and_list_ten_rows() {
    let body: Vec<String> = (0..30_000)
        .map(|i| format!("Toko {i},Jl Pemuda {i},Semarang,SAMA"))
        .collect();
    let run = TestEnv::new().file("same.csv", csv(HEAD, &body));
    let m = measure(run.dir(), &["validate", "same.csv", "-e", "customers"]);
    m.counted("30,000").has("30,000 invalid");
    let rows = records(&run.path("same.result.xlsx"), "Results");
    let err = &rows[100]["_error"];
    assert!(
        err.contains("rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 29989 more"),
        "{err}"
    );
}

#[test]
fn an_unclosed_quote_is_refused_naming_the_line_where_it_opens() {
    let mut body = lines(60);
    body[4] = "\"Toko 4,Jl Pemuda 4,Semarang,C004".into();
    let run = TestEnv::new().file("quote.csv", csv(HEAD, &body));
    let (v, i) = both(&run, "quote.csv", &[]);
    for m in [&v, &i] {
        m.refused("column A of line 6")
            .has("is never closed, so the 55 lines after it would be read as one cell");
    }
    // Far below the first records (whose check `validate` leaves to its rows pass), the
    // same refusal, the same exit code, and no result left behind; the import refuses
    // before it sends a row.
    let mut body = lines(500);
    body[300] = "Toko 300,\"Jl Pemuda 300,Semarang,C300".into();
    let run = TestEnv::new().file("late.csv", csv(HEAD, &body));
    let (v, i) = both(&run, "late.csv", &[]);
    for m in [&v, &i] {
        m.refused("column B of line 302")
            .has("is never closed, so the 199 lines after it would be read as one cell");
    }
    let left: Vec<String> = std::fs::read_dir(run.dir())
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("result") || n.starts_with("i.xlsx"))
        .collect();
    assert!(left.is_empty(), "a refused file leaves no result: {left:?}");
    assert!(!i.stderr.contains("created"), "{}", i.stderr);
    // A closed quote spanning lines is a value with a line break, not a problem.
    let mut body = lines(5);
    body[1] = "\"Toko\nDua\",Jl Pemuda 1,Semarang,C001".into();
    let run = TestEnv::new().file("ok.csv", csv(HEAD, &body));
    measure(run.dir(), &["validate", "ok.csv", "-e", "customers"])
        .counted("5")
        .has("5 valid");
}

#[test]
fn a_lone_cr_in_an_lf_file_makes_the_joined_row_invalid_naming_its_line() {
    let mut body = lines(10);
    let joined = format!("{}\r{}", body[4], body[5]);
    body.splice(4..6, [joined]);
    let run = TestEnv::new().file("cr.csv", csv(HEAD, &body));
    let (v, i) = both(&run, "cr.csv", &[]);
    // Nine records, all counted: the joined one is INVALID, not VALID with a value
    // holding the next row.
    v.counted("9").has("8 valid, 1 invalid");
    i.counted("9").has("1 invalid");
    let rows = records(&run.path("cr.result.xlsx"), "Results");
    let bad = rows.iter().find(|r| r["_row"] == "6").expect("row 6");
    assert_eq!(bad["_status"], "INVALID");
    assert!(
        bad["_error"].starts_with("line 6: column D holds a carriage return (CR) on its own"),
        "{}",
        bad["_error"]
    );
    // A CRLF file is fine.
    let body = lines(3).join("\r\n");
    let run = TestEnv::new().file("crlf.csv", format!("{HEAD}\r\n{body}\r\n"));
    measure(run.dir(), &["validate", "crlf.csv", "-e", "customers"])
        .counted("3")
        .has("3 valid");
}

#[test]
fn rows_whose_field_count_disagrees_with_the_header_are_invalid_naming_the_line() {
    let mut body = lines(20);
    body[6] = "Toko 6|Jl Pemuda 6|Semarang|C006".into();
    body[7] = "Toko 7, Tbk,Jl Pemuda 7,Semarang,C007".into();
    // Trailing empty fields carry nothing: fine.
    body[8] = "Toko 8,Jl Pemuda 8,Semarang,C008,,".into();
    let run = TestEnv::new().file("mixed.csv", csv(HEAD, &body));
    let (v, i) = both(&run, "mixed.csv", &[]);
    v.counted("20").has("18 valid, 2 invalid");
    i.counted("20").has("2 invalid");
    let rows = records(&run.path("mixed.result.xlsx"), "Results");
    let by_row = |n: &str| rows.iter().find(|r| r["_row"] == n).expect("row");
    let pipe = by_row("8");
    assert_eq!(pipe["_status"], "INVALID");
    assert!(
        pipe["_error"].starts_with(
            "line 8: has 1 field where the header (line 1) has 4; it seems to be separated by '|' instead of ','"
        ),
        "{}",
        pipe["_error"]
    );
    let comma = by_row("9");
    assert_eq!(comma["_status"], "INVALID");
    assert!(
        comma["_error"].starts_with("line 9: has 5 fields where the header (line 1) has 4"),
        "{}",
        comma["_error"]
    );
    assert!(comma["_error"].contains("\"C007\""), "{}", comma["_error"]);
    assert_eq!(by_row("10")["_status"], "VALID");
}

#[test]
fn data_under_empty_header_cells_and_past_the_header_is_warned_naming_the_cells() {
    // Column B has no header; every data line has a fifth field the header lacks.
    let body: Vec<String> = (0..4)
        .map(|i| format!("Toko {i},catatan {i},Semarang,C{i:03},ekstra {i}"))
        .collect();
    let run = TestEnv::new().file("short.csv", csv("Nama,,Kota,Kode Pelanggan", &body));
    let m = measure(run.dir(), &["validate", "short.csv", "-e", "customers"]);
    m.counted("4")
        .has("4 rows: warning: column B: holds data under an empty header cell")
        .has("4 rows: warning: column E: holds data under an empty header cell");
    let rows = records(&run.path("short.result.xlsx"), "Results");
    assert!(
        rows[0]["_error"].contains("column E (E2): holds data under an empty header cell"),
        "{}",
        rows[0]["_error"]
    );
}

#[test]
fn an_explicit_header_row_is_honoured_beyond_the_first_30_rows() {
    let mut text = String::new();
    for i in 1..40 {
        text.push_str(&format!("Laporan baris {i}\n"));
    }
    text.push_str(&csv(HEAD, &lines(12)));
    let run = TestEnv::new().file("deep.csv", text);
    measure(
        run.dir(),
        &[
            "validate",
            "deep.csv",
            "-e",
            "customers",
            "--header-row",
            "40",
        ],
    )
    .counted("12")
    .has("12 valid");
    measure(
        run.dir(),
        &[
            "validate",
            "deep.csv",
            "-e",
            "customers",
            "--header-row",
            "90",
        ],
    )
    .refused("--header-row 90 is beyond the end of deep.csv, which has 52 rows");
}

#[test]
fn sheet_on_a_csv_is_refused() {
    let run = TestEnv::new().file("a.csv", csv(HEAD, &lines(2)));
    measure(
        run.dir(),
        &[
            "validate",
            "a.csv",
            "-e",
            "customers",
            "--sheet",
            "Pelanggan",
        ],
    )
    .refused("--sheet Pelanggan: a.csv is a CSV (text) file, which has no sheets");
}

#[test]
fn utf32_is_recognised_and_refused_not_read_as_utf16() {
    let text = csv(
        "Nama,Alamat,Kota,Kode Pelanggan",
        &["Toko İstanbul,Jl,Kota,C1".into()],
    );
    let le: Vec<u8> = text
        .chars()
        .flat_map(|c| (c as u32).to_le_bytes())
        .collect();
    let be: Vec<u8> = text
        .chars()
        .flat_map(|c| (c as u32).to_be_bytes())
        .collect();
    let run = TestEnv::new()
        .file("le.csv", [&[0xFF, 0xFE, 0, 0][..], &le].concat())
        .file("be.csv", [&[0, 0, 0xFE, 0xFF][..], &be].concat())
        .file("bare.csv", &le);
    for (name, order) in [
        ("le.csv", "little-endian"),
        ("be.csv", "big-endian"),
        ("bare.csv", "little-endian"),
    ] {
        measure(run.dir(), &["validate", name, "-e", "customers"])
            .refused(&format!("{name} is UTF-32 text ({order})"));
    }
    // UTF-16 is still read.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let run = TestEnv::new().file("u16.csv", utf16);
    measure(run.dir(), &["validate", "u16.csv", "-e", "customers"])
        .counted("1")
        .has("1 valid");
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_device_is_not_a_regular_file() {
    let run = TestEnv::new();
    let made = Command::new("mkfifo")
        .arg(run.path("pipe.csv"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    measure(run.dir(), &["validate", "pipe.csv", "-e", "customers"])
        .refused("pipe.csv is a named pipe (FIFO), not a regular file");
    measure(run.dir(), &["validate", "/dev/urandom", "-e", "customers"])
        .refused("/dev/urandom is a device, not a regular file");
}

#[test]
fn a_malformed_sheetload_toml_is_reported_the_same_by_every_command() {
    let run = TestEnv::new()
        .file("a.csv", csv(HEAD, &lines(2)))
        .file("m.toml", "[columns]\n\"Nama\" = \"name\"\n")
        .file(
            "sheetload.toml",
            "[profile.default]\nbase_url = \"https://api.example.com\"\nuser = ops\n",
        );
    let dir = run.dir();
    let expected = "error: sheetload.toml, line 3, column 8: ";
    for args in [
        &["validate", "a.csv", "-e", "customers"][..],
        &["validate", "a.csv", "-e", "customers", "--map", "m.toml"],
        &[
            "import",
            "a.csv",
            "-e",
            "customers",
            "--dry-run",
            "--map",
            "m.toml",
        ],
        &["import", "a.csv", "-e", "customers"],
    ] {
        let m = measure(dir, args);
        m.refused(expected);
        assert!(!m.stderr.contains(" | "), "no source drawing: {}", m.stderr);
    }
}

#[test]
fn a_bad_base_url_in_a_profile_names_the_profile_and_the_file() {
    let run = TestEnv::new().file("a.csv", csv(HEAD, &lines(2))).file(
        "sheetload.toml",
        "[profile.default]\nbase_url = \"ftp://api.example.com\"\n[profile.kantor]\nbase_url = \"api dot example\"\n",
    );
    let dir = run.dir();
    measure(dir, &["import", "a.csv", "-e", "customers"]).refused(
        "base_url in [profile.default] of sheetload.toml: the base URL must start with https://",
    );
    measure(dir, &["import", "a.csv", "-e", "customers", "--profile", "kantor"])
        .refused("base_url in [profile.kantor] of sheetload.toml: the base URL 'api dot example' is not a URL");
}

#[test]
fn mapping_files_are_named_in_their_errors_and_warn_about_what_the_file_voids() {
    let run = TestEnv::new().file("a.csv", csv(HEAD, &lines(3)));
    std::fs::create_dir(run.path("maps")).expect("maps folder");
    let run = run
        .file(
            "maps/outlets.toml",
            "[columns]\n\"Nama Outlet\" = \"name\"\n[constants]\ncity = \"Solo\"\n",
        )
        .file("maps/typo.toml", "[constants]\nkotta = \"Solo\"\n")
        .file("maps/broken.toml", "[columns]\n\"Nama\" = name\n");
    let dir = run.dir();
    measure(
        dir,
        &["validate", "a.csv", "-e", "customers", "--map", "maps/outlets.toml"],
    )
    .counted("3")
    .has("warning: mapping file maps/outlets.toml: [columns] \"Nama Outlet\" (for `name`) matches no column of the file")
    .has("warning: column C (\"Kota\") is not imported: the mapping file maps/outlets.toml's [constants] city = \"Solo\"");
    measure(
        dir,
        &[
            "validate",
            "a.csv",
            "-e",
            "customers",
            "--map",
            "maps/typo.toml",
        ],
    )
    .refused("mapping file maps/typo.toml: [constants] names unknown field `kotta`");
    measure(
        dir,
        &[
            "validate",
            "a.csv",
            "-e",
            "customers",
            "--map",
            "maps/broken.toml",
        ],
    )
    .refused("mapping file maps/broken.toml, line 2, column 10: ");
}
