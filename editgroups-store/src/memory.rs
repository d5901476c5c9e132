//! The in-memory store: the reference implementation of the [`BatchStore`]
//! contract, which the SQL stores are tested against.

use async_trait::async_trait;
use editgroups_core::edit::{Edit, EventPosition, Timestamp};
use editgroups_core::revert::{RevertSignal, revert_signal};
use editgroups_core::store::{SUMMARY_MAX_CHARS, truncate_chars};
use editgroups_core::tags::{extract_tags, sort_tags};
use editgroups_core::{
    ApplyReport, Batch, BatchKey, BatchQuery, BatchStore, Chunk, Cursor, Page, StoreError,
    StoredEdit, ToolStats,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

mod maintenance;

/// (interned wiki, rc id or revision id).
type EventKey = (u32, u64);
/// (interned wiki, title).
type TitleKey = (u32, String);

#[derive(Debug)]
struct BatchState {
    batch: Batch,
    pages: HashSet<String>,
    tags: BTreeSet<String>,
    edits: Vec<EventKey>,
}

#[derive(Debug)]
struct StoredRecord {
    /// Index in `State::batches`.
    batch: usize,
    stored: StoredEdit,
}

#[derive(Debug, Default)]
struct State {
    /// Wiki ids, numbered, so keys need no string.
    wikis: HashMap<String, u32>,
    seen: HashSet<EventKey>,
    batches: Vec<BatchState>,
    batch_index: HashMap<BatchKey, usize>,
    edits: HashMap<EventKey, StoredRecord>,
    by_revision: HashMap<EventKey, Vec<EventKey>>,
    by_title: HashMap<TitleKey, Vec<EventKey>>,
    undone: HashSet<EventKey>,
    latest_delete: HashMap<TitleKey, EventPosition>,
    latest_restore: HashMap<TitleKey, EventPosition>,
    cursors: HashMap<String, (Option<Cursor>, Option<Timestamp>)>,
    maintenance: maintenance::MaintenanceState,
}

/// A [`BatchStore`] in memory. Nothing survives the process; use it for tests,
/// short replays, and as the reference the SQL stores are compared to.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
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
    fn mark_reverted(&mut self, key: &EventKey, report: &mut ApplyReport) -> bool {
        let Some(record) = self.edits.get_mut(key) else {
            return false;
        };
        if record.stored.reverted {
            return false;
        }
        record.stored.reverted = true;
        if let Some(batch) = self.batches.get_mut(record.batch) {
            batch.batch.nb_reverted_edits += 1;
        }
        report.reverted += 1;
        true
    }

    fn apply_signal(
        &mut self,
        edit: &Edit,
        signal: RevertSignal<'_>,
        report: &mut ApplyReport,
        touched: &mut HashSet<usize>,
    ) {
        let position = edit.position();
        let wiki = self.wiki_id(&edit.wiki);
        let targets: Vec<EventKey> = match signal {
            RevertSignal::Undo { revision } => {
                let key = (wiki, revision);
                let targets = self.by_revision.get(&key).cloned().unwrap_or_default();
                self.undone.insert(key);
                targets
            }
            RevertSignal::Delete { title } | RevertSignal::Restore { title } => {
                let key = (wiki, title.to_owned());
                let is_delete = matches!(signal, RevertSignal::Delete { .. });
                let latest = if is_delete {
                    &mut self.latest_delete
                } else {
                    &mut self.latest_restore
                };
                let entry = latest.entry(key.clone()).or_insert(position);
                *entry = (*entry).max(position);
                self.by_title
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .filter(|k| {
                        self.edits.get(*k).is_some_and(|r| {
                            let e = &r.stored.edit;
                            let reverts = if is_delete {
                                e.change_type.creates_page()
                            } else {
                                e.change_type.is_delete()
                            };
                            reverts && e.position() < position
                        })
                    })
                    .cloned()
                    .collect()
            }
        };
        for target in targets {
            if self.mark_reverted(&target, report)
                && let Some(record) = self.edits.get(&target)
            {
                touched.insert(record.batch);
            }
        }
    }

    fn wiki_id(&mut self, wiki: &str) -> u32 {
        if let Some(id) = self.wikis.get(wiki) {
            return *id;
        }
        let id = u32::try_from(self.wikis.len()).unwrap_or(u32::MAX);
        self.wikis.insert(wiki.to_owned(), id);
        id
    }

    fn is_reverted(&self, wiki: u32, edit: &Edit) -> bool {
        let position = edit.position();
        let title = (wiki, edit.title.clone());
        edit.new_revision
            .is_some_and(|rev| self.undone.contains(&(wiki, rev)))
            || (edit.change_type.creates_page()
                && self
                    .latest_delete
                    .get(&title)
                    .is_some_and(|d| *d > position))
            || (edit.change_type.is_delete()
                && self
                    .latest_restore
                    .get(&title)
                    .is_some_and(|r| *r > position))
    }

    fn apply(&mut self, chunk: &Chunk) -> ApplyReport {
        let mut report = ApplyReport::default();
        let mut touched = HashSet::new();
        for item in &chunk.edits {
            let edit = &item.edit;
            let wiki = self.wiki_id(&edit.wiki);
            let event = (wiki, edit.rcid);
            if !self.seen.insert(event) {
                report.duplicates += 1;
                continue;
            }
            if let Some(signal) = revert_signal(edit) {
                self.apply_signal(edit, signal, &mut report, &mut touched);
            }
            let Some(attribution) = &item.attribution else {
                continue;
            };
            let key = BatchKey::new(&edit.wiki, &attribution.tool, &attribution.uid);
            let existing = self.batch_index.get(&key).copied();
            if let Some(index) = existing
                && self
                    .batches
                    .get(index)
                    .is_some_and(|b| b.batch.user != attribution.user)
            {
                report.hijacked += 1;
                continue;
            }
            let reverted = self.is_reverted(wiki, edit);
            let index = existing.unwrap_or_else(|| {
                self.batches.push(BatchState {
                    batch: Batch {
                        key: key.clone(),
                        user: attribution.user.clone(),
                        summary: truncate_chars(&attribution.summary, SUMMARY_MAX_CHARS).to_owned(),
                        nb_edits: 0,
                        nb_distinct_pages: 0,
                        nb_new_pages: 0,
                        nb_reverted_edits: 0,
                        total_diffsize: 0,
                        started: edit.timestamp,
                        ended: edit.timestamp,
                        tags: Vec::new(),
                        archived: false,
                    },
                    pages: HashSet::new(),
                    tags: BTreeSet::new(),
                    edits: Vec::new(),
                });
                self.batch_index.insert(key.clone(), self.batches.len() - 1);
                self.batches.len() - 1
            });
            let Some(state) = self.batches.get_mut(index) else {
                continue;
            };
            let batch = &mut state.batch;
            batch.nb_edits += 1;
            batch.total_diffsize = batch.total_diffsize.saturating_add(edit.diff_size());
            batch.started = batch.started.min(edit.timestamp);
            batch.ended = batch.ended.max(edit.timestamp);
            if edit.change_type == editgroups_core::ChangeType::New {
                batch.nb_new_pages += 1;
            }
            if reverted {
                batch.nb_reverted_edits += 1;
                report.reverted += 1;
            }
            if state.pages.insert(edit.title.clone()) {
                state.batch.nb_distinct_pages += 1;
            }
            state.tags.extend(extract_tags(edit));
            state.edits.push(event);
            if let Some(rev) = edit.new_revision {
                self.by_revision.entry((wiki, rev)).or_default().push(event);
            }
            // Only creations and deletions can be reverted by title.
            if edit.change_type.creates_page() || edit.change_type.is_delete() {
                self.by_title
                    .entry((wiki, edit.title.clone()))
                    .or_default()
                    .push(event);
            }
            self.edits.insert(
                event,
                StoredRecord {
                    batch: index,
                    stored: StoredEdit {
                        edit: edit.clone(),
                        reverted,
                    },
                },
            );
            report.inserted += 1;
            touched.insert(index);
        }
        let entry = self.cursors.entry(chunk.source.clone()).or_default();
        if chunk.cursor.is_some() {
            entry.0.clone_from(&chunk.cursor);
        }
        entry.1 = entry.1.max(chunk.latest_event_time);
        report.batches_touched = touched.len() as u64;
        report
    }

    fn batch_state(&self, key: &BatchKey) -> Option<&BatchState> {
        self.batch_index.get(key).and_then(|i| self.batches.get(*i))
    }

    fn batch(&self, key: &BatchKey) -> Option<Batch> {
        self.batch_state(key).map(|state| {
            let mut batch = state.batch.clone();
            batch.tags = state.tags.iter().cloned().collect();
            sort_tags(&mut batch.tags);
            batch
        })
    }
}

fn page<T>(items: impl Iterator<Item = T>, limit: u64, offset: u64) -> Vec<T> {
    let items = items.skip(usize::try_from(offset).unwrap_or(usize::MAX));
    if limit == 0 {
        items.collect()
    } else {
        items
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect()
    }
}

#[async_trait]
impl BatchStore for MemoryStore {
    async fn apply(&self, chunk: &Chunk) -> Result<ApplyReport, StoreError> {
        Ok(self.state()?.apply(chunk))
    }

    async fn cursor(&self, source: &str) -> Result<Option<Cursor>, StoreError> {
        Ok(self
            .state()?
            .cursors
            .get(source)
            .and_then(|(cursor, _)| cursor.clone()))
    }

    async fn batch(&self, key: &BatchKey) -> Result<Option<Batch>, StoreError> {
        Ok(self.state()?.batch(key))
    }

    async fn list_batches(&self, query: &BatchQuery) -> Result<Vec<Batch>, StoreError> {
        let state = self.state()?;
        let mut found: Vec<&BatchState> = state
            .batches
            .iter()
            .filter(|s| {
                let b = &s.batch;
                query.wiki.as_ref().is_none_or(|w| *w == b.key.wiki)
                    && query.tool.as_ref().is_none_or(|t| *t == b.key.tool)
                    && query.user.as_ref().is_none_or(|u| *u == b.user)
                    && query.tags.iter().all(|t| s.tags.contains(t))
            })
            .collect();
        found.sort_by(|a, b| {
            b.batch
                .ended
                .cmp(&a.batch.ended)
                .then_with(|| a.batch.key.cmp(&b.batch.key))
        });
        Ok(page(found.into_iter(), query.limit, query.offset)
            .into_iter()
            .filter_map(|s| state.batch(&s.batch.key))
            .collect())
    }

    async fn batch_edits(
        &self,
        key: &BatchKey,
        page_of: Page,
    ) -> Result<Vec<StoredEdit>, StoreError> {
        let state = self.state()?;
        let Some(batch) = state.batch_state(key) else {
            return Ok(Vec::new());
        };
        let mut edits: Vec<&StoredEdit> = batch
            .edits
            .iter()
            .filter_map(|k| state.edits.get(k).map(|r| &r.stored))
            .collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.edit.position()));
        Ok(page(
            edits.into_iter().cloned(),
            page_of.limit,
            page_of.offset,
        ))
    }

    async fn tools(&self) -> Result<Vec<ToolStats>, StoreError> {
        let state = self.state()?;
        let mut tools: BTreeMap<&str, (u64, BTreeSet<&str>)> = BTreeMap::new();
        for state in &state.batches {
            let entry = tools.entry(&state.batch.key.tool).or_default();
            entry.0 += 1;
            entry.1.insert(&state.batch.user);
        }
        Ok(tools
            .into_iter()
            .map(|(tool, (nb_batches, users))| ToolStats {
                tool: tool.to_owned(),
                nb_batches,
                nb_users: users.len() as u64,
            })
            .collect())
    }

    async fn latest_event_time(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.state()?.cursors.values().filter_map(|(_, t)| *t).max())
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
