//! The polling loop: catch-ups that follow `continue` to the end, the overlap and
//! the set of rc ids already yielded, the gap check, the adaptive interval.

use super::api::{RcResponse, RowError, decode_cursor, encode_cursor, format_timestamp};
use super::builder::{Config, GapPolicy};
use super::stats::RecentChangesStats;
use crate::mediawiki::MediaWikiClient;
use chrono::{DateTime, Utc};
use editgroups_core::{
    Cursor, EventPosition, SkipReason, SourceError, SourceItem, SourceStream, Timestamp,
};
use serde_json::{Map, Value};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// The most rc ids remembered; past it the oldest are forgotten (the store's
/// de-duplication still drops a row yielded twice).
const MAX_SEEN: usize = 2_000_000;

/// The rc ids yielded recently, with their times, oldest first.
#[derive(Debug, Default)]
struct Seen {
    ids: HashSet<u64>,
    order: VecDeque<(i64, u64)>,
}

impl Seen {
    /// Remembers an rc id; false when it was already there.
    fn insert(&mut self, position: EventPosition) -> bool {
        if !self.ids.insert(position.rcid) {
            return false;
        }
        self.order
            .push_back((position.timestamp.timestamp(), position.rcid));
        if self.order.len() > MAX_SEEN
            && let Some((_, rcid)) = self.order.pop_front()
        {
            self.ids.remove(&rcid);
        }
        true
    }

    /// Forgets rc ids older than `before`: no later poll asks for them again.
    fn prune(&mut self, before: i64) {
        while let Some(&(time, rcid)) = self.order.front() {
            if time >= before {
                break;
            }
            self.order.pop_front();
            self.ids.remove(&rcid);
        }
    }
}

/// Query parameters.
type Params = Vec<(String, String)>;

struct Poller {
    client: MediaWikiClient,
    config: Arc<Config>,
    stats: Arc<RecentChangesStats>,
    wiki_cell: Arc<OnceLock<String>>,
    wiki: String,
    started: bool,
    done: bool,
    /// Where the first catch-up starts when there is no cursor.
    first_start: Timestamp,
    /// The start to check for a gap: the cursor's or `since`.
    gap_reference: Option<Timestamp>,
    /// The newest change read: the cursor.
    newest: Option<EventPosition>,
    /// `rcstart` of the catch-up in progress.
    catch_up_start: Option<String>,
    /// The `continue` object of the last page, while a catch-up is in progress.
    continuation: Option<Map<String, Value>>,
    /// Rows yielded in the catch-up in progress.
    new_in_catch_up: u64,
    seen: Seen,
    interval: Duration,
    next_poll: Option<Instant>,
    warned: bool,
    ready: VecDeque<Result<SourceItem, SourceError>>,
}

/// The stream of a poller starting just after `from`.
pub(crate) fn stream(
    client: MediaWikiClient,
    config: Arc<Config>,
    stats: Arc<RecentChangesStats>,
    wiki_cell: Arc<OnceLock<String>>,
    from: Option<Cursor>,
) -> SourceStream {
    let start = match from.as_ref().map(decode_cursor).transpose() {
        Ok(start) => start,
        Err(e) => return Box::pin(futures::stream::once(async { Err(e) })),
    };
    let overlap = chrono::Duration::from_std(config.overlap).unwrap_or(chrono::Duration::MAX);
    let (first_start, gap_reference) = match (start, config.since) {
        (Some(position), _) => (
            position
                .timestamp
                .checked_sub_signed(overlap)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            Some(position.timestamp),
        ),
        (None, Some(since)) => (since, Some(since)),
        (None, None) => (Utc::now(), None),
    };
    let poller = Poller {
        client,
        interval: config.min_interval,
        config,
        stats,
        wiki_cell,
        wiki: String::new(),
        started: false,
        done: false,
        first_start,
        gap_reference,
        newest: start,
        catch_up_start: None,
        continuation: None,
        new_in_catch_up: 0,
        seen: Seen::default(),
        next_poll: None,
        warned: false,
        ready: VecDeque::new(),
    };
    Box::pin(futures::stream::unfold(poller, |mut poller| async move {
        poller.next().await.map(|item| (item, poller))
    }))
}

fn param(key: &str, value: impl Into<String>) -> (String, String) {
    (key.to_owned(), value.into())
}

impl Poller {
    async fn next(&mut self) -> Option<Result<SourceItem, SourceError>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            let step = if self.started {
                self.poll().await
            } else {
                self.start().await
            };
            if let Err(error) = step {
                self.done = true;
                return Some(Err(error));
            }
        }
    }

    async fn start(&mut self) -> Result<(), SourceError> {
        self.client.login().await?;
        self.wiki = match self.wiki_cell.get() {
            Some(wiki) => wiki.clone(),
            None => {
                let wiki = self.client.wiki_id().await?;
                tracing::info!(%wiki, api = %self.client.api_url(), "wiki id from siteinfo");
                let _ = self.wiki_cell.set(wiki.clone());
                wiki
            }
        };
        self.check_gap().await?;
        self.started = true;
        Ok(())
    }

    /// A gap: the start is older than the wiki's retention, and the oldest row the
    /// wiki still has is newer than the start by more than the overlap (or there
    /// is none). Purging removes the oldest rows first, so an older row still
    /// there proves nothing after it was purged.
    async fn check_gap(&mut self) -> Result<(), SourceError> {
        let Some(reference) = self.gap_reference else {
            return Ok(());
        };
        let now = Utc::now();
        let max_age =
            chrono::Duration::from_std(self.config.max_age).unwrap_or(chrono::Duration::MAX);
        let kept_from = now
            .checked_sub_signed(max_age)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        if reference >= kept_from {
            return Ok(());
        }
        let body = self
            .client
            .get(&[
                ("action", "query"),
                ("list", "recentchanges"),
                ("rcdir", "newer"),
                ("rcprop", "timestamp|ids"),
                ("rclimit", "1"),
            ])
            .await?;
        let response: RcResponse<'_> = serde_json::from_slice(&body)
            .map_err(|e| self.unexpected(format!("unexpected answer: {e}")))?;
        let oldest = response
            .query
            .and_then(|q| q.recentchanges.first().and_then(|row| row.position().ok()));
        let overlap =
            chrono::Duration::from_std(self.config.overlap).unwrap_or(chrono::Duration::MAX);
        let until = match oldest {
            Some(oldest)
                if oldest.timestamp
                    <= reference
                        .checked_add_signed(overlap)
                        .unwrap_or(DateTime::<Utc>::MAX_UTC) =>
            {
                return Ok(());
            }
            Some(oldest) => format!("{} (the oldest change it still has)", oldest.timestamp),
            None => format!("{kept_from} (it has no recent changes at all)"),
        };
        let message = format!(
            "{} keeps recent changes for about {} days: changes from {reference} to {until} were not read",
            self.client.api_url(),
            self.config.max_age.as_secs() / 86_400
        );
        match self.config.gap_policy {
            GapPolicy::Fail => Err(SourceError::Gap { message }),
            GapPolicy::Continue => {
                tracing::warn!("gap in the history, going on as configured: {message}");
                self.stats.gap(message);
                Ok(())
            }
        }
    }

    /// Reads one page, following the catch-up in progress or starting one.
    async fn poll(&mut self) -> Result<(), SourceError> {
        if let Some(at) = self.next_poll.take() {
            tokio::time::sleep_until(at).await;
        }
        let rcstart = match &self.catch_up_start {
            Some(start) => start.clone(),
            None => {
                let overlap = chrono::Duration::from_std(self.config.overlap)
                    .unwrap_or(chrono::Duration::MAX);
                let start = match self.newest {
                    Some(newest) => newest
                        .timestamp
                        .checked_sub_signed(overlap)
                        .unwrap_or(DateTime::<Utc>::MIN_UTC),
                    None => self.first_start,
                };
                let start = format_timestamp(start);
                self.catch_up_start = Some(start.clone());
                self.new_in_catch_up = 0;
                start
            }
        };
        let body = self.client.get(&self.page_params(rcstart)).await?;
        let response: RcResponse<'_> = serde_json::from_slice(&body)
            .map_err(|e| self.unexpected(format!("not a recentchanges answer: {e}")))?;
        if let Some(warnings) = &response.warnings
            && !self.warned
        {
            self.warned = true;
            tracing::warn!(%warnings, "the API warns");
        }
        let rows = response.query.map(|q| q.recentchanges).unwrap_or_default();
        self.stats.page(rows.len());
        for row in &rows {
            let item = match row.position() {
                Ok(position) => {
                    if !self.seen.insert(position) {
                        self.stats.overlap_dropped();
                        continue;
                    }
                    self.new_in_catch_up += 1;
                    let newest = self.newest.map_or(position, |n| n.max(position));
                    self.newest = Some(newest);
                    let cursor = encode_cursor(newest);
                    match row.to_edit(&self.wiki) {
                        Ok(edit) => SourceItem::Edit {
                            edit: Box::new(edit),
                            cursor,
                        },
                        Err(error) => self.skipped(row.rcid, &error, cursor),
                    }
                }
                Err(error) => {
                    let cursor = self.cursor();
                    self.skipped(row.rcid, &error, cursor)
                }
            };
            self.ready.push_back(Ok(item));
        }
        if let Some(newest) = self.newest {
            let margin = self.config.overlap.as_secs().saturating_add(1);
            self.seen
                .prune(newest.timestamp.timestamp().saturating_sub_unsigned(margin));
        }
        self.continuation = response.continuation.filter(|c| !c.is_empty());
        if self.continuation.is_none() {
            self.caught_up();
        }
        Ok(())
    }

    fn page_params(&self, rcstart: String) -> Params {
        let namespaces = self
            .config
            .namespaces
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join("|");
        let limit = self
            .config
            .page_size
            .map_or_else(|| "max".to_owned(), |n| n.to_string());
        let mut params = vec![
            param("action", "query"),
            param("list", "recentchanges"),
            param("rcdir", "newer"),
            param("rcstart", rcstart),
            param(
                "rcprop",
                "title|ids|sizes|flags|user|comment|parsedcomment|timestamp|loginfo",
            ),
            param("rctype", "edit|new|log"),
            param("rcnamespace", namespaces),
            param("rclimit", limit),
        ];
        for (key, value) in self.continuation.iter().flatten() {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            params.push((key.clone(), value));
        }
        params
    }

    /// An answer that is not what the API sends.
    fn unexpected(&self, message: String) -> SourceError {
        SourceError::Http {
            url: self.client.api_url().to_string(),
            status: 200,
            message,
        }
    }

    fn caught_up(&mut self) {
        self.stats.caught_up();
        self.catch_up_start = None;
        if self.config.once {
            self.done = true;
            return;
        }
        // Fast while changes come, slower while the wiki is idle.
        self.interval = if self.new_in_catch_up > 0 {
            self.config.min_interval
        } else {
            (self.interval * 2).min(self.config.max_interval)
        };
        tracing::debug!(new = self.new_in_catch_up, interval = ?self.interval, "caught up");
        self.next_poll = Some(Instant::now() + self.interval);
    }

    /// The cursor now: the newest change read, or where the first catch-up starts.
    fn cursor(&self) -> Cursor {
        encode_cursor(self.newest.unwrap_or(EventPosition {
            timestamp: self.first_start,
            rcid: 0,
        }))
    }

    fn skipped(&self, rcid: Option<u64>, error: &RowError, cursor: Cursor) -> SourceItem {
        let reason = match error {
            RowError::Missing(_) => SkipReason::Incomplete,
            RowError::Invalid(_) => SkipReason::Malformed,
        };
        SourceItem::Skipped {
            reason,
            detail: format!(
                "{} rc id {}: {error}",
                self.client.api_url(),
                rcid.map_or_else(|| "?".to_owned(), |id| id.to_string())
            ),
            cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_ids_are_dropped_and_pruned_by_time() {
        let at = |ts: i64, rcid| EventPosition {
            timestamp: DateTime::from_timestamp(ts, 0).unwrap(),
            rcid,
        };
        let mut seen = Seen::default();
        assert!(seen.insert(at(100, 1)));
        assert!(seen.insert(at(150, 2)));
        assert!(!seen.insert(at(100, 1)));
        seen.prune(120);
        assert!(seen.insert(at(100, 1)), "pruned ids are forgotten");
        assert!(!seen.insert(at(150, 2)), "recent ids are kept");
    }
}
