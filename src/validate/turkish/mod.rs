//! Turkish identifiers: VKN, TCKN, IBAN, phone numbers.
//!
//! E-invoices are legal documents, and Fatura Entegratör refuses a customer whose
//! tax number or IBAN fails its check digits. Finding that out at send time leaves
//! a half-loaded sheet, so these checks run locally first (the algorithms are in
//! the API notes, `fatura-entegrator.md`), and each failure says how to fix it.
//! Like the parsers in `values`, every parser here trims the cell itself, never
//! guesses, and never panics, whatever the input.
//!
//! Hand-written on purpose, each checked against a crate: `iban_validate` knows every
//! country's BBAN layout but reports only which stage failed, where a user needs "remove
//! the IBAN label" or "two digits are swapped", and it is laxer than Turkish banks on a
//! TR IBAN (its reserved `0`); nearly every IBAN here is Turkish, so the mod-97 check for
//! other countries is enough. No maintained crate checks VKN/TCKN. `phonenumber`
//! (libphonenumber's data, with `regex`) would add megabytes to the binary to read
//! the one country whose mobile and landline forms `phone` knows.

mod iban;
mod phone;
mod tax_number;

pub use iban::{iban_valid, parse_iban};
pub use phone::parse_tr_phone;
pub use tax_number::{parse_tax_number, tckn_check_digits, tckn_valid, vkn_check_digit, vkn_valid};

use super::values::{ValueError, all_ascii_digits, clean, is_trim_char, quote, quoted};

/// Outcome of an identifier check that may pass with a warning (the anonymous-consumer placeholder).
///
/// Some values are not valid identifiers yet are accepted by the API by custom; the
/// caller loads them but must show the warning so nobody mistakes them for real IDs.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    /// The normalized value, accepted as it is.
    Ok(String),
    /// The normalized value, accepted, and a warning for the report: (value, warning text).
    Warn(String, String),
}

/// A [`ValueError`] with its grouping summary and full detail.
fn error(summary: &str, detail: String) -> ValueError {
    ValueError {
        summary: summary.to_string(),
        detail,
    }
}

/// The digit values of `s` when it is exactly `N` ASCII digits.
fn ascii_digits<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes: &[u8; N] = s.as_bytes().try_into().ok()?;
    bytes
        .iter()
        .all(u8::is_ascii_digit)
        .then(|| bytes.map(|b| b - b'0'))
}

/// Whether the text looks like a number Excel rendered in scientific notation (`5.32E+09`).
fn looks_scientific(t: &str) -> bool {
    t.contains(['e', 'E'])
        && t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b',' | b'e' | b'E' | b'+' | b'-'))
}

/// How to undo Excel's scientific notation on an identifier.
const SCIENTIFIC_HINT: &str =
    "Excel turned it into scientific notation; format the column as Text and re-enter it";

/// Helpers shared by the unit tests of the Turkish parsers.
#[cfg(test)]
mod test_support {
    pub(super) use crate::validate::values::test_support::{detail, summary};

    /// Every string that differs from `s` in exactly one ASCII digit, the new one also a digit.
    pub(super) fn single_digit_changes(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (i, b) in s.bytes().enumerate() {
            if !b.is_ascii_digit() {
                continue;
            }
            for d in b'0'..=b'9' {
                if d != b {
                    let mut bytes = s.as_bytes().to_vec();
                    bytes[i] = d;
                    out.push(String::from_utf8(bytes).unwrap());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // ---- properties ----

    fn run_all(s: &str) {
        let _ = vkn_valid(s);
        let _ = tckn_valid(s);
        let _ = iban_valid(s);
        let _ = parse_tax_number(s);
        let _ = parse_iban(s);
        let _ = parse_tr_phone(s);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn nothing_panics_on_any_text(s in ".*") {
            run_all(&s);
            prop_assert_eq!(parse_iban(&s).is_ok(), iban_valid(&s));
        }

        #[test]
        fn nothing_panics_on_identifier_like_text(
            s in "[0-9 .\\-+()/eEA-Za-zİıIi\u{307}\u{a0}\u{feff}]{0,40}",
        ) {
            run_all(&s);
            prop_assert_eq!(parse_iban(&s).is_ok(), iban_valid(&s));
        }
    }
}
