//! Configuration of a [`MediaWikiClient`].

use super::client::MediaWikiClient;
use super::error::ApiError;
use crate::http::{BackoffConfig, check_user_agent};
use std::fmt;
use std::time::Duration;

/// A bot password (`Special:BotPasswords`): `User@appid` and the generated
/// password, for `action=login`.
#[derive(Clone, PartialEq, Eq)]
pub struct BotPassword {
    /// `User@appid`.
    pub user: String,
    /// The generated password.
    pub password: String,
}

impl fmt::Debug for BotPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotPassword")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// How the client identifies itself to the wiki.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Credentials {
    /// Anonymous: reads only.
    #[default]
    Anonymous,
    /// A bot password, logged in with `action=login`; the session lives in a
    /// cookie.
    BotPassword(BotPassword),
    /// The access token of an OAuth 2 consumer (an owner-only consumer for a
    /// bot), sent as `Authorization: Bearer` with every request.
    OAuth2 {
        /// The access token.
        token: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Anonymous => f.write_str("Anonymous"),
            Self::BotPassword(bot) => bot.fmt(f),
            Self::OAuth2 { .. } => f.write_str("OAuth2 { token: <hidden> }"),
        }
    }
}

/// Everything the client needs, fixed when it is built.
#[derive(Debug, Clone)]
pub(crate) struct ClientConfig {
    pub(crate) credentials: Credentials,
    pub(crate) maxlag: Option<u32>,
    pub(crate) lag_wait: Duration,
    pub(crate) backoff: BackoffConfig,
    pub(crate) max_retries: Option<u32>,
    pub(crate) write_interval: Duration,
    pub(crate) max_write_interval: Duration,
}

/// Builds a [`MediaWikiClient`].
///
/// ```no_run
/// use editgroups_sources::mediawiki::MediaWikiClient;
/// use std::time::Duration;
/// let client = MediaWikiClient::builder("https://wiki.example.org/w/api.php")
///     .user_agent("my-tool/1.0 (https://example.org; me@example.org)")
///     .bot_password("MyBot@undo", "0123456789abcdefghijklmnopqrstuv")
///     .write_interval(Duration::from_secs(1))
///     .build()?;
/// # Ok::<(), editgroups_sources::mediawiki::ApiError>(())
/// ```
#[derive(Debug, Clone)]
pub struct MediaWikiClientBuilder {
    api_url: String,
    user_agent: Option<String>,
    request_timeout: Duration,
    connect_timeout: Duration,
    config: ClientConfig,
}

/// The default pause between two writes: one a second, as EditGroups.
pub const DEFAULT_WRITE_INTERVAL: Duration = Duration::from_secs(1);

impl MediaWikiClientBuilder {
    pub(crate) fn new(api_url: impl Into<String>) -> Self {
        Self {
            api_url: api_url.into(),
            user_agent: None,
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            config: ClientConfig {
                credentials: Credentials::Anonymous,
                maxlag: Some(5),
                lag_wait: Duration::from_secs(5),
                backoff: BackoffConfig::default(),
                max_retries: None,
                write_interval: DEFAULT_WRITE_INTERVAL,
                max_write_interval: Duration::from_secs(120),
            },
        }
    }

    /// The User-Agent sent with every request (required): `tool/version (contact)`.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// Logs in with a bot password (`User@appid`) before the first request.
    pub fn bot_password(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.config.credentials = Credentials::BotPassword(BotPassword {
            user: user.into(),
            password: password.into(),
        });
        self
    }

    /// Sends an OAuth 2 access token (`Authorization: Bearer`) with every request.
    pub fn oauth2_token(mut self, token: impl Into<String>) -> Self {
        self.config.credentials = Credentials::OAuth2 {
            token: token.into(),
        };
        self
    }

    /// The credentials, whichever kind.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.config.credentials = credentials;
        self
    }

    /// The `maxlag` parameter in seconds (default 5; `None` leaves it out).
    pub fn maxlag(mut self, maxlag: Option<u32>) -> Self {
        self.config.maxlag = maxlag;
        self
    }

    /// The least wait after a `maxlag` error that came without `Retry-After`
    /// (default 5 s).
    pub fn lag_wait(mut self, wait: Duration) -> Self {
        self.config.lag_wait = wait;
        self
    }

    /// The backoff after failed requests (5xx, timeouts, connection errors).
    pub fn backoff(mut self, backoff: BackoffConfig) -> Self {
        self.config.backoff = backoff;
        self
    }

    /// How many times one request is retried before it gives up with the last
    /// error (default: never give up).
    pub fn max_retries(mut self, retries: Option<u32>) -> Self {
        self.config.max_retries = retries;
        self
    }

    /// The pause between the end of a write and the start of the next (default
    /// one second). A `ratelimited` answer doubles it, up to
    /// [`max_write_interval`](Self::max_write_interval); it comes back down as
    /// writes succeed.
    pub fn write_interval(mut self, interval: Duration) -> Self {
        self.config.write_interval = interval;
        self.config.max_write_interval = self.config.max_write_interval.max(interval);
        self
    }

    /// The longest pause rate limits may impose between writes (default 120 s).
    pub fn max_write_interval(mut self, interval: Duration) -> Self {
        self.config.max_write_interval = interval.max(self.config.write_interval);
        self
    }

    /// How long one request may take, body included (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long connecting may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Checks the configuration and builds the client. Nothing is sent yet.
    pub fn build(self) -> Result<MediaWikiClient, ApiError> {
        let agent = check_user_agent(self.user_agent.as_deref()).map_err(|e| match e {
            editgroups_core::SourceError::Config(message) => ApiError::Config(message),
            other => ApiError::Config(other.to_string()),
        })?;
        let api_url = reqwest::Url::parse(&self.api_url).map_err(|e| {
            ApiError::Config(format!("the API URL {:?} is not a URL: {e}", self.api_url))
        })?;
        if !matches!(api_url.scheme(), "http" | "https") {
            return Err(ApiError::Config(format!(
                "the API URL {api_url} is not http(s)"
            )));
        }
        match &self.config.credentials {
            Credentials::BotPassword(bot) if bot.user.is_empty() || bot.password.is_empty() => {
                return Err(ApiError::Config(
                    "a bot password needs a user (`User@appid`) and a password".into(),
                ));
            }
            Credentials::OAuth2 { token }
                if token.is_empty()
                    || reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                        .is_err() =>
            {
                return Err(ApiError::Config(
                    "the OAuth 2 access token is empty or not a valid header value".into(),
                ));
            }
            _ => {}
        }
        let http = reqwest::Client::builder()
            .user_agent(agent)
            .cookie_store(true)
            .gzip(true)
            .timeout(self.request_timeout)
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(|e| ApiError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(MediaWikiClient::from_parts(http, api_url, self.config))
    }
}
