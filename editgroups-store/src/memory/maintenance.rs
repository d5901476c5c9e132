//! [`MaintenanceStore`] for [`MemoryStore`]: inspection marks and archival.
//!
//! An edit's sequence number is one more than its index in its batch's list of
//! edits, which grows in the order edits are stored; archival keeps that order
//! and renumbers the marks to match.

use super::{BatchIndex, MemoryStore, State};
use super::{HashMap, HashSet};
use async_trait::async_trait;
use editgroups_core::maintenance::{
    ArchivalCandidate, ArchivalPolicy, Archived, Inspection, InspectionCandidate, InspectionMark,
    InspectionQuery, InspectionRecorded, MaintenanceStore, ScanPage, ScanPosition,
};
use editgroups_core::store::MAX_TAG_CHARS;
use editgroups_core::{BatchKey, StoreError, StoredEdit};

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
    /// Removes a stored edit of wiki `wiki` from the store and its indexes; its
    /// event stays seen, so a re-delivery is a duplicate.
    fn remove_edit(&mut self, wiki: u32, rcid: u64) {
        let Some(entry) = self.edits.remove(&(wiki, rcid)) else {
            return;
        };
        let edit = &entry.edit;
        if let Some(rev) = edit.new_revision {
            let key = (wiki, rev);
            if let Some(list) = self.by_revision.get_mut(&key) {
                list.retain(|r| *r != rcid);
                if list.is_empty() {
                    self.by_revision.remove(&key);
                }
            }
        }
        let title = (wiki, edit.title.clone());
        if let Some(list) = self.by_title.get_mut(&title) {
            list.retain(|r| *r != rcid);
            if list.is_empty() {
                self.by_title.remove(&title);
            }
        }
    }

    fn archive(&mut self, index: BatchIndex, policy: &ArchivalPolicy) -> Archived {
        let Some(batch) = self.batch(index) else {
            return Archived::Skipped;
        };
        if !policy.applies_to(&batch) {
            return Archived::Skipped;
        }
        let Some(wiki) = self.wiki(&batch.key.wiki) else {
            return Archived::Skipped;
        };
        let keep = usize::try_from(policy.keep.max(1)).unwrap_or(usize::MAX);
        let Some(entry) = self.batches.get(index) else {
            return Archived::Skipped;
        };
        let mut by_position: Vec<(editgroups_core::EventPosition, u64)> = entry
            .edits
            .iter()
            .filter_map(|rcid| {
                self.edits
                    .get(&(wiki, *rcid))
                    .map(|e| (e.edit.position(), *rcid))
            })
            .collect();
        by_position.sort_unstable_by_key(|b| std::cmp::Reverse(b.0));
        let removed: Vec<u64> = by_position.iter().skip(keep).map(|(_, r)| *r).collect();
        let gone: HashSet<u64> = removed.iter().copied().collect();
        for rcid in &removed {
            self.remove_edit(wiki, *rcid);
        }
        if let Some(mark) = self.maintenance.marks.get_mut(&index)
            && let Some(entry) = self.batches.get(index)
        {
            let through = usize::try_from(mark.through).unwrap_or(usize::MAX);
            let kept_before = entry
                .edits
                .iter()
                .take(through)
                .filter(|r| !gone.contains(r))
                .count();
            mark.through = kept_before as u64;
        }
        if let Some(entry) = self.batches.get_mut(index) {
            entry.edits.retain(|r| !gone.contains(r));
            entry.archived = true;
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
            let f = &s.figures;
            let mark = state.maintenance.marks.get(&index).copied();
            let selected = !s.archived
                && mark.is_none_or(|m| m.nb_edits != f.nb_edits)
                && ((query.with_new_pages && f.nb_new_pages > 0)
                    || query.tags.iter().any(|t| s.tags.contains(t)));
            if !selected {
                continue;
            }
            if let Some(batch) = state.batch(index) {
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
        let from = usize::try_from(after.unwrap_or(0)).unwrap_or(usize::MAX);
        let to = usize::try_from(through)
            .unwrap_or(usize::MAX)
            .min(batch.edits.len());
        let mut edits: Vec<&super::EditEntry> = batch
            .edits
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .filter_map(|rcid| state.edits.get(&(wiki, *rcid)))
            .collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.edit.position()));
        Ok(editgroups_core::Page::new(limit, offset)
            .select(edits.into_iter().map(|e| state.stored_edit(e))))
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
        Ok((index_of(page)..state.batches.len())
            .filter_map(|index| state.batch(index).map(|b| (index, b)))
            .filter(|(_, b)| policy.applies_to(b))
            .take(limit_of(page))
            .map(|(index, b)| ArchivalCandidate {
                key: b.key,
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
