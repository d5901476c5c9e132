//! Requests to api.php, one at a time: retries with backoff, `maxlag` and
//! `Retry-After`, API error objects, login, CSRF tokens, the pace of writes.

use super::builder::{ClientConfig, Credentials, MediaWikiClientBuilder};
use super::error::{ApiError, ApiErrorBody, ErrorClass, WriteError};
use super::stats::ClientStats;
use crate::http::{Backoff, retry_after};
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Query or form parameters.
type Params = Vec<(String, String)>;

/// A client of one wiki's api.php, shared by its clones.
///
/// Every request goes through one lock: one request at a time, whoever sends
/// it (a poller, an inspector, a revert worker). Each request carries
/// `format=json`, `formatversion=2` and `maxlag` (default 5), and `assert=user`
/// once authenticated. Reads are retried with exponential backoff and jitter on
/// 5xx, 429, timeouts, connection errors, `maxlag` (waiting at least its
/// `Retry-After`), `readonly` and database errors; a lost session logs in again.
///
/// Writes ([`write`](Self::write)) carry a CSRF token (fetched once, fetched
/// again on `badtoken`) and `assert=user`, are paced (one a second by default,
/// slower after `ratelimited`), and are retried only when the wiki certainly did
/// not make them; an answer lost after sending is reported as
/// [`WriteError::Unknown`], for the caller to check before sending again.
#[derive(Debug, Clone)]
pub struct MediaWikiClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    url: reqwest::Url,
    config: ClientConfig,
    stats: Arc<ClientStats>,
    session: Mutex<Session>,
}

#[derive(Debug)]
struct Session {
    backoff: Backoff,
    logged_in: bool,
    /// The account name the login answered with.
    user: Option<String>,
    csrf: Option<String>,
    last_write: Option<Instant>,
    write_interval: Duration,
}

/// What one attempt came to.
enum Attempt {
    /// A JSON body without an `error` object.
    Body(Bytes),
    /// Not done; worth another try after at least `floor`.
    Retry {
        floor: Option<Duration>,
        error: ApiError,
    },
    /// Not done: too many actions; slow down, then try again.
    RateLimited {
        floor: Option<Duration>,
        error: ApiError,
    },
    /// The session cookie was lost: log in again, then retry.
    SessionLost(ApiError),
    /// The CSRF token is stale.
    BadToken(ApiError),
    /// A write was sent and may have been made; no usable answer.
    Uncertain(String),
    /// Retrying cannot help.
    Fatal(ApiError),
}

#[derive(Deserialize)]
struct ErrorProbe {
    #[serde(default)]
    error: Option<ApiErrorBody>,
}

/// The account the client acts as, from `meta=userinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct UserInfo {
    /// The user id (0 for anonymous).
    #[serde(default)]
    pub id: u64,
    /// The user name (an IP address for anonymous).
    #[serde(default)]
    pub name: String,
    /// Whether the wiki sees no account.
    #[serde(default)]
    pub anon: bool,
    /// The account's rights on the wiki, as its session has them (a bot password
    /// or an OAuth consumer grants a subset).
    #[serde(default)]
    pub rights: Vec<String>,
    /// The account's groups.
    #[serde(default)]
    pub groups: Vec<String>,
}

fn owned<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Params {
    params
        .iter()
        .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
        .collect()
}

fn param(key: &str, value: impl Into<String>) -> (String, String) {
    (key.to_owned(), value.into())
}

impl MediaWikiClient {
    /// Starts configuring a client of the api.php at `api_url`
    /// (e.g. `https://www.wikidata.org/w/api.php`).
    pub fn builder(api_url: impl Into<String>) -> MediaWikiClientBuilder {
        MediaWikiClientBuilder::new(api_url)
    }

    pub(crate) fn from_parts(
        http: reqwest::Client,
        url: reqwest::Url,
        config: ClientConfig,
    ) -> Self {
        let session = Session {
            backoff: Backoff::new(config.backoff.clone()),
            logged_in: false,
            user: None,
            csrf: None,
            last_write: None,
            write_interval: config.write_interval,
        };
        Self {
            inner: Arc::new(Inner {
                http,
                url,
                config,
                stats: Arc::default(),
                session: Mutex::new(session),
            }),
        }
    }

    /// The api.php this client talks to.
    pub fn api_url(&self) -> &reqwest::Url {
        &self.inner.url
    }

    /// The live counters; shared by the client's clones.
    pub fn stats(&self) -> Arc<ClientStats> {
        Arc::clone(&self.inner.stats)
    }

    /// Whether the client has credentials (a bot password or an OAuth token).
    pub fn has_credentials(&self) -> bool {
        !matches!(self.inner.config.credentials, Credentials::Anonymous)
    }

    fn url_text(&self) -> String {
        self.inner.url.to_string()
    }

    fn unexpected(&self, message: String) -> ApiError {
        ApiError::Unexpected {
            url: self.url_text(),
            message,
        }
    }

    /// Takes the session for one request (the client's lock). Failures count
    /// per request: one that gave up, or ended with an answer retrying cannot
    /// fix, leaves the next its own retries.
    async fn begin(&self) -> tokio::sync::MutexGuard<'_, Session> {
        let mut session = self.inner.session.lock().await;
        session.backoff.reset();
        session
    }

    /// Logs in with the bot password, unless the session already is; does
    /// nothing for anonymous and OAuth clients. Requests log in by themselves
    /// when needed: this only surfaces bad credentials early.
    pub async fn login(&self) -> Result<(), ApiError> {
        let mut session = self.begin().await;
        self.ensure_login(&mut session).await
    }

    /// A GET of the API (`action=query&…`), retried until it gives an answer
    /// without an API error; the raw JSON body.
    pub async fn get<K: AsRef<str>, V: AsRef<str>>(
        &self,
        params: &[(K, V)],
    ) -> Result<Bytes, ApiError> {
        let params = owned(params);
        let mut session = self.begin().await;
        self.ensure_login(&mut session).await?;
        self.read(&mut session, &params, false).await
    }

    /// [`get`](Self::get), deserialised.
    pub async fn get_json<T: DeserializeOwned, K: AsRef<str>, V: AsRef<str>>(
        &self,
        params: &[(K, V)],
    ) -> Result<T, ApiError> {
        let body = self.get(params).await?;
        serde_json::from_slice(&body)
            .map_err(|e| self.unexpected(format!("unexpected answer: {e}")))
    }

    /// The wiki id (`wikiid` of `meta=siteinfo`), e.g. `wikidatawiki`.
    pub async fn wiki_id(&self) -> Result<String, ApiError> {
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
        let info: SiteInfo = self
            .get_json(&[
                ("action", "query"),
                ("meta", "siteinfo"),
                ("siprop", "general"),
            ])
            .await
            .map_err(|e| match e {
                ApiError::Unexpected { url, message } => ApiError::Unexpected {
                    url,
                    message: format!("no wikiid in meta=siteinfo: {message}"),
                },
                other => other,
            })?;
        if info.query.general.wikiid.is_empty() {
            return Err(self.unexpected("an empty wikiid in meta=siteinfo".into()));
        }
        Ok(info.query.general.wikiid)
    }

    /// The account the client acts as, with its rights
    /// (`meta=userinfo&uiprop=rights|groups`).
    pub async fn user_info(&self) -> Result<UserInfo, ApiError> {
        #[derive(Deserialize)]
        struct Answer {
            query: Query,
        }
        #[derive(Deserialize)]
        struct Query {
            userinfo: UserInfo,
        }
        let answer: Answer = self
            .get_json(&[
                ("action", "query"),
                ("meta", "userinfo"),
                ("uiprop", "rights|groups"),
            ])
            .await?;
        Ok(answer.query.userinfo)
    }

    /// A write (`action=edit`, `delete`, `undelete`, ...), POSTed with a CSRF token
    /// and `assert=user`, after the pause since the last write.
    ///
    /// Retried only when the wiki did not make it: `maxlag`, `ratelimited` (which
    /// also slows later writes), `readonly`, `badtoken` (with a new token), a lost
    /// session (after logging in again), HTTP 429, connections that could not be
    /// opened. The wiki's refusal is [`WriteError::Refused`] with its code; a
    /// timeout, a cut connection, a 5xx or an internal error after sending is
    /// [`WriteError::Unknown`].
    pub async fn write<K: AsRef<str>, V: AsRef<str>>(
        &self,
        params: &[(K, V)],
    ) -> Result<Bytes, WriteError> {
        if !self.has_credentials() {
            return Err(ApiError::Config(
                "writes need credentials (a bot password or an OAuth 2 token)".into(),
            )
            .into());
        }
        let params = owned(params);
        let mut session = self.begin().await;
        self.ensure_login(&mut session).await?;
        let mut relogged = false;
        let mut new_tokens = 0;
        loop {
            let token = match session.csrf.clone() {
                Some(token) => token,
                None => self.fetch_token(&mut session).await?,
            };
            if let Some(last) = session.last_write {
                tokio::time::sleep_until(last + session.write_interval).await;
            }
            let mut all = params.clone();
            all.push(param("token", token));
            let request = self.request(&session, &all, true);
            self.inner.stats.write();
            let attempt = self.attempt(request, true).await;
            session.last_write = Some(Instant::now());
            match attempt {
                Attempt::Body(body) => {
                    session.backoff.reset();
                    // Back towards the configured pace after a rate limit.
                    session.write_interval = session
                        .write_interval
                        .mul_f64(0.9)
                        .max(self.inner.config.write_interval);
                    return Ok(body);
                }
                Attempt::Fatal(ApiError::Api { code, info, .. }) => {
                    return Err(WriteError::Refused { code, info });
                }
                Attempt::Fatal(error) => return Err(error.into()),
                Attempt::Uncertain(message) => return Err(WriteError::Unknown { message }),
                Attempt::BadToken(error) => {
                    new_tokens += 1;
                    if new_tokens > 2 {
                        return Err(refused(error));
                    }
                    tracing::info!("CSRF token refused; fetching a new one");
                    session.csrf = None;
                }
                Attempt::SessionLost(error) => {
                    if relogged || !self.has_bot_password() {
                        return Err(refused(error));
                    }
                    tracing::warn!(%error, "session lost; logging in again");
                    relogged = true;
                    session.logged_in = false;
                    self.login_now(&mut session).await?;
                }
                Attempt::RateLimited { floor, error } => {
                    self.inner.stats.rate_limited();
                    session.write_interval = (session.write_interval * 2)
                        .max(Duration::from_millis(100))
                        .min(self.inner.config.max_write_interval);
                    let wait = floor.unwrap_or_default().max(session.write_interval);
                    self.wait_to_retry(&mut session, Some(wait), error).await?;
                }
                Attempt::Retry { floor, error } => {
                    self.wait_to_retry(&mut session, floor, error).await?;
                }
            }
        }
    }

    fn has_bot_password(&self) -> bool {
        matches!(self.inner.config.credentials, Credentials::BotPassword(_))
    }

    /// Logs in when a bot password is configured and the session is not.
    async fn ensure_login(&self, session: &mut Session) -> Result<(), ApiError> {
        if self.has_bot_password() && !session.logged_in {
            self.login_now(session).await?;
        }
        Ok(())
    }

    /// `action=login` with a login token, the session kept in the cookie store.
    async fn login_now(&self, session: &mut Session) -> Result<(), ApiError> {
        let Credentials::BotPassword(login) = &self.inner.config.credentials else {
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
        session.logged_in = false;
        session.csrf = None;
        let body = Box::pin(self.read(
            session,
            &[
                param("action", "query"),
                param("meta", "tokens"),
                param("type", "login"),
            ],
            false,
        ))
        .await?;
        let tokens: Tokens = serde_json::from_slice(&body)
            .map_err(|e| self.unexpected(format!("no login token in the answer: {e}")))?;
        let body = Box::pin(self.read(
            session,
            &[
                param("action", "login"),
                param("lgname", login.user.clone()),
                param("lgpassword", login.password.clone()),
                param("lgtoken", tokens.query.tokens.logintoken),
            ],
            true,
        ))
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
            return Err(ApiError::Login {
                user: login.user.clone(),
                result: answer.login.result,
                reason,
            });
        }
        let user = answer
            .login
            .lgusername
            .unwrap_or_else(|| login.user.clone());
        tracing::info!(%user, api = %self.inner.url, "logged in");
        self.inner.stats.login();
        session.user = Some(user);
        session.logged_in = true;
        Ok(())
    }

    async fn fetch_token(&self, session: &mut Session) -> Result<String, ApiError> {
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
            csrftoken: String,
        }
        let body = self
            .read(
                session,
                &[
                    param("action", "query"),
                    param("meta", "tokens"),
                    param("type", "csrf"),
                ],
                false,
            )
            .await?;
        let tokens: Tokens = serde_json::from_slice(&body)
            .map_err(|e| self.unexpected(format!("no CSRF token in the answer: {e}")))?;
        let token = tokens.query.tokens.csrftoken;
        // `+\` is the token of anonymous users: the wiki does not see the login.
        if token == "+\\" {
            return Err(ApiError::Config(
                "the wiki gave the anonymous CSRF token: the credentials are not accepted".into(),
            ));
        }
        self.inner.stats.token();
        session.csrf = Some(token.clone());
        Ok(token)
    }

    /// Waits before another attempt, or gives up with `error` after the
    /// configured number of failures in a row.
    async fn wait_to_retry(
        &self,
        session: &mut Session,
        floor: Option<Duration>,
        error: ApiError,
    ) -> Result<(), ApiError> {
        let failures = session.backoff.failures();
        if self
            .inner
            .config
            .max_retries
            .is_some_and(|max| failures >= max)
        {
            tracing::error!(%error, failures, "giving up");
            return Err(error);
        }
        let delay = session.backoff.next_delay(floor);
        self.inner.stats.retry();
        tracing::warn!(%error, ?delay, attempt = failures + 1, "retrying");
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// A read (a GET, or the login POST), retried until it gives a body.
    async fn read(
        &self,
        session: &mut Session,
        params: &[(String, String)],
        post: bool,
    ) -> Result<Bytes, ApiError> {
        let mut relogged = false;
        loop {
            let request = self.request(session, params, post);
            match self.attempt(request, false).await {
                Attempt::Body(body) => {
                    session.backoff.reset();
                    return Ok(body);
                }
                Attempt::Fatal(error) | Attempt::BadToken(error) => return Err(error),
                Attempt::SessionLost(error) => {
                    if relogged || !self.has_bot_password() {
                        return Err(error);
                    }
                    tracing::warn!(%error, "session lost; logging in again");
                    relogged = true;
                    Box::pin(self.login_now(session)).await?;
                }
                Attempt::Retry { floor, error } | Attempt::RateLimited { floor, error } => {
                    self.wait_to_retry(session, floor, error).await?;
                }
                Attempt::Uncertain(message) => {
                    // Reads change nothing: just ask again.
                    let error = self.unexpected(message);
                    self.wait_to_retry(session, None, error).await?;
                }
            }
        }
    }

    fn request(
        &self,
        session: &Session,
        params: &[(String, String)],
        post: bool,
    ) -> reqwest::RequestBuilder {
        let mut all = params.to_vec();
        all.push(param("format", "json"));
        all.push(param("formatversion", "2"));
        if let Some(lag) = self.inner.config.maxlag {
            all.push(param("maxlag", lag.to_string()));
        }
        let oauth = match &self.inner.config.credentials {
            Credentials::OAuth2 { token } => Some(token),
            _ => None,
        };
        if session.logged_in || oauth.is_some() {
            // A lost session then shows as an error, not as an anonymous action.
            all.push(param("assert", "user"));
        }
        let http = &self.inner.http;
        let url = self.inner.url.clone();
        let request = if post {
            http.post(url).form(&all)
        } else {
            http.get(url).query(&all)
        };
        match oauth {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn attempt(&self, request: reqwest::RequestBuilder, write: bool) -> Attempt {
        self.inner.stats.request();
        let url = self.url_text();
        let response = match request.send().await {
            Ok(response) => response,
            // A connection that could not be opened carried nothing.
            Err(error) if !write || error.is_connect() => {
                return Attempt::Retry {
                    floor: None,
                    error: ApiError::Transport { url, source: error },
                };
            }
            Err(error) => return Attempt::Uncertain(error.to_string()),
        };
        let status = response.status();
        let floor = retry_after(response.headers());
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) if write => return Attempt::Uncertain(error.to_string()),
            Err(error) => {
                return Attempt::Retry {
                    floor,
                    error: ApiError::Transport { url, source: error },
                };
            }
        };
        if !status.is_success() {
            let error = ApiError::Http {
                url,
                status: status.as_u16(),
                message: snippet(&body),
            };
            return if status.as_u16() == 429 {
                Attempt::RateLimited { floor, error }
            } else if status.is_server_error() {
                if write {
                    Attempt::Uncertain(error.to_string())
                } else {
                    Attempt::Retry { floor, error }
                }
            } else {
                Attempt::Fatal(error)
            };
        }
        let probe: ErrorProbe = match serde_json::from_slice(&body) {
            Ok(probe) => probe,
            Err(e) => {
                let message = format!(
                    "not a JSON API answer ({e}): is this api.php? {}",
                    snippet(&body)
                );
                return if write {
                    Attempt::Uncertain(message)
                } else {
                    Attempt::Fatal(ApiError::Unexpected { url, message })
                };
            }
        };
        let Some(api_error) = probe.error else {
            return Attempt::Body(body);
        };
        let class = api_error.class();
        let internal = api_error.code.starts_with("internal_api_error_");
        let error = ApiError::Api {
            url,
            code: api_error.code,
            info: api_error.info,
        };
        match class {
            // maxlag comes with HTTP 200 and (usually) Retry-After.
            ErrorClass::Lag => {
                self.inner.stats.lagged();
                Attempt::Retry {
                    floor: Some(floor.unwrap_or(self.inner.config.lag_wait)),
                    error,
                }
            }
            ErrorClass::RateLimited => Attempt::RateLimited { floor, error },
            // An exception in the middle of a write may come after the change.
            ErrorClass::Transient if write && internal => Attempt::Uncertain(error.to_string()),
            ErrorClass::Transient => Attempt::Retry { floor, error },
            ErrorClass::SessionLost => Attempt::SessionLost(error),
            ErrorClass::BadToken => Attempt::BadToken(error),
            ErrorClass::Fatal => Attempt::Fatal(error),
        }
    }
}

fn refused(error: ApiError) -> WriteError {
    match error {
        ApiError::Api { code, info, .. } => WriteError::Refused { code, info },
        other => WriteError::NotSent(other),
    }
}

/// The start of a body, for error messages.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
