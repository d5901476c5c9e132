//! Reads of the in-memory store used by the web pages: keyset pages of a batch's
//! edits and its timeline.

use super::{EditEntry, State};
use editgroups_core::edit::{EventPosition, Timestamp};
use editgroups_core::store::timeline_bucket;
use editgroups_core::{BatchKey, StoredEdit, TimelineBucket};

fn edits_of<'a>(state: &'a State, key: &BatchKey) -> Vec<&'a EditEntry> {
    let Some(batch) = state
        .batch_index
        .get(key)
        .and_then(|&i| state.batches.get(i))
    else {
        return Vec::new();
    };
    let Some(wiki) = state.wiki(&batch.key.wiki) else {
        return Vec::new();
    };
    batch
        .edits
        .iter()
        .filter_map(|rcid| state.edits.get(&(wiki, *rcid)))
        .collect()
}

/// The edits of a batch after `after`, newest first, at most `limit` (0: all).
pub(super) fn edits_after(
    state: &State,
    key: &BatchKey,
    after: Option<EventPosition>,
    limit: u64,
) -> Vec<StoredEdit> {
    let mut edits: Vec<&EditEntry> = edits_of(state, key);
    edits.retain(|e| after.is_none_or(|a| e.edit.position() < a));
    edits.sort_by_key(|e| std::cmp::Reverse(e.edit.position()));
    let limit = if limit == 0 {
        usize::MAX
    } else {
        usize::try_from(limit).unwrap_or(usize::MAX)
    };
    edits
        .into_iter()
        .take(limit)
        .map(|e| state.stored_edit(e))
        .collect()
}

/// The last `limit` edits of a batch before `before` (0: all), newest first.
pub(super) fn edits_before(
    state: &State,
    key: &BatchKey,
    before: EventPosition,
    limit: u64,
) -> Vec<StoredEdit> {
    let mut edits: Vec<&EditEntry> = edits_of(state, key);
    edits.retain(|e| e.edit.position() > before);
    edits.sort_by_key(|e| std::cmp::Reverse(e.edit.position()));
    if limit > 0 {
        let keep = usize::try_from(limit).unwrap_or(usize::MAX);
        edits.drain(..edits.len().saturating_sub(keep));
    }
    edits.into_iter().map(|e| state.stored_edit(e)).collect()
}

/// Edits and reverted edits of a batch per time span.
pub(super) fn timeline(
    state: &State,
    key: &BatchKey,
    start: Timestamp,
    width_micros: i64,
    buckets: usize,
) -> Vec<TimelineBucket> {
    let mut timeline = vec![TimelineBucket::default(); buckets];
    for entry in edits_of(state, key) {
        let index = timeline_bucket(entry.edit.timestamp, start, width_micros, buckets);
        if let Some(bucket) = timeline.get_mut(index) {
            bucket.edits += 1;
            bucket.reverted += u64::from(entry.reverted.is_some());
        }
    }
    timeline
}
