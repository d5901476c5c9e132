//! The normalised edit: one recent change of a wiki, whatever source it came from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time, UTC, with second precision in practice (MediaWiki's resolution).
pub type Timestamp = DateTime<Utc>;

/// The kind of a recent change, as MediaWiki names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeType {
    /// An edit of an existing page.
    Edit,
    /// A page creation.
    New,
    /// A log entry (deletion, restore, upload, move, ...).
    Log {
        /// The log type, e.g. `delete` or `upload`.
        log_type: Option<String>,
        /// The log action, e.g. `delete`, `restore`, `upload`, `overwrite`.
        log_action: Option<String>,
    },
    /// A category membership change.
    Categorize,
    /// A change on another wiki (Wikibase client changes).
    External,
    /// A type this library does not know.
    Other {
        /// The type as the server sent it.
        name: String,
    },
}

impl ChangeType {
    /// Builds a change type from the `type`, `log_type` and `log_action` fields of a
    /// recent change.
    pub fn from_parts(kind: &str, log_type: Option<&str>, log_action: Option<&str>) -> Self {
        match kind {
            "edit" => Self::Edit,
            "new" => Self::New,
            "log" => Self::Log {
                log_type: log_type.map(str::to_owned),
                log_action: log_action.map(str::to_owned),
            },
            "categorize" => Self::Categorize,
            "external" => Self::External,
            other => Self::Other {
                name: other.to_owned(),
            },
        }
    }

    /// The `type` field as MediaWiki writes it (`edit`, `new`, `log`, ...).
    pub fn type_name(&self) -> &str {
        match self {
            Self::Edit => "edit",
            Self::New => "new",
            Self::Log { .. } => "log",
            Self::Categorize => "categorize",
            Self::External => "external",
            Self::Other { name } => name,
        }
    }

    /// What EditGroups calls the change type: the log action for log entries
    /// (`delete`, `restore`, `upload`, ...), the type otherwise.
    pub fn kind(&self) -> &str {
        match self {
            Self::Log {
                log_action: Some(action),
                ..
            } => action,
            other => other.type_name(),
        }
    }

    /// The log type, for log entries.
    pub fn log_type(&self) -> Option<&str> {
        match self {
            Self::Log { log_type, .. } => log_type.as_deref(),
            _ => None,
        }
    }

    /// The log action, for log entries.
    pub fn log_action(&self) -> Option<&str> {
        match self {
            Self::Log { log_action, .. } => log_action.as_deref(),
            _ => None,
        }
    }

    /// Whether this change brings a page into existence: a creation, an upload or a
    /// restore. A later deletion of the same title reverts it.
    pub fn creates_page(&self) -> bool {
        matches!(self, Self::New) || matches!(self.log_action(), Some("upload" | "restore"))
    }

    /// Whether this change is a page deletion.
    pub fn is_delete(&self) -> bool {
        self.log_action() == Some("delete")
    }

    /// Whether this change is a page restore (undeletion).
    pub fn is_restore(&self) -> bool {
        self.log_action() == Some("restore")
    }
}

impl fmt::Display for ChangeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

/// One recent change of a wiki, normalised from an EventStreams event, a row of the
/// recent-changes API, or a recorded line.
///
/// The fields that identify a change (`wiki`, `rcid`), place it (`namespace`,
/// `title`, `timestamp`) and say what it is (`change_type`) are required: a change
/// without them cannot be attributed or de-duplicated. Everything else is optional,
/// because servers omit it (redacted users, log entries without revisions, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// The wiki id, e.g. `wikidatawiki`.
    pub wiki: String,
    /// The recent-changes id, unique within a wiki.
    pub rcid: u64,
    /// What kind of change it is.
    pub change_type: ChangeType,
    /// The namespace of the page.
    pub namespace: i64,
    /// The prefixed title, with spaces (`Q42`, `Property:P31`).
    pub title: String,
    /// The revision before the change (absent for creations and log entries).
    pub old_revision: Option<u64>,
    /// The revision the change made (absent for log entries).
    pub new_revision: Option<u64>,
    /// The page length before the change, in bytes.
    pub old_length: Option<i64>,
    /// The page length after the change, in bytes.
    pub new_length: Option<i64>,
    /// When the change was made.
    pub timestamp: Timestamp,
    /// The account that made the change (absent when redacted or hidden).
    pub user: Option<String>,
    /// Whether the change is flagged as a bot edit.
    pub bot: Option<bool>,
    /// Whether the change is flagged as minor.
    pub minor: Option<bool>,
    /// Whether the change is patrolled (only where patrolling is enabled).
    pub patrolled: Option<bool>,
    /// The edit summary, raw.
    pub comment: Option<String>,
    /// The edit summary as HTML, as the server rendered it. Untrusted: escape or
    /// sanitise before showing it.
    pub parsedcomment: Option<String>,
    /// The URL of the page.
    pub uri: Option<String>,
}

impl Edit {
    /// The key that identifies this change: (wiki, rc id).
    pub fn key(&self) -> (&str, u64) {
        (&self.wiki, self.rcid)
    }

    /// The size change in bytes, a missing length counting as 0.
    pub fn diff_size(&self) -> i64 {
        self.new_length
            .unwrap_or(0)
            .saturating_sub(self.old_length.unwrap_or(0))
    }

    /// The comment, or the empty string.
    pub fn comment_str(&self) -> &str {
        self.comment.as_deref().unwrap_or("")
    }

    /// The position of this change in its wiki's history: by timestamp, then rc id.
    pub fn position(&self) -> EventPosition {
        EventPosition {
            timestamp: self.timestamp,
            rcid: self.rcid,
        }
    }
}

/// Where a change stands in its wiki's history. Ordered by timestamp, then by rc id
/// (rc ids grow with insertion, which breaks ties within one second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EventPosition {
    /// When the change was made.
    pub timestamp: Timestamp,
    /// Its recent-changes id.
    pub rcid: u64,
}
