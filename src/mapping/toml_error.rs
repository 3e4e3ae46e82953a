//! TOML mistakes in the user's files (`sheetload.toml`, mapping files), told in one line:
//! the file, the line and column, and the reason, instead of the parser's five-line
//! drawing of the source (which could also echo a secret written beside the mistake).

/// `maps/outlets.toml, line 3, column 7: invalid string; expected `"``; the reason is
/// the parser's, on one line.
pub fn describe(origin: &str, text: &str, e: &toml::de::Error) -> String {
    let reason = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    let Some(span) = e.span() else {
        return format!("{origin}: {reason}");
    };
    let before = text.get(..span.start.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    format!("{origin}, line {line}, column {column}: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_the_place_and_the_reason() {
        let text = "[columns]\n\"Nama\" = name\n";
        let e = toml::from_str::<toml::Table>(text).unwrap_err();
        let d = describe("map.toml", text, &e);
        assert!(d.starts_with("map.toml, line 2, column 10: "), "{d}");
        assert!(!d.contains('\n'), "{d}");
        assert!(!d.contains('|'), "no source drawing: {d}");
    }
}
