//! Dates in the many ways sheets write them, and Excel date serials.
//!
//! Day/month orders that cannot be told apart are refused, never silently swapped.

use chrono::{NaiveDate, NaiveDateTime};

use super::{
    ParseOptions, ValueError, all_ascii_digits, clean, is_trim_char, quote, quoted, strip_suffix_ci,
};

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

/// Which comes first in a numeric date whose numbers allow only one reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayMonthOrder {
    /// `13/04/2026`: the day first (its first number is above 12).
    DayFirst,
    /// `04/13/2026`: the month first (its second number is above 12).
    MonthFirst,
}

/// The order of day and month that a real numeric date such as `13/04/2026` forces, so
/// that a column mixing both orders can be caught: each of its dates is unambiguous
/// alone, yet one of the two kinds is wrong. `None` for year-first dates, serials,
/// named months, ambiguous dates (`03/04/2026`), a day equal to its month, and non-dates.
pub fn day_month_order(text: &str) -> Option<DayMonthOrder> {
    let t = clean(text);
    if read_unambiguous_date(t).is_some() || !matches!(read_numeric_date(t), Some(Ok(_))) {
        return None;
    }
    let (date, _) = split_time(t);
    let mut parts = date.split(['-', '/', '.']).map(small_number);
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(first), Some(second)) if first > 12 && second <= 12 => Some(DayMonthOrder::DayFirst),
        (Some(first), Some(second)) if second > 12 && first <= 12 => {
            Some(DayMonthOrder::MonthFirst)
        }
        _ => None,
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
    let q = quoted(t);
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
        Ok(date) => return short_year(t, fmt, date),
        Err(e) => e,
    };
    let (date_part, time) = split_time(&reseparated);
    if time.is_some_and(valid_time)
        && let Ok(date) = NaiveDate::parse_from_str(date_part, fmt)
    {
        return short_year(t, fmt, date);
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

/// A date read by a format with a four-digit year (`%Y`) whose year came out below 1000:
/// chrono reads `05/12/26` under `%m/%d/%Y` as the year 26, which no sheet means. It is
/// refused with both fixes (the year in full, or `%y`) rather than read as 0026 or as a
/// guessed century.
fn short_year(t: &str, fmt: &str, date: NaiveDate) -> Result<NaiveDate, ValueError> {
    use chrono::Datelike;

    if date.year() >= 1000 || !fmt.contains("%Y") {
        return Ok(date);
    }
    let two_digit = fmt.replace("%Y", "%y");
    let full = NaiveDate::parse_from_str(&with_format_separator(t, fmt), &two_digit)
        .ok()
        .map(|d| format!(" ({})", d.format(fmt)))
        .unwrap_or_default();
    Err(ValueError::new(
        "has a short year under a four-digit date format",
        format!(
            "{} has a {}-digit year but the date format {fmt} wants four: write the year in full{full}, or pass --date-format {two_digit} if every year is written with two digits",
            quote(t),
            date.year().max(1).to_string().len()
        ),
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

/// A `--date-format` (and the ui's date-format box) checked: it needs a day, a month
/// and a year.
pub fn check_date_format(f: &str) -> crate::error::Result<String> {
    let has = |set: &[&str]| set.iter().any(|p| f.contains(p));
    if !(has(&["%d", "%e"]) && has(&["%m", "%b", "%B"]) && has(&["%Y", "%y"])) {
        return Err(crate::error::Error::usage(format!(
            "--date-format '{f}' needs a day (%d), a month (%m) and a year (%Y), e.g. %d/%m/%Y"
        )));
    }
    Ok(f.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::values::DecimalStyle;
    use crate::validate::values::test_support::*;
    use proptest::prelude::*;

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
    fn forced_day_month_orders() {
        use DayMonthOrder::*;
        assert_eq!(day_month_order("13/04/2026"), Some(DayFirst));
        assert_eq!(day_month_order(" 25.12.2026 08:00"), Some(DayFirst));
        assert_eq!(day_month_order("04/13/2026"), Some(MonthFirst));
        assert_eq!(day_month_order("4-13-2026"), Some(MonthFirst));
        for none in [
            "03/04/2026",
            "05/05/2026",
            "2026-04-13",
            "2026/13/04",
            "45352",
            "13 Apr 2026",
            "13/13/2026",
            "31/02/2026",
            "13/04/26",
            "abc",
            "",
        ] {
            assert_eq!(day_month_order(none), None, "{none}");
        }
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
        // A two-digit year under %Y is refused with both fixes, never read as 0024.
        assert_eq!(
            detail(pdf("05/12/26", "%m/%d/%Y")),
            "'05/12/26' has a 2-digit year but the date format %m/%d/%Y wants four: write the year in full (05/12/2026), or pass --date-format %m/%d/%y if every year is written with two digits"
        );
        assert_eq!(
            summary(pdf("05/12/26 10:30", "%m/%d/%Y")),
            "has a short year under a four-digit date format"
        );
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

    /// Days from 1900-03-01 (serial 61) to 9999-12-31 (serial 2958465).
    const MAX_DATE_OFFSET: u64 = 2_958_465 - 61;

    #[test]
    fn date_bounds() {
        let start = date(1900, 3, 1);
        assert_eq!(
            start.checked_add_days(chrono::Days::new(MAX_DATE_OFFSET)),
            Some(date(9999, 12, 31))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

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
    }
}
