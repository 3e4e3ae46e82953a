//! Fatura Entegratör's customers (invoice buyers) and the server-side rules for
//! writing them, answered as a Laravel app with the Turkish locale would.
//!
//! Strings go through what Laravel's global middleware does to every request:
//! surrounding whitespace is trimmed (`TrimStrings`) and an empty string becomes
//! `null` (`ConvertEmptyStringsToNull`). Nothing else is touched: case and
//! Turkish letters (`İ`, `ı`, `Ş`, `Ğ`) are stored and returned byte for byte.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::ids::{PLACEHOLDER_TCKN, is_iban, is_tckn, is_vkn};
use crate::sandbox::reply::{ApiError, FieldErrors};
use crate::sandbox::store::{Keyed, Table};
use crate::sandbox::validate::Field;

/// The whole Fatura Entegratör store: what the state file keeps under
/// `"fatura"`. One account (one API key), so `tax_number` is unique across it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FaState {
    pub(crate) next_id: u64,
    pub(crate) customers: Table<FaCustomer>,
    /// How many customers hold each tax number; rebuilt on load.
    #[serde(skip)]
    tax_numbers: HashMap<String, u32>,
}

impl Default for FaState {
    fn default() -> Self {
        FaState::new(1, Table::default())
    }
}

impl<'de> Deserialize<'de> for FaState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            next_id: u64,
            customers: Table<FaCustomer>,
        }
        let stored = Stored::deserialize(d)?;
        Ok(FaState::new(stored.next_id, stored.customers))
    }
}

/// One customer, as every answer shows it (Laravel returns every column, `null`
/// included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FaCustomer {
    pub(crate) id: u64,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) tax_number: String,
    pub(crate) tax_office: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) surname: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) country: String,
    pub(crate) postcode: Option<String>,
    pub(crate) city: String,
    pub(crate) district: String,
    pub(crate) address: String,
    pub(crate) iban: Option<String>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl Keyed for FaCustomer {
    fn key(&self) -> u64 {
        self.id
    }
}

/// A body field: its key, its Turkish name in messages, its longest length.
struct Spec {
    key: &'static str,
    label: &'static str,
    max: usize,
}

const SPECS: [Spec; 14] = [
    spec("type", "Müşteri tipi", 255),
    spec("tax_number", "Vergi numarası", 255),
    spec("tax_office", "Vergi dairesi", 255),
    spec("title", "Ünvan", 255),
    spec("name", "Ad", 255),
    spec("surname", "Soyad", 255),
    spec("phone", "Telefon", 255),
    spec("email", "E-posta", 255),
    spec("country", "Ülke", 255),
    spec("postcode", "Posta kodu", 255),
    spec("city", "İl", 255),
    spec("district", "İlçe", 255),
    spec("address", "Adres", 500),
    spec("iban", "IBAN", 255),
];

const fn spec(key: &'static str, label: &'static str, max: usize) -> Spec {
    Spec { key, label, max }
}

fn label(key: &str) -> &'static str {
    SPECS
        .iter()
        .find(|s| s.key == key)
        .map_or("Alan", |s| s.label)
}

/// Required on every create.
const ALWAYS_REQUIRED: [&str; 6] = [
    "type",
    "tax_number",
    "country",
    "address",
    "city",
    "district",
];
/// Required by type.
const COMPANY_REQUIRED: [&str; 2] = ["title", "tax_office"];
const PERSON_REQUIRED: [&str; 2] = ["name", "surname"];

fn required(key: &str) -> String {
    format!("{} alanı gereklidir.", label(key))
}

fn required_for(key: &str, kind: &str) -> String {
    format!(
        "{} alanı, {} {kind} olduğunda gereklidir.",
        label(key),
        label("type").to_lowercase()
    )
}

/// Laravel's `TrimStrings` (Unicode whitespace and the invisible marks it
/// strips too).
fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '\u{feff}' | '\u{200b}' | '\u{200e}'))
}

/// The known fields of one request body, read and format-checked.
struct Input(BTreeMap<&'static str, Field<String>>);

impl Input {
    fn read(body: &Map<String, Value>, errors: &mut FieldErrors) -> Self {
        let mut fields = BTreeMap::new();
        for spec in &SPECS {
            let field = match body.get(spec.key) {
                None => Field::Absent,
                Some(Value::Null) => Field::Null,
                Some(Value::String(s)) => {
                    let s = trim(s);
                    if s.is_empty() {
                        Field::Null
                    } else if s.chars().count() > spec.max {
                        errors.add(
                            spec.key,
                            format!("{} en fazla {} karakter olmalıdır.", spec.label, spec.max),
                        );
                        Field::Null
                    } else {
                        Field::Set(s.to_owned())
                    }
                }
                Some(_) => {
                    errors.add(spec.key, format!("{} metin olmalıdır.", spec.label));
                    Field::Null
                }
            };
            fields.insert(spec.key, field);
        }
        let input = Input(fields);
        input.check_formats(errors);
        input
    }

    fn get(&self, key: &str) -> Option<&str> {
        match self.0.get(key) {
            Some(Field::Set(v)) => Some(v),
            _ => None,
        }
    }

    fn check_formats(&self, errors: &mut FieldErrors) {
        if let Some(kind) = self.get("type")
            && kind != "person"
            && kind != "company"
        {
            errors.add(
                "type",
                "Seçili müşteri tipi geçersiz; person veya company olmalıdır.",
            );
        }
        if let Some(tax) = self.get("tax_number") {
            let all_digits = tax.bytes().all(|b| b.is_ascii_digit());
            if !all_digits || !(10..=11).contains(&tax.len()) {
                errors.add(
                    "tax_number",
                    "Vergi numarası 10 haneli VKN veya 11 haneli TCKN olmalıdır.",
                );
            } else if !(is_vkn(tax) || is_tckn(tax) || tax == PLACEHOLDER_TCKN) {
                errors.add("tax_number", "Vergi numarası geçersiz.");
            }
        }
        if let Some(phone) = self.get("phone") {
            let ok = phone.len() == 10
                && phone.bytes().all(|b| b.is_ascii_digit())
                && !phone.starts_with('0');
            if !ok {
                errors.add(
                    "phone",
                    "Telefon 10 haneli olmalıdır; başında 0 veya +90 olmadan yazın (ör. 5321234567).",
                );
            }
        }
        if let Some(email) = self.get("email") {
            let ok = !email.chars().any(char::is_whitespace)
                && email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && !domain.is_empty() && !domain.contains('@')
                });
            if !ok {
                errors.add("email", "E-posta geçerli bir e-posta adresi olmalıdır.");
            }
        }
        if let Some(iban) = self.get("iban")
            && !is_iban(iban)
        {
            errors.add("iban", "IBAN geçersiz.");
        }
    }

    /// Writes every field that was sent with a value; `null` and `""` leave the
    /// stored value alone (see the module docs of `fatura`).
    fn apply(self, c: &mut FaCustomer) {
        for (key, field) in self.0 {
            let Field::Set(v) = field else { continue };
            match key {
                "type" => c.kind = v,
                "tax_number" => c.tax_number = v,
                "tax_office" => c.tax_office = Some(v),
                "title" => c.title = Some(v),
                "name" => c.name = Some(v),
                "surname" => c.surname = Some(v),
                "phone" => c.phone = Some(v),
                "email" => c.email = Some(v),
                "country" => c.country = v,
                "postcode" => c.postcode = Some(v),
                "city" => c.city = v,
                "district" => c.district = v,
                "address" => c.address = v,
                "iban" => c.iban = Some(v),
                _ => {}
            }
        }
    }
}

/// The type-dependent requirements, checked on the record as it would be
/// stored (so a PATCH turning a person into a company must bring a title).
fn check_type_rules(c: &FaCustomer, errors: &mut FieldErrors) {
    let (needed, present): (&[&str], [bool; 2]) = match c.kind.as_str() {
        "company" => (
            &COMPANY_REQUIRED,
            [c.title.is_some(), c.tax_office.is_some()],
        ),
        "person" => (&PERSON_REQUIRED, [c.name.is_some(), c.surname.is_some()]),
        _ => return,
    };
    for (key, present) in needed.iter().zip(present) {
        if !present && !errors.has(key) {
            errors.add(*key, required_for(key, &c.kind));
        }
    }
}

impl FaState {
    pub(crate) fn new(next_id: u64, customers: Table<FaCustomer>) -> Self {
        let mut tax_numbers: HashMap<String, u32> = HashMap::new();
        for c in customers.0.values() {
            *tax_numbers.entry(c.tax_number.clone()).or_default() += 1;
        }
        // A hand-edited file may hold ids at or past its counter.
        let next_id = next_id.max(customers.0.keys().next_back().map_or(1, |id| id + 1));
        FaState {
            next_id,
            customers,
            tax_numbers,
        }
    }

    /// Whether another customer already holds this tax number. The anonymous
    /// consumer placeholder may be held by any number of customers.
    fn taken(&self, tax_number: &str) -> bool {
        tax_number != PLACEHOLDER_TCKN && self.tax_numbers.get(tax_number).is_some_and(|n| *n > 0)
    }

    fn index_remove(&mut self, tax_number: &str) {
        if let Some(n) = self.tax_numbers.get_mut(tax_number) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.tax_numbers.remove(tax_number);
            }
        }
    }

    fn index_add(&mut self, tax_number: &str) {
        *self.tax_numbers.entry(tax_number.to_owned()).or_default() += 1;
    }

    fn unique_error(errors: &mut FieldErrors) {
        errors.add("tax_number", "Vergi numarası daha önceden kayıt edilmiş.");
    }

    /// POST /api/customers: every rule, all errors at once.
    pub(crate) fn create(
        &mut self,
        body: &Map<String, Value>,
        now: &str,
    ) -> Result<FaCustomer, ApiError> {
        let mut errors = FieldErrors::default();
        let input = Input::read(body, &mut errors);
        for key in ALWAYS_REQUIRED {
            if input.get(key).is_none() && !errors.has(key) {
                errors.add(key, required(key));
            }
        }
        if let Some(tax) = input.get("tax_number")
            && !errors.has("tax_number")
            && self.taken(tax)
        {
            Self::unique_error(&mut errors);
        }
        let mut customer = FaCustomer {
            id: self.next_id,
            kind: String::new(),
            tax_number: String::new(),
            tax_office: None,
            title: None,
            name: None,
            surname: None,
            phone: None,
            email: None,
            country: String::new(),
            postcode: None,
            city: String::new(),
            district: String::new(),
            address: String::new(),
            iban: None,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
        };
        input.apply(&mut customer);
        check_type_rules(&customer, &mut errors);
        errors.into_result_turkish()?;
        self.next_id += 1;
        self.index_add(&customer.tax_number);
        self.customers.0.insert(customer.id, customer.clone());
        Ok(customer)
    }

    /// PATCH /api/customers/{id}: the fields sent, checked as on create, and the
    /// result checked as a whole. `None` when there is no such customer.
    pub(crate) fn patch(
        &mut self,
        id: u64,
        body: &Map<String, Value>,
        now: &str,
    ) -> Option<Result<FaCustomer, ApiError>> {
        let current = self.customers.0.get(&id)?;
        let mut errors = FieldErrors::default();
        let input = Input::read(body, &mut errors);
        let mut merged = current.clone();
        input.apply(&mut merged);
        check_type_rules(&merged, &mut errors);
        let old_tax = current.tax_number.clone();
        let changed_tax = merged.tax_number != old_tax;
        if changed_tax && !errors.has("tax_number") && self.taken(&merged.tax_number) {
            Self::unique_error(&mut errors);
        }
        if let Err(e) = errors.into_result_turkish() {
            return Some(Err(e));
        }
        // Like Eloquent, a save that changes nothing leaves `updated_at` alone.
        if merged != *current {
            merged.updated_at = now.to_owned();
        }
        if changed_tax {
            self.index_remove(&old_tax);
            self.index_add(&merged.tax_number);
        }
        self.customers.0.insert(id, merged.clone());
        Some(Ok(merged))
    }

    /// DELETE /api/customers/{id}; `false` when there is no such customer.
    pub(crate) fn delete(&mut self, id: u64) -> bool {
        match self.customers.0.remove(&id) {
            Some(c) => {
                self.index_remove(&c.tax_number);
                true
            }
            None => false,
        }
    }

    /// `{"records": {"customers": N}, "duplicate_keys": {"tax_number": {..}}}`.
    /// Only the placeholder TCKN can be held twice through the API.
    pub(crate) fn stats(&self) -> Value {
        let dups: BTreeMap<&str, u32> = self
            .tax_numbers
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, n)| (k.as_str(), *n))
            .collect();
        json!({
            "records": { "customers": self.customers.0.len() },
            "duplicate_keys": { "tax_number": dups },
        })
    }
}
