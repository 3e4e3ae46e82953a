//! Server-rendered HTML in plain `format!` helpers: every text that came from a user, a
//! file or a server goes through [`esc`] before it reaches a page.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Escape text for HTML content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The wizard's steps, in order, as the step bar shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Where to send.
    Connect,
    /// Which file.
    Upload,
    /// Columns → fields.
    Map,
    /// The rows, with their problems.
    Review,
    /// The plan per row.
    DryRun,
    /// Sending.
    Import,
    /// What happened.
    Results,
    /// The ledger's runs.
    History,
    /// Export and templates.
    Export,
}

const STEPS: [(Step, &str, &str); 9] = [
    (Step::Connect, "/connect", "Connect"),
    (Step::Upload, "/upload", "Upload"),
    (Step::Map, "/map", "Map"),
    (Step::Review, "/review", "Review"),
    (Step::DryRun, "/dryrun", "Dry run"),
    (Step::Import, "/import", "Import"),
    (Step::Results, "/results", "Results"),
    (Step::History, "/history", "History"),
    (Step::Export, "/export", "Export & templates"),
];

/// A whole page: the step bar with `step` current, the title and the body (already
/// escaped HTML).
pub fn page(step: Step, title: &str, body: &str) -> Html<String> {
    let mut bar = String::new();
    let mut done = true;
    for (i, (s, href, label)) in STEPS.iter().enumerate() {
        let current = *s == step;
        if current {
            done = false;
        }
        let class = if current {
            "current"
        } else if done && i < 7 {
            "done"
        } else {
            ""
        };
        let aria = if current {
            r#" aria-current="step""#
        } else {
            ""
        };
        let sep = if i == 7 {
            r#"<li class="gap"></li>"#
        } else {
            ""
        };
        bar.push_str(&format!(
            r#"{sep}<li class="{class}"><a href="{href}"{aria}><span class="n">{}</span> {label}</a></li>"#,
            if i < 7 {
                (i + 1).to_string()
            } else {
                "·".into()
            }
        ));
    }
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t} · sheetload</title>
<link rel="stylesheet" href="/assets/style.css">
<script src="/assets/app.js" defer></script>
</head><body>
<header><div class="brand">sheetload</div><nav aria-label="Steps"><ol class="steps">{bar}</ol></nav></header>
<main id="main"><h1>{t}</h1>
{body}
</main>
<footer>sheetload {v} · local only: served from this machine by <code>sheetload ui</code>, gone when it stops</footer>
</body></html>"#,
        t = esc(title),
        v = env!("CARGO_PKG_VERSION"),
    ))
}

/// A page with a status other than 200 (a refused upload, a missing step).
pub fn page_with(status: StatusCode, step: Step, title: &str, body: &str) -> Response {
    (status, page(step, title, body)).into_response()
}

/// A red box saying what went wrong and how to fix it.
pub fn error_box(msg: &str) -> String {
    format!(
        r#"<div class="msg error" role="alert"><strong>Problem:</strong> {}</div>"#,
        esc(msg)
    )
}

/// A quiet box for notes (delimiter sniffed, sheet chosen, mapping saved).
pub fn note_box(msg: &str) -> String {
    format!(r#"<div class="msg note">{}</div>"#, esc(msg))
}

/// A yellow box for warnings that do not stop anything.
pub fn warn_box(msg: &str) -> String {
    format!(r#"<div class="msg warn">{}</div>"#, esc(msg))
}

/// `<option>`s for a `<select>`: (value, label), `selected` marked.
pub fn options<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>, selected: &str) -> String {
    items
        .into_iter()
        .map(|(v, l)| {
            format!(
                r#"<option value="{}"{}>{}</option>"#,
                esc(v),
                if v == selected { " selected" } else { "" },
                esc(l)
            )
        })
        .collect()
}

/// The page shown when a step needs an earlier one first.
pub fn needs(step: Step, what: &str, href: &str, label: &str) -> Response {
    page_with(
        StatusCode::CONFLICT,
        step,
        "One step first",
        &format!(
            r#"<p>{}</p><p><a class="button" href="{}">{}</a></p>"#,
            esc(what),
            esc(href),
            esc(label)
        ),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            super::esc(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
