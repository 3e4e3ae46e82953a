//! Pure parsers for the text of spreadsheet cells.
//!
//! Sales-ops sheets come from Indonesian, Turkish and English locales, so the
//! same text can mean different things (`5.000` is five thousand in Jakarta and
//! five in London). These parsers never guess in such cases: they reject the
//! value and say which option removes the doubt. Every parser trims the cell
//! itself and never panics, whatever the input.

use chrono::{NaiveDate, NaiveDateTime};

/// Longest part of a cell quoted in an error detail, in characters.
const MAX_QUOTED_CHARS: usize = 60;

/// 2^53: beyond this, whole numbers are no longer exact in JSON/f64.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
#[derive(Debug, Clone, Default)]
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
    text.trim_matches(is_trim_char)
}

/// Quotes a value for a detail message, truncated and with control
/// characters escaped so one bad cell cannot break a report line.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::from("'");
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
    out.push('\'');
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

fn all_ascii_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

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
fn parse_canonical(t: &str) -> Option<f64> {
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
fn take_sign(s: &str) -> Option<(bool, &str)> {
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
    let q = quote(t);
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
    let q = quote(clean(text));
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

/// Reads record ids, which may arrive as `123456.0` from numeric cells.
/// Scientific notation is refused because Excel has already dropped digits.
pub fn parse_id(text: &str) -> Result<i64, ValueError> {
    let t = clean(text);
    let q = quote(t);
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

// ---------------------------------------------------------------------------
// Yes/no, phone, e-mail, tags, discount
// ---------------------------------------------------------------------------

const TRUE_WORDS: &[&str] = &[
    "true", "t", "yes", "y", "1", "ya", "iya", "aktif", "active", "enabled", "on", "evet", "x",
    "✓", "✔",
];

const FALSE_WORDS: &[&str] = &[
    "false",
    "f",
    "no",
    "n",
    "0",
    "tidak",
    "tdk",
    "nonaktif",
    "non-aktif",
    "non aktif",
    "tidak aktif",
    "inactive",
    "disabled",
    "off",
    "hayır",
    "hayir",
];

/// Reads flags written the way each team types them (yes/ya/evet, x, ✓, 1/0).
pub fn parse_bool(text: &str) -> Result<bool, ValueError> {
    let key = clean(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if TRUE_WORDS.contains(&key.as_str()) {
        Ok(true)
    } else if FALSE_WORDS.contains(&key.as_str()) {
        Ok(false)
    } else {
        Err(ValueError::new(
            "is not yes/no",
            format!(
                "{} is not yes/no: use yes/no, ya/tidak, evet/hayır, true/false or 1/0",
                quote(clean(text))
            ),
        ))
    }
}

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
    let q = quote(t);
    let compact: String = t.chars().filter(|c| !is_phone_decoration(*c)).collect();
    let (plus, digits) = match compact.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", compact.as_str()),
    };
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
    Ok(format!("{plus}{digits}"))
}

/// Characters that cannot appear unquoted before the @ (RFC 5322 specials).
const EMAIL_LOCAL_SPECIALS: &[char] = &['(', ')', '<', '>', '[', ']', ':', ';', '\\', ',', '"'];

/// Why an e-mail address is malformed, as a fix-it hint.
fn email_problem(t: &str) -> Option<&'static str> {
    if t.chars().count() > 254 {
        return Some("it is longer than 254 characters");
    }
    if t.chars().any(char::is_whitespace) {
        return Some("it contains a space; put one address per cell");
    }
    let (local, domain) = match t.split_once('@') {
        None => return Some("it has no @"),
        Some((_, domain)) if domain.contains('@') => {
            return Some("it has more than one @; put one address per cell");
        }
        Some(parts) => parts,
    };
    if local.is_empty() {
        return Some("nothing comes before the @");
    }
    if local.chars().count() > 64 {
        return Some("the part before @ is longer than 64 characters");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some("the part before @ cannot start or end with a dot or contain '..'");
    }
    if local.contains(EMAIL_LOCAL_SPECIALS) || local.chars().any(char::is_control) {
        return Some("the part before @ contains a character not allowed in addresses");
    }
    if !domain.contains('.') {
        return Some("the part after @ needs a dot, e.g. name@example.com");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Some("the part after @ has an empty part between dots");
        }
        if !label.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Some("the part after @ may only contain letters, digits, '-' and dots");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("a part of the domain starts or ends with '-'");
        }
        if label.chars().count() > 63 {
            return Some("a part of the domain is longer than 63 characters");
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    let tld_ok = (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
        || strip_prefix_ci(tld, "xn--").is_some();
    if !tld_ok {
        return Some("the domain must end with a name such as .com or .id");
    }
    None
}

/// Checks an address is plausibly deliverable; lower-cases the domain so
/// duplicates differing only in case compare equal.
pub fn parse_email(text: &str) -> Result<String, ValueError> {
    let t = clean(text);
    if let Some(problem) = email_problem(t) {
        return Err(ValueError::new(
            "is not an e-mail address",
            format!("{} is not an e-mail address: {problem}", quote(t)),
        ));
    }
    match t.split_once('@') {
        Some((local, domain)) => Ok(format!(
            "{local}@{}",
            domain.replace('İ', "i").to_lowercase()
        )),
        None => Ok(t.to_string()),
    }
}

/// Splits a tag cell; tolerant by design because any text is a valid tag.
pub fn parse_tags(text: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut tags = Vec::new();
    for part in text.split([',', ';', '\n', '\r']) {
        let tag = clean(part);
        if !tag.is_empty() && seen.insert(tag) {
            tags.push(tag.to_string());
        }
    }
    tags
}

/// Normalizes stacked discounts (`10% + 5` → `10+5`) so equal discounts
/// compare equal as strings on the API side.
pub fn parse_discount(text: &str) -> Result<String, ValueError> {
    let t = clean(text);
    let q = quote(t);
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

// ---------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------

/// Excel's serial for 9999-12-31, the last date it can show.
const MAX_EXCEL_SERIAL: f64 = 2_958_465.0;

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Why date text could not be read.
#[derive(Debug, PartialEq)]
enum DateIssue {
    NotDate,
    /// `2024` alone: a year, not the Excel serial for 1905-07-16.
    YearOnly,
    NotReal,
    TwoDigitYear,
    /// `03/04/2024`: day-month and month-day both work.
    Ambiguous {
        first: u32,
        second: u32,
        year: i32,
        sep: char,
    },
}

type DateResult = Result<NaiveDate, DateIssue>;

/// Converts the day count Excel stores for dates; reproduces the Lotus 1-2-3
/// leap-year bug so serials before March 1900 still land on the right day.
pub fn excel_serial_to_date(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() {
        return None;
    }
    let whole = serial.trunc();
    if !(1.0..=MAX_EXCEL_SERIAL).contains(&whole) {
        return None;
    }
    // Exact: 1 <= whole <= 2958465.
    let days = whole as u64;
    let base = match days {
        60 => return None, // 1900-02-29 never existed
        0..=59 => NaiveDate::from_ymd_opt(1899, 12, 31)?,
        _ => NaiveDate::from_ymd_opt(1899, 12, 30)?,
    };
    base.checked_add_days(chrono::Days::new(days))
}

fn ymd(year: i32, month: u32, day: u32) -> DateResult {
    NaiveDate::from_ymd_opt(year, month, day).ok_or(DateIssue::NotReal)
}

fn month_number(name: &str) -> Option<u32> {
    let month = match name.to_lowercase().as_str() {
        // English, Indonesian (incl. older spellings), Turkish (with and without diacritics)
        "jan" | "january" | "januari" | "ocak" => 1,
        "feb" | "february" | "februari" | "peb" | "pebruari" | "şubat" | "subat" => 2,
        "mar" | "march" | "maret" | "mart" => 3,
        "apr" | "april" | "nisan" => 4,
        "may" | "mei" | "mayıs" | "mayis" => 5,
        "jun" | "june" | "juni" | "haziran" => 6,
        "jul" | "july" | "juli" | "temmuz" => 7,
        "aug" | "august" | "agu" | "agt" | "ags" | "agustus" | "ağustos" | "agustos" => 8,
        "sep" | "sept" | "september" | "eylül" | "eylul" => 9,
        "oct" | "october" | "okt" | "oktober" | "ekim" => 10,
        "nov" | "november" | "nop" | "nopember" | "kasım" | "kasim" => 11,
        "dec" | "december" | "des" | "desember" | "aralık" | "aralik" => 12,
        _ => return None,
    };
    Some(month)
}

/// Parses 1–2 digit day or month numbers.
fn small_number(s: &str) -> Option<u32> {
    if (1..=2).contains(&s.len()) && all_ascii_digits(s) {
        s.parse().ok()
    } else {
        None
    }
}

fn four_digit_year(s: &str) -> Option<i32> {
    if s.len() == 4 && all_ascii_digits(s) {
        s.parse().ok()
    } else {
        None
    }
}

/// `HH:MM[:SS[.fff]]` with an optional `Z` or `±hh[:mm]` zone.
fn valid_time(s: &str) -> bool {
    let s = s.trim_matches(is_trim_char);
    let s = s
        .strip_suffix(['Z', 'z'])
        .map(|rest| rest.trim_end_matches(is_trim_char))
        .unwrap_or(s);
    let (clock, zone) = match s.rfind(['+', '-']) {
        Some(i) => (s.get(..i).unwrap_or_default(), s.get(i + 1..)),
        None => (s, None),
    };
    let zone_ok = zone.is_none_or(|z| {
        let (h, m) = z
            .split_once(':')
            .unwrap_or_else(|| z.split_at_checked(2).unwrap_or((z, "")));
        h.len() == 2
            && all_ascii_digits(h)
            && (m.is_empty() || (m.len() == 2 && all_ascii_digits(m)))
    });
    let clock = clock.trim_end_matches(is_trim_char);
    let mut parts = clock.split(':');
    let hour = parts.next().and_then(small_number);
    let minute = parts.next().filter(|m| m.len() == 2).and_then(small_number);
    let second_ok = match parts.next() {
        None => true,
        Some(sec) => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, "0"));
            whole.len() == 2
                && small_number(whole).is_some_and(|v| v <= 60)
                && all_ascii_digits(frac)
                && frac.len() <= 9
        }
    };
    zone_ok
        && parts.next().is_none()
        && hour.is_some_and(|h| h <= 23)
        && minute.is_some_and(|m| m <= 59)
        && second_ok
}

/// Splits `2024-03-04T10:00` / `03/04/2024 10:00` into date and time text.
fn split_time(t: &str) -> (&str, Option<&str>) {
    match t.find(|c: char| c == 'T' || is_trim_char(c)) {
        Some(i) => (
            t.get(..i).unwrap_or(t),
            t.get(i..).map(|rest| rest.get(1..).unwrap_or_default()),
        ),
        None => (t, None),
    }
}

/// Numeric dates: `2024-03-04`, `2024/3/4`, `04.03.2024`, `3/4/2024 10:30`.
/// `None` means the text does not have that shape at all.
fn read_numeric_date(t: &str) -> Option<DateResult> {
    let (date, time) = split_time(t);
    let sep = date.chars().find(|c| !c.is_ascii_digit())?;
    if !matches!(sep, '-' | '/' | '.') {
        return None;
    }
    let parts: Vec<&str> = date.split(sep).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    if ![a, b, c].iter().all(|p| all_ascii_digits(p)) {
        return None;
    }
    if time.is_some_and(|time| !valid_time(time)) {
        return Some(Err(DateIssue::NotDate));
    }
    if let Some(year) = four_digit_year(a) {
        return Some(match (small_number(b), small_number(c)) {
            (Some(month), Some(day)) => ymd(year, month, day),
            _ => Err(DateIssue::NotDate),
        });
    }
    let (Some(first), Some(second)) = (small_number(a), small_number(b)) else {
        return Some(Err(DateIssue::NotDate));
    };
    let Some(year) = four_digit_year(c) else {
        return Some(Err(if c.len() == 2 {
            DateIssue::TwoDigitYear
        } else {
            DateIssue::NotDate
        }));
    };
    Some(if first == 0 || second == 0 {
        Err(DateIssue::NotReal)
    } else if first > 12 || first == second {
        ymd(year, second, first)
    } else if second > 12 {
        ymd(year, first, second)
    } else {
        Err(DateIssue::Ambiguous {
            first,
            second,
            year,
            sep,
        })
    })
}

/// Date-typed cells exported as numbers (`45352`, `45352.0`), and compact `20240304`.
fn read_serial_date(t: &str) -> Option<DateResult> {
    let (int, frac) = match t.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (t, None),
    };
    if !all_ascii_digits(int) || frac.is_some_and(|f| !all_ascii_digits(f)) {
        return None;
    }
    if frac.is_none() && int.len() == 8 {
        let year = int.get(..4).and_then(four_digit_year)?;
        let month = int.get(4..6).and_then(small_number)?;
        let day = int.get(6..).and_then(small_number)?;
        return Some(ymd(year, month, day));
    }
    let serial: f64 = int.parse().ok()?;
    if frac.is_none() && int.len() == 4 && (1900.0..=2100.0).contains(&serial) {
        return Some(Err(DateIssue::YearOnly));
    }
    if !(1.0..=MAX_EXCEL_SERIAL).contains(&serial) {
        return Some(Err(DateIssue::NotDate));
    }
    Some(excel_serial_to_date(serial).ok_or(DateIssue::NotReal))
}

/// `4 Mar 2024`, `04-Mar-2024`, `17 Agustus 2024`, `Mar 4, 2024`, `2024-Mar-04`.
fn read_named_month_date(t: &str) -> Option<DateResult> {
    let tokens: Vec<&str> = t
        .split(|c: char| is_trim_char(c) || matches!(c, ',' | '-' | '/' | '.'))
        .filter(|s| !s.is_empty())
        .collect();
    let [a, b, c] = tokens.as_slice() else {
        return None;
    };
    let (day, month, year) = if let Some(month) = month_number(b) {
        if four_digit_year(a).is_some() {
            (*c, month, *a)
        } else {
            (*a, month, *c)
        }
    } else if let Some(month) = month_number(a) {
        (*b, month, *c)
    } else {
        return None;
    };
    let day = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|suffix| strip_suffix_ci(day, suffix))
        .unwrap_or(day);
    let Some(day) = small_number(day) else {
        return Some(Err(DateIssue::NotDate));
    };
    let Some(year) = four_digit_year(year) else {
        return Some(Err(if year.len() == 2 && all_ascii_digits(year) {
            DateIssue::TwoDigitYear
        } else {
            DateIssue::NotDate
        }));
    };
    Some(ymd(year, month, day))
}

/// Forms that need no --date-format: ISO, year-first, serials, compact.
fn read_unambiguous_date(t: &str) -> Option<DateResult> {
    let year_first = split_time(t)
        .0
        .split(['-', '/', '.'])
        .next()
        .is_some_and(|y| four_digit_year(y).is_some());
    if year_first && let Some(result) = read_numeric_date(t) {
        return Some(result);
    }
    read_serial_date(t)
}

fn read_date(t: &str) -> DateResult {
    read_unambiguous_date(t)
        .or_else(|| read_numeric_date(t))
        .or_else(|| read_named_month_date(t))
        .unwrap_or(Err(DateIssue::NotDate))
}

fn date_error(t: &str, issue: DateIssue) -> ValueError {
    let q = quote(t);
    match issue {
        DateIssue::NotDate => ValueError::new(
            "is not a date",
            format!("{q} is not a date: write it as YYYY-MM-DD, e.g. 2024-04-03"),
        ),
        DateIssue::YearOnly => ValueError::new(
            "is not a date",
            format!("{q} is only a year: write the full date as YYYY-MM-DD, e.g. 2024-04-03"),
        ),
        DateIssue::NotReal => ValueError::new(
            "is not a real date",
            format!("{q} is not a real date: check the day and the month"),
        ),
        DateIssue::TwoDigitYear => ValueError::new(
            "has a two-digit year",
            format!(
                "{q} has a two-digit year: write all 4 digits (2024, not 24), or use YYYY-MM-DD"
            ),
        ),
        DateIssue::Ambiguous {
            first,
            second,
            year,
            sep,
        } => {
            let name = |m: u32| {
                usize::try_from(m)
                    .ok()
                    .and_then(|m| MONTH_NAMES.get(m.wrapping_sub(1)))
                    .copied()
                    .unwrap_or("?")
            };
            ValueError::new(
                "is an ambiguous date",
                format!(
                    "{q} could be {first} {} or {second} {}: pass --date-format \
                     %d{sep}%m{sep}%Y (or %m{sep}%d{sep}%Y), or write {year:04}-{second:02}-{first:02}",
                    name(second),
                    name(first),
                ),
            )
        }
    }
}

/// The date separator of a strftime format: its first literal `-`, `/` or `.`
/// (the characters of a specifier such as `%-d` or `%.3f` do not count).
fn format_separator(fmt: &str) -> Option<char> {
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => {
                // Skip the specifier: optional flags, width or `.`, then its letter.
                for n in chars.by_ref() {
                    if !matches!(n, '-' | '_' | '0'..='9' | '.' | ':' | '#' | '^') {
                        break;
                    }
                }
            }
            '-' | '/' | '.' => return Some(c),
            _ => {}
        }
    }
    None
}

/// `t` with its numeric date's separator replaced by the format's (`14-12-2026` →
/// `14/12/2026` for `%d/%m/%Y`), when they differ; the time part is left alone.
fn with_format_separator<'a>(t: &'a str, fmt: &str) -> std::borrow::Cow<'a, str> {
    let (date, _) = split_time(t);
    let theirs = date.chars().find(|c| matches!(c, '-' | '/' | '.'));
    let numeric = date
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.'));
    match (theirs, format_separator(fmt)) {
        (Some(theirs), Some(ours)) if theirs != ours && numeric => format!(
            "{}{}",
            date.replace(theirs, &ours.to_string()),
            &t[date.len()..]
        )
        .into(),
        _ => t.into(),
    }
}

/// Applies the user's --date-format, also to cells that carry a time after the date and
/// to dates written with another separator (see [`parse_date`]).
fn parse_with_format(t: &str, fmt: &str) -> Result<NaiveDate, ValueError> {
    use chrono::format::ParseErrorKind;

    let reseparated = with_format_separator(t, fmt);
    let full = NaiveDate::parse_from_str(&reseparated, fmt).or_else(|e| {
        NaiveDateTime::parse_from_str(&reseparated, fmt)
            .map(|dt| dt.date())
            .map_err(|_| e)
    });
    let error = match full {
        Ok(date) => return Ok(date),
        Err(e) => e,
    };
    let (date_part, time) = split_time(&reseparated);
    if time.is_some_and(valid_time)
        && let Ok(date) = NaiveDate::parse_from_str(date_part, fmt)
    {
        return Ok(date);
    }
    match read_unambiguous_date(t) {
        Some(Ok(date)) => return Ok(date),
        Some(Err(issue @ DateIssue::NotReal)) => return Err(date_error(t, issue)),
        _ => {}
    }
    if matches!(
        error.kind(),
        ParseErrorKind::OutOfRange | ParseErrorKind::Impossible
    ) {
        return Err(date_error(t, DateIssue::NotReal));
    }
    let mut example = String::new();
    let sample = NaiveDate::from_ymd_opt(2024, 4, 3);
    let how = match sample
        .map(|d| std::fmt::Write::write_fmt(&mut example, format_args!("{}", d.format(fmt))))
    {
        Some(Ok(())) if !example.is_empty() => format!("write it like {example}, or as 2024-04-03"),
        _ => "write it in that format, or as YYYY-MM-DD".to_string(),
    };
    Err(ValueError::new(
        "does not match the date format",
        format!("{} does not match the date format {fmt}: {how}", quote(t)),
    ))
}

/// Reads dates in the many ways sheets write them, but refuses day/month
/// orders it cannot tell apart rather than silently swapping them.
///
/// With an explicit `--date-format` the format decides the order of day and month: a
/// value that differs from it only by its date separator (`-`, `/` or `.`, as in
/// `14-12-2026` for `%d/%m/%Y`) is read by that format too, rather than refused or
/// guessed, so that a date valid without the option stays valid with it. Year-first
/// ISO dates and Excel serials are read whatever the format.
pub fn parse_date(text: &str, opts: &ParseOptions) -> Result<NaiveDate, ValueError> {
    let t = clean(text);
    match opts.date_format.as_deref() {
        Some(fmt) => parse_with_format(t, fmt),
        None => read_date(t).map_err(|issue| date_error(t, issue)),
    }
}

// ---------------------------------------------------------------------------
// Coordinates
// ---------------------------------------------------------------------------

/// Which coordinate a hemisphere letter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Lat,
    Lon,
}

/// Hemisphere suffixes, longest first: English letters and the Indonesian
/// LU/LS (lintang utara/selatan) and BT/BB (bujur timur/barat).
const HEMISPHERES: [(&str, Axis, bool); 8] = [
    ("LU", Axis::Lat, false),
    ("LS", Axis::Lat, true),
    ("BT", Axis::Lon, false),
    ("BB", Axis::Lon, true),
    ("N", Axis::Lat, false),
    ("S", Axis::Lat, true),
    ("E", Axis::Lon, false),
    ("W", Axis::Lon, true),
];

/// Reads `-7.110383`, `7,110383°`, `7.11 S`, `110.47° BT` as signed degrees.
/// Returns the axis when a hemisphere letter names one.
fn read_coordinate(text: &str) -> Option<(f64, Option<Axis>)> {
    let mut s = clean(text);
    let mut hemisphere = None;
    for (letters, axis, negate) in HEMISPHERES {
        if let Some(rest) = strip_suffix_ci(s, letters) {
            s = rest.trim_end_matches(is_trim_char);
            hemisphere = Some((axis, negate));
            break;
        }
    }
    s = s
        .strip_suffix('°')
        .unwrap_or(s)
        .trim_end_matches(is_trim_char);
    let (negative, body) = match take_sign(s) {
        Some((negative, rest)) => (negative, rest),
        None => (false, s),
    };
    if negative && hemisphere.is_some() {
        return None; // "-7.1 S": contradictory
    }
    let (int, frac) = body.split_once(['.', ',']).unwrap_or((body, "0"));
    if !all_ascii_digits(int) || !all_ascii_digits(frac) {
        return None;
    }
    let value: f64 = format!("{int}.{frac}").parse().ok()?;
    let flip = negative || hemisphere.is_some_and(|(_, negate)| negate);
    let value = if flip { -value } else { value };
    Some((
        if value == 0.0 { 0.0 } else { value },
        hemisphere.map(|(axis, _)| axis),
    ))
}

fn in_lat_range(v: f64) -> bool {
    (-90.0..=90.0).contains(&v)
}

fn in_lon_range(v: f64) -> bool {
    (-180.0..=180.0).contains(&v)
}

fn parse_axis(text: &str, axis: Axis) -> Result<f64, ValueError> {
    let t = clean(text);
    let q = quote(t);
    let (name, limit, example) = match axis {
        Axis::Lat => ("latitude", 90, "-7.110383 or 7.110383 S"),
        Axis::Lon => ("longitude", 180, "110.473812 or 110.473812 E"),
    };
    match read_coordinate(t) {
        Some((value, found)) if found.is_none_or(|a| a == axis) => {
            let ok = match axis {
                Axis::Lat => in_lat_range(value),
                Axis::Lon => in_lon_range(value),
            };
            if ok {
                Ok(value)
            } else {
                Err(ValueError::new(
                    "is out of range",
                    format!("{q} is outside −{limit}..{limit} for a {name}"),
                ))
            }
        }
        _ => Err(ValueError::new(
            if axis == Axis::Lat {
                "is not a latitude"
            } else {
                "is not a longitude"
            },
            format!("{q} is not a {name}: write decimal degrees such as {example}"),
        )),
    }
}

/// Reads a latitude in decimal degrees; N/S letters are honoured so pasted
/// GPS text keeps its sign.
pub fn parse_latitude(text: &str) -> Result<f64, ValueError> {
    parse_axis(text, Axis::Lat)
}

/// Reads a longitude in decimal degrees; E/W letters are honoured so pasted
/// GPS text keeps its sign.
pub fn parse_longitude(text: &str) -> Result<f64, ValueError> {
    parse_axis(text, Axis::Lon)
}

/// Ways to cut a pasted pair in two, most specific first.
fn location_candidates(s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    if s.matches(';').count() == 1 {
        out.extend(s.split_once(';'));
    }
    if s.matches(',').count() == 1 {
        out.extend(s.split_once(','));
    }
    if s.matches(", ").count() == 1 {
        out.extend(s.split_once(", "));
    }
    let words: Vec<&str> = s.split(is_trim_char).filter(|w| !w.is_empty()).collect();
    if let [a, b] = words.as_slice() {
        out.push((a, b));
    }
    out
}

/// Reads a "lat, lon" pair as Google Maps copies it, catching the classic
/// mistakes: swapped order and the 0, 0 placeholder.
pub fn parse_location(text: &str) -> Result<(f64, f64), ValueError> {
    let t = clean(text);
    let q = quote(t);
    let inner = t
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .or_else(|| t.strip_prefix('[').and_then(|s| s.strip_suffix(']')))
        .map(clean)
        .unwrap_or(t);
    let pair = location_candidates(inner)
        .into_iter()
        .find_map(|(a, b)| Some((read_coordinate(a)?, read_coordinate(b)?)));
    let Some(((lat, lat_axis), (lon, lon_axis))) = pair else {
        return Err(ValueError::new(
            "is not a \"lat, lon\" pair",
            format!(
                "{q} is not a \"lat, lon\" pair: paste it as Google Maps shows it, e.g. -7.110383, 110.473812"
            ),
        ));
    };
    let letters_swapped = lat_axis == Some(Axis::Lon) || lon_axis == Some(Axis::Lat);
    let numbers_swapped = !in_lat_range(lat) && in_lon_range(lat) && in_lat_range(lon);
    if letters_swapped || numbers_swapped {
        return Err(ValueError::new(
            "looks swapped (lon, lat)",
            format!("{q} looks swapped (lon, lat): write the latitude first, e.g. {lon}, {lat}"),
        ));
    }
    if !in_lat_range(lat) || !in_lon_range(lon) {
        return Err(ValueError::new(
            "is out of range",
            format!(
                "{q} is out of range: latitude must be within −90..90 and longitude within −180..180"
            ),
        ));
    }
    if lat == 0.0 && lon == 0.0 {
        return Err(ValueError::new(
            "is not a real location",
            format!(
                "{q} is not a real location: 0, 0 is a placeholder; leave the cell empty if the location is unknown"
            ),
        ));
    }
    Ok((lat, lon))
}

// ---- end of parsers ----

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn opts(decimals: DecimalStyle) -> ParseOptions {
        ParseOptions {
            decimals,
            date_format: None,
        }
    }

    fn auto() -> ParseOptions {
        ParseOptions::default()
    }

    fn dec(text: &str, style: DecimalStyle) -> Result<f64, ValueError> {
        parse_decimal(text, false, &opts(style))
    }

    fn summary<T: std::fmt::Debug>(r: Result<T, ValueError>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.summary,
        }
    }

    fn detail<T: std::fmt::Debug>(r: Result<T, ValueError>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.detail,
        }
    }

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
    fn trimming_includes_nbsp_and_bom() {
        assert_eq!(clean("\u{a0} 12 \t\u{feff}"), "12");
        assert_eq!(dec("\u{a0}12\u{a0}", DecimalStyle::Auto), Ok(12.0));
    }

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

    // ---- parse_bool ----

    #[test]
    fn bool_words() {
        for word in [
            "true", "TRUE", "t", "Yes", "y", "1", "ya", "Iya", "aktif", "Active", "enabled", "ON",
            "evet", "EVET", "x", "X", "✓", "✔",
        ] {
            assert_eq!(parse_bool(word), Ok(true), "{word}");
        }
        for word in [
            "false",
            "FALSE",
            "f",
            "No",
            "n",
            "0",
            "tidak",
            "TDK",
            "nonaktif",
            "Non-Aktif",
            "non aktif",
            "non  aktif",
            "tidak aktif",
            "inactive",
            "disabled",
            "off",
            "hayır",
            "HAYIR",
            "Hayır",
            "hayir",
        ] {
            assert_eq!(parse_bool(word), Ok(false), "{word}");
        }
        assert_eq!(parse_bool("\u{a0} Ya "), Ok(true));
    }

    #[test]
    fn bool_rejects_other_words() {
        for bad in ["maybe", "2", "yess", "tidak tahu", "-"] {
            assert_eq!(summary(parse_bool(bad)), "is not yes/no", "{bad}");
        }
        let d = detail(parse_bool("maybe"));
        assert!(
            d.starts_with("'maybe' is not yes/no: ") && d.contains("ya/tidak"),
            "{d}"
        );
    }

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

    // ---- parse_email ----

    #[test]
    fn emails_accepted() {
        assert_eq!(
            parse_email(" Budi.Santoso@Example.CO.ID "),
            Ok("Budi.Santoso@example.co.id".to_string())
        );
        assert_eq!(
            parse_email("a+tag@mail.example.com"),
            Ok("a+tag@mail.example.com".to_string())
        );
        assert_eq!(
            parse_email("ayşe@şirket.com.tr"),
            Ok("ayşe@şirket.com.tr".to_string())
        );
        assert_eq!(parse_email("x@my-shop.id"), Ok("x@my-shop.id".to_string()));
        assert_eq!(
            parse_email("x@example.xn--p1ai"),
            Ok("x@example.xn--p1ai".to_string())
        );
        let local = "a".repeat(64);
        assert!(parse_email(&format!("{local}@example.com")).is_ok());
    }

    #[test]
    fn emails_rejected() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b.".repeat(130));
        for bad in [
            "budi",
            "budi@",
            "@example.com",
            "a@@example.com",
            "a@b@example.com",
            "budi santoso@example.com",
            ".budi@example.com",
            "budi.@example.com",
            "bu..di@example.com",
            "budi@example",
            "budi@example.c",
            "budi@example.123",
            "budi@-example.com",
            "budi@example-.com",
            "budi@example..com",
            "budi@example.com.",
            "budi@exa_mple.com",
            "<budi@example.com>",
            "budi@example.com, ani@example.com",
            long_local.as_str(),
            long_total.as_str(),
        ] {
            assert_eq!(
                summary(parse_email(bad)),
                "is not an e-mail address",
                "{bad}"
            );
        }
        assert_eq!(
            detail(parse_email("budi@example")),
            "'budi@example' is not an e-mail address: the part after @ needs a dot, e.g. name@example.com"
        );
    }

    // ---- parse_tags ----

    #[test]
    fn tags() {
        assert_eq!(
            parse_tags("vip, Grosir;vip\nretail\r\n, ,Retail"),
            vec!["vip", "Grosir", "retail", "Retail"]
        );
        assert_eq!(parse_tags(" a ,\u{a0}b\u{a0}"), vec!["a", "b"]);
        assert!(parse_tags(" ,;\n").is_empty());
        assert_eq!(parse_tags("toko kecil"), vec!["toko kecil"]);
    }

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

    // ---- dates ----

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn pd(text: &str) -> Result<NaiveDate, ValueError> {
        parse_date(text, &auto())
    }

    fn pdf(text: &str, fmt: &str) -> Result<NaiveDate, ValueError> {
        parse_date(
            text,
            &ParseOptions {
                decimals: DecimalStyle::Auto,
                date_format: Some(fmt.to_string()),
            },
        )
    }

    #[test]
    fn excel_serials() {
        assert_eq!(excel_serial_to_date(1.0), Some(date(1900, 1, 1)));
        assert_eq!(excel_serial_to_date(59.0), Some(date(1900, 2, 28)));
        assert_eq!(excel_serial_to_date(60.0), None);
        assert_eq!(excel_serial_to_date(61.0), Some(date(1900, 3, 1)));
        assert_eq!(excel_serial_to_date(45352.0), Some(date(2024, 3, 1)));
        assert_eq!(excel_serial_to_date(45352.99), Some(date(2024, 3, 1)));
        assert_eq!(excel_serial_to_date(2_958_465.0), Some(date(9999, 12, 31)));
        assert_eq!(excel_serial_to_date(2_958_466.0), None);
        assert_eq!(excel_serial_to_date(0.0), None);
        assert_eq!(excel_serial_to_date(0.9), None);
        assert_eq!(excel_serial_to_date(-1.0), None);
        assert_eq!(excel_serial_to_date(f64::NAN), None);
        assert_eq!(excel_serial_to_date(f64::INFINITY), None);
    }

    #[test]
    fn iso_dates_with_or_without_time() {
        let d = date(2024, 3, 4);
        for text in [
            "2024-03-04",
            " 2024-03-04 ",
            "2024-3-4",
            "2024-03-04 10:30",
            "2024-03-04 10:30:15",
            "2024-03-04T10:30:15",
            "2024-03-04T10:30:15.123",
            "2024-03-04T10:30:15Z",
            "2024-03-04T10:30:15.123456+07:00",
            "2024-03-04T10:30:15-0530",
            "2024/03/04",
            "2024.03.04",
            "20240304",
        ] {
            assert_eq!(pd(text), Ok(d), "{text}");
        }
        for bad in [
            "2024-03-04 25:00",
            "2024-03-04T10",
            "2024-03-04 10:30 pm",
            "2024-03-04x",
        ] {
            assert_eq!(summary(pd(bad)), "is not a date", "{bad}");
        }
    }

    #[test]
    fn serials_as_text() {
        assert_eq!(pd("45352"), Ok(date(2024, 3, 1)));
        assert_eq!(pd("45352.0"), Ok(date(2024, 3, 1)));
        assert_eq!(pd("45352.75"), Ok(date(2024, 3, 1)));
        assert_eq!(pd("1"), Ok(date(1900, 1, 1)));
        assert_eq!(summary(pd("60")), "is not a real date");
        assert_eq!(summary(pd("0")), "is not a date");
        assert_eq!(summary(pd("2958466")), "is not a date");
        assert_eq!(summary(pd("-45352")), "is not a date");
        // A lone year is far likelier than a date in 1905.
        assert_eq!(summary(pd("2024")), "is not a date");
        assert!(detail(pd("2024")).contains("only a year"));
        assert_eq!(pd("1899"), Ok(date(1905, 3, 13)));
        assert_eq!(pd("2024.0"), Ok(date(1905, 7, 16)));
    }

    #[test]
    fn day_month_order_from_numbers() {
        assert_eq!(pd("25/12/2024"), Ok(date(2024, 12, 25)));
        assert_eq!(pd("12/25/2024"), Ok(date(2024, 12, 25)));
        assert_eq!(pd("25.12.2024"), Ok(date(2024, 12, 25)));
        assert_eq!(pd("25-12-2024"), Ok(date(2024, 12, 25)));
        assert_eq!(pd("5/5/2024"), Ok(date(2024, 5, 5)));
        assert_eq!(pd("05/05/2024"), Ok(date(2024, 5, 5)));
        assert_eq!(pd("25/12/2024 08:00"), Ok(date(2024, 12, 25)));
    }

    #[test]
    fn ambiguous_dates_are_refused() {
        assert_eq!(summary(pd("03/04/2024")), "is an ambiguous date");
        assert_eq!(
            detail(pd("03/04/2024")),
            "'03/04/2024' could be 3 April or 4 March: pass --date-format %d/%m/%Y \
             (or %m/%d/%Y), or write 2024-04-03"
        );
        assert!(detail(pd("3.4.2024")).contains("%d.%m.%Y (or %m.%d.%Y)"));
        assert_eq!(summary(pd("12-11-2024")), "is an ambiguous date");
    }

    #[test]
    fn impossible_dates() {
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "31/02/2024",
            "13/13/2024",
            "00/05/2024",
            "31 Feb 2024",
            "30 Februari 2024",
            "20241301",
        ] {
            assert_eq!(summary(pd(bad)), "is not a real date", "{bad}");
        }
        assert_eq!(pd("2024-02-29"), Ok(date(2024, 2, 29)));
    }

    #[test]
    fn two_digit_years() {
        for bad in ["03/04/24", "25/12/24", "04-Mar-24", "4 Maret 24"] {
            assert_eq!(summary(pd(bad)), "has a two-digit year", "{bad}");
        }
        assert!(detail(pd("03/04/24")).contains("4 digits"));
    }

    #[test]
    fn month_names() {
        let d = date(2024, 3, 4);
        for text in [
            "4 Mar 2024",
            "04-Mar-2024",
            "4 Maret 2024",
            "4 MARET 2024",
            "Mar 4, 2024",
            "March 4 2024",
            "march 4th, 2024",
            "Mar. 4, 2024",
            "4 mart 2024",
            "2024-Mar-04",
            "04/mar/2024",
        ] {
            assert_eq!(pd(text), Ok(d), "{text}");
        }
        assert_eq!(pd("17 Agustus 2024"), Ok(date(2024, 8, 17)));
        assert_eq!(pd("17 Agu 2024"), Ok(date(2024, 8, 17)));
        assert_eq!(pd("17 Agt 2024"), Ok(date(2024, 8, 17)));
        assert_eq!(pd("17 Ags 2024"), Ok(date(2024, 8, 17)));
        assert_eq!(pd("1 Mei 2024"), Ok(date(2024, 5, 1)));
        assert_eq!(pd("1 Okt 2024"), Ok(date(2024, 10, 1)));
        assert_eq!(pd("1 Nop 2024"), Ok(date(2024, 11, 1)));
        assert_eq!(pd("25 Des 2024"), Ok(date(2024, 12, 25)));
        assert_eq!(pd("1 Januari 2024"), Ok(date(2024, 1, 1)));
        assert_eq!(pd("1 Februari 2024"), Ok(date(2024, 2, 1)));
        assert_eq!(pd("1 Juni 2024"), Ok(date(2024, 6, 1)));
        assert_eq!(pd("1 Juli 2024"), Ok(date(2024, 7, 1)));
        assert_eq!(pd("1 Oktober 2024"), Ok(date(2024, 10, 1)));
        assert_eq!(pd("1 Desember 2024"), Ok(date(2024, 12, 1)));
        assert_eq!(pd("29 Ekim 2024"), Ok(date(2024, 10, 29)));
        assert_eq!(pd("1 ŞUBAT 2024"), Ok(date(2024, 2, 1)));
        assert_eq!(pd("1 ARALIK 2024"), Ok(date(2024, 12, 1)));
    }

    #[test]
    fn not_dates() {
        for bad in [
            "tomorrow",
            "abc",
            "2024",
            "4 Foo 2024",
            "Mar 2024",
            "32 Mar 2024",
            "1/2/3/2024",
            "2024-03",
            "03/2024/04",
            "-",
        ] {
            let s = summary(pd(bad));
            assert!(
                s == "is not a date" || s == "is not a real date",
                "{bad}: {s}"
            );
        }
        assert_eq!(summary(pd("tomorrow")), "is not a date");
        assert_eq!(
            detail(pd("tomorrow")),
            "'tomorrow' is not a date: write it as YYYY-MM-DD, e.g. 2024-04-03"
        );
    }

    #[test]
    fn declared_date_format() {
        assert_eq!(pdf("03/04/2024", "%d/%m/%Y"), Ok(date(2024, 4, 3)));
        assert_eq!(pdf("03/04/2024", "%m/%d/%Y"), Ok(date(2024, 3, 4)));
        assert_eq!(pdf("03/04/2024 10:30", "%d/%m/%Y"), Ok(date(2024, 4, 3)));
        assert_eq!(
            pdf("03/04/2024 10:30", "%d/%m/%Y %H:%M"),
            Ok(date(2024, 4, 3))
        );
        assert_eq!(pdf("03/04/24", "%d/%m/%y"), Ok(date(2024, 4, 3)));
        // ISO and serials are still understood.
        assert_eq!(pdf("2024-04-03", "%d/%m/%Y"), Ok(date(2024, 4, 3)));
        assert_eq!(pdf("45385", "%d/%m/%Y"), Ok(date(2024, 4, 3)));
        // Another separator is read by the declared format, day and month as it says.
        assert_eq!(pdf("04-03-2024", "%d/%m/%Y"), Ok(date(2024, 3, 4)));
        assert_eq!(pdf("14.12.2026", "%d-%m-%Y"), Ok(date(2026, 12, 14)));
        assert_eq!(summary(pdf("12-14-2026", "%d/%m/%Y")), "is not a real date");
        assert_eq!(
            detail(pdf("April 3", "%d/%m/%Y")),
            "'April 3' does not match the date format %d/%m/%Y: write it like 03/04/2024, or as 2024-04-03"
        );
        assert_eq!(summary(pdf("31/02/2024", "%d/%m/%Y")), "is not a real date");
        assert_eq!(summary(pdf("2023-02-29", "%d/%m/%Y")), "is not a real date");
        assert_eq!(summary(pdf("x", "%Q")), "does not match the date format");
        assert_eq!(
            summary(pdf("10:30", "%H:%M")),
            "does not match the date format"
        );
    }

    // ---- coordinates ----

    #[test]
    fn latitudes() {
        assert_eq!(parse_latitude("-7.110383"), Ok(-7.110383));
        assert_eq!(parse_latitude("-7,110383"), Ok(-7.110383));
        assert_eq!(parse_latitude("7.110383°"), Ok(7.110383));
        assert_eq!(parse_latitude("7.110383° S"), Ok(-7.110383));
        assert_eq!(parse_latitude("7.110383s"), Ok(-7.110383));
        assert_eq!(parse_latitude("7.11 N"), Ok(7.11));
        assert_eq!(parse_latitude("7,11° LS"), Ok(-7.11));
        assert_eq!(parse_latitude("+7.11"), Ok(7.11));
        assert_eq!(parse_latitude("90"), Ok(90.0));
        assert_eq!(parse_latitude("-90"), Ok(-90.0));
        assert_eq!(parse_latitude("90 S"), Ok(-90.0));
        assert_eq!(summary(parse_latitude("123.4")), "is out of range");
        assert_eq!(
            detail(parse_latitude("123.4")),
            "'123.4' is outside −90..90 for a latitude"
        );
        assert_eq!(summary(parse_latitude("-90.0001")), "is out of range");
        for bad in [
            "abc",
            "7.1 E",
            "-7.1 S",
            "7.1.2",
            "7,1,2",
            "1 234",
            "7°06'37\"S",
            "1e2",
            "",
            "°",
            "N",
        ] {
            assert_eq!(summary(parse_latitude(bad)), "is not a latitude", "{bad}");
        }
    }

    #[test]
    fn longitudes() {
        assert_eq!(parse_longitude("110.473812"), Ok(110.473812));
        assert_eq!(parse_longitude("110,473812"), Ok(110.473812));
        assert_eq!(parse_longitude("110.47° E"), Ok(110.47));
        assert_eq!(parse_longitude("110.47 W"), Ok(-110.47));
        assert_eq!(parse_longitude("110.47 BB"), Ok(-110.47));
        assert_eq!(parse_longitude("110.47 bt"), Ok(110.47));
        assert_eq!(parse_longitude("180"), Ok(180.0));
        assert_eq!(parse_longitude("-180"), Ok(-180.0));
        assert_eq!(summary(parse_longitude("180.5")), "is out of range");
        assert_eq!(
            detail(parse_longitude("200")),
            "'200' is outside −180..180 for a longitude"
        );
        for bad in ["abc", "110 N", "110 LS", "--110", "110.47.1"] {
            assert_eq!(summary(parse_longitude(bad)), "is not a longitude", "{bad}");
        }
    }

    #[test]
    fn locations() {
        let expected = Ok((-7.110383, 110.473812));
        for text in [
            "-7.110383, 110.473812",
            "-7.110383,110.473812",
            "-7.110383;110.473812",
            "-7.110383 110.473812",
            "-7,110383; 110,473812",
            "-7,110383 110,473812",
            "-7,110383, 110,473812",
            "(-7.110383, 110.473812)",
            "( -7.110383 , 110.473812 )",
            "[-7.110383, 110.473812]",
            "7.110383° S, 110.473812° E",
            "7.110383S 110.473812E",
            "\u{a0}-7.110383,\u{a0}110.473812\u{a0}",
        ] {
            assert_eq!(parse_location(text), expected, "{text}");
        }
        assert_eq!(parse_location("0, 1"), Ok((0.0, 1.0)));
        assert_eq!(parse_location("90, 180"), Ok((90.0, 180.0)));
    }

    #[test]
    fn location_errors() {
        assert_eq!(
            summary(parse_location("110.473812, -7.110383")),
            "looks swapped (lon, lat)"
        );
        assert_eq!(
            detail(parse_location("110.473812, -7.110383")),
            "'110.473812, -7.110383' looks swapped (lon, lat): write the latitude first, e.g. -7.110383, 110.473812"
        );
        assert_eq!(
            summary(parse_location("110.47 E, 7.11 S")),
            "looks swapped (lon, lat)"
        );
        assert_eq!(summary(parse_location("0, 0")), "is not a real location");
        assert_eq!(summary(parse_location("0.0;0.0")), "is not a real location");
        assert_eq!(summary(parse_location("95, 200")), "is out of range");
        assert_eq!(summary(parse_location("-7.1, 190")), "is out of range");
        for bad in [
            "abc",
            "-7.110383",
            "-7.1, 110.4, 3",
            "-7.1 110.4 3",
            "-7.1;110.4;3",
            "lat, lon",
            "(-7.1, 110.4",
            "-7,1,110,4",
        ] {
            assert_eq!(
                summary(parse_location(bad)),
                "is not a \"lat, lon\" pair",
                "{bad}"
            );
        }
    }

    // ---- properties ----

    /// Largest magnitude parse_integer accepts: 2^53 − 1.
    const SAFE: i64 = 9_007_199_254_740_991;

    /// Days from 1900-03-01 (serial 61) to 9999-12-31 (serial 2958465).
    const MAX_DATE_OFFSET: u64 = 2_958_465 - 61;

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
    fn grouping_helper_and_date_bounds() {
        assert_eq!(group_thousands(-1_234_567, ','), "-1,234,567");
        assert_eq!(group_thousands(123, '.'), "123");
        let start = date(1900, 3, 1);
        assert_eq!(
            start.checked_add_days(chrono::Days::new(MAX_DATE_OFFSET)),
            Some(date(9999, 12, 31))
        );
    }

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

        #[test]
        fn dates_and_serials_round_trip(offset in 0..=MAX_DATE_OFFSET) {
            let d = date(1900, 3, 1).checked_add_days(chrono::Days::new(offset)).unwrap_or_default();
            prop_assert_eq!(pd(&d.format("%Y-%m-%d").to_string()), Ok(d));
            let serial = offset + 61;
            let text = serial.to_string();
            if text.len() == 4 && (1900..=2100).contains(&serial) {
                // Deliberately read as a lone year (see read_serial_date).
                prop_assert_eq!(summary(pd(&text)), "is not a date");
                prop_assert_eq!(pd(&format!("{serial}.0")), Ok(d));
            } else {
                prop_assert_eq!(pd(&text), Ok(d));
            }
            prop_assert_eq!(excel_serial_to_date(serial as f64), Some(d));
        }

        #[test]
        fn locations_round_trip(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0) {
            prop_assume!(!(lat == 0.0 && lon == 0.0));
            let parsed = parse_location(&format!("{lat}, {lon}"));
            prop_assert!(
                parsed.as_ref().is_ok_and(|(a, b)| (a - lat).abs() < 1e-9 && (b - lon).abs() < 1e-9),
                "{}, {} -> {:?}", lat, lon, parsed
            );
            prop_assert_eq!(parse_latitude(&lat.to_string()), Ok(lat));
            prop_assert_eq!(parse_longitude(&lon.to_string()), Ok(lon));
        }

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

    // ---- end of tests ----
}
