//! Errors as HTTP answers, in one place: handlers return `Result` and never write
//! a status by hand.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use editgroups_core::StoreError;

/// What went wrong with a request.
#[derive(Debug)]
pub(crate) struct HttpError {
    status: StatusCode,
    message: String,
    /// Shown as a page rather than as JSON.
    html: bool,
}

impl HttpError {
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            html: false,
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            html: false,
        }
    }

    /// An answer could not be written (logged where it happened).
    pub(crate) fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "the answer could not be written".to_owned(),
            html: false,
        }
    }

    /// The store failed: logged in full, answered as 503 without the details
    /// (they may name hosts or users of the database).
    pub(crate) fn store(error: &StoreError) -> Self {
        tracing::error!(%error, "store error while answering a request");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "the store is not answering; try again later".to_owned(),
            html: false,
        }
    }

    /// The same error, shown as a page.
    pub(crate) fn into_page(mut self) -> Self {
        self.html = true;
        self
    }

    #[cfg(test)]
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}

impl From<StoreError> for HttpError {
    fn from(error: StoreError) -> Self {
        Self::store(&error)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if self.html {
            let page = super::pages::error_page(self.status, &self.message);
            return (
                self.status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                page.into_string(),
            )
                .into_response();
        }
        let body = serde_json::json!({ "detail": self.message }).to_string();
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}
