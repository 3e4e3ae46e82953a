//! Refusals that depend on the cell rather than on the field's type: a formula error or
//! a formula never calculated, a cell longer than a spreadsheet holds, control
//! characters, the replacement character (bytes that were not text), and date cells that really hold a time of day or a serial below 1.
//!
//! Each would otherwise pass silently: an uncalculated formula reads as an empty cell,
//! an escape sequence as text that reaches payloads and terminals, a time as 1899-12-31.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::values::{ValueError, printable, quote};
use crate::input::{CellKind, MAX_CELL_CHARS, number_text};

/// The summary of a cell holding U+FFFD, the replacement character.
pub(super) const REPLACEMENT_SUMMARY: &str = "holds the replacement character";

/// Why a cell cannot give a value to any field, from its kind or its characters.
pub(super) fn refusal(kind: CellKind, text: &str) -> Option<ValueError> {
    match kind {
        CellKind::Error => Some(formula_error(text)),
        CellKind::Uncalculated => {
            let formula = if text.is_empty() {
                String::new()
            } else {
                format!(" ({})", quote(text))
            };
            Some(ValueError {
                summary: "holds a formula that was never calculated".into(),
                detail: format!(
                    "holds a formula that was never calculated{formula}: the program that wrote \
                     the file stored no result; open the file in Excel and save it, then try again"
                ),
            })
        }
        CellKind::TooLong { chars } => Some(ValueError {
            summary: "is longer than a spreadsheet cell holds".into(),
            detail: format!(
                "holds {chars} characters; a spreadsheet cell holds at most {MAX_CELL_CHARS}: \
                 shorten it or split it into several columns"
            ),
        }),
        _ => control_character(text),
    }
}

/// An error value such as `#N/A` or `#SPILL!`, with what it usually means.
fn formula_error(code: &str) -> ValueError {
    let (why, fix) = match code.trim().to_ascii_uppercase().as_str() {
        "#N/A" => (
            "a lookup found nothing",
            "fix the formula or type the value",
        ),
        "#SPILL!" => (
            "an array formula could not spill into the cells beside it",
            "clear the cells in its way or type the value",
        ),
        "#CALC!" => (
            "an array formula had nothing to calculate",
            "fix the formula or type the value",
        ),
        "#FIELD!" => (
            "a linked data type has no such field",
            "fix the formula or type the value",
        ),
        "#BUSY!" | "#GETTING_DATA" | "#DATA!" => (
            "it was still being calculated when the file was saved",
            "open the file in Excel, wait for the value and save it again",
        ),
        "#CONNECT!" | "#EXTERNAL!" | "#BLOCKED!" => (
            "its linked data or external source could not be reached",
            "refresh the data in Excel and save again, or type the value",
        ),
        "#UNKNOWN!" => (
            "this Excel version does not know what the formula uses",
            "type the value",
        ),
        "#PYTHON!" => (
            "a Python formula failed",
            "fix the formula or type the value",
        ),
        _ => ("a broken formula", "fix the formula or type the value"),
    };
    ValueError {
        summary: "holds a formula error".into(),
        detail: format!(
            "holds a formula error: the cell shows {} ({why}); {fix}",
            printable(code.trim())
        ),
    }
}

/// Whether a character must not reach a payload or a terminal: the C0 controls other
/// than tab, line feed and carriage return (which cells hold as text), DEL, and the C1
/// controls, whose U+009B starts terminal escape sequences as ESC `[` does.
fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The first forbidden control character, with where it is and how to remove it.
fn control_character(text: &str) -> Option<ValueError> {
    // Every control character is a byte below 0x20, DEL, or (C1, U+0080–U+009F) starts
    // with 0xC2 in UTF-8: a byte scan clears almost every cell without decoding it. It
    // looks at every byte rather than stopping at the first hit, so it runs on whole
    // vectors of bytes (a tenth of validation's time byte by byte).
    // U+FFFD, the replacement character, starts with 0xEF.
    let suspect = text.bytes().fold(false, |hit, b| {
        hit | (b < 0x20) | (b == 0x7f) | (b == 0xc2) | (b == 0xef)
    });
    if !suspect {
        return None;
    }
    let (at, c) = text
        .chars()
        .enumerate()
        .find(|(_, c)| is_forbidden_control(*c) || *c == char::REPLACEMENT_CHARACTER)?;
    if c == char::REPLACEMENT_CHARACTER {
        return Some(ValueError {
            summary: REPLACEMENT_SUMMARY.into(),
            detail: format!(
                "holds the replacement character \u{FFFD} at character {}, left where bytes were \
                 not text (the file was damaged, or read in the wrong encoding at some point): \
                 type the value again",
                at + 1
            ),
        });
    }
    let name = match c {
        '\0' => " (NUL)",
        '\u{7}' => " (bell)",
        '\u{8}' => " (backspace)",
        '\u{1b}' => " (escape)",
        '\u{7f}' => " (delete)",
        '\u{9b}' => " (escape sequence)",
        _ => "",
    };
    Some(ValueError {
        summary: "holds a control character".into(),
        detail: format!(
            "holds the control character U+{:04X}{name} at character {}: it is invisible in \
             Excel and can garble a terminal; delete it, or clean the column with =CLEAN()",
            u32::from(c),
            at + 1
        ),
    })
}

/// A date cell before 1900-01-01 came from a serial below 1 (the reader counts serial 0
/// as 1899-12-31): a time of day (`0.5` is noon) or a number Excel itself shows as
/// `####` in a date format. Neither is a date.
pub(super) fn date_cell_serial(text: &str) -> Option<ValueError> {
    let t = text.trim();
    let at = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(NaiveTime::MIN))
        })?;
    let zero = NaiveDate::from_ymd_opt(1899, 12, 31)?.and_time(NaiveTime::MIN);
    if at >= zero + chrono::Days::new(1) {
        return None;
    }
    let serial = (at - zero).num_seconds() as f64 / 86_400.0;
    let how = "type the date in the cell as YYYY-MM-DD, e.g. 2024-04-03";
    Some(if serial > 0.0 && serial < 1.0 {
        ValueError {
            summary: "holds a time, not a date".into(),
            detail: format!(
                "holds the time {}, not a date: the cell has only a time of day; {how}",
                at.format("%H:%M:%S")
            ),
        }
    } else {
        ValueError {
            summary: "holds a serial below 1, not a date".into(),
            detail: format!(
                "holds the serial {}, not a date: Excel's dates start at 1 (1900-01-01) and it \
                 shows this one as ####; {how}",
                number_text(serial)
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(e: Option<ValueError>) -> String {
        e.map(|e| e.detail).unwrap_or_default()
    }

    #[test]
    fn control_characters_are_named_not_printed() {
        let d = detail(refusal(CellKind::Text, "Toko \u{1b}[31mA"));
        assert!(
            d.starts_with("holds the control character U+001B (escape) at character 6"),
            "{d}"
        );
        assert!(!d.contains('\u{1b}'));
        for c in ['\0', '\u{7}', '\u{7f}', '\u{85}', '\u{9b}'] {
            assert!(refusal(CellKind::Text, &format!("a{c}")).is_some(), "{c:?}");
        }
        for ok in ["Jl. A\nRT 01", "a\tb", "line\r\nnext", "İstanbul", "Ünye"] {
            assert_eq!(refusal(CellKind::Text, ok), None, "{ok:?}");
        }
    }

    #[test]
    fn a_replacement_character_never_passes() {
        let d = detail(refusal(CellKind::Text, "Caf\u{FFFD} Lama"));
        assert!(
            d.starts_with("holds the replacement character \u{FFFD} at character 4"),
            "{d}"
        );
        assert_eq!(
            refusal(CellKind::Text, "東京 ﬁne"),
            None,
            "other 0xEF characters pass"
        );
    }

    #[test]
    fn error_values_say_what_they_usually_mean() {
        let d = detail(refusal(CellKind::Error, "#SPILL!"));
        assert!(
            d.starts_with("holds a formula error: the cell shows #SPILL! (an array formula"),
            "{d}"
        );
        assert!(detail(refusal(CellKind::Error, "#BUSY!")).contains("wait for the value"));
        assert!(detail(refusal(CellKind::Error, "#NEW!")).contains("(a broken formula)"));
        assert!(!detail(refusal(CellKind::Error, "#X\u{1b}")).contains('\u{1b}'));
    }

    #[test]
    fn uncalculated_and_too_long_cells() {
        let d = detail(refusal(CellKind::Uncalculated, "=A2*2"));
        assert!(
            d.starts_with("holds a formula that was never calculated ('=A2*2'): "),
            "{d}"
        );
        let d = detail(refusal(CellKind::TooLong { chars: 40_000 }, "xxx…"));
        assert!(d.starts_with("holds 40000 characters; a spreadsheet cell holds at most 32767"));
    }

    #[test]
    fn date_cells_below_serial_1_are_not_dates() {
        assert_eq!(
            detail(date_cell_serial("1899-12-31 12:00:00")),
            "holds the time 12:00:00, not a date: the cell has only a time of day; \
             type the date in the cell as YYYY-MM-DD, e.g. 2024-04-03"
        );
        assert!(detail(date_cell_serial("1899-12-31")).starts_with("holds the serial 0, not"));
        assert!(detail(date_cell_serial("1899-12-30")).starts_with("holds the serial -1, not"));
        assert!(
            detail(date_cell_serial("1899-12-30 12:00:00")).starts_with("holds the serial -0.5")
        );
        for ok in [
            "1900-01-01",
            "1900-01-01 06:00:00",
            "2024-03-01",
            "not a date",
        ] {
            assert_eq!(date_cell_serial(ok), None, "{ok}");
        }
    }
}
