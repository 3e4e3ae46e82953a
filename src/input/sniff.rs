//! Decide what a file really is from its first bytes, not only its extension: people
//! rename files, and Excel happily saves a CSV as `.xls`; and, for a CSV that is not
//! UTF-8, which legacy code page it is in (the `chardetng` crate). The format checks
//! stay hand-written: they are a few magic numbers and zip entry names, where a crate
//! such as `infer` would only say "zip" for every workbook and miss a renamed CSV.

use std::fmt;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Input formats sheetload reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text (CSV, TSV, semicolon- or pipe-separated).
    Csv,
    /// Office Open XML workbook.
    Xlsx,
    /// Office Open XML workbook with macros.
    Xlsm,
    /// Excel binary workbook.
    Xlsb,
    /// Excel 97–2003 workbook.
    Xls,
    /// OpenDocument spreadsheet.
    Ods,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Csv => "CSV",
            Format::Xlsx => "XLSX",
            Format::Xlsm => "XLSM",
            Format::Xlsb => "XLSB",
            Format::Xls => "XLS",
            Format::Ods => "ODS",
        })
    }
}

/// The legacy code page a CSV without a BOM is probably in, when its first 64 KB are not
/// UTF-8, nor UTF-8 but for a few stray bytes ([`mostly_utf8`]): chardetng's guess (the detector Firefox uses for unlabelled pages), accepted
/// only when it is one that the sheets sheetload reads come in — Windows-1252 (Western,
/// Indonesian) or Windows-1254 (Turkish) — and `None` otherwise, so that the reader's
/// "pass --encoding" message stands rather than a wrong guess garbling names.
pub fn legacy_encoding(path: &Path) -> Result<Option<&'static encoding_rs::Encoding>> {
    let head = head(path)?;
    let n = head.len();
    let head = &head[..];
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF])
        || head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF]);
    let utf8 = mostly_utf8(head);
    if bom || utf8 {
        return Ok(None);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(head, n < (1 << 16));
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    Ok([encoding_rs::WINDOWS_1252, encoding_rs::WINDOWS_1254]
        .contains(&guess)
        .then_some(guess))
}

/// The first 64 KB of a file.
fn head(path: &Path) -> Result<Vec<u8>> {
    let mut head = vec![0u8; 1 << 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| read_up_to(&mut f, &mut head))
        .map_err(|e| {
            Error::input(format!(
                "cannot read {}: {}",
                path.display(),
                super::io_reason(&e)
            ))
        })?;
    head.truncate(n);
    Ok(head)
}

/// Whether a CSV's first 64 KB are UTF-8, but for a few bytes that are not text: then
/// it stays UTF-8, and only the rows holding such a byte are refused (see
/// [`mostly_utf8`]).
pub fn head_is_utf8(path: &Path) -> Result<bool> {
    Ok(mostly_utf8(&head(path)?))
}

/// UTF-8, or UTF-8 with no more stray bytes than characters written in valid UTF-8
/// beyond ASCII: a legacy code page's text almost never forms valid UTF-8 sequences,
/// so a file holding them is a UTF-8 file a few bytes of which were damaged or pasted
/// in, not one to read again in another code page (every other name mangled). A
/// character cut at the end of the sample counts as valid.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut good, mut bad) = (0usize, 0usize);
    let beyond_ascii = |s: &str| s.chars().filter(|c| !c.is_ascii()).count();
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                good += beyond_ascii(s);
                break;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                good += std::str::from_utf8(valid).map_or(0, beyond_ascii);
                let Some(len) = e.error_len() else {
                    break;
                };
                bad += 1;
                rest = &after[len..];
            }
        }
    }
    bad == 0 || (good > 0 && bad <= good)
}

/// Declared uncompressed size above which a workbook is refused as a likely zip bomb.
const MAX_UNZIPPED_BYTES: u64 = 2 << 30;

/// Look at the file's first bytes (and, for zip files, its entry names) to find its format.
pub fn detect(path: &Path) -> Result<(Format, Option<String>)> {
    let (format, macros) = detect_format(path)?;
    if let Some(part) = macros {
        return Ok((
            format,
            Some(format!(
                "the workbook's macros ({part}) were ignored: only the values in its sheets are read, and no macro is run"
            )),
        ));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let note = (format == Format::Csv
        && matches!(ext.as_str(), "xlsx" | "xlsm" | "xlsb" | "ods" | "xls"))
    .then(|| {
        format!(
            "{} is a text (CSV) file despite its .{ext} name; reading it as CSV",
            path.display()
        )
    });
    Ok((format, note))
}

/// The format, and the workbook's macro part when it has one.
fn detect_format(path: &Path) -> Result<(Format, Option<String>)> {
    let display = path.display();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let mut head = [0u8; 8];
    let n = std::fs::File::open(path)
        .and_then(|mut f| read_up_to(&mut f, &mut head))
        .map_err(|e| Error::input(format!("cannot read {display}: {}", super::io_reason(&e))))?;
    let head = &head[..n];
    if head.starts_with(b"PK\x03\x04") {
        return zip_format(path, &ext);
    }
    detect_other_format(path, head, &ext).map(|f| (f, None))
}

/// [`detect_format`] for a file that is not a zip.
fn detect_other_format(path: &Path, head: &[u8], ext: &str) -> Result<Format> {
    let display = path.display();
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        if is_encrypted_package(path) {
            return Err(Error::input(format!(
                "{display} is encrypted (a password-protected workbook): open it in Excel, remove the password (File › Info › Protect Workbook › Encrypt with Password, empty the box), save it and try again"
            )));
        }
        return Ok(Format::Xls);
    }
    if let Some(kind) = markup_kind(path) {
        let named = if ext.is_empty() {
            String::new()
        } else {
            format!(" saved with a .{ext} name")
        };
        return Err(Error::input(format!(
            "{display} is {kind}{named}, not a workbook sheetload reads: open it in Excel and save it as .xlsx (File › Save As › Excel Workbook)"
        )));
    }
    if matches!(ext, "xlsx" | "xlsm" | "xlsb" | "ods" | "xls") {
        if looks_like_renamed_text(path) {
            // A CSV (or the HTML/CSV some systems write as .xls) saved with a workbook
            // extension: read it for what it is.
            return Ok(Format::Csv);
        }
        return Err(Error::input(format!(
            "{display} is not a workbook (its bytes are neither XLSX/ZIP nor XLS nor ODS); save it from Excel again or give a CSV"
        )));
    }
    if !looks_like_text(path) {
        return Err(Error::input(format!(
            "{display} does not look like a spreadsheet or a text (CSV) file: choose an .xlsx, .xls, .ods or .csv file"
        )));
    }
    Ok(Format::Csv)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Whether a compound (OLE) file is an encrypted Office Open XML package: Excel stores a
/// password-protected XLSX as an OLE file holding `EncryptionInfo` and `EncryptedPackage`
/// streams instead of the zip.
fn is_encrypted_package(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(cfb) = crate::quiet_panics(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cfb::CompoundFile::open(file)
        }))
    }) else {
        return false;
    };
    cfb.is_ok_and(|c| c.exists("/EncryptedPackage") || c.exists("/EncryptionInfo"))
}

/// What markup a file named like a spreadsheet really holds, when it is not a table:
/// Excel's "Save as Web Page" (HTML) and "XML Spreadsheet 2003" files are often named
/// `.xls`, and read as CSV they would dump their markup as headers.
fn markup_kind(path: &Path) -> Option<&'static str> {
    let mut buf = vec![0u8; 4096];
    let n = std::fs::File::open(path)
        .and_then(|mut f| read_up_to(&mut f, &mut buf))
        .ok()?;
    let buf = &buf[..n];
    let text: String = if let Some(rest) = buf.strip_prefix(&[0xFF, 0xFE]) {
        char::decode_utf16(
            rest.chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]])),
        )
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
    } else if let Some(rest) = buf.strip_prefix(&[0xFE, 0xFF]) {
        char::decode_utf16(
            rest.chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]])),
        )
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
    } else {
        String::from_utf8_lossy(buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(buf)).into_owned()
    };
    let text = text.trim_start().to_ascii_lowercase();
    if !text.starts_with('<') {
        return None;
    }
    if text.contains("urn:schemas-microsoft-com:office:spreadsheet")
        || text.contains("progid=\"excel.sheet\"")
        || (text.starts_with("<?xml") && text.contains("<workbook"))
    {
        Some("an XML Spreadsheet 2003 file")
    } else if text.contains("<html") || text.contains("<!doctype html") || text.contains("<table") {
        Some("a web page (HTML)")
    } else if text.starts_with("<?xml") {
        Some("an XML file")
    } else {
        None
    }
}

/// Text files have no NUL bytes in their first kilobytes, unless they are UTF-16 with a BOM.
fn looks_like_text(path: &Path) -> bool {
    let mut buf = vec![0u8; 8192];
    let Ok(n) = std::fs::File::open(path).and_then(|mut f| read_up_to(&mut f, &mut buf)) else {
        return false;
    };
    let buf = &buf[..n];
    if buf.starts_with(&[0xFF, 0xFE]) || buf.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    !buf.contains(&0)
}

/// Whether a file named like a workbook is really text, as a CSV saved as `.xlsx` is:
/// no control characters but tab, line breaks, form feed and a final Ctrl-Z, and either
/// UTF-8 (or UTF-16 with a BOM) or mostly ASCII with line breaks or delimiters, as a
/// table in a legacy code page such as Windows-1254 is. Damaged or foreign binary bytes fail this, so they are reported as
/// "not a workbook" rather than as text in an unknown encoding.
fn looks_like_renamed_text(path: &Path) -> bool {
    let mut buf = vec![0u8; 8192];
    let Ok(n) = std::fs::File::open(path).and_then(|mut f| read_up_to(&mut f, &mut buf)) else {
        return false;
    };
    let buf = &buf[..n];
    if buf.starts_with(&[0xFF, 0xFE]) || buf.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let control = buf
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A));
    if control {
        return false;
    }
    let utf8 = match std::str::from_utf8(buf) {
        Ok(_) => true,
        // A sample may end inside a character.
        Err(e) => e.error_len().is_none(),
    };
    // Legacy-encoded text: a few letters outside ASCII, and the shape of a table.
    let high = buf.iter().filter(|&&b| b >= 0x80).count();
    let table = buf
        .iter()
        .any(|b| matches!(b, b'\n' | b',' | b';' | b'\t' | b'|'));
    utf8 || (high * 10 <= buf.len() && table)
}

/// Tell XLSX, XLSM, XLSB and ODS apart by their entries, and refuse zip bombs by the
/// sizes their central directory declares.
fn zip_format(path: &Path, ext: &str) -> Result<(Format, Option<String>)> {
    let display = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| Error::input(format!("cannot read {display}: {}", super::io_reason(&e))))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|_| {
        Error::input(format!(
            "{display} is damaged or incomplete (its zip structure cannot be read; perhaps the download or copy was cut short): get the file again or save it again from Excel"
        ))
    })?;
    if zip.has_duplicate_names() {
        return Err(Error::input(format!(
            "{display} holds two zip entries with the same name, which no spreadsheet program writes (it was damaged or tampered with, and programs would disagree on which one is the sheet): open it in Excel and save it again"
        )));
    }
    let mut total: u64 = 0;
    let mut names = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index_raw(i) else {
            return Err(Error::input(format!(
                "{display} is damaged (entry {i} of its zip structure cannot be read): save it again from Excel"
            )));
        };
        total = total.saturating_add(entry.size());
        let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
        super::limits::check_declared_size(path, &name, entry.size())?;
        names.push(name);
    }
    if total > MAX_UNZIPPED_BYTES {
        return Err(Error::input(format!(
            "{display} would unpack to {} MB, far more than any real sheet (a zip bomb?): refusing to read it",
            total >> 20
        )));
    }
    let has = |n: &str| names.iter().any(|x| x == n);
    let macros = names
        .iter()
        .find(|n| super::limits::is_macro_part(n))
        .cloned();
    let format = if has("xl/workbook.bin") {
        Ok(Format::Xlsb)
    } else if has("xl/workbook.xml") {
        Ok(if ext == "xlsm" {
            Format::Xlsm
        } else {
            Format::Xlsx
        })
    } else if has("content.xml") {
        Ok(Format::Ods)
    } else {
        Err(Error::input(format!(
            "{display} is a zip archive but not a spreadsheet (no workbook inside): choose the .xlsx, .ods or .csv file itself"
        )))
    }?;
    Ok((format, macros))
}

#[cfg(test)]
mod tests {
    use super::mostly_utf8;

    #[test]
    fn utf8_but_for_a_stray_byte_stays_utf8() {
        assert!(mostly_utf8("Gıda Şen,İzmir".as_bytes()));
        assert!(
            mostly_utf8(b"Caf\xE9,G\xC4\xB1da"),
            "one stray byte, one UTF-8 letter"
        );
        assert!(mostly_utf8(b"plain ascii"));
        assert!(
            mostly_utf8(b"cut at the end \xC4"),
            "a character cut by the sample"
        );
        // A legacy code page: stray bytes and no UTF-8 letter at all.
        assert!(!mostly_utf8(b"Caf\xE9 and \xFEen"));
        let (cp1254, _, _) = encoding_rs::WINDOWS_1254.encode("İSTANBUL Gıda;İzmir");
        assert!(!mostly_utf8(&cp1254));
    }
}
