//! Writers: the result workbook (or CSV), and blank template workbooks.

pub mod result;
pub mod template;

use std::fmt;

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
}

impl Status {
    /// The word written in `_status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Valid => "VALID",
            Status::Skipped => "SKIPPED",
            Status::Invalid => "INVALID",
            Status::Failed => "FAILED",
            Status::Unknown => "UNKNOWN",
        }
    }

    /// Whether the row belongs on the `Failed` sheet.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Invalid | Status::Failed | Status::Unknown)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Guard a text against formula injection when it goes to CSV: a value that a spreadsheet
/// would run as a formula gets a leading apostrophe; real numbers (`-7.11`) stay as they are.
pub fn csv_safe(value: &str) -> std::borrow::Cow<'_, str> {
    let risky = value
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if risky && value.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_guard_quotes_formulas_but_not_numbers() {
        assert_eq!(csv_safe("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_safe("@cmd"), "'@cmd");
        assert_eq!(csv_safe("+62 812"), "'+62 812");
        assert_eq!(csv_safe("-7.11"), "-7.11");
        assert_eq!(csv_safe("+6281234"), "+6281234");
        assert_eq!(csv_safe("Toko"), "Toko");
    }
}
