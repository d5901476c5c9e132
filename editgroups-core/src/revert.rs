//! Which events revert earlier edits.
//!
//! An attributed edit counts as reverted when:
//! - an undo (a comment starting `/* undo:0||<revid>|`) of any user names its new
//!   revision;
//! - it brought a page into existence (creation, upload, restore) and the page was
//!   deleted later;
//! - it deleted a page and the page was restored later.
//!
//! "Later" compares [`EventPosition`](crate::edit::EventPosition)s: timestamp, then
//! rc id. Every store applies these rules whatever order the events arrive in: an
//! undo or a deletion seen before the edit it reverts still counts, and an edit is
//! counted as reverted at most once.

use crate::edit::Edit;
use regex::Regex;
use std::sync::LazyLock;

static UNDO: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"^/\* undo:0\|\|(\d+)\|").expect("constant pattern")
});

/// What an event says about earlier edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevertSignal<'a> {
    /// The revision with this id was undone.
    Undo {
        /// The undone revision.
        revision: u64,
    },
    /// The page with this title was deleted.
    Delete {
        /// The page.
        title: &'a str,
    },
    /// The page with this title was restored.
    Restore {
        /// The page.
        title: &'a str,
    },
}

/// The revert signal an event carries, if any.
pub fn revert_signal(edit: &Edit) -> Option<RevertSignal<'_>> {
    if edit.change_type.is_delete() {
        return Some(RevertSignal::Delete { title: &edit.title });
    }
    if edit.change_type.is_restore() {
        return Some(RevertSignal::Restore { title: &edit.title });
    }
    undone_revision(edit.comment_str()).map(|revision| RevertSignal::Undo { revision })
}

/// The revision an undo comment names.
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
