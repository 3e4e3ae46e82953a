//! Deterministic, Turkish-looking seed customers: companies with a valid VKN
//! and persons with a valid TCKN, alternately, with the letters (`İ`, `Ş`, `Ğ`,
//! `ı`) a client must not mangle.

use super::ids::{make_tckn, make_tr_iban, make_vkn};
use super::model::{FaCustomer, FaState};
use crate::sandbox::store::Table;
use crate::sandbox::token::splitmix;

const FIRST_NAMES: [&str; 16] = [
    "Ayşe", "Mehmet", "Fatma", "Mustafa", "Emine", "Ahmet", "Hatice", "Ali", "Zeynep", "Hüseyin",
    "Elif", "İbrahim", "Şule", "Çağlar", "Gülşen", "Oğuz",
];
const SURNAMES: [&str; 16] = [
    "YILMAZ",
    "KAYA",
    "DEMİR",
    "ŞAHİN",
    "ÇELİK",
    "YILDIZ",
    "YILDIRIM",
    "ÖZTÜRK",
    "AYDIN",
    "ÖZDEMİR",
    "ARSLAN",
    "DOĞAN",
    "KILIÇ",
    "ASLAN",
    "ÇETİN",
    "KOÇ",
];
const COMPANY_NAMES: [&str; 10] = [
    "Anadolu",
    "Boğaziçi",
    "Ege Yıldızı",
    "Karadeniz",
    "Işık",
    "Güneş",
    "Doğuş",
    "Marmara",
    "Çınar",
    "Şahinler",
];
const COMPANY_KINDS: [&str; 5] = [
    "Tekstil San. ve Tic. Ltd. Şti.",
    "Gıda Pazarlama A.Ş.",
    "İnşaat Taahhüt Ltd. Şti.",
    "Bilişim Hizmetleri A.Ş.",
    "Otomotiv Yedek Parça Ltd. Şti.",
];
/// City (il), district (ilçe), postcode, tax office (vergi dairesi).
const PLACES: [(&str, &str, &str, &str); 8] = [
    ("İSTANBUL", "Şişli", "34360", "Şişli"),
    ("İSTANBUL", "Kadıköy", "34710", "Kadıköy"),
    ("ANKARA", "Çankaya", "06690", "Çankaya"),
    ("İZMİR", "Karşıyaka", "35530", "Karşıyaka"),
    ("BURSA", "YENİŞEHİR", "16900", "Yenişehir"),
    ("ANTALYA", "Muratpaşa", "07040", "Antalya Kurumlar"),
    ("KOCAELİ", "İzmit", "41200", "Tepecik"),
    ("ESKİŞEHİR", "Odunpazarı", "26010", "Osmangazi"),
];
const STREETS: [&str; 6] = [
    "Cumhuriyet Mh. Atatürk Cd.",
    "İstiklal Mh. Gazi Sk.",
    "Bağlarbaşı Mh. Çiçek Sk.",
    "Yeşiltepe Mh. Şehitler Cd.",
    "Fevzi Çakmak Mh. İnönü Blv.",
    "Güzelyalı Mh. Deniz Sk.",
];
/// A few real bank codes (Ziraat, İş Bankası, Garanti, Yapı Kredi).
const BANKS: [u32; 4] = [10, 64, 62, 67];

fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    // The constant lists above are never empty.
    &items[rng.usize(..items.len())]
}

/// `count` customers with ids 1..=count, the same for the same seed. Tax
/// numbers are distinct by construction (a running number in the nine
/// leading digits).
pub(crate) fn seed(seed: u64, count: usize) -> FaState {
    let mut rng = fastrand::Rng::with_seed(splitmix(seed ^ 0x6661_7475_7261));
    let base = rng.u64(..400_000_000);
    let created = "2024-01-15T09:00:00.000000Z";
    let customers = (1..=count as u64)
        .map(|id| {
            let company = id % 2 == 1;
            let (city, district, postcode, office) = *pick(&mut rng, &PLACES);
            let first = *pick(&mut rng, &FIRST_NAMES);
            let last = *pick(&mut rng, &SURNAMES);
            let customer = FaCustomer {
                id,
                kind: if company { "company" } else { "person" }.to_owned(),
                tax_number: if company {
                    make_vkn(base + id)
                } else {
                    make_tckn(base + id)
                },
                tax_office: company.then(|| office.to_owned()),
                title: company.then(|| {
                    format!(
                        "{} {}",
                        pick(&mut rng, &COMPANY_NAMES),
                        pick(&mut rng, &COMPANY_KINDS)
                    )
                }),
                name: (!company).then(|| first.to_owned()),
                surname: (!company).then(|| last.to_owned()),
                phone: Some(format!(
                    "5{}{:07}",
                    rng.u32(30..=59),
                    rng.u32(0..10_000_000)
                )),
                email: Some(format!("musteri{id}@example.com")),
                country: "TÜRKİYE".to_owned(),
                postcode: Some(postcode.to_owned()),
                city: city.to_owned(),
                district: district.to_owned(),
                address: format!("{} No:{}", pick(&mut rng, &STREETS), rng.u32(1..120)),
                iban: (rng.u8(..3) == 0)
                    .then(|| make_tr_iban(*pick(&mut rng, &BANKS), rng.u64(..10_u64.pow(16)))),
                created_at: created.to_owned(),
                updated_at: created.to_owned(),
            };
            (id, customer)
        })
        .collect();
    FaState::new(count as u64 + 1, Table(customers))
}
