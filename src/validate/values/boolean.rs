//! Yes/no flags, in the words each team types them.

use super::{ValueError, clean, quote};

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
    let word = clean(text);
    // Most cells are one lower-case word already: compare them as they are.
    if !word
        .bytes()
        .any(|b| b.is_ascii_uppercase() || b.is_ascii_whitespace() || b >= 0x80)
    {
        if TRUE_WORDS.contains(&word) {
            return Ok(true);
        }
        if FALSE_WORDS.contains(&word) {
            return Ok(false);
        }
    }
    let key = word
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::values::test_support::*;

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
}
