//! The inspector's reads of a wiki: GET requests that answer JSON, sent through
//! the shared [`MediaWikiClient`].

use crate::mediawiki::{ApiError, ErrorClass, MediaWikiClient};
use async_trait::async_trait;
use serde_json::Value;
use std::fmt::Debug;
use std::sync::Arc;

/// Why a read gave no usable answer, as the inspector treats it: the first two
/// skip an edit, the last stops the round.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiFailure {
    /// The wiki answered with an API error object about this request
    /// (`nosuchrevid`, `permissiondenied`, ...).
    #[error("the wiki answered {code}: {info}")]
    Api {
        /// The error code.
        code: String,
        /// Its explanation.
        info: String,
    },
    /// The answer is not the JSON the API gives.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The wiki cannot be reached or keeps failing (after the client's
    /// retries), or cannot be read now (lagged, read-only, rate limited).
    #[error("the wiki cannot be reached: {0}")]
    Unreachable(String),
}

/// GET requests to a MediaWiki API that answer JSON: implemented by the shared
/// [`MediaWikiClient`]; a seam for scripted answers in unit tests.
#[async_trait]
pub trait WikiApi: Send + Sync + Debug {
    /// Sends `params` and gives the JSON answer (format version 2), an API
    /// error object being an [`ApiFailure::Api`].
    async fn get_json(&self, params: &[(&str, String)]) -> Result<Value, ApiFailure>;
}

#[async_trait]
impl<T: WikiApi + ?Sized> WikiApi for Arc<T> {
    async fn get_json(&self, params: &[(&str, String)]) -> Result<Value, ApiFailure> {
        (**self).get_json(params).await
    }
}

#[async_trait]
impl<T: WikiApi + ?Sized> WikiApi for &T {
    async fn get_json(&self, params: &[(&str, String)]) -> Result<Value, ApiFailure> {
        (**self).get_json(params).await
    }
}

/// Reads through the client every other part of the host shares: its
/// User-Agent, `maxlag` with `Retry-After`, backoff and retries, one request at
/// a time among all its users. Give it a
/// [`max_retries`](crate::mediawiki::MediaWikiClientBuilder::max_retries) for a
/// round to stop when the wiki cannot be reached; without one, the round waits
/// for the wiki.
#[async_trait]
impl WikiApi for MediaWikiClient {
    async fn get_json(&self, params: &[(&str, String)]) -> Result<Value, ApiFailure> {
        MediaWikiClient::get_json::<Value, _, _>(self, params)
            .await
            .map_err(ApiFailure::from)
    }
}

impl From<ApiError> for ApiFailure {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Api { code, info, .. } if !wiki_wide(&code) => ApiFailure::Api { code, info },
            ApiError::Unexpected { message, .. } => ApiFailure::Malformed(message),
            // HTTP statuses, transport errors, a refused login, API errors about
            // the wiki's state: nothing the next edit would fare better with.
            other => ApiFailure::Unreachable(other.to_string()),
        }
    }
}

/// Whether an API error the client gave up on says the wiki cannot be read
/// now, rather than that this one request cannot be answered.
fn wiki_wide(code: &str) -> bool {
    match ErrorClass::of(code) {
        ErrorClass::Lag | ErrorClass::RateLimited | ErrorClass::SessionLost => true,
        ErrorClass::BadToken => true,
        // Exceptions while answering may be one revision's alone: a diff that
        // always fails must not hold every round back.
        ErrorClass::Transient => {
            matches!(code, "readonly" | "internal_api_error_DBConnectionError")
        }
        ErrorClass::Fatal => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: &str) -> ApiError {
        ApiError::Api {
            url: "http://wiki.test/w/api.php".into(),
            code: code.into(),
            info: format!("about {code}"),
        }
    }

    #[test]
    fn errors_about_one_request_skip_an_edit() {
        for code in [
            "nosuchrevid",
            "permissiondenied",
            "badvalue",
            "internal_api_error_MWException",
            "internal_api_error_DBQueryTimeoutError",
        ] {
            assert_eq!(
                ApiFailure::from(api_error(code)),
                ApiFailure::Api {
                    code: code.into(),
                    info: format!("about {code}")
                },
                "{code}"
            );
        }
        let malformed = ApiFailure::from(ApiError::Unexpected {
            url: "http://wiki.test/w/api.php".into(),
            message: "not a JSON API answer".into(),
        });
        assert_eq!(
            malformed,
            ApiFailure::Malformed("not a JSON API answer".into())
        );
    }

    #[test]
    fn errors_about_the_wiki_stop_the_round() {
        for code in [
            "maxlag",
            "ratelimited",
            "readonly",
            "internal_api_error_DBConnectionError",
            "assertuserfailed",
        ] {
            assert!(
                matches!(
                    ApiFailure::from(api_error(code)),
                    ApiFailure::Unreachable(_)
                ),
                "{code}"
            );
        }
        for error in [
            ApiError::Http {
                url: "http://wiki.test/w/api.php".into(),
                status: 503,
                message: "Service Unavailable".into(),
            },
            ApiError::Http {
                url: "http://wiki.test/w/api.php".into(),
                status: 404,
                message: "Not Found".into(),
            },
            ApiError::Config("writes need credentials".into()),
        ] {
            let text = error.to_string();
            assert_eq!(
                ApiFailure::from(error),
                ApiFailure::Unreachable(text.clone()),
                "{text}"
            );
        }
    }
}
