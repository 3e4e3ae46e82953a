//! E-mail addresses: plausibly deliverable, one per cell.

use super::{ValueError, clean, quote, strip_prefix_ci};

/// Characters that cannot appear unquoted before the @ (RFC 5322 specials).
const EMAIL_LOCAL_SPECIALS: &[char] = &['(', ')', '<', '>', '[', ']', ':', ';', '\\', ',', '"'];

/// Why an e-mail address is malformed, as a fix-it hint.
fn email_problem(t: &str) -> Option<&'static str> {
    if t.chars().count() > 254 {
        return Some("it is longer than 254 characters");
    }
    if t.chars().any(char::is_whitespace) {
        return Some("it contains a space; put one address per cell");
    }
    let (local, domain) = match t.split_once('@') {
        None => return Some("it has no @"),
        Some((_, domain)) if domain.contains('@') => {
            return Some("it has more than one @; put one address per cell");
        }
        Some(parts) => parts,
    };
    if local.is_empty() {
        return Some("nothing comes before the @");
    }
    if local.chars().count() > 64 {
        return Some("the part before @ is longer than 64 characters");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some("the part before @ cannot start or end with a dot or contain '..'");
    }
    if local.contains(EMAIL_LOCAL_SPECIALS) || local.chars().any(char::is_control) {
        return Some("the part before @ contains a character not allowed in addresses");
    }
    if !domain.contains('.') {
        return Some("the part after @ needs a dot, e.g. name@example.com");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Some("the part after @ has an empty part between dots");
        }
        if !label.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Some("the part after @ may only contain letters, digits, '-' and dots");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("a part of the domain starts or ends with '-'");
        }
        if label.chars().count() > 63 {
            return Some("a part of the domain is longer than 63 characters");
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    let tld_ok = (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
        || strip_prefix_ci(tld, "xn--").is_some();
    if !tld_ok {
        return Some("the domain must end with a name such as .com or .id");
    }
    None
}

/// Checks an address is plausibly deliverable; lower-cases the domain so
/// duplicates differing only in case compare equal.
pub fn parse_email(text: &str) -> Result<String, ValueError> {
    let t = clean(text);
    if let Some(problem) = email_problem(t) {
        return Err(ValueError::new(
            "is not an e-mail address",
            format!("{} is not an e-mail address: {problem}", quote(t)),
        ));
    }
    match t.split_once('@') {
        Some((local, domain)) => Ok(format!(
            "{local}@{}",
            domain.replace('İ', "i").to_lowercase()
        )),
        None => Ok(t.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::values::test_support::*;

    // ---- parse_email ----

    #[test]
    fn emails_accepted() {
        assert_eq!(
            parse_email(" Budi.Santoso@Example.CO.ID "),
            Ok("Budi.Santoso@example.co.id".to_string())
        );
        assert_eq!(
            parse_email("a+tag@mail.example.com"),
            Ok("a+tag@mail.example.com".to_string())
        );
        assert_eq!(
            parse_email("ayşe@şirket.com.tr"),
            Ok("ayşe@şirket.com.tr".to_string())
        );
        assert_eq!(parse_email("x@my-shop.id"), Ok("x@my-shop.id".to_string()));
        assert_eq!(
            parse_email("x@example.xn--p1ai"),
            Ok("x@example.xn--p1ai".to_string())
        );
        let local = "a".repeat(64);
        assert!(parse_email(&format!("{local}@example.com")).is_ok());
    }

    #[test]
    fn emails_rejected() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b.".repeat(130));
        for bad in [
            "budi",
            "budi@",
            "@example.com",
            "a@@example.com",
            "a@b@example.com",
            "budi santoso@example.com",
            ".budi@example.com",
            "budi.@example.com",
            "bu..di@example.com",
            "budi@example",
            "budi@example.c",
            "budi@example.123",
            "budi@-example.com",
            "budi@example-.com",
            "budi@example..com",
            "budi@example.com.",
            "budi@exa_mple.com",
            "<budi@example.com>",
            "budi@example.com, ani@example.com",
            long_local.as_str(),
            long_total.as_str(),
        ] {
            assert_eq!(
                summary(parse_email(bad)),
                "is not an e-mail address",
                "{bad}"
            );
        }
        assert_eq!(
            detail(parse_email("budi@example")),
            "'budi@example' is not an e-mail address: the part after @ needs a dot, e.g. name@example.com"
        );
    }
}
