//! Turkish phone numbers, in the 10-digit form Fatura Entegratör wants.

use super::{
    SCIENTIFIC_HINT, ValueError, all_ascii_digits, clean, error, is_trim_char, looks_scientific,
    quoted,
};

const NOT_TR_PHONE: &str = "is not a 10-digit Turkish phone number";

/// Characters people put inside phone numbers for readability.
fn is_phone_decoration(c: char) -> bool {
    is_trim_char(c)
        || matches!(
            c,
            '-' | '.' | '(' | ')' | '/' | '\u{2010}' | '\u{2011}' | '\u{2013}'
        )
}

/// The 10-digit national number from digits with the country code or trunk 0
/// already optional; `None` when it is not a Turkish number of that shape.
fn national_number(plus: bool, digits: &str) -> Option<&str> {
    let rest = if plus {
        digits.strip_prefix("90")?
    } else if let Some(rest) = digits.strip_prefix("0090") {
        rest
    } else if digits.len() == 12 {
        // 12 digits can only be 90 + a national number.
        digits.strip_prefix("90")?
    } else {
        digits
    };
    // The trunk 0 (`0532…`), also written after the country code (`+90 (0532) …`).
    let national = match rest.strip_prefix('0') {
        Some(without) if without.len() == 10 => without,
        _ => rest,
    };
    // Turkish area and mobile codes start with 2–9.
    let first_ok = national
        .bytes()
        .next()
        .is_some_and(|b| (b'2'..=b'9').contains(&b));
    (national.len() == 10 && first_ok).then_some(national)
}

/// Reads a Turkish phone the way Fatura Entegratör wants it: 10 digits without the
/// leading 0 or +90 (`5321234567`), because it refuses the forms people write.
///
/// Accepts `0532 123 45 67`, `+90 532 123 4567`, `0090…`, `(0532) 123-45-67` and
/// normalizes them; numbers of other countries are refused, not guessed at.
pub fn parse_tr_phone(text: &str) -> Result<String, ValueError> {
    let t = clean(text);
    let q = quoted(t);
    let compact: String = t.chars().filter(|c| !is_phone_decoration(*c)).collect();
    let (plus, digits) = match compact.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, compact.as_str()),
    };
    if !all_ascii_digits(digits) {
        let how = if looks_scientific(t) {
            SCIENTIFIC_HINT
        } else if digits.contains('+') {
            "a + may only appear at the start"
        } else {
            "use digits only, e.g. 0532 123 45 67"
        };
        return Err(error(NOT_TR_PHONE, format!("{q} {NOT_TR_PHONE}: {how}")));
    }
    if let Some(national) = national_number(plus, digits) {
        return Ok(national.to_string());
    }
    let why = if plus && !digits.starts_with("90") {
        "only Turkish numbers (+90) are accepted".to_string()
    } else {
        format!(
            "it has {} digits; a Turkish number is 10 digits after the leading 0 or +90, \
             e.g. 0532 123 45 67",
            digits.len()
        )
    };
    Err(error(NOT_TR_PHONE, format!("{q} {NOT_TR_PHONE}: {why}")))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use proptest::prelude::*;

    // ---- phone ----

    #[test]
    fn tr_phones_are_normalized() {
        let want = Ok("5321234567".to_string());
        for text in [
            "5321234567",
            "05321234567",
            "0532 123 45 67",
            "+90 532 123 4567",
            "+905321234567",
            "(0532) 123-45-67",
            "+90 (0532) 123 45 67",
            "0090 532 123 45 67",
            "90 532 123 45 67",
            "532.123.45.67",
            " 0532\u{a0}123\u{a0}45\u{a0}67 ",
        ] {
            assert_eq!(parse_tr_phone(text), want, "{text}");
        }
        assert_eq!(
            parse_tr_phone("0212 555 12 34"),
            Ok("2125551234".to_string())
        );
        assert_eq!(
            parse_tr_phone("0850 222 00 00"),
            Ok("8502220000".to_string())
        );
    }

    #[test]
    fn tr_phone_errors() {
        for bad in [
            "",
            "532123456",
            "53212345678",
            "005321234567",
            "0012345678",
            "1234567890",
            "+49 30 1234567",
            "+90 532 123 45",
            "444 1 444",
            "0532-abc",
            "90+5321234567",
            "5.32123E+09",
        ] {
            assert_eq!(
                summary(parse_tr_phone(bad)),
                "is not a 10-digit Turkish phone number",
                "{bad}"
            );
        }
        assert!(detail(parse_tr_phone("+49 30 1234567")).contains("only Turkish numbers"));
        assert!(detail(parse_tr_phone("444 1 444")).contains("has 7 digits"));
        assert!(detail(parse_tr_phone("5.32123E+09")).contains("scientific notation"));
        assert!(detail(parse_tr_phone("0532-abc")).starts_with("'0532-abc' is not a 10-digit"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn tr_phones_round_trip(
            national in "[2-9][0-9]{9}",
            prefix in prop::sample::select(vec!["", "0", "+90", "+90 ", "0090 ", "+90 (0", "(0"]),
            sep in prop::sample::select(vec![" ", "-", ".", "", "\u{a0}"]),
        ) {
            let closing = if prefix.contains('(') { ")" } else { "" };
            let text = format!(
                "{prefix}{}{closing} {}{sep}{}{sep}{}",
                &national[..3], &national[3..6], &national[6..8], &national[8..]
            );
            prop_assert_eq!(parse_tr_phone(&text), Ok(national));
        }
    }
}
