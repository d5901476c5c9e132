//! What goes wrong talking to api.php: the API's error objects and how each is
//! handled, and the errors the client returns.

use serde::Deserialize;

/// An `error` object of the Action API.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct ApiErrorBody {
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) info: String,
}

/// What to do about an API error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// Replica lag above `maxlag`: wait (at least `Retry-After`) and ask again.
    Lag,
    /// Too many actions: slow down, then ask again.
    RateLimited,
    /// Passing trouble on the server's side (read-only, database errors): back
    /// off and ask again.
    Transient,
    /// The session expired (`assert=user` failed): log in again.
    SessionLost,
    /// The CSRF token is no longer valid: fetch a new one.
    BadToken,
    /// Bad parameters, missing rights, a refused edit: retrying cannot help.
    Fatal,
}

impl ApiErrorBody {
    pub(crate) fn class(&self) -> ErrorClass {
        ErrorClass::of(&self.code)
    }
}

impl ErrorClass {
    /// How the client handles the API error `code`.
    pub(crate) fn of(code: &str) -> Self {
        match code {
            "maxlag" => ErrorClass::Lag,
            "ratelimited" => ErrorClass::RateLimited,
            "readonly"
            | "internal_api_error_DBQueryError"
            | "internal_api_error_DBConnectionError"
            | "internal_api_error_DBQueryTimeoutError" => ErrorClass::Transient,
            "assertuserfailed" | "assertbotfailed" => ErrorClass::SessionLost,
            "badtoken" => ErrorClass::BadToken,
            code if code.starts_with("internal_api_error_") => ErrorClass::Transient,
            _ => ErrorClass::Fatal,
        }
    }
}

/// Why a request to api.php failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The client is configured wrongly (a bad URL, a missing User-Agent, no
    /// credentials for a write).
    #[error("configuration: {0}")]
    Config(String),
    /// The wiki refused the login.
    #[error(
        "login as {user} failed: {result} {reason} (a bot password is `User@appid` with the 32 or more characters Special:BotPasswords gave)"
    )]
    Login {
        /// The account.
        user: String,
        /// The API's `result` (`Failed`, `Aborted`, ...).
        result: String,
        /// The API's reason.
        reason: String,
    },
    /// The server answered with an HTTP status retrying cannot fix (or retries
    /// ran out).
    #[error("{url}: HTTP {status}: {message}")]
    Http {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the body.
        message: String,
    },
    /// The API answered with an error object retrying cannot fix.
    #[error("{url}: API error {code}: {info}")]
    Api {
        /// The URL requested.
        url: String,
        /// The error code, verbatim.
        code: String,
        /// The error message.
        info: String,
    },
    /// The server could not be reached (retries ran out).
    #[error("{url}: {source}")]
    Transport {
        /// The URL requested.
        url: String,
        /// The HTTP client's error.
        source: reqwest::Error,
    },
    /// An answer that is not what the API sends.
    #[error("{url}: {message}")]
    Unexpected {
        /// The URL requested.
        url: String,
        /// What was wrong.
        message: String,
    },
}

/// Why a write (an edit, a deletion, a restore) was not made, or may not have
/// been.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The wiki refused it with an API error (`undofailure`, `missingtitle`,
    /// `protectedpage`, `permissiondenied`, ...): nothing was changed.
    #[error("{code}: {info}")]
    Refused {
        /// The API's error code, verbatim.
        code: String,
        /// The API's message.
        info: String,
    },
    /// The request was sent and no usable answer came back (a timeout, a cut
    /// connection, a server error): the wiki may or may not have made the
    /// change. Check before sending it again.
    #[error("no answer to the write, which may have been made: {message}")]
    Unknown {
        /// What happened.
        message: String,
    },
    /// It could not be sent (bad configuration or credentials, the wiki
    /// unreachable): nothing was changed.
    #[error(transparent)]
    NotSent(#[from] ApiError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified() {
        let class = |code: &str| {
            ApiErrorBody {
                code: code.into(),
                info: String::new(),
            }
            .class()
        };
        assert_eq!(class("maxlag"), ErrorClass::Lag);
        assert_eq!(class("ratelimited"), ErrorClass::RateLimited);
        assert_eq!(class("readonly"), ErrorClass::Transient);
        assert_eq!(class("internal_api_error_Whatever"), ErrorClass::Transient);
        assert_eq!(class("assertuserfailed"), ErrorClass::SessionLost);
        assert_eq!(class("badtoken"), ErrorClass::BadToken);
        for fatal in [
            "badcontinue",
            "paramerror",
            "permissiondenied",
            "badvalue",
            "undofailure",
            "missingtitle",
            "",
        ] {
            assert_eq!(class(fatal), ErrorClass::Fatal, "{fatal}");
        }
    }
}
