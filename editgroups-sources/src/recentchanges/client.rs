//! Requests to api.php, one at a time: retries with backoff, `maxlag` and
//! `Retry-After`, API error objects, bot-password login.

use super::api::{ApiErrorBody, ErrorClass};
use super::builder::Config;
use super::stats::RecentChangesStats;
use crate::http::{Backoff, retry_after};
use bytes::Bytes;
use editgroups_core::SourceError;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

const KIND: &str = "recentchanges";

/// What one attempt came to.
enum Attempt {
    /// A JSON body without an `error` object.
    Body(Bytes),
    /// Worth another try after at least `floor`.
    Retry {
        floor: Option<Duration>,
        error: SourceError,
    },
    /// The session cookie was lost: log in again, then retry.
    SessionLost(SourceError),
    /// Retrying cannot help.
    Fatal(SourceError),
}

#[derive(Deserialize)]
struct ErrorProbe {
    #[serde(default)]
    error: Option<ApiErrorBody>,
}

/// The HTTP side of the poller.
#[derive(Debug)]
pub(crate) struct ApiClient {
    http: reqwest::Client,
    url: reqwest::Url,
    config: Arc<Config>,
    stats: Arc<RecentChangesStats>,
    backoff: Backoff,
    logged_in: bool,
}

/// Query or form parameters.
pub(crate) type Params = Vec<(String, String)>;

impl ApiClient {
    pub(crate) fn new(
        http: reqwest::Client,
        url: reqwest::Url,
        config: Arc<Config>,
        stats: Arc<RecentChangesStats>,
    ) -> Self {
        let backoff = Backoff::new(config.backoff.clone());
        Self {
            http,
            url,
            config,
            stats,
            backoff,
            logged_in: false,
        }
    }

    pub(crate) fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// A GET of a query, retried until it gives a body without an API error.
    pub(crate) async fn get(&mut self, params: Params) -> Result<Bytes, SourceError> {
        self.call(params, false).await
    }

    async fn call(&mut self, mut params: Params, post: bool) -> Result<Bytes, SourceError> {
        params.push(("format".into(), "json".into()));
        params.push(("formatversion".into(), "2".into()));
        if let Some(lag) = self.config.maxlag {
            params.push(("maxlag".into(), lag.to_string()));
        }
        let mut relogged = false;
        loop {
            let mut request = if post {
                self.http.post(self.url.clone()).form(&params)
            } else {
                self.http.get(self.url.clone()).query(&params)
            };
            if self.logged_in && !post {
                // A lost session then shows as an error, not as silently lower limits.
                request = request.query(&[("assert", "user")]);
            }
            self.stats.request();
            let attempt = self.attempt(request).await;
            match attempt {
                Attempt::Body(body) => {
                    self.backoff.reset();
                    return Ok(body);
                }
                Attempt::Fatal(error) => return Err(error),
                Attempt::SessionLost(error) => {
                    if relogged || self.config.login.is_none() {
                        return Err(error);
                    }
                    tracing::warn!(%error, "session lost; logging in again");
                    relogged = true;
                    self.logged_in = false;
                    Box::pin(self.login()).await?;
                }
                Attempt::Retry { floor, error } => {
                    let failures = self.backoff.failures();
                    if self.config.max_retries.is_some_and(|max| failures >= max) {
                        tracing::error!(%error, failures, "giving up");
                        return Err(error);
                    }
                    let delay = self.backoff.next_delay(floor);
                    self.stats.retry();
                    tracing::warn!(%error, ?delay, attempt = failures + 1, "retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt(&self, request: reqwest::RequestBuilder) -> Attempt {
        let url = self.url.to_string();
        let other = |error: reqwest::Error| SourceError::Other {
            source_kind: KIND,
            error: Box::new(error),
        };
        let response = match request.send().await {
            Ok(response) => response,
            // Timeouts, refused or reset connections: the server may come back.
            Err(error) => {
                return Attempt::Retry {
                    floor: None,
                    error: other(error),
                };
            }
        };
        let status = response.status();
        let floor = retry_after(response.headers());
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => {
                return Attempt::Retry {
                    floor,
                    error: other(error),
                };
            }
        };
        if !status.is_success() {
            let error = SourceError::Http {
                url,
                status: status.as_u16(),
                message: snippet(&body),
            };
            return if status.is_server_error() || status.as_u16() == 429 {
                Attempt::Retry { floor, error }
            } else {
                Attempt::Fatal(error)
            };
        }
        let probe: ErrorProbe = match serde_json::from_slice(&body) {
            Ok(probe) => probe,
            Err(e) => {
                return Attempt::Fatal(SourceError::Http {
                    url,
                    status: status.as_u16(),
                    message: format!(
                        "not a JSON API answer ({e}): is this api.php? {}",
                        snippet(&body)
                    ),
                });
            }
        };
        let Some(api_error) = probe.error else {
            return Attempt::Body(body);
        };
        let class = api_error.class();
        let error = SourceError::Api {
            url,
            code: api_error.code,
            info: api_error.info,
        };
        match class {
            // maxlag comes with HTTP 200 and (usually) Retry-After.
            ErrorClass::Lag => {
                self.stats.lagged();
                Attempt::Retry {
                    floor: Some(floor.unwrap_or(self.config.lag_wait)),
                    error,
                }
            }
            ErrorClass::Transient => Attempt::Retry { floor, error },
            ErrorClass::SessionLost => Attempt::SessionLost(error),
            ErrorClass::Fatal => Attempt::Fatal(error),
        }
    }

    /// Logs in with the configured bot password, if any.
    pub(crate) async fn login(&mut self) -> Result<(), SourceError> {
        let Some(login) = self.config.login.clone() else {
            return Ok(());
        };
        #[derive(Deserialize)]
        struct Tokens {
            query: TokenQuery,
        }
        #[derive(Deserialize)]
        struct TokenQuery {
            tokens: TokenList,
        }
        #[derive(Deserialize)]
        struct TokenList {
            logintoken: String,
        }
        #[derive(Deserialize)]
        struct LoginAnswer {
            login: LoginResult,
        }
        #[derive(Deserialize)]
        struct LoginResult {
            result: String,
            #[serde(default)]
            reason: Option<serde_json::Value>,
            #[serde(default)]
            lgusername: Option<String>,
        }
        let body = self
            .call(
                vec![
                    ("action".into(), "query".into()),
                    ("meta".into(), "tokens".into()),
                    ("type".into(), "login".into()),
                ],
                false,
            )
            .await?;
        let tokens: Tokens = serde_json::from_slice(&body)
            .map_err(|e| self.unexpected(format!("no login token in the answer: {e}")))?;
        let body = self
            .call(
                vec![
                    ("action".into(), "login".into()),
                    ("lgname".into(), login.user.clone()),
                    ("lgpassword".into(), login.password.clone()),
                    ("lgtoken".into(), tokens.query.tokens.logintoken),
                ],
                true,
            )
            .await?;
        let answer: LoginAnswer = serde_json::from_slice(&body)
            .map_err(|e| self.unexpected(format!("unexpected login answer: {e}")))?;
        if answer.login.result != "Success" {
            let reason = answer
                .login
                .reason
                .map(|r| match r {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                })
                .unwrap_or_default();
            return Err(SourceError::Config(format!(
                "login as {} failed: {} {reason} (a bot password is `User@appid` and 32+ characters from Special:BotPasswords)",
                login.user, answer.login.result
            )));
        }
        tracing::info!(
            user = answer.login.lgusername.as_deref().unwrap_or(&login.user),
            "logged in"
        );
        self.logged_in = true;
        Ok(())
    }

    /// The wiki id from `meta=siteinfo`.
    pub(crate) async fn wiki_id(&mut self) -> Result<String, SourceError> {
        #[derive(Deserialize)]
        struct SiteInfo {
            query: SiteQuery,
        }
        #[derive(Deserialize)]
        struct SiteQuery {
            general: General,
        }
        #[derive(Deserialize)]
        struct General {
            wikiid: String,
        }
        let body = self
            .get(vec![
                ("action".into(), "query".into()),
                ("meta".into(), "siteinfo".into()),
                ("siprop".into(), "general".into()),
            ])
            .await?;
        let info: SiteInfo = serde_json::from_slice(&body)
            .map_err(|e| self.unexpected(format!("no wikiid in meta=siteinfo: {e}")))?;
        if info.query.general.wikiid.is_empty() {
            return Err(self.unexpected("an empty wikiid in meta=siteinfo".into()));
        }
        Ok(info.query.general.wikiid)
    }

    pub(crate) fn unexpected(&self, message: String) -> SourceError {
        SourceError::Http {
            url: self.url.to_string(),
            status: 200,
            message,
        }
    }
}

/// The start of a body, for error messages.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
