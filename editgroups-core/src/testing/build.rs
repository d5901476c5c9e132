use crate::cursor::Cursor;
use crate::edit::{ChangeType, Edit};
use crate::matcher::ToolMatch;
use crate::store::{Chunk, ChunkEdit};
use chrono::DateTime;

/// Starts building an edit of `wiki` with rc id `rcid`: an `edit` of `Q<rcid>` in
/// namespace 0 at Unix time `1_500_000_000 + rcid`.
pub fn edit(wiki: &str, rcid: u64) -> EditBuilder {
    let seconds = 1_500_000_000 + i64::try_from(rcid % 1_000_000_000).unwrap_or(0);
    EditBuilder(Edit {
        wiki: wiki.to_owned(),
        rcid,
        change_type: ChangeType::Edit,
        namespace: 0,
        title: format!("Q{rcid}"),
        old_revision: Some(rcid * 10),
        new_revision: Some(rcid * 10 + 1),
        old_length: Some(100),
        new_length: Some(110),
        timestamp: DateTime::from_timestamp(seconds, 0).unwrap_or_default(),
        user: Some("Editor".to_owned()),
        bot: Some(false),
        minor: Some(false),
        patrolled: None,
        comment: Some(String::new()),
        parsedcomment: None,
        uri: None,
    })
}

/// Builds an [`Edit`] for tests.
#[derive(Debug, Clone)]
pub struct EditBuilder(Edit);

impl EditBuilder {
    /// The page.
    pub fn title(mut self, title: &str) -> Self {
        self.0.title = title.to_owned();
        self
    }

    /// The namespace.
    pub fn namespace(mut self, namespace: i64) -> Self {
        self.0.namespace = namespace;
        self
    }

    /// The time, in Unix seconds.
    pub fn at(mut self, seconds: i64) -> Self {
        self.0.timestamp = DateTime::from_timestamp(seconds, 0).unwrap_or_default();
        self
    }

    /// A page creation (no old revision, no old length).
    pub fn created(mut self) -> Self {
        self.0.change_type = ChangeType::New;
        self.0.old_revision = None;
        self.0.old_length = None;
        self
    }

    /// A log entry (no revisions, no lengths).
    pub fn log(mut self, log_type: &str, log_action: &str) -> Self {
        self.0.change_type = ChangeType::Log {
            log_type: Some(log_type.to_owned()),
            log_action: Some(log_action.to_owned()),
        };
        self.0.old_revision = None;
        self.0.new_revision = None;
        self.0.old_length = None;
        self.0.new_length = None;
        self
    }

    /// The revisions.
    pub fn revisions(mut self, old: Option<u64>, new: Option<u64>) -> Self {
        self.0.old_revision = old;
        self.0.new_revision = new;
        self
    }

    /// The page lengths.
    pub fn lengths(mut self, old: Option<i64>, new: Option<i64>) -> Self {
        self.0.old_length = old;
        self.0.new_length = new;
        self
    }

    /// The summary.
    pub fn comment(mut self, comment: &str) -> Self {
        self.0.comment = Some(comment.to_owned());
        self
    }

    /// The summary as the wiki rendered it (HTML).
    pub fn parsedcomment(mut self, html: &str) -> Self {
        self.0.parsedcomment = Some(html.to_owned());
        self
    }

    /// The editing account.
    pub fn user(mut self, user: &str) -> Self {
        self.0.user = Some(user.to_owned());
        self
    }

    /// The edit.
    pub fn build(self) -> Edit {
        self.0
    }
}

/// An edit attributed to batch (`tool`, `uid`) of `user`, with an empty summary.
pub fn attributed(edit: EditBuilder, tool: &str, uid: &str, user: &str) -> ChunkEdit {
    ChunkEdit {
        edit: edit.build(),
        attribution: Some(ToolMatch {
            tool: tool.to_owned(),
            uid: uid.to_owned(),
            user: user.to_owned(),
            summary: String::new(),
        }),
    }
}

/// An event no tool made (kept for what it reverts).
pub fn unattributed(edit: EditBuilder) -> ChunkEdit {
    ChunkEdit {
        edit: edit.build(),
        attribution: None,
    }
}

/// A chunk of `source` with these edits, a cursor at `position`, and the newest
/// edit time as its progress.
pub fn chunk(source: &str, position: &str, edits: Vec<ChunkEdit>) -> Chunk {
    Chunk {
        source: source.to_owned(),
        cursor: Some(Cursor::new("test", 1, position)),
        latest_event_time: edits.iter().map(|e| e.edit.timestamp).max(),
        edits,
    }
}
