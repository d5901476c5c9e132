//! Reads of the in-memory store used by the web pages: keyset pages of a batch's
//! edits and its timeline.

use super::State;
use editgroups_core::edit::{EventPosition, Timestamp};
use editgroups_core::store::timeline_bucket;
use editgroups_core::{BatchKey, StoredEdit, TimelineBucket};

fn edits_of<'a>(state: &'a State, key: &BatchKey) -> impl Iterator<Item = &'a StoredEdit> {
    state
        .batch_state(key)
        .into_iter()
        .flat_map(|batch| batch.edits.iter())
        .filter_map(|k| state.edits.get(k).map(|r| &r.stored))
}

/// The edits of a batch after `after`, newest first, at most `limit` (0: all).
pub(super) fn edits_after(
    state: &State,
    key: &BatchKey,
    after: Option<EventPosition>,
    limit: u64,
) -> Vec<StoredEdit> {
    let mut edits: Vec<&StoredEdit> = edits_of(state, key)
        .filter(|e| after.is_none_or(|a| e.edit.position() < a))
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.edit.position()));
    let limit = if limit == 0 {
        usize::MAX
    } else {
        usize::try_from(limit).unwrap_or(usize::MAX)
    };
    edits.into_iter().take(limit).cloned().collect()
}

/// The last `limit` edits of a batch before `before` (0: all), newest first.
pub(super) fn edits_before(
    state: &State,
    key: &BatchKey,
    before: EventPosition,
    limit: u64,
) -> Vec<StoredEdit> {
    let mut edits: Vec<&StoredEdit> = edits_of(state, key)
        .filter(|e| e.edit.position() > before)
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.edit.position()));
    if limit > 0 {
        let keep = usize::try_from(limit).unwrap_or(usize::MAX);
        edits.drain(..edits.len().saturating_sub(keep));
    }
    edits.into_iter().cloned().collect()
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
    for stored in edits_of(state, key) {
        let index = timeline_bucket(stored.edit.timestamp, start, width_micros, buckets);
        if let Some(bucket) = timeline.get_mut(index) {
            bucket.edits += 1;
            bucket.reverted += u64::from(stored.reverted);
        }
    }
    timeline
}
