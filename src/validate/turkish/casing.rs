//! Turkish upper and lower case (`i` ↔ `İ`, `ı` ↔ `I`), never stripping accents.

/// Upper-cases with Turkish rules (`i` → `İ`, `ı` → `I`), for comparing and
/// normalizing country, city and district: plain Unicode casing turns `istanbul`
/// into `ISTANBUL`, which is a different spelling in Turkish. Never strips accents.
pub fn upper_tr(s: &str) -> String {
    // `ı` already upper-cases to `I` and `İ` stays `İ`; only `i` differs from Unicode.
    s.replace('i', "İ").to_uppercase()
}

/// Lower-cases with Turkish rules (`I` → `ı`, `İ` → `i`): plain Unicode casing turns
/// `İZMİR` into `i̇zmi̇r` with stray combining dots. A decomposed `İ` (`I` + U+0307)
/// also becomes `i`.
pub fn lower_tr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            'İ' => out.push('i'),
            'I' if chars.next_if_eq(&'\u{307}').is_some() => out.push('i'),
            'I' => out.push('ı'),
            _ => out.push(c),
        }
    }
    // Whole-string lower-casing keeps context rules such as the Greek final sigma.
    out.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- casing ----

    #[test]
    fn turkish_casing() {
        assert_eq!(upper_tr("istanbul"), "İSTANBUL");
        assert_eq!(upper_tr("ılıca"), "ILICA");
        assert_eq!(upper_tr("Türkiye"), "TÜRKİYE");
        assert_eq!(upper_tr("şişli çağlayan öğü"), "ŞİŞLİ ÇAĞLAYAN ÖĞÜ");
        assert_eq!(upper_tr("İZMİR"), "İZMİR");
        assert_eq!(lower_tr("İZMİR"), "izmir");
        assert_eq!(lower_tr("ILICA"), "ılıca");
        assert_eq!(lower_tr("ŞİŞLİ ĞÜÇÖ"), "şişli ğüçö");
        assert_eq!(lower_tr("I\u{307}ZMI\u{307}R"), "izmir");
        assert_eq!(lower_tr(&upper_tr("diyarbakır ılgın")), "diyarbakır ılgın");
        // Context rules survive: the Greek final sigma.
        assert_eq!(lower_tr("ΟΔΟΣ"), "οδος");
    }
}
