//! A quote that opens a value and is never closed makes the csv parser read the rest of
//! the file as that one value: dozens of rows vanish into a cell. One fast pass over the
//! file (only the quote characters are looked at) finds it before any row is processed,
//! or, for a run that can throw its pass away, the same scan rides along the rows pass
//! and ends it at the end of the file ([`Scanning`]).

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

/// The quote state of a stream read so far: the scan of [`find_unclosed`], fed buffer by
/// buffer, so that it can also ride along a reader that is parsing the same bytes
/// ([`Scanning`]).
#[derive(Debug, Clone)]
pub(super) struct Scan {
    delimiter: u8,
    cr_ends_records: bool,
    /// Stream offset of the next byte fed.
    base: u64,
    /// The byte before the next one fed; the start of the stream starts a field.
    prev: u8,
    /// Where the quoted value we are inside opened.
    open: Option<u64>,
    /// Inside a quoted value, the last buffer ended on a quote: a doubled quote
    /// (escaped) or the closing one, decided by the next byte.
    pending: bool,
}

impl Scan {
    /// A scan of a stream not yet read. `cr_ends_records`: whether a bare `\r` ends a
    /// record (old Mac files), so that a quote after it starts a field.
    pub(super) fn new(delimiter: u8, cr_ends_records: bool) -> Self {
        Scan {
            delimiter,
            cr_ends_records,
            base: 0,
            prev: b'\n',
            open: None,
            pending: false,
        }
    }

    /// Take the stream's next bytes into account.
    pub(super) fn feed(&mut self, chunk: &[u8]) {
        let n = chunk.len();
        if n == 0 {
            return;
        }
        let mut i = 0;
        if std::mem::take(&mut self.pending) {
            if chunk[0] == b'"' {
                i = 1;
            } else {
                self.open = None;
            }
        }
        while i < n {
            let Some(k) = memchr(b'"', &chunk[i..]) else {
                break;
            };
            let at = i + k;
            if self.open.is_none() {
                let before = if at == 0 { self.prev } else { chunk[at - 1] };
                let starts_field = before == self.delimiter
                    || before == b'\n'
                    || (self.cr_ends_records && before == b'\r');
                if starts_field {
                    self.open = Some(self.base + at as u64);
                }
                i = at + 1;
            } else if at + 1 == n {
                self.pending = true;
                i = n;
            } else if chunk[at + 1] == b'"' {
                i = at + 2;
            } else {
                self.open = None;
                i = at + 1;
            }
        }
        self.prev = chunk[n - 1];
        self.base += n as u64;
    }

    /// Once the whole stream was fed: where the quote that is never closed opened.
    pub(super) fn unclosed(&self) -> Option<u64> {
        if self.pending { None } else { self.open }
    }
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
    let mut scan = Scan::new(delimiter, cr_ends_records);
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => scan.feed(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(scan.unclosed())
}

/// A reader that scans for an unclosed quote the bytes it passes on (when given a
/// [`Scan`]): the check of a pass that parses the file anyway, at no extra read.
pub(super) struct Scanning<R> {
    inner: R,
    scan: Option<Scan>,
    /// The inner reader said end of stream: the scan has seen everything.
    ended: bool,
    /// Bytes passed on so far, and the last of them: where a record read to the end of
    /// what was passed on ends (see [`Scanning::ends_unterminated`]).
    passed: u64,
    last: u8,
}

impl<R> Scanning<R> {
    /// Pass `inner` on, scanned when `scan` is given.
    pub(super) fn new(inner: R, scan: Option<Scan>) -> Self {
        Scanning {
            inner,
            scan,
            ended: false,
            passed: 0,
            last: b'\n',
        }
    }

    /// Whether a record that the parser finished at stream offset `consumed` ended with
    /// the stream rather than with a line break (the last line of a file without one).
    pub(super) fn ends_unterminated(&self, consumed: u64) -> bool {
        consumed >= self.passed && self.last != b'\n'
    }

    /// At the end of the stream, where a quote that is never closed opened; `None` also
    /// before the end and when nothing is scanned.
    pub(super) fn unclosed_at_end(&self) -> Option<u64> {
        match &self.scan {
            Some(scan) if self.ended => scan.unclosed(),
            _ => None,
        }
    }
}

impl<R: Read> Read for Scanning<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.ended = true;
        }
        if n > 0 {
            self.passed += n as u64;
            self.last = buf[n - 1];
        }
        if let Some(scan) = &mut self.scan {
            scan.feed(&buf[..n]);
        }
        Ok(n)
    }
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

    #[test]
    fn a_scanning_reader_finds_what_the_pass_of_its_own_finds() {
        let texts = [
            "Nama,Kota\nToko A,Semarang\n\"Toko B,Solo\nToko C,Kudus\n",
            "a,\"multi\nline\",c\n",
            "a,\"ends on a quote\"",
        ];
        for text in texts {
            let mut r = Scanning::new(text.as_bytes(), Some(Scan::new(b',', false)));
            // Small reads, as a parser's buffer may make them.
            let mut buf = [0u8; 5];
            assert_eq!(r.unclosed_at_end(), None);
            while r.read(&mut buf).unwrap() > 0 {}
            assert_eq!(r.unclosed_at_end(), unclosed(text), "{text:?}");
        }
        let mut unscanned = Scanning::new(texts[0].as_bytes(), None);
        std::io::copy(&mut unscanned, &mut std::io::sink()).unwrap();
        assert_eq!(unscanned.unclosed_at_end(), None);
    }
}
