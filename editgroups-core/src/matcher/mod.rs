//! Recognising, from an edit summary, which tool made an edit and which batch it
//! belongs to.

mod error;
mod regex_matcher;
mod rules;

pub use error::{RuleError, RuleErrorKind};
pub use regex_matcher::RegexToolMatcher;
pub use rules::{Rule, RuleSet};

use crate::edit::Edit;
use std::fmt::Debug;

/// The attribution of one edit to a batch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ToolMatch {
    /// The tool's short id, e.g. `OR`, `QSv2`, `EG`.
    pub tool: String,
    /// The batch id within the tool.
    pub uid: String,
    /// The author of the batch: the account named in the summary for proxy tools
    /// (QuickStatements), the editing account otherwise.
    pub user: String,
    /// The batch summary taken from the edit summary, or the empty string.
    pub summary: String,
}

/// Recognises the tool and batch of an edit.
///
/// Matching is pure CPU work on one edit, so the trait is synchronous; it must be
/// cheap for the edits that match nothing, which are most of a real stream.
///
/// # Contract
/// - The same edit always gives the same answer.
/// - A match never has an empty `uid` or `tool`.
pub trait ToolMatcher: Send + Sync + Debug {
    /// The attribution of `edit`, or `None` when no tool made it.
    fn match_edit(&self, edit: &Edit) -> Option<ToolMatch>;
}

impl<T: ToolMatcher + ?Sized> ToolMatcher for std::sync::Arc<T> {
    fn match_edit(&self, edit: &Edit) -> Option<ToolMatch> {
        (**self).match_edit(edit)
    }
}

impl<T: ToolMatcher + ?Sized> ToolMatcher for Box<T> {
    fn match_edit(&self, edit: &Edit) -> Option<ToolMatch> {
        (**self).match_edit(edit)
    }
}

impl<T: ToolMatcher + ?Sized> ToolMatcher for &T {
    fn match_edit(&self, edit: &Edit) -> Option<ToolMatch> {
        (**self).match_edit(edit)
    }
}
