//! The in-memory store: the state the rulebook reads, kept in maps; the
//! reference the SQL stores are compared to.

use async_trait::async_trait;
use editgroups_core::edit::{Edit, EventPosition, Timestamp};
use editgroups_core::rulebook::{
    self, BatchFigures, Decision, PageAction, Provenance, RevertLinks, SignalIndex, StoredSignal,
    StoredState, StoredTarget,
};
use editgroups_core::{
    ApplyReport, Batch, BatchKey, BatchQuery, BatchStore, Chunk, Cursor, Page, SourceProgress,
    StoreError, StoredEdit, ToolStats,
};
use std::collections::BTreeSet;
use std::sync::Mutex;

mod maintenance;
mod reads;
mod tasks;

/// Hash maps keyed by values built from events, hashed many times per event:
/// foldhash rather than SipHash (still seeded per process).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// The set counterpart of [`HashMap`].
type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// A wiki, numbered: keys need no string.
type WikiId = u32;
/// (wiki, rc id) or (wiki, revision).
type EventKey = (WikiId, u64);
/// (wiki, title).
type TitleKey = (WikiId, String);
/// An index in `State::batches`.
type BatchIndex = usize;

#[derive(Debug)]
struct BatchEntry {
    key: BatchKey,
    figures: BatchFigures,
    pages: HashSet<String>,
    tags: BTreeSet<String>,
    /// Its edits' rc ids (on its wiki), in the order they were stored.
    edits: Vec<u64>,
    /// Whether archival cut it down to its newest edits.
    archived: bool,
}

#[derive(Debug)]
struct EditEntry {
    batch: BatchIndex,
    edit: Edit,
    /// What reverted it, if it is reverted.
    reverted: Option<Provenance<BatchIndex>>,
}

#[derive(Debug, Default)]
struct State {
    wikis: HashMap<String, WikiId>,
    seen: HashSet<EventKey>,
    batches: Vec<BatchEntry>,
    batch_index: HashMap<BatchKey, BatchIndex>,
    edits: HashMap<EventKey, EditEntry>,
    /// Stored edits by the revision they made.
    by_revision: HashMap<EventKey, Vec<u64>>,
    /// Stored creations and deletions by page.
    by_title: HashMap<TitleKey, Vec<u64>>,
    signals: SignalIndex<BatchIndex>,
    links: RevertLinks<BatchIndex>,
    cursors: HashMap<String, SourceProgress>,
    maintenance: maintenance::MaintenanceState,
}

/// A [`BatchStore`] in memory. Nothing survives the process; use it for tests,
/// short replays, and as the reference the SQL stores are compared to.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    tasks: tasks::TaskTable,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> Result<std::sync::MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Backend {
            store: "memory",
            source: "a thread panicked while holding the store".into(),
        })
    }
}

impl State {
    fn wiki(&self, wiki: &str) -> Option<WikiId> {
        self.wikis.get(wiki).copied()
    }

    fn wiki_id(&mut self, wiki: &str) -> WikiId {
        if let Some(id) = self.wikis.get(wiki) {
            return *id;
        }
        let id = WikiId::try_from(self.wikis.len()).unwrap_or(WikiId::MAX);
        self.wikis.insert(wiki.to_owned(), id);
        id
    }

    fn target(&self, wiki: WikiId, rcid: u64) -> Option<StoredTarget<BatchIndex>> {
        let entry = self.edits.get(&(wiki, rcid))?;
        Some(StoredTarget::of(
            &entry.edit,
            entry.batch,
            entry.reverted.as_ref(),
        ))
    }

    /// Persists what the rules decided about `chunk`.
    fn persist(&mut self, chunk: Chunk, mut decision: Decision<BatchIndex>) -> ApplyReport {
        let mut ids = Vec::with_capacity(decision.batches.len());
        for outcome in std::mem::take(&mut decision.batches) {
            let index = match outcome.id {
                Some(index) => index,
                None => {
                    self.batches.push(BatchEntry {
                        key: outcome.key.clone(),
                        figures: outcome.figures.clone(),
                        pages: HashSet::default(),
                        tags: BTreeSet::new(),
                        edits: Vec::new(),
                        archived: false,
                    });
                    let index = self.batches.len() - 1;
                    self.batch_index.insert(outcome.key, index);
                    index
                }
            };
            ids.push(index);
            if let Some(entry) = self.batches.get_mut(index) {
                if outcome.changed {
                    entry.figures = outcome.figures;
                }
                for i in outcome.new_pages {
                    if let Some(item) = chunk.edits.get(i) {
                        entry.pages.insert(item.edit.title.clone());
                    }
                }
                entry.tags.extend(outcome.new_tags);
            }
        }
        for &i in &decision.other_events {
            if let Some(item) = chunk.edits.get(i) {
                let wiki = self.wiki_id(&item.edit.wiki);
                self.seen.insert((wiki, item.edit.rcid));
            }
        }
        for signal in &decision.signals {
            self.signals.insert(&chunk, signal, &ids);
        }
        for mark in &decision.reverts {
            let Some(by) = chunk.edits.get(mark.by) else {
                continue;
            };
            let wiki = self.wiki_id(&by.edit.wiki);
            self.set_reverted((wiki, mark.rcid), mark.reverted_by.resolve(&ids));
        }
        self.links.apply(&decision.links, &ids);
        self.cursors
            .entry(chunk.source.clone())
            .or_default()
            .advance(&chunk);
        // The edits themselves, moved out of the chunk.
        for (new, edit) in decision.take_edits(chunk.edits) {
            let Some(&batch) = ids.get(new.batch) else {
                continue;
            };
            let wiki = self.wiki_id(&edit.wiki);
            let key = (wiki, edit.rcid);
            self.seen.insert(key);
            if let Some(rev) = edit.new_revision {
                self.by_revision
                    .entry((wiki, rev))
                    .or_default()
                    .push(edit.rcid);
            }
            if edit.change_type.creates_page() || edit.change_type.is_delete() {
                self.by_title
                    .entry((wiki, edit.title.clone()))
                    .or_default()
                    .push(edit.rcid);
            }
            if let Some(entry) = self.batches.get_mut(batch) {
                entry.edits.push(edit.rcid);
            }
            self.edits.insert(
                key,
                EditEntry {
                    batch,
                    edit,
                    reverted: new.reverted_by.map(|p| p.resolve(&ids)),
                },
            );
        }
        decision.report
    }

    /// Records an edit's reverter.
    fn set_reverted(&mut self, key: EventKey, reverted: Provenance<BatchIndex>) {
        if let Some(entry) = self.edits.get_mut(&key) {
            entry.reverted = Some(reverted);
        }
    }

    fn batch(&self, index: BatchIndex) -> Option<Batch> {
        let entry = self.batches.get(index)?;
        let mut batch = Batch::new(
            entry.key.clone(),
            entry.figures.clone(),
            entry.tags.iter().cloned(),
        );
        batch.archived = entry.archived;
        Some(batch)
    }

    fn stored_edit(&self, entry: &EditEntry) -> StoredEdit {
        StoredEdit {
            edit: entry.edit.clone(),
            reverted: entry.reverted.is_some(),
            reverted_by: entry
                .reverted
                .and_then(|p| p.reverted_by(|i| self.batches.get(i).map(|b| b.key.clone()))),
        }
    }

    /// Batches by index, newest `started` first.
    fn newest_started(&self, indices: impl Iterator<Item = BatchIndex>) -> Vec<Batch> {
        let mut batches: Vec<Batch> = indices.filter_map(|i| self.batch(i)).collect();
        Batch::sort_newest_started(&mut batches);
        batches
    }
}

impl StoredState for State {
    type BatchId = BatchIndex;

    fn is_seen(&self, wiki: &str, rcid: u64) -> bool {
        self.wiki(wiki)
            .is_some_and(|w| self.seen.contains(&(w, rcid)))
    }

    fn batch(&self, key: &BatchKey) -> Option<(BatchIndex, BatchFigures)> {
        let index = *self.batch_index.get(key)?;
        Some((index, self.batches.get(index)?.figures.clone()))
    }

    fn batch_by_id(&self, id: BatchIndex) -> Option<(BatchKey, BatchFigures)> {
        self.batches
            .get(id)
            .map(|b| (b.key.clone(), b.figures.clone()))
    }

    fn has_page(&self, batch: BatchIndex, title: &str) -> bool {
        self.batches
            .get(batch)
            .is_some_and(|b| b.pages.contains(title))
    }

    fn has_tag(&self, batch: BatchIndex, tag: &str) -> bool {
        self.batches
            .get(batch)
            .is_some_and(|b| b.tags.contains(tag))
    }

    fn edits_with_revision(
        &self,
        wiki: &str,
        revision: u64,
        out: &mut Vec<StoredTarget<BatchIndex>>,
    ) {
        let Some(w) = self.wiki(wiki) else { return };
        for &rcid in self.by_revision.get(&(w, revision)).into_iter().flatten() {
            out.extend(self.target(w, rcid));
        }
    }

    fn edits_on_page(&self, wiki: &str, title: &str, out: &mut Vec<StoredTarget<BatchIndex>>) {
        let Some(w) = self.wiki(wiki) else { return };
        for &rcid in self
            .by_title
            .get(&(w, title.to_owned()))
            .into_iter()
            .flatten()
        {
            out.extend(self.target(w, rcid));
        }
    }

    fn undos_of(&self, wiki: &str, revision: u64, out: &mut Vec<StoredSignal<BatchIndex>>) {
        self.signals.undos_of(wiki, revision, out);
    }

    fn page_signals(
        &self,
        wiki: &str,
        title: &str,
        out: &mut Vec<(PageAction, StoredSignal<BatchIndex>)>,
    ) {
        self.signals.page_signals(wiki, title, out);
    }
}

fn rule_error(e: rulebook::StateError) -> StoreError {
    StoreError::Corrupt {
        store: "memory",
        message: e.to_string(),
    }
}

#[async_trait]
impl BatchStore for MemoryStore {
    async fn apply(&self, chunk: Chunk) -> Result<ApplyReport, StoreError> {
        let mut state = self.state()?;
        let decision = rulebook::decide(&chunk, &*state).map_err(rule_error)?;
        Ok(state.persist(chunk, decision))
    }

    async fn cursor(&self, source: &str) -> Result<Option<Cursor>, StoreError> {
        Ok(self
            .state()?
            .cursors
            .get(source)
            .and_then(|progress| progress.cursor.clone()))
    }

    async fn batch(&self, key: &BatchKey) -> Result<Option<Batch>, StoreError> {
        let state = self.state()?;
        Ok(state.batch_index.get(key).and_then(|&i| state.batch(i)))
    }

    async fn list_batches(&self, query: &BatchQuery) -> Result<Vec<Batch>, StoreError> {
        let state = self.state()?;
        let mut found: Vec<&BatchEntry> = state
            .batches
            .iter()
            .filter(|b| {
                query.wiki.as_ref().is_none_or(|w| *w == b.key.wiki)
                    && query.tool.as_ref().is_none_or(|t| *t == b.key.tool)
                    && query.user.as_ref().is_none_or(|u| *u == b.figures.user)
                    && query.tags.iter().all(|t| b.tags.contains(t))
                    && query
                        .after
                        .as_ref()
                        .is_none_or(|a| a.is_before(b.figures.ended, &b.key))
                    && query
                        .before
                        .as_ref()
                        .is_none_or(|p| p.is_after(b.figures.ended, &b.key))
            })
            .collect();
        found.sort_by(|a, b| {
            b.figures
                .ended
                .cmp(&a.figures.ended)
                .then_with(|| a.key.cmp(&b.key))
        });
        Ok(query
            .page(found)
            .into_iter()
            .filter_map(|b| state.batch_index.get(&b.key).and_then(|&i| state.batch(i)))
            .collect())
    }

    async fn batch_edits(
        &self,
        key: &BatchKey,
        page_of: Page,
    ) -> Result<Vec<StoredEdit>, StoreError> {
        let state = self.state()?;
        let Some(batch) = state
            .batch_index
            .get(key)
            .and_then(|&i| state.batches.get(i))
        else {
            return Ok(Vec::new());
        };
        let Some(wiki) = state.wiki(&batch.key.wiki) else {
            return Ok(Vec::new());
        };
        let mut edits: Vec<&EditEntry> = batch
            .edits
            .iter()
            .filter_map(|rcid| state.edits.get(&(wiki, *rcid)))
            .collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.edit.position()));
        Ok(page_of.select(edits.into_iter().map(|e| state.stored_edit(e))))
    }

    async fn tools(&self) -> Result<Vec<ToolStats>, StoreError> {
        let state = self.state()?;
        Ok(ToolStats::count(
            state
                .batches
                .iter()
                .map(|b| (b.key.tool.as_str(), b.figures.user.as_str())),
        ))
    }

    async fn reverting_batches(&self, key: &BatchKey) -> Result<Vec<Batch>, StoreError> {
        let state = self.state()?;
        let Some(&target) = state.batch_index.get(key) else {
            return Ok(Vec::new());
        };
        Ok(state.newest_started(state.links.reverting(target).into_iter()))
    }

    async fn reverted_batches(&self, key: &BatchKey) -> Result<Vec<Batch>, StoreError> {
        let state = self.state()?;
        let Some(&by) = state.batch_index.get(key) else {
            return Ok(Vec::new());
        };
        Ok(state.newest_started(state.links.reverted(by).into_iter()))
    }

    async fn latest_event_time(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .state()?
            .cursors
            .values()
            .filter_map(|p| p.latest_event_time)
            .max())
    }

    async fn batch_edits_after(
        &self,
        key: &BatchKey,
        after: Option<EventPosition>,
        limit: u64,
    ) -> Result<Vec<StoredEdit>, StoreError> {
        let state = self.state()?;
        Ok(reads::edits_after(&state, key, after, limit))
    }

    async fn batch_edits_before(
        &self,
        key: &BatchKey,
        before: EventPosition,
        limit: u64,
    ) -> Result<Vec<StoredEdit>, StoreError> {
        let state = self.state()?;
        Ok(reads::edits_before(&state, key, before, limit))
    }

    async fn edit_timeline(
        &self,
        key: &BatchKey,
        start: Timestamp,
        width_micros: i64,
        buckets: usize,
    ) -> Result<Vec<editgroups_core::TimelineBucket>, StoreError> {
        let state = self.state()?;
        Ok(reads::timeline(&state, key, start, width_micros, buckets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passes_the_conformance_suite() {
        editgroups_core::testing::store::run_all(&MemoryStore::new()).await;
    }
}
