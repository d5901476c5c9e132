//! Wikimedia EventStreams: the `recentchange` stream of every Wikimedia wiki, as
//! server-sent events, resumable across disconnects.
//!
//! [`EventStreamsSource`] reads the stream with its own SSE parser
//! ([`sse::SseParser`]), keeps the events of the wikis it follows, and yields
//! every other event (canaries, other wikis, malformed or oversized events) as a
//! [`SourceItem::Skipped`](editgroups_core::SourceItem::Skipped) so the position
//! always advances.
//!
//! # Resuming
//! The cursor is the last SSE `id:` seen, kept verbatim: a JSON array of Kafka
//! topic, partition and timestamp (or offset) entries. Every (re)connection sends
//! it as `Last-Event-ID`, never an empty one (EventStreams answers an empty one
//! with 400). A first start without a cursor asks for `?since=<time>` when
//! [`EventStreamsBuilder::since`] was given, else starts now. Resuming by
//! timestamp may deliver a few events again; stores de-duplicate them.
//!
//! # Reconnecting
//! The source reconnects, forever, with exponential backoff and jitter
//! ([`BackoffConfig`]): when the server closes the
//! stream (EventStreams does so about every 15 minutes), when the connection
//! breaks, when no byte arrives for the idle timeout, on 5xx and on 429 (after at
//! least its `Retry-After`). A connection that delivered events resets the
//! backoff, so routine closes reconnect promptly. It stops with a
//! [`SourceError::Http`] on what retrying cannot fix: 400 (a bad id or `since`,
//! an unknown stream; the server's message is in the error), 403 (an agent
//! blocked), 404, and the other 4xx. Every reconnection is logged with its reason
//! and counted in [`EventStreamsStats`].

mod builder;
mod error;
mod reader;
pub mod sse;
mod stats;

pub use builder::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_EVENT_BYTES, DEFAULT_URL,
    EventStreamsBuilder,
};
pub use stats::{EventStreamsStats, EventStreamsStatsSnapshot};

use crate::http::BackoffConfig;
use chrono::{DateTime, Utc};
use editgroups_core::recentchange::RecentChangeParser;
use editgroups_core::{Cursor, EditSource, SourceError, SourceStream};
use reader::Reader;
use std::sync::Arc;
use std::time::Duration;

/// The kind of this source's cursors.
pub const CURSOR_KIND: &str = "eventstreams";
/// The version of this source's cursor format: the position is the SSE id, verbatim.
pub const CURSOR_VERSION: u32 = 1;

/// Wikimedia EventStreams' recent changes, filtered by wiki. See the
/// [module docs](self) for how it resumes and reconnects.
///
/// Its [name](EditSource::name) is `eventstreams:<wikis>` (the wikis sorted and
/// joined by commas), or `eventstreams:all`.
#[derive(Debug, Clone)]
pub struct EventStreamsSource {
    name: String,
    url: reqwest::Url,
    client: reqwest::Client,
    parser: RecentChangeParser,
    since: Option<DateTime<Utc>>,
    idle_timeout: Duration,
    backoff: BackoffConfig,
    max_event_bytes: usize,
    stats: Arc<EventStreamsStats>,
}

impl EventStreamsSource {
    /// Starts configuring a source.
    pub fn builder() -> EventStreamsBuilder {
        EventStreamsBuilder::default()
    }

    /// The live counters (connections, reconnects, bytes, events); keep the `Arc`
    /// to read them while the source runs.
    pub fn stats(&self) -> Arc<EventStreamsStats> {
        Arc::clone(&self.stats)
    }

    /// The stream URL.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }
}

/// The `Last-Event-ID` a cursor holds; `None` for a cursor made before any id
/// was seen.
fn decode_cursor(cursor: &Cursor) -> Result<Option<String>, SourceError> {
    let position = cursor.position_for(CURSOR_KIND, CURSOR_VERSION)?;
    if position.is_empty() {
        return Ok(None);
    }
    if reqwest::header::HeaderValue::from_str(position).is_err() {
        return Err(SourceError::CorruptCursor {
            kind: CURSOR_KIND,
            position: position.to_owned(),
            message: "not a valid Last-Event-ID header value".into(),
        });
    }
    Ok(Some(position.to_owned()))
}

impl EditSource for EventStreamsSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn stream(&mut self, from: Option<Cursor>) -> SourceStream {
        let last_id = match from.as_ref().map(decode_cursor).transpose() {
            Ok(id) => id.flatten(),
            Err(e) => return Box::pin(futures::stream::once(async { Err(e) })),
        };
        let reader = Reader::new(self, last_id);
        Box::pin(futures::stream::unfold(reader, |mut reader| async move {
            reader.next().await.map(|item| (item, reader))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_checked_before_connecting() {
        let id =
            r#"[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1532031066001}]"#;
        let cursor = Cursor::new(CURSOR_KIND, CURSOR_VERSION, id);
        assert_eq!(decode_cursor(&cursor).unwrap().as_deref(), Some(id));
        let none = Cursor::new(CURSOR_KIND, CURSOR_VERSION, "");
        assert_eq!(decode_cursor(&none).unwrap(), None);
        let bad = Cursor::new(CURSOR_KIND, CURSOR_VERSION, "a\nb");
        assert!(matches!(
            decode_cursor(&bad),
            Err(SourceError::CorruptCursor { .. })
        ));
        let other = Cursor::new("replay", 1, "{}");
        assert!(matches!(decode_cursor(&other), Err(SourceError::Cursor(_))));
    }

    #[test]
    fn the_name_lists_the_wikis_sorted() {
        let build = |wikis: &[&str]| {
            EventStreamsSource::builder()
                .user_agent("test/1 (test@example.org)")
                .wikis(wikis.iter().copied())
                .build()
                .unwrap()
        };
        assert_eq!(
            build(&["wikidatawiki", "commonswiki"]).name(),
            "eventstreams:commonswiki,wikidatawiki"
        );
        assert_eq!(build(&[]).name(), "eventstreams:all");
    }

    #[test]
    fn the_builder_refuses_what_cannot_work() {
        let ok = || EventStreamsSource::builder().user_agent("test/1 (test@example.org)");
        let err = EventStreamsSource::builder().build().unwrap_err();
        assert!(err.to_string().contains("User-Agent"), "{err}");
        assert!(ok().url("not a url").build().is_err());
        assert!(ok().url("ftp://example.org/").build().is_err());
        assert!(ok().idle_timeout(Duration::ZERO).build().is_err());
        assert!(ok().max_event_bytes(0).build().is_err());
        assert_eq!(ok().build().unwrap().url(), DEFAULT_URL);
    }
}
