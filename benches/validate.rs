//! Validation throughput and peak memory (not a timed test): generates a 100,000-row XLSX
//! and a 1,000,000-row CSV of customers, runs the real `sheetload validate` binary on each,
//! and prints rows/s and peak RSS. Run with `cargo bench --bench validate`.
//!
//! Every workload runs five times, interleaved, and the median is printed (the machine
//! may be shared). Before each run, untimed, the file system is synced and the run's
//! previous output deleted: each run writes a new result, as for a new input file, and pays
//! neither for writing back the run before (the 1M-row CSV's result is 380 MB) nor for
//! replacing an old result (on ext4, renaming over a file first flushes the new one:
//! +0.13–0.2 s for 380 MB, measured in the README). The XLSX → result.xlsx run is also set against, in the same run, the
//! read-only floor (this bench reading the file with sheetload's reader and nothing
//! else) and the Python baseline a user would write (`bench/alternatives/calamine_validate.py`:
//! python-calamine, three checks, a CSV), when python-calamine is installed.
//!
//! Peak RSS is the child's `VmHWM` from /proc, polled until it exits (Linux only).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::watch;

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
const CITIES: [&str; 6] = [
    "Semarang", "Jakarta", "Surabaya", "Bandung", "Medan", "Makassar",
];

/// One generated row; every 100th has a bad phone so that errors are exercised too.
fn row(i: usize) -> [String; 9] {
    let city = CITIES[i % CITIES.len()];
    let phone = if i % 100 == 99 {
        "08xx-123".to_string()
    } else {
        format!("08{:010}", 1_200_000_000 + i)
    };
    [
        format!("Toko Sumber Rejeki {i}"),
        format!("Jl. Pemuda No. {}", i % 500 + 1),
        city.to_string(),
        phone,
        format!("C{i:07}"),
        format!("{:.6}", -7.0 - (i % 1000) as f64 / 1000.0),
        format!("{:.6}", 110.0 + (i % 997) as f64 / 1000.0),
        format!("{city}; Retail"),
        if i.is_multiple_of(7) { "tidak" } else { "ya" }.to_string(),
    ]
}

fn make_csv(path: &Path, rows: usize) {
    if path.exists() {
        return;
    }
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("create csv"));
    writeln!(w, "{}", HEAD.join(",")).expect("write");
    for i in 0..rows {
        let r = row(i);
        writeln!(
            w,
            "{},{},{},{},{},{},{},\"{}\",{}",
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]
        )
        .expect("write");
    }
}

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
        let r = row(i);
        let n = i as u32 + 1;
        for (c, v) in r.iter().enumerate() {
            if c == 5 || c == 6 {
                ws.write_number(n, c as u16, v.parse::<f64>().expect("number"))
                    .expect("write");
            } else {
                ws.write_string(n, c as u16, v).expect("write");
            }
        }
    }
    book.save(path).expect("save xlsx");
}

/// Run the binary; return (seconds, peak RSS in MB, exit code).
fn measure(args: &[&str]) -> (f64, f64, i32) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sheetload"))
        .args(args)
        .arg("--quiet")
        .spawn()
        .expect("spawn sheetload");
    let run = watch(&mut child, started, None);
    (run.secs, run.peak_mb, run.code())
}

/// The floor: only open the file and walk its rows (as the child process of `measure`).
fn read_only(path: &Path) {
    let table =
        sheetload::input::open(path, &Default::default(), &|_: &[String]| 0).expect("readable");
    let mut n = 0u64;
    for row in table.rows().expect("rows") {
        let row = row.expect("row");
        n += row.cells.len() as u64;
    }
    assert!(n > 0);
}

/// Measure this bench binary itself reading a file, as a child process.
fn measure_read(path: &Path) -> (f64, f64, i32) {
    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe().expect("bench exe"))
        .env("SHEETLOAD_BENCH_READ_ONLY", path)
        .spawn()
        .expect("spawn reader");
    let run = watch(&mut child, started, None);
    (run.secs, run.peak_mb, run.code())
}

/// The Python that has python-calamine: the alternatives' venv, else `python3`.
fn python() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/alternatives/.venv/bin/python");
    [venv, PathBuf::from("python3")].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import python_calamine"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Run the Python baseline on `xlsx`, writing `out`.
fn measure_python(python: &Path, xlsx: &Path, out: &Path) -> (f64, f64, i32) {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/alternatives/calamine_validate.py");
    let started = Instant::now();
    let mut child = Command::new(python)
        .arg(script)
        .arg(xlsx)
        .arg(out)
        .spawn()
        .expect("spawn python");
    let run = watch(&mut child, started, None);
    (run.secs, run.peak_mb, run.code())
}

/// Runs of each workload.
const ROUNDS: usize = 5;

/// The median of three or more measurements (seconds, MB, exit code), by seconds.
fn median(mut runs: Vec<(f64, f64, i32)>) -> (f64, f64, i32) {
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs[runs.len() / 2]
}

fn main() {
    if let Some(path) = std::env::var_os("SHEETLOAD_BENCH_READ_ONLY") {
        read_only(Path::new(&path));
        return;
    }
    // `cargo bench` passes `--bench`; nothing else to parse.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-data");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let xlsx = dir.join("customers-100k.xlsx");
    let csv = dir.join("customers-1m.csv");
    eprintln!("generating fixtures in {} (cached)…", dir.display());
    make_xlsx(&xlsx, 100_000);
    make_csv(&csv, 1_000_000);
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let runs = [
        (
            "100k-row XLSX → result.xlsx",
            100_000u64,
            vec![
                "validate".to_string(),
                s(&xlsx),
                "-e".into(),
                "customers".into(),
                "--out".into(),
                s(&dir.join("r100k.xlsx")),
            ],
        ),
        (
            "100k-row XLSX → result.csv",
            100_000,
            vec![
                "validate".to_string(),
                s(&xlsx),
                "-e".into(),
                "customers".into(),
                "--out".into(),
                s(&dir.join("r100k.csv")),
            ],
        ),
        (
            "1M-row CSV → result.csv",
            1_000_000,
            vec![
                "validate".to_string(),
                s(&csv),
                "-e".into(),
                "customers".into(),
                "--out".into(),
                s(&dir.join("r1m.csv")),
            ],
        ),
    ];
    let python = python();
    // (name, rows, one measurement) per workload, each run three times, interleaved.
    type Run<'a> = Box<dyn Fn() -> (f64, f64, i32) + 'a>;
    let mut work: Vec<(String, u64, Run<'_>)> = vec![
        (
            "100k-row XLSX, read only (the floor)".into(),
            100_000,
            Box::new(|| measure_read(&xlsx)),
        ),
        (
            "1M-row CSV, read only (the floor)".into(),
            1_000_000,
            Box::new(|| measure_read(&csv)),
        ),
    ];
    for (name, rows, args) in runs {
        work.push((
            name.into(),
            rows,
            Box::new(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                if let Some(out) = args.iter().skip_while(|a| **a != "--out").nth(1) {
                    let _ = std::fs::remove_file(out);
                }
                measure(&args)
            }),
        ));
    }
    if let Some(py) = &python {
        let out = dir.join("py100k.csv");
        let xlsx = xlsx.clone();
        let py = py.clone();
        work.push((
            "100k-row XLSX → CSV, Python baseline (python-calamine + 3 checks)".into(),
            100_000,
            Box::new(move || {
                let _ = std::fs::remove_file(&out);
                measure_python(&py, &xlsx, &out)
            }),
        ));
    }
    let mut results: Vec<Vec<(f64, f64, i32)>> = vec![Vec::new(); work.len()];
    for _ in 0..ROUNDS {
        for (i, (_, _, run)) in work.iter().enumerate() {
            let _ = Command::new("sync").status();
            results[i].push(run());
        }
    }
    println!("| workload (median of {ROUNDS}) | rows | seconds | rows/s | peak RSS MB | exit |");
    println!("|---|---:|---:|---:|---:|---:|");
    let medians: Vec<(f64, f64, i32)> = results.into_iter().map(median).collect();
    for ((name, rows, _), (secs, mb, code)) in work.iter().zip(&medians) {
        println!(
            "| {name} | {rows} | {secs:.2} | {:.0} | {mb:.0} | {code} |",
            *rows as f64 / secs
        );
    }
    let secs = |needle: &str| {
        work.iter()
            .zip(&medians)
            .find(|((name, _, _), _)| name.contains(needle))
            .map(|(_, m)| m.0)
    };
    println!();
    if let (Some(result), Some(floor)) = (secs("XLSX → result.xlsx"), secs("XLSX, read only")) {
        println!(
            "100k XLSX → result.xlsx ÷ read-only floor: {:.2}×",
            result / floor
        );
        match secs("Python baseline") {
            Some(py) => println!(
                "100k XLSX → result.xlsx ÷ Python baseline: {:.2}×",
                result / py
            ),
            None => println!(
                "Python baseline skipped: python-calamine is not installed (bash bench/alternatives/setup.sh)"
            ),
        }
    }
    if let (Some(result), Some(floor)) = (secs("CSV → result.csv"), secs("CSV, read only")) {
        println!(
            "1M CSV → result.csv ÷ read-only floor: {:.2}×",
            result / floor
        );
    }
}
