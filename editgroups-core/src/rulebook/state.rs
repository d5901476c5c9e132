//! What the rules read of a store: the part of the stored state a chunk touches.

use crate::edit::{EventPosition, Timestamp};
use crate::store::BatchKey;
use std::fmt::Debug;
use std::hash::Hash;

/// A batch's figures as a store keeps them (its key and tags apart).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchFigures {
    /// Its author: the author of its first attributed edit.
    pub user: String,
    /// Its summary, from its first edit, at most
    /// [`SUMMARY_MAX_CHARS`](crate::store::SUMMARY_MAX_CHARS) characters.
    pub summary: String,
    /// How many edits it has.
    pub nb_edits: u64,
    /// How many distinct pages it touched.
    pub nb_distinct_pages: u64,
    /// How many pages it created (change type `new`).
    pub nb_new_pages: u64,
    /// How many of its edits are reverted.
    pub nb_reverted_edits: u64,
    /// The sum of its edits' size changes, in bytes.
    pub total_diffsize: i64,
    /// Its earliest edit.
    pub started: Timestamp,
    /// Its latest edit.
    pub ended: Timestamp,
}

/// Where the event that reverted an edit stands in its wiki's history.
///
/// `Unknown` is for revert marks and undo records written before stores kept
/// provenance; it sorts before every known position, so such a mark is never
/// replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignalPosition {
    /// Not recorded.
    Unknown,
    /// Recorded.
    Known(EventPosition),
}

impl<Id> StoredTarget<Id> {
    /// A stored edit of batch `batch`, reverted by `reverted_by` if it is.
    pub fn of(
        edit: &crate::edit::Edit,
        batch: Id,
        reverted_by: Option<&super::Provenance<Id>>,
    ) -> Self
    where
        Id: Copy,
    {
        Self {
            rcid: edit.rcid,
            batch,
            revision: edit.new_revision,
            position: edit.position(),
            creates_page: edit.change_type.creates_page(),
            is_delete: edit.change_type.is_delete(),
            reverted_at: reverted_by.map(|p| p.position),
            reverted_by_batch: reverted_by.and_then(|p| p.stored_batch()),
        }
    }
}

/// A stored edit, as the revert rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredTarget<Id> {
    /// Its rc id (its wiki is the one asked about).
    pub rcid: u64,
    /// Its batch.
    pub batch: Id,
    /// The revision it made.
    pub revision: Option<u64>,
    /// Where it stands in its wiki's history.
    pub position: EventPosition,
    /// Whether it brought its page into existence (creation, upload, restore).
    pub creates_page: bool,
    /// Whether it deleted its page.
    pub is_delete: bool,
    /// When it is reverted: the position of the event that reverted it.
    pub reverted_at: Option<SignalPosition>,
    /// The batch of the event that reverted it, when it had one.
    pub reverted_by_batch: Option<Id>,
}

/// A stored event that reverts edits: an undo, a deletion or a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredSignal<Id> {
    /// Its rc id, when recorded.
    pub rcid: Option<u64>,
    /// Where it stands in its wiki's history.
    pub position: SignalPosition,
    /// Its batch, when it was an attributed edit.
    pub batch: Option<Id>,
}

/// What a deletion-log event did to its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PageAction {
    /// The page was deleted.
    Delete,
    /// The page was restored.
    Restore,
}

/// The part of a store's state that the rules read while deciding a chunk.
///
/// A store implements it over whatever it keeps: its own maps (a memory store),
/// or what it loaded for the chunk (a SQL store loads what [`super::Needs`]
/// lists, then answers from that). The rules ask only about what the chunk's
/// [`Needs`](super::Needs) name; answers about anything else may be empty.
///
/// `BatchId` is the store's own handle of a stored batch (an index, a row id).
pub trait StoredState {
    /// The store's handle of a stored batch.
    type BatchId: Copy + Eq + Hash + Debug;

    /// Whether the event (wiki, rc id) was stored, as an edit or as another event.
    fn is_seen(&self, wiki: &str, rcid: u64) -> bool;

    /// A stored batch by key. The rules ask once per batch and chunk.
    fn batch(&self, key: &BatchKey) -> Option<(Self::BatchId, BatchFigures)>;

    /// A stored batch by handle (the batches of [`StoredTarget`]s).
    fn batch_by_id(&self, id: Self::BatchId) -> Option<(BatchKey, BatchFigures)>;

    /// Whether a stored batch already has this page.
    fn has_page(&self, batch: Self::BatchId, title: &str) -> bool;

    /// Whether a stored batch already has this tag.
    fn has_tag(&self, batch: Self::BatchId, tag: &str) -> bool;

    /// Adds to `out` the stored edits whose new revision is `revision`.
    fn edits_with_revision(
        &self,
        wiki: &str,
        revision: u64,
        out: &mut Vec<StoredTarget<Self::BatchId>>,
    );

    /// Adds to `out` the stored edits of this page that a deletion or a restore
    /// can revert: those that created it and those that deleted it.
    fn edits_on_page(&self, wiki: &str, title: &str, out: &mut Vec<StoredTarget<Self::BatchId>>);

    /// Adds to `out` the stored undos that name `revision`.
    fn undos_of(&self, wiki: &str, revision: u64, out: &mut Vec<StoredSignal<Self::BatchId>>);

    /// Adds to `out` the stored deletions and restores of this page.
    fn page_signals(
        &self,
        wiki: &str,
        title: &str,
        out: &mut Vec<(PageAction, StoredSignal<Self::BatchId>)>,
    );
}

/// A store with nothing in it: for deciding chunks on their own (tests, examples,
/// the first chunk of a new store).
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyState;

impl StoredState for EmptyState {
    type BatchId = u64;

    fn is_seen(&self, _: &str, _: u64) -> bool {
        false
    }
    fn batch(&self, _: &BatchKey) -> Option<(u64, BatchFigures)> {
        None
    }
    fn batch_by_id(&self, _: u64) -> Option<(BatchKey, BatchFigures)> {
        None
    }
    fn has_page(&self, _: u64, _: &str) -> bool {
        false
    }
    fn has_tag(&self, _: u64, _: &str) -> bool {
        false
    }
    fn edits_with_revision(&self, _: &str, _: u64, _: &mut Vec<StoredTarget<u64>>) {}
    fn edits_on_page(&self, _: &str, _: &str, _: &mut Vec<StoredTarget<u64>>) {}
    fn undos_of(&self, _: &str, _: u64, _: &mut Vec<StoredSignal<u64>>) {}
    fn page_signals(&self, _: &str, _: &str, _: &mut Vec<(PageAction, StoredSignal<u64>)>) {}
}
