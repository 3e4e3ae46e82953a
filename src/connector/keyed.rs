//! Targets with static credentials: Fatura Entegratör (`Authorization: Bearer <API key>`)
//! and Trackfinity (`api-key` / `api-username` headers). No session, no re-sign-in: a
//! 401/403 is final.

use std::future::Future;
use std::pin::Pin;

use super::salesmania::{Fields, join};
use super::{Body, Reply, Secret, SendError, Transport};

/// How a keyed target wants its credentials.
#[derive(Debug, Clone)]
pub enum KeyAuth {
    /// `Authorization: Bearer <key>` (Fatura Entegratör).
    Bearer(Secret),
    /// `api-key` and `api-username` headers (Trackfinity).
    Headers {
        /// The admin user name.
        username: String,
        /// The API key.
        key: Secret,
    },
}

/// A client for a keyed target.
pub struct KeyedClient {
    http: reqwest::Client,
    base: reqwest::Url,
    auth: KeyAuth,
    fields: Fields,
}

impl KeyedClient {
    /// A client for `base` (already checked by [`super::check_base_url`]).
    pub fn new(http: reqwest::Client, base: reqwest::Url, auth: KeyAuth, fields: Fields) -> Self {
        KeyedClient {
            http,
            base,
            auth,
            fields,
        }
    }

    /// The base URL, for summaries and the ledger (no credentials in it).
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// One request with the credentials attached.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(String, String)],
        body: Body<'_>,
    ) -> Result<Reply, SendError> {
        let mut req = self
            .http
            .request(method, join(&self.base, path))
            .header(reqwest::header::ACCEPT, "application/json")
            .query(query);
        req = match &self.auth {
            KeyAuth::Bearer(k) => req.bearer_auth(k.expose()),
            KeyAuth::Headers { username, key } => req
                .header("api-key", key.expose())
                .header("api-username", username),
        };
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(v),
            Body::Form(f) => req.form(f),
        };
        super::log::send(req).await
    }
}

impl Transport for KeyedClient {
    fn send<'a>(
        &'a self,
        method: reqwest::Method,
        path: &'a str,
        query: &'a [(String, String)],
        body: Body<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<Reply, SendError>> + Send + 'a>> {
        Box::pin(self.request(method, path, query, body))
    }

    fn fields(&self) -> &Fields {
        &self.fields
    }
}
