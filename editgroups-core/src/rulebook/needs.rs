//! What a chunk reads of the stored state, listed up front so that a store can
//! load it in bulk.

use super::signal::{Signal, signal_of};
use crate::store::Chunk;
use std::collections::BTreeSet;

/// A batch key borrowed from a chunk: (wiki, tool, uid).
pub type BatchKeyRef<'c> = (&'c str, &'c str, &'c str);

/// The stored state a chunk's rules read, by what a store looks it up with.
///
/// Every list is sorted and free of duplicates. A store that loads state per
/// chunk loads exactly this, then answers [`StoredState`](super::StoredState)
/// from it:
///
/// | list | [`StoredState`](super::StoredState) method it serves |
/// |---|---|
/// | [`Needs::events`] (all the chunk's events, before the rest) | `is_seen` |
/// | `batches` | `batch`, `has_tag` (all the batch's tags) |
/// | `pages` | `has_page` |
/// | `undone_revisions` | `edits_with_revision` (and `batch_by_id` of their batches) |
/// | `made_revisions` | `undos_of` |
/// | `signal_titles` | `edits_on_page` (and `batch_by_id` of their batches) |
/// | `page_titles` | `page_signals` |
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs<'c> {
    /// The chunk's events that were not stored before, each once.
    pub events: Vec<(&'c str, u64)>,
    /// The batches the chunk's fresh attributed edits name.
    pub batches: Vec<BatchKeyRef<'c>>,
    /// (batch, title) of the chunk's fresh attributed edits: is the page new to
    /// the batch?
    pub pages: Vec<(BatchKeyRef<'c>, &'c str)>,
    /// (wiki, revision) the chunk's fresh undos name: which stored edits made
    /// them?
    pub undone_revisions: Vec<(&'c str, u64)>,
    /// (wiki, revision) the chunk's fresh attributed edits made: which stored
    /// undos name them?
    pub made_revisions: Vec<(&'c str, u64)>,
    /// (wiki, title) the chunk's fresh deletions and restores act on: which
    /// stored creations and deletions of the page do they revert?
    pub signal_titles: Vec<(&'c str, &'c str)>,
    /// (wiki, title) of the chunk's fresh attributed creations and deletions:
    /// which stored deletions and restores of the page came after them?
    pub page_titles: Vec<(&'c str, &'c str)>,
}

impl<'c> Needs<'c> {
    /// The events of a chunk, the first thing to look up.
    pub fn events(chunk: &'c Chunk) -> Vec<(&'c str, u64)> {
        let set: BTreeSet<(&str, u64)> = chunk
            .edits
            .iter()
            .map(|item| (item.edit.wiki.as_str(), item.edit.rcid))
            .collect();
        set.into_iter().collect()
    }

    /// Everything a chunk reads, given which of its events were stored before
    /// (`is_seen`): the other lists only name what fresh events need.
    pub fn of(chunk: &'c Chunk, is_seen: impl Fn(&str, u64) -> bool) -> Self {
        let mut first = BTreeSet::new();
        let mut batches = BTreeSet::new();
        let mut pages = BTreeSet::new();
        let mut undone = BTreeSet::new();
        let mut made = BTreeSet::new();
        let mut signal_titles = BTreeSet::new();
        let mut page_titles = BTreeSet::new();
        for item in &chunk.edits {
            let e = &item.edit;
            let wiki = e.wiki.as_str();
            if is_seen(wiki, e.rcid) || !first.insert((wiki, e.rcid)) {
                continue;
            }
            match signal_of(e) {
                Some(Signal::Undo { revision }) => {
                    undone.insert((wiki, revision));
                }
                Some(Signal::Page { title, .. }) => {
                    signal_titles.insert((wiki, title));
                }
                None => {}
            }
            if let Some(m) = &item.attribution {
                let key = (wiki, m.tool.as_str(), m.uid.as_str());
                batches.insert(key);
                pages.insert((key, e.title.as_str()));
                if let Some(rev) = e.new_revision {
                    made.insert((wiki, rev));
                }
                if e.change_type.creates_page() || e.change_type.is_delete() {
                    page_titles.insert((wiki, e.title.as_str()));
                }
            }
        }
        Self {
            events: first.into_iter().collect(),
            batches: batches.into_iter().collect(),
            pages: pages.into_iter().collect(),
            undone_revisions: undone.into_iter().collect(),
            made_revisions: made.into_iter().collect(),
            signal_titles: signal_titles.into_iter().collect(),
            page_titles: page_titles.into_iter().collect(),
        }
    }
}
