//! The error answers every target of the sandbox gives, in the
//! `{"message": …, "errors": {field: [msg, …]}}` shape the client parses.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Field errors keyed by a dotted path (`location.lat`, `product_units.0.ratio`),
/// the key the client maps back to a spreadsheet column.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn count(&self) -> usize {
        self.0.values().map(Vec::len).sum()
    }

    pub(crate) fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// Whether `field` or anything nested in it (`field.0.ratio`) was reported,
    /// so that a broken array is not also reported as "required".
    pub(crate) fn has_under(&self, field: &str) -> bool {
        self.0.keys().any(|k| {
            k.strip_prefix(field)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    }

    /// `Ok(())` when nothing was found, else the 422 answer carrying every error at
    /// once, so a user fixes a row in one go rather than one field per attempt.
    pub(crate) fn into_result(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self))
        }
    }

    /// [`into_result`](Self::into_result) with the summary in Turkish.
    pub(crate) fn into_result_turkish(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_turkish(self))
        }
    }
}

/// An error answer. Kept small (the field map is boxed) because every handler
/// returns `Result<Response, ApiError>`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    errors: Option<Box<FieldErrors>>,
    retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            errors: None,
            retry_after: None,
        }
    }

    /// 422 in Laravel's shape: the first message, "(and N more errors)", and all
    /// of them under `errors`.
    pub(crate) fn invalid(errors: FieldErrors) -> Self {
        Self::invalid_summarised(errors, "The given data was invalid.", |more| {
            if more == 1 {
                " (and 1 more error)".to_owned()
            } else {
                format!(" (and {more} more errors)")
            }
        })
    }

    /// 422 as a Laravel app with the Turkish locale words it: the first message,
    /// then "(ve N hata daha)".
    pub(crate) fn invalid_turkish(errors: FieldErrors) -> Self {
        Self::invalid_summarised(errors, "Gönderilen veriler geçersiz.", |more| {
            format!(" (ve {more} hata daha)")
        })
    }

    fn invalid_summarised(
        errors: FieldErrors,
        fallback: &str,
        more: impl Fn(usize) -> String,
    ) -> Self {
        let total: usize = errors.0.values().map(Vec::len).sum();
        let first = errors
            .0
            .values()
            .flatten()
            .next()
            .cloned()
            .unwrap_or_else(|| fallback.to_owned());
        let message = match total {
            0 | 1 => first,
            n => format!("{first}{}", more(n - 1)),
        };
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message,
            errors: Some(Box::new(errors)),
            retry_after: None,
        }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.errors {
            Some(errors) => json!({ "message": self.message, "errors": errors.0 }),
            None => json!({ "message": self.message }),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A short `text/plain` answer, for targets whose errors have no JSON format.
pub(crate) fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body.into(),
    )
        .into_response()
}

/// A JSON success answer.
pub(crate) fn json(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// A JSON success answer from any serialisable record, without going through a
/// `Value` tree first.
pub(crate) fn record<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the answer: {e}"),
        )
        .into_response(),
    }
}
