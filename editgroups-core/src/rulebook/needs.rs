//! What a chunk reads of the stored state, listed up front so that a store can
//! load it in bulk.

use super::signal::{Signal, signal_of};
use crate::store::Chunk;

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
        sorted(
            chunk
                .edits
                .iter()
                .map(|item| (item.edit.wiki.as_str(), item.edit.rcid))
                .collect(),
        )
    }

    /// Everything a chunk reads, given which of its events were stored before
    /// (`is_seen`): the other lists only name what fresh events need.
    pub fn of(chunk: &'c Chunk, is_seen: impl Fn(&str, u64) -> bool) -> Self {
        // Collected, then sorted and deduplicated once: cheaper than ordered sets
        // kept sorted at every insertion.
        let mut first: foldhash::HashSet<(&str, u64)> = foldhash::HashSet::default();
        let mut events = Vec::new();
        let mut batches = Vec::new();
        let mut pages = Vec::new();
        let mut undone = Vec::new();
        let mut made = Vec::new();
        let mut signal_titles = Vec::new();
        let mut page_titles = Vec::new();
        for item in &chunk.edits {
            let e = &item.edit;
            let wiki = e.wiki.as_str();
            if is_seen(wiki, e.rcid) || !first.insert((wiki, e.rcid)) {
                continue;
            }
            events.push((wiki, e.rcid));
            match signal_of(e) {
                Some(Signal::Undo { revision }) => undone.push((wiki, revision)),
                Some(Signal::Page { title, .. }) => signal_titles.push((wiki, title)),
                None => {}
            }
            if let Some(m) = &item.attribution {
                let key = (wiki, m.tool.as_str(), m.uid.as_str());
                batches.push(key);
                pages.push((key, e.title.as_str()));
                if let Some(rev) = e.new_revision {
                    made.push((wiki, rev));
                }
                if e.change_type.creates_page() || e.change_type.is_delete() {
                    page_titles.push((wiki, e.title.as_str()));
                }
            }
        }
        Self {
            events: sorted(events),
            batches: sorted(batches),
            pages: sorted(pages),
            undone_revisions: sorted(undone),
            made_revisions: sorted(made),
            signal_titles: sorted(signal_titles),
            page_titles: sorted(page_titles),
        }
    }
}

/// The values in order, each once.
fn sorted<T: Ord>(mut values: Vec<T>) -> Vec<T> {
    values.sort_unstable();
    values.dedup();
    values
}
