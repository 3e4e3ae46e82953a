//! The request log of `-vv`: every request as it leaves, with its answer's status and
//! how long it took, through `tracing` (printed by [`crate::ui::log`]). Only the method,
//! the path and the query are logged, never a header or a body, and query values whose
//! names mark a credential (`team_token`, `api_key` …) are masked: a log pasted into a
//! support ticket must not hand over the account.

use std::time::Instant;

use super::{Reply, SendError, salesmania::reply, send_error};

/// Query parameter names whose values are credentials (compared case-insensitively,
/// with `-` and `_` alike).
const SECRET_PARAMS: [&str; 9] = [
    "team_token",
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
    "password",
    "secret",
    "signature",
];

/// Whether a query parameter's value must not be logged.
pub fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    SECRET_PARAMS.contains(&name.as_str())
}

/// `path?query` of `url`, with the values of credential parameters replaced by `***`.
pub fn redacted(url: &reqwest::Url) -> String {
    let mut out = url.path().to_string();
    let mut first = true;
    for (k, v) in url.query_pairs() {
        out.push(if first { '?' } else { '&' });
        first = false;
        out.push_str(&k);
        out.push('=');
        if is_secret_param(&k) {
            out.push_str("***");
        } else {
            out.push_str(&v);
        }
    }
    out
}

/// Send a request and read its answer, logging it at debug level (`-vv`).
pub(crate) async fn send(req: reqwest::RequestBuilder) -> Result<Reply, SendError> {
    let (client, req) = req.build_split();
    let req = req.map_err(send_error)?;
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return reply(client.execute(req).await.map_err(send_error)?).await;
    }
    let method = req.method().clone();
    let what = redacted(req.url());
    let started = Instant::now();
    let result = match client.execute(req).await {
        Ok(resp) => reply(resp).await,
        Err(e) => Err(send_error(e)),
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match &result {
        Ok(r) => tracing::debug!("{method} {what} → {} in {ms:.0} ms", r.status),
        Err(e) => tracing::debug!(
            "{method} {what} → no answer after {ms:.0} ms: {}",
            e.describe()
        ),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_parameters_are_masked() {
        let url = reqwest::Url::parse(
            "https://x.id/extapi/v1.0/customers?team_token=abc.def&page=2&API-Key=k&ext_cust_no=C1",
        )
        .unwrap();
        assert_eq!(
            redacted(&url),
            "/extapi/v1.0/customers?team_token=***&page=2&API-Key=***&ext_cust_no=C1"
        );
        assert_eq!(
            redacted(&reqwest::Url::parse("https://x.id/a").unwrap()),
            "/a"
        );
    }
}
