//! Whether an update would replace a stored value with the form Excel gives it when a
//! column becomes numbers: `081312591167` → `81312591167`, `6285240001234` →
//! `6.28524E+12`, `2026-03-14` → `46095`, a 19-digit code rounded to 15 digits. Such a
//! row is held (INVALID, old and new value named), never sent, unless the user says
//! the new value is meant (`--allow-excel-damage`).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::connector::parse::scalar_text;
use crate::input::{CellKind, RawRow};

/// What Excel did to a value, as judged from the stored value and the sheet's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// A digit string lost its leading zeros: `0812…` → `812…`.
    LeadingZero,
    /// A long number shown in scientific notation, digits lost: `6.28524E+12`.
    Scientific,
    /// A date turned into its serial day number: `46095`.
    DateSerial,
    /// A code longer than 15 digits rounded to a float's precision.
    Rounded,
}

impl Damage {
    /// What it looks like happened, for the held row's message.
    fn explain(self, new: &str) -> String {
        match self {
            Damage::LeadingZero => "it looks like Excel dropped the leading zero".into(),
            Damage::Scientific => {
                "it looks like Excel turned the number into scientific notation and lost its last digits".into()
            }
            Damage::DateSerial => match serial_date(new) {
                Some(d) => format!(
                    "it looks like Excel turned the date into its serial number ({new} is {d})"
                ),
                None => "it looks like Excel turned the date into its serial number".into(),
            },
            Damage::Rounded => {
                "it looks like Excel rounded the long number to 15 significant digits".into()
            }
        }
    }
}

/// Whether `new` looks like what Excel made of the stored `old`; `None` when it is an
/// ordinary change.
pub fn judge(old: &str, new: &str) -> Option<Damage> {
    let (old, new) = (old.trim(), new.trim());
    if old == new || old.is_empty() || new.is_empty() {
        return None;
    }
    if digits(old) && digits(new) {
        if old.starts_with('0') && old.trim_start_matches('0') == new {
            return Some(Damage::LeadingZero);
        }
        if rounded(old, new) {
            return Some(Damage::Rounded);
        }
        return None;
    }
    if digits(old.strip_prefix('+').unwrap_or(old)) && scientific_of(old, new) {
        return Some(Damage::Scientific);
    }
    if is_iso_date(old) && serial_date(new).is_some() {
        return Some(Damage::DateSerial);
    }
    None
}

/// The forms Excel's damage can give a natural key that the server stores (a dropped
/// leading zero, a long code rounded to a float): what a sheet's key may be when it is
/// the damaged copy of `key`. Empty for a key Excel leaves alone.
pub fn damaged_forms(key: &str) -> Vec<String> {
    let key = key.trim();
    if !digits(key) {
        return Vec::new();
    }
    let mut forms = Vec::new();
    if key.starts_with('0') {
        forms.push(key.trim_start_matches('0').to_string());
    } else if key.len() > 15
        && let Ok(f) = key.parse::<f64>()
    {
        forms.push((f as u128).to_string());
        // Fifteen significant digits, the rest zeros, as Excel shows it.
        let shown = format!("{f:.14e}");
        let head: String = shown
            .chars()
            .filter(char::is_ascii_digit)
            .take(15)
            .collect();
        forms.push(format!("{head:0<width$}", width = key.len()));
        forms.push(format!("{:0<width$}", &key[..15], width = key.len()));
    }
    forms.retain(|f| judge(key, f).is_some());
    forms.dedup();
    forms
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `new` is `old` after a trip through a float: more than 15 digits, the same length,
/// the first 15 within one of each other and the rest zeros (as Excel shows it), or
/// the float's exact value.
fn rounded(old: &str, new: &str) -> bool {
    if old.len() != new.len() || old.len() <= 15 || old.starts_with('0') {
        return false;
    }
    let head = |s: &str| s[..15].parse::<u64>().ok();
    let close = matches!((head(old), head(new)), (Some(a), Some(b)) if a.abs_diff(b) <= 1);
    let zeros = new[15..].bytes().all(|b| b == b'0');
    // Or the float's exact value printed in full (`…123456` → `…123776`).
    let float_in_full = old
        .parse::<f64>()
        .is_ok_and(|f| (f as u128).to_string() == new);
    (close && zeros) || float_in_full
}

/// `new` is scientific notation (`6.28524E+12`, `6,28524E+12`) whose value is `old`
/// to the mantissa's precision.
fn scientific_of(old: &str, new: &str) -> bool {
    let Some((mantissa, exponent)) = new.split_once(['E', 'e']) else {
        return false;
    };
    let Ok(exponent) = exponent
        .strip_prefix('+')
        .unwrap_or(exponent)
        .parse::<i32>()
    else {
        return false;
    };
    let mantissa = mantissa.replace(',', ".");
    let (int, frac) = mantissa.split_once('.').unwrap_or((&mantissa, ""));
    if !digits(int) || !(frac.is_empty() || digits(frac)) || !(1..=30).contains(&exponent) {
        return false;
    }
    let (Ok(m), Ok(o)) = (
        mantissa.parse::<f64>(),
        old.trim_start_matches('+').parse::<f64>(),
    ) else {
        return false;
    };
    let value = m * 10f64.powi(exponent);
    let unit = 10f64.powi(exponent - frac.len() as i32);
    (value - o).abs() <= unit / 2.0 * 1.000_001
}

/// `2026-03-14`, `2026-03-14 10:00:00`, `2026-03-14T10:00:00Z`.
fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
        && (b.len() == 10 || matches!(b[10], b' ' | b'T'))
}

/// The date a serial day number stands for, when `s` is one of the serials Excel gives
/// the dates people store (20000–80000: 1954 to 2118), fraction (time) allowed.
fn serial_date(s: &str) -> Option<String> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.len() != 5 || !digits(int) || !(frac.is_empty() || digits(frac)) {
        return None;
    }
    let n: i64 = int.parse().ok()?;
    if !(20_000..=80_000).contains(&n) {
        return None;
    }
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let d = epoch.checked_add_signed(chrono::TimeDelta::try_days(n)?)?;
    Some(d.format("%Y-%m-%d").to_string())
}

/// Where a payload field came from, for a held row's message.
#[derive(Debug, Clone)]
struct Column {
    /// The user's header (`No HP`).
    header: String,
    /// The cell without its row: `Customers!D`, `D` in a CSV.
    cell: String,
    /// Its position among the input's columns.
    index: usize,
}

/// The check an update's changes go through before they are sent: which payload
/// fields came from which column, and whether the user allowed Excel-damaged values.
#[derive(Debug, Default)]
pub struct Guard {
    /// Send them anyway (`--allow-excel-damage`).
    pub allow: bool,
    /// Say the fix in plain words, without flags (the browser, which has no
    /// "send anyway").
    pub plain: bool,
    /// The input is a workbook, whose cells say whether they hold numbers: only a
    /// number cell can be Excel's damage there (a text cell was typed as it is).
    workbook: bool,
    /// The columns of the row being planned whose cells were typed as they are (a
    /// workbook's cells that are not numbers): their values are not judged.
    typed: Vec<usize>,
    columns: HashMap<String, Column>,
}

impl Guard {
    /// A guard; `allow` lets every value through.
    pub fn new(allow: bool) -> Self {
        Guard {
            allow,
            plain: false,
            workbook: false,
            typed: Vec::new(),
            columns: HashMap::new(),
        }
    }

    /// The guard for a workbook's rows (see [`Guard::cells`]).
    pub fn for_workbook(mut self, workbook: bool) -> Self {
        self.workbook = workbook;
        self
    }

    /// The row about to be planned: in a workbook, its cells that are not numbers were
    /// typed as they are and are not judged (`05321234567` → `5321234567` typed as
    /// text is a change the user made). Every CSV cell is judged.
    pub fn cells(&mut self, raw: &RawRow) {
        self.typed.clear();
        if self.workbook {
            self.typed.extend(
                raw.cells
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.kind != CellKind::Number)
                    .map(|(i, _)| i),
            );
        }
    }

    /// The guard with its advice in plain words (see [`Guard::plain`]).
    pub fn in_plain_words(mut self, plain: bool) -> Self {
        self.plain = plain;
        self
    }

    /// `No HP (Customers!D7)`: where field `path` of row `row` is.
    fn place(&self, path: &str, row: u32) -> String {
        match self.columns.get(path) {
            Some(c) => format!("{} ({}{row})", c.header, c.cell),
            None => path.to_string(),
        }
    }

    /// Why row `row`, whose key `new` (field `path`) the server lacks, is held: the
    /// server's keys of which it looks like Excel's damage (`remote`, never empty).
    /// Always held, `--allow-excel-damage` or not: sending it would create a second
    /// `one` beside the one the key was meant to name.
    pub fn held_key(
        &self,
        path: &str,
        remote: &[String],
        new: &str,
        row: u32,
        one: &str,
    ) -> String {
        let why = remote
            .iter()
            .find_map(|old| judge(old, new))
            .map_or_else(String::new, |d| format!(" — {}", d.explain(new)));
        let fix = if self.plain {
            "In Excel, format the column as Text, type the key again as the server has it, and import the file again"
        } else {
            "Format the column as Text and type the key again as the server has it; --allow-excel-damage does not apply to keys"
        };
        format!(
            "{}: the server has {}, this sheet {new}{why}; not sent, as it would create a second {one}. {fix}",
            self.place(path, row),
            remote.join(" and "),
        )
    }

    /// Payload field `path` comes from the column headed `header`, whose cells are
    /// named `cell` + row (`Customers!D` + `7`).
    pub fn column(&mut self, path: &str, header: String, cell: String, index: usize) {
        self.columns.insert(
            path.to_string(),
            Column {
                header,
                cell,
                index,
            },
        );
    }

    /// Why the update of row `row` must be held: one reason per changed field whose new
    /// value looks like Excel's damage of the stored one (none: send it). Secret fields
    /// are never judged (their values are never shown).
    pub fn held(
        &self,
        changes: &Map<String, Value>,
        remote: &Value,
        row: u32,
        secrets: &[String],
    ) -> Vec<String> {
        if self.allow {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (k, new) in changes {
            let typed = (self.columns.get(k)).is_some_and(|c| self.typed.contains(&c.index));
            if typed || secrets.iter().any(|s| s == k) {
                continue;
            }
            let (Some(old), Some(new)) = (remote.get(k).and_then(scalar_text), scalar_text(new))
            else {
                continue;
            };
            let Some(damage) = judge(&old, &new) else {
                continue;
            };
            let fix = if self.plain {
                "In Excel, format the column as Text, type the value again as it should be, and import the file again; the browser never sends such a value"
            } else {
                "Format the column as Text and type the value again, or run with --allow-excel-damage (import or retry) to send it anyway"
            };
            out.push(format!(
                "{}: the server has {old}, this sheet {new} — {}. {fix}",
                self.place(k, row),
                damage.explain(&new)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_dropped_leading_zero_is_damage() {
        assert_eq!(
            judge("081312591167", "81312591167"),
            Some(Damage::LeadingZero)
        );
        assert_eq!(judge("00123", "123"), Some(Damage::LeadingZero));
        // Another number is a change, not damage.
        assert_eq!(judge("081312591167", "81312591168"), None);
        assert_eq!(judge("081312591167", "081312591168"), None);
        assert_eq!(judge("123", "0123"), None);
    }

    #[test]
    fn scientific_notation_of_the_stored_digits_is_damage() {
        assert_eq!(
            judge("6285241234567", "6.28524E+12"),
            Some(Damage::Scientific)
        );
        assert_eq!(
            judge("6285241234567", "6,28524E+12"),
            Some(Damage::Scientific)
        );
        assert_eq!(
            judge("+6285241234567", "6.28524e12"),
            Some(Damage::Scientific)
        );
        // A mantissa that is not the stored digits' prefix is another value.
        assert_eq!(judge("6285241234567", "7.28524E+12"), None);
        assert_eq!(judge("6285241234567", "6.28524E+11"), None);
        assert_eq!(judge("Toko", "6.28524E+12"), None);
    }

    #[test]
    fn a_serial_where_a_date_was_is_damage() {
        assert_eq!(judge("2026-03-14", "46095"), Some(Damage::DateSerial));
        assert_eq!(serial_date("46095").as_deref(), Some("2026-03-14"));
        assert_eq!(
            judge("2026-03-14 10:00:00", "46095.4166"),
            Some(Damage::DateSerial)
        );
        assert_eq!(judge("2026-03-14", "2026-03-15"), None);
        assert_eq!(judge("2026-03-14", "123"), None);
        assert_eq!(judge("2026-03-14", "99999"), None);
        assert_eq!(judge("Semarang", "46095"), None);
    }

    #[test]
    fn a_long_code_rounded_to_fifteen_digits_is_damage() {
        assert_eq!(
            judge("8991234567890123456", "8991234567890120000"),
            Some(Damage::Rounded)
        );
        assert_eq!(
            judge("8991234567890123456", "8991234567890123776"),
            Some(Damage::Rounded),
            "the same float printed in full"
        );
        assert_eq!(judge("8991234567890123456", "8991234567890123457"), None);
        assert_eq!(
            judge("899123456789012", "899123456789010"),
            None,
            "15 digits fit"
        );
    }

    #[test]
    fn the_guard_names_the_cell_old_and_new_and_the_fix() {
        let mut g = Guard::new(false);
        g.column("phone", "No HP".into(), "Customers!D".into(), 3);
        let changes = json!({"phone": "81312591167", "city": "Pati"});
        let remote = json!({"phone": "081312591167", "city": "Kudus"});
        let held = g.held(changes.as_object().unwrap(), &remote, 7, &[]);
        assert_eq!(
            held,
            [
                "No HP (Customers!D7): the server has 081312591167, this sheet 81312591167 — it looks like Excel dropped the leading zero. Format the column as Text and type the value again, or run with --allow-excel-damage (import or retry) to send it anyway"
            ]
        );
        let plain = Guard::new(false).in_plain_words(true);
        let said = plain.held(changes.as_object().unwrap(), &remote, 7, &[]);
        assert!(
            said[0].contains("import the file again") && !said[0].contains("--"),
            "{said:?}"
        );
        assert!(
            g.held(changes.as_object().unwrap(), &remote, 7, &["phone".into()])
                .is_empty()
        );
        assert!(
            Guard::new(true)
                .held(changes.as_object().unwrap(), &remote, 7, &[])
                .is_empty()
        );
    }

    #[test]
    fn the_forms_excel_gives_a_key() {
        assert_eq!(damaged_forms("00123"), ["123"]);
        assert_eq!(damaged_forms("0812"), ["812"]);
        assert!(damaged_forms("123").is_empty());
        assert!(damaged_forms("EX-1").is_empty());
        assert!(damaged_forms("000").is_empty(), "0 is not what 000 was");
        let long = damaged_forms("8991234567890123456");
        assert!(
            long.contains(&"8991234567890120000".to_string()),
            "{long:?}"
        );
        assert!(
            long.contains(&"8991234567890123776".to_string()),
            "{long:?}"
        );
        assert!(damaged_forms("899123456789012").is_empty(), "15 digits fit");
    }
}
