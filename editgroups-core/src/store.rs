//! The store side of the pipeline: where attributed edits and batch statistics are
//! kept.

use crate::cursor::Cursor;
use crate::edit::{Edit, EventPosition, Timestamp};
use crate::matcher::ToolMatch;
use crate::rulebook::BatchFigures;
use crate::source::BoxError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Debug};

/// The most characters a batch summary keeps.
pub const SUMMARY_MAX_CHARS: usize = 190;

/// The longest wiki id (characters) a store must keep.
pub const MAX_WIKI_CHARS: usize = 64;
/// The longest tool short id (characters) a store must keep.
pub const MAX_TOOL_CHARS: usize = 64;
/// The longest batch id, author or page title (characters) a store must keep.
pub const MAX_KEY_CHARS: usize = 255;
/// The longest tag id (characters) a store must keep.
pub const MAX_TAG_CHARS: usize = 128;
/// The largest id (rc id, revision) a store must keep: SQL stores use signed
/// 64-bit integers.
pub const MAX_ID: u64 = i64::MAX as u64;

/// Whether an event's identifying values fit what every store keeps. The
/// pipeline skips events that do not, so that no store rejects a chunk for them.
pub fn edit_fits(edit: &Edit) -> bool {
    edit.wiki.chars().count() <= MAX_WIKI_CHARS
        && edit.title.chars().count() <= MAX_KEY_CHARS
        && edit.change_type.type_name().chars().count() <= MAX_WIKI_CHARS
        && edit.rcid <= MAX_ID
        && [edit.old_revision, edit.new_revision]
            .into_iter()
            .flatten()
            .all(|id| id <= MAX_ID)
}

/// Whether an attribution's values fit what every store keeps. The pipeline
/// drops attributions that do not (a crafted summary can make a batch id of any
/// length).
pub fn attribution_fits(attribution: &ToolMatch) -> bool {
    !attribution.tool.is_empty()
        && !attribution.uid.is_empty()
        && attribution.tool.chars().count() <= MAX_TOOL_CHARS
        && attribution.uid.chars().count() <= MAX_KEY_CHARS
        && attribution.user.chars().count() <= MAX_KEY_CHARS
}

/// The identity of a batch: wiki, tool and batch id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BatchKey {
    /// The wiki id.
    pub wiki: String,
    /// The tool's short id.
    pub tool: String,
    /// The batch id within the tool.
    pub uid: String,
}

impl BatchKey {
    /// A batch key.
    pub fn new(wiki: impl Into<String>, tool: impl Into<String>, uid: impl Into<String>) -> Self {
        Self {
            wiki: wiki.into(),
            tool: tool.into(),
            uid: uid.into(),
        }
    }
}

impl fmt::Display for BatchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.wiki, self.tool, self.uid)
    }
}

/// A batch and its statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Which batch.
    pub key: BatchKey,
    /// Its author: the author of its first attributed edit.
    pub user: String,
    /// Its summary, from its first edit, at most [`SUMMARY_MAX_CHARS`] characters.
    pub summary: String,
    /// How many edits it has.
    pub nb_edits: u64,
    /// How many distinct pages it touched.
    pub nb_distinct_pages: u64,
    /// How many pages it created (change type `new`).
    pub nb_new_pages: u64,
    /// How many of its edits were reverted.
    pub nb_reverted_edits: u64,
    /// The sum of its edits' size changes, in bytes.
    pub total_diffsize: i64,
    /// Its earliest edit.
    pub started: Timestamp,
    /// Its latest edit.
    pub ended: Timestamp,
    /// Its tag ids, by priority (descending) then id.
    pub tags: Vec<String>,
    /// Whether it was archived: cut down to its newest edits, statistics and tags
    /// kept (see [`crate::maintenance`]).
    #[serde(default)]
    pub archived: bool,
}

impl Batch {
    /// A batch with these figures and tags (sorted for display).
    pub fn new(
        key: BatchKey,
        figures: BatchFigures,
        tags: impl IntoIterator<Item = String>,
    ) -> Self {
        let mut tags: Vec<String> = tags.into_iter().collect();
        crate::tags::sort_tags(&mut tags);
        Self {
            key,
            user: figures.user,
            summary: figures.summary,
            nb_edits: figures.nb_edits,
            nb_distinct_pages: figures.nb_distinct_pages,
            nb_new_pages: figures.nb_new_pages,
            nb_reverted_edits: figures.nb_reverted_edits,
            total_diffsize: figures.total_diffsize,
            started: figures.started,
            ended: figures.ended,
            tags,
            archived: false,
        }
    }

    /// Its figures, as the rulebook reads them.
    pub fn figures(&self) -> BatchFigures {
        BatchFigures {
            user: self.user.clone(),
            summary: self.summary.clone(),
            nb_edits: self.nb_edits,
            nb_distinct_pages: self.nb_distinct_pages,
            nb_new_pages: self.nb_new_pages,
            nb_reverted_edits: self.nb_reverted_edits,
            total_diffsize: self.total_diffsize,
            started: self.started,
            ended: self.ended,
        }
    }

    /// Seconds between the first and the last edit.
    pub fn duration_seconds(&self) -> i64 {
        (self.ended - self.started).num_seconds()
    }

    /// Sorts batches newest `started` first (ties by key), the order of
    /// [`BatchStore::reverting_batches`] and [`BatchStore::reverted_batches`].
    pub fn sort_newest_started(batches: &mut [Batch]) {
        batches.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| a.key.cmp(&b.key)));
    }
}

/// An edit as stored in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEdit {
    /// The edit.
    pub edit: Edit,
    /// Whether it was reverted.
    pub reverted: bool,
    /// What reverted it: the earliest event that reverts it (see
    /// [`crate::rulebook`]). `None` when it is not reverted, or when the revert
    /// was recorded by a store that kept no provenance yet.
    pub reverted_by: Option<RevertedBy>,
}

/// The event that reverted an edit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RevertedBy {
    /// Its rc id (on the edit's wiki).
    pub rcid: u64,
    /// Its batch, when it was an attributed edit (an EditGroups revert, a
    /// QuickStatements batch that deleted the pages, ...); `None` for an undo or
    /// a deletion made by hand.
    pub batch: Option<BatchKey>,
}

/// One event handed to a store, with its attribution if a tool made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkEdit {
    /// The event.
    pub edit: Edit,
    /// Its batch, or `None` for events kept only for what they revert.
    pub attribution: Option<ToolMatch>,
}

/// What a store applies at once: events and the position of the source after them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chunk {
    /// The name of the source the events came from.
    pub source: String,
    /// The source's cursor just after the last event read (including events that
    /// were read but not handed over).
    pub cursor: Option<Cursor>,
    /// The newest timestamp of every event read, handed over or not: the source's
    /// progress, for lag.
    pub latest_event_time: Option<Timestamp>,
    /// The events: attributed edits, and unattributed events that revert edits.
    pub edits: Vec<ChunkEdit>,
}

/// How far a source has been stored: its cursor and the newest time of the
/// events it read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SourceProgress {
    /// Where the source resumes.
    pub cursor: Option<Cursor>,
    /// The newest event time it read (for lag).
    pub latest_event_time: Option<Timestamp>,
}

impl SourceProgress {
    /// Moves on past a chunk: its cursor replaces the stored one unless it has
    /// none, and the latest event time only grows.
    pub fn advance(&mut self, chunk: &Chunk) {
        if chunk.cursor.is_some() {
            self.cursor.clone_from(&chunk.cursor);
        }
        self.latest_event_time = self.latest_event_time.max(chunk.latest_event_time);
    }
}

/// What applying a chunk did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Attributed edits newly stored.
    pub inserted: u64,
    /// Events already stored (re-delivered), which changed nothing.
    pub duplicates: u64,
    /// Attributed edits dropped because they name another author than the batch's.
    pub hijacked: u64,
    /// Distinct batches created or changed.
    pub batches_touched: u64,
    /// Edits newly marked reverted.
    pub reverted: u64,
}

/// A query for batches. Filters combine with AND.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchQuery {
    /// Only this wiki.
    pub wiki: Option<String>,
    /// Only this tool (short id).
    pub tool: Option<String>,
    /// Only this author.
    pub user: Option<String>,
    /// Only batches that have every one of these tags.
    pub tags: Vec<String>,
    /// At most this many batches (0: no limit).
    pub limit: u64,
    /// Skip this many first.
    pub offset: u64,
    /// Only batches after this one in the list's order (keyset pagination: the
    /// position of the last batch of the previous page). Combines with `offset`,
    /// which then counts from there.
    pub after: Option<BatchPosition>,
    /// Only batches before this one in the list's order; with a limit, the last
    /// `limit` of them (the page that ends just before the position), still in
    /// list order. `offset` then counts back from the position. For "previous"
    /// links of keyset pages; use `after` or `before`, not both.
    pub before: Option<BatchPosition>,
}

/// Where a batch stands in a list of batches: newest `ended` first, ties by key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BatchPosition {
    /// The batch's latest edit.
    pub ended: Timestamp,
    /// The batch.
    pub key: BatchKey,
}

impl BatchPosition {
    /// The position of a batch.
    pub fn of(batch: &Batch) -> Self {
        Self {
            ended: batch.ended,
            key: batch.key.clone(),
        }
    }

    /// Whether a batch with `ended` and `key` comes after this position in a list
    /// (newest `ended` first, then by key ascending).
    pub fn is_before(&self, ended: Timestamp, key: &BatchKey) -> bool {
        ended < self.ended || (ended == self.ended && *key > self.key)
    }

    /// Whether a batch with `ended` and `key` comes before this position in a
    /// list.
    pub fn is_after(&self, ended: Timestamp, key: &BatchKey) -> bool {
        ended > self.ended || (ended == self.ended && *key < self.key)
    }
}

impl BatchQuery {
    /// Every batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only this wiki.
    pub fn with_wiki(mut self, wiki: impl Into<String>) -> Self {
        self.wiki = Some(wiki.into());
        self
    }

    /// Only this tool.
    pub fn with_tool(mut self, tool: impl Into<String>) -> Self {
        self.tool = Some(tool.into());
        self
    }

    /// Only this author.
    pub fn with_user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Only batches with this tag too.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// At most `limit` batches, after skipping `offset`.
    pub fn with_page(mut self, limit: u64, offset: u64) -> Self {
        self.limit = limit;
        self.offset = offset;
        self
    }

    /// Whether a batch passes the query's filters and keyset bounds.
    pub fn matches(&self, batch: &Batch) -> bool {
        self.matches_parts(&batch.key, &batch.user, batch.ended, |t| {
            batch.tags.iter().any(|tag| tag == t)
        })
    }

    /// [`BatchQuery::matches`] on a batch's parts, for stores that keep batches
    /// in another shape.
    pub fn matches_parts(
        &self,
        key: &BatchKey,
        user: &str,
        ended: Timestamp,
        has_tag: impl Fn(&str) -> bool,
    ) -> bool {
        self.wiki.as_ref().is_none_or(|w| *w == key.wiki)
            && self.tool.as_ref().is_none_or(|t| *t == key.tool)
            && self.user.as_ref().is_none_or(|u| u == user)
            && self.tags.iter().all(|t| has_tag(t))
            && self.after.as_ref().is_none_or(|a| a.is_before(ended, key))
            && self.before.as_ref().is_none_or(|p| p.is_after(ended, key))
    }

    /// This query's page of batches that match it, given newest `ended` first
    /// (ties by key): with `before`, the page that ends just before it.
    pub fn page<T>(&self, matching: Vec<T>) -> Vec<T> {
        let page = Page::new(self.limit, self.offset);
        if self.before.is_some() {
            let mut found = page.select(matching.into_iter().rev());
            found.reverse();
            found
        } else {
            page.select(matching)
        }
    }

    /// The query's answer among these batches: filtered, newest `ended` first
    /// (ties by key), paged. For stores that hold few batches or scan them.
    pub fn select(&self, batches: impl IntoIterator<Item = Batch>) -> Vec<Batch> {
        let mut found: Vec<Batch> = batches.into_iter().filter(|b| self.matches(b)).collect();
        found.sort_by(|a, b| b.ended.cmp(&a.ended).then_with(|| a.key.cmp(&b.key)));
        self.page(found)
    }

    /// Only batches after this position (keyset pagination).
    pub fn with_after(mut self, after: BatchPosition) -> Self {
        self.after = Some(after);
        self
    }

    /// Only batches before this position: the page that ends just before it.
    pub fn with_before(mut self, before: BatchPosition) -> Self {
        self.before = Some(before);
        self
    }
}

/// One time span of a batch's timeline: how many of its edits fall in it, and how
/// many of those were reverted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimelineBucket {
    /// Edits in the span.
    pub edits: u64,
    /// Reverted edits in the span.
    pub reverted: u64,
}

/// The span an edit at `time` falls in, for a timeline of `buckets` spans of
/// `width_micros` microseconds from `start`: earlier edits count in the first
/// span, later ones in the last.
pub fn timeline_bucket(
    time: Timestamp,
    start: Timestamp,
    width_micros: i64,
    buckets: usize,
) -> usize {
    let offset = time
        .timestamp_micros()
        .saturating_sub(start.timestamp_micros());
    let index = if offset <= 0 {
        0
    } else {
        offset / width_micros.max(1)
    };
    usize::try_from(index)
        .unwrap_or(usize::MAX)
        .min(buckets.saturating_sub(1))
}

/// A page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// At most this many items (0: no limit).
    pub limit: u64,
    /// Skip this many first.
    pub offset: u64,
}

impl Page {
    /// A page.
    pub fn new(limit: u64, offset: u64) -> Self {
        Self { limit, offset }
    }

    /// Everything.
    pub fn all() -> Self {
        Self::new(0, 0)
    }

    /// This page of `items`.
    pub fn select<T>(&self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        let skip = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let take = match self.limit {
            0 => usize::MAX,
            limit => usize::try_from(limit).unwrap_or(usize::MAX),
        };
        items.into_iter().skip(skip).take(take).collect()
    }
}

/// A tool's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolStats {
    /// The tool's short id.
    pub tool: String,
    /// How many batches it has (all wikis).
    pub nb_batches: u64,
    /// How many distinct authors its batches have.
    pub nb_users: u64,
}

impl ToolStats {
    /// The figures of every tool, by short id, over these batches.
    pub fn of<'a>(batches: impl IntoIterator<Item = &'a Batch>) -> Vec<ToolStats> {
        Self::count(
            batches
                .into_iter()
                .map(|b| (b.key.tool.as_str(), b.user.as_str())),
        )
    }

    /// The figures of every tool, by short id, from (tool, author) of each batch.
    pub fn count<'a>(batches: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<ToolStats> {
        let mut tools: std::collections::BTreeMap<&str, (u64, std::collections::BTreeSet<&str>)> =
            std::collections::BTreeMap::new();
        for (tool, user) in batches {
            let entry = tools.entry(tool).or_default();
            entry.0 += 1;
            entry.1.insert(user);
        }
        tools
            .into_iter()
            .map(|(tool, (nb_batches, users))| ToolStats {
                tool: tool.to_owned(),
                nb_batches,
                nb_users: users.len() as u64,
            })
            .collect()
    }
}

/// What went wrong in a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database cannot be reached, or went away.
    #[error("{store} store: connection failed: {source}")]
    Connection {
        /// Which store.
        store: &'static str,
        /// The driver's error.
        source: BoxError,
    },
    /// The database was written by a newer version of this library.
    #[error(
        "{store} store: the database schema is version {found}, newer than the {supported} this version supports; upgrade the library"
    )]
    SchemaTooNew {
        /// Which store.
        store: &'static str,
        /// The version found.
        found: i64,
        /// The newest version this code supports.
        supported: i64,
    },
    /// A stored value cannot be read back.
    #[error("{store} store: corrupt data: {message}")]
    Corrupt {
        /// Which store.
        store: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The store is configured wrongly (a bad URL, a missing feature).
    #[error("store configuration: {0}")]
    Config(String),
    /// Any other failure of the backend.
    #[error("{store} store: {source}")]
    Backend {
        /// Which store.
        store: &'static str,
        /// The backend's error.
        source: BoxError,
    },
}

/// Where attributed edits and batch statistics are kept.
///
/// # Contract
/// The state of a store is a function of the *set* of events applied: it does not
/// depend on how they were split into chunks, and applying an event again changes
/// nothing. Precisely:
/// - an event is identified by (wiki, rc id); one seen before is a duplicate;
/// - a batch is (wiki, tool, uid); its author is the author of its first
///   attributed edit, and later edits naming another author are dropped (counted
///   as hijacked);
/// - statistics: `nb_edits`, `nb_distinct_pages`, `nb_new_pages` (type `new`),
///   `total_diffsize`, `started` (earliest), `ended` (latest), `summary` (first edit,
///   truncated), tags ([`crate::tags::extract_tags`]);
/// - reverts and their provenance follow [`crate::rulebook`], whatever order
///   events arrive in;
/// - [`BatchStore::apply`] is all or nothing, cursor included.
///
/// These are the rules of [`crate::rulebook`]: a store loads what
/// [`rulebook::Needs`](crate::rulebook::Needs) lists, runs
/// [`rulebook::decide`](crate::rulebook::decide) and persists the decision; it
/// writes no rule of its own.
///
/// The conformance suite in `editgroups_core::testing` (feature `testing`) checks
/// all of this; run it on your store.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait BatchStore: Send + Sync + Debug {
    /// Applies a chunk of events and stores the source's cursor with them, all or
    /// nothing. The chunk is handed over, so a store can keep its edits without
    /// copying them.
    ///
    /// The cursor stored for `chunk.source` becomes `chunk.cursor` (unchanged when
    /// it is `None`), and the source's latest event time the later of the stored
    /// one and `chunk.latest_event_time`.
    async fn apply(&self, chunk: Chunk) -> Result<ApplyReport, StoreError>;

    /// The cursor stored for a source.
    async fn cursor(&self, source: &str) -> Result<Option<Cursor>, StoreError>;

    /// One batch with its tags.
    async fn batch(&self, key: &BatchKey) -> Result<Option<Batch>, StoreError>;

    /// Batches matching a query, newest `ended` first (ties by wiki, tool, uid).
    async fn list_batches(&self, query: &BatchQuery) -> Result<Vec<Batch>, StoreError>;

    /// The edits of a batch, newest first (by timestamp, then rc id).
    async fn batch_edits(&self, key: &BatchKey, page: Page) -> Result<Vec<StoredEdit>, StoreError>;

    /// Every tool with batches, by short id.
    async fn tools(&self) -> Result<Vec<ToolStats>, StoreError>;

    /// The batches whose events reverted edits of this batch (undid them,
    /// deleted pages it created, restored pages it deleted), newest `started`
    /// first. Reverts by events without a batch (by hand) are not listed.
    async fn reverting_batches(&self, key: &BatchKey) -> Result<Vec<Batch>, StoreError>;

    /// The batches with edits that events of this batch reverted, newest
    /// `started` first.
    async fn reverted_batches(&self, key: &BatchKey) -> Result<Vec<Batch>, StoreError>;

    /// The newest event time any source has reached (see
    /// [`Chunk::latest_event_time`]), for lag.
    async fn latest_event_time(&self) -> Result<Option<Timestamp>, StoreError>;

    /// The edits of a batch that come after `after` in [`BatchStore::batch_edits`]'
    /// order (newest first, by timestamp then rc id), at most `limit` (0: no
    /// limit): keyset pagination, so that a deep page costs what the first costs.
    ///
    /// The default pages through [`BatchStore::batch_edits`]; stores override it
    /// with an indexed query.
    async fn batch_edits_after(
        &self,
        key: &BatchKey,
        after: Option<EventPosition>,
        limit: u64,
    ) -> Result<Vec<StoredEdit>, StoreError> {
        const PAGE: u64 = 1_000;
        let mut found = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.batch_edits(key, Page::new(PAGE, offset)).await?;
            let done = (page.len() as u64) < PAGE;
            offset += page.len() as u64;
            found.extend(
                page.into_iter()
                    .filter(|e| after.is_none_or(|a| e.edit.position() < a)),
            );
            if done || (limit > 0 && found.len() as u64 >= limit) {
                break;
            }
        }
        if limit > 0 {
            found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        Ok(found)
    }

    /// The edits of a batch that come before `before` in
    /// [`BatchStore::batch_edits`]' order: with a limit, the last `limit` of them
    /// (the page that ends just before the position), still newest first. For
    /// "previous" links of keyset pages.
    ///
    /// The default reads through [`BatchStore::batch_edits`]; stores override it
    /// with an indexed query.
    async fn batch_edits_before(
        &self,
        key: &BatchKey,
        before: EventPosition,
        limit: u64,
    ) -> Result<Vec<StoredEdit>, StoreError> {
        let mut found: Vec<StoredEdit> = self
            .batch_edits(key, Page::all())
            .await?
            .into_iter()
            .filter(|e| e.edit.position() > before)
            .collect();
        if limit > 0 {
            let keep = usize::try_from(limit).unwrap_or(usize::MAX);
            found.drain(..found.len().saturating_sub(keep));
        }
        Ok(found)
    }

    /// How a batch's edits spread over time: `buckets` spans of `width_micros`
    /// microseconds from `start`, each with its number of edits and of reverted
    /// edits (see [`timeline_bucket`] for where an edit falls). An unknown batch
    /// gives empty spans.
    ///
    /// The default reads every edit through [`BatchStore::batch_edits`]; stores
    /// override it with an aggregate query.
    async fn edit_timeline(
        &self,
        key: &BatchKey,
        start: Timestamp,
        width_micros: i64,
        buckets: usize,
    ) -> Result<Vec<TimelineBucket>, StoreError> {
        const PAGE: u64 = 1_000;
        let mut timeline = vec![TimelineBucket::default(); buckets];
        let mut offset = 0;
        loop {
            let page = self.batch_edits(key, Page::new(PAGE, offset)).await?;
            offset += page.len() as u64;
            for stored in &page {
                let index = timeline_bucket(stored.edit.timestamp, start, width_micros, buckets);
                if let Some(bucket) = timeline.get_mut(index) {
                    bucket.edits += 1;
                    bucket.reverted += u64::from(stored.reverted);
                }
            }
            if (page.len() as u64) < PAGE {
                break;
            }
        }
        Ok(timeline)
    }
}

/// A store behind a trait object.
pub type DynBatchStore = dyn BatchStore;

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<T: BatchStore + ?Sized> BatchStore for $ty {
            async fn apply(&self, chunk: Chunk) -> Result<ApplyReport, StoreError> {
                (**self).apply(chunk).await
            }
            async fn cursor(&self, source: &str) -> Result<Option<Cursor>, StoreError> {
                (**self).cursor(source).await
            }
            async fn batch(&self, key: &BatchKey) -> Result<Option<Batch>, StoreError> {
                (**self).batch(key).await
            }
            async fn list_batches(&self, query: &BatchQuery) -> Result<Vec<Batch>, StoreError> {
                (**self).list_batches(query).await
            }
            async fn batch_edits(&self, key: &BatchKey, page: Page) -> Result<Vec<StoredEdit>, StoreError> {
                (**self).batch_edits(key, page).await
            }
            async fn tools(&self) -> Result<Vec<ToolStats>, StoreError> {
                (**self).tools().await
            }
            async fn reverting_batches(&self, key: &BatchKey) -> Result<Vec<Batch>, StoreError> {
                (**self).reverting_batches(key).await
            }
            async fn reverted_batches(&self, key: &BatchKey) -> Result<Vec<Batch>, StoreError> {
                (**self).reverted_batches(key).await
            }
            async fn latest_event_time(&self) -> Result<Option<Timestamp>, StoreError> {
                (**self).latest_event_time().await
            }
            async fn batch_edits_after(&self, key: &BatchKey, after: Option<EventPosition>, limit: u64) -> Result<Vec<StoredEdit>, StoreError> {
                (**self).batch_edits_after(key, after, limit).await
            }
            async fn batch_edits_before(&self, key: &BatchKey, before: EventPosition, limit: u64) -> Result<Vec<StoredEdit>, StoreError> {
                (**self).batch_edits_before(key, before, limit).await
            }
            async fn edit_timeline(&self, key: &BatchKey, start: Timestamp, width_micros: i64, buckets: usize) -> Result<Vec<TimelineBucket>, StoreError> {
                (**self).edit_timeline(key, start, width_micros, buckets).await
            }
        }
    )*};
}

forward_store!(std::sync::Arc<T>, Box<T>);

/// Truncates a string to at most `max` characters.
pub fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}
