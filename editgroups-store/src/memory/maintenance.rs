//! [`MaintenanceStore`] for [`MemoryStore`]: inspection marks and archival.
//!
//! An edit's sequence number is one more than its index in its batch's list of
//! edits, which grows in the order edits are stored; archival keeps that order
//! and renumbers the marks to match.

use super::{EventKey, MemoryStore, State};
use async_trait::async_trait;
use editgroups_core::maintenance::{
    ArchivalCandidate, ArchivalPolicy, Archived, Inspection, InspectionCandidate, InspectionMark,
    InspectionQuery, InspectionRecorded, MaintenanceStore, ScanPage, ScanPosition,
};
use editgroups_core::store::MAX_TAG_CHARS;
use editgroups_core::{BatchKey, StoreError, StoredEdit};
use std::collections::{HashMap, HashSet};

/// Maintenance state, beside the batches.
#[derive(Debug, Default)]
pub(super) struct MaintenanceState {
    /// The last inspection of each batch, by batch index.
    marks: HashMap<usize, InspectionMark>,
}

fn index_of(page: ScanPage) -> usize {
    page.after.map_or(0, |p| {
        usize::try_from(p.0).map_or(usize::MAX, |i| i.saturating_add(1))
    })
}

fn limit_of(page: ScanPage) -> usize {
    usize::try_from(page.limit.max(1)).unwrap_or(usize::MAX)
}

pub(crate) fn check_tags(store: &'static str, tags: &[String]) -> Result<(), StoreError> {
    for tag in tags {
        if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
            return Err(StoreError::Backend {
                store,
                source: format!(
                    "tag {:?} is empty or longer than {MAX_TAG_CHARS} characters",
                    editgroups_core::store::truncate_chars(tag, 40)
                )
                .into(),
            });
        }
    }
    Ok(())
}

impl State {
    fn remove_edit(&mut self, event: EventKey) {
        let Some(record) = self.edits.remove(&event) else {
            return;
        };
        let edit = &record.stored.edit;
        let wiki = event.0;
        if let Some(rev) = edit.new_revision {
            let key = (wiki, rev);
            if let Some(list) = self.by_revision.get_mut(&key) {
                list.retain(|k| *k != event);
                if list.is_empty() {
                    self.by_revision.remove(&key);
                }
            }
        }
        let title = (wiki, edit.title.clone());
        if let Some(list) = self.by_title.get_mut(&title) {
            list.retain(|k| *k != event);
            if list.is_empty() {
                self.by_title.remove(&title);
            }
        }
        // `seen` keeps the event: a re-delivery stays a duplicate.
    }

    fn archive(&mut self, index: usize, policy: &ArchivalPolicy) -> Archived {
        let Some(state) = self.batches.get(index) else {
            return Archived::Skipped;
        };
        if !policy.applies_to(&state.batch) {
            return Archived::Skipped;
        }
        let keep = usize::try_from(policy.keep.max(1)).unwrap_or(usize::MAX);
        let mut by_position: Vec<(editgroups_core::EventPosition, EventKey)> = state
            .edits
            .iter()
            .filter_map(|k| self.edits.get(k).map(|r| (r.stored.edit.position(), *k)))
            .collect();
        by_position.sort_unstable_by_key(|b| std::cmp::Reverse(b.0));
        let removed: Vec<EventKey> = by_position.iter().skip(keep).map(|(_, k)| *k).collect();
        let gone: HashSet<EventKey> = removed.iter().copied().collect();
        for event in &removed {
            self.remove_edit(*event);
        }
        if let Some(mark) = self.maintenance.marks.get_mut(&index)
            && let Some(state) = self.batches.get(index)
        {
            let through = usize::try_from(mark.through).unwrap_or(usize::MAX);
            let kept_before = state
                .edits
                .iter()
                .take(through)
                .filter(|k| !gone.contains(k))
                .count();
            mark.through = kept_before as u64;
        }
        if let Some(state) = self.batches.get_mut(index) {
            state.edits.retain(|k| !gone.contains(k));
            state.batch.archived = true;
        }
        Archived::Done {
            removed: removed.len() as u64,
        }
    }
}

#[async_trait]
impl MaintenanceStore for MemoryStore {
    async fn inspection_candidates(
        &self,
        query: &InspectionQuery,
        page: ScanPage,
    ) -> Result<Vec<InspectionCandidate>, StoreError> {
        let state = self.state()?;
        let mut found = Vec::new();
        for (index, s) in state.batches.iter().enumerate().skip(index_of(page)) {
            if found.len() >= limit_of(page) {
                break;
            }
            let b = &s.batch;
            let mark = state.maintenance.marks.get(&index).copied();
            let selected = !b.archived
                && mark.is_none_or(|m| m.nb_edits != b.nb_edits)
                && ((query.with_new_pages && b.nb_new_pages > 0)
                    || query.tags.iter().any(|t| s.tags.contains(t)));
            if !selected {
                continue;
            }
            if let Some(batch) = state.batch(&b.key) {
                found.push(InspectionCandidate {
                    batch,
                    position: ScanPosition(index as u64),
                    inspected: mark,
                    newest_edit: (!s.edits.is_empty()).then_some(s.edits.len() as u64),
                });
            }
        }
        Ok(found)
    }

    async fn edits_to_inspect(
        &self,
        key: &BatchKey,
        after: Option<u64>,
        through: u64,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<StoredEdit>, StoreError> {
        let state = self.state()?;
        let Some(batch) = state.batch_state(key) else {
            return Ok(Vec::new());
        };
        let from = usize::try_from(after.unwrap_or(0)).unwrap_or(usize::MAX);
        let to = usize::try_from(through)
            .unwrap_or(usize::MAX)
            .min(batch.edits.len());
        let mut edits: Vec<&StoredEdit> = batch
            .edits
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .filter_map(|k| state.edits.get(k).map(|r| &r.stored))
            .collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.edit.position()));
        Ok(super::page(edits.into_iter().cloned(), limit, offset))
    }

    async fn record_inspection(
        &self,
        key: &BatchKey,
        inspection: &Inspection,
    ) -> Result<InspectionRecorded, StoreError> {
        check_tags("memory", &inspection.tags)?;
        let mut state = self.state()?;
        let Some(index) = state.batch_index.get(key).copied() else {
            return Ok(InspectionRecorded::default());
        };
        let mut tags_added = 0;
        if let Some(batch) = state.batches.get_mut(index) {
            for tag in &inspection.tags {
                if batch.tags.insert(tag.clone()) {
                    tags_added += 1;
                }
            }
        }
        state.maintenance.marks.insert(index, inspection.mark);
        Ok(InspectionRecorded {
            tags_added,
            found: true,
        })
    }

    async fn inspection_mark(&self, key: &BatchKey) -> Result<Option<InspectionMark>, StoreError> {
        let state = self.state()?;
        Ok(state
            .batch_index
            .get(key)
            .and_then(|i| state.maintenance.marks.get(i))
            .copied())
    }

    async fn archival_candidates(
        &self,
        policy: &ArchivalPolicy,
        page: ScanPage,
    ) -> Result<Vec<ArchivalCandidate>, StoreError> {
        let state = self.state()?;
        Ok(state
            .batches
            .iter()
            .enumerate()
            .skip(index_of(page))
            .filter(|(_, s)| policy.applies_to(&s.batch))
            .take(limit_of(page))
            .map(|(index, s)| ArchivalCandidate {
                key: s.batch.key.clone(),
                position: ScanPosition(index as u64),
            })
            .collect())
    }

    async fn archive_batch(
        &self,
        key: &BatchKey,
        policy: &ArchivalPolicy,
    ) -> Result<Archived, StoreError> {
        let mut state = self.state()?;
        Ok(match state.batch_index.get(key).copied() {
            Some(index) => state.archive(index, policy),
            None => Archived::Skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passes_the_maintenance_conformance_suite() {
        editgroups_core::testing::maintenance::run_all(&MemoryStore::new()).await;
    }
}
