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

/// Free text from elsewhere (a server's error page, which may echo the request) with
/// every credential-looking part replaced: URL userinfo, the value after a secret-looking
/// key (`team_token=…`, `"password": "…"`, `Authorization: Bearer …`), the token after
/// `Bearer`/`Basic`, and JWT-shaped words (`eyJ…`).
pub fn redact_text(text: &str) -> String {
    let unlinked: Vec<Cow<'_, str>> = text
        .split_inclusive(char::is_whitespace)
        .map(|w| {
            if w.contains("://") {
                strip_userinfo(w)
            } else {
                Cow::Borrowed(w)
            }
        })
        .collect();
    let text = unlinked.concat();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if !is_word_byte(bytes[i]) {
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let start = i;
        while i < bytes.len() && is_word_byte(bytes[i]) {
            i += 1;
        }
        let word = &text[start..i];
        if word.starts_with("eyJ") && word.len() >= 20 {
            out.push_str(REDACTED);
            continue;
        }
        out.push_str(word);
        let value_at = if is_scheme(word) {
            // Prose ("Basic plan") is left alone; a credential looks random.
            let v = skip(bytes, i, b" ");
            looks_random(&text[v..value_end(bytes, v)]).then_some(v)
        } else if is_secret_key(word) {
            // `key=value` (a query) directly; `key: value` and JSON after spaces/quotes.
            let j = skip(bytes, i, b"\"'");
            match bytes.get(j) {
                Some(b'=') => Some(skip(bytes, j + 1, b"\"'")),
                Some(b':') => Some(skip(bytes, j + 1, b"\"' ")),
                _ => None,
            }
        } else {
            None
        };
        let Some(mut v) = value_at else { continue };
        // `Authorization: Bearer <token>`: keep the scheme, hide the token.
        let end = value_end(bytes, v);
        if !is_scheme(word) && is_scheme(&text[v..end]) {
            v = skip(bytes, end, b" ");
        }
        let end = value_end(bytes, v);
        if end > v {
            out.push_str(&text[i..v]);
            out.push_str(REDACTED);
            i = end;
        }
    }
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Whether a word looks like a generated token rather than a word of prose.
fn looks_random(word: &str) -> bool {
    let has = |f: fn(&char) -> bool| word.chars().any(|c| f(&c));
    has(char::is_ascii_digit)
        || has(|c| "=+/_".contains(*c))
        || (has(char::is_ascii_uppercase) && has(char::is_ascii_lowercase) && word.len() > 12)
}

fn is_scheme(word: &str) -> bool {
    word.eq_ignore_ascii_case("bearer") || word.eq_ignore_ascii_case("basic")
}

/// The first position at or after `i` that is not one of `chars`.
fn skip(bytes: &[u8], mut i: usize, chars: &[u8]) -> usize {
    while i < bytes.len() && chars.contains(&bytes[i]) {
        i += 1;
    }
    i
}

/// Where a credential value starting at `i` ends: at white space, a quote or a
/// separator of URLs, JSON and headers.
fn value_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len()
        && !(bytes[i].is_ascii_whitespace() || b"\"'&,;()<>[]{}".contains(&bytes[i]))
    {
        i += 1;
    }
    i
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
    fn free_text_loses_its_credentials() {
        let page = "Invalid request: customer is locked. (GET https://u:pw@h/x?team_token=T1&page=2 \
                    Authorization: Bearer B2, {\"password\": \"p3\", \"api_key\":\"k4\"} \
                    token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig Basic dXNlcjpwdw== İstanbul 0812)";
        let out = redact_text(page);
        for secret in ["pw@", "T1", "B2", "p3", "k4", "eyJhbG", "dXNlcjpwdw"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        for kept in [
            "Invalid request: customer is locked.",
            "https://h/x?team_token=[redacted]&page=2",
            "Authorization: Bearer [redacted],",
            "\"password\": \"[redacted]\"",
            "Basic [redacted]",
            "İstanbul 0812",
        ] {
            assert!(out.contains(kept), "{kept:?} missing from {out}");
        }
        assert_eq!(redact_text("token= and password"), "token= and password");
        assert_eq!(
            redact_text("Basic authentication failed"),
            "Basic authentication failed"
        );
        assert_eq!(redact_text(""), "");
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
