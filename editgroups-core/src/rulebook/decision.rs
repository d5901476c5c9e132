//! What the rules decided about a chunk: what a store persists.

use super::state::{BatchFigures, PageAction, SignalPosition};
use crate::store::{ApplyReport, BatchKey};

/// A batch the decision refers to: one the store already has, or one of the
/// decision's [`BatchOutcome`]s (by index in [`Decision::batches`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchRef<Id> {
    /// A stored batch, by the store's handle.
    Stored(Id),
    /// `Decision::batches[index]`.
    Outcome(usize),
}

impl<Id: Copy> BatchRef<Id> {
    /// The store's handle, given the handles of the decision's batches in
    /// order (`ids[i]` for `Decision::batches[i]`).
    pub fn resolve(self, ids: &[Id]) -> Option<Id> {
        match self {
            Self::Stored(id) => Some(id),
            Self::Outcome(i) => ids.get(i).copied(),
        }
    }
}

/// The event that reverted an edit: where it stands, its rc id (same wiki as
/// the edit) and its batch when it was an attributed edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provenance<Id> {
    /// Where the reverting event stands (an earlier one replaces it).
    pub position: SignalPosition,
    /// The reverting event's rc id; `None` for revert records written before
    /// stores kept provenance.
    pub rcid: Option<u64>,
    /// The reverting event's batch.
    pub batch: Option<BatchRef<Id>>,
}

impl<Id: Copy> Provenance<Id> {
    /// The same provenance with its batch named by the store's handle (see
    /// [`BatchRef::resolve`]).
    pub fn resolve(self, ids: &[Id]) -> Self {
        Self {
            batch: self
                .batch
                .and_then(|b| b.resolve(ids))
                .map(BatchRef::Stored),
            ..self
        }
    }

    /// The reverting event's batch, when it is named by the store's handle.
    pub fn stored_batch(&self) -> Option<Id> {
        match self.batch? {
            BatchRef::Stored(id) => Some(id),
            BatchRef::Outcome(_) => None,
        }
    }

    /// The public form, given the key of a stored batch; `None` when the
    /// reverting event is not recorded.
    pub fn reverted_by(
        &self,
        key_of: impl Fn(Id) -> Option<BatchKey>,
    ) -> Option<crate::RevertedBy> {
        Some(crate::RevertedBy {
            rcid: self.rcid?,
            batch: self.stored_batch().and_then(key_of),
        })
    }
}

/// A batch the chunk creates, changes, or only reads (the owner of a hijack
/// attempt, the batch of an edit whose reverting event changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome<Id> {
    /// Which batch.
    pub key: BatchKey,
    /// The store's handle; `None` for a batch the chunk creates.
    pub id: Option<Id>,
    /// Its figures after the chunk.
    pub figures: BatchFigures,
    /// Whether `figures` differ from what is stored (always, for a new batch).
    pub changed: bool,
    /// Pages new to the batch: indices in the chunk of the edits whose title it
    /// did not have.
    pub new_pages: Vec<usize>,
    /// Tags new to the batch.
    pub new_tags: Vec<String>,
}

/// An attributed edit to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEdit<Id> {
    /// Its index in the chunk.
    pub index: usize,
    /// Its batch: `Decision::batches[batch]`.
    pub batch: usize,
    /// What reverted it, if it is reverted.
    pub reverted_by: Option<Provenance<Id>>,
}

/// A stored edit whose revert mark the chunk sets or moves to an earlier event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertMark<Id> {
    /// The edit's rc id (its wiki is that of the chunk event `by`).
    pub rcid: u64,
    /// The revision the edit made.
    pub revision: Option<u64>,
    /// Its batch: `Decision::batches[batch]`.
    pub batch: usize,
    /// The chunk event that reverts it: its index in the chunk.
    pub by: usize,
    /// The reverting event's provenance (rc id and batch).
    pub reverted_by: Provenance<Id>,
    /// Whether the edit was not reverted before (its batch's count rose); when
    /// false, an earlier reverting event replaces the one recorded.
    pub newly: bool,
}

/// What a revert signal names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalTarget {
    /// An undone revision.
    Revision(u64),
    /// A deleted or restored page (the event's title).
    Page(PageAction),
}

impl NewSignal {
    /// The signal as a store keeps it, given the chunk and the handles of the
    /// decision's batches (see [`BatchRef::resolve`]).
    pub fn stored<Id: Copy>(
        &self,
        chunk: &crate::Chunk,
        ids: &[Id],
    ) -> Option<super::StoredSignal<Id>> {
        let edit = &chunk.edits.get(self.index)?.edit;
        Some(super::StoredSignal {
            rcid: Some(edit.rcid),
            position: SignalPosition::Known(edit.position()),
            batch: self.batch.and_then(|slot| ids.get(slot).copied()),
        })
    }
}

/// A revert signal of the chunk to remember, so that edits it reverts that
/// arrive later are counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSignal {
    /// The event's index in the chunk.
    pub index: usize,
    /// What it reverts.
    pub target: SignalTarget,
    /// Its batch, when it is stored as an attributed edit:
    /// `Decision::batches[batch]`.
    pub batch: Option<usize>,
}

/// A change in how many edits of a batch another batch reverted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkChange<Id> {
    /// The batch whose edits were reverted: `Decision::batches[batch]`.
    pub batch: usize,
    /// The batch whose events reverted them.
    pub reverting: BatchRef<Id>,
    /// How many more (or, when an earlier reverter replaces it, fewer) of its
    /// edits that batch reverted.
    pub delta: i64,
}

/// Everything the rules decided about a chunk. A store persists all of it, with
/// the chunk's cursor, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<Id> {
    /// Counts of what happened.
    pub report: ApplyReport,
    /// Every batch the decision refers to.
    pub batches: Vec<BatchOutcome<Id>>,
    /// Attributed edits to store, in chunk order.
    pub edits: Vec<NewEdit<Id>>,
    /// Indices of the fresh events not stored as edits (unattributed events,
    /// hijack attempts): stored as seen, so a re-delivery is a duplicate.
    pub other_events: Vec<usize>,
    /// Stored edits whose revert mark changes.
    pub reverts: Vec<RevertMark<Id>>,
    /// Revert signals to remember.
    pub signals: Vec<NewSignal>,
    /// Changes in the links between batches and the batches that reverted
    /// them (see [`BatchStore::reverting_batches`](crate::BatchStore::reverting_batches)).
    pub links: Vec<LinkChange<Id>>,
}

impl<Id> Default for Decision<Id> {
    fn default() -> Self {
        Self {
            report: ApplyReport::default(),
            batches: Vec::new(),
            edits: Vec::new(),
            other_events: Vec::new(),
            reverts: Vec::new(),
            signals: Vec::new(),
            links: Vec::new(),
        }
    }
}

impl<Id> Decision<Id> {
    /// Pairs the decision's new edits with the chunk's events they are, moving
    /// the events out of the chunk (so a store keeps them without copying).
    pub fn take_edits(&mut self, events: Vec<crate::ChunkEdit>) -> Vec<(NewEdit<Id>, crate::Edit)> {
        let mut new = std::mem::take(&mut self.edits).into_iter().peekable();
        let mut out = Vec::with_capacity(new.len());
        for (i, item) in events.into_iter().enumerate() {
            if let Some(edit) = new.next_if(|n| n.index == i) {
                out.push((edit, item.edit));
            }
        }
        out
    }
}
