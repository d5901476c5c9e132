//! Building blocks for stores that keep the rulebook's state in memory: the
//! revert signals, indexed as the rules look them up, and the links between
//! batches and the batches that reverted them.

use super::decision::{LinkChange, NewSignal, SignalTarget};
use super::state::{PageAction, StoredSignal};
use crate::store::Chunk;
use std::collections::HashMap;
use std::hash::Hash;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
/// Values per wiki, then per key within the wiki.
type PerWiki<K, V> = Map<String, Map<K, Vec<V>>>;

/// Revert signals by what they name: undos by revision, deletions and restores
/// by page, each per wiki.
#[derive(Debug, Clone)]
pub struct SignalIndex<Id> {
    undos: PerWiki<u64, StoredSignal<Id>>,
    pages: PerWiki<String, (PageAction, StoredSignal<Id>)>,
}

impl<Id> Default for SignalIndex<Id> {
    fn default() -> Self {
        Self {
            undos: Map::default(),
            pages: Map::default(),
        }
    }
}

impl<Id: Copy> SignalIndex<Id> {
    /// Keeps a signal the rules decided to remember (`ids[i]` is the store's
    /// handle of `Decision::batches[i]`, see
    /// [`BatchRef::resolve`](super::BatchRef::resolve)).
    pub fn insert(&mut self, chunk: &Chunk, signal: &NewSignal, ids: &[Id]) {
        let (Some(item), Some(stored)) = (chunk.edits.get(signal.index), signal.stored(chunk, ids))
        else {
            return;
        };
        let edit = &item.edit;
        match signal.target {
            SignalTarget::Revision(revision) => self
                .undos
                .entry(edit.wiki.clone())
                .or_default()
                .entry(revision)
                .or_default()
                .push(stored),
            SignalTarget::Page(action) => self
                .pages
                .entry(edit.wiki.clone())
                .or_default()
                .entry(edit.title.clone())
                .or_default()
                .push((action, stored)),
        }
    }

    /// Answers [`StoredState::undos_of`](super::StoredState::undos_of).
    pub fn undos_of(&self, wiki: &str, revision: u64, out: &mut Vec<StoredSignal<Id>>) {
        if let Some(found) = self.undos.get(wiki).and_then(|w| w.get(&revision)) {
            out.extend_from_slice(found);
        }
    }

    /// Answers [`StoredState::page_signals`](super::StoredState::page_signals).
    pub fn page_signals(
        &self,
        wiki: &str,
        title: &str,
        out: &mut Vec<(PageAction, StoredSignal<Id>)>,
    ) {
        if let Some(found) = self.pages.get(wiki).and_then(|w| w.get(title)) {
            out.extend_from_slice(found);
        }
    }
}

/// How many edits of each batch each other batch reverted, both ways.
#[derive(Debug, Clone)]
pub struct RevertLinks<Id> {
    /// batch → reverting batch → edits.
    reverted: Map<Id, Map<Id, u64>>,
    /// reverting batch → batch → edits.
    reverting: Map<Id, Map<Id, u64>>,
}

impl<Id> Default for RevertLinks<Id> {
    fn default() -> Self {
        Self {
            reverted: Map::default(),
            reverting: Map::default(),
        }
    }
}

impl<Id: Copy + Eq + Hash> RevertLinks<Id> {
    /// Applies the link changes the rules decided (`ids` as for
    /// [`SignalIndex::insert`]).
    pub fn apply(&mut self, links: &[LinkChange<Id>], ids: &[Id]) {
        for link in links {
            let (Some(&batch), Some(reverting)) =
                (ids.get(link.batch), link.reverting.resolve(ids))
            else {
                continue;
            };
            add(&mut self.reverted, batch, reverting, link.delta);
            add(&mut self.reverting, reverting, batch, link.delta);
        }
    }

    /// The batches that reverted edits of `batch`.
    pub fn reverting(&self, batch: Id) -> Vec<Id> {
        self.reverted
            .get(&batch)
            .map_or_else(Vec::new, |m| m.keys().copied().collect())
    }

    /// The batches whose edits `batch` reverted.
    pub fn reverted(&self, batch: Id) -> Vec<Id> {
        self.reverting
            .get(&batch)
            .map_or_else(Vec::new, |m| m.keys().copied().collect())
    }
}

fn add<Id: Copy + Eq + Hash>(map: &mut Map<Id, Map<Id, u64>>, from: Id, to: Id, delta: i64) {
    let links = map.entry(from).or_default();
    let count = links.entry(to).or_default();
    *count = count.saturating_add_signed(delta);
    if *count == 0 {
        links.remove(&to);
        if links.is_empty() {
            map.remove(&from);
        }
    }
}
