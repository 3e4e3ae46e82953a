//! Error answers in the user's words: the server's message (or what a plain-text or
//! HTML body says), and its field errors pointed at the sheet's column and the row's
//! cell (`Lintang (Customers!E7): …`). Whatever the server wrote passes through
//! [`redact_text`] and is trimmed, since an error page may echo the request's tokens.

use std::collections::HashMap;

use crate::connector::{Reply, parse};
use crate::input::{cell_ref, column_letter};
use crate::ledger::redact_text;

/// Longest piece of server text kept in a message, in characters.
const MAX_TEXT: usize = 200;

/// Where a payload field came from in the input, so that a server field error can
/// name the user's column and the row's cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The sheet's header (or the field's name when no column feeds it).
    pub name: String,
    /// Zero-based absolute column index in the sheet; `None` for a constant or default.
    pub col: Option<usize>,
    /// The sheet, for `Customers!E7`; `None` for CSV (then the cell is just `E7`).
    pub sheet: Option<String>,
}

impl Column {
    /// `Lintang (Customers!E7)`, `Lintang (E7)` for CSV, or `Lintang` without a row.
    fn label(&self, row: Option<u32>) -> String {
        match (row, self.col) {
            (Some(row), Some(col)) => {
                let cell = match &self.sheet {
                    Some(sheet) => cell_ref(sheet, row, col),
                    None => format!("{}{row}", column_letter(col)),
                };
                format!("{} ({cell})", self.name)
            }
            _ => self.name.clone(),
        }
    }
}

/// The whole description of an error answer; see [`super::Ctx::describe_row`].
pub(super) fn describe(r: &Reply, columns: &HashMap<String, Column>, row: Option<u32>) -> String {
    let v = r.json();
    let (message, fields) = match &v {
        // A bare JSON string is a message too.
        serde_json::Value::String(s) => (Some(s.clone()), Vec::new()),
        other => parse::api_error(other),
    };
    let mut parts = Vec::new();
    let head = match (r.status, message) {
        (s, Some(m)) => format!("HTTP {s}: {}", clean(&m)),
        (s, None) if v.is_null() && !r.body.is_empty() => body_text(s, r),
        (404, None) => "HTTP 404: not found".to_string(),
        (403, None) => "HTTP 403: no permission for this database".to_string(),
        (s, None) => format!("HTTP {s}"),
    };
    parts.push(head);
    for (field, msgs) in fields {
        let label = match columns.get(&field) {
            Some(c) => c.label(row),
            None if field.is_empty() => "row".into(),
            None => field.clone(),
        };
        parts.push(format!("{label}: {}", clean(&msgs.join(", "))));
    }
    parts.join("; ")
}

/// A non-JSON body: an HTML page by its title (or its text), plain text as it is.
fn body_text(status: u16, r: &Reply) -> String {
    let text = String::from_utf8_lossy(&r.body);
    let html = r
        .content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().contains("html"))
        || looks_like_html(&text);
    if !html {
        let said = clean(&text);
        return if said.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {said}")
        };
    }
    let said = clean(&title(&text).unwrap_or_else(|| strip_tags(&text)));
    if said.is_empty() {
        format!("HTTP {status} (an HTML page)")
    } else {
        format!("HTTP {status} (an HTML page: {said})")
    }
}

fn looks_like_html(text: &str) -> bool {
    let start: String = text.trim_start().chars().take(15).collect();
    let start = start.to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// The text of `<title>`, if the page has one that is not empty.
fn title(page: &str) -> Option<String> {
    let lower = page.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let t = decode_entities(page.get(start..end)?);
    (!t.trim().is_empty()).then_some(t)
}

/// The visible text of a page: tags removed, `<script>` and `<style>` dropped.
fn strip_tags(page: &str) -> String {
    let mut out = String::new();
    let mut rest = page;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        out.push(' ');
        let tag = &rest[lt..];
        let lower: String = tag.chars().take(7).collect::<String>().to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") || lower.starts_with("<style") {
            let close = if lower.starts_with("<script") {
                "</script"
            } else {
                "</style"
            };
            tag.to_ascii_lowercase().find(close).unwrap_or(tag.len())
        } else {
            0
        };
        let after = &tag[skip_to..];
        match after.find('>') {
            Some(gt) => rest = &after[gt + 1..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    decode_entities(&out)
}

/// The few entities an error page uses.
fn decode_entities(s: &str) -> String {
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Server text made fit for one cell: control characters and runs of white space
/// become one space, credentials are redacted, and it is cut at [`MAX_TEXT`].
fn clean(text: &str) -> String {
    let flat = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let safe = redact_text(&flat);
    if safe.chars().count() <= MAX_TEXT {
        return safe;
    }
    let cut: String = safe.chars().take(MAX_TEXT).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, content_type: Option<&str>, body: &str) -> Reply {
        Reply {
            status,
            retry_after: None,
            quota_reset: None,
            allowance: None,
            content_type: content_type.map(str::to_string),
            body: body.as_bytes().to_vec(),
        }
    }

    fn columns() -> HashMap<String, Column> {
        let mut m = HashMap::new();
        let col = |name: &str, col, sheet: Option<&str>| Column {
            name: name.into(),
            col,
            sheet: sheet.map(str::to_string),
        };
        m.insert(
            "location.lat".into(),
            col("Lintang", Some(4), Some("Customers")),
        );
        m.insert("team_id".into(), col("ID Sales", Some(2), None));
        m.insert("status".into(), col("status", None, Some("Customers")));
        m.insert("city".into(), col("Kota", Some(1), Some("Data Toko")));
        m
    }

    #[test]
    fn field_errors_name_column_and_cell() {
        let body = r#"{"message": "The location.lat must be between -90 and 90. (and 3 more errors)",
            "errors": {"location.lat": ["The location.lat must be between -90 and 90."],
                       "team_id": ["The selected team_id is invalid."],
                       "status": ["The status field must be true or false."],
                       "city": ["The city must be a string."],
                       "other": ["Unknown."]}}"#;
        let text = describe(&reply(422, None, body), &columns(), Some(7));
        for part in [
            "HTTP 422: The location.lat must be between -90 and 90. (and 3 more errors)",
            "Lintang (Customers!E7): The location.lat must be between -90 and 90.",
            "ID Sales (C7): The selected team_id is invalid.",
            "status: The status field must be true or false.",
            "Kota ('Data Toko'!B7): The city must be a string.",
            "other: Unknown.",
        ] {
            assert!(text.contains(part), "{part:?} missing from {text}");
        }
        // Without a row (a lookup, an export) the column alone.
        let text = describe(&reply(422, None, body), &columns(), None);
        assert!(text.contains("; Lintang: The location.lat"), "{text}");
    }

    #[test]
    fn plain_text_and_html_bodies_say_what_they_say() {
        let none = HashMap::new();
        let d = |r: Reply| describe(&r, &none, None);
        assert_eq!(
            d(reply(
                400,
                Some("text/plain"),
                "Invalid request: customer is locked.\r\n"
            )),
            "HTTP 400: Invalid request: customer is locked."
        );
        let nginx = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                     <center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(
            d(reply(502, Some("text/html"), nginx)),
            "HTTP 502 (an HTML page: 502 Bad Gateway)"
        );
        let untitled = "<!DOCTYPE html><html><style>p{x}</style><script>var t='x';</script>\
                        <p>Service &amp; API down</p></html>";
        assert_eq!(
            d(reply(503, None, untitled)),
            "HTTP 503 (an HTML page: Service & API down)"
        );
        assert_eq!(d(reply(500, None, "")), "HTTP 500");
        assert_eq!(
            d(reply(404, Some("application/json"), "{}")),
            "HTTP 404: not found"
        );
        assert_eq!(
            d(reply(409, None, "\"Already locked\"")),
            "HTTP 409: Already locked"
        );
        let long = d(reply(400, None, &"word ".repeat(100)));
        assert!(long.ends_with("word…"), "{long}");
        assert!(
            long.chars().count() <= MAX_TEXT + "HTTP 400: …".len(),
            "{long}"
        );
        let echo = d(reply(
            401,
            None,
            "bad token: team_token=abc123 for Bearer Zx9kq0",
        ));
        assert_eq!(
            echo,
            "HTTP 401: bad token: [redacted] for Bearer [redacted]"
        );
    }
}
