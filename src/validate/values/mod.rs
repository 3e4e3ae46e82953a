//! Pure parsers for the text of spreadsheet cells.
//!
//! Sales-ops sheets come from Indonesian, Turkish and English locales, so the
//! same text can mean different things (`5.000` is five thousand in Jakarta and
//! five in London). These parsers never guess in such cases: they reject the
//! value and say which option removes the doubt. Every parser trims the cell
//! itself and never panics, whatever the input.
//!
//! Hand-written on purpose: the locale rules above are the product, not a parsing
//! detail, and no crate refuses an ambiguous `5.000` with the flag that settles it.
//! Dates are checked by `chrono` once their order is known. `email_address` accepts
//! every RFC 5322 form (`a@b`, quoted local parts), which are valid but not deliverable
//! from a sales sheet, where `email` wants an address a mail server will take.

mod boolean;
mod dates;
mod discount;
mod email;
mod geo;
mod id;
mod numbers;
mod phone;
mod tags;

pub use boolean::parse_bool;
pub use dates::{
    DayMonthOrder, check_date_format, day_month_order, excel_serial_to_date, parse_date,
};
pub use discount::parse_discount;
pub use email::parse_email;
pub use geo::{parse_latitude, parse_location, parse_longitude};
pub use id::parse_id;
pub use numbers::{parse_decimal, parse_integer};
pub use phone::parse_phone;
pub use tags::parse_tags;

/// Longest part of a cell quoted in an error detail, in characters.
const MAX_QUOTED_CHARS: usize = 60;

/// Why a cell's text is not an acceptable value.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueError {
    /// Short, value-free text used to group errors in summaries, e.g. "is not a phone number".
    /// Must read well after a field name: "phone is not a phone number".
    pub summary: String,
    /// Sentence fragment with the offending value and how to fix it, e.g.
    /// "'0812-abc' is not a phone number: use digits with an optional leading +".
    pub detail: String,
}

impl ValueError {
    fn new(summary: &str, detail: String) -> Self {
        Self {
            summary: summary.to_string(),
            detail,
        }
    }
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for ValueError {}

/// How to read `.` and `,` in numbers written as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum DecimalStyle {
    /// Decide per value, and reject values that could be read both ways.
    #[default]
    Auto,
    /// `,` marks decimals; `.` and spaces group thousands (Indonesia, Türkiye).
    DecimalComma,
    /// `.` marks decimals; `,` and spaces group thousands (English).
    DecimalPoint,
}

/// Options that change how text is read.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ParseOptions {
    /// Declared by the user (--decimal-comma / --decimal-point) to settle ambiguous numbers.
    pub decimals: DecimalStyle,
    /// A chrono strftime format such as "%d/%m/%Y", declared by the user with --date-format.
    pub date_format: Option<String>,
}

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// Characters trimmed from cell edges: Unicode whitespace (incl. NBSP) plus
/// the invisible BOM / zero-width space that pasted text often carries.
pub(crate) fn is_trim_char(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{feff}' | '\u{200b}')
}

/// A cell's text without its edges' white space and invisible characters.
pub(crate) fn clean(text: &str) -> &str {
    // Printable ASCII at both edges (most cells) has nothing to trim.
    let printable = |b: Option<&u8>| b.is_some_and(|b| (0x21..0x7f).contains(b));
    if printable(text.as_bytes().first()) && printable(text.as_bytes().last()) {
        return text;
    }
    text.trim_matches(is_trim_char)
}

/// Quotes a value for a detail message, truncated and with control
/// characters escaped so one bad cell cannot break a report line.
pub(crate) fn quote(value: &str) -> String {
    quoted(value).to_string()
}

/// [`quote`] rendered only when a message is written: validators name the value in
/// every error text they might build, and formatting it for every valid cell cost a
/// tenth of the validation time.
pub(crate) fn quoted(value: &str) -> Quoted<'_> {
    Quoted(value)
}

/// A value as [`quote`] shows it, formatted on demand.
#[derive(Clone, Copy)]
pub(crate) struct Quoted<'a>(&'a str);

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}'", printable(self.0))
    }
}

/// `text` with its control characters escaped (`\u{1b}`), whole: for names taken from
/// the file, such as headers, that messages repeat and a terminal must not interpret.
pub(crate) fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// A value as a message may show it unquoted: truncated, and with control characters
/// escaped (`\u{1b}`) so that none can reach a terminal or break a report line.
pub(crate) fn printable(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == MAX_QUOTED_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Case-insensitive (ASCII) `strip_prefix`; never slices inside a character.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Case-insensitive (ASCII) `strip_suffix`; never slices inside a character.
fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    if tail.eq_ignore_ascii_case(suffix) {
        s.get(..cut)
    } else {
        None
    }
}

/// Whether `s` is one or more ASCII digits (no sign, no separators).
pub(crate) fn all_ascii_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Helpers shared by the parsers' unit tests (the Turkish ones too).
#[cfg(test)]
pub(crate) mod test_support {
    use super::{DecimalStyle, ParseOptions, ValueError, parse_decimal};

    pub(super) fn opts(decimals: DecimalStyle) -> ParseOptions {
        ParseOptions {
            decimals,
            date_format: None,
        }
    }

    pub(super) fn auto() -> ParseOptions {
        ParseOptions::default()
    }

    pub(super) fn dec(text: &str, style: DecimalStyle) -> Result<f64, ValueError> {
        parse_decimal(text, false, &opts(style))
    }

    pub(crate) fn summary<T: std::fmt::Debug>(r: Result<T, ValueError>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.summary,
        }
    }

    pub(crate) fn detail<T: std::fmt::Debug>(r: Result<T, ValueError>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::values::test_support::*;
    use proptest::prelude::*;

    // ---- helpers ----

    #[test]
    fn quote_truncates_long_values_and_escapes_controls() {
        assert_eq!(quote("abc"), "'abc'");
        let long = "x".repeat(100);
        let q = quote(&long);
        assert!(q.ends_with("…'"));
        assert_eq!(q.chars().count(), 60 + 3);
        assert_eq!(quote(&"y".repeat(60)).chars().count(), 62);
        assert_eq!(quote("a\nb"), "'a\\nb'");
    }

    #[test]
    fn control_characters_in_names_are_escaped() {
        assert_eq!(escape_controls("Nama"), "Nama");
        assert_eq!(
            escape_controls("No\u{7} HP\u{1b}[0m"),
            "No\\u{7} HP\\u{1b}[0m"
        );
        assert_eq!(escape_controls("İ\tx"), "İ\\tx");
    }

    #[test]
    fn trimming_includes_nbsp_and_bom() {
        assert_eq!(clean("\u{a0} 12 \t\u{feff}"), "12");
        assert_eq!(dec("\u{a0}12\u{a0}", DecimalStyle::Auto), Ok(12.0));
    }

    // ---- properties ----

    /// Runs every parser; used to prove none of them panics.
    fn run_all(s: &str, fmt: Option<&str>) {
        for decimals in [
            DecimalStyle::Auto,
            DecimalStyle::DecimalComma,
            DecimalStyle::DecimalPoint,
        ] {
            let o = ParseOptions {
                decimals,
                date_format: fmt.map(str::to_string),
            };
            for numeric in [false, true] {
                let _ = parse_decimal(s, numeric, &o);
                let _ = parse_integer(s, numeric, &o);
            }
            let _ = parse_date(s, &o);
        }
        let _ = parse_date(s, &auto());
        let _ = parse_id(s);
        let _ = parse_bool(s);
        let _ = parse_latitude(s);
        let _ = parse_longitude(s);
        let _ = parse_location(s);
        let _ = parse_phone(s);
        let _ = parse_email(s);
        let _ = parse_tags(s);
        let _ = parse_discount(s);
        if let Ok(v) = s.parse::<f64>() {
            let _ = excel_serial_to_date(v);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn nothing_panics_on_any_text(s in ".*") {
            run_all(&s, None);
        }

        #[test]
        fn nothing_panics_on_printable_text(s in "\\PC*") {
            run_all(&s, Some("%d/%m/%Y"));
        }

        #[test]
        fn nothing_panics_on_number_like_text(
            s in "[0-9.,+\\-−eE%()/:;@TZz°NSEWLUB xRp$€₺\u{a0}]{0,24}",
            fmt in "(%[a-zA-Z.:+%0-9-]|[/ :.-]){0,6}",
        ) {
            run_all(&s, Some(&fmt));
        }
    }
}
