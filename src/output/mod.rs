//! Writers: the result workbook (or CSV), and blank template workbooks.

pub mod export;
pub mod result;
pub mod template;

use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};

/// Move a finished file (written beside `path` under a temporary name) into place.
///
/// Renaming onto an existing file makes ext4 write the new file's data to disk before
/// the rename returns (its `auto_da_alloc` safeguard): a quarter of a second for a
/// large result, paid on every rerun that rewrites it. So an existing file is moved
/// aside first, the new one renamed onto the free name, and the old one removed. The
/// path never holds a half-written file; between the two renames it holds none.
pub fn replace_file(tmp: &Path, path: &Path) -> std::io::Result<()> {
    let existing = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file());
    if !existing {
        return std::fs::rename(tmp, path);
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let aside = path.with_file_name(format!(".{name}.replaced-{}", std::process::id()));
    if std::fs::rename(path, &aside).is_err() {
        return std::fs::rename(tmp, path);
    }
    match std::fs::rename(tmp, path) {
        Ok(()) => {
            let _ = std::fs::remove_file(&aside);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::rename(&aside, path);
            Err(e)
        }
    }
}

/// Fail before anything is sent when the result file cannot be written (open in Excel,
/// a read-only folder, a folder where the file should be): the rows are written there
/// at the end, in a temp file beside it that is renamed into place.
pub fn check_writable(path: &Path) -> Result<()> {
    let refuse = |why: String| {
        Err(Error::output(format!(
            "cannot write the result file {} ({why}): close it where it is open or choose another --out; nothing was sent",
            path.display()
        )))
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return refuse(format!("the folder {} does not exist", dir.display()));
    }
    if path.is_dir() {
        return refuse("it is a folder".into());
    }
    if path.exists()
        && let Err(e) = std::fs::OpenOptions::new().append(true).open(path)
    {
        return refuse(crate::input::io_reason(&e));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let probe = dir.join(format!(".{name}.{}.probe", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => refuse(format!(
            "cannot create files in {}: {}",
            dir.display(),
            crate::input::io_reason(&e)
        )),
    }
}

/// A row's final state, as shown in `_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Sent and accepted.
    Ok,
    /// Valid in a dry run: would be sent.
    Valid,
    /// Nothing to do (unchanged).
    Skipped,
    /// Refused locally; never sent.
    Invalid,
    /// Sent and refused, or not sendable.
    Failed,
    /// Sent, but whether it landed is not known.
    Unknown,
    /// Valid, but never sent: the run stopped first (Ctrl-C, `--max-errors`, a crash).
    /// Only the result workbook carries it; the ledger has no row for it.
    NotSent,
}

impl Status {
    /// Every status, in the order summaries list them.
    pub const ALL: [Status; 7] = [
        Status::Ok,
        Status::Valid,
        Status::Skipped,
        Status::Invalid,
        Status::Failed,
        Status::Unknown,
        Status::NotSent,
    ];

    /// The status whose `_status` word is `word` (the inverse of [`Status::as_str`]).
    pub fn from_word(word: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == word)
    }

    /// The word written in `_status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Valid => "VALID",
            Status::Skipped => "SKIPPED",
            Status::Invalid => "INVALID",
            Status::Failed => "FAILED",
            Status::Unknown => "UNKNOWN",
            Status::NotSent => "NOT SENT",
        }
    }

    /// Whether the row belongs on the `Failed` sheet.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::Invalid | Status::Failed | Status::Unknown | Status::NotSent
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Guard a text against formula injection when it goes to CSV: a value that a spreadsheet
/// would run as a formula gets a leading apostrophe. Values made only of digits and number
/// punctuation (`-7.11`, `+62 812 3456`, `-7.1, 110.4`) cannot run anything and stay as
/// they are; sheetload's CSV reader drops the apostrophe again, so results re-import as is.
pub fn csv_safe(value: &str) -> std::borrow::Cow<'_, str> {
    let risky = match value.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !value
            .chars()
            .all(|c| c.is_ascii_digit() || " .,;()+-".contains(c)),
        _ => false,
    };
    if risky {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

pub use crate::input::csv_unguard;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_guard_quotes_formulas_but_not_numbers() {
        assert_eq!(csv_safe("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_safe("@cmd"), "'@cmd");
        assert_eq!(csv_safe("+62 812"), "+62 812");
        assert_eq!(csv_safe("-7.1, 110.4"), "-7.1, 110.4");
        assert_eq!(csv_safe("-cmd|' /C calc'!A0"), "'-cmd|' /C calc'!A0");
        assert_eq!(csv_safe("+A1"), "'+A1");
        assert_eq!(csv_safe("-7.11"), "-7.11");
        assert_eq!(csv_safe("+6281234"), "+6281234");
        assert_eq!(csv_safe("Toko"), "Toko");
        for v in ["=SUM(A1)", "@x", "+A1", "-7.11", "Toko", "'plain"] {
            assert_eq!(csv_unguard(&csv_safe(v)), v);
        }
    }

    #[test]
    fn a_finished_file_replaces_the_old_one_and_leaves_nothing_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let tmp = dir.path().join("r.csv.partial");
        std::fs::write(&tmp, "first").unwrap();
        replace_file(&tmp, &path).unwrap();
        std::fs::write(&tmp, "second").unwrap();
        replace_file(&tmp, &path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["r.csv"]);
        // A failed move keeps the old file where it was.
        assert!(replace_file(&dir.path().join("missing"), &path).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
    }
}
