//! What a store knows of its own committed state between chunks.
//!
//! Applying a chunk reads the stored state it depends on: whether its events were
//! seen, its batches with their pages and tags, the edits its undos revert, the
//! undone revisions. Most of that was written by the previous chunks of the same
//! store, so it is kept here after each commit and read from here instead of the
//! database.
//!
//! The cache is only trusted while this store is the database's only writer: every
//! commit bumps a generation number in the writer lock row, and a transaction that
//! finds another number than the one its store last wrote drops the cache. A failed
//! transaction drops it too. Writes to the tables that bypass [`super::SqlStore`]
//! are not seen; hosts must not make them.
//!
//! Memory stays bounded: ranges of ids are remembered above a floor that rises
//! when a set grows too large (below it the database is asked), and batches are
//! evicted, least recently used first.

use super::{FastMap, FastSet};
use editgroups_core::BatchKey;
use editgroups_core::edit::{EventPosition, Timestamp};

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
    /// Undone revisions remembered per wiki.
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
    pub(crate) user: String,
    pub(crate) summary: String,
    pub(crate) nb_edits: u64,
    pub(crate) nb_distinct_pages: u64,
    pub(crate) nb_new_pages: u64,
    pub(crate) nb_reverted_edits: u64,
    pub(crate) total_diffsize: i64,
    pub(crate) started: Timestamp,
    pub(crate) ended: Timestamp,
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

/// A stored edit, as the revert rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CachedEdit {
    pub(crate) rcid: u64,
    pub(crate) batch_id: i64,
    pub(crate) position: EventPosition,
    pub(crate) creates_page: bool,
    pub(crate) is_delete: bool,
    pub(crate) reverted: bool,
}

/// A set of ids complete above a floor: every stored id at or above `floor` is in
/// `ids`.
#[derive(Debug, Default)]
pub(crate) struct FloorSet {
    floor: u64,
    ids: FastSet<u64>,
}

impl FloorSet {
    fn above(floor: u64) -> Self {
        Self {
            floor,
            ids: FastSet::default(),
        }
    }

    /// Whether `id` is stored, when this set knows.
    pub(crate) fn knows(&self, id: u64) -> Option<bool> {
        (id >= self.floor).then(|| self.ids.contains(&id))
    }

    fn insert(&mut self, id: u64, max: usize) {
        if id >= self.floor {
            self.ids.insert(id);
            if self.ids.len() > max {
                self.floor = raise_floor(self.ids.iter().copied(), max / 2);
                let floor = self.floor;
                self.ids.retain(|&id| id >= floor);
            }
        }
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
    pub(crate) seen: FloorSet,
    /// Undone revisions.
    pub(crate) undone: FloorSet,
    /// Every stored edit whose new revision is at or above this is in `edits`.
    edits_floor: u64,
    edits: FastMap<u64, Vec<CachedEdit>>,
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
            seen: FloorSet::above(above(max_rcid)),
            undone: FloorSet::above(above(max_undone)),
            edits_floor: above(max_revision),
            edits: FastMap::default(),
        }
    }

    /// The stored edits that made `revision`, when this cache knows.
    pub(crate) fn edits_of(&self, revision: u64) -> Option<&[CachedEdit]> {
        (revision >= self.edits_floor)
            .then(|| self.edits.get(&revision).map_or(&[][..], Vec::as_slice))
    }

    fn put_edit(&mut self, revision: u64, edit: CachedEdit, max: usize) {
        if revision < self.edits_floor {
            return;
        }
        let edits = self.edits.entry(revision).or_default();
        match edits.iter_mut().find(|e| e.rcid == edit.rcid) {
            Some(known) => *known = edit,
            None => edits.push(edit),
        }
        if self.edits.len() > max {
            self.edits_floor = raise_floor(self.edits.keys().copied(), max / 2);
            let floor = self.edits_floor;
            self.edits.retain(|&rev, _| rev >= floor);
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

    /// A remembered batch, marked as used.
    pub(crate) fn batch(&mut self, key: &BatchKey) -> Option<&CachedBatch> {
        let clock = self.clock;
        self.batches.get_mut(key).map(|entry| {
            entry.last_used = clock;
            &entry.batch
        })
    }

    /// The key of a remembered batch.
    pub(crate) fn key_of(&self, id: i64) -> Option<&BatchKey> {
        self.keys_by_id.get(&id)
    }

    /// Remembers a batch as committed. Its pages add to those already known; they
    /// stay complete if they were.
    pub(crate) fn put_batch(&mut self, key: &BatchKey, mut batch: CachedBatch) {
        if let Some(old) = self.batches.remove(key) {
            self.titles -= old.batch.pages.len();
            batch.pages_complete |= old.batch.pages_complete;
            let mut pages = old.batch.pages;
            pages.extend(std::mem::take(&mut batch.pages));
            batch.pages = pages;
        }
        self.titles += batch.pages.len();
        self.keys_by_id.insert(batch.id, key.clone());
        let entry = BatchEntry {
            batch,
            last_used: self.clock,
        };
        self.batches.insert(key.clone(), entry);
    }

    /// Forgets a batch.
    pub(crate) fn forget_batch(&mut self, key: &BatchKey) {
        if let Some(entry) = self.batches.remove(key) {
            self.titles -= entry.batch.pages.len();
            self.keys_by_id.remove(&entry.batch.id);
        }
    }

    /// Remembers a stored edit (or its new revert mark).
    pub(crate) fn put_edit(&mut self, wiki: &str, revision: u64, edit: CachedEdit) {
        if let Some(w) = self.wikis.get_mut(wiki) {
            w.put_edit(revision, edit, self.limits.edits);
        }
    }

    /// Remembers a stored event.
    pub(crate) fn put_seen(&mut self, wiki: &str, rcid: u64) {
        if let Some(w) = self.wikis.get_mut(wiki) {
            w.seen.insert(rcid, self.limits.events);
        }
    }

    /// Remembers an undone revision.
    pub(crate) fn put_undone(&mut self, wiki: &str, revision: u64) {
        if let Some(w) = self.wikis.get_mut(wiki) {
            w.undone.insert(revision, self.limits.undone_revisions);
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

    #[test]
    fn a_floor_set_knows_only_above_its_floor() {
        let mut set = FloorSet::above(10);
        assert_eq!(set.knows(9), None);
        assert_eq!(set.knows(10), Some(false));
        set.insert(12, 100);
        set.insert(5, 100);
        assert_eq!(set.knows(12), Some(true));
        assert_eq!(set.knows(5), None);
    }

    #[test]
    fn a_full_floor_set_keeps_its_highest_ids() {
        let mut set = FloorSet::above(0);
        for id in (0..1_001).rev() {
            set.insert(id * 3, 1_000);
        }
        // The 1,001st insertion overflowed: the highest half stays, exactly known.
        assert!(set.ids.len() <= 1_000);
        assert_eq!(set.knows(3_000), Some(true));
        assert_eq!(set.knows(3_001), Some(false));
        assert_eq!(set.knows(0), None);
        for id in set.ids.iter() {
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
        let mut wiki = WikiCache::from_maxima(None, None, Some(100));
        assert!(wiki.edits_of(100).is_none());
        assert_eq!(wiki.edits_of(101).map(<[_]>::len), Some(0));
        let edit = CachedEdit {
            rcid: 1,
            batch_id: 7,
            position: EventPosition {
                timestamp: Timestamp::default(),
                rcid: 1,
            },
            creates_page: false,
            is_delete: false,
            reverted: false,
        };
        wiki.put_edit(150, edit, 10);
        wiki.put_edit(
            150,
            CachedEdit {
                reverted: true,
                ..edit
            },
            10,
        );
        wiki.put_edit(50, edit, 10);
        assert_eq!(wiki.edits_of(150).map(<[_]>::len), Some(1));
        assert!(wiki.edits_of(150).is_some_and(|e| e[0].reverted));
        assert!(wiki.edits_of(50).is_none());
    }
}
