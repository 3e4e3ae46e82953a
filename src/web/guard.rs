//! What every request passes before it reaches a page: the Host header names this
//! server (DNS rebinding refused), a cross-site request is refused by its Origin /
//! `Sec-Fetch-Site`, and the session cookie holds the random token (set from the
//! address `sheetload ui` printed). Every answer carries headers that keep it out of
//! frames, caches and referrers.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::App;
use super::html::{Step, page_with};

/// A fresh random token: 32 bytes from the operating system, hex.
pub fn new_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compare without an early exit, so the time taken says nothing about the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cookie's name: one per port, since browsers share cookies across ports.
pub fn cookie_name(port: u16) -> String {
    format!("sheetload_{port}")
}

fn cookie_token<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn refused(status: StatusCode, why: &str) -> Response {
    page_with(
        status,
        Step::Connect,
        "Refused",
        &super::html::error_box(why),
    )
}

/// Host and Origin checks, the token, and the security headers.
pub async fn check(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let mut res = match verdict(&app, &req) {
        Err(r) => r,
        Ok(Some(r)) => r,
        Ok(None) => next.run(req).await,
    };
    let h = res.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (k, v) in fixed {
        h.insert(k, HeaderValue::from_static(v));
    }
    res
}

/// `Err`: refused; `Ok(Some)`: answered here (the sign-in link); `Ok(None)`: go on.
// A refusal is the page itself, built once per refused request: boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn verdict(app: &App, req: &Request) -> Result<Option<Response>, Response> {
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !app.hosts.iter().any(|h| h == host) {
        return Err(refused(
            StatusCode::MISDIRECTED_REQUEST,
            &format!(
                "this server answers only to {} (the request named host \"{host}\"): open the address `sheetload ui` printed",
                app.hosts[0]
            ),
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !app.origins.iter().any(|o| o == origin) {
            return Err(refused(
                StatusCode::FORBIDDEN,
                &format!(
                    "a request from another site ({origin}) was refused: sheetload ui only takes requests from its own pages"
                ),
            ));
        }
    }
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD);
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    if unsafe_method && matches!(site, "cross-site" | "same-site") {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "a cross-site form post was refused: use the pages of sheetload ui itself",
        ));
    }
    let name = cookie_name(app.port);
    if req.uri().path() == "/login" {
        let given = req
            .uri()
            .query()
            .unwrap_or("")
            .split('&')
            .find_map(|kv| kv.strip_prefix("token="))
            .unwrap_or("");
        if !same(given.as_bytes(), app.token.as_bytes()) {
            return Err(refused(
                StatusCode::UNAUTHORIZED,
                "this sign-in link is not the one `sheetload ui` printed: copy the address from its terminal",
            ));
        }
        let cookie = format!("{name}={}; HttpOnly; SameSite=Strict; Path=/", app.token);
        let mut res = Redirect::to("/").into_response();
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().insert(header::SET_COOKIE, v);
        }
        return Ok(Some(res));
    }
    match cookie_token(headers, &name) {
        Some(t) if same(t.as_bytes(), app.token.as_bytes()) => Ok(None),
        _ => Err(refused(
            StatusCode::UNAUTHORIZED,
            "this browser has not signed in to this sheetload ui session: open the address (with its token) that `sheetload ui` printed in its terminal",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_compared_in_full() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(same(a.as_bytes(), a.as_bytes()));
        assert!(!same(a.as_bytes(), &a.as_bytes()[..63]));
        assert!(!same(a.as_bytes(), b.as_bytes()));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; sheetload_8080=abc; b=2"),
        );
        assert_eq!(cookie_token(&h, "sheetload_8080"), Some("abc"));
        assert_eq!(cookie_token(&h, "sheetload_9090"), None);
    }
}
