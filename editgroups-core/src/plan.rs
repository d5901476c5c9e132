//! What undoing a batch takes: one action on the wiki per edit, newest edit first.
//!
//! The plan is pure: it is computed from a batch's stored edits and says, for each
//! edit, how it is undone through the MediaWiki API, or why it cannot be:
//! - an edit of an existing page (it has an old and a new revision) is undone with
//!   `action=edit&undo=REV`;
//! - a change that brought a page into existence (a creation, an upload, a
//!   restore) is undone by deleting the page;
//! - a deletion is undone by restoring the page (`action=undelete`);
//! - an edit already reverted is left out;
//! - anything else (a move, a patrol, a protection, any log action a rule happened
//!   to match) cannot be undone through the API: it is listed with the reason and
//!   does not stop the rest.
//!
//! The summaries follow EditGroups (§6.3 of its behaviour): the undo of revision
//! `REV` made by `USER` says `/* undo:0||REV|USER */ COMMENT ([[:toolforge:editgroups/b/EG/UID|details]])`,
//! deletions and restores say `COMMENT ([[…|details]])`. The `EG` rule of
//! [`RuleSet::defaults`](crate::RuleSet::defaults) attributes these to a new batch
//! whose id is the task's, and the `/* undo:0||REV|` prefix is what marks the
//! undone edit reverted.

use crate::edit::ChangeType;
use crate::store::{BatchKey, StoredEdit};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::fmt;

/// How one edit is undone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "snake_case")]
pub enum RevertOperation {
    /// `action=edit&undo=REV`: undo the revision the edit made.
    Undo {
        /// The revision to undo (the edit's new revision).
        revision: u64,
        /// The account that made it, named in the undo summary as MediaWiki's own
        /// undo autocomment does (empty when the stored edit has no user).
        editing_user: String,
    },
    /// `action=delete`: the edit created the page (creation, upload, restore).
    Delete,
    /// `action=undelete`: the edit deleted the page.
    Undelete,
    /// Nothing the API can do.
    CannotUndo {
        /// Why, for people.
        reason: String,
    },
}

impl RevertOperation {
    /// A short name: `undo`, `delete`, `undelete` or `none`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Undo { .. } => "undo",
            Self::Delete => "delete",
            Self::Undelete => "undelete",
            Self::CannotUndo { .. } => "none",
        }
    }

    /// The user right this operation needs on the wiki, if any beyond editing.
    pub fn right(&self) -> Option<&'static str> {
        match self {
            Self::Undo { .. } => Some("edit"),
            Self::Delete => Some("delete"),
            Self::Undelete => Some("undelete"),
            Self::CannotUndo { .. } => None,
        }
    }

    /// Whether an API call can carry it out.
    pub fn is_doable(&self) -> bool {
        !matches!(self, Self::CannotUndo { .. })
    }
}

impl fmt::Display for RevertOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Undo { revision, .. } => write!(f, "undo revision {revision}"),
            Self::Delete => f.write_str("delete the page"),
            Self::Undelete => f.write_str("restore the page"),
            Self::CannotUndo { reason } => write!(f, "cannot be undone: {reason}"),
        }
    }
}

/// One edit of the batch and what undoes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAction {
    /// The edit's recent-changes id (on the batch's wiki).
    pub rcid: u64,
    /// The page's namespace.
    pub namespace: i64,
    /// The page.
    pub title: String,
    /// What to do.
    pub operation: RevertOperation,
}

/// The actions that undo a batch, newest edit first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoPlan {
    /// The batch.
    pub batch: BatchKey,
    /// One action per edit not yet reverted, newest edit first (by time, then rc
    /// id), those that cannot be undone included.
    pub actions: Vec<PlannedAction>,
    /// Edits left out because they are already reverted.
    pub already_reverted: u64,
}

/// The counts of a plan, as the `undo` example prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanCounts {
    /// Revisions to undo.
    pub undos: u64,
    /// Pages to delete.
    pub deletions: u64,
    /// Pages to restore.
    pub undeletions: u64,
    /// Edits that cannot be undone.
    pub cannot_undo: u64,
    /// Edits left out, already reverted.
    pub already_reverted: u64,
}

impl UndoPlan {
    /// The plan for `batch` from its stored edits (in any order; edits of other
    /// batches must not be among them).
    pub fn new(batch: BatchKey, edits: &[StoredEdit]) -> Self {
        let mut pending: Vec<&StoredEdit> = edits.iter().filter(|e| !e.reverted).collect();
        pending.sort_by_key(|e| Reverse(e.edit.position()));
        let actions = pending
            .into_iter()
            .map(|stored| {
                let edit = &stored.edit;
                PlannedAction {
                    rcid: edit.rcid,
                    namespace: edit.namespace,
                    title: edit.title.clone(),
                    operation: operation_for(
                        &edit.change_type,
                        edit.old_revision,
                        edit.new_revision,
                        edit.user.as_deref(),
                    ),
                }
            })
            .collect();
        Self {
            batch,
            actions,
            already_reverted: edits.iter().filter(|e| e.reverted).count() as u64,
        }
    }

    /// How many actions of each kind.
    pub fn counts(&self) -> PlanCounts {
        let mut counts = PlanCounts {
            already_reverted: self.already_reverted,
            ..PlanCounts::default()
        };
        for action in &self.actions {
            match action.operation {
                RevertOperation::Undo { .. } => counts.undos += 1,
                RevertOperation::Delete => counts.deletions += 1,
                RevertOperation::Undelete => counts.undeletions += 1,
                RevertOperation::CannotUndo { .. } => counts.cannot_undo += 1,
            }
        }
        counts
    }

    /// Whether at least one action can be carried out.
    pub fn has_work(&self) -> bool {
        self.actions.iter().any(|a| a.operation.is_doable())
    }

    /// The user rights the plan needs: `edit` for undos, `delete` for creations,
    /// `undelete` for deletions.
    pub fn required_rights(&self) -> BTreeSet<&'static str> {
        required_rights(self.actions.iter().map(|a| &a.operation))
    }
}

/// The rights a set of operations needs.
pub fn required_rights<'a>(
    operations: impl IntoIterator<Item = &'a RevertOperation>,
) -> BTreeSet<&'static str> {
    operations
        .into_iter()
        .filter_map(RevertOperation::right)
        .collect()
}

/// The rights of `needed` that `rights` (the account's, from
/// `meta=userinfo&uiprop=rights`) lacks.
pub fn missing_rights<'a>(needed: &BTreeSet<&'a str>, rights: &[impl AsRef<str>]) -> Vec<&'a str> {
    needed
        .iter()
        .copied()
        .filter(|right| !rights.iter().any(|r| r.as_ref() == *right))
        .collect()
}

/// What undoes one change.
pub fn operation_for(
    change_type: &ChangeType,
    old_revision: Option<u64>,
    new_revision: Option<u64>,
    user: Option<&str>,
) -> RevertOperation {
    if change_type.creates_page() {
        return RevertOperation::Delete;
    }
    if change_type.is_delete() {
        return RevertOperation::Undelete;
    }
    let reason = match change_type {
        ChangeType::Edit => match (old_revision, new_revision) {
            (Some(_), Some(revision)) => {
                return RevertOperation::Undo {
                    revision,
                    editing_user: user.unwrap_or_default().to_owned(),
                };
            }
            _ => "the edit's revision ids were not recorded".to_owned(),
        },
        ChangeType::Log {
            log_type,
            log_action,
        } => format!(
            "a {}/{} log entry cannot be undone through the API",
            log_type.as_deref().unwrap_or("?"),
            log_action.as_deref().unwrap_or("?")
        ),
        other => format!(
            "a change of type {} cannot be undone through the API",
            other.type_name()
        ),
    };
    RevertOperation::CannotUndo { reason }
}

/// The default link prefix of the stamp: `[[:toolforge:editgroups/b/EG/UID|details]]`.
pub const DEFAULT_LINK_PREFIX: &str = ":toolforge:editgroups";

/// The tool short id under which undo edits are attributed.
pub const REVERT_TOOL: &str = "EG";

/// The stamp that links each undo action to its task, and the summaries built
/// with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryStamp {
    link_prefix: String,
}

impl Default for SummaryStamp {
    fn default() -> Self {
        Self {
            link_prefix: DEFAULT_LINK_PREFIX.to_owned(),
        }
    }
}

impl SummaryStamp {
    /// A stamp linking to `[[PREFIX/b/EG/UID|details]]`. The prefix must end with
    /// `editgroups` (so that the `EG` rule recognises the stamp) and hold no
    /// brackets, pipes or line breaks.
    pub fn new(link_prefix: impl Into<String>) -> Result<Self, String> {
        let link_prefix = link_prefix.into();
        if !link_prefix.ends_with("editgroups") {
            return Err(format!(
                "the link prefix {link_prefix:?} must end with \"editgroups\" (e.g. {DEFAULT_LINK_PREFIX:?}), or the EG rule will not recognise the undo edits"
            ));
        }
        if link_prefix.contains(['[', ']', '|', '\n', '\r']) {
            return Err(format!(
                "the link prefix {link_prefix:?} holds a bracket, a pipe or a line break"
            ));
        }
        Ok(Self { link_prefix })
    }

    /// The link prefix.
    pub fn link_prefix(&self) -> &str {
        &self.link_prefix
    }

    /// `COMMENT ([[PREFIX/b/EG/UID|details]])`: the reason of deletions and
    /// restores, and the end of undo summaries.
    pub fn reason(&self, comment: &str, task_uid: &str) -> String {
        format!(
            "{comment} ([[{}/b/{REVERT_TOOL}/{task_uid}|details]])",
            self.link_prefix
        )
    }

    /// `/* undo:0||REV|USER */ COMMENT ([[…|details]])`.
    pub fn undo_summary(
        &self,
        revision: u64,
        editing_user: &str,
        comment: &str,
        task_uid: &str,
    ) -> String {
        format!(
            "/* undo:0||{revision}|{editing_user} */ {}",
            self.reason(comment, task_uid)
        )
    }

    /// The summary (or reason) of an operation, `None` for one that cannot be done.
    pub fn summary(
        &self,
        operation: &RevertOperation,
        comment: &str,
        task_uid: &str,
    ) -> Option<String> {
        match operation {
            RevertOperation::Undo {
                revision,
                editing_user,
            } => Some(self.undo_summary(*revision, editing_user, comment, task_uid)),
            RevertOperation::Delete | RevertOperation::Undelete => {
                Some(self.reason(comment, task_uid))
            }
            RevertOperation::CannotUndo { .. } => None,
        }
    }
}

/// The part of every summary of task `task_uid` that no other task's has,
/// whatever the link prefix: `/b/EG/UID|details]]`. Used to recognise the task's
/// own changes in a page's history.
pub fn task_marker(task_uid: &str) -> String {
    format!("/b/{REVERT_TOOL}/{task_uid}|details]]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Edit;
    use crate::matcher::{RegexToolMatcher, ToolMatcher};
    use crate::rulebook::undone_revision;
    use crate::testing::edit;

    fn stored(edit: Edit, reverted: bool) -> StoredEdit {
        StoredEdit {
            edit,
            reverted,
            reverted_by: None,
        }
    }

    fn key() -> BatchKey {
        BatchKey::new("w", "QSv2", "7")
    }

    #[test]
    fn actions_go_newest_first_and_match_each_change() {
        let edits = vec![
            stored(edit("w", 1).title("Q1").at(100).created().build(), false),
            stored(edit("w", 2).title("Q1").at(101).user("Bot").build(), false),
            stored(
                edit("w", 3)
                    .title("Q2")
                    .at(101)
                    .log("delete", "delete")
                    .build(),
                false,
            ),
            stored(
                edit("w", 4)
                    .title("File:X")
                    .at(99)
                    .log("upload", "upload")
                    .build(),
                false,
            ),
            stored(
                edit("w", 5)
                    .title("Q3")
                    .at(102)
                    .log("delete", "restore")
                    .build(),
                false,
            ),
        ];
        let plan = UndoPlan::new(key(), &edits);
        let order: Vec<u64> = plan.actions.iter().map(|a| a.rcid).collect();
        // Newest first: time, then rc id.
        assert_eq!(order, [5, 3, 2, 1, 4]);
        let ops: Vec<&RevertOperation> = plan.actions.iter().map(|a| &a.operation).collect();
        assert_eq!(
            ops,
            [
                &RevertOperation::Delete,
                &RevertOperation::Undelete,
                &RevertOperation::Undo {
                    revision: 21,
                    editing_user: "Bot".into()
                },
                &RevertOperation::Delete,
                &RevertOperation::Delete,
            ]
        );
        assert_eq!(
            plan.counts(),
            PlanCounts {
                undos: 1,
                deletions: 3,
                undeletions: 1,
                cannot_undo: 0,
                already_reverted: 0
            }
        );
        assert_eq!(
            plan.required_rights().into_iter().collect::<Vec<_>>(),
            ["delete", "edit", "undelete"]
        );
    }

    #[test]
    fn reverted_edits_are_left_out_and_the_impossible_is_listed_not_fatal() {
        let edits = vec![
            stored(edit("w", 1).at(100).build(), true),
            stored(edit("w", 2).at(101).log("move", "move").build(), false),
            stored(edit("w", 3).at(102).revisions(None, Some(9)).build(), false),
            stored(edit("w", 4).at(103).build(), false),
            stored(
                edit("w", 5).at(104).log("delete", "revision").build(),
                false,
            ),
        ];
        let plan = UndoPlan::new(key(), &edits);
        assert_eq!(plan.already_reverted, 1);
        assert_eq!(plan.actions.len(), 4);
        let reasons: Vec<String> = plan
            .actions
            .iter()
            .filter_map(|a| match &a.operation {
                RevertOperation::CannotUndo { reason } => Some(reason.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].contains("delete/revision"), "{reasons:?}");
        assert!(reasons[1].contains("revision ids"), "{reasons:?}");
        assert!(reasons[2].contains("move/move"), "{reasons:?}");
        assert!(plan.has_work());
        assert_eq!(plan.counts().undos, 1);
        assert_eq!(plan.counts().cannot_undo, 3);
        assert_eq!(
            plan.required_rights().into_iter().collect::<Vec<_>>(),
            ["edit"]
        );

        // Nothing but the impossible: no work.
        let plan = UndoPlan::new(key(), &edits[1..2]);
        assert!(!plan.has_work());
        assert!(plan.required_rights().is_empty());
        // Everything reverted: nothing at all.
        let plan = UndoPlan::new(key(), &edits[..1]);
        assert!(plan.actions.is_empty());
    }

    #[test]
    fn missing_rights_are_named() {
        let needed: BTreeSet<&str> = ["delete", "edit", "undelete"].into();
        let rights = ["edit".to_owned(), "createpage".to_owned()];
        assert_eq!(missing_rights(&needed, &rights), ["delete", "undelete"]);
        assert!(missing_rights(&BTreeSet::new(), &rights).is_empty());
    }

    #[test]
    fn summaries_are_attributed_to_the_task_by_the_default_rules() {
        let matcher = RegexToolMatcher::default();
        for stamp in [
            SummaryStamp::default(),
            SummaryStamp::new(":toollabs:editgroups").unwrap(),
            SummaryStamp::new("Project:editgroups").unwrap(),
        ] {
            let undo = RevertOperation::Undo {
                revision: 645_124_687,
                editing_user: "QuickStatementsBot".into(),
            };
            let comment = "Reverting a bad import, see talk";
            let summary = stamp.summary(&undo, comment, "0a1b2c3").unwrap();
            assert!(
                summary.starts_with("/* undo:0||645124687|QuickStatementsBot */ "),
                "{summary}"
            );
            assert_eq!(undone_revision(&summary), Some(645_124_687));
            let undo_edit = edit("w", 9).comment(&summary).user("UndoBot").build();
            let found = matcher.match_edit(&undo_edit).expect("the EG rule matches");
            assert_eq!(
                (found.tool.as_str(), found.uid.as_str(), found.user.as_str()),
                ("EG", "0a1b2c3", "UndoBot"),
                "{summary}"
            );
            assert_eq!(found.summary, comment);

            let reason = stamp
                .summary(&RevertOperation::Delete, comment, "0a1b2c3")
                .unwrap();
            assert!(reason.contains(&task_marker("0a1b2c3")), "{reason}");
            let deletion = edit("w", 10)
                .log("delete", "delete")
                .comment(&reason)
                .user("UndoBot")
                .build();
            let found = matcher.match_edit(&deletion).expect("the EG rule matches");
            assert_eq!((found.tool.as_str(), found.uid.as_str()), ("EG", "0a1b2c3"));
            assert_eq!(found.summary, comment);
            assert_eq!(
                stamp.summary(&RevertOperation::Undelete, comment, "0a1b2c3"),
                Some(reason)
            );
            assert_eq!(
                stamp.summary(
                    &RevertOperation::CannotUndo { reason: "x".into() },
                    comment,
                    "0a1b2c3"
                ),
                None
            );
        }
    }

    #[test]
    fn link_prefixes_the_rules_would_miss_are_refused() {
        assert!(SummaryStamp::new(":toolforge:mytool").is_err());
        assert!(SummaryStamp::new(":toolforge:edit|groups").is_err());
        assert!(SummaryStamp::new("[[x]]editgroups").is_err());
        assert_eq!(
            SummaryStamp::default().link_prefix(),
            ":toolforge:editgroups"
        );
    }
}
