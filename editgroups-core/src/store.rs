//! The store side of the pipeline: where attributed edits and batch statistics are
//! kept.

use crate::cursor::Cursor;
use crate::edit::{Edit, Timestamp};
use crate::matcher::ToolMatch;
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// Seconds between the first and the last edit.
    pub fn duration_seconds(&self) -> i64 {
        (self.ended - self.started).num_seconds()
    }
}

/// An edit as stored in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEdit {
    /// The edit.
    pub edit: Edit,
    /// Whether it was reverted.
    pub reverted: bool,
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
/// - reverts follow [`crate::revert`], whatever order events arrive in;
/// - [`BatchStore::apply`] is all or nothing, cursor included.
///
/// The conformance suite in `editgroups_core::testing` (feature `testing`) checks
/// all of this; run it on your store.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait BatchStore: Send + Sync + Debug {
    /// Applies a chunk of events and stores the source's cursor with them, all or
    /// nothing.
    async fn apply(&self, chunk: &Chunk) -> Result<ApplyReport, StoreError>;

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

    /// The newest event time any source has reached (see
    /// [`Chunk::latest_event_time`]), for lag.
    async fn latest_event_time(&self) -> Result<Option<Timestamp>, StoreError>;
}

/// A store behind a trait object.
pub type DynBatchStore = dyn BatchStore;

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<T: BatchStore + ?Sized> BatchStore for $ty {
            async fn apply(&self, chunk: &Chunk) -> Result<ApplyReport, StoreError> {
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
            async fn latest_event_time(&self) -> Result<Option<Timestamp>, StoreError> {
                (**self).latest_event_time().await
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
