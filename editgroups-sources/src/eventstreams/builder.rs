//! Configuration of an [`EventStreamsSource`].

use super::{EventStreamsSource, EventStreamsStats};
use crate::http::{BackoffConfig, check_user_agent};
use chrono::{DateTime, Utc};
use editgroups_core::SourceError;
use editgroups_core::recentchange::RecentChangeParser;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// Wikimedia's public recent-changes stream (every wiki).
pub const DEFAULT_URL: &str = "https://stream.wikimedia.org/v2/stream/recentchange";
/// No byte for this long means a dead connection (EventStreams' `recentchange`
/// carries hundreds of events a second, and canaries at least hourly).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest TCP and TLS connection set-up.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Events with more data than this are skipped (a recent-change event is a few
/// kilobytes).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// Configures an [`EventStreamsSource`]. A User-Agent is required: Wikimedia
/// blocks generic agents.
///
/// ```
/// use editgroups_sources::eventstreams::EventStreamsSource;
/// let source = EventStreamsSource::builder()
///     .user_agent("my-tool/1.0 (https://example.org; me@example.org)")
///     .wiki("wikidatawiki")
///     .build()
///     .unwrap();
/// assert_eq!(editgroups_core::EditSource::name(&source), "eventstreams:wikidatawiki");
/// assert!(EventStreamsSource::builder().build().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct EventStreamsBuilder {
    url: String,
    user_agent: Option<String>,
    wikis: BTreeSet<String>,
    since: Option<DateTime<Utc>>,
    idle_timeout: Duration,
    connect_timeout: Duration,
    backoff: BackoffConfig,
    max_event_bytes: usize,
}

impl Default for EventStreamsBuilder {
    fn default() -> Self {
        Self {
            url: DEFAULT_URL.to_owned(),
            user_agent: None,
            wikis: BTreeSet::new(),
            since: None,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            backoff: BackoffConfig::default(),
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

impl EventStreamsBuilder {
    /// The stream URL (default [`DEFAULT_URL`]).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// The User-Agent (required), e.g. `my-tool/1.0 (https://example.org; me@example.org)`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Keeps this wiki's events (e.g. `wikidatawiki`); call again for more. With
    /// none, every wiki is kept. Other wikis' events are yielded as
    /// [`SkipReason::OtherWiki`](editgroups_core::SkipReason::OtherWiki), so the
    /// position advances.
    pub fn wiki(mut self, wiki: impl Into<String>) -> Self {
        self.wikis.insert(wiki.into());
        self
    }

    /// Keeps these wikis' events, as [`EventStreamsBuilder::wiki`] for each.
    pub fn wikis<I, S>(mut self, wikis: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.wikis.extend(wikis.into_iter().map(Into::into));
        self
    }

    /// Where a first start (no cursor) begins in the stream's history (kept 7 to
    /// 31 days); without it, a first start begins now. Ignored when resuming
    /// from a cursor.
    pub fn since(mut self, since: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self
    }

    /// Reconnects when no byte arrives for this long (default 60 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The longest connection set-up (default 15 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The delays between reconnection attempts.
    pub fn backoff(mut self, backoff: BackoffConfig) -> Self {
        self.backoff = backoff;
        self
    }

    /// Skips events with more data than this (default [`DEFAULT_MAX_EVENT_BYTES`]).
    pub fn max_event_bytes(mut self, max: usize) -> Self {
        self.max_event_bytes = max;
        self
    }

    /// Checks the configuration and builds the source.
    pub fn build(self) -> Result<EventStreamsSource, SourceError> {
        let user_agent = check_user_agent(self.user_agent.as_deref())?;
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| SourceError::Config(format!("stream URL {:?}: {e}", self.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SourceError::Config(format!(
                "stream URL {:?}: expected http or https",
                self.url
            )));
        }
        if self.idle_timeout.is_zero() {
            return Err(SourceError::Config(
                "the idle timeout must not be zero".into(),
            ));
        }
        if self.max_event_bytes == 0 {
            return Err(SourceError::Config(
                "the maximum event size must not be zero".into(),
            ));
        }
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| SourceError::Config(format!("cannot set up the HTTP client: {e}")))?;
        let name = if self.wikis.is_empty() {
            "eventstreams:all".to_owned()
        } else {
            format!(
                "eventstreams:{}",
                self.wikis.iter().cloned().collect::<Vec<_>>().join(",")
            )
        };
        Ok(EventStreamsSource {
            name,
            url,
            client,
            parser: RecentChangeParser::new().with_wikis(self.wikis),
            since: self.since,
            idle_timeout: self.idle_timeout,
            backoff: self.backoff,
            max_event_bytes: self.max_event_bytes,
            stats: Arc::new(EventStreamsStats::default()),
        })
    }
}
