//! The inspector's side of a MediaWiki API: GET requests that answer JSON.

use crate::http::{Backoff, BackoffConfig, check_user_agent, retry_after};
use async_trait::async_trait;
use editgroups_core::SourceError;
use serde_json::Value;
use std::fmt::Debug;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Why a request gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiFailure {
    /// The wiki answered with an API error object (`nosuchrevid`,
    /// `permissiondenied`, ...): about this request only.
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
    /// The wiki cannot be reached or keeps failing (after retries).
    #[error("the wiki cannot be reached: {0}")]
    Unreachable(String),
}

/// GET requests to a MediaWiki API that answer JSON.
#[async_trait]
pub trait WikiApi: Send + Sync + Debug {
    /// Sends `params` (`format=json` is added) and gives the JSON answer, an
    /// API error object being an [`ApiFailure::Api`].
    async fn get_json(&self, params: &[(&str, String)]) -> Result<Value, ApiFailure>;
}

#[async_trait]
impl<T: WikiApi + ?Sized> WikiApi for std::sync::Arc<T> {
    async fn get_json(&self, params: &[(&str, String)]) -> Result<Value, ApiFailure> {
        (**self).get_json(params).await
    }
}

/// A [`WikiApi`] over HTTP: a descriptive User-Agent, `maxlag` with
/// `Retry-After` honoured, retries with backoff on 5xx answers and broken
/// connections, one request at a time and at least `pace` between the starts
/// of two requests.
#[derive(Debug)]
pub struct HttpWikiApi {
    http: reqwest::Client,
    url: reqwest::Url,
    maxlag: Option<u32>,
    pace: Duration,
    max_retries: u32,
    /// Held for a whole request (one at a time): when the last one started,
    /// and the failures in a row.
    state: Mutex<(Option<Instant>, Backoff)>,
}

/// Builds an [`HttpWikiApi`].
#[derive(Debug, Clone)]
pub struct HttpWikiApiBuilder {
    url: String,
    user_agent: Option<String>,
    maxlag: Option<u32>,
    pace: Duration,
    max_retries: u32,
    backoff: BackoffConfig,
    timeout: Duration,
}

impl HttpWikiApi {
    /// Starts building a client of the api.php at `url`.
    pub fn builder(url: impl Into<String>) -> HttpWikiApiBuilder {
        HttpWikiApiBuilder {
            url: url.into(),
            user_agent: None,
            maxlag: Some(5),
            pace: Duration::from_millis(500),
            max_retries: 5,
            backoff: BackoffConfig::default(),
            timeout: Duration::from_secs(60),
        }
    }
}

impl HttpWikiApiBuilder {
    /// The User-Agent (required: `tool/version (contact)`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// The `maxlag` sent with every request (default 5 s; `None`: none).
    pub fn maxlag(mut self, seconds: Option<u32>) -> Self {
        self.maxlag = seconds;
        self
    }

    /// The least time between the starts of two requests (default 0.5 s, as
    /// EditGroups slept between its inspections).
    pub fn pace(mut self, pace: Duration) -> Self {
        self.pace = pace;
        self
    }

    /// How many times a failed request is retried (default 5).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The delays between retries.
    pub fn backoff(mut self, backoff: BackoffConfig) -> Self {
        self.backoff = backoff;
        self
    }

    /// How long one request may take (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The client; fails on a missing User-Agent or a bad URL.
    pub fn build(self) -> Result<HttpWikiApi, SourceError> {
        let agent = check_user_agent(self.user_agent.as_deref())?;
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| SourceError::Config(format!("bad API URL {:?}: {e}", self.url)))?;
        let http = reqwest::Client::builder()
            .user_agent(agent)
            .timeout(self.timeout)
            .build()
            .map_err(|e| SourceError::Config(format!("HTTP client: {e}")))?;
        Ok(HttpWikiApi {
            http,
            url,
            maxlag: self.maxlag,
            pace: self.pace,
            max_retries: self.max_retries,
            state: Mutex::new((None, Backoff::new(self.backoff))),
        })
    }
}

enum Attempt {
    Done(Result<Value, ApiFailure>),
    Retry {
        floor: Option<Duration>,
        error: String,
    },
}

impl HttpWikiApi {
    async fn attempt(&self, params: &[(&str, String)]) -> Attempt {
        let response = match self.http.get(self.url.clone()).query(params).send().await {
            Ok(response) => response,
            Err(e) => {
                return Attempt::Retry {
                    floor: None,
                    error: e.to_string(),
                };
            }
        };
        let status = response.status();
        let floor = retry_after(response.headers());
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Attempt::Retry {
                floor,
                error: format!("HTTP {status}"),
            };
        }
        if !status.is_success() {
            return Attempt::Done(Err(ApiFailure::Unreachable(format!("HTTP {status}"))));
        }
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) => {
                return Attempt::Retry {
                    floor: None,
                    error: e.to_string(),
                };
            }
        };
        let value: Value = match serde_json::from_slice(&body) {
            Ok(value) => value,
            Err(e) => return Attempt::Done(Err(ApiFailure::Malformed(e.to_string()))),
        };
        if let Some(error) = value.get("error") {
            let text = |key: &str| {
                error
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let code = text("code");
            if code == "maxlag" {
                return Attempt::Retry {
                    floor: floor.or(Some(Duration::from_secs(5))),
                    error: format!("maxlag: {}", text("info")),
                };
            }
            let info = text("info");
            return Attempt::Done(Err(ApiFailure::Api { code, info }));
        }
        Attempt::Done(Ok(value))
    }
}

#[async_trait]
impl WikiApi for HttpWikiApi {
    async fn get_json(&self, params: &[(&str, String)]) -> Result<Value, ApiFailure> {
        let mut all: Vec<(&str, String)> = params.to_vec();
        all.push(("format", "json".to_owned()));
        all.push(("formatversion", "2".to_owned()));
        if let Some(lag) = self.maxlag {
            all.push(("maxlag", lag.to_string()));
        }
        let mut state = self.state.lock().await;
        let (last, backoff) = &mut *state;
        let mut retries = 0;
        loop {
            if let Some(at) = *last {
                tokio::time::sleep_until(at + self.pace).await;
            }
            *last = Some(Instant::now());
            match self.attempt(&all).await {
                Attempt::Done(result) => {
                    backoff.reset();
                    return result;
                }
                Attempt::Retry { floor, error } => {
                    if retries >= self.max_retries {
                        return Err(ApiFailure::Unreachable(error));
                    }
                    retries += 1;
                    let delay = backoff.next_delay(floor);
                    tracing::warn!(%error, ?delay, "API request failed; retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}
