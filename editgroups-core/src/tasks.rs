//! Revert tasks: a request to undo a batch, with the state of each of its actions,
//! kept in a store so that a worker can run it, be stopped, crash, and go on
//! without doing anything twice.
//!
//! A task is created from an [`UndoPlan`](crate::plan::UndoPlan): one
//! [`RevertAction`] per planned action, in the plan's order (newest edit first).
//! Actions the API cannot carry out start [`ActionState::Skipped`]; the others
//! start [`ActionState::Pending`]. A worker marks an action
//! [`ActionState::Sent`] before it sends it and stores its outcome before it
//! sends the next one, so after a crash an action left `Sent` is the only one
//! whose fate is unknown, and is checked against the wiki before anything else.
//!
//! At most one task per batch runs at a time: stores enforce it atomically (two
//! simultaneous requests cannot both start one).

use crate::edit::Timestamp;
use crate::plan::{PlannedAction, RevertOperation};
use crate::store::{Batch, BatchKey, MAX_KEY_CHARS, StoreError};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Debug};

/// The most characters a task's comment may have (EditGroups' form allows 150).
pub const MAX_COMMENT_CHARS: usize = 150;

/// The number of hex digits of a task id (EditGroups: `%07x`).
pub const TASK_UID_DIGITS: usize = 7;

/// A fresh random task id: seven lower-case hex digits.
pub fn new_task_uid() -> String {
    format!("{:07x}", fastrand::u32(..1 << 28))
}

/// Whether a text is a task id as [`new_task_uid`] makes them.
pub fn is_task_uid(text: &str) -> bool {
    text.len() == TASK_UID_DIGITS
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A request to create a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRevertTask {
    /// The batch to undo.
    pub batch: BatchKey,
    /// The account that asks for it (on the batch's wiki).
    pub user: String,
    /// Why, in 1 to [`MAX_COMMENT_CHARS`] characters; it goes into every summary.
    pub comment: String,
    /// What to do, in order (see [`UndoPlan::actions`](crate::plan::UndoPlan::actions)).
    pub actions: Vec<PlannedAction>,
}

/// Where a task stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for a worker or being run (EditGroups' "active" task).
    Running,
    /// Cancelled; the actions not done stay as they were.
    Cancelled,
    /// Every action was tried.
    Completed,
    /// A worker would not run it, before any change (e.g. missing rights).
    Refused {
        /// Why.
        reason: String,
    },
}

impl TaskStatus {
    /// A short name: `running`, `cancelled`, `completed`, `refused`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Cancelled => "cancelled",
            Self::Completed => "completed",
            Self::Refused { .. } => "refused",
        }
    }

    /// Whether the task still runs (or waits to).
    pub fn is_running(&self) -> bool {
        matches!(self, Self::Running)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused { reason } => write!(f, "refused: {reason}"),
            other => f.write_str(other.name()),
        }
    }
}

/// How a task ends, other than by cancellation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskEnd {
    /// Every action was tried.
    Completed,
    /// Not run, with the reason.
    Refused(String),
}

/// The state of one action.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ActionState {
    /// Not sent yet.
    Pending,
    /// Sent, and no outcome stored: the answer may have been lost. Check the wiki
    /// before sending it again.
    Sent,
    /// Done on the wiki.
    Done {
        /// The revision the undo made.
        revision: Option<u64>,
        /// The log entry of the deletion or restore.
        log_id: Option<u64>,
    },
    /// The wiki refused it.
    Failed {
        /// The API's error code, verbatim (`undofailure`, `missingtitle`, ...).
        code: String,
        /// The API's message.
        message: String,
    },
    /// Not sent, with the reason (it cannot be undone, or there was nothing
    /// left to change).
    Skipped {
        /// Why.
        reason: String,
    },
}

impl ActionState {
    /// A short name: `pending`, `sent`, `done`, `failed`, `skipped`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Done { .. } => "done",
            Self::Failed { .. } => "failed",
            Self::Skipped { .. } => "skipped",
        }
    }

    /// Whether the action is settled: done, failed or skipped.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Done { .. } | Self::Failed { .. } | Self::Skipped { .. }
        )
    }
}

impl fmt::Display for ActionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Done {
                revision: Some(revision),
                ..
            } => write!(f, "done (revision {revision})"),
            Self::Done {
                log_id: Some(id), ..
            } => write!(f, "done (log entry {id})"),
            Self::Failed { code, message } => write!(f, "failed: {code}: {message}"),
            Self::Skipped { reason } => write!(f, "skipped: {reason}"),
            other => f.write_str(other.name()),
        }
    }
}

/// One action of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevertAction {
    /// Its place in the task, from 0: actions are carried out in this order.
    pub seq: u32,
    /// What to do.
    #[serde(flatten)]
    pub planned: PlannedAction,
    /// Where it stands.
    pub state: ActionState,
}

impl RevertAction {
    /// The state an action starts in: skipped when it cannot be done.
    pub fn initial_state(operation: &RevertOperation) -> ActionState {
        match operation {
            RevertOperation::CannotUndo { reason } => ActionState::Skipped {
                reason: reason.clone(),
            },
            _ => ActionState::Pending,
        }
    }
}

/// How many actions of a task are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ActionCounts {
    /// Not sent yet.
    pub pending: u64,
    /// Sent, outcome unknown.
    pub sent: u64,
    /// Done.
    pub done: u64,
    /// Refused by the wiki.
    pub failed: u64,
    /// Not sent, with a reason.
    pub skipped: u64,
}

impl ActionCounts {
    /// Counts the states of `actions`.
    pub fn of<'a>(actions: impl IntoIterator<Item = &'a ActionState>) -> Self {
        let mut counts = Self::default();
        for state in actions {
            counts.add(state.name(), 1);
        }
        counts
    }

    /// Adds `n` actions in the state named `state` (see [`ActionState::name`]);
    /// unknown names are ignored.
    pub fn add(&mut self, state: &str, n: u64) {
        match state {
            "pending" => self.pending += n,
            "sent" => self.sent += n,
            "done" => self.done += n,
            "failed" => self.failed += n,
            "skipped" => self.skipped += n,
            _ => {}
        }
    }

    /// Every action.
    pub fn total(&self) -> u64 {
        self.pending + self.sent + self.done + self.failed + self.skipped
    }

    /// Actions not settled yet: pending or sent.
    pub fn unsettled(&self) -> u64 {
        self.pending + self.sent
    }
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevertTask {
    /// Its id: seven hex digits, which become the uid of the `EG` batch its
    /// actions make.
    pub uid: String,
    /// The batch it undoes.
    pub batch: BatchKey,
    /// The account that asked for it.
    pub user: String,
    /// Why.
    pub comment: String,
    /// When it was created.
    pub created: Timestamp,
    /// Where it stands.
    pub status: TaskStatus,
    /// When it was cancelled, completed or refused.
    pub finished: Option<Timestamp>,
    /// Its actions by state.
    pub counts: ActionCounts,
}

impl RevertTask {
    /// The key of the batch its actions make on the wiki: (wiki, `EG`, uid).
    pub fn revert_batch(&self) -> BatchKey {
        BatchKey::new(
            self.batch.wiki.clone(),
            crate::plan::REVERT_TOOL,
            self.uid.clone(),
        )
    }
}

/// Which tasks to list. Filters combine with AND.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskQuery {
    /// Only the tasks of this batch.
    pub batch: Option<BatchKey>,
    /// Only the tasks of batches of this wiki.
    pub wiki: Option<String>,
    /// Only running tasks.
    pub running_only: bool,
    /// At most this many (0: no limit).
    pub limit: u64,
}

impl TaskQuery {
    /// Every task.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only the tasks of this batch.
    pub fn with_batch(mut self, batch: BatchKey) -> Self {
        self.batch = Some(batch);
        self
    }

    /// Only the tasks of this wiki.
    pub fn with_wiki(mut self, wiki: impl Into<String>) -> Self {
        self.wiki = Some(wiki.into());
        self
    }

    /// Only running tasks.
    pub fn running(mut self) -> Self {
        self.running_only = true;
        self
    }

    /// At most `limit` tasks.
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// Whether `task` passes the filters (the limit aside).
    pub fn matches(&self, task: &RevertTask) -> bool {
        self.batch.as_ref().is_none_or(|b| *b == task.batch)
            && self.wiki.as_ref().is_none_or(|w| *w == task.batch.wiki)
            && (!self.running_only || task.status.is_running())
    }
}

/// Why a task was not created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateTaskError {
    /// The store has no such batch.
    #[error("there is no batch {0}")]
    NoSuchBatch(BatchKey),
    /// A task for the batch is running (EditGroups: "This batch is already being
    /// canceled").
    #[error("batch {batch} is already being undone by task {task}")]
    AlreadyRunning {
        /// The batch.
        batch: BatchKey,
        /// The running task's id.
        task: String,
    },
    /// Every edit of the batch is reverted, or none can be undone.
    #[error("batch {0} has no edit left that can be undone")]
    NothingToUndo(BatchKey),
    /// The batch is archived: its edits are no longer all stored.
    #[error("batch {0} has been archived, it can no longer be undone")]
    Archived(BatchKey),
    /// The comment is empty, too long, or holds a line break or control
    /// character.
    #[error("invalid comment: {0}")]
    InvalidComment(String),
    /// The requesting account is empty or too long.
    #[error("invalid user: {0}")]
    InvalidUser(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a comment: 1 to [`MAX_COMMENT_CHARS`] characters, not blank, no line
/// breaks or control characters (summaries are one line; a line break would also
/// hide the stamp from the tool rules).
pub fn check_comment(comment: &str) -> Result<(), CreateTaskError> {
    let chars = comment.chars().count();
    if comment.trim().is_empty() {
        return Err(CreateTaskError::InvalidComment(
            "a comment is required".into(),
        ));
    }
    if chars > MAX_COMMENT_CHARS {
        return Err(CreateTaskError::InvalidComment(format!(
            "{chars} characters, at most {MAX_COMMENT_CHARS} are allowed"
        )));
    }
    if comment.chars().any(char::is_control) {
        return Err(CreateTaskError::InvalidComment(
            "line breaks and control characters are not allowed".into(),
        ));
    }
    Ok(())
}

/// The checks every store makes before creating a task, given the batch it found
/// (or `None`): the comment, the user, the batch's existence, that it is not
/// archived, and that something is left to undo. The running-task check is the
/// store's own, done atomically with the insert.
pub fn check_new_task(task: &NewRevertTask, batch: Option<&Batch>) -> Result<(), CreateTaskError> {
    check_comment(&task.comment)?;
    let user_chars = task.user.chars().count();
    if task.user.trim().is_empty() || user_chars > MAX_KEY_CHARS {
        return Err(CreateTaskError::InvalidUser(format!(
            "{:?}: 1 to {MAX_KEY_CHARS} characters",
            crate::store::truncate_chars(&task.user, 40)
        )));
    }
    let Some(batch) = batch else {
        return Err(CreateTaskError::NoSuchBatch(task.batch.clone()));
    };
    if batch.archived {
        return Err(CreateTaskError::Archived(batch.key.clone()));
    }
    let revertable = batch.nb_edits.saturating_sub(batch.nb_reverted_edits);
    if revertable == 0 || !task.actions.iter().any(|a| a.operation.is_doable()) {
        return Err(CreateTaskError::NothingToUndo(batch.key.clone()));
    }
    Ok(())
}

/// Where revert tasks are kept.
///
/// # Contract
/// - [`create_revert_task`](Self::create_revert_task) makes a task with a fresh
///   [`new_task_uid`] (unique among the store's tasks, and not the uid of an `EG`
///   batch of the wiki), status [`TaskStatus::Running`], the creation time, and one
///   action per planned action in order, each in its
///   [`RevertAction::initial_state`]. It refuses with [`check_new_task`]'s errors,
///   and with [`CreateTaskError::AlreadyRunning`] when a task of the batch runs:
///   atomically, so that of two simultaneous requests one fails.
/// - [`record_action`](Self::record_action) stores an action's state durably
///   before it returns, whatever the task's status (the outcome of an action in
///   flight when the task was cancelled is still recorded).
/// - [`cancel_revert_task`](Self::cancel_revert_task) and
///   [`finish_revert_task`](Self::finish_revert_task) change only a running
///   task, set `finished`, and return the task as it is afterwards.
/// - Lists are newest created first (ties by uid).
///
/// The conformance suite in `editgroups_core::testing::tasks` (feature
/// `testing`) checks this.
#[async_trait]
pub trait RevertTaskStore: Send + Sync + Debug {
    /// Creates a task (see the contract).
    async fn create_revert_task(&self, task: &NewRevertTask)
    -> Result<RevertTask, CreateTaskError>;

    /// One task.
    async fn revert_task(&self, uid: &str) -> Result<Option<RevertTask>, StoreError>;

    /// Tasks matching a query, newest first.
    async fn revert_tasks(&self, query: &TaskQuery) -> Result<Vec<RevertTask>, StoreError>;

    /// A task's actions, in order (empty for an unknown task).
    async fn revert_actions(&self, uid: &str) -> Result<Vec<RevertAction>, StoreError>;

    /// Stores the state of action `seq` of task `uid`. An unknown task or action
    /// is an error.
    async fn record_action(
        &self,
        uid: &str,
        seq: u32,
        state: &ActionState,
    ) -> Result<(), StoreError>;

    /// Cancels a running task; returns the task as it is now (`None`: unknown).
    async fn cancel_revert_task(&self, uid: &str) -> Result<Option<RevertTask>, StoreError>;

    /// Ends a running task as completed or refused; returns the task as it is now.
    async fn finish_revert_task(
        &self,
        uid: &str,
        end: &TaskEnd,
    ) -> Result<Option<RevertTask>, StoreError>;
}

macro_rules! forward_tasks {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<T: RevertTaskStore + ?Sized> RevertTaskStore for $ty {
            async fn create_revert_task(&self, task: &NewRevertTask) -> Result<RevertTask, CreateTaskError> {
                (**self).create_revert_task(task).await
            }
            async fn revert_task(&self, uid: &str) -> Result<Option<RevertTask>, StoreError> {
                (**self).revert_task(uid).await
            }
            async fn revert_tasks(&self, query: &TaskQuery) -> Result<Vec<RevertTask>, StoreError> {
                (**self).revert_tasks(query).await
            }
            async fn revert_actions(&self, uid: &str) -> Result<Vec<RevertAction>, StoreError> {
                (**self).revert_actions(uid).await
            }
            async fn record_action(&self, uid: &str, seq: u32, state: &ActionState) -> Result<(), StoreError> {
                (**self).record_action(uid, seq, state).await
            }
            async fn cancel_revert_task(&self, uid: &str) -> Result<Option<RevertTask>, StoreError> {
                (**self).cancel_revert_task(uid).await
            }
            async fn finish_revert_task(&self, uid: &str, end: &TaskEnd) -> Result<Option<RevertTask>, StoreError> {
                (**self).finish_revert_task(uid, end).await
            }
        }
    )*};
}

forward_tasks!(std::sync::Arc<T>, Box<T>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlannedAction;
    use chrono::DateTime;

    fn batch(nb_edits: u64, reverted: u64) -> Batch {
        let t = DateTime::from_timestamp(1_600_000_000, 0).unwrap();
        Batch {
            key: BatchKey::new("w", "QSv2", "1"),
            user: "Ann".into(),
            summary: String::new(),
            nb_edits,
            nb_distinct_pages: 1,
            nb_new_pages: 0,
            nb_reverted_edits: reverted,
            total_diffsize: 0,
            started: t,
            ended: t,
            tags: Vec::new(),
            archived: false,
        }
    }

    fn task(comment: &str, operation: RevertOperation) -> NewRevertTask {
        NewRevertTask {
            batch: BatchKey::new("w", "QSv2", "1"),
            user: "Ann".into(),
            comment: comment.into(),
            actions: vec![PlannedAction {
                rcid: 1,
                namespace: 0,
                title: "Q1".into(),
                operation,
            }],
        }
    }

    #[test]
    fn uids_are_seven_hex_digits_and_vary() {
        let uids: std::collections::HashSet<String> = (0..200).map(|_| new_task_uid()).collect();
        assert!(uids.len() > 190);
        assert!(uids.iter().all(|u| is_task_uid(u)), "{uids:?}");
        assert!(!is_task_uid("abcdefg") && !is_task_uid("ABCDEF1") && !is_task_uid("123456"));
    }

    #[test]
    fn new_tasks_are_checked() {
        let delete = RevertOperation::Delete;
        let ok = task("Bad import", delete.clone());
        assert!(check_new_task(&ok, Some(&batch(2, 0))).is_ok());
        let refused = |t: &NewRevertTask, b: Option<&Batch>| check_new_task(t, b).unwrap_err();
        assert!(matches!(
            refused(&ok, None),
            CreateTaskError::NoSuchBatch(_)
        ));
        assert!(matches!(
            refused(&ok, Some(&batch(2, 2))),
            CreateTaskError::NothingToUndo(_)
        ));
        let impossible = task(
            "x",
            RevertOperation::CannotUndo {
                reason: "move".into(),
            },
        );
        assert!(matches!(
            refused(&impossible, Some(&batch(2, 0))),
            CreateTaskError::NothingToUndo(_)
        ));
        for comment in ["", "   ", "two\nlines", "tab\there"] {
            assert!(
                matches!(
                    refused(&task(comment, delete.clone()), Some(&batch(2, 0))),
                    CreateTaskError::InvalidComment(_)
                ),
                "{comment:?}"
            );
        }
        let long = "é".repeat(MAX_COMMENT_CHARS + 1);
        let err = refused(&task(&long, delete.clone()), Some(&batch(2, 0)));
        assert!(err.to_string().contains("151 characters"), "{err}");
        assert!(check_comment(&"é".repeat(MAX_COMMENT_CHARS)).is_ok());
        let mut nobody = ok.clone();
        nobody.user = " ".into();
        assert!(matches!(
            refused(&nobody, Some(&batch(2, 0))),
            CreateTaskError::InvalidUser(_)
        ));
    }

    #[test]
    fn counts_and_queries() {
        let states = [
            ActionState::Pending,
            ActionState::Sent,
            ActionState::Done {
                revision: Some(3),
                log_id: None,
            },
            ActionState::Skipped { reason: "x".into() },
            ActionState::Pending,
        ];
        let counts = ActionCounts::of(&states);
        assert_eq!((counts.pending, counts.sent, counts.done), (2, 1, 1));
        assert_eq!((counts.total(), counts.unsettled()), (5, 3));
        let t = RevertTask {
            uid: "abc1234".into(),
            batch: BatchKey::new("w", "QSv2", "1"),
            user: "Ann".into(),
            comment: "c".into(),
            created: DateTime::from_timestamp(1, 0).unwrap(),
            status: TaskStatus::Cancelled,
            finished: None,
            counts,
        };
        assert!(TaskQuery::new().matches(&t));
        assert!(TaskQuery::new().with_wiki("w").matches(&t));
        assert!(!TaskQuery::new().with_wiki("x").matches(&t));
        assert!(!TaskQuery::new().running().matches(&t));
        assert!(
            !TaskQuery::new()
                .with_batch(BatchKey::new("w", "QSv2", "2"))
                .matches(&t)
        );
        assert_eq!(t.revert_batch(), BatchKey::new("w", "EG", "abc1234"));
    }
}
