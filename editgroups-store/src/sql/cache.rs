//! What a store knows of its own committed state between chunks.
//!
//! Applying a chunk reads the stored state it depends on: whether its events were
//! seen, its batches with their pages and tags, the edits its undos revert, the
//! undos of its edits' revisions. Most of that was written by the previous chunks
//! of the same store, so it is kept here after each commit and read from here
//! instead of the database.
//!
//! The cache is only trusted while this store is the database's only writer: every
//! commit bumps a generation number in the writer lock row, and a transaction that
//! finds another number than the one its store last wrote drops the cache. A failed
//! transaction drops it too. Writes to the tables that bypass [`super::SqlStore`]
//! are not seen; hosts must not make them.
//!
//! Memory stays bounded: ranges of ids are remembered above a floor that rises
//! when a map grows too large (below it the database is asked), and batches are
//! evicted, least recently used first.

use super::{FastMap, FastSet};
use editgroups_core::BatchKey;
use editgroups_core::rulebook::{BatchFigures, SignalPosition, StoredSignal, StoredTarget};

/// How much a [`SqlStore`](super::SqlStore) remembers of its own writes between
/// chunks (see [`SqlStore::with_cache_limits`](super::SqlStore::with_cache_limits)).
///
/// The defaults keep the cache to about 30 MB. Beyond a limit the
/// oldest entries are forgotten and read from the database again when needed;
/// all zeros read everything from the database, as a store shared with writers
/// that bypass it must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Stored rc ids remembered per wiki (for finding re-delivered events).
    pub events: usize,
    /// Revisions remembered per wiki with the undos that name them.
    pub undone_revisions: usize,
    /// Edits remembered per wiki, by the revision they made (for undos).
    pub edits: usize,
    /// Batches remembered, with their counters and tags.
    pub batches: usize,
    /// Page titles remembered across all batches (for distinct-page counts).
    pub pages: usize,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            events: 100_000,
            undone_revisions: 50_000,
            edits: 50_000,
            batches: 10_000,
            pages: 200_000,
        }
    }
}

impl CacheLimits {
    /// Nothing remembered: every chunk reads what it needs from the database.
    pub fn none() -> Self {
        Self {
            events: 0,
            undone_revisions: 0,
            edits: 0,
            batches: 0,
            pages: 0,
        }
    }
}

/// A stored batch, as of the last commit.
#[derive(Debug, Clone)]
pub(crate) struct CachedBatch {
    pub(crate) id: i64,
    pub(crate) tool_id: i64,
    pub(crate) key: BatchKey,
    pub(crate) figures: BatchFigures,
    /// Titles known to be among its pages.
    pub(crate) pages: FastSet<String>,
    /// Whether `pages` holds all of them (the batch was created by this store).
    pub(crate) pages_complete: bool,
    /// All its tags.
    pub(crate) tags: FastSet<String>,
}

#[derive(Debug)]
struct BatchEntry {
    batch: CachedBatch,
    last_used: u64,
}

/// Ids complete above a floor: every stored id at or above `floor` is a key of
/// `map`, with what is known of it.
#[derive(Debug)]
pub(crate) struct FloorMap<V> {
    floor: u64,
    map: FastMap<u64, V>,
}

impl<V> Default for FloorMap<V> {
    fn default() -> Self {
        Self::above(0)
    }
}

impl<V> FloorMap<V> {
    fn above(floor: u64) -> Self {
        Self {
            floor,
            map: FastMap::default(),
        }
    }

    /// What is stored under `id`, when this map knows: `Some(None)` for nothing.
    pub(crate) fn knows(&self, id: u64) -> Option<Option<&V>> {
        (id >= self.floor).then(|| self.map.get(&id))
    }

    /// The entry of `id` (created with `default`), when at or above the floor;
    /// the floor rises past `max` entries.
    fn entry(&mut self, id: u64, max: usize, default: impl FnOnce() -> V) -> Option<&mut V> {
        if id < self.floor {
            return None;
        }
        if !self.map.contains_key(&id) && self.map.len() >= max {
            self.floor = raise_floor(self.map.keys().copied().chain([id]), max / 2);
            let floor = self.floor;
            self.map.retain(|&k, _| k >= floor);
            if id < floor {
                return None;
            }
        }
        Some(self.map.entry(id).or_insert_with(default))
    }
}

/// The floor that keeps the `keep` highest of `ids` (none when `keep` is 0).
fn raise_floor(ids: impl Iterator<Item = u64>, keep: usize) -> u64 {
    let mut all: Vec<u64> = ids.collect();
    if keep == 0 {
        return all.iter().max().map_or(0, |m| m.saturating_add(1));
    }
    if all.len() <= keep {
        return all.iter().min().copied().unwrap_or(0);
    }
    let at = all.len() - keep;
    let (_, nth, _) = all.select_nth_unstable(at);
    *nth
}

/// What is known of one wiki.
#[derive(Debug, Default)]
pub(crate) struct WikiCache {
    /// Stored events (edits and other events), by rc id.
    pub(crate) seen: FloorMap<()>,
    /// Stored undos, by the revision they name.
    pub(crate) undos: FloorMap<Vec<StoredSignal<i64>>>,
    /// Stored edits, by the revision they made.
    pub(crate) edits: FloorMap<Vec<StoredTarget<i64>>>,
}

impl WikiCache {
    /// A wiki whose stored maxima are these (none when nothing is stored).
    pub(crate) fn from_maxima(
        max_rcid: Option<u64>,
        max_undone: Option<u64>,
        max_revision: Option<u64>,
    ) -> Self {
        let above = |max: Option<u64>| max.map_or(0, |m| m.saturating_add(1));
        Self {
            seen: FloorMap::above(above(max_rcid)),
            undos: FloorMap::above(above(max_undone)),
            edits: FloorMap::above(above(max_revision)),
        }
    }
}

/// The committed state a store remembers.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    pub(crate) limits: CacheLimits,
    /// The writer lock row's value after this store's last commit.
    generation: Option<i64>,
    pub(crate) tools: FastMap<String, i64>,
    batches: FastMap<BatchKey, BatchEntry>,
    keys_by_id: FastMap<i64, BatchKey>,
    titles: usize,
    pub(crate) wikis: FastMap<String, WikiCache>,
    pub(crate) cursors: FastMap<String, (Option<String>, Option<i64>)>,
    clock: u64,
}

impl Cache {
    /// An empty cache with these limits.
    pub(crate) fn with_limits(limits: CacheLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Keeps the cache if the database is as this store left it, else drops it.
    pub(crate) fn validate(&mut self, generation: Option<i64>) {
        if generation.is_none() || generation != self.generation {
            self.clear();
        }
        self.clock += 1;
    }

    /// Forgets everything (after a failure, or another writer).
    pub(crate) fn clear(&mut self) {
        *self = Self {
            clock: self.clock,
            limits: self.limits,
            ..Self::default()
        };
    }

    /// Records the generation this store's commit wrote.
    pub(crate) fn committed(&mut self, generation: i64) {
        if self.limits == CacheLimits::none() {
            self.clear();
            return;
        }
        self.generation = Some(generation);
        self.evict();
    }

    /// A remembered batch.
    pub(crate) fn batch(&self, key: &BatchKey) -> Option<&CachedBatch> {
        self.batches.get(key).map(|entry| &entry.batch)
    }

    /// A remembered batch by id.
    pub(crate) fn batch_by_id(&self, id: i64) -> Option<&CachedBatch> {
        self.keys_by_id.get(&id).and_then(|key| self.batch(key))
    }

    /// Marks a remembered batch as used by the chunk at hand.
    pub(crate) fn touch(&mut self, key: &BatchKey) {
        let clock = self.clock;
        if let Some(entry) = self.batches.get_mut(key) {
            entry.last_used = clock;
        }
    }

    /// Remembers a batch as committed. Its pages add to those already known; they
    /// stay complete if they were.
    pub(crate) fn put_batch(&mut self, mut batch: CachedBatch) {
        if let Some(old) = self.batches.remove(&batch.key) {
            self.titles -= old.batch.pages.len();
            batch.pages_complete |= old.batch.pages_complete;
            let mut pages = old.batch.pages;
            pages.extend(std::mem::take(&mut batch.pages));
            batch.pages = pages;
        }
        self.titles += batch.pages.len();
        self.keys_by_id.insert(batch.id, batch.key.clone());
        let entry = BatchEntry {
            last_used: self.clock,
            batch,
        };
        self.batches.insert(entry.batch.key.clone(), entry);
    }

    /// The remembered batch, to update in place after a commit.
    pub(crate) fn batch_mut(&mut self, key: &BatchKey) -> Option<&mut CachedBatch> {
        self.batches.get_mut(key).map(|entry| &mut entry.batch)
    }

    /// Counts pages added to a remembered batch in place.
    pub(crate) fn added_titles(&mut self, count: usize) {
        self.titles += count;
    }

    /// Forgets a batch.
    pub(crate) fn forget_batch(&mut self, key: &BatchKey) {
        if let Some(entry) = self.batches.remove(key) {
            self.titles -= entry.batch.pages.len();
            self.keys_by_id.remove(&entry.batch.id);
        }
    }

    /// Remembers a stored edit, or its new revert mark, by the revision it made.
    pub(crate) fn put_edit(&mut self, wiki: &str, revision: u64, edit: StoredTarget<i64>) {
        let max = self.limits.edits;
        if let Some(edits) = self
            .wikis
            .get_mut(wiki)
            .and_then(|w| w.edits.entry(revision, max, Vec::new))
        {
            match edits.iter_mut().find(|e| e.rcid == edit.rcid) {
                Some(known) => *known = edit,
                None => edits.push(edit),
            }
        }
    }

    /// Updates the revert mark of a remembered edit.
    pub(crate) fn mark_edit(
        &mut self,
        wiki: &str,
        revision: u64,
        rcid: u64,
        at: SignalPosition,
        by_batch: Option<i64>,
    ) {
        let Some(w) = self.wikis.get_mut(wiki) else {
            return;
        };
        if revision < w.edits.floor {
            return;
        }
        if let Some(edit) = w
            .edits
            .map
            .get_mut(&revision)
            .and_then(|edits| edits.iter_mut().find(|e| e.rcid == rcid))
        {
            edit.reverted_at = Some(at);
            edit.reverted_by_batch = by_batch;
        }
    }

    /// Remembers a stored event.
    pub(crate) fn put_seen(&mut self, wiki: &str, rcid: u64) {
        let max = self.limits.events;
        if let Some(w) = self.wikis.get_mut(wiki) {
            w.seen.entry(rcid, max, || ());
        }
    }

    /// Remembers a stored undo of `revision`.
    pub(crate) fn put_undo(&mut self, wiki: &str, revision: u64, undo: StoredSignal<i64>) {
        let max = self.limits.undone_revisions;
        if let Some(undos) = self
            .wikis
            .get_mut(wiki)
            .and_then(|w| w.undos.entry(revision, max, Vec::new))
        {
            undos.push(undo);
        }
    }

    /// Drops the least recently used batches beyond the bounds.
    fn evict(&mut self) {
        let (max_batches, max_pages) = (self.limits.batches, self.limits.pages);
        if self.batches.len() <= max_batches && self.titles <= max_pages {
            return;
        }
        let mut by_use: Vec<(u64, BatchKey)> = self
            .batches
            .iter()
            .map(|(k, entry)| (entry.last_used, k.clone()))
            .collect();
        by_use.sort_unstable_by_key(|(used, _)| *used);
        for (_, key) in by_use {
            if self.batches.len() <= max_batches * 3 / 4 && self.titles <= max_pages * 3 / 4 {
                break;
            }
            self.forget_batch(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use editgroups_core::edit::{EventPosition, Timestamp};

    #[test]
    fn a_floor_map_knows_only_above_its_floor() {
        let mut set = FloorMap::above(10);
        assert_eq!(set.knows(9), None);
        assert_eq!(set.knows(10), Some(None));
        set.entry(12, 100, || ());
        set.entry(5, 100, || ());
        assert_eq!(set.knows(12), Some(Some(&())));
        assert_eq!(set.knows(5), None);
    }

    #[test]
    fn a_full_floor_map_keeps_its_highest_ids() {
        let mut set = FloorMap::above(0);
        for id in (0..1_001).rev() {
            set.entry(id * 3, 1_000, || ());
        }
        // The 1,001st insertion overflowed: the highest half stays, exactly known.
        assert!(set.map.len() <= 1_000);
        assert_eq!(set.knows(3_000), Some(Some(&())));
        assert_eq!(set.knows(3_001), Some(None));
        assert_eq!(set.knows(0), None);
        for id in set.map.keys() {
            assert!(*id >= set.floor);
        }
    }

    #[test]
    fn raising_the_floor_keeps_exactly_the_highest() {
        let ids = [40, 10, 30, 20];
        assert_eq!(raise_floor(ids.into_iter(), 2), 30);
        assert_eq!(raise_floor(ids.into_iter(), 4), 10);
        assert_eq!(raise_floor(ids.into_iter(), 9), 10);
        assert_eq!(raise_floor(ids.into_iter(), 0), 41);
    }

    #[test]
    fn edits_below_the_floor_are_unknown() {
        let mut cache = Cache::with_limits(CacheLimits::default());
        cache
            .wikis
            .insert("w".into(), WikiCache::from_maxima(None, None, Some(100)));
        let known = |cache: &Cache, rev| {
            cache.wikis["w"]
                .edits
                .knows(rev)
                .map(|e| e.map_or(0, Vec::len))
        };
        assert_eq!(known(&cache, 100), None);
        assert_eq!(known(&cache, 101), Some(0));
        let edit = StoredTarget {
            rcid: 1,
            batch: 7,
            revision: Some(150),
            position: EventPosition {
                timestamp: Timestamp::default(),
                rcid: 1,
            },
            creates_page: false,
            is_delete: false,
            reverted_at: None,
            reverted_by_batch: None,
        };
        cache.put_edit("w", 150, edit);
        cache.put_edit(
            "w",
            150,
            StoredTarget {
                reverted_at: Some(SignalPosition::Unknown),
                ..edit
            },
        );
        cache.put_edit("w", 50, edit);
        assert_eq!(known(&cache, 150), Some(1));
        assert!(
            cache.wikis["w"]
                .edits
                .knows(150)
                .flatten()
                .is_some_and(|e| e[0].reverted_at.is_some())
        );
        assert_eq!(known(&cache, 50), None);
    }
}
