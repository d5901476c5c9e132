//! A short-lived cache of the batch lists (`/` and `/api/`, any filter, any page):
//! the newest batches are what most visitors, bots and monitors ask for, again and
//! again, and an answer kept for a second spares the store a query per request.
//!
//! An answer is kept for [`Site::list_cache_milliseconds`](super::Site) at most
//! (a second by default): that is how far behind the store a list can be. It is
//! kept under everything that makes its bytes — the route, JSON or HTML, the mount
//! path, the origin of absolute links, the wiki and every parameter — so that no
//! request is answered with another's page. Only successful answers are kept, and
//! the cache is bounded in entries and bytes: when it is full of answers still
//! fresh, new ones are served without being kept.

use super::handlers::Ctx;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use editgroups_core::{Batch, BatchKey, TimelineBucket, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The most answers kept at once.
const MAX_ENTRIES: usize = 256;
/// The most bytes of answers kept at once.
const MAX_BYTES: usize = 16 << 20;
/// Larger answers (pages of hundreds of batches) are not kept.
const MAX_BODY: usize = 512 << 10;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ListRoute {
    /// `/`: HTML, or JSON when asked for.
    Page,
    /// `/api/`: JSON.
    Api,
}

/// Everything an answer's bytes depend on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ListKey {
    route: ListRoute,
    json: bool,
    /// The mount path of links in pages.
    root: String,
    /// What absolute links start with (from `Site::public_url` or `Host`).
    origin: String,
    wiki: String,
    /// Every parameter, normalized (filters, page size, position, format).
    query: String,
}

impl ListKey {
    pub(crate) fn new(route: ListRoute, json: bool, ctx: &Ctx) -> Self {
        Self {
            route,
            json,
            root: ctx.links.root.clone(),
            origin: ctx.links.absolute(""),
            wiki: ctx.links.wiki_id.clone(),
            query: ctx.params.to_query(),
        }
    }
}

/// A kept answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) content_type: &'static str,
    pub(crate) body: Bytes,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(self.content_type),
                ),
                (header::VARY, HeaderValue::from_static("Accept")),
            ],
            self.body,
        )
            .into_response()
    }
}

#[derive(Debug)]
struct Entry {
    stored: Instant,
    answer: Answer,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<ListKey, Entry, foldhash::fast::RandomState>,
    bytes: usize,
}

/// The cache of list answers.
#[derive(Debug)]
pub(crate) struct ListCache {
    ttl: Duration,
    entries: Mutex<Entries>,
}

impl ListCache {
    /// Answers are kept for `ttl`; a zero `ttl` keeps none.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::default(),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The answer kept under `key`, if still fresh.
    pub(crate) fn get(&self, key: &ListKey) -> Option<Answer> {
        if !self.enabled() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .map
            .get(key)
            .filter(|e| e.stored.elapsed() < self.ttl)
            .map(|e| e.answer.clone())
    }

    /// Keeps an answer, if it is small enough and there is room.
    pub(crate) fn put(&self, key: ListKey, answer: &Answer) {
        let size = answer.body.len();
        if !self.enabled() || size > MAX_BODY {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        // An answer replaced gives its room back first, so the bounds hold
        // for replacements too.
        if let Some(old) = entries.map.remove(&key) {
            entries.bytes -= old.answer.body.len();
        }
        let full = |e: &Entries| e.map.len() >= MAX_ENTRIES || e.bytes + size > MAX_BYTES;
        if full(&entries) {
            let ttl = self.ttl;
            let Entries { map, bytes } = &mut *entries;
            map.retain(|_, e| {
                let fresh = e.stored.elapsed() < ttl;
                if !fresh {
                    *bytes -= e.answer.body.len();
                }
                fresh
            });
            if full(&entries) {
                return;
            }
        }
        let entry = Entry {
            stored: Instant::now(),
            answer: answer.clone(),
        };
        entries.map.insert(key, entry);
        entries.bytes += size;
    }

    #[cfg(test)]
    fn len(&self) -> (usize, usize) {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        (entries.map.len(), entries.bytes)
    }
}

/// Batches smaller than this are counted afresh at every view (a few
/// milliseconds at most); larger ones keep their timeline.
pub(crate) const TIMELINE_MIN_EDITS: u64 = 10_000;
/// How long a timeline is kept at most, whatever its batch does.
const TIMELINE_TTL: Duration = Duration::from_secs(60);
/// The most timelines kept at once.
const MAX_TIMELINES: usize = 512;

/// What a batch's timeline is counted from: the batch and every figure of it
/// that a new, reverted or archived edit changes, and the spans asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TimelineKey {
    key: BatchKey,
    started: Timestamp,
    ended: Timestamp,
    nb_edits: u64,
    nb_reverted_edits: u64,
    archived: bool,
    width_micros: i64,
    buckets: usize,
}

impl TimelineKey {
    pub(crate) fn new(batch: &Batch, width_micros: i64, buckets: usize) -> Self {
        Self {
            key: batch.key.clone(),
            started: batch.started,
            ended: batch.ended,
            nb_edits: batch.nb_edits,
            nb_reverted_edits: batch.nb_reverted_edits,
            archived: batch.archived,
            width_micros,
            buckets,
        }
    }
}

/// The timelines of large batches: counting a batch of 100,000 edits reads as
/// many index entries, and its page is viewed again and again while its figures
/// stay the same (a finished batch's never change). A timeline is counted again
/// as soon as its batch's figures change, and after [`TIMELINE_TTL`] in any case
/// (a change that leaves every figure as it was, such as an edit reverted while
/// another is restored, shows within that time).
/// A timeline with the time it was counted.
type CountedTimeline = (Instant, Arc<[TimelineBucket]>);

#[derive(Debug, Default)]
pub(crate) struct TimelineCache {
    entries: Mutex<HashMap<TimelineKey, CountedTimeline, foldhash::fast::RandomState>>,
}

impl TimelineCache {
    pub(crate) fn get(&self, key: &TimelineKey) -> Option<Arc<[TimelineBucket]>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(stored, _)| stored.elapsed() < TIMELINE_TTL)
            .map(|(_, timeline)| timeline.clone())
    }

    pub(crate) fn put(&self, key: TimelineKey, timeline: Arc<[TimelineBucket]>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_TIMELINES {
            // Stale answers first (a batch that grew left its old figures behind).
            entries.retain(|k, (stored, _)| stored.elapsed() < TIMELINE_TTL && k.key != key.key);
            if entries.len() >= MAX_TIMELINES {
                return;
            }
        }
        entries.insert(key, (Instant::now(), timeline));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(query: &str) -> ListKey {
        ListKey {
            route: ListRoute::Api,
            json: true,
            root: String::new(),
            origin: "http://localhost".into(),
            wiki: "wikidatawiki".into(),
            query: query.into(),
        }
    }

    fn answer(size: usize) -> Answer {
        Answer {
            content_type: "application/json",
            body: Bytes::from(vec![b'x'; size]),
        }
    }

    #[test]
    fn answers_expire_and_keys_stay_apart() {
        let cache = ListCache::new(Duration::from_millis(200));
        cache.put(key("tool=OR"), &answer(3));
        assert_eq!(cache.get(&key("tool=OR")).map(|a| a.body.len()), Some(3));
        assert!(cache.get(&key("tool=QSv2")).is_none());
        let mut other_wiki = key("tool=OR");
        other_wiki.wiki = "commonswiki".into();
        assert!(cache.get(&other_wiki).is_none());
        let mut html = key("tool=OR");
        html.json = false;
        assert!(cache.get(&html).is_none());
        std::thread::sleep(Duration::from_millis(250));
        assert!(cache.get(&key("tool=OR")).is_none(), "expired");
    }

    #[test]
    fn bounded_in_entries_and_bytes() {
        let cache = ListCache::new(Duration::from_secs(60));
        for i in 0..MAX_ENTRIES * 2 {
            cache.put(key(&format!("user={i}")), &answer(10));
        }
        assert_eq!(cache.len(), (MAX_ENTRIES, MAX_ENTRIES * 10));
        // A key already kept is replaced, not refused.
        cache.put(key("user=0"), &answer(20));
        assert_eq!(cache.get(&key("user=0")).map(|a| a.body.len()), Some(20));
        assert_eq!(cache.len(), (MAX_ENTRIES, MAX_ENTRIES * 10 + 10));

        let cache = ListCache::new(Duration::from_secs(60));
        cache.put(key("big"), &answer(MAX_BODY + 1));
        assert!(cache.get(&key("big")).is_none(), "too large to keep");
        for i in 0..MAX_BYTES / MAX_BODY + 4 {
            cache.put(key(&format!("user={i}")), &answer(MAX_BODY));
        }
        let (_, bytes) = cache.len();
        assert!(bytes <= MAX_BYTES, "{bytes}");
    }

    #[test]
    fn room_comes_back_as_answers_expire() {
        let cache = ListCache::new(Duration::from_millis(100));
        for i in 0..MAX_ENTRIES {
            cache.put(key(&format!("user={i}")), &answer(1));
        }
        cache.put(key("late"), &answer(1));
        assert!(cache.get(&key("late")).is_none(), "full of fresh answers");
        std::thread::sleep(Duration::from_millis(150));
        cache.put(key("late"), &answer(1));
        assert!(cache.get(&key("late")).is_some());
        assert_eq!(cache.len(), (1, 1));
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = ListCache::new(Duration::ZERO);
        cache.put(key(""), &answer(1));
        assert!(cache.get(&key("")).is_none());
        assert_eq!(cache.len(), (0, 0));
    }

    fn batch(uid: &str) -> Batch {
        Batch {
            key: BatchKey::new("wikidatawiki", "OR", uid),
            user: "Someone".into(),
            summary: String::new(),
            nb_edits: 20_000,
            nb_distinct_pages: 1,
            nb_new_pages: 0,
            nb_reverted_edits: 0,
            total_diffsize: 0,
            started: Timestamp::UNIX_EPOCH,
            ended: Timestamp::UNIX_EPOCH,
            tags: Vec::new(),
            archived: false,
        }
    }

    #[test]
    fn timelines_follow_their_batch_figures() {
        let batch = batch("abc");
        let cache = TimelineCache::default();
        let counted: Arc<[TimelineBucket]> = Arc::from(vec![TimelineBucket::default(); 3]);
        cache.put(TimelineKey::new(&batch, 10, 3), counted.clone());
        assert_eq!(cache.get(&TimelineKey::new(&batch, 10, 3)), Some(counted));
        let mut grown = batch.clone();
        grown.nb_edits += 1;
        assert!(cache.get(&TimelineKey::new(&grown, 10, 3)).is_none());
        let mut reverted = batch.clone();
        reverted.nb_reverted_edits = 1;
        assert!(cache.get(&TimelineKey::new(&reverted, 10, 3)).is_none());
        let mut archived = batch.clone();
        archived.archived = true;
        assert!(cache.get(&TimelineKey::new(&archived, 10, 3)).is_none());
        let mut other = batch.clone();
        other.key.uid = "abd".into();
        assert!(cache.get(&TimelineKey::new(&other, 10, 3)).is_none());
        assert!(cache.get(&TimelineKey::new(&batch, 11, 3)).is_none());
    }

    #[test]
    fn timelines_are_bounded() {
        let cache = TimelineCache::default();
        let counted: Arc<[TimelineBucket]> = Arc::from(vec![TimelineBucket::default(); 1]);
        for i in 0..MAX_TIMELINES * 2 {
            cache.put(
                TimelineKey::new(&batch(&i.to_string()), 1, 1),
                counted.clone(),
            );
        }
        assert_eq!(cache.len(), MAX_TIMELINES);
    }
}
