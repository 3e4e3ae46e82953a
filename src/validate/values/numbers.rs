//! Numbers written as text: amounts, prices, quantities and counts.
//!
//! `5.000` is five thousand in Jakarta and five in London, so a value that could be
//! read both ways is refused with the option (`--decimal-comma` / `--decimal-point`)
//! that removes the doubt.

use super::{
    DecimalStyle, ParseOptions, ValueError, all_ascii_digits, clean, is_trim_char, quoted,
    strip_prefix_ci, strip_suffix_ci,
};

/// 2^53: beyond this, whole numbers are no longer exact in JSON/f64.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// Why number text could not be read.
#[derive(Debug)]
enum NumberIssue {
    Malformed,
    /// One separator that could be grouping or decimal: `1,234`, `5.000`.
    Ambiguous {
        negative: bool,
        int: String,
        frac: String,
        sep: char,
    },
    TooLarge,
}

/// A separator found between digit groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Dot,
    Comma,
    Space,
}

impl Sep {
    fn as_char(self) -> char {
        match self {
            Sep::Dot => '.',
            Sep::Comma => ',',
            Sep::Space => ' ',
        }
    }
}

/// Digits of a number with separators removed.
struct Digits<'a> {
    int: Vec<&'a str>,
    frac: &'a str,
}

/// Parses a number as a numeric spreadsheet cell renders it (`-7.11`, `1E-7`).
pub(super) fn parse_canonical(t: &str) -> Option<f64> {
    let charset_ok = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !charset_ok || !t.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: f64 = t.parse().ok()?;
    v.is_finite().then_some(if v == 0.0 { 0.0 } else { v })
}

/// Takes a leading sign (ASCII or the Unicode minus U+2212).
pub(super) fn take_sign(s: &str) -> Option<(bool, &str)> {
    if let Some(rest) = s.strip_prefix('-').or_else(|| s.strip_prefix('−')) {
        Some((true, rest))
    } else {
        s.strip_prefix('+').map(|rest| (false, rest))
    }
}

/// Strips sign, currency marks and the Indonesian `,-` ("no cents") ending.
/// Returns (negative, number body, whole_only).
fn strip_decorations(t: &str) -> (bool, &str, bool) {
    let mut s = t;
    let mut negative = false;
    let mut signed = false;
    if let Some((neg, rest)) = take_sign(s) {
        negative = neg;
        signed = true;
        s = rest.trim_start_matches(is_trim_char);
    }
    for prefix in ["Rp.", "Rp", "IDR", "$", "€", "₺"] {
        if let Some(rest) = strip_prefix_ci(s, prefix) {
            s = rest.trim_start_matches(is_trim_char);
            break;
        }
    }
    if !signed && let Some((neg, rest)) = take_sign(s) {
        negative = neg;
        s = rest.trim_start_matches(is_trim_char);
    }
    for suffix in ["TL", "IDR", "₺"] {
        if let Some(rest) = strip_suffix_ci(s, suffix) {
            s = rest.trim_end_matches(is_trim_char);
            break;
        }
    }
    let mut whole_only = false;
    for suffix in [",-", ".-", ",--"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest;
            whole_only = true;
            break;
        }
    }
    (negative, s, whole_only)
}

/// Splits `1.234,5` into digit groups and the separators between them.
/// Only the first group may be empty (`.5`), and only before `.` or `,`.
fn tokenize(s: &str) -> Option<(Vec<&str>, Vec<Sep>)> {
    let mut groups = Vec::new();
    let mut seps = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let sep = match c {
            '0'..='9' => continue,
            '.' => Sep::Dot,
            ',' => Sep::Comma,
            ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' => Sep::Space,
            _ => return None,
        };
        groups.push(s.get(start..i)?);
        seps.push(sep);
        start = i + c.len_utf8();
    }
    groups.push(s.get(start..)?);
    let (first, rest) = groups.split_first()?;
    let first_ok = !first.is_empty() || seps.first().is_some_and(|s| *s != Sep::Space);
    if !first_ok || rest.iter().any(|g| g.is_empty()) {
        return None;
    }
    Some((groups, seps))
}

/// Index (into `seps`) of the decimal separator, if any, for the given style.
fn decimal_position(
    groups: &[&str],
    seps: &[Sep],
    style: DecimalStyle,
) -> Result<Option<usize>, NumberIssue> {
    let Some(last) = seps.iter().rposition(|s| *s != Sep::Space) else {
        return Ok(None);
    };
    let is_final = last + 1 == seps.len();
    let last_sep = seps.get(last).copied().unwrap_or(Sep::Space);
    match style {
        DecimalStyle::Auto => {
            let dots = seps.iter().filter(|s| **s == Sep::Dot).count();
            let commas = seps.iter().filter(|s| **s == Sep::Comma).count();
            if dots > 0 && commas > 0 {
                // The last one marks decimals; the other kind must only group.
                let earlier = seps.get(..last).unwrap_or_default();
                if !is_final || earlier.contains(&last_sep) {
                    return Err(NumberIssue::Malformed);
                }
                Ok(Some(last))
            } else if dots + commas >= 2 || !is_final {
                Ok(None)
            } else {
                let int = groups.get(last).copied().unwrap_or_default();
                let frac = groups.get(last + 1).copied().unwrap_or_default();
                let could_group = last == 0
                    && frac.len() == 3
                    && (1..=3).contains(&int.len())
                    && !int.starts_with('0');
                if could_group {
                    Err(NumberIssue::Ambiguous {
                        negative: false,
                        int: int.to_string(),
                        frac: frac.to_string(),
                        sep: last_sep.as_char(),
                    })
                } else {
                    Ok(Some(last))
                }
            }
        }
        DecimalStyle::DecimalComma => decimal_mark_at(Sep::Comma, seps),
        DecimalStyle::DecimalPoint => decimal_mark_at(Sep::Dot, seps),
    }
}

/// With a declared style the decimal mark may appear once, as the last separator.
fn decimal_mark_at(mark: Sep, seps: &[Sep]) -> Result<Option<usize>, NumberIssue> {
    let mut found = seps.iter().enumerate().filter(|(_, s)| **s == mark);
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some((i, _)), None) if i + 1 == seps.len() => Ok(Some(i)),
        _ => Err(NumberIssue::Malformed),
    }
}

/// Thousands grouping: one kind of separator, first group 1–3 digits, then 3s.
fn valid_grouping(groups: &[&str], seps: &[Sep]) -> bool {
    let Some((first, rest)) = groups.split_first() else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let one_kind = seps.windows(2).all(|w| w.first() == w.get(1));
    one_kind && (1..=3).contains(&first.len()) && rest.iter().all(|g| g.len() == 3)
}

fn grouped_digits(s: &str, style: DecimalStyle) -> Result<Digits<'_>, NumberIssue> {
    let (groups, seps) = tokenize(s).ok_or(NumberIssue::Malformed)?;
    let (int, int_seps, frac) = match decimal_position(&groups, &seps, style)? {
        Some(i) => (
            groups.get(..=i).unwrap_or_default(),
            seps.get(..i).unwrap_or_default(),
            groups.get(i + 1).copied().unwrap_or_default(),
        ),
        None => (groups.as_slice(), seps.as_slice(), ""),
    };
    if !valid_grouping(int, int_seps) {
        return Err(NumberIssue::Malformed);
    }
    Ok(Digits {
        int: int.to_vec(),
        frac,
    })
}

/// Mantissa of `1.5E-3`: no grouping, one optional decimal mark.
fn scientific_digits(s: &str, style: DecimalStyle) -> Result<Digits<'_>, NumberIssue> {
    let (groups, seps) = tokenize(s).ok_or(NumberIssue::Malformed)?;
    let allowed = |sep: Sep| match style {
        DecimalStyle::Auto => sep != Sep::Space,
        DecimalStyle::DecimalComma => sep == Sep::Comma,
        DecimalStyle::DecimalPoint => sep == Sep::Dot,
    };
    match (groups.as_slice(), seps.as_slice()) {
        ([int], []) => Ok(Digits {
            int: vec![int],
            frac: "",
        }),
        ([int, frac], [sep]) if allowed(*sep) => Ok(Digits {
            int: vec![int],
            frac,
        }),
        _ => Err(NumberIssue::Malformed),
    }
}

fn read_number(t: &str, style: DecimalStyle) -> Result<f64, NumberIssue> {
    let (negative, body, whole_only) = strip_decorations(t);
    // `Rp 5.000,-` says there are no cents, so `.` can only group thousands.
    let style = if whole_only && style == DecimalStyle::Auto {
        DecimalStyle::DecimalComma
    } else {
        style
    };
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if !all_ascii_digits(digits) {
                return Err(NumberIssue::Malformed);
            }
            (m, e)
        }
        None => (body, "0"),
    };
    let digits = if body.len() == mantissa.len() {
        grouped_digits(mantissa, style)
    } else {
        scientific_digits(mantissa, style)
    };
    let digits = digits.map_err(|issue| match issue {
        NumberIssue::Ambiguous { int, frac, sep, .. } => NumberIssue::Ambiguous {
            negative,
            int,
            frac,
            sep,
        },
        other => other,
    })?;
    if whole_only && !digits.frac.is_empty() {
        return Err(NumberIssue::Malformed);
    }
    let int = digits.int.concat();
    let canonical = format!(
        "{}{}.{}e{}",
        if negative { "-" } else { "" },
        if int.is_empty() { "0" } else { &int },
        if digits.frac.is_empty() {
            "0"
        } else {
            digits.frac
        },
        exponent
    );
    let value: f64 = canonical.parse().map_err(|_| NumberIssue::Malformed)?;
    if !value.is_finite() {
        return Err(NumberIssue::TooLarge);
    }
    Ok(if value == 0.0 { 0.0 } else { value })
}

fn number_error(t: &str, issue: NumberIssue, style: DecimalStyle) -> ValueError {
    let q = quoted(t);
    match issue {
        NumberIssue::Malformed => {
            let how = match style {
                DecimalStyle::Auto => {
                    "write digits with one decimal separator, e.g. 1234.5 or 1.234,5"
                }
                DecimalStyle::DecimalComma => {
                    "with --decimal-comma write it like 1.234,5 (',' for decimals, '.' between thousands)"
                }
                DecimalStyle::DecimalPoint => {
                    "with --decimal-point write it like 1,234.5 ('.' for decimals, ',' between thousands)"
                }
            };
            ValueError::new("is not a number", format!("{q} is not a number: {how}"))
        }
        NumberIssue::Ambiguous {
            negative,
            int,
            frac,
            sep,
        } => {
            let sign = if negative { "-" } else { "" };
            let decimal = format!("{int}.{frac}")
                .parse::<f64>()
                .map_or_else(|_| format!("{int}.{frac}"), |v| v.to_string());
            let (grouping_flag, decimal_flag) = if sep == ',' {
                ("--decimal-point", "--decimal-comma")
            } else {
                ("--decimal-comma", "--decimal-point")
            };
            ValueError::new(
                "is an ambiguous number",
                format!(
                    "{q} could be {sign}{int}{frac} or {sign}{decimal}: pass {grouping_flag} \
                     if '{sep}' separates thousands, or {decimal_flag} if it marks decimals"
                ),
            )
        }
        NumberIssue::TooLarge => ValueError::new(
            "is out of range",
            format!("{q} is too large to be a number"),
        ),
    }
}

/// Reads amounts, prices and quantities; refuses to guess when `.`/`,` could mean either.
pub fn parse_decimal(
    text: &str,
    numeric_cell: bool,
    opts: &ParseOptions,
) -> Result<f64, ValueError> {
    let t = clean(text);
    if numeric_cell && let Some(v) = parse_canonical(t) {
        return Ok(v);
    }
    read_number(t, opts.decimals).map_err(|issue| number_error(t, issue, opts.decimals))
}

/// Reads counts; limited to ±(2^53−1) so the value survives JSON unchanged.
pub fn parse_integer(
    text: &str,
    numeric_cell: bool,
    opts: &ParseOptions,
) -> Result<i64, ValueError> {
    let value = parse_decimal(text, numeric_cell, opts)?;
    let q = quoted(clean(text));
    if value.fract() != 0.0 {
        return Err(ValueError::new(
            "is not a whole number",
            format!("{q} is not a whole number: remove the decimals"),
        ));
    }
    if value.abs() >= MAX_SAFE_INTEGER {
        return Err(ValueError::new(
            "is out of range",
            format!("{q} is too large: whole numbers must be within ±9007199254740991"),
        ));
    }
    // Exact: |value| < 2^53 and it has no fraction.
    Ok(value as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::values::test_support::*;
    use proptest::prelude::*;

    // ---- parse_decimal ----

    #[test]
    fn numeric_cells_are_canonical() {
        let o = auto();
        assert_eq!(parse_decimal("1234.5", true, &o), Ok(1234.5));
        assert_eq!(parse_decimal("-7.11", true, &o), Ok(-7.11));
        assert_eq!(parse_decimal("5000", true, &o), Ok(5000.0));
        assert_eq!(parse_decimal("1.234", true, &o), Ok(1.234));
        assert_eq!(parse_decimal("5.000", true, &o), Ok(5.0));
        assert_eq!(parse_decimal("1E-7", true, &o), Ok(1e-7));
        assert_eq!(parse_decimal(" 12 ", true, &o), Ok(12.0));
    }

    #[test]
    fn numeric_cell_flag_with_text_falls_back_to_text_rules() {
        assert_eq!(parse_decimal("1.234,5", true, &auto()), Ok(1234.5));
        assert_eq!(
            summary(parse_decimal("NaN", true, &auto())),
            "is not a number"
        );
        assert_eq!(
            summary(parse_decimal("inf", true, &auto())),
            "is not a number"
        );
    }

    #[test]
    fn plain_digits_and_signs() {
        let a = DecimalStyle::Auto;
        assert_eq!(dec("0", a), Ok(0.0));
        assert_eq!(dec("5000", a), Ok(5000.0));
        assert_eq!(dec("+12", a), Ok(12.0));
        assert_eq!(dec("-12", a), Ok(-12.0));
        assert_eq!(dec("−12", a), Ok(-12.0));
        assert_eq!(dec("- 12", a), Ok(-12.0));
        assert!(dec("-0", a).is_ok_and(|v| v == 0.0 && v.is_sign_positive()));
    }

    #[test]
    fn space_grouping() {
        let a = DecimalStyle::Auto;
        assert_eq!(dec("1 234 567", a), Ok(1_234_567.0));
        assert_eq!(dec("1\u{a0}234\u{a0}567", a), Ok(1_234_567.0));
        assert_eq!(dec("1 234,5", a), Ok(1234.5));
        assert_eq!(dec("1 234.5", a), Ok(1234.5));
        assert_eq!(dec("1 234 567,891", a), Ok(1_234_567.891));
        assert_eq!(summary(dec("1 23", a)), "is not a number");
        assert_eq!(summary(dec("12  345", a)), "is not a number");
        assert_eq!(summary(dec("1 234.567,8", a)), "is not a number");
    }

    #[test]
    fn currency_marks_are_stripped() {
        let a = DecimalStyle::Auto;
        assert_eq!(dec("Rp 15.000,50", a), Ok(15000.5));
        assert_eq!(dec("Rp. 1.234.567", a), Ok(1_234_567.0));
        assert_eq!(dec("rp1.234.567", a), Ok(1_234_567.0));
        assert_eq!(dec("IDR 2500", a), Ok(2500.0));
        assert_eq!(dec("2500 IDR", a), Ok(2500.0));
        assert_eq!(dec("$1,234.50", a), Ok(1234.5));
        assert_eq!(dec("-$12.5", a), Ok(-12.5));
        assert_eq!(dec("$-12.5", a), Ok(-12.5));
        assert_eq!(dec("€ 12,5", a), Ok(12.5));
        assert_eq!(dec("₺12,5", a), Ok(12.5));
        assert_eq!(dec("1.234,56 TL", a), Ok(1234.56));
        assert_eq!(dec("12,5₺", a), Ok(12.5));
        assert_eq!(summary(dec("Rp", a)), "is not a number");
        assert_eq!(summary(dec("USD 5", a)), "is not a number");
    }

    #[test]
    fn indonesian_no_cents_suffix_means_grouping() {
        let a = DecimalStyle::Auto;
        assert_eq!(dec("Rp 5.000,-", a), Ok(5000.0));
        assert_eq!(dec("15.000,-", a), Ok(15000.0));
        assert_eq!(summary(dec("5,5,-", a)), "is not a number");
    }

    #[test]
    fn both_separators_last_one_is_decimal() {
        let a = DecimalStyle::Auto;
        assert_eq!(dec("1.234,56", a), Ok(1234.56));
        assert_eq!(dec("1,234.56", a), Ok(1234.56));
        assert_eq!(dec("1,234,567.8", a), Ok(1_234_567.8));
        assert_eq!(dec("1.234.567,8", a), Ok(1_234_567.8));
        assert_eq!(dec("-1.234,5", a), Ok(-1234.5));
        assert_eq!(summary(dec("1,2.5", a)), "is not a number");
        assert_eq!(summary(dec("1,234.567,8", a)), "is not a number");
        assert_eq!(summary(dec("12,34.5", a)), "is not a number");
        assert_eq!(summary(dec("1234,567.8", a)), "is not a number");
    }

    #[test]
    fn repeated_separator_is_grouping() {
        let a = DecimalStyle::Auto;
        assert_eq!(dec("1.234.567", a), Ok(1_234_567.0));
        assert_eq!(dec("1,234,567", a), Ok(1_234_567.0));
        assert_eq!(summary(dec("1.2.3", a)), "is not a number");
        assert_eq!(summary(dec("1,23,456", a)), "is not a number");
        assert_eq!(summary(dec("1234.567.890", a)), "is not a number");
    }

    #[test]
    fn single_comma() {
        let a = DecimalStyle::Auto;
        assert_eq!(dec("1,5", a), Ok(1.5));
        assert_eq!(dec("12,75", a), Ok(12.75));
        assert_eq!(dec("0,125", a), Ok(0.125));
        assert_eq!(dec("1234,567", a), Ok(1234.567));
        assert_eq!(dec("1,2345", a), Ok(1.2345));
        assert_eq!(summary(dec("1,234", a)), "is an ambiguous number");
        assert_eq!(summary(dec("123,456", a)), "is an ambiguous number");
        let d = detail(dec("1,234", a));
        assert!(d.starts_with("'1,234' could be 1234 or 1.234"), "{d}");
        assert!(
            d.contains("--decimal-comma") && d.contains("--decimal-point"),
            "{d}"
        );
    }

    #[test]
    fn single_point() {
        let a = DecimalStyle::Auto;
        assert_eq!(dec("1.5", a), Ok(1.5));
        assert_eq!(dec("0.125", a), Ok(0.125));
        assert_eq!(dec("12.75", a), Ok(12.75));
        assert_eq!(dec("1234.567", a), Ok(1234.567));
        assert_eq!(dec(".5", a), Ok(0.5));
        assert_eq!(dec(".500", a), Ok(0.5));
        assert_eq!(summary(dec("5.000", a)), "is an ambiguous number");
        assert_eq!(summary(dec("1.234", a)), "is an ambiguous number");
        assert_eq!(summary(dec("-1.234", a)), "is an ambiguous number");
        let d = detail(dec("-5.000", a));
        assert!(d.starts_with("'-5.000' could be -5000 or -5:"), "{d}");
        assert!(
            d.contains("--decimal-comma if '.' separates thousands"),
            "{d}"
        );
        assert_eq!(summary(dec("5.", a)), "is not a number");
        assert_eq!(summary(dec(".", a)), "is not a number");
    }

    #[test]
    fn decimal_comma_style() {
        let c = DecimalStyle::DecimalComma;
        assert_eq!(dec("5.000", c), Ok(5000.0));
        assert_eq!(dec("1.234,5", c), Ok(1234.5));
        assert_eq!(dec("1,5", c), Ok(1.5));
        assert_eq!(dec("1,234", c), Ok(1.234));
        assert_eq!(dec("1 234,5", c), Ok(1234.5));
        assert_eq!(dec("1.234.567", c), Ok(1_234_567.0));
        assert_eq!(summary(dec("1.5", c)), "is not a number");
        assert_eq!(summary(dec("1,234.5", c)), "is not a number");
        assert_eq!(summary(dec("1,2,3", c)), "is not a number");
        assert!(detail(dec("1.5", c)).contains("--decimal-comma"));
    }

    #[test]
    fn decimal_point_style() {
        let p = DecimalStyle::DecimalPoint;
        assert_eq!(dec("1,234", p), Ok(1234.0));
        assert_eq!(dec("5.000", p), Ok(5.0));
        assert_eq!(dec("1,234.5", p), Ok(1234.5));
        assert_eq!(dec("1.5", p), Ok(1.5));
        assert_eq!(summary(dec("1,5", p)), "is not a number");
        assert_eq!(summary(dec("1.234,5", p)), "is not a number");
    }

    #[test]
    fn exponents() {
        let a = DecimalStyle::Auto;
        assert_eq!(dec("1e3", a), Ok(1000.0));
        assert_eq!(dec("1.5E-3", a), Ok(0.0015));
        assert_eq!(dec("2E+2", a), Ok(200.0));
        assert_eq!(dec("1,5e2", DecimalStyle::DecimalComma), Ok(150.0));
        assert_eq!(summary(dec("1e", a)), "is not a number");
        assert_eq!(summary(dec("e5", a)), "is not a number");
        assert_eq!(summary(dec("1.5e2e3", a)), "is not a number");
        assert_eq!(summary(dec("1,234.5e2", a)), "is not a number");
        assert_eq!(summary(dec("1e999", a)), "is out of range");
    }

    #[test]
    fn garbage_is_not_a_number() {
        let a = DecimalStyle::Auto;
        for bad in [
            "abc", "NaN", "inf", "-inf", "infinity", "1..2", "--5", "+-5", "12abc", "1,,5", "0x10",
            "½",
        ] {
            assert_eq!(summary(dec(bad, a)), "is not a number", "{bad}");
        }
        assert!(detail(dec("abc", a)).starts_with("'abc' is not a number: "));
    }

    // ---- parse_integer / parse_id ----

    #[test]
    fn integers() {
        let o = auto();
        assert_eq!(parse_integer("42", false, &o), Ok(42));
        assert_eq!(parse_integer("1.0", true, &o), Ok(1));
        assert_eq!(parse_integer("-1.234.567", false, &o), Ok(-1_234_567));
        assert_eq!(parse_integer("1e3", false, &o), Ok(1000));
        assert_eq!(
            parse_integer("9007199254740991", false, &o),
            Ok(9_007_199_254_740_991)
        );
        assert_eq!(
            summary(parse_integer("1,5", false, &o)),
            "is not a whole number"
        );
        assert_eq!(
            summary(parse_integer("1.5", true, &o)),
            "is not a whole number"
        );
        assert_eq!(
            summary(parse_integer("9007199254740992", false, &o)),
            "is out of range"
        );
        assert_eq!(summary(parse_integer("1e20", false, &o)), "is out of range");
        assert_eq!(
            summary(parse_integer("5.000", false, &o)),
            "is an ambiguous number"
        );
        assert_eq!(summary(parse_integer("x", false, &o)), "is not a number");
    }

    /// Largest magnitude parse_integer accepts: 2^53 − 1.
    const SAFE: i64 = 9_007_199_254_740_991;

    fn group_thousands(n: i64, sep: char) -> String {
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        if n < 0 { format!("-{out}") } else { out }
    }

    #[test]
    fn grouping_helper() {
        assert_eq!(group_thousands(-1_234_567, ','), "-1,234,567");
        assert_eq!(group_thousands(123, '.'), "123");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn integers_round_trip(n in -SAFE..=SAFE) {
            let plain = n.to_string();
            prop_assert_eq!(parse_integer(&plain, false, &auto()), Ok(n));
            prop_assert_eq!(parse_integer(&plain, true, &auto()), Ok(n));
            let comma = group_thousands(n, ',');
            prop_assert_eq!(parse_integer(&comma, false, &opts(DecimalStyle::DecimalPoint)), Ok(n));
            let dot = group_thousands(n, '.');
            prop_assert_eq!(parse_integer(&dot, false, &opts(DecimalStyle::DecimalComma)), Ok(n));
            let space = group_thousands(n, '\u{a0}');
            prop_assert_eq!(parse_integer(&space, false, &auto()), Ok(n));
        }

        #[test]
        fn numeric_cells_round_trip(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            for text in [format!("{x}"), format!("{x:?}"), format!("{x:e}")] {
                let parsed = parse_decimal(&text, true, &auto());
                prop_assert!(parsed == Ok(x), "{} -> {:?}", text, parsed);
            }
        }
    }
}
