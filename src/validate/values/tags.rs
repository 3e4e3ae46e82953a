//! Tag lists (`vip, grosir; retail`): any text is a valid tag.

use super::clean;

/// Splits a tag cell; tolerant by design because any text is a valid tag.
pub fn parse_tags(text: &str) -> Vec<String> {
    // A cell holds a handful of tags: a scan of those kept beats hashing each one; a
    // set takes over only for a cell with very many.
    const SCAN: usize = 16;
    let mut seen: Option<std::collections::HashSet<&str>> = None;
    let mut kept: Vec<&str> = Vec::new();
    for part in text.split([',', ';', '\n', '\r']) {
        let tag = clean(part);
        if tag.is_empty() {
            continue;
        }
        let new = match &mut seen {
            Some(set) => set.insert(tag),
            None if kept.len() < SCAN => !kept.contains(&tag),
            None => {
                let mut set: std::collections::HashSet<&str> = kept.iter().copied().collect();
                let new = set.insert(tag);
                seen = Some(set);
                new
            }
        };
        if new {
            kept.push(tag);
        }
    }
    kept.into_iter().map(str::to_string).collect()
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
        // Past the scanned few, a set keeps finding repeats.
        let many: Vec<String> = (0..40).map(|i| format!("t{}", i % 25)).collect();
        let tags = parse_tags(&many.join(","));
        assert_eq!(tags.len(), 25);
        assert_eq!(tags[24], "t24");
    }
}
