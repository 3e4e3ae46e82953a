//! Record ids, which numeric cells deliver as `123456.0`.

use super::numbers::parse_canonical;
use super::{ValueError, all_ascii_digits, clean, quoted};

/// Reads record ids, which may arrive as `123456.0` from numeric cells.
/// Scientific notation is refused because Excel has already dropped digits.
pub fn parse_id(text: &str) -> Result<i64, ValueError> {
    let t = clean(text);
    let q = quoted(t);
    let invalid =
        |how: &str| ValueError::new("is not a valid id", format!("{q} is not a valid id: {how}"));
    let (int, frac) = match t.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (t, None),
    };
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b == b'0'));
    if !all_ascii_digits(int) || !frac_ok {
        if t.contains(['e', 'E']) && parse_canonical(t).is_some() {
            return Err(invalid(
                "Excel shows long ids in scientific notation and loses digits; \
                 format the column as Text and re-enter the ids",
            ));
        }
        return Err(invalid("use the whole-number id, e.g. 123456"));
    }
    match int.parse::<i64>() {
        Ok(id) if id >= 1 => Ok(id),
        Ok(_) => Err(invalid("ids start at 1")),
        Err(_) => Err(invalid("the number is too large for an id")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::values::test_support::*;

    #[test]
    fn ids() {
        assert_eq!(parse_id("123456"), Ok(123_456));
        assert_eq!(parse_id(" 123456.0 "), Ok(123_456));
        assert_eq!(parse_id("7.00"), Ok(7));
        assert_eq!(parse_id("007"), Ok(7));
        for bad in [
            "0",
            "-5",
            "+5",
            "12.5",
            "12.",
            "abc",
            "1,234",
            "",
            "99999999999999999999",
        ] {
            assert_eq!(summary(parse_id(bad)), "is not a valid id", "{bad}");
        }
        assert!(detail(parse_id("1.23457E+11")).contains("scientific notation"));
        assert!(detail(parse_id("0")).contains("start at 1"));
    }
}
