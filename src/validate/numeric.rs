//! Number cells in text fields. Excel turns what looks like a number into one, which
//! silently drops a code's leading zeros or a phone number's leading 0 and can leave a
//! fraction or a sign where only digits belong. What the sheet shows is restored when the
//! cell's number format pads with zeros; otherwise the loss is warned about, and a value
//! that cannot be a digit string at all is refused.

use std::borrow::Cow;

use super::values::{ValueError, quote};
use crate::spec::{FieldSpec, FieldType};

/// The text a text field takes from a number cell, and a warning when digits may be lost.
#[derive(Debug, PartialEq)]
pub(super) struct NumberAsText<'a> {
    /// The text to read: the cell's text, or the number padded as its format shows it.
    pub text: Cow<'a, str>,
    /// Why the value deserves a look, without the place (the caller adds it).
    pub warning: Option<String>,
}

/// Read the canonical text of a number cell (`123`, `-7.5`) for text field `field`;
/// `zero_pad` is the width of the cell's zero-padding number format, 0 when none.
pub(super) fn number_as_text<'a>(
    text: &'a str,
    zero_pad: u8,
    field: &FieldSpec,
) -> Result<NumberAsText<'a>, ValueError> {
    let t = text.trim();
    let whole = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let what = match field.kind {
        FieldType::Phone | FieldType::TrPhone => "phone number",
        _ => "code",
    };
    if field.is_digit_string() && !whole {
        let (summary, why) = if t.starts_with('-') {
            ("is a negative number", "a minus sign")
        } else {
            ("is a number with decimals", "decimals")
        };
        return Err(ValueError {
            summary: summary.into(),
            detail: format!(
                "{summary}, {}, and a {what} has no {why}: Excel may have changed what was \
                 typed; format the column as Text and type the {what} again",
                quote(t)
            ),
        });
    }
    let width = usize::from(zero_pad);
    if whole && width > 0 {
        // The user sees exactly this: nothing was lost.
        let text = if t.len() < width {
            Cow::Owned(format!("{}{t}", "0".repeat(width - t.len())))
        } else {
            Cow::Borrowed(t)
        };
        return Ok(NumberAsText {
            text,
            warning: None,
        });
    }
    let warning = field.keeps_leading_zeros().then(|| {
        format!(
            "{} is a number cell, which cannot keep a leading 0 or +: check the {what}, and \
             format the column as Text so that Excel keeps what is typed",
            quote(t)
        )
    });
    Ok(NumberAsText {
        text: Cow::Borrowed(t),
        warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: &str, leading_zeros: Option<bool>) -> FieldSpec {
        let mut f: FieldSpec =
            toml::from_str(&format!("name = \"x\"\ntype = \"{kind}\"\nhelp = \"h\"")).unwrap();
        f.leading_zeros = leading_zeros;
        f
    }

    #[test]
    fn a_zero_padding_format_restores_what_the_sheet_shows() {
        let code = field("string", Some(true));
        let n = number_as_text("123", 5, &code).unwrap();
        assert_eq!(n.text, "00123");
        assert_eq!(n.warning, None);
        let phone = field("phone", None);
        assert_eq!(
            number_as_text("81234567890", 12, &phone).unwrap().text,
            "081234567890"
        );
        // A number wider than its format is shown whole.
        assert_eq!(number_as_text("123456", 5, &code).unwrap().text, "123456");
    }

    #[test]
    fn numbers_in_code_and_phone_fields_warn() {
        let phone = field("phone", None);
        let n = number_as_text("81234567890", 0, &phone).unwrap();
        assert_eq!(n.text, "81234567890");
        assert!(n.warning.unwrap().contains("leading 0"));
        let code = field("string", Some(true));
        assert!(number_as_text("124", 0, &code).unwrap().warning.is_some());
        // A plain text field (a name) takes the number as it is.
        let name = field("string", None);
        assert_eq!(number_as_text("124", 0, &name).unwrap().warning, None);
        assert_eq!(number_as_text("-7.5", 0, &name).unwrap().text, "-7.5");
    }

    #[test]
    fn fractions_and_signs_are_never_digit_strings() {
        let phone = field("phone", None);
        let e = number_as_text("81234567.5", 0, &phone).unwrap_err();
        assert_eq!(e.summary, "is a number with decimals");
        assert!(e.detail.contains("'81234567.5'"), "{}", e.detail);
        let e = number_as_text("-81234567", 0, &phone).unwrap_err();
        assert_eq!(e.summary, "is a negative number");
        let tr = field("tr_phone", None);
        assert!(number_as_text("-5321234567", 0, &tr).is_err());
        assert!(
            number_as_text("5321234567", 0, &tr)
                .unwrap()
                .warning
                .is_none()
        );
    }
}
