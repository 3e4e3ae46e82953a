//! IBANs: the mod-97 check for any country, plus the Turkish layout rules.

use super::{ValueError, clean, error, is_trim_char, quote};

const NOT_VALID_IBAN: &str = "is not a valid IBAN";
const NOT_IBAN: &str = "is not an IBAN";

/// Length of a Turkish IBAN: `TR`, 2 check digits, 5-digit bank code, `0`, 16 characters.
const TR_IBAN_LEN: usize = 26;

/// The IBAN as it is compared and sent: no spaces, ASCII upper case.
fn normalize_iban(text: &str) -> String {
    text.chars()
        .filter(|c| !is_trim_char(*c))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// ISO 7064 MOD 97-10 of the rearranged IBAN (first 4 characters moved to the
/// end, letters as 10–35), computed digit by digit so any length fits.
/// `None` when a character is not an ASCII letter or digit.
fn iban_mod97(iban: &str) -> Option<u32> {
    let (head, tail) = iban.split_at_checked(4)?;
    tail.chars().chain(head.chars()).try_fold(0u32, |acc, c| {
        let v = c.to_digit(36)?;
        let scale = if v < 10 { 10 } else { 100 };
        Some((acc * scale + v) % 97)
    })
}

/// Why a normalized IBAN is unacceptable: (summary, text that follows the quoted value).
fn iban_problem(n: &str) -> Option<(&'static str, String)> {
    let b = n.as_bytes();
    if n.starts_with("IBAN") {
        return Some((
            NOT_IBAN,
            format!("{NOT_IBAN}: remove the 'IBAN' label and keep only the number"),
        ));
    }
    if !b.iter().all(u8::is_ascii_alphanumeric) {
        return Some((
            NOT_IBAN,
            format!("{NOT_IBAN}: use only letters and digits (spaces are ignored)"),
        ));
    }
    let check = match b {
        [c1, c2, k1, k2, ..]
            if c1.is_ascii_alphabetic()
                && c2.is_ascii_alphabetic()
                && k1.is_ascii_digit()
                && k2.is_ascii_digit() =>
        {
            n.get(2..4).unwrap_or_default()
        }
        _ => {
            return Some((
                NOT_IBAN,
                format!(
                    "{NOT_IBAN}: it must start with a country code and two check digits, e.g. TR33"
                ),
            ));
        }
    };
    let len = n.len();
    if n.starts_with("TR") {
        if len != TR_IBAN_LEN {
            return Some((
                NOT_VALID_IBAN,
                format!(
                    "has {len} characters: a Turkish IBAN has {TR_IBAN_LEN} (TR, 2 check digits, \
                     5-digit bank code, 0, 16-character account number)"
                ),
            ));
        }
        if !b
            .get(4..9)
            .is_some_and(|code| code.iter().all(u8::is_ascii_digit))
        {
            return Some((
                NOT_VALID_IBAN,
                "has a bank code (characters 5 to 9) that is not all digits: \
                 copy the IBAN from a bank statement or the bank's app"
                    .to_string(),
            ));
        }
        if let Some(&reserved) = b.get(9).filter(|c| **c != b'0') {
            return Some((
                NOT_VALID_IBAN,
                format!(
                    "has '{}' as its 10th character: in a Turkish IBAN that character is always 0",
                    char::from(reserved)
                ),
            ));
        }
    } else if !(15..=34).contains(&len) {
        return Some((
            NOT_IBAN,
            format!("{NOT_IBAN}: it has {len} characters and an IBAN has 15 to 34"),
        ));
    }
    if matches!(check, "00" | "01" | "99") {
        return Some((
            NOT_VALID_IBAN,
            format!("has check digits {check}, which no IBAN has (they run from 02 to 98)"),
        ));
    }
    if iban_mod97(n) != Some(1) {
        return Some((
            NOT_VALID_IBAN,
            "fails the IBAN check digits: a character is mistyped or two are swapped; \
             copy the IBAN from a bank statement or the bank's app"
                .to_string(),
        ));
    }
    None
}

/// Whether the text is an IBAN a bank would accept: any country by the mod-97
/// check (after removing spaces and upper-casing), plus the Turkish layout rules
/// for `TR` IBANs (26 characters, numeric bank code, reserved `0` as 10th character).
pub fn iban_valid(iban: &str) -> bool {
    iban_problem(&normalize_iban(iban)).is_none()
}

/// Reads an `iban` cell so payment details on invoices are right; returns the
/// normalized form (no spaces, upper case) so duplicates compare equal.
pub fn parse_iban(text: &str) -> Result<String, ValueError> {
    let t = clean(text);
    let n = normalize_iban(t);
    match iban_problem(&n) {
        None => Ok(n),
        Some((summary, why)) => Err(error(summary, format!("{} {why}", quote(t)))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use proptest::prelude::*;

    /// TR IBAN check digits computed independently of `iban_mod97`, with u128.
    fn tr_iban(bban: &str) -> String {
        // T = 29, R = 27, check digits 00 at the end.
        let n: u128 = format!("{bban}292700").parse().unwrap();
        format!("TR{:02}{bban}", 98 - n % 97)
    }

    // ---- IBAN ----

    #[test]
    fn iban_examples() {
        assert!(iban_valid("TR330006100519786457841326"));
        assert!(iban_valid("TR850001000000000012345678"));
        assert!(iban_valid("TR85 0001 0000 0000 0012 3456 78"));
        assert!(iban_valid("tr85 0001 0000 0000 0012 3456 78"));
        assert!(!iban_valid("TR850001000000000012345687"));
        // Other countries: mod 97 only, letters included.
        assert!(iban_valid("DE89 3704 0044 0532 0130 00"));
        assert!(iban_valid("GB82 WEST 1234 5698 7654 32"));
        assert!(!iban_valid("GB82 WEST 1234 5698 7654 33"));
    }

    #[test]
    fn ibans_are_normalized() {
        let want = Ok("TR330006100519786457841326".to_string());
        assert_eq!(parse_iban("TR330006100519786457841326"), want);
        assert_eq!(parse_iban(" tr33 0006 1005 1978 6457 8413 26 "), want);
        assert_eq!(
            parse_iban("Tr33\u{a0}0006\u{a0}1005 1978 6457 8413 26"),
            want
        );
        assert_eq!(
            parse_iban("gb82west12345698765432"),
            Ok("GB82WEST12345698765432".to_string())
        );
    }

    #[test]
    fn iban_errors() {
        let bad = parse_iban("TR850001000000000012345687");
        assert_eq!(summary(bad.clone()), "is not a valid IBAN");
        assert!(detail(bad).starts_with("'TR850001000000000012345687' fails the IBAN check"));
        // TR layout: length, numeric bank code, reserved 0.
        let short = parse_iban("TR33000610051978645784132");
        assert_eq!(summary(short.clone()), "is not a valid IBAN");
        assert!(detail(short).contains("has 25 characters: a Turkish IBAN has 26"));
        assert_eq!(
            summary(parse_iban("TR3300061005197864578413261")),
            "is not a valid IBAN"
        );
        let reserved = parse_iban("TR330006110519786457841326");
        assert_eq!(summary(reserved.clone()), "is not a valid IBAN");
        assert!(detail(reserved).contains("'1' as its 10th character"));
        assert!(detail(parse_iban("TR33000A100519786457841326")).contains("bank code"));
        assert!(detail(parse_iban("TR000006100519786457841326")).contains("check digits 00"));
        // Shape.
        for bad in [
            "",
            "TR",
            "TR3",
            "1234567890123456",
            "TRAB0006100519786457841326",
            "TR33-0006-1005-1978-6457-8413-26",
            "IBAN: TR33 0006 1005 1978 6457 8413 26",
            "IBAN TR33 0006 1005 1978 6457 8413 26",
            "DE89 3704",
            "DE89370400440532013000123456789012345",
            "TR33 0006 1005 1978 6457 8413 2ı",
        ] {
            assert_eq!(summary(parse_iban(bad)), "is not an IBAN", "{bad}");
        }
        assert!(detail(parse_iban("IBAN TR330006100519786457841326")).contains("'IBAN' label"));
        assert!(detail(parse_iban("TR33-0006")).contains("only letters and digits"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn tr_iban_single_digit_changes_fail(bank in "[0-9]{5}", account in "[0-9]{16}") {
            let iban = tr_iban(&format!("{bank}0{account}"));
            prop_assert!(iban_valid(&iban), "{}", iban);
            let spaced: String = iban
                .to_lowercase()
                .chars()
                .enumerate()
                .flat_map(|(i, c)| (i > 0 && i % 4 == 0).then_some(' ').into_iter().chain([c]))
                .collect();
            prop_assert_eq!(parse_iban(&spaced), Ok(iban.clone()));
            for changed in single_digit_changes(&iban) {
                prop_assert!(!iban_valid(&changed), "{} -> {}", iban, changed);
                prop_assert_eq!(summary(parse_iban(&changed)), NOT_VALID_IBAN);
            }
        }
    }
}
