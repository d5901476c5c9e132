//! Which events revert earlier edits.

use super::state::PageAction;
use crate::edit::Edit;
use regex::Regex;
use std::sync::LazyLock;

static UNDO: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"^/\* undo:0\|\|(\d+)\|").expect("constant pattern")
});

/// What an event says about earlier edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal<'a> {
    /// The revision with this id was undone.
    Undo {
        /// The undone revision.
        revision: u64,
    },
    /// The page was deleted or restored.
    Page {
        /// Deleted or restored.
        action: PageAction,
        /// The page.
        title: &'a str,
    },
}

/// The revert signal an event carries, if any: a deletion or a restore by its
/// log action, an undo by its comment.
pub fn signal_of(edit: &Edit) -> Option<Signal<'_>> {
    if edit.change_type.is_delete() {
        return Some(Signal::Page {
            action: PageAction::Delete,
            title: &edit.title,
        });
    }
    if edit.change_type.is_restore() {
        return Some(Signal::Page {
            action: PageAction::Restore,
            title: &edit.title,
        });
    }
    undone_revision(edit.comment_str()).map(|revision| Signal::Undo { revision })
}

/// The revision an undo comment names: Wikibase's undo autocomment
/// `/* undo:0||REV|USER */`, whoever made it.
pub fn undone_revision(comment: &str) -> Option<u64> {
    if !comment.starts_with("/* undo:") {
        return None;
    }
    UNDO.captures(comment)?
        .get(1)?
        .as_str()
        .parse()
        .ok()
        .filter(|id| *id <= crate::store::MAX_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_comments_name_the_undone_revision() {
        assert_eq!(
            undone_revision("/* undo:0||645124687|QuickStatementsBot */"),
            Some(645124687)
        );
        assert_eq!(
            undone_revision("/* undo:0||645124673|QuickStatementsBot */ with my summary"),
            Some(645124673)
        );
        assert_eq!(undone_revision("/* undo:1||5|X */"), None);
        assert_eq!(undone_revision("Undo revision 5 by X"), None);
        assert_eq!(
            undone_revision("/* undo:0||99999999999999999999999|X */"),
            None
        );
    }
}
