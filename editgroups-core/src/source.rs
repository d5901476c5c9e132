//! The source side of the pipeline: anything that yields a wiki's recent changes.

use crate::cursor::{Cursor, CursorMismatch};
use crate::edit::Edit;
use futures::stream::BoxStream;
use std::fmt::{self, Debug};

/// A boxed error from a backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One item of a source's stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SourceItem {
    /// A recent change, and the cursor just after it.
    Edit {
        /// The change.
        edit: Box<Edit>,
        /// Where to resume to read what follows it.
        cursor: Cursor,
    },
    /// Input that was read but yields no edit (a malformed line, a canary event,
    /// another wiki's event). The position still advances, so a resumed source
    /// does not read it again.
    Skipped {
        /// Why it was skipped.
        reason: SkipReason,
        /// Where it was and what was wrong, e.g. `events.json line 12: expected value`.
        detail: String,
        /// Where to resume to read what follows it.
        cursor: Cursor,
    },
}

impl SourceItem {
    /// The cursor just after this item.
    pub fn cursor(&self) -> &Cursor {
        match self {
            Self::Edit { cursor, .. } | Self::Skipped { cursor, .. } => cursor,
        }
    }
}

/// Why an input or an event was not ingested. Counted by the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SkipReason {
    /// Not JSON, not an object, truncated, or not UTF-8.
    Malformed,
    /// JSON, but without a field needed to attribute the change (id, wiki, ...).
    /// Real streams carry some: abuse-filter log entries have no rc id.
    Incomplete,
    /// A Wikimedia canary event.
    Canary,
    /// An event of a wiki this pipeline does not follow.
    OtherWiki,
    /// An event larger than the source accepts, or with an id, title, batch id or
    /// author too long for a store to keep.
    Oversized,
    /// A change outside the watched namespaces.
    Namespace,
}

impl SkipReason {
    /// Every reason, in a stable order.
    pub const ALL: [SkipReason; 6] = [
        Self::Malformed,
        Self::Incomplete,
        Self::Canary,
        Self::OtherWiki,
        Self::Oversized,
        Self::Namespace,
    ];

    /// A short name, e.g. `malformed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Incomplete => "incomplete",
            Self::Canary => "canary",
            Self::OtherWiki => "other_wiki",
            Self::Oversized => "oversized",
            Self::Namespace => "namespace",
        }
    }

    /// Whether this reason means broken input, worth a warning.
    pub fn is_bad_input(self) -> bool {
        matches!(self, Self::Malformed | Self::Oversized)
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What stops a source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The source was handed a cursor of another source or format.
    #[error(transparent)]
    Cursor(#[from] CursorMismatch),
    /// A cursor of the right kind whose position cannot be read.
    #[error("corrupt {kind} cursor {position:?}: {message}")]
    CorruptCursor {
        /// The source kind.
        kind: &'static str,
        /// The position found.
        position: String,
        /// What is wrong with it.
        message: String,
    },
    /// Reading local input failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being read.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The server answered with an error that retrying cannot fix.
    #[error("{url}: HTTP {status}: {message}")]
    Http {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
        /// What the server said.
        message: String,
    },
    /// The server answered with an API error that retrying cannot fix.
    #[error("{url}: API error {code}: {info}")]
    Api {
        /// The URL requested.
        url: String,
        /// The error code.
        code: String,
        /// The error message.
        info: String,
    },
    /// Part of the wiki's history can no longer be read (it is older than the
    /// server keeps): the edits in this range were not ingested.
    #[error("gap in the history: {message}")]
    Gap {
        /// The range and why.
        message: String,
    },
    /// The source is configured wrongly.
    #[error("configuration: {0}")]
    Config(String),
    /// Any other failure of a source.
    #[error("{source_kind} source: {error}")]
    Other {
        /// The source kind.
        source_kind: &'static str,
        /// The error.
        error: BoxError,
    },
}

/// A stream of source items.
pub type SourceStream = BoxStream<'static, Result<SourceItem, SourceError>>;

/// A source of a wiki's recent changes: a live stream, a poller, a file replay, or
/// anything else.
///
/// Sources yield a pull stream; the pipeline owns back-pressure and decides when
/// positions are stored.
///
/// # Contract
/// - [`EditSource::name`] is stable across runs for the same input: the store
///   keeps the source's cursor under it.
/// - Items come in the source's order, each with the cursor just after it;
///   [`EditSource::stream`] from that cursor yields what followed it. Yielding some
///   items again after a resume is allowed (the store de-duplicates); skipping
///   items is not.
/// - Bad input is yielded as [`SourceItem::Skipped`], never as an error; errors
///   end the stream.
/// - Transient failures (a dropped connection) are retried inside the source;
///   only what retrying cannot fix ends it with an error.
#[cfg_attr(test, mockall::automock)]
pub trait EditSource: Send + Debug {
    /// The name the store keeps this source's cursor under, e.g.
    /// `eventstreams:wikidatawiki`.
    fn name(&self) -> &str;

    /// The stream of changes, starting just after `from`, or at the source's own
    /// start when there is no cursor.
    fn stream(&mut self, from: Option<Cursor>) -> SourceStream;
}

impl<T: EditSource + ?Sized> EditSource for Box<T> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn stream(&mut self, from: Option<Cursor>) -> SourceStream {
        (**self).stream(from)
    }
}
