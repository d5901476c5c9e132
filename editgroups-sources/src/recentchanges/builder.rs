//! Configuration of a [`RecentChangesSource`].

use super::RecentChangesSource;
use crate::http::BackoffConfig;
use crate::mediawiki::{MediaWikiClient, MediaWikiClientBuilder};
use editgroups_core::pipeline::DEFAULT_WATCHED_NAMESPACES;
use editgroups_core::{SourceError, Timestamp};
use std::collections::BTreeSet;
use std::time::Duration;

pub use crate::mediawiki::BotPassword;

/// What the source does when the wiki no longer keeps part of the history it was
/// asked for (the cursor or `since` is older than the wiki's retention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum GapPolicy {
    /// End the stream with [`SourceError::Gap`] naming the missing range: nothing
    /// is skipped unless an operator says so. The stored cursor stays before the
    /// gap.
    #[default]
    Fail,
    /// Log the missing range, count it in [`RecentChangesStats`](super::RecentChangesStats),
    /// and go on from the oldest change the wiki still has.
    Continue,
}

/// Everything the poller needs, fixed when the source is built.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) wiki: Option<String>,
    pub(crate) namespaces: BTreeSet<i64>,
    pub(crate) overlap: Duration,
    pub(crate) max_age: Duration,
    pub(crate) gap_policy: GapPolicy,
    pub(crate) min_interval: Duration,
    pub(crate) max_interval: Duration,
    pub(crate) since: Option<Timestamp>,
    pub(crate) once: bool,
    pub(crate) page_size: Option<u32>,
}

/// Builds a [`RecentChangesSource`].
///
/// ```no_run
/// use editgroups_sources::recentchanges::RecentChangesSource;
/// use std::time::Duration;
/// let source = RecentChangesSource::builder("https://wiki.example.org/w/api.php")
///     .user_agent("my-tool/1.0 (https://example.org; me@example.org)")
///     .wiki("examplewiki")
///     .interval(Duration::from_secs(5), Duration::from_secs(60))
///     .build()?;
/// # Ok::<(), editgroups_core::SourceError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RecentChangesBuilder {
    api_url: String,
    name: Option<String>,
    /// The API client being configured, unless one was given.
    client: MediaWikiClientBuilder,
    shared: Option<MediaWikiClient>,
    config: Config,
}

/// The default overlap: how far before the newest change seen each poll starts.
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(60);
/// The default retention assumed for recent changes: MediaWiki's `$wgRCMaxAge`
/// default, 90 days (Wikimedia wikis keep 30).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(90 * 86_400);

impl RecentChangesBuilder {
    pub(crate) fn new(api_url: impl Into<String>) -> Self {
        let api_url = api_url.into();
        Self {
            client: MediaWikiClient::builder(api_url.clone()),
            api_url,
            name: None,
            shared: None,
            config: Config {
                wiki: None,
                namespaces: DEFAULT_WATCHED_NAMESPACES.into_iter().collect(),
                overlap: DEFAULT_OVERLAP,
                max_age: DEFAULT_MAX_AGE,
                gap_policy: GapPolicy::Fail,
                min_interval: Duration::from_secs(5),
                max_interval: Duration::from_secs(60),
                since: None,
                once: false,
                page_size: None,
            },
        }
    }

    /// The wiki id the edits are filed under (`wikidatawiki`); when not given it
    /// is read once from `meta=siteinfo` (`wikiid`). It must match the id other
    /// sources (EventStreams) use for the same wiki, so that their edits
    /// de-duplicate.
    pub fn wiki(mut self, wiki: impl Into<String>) -> Self {
        self.config.wiki = Some(wiki.into());
        self
    }

    /// The User-Agent sent with every request (required): `tool/version (contact)`.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.client = self.client.user_agent(agent);
        self
    }

    /// Polls through this API client, shared with other parts of the host (a
    /// revert worker, an inspector): one request at a time among all of them.
    /// The client's own configuration (User-Agent, login, `maxlag`, backoff,
    /// timeouts) then replaces what this builder says of them.
    pub fn client(mut self, client: MediaWikiClient) -> Self {
        self.shared = Some(client);
        self
    }

    /// The name the store keeps the cursor under (default `recentchanges:<api url>`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The namespaces asked for (`rcnamespace`); default the pipeline's
    /// [`DEFAULT_WATCHED_NAMESPACES`].
    pub fn namespaces(mut self, namespaces: impl IntoIterator<Item = i64>) -> Self {
        self.config.namespaces = namespaces.into_iter().collect();
        self
    }

    /// How far before the newest change seen each poll starts (default 60 s), to
    /// catch rows that share its second or were committed late. Rows seen before
    /// are dropped.
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.config.overlap = overlap;
        self
    }

    /// How long the wiki keeps recent changes (`$wgRCMaxAge`, default 90 days).
    /// A start older than this, with the wiki's oldest row newer than it, is a gap.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.config.max_age = max_age;
        self
    }

    /// What to do about a gap (default [`GapPolicy::Fail`]).
    pub fn gap_policy(mut self, policy: GapPolicy) -> Self {
        self.config.gap_policy = policy;
        self
    }

    /// The pause between polls once caught up: `min` after a poll that found
    /// changes, doubling while idle up to `max` (defaults 5 s and 60 s). While the
    /// API says there is more (`continue`), the next page is asked for at once.
    pub fn interval(mut self, min: Duration, max: Duration) -> Self {
        // At least a tenth of a second (no busy loop against the wiki), at most a
        // day (no overflow when added to the clock).
        let min = min.clamp(Duration::from_millis(100), Duration::from_secs(86_400));
        self.config.min_interval = min;
        self.config.max_interval = max.clamp(min, Duration::from_secs(86_400));
        self
    }

    /// The `maxlag` parameter in seconds (default 5; `None` leaves it out).
    pub fn maxlag(mut self, maxlag: Option<u32>) -> Self {
        self.client = self.client.maxlag(maxlag);
        self
    }

    /// The least wait after a `maxlag` error that came without `Retry-After`
    /// (default 5 s).
    pub fn lag_wait(mut self, wait: Duration) -> Self {
        self.client = self.client.lag_wait(wait);
        self
    }

    /// The backoff after failed requests (5xx, timeouts, connection errors).
    pub fn backoff(mut self, backoff: BackoffConfig) -> Self {
        self.client = self.client.backoff(backoff);
        self
    }

    /// Failed attempts in a row after which the source gives up with the last
    /// error (default: never give up).
    pub fn max_retries(mut self, retries: Option<u32>) -> Self {
        self.client = self.client.max_retries(retries);
        self
    }

    /// How long one request may take, body included (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.client = self.client.request_timeout(timeout);
        self
    }

    /// How long connecting may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.client = self.client.connect_timeout(timeout);
        self
    }

    /// Where to start when the store has no cursor (default: now). A backfill
    /// from `since` runs at full speed until caught up.
    pub fn since(mut self, since: Timestamp) -> Self {
        self.config.since = Some(since);
        self
    }

    /// Ends the stream once caught up (for cron), instead of polling on.
    pub fn once(mut self, once: bool) -> Self {
        self.config.once = once;
        self
    }

    /// Logs in with a bot password before polling; the session cookie is kept.
    pub fn bot_password(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.client = self.client.bot_password(user, password);
        self
    }

    /// Rows per request (`rclimit`; default `max`: 500, or 5000 for bots).
    pub fn page_size(mut self, rows: u32) -> Self {
        self.config.page_size = Some(rows.max(1));
        self
    }

    /// Checks the configuration and builds the source.
    pub fn build(self) -> Result<RecentChangesSource, SourceError> {
        let client = match self.shared {
            Some(client) => {
                if reqwest::Url::parse(&self.api_url).ok().as_ref() != Some(client.api_url()) {
                    return Err(SourceError::Config(format!(
                        "the shared API client talks to {}, not to {}",
                        client.api_url(),
                        self.api_url
                    )));
                }
                client
            }
            None => self.client.build()?,
        };
        if self.config.namespaces.is_empty() {
            return Err(SourceError::Config("no namespace to poll".into()));
        }
        if self.config.wiki.as_deref().is_some_and(str::is_empty) {
            return Err(SourceError::Config("the wiki id is empty".into()));
        }
        let name = self
            .name
            .unwrap_or_else(|| format!("{}:{}", super::api::CURSOR_KIND, client.api_url()));
        Ok(RecentChangesSource::from_parts(name, self.config, client))
    }
}
