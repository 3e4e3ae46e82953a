//! Tag lists (`vip, grosir; retail`): any text is a valid tag.

use super::clean;

/// Splits a tag cell; tolerant by design because any text is a valid tag.
pub fn parse_tags(text: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut tags = Vec::new();
    for part in text.split([',', ';', '\n', '\r']) {
        let tag = clean(part);
        if !tag.is_empty() && seen.insert(tag) {
            tags.push(tag.to_string());
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- parse_tags ----

    #[test]
    fn tags() {
        assert_eq!(
            parse_tags("vip, Grosir;vip\nretail\r\n, ,Retail"),
            vec!["vip", "Grosir", "retail", "Retail"]
        );
        assert_eq!(parse_tags(" a ,\u{a0}b\u{a0}"), vec!["a", "b"]);
        assert!(parse_tags(" ,;\n").is_empty());
        assert_eq!(parse_tags("toko kecil"), vec!["toko kecil"]);
    }
}
