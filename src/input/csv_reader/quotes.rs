//! A quote that opens a value and is never closed makes the csv parser read the rest of
//! the file as that one value: dozens of rows vanish into a cell. One fast pass over the
//! file (only the quote characters are looked at) finds it before any row is processed.

use std::io::{self, Read};

use memchr::{memchr, memchr_iter};

/// Where an unclosed quote opened, for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unclosed {
    /// 1-based line of the opening quote.
    pub line: u64,
    /// 0-based field of that line the quote opens.
    pub field: usize,
    /// The start of the quoted value, for the user to find it.
    pub preview: String,
    /// How many lines follow the opening one: what would be swallowed.
    pub lines_after: u64,
}

/// The stream offset of a quote that opens a value (at the start of a field, as the csv
/// crate reads it) and is never closed; `None` when every quoted value is closed.
///
/// `cr_ends_records`: whether a bare `\r` ends a record (old Mac files), so that a quote
/// after it starts a field.
pub(super) fn find_unclosed(
    mut r: impl Read,
    delimiter: u8,
    cr_ends_records: bool,
) -> io::Result<Option<u64>> {
    let mut buf = vec![0u8; 1 << 16];
    let mut base = 0u64;
    // The byte before the current one; the start of the stream starts a field.
    let mut prev = b'\n';
    let mut open: Option<u64> = None;
    // Inside a quoted value, the previous buffer ended on a quote: a doubled quote
    // (escaped) or the closing one, decided by the next byte.
    let mut pending = false;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        let mut i = 0;
        if std::mem::take(&mut pending) {
            if chunk[0] == b'"' {
                i = 1;
            } else {
                open = None;
            }
        }
        while i < n {
            let Some(k) = memchr(b'"', &chunk[i..]) else {
                break;
            };
            let at = i + k;
            if open.is_none() {
                let before = if at == 0 { prev } else { chunk[at - 1] };
                let starts_field =
                    before == delimiter || before == b'\n' || (cr_ends_records && before == b'\r');
                if starts_field {
                    open = Some(base + at as u64);
                }
                i = at + 1;
            } else if at + 1 == n {
                pending = true;
                i = n;
            } else if chunk[at + 1] == b'"' {
                i = at + 2;
            } else {
                open = None;
                i = at + 1;
            }
        }
        prev = chunk[n - 1];
        base += n as u64;
    }
    Ok(if pending { None } else { open })
}

/// Describe the unclosed quote at stream offset `offset`: its line, field and the start
/// of its value, and how many lines it swallows (a second pass, made only on failure).
pub(super) fn locate(mut r: impl Read, offset: u64, delimiter: u8) -> io::Result<Unclosed> {
    let mut buf = vec![0u8; 1 << 16];
    let mut base = 0u64;
    let mut line = 1u64;
    let mut line_bytes: Vec<u8> = Vec::new();
    let mut breaks_after = 0u64;
    let mut last = b'\n';
    let mut preview: Vec<u8> = Vec::new();
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        let split = usize::try_from(offset.saturating_sub(base))
            .unwrap_or(usize::MAX)
            .min(n);
        let (before, after) = chunk.split_at(split);
        line += memchr_iter(b'\n', before).count() as u64;
        match before.iter().rposition(|&b| b == b'\n') {
            Some(p) => line_bytes = before[p + 1..].to_vec(),
            None => line_bytes.extend_from_slice(before),
        }
        if preview.len() < 48 {
            let take = after.len().min(48 - preview.len());
            preview.extend_from_slice(&after[..take]);
        }
        breaks_after += memchr_iter(b'\n', after).count() as u64;
        last = chunk[n - 1];
        base += n as u64;
    }
    let field = super::split_quoted(&String::from_utf8_lossy(&line_bytes), delimiter).len() - 1;
    // The opening line's own break is not a line after it; a last line without one is.
    let lines_after = breaks_after.saturating_sub(u64::from(last == b'\n'));
    let preview = String::from_utf8_lossy(&preview);
    let first = preview.split(['\n', '\r']).next().unwrap_or_default();
    let mut shown: String = first
        .chars()
        .take(30)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if first.chars().count() > 30 {
        shown.push('…');
    }
    Ok(Unclosed {
        line,
        field,
        preview: shown,
        lines_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unclosed(text: &str) -> Option<u64> {
        find_unclosed(text.as_bytes(), b',', false).unwrap()
    }

    #[test]
    fn closed_and_escaped_quotes_are_fine() {
        assert_eq!(unclosed("a,b\n\"x, y\",\"he said \"\"hi\"\"\"\n"), None);
        assert_eq!(unclosed("a,\"multi\nline\",c\n"), None);
        // A quote inside an unquoted value is literal, as the csv crate reads it.
        assert_eq!(unclosed("a,5\" screen,c\n"), None);
        assert_eq!(unclosed("a,\"x\"y\"z,c\n"), None);
        assert_eq!(unclosed("a,\"ends on a quote\""), None);
    }

    #[test]
    fn an_unclosed_quote_is_found_where_it_opens() {
        let text = "Nama,Kota\nToko A,Semarang\n\"Toko B,Solo\nToko C,Kudus\n";
        assert_eq!(unclosed(text), Some(26));
        let at = locate(text.as_bytes(), 26, b',').unwrap();
        assert_eq!(at.line, 3);
        assert_eq!(at.field, 0);
        assert_eq!(at.preview, "\"Toko B,Solo");
        assert_eq!(at.lines_after, 1);
        let text = "a,b\nx,\"y\n";
        let at = locate(text.as_bytes(), unclosed(text).unwrap(), b',').unwrap();
        assert_eq!((at.line, at.field), (2, 1));
    }

    #[test]
    fn quotes_split_across_buffers_are_read_right() {
        // The doubled quote straddles the 64 KiB buffer boundary.
        let mut text = "a\n\"".to_string();
        text.push_str(&"x".repeat((1 << 16) - 4));
        text.push_str("\"\"y\"\nb\n");
        assert_eq!(unclosed(&text), None);
        let mut text = "a\n\"".to_string();
        text.push_str(&"x".repeat((1 << 16) - 4));
        text.push_str("\"\"y\nb\n");
        assert_eq!(unclosed(&text), Some(2));
    }
}
