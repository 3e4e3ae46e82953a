//! Reading request bodies field by field, collecting every problem as a
//! Laravel-style field error instead of failing on the first one, and never
//! panicking whatever JSON arrives.

use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::{Map, Number, Value};

use super::reply::{ApiError, FieldErrors};

/// Parses a request body that must be a JSON object. An empty body counts as `{}`
/// (as a PHP framework reads it), so a bodiless POST gets the same "name is
/// required" answer as `{}`; malformed JSON is a 400 with the parser's message.
pub(crate) fn object_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(ApiError::bad_request(format!("Malformed JSON body: {e}."))),
    }
}

/// A field as found in a body: missing, explicitly `null`, or a checked value.
/// PATCH needs the difference between missing (leave alone) and `null` (clear).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field<T> {
    Absent,
    Null,
    Set(T),
}

impl<T> Field<T> {
    /// The value, treating `null` like a missing field (what a create does).
    pub(crate) fn value(self) -> Option<T> {
        match self {
            Field::Set(v) => Some(v),
            Field::Absent | Field::Null => None,
        }
    }

    /// Applies a PATCH: a present field replaces the stored one, `null` clears it.
    pub(crate) fn patch(self, target: &mut Option<T>) {
        match self {
            Field::Absent => {}
            Field::Null => *target = None,
            Field::Set(v) => *target = Some(v),
        }
    }

    /// Applies a PATCH to a field that cannot be cleared (`null` leaves it alone;
    /// the checker has already reported it when that matters).
    pub(crate) fn patch_required(self, target: &mut T) {
        if let Field::Set(v) = self {
            *target = v;
        }
    }
}

/// One JSON object being checked, with the dotted path prefix under which its
/// errors are reported (`""`, `"location."`, `"product_units.3."`).
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Obj<'a> {
    pub(crate) fn root(map: &'a Map<String, Value>) -> Self {
        Obj {
            map,
            prefix: String::new(),
        }
    }

    pub(crate) fn path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn get(&self, key: &str) -> Field<&'a Value> {
        match self.map.get(key) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(v) => Field::Set(v),
        }
    }

    /// Reports "required" when the field is missing or null; used by creates.
    pub(crate) fn require<T>(&self, key: &str, field: &Field<T>, errors: &mut FieldErrors) {
        if matches!(field, Field::Absent | Field::Null) && !errors.has_under(&self.path(key)) {
            errors.add(self.path(key), required(&self.path(key)));
        }
    }

    /// A string of at most `max_chars` characters (counted as characters, not
    /// bytes: Indonesian and Turkish names are not ASCII).
    pub(crate) fn string(
        &self,
        key: &str,
        max_chars: Option<usize>,
        errors: &mut FieldErrors,
    ) -> Field<String> {
        match self.get(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(Value::String(s)) => {
                if let Some(max) = max_chars
                    && s.chars().count() > max
                {
                    errors.add(
                        self.path(key),
                        format!(
                            "The {} field must not be greater than {max} characters.",
                            self.path(key)
                        ),
                    );
                    return Field::Null;
                }
                Field::Set(s.clone())
            }
            Field::Set(_) => {
                errors.add(
                    self.path(key),
                    format!("The {} field must be a string.", self.path(key)),
                );
                Field::Null
            }
        }
    }

    /// A string that must not be blank when present; `null` is reported too,
    /// since such a field (a name) can never be cleared.
    pub(crate) fn non_blank(
        &self,
        key: &str,
        max_chars: Option<usize>,
        errors: &mut FieldErrors,
    ) -> Field<String> {
        let field = self.string(key, max_chars, errors);
        let blank = match &field {
            Field::Set(s) => s.trim().is_empty(),
            Field::Null => !errors.has(&self.path(key)),
            Field::Absent => false,
        };
        if blank {
            errors.add(self.path(key), required(&self.path(key)));
            return Field::Null;
        }
        field
    }

    pub(crate) fn boolean(&self, key: &str, errors: &mut FieldErrors) -> Field<bool> {
        match self.get(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(Value::Bool(b)) => Field::Set(*b),
            Field::Set(_) => {
                errors.add(
                    self.path(key),
                    format!("The {} field must be true or false.", self.path(key)),
                );
                Field::Null
            }
        }
    }

    /// A number, kept as sent (`5000` stays `5000`, not `5000.0`) so that what is
    /// read back equals what was written.
    pub(crate) fn number(&self, key: &str, errors: &mut FieldErrors) -> Field<Number> {
        match self.get(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(Value::Number(n)) => Field::Set(n.clone()),
            Field::Set(_) => {
                errors.add(
                    self.path(key),
                    format!("The {} field must be a number.", self.path(key)),
                );
                Field::Null
            }
        }
    }

    /// A number within `min..=max`.
    pub(crate) fn number_between(
        &self,
        key: &str,
        min: f64,
        max: f64,
        errors: &mut FieldErrors,
    ) -> Field<f64> {
        match self.number(key, errors) {
            Field::Set(n) => match n.as_f64() {
                Some(v) if (min..=max).contains(&v) => Field::Set(v),
                _ => {
                    errors.add(
                        self.path(key),
                        format!(
                            "The {} field must be between {min} and {max}.",
                            self.path(key)
                        ),
                    );
                    Field::Null
                }
            },
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
        }
    }

    /// A non-negative number (prices, discounts, amounts paid).
    pub(crate) fn non_negative(&self, key: &str, errors: &mut FieldErrors) -> Field<Number> {
        match self.number(key, errors) {
            Field::Set(n) if n.as_f64().is_some_and(|v| v < 0.0) => {
                errors.add(
                    self.path(key),
                    format!("The {} field must be at least 0.", self.path(key)),
                );
                Field::Null
            }
            other => other,
        }
    }

    /// A JSON integer (not `12.0`, not `"12"`) of at least `min`.
    pub(crate) fn integer(&self, key: &str, min: i64, errors: &mut FieldErrors) -> Field<i64> {
        match self.get(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(Value::Number(n)) if n.as_i64().is_some() || n.as_u64().is_some() => {
                match n.as_i64() {
                    Some(v) if v >= min => Field::Set(v),
                    _ => {
                        errors.add(
                            self.path(key),
                            format!("The {} field must be at least {min}.", self.path(key)),
                        );
                        Field::Null
                    }
                }
            }
            Field::Set(_) => {
                errors.add(
                    self.path(key),
                    format!("The {} field must be an integer.", self.path(key)),
                );
                Field::Null
            }
        }
    }

    /// A record id: a positive integer.
    pub(crate) fn id(&self, key: &str, errors: &mut FieldErrors) -> Field<u64> {
        match self.integer(key, 1, errors) {
            Field::Set(v) => u64::try_from(v).map_or(Field::Null, Field::Set),
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
        }
    }

    /// A calendar date written `YYYY-MM-DD`.
    pub(crate) fn date(&self, key: &str, errors: &mut FieldErrors) -> Field<String> {
        match self.string(key, None, errors) {
            Field::Set(s) if is_iso_date(&s) => Field::Set(s),
            Field::Set(_) => {
                errors.add(
                    self.path(key),
                    format!(
                        "The {} field must be a valid date in the format YYYY-MM-DD.",
                        self.path(key)
                    ),
                );
                Field::Null
            }
            other => other,
        }
    }

    /// A stacked-percentage discount expression such as `"5"` or `"55.55+3"`.
    pub(crate) fn discount(&self, key: &str, errors: &mut FieldErrors) -> Field<String> {
        match self.string(key, None, errors) {
            Field::Set(s) if is_discount_expression(&s) => Field::Set(s),
            Field::Set(_) => {
                errors.add(
                    self.path(key),
                    format!(
                        "The {} field must be a discount such as \"5\" or \"55.55+3\" \
                         (percentages from 0 to 100 joined by +).",
                        self.path(key)
                    ),
                );
                Field::Null
            }
            other => other,
        }
    }

    /// An array of strings; each bad item is reported as `key.N`.
    pub(crate) fn string_list(&self, key: &str, errors: &mut FieldErrors) -> Field<Vec<String>> {
        match self.array(key, errors) {
            Field::Set(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        _ => {
                            ok = false;
                            let p = format!("{}.{i}", self.path(key));
                            errors.add(&p, format!("The {p} field must be a string."));
                        }
                    }
                }
                if ok { Field::Set(out) } else { Field::Null }
            }
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
        }
    }

    pub(crate) fn array(&self, key: &str, errors: &mut FieldErrors) -> Field<&'a Vec<Value>> {
        match self.get(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(Value::Array(items)) => Field::Set(items),
            Field::Set(_) => {
                errors.add(
                    self.path(key),
                    format!("The {} field must be an array.", self.path(key)),
                );
                Field::Null
            }
        }
    }

    /// A nested object, returned as an `Obj` whose errors are reported under
    /// `key.`.
    pub(crate) fn object(&self, key: &str, errors: &mut FieldErrors) -> Field<Obj<'a>> {
        match self.get(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(Value::Object(map)) => Field::Set(Obj {
                map,
                prefix: format!("{}.", self.path(key)),
            }),
            Field::Set(_) => {
                errors.add(
                    self.path(key),
                    format!("The {} field must be an object.", self.path(key)),
                );
                Field::Null
            }
        }
    }

    /// The item `index` of an array field, as an object reported under
    /// `key.index.`; `None` (after reporting) when it is not an object.
    pub(crate) fn item(
        &self,
        key: &str,
        index: usize,
        value: &'a Value,
        errors: &mut FieldErrors,
    ) -> Option<Obj<'a>> {
        let path = format!("{}.{index}", self.path(key));
        match value {
            Value::Object(map) => Some(Obj {
                map,
                prefix: format!("{path}."),
            }),
            _ => {
                errors.add(&path, format!("The {path} field must be an object."));
                None
            }
        }
    }
}

pub(crate) fn required(path: &str) -> String {
    format!("The {path} field is required.")
}

/// `YYYY-MM-DD` naming a real day (leap years included).
pub(crate) fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// `5`, `55.55+3`, `10 + 5`: percentages 0..=100 with `.` decimals, joined by `+`.
pub(crate) fn is_discount_expression(s: &str) -> bool {
    !s.trim().is_empty()
        && s.split('+').all(|part| {
            let part = part.trim();
            !part.is_empty()
                && part.bytes().all(|c| c.is_ascii_digit() || c == b'.')
                && part
                    .parse::<f64>()
                    .is_ok_and(|v| (0.0..=100.0).contains(&v))
        })
}

/// Parses an `application/x-www-form-urlencoded` body into its name/value pairs,
/// in order: `+` is a space, `%XX` a byte; a malformed escape is kept as is (as
/// PHP does). Fails only when the decoded bytes are not UTF-8.
pub(crate) fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for part in body.split(|&b| b == b'&') {
        if part.is_empty() {
            continue;
        }
        let (name, value) = match part.iter().position(|&b| b == b'=') {
            Some(at) => (&part[..at], &part[at + 1..]),
            None => (part, &b""[..]),
        };
        pairs.push((percent_decode(name)?, percent_decode(value)?));
    }
    Ok(pairs)
}

fn percent_decode(raw: &[u8]) -> Result<String, String> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => {
                bytes.push(b' ');
                i += 1;
            }
            b'%' => match (
                raw.get(i + 1).and_then(|&b| hex(b)),
                raw.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits are at most 0xff.
                    bytes.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                    i += 3;
                }
                _ => {
                    bytes.push(b'%');
                    i += 1;
                }
            },
            b => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(bytes).map_err(|_| "the form body is not UTF-8 once decoded".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies() {
        let pairs =
            form_pairs(b"customer_id=191&firstname=T%C3%BCrk+%C5%9Fi%C5%9F&empty=&flag&&x=%zz%4")
                .unwrap();
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("customer_id", "191"),
                ("firstname", "Türk şiş"),
                ("empty", ""),
                ("flag", ""),
                ("x", "%zz%4"),
            ]
        );
        assert_eq!(
            form_pairs(b"a=%2B1").unwrap(),
            [("a".to_owned(), "+1".to_owned())]
        );
        assert!(form_pairs(b"a=%ff").is_err());
        assert!(form_pairs(b"").unwrap().is_empty());
    }

    #[test]
    fn dates() {
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2023-02-29"));
        assert!(!is_iso_date("2024-13-01"));
        assert!(!is_iso_date("2024-1-01"));
        assert!(!is_iso_date("01-01-2024"));
        assert!(!is_iso_date("2024-01-0é"));
        assert!(!is_iso_date("２０２４-01-01"));
    }

    #[test]
    fn discounts() {
        assert!(is_discount_expression("5"));
        assert!(is_discount_expression("55.55+3"));
        assert!(is_discount_expression("10 + 5"));
        assert!(!is_discount_expression(""));
        assert!(!is_discount_expression("5+"));
        assert!(!is_discount_expression("101"));
        assert!(!is_discount_expression("5,5"));
        assert!(!is_discount_expression("-5"));
    }
}
