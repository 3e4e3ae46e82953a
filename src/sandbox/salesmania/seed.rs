//! Deterministic, Indonesian-looking seed data, so that an export or a demo shows
//! plausible rows and the same seed always yields the same store.

use serde_json::Number;

use super::model::{Customer, Database, Location, NextIds, Product, SmState, Team, Unit};
use crate::sandbox::SandboxOptions;
use crate::sandbox::store::Table;
use crate::sandbox::token::splitmix;

/// The databases the demo user can reach: the one the CLI documents, and a second
/// one so that database selection is exercised (its records are separate).
const DATABASES: [(u64, &str); 2] = [(1, "Demo"), (2, "Training")];

const FIRST_NAMES: [&str; 16] = [
    "Budi", "Siti", "Agus", "Dewi", "Rudi", "Sri", "Joko", "Putri", "Hendra", "Rina", "Bambang",
    "Wulan", "Eko", "Ayu", "Dimas", "Lestari",
];
const LAST_NAMES: [&str; 12] = [
    "Santoso", "Rahayu", "Wijaya", "Kusuma", "Pratama", "Hidayat", "Saputra", "Lestari", "Nugroho",
    "Susanto", "Setiawan", "Wibowo",
];
const SHOP_KINDS: [&str; 7] = ["Toko", "UD", "CV", "PT", "Warung", "Apotek", "Minimarket"];
const SHOP_NAMES: [&str; 14] = [
    "Sumber Rejeki",
    "Maju Jaya",
    "Berkah Abadi",
    "Sinar Harapan",
    "Makmur Sentosa",
    "Sejahtera",
    "Mitra Usaha",
    "Karya Mandiri",
    "Bintang Timur",
    "Cahaya Baru",
    "Lancar Jaya",
    "Subur Makmur",
    "Rezeki Barokah",
    "Tunas Harapan",
];
const STREETS: [&str; 10] = [
    "Jl. Sudirman",
    "Jl. Diponegoro",
    "Jl. Gajah Mada",
    "Jl. Ahmad Yani",
    "Jl. Pemuda",
    "Jl. Pahlawan",
    "Jl. Merdeka",
    "Jl. Veteran",
    "Jl. Hayam Wuruk",
    "Jl. Imam Bonjol",
];
/// City, latitude, longitude.
const CITIES: [(&str, f64, f64); 12] = [
    ("Jakarta", -6.2088, 106.8456),
    ("Bandung", -6.9175, 107.6191),
    ("Surabaya", -7.2575, 112.7521),
    ("Semarang", -6.9667, 110.4167),
    ("Yogyakarta", -7.7956, 110.3695),
    ("Medan", 3.5952, 98.6722),
    ("Makassar", -5.1477, 119.4327),
    ("Denpasar", -8.6705, 115.2126),
    ("Malang", -7.9666, 112.6326),
    ("Surakarta", -7.5755, 110.8243),
    ("Palembang", -2.9761, 104.7754),
    ("Balikpapan", -1.2379, 116.8529),
];
const TAGS: [&[&str]; 4] = [
    &["retail"],
    &["grosir"],
    &["modern-trade"],
    &["retail", "prioritas"],
];
const PRODUCTS: [&str; 16] = [
    "Kopi Bubuk",
    "Teh Celup Melati",
    "Mie Instan Goreng",
    "Gula Pasir",
    "Minyak Goreng",
    "Beras Premium",
    "Kecap Manis",
    "Sambal Botol",
    "Susu Kental Manis",
    "Biskuit Kelapa",
    "Air Mineral",
    "Sabun Mandi",
    "Pasta Gigi",
    "Deterjen Bubuk",
    "Tepung Terigu",
    "Kerupuk Udang",
];
const SIZES: [&str; 6] = ["200g", "500g", "1kg", "1L", "2L", "isi 25"];
const BOX_RATIOS: [u64; 4] = [6, 12, 24, 40];
const DISCOUNTS: [Option<&str>; 5] = [None, Some("0"), Some("5"), Some("2.5"), Some("5+2")];

fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    // The constant lists above are never empty.
    &items[rng.usize(..items.len())]
}

/// A fresh store seeded from the options.
pub(crate) fn seed(opts: &SandboxOptions) -> SmState {
    let mut next = NextIds::default();
    let mut databases = Table::default();
    for (db_id, name) in DATABASES {
        let mut rng = fastrand::Rng::with_seed(splitmix(opts.seed ^ db_id.rotate_left(40)));
        let db = Database {
            db_id,
            name: name.to_owned(),
            teams: Table(
                (0..opts.teams)
                    .map(|i| team(&mut rng, NextIds::take(&mut next.team), i))
                    .map(|t| (t.id, t))
                    .collect(),
            ),
            customers: Table(
                (0..opts.customers)
                    .map(|i| customer(&mut rng, NextIds::take(&mut next.customer), i + 1))
                    .map(|c| (c.id, c))
                    .collect(),
            ),
            products: Table(
                (0..opts.products)
                    .map(|i| product(&mut rng, NextIds::take(&mut next.product), i + 1))
                    .map(|p| (p.id, p))
                    .collect(),
            ),
            visits: Table::default(),
            orders: Table::default(),
        };
        databases.0.insert(db_id, db);
    }
    SmState {
        next_id: next,
        databases,
    }
}

/// The first team is the API user's own (an admin); the others are salespeople.
fn team(rng: &mut fastrand::Rng, id: u64, index: usize) -> Team {
    let first = pick(rng, &FIRST_NAMES);
    let last = pick(rng, &LAST_NAMES);
    Team {
        id,
        name: format!("{first} {last}"),
        email: format!(
            "{}.{}{}@example.com",
            first.to_lowercase(),
            last.to_lowercase(),
            index + 1
        ),
        role: if index == 0 { "admin" } else { "sales" }.to_owned(),
        status: true,
    }
}

fn customer(rng: &mut fastrand::Rng, id: u64, n: usize) -> Customer {
    let (city, lat, lon) = *pick(rng, &CITIES);
    let jitter = |rng: &mut fastrand::Rng| (rng.f64() - 0.5) * 0.1;
    let round6 = |v: f64| (v * 1e6).round() / 1e6;
    let location = Location {
        lat: round6(lat + jitter(rng)),
        lon: round6(lon + jitter(rng)),
    };
    Customer {
        id,
        name: format!("{} {}", pick(rng, &SHOP_KINDS), pick(rng, &SHOP_NAMES)),
        address: Some(format!("{} No. {}", pick(rng, &STREETS), rng.u32(1..200))),
        city: Some(city.to_owned()),
        phone: Some(format!(
            "08{}{:08}",
            rng.u32(11..=59),
            rng.u32(0..100_000_000)
        )),
        ext_cust_no: Some(format!("C{n:06}")),
        // One customer in five has no map location yet.
        location: (rng.u8(..5) != 0).then_some(location),
        status: rng.u8(..10) != 0,
        tags: pick(rng, &TAGS).iter().map(|t| (*t).to_owned()).collect(),
    }
}

fn product(rng: &mut fastrand::Rng, id: u64, n: usize) -> Product {
    let price = u64::from(rng.u32(4..=100)) * 500;
    let ratio = *pick(rng, &BOX_RATIOS);
    // A box is a little cheaper than its pieces, rounded to 100 rupiah.
    let box_price = (price * ratio * 95 / 100) / 100 * 100;
    Product {
        id,
        name: format!("{} {}", pick(rng, &PRODUCTS), pick(rng, &SIZES)),
        description: None,
        sku: Some(format!("SKU-{n:05}")),
        tags: Vec::new(),
        status: true,
        ext_product_code: Some(format!("P{n:06}")),
        default_disc: pick(rng, &DISCOUNTS).map(str::to_owned),
        qty_on_hand: Number::from(rng.u32(0..500)),
        product_units: vec![
            Unit {
                name: "PCS".to_owned(),
                price: Some(Number::from(price)),
                ratio: 1,
            },
            Unit {
                name: "BOX".to_owned(),
                price: Some(Number::from(box_price)),
                ratio,
            },
        ],
    }
}
