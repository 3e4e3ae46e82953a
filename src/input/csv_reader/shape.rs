//! Whether a record's fields line up with the header. A value holding an unquoted
//! delimiter, a line written with another delimiter, or a stray carriage return that
//! joins two lines all shift the fields of one row: such a row is INVALID, naming its
//! line, instead of passing with values in the wrong columns or dropped.

use super::{DELIMITERS, delimiter_name, split_quoted};
use crate::input::{RowDefect, Table, column_letter};

/// How many fields the records of one file may have.
#[derive(Debug, Clone)]
pub(super) struct Shape {
    /// Fields of the header record, empty trailing ones included.
    header_fields: usize,
    /// 1-based line of the header record.
    header_line: u64,
    /// Fewest fields a data record may have.
    min: usize,
    /// Most fields that may hold data; a value past them has no column.
    max: usize,
    delimiter: u8,
}

impl Shape {
    /// The shape of a file from its header record and the field counts of the data
    /// records read with it: usually both agree; when the data rows consistently have
    /// more fields than the header (a header that lacks names for its last columns),
    /// those rows are fine and their extra values are warned about, not refused.
    pub(super) fn new(
        header_fields: usize,
        header_line: u64,
        data_fields: &[usize],
        delimiter: u8,
    ) -> Self {
        let usual = if data_fields.is_empty() {
            header_fields
        } else {
            super::most_common(data_fields)
        };
        Shape {
            header_fields,
            header_line,
            min: usual.min(header_fields),
            max: usual.max(header_fields),
            delimiter,
        }
    }

    /// What is wrong with the record on `line` whose field texts are `texts`; values
    /// in columns past the header are warned about as data under no header.
    pub(super) fn defects(&self, table: &Table, line: u32, texts: &[String]) -> Vec<RowDefect> {
        if let Some((col, text)) = texts.iter().enumerate().find(|(_, t)| has_lone_cr(t)) {
            return vec![self.lone_cr(line, col, text)];
        }
        let used = texts
            .iter()
            .rposition(|t| !t.trim().is_empty())
            .map_or(0, |i| i + 1);
        if texts.len() < self.min {
            return vec![self.fewer(line, texts)];
        }
        if used > self.max {
            return vec![self.more(line, texts, used)];
        }
        (table.headers.len()..used)
            .filter(|&col| !texts[col].trim().is_empty())
            .map(|col| table.headerless_data(line, col))
            .collect()
    }

    fn header(&self) -> String {
        format!(
            "the header (line {}) has {}",
            self.header_line, self.header_fields
        )
    }

    fn lone_cr(&self, line: u32, col: usize, text: &str) -> RowDefect {
        let before = text.split('\r').next().unwrap_or_default();
        let tail: Vec<char> = before.chars().rev().take(20).collect();
        let tail: String = tail.into_iter().rev().collect();
        RowDefect {
            invalid: true,
            column: column_letter(col),
            place: format!("line {line}"),
            summary: "holds a lone carriage return (CR) that joins two lines".into(),
            detail: format!(
                "column {} holds a carriage return (CR) on its own after \"{}\", which joins two lines of the file into this one row: replace it with a normal line break (or remove it) and read the file again",
                column_letter(col),
                shown(&tail)
            ),
        }
    }

    fn fewer(&self, line: u32, texts: &[String]) -> RowDefect {
        let n = texts.len();
        let joined = texts.join(&char::from(self.delimiter).to_string());
        let other = DELIMITERS
            .into_iter()
            .filter(|&d| d != self.delimiter)
            .find(|&d| {
                let k = split_quoted(&joined, d).len();
                k > n && (self.min..=self.max).contains(&k)
            });
        let advice = match other {
            Some(d) => format!(
                "it seems to be separated by {} instead of {}: use one delimiter on every line",
                delimiter_name(d),
                delimiter_name(self.delimiter)
            ),
            None => format!(
                "give every line one field per column (separated by {})",
                delimiter_name(self.delimiter)
            ),
        };
        RowDefect {
            invalid: true,
            column: column_letter(n),
            place: format!("line {line}"),
            summary: "has fewer fields than the header".into(),
            detail: format!(
                "has {n} field{} where {}; {advice}",
                if n == 1 { "" } else { "s" },
                self.header()
            ),
        }
    }

    fn more(&self, line: u32, texts: &[String], used: usize) -> RowDefect {
        let extra: Vec<String> = texts[self.max..used]
            .iter()
            .filter(|t| !t.trim().is_empty())
            .take(3)
            .map(|t| format!("\"{}\"", shown(t.trim())))
            .collect();
        let d = char::from(self.delimiter);
        RowDefect {
            invalid: true,
            column: column_letter(self.max),
            place: format!("line {line}"),
            summary: "has more fields than the header".into(),
            detail: format!(
                "has {} fields where {}, so its values are shifted (past the last column: {}); a value that holds {} must be in double quotes (\"Toko A{d} Tbk\"), or the line uses another delimiter",
                texts.len(),
                self.header(),
                extra.join(", "),
                delimiter_name(self.delimiter)
            ),
        }
    }
}

/// A `\r` not followed by `\n`: in a file whose lines end with `\n`, a line break that
/// the csv reader does not see.
fn has_lone_cr(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(b'\r', b).any(|i| b.get(i + 1) != Some(&b'\n'))
}

/// A value as a message quotes it: at most 30 characters, control characters escaped
/// so that nothing raw reaches a terminal.
fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(30)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<char>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > 30 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_field_count_wins_over_a_short_header() {
        let s = Shape::new(2, 1, &[3, 3, 3, 1], b',');
        assert_eq!((s.min, s.max), (2, 3));
        let s = Shape::new(4, 1, &[3, 3], b',');
        assert_eq!((s.min, s.max), (3, 4));
        let s = Shape::new(3, 1, &[], b',');
        assert_eq!((s.min, s.max), (3, 3));
    }

    #[test]
    fn lone_carriage_returns_are_told_from_crlf() {
        assert!(has_lone_cr("a\rb"));
        assert!(has_lone_cr("a\r"));
        assert!(!has_lone_cr("a\r\nb"));
        assert!(!has_lone_cr("ab"));
    }

    #[test]
    fn quoted_values_are_short_and_escaped() {
        assert_eq!(shown("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(shown(&"x".repeat(40)), format!("{}…", "x".repeat(30)));
    }
}
