//! Phone numbers, normalised to `+digits` / `digits` so the API can match them.

use super::numbers::parse_canonical;
use super::{ValueError, all_ascii_digits, clean, quoted};

/// Characters people put inside phone numbers for readability.
fn is_phone_decoration(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.' | '(' | ')' | '/' | '\u{2010}' | '\u{2011}' | '\u{2013}'
        )
}

/// Normalizes phone numbers to `+digits`/`digits` so the API can match them.
pub fn parse_phone(text: &str) -> Result<String, ValueError> {
    let t = clean(text);
    let q = quoted(t);
    let mut compact = String::with_capacity(t.len());
    compact.extend(t.chars().filter(|c| !is_phone_decoration(*c)));
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    if !all_ascii_digits(digits) {
        let how = if t.contains(['e', 'E']) && parse_canonical(t).is_some() {
            "Excel turned it into scientific notation; format the column as Text and re-enter it"
        } else if digits.contains('+') {
            "a + may only appear at the start"
        } else {
            "use digits with an optional leading +"
        };
        return Err(ValueError::new(
            "is not a phone number",
            format!("{q} is not a phone number: {how}"),
        ));
    }
    let count = digits.len();
    if !(6..=15).contains(&count) {
        return Err(ValueError::new(
            "has an unlikely number of digits",
            format!("{q} has {count} digits: a phone number has 6 to 15, country code included"),
        ));
    }
    // `+digits` or `digits`: the compacted text is already the number as it is sent.
    Ok(compact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::values::test_support::*;
    use proptest::prelude::*;

    // ---- parse_phone ----

    #[test]
    fn phones_are_cleaned() {
        assert_eq!(
            parse_phone("+62 812-3456-7890"),
            Ok("+6281234567890".to_string())
        );
        assert_eq!(
            parse_phone("0812.3456.7890"),
            Ok("081234567890".to_string())
        );
        assert_eq!(parse_phone("(021) 555 1234"), Ok("0215551234".to_string()));
        assert_eq!(
            parse_phone("+90 (212) 555 12 34"),
            Ok("+902125551234".to_string())
        );
        assert_eq!(parse_phone("0812/3456/789"), Ok("08123456789".to_string()));
        assert_eq!(
            parse_phone("\u{a0}0812\u{a0}3456\u{a0}789 "),
            Ok("08123456789".to_string())
        );
        assert_eq!(parse_phone("123456"), Ok("123456".to_string()));
        assert_eq!(
            parse_phone("123456789012345"),
            Ok("123456789012345".to_string())
        );
    }

    #[test]
    fn phone_errors() {
        assert_eq!(summary(parse_phone("0812-abc")), "is not a phone number");
        assert_eq!(
            detail(parse_phone("0812-abc")),
            "'0812-abc' is not a phone number: use digits with an optional leading +"
        );
        assert_eq!(
            summary(parse_phone("62+812345678")),
            "is not a phone number"
        );
        assert!(detail(parse_phone("62+812345678")).contains("only appear at the start"));
        assert_eq!(
            summary(parse_phone("++62812345678")),
            "is not a phone number"
        );
        assert_eq!(summary(parse_phone("---")), "is not a phone number");
        assert_eq!(summary(parse_phone("+")), "is not a phone number");
        assert!(detail(parse_phone("6.28123E+12")).contains("scientific notation"));
        assert_eq!(
            summary(parse_phone("12345")),
            "has an unlikely number of digits"
        );
        assert!(detail(parse_phone("12 345")).contains("has 5 digits"));
        assert_eq!(
            summary(parse_phone("+1234567890123456")),
            "has an unlikely number of digits"
        );
        assert!(detail(parse_phone("+1234567890123456")).contains("16 digits"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn valid_phones_parse_to_digits(
            plus in any::<bool>(),
            digits in "[0-9]{6,15}",
            seps in prop::collection::vec(
                prop::option::of(prop::sample::select(vec![" ", "\u{a0}", "-", ".", "(", ")", "/"])),
                16,
            ),
        ) {
            let mut text = String::from(if plus { "+" } else { "" });
            for (c, sep) in digits.chars().zip(&seps) {
                text.extend(*sep);
                text.push(c);
            }
            let expected = format!("{}{digits}", if plus { "+" } else { "" });
            prop_assert_eq!(parse_phone(&text), Ok(expected));
        }
    }
}
