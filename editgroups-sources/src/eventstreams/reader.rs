//! The connection loop: connect, read, parse, and reconnect from the last id
//! whenever the connection ends, until something retrying cannot fix happens.

use super::error::{Refusal, refusal};
use super::sse::{SseFrame, SseParser};
use super::{CURSOR_KIND, CURSOR_VERSION, EventStreamsSource, EventStreamsStats};
use crate::http::Backoff;
use bytes::Bytes;
use editgroups_core::recentchange::{EventError, ParsedEvent, RecentChangeParser};
use editgroups_core::{Cursor, SkipReason, SourceError, SourceItem};
use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// The header EventStreams resumes from.
const LAST_EVENT_ID: &str = "Last-Event-ID";
/// The most characters of an `error` event's data logged.
const MAX_LOGGED_ERROR_CHARS: usize = 1000;

/// The longest wait a `retry:` field can impose.
const MAX_RETRY_FIELD: Duration = Duration::from_secs(3600);

type Body = BoxStream<'static, reqwest::Result<Bytes>>;

/// The state of one [`EditSource::stream`](editgroups_core::EditSource::stream).
pub(super) struct Reader {
    url: reqwest::Url,
    client: reqwest::Client,
    parser: RecentChangeParser,
    /// The `since` parameter of a first connection, already formatted.
    since: Option<String>,
    idle_timeout: Duration,
    stats: Arc<EventStreamsStats>,
    backoff: Backoff,
    /// The last event id seen: the position to resume from.
    last_id: Option<String>,
    sse: SseParser,
    body: Option<Body>,
    frames: Vec<SseFrame>,
    ready: VecDeque<Result<SourceItem, SourceError>>,
    /// The wait before the next connection attempt.
    wait: Option<Duration>,
    /// Whether the current connection has delivered an event.
    delivered: bool,
    done: bool,
}

impl Reader {
    /// A reader of `source`'s stream, resuming after `last_id`.
    pub(super) fn new(source: &EventStreamsSource, last_id: Option<String>) -> Self {
        Self {
            url: source.url.clone(),
            client: source.client.clone(),
            parser: source.parser.clone(),
            since: source
                .since
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            idle_timeout: source.idle_timeout,
            stats: Arc::clone(&source.stats),
            backoff: Backoff::new(source.backoff.clone()),
            last_id,
            sse: SseParser::new(source.max_event_bytes),
            body: None,
            frames: Vec::new(),
            ready: VecDeque::new(),
            wait: None,
            delivered: false,
            done: false,
        }
    }

    /// The next item, or `None` after an error ended the stream.
    pub(super) async fn next(&mut self) -> Option<Result<SourceItem, SourceError>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            let Some(body) = self.body.as_mut() else {
                self.connect().await;
                continue;
            };
            match tokio::time::timeout(self.idle_timeout, body.next()).await {
                Ok(Some(Ok(bytes))) => self.read(&bytes),
                Ok(Some(Err(e))) => self.disconnected(format!("connection lost: {e}")),
                Ok(None) => self.disconnected("the server closed the stream".into()),
                Err(_) => {
                    self.stats.idle_timeout();
                    let reason = format!("no data for {:?}", self.idle_timeout);
                    self.disconnected(reason);
                }
            }
        }
    }

    /// The next request, and its URL for messages.
    fn request(&self) -> (String, reqwest::RequestBuilder) {
        let mut url = self.url.clone();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        // Never an empty Last-Event-ID: EventStreams answers it with 400.
        match self.last_id.as_deref().map(HeaderValue::from_str) {
            Some(Ok(id)) => {
                headers.insert(LAST_EVENT_ID, id);
            }
            Some(Err(_)) | None => {
                if let Some(since) = &self.since {
                    url.query_pairs_mut().append_pair("since", since);
                }
            }
        }
        (url.to_string(), self.client.get(url).headers(headers))
    }

    async fn connect(&mut self) {
        if let Some(wait) = self.wait.take() {
            tokio::time::sleep(wait).await;
        }
        let (url, request) = self.request();
        let response = match tokio::time::timeout(self.idle_timeout, request.send()).await {
            Err(_) => {
                let reason = format!("no response within {:?}", self.idle_timeout);
                return self.retry(reason, None);
            }
            Ok(Err(e)) => return self.retry(format!("cannot connect: {e}"), None),
            Ok(Ok(response)) => response,
        };
        if response.status() != reqwest::StatusCode::OK {
            match refusal(&url, response, self.idle_timeout).await {
                Refusal::Retry { reason, floor } => self.retry(reason, floor),
                Refusal::Fatal(error) => self.fail(error),
            }
            return;
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type.starts_with("text/event-stream") {
            let message = format!("expected an event stream, got content type {content_type:?}");
            return self.fail(SourceError::Http {
                url,
                status: 200,
                message,
            });
        }
        self.stats.connected();
        tracing::info!(
            url = %self.url,
            last_event_id = self.last_id.as_deref().unwrap_or(""),
            "connected to EventStreams"
        );
        self.sse.reset();
        self.delivered = false;
        self.body = Some(response.bytes_stream().boxed());
    }

    fn fail(&mut self, error: SourceError) {
        tracing::error!(%error, "EventStreams refused the connection");
        self.done = true;
        self.ready.push_back(Err(error));
    }

    /// Schedules the next connection attempt.
    fn retry(&mut self, reason: String, floor: Option<Duration>) {
        // A `retry:` from the server is a floor too, within reason.
        let asked = self.sse.retry().map(|r| r.min(MAX_RETRY_FIELD));
        let floor = floor.max(asked);
        let delay = self.backoff.next_delay(floor);
        self.stats.reconnecting();
        let failures = self.backoff.failures();
        if failures <= 1 && self.delivered {
            tracing::info!(%reason, ?delay, "reconnecting to EventStreams");
        } else {
            tracing::warn!(%reason, ?delay, failures, "reconnecting to EventStreams");
        }
        self.wait = Some(delay);
    }

    /// Handles the end of a connection that had a stream.
    fn disconnected(&mut self, reason: String) {
        self.body = None;
        // An unfinished event is dropped: its id must not become the position.
        self.sse.reset();
        if self.delivered {
            // A connection that worked: the next attempt starts from the shortest
            // delay (EventStreams closes every stream after about 15 minutes).
            self.backoff.reset();
        }
        self.retry(reason, None);
        self.delivered = false;
    }

    fn read(&mut self, bytes: &[u8]) {
        self.stats.read(bytes.len());
        let mut frames = std::mem::take(&mut self.frames);
        self.sse.feed(bytes, &mut frames);
        for frame in frames.drain(..) {
            self.frame(frame);
        }
        self.frames = frames;
    }

    fn frame(&mut self, frame: SseFrame) {
        match frame {
            SseFrame::Event(event) => {
                self.note_id(&event.id);
                match event.event_type() {
                    "message" => {
                        self.stats.event();
                        self.delivered = true;
                        let item = self.item(&event.data, &event.id);
                        self.ready.push_back(Ok(item));
                    }
                    "error" => {
                        self.stats.error_event();
                        let message: String =
                            event.data.chars().take(MAX_LOGGED_ERROR_CHARS).collect();
                        tracing::warn!(%message, "EventStreams sent an error event");
                    }
                    other => tracing::debug!(event = other, "ignored an event of another type"),
                }
            }
            SseFrame::Oversized { bytes, id } => {
                self.note_id(&id);
                self.stats.oversized_event();
                let detail = format!(
                    "event {}: {bytes} bytes or more, larger than the maximum {}",
                    position(&id),
                    self.sse.max_event_bytes()
                );
                tracing::warn!("skipped {detail}");
                self.ready.push_back(Ok(SourceItem::Skipped {
                    reason: SkipReason::Oversized,
                    detail,
                    cursor: self.cursor(),
                }));
            }
        }
    }

    /// Remembers the position of the latest event, if it can be sent back.
    fn note_id(&mut self, id: &str) {
        if id.is_empty() || self.last_id.as_deref() == Some(id) {
            return;
        }
        if is_header_value(id) {
            self.last_id = Some(id.to_owned());
        } else {
            tracing::warn!(
                id,
                "ignored an event id that cannot be sent back as a header"
            );
        }
    }

    fn cursor(&self) -> Cursor {
        Cursor::new(
            CURSOR_KIND,
            CURSOR_VERSION,
            self.last_id.clone().unwrap_or_default(),
        )
    }

    fn item(&self, data: &str, id: &str) -> SourceItem {
        let cursor = self.cursor();
        let skipped = |reason, detail: String| SourceItem::Skipped {
            reason,
            detail,
            cursor: cursor.clone(),
        };
        match self.parser.parse(data) {
            Ok(ParsedEvent::Edit(edit)) => SourceItem::Edit {
                edit,
                cursor: cursor.clone(),
            },
            Ok(ParsedEvent::Canary) => skipped(SkipReason::Canary, "canary event".into()),
            Ok(ParsedEvent::OtherWiki) => skipped(SkipReason::OtherWiki, "other wiki".into()),
            Ok(_) => skipped(
                SkipReason::Incomplete,
                format!("event {}: unknown event", position(id)),
            ),
            Err(EventError::Malformed(e)) => skipped(
                SkipReason::Malformed,
                format!("event {}: {e}", position(id)),
            ),
            Err(e) => skipped(
                SkipReason::Incomplete,
                format!("event {}: {e}", position(id)),
            ),
        }
    }
}

/// Whether `text` can be sent as a header value (what `HeaderValue::from_str`
/// accepts, without its copy: this runs for every event).
fn is_header_value(text: &str) -> bool {
    text.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

fn position(id: &str) -> &str {
    if id.is_empty() { "without id" } else { id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_checked_like_reqwest_does() {
        for text in [
            "[{\"a\":1}]",
            "tab\there",
            "caf\u{e9}",
            "",
            "a\nb",
            "a\rb",
            "a\u{7f}",
            "\u{1}",
        ] {
            assert_eq!(
                is_header_value(text),
                HeaderValue::from_str(text).is_ok(),
                "{text:?}"
            );
        }
    }
}
