//! Tolerant readers for the response shapes the SalesMania docs leave open (`[ROBUST]` in
//! `shared/api/salesmania.md`): a live API that wraps a token in `data`, names an id `id`
//! instead of `db_id`, or answers a create with `{}` must not break a run.

use serde_json::Value;

/// Look a field up directly or one level down in `data`.
fn field<'v>(v: &'v Value, names: &[&str]) -> Option<&'v Value> {
    for n in names {
        if let Some(x) = v.get(*n) {
            return Some(x);
        }
    }
    let data = v.get("data")?;
    names.iter().find_map(|n| data.get(*n))
}

/// Whether a listed value (as text: strings trimmed and lowercased) is the value a
/// row sent: the same text, or the row's date (`2026-12-07`) listed as a timestamp
/// (`2026-12-07T00:00:00+07:00`), which a live API may do where the sandbox does not.
pub fn same_listed(sent: &str, listed: &str) -> bool {
    sent == listed_as_sent(sent, listed)
}

/// A listed value in the shape of the row's: a timestamp cut to its date (the first
/// 10 characters) where the row sent a date; anything else as listed.
pub fn listed_as_sent<'a>(sent: &str, listed: &'a str) -> &'a str {
    let timestamp = matches!(listed.as_bytes().get(10), Some(b't' | b'T' | b' '));
    match listed.get(..10) {
        Some(day) if timestamp && is_date(sent) && is_date(day) => day,
        _ => listed,
    }
}

/// `YYYY-MM-DD` in shape.
fn is_date(s: &str) -> bool {
    s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

/// A scalar as text: strings as they are, numbers in their JSON form.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The bearer from step 1: `{"token"}`, `{"access_token"}`, either inside `data`, or a
/// bare JSON string; with `expires_in` seconds when given.
pub fn bearer(v: &Value, names: &[&str]) -> Option<(String, Option<u64>)> {
    if let Value::String(s) = v {
        return (!s.is_empty()).then(|| (s.clone(), None));
    }
    let token = field(v, names).and_then(scalar_text)?;
    let expires = field(v, &["expires_in"]).and_then(Value::as_u64);
    Some((token, expires))
}

/// The databases of step 2 as (id, name): a bare array or one inside `data`; ids as
/// `db_id` or `id`.
pub fn databases(v: &Value, id_names: &[&str]) -> Vec<(String, String)> {
    let list = match v {
        Value::Array(a) => a.as_slice(),
        other => match other.get("data") {
            Some(Value::Array(a)) => a.as_slice(),
            _ => &[],
        },
    };
    list.iter()
        .filter_map(|db| {
            let id = id_names
                .iter()
                .find_map(|n| db.get(*n))
                .and_then(scalar_text)?;
            let name = db
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            Some((id, name))
        })
        .collect()
}

/// The team token of step 3: `{"team_token"}`, `{"token"}`, inside `data`, or bare.
pub fn team_token(v: &Value, names: &[&str]) -> Option<String> {
    if let Value::String(s) = v {
        return (!s.is_empty()).then(|| s.clone());
    }
    field(v, names).and_then(scalar_text)
}

/// What the team token says about itself (`base64url(json).signature`): the database
/// and team it is for. Read only to show which database a run writes to.
pub fn team_token_claims(token: &str) -> Option<(Option<i64>, Option<i64>)> {
    use base64::Engine as _;
    let head = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    Some((
        v.get("db_id").and_then(Value::as_i64),
        v.get("team_id").and_then(Value::as_i64),
    ))
}

/// One page of a list: `{"data": [...], "total"}`, a bare array, or `data` nested one
/// level deeper (`{"data": {"data": [...]}}`); with the total when stated.
pub fn page(v: &Value) -> (Vec<Value>, Option<u64>) {
    match v {
        Value::Array(a) => (a.clone(), None),
        Value::Object(o) => {
            let total = o
                .get("total")
                .or_else(|| o.get("data").and_then(|d| d.get("total")))
                .and_then(Value::as_u64);
            let items = match o.get("data") {
                Some(Value::Array(a)) => a.clone(),
                Some(Value::Object(inner)) => match inner.get("data") {
                    Some(Value::Array(a)) => a.clone(),
                    _ => Vec::new(),
                },
                _ => match o.get("items") {
                    Some(Value::Array(a)) => a.clone(),
                    _ => Vec::new(),
                },
            };
            (items, total)
        }
        _ => (Vec::new(), None),
    }
}

/// The id of a created record: `{"id"}`, the record itself, either inside `data`;
/// `None` for `{}` (then the result says the id is unknown).
pub fn created_id(v: &Value) -> Option<String> {
    field(v, &["id"]).and_then(scalar_text)
}

/// A record's id as text.
pub fn record_id(v: &Value) -> Option<String> {
    v.get("id").and_then(scalar_text)
}

/// An error answer: its message and field errors (`{"message", "errors": {field: [..]}}`,
/// also `errors` as plain strings or a list, and `error` instead of `message`).
pub fn api_error(v: &Value) -> (Option<String>, Vec<(String, Vec<String>)>) {
    let message = ["message", "error", "detail"]
        .iter()
        .find_map(|k| v.get(*k))
        .and_then(|m| match m {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_string),
            _ => None,
        });
    let mut fields = Vec::new();
    match v.get("errors") {
        Some(Value::Object(map)) => {
            for (k, msgs) in map {
                let list = match msgs {
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|m| m.as_str().map(str::to_string))
                        .collect(),
                    Value::String(s) => vec![s.clone()],
                    other => vec![other.to_string()],
                };
                fields.push((k.clone(), list));
            }
        }
        Some(Value::Array(a)) => {
            let list: Vec<String> = a
                .iter()
                .filter_map(|m| m.as_str().map(str::to_string))
                .collect();
            if !list.is_empty() {
                fields.push((String::new(), list));
            }
        }
        _ => {}
    }
    (message, fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_variants() {
        let names = ["token", "access_token"];
        assert_eq!(
            bearer(&json!({"token": "a", "expires_in": 60}), &names),
            Some(("a".into(), Some(60)))
        );
        assert_eq!(
            bearer(&json!({"access_token": "b"}), &names),
            Some(("b".into(), None))
        );
        assert_eq!(
            bearer(&json!({"data": {"token": "c"}}), &names),
            Some(("c".into(), None))
        );
        assert_eq!(bearer(&json!("d"), &names), Some(("d".into(), None)));
        assert_eq!(bearer(&json!({}), &names), None);
        assert_eq!(
            team_token(
                &json!({"data": {"team_token": "t"}}),
                &["team_token", "token"]
            ),
            Some("t".into())
        );
    }

    #[test]
    fn database_variants() {
        let ids = ["db_id", "id"];
        assert_eq!(
            databases(&json!([{"db_id": 2981, "name": "PT Maju"}]), &ids),
            vec![("2981".into(), "PT Maju".into())]
        );
        assert_eq!(
            databases(&json!({"data": [{"id": "7", "name": "X"}]}), &ids),
            vec![("7".into(), "X".into())]
        );
        assert!(databases(&json!({"oops": 1}), &ids).is_empty());
    }

    #[test]
    fn page_variants() {
        assert_eq!(page(&json!([1, 2])).0.len(), 2);
        assert_eq!(
            page(&json!({"data": [1], "total": 9})),
            (vec![json!(1)], Some(9))
        );
        assert_eq!(
            page(&json!({"data": {"data": [1, 2, 3], "total": 3}}))
                .0
                .len(),
            3
        );
        assert_eq!(page(&json!("nope")).0.len(), 0);
    }

    #[test]
    fn created_ids() {
        assert_eq!(created_id(&json!({"id": 123})), Some("123".into()));
        assert_eq!(
            created_id(&json!({"data": {"id": "abc"}})),
            Some("abc".into())
        );
        assert_eq!(created_id(&json!({})), None);
    }

    #[test]
    fn errors_and_claims() {
        let (m, f) = api_error(
            &json!({"message": "invalid", "errors": {"location.lat": ["too big"], "name": "required"}}),
        );
        assert_eq!(m.as_deref(), Some("invalid"));
        assert_eq!(f.len(), 2);
        // The documented example team token decodes to db 2981, team 24728.
        assert_eq!(
            team_token_claims(
                "eyJkYl9pZCI6Mjk4MSwidGVhbV9pZCI6MjQ3Mjh9.LpZ9LEpy123lwzYjzypStjdk123"
            ),
            Some((Some(2981), Some(24728)))
        );
    }
}
