//! Stacked discount expressions (`10% + 5`), normalised so equal discounts compare equal.

use super::{ValueError, all_ascii_digits, clean, quote, quoted};

/// Normalizes stacked discounts (`10% + 5` → `10+5`) so equal discounts
/// compare equal as strings on the API side.
pub fn parse_discount(text: &str) -> Result<String, ValueError> {
    let t = clean(text);
    let q = quoted(t);
    let invalid = |why: String| {
        ValueError::new(
            "is not a discount expression",
            format!("{q} is not a discount expression: {why}"),
        )
    };
    let mut terms = Vec::new();
    for raw in t.split('+') {
        let term = clean(raw);
        let term = clean(term.strip_suffix('%').unwrap_or(term));
        if term.is_empty() {
            return Err(invalid(
                "it has an empty term; write percentages joined by +, e.g. 10+5".to_string(),
            ));
        }
        let (int, frac) = term.split_once(['.', ',']).unwrap_or((term, ""));
        let has_mark = int.len() != term.len();
        if !all_ascii_digits(int) || (has_mark && !all_ascii_digits(frac)) {
            let why = if term.starts_with(['-', '−']) {
                "percentages cannot be negative".to_string()
            } else {
                format!(
                    "{} is not a percentage; write percentages joined by +, e.g. 10+5 or 2,5+1",
                    quote(term)
                )
            };
            return Err(invalid(why));
        }
        if frac.len() > 4 {
            return Err(invalid(format!("{} has more than 4 decimals", quote(term))));
        }
        let int = int.trim_start_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        let frac = frac.trim_end_matches('0');
        let over = int.len() > 3
            || int
                .parse::<u32>()
                .map_or(true, |v| v > 100 || (v == 100 && !frac.is_empty()));
        if over {
            return Err(ValueError::new(
                "has a percentage over 100",
                format!(
                    "{q} has a percentage over 100 ({term}): each discount must be between 0 and 100"
                ),
            ));
        }
        terms.push(if frac.is_empty() {
            int.to_string()
        } else {
            format!("{int}.{frac}")
        });
    }
    Ok(terms.join("+"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::values::test_support::*;
    use proptest::prelude::*;

    // ---- parse_discount ----

    #[test]
    fn discounts_normalized() {
        let ok = |s: &str| parse_discount(s);
        assert_eq!(ok("5"), Ok("5".to_string()));
        assert_eq!(ok("55.55+3"), Ok("55.55+3".to_string()));
        assert_eq!(ok("10 + 5"), Ok("10+5".to_string()));
        assert_eq!(ok("10%+5%"), Ok("10+5".to_string()));
        assert_eq!(ok("10 % + 5 %"), Ok("10+5".to_string()));
        assert_eq!(ok("2,5+1"), Ok("2.5+1".to_string()));
        assert_eq!(ok("10.50"), Ok("10.5".to_string()));
        assert_eq!(ok("5.0"), Ok("5".to_string()));
        assert_eq!(ok("0"), Ok("0".to_string()));
        assert_eq!(ok("007.5"), Ok("7.5".to_string()));
        assert_eq!(ok("100"), Ok("100".to_string()));
        assert_eq!(ok("100.00"), Ok("100".to_string()));
        assert_eq!(ok("0.0001"), Ok("0.0001".to_string()));
        assert_eq!(ok("10+5+2+1"), Ok("10+5+2+1".to_string()));
    }

    #[test]
    fn discount_errors() {
        for bad in [
            "5++3", "+5", "5+", "+", "-5", "abc", "5.", ".5", "1.2.3", "%5", "10%%", "5,5,5",
            "0.00001", "5 5",
        ] {
            assert_eq!(
                summary(parse_discount(bad)),
                "is not a discount expression",
                "{bad}"
            );
        }
        assert!(detail(parse_discount("5++3")).contains("empty term"));
        assert!(detail(parse_discount("0.00001")).contains("4 decimals"));
        for bad in ["101", "100.01", "10+150", "99999999999999999999"] {
            assert_eq!(
                summary(parse_discount(bad)),
                "has a percentage over 100",
                "{bad}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn discounts_round_trip(
            terms in prop::collection::vec((0u32..=10_000, 0u8..4, any::<bool>(), any::<bool>()), 1..=4),
        ) {
            let mut written = Vec::new();
            let mut normalized = Vec::new();
            for (hundredths, shape, percent, spaced) in terms {
                let (int, frac) = (hundredths / 100, hundredths % 100);
                let mut term = match shape {
                    0 if frac == 0 => int.to_string(),
                    0 | 1 => format!("{int}.{frac:02}"),
                    2 => format!("{int},{frac:02}"),
                    _ => format!("{int}.{frac}"),
                };
                let frac_text = if shape == 3 { frac.to_string() } else { format!("{frac:02}") };
                if percent {
                    term.push('%');
                }
                if spaced {
                    term = format!(" {term} ");
                }
                written.push(term);
                // Expected form computed from the text actually written.
                let exact = if shape == 0 && frac == 0 { String::new() } else { frac_text };
                let trimmed = exact.trim_end_matches('0');
                normalized.push(if trimmed.is_empty() { int.to_string() } else { format!("{int}.{trimmed}") });
            }
            let text = written.join("+");
            let over = normalized.iter().any(|t| t.parse::<f64>().is_ok_and(|v| v > 100.0));
            if over {
                prop_assert_eq!(summary(parse_discount(&text)), "has a percentage over 100");
            } else {
                prop_assert_eq!(parse_discount(&text), Ok(normalized.join("+")));
            }
        }
    }
}
