//! Keeping credentials out of the ledger: it outlives the run, is copied around with the
//! home directory and is read by `runs show`, so nothing secret may reach it.

use std::borrow::Cow;

use serde_json::Value;

/// What replaces a secret value in the stored run configuration.
const REDACTED: &str = "[redacted]";

/// The form of a base URL the ledger stores and scopes by: no userinfo
/// (`https://user:pass@host` → `https://host`), no query or fragment (they can carry
/// API keys), scheme and host in lower case, no trailing slash. The same account is
/// then one scope however its URL was typed.
pub fn redact_base_url(url: &str) -> String {
    let url = url.trim();
    let url = match url.find(['?', '#']) {
        Some(i) => &url[..i],
        None => url,
    };
    let (scheme, rest) = split_scheme(url);
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = match authority.rfind('@') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    let mut out = String::with_capacity(url.len());
    if let Some(scheme) = scheme {
        out.push_str(&scheme.to_ascii_lowercase());
        out.push_str("://");
    }
    out.push_str(&host.to_ascii_lowercase());
    out.push_str(path.trim_end_matches('/'));
    out
}

/// Remove only the userinfo of a URL found inside some other text value, leaving the
/// rest as the user wrote it.
fn strip_userinfo(url: &str) -> Cow<'_, str> {
    let (scheme, rest) = split_scheme(url);
    let Some(scheme) = scheme else {
        return Cow::Borrowed(url);
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => Cow::Owned(format!("{scheme}://{}", &rest[at + 1..])),
        None => Cow::Borrowed(url),
    }
}

/// Split `scheme://rest`; a text without a valid scheme before `://` has none.
fn split_scheme(url: &str) -> (Option<&str>, &str) {
    match url.find("://") {
        Some(i)
            if i > 0
                && url[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (Some(&url[..i]), &url[i + 3..])
        }
        _ => (None, url),
    }
}

/// The run configuration as stored: values under secret-looking keys replaced, userinfo
/// removed from URLs. The caller should not pass secrets in the first place; this is
/// the second line of defence. Fails only when `json` is not JSON.
pub(super) fn scrub_config(json: &str) -> serde_json::Result<String> {
    let mut value: Value = serde_json::from_str(json)?;
    scrub(&mut value);
    serde_json::to_string(&value)
}

fn scrub(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) && !v.is_null() {
                    *v = Value::String(REDACTED.into());
                } else {
                    scrub(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::String(s) if s.contains("://") => {
            if let Cow::Owned(clean) = strip_userinfo(s) {
                *s = clean;
            }
        }
        _ => {}
    }
}

/// Keys whose values are credentials, compared without case or punctuation
/// (`api_key`, `apiKey`, `API-KEY`, `x-api-key`).
fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "authorization",
        "credential",
        "cookie",
        "privatekey",
    ];
    WORDS.iter().any(|w| k.contains(w)) || matches!(k.as_str(), "pass" | "pwd")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_loses_userinfo_query_and_case() {
        assert_eq!(
            redact_base_url("https://user:pa@ss@API.Example.com/v1/?key=1"),
            "https://api.example.com/v1"
        );
        assert_eq!(
            redact_base_url("https://api.example.com/"),
            "https://api.example.com"
        );
        assert_eq!(
            redact_base_url("HTTP://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(redact_base_url("u:p@host/path@x"), "host/path@x");
        assert_eq!(redact_base_url("https://h/a@b"), "https://h/a@b");
        assert_eq!(redact_base_url(""), "");
    }

    #[test]
    fn config_secrets_are_redacted() {
        let json = r#"{"password":"hunter2","api_key":"k","apiKey":null,
            "base_url":"https://u:p@h/x","nested":{"Authorization":"Bearer t","key":"ext_cust_no"},
            "list":["http://a:b@c", 3], "retries": 5}"#;
        let out: Value = serde_json::from_str(&scrub_config(json).unwrap()).unwrap();
        assert_eq!(out["password"], REDACTED);
        assert_eq!(out["api_key"], REDACTED);
        assert_eq!(out["apiKey"], Value::Null);
        assert_eq!(out["base_url"], "https://h/x");
        assert_eq!(out["nested"]["Authorization"], REDACTED);
        assert_eq!(out["nested"]["key"], "ext_cust_no");
        assert_eq!(out["list"][0], "http://c");
        assert_eq!(out["retries"], 5);
        assert!(scrub_config("not json").is_err());
    }
}
