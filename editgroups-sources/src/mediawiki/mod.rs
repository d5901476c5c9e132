//! A client of the MediaWiki Action API (api.php), shared by everything in this
//! crate that talks to a wiki: the recent-changes poller, the revert worker, and
//! hosts of their own (an inspector of batches, say).
//!
//! It behaves as Wikimedia asks of API clients:
//! - a descriptive User-Agent is required (`tool/version (contact)`);
//! - one request at a time per client (its clones share one lock);
//! - `maxlag=5` on every request, waiting at least the `Retry-After` of a
//!   `maxlag` answer; exponential backoff with jitter on 5xx, 429, timeouts and
//!   connection errors;
//! - writes paced (one a second by default), slower after `ratelimited`.
//!
//! It logs in with a bot password (`action=login` with a login token; the
//! session in a cookie store) or sends an OAuth 2 access token as
//! `Authorization: Bearer`, fetches the CSRF token once (again on `badtoken`),
//! adds `assert=user` once authenticated, and logs in again when a session is
//! lost.
//!
//! ```no_run
//! # async fn run() -> Result<(), editgroups_sources::mediawiki::ApiError> {
//! use editgroups_sources::mediawiki::MediaWikiClient;
//! let client = MediaWikiClient::builder("https://www.wikidata.org/w/api.php")
//!     .user_agent("my-tool/1.0 (https://example.org; me@example.org)")
//!     .build()?;
//! let body = client
//!     .get(&[("action", "compare"), ("fromrev", "1"), ("torev", "2")])
//!     .await?;
//! # Ok(()) }
//! ```

mod builder;
mod client;
mod error;
mod stats;

pub use builder::{BotPassword, Credentials, DEFAULT_WRITE_INTERVAL, MediaWikiClientBuilder};
pub use client::{MediaWikiClient, UserInfo};
pub(crate) use error::ErrorClass;
pub use error::{ApiError, WriteError};
pub use stats::{ClientSnapshot, ClientStats};

impl From<ApiError> for editgroups_core::SourceError {
    fn from(error: ApiError) -> Self {
        use editgroups_core::SourceError;
        match error {
            ApiError::Config(message) => SourceError::Config(message),
            login @ ApiError::Login { .. } => SourceError::Config(login.to_string()),
            ApiError::Http {
                url,
                status,
                message,
            } => SourceError::Http {
                url,
                status,
                message,
            },
            ApiError::Api { url, code, info } => SourceError::Api { url, code, info },
            ApiError::Transport { source, .. } => SourceError::Other {
                source_kind: "mediawiki",
                error: Box::new(source),
            },
            ApiError::Unexpected { url, message } => SourceError::Http {
                url,
                status: 200,
                message,
            },
        }
    }
}
