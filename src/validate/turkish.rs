//! Turkish identifiers and text: VKN, TCKN, IBAN, phone numbers, Turkish casing.
//!
//! E-invoices are legal documents, and Fatura Entegratör refuses a customer whose
//! tax number or IBAN fails its check digits. Finding that out at send time leaves
//! a half-loaded sheet, so these checks run locally first (the algorithms are in
//! the API notes, `fatura-entegrator.md`), and each failure says how to fix it.
//! Like the parsers in `values`, every parser here trims the cell itself, never
//! guesses, and never panics, whatever the input.

use super::values::ValueError;

/// The customary ID of an anonymous final consumer; it fails the TCKN checksum.
const PLACEHOLDER_TCKN: &str = "11111111111";

const NOT_VKN: &str = "is not a valid VKN";
const NOT_TCKN: &str = "is not a valid TCKN";
const NOT_TAX_NUMBER: &str = "is not a 10-digit VKN or 11-digit TCKN";
const NOT_VALID_IBAN: &str = "is not a valid IBAN";
const NOT_IBAN: &str = "is not an IBAN";
const NOT_TR_PHONE: &str = "is not a 10-digit Turkish phone number";

/// Length of a Turkish IBAN: `TR`, 2 check digits, 5-digit bank code, `0`, 16 characters.
const TR_IBAN_LEN: usize = 26;

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

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

use super::values::{clean, is_trim_char, quote};

fn error(summary: &str, detail: String) -> ValueError {
    ValueError {
        summary: summary.to_string(),
        detail,
    }
}

fn all_ascii_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
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

const SCIENTIFIC_HINT: &str =
    "Excel turned it into scientific notation; format the column as Text and re-enter it";

// ---------------------------------------------------------------------------
// VKN and TCKN
// ---------------------------------------------------------------------------

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
    let q = quote(t);
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

// ---------------------------------------------------------------------------
// IBAN
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Phone
// ---------------------------------------------------------------------------

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
    let q = quote(t);
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

// ---------------------------------------------------------------------------
// Casing
// ---------------------------------------------------------------------------

/// Upper-cases with Turkish rules (`i` → `İ`, `ı` → `I`), for comparing and
/// normalizing country, city and district: plain Unicode casing turns `istanbul`
/// into `ISTANBUL`, which is a different spelling in Turkish. Never strips accents.
pub fn upper_tr(s: &str) -> String {
    // `ı` already upper-cases to `I` and `İ` stays `İ`; only `i` differs from Unicode.
    s.replace('i', "İ").to_uppercase()
}

/// Lower-cases with Turkish rules (`I` → `ı`, `İ` → `i`): plain Unicode casing turns
/// `İZMİR` into `i̇zmi̇r` with stray combining dots. A decomposed `İ` (`I` + U+0307)
/// also becomes `i`.
pub fn lower_tr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            'İ' => out.push('i'),
            'I' if chars.next_if_eq(&'\u{307}').is_some() => out.push('i'),
            'I' => out.push('ı'),
            _ => out.push(c),
        }
    }
    // Whole-string lower-casing keeps context rules such as the Greek final sigma.
    out.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    fn ok(s: &str) -> Result<Checked, ValueError> {
        Ok(Checked::Ok(s.to_string()))
    }

    fn to_text(digits: &[u8]) -> String {
        digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// Every string that differs from `s` in exactly one ASCII digit, the new one also a digit.
    fn single_digit_changes(s: &str) -> Vec<String> {
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

    /// TR IBAN check digits computed independently of `iban_mod97`, with u128.
    fn tr_iban(bban: &str) -> String {
        // T = 29, R = 27, check digits 00 at the end.
        let n: u128 = format!("{bban}292700").parse().unwrap();
        format!("TR{:02}{bban}", 98 - n % 97)
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

    // ---- casing ----

    #[test]
    fn turkish_casing() {
        assert_eq!(upper_tr("istanbul"), "İSTANBUL");
        assert_eq!(upper_tr("ılıca"), "ILICA");
        assert_eq!(upper_tr("Türkiye"), "TÜRKİYE");
        assert_eq!(upper_tr("şişli çağlayan öğü"), "ŞİŞLİ ÇAĞLAYAN ÖĞÜ");
        assert_eq!(upper_tr("İZMİR"), "İZMİR");
        assert_eq!(lower_tr("İZMİR"), "izmir");
        assert_eq!(lower_tr("ILICA"), "ılıca");
        assert_eq!(lower_tr("ŞİŞLİ ĞÜÇÖ"), "şişli ğüçö");
        assert_eq!(lower_tr("I\u{307}ZMI\u{307}R"), "izmir");
        assert_eq!(lower_tr(&upper_tr("diyarbakır ılgın")), "diyarbakır ılgın");
        // Context rules survive: the Greek final sigma.
        assert_eq!(lower_tr("ΟΔΟΣ"), "οδος");
    }

    // ---- properties ----

    fn run_all(s: &str) {
        let _ = vkn_valid(s);
        let _ = tckn_valid(s);
        let _ = iban_valid(s);
        let _ = parse_tax_number(s);
        let _ = parse_iban(s);
        let _ = parse_tr_phone(s);
        let _ = upper_tr(s);
        let _ = lower_tr(s);
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

        #[test]
        fn check_digit_helpers_take_any_bytes(a in any::<[u8; 9]>()) {
            prop_assert!(vkn_check_digit(&a) <= 9);
            let (d10, d11) = tckn_check_digits(&a);
            prop_assert!(d10 <= 9 && d11 <= 9);
        }
    }
}
