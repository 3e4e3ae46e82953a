//! VKN (company tax number) and TCKN (citizen identity number) with their check digits.

use super::{
    Checked, SCIENTIFIC_HINT, ValueError, all_ascii_digits, ascii_digits, clean, error,
    is_trim_char, looks_scientific, quoted,
};

/// The customary ID of an anonymous final consumer; it fails the TCKN checksum.
const PLACEHOLDER_TCKN: &str = "11111111111";

const NOT_VKN: &str = "is not a valid VKN";
const NOT_TCKN: &str = "is not a valid TCKN";
const NOT_TAX_NUMBER: &str = "is not a 10-digit VKN or 11-digit TCKN";

/// Computes the VKN (tax number) check digit from the first 9 digits.
///
/// Public so tests and sample-data generators can make valid VKNs without
/// copying the algorithm. Each element should be a digit value 0–9.
pub fn vkn_check_digit(first9: &[u8; 9]) -> u8 {
    let mut sum: u32 = 0;
    for (p, &d) in (1u32..).zip(first9) {
        let t = (u32::from(d) + 10 - p) % 10;
        if t != 0 {
            let c = (t << (10 - p)) % 9;
            sum += if c == 0 { 9 } else { c };
        }
    }
    ((10 - sum % 10) % 10) as u8
}

/// Computes both TCKN (identity number) check digits, d10 and d11, from the first 9.
///
/// Public so tests and sample-data generators can make valid TCKNs without
/// copying the algorithm. Each element should be a digit value 0–9.
pub fn tckn_check_digits(first9: &[u8; 9]) -> (u8, u8) {
    let d = first9.map(i32::from);
    let odd = d[0] + d[2] + d[4] + d[6] + d[8];
    let even = d[1] + d[3] + d[5] + d[7];
    // 7·O − E can be negative: a plain `%` would give a negative digit.
    let d10 = (7 * odd - even).rem_euclid(10);
    let d11 = (odd + even + d10).rem_euclid(10);
    (d10 as u8, d11 as u8)
}

/// Whether `digits` is a VKN the API will accept: exactly 10 ASCII digits with a
/// correct check digit. No cleaning: use [`parse_tax_number`] for cell text.
pub fn vkn_valid(digits: &str) -> bool {
    match ascii_digits::<10>(digits) {
        Some([first9 @ .., check]) => vkn_check_digit(&first9) == check,
        None => false,
    }
}

/// Whether `digits` is a real TCKN: exactly 11 ASCII digits, not starting with 0,
/// with both check digits correct. No cleaning: use [`parse_tax_number`] for cell text.
pub fn tckn_valid(digits: &str) -> bool {
    match ascii_digits::<11>(digits) {
        Some([first9 @ .., d10, d11]) => first9[0] != 0 && tckn_check_digits(&first9) == (d10, d11),
        None => false,
    }
}

/// Characters people put inside tax numbers for readability.
fn is_tax_decoration(c: char) -> bool {
    is_trim_char(c) || matches!(c, '.' | '-' | '\u{2010}' | '\u{2011}' | '\u{2013}')
}

/// Reads a `tax_number` cell as a VKN (10 digits) or TCKN (11 digits), so a
/// mistyped buyer ID is caught before the invoice system refuses it.
///
/// Spaces, dots and dashes are ignored and the result is the bare digits. The
/// anonymous-consumer placeholder `11111111111` passes as [`Checked::Warn`]; whether
/// its length suits the buyer type (company/person) is for the caller to judge.
pub fn parse_tax_number(text: &str) -> Result<Checked, ValueError> {
    let t = clean(text);
    let q = quoted(t);
    let digits: String = t.chars().filter(|c| !is_tax_decoration(*c)).collect();
    if !all_ascii_digits(&digits) {
        let how = if looks_scientific(t) {
            SCIENTIFIC_HINT
        } else if digits.is_empty() {
            "it has no digits"
        } else {
            "use only digits (spaces, dots and dashes are ignored)"
        };
        return Err(error(
            NOT_TAX_NUMBER,
            format!("{q} {NOT_TAX_NUMBER}: {how}"),
        ));
    }
    match digits.len() {
        10 if vkn_valid(&digits) => Ok(Checked::Ok(digits)),
        10 => Err(error(
            NOT_VKN,
            format!(
                "{q} fails the VKN check digit: a digit is mistyped or two are swapped; \
                 copy it from the tax plate (vergi levhası) or an earlier invoice"
            ),
        )),
        11 if digits == PLACEHOLDER_TCKN => Ok(Checked::Warn(
            digits,
            format!(
                "anonymous final consumer placeholder: {PLACEHOLDER_TCKN} is not a real TCKN; \
                 use it only for a person buyer who gave no ID"
            ),
        )),
        11 if tckn_valid(&digits) => Ok(Checked::Ok(digits)),
        11 if digits.starts_with('0') => Err(error(
            NOT_TCKN,
            format!("{q} starts with 0: a TCKN is 11 digits and never starts with 0"),
        )),
        11 => Err(error(
            NOT_TCKN,
            format!(
                "{q} fails the TCKN check digits: a digit is mistyped or two are swapped; \
                 copy it from the identity card (kimlik kartı)"
            ),
        )),
        9 => Err(error(
            NOT_TAX_NUMBER,
            format!(
                "{q} has 9 digits: a VKN has 10 and a TCKN 11; if this is a VKN starting \
                 with 0, Excel dropped the 0, so format the column as Text and re-enter it"
            ),
        )),
        n => Err(error(
            NOT_TAX_NUMBER,
            format!("{q} has {n} digits: a VKN has 10 and a TCKN 11"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> Result<Checked, ValueError> {
        Ok(Checked::Ok(s.to_string()))
    }

    fn to_text(digits: &[u8]) -> String {
        digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    // ---- VKN / TCKN ----

    #[test]
    fn vkn_examples() {
        assert!(vkn_valid("9876543217"));
        assert!(vkn_valid("4540536920"));
        assert!(!vkn_valid("9876543210"));
        assert_eq!(vkn_check_digit(&[9, 8, 7, 6, 5, 4, 3, 2, 1]), 7);
        assert_eq!(vkn_check_digit(&[4, 5, 4, 0, 5, 3, 6, 9, 2]), 0);
        for bad in [
            "",
            "987654321",
            "98765432170",
            "987654321a",
            "９876543217",
            " 9876543217",
        ] {
            assert!(!vkn_valid(bad), "{bad}");
        }
    }

    #[test]
    fn tckn_examples() {
        for good in ["34567890170", "17291716060", "19090909018"] {
            assert!(tckn_valid(good), "{good}");
        }
        for bad in [
            "34567890160",
            "34567890171",
            PLACEHOLDER_TCKN,
            "3456789017",
            "",
        ] {
            assert!(!tckn_valid(bad), "{bad}");
        }
        assert_eq!(tckn_check_digits(&[3, 4, 5, 6, 7, 8, 9, 0, 1]), (7, 0));
        // 7·O − E < 0 here (O = 0, E = 36): needs the non-negative modulo.
        assert_eq!(tckn_check_digits(&[0, 9, 0, 9, 0, 9, 0, 9, 0]), (4, 0));
        // Checksum holds but a TCKN never starts with 0.
        assert!(!tckn_valid("09090909040"));
    }

    #[test]
    fn tax_numbers_are_cleaned_and_classified() {
        assert_eq!(parse_tax_number("9876543217"), ok("9876543217"));
        assert_eq!(parse_tax_number(" 987.654.321-7 "), ok("9876543217"));
        assert_eq!(parse_tax_number("987 654 3217"), ok("9876543217"));
        assert_eq!(parse_tax_number("4540536920"), ok("4540536920"));
        assert_eq!(parse_tax_number("345 678 901 70"), ok("34567890170"));
        assert_eq!(
            parse_tax_number("\u{feff}17291716060\u{a0}"),
            ok("17291716060")
        );
        assert_eq!(parse_tax_number("19090909018"), ok("19090909018"));
    }

    #[test]
    fn placeholder_passes_with_a_warning() {
        for text in ["11111111111", " 111.111.111.11 "] {
            match parse_tax_number(text) {
                Ok(Checked::Warn(v, w)) => {
                    assert_eq!(v, "11111111111");
                    assert!(w.starts_with("anonymous final consumer placeholder"), "{w}");
                }
                other => panic!("expected a warning, got {other:?}"),
            }
        }
    }

    #[test]
    fn tax_number_errors() {
        assert_eq!(
            summary(parse_tax_number("9876543210")),
            "is not a valid VKN"
        );
        assert!(detail(parse_tax_number("9876543210")).starts_with("'9876543210' fails the VKN"));
        assert_eq!(
            summary(parse_tax_number("34567890160")),
            "is not a valid TCKN"
        );
        assert_eq!(
            summary(parse_tax_number("34567890171")),
            "is not a valid TCKN"
        );
        assert!(detail(parse_tax_number("34567890171")).contains("identity card"));
        assert_eq!(
            summary(parse_tax_number("09090909040")),
            "is not a valid TCKN"
        );
        assert!(detail(parse_tax_number("09090909040")).contains("never starts with 0"));
        for bad in [
            "12345",
            "123456789012",
            "",
            "   ",
            "12A4567890",
            "TR9876543217",
            "3.45679E+10",
        ] {
            assert_eq!(
                summary(parse_tax_number(bad)),
                "is not a 10-digit VKN or 11-digit TCKN",
                "{bad}"
            );
        }
        assert!(detail(parse_tax_number("12345")).contains("has 5 digits"));
        assert!(detail(parse_tax_number("876543217")).contains("Excel dropped the 0"));
        assert!(detail(parse_tax_number("3.45679E+10")).contains("scientific notation"));
        assert!(detail(parse_tax_number("12A4567890")).starts_with("'12A4567890' is not a"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn vkn_single_digit_changes_fail(first9 in prop::array::uniform9(0u8..=9)) {
            let vkn = format!("{}{}", to_text(&first9), vkn_check_digit(&first9));
            prop_assert!(vkn_valid(&vkn), "{}", vkn);
            let dotted = format!("{}.{}.{}", &vkn[..3], &vkn[3..6], &vkn[6..]);
            prop_assert_eq!(parse_tax_number(&dotted), ok(&vkn));
            for changed in single_digit_changes(&vkn) {
                prop_assert!(!vkn_valid(&changed), "{} -> {}", vkn, changed);
                prop_assert_eq!(summary(parse_tax_number(&changed)), NOT_VKN);
            }
        }

        #[test]
        fn tckn_single_digit_changes_fail(
            first in 1u8..=9,
            rest in prop::array::uniform8(0u8..=9),
        ) {
            let mut first9 = [first; 9];
            first9[1..].copy_from_slice(&rest);
            let (d10, d11) = tckn_check_digits(&first9);
            let tckn = format!("{}{d10}{d11}", to_text(&first9));
            prop_assert!(tckn_valid(&tckn), "{}", tckn);
            prop_assert_eq!(parse_tax_number(&tckn), ok(&tckn));
            for changed in single_digit_changes(&tckn) {
                prop_assert!(!tckn_valid(&changed), "{} -> {}", tckn, changed);
                if changed != PLACEHOLDER_TCKN {
                    prop_assert_eq!(summary(parse_tax_number(&changed)), NOT_TCKN);
                }
            }
        }

        #[test]
        fn check_digit_helpers_take_any_bytes(a in any::<[u8; 9]>()) {
            prop_assert!(vkn_check_digit(&a) <= 9);
            let (d10, d11) = tckn_check_digits(&a);
            prop_assert!(d10 <= 9 && d11 <= 9);
        }
    }
}
