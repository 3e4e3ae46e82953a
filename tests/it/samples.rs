//! The files in `samples/` are generated here, deterministically, and checked against
//! what `sheetload validate` makes of them.
//!
//! Regenerate them with `SHEETLOAD_WRITE_SAMPLES=1 cargo test --test it samples::`. Without the
//! variable the test regenerates into a temp dir and fails when a committed sample differs
//! (CSV byte for byte; XLSX cell by cell, because package bytes may change with the
//! writer's version or a timestamp), then validates each committed sample and checks its
//! outcome row by row.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx, open_workbook};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Formula, Workbook, Worksheet};
use sheetload::commands::validate::{Config, run};
use sheetload::input::ReadOptions;
use sheetload::spec::Mode;
use sheetload::ui::Printer;
use sheetload::validate::ParseOptions;

const CUSTOMERS: &str = "customers.xlsx";
const CUSTOMER_ERRORS: &str = "customers-with-errors.xlsx";
const PRODUCTS: &str = "products.csv";
const VISITS: &str = "visits.csv";
const ALL: [&str; 4] = [CUSTOMERS, CUSTOMER_ERRORS, PRODUCTS, VISITS];

/// The customer layout as an Indonesian back office keeps it.
const CUSTOMER_HEADERS: [&str; 9] = [
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
const TITLE: &str = "Daftar Pelanggan — November 2026";
/// The title is in row 1, row 2 is empty, the header is row 3: data starts at row 4.
const HEADER_ROW: u32 = 2;

// ---------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------

struct City {
    code: &'static str,
    /// Names as the regency is written in the `Kota` column.
    kota: &'static [&'static str],
    tag: &'static str,
    lat: f64,
    lon: f64,
    streets: &'static [&'static str],
    shops: &'static [&'static str],
    /// Sales teams by name: teams that `sheetload sandbox` (and `--sandbox`) seeds in
    /// database 1 with the default seed, so that `visits.csv` imports into it as shipped.
    teams: &'static [&'static str],
}

const CITIES: [City; 3] = [
    City {
        code: "SMG",
        kota: &["Semarang"],
        tag: "Semarang",
        lat: -6.993_2,
        lon: 110.420_3,
        streets: &[
            "Jl. Pemuda",
            "Jl. Pandanaran",
            "Jl. MT Haryono",
            "Jl. Gajahmada",
            "Jl. Majapahit",
            "Jl. Setiabudi",
            "Jl. Sriwijaya",
            "Jl. Kaligawe Raya",
        ],
        shops: &[
            "Toko Sumber Rejeki",
            "Toko Makmur Jaya",
            "Warung Bu Sri",
            "UD Sinar Abadi",
            "Toko Kelontong Pak Darmo",
            "Minimarket Sentosa",
            "Toko Berkah Mandiri",
            "Warung Mbak Yuni",
            "Toko Sembako Barokah",
            "CV Tirta Kencana",
            "Toko Lancar Jaya",
            "Grosir Candi Baru",
            "Toko Mulia Abadi",
            "Warung Pojok Pandanaran",
        ],
        teams: &["Dewi Setiawan", "Dimas Nugroho"],
    },
    City {
        code: "JKT",
        kota: &["Jakarta Pusat", "Jakarta Selatan", "Jakarta Timur"],
        tag: "Jakarta",
        lat: -6.186_2,
        lon: 106.834_1,
        streets: &[
            "Jl. Kramat Raya",
            "Jl. Cempaka Putih Tengah",
            "Jl. Fatmawati",
            "Jl. Pramuka",
            "Jl. Tebet Raya",
            "Jl. Salemba Raya",
            "Jl. Kebon Sirih",
        ],
        shops: &[
            "Toko Harapan Baru",
            "Minimarket Cempaka",
            "Warung Betawi Bang Udin",
            "Toko Sinar Terang",
            "UD Maju Bersama",
            "Toko Kramat Jaya",
            "Grosir Tanah Abang Sejahtera",
            "Toko Rezeki Melimpah",
            "Warung Kopi Menteng",
            "Toko Sahabat Keluarga",
            "Minimarket Kebayoran",
            "Toko Bintang Timur",
            "CV Sumber Pangan",
        ],
        teams: &["Dimas Nugroho", "Lestari Hidayat"],
    },
    City {
        code: "SBY",
        kota: &["Surabaya"],
        tag: "Surabaya",
        lat: -7.257_5,
        lon: 112.752_1,
        streets: &[
            "Jl. Tunjungan",
            "Jl. Raya Darmo",
            "Jl. Kenjeran",
            "Jl. Ahmad Yani",
            "Jl. Rungkut Industri",
            "Jl. Ampel",
            "Jl. Kertajaya",
        ],
        shops: &[
            "Toko Suroboyo Jaya",
            "Warung Cak Mat",
            "Toko Pelangi",
            "UD Tunjungan Makmur",
            "Grosir Pasar Atom",
            "Toko Kenjeran Indah",
            "Minimarket Darmo Permai",
            "Toko Sido Mulyo",
            "Warung Bu Tatik",
            "Toko Wonokromo Sentosa",
            "Toko Gubeng Baru",
            "CV Rungkut Abadi",
            "Toko Ampel Barokah",
        ],
        teams: &["Dewi Setiawan"],
    },
];

/// How a phone number is stored in the sheet.
#[derive(Clone)]
enum Phone {
    /// Typed as text, leading zero kept (`081234567890`, `0812-3456-7890`).
    Text(String),
    /// A numeric cell (`6281234567890`), as Excel makes of a number typed without `'`.
    Number(f64),
    /// A broken lookup formula whose cached result is `#N/A`.
    NotAvailable,
}

/// A coordinate as stored in the sheet.
#[derive(Clone, Copy)]
enum Coord {
    Number(f64),
    Empty,
}

#[derive(Clone)]
struct Customer {
    name: String,
    address: String,
    kota: String,
    phone: Phone,
    code: String,
    lat: Coord,
    lon: Coord,
    tags: String,
    aktif: String,
    /// `Lokasi` (only in the file with errors).
    lokasi: String,
}

/// Six decimals, as a map app gives them.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The 40 valid customers, the same on every run.
fn customers() -> Vec<Customer> {
    let prefixes = ["12", "13", "21", "22", "52", "57", "77", "78", "95", "96"];
    let mut out = Vec::new();
    let mut i: usize = 0;
    for city in &CITIES {
        for (n, shop) in city.shops.iter().enumerate() {
            i += 1;
            let subscriber = (i as u64 * 7_919 * 31 + 12_345_678) % 100_000_000;
            let national = format!("8{}{subscriber:08}", prefixes[i % prefixes.len()]);
            let phone = if i % 9 == 4 {
                // A number typed without a leading apostrophe: Excel keeps it numeric.
                Phone::Number(format!("62{national}").parse().unwrap())
            } else if i % 11 == 6 {
                let d = &national;
                Phone::Text(format!("0{}-{}-{}", &d[..3], &d[3..7], &d[7..]))
            } else if i % 13 == 8 {
                let d = &national;
                Phone::Text(format!("+62 {} {} {}", &d[..3], &d[3..7], &d[7..]))
            } else {
                Phone::Text(format!("0{national}"))
            };
            let (lat, lon) = if i % 15 == 7 {
                (Coord::Empty, Coord::Empty)
            } else {
                let dlat = ((i * 37) % 101) as f64 - 50.0;
                let dlon = ((i * 53) % 97) as f64 - 48.0;
                (
                    Coord::Number(round6(city.lat + dlat * 0.000_913)),
                    Coord::Number(round6(city.lon + dlon * 0.001_127)),
                )
            };
            let kind =
                if shop.starts_with("Grosir") || shop.starts_with("UD") || shop.starts_with("CV") {
                    "Grosir"
                } else if shop.starts_with("Minimarket") {
                    "Minimarket"
                } else if shop.starts_with("Warung") {
                    "Warung"
                } else {
                    "Retail"
                };
            let sep = if i.is_multiple_of(4) { "; " } else { ", " };
            out.push(Customer {
                name: shop.to_string(),
                address: if i % 17 == 9 {
                    String::new()
                } else {
                    let street = city.streets[(n * 3) % city.streets.len()];
                    format!("{street} No. {}", (i * 7) % 120 + 1)
                },
                kota: city.kota[n % city.kota.len()].to_string(),
                phone,
                code: format!("{}-{:03}", city.code, n + 1),
                lat,
                lon,
                tags: format!("{}{sep}{kind}", city.tag),
                aktif: if i.is_multiple_of(8) { "Tidak" } else { "Ya" }.to_string(),
                lokasi: String::new(),
            });
        }
    }
    out
}

/// One row of the file with errors, and what `validate` must say about it.
struct ErrorRow {
    customer: Customer,
    /// The column `_error` must name; `None` for a valid row.
    column: Option<&'static str>,
}

/// Rows that each show one kind of mistake, between valid rows.
fn customers_with_errors() -> Vec<ErrorRow> {
    let base = |name: &str, code: &str| Customer {
        name: name.into(),
        address: "Jl. Pemuda No. 12".into(),
        kota: "Semarang".into(),
        phone: Phone::Text("081234567890".into()),
        code: code.into(),
        lat: Coord::Number(-6.981_234),
        lon: Coord::Number(110.412_345),
        tags: "Semarang, Retail".into(),
        aktif: "Ya".into(),
        lokasi: String::new(),
    };
    let phrase = "Toko Sumber Rejeki Makmur Jaya Abadi Sentosa Sejahtera ";
    let long_name: String = phrase.chars().cycle().take(300).collect();
    assert!(
        !long_name.ends_with(' '),
        "the 300 characters must survive trimming"
    );
    let row = |customer: Customer, column: Option<&'static str>| ErrorRow { customer, column };
    vec![
        row(base("Toko Sumber Rejeki", "SMG-101"), None),
        row(
            Customer {
                name: String::new(),
                ..base("", "SMG-102")
            },
            Some("Nama"),
        ),
        row(
            Customer {
                phone: Phone::Text("0812-34AB-7890".into()),
                ..base("Toko Makmur Jaya", "SMG-103")
            },
            Some("No HP"),
        ),
        row(
            Customer {
                lat: Coord::Number(-97.0),
                ..base("Warung Bu Sri", "SMG-104")
            },
            Some("Lintang"),
        ),
        row(
            Customer {
                lon: Coord::Empty,
                ..base("UD Sinar Abadi", "SMG-105")
            },
            Some("Bujur"),
        ),
        row(
            Customer {
                phone: Phone::NotAvailable,
                ..base("Toko Kelontong Pak Darmo", "SMG-106")
            },
            Some("No HP"),
        ),
        row(
            base("Minimarket Sentosa", "SMG-107"),
            Some("Kode Pelanggan"),
        ),
        row(base("Toko Berkah Mandiri", "SMG-108"), None),
        row(
            Customer {
                lat: Coord::Empty,
                lon: Coord::Empty,
                lokasi: "110.47, -7.11".into(),
                ..base("Warung Mbak Yuni", "SMG-109")
            },
            Some("Lokasi"),
        ),
        row(
            Customer {
                aktif: "mungkin".into(),
                ..base("Toko Sembako Barokah", "SMG-110")
            },
            Some("Aktif"),
        ),
        row(
            Customer {
                name: long_name,
                ..base("", "SMG-111")
            },
            Some("Nama"),
        ),
        row(base("Toko Lancar Jaya", "SMG-107"), Some("Kode Pelanggan")),
        row(
            Customer {
                lat: Coord::Empty,
                lon: Coord::Empty,
                lokasi: "-7.11, 110.47".into(),
                ..base("Grosir Candi Baru", "SMG-112")
            },
            None,
        ),
    ]
}

/// (date, customer code, team) of planned visits: customers of a city, visited by its team.
fn visits() -> Vec<(String, String, String)> {
    let all = customers();
    let mut out = Vec::new();
    for i in 0..20usize {
        let day = i / 2 + 1;
        let c = &all[(i * 7 + 3) % all.len()];
        let city = CITIES
            .iter()
            .find(|city| c.code.starts_with(city.code))
            .unwrap();
        let team = city.teams[i % city.teams.len()];
        out.push((
            format!("2026-12-{day:02}"),
            c.code.clone(),
            team.to_string(),
        ));
    }
    out
}

/// Products with their units; single-unit products leave the ratio empty (implied 1).
#[rustfmt::skip]
const PRODUCT_ROWS: [[&str; 12]; 15] = [
    ["PRD-001", "Teh Botol Sosro 350ml", "8992388101010", "240", "5+2.5", "PCS", "5000", "1", "KRAT", "57000", "12", "Minuman, Teh"],
    ["PRD-002", "Aqua Air Mineral 600ml", "8886008101053", "480", "", "PCS", "3500", "1", "KARTON", "80000", "24", "Minuman, Air Mineral"],
    ["PRD-003", "Indomie Goreng 85g", "089686010947", "960", "2", "PCS", "3100", "1", "KARTON", "139000", "48", "Makanan, Mi Instan"],
    ["PRD-004", "Kopi Kapal Api Special Mix 25g", "8991002101630", "600", "3", "PCS", "1500", "1", "BOX", "17000", "12", "Minuman; Kopi"],
    ["PRD-005", "Gula Pasir Gulaku 1kg", "8993110001018", "150", "", "PCS", "17500", "", "", "", "", "Sembako"],
    ["PRD-006", "Minyak Goreng Bimoli 2L", "8992826111120", "96", "2.5", "PCS", "42000", "1", "KARTON", "498000", "12", "Sembako, Minyak"],
    ["PRD-007", "Sabun Mandi Lifebuoy 85g", "8999999195649", "360", "5", "PCS", "4500", "1", "BOX", "51000", "12", "Perawatan Diri"],
    ["PRD-008", "Pasta Gigi Pepsodent 190g", "8999999706081", "240", "5+2", "PCS", "14500", "1", "BOX", "168000", "12", "Perawatan Diri, Pasta Gigi"],
    ["PRD-009", "Beras Rojo Lele 5kg", "8997011930015", "60", "", "KARUNG", "78000", "", "", "", "", "Sembako, Beras"],
    ["PRD-010", "Susu Ultra Milk Coklat 250ml", "8998009010231", "720", "2+1", "PCS", "6500", "1", "KARTON", "148000", "24", "Minuman, Susu"],
    ["PRD-011", "Chitato Sapi Panggang 68g", "089686060027", "300", "3", "PCS", "11500", "1", "BOX", "132000", "12", "Makanan, Snack"],
    ["PRD-012", "Kecap Manis Bango 520ml", "8999999100339", "144", "", "PCS", "24500", "1", "KARTON", "282000", "12", "Bumbu"],
    ["PRD-013", "Deterjen Rinso Anti Noda 770g", "8999999002916", "120", "5", "PCS", "22000", "1", "KARTON", "255000", "12", "Kebersihan, Deterjen"],
    ["PRD-014", "Teh Celup Sariwangi 25s", "8999999390198", "200", "2.5", "PCS", "6000", "1", "KARTON", "276000", "48", "Minuman, Teh"],
    ["PRD-015", "Air Mineral Le Minerale 330ml", "8996001600399", "480", "", "PCS", "2500", "1", "KARTON", "55000", "24", "Minuman, Air Mineral"],
];
const PRODUCT_HEADERS: [&str; 12] = [
    "ext_product_code",
    "name",
    "sku",
    "qty_on_hand",
    "default_disc",
    "unit_name",
    "unit_price",
    "unit_ratio",
    "unit2_name",
    "unit2_price",
    "unit2_ratio",
    "tags",
];

// ---------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------

/// A workbook with a fixed creation date, so that regenerating the samples gives the same
/// bytes and no spurious diff.
fn workbook(title: &str) -> Workbook {
    let mut book = Workbook::new();
    book.set_properties(
        &DocProperties::new()
            .set_title(title)
            .set_author("sheetload samples")
            .set_creation_datetime(&ExcelDateTime::from_ymd(2026, 11, 1).unwrap()),
    );
    book
}

fn write_customer_sheet(ws: &mut Worksheet, rows: &[Customer], with_lokasi: bool) {
    let title = Format::new().set_bold().set_font_size(14);
    let header = Format::new()
        .set_bold()
        .set_background_color(rust_xlsxwriter::Color::RGB(0xDDEBF7));
    ws.set_name("Pelanggan").unwrap();
    ws.write_string_with_format(0, 0, TITLE, &title).unwrap();
    let mut headers: Vec<&str> = CUSTOMER_HEADERS.to_vec();
    if with_lokasi {
        headers.push("Lokasi");
    }
    let widths = [28.0, 26.0, 16.0, 18.0, 16.0, 12.0, 12.0, 22.0, 8.0, 18.0];
    for (c, h) in headers.iter().enumerate() {
        ws.set_column_width(c as u16, widths[c]).unwrap();
        ws.write_string_with_format(HEADER_ROW, c as u16, *h, &header)
            .unwrap();
    }
    for (n, cust) in rows.iter().enumerate() {
        let r = HEADER_ROW + 1 + n as u32;
        let text = |ws: &mut Worksheet, c: u16, s: &str| {
            if !s.is_empty() {
                ws.write_string(r, c, s).unwrap();
            }
        };
        text(ws, 0, &cust.name);
        text(ws, 1, &cust.address);
        text(ws, 2, &cust.kota);
        match &cust.phone {
            Phone::Text(s) => text(ws, 3, s),
            Phone::Number(n) => {
                ws.write_number(r, 3, *n).unwrap();
            }
            Phone::NotAvailable => {
                // Looked up in the Kontak sheet, which lacks this customer's code.
                let lookup = format!("=VLOOKUP(E{},Kontak!$A$2:$B$4,2,FALSE)", r + 1);
                ws.write_formula(r, 3, Formula::new(lookup).set_result("#N/A"))
                    .unwrap();
            }
        }
        text(ws, 4, &cust.code);
        for (c, coord) in [(5u16, cust.lat), (6, cust.lon)] {
            if let Coord::Number(x) = coord {
                ws.write_number(r, c, x).unwrap();
            }
        }
        text(ws, 7, &cust.tags);
        text(ws, 8, &cust.aktif);
        if with_lokasi {
            text(ws, 9, &cust.lokasi);
        }
    }
    ws.set_freeze_panes(HEADER_ROW + 1, 0).unwrap();
}

fn write_csv(path: &Path, headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(headers).unwrap();
    for r in rows {
        w.write_record(&r).unwrap();
    }
    w.flush().unwrap();
}

/// Write every sample into `dir`.
fn generate(dir: &Path) {
    let mut book = workbook("Daftar Pelanggan");
    write_customer_sheet(book.add_worksheet(), &customers(), false);
    book.save(dir.join(CUSTOMERS)).unwrap();

    let mut book = workbook("Daftar Pelanggan (dengan kesalahan)");
    let rows: Vec<Customer> = customers_with_errors()
        .into_iter()
        .map(|r| r.customer)
        .collect();
    write_customer_sheet(book.add_worksheet(), &rows, true);
    let contacts = book.add_worksheet().set_name("Kontak").unwrap();
    let known = [
        ("SMG-101", "081234567890"),
        ("SMG-103", "081298765432"),
        ("SMG-104", "085712340000"),
    ];
    contacts.write_string(0, 0, "Kode Pelanggan").unwrap();
    contacts.write_string(0, 1, "No HP").unwrap();
    for (n, (code, phone)) in known.iter().enumerate() {
        contacts.write_string(n as u32 + 1, 0, *code).unwrap();
        contacts.write_string(n as u32 + 1, 1, *phone).unwrap();
    }
    book.save(dir.join(CUSTOMER_ERRORS)).unwrap();

    write_csv(
        &dir.join(PRODUCTS),
        &PRODUCT_HEADERS,
        PRODUCT_ROWS
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect()),
    );
    write_csv(
        &dir.join(VISITS),
        &["date", "customer_code", "team"],
        visits().into_iter().map(|(d, c, t)| vec![d, c, t]),
    );
}

// ---------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------

/// Every sheet's values and formulas, for comparing workbooks whose bytes differ.
fn workbook_cells(
    path: &Path,
) -> BTreeMap<String, (calamine::Range<Data>, calamine::Range<String>)> {
    let mut book: Xlsx<_> =
        open_workbook(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut out = BTreeMap::new();
    for name in book.sheet_names() {
        let values = book.worksheet_range(&name).unwrap();
        let formulas = book.worksheet_formula(&name).unwrap();
        out.insert(name, (values, formulas));
    }
    out
}

fn assert_same(fresh: &Path, committed: &Path) {
    let hint = "run `SHEETLOAD_WRITE_SAMPLES=1 cargo test --test it samples::` and commit samples/";
    assert!(
        committed.exists(),
        "{} is missing: {hint}",
        committed.display()
    );
    let same = if fresh.extension().is_some_and(|e| e == "xlsx") {
        workbook_cells(fresh) == workbook_cells(committed)
    } else {
        std::fs::read(fresh).unwrap() == std::fs::read(committed).unwrap()
    };
    assert!(same, "{} is out of date: {hint}", committed.display());
}

/// One row of a result workbook's `Results` sheet.
#[derive(Debug)]
struct Outcome {
    status: String,
    error: String,
    payload: String,
}

/// Validate `input` as `entity` in create mode; the exit code and the outcome per row.
fn validate(input: &Path, entity: &str, out_dir: &Path) -> (u8, BTreeMap<u32, Outcome>) {
    let out = out_dir.join(format!(
        "{}.result.xlsx",
        input.file_stem().unwrap().to_string_lossy()
    ));
    let cfg = Config {
        input: input.to_path_buf(),
        target: "salesmania".parse().unwrap(),
        entity: entity.parse().unwrap(),
        mode: Mode::Create,
        read: ReadOptions::default(),
        map: None,
        save_map: None,
        parse: ParseOptions::default(),
        out: Some(out.clone()),
    };
    let ui = Printer {
        quiet: true,
        json: false,
    };
    let code = run(&cfg, &ui).unwrap_or_else(|e| panic!("{}: {e}", input.display()));

    let mut book: Xlsx<_> = open_workbook(&out).unwrap();
    let range = book.worksheet_range("Results").unwrap();
    let mut rows = range.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(|d| d.to_string()).collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("Results has no {name} column: {header:?}"))
    };
    let (c_row, c_status, c_error, c_payload) =
        (col("_row"), col("_status"), col("_error"), col("_payload"));
    let mut outcomes = BTreeMap::new();
    for r in rows {
        let number = match &r[c_row] {
            Data::Float(f) => *f as u32,
            Data::Int(i) => *i as u32,
            Data::String(s) => s.parse().unwrap(),
            other => panic!("_row holds {other:?}"),
        };
        outcomes.insert(
            number,
            Outcome {
                status: r[c_status].to_string(),
                error: r[c_error].to_string(),
                payload: r[c_payload].to_string(),
            },
        );
    }
    (code, outcomes)
}

fn assert_all_valid(file: &str, code: u8, rows: &BTreeMap<u32, Outcome>, expected: &[u32]) {
    let invalid: Vec<_> = rows.iter().filter(|(_, o)| o.status != "VALID").collect();
    assert!(invalid.is_empty(), "{file}: rows not VALID: {invalid:#?}");
    assert_eq!(code, 0, "{file}: exit code");
    assert_eq!(
        rows.keys().copied().collect::<Vec<_>>(),
        expected,
        "{file}: row numbers"
    );
}

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

#[test]
fn samples_are_up_to_date() {
    let samples = samples_dir();
    let fresh = tempfile::tempdir().unwrap();
    generate(fresh.path());
    if std::env::var("SHEETLOAD_WRITE_SAMPLES").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(&samples).unwrap();
        for f in ALL {
            std::fs::copy(fresh.path().join(f), samples.join(f)).unwrap();
        }
    }
    for f in ALL {
        assert_same(&fresh.path().join(f), &samples.join(f));
    }

    let out = tempfile::tempdir().unwrap();

    // customers.xlsx: the header is found under the title row; every row is valid.
    let all = customers();
    let (code, rows) = validate(&samples.join(CUSTOMERS), "customers", out.path());
    let first = HEADER_ROW + 2;
    let expected: Vec<u32> = (first..first + all.len() as u32).collect();
    assert_all_valid(CUSTOMERS, code, &rows, &expected);
    // Phone numbers keep their digits, whether typed as text or stored as numbers.
    for (n, c) in all.iter().enumerate() {
        let digits: String = match &c.phone {
            Phone::Text(s) => s.chars().filter(char::is_ascii_digit).collect(),
            Phone::Number(x) => format!("{x:.0}"),
            Phone::NotAvailable => unreachable!(),
        };
        // The national part (after 0 or 62) survives any normalisation.
        let national = digits
            .strip_prefix("62")
            .or_else(|| digits.strip_prefix('0'))
            .unwrap();
        let payload = &rows[&(first + n as u32)].payload;
        assert!(
            payload.contains(national) && !payload.contains(".0\"") && !payload.contains("e+"),
            "{CUSTOMERS} row {}: phone {national} not kept in {payload}",
            first + n as u32
        );
    }
    assert!(
        all.iter().any(|c| matches!(c.phone, Phone::Number(_))),
        "the sample should show numeric phone cells"
    );

    // products.csv and visits.csv: every row valid; CSV rows are numbered from line 2.
    let (code, rows) = validate(&samples.join(PRODUCTS), "products", out.path());
    let expected: Vec<u32> = (2..2 + PRODUCT_ROWS.len() as u32).collect();
    assert_all_valid(PRODUCTS, code, &rows, &expected);
    let (code, rows) = validate(&samples.join(VISITS), "visits", out.path());
    assert_all_valid(VISITS, code, &rows, &(2..22).collect::<Vec<_>>());

    // customers-with-errors.xlsx: exactly the planted rows are invalid, each naming its column.
    let planted = customers_with_errors();
    let (code, rows) = validate(&samples.join(CUSTOMER_ERRORS), "customers", out.path());
    assert_eq!(code, 1, "{CUSTOMER_ERRORS}: exit code");
    let expected_invalid: BTreeSet<u32> = planted
        .iter()
        .enumerate()
        .filter(|(_, r)| r.column.is_some())
        .map(|(n, _)| first + n as u32)
        .collect();
    assert_eq!(
        expected_invalid,
        [5, 6, 7, 8, 9, 10, 12, 13, 14, 15].into_iter().collect(),
        "the planted rows moved; update the row numbers in samples/README.md"
    );
    let invalid: BTreeSet<u32> = rows
        .iter()
        .filter(|(_, o)| o.status == "INVALID")
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(invalid, expected_invalid, "{CUSTOMER_ERRORS}: {rows:#?}");
    assert_eq!(rows.len(), planted.len(), "{CUSTOMER_ERRORS}: row count");
    for (n, r) in planted.iter().enumerate() {
        let number = first + n as u32;
        let o = &rows[&number];
        match r.column {
            Some(column) => assert!(
                o.error.contains(column),
                "{CUSTOMER_ERRORS} row {number}: `_error` does not name {column}: {}",
                o.error
            ),
            None => assert_eq!(o.status, "VALID", "{CUSTOMER_ERRORS} row {number}: {o:?}"),
        }
    }
    // The cached #N/A of a broken lookup is reported as a formula error, not as text.
    assert!(rows[&9].error.contains("#N/A"), "{:?}", rows[&9]);
    // Both rows of a duplicated key point at each other.
    assert!(rows[&10].error.contains("15"), "{:?}", rows[&10]);
    assert!(rows[&15].error.contains("10"), "{:?}", rows[&15]);

    // needs full value parsers: "110.47, -7.11" is recognised as a swapped pair, not
    // merely as a latitude out of range.
    assert!(
        rows[&12].error.to_lowercase().contains("swap"),
        "{CUSTOMER_ERRORS} row 12: {}",
        rows[&12].error
    );
}
