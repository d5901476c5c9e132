//! Polling of the MediaWiki Action API's `list=recentchanges`, for any MediaWiki
//! or Wikibase, with or without EventStreams.
//!
//! Rows map onto the same [`Edit`](editgroups_core::Edit) as EventStreams events,
//! so the same rules and stores give the same batches, and a store filled by this
//! poller can be followed by an EventStreams listener (edits are de-duplicated by
//! wiki and rc id).
//!
//! # No gaps, no duplicates
//! The cursor holds the newest (timestamp, rc id) seen. Each poll starts an
//! overlap earlier (default 60 s: rows that share the last second, rows committed
//! late) and drops the rc ids an earlier poll of the same stream yielded; after a
//! restart the overlap is read again and the store's de-duplication drops what it
//! has. A start older than the wiki's retention is reported as a gap (see
//! [`GapPolicy`]).
//!
//! # Etiquette
//! Requests go through the shared [`MediaWikiClient`]:
//! one request at a time, a required User-Agent, `maxlag=5` with `Retry-After`
//! honoured, exponential backoff with jitter on 5xx, timeouts and connection
//! errors, and an optional bot-password login for the higher limits of bots.
//! Polls come at an interval that grows while the wiki is idle.

mod api;
mod builder;
mod poller;
mod stats;

pub use api::map_page;
pub use builder::{BotPassword, DEFAULT_MAX_AGE, DEFAULT_OVERLAP, GapPolicy, RecentChangesBuilder};
pub use stats::{RecentChangesSnapshot, RecentChangesStats};

use crate::mediawiki::MediaWikiClient;
use builder::Config;
use editgroups_core::{Cursor, EditSource, SourceStream};
use std::sync::{Arc, OnceLock};

/// A source that polls a wiki's recent changes through api.php.
///
/// Built with [`RecentChangesSource::builder`]. Its cursor (kind
/// `recentchanges`, version 1) is the newest (timestamp, rc id) read.
#[derive(Debug)]
pub struct RecentChangesSource {
    name: String,
    config: Arc<Config>,
    client: MediaWikiClient,
    stats: Arc<RecentChangesStats>,
    /// The wiki id, once known (configured, or read from siteinfo once).
    wiki: Arc<OnceLock<String>>,
}

impl RecentChangesSource {
    /// Starts configuring a poller of the api.php at `api_url`
    /// (e.g. `https://www.wikidata.org/w/api.php`).
    pub fn builder(api_url: impl Into<String>) -> RecentChangesBuilder {
        RecentChangesBuilder::new(api_url)
    }

    pub(crate) fn from_parts(name: String, config: Config, client: MediaWikiClient) -> Self {
        let wiki = Arc::new(OnceLock::new());
        if let Some(id) = &config.wiki {
            let _ = wiki.set(id.clone());
        }
        Self {
            name,
            config: Arc::new(config),
            stats: Arc::new(RecentChangesStats::with_client(client.stats())),
            client,
            wiki,
        }
    }

    /// The live counters; keep the `Arc` to read them while the source runs.
    pub fn stats(&self) -> Arc<RecentChangesStats> {
        Arc::clone(&self.stats)
    }

    /// The wiki id, once configured or read from the wiki.
    pub fn wiki(&self) -> Option<&str> {
        self.wiki.get().map(String::as_str)
    }

    /// The api.php polled.
    pub fn api_url(&self) -> &str {
        self.client.api_url().as_str()
    }

    /// The API client the source polls through (to share it, e.g. with a
    /// revert worker: one request at a time among all of them).
    pub fn client(&self) -> &MediaWikiClient {
        &self.client
    }
}

impl EditSource for RecentChangesSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn stream(&mut self, from: Option<Cursor>) -> SourceStream {
        poller::stream(
            self.client.clone(),
            Arc::clone(&self.config),
            Arc::clone(&self.stats),
            Arc::clone(&self.wiki),
            from,
        )
    }
}
