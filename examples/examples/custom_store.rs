//! A store of your own on the rulebook: `BTreeMap`s behind a mutex. The rules
//! (duplicates, hijacks, counters, reverts in any order, provenance) come from
//! `editgroups_core::rulebook`; the store answers what they read and keeps what
//! they decide. It passes the conformance suite (`examples/tests/custom_store.rs`).
//! Run with `cargo run -p editgroups-examples --example custom_store -- fixtures/editgroups/*.json`.
use editgroups_core::rulebook::StoredTarget;
use editgroups_core::rulebook::{self, BatchFigures, Decision, PageAction, Provenance};
use editgroups_core::rulebook::{RevertLinks, SignalIndex, StoredSignal, StoredState};
use editgroups_core::store::{Batch, BatchKey, BatchQuery, Page, StoredEdit};
use editgroups_core::{ApplyReport, BatchStore, Chunk, Cursor, Edit, StoreError};
use editgroups_core::{SourceProgress, Timestamp, ToolStats};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};
type Id = usize;
type Stored = (Id, Edit, Option<Provenance<Id>>); // an edit, its batch, what reverted it
#[derive(Debug, Default)]
struct Entry(BatchKey, BatchFigures, BTreeSet<String>, BTreeSet<String>); // key, figures, pages, tags
#[derive(Debug, Default)]
struct Maps {
    batches: Vec<Entry>,
    ids: BTreeMap<BatchKey, Id>,
    seen: BTreeSet<(String, u64)>, // events stored as seen only
    edits: BTreeMap<(String, u64), Stored>,
    signals: SignalIndex<Id>,
    links: RevertLinks<Id>,
    cursors: BTreeMap<String, SourceProgress>,
}
#[derive(Debug, Default)]
pub(crate) struct BTreeStore(Mutex<Maps>);

impl StoredState for Maps {
    type BatchId = Id;
    fn is_seen(&self, wiki: &str, rcid: u64) -> bool {
        let key = (wiki.to_owned(), rcid);
        self.seen.contains(&key) || self.edits.contains_key(&key)
    }
    fn batch(&self, key: &BatchKey) -> Option<(Id, BatchFigures)> {
        let id = *self.ids.get(key)?;
        Some((id, self.batches[id].1.clone()))
    }
    fn batch_by_id(&self, id: Id) -> Option<(BatchKey, BatchFigures)> {
        let e = self.batches.get(id)?;
        Some((e.0.clone(), e.1.clone()))
    }
    fn has_page(&self, id: Id, title: &str) -> bool {
        self.batches[id].2.contains(title)
    }
    fn has_tag(&self, id: Id, tag: &str) -> bool {
        self.batches[id].3.contains(tag)
    }
    fn edits_with_revision(&self, wiki: &str, rev: u64, out: &mut Vec<StoredTarget<Id>>) {
        self.targets(wiki, |e| e.new_revision == Some(rev), out);
    }
    fn edits_on_page(&self, wiki: &str, title: &str, out: &mut Vec<StoredTarget<Id>>) {
        let kind = |e: &Edit| e.change_type.creates_page() || e.change_type.is_delete();
        self.targets(wiki, |e| e.title == title && kind(e), out);
    }
    fn undos_of(&self, wiki: &str, rev: u64, out: &mut Vec<StoredSignal<Id>>) {
        self.signals.undos_of(wiki, rev, out);
    }
    fn page_signals(&self, wiki: &str, title: &str, out: &mut Vec<(PageAction, StoredSignal<Id>)>) {
        self.signals.page_signals(wiki, title, out);
    }
}
impl Maps {
    fn targets(&self, wiki: &str, keep: impl Fn(&Edit) -> bool, out: &mut Vec<StoredTarget<Id>>) {
        let (from, to) = ((wiki.to_owned(), 0), (wiki.to_owned(), u64::MAX));
        let found = self.edits.range(from..=to).filter(|(_, e)| keep(&e.1));
        out.extend(found.map(|(_, (id, e, by))| StoredTarget::of(e, *id, by.as_ref())));
    }
    /// Keeps what the rules decided.
    fn persist(&mut self, chunk: Chunk, mut d: Decision<Id>) -> ApplyReport {
        let mut ids = Vec::new();
        for b in std::mem::take(&mut d.batches) {
            let id = *self.ids.entry(b.key.clone()).or_insert(self.batches.len());
            if id == self.batches.len() {
                self.batches.push(Entry::default());
            }
            let entry = &mut self.batches[id];
            (entry.0, entry.1) = (b.key, b.figures);
            let titles = b.new_pages.iter().map(|&i| &chunk.edits[i].edit.title);
            entry.2.extend(titles.cloned());
            entry.3.extend(b.new_tags);
            ids.push(id);
        }
        d.signals
            .iter()
            .for_each(|s| self.signals.insert(&chunk, s, &ids));
        for m in &d.reverts {
            let key = (chunk.edits[m.by].edit.wiki.clone(), m.rcid);
            let edit = self.edits.get_mut(&key);
            edit.into_iter()
                .for_each(|e| e.2 = Some(m.reverted_by.resolve(&ids)));
        }
        self.links.apply(&d.links, &ids);
        let others = d.other_events.iter().map(|&i| &chunk.edits[i].edit);
        self.seen.extend(others.map(|e| (e.wiki.clone(), e.rcid)));
        let progress = self.cursors.entry(chunk.source.clone()).or_default();
        progress.advance(&chunk);
        for (new, edit) in d.take_edits(chunk.edits) {
            let by = new.reverted_by.map(|p| p.resolve(&ids));
            let key = (edit.wiki.clone(), edit.rcid);
            self.edits.insert(key, (ids[new.batch], edit, by));
        }
        d.report
    }
    fn batch_of(&self, id: Id) -> Batch {
        let e = &self.batches[id];
        Batch::new(e.0.clone(), e.1.clone(), e.3.iter().cloned())
    }
    fn all(&self) -> Vec<Batch> {
        let n = self.batches.len();
        (0..n).map(|id| self.batch_of(id)).collect()
    }
    fn stored_edit(&self, (_, edit, by): &Stored) -> StoredEdit {
        let key_of = |b: Id| Some(self.batches[b].0.clone());
        let reverted_by = by.and_then(|p| p.reverted_by(key_of));
        let (edit, reverted) = (edit.clone(), by.is_some());
        StoredEdit {
            edit,
            reverted,
            reverted_by,
        }
    }
    /// The batches linked to `key` by `links`, newest started first.
    fn newest(&self, key: &BatchKey, links: fn(&RevertLinks<Id>, Id) -> Vec<Id>) -> Vec<Batch> {
        let id = self.ids.get(key).copied();
        let ids = id.map_or_else(Vec::new, |id| links(&self.links, id));
        let mut batches: Vec<Batch> = ids.into_iter().map(|i| self.batch_of(i)).collect();
        Batch::sort_newest_started(&mut batches);
        batches
    }
}

#[editgroups_core::async_trait]
impl BatchStore for BTreeStore {
    async fn apply(&self, chunk: Chunk) -> Result<ApplyReport, StoreError> {
        let mut maps = self.maps()?;
        let decision = rulebook::decide(&chunk, &*maps)?;
        Ok(maps.persist(chunk, decision))
    }
    async fn cursor(&self, source: &str) -> Result<Option<Cursor>, StoreError> {
        let maps = self.maps()?;
        Ok(maps.cursors.get(source).and_then(|c| c.cursor.clone()))
    }
    async fn batch(&self, key: &BatchKey) -> Result<Option<Batch>, StoreError> {
        let maps = self.maps()?;
        Ok(maps.ids.get(key).map(|&id| maps.batch_of(id)))
    }
    async fn list_batches(&self, query: &BatchQuery) -> Result<Vec<Batch>, StoreError> {
        Ok(query.select(self.maps()?.all()))
    }
    async fn batch_edits(&self, key: &BatchKey, page: Page) -> Result<Vec<StoredEdit>, StoreError> {
        let maps = self.maps()?;
        let id = maps.ids.get(key).copied();
        let mut edits: Vec<_> = maps.edits.values().filter(|e| Some(e.0) == id).collect();
        edits.sort_by_key(|(_, e, _)| std::cmp::Reverse(e.position()));
        Ok(page.select(edits.into_iter().map(|e| maps.stored_edit(e))))
    }
    async fn tools(&self) -> Result<Vec<ToolStats>, StoreError> {
        Ok(ToolStats::of(&self.maps()?.all()))
    }
    async fn reverting_batches(&self, key: &BatchKey) -> Result<Vec<Batch>, StoreError> {
        Ok(self.maps()?.newest(key, RevertLinks::reverting))
    }
    async fn reverted_batches(&self, key: &BatchKey) -> Result<Vec<Batch>, StoreError> {
        Ok(self.maps()?.newest(key, RevertLinks::reverted))
    }
    async fn latest_event_time(&self) -> Result<Option<Timestamp>, StoreError> {
        let maps = self.maps()?;
        Ok(maps
            .cursors
            .values()
            .map(|c| c.latest_event_time)
            .max()
            .flatten())
    }
}

impl BTreeStore {
    fn maps(&self) -> Result<MutexGuard<'_, Maps>, StoreError> {
        let poisoned = |_| StoreError::Config("poisoned".into());
        self.0.lock().map_err(poisoned)
    }
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let source = editgroups_sources::ReplaySource::from_files(std::env::args().skip(1));
    let pipeline = editgroups_core::Pipeline::builder().source(source);
    let pipeline = pipeline.store(BTreeStore::default()).build()?;
    let store = pipeline.store();
    pipeline.run().await?;
    for b in store.list_batches(&BatchQuery::new()).await? {
        println!("{} {}: {} edits", b.key, b.user, b.nb_edits);
    }
    Ok(())
}
