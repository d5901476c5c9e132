//! The rules, applied event by event in chunk order on the stored state and
//! what the chunk added so far.

use super::decision::{
    BatchOutcome, BatchRef, Decision, LinkChange, NewEdit, NewSignal, Provenance, RevertMark,
    SignalTarget,
};
use super::needs::BatchKeyRef;
use super::signal::{Signal, signal_of};
use super::state::{
    BatchFigures, PageAction, SignalPosition, StoredSignal, StoredState, StoredTarget,
};
use crate::edit::{ChangeType, Edit, EventPosition};
use crate::store::{BatchKey, Chunk, SUMMARY_MAX_CHARS, truncate_chars};
use crate::tags::for_each_tag;

type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type Set<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// The state handed to the rules does not hold what the chunk needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A stored edit names a batch the state does not know.
    #[error("stored edit {wiki}:{rcid} belongs to a batch the store did not provide")]
    MissingBatch {
        /// The edit's wiki.
        wiki: String,
        /// The edit's rc id.
        rcid: u64,
    },
}

impl From<StateError> for crate::StoreError {
    fn from(e: StateError) -> Self {
        crate::StoreError::Corrupt {
            store: "rulebook",
            message: e.to_string(),
        }
    }
}

/// Decides what a chunk does to a store: see the [module documentation](super).
///
/// `state` must answer for what [`Needs::of`](super::Needs::of) lists for this
/// chunk; the decision is then exactly what applying the chunk means.
pub fn decide<S: StoredState>(
    chunk: &Chunk,
    state: &S,
) -> Result<Decision<S::BatchId>, StateError> {
    let mut engine = Engine::new(chunk, state);
    for (index, item) in chunk.edits.iter().enumerate() {
        engine.event(index, &item.edit, item.attribution.as_ref())?;
    }
    Ok(engine.finish())
}

/// A revert signal of the chunk: its index in the chunk and its batch slot.
#[derive(Debug, Clone, Copy)]
struct ChunkSignal {
    index: usize,
    batch: Option<usize>,
}

/// A batch the chunk refers to, with what the chunk added to it.
struct Slot<'c> {
    /// Titles known to be among its pages (added by the chunk, or found stored).
    pages: Set<&'c str>,
    /// Tags known to be among its tags.
    tags: Set<String>,
}

struct Engine<'c, 's, S: StoredState> {
    chunk: &'c Chunk,
    state: &'s S,
    decision: Decision<S::BatchId>,
    slots: Vec<Slot<'c>>,
    slot_by_key: Map<BatchKeyRef<'c>, usize>,
    slot_by_id: Map<S::BatchId, usize>,
    /// Fresh events of the chunk seen so far.
    seen: Set<(&'c str, u64)>,
    /// The chunk's stored edits, by the revision they made: indices in
    /// `decision.edits`.
    new_by_revision: Map<(&'c str, u64), Vec<usize>>,
    /// The chunk's stored creations and deletions, by page.
    new_on_page: Map<(&'c str, &'c str), Vec<usize>>,
    /// The chunk's undos so far, by revision.
    undos: Map<(&'c str, u64), Vec<ChunkSignal>>,
    /// The chunk's deletions and restores so far, by page.
    page_signals: Map<(&'c str, &'c str), Vec<(PageAction, ChunkSignal)>>,
    /// Stored edits the chunk marked: index in `decision.reverts`, and the
    /// position of their reverter now.
    marked: Map<(&'c str, u64), (usize, SignalPosition)>,
    /// The batch of the stored reverter each of `decision.reverts` replaced.
    replaced: Vec<Option<S::BatchId>>,
    /// Reverters found for the edit being stored, and stored signals.
    targets: Vec<StoredTarget<S::BatchId>>,
    signals: Vec<StoredSignal<S::BatchId>>,
    page_stored: Vec<(PageAction, StoredSignal<S::BatchId>)>,
}

impl<'c, 's, S: StoredState> Engine<'c, 's, S> {
    fn new(chunk: &'c Chunk, state: &'s S) -> Self {
        Self {
            chunk,
            state,
            decision: Decision::default(),
            slots: Vec::new(),
            slot_by_key: Map::default(),
            slot_by_id: Map::default(),
            seen: Set::default(),
            new_by_revision: Map::default(),
            new_on_page: Map::default(),
            undos: Map::default(),
            page_signals: Map::default(),
            marked: Map::default(),
            replaced: Vec::new(),
            targets: Vec::new(),
            signals: Vec::new(),
            page_stored: Vec::new(),
        }
    }

    fn finish(mut self) -> Decision<S::BatchId> {
        self.decision.report.batches_touched =
            self.decision.batches.iter().filter(|b| b.changed).count() as u64;
        self.decision.links = self.links();
        self.decision
    }

    /// How the chunk's revert marks change the links between batches.
    fn links(&self) -> Vec<LinkChange<S::BatchId>> {
        // A stored batch the chunk refers to is named by its outcome, so that
        // both names of one batch add up.
        let normal = |batch: BatchRef<S::BatchId>| match batch {
            BatchRef::Stored(id) => self
                .slot_by_id
                .get(&id)
                .map_or(batch, |&slot| BatchRef::Outcome(slot)),
            outcome => outcome,
        };
        let mut changes: Vec<LinkChange<S::BatchId>> = Vec::new();
        let mut index: Map<(usize, BatchRef<S::BatchId>), usize> = Map::default();
        let mut add = |batch: usize, reverting: BatchRef<S::BatchId>, delta: i64| {
            let reverting = normal(reverting);
            let at = *index.entry((batch, reverting)).or_insert_with(|| {
                changes.push(LinkChange {
                    batch,
                    reverting,
                    delta: 0,
                });
                changes.len() - 1
            });
            changes[at].delta += delta;
        };
        for edit in &self.decision.edits {
            if let Some(reverting) = edit.reverted_by.and_then(|p| p.batch) {
                add(edit.batch, reverting, 1);
            }
        }
        for (mark, replaced) in self.decision.reverts.iter().zip(&self.replaced) {
            if let Some(reverting) = mark.reverted_by.batch {
                add(mark.batch, reverting, 1);
            }
            if let Some(old) = replaced {
                add(mark.batch, BatchRef::Stored(*old), -1);
            }
        }
        changes.retain(|c| c.delta != 0);
        changes
    }

    fn event(
        &mut self,
        index: usize,
        edit: &'c Edit,
        attribution: Option<&'c crate::ToolMatch>,
    ) -> Result<(), StateError> {
        let wiki = edit.wiki.as_str();
        if self.state.is_seen(wiki, edit.rcid) || !self.seen.insert((wiki, edit.rcid)) {
            self.decision.report.duplicates += 1;
            return Ok(());
        }
        let batch = match attribution {
            Some(m) => self.attribute(index, edit, m),
            None => {
                self.decision.other_events.push(index);
                None
            }
        };
        if let Some(signal) = signal_of(edit) {
            self.signal(index, edit, signal, batch)?;
        }
        Ok(())
    }

    /// The slot of a batch named by an attribution, if the batch exists.
    fn slot_of_key(&mut self, key: BatchKeyRef<'c>) -> Option<usize> {
        if let Some(&slot) = self.slot_by_key.get(&key) {
            return Some(slot);
        }
        let owned = BatchKey::new(key.0, key.1, key.2);
        let (id, figures) = self.state.batch(&owned)?;
        let slot = match self.slot_by_id.get(&id) {
            Some(&slot) => slot,
            None => self.push_slot(owned, Some(id), figures, false),
        };
        self.slot_by_key.insert(key, slot);
        Some(slot)
    }

    /// The slot of a stored batch named by its handle.
    fn slot_of_id(&mut self, id: S::BatchId) -> Option<usize> {
        if let Some(&slot) = self.slot_by_id.get(&id) {
            return Some(slot);
        }
        let (key, figures) = self.state.batch_by_id(id)?;
        Some(self.push_slot(key, Some(id), figures, false))
    }

    fn push_slot(
        &mut self,
        key: BatchKey,
        id: Option<S::BatchId>,
        figures: BatchFigures,
        changed: bool,
    ) -> usize {
        let slot = self.decision.batches.len();
        self.decision.batches.push(BatchOutcome {
            key,
            id,
            figures,
            changed,
            new_pages: Vec::new(),
            new_tags: Vec::new(),
        });
        self.slots.push(Slot {
            pages: Set::default(),
            tags: Set::default(),
        });
        if let Some(id) = id {
            self.slot_by_id.insert(id, slot);
        }
        slot
    }

    /// Adds an attributed edit to its batch; its slot, or `None` for a hijack.
    fn attribute(
        &mut self,
        index: usize,
        edit: &'c Edit,
        m: &'c crate::ToolMatch,
    ) -> Option<usize> {
        let wiki = edit.wiki.as_str();
        let key = (wiki, m.tool.as_str(), m.uid.as_str());
        let slot = match self.slot_of_key(key) {
            Some(slot) => {
                if self.decision.batches[slot].figures.user != m.user {
                    self.decision.report.hijacked += 1;
                    self.decision.other_events.push(index);
                    return None;
                }
                slot
            }
            None => {
                let figures = BatchFigures {
                    user: m.user.clone(),
                    summary: truncate_chars(&m.summary, SUMMARY_MAX_CHARS).to_owned(),
                    nb_edits: 0,
                    nb_distinct_pages: 0,
                    nb_new_pages: 0,
                    nb_reverted_edits: 0,
                    total_diffsize: 0,
                    started: edit.timestamp,
                    ended: edit.timestamp,
                };
                let slot =
                    self.push_slot(BatchKey::new(wiki, &m.tool, &m.uid), None, figures, true);
                self.slot_by_key.insert(key, slot);
                slot
            }
        };
        let reverter = self.reverter_of_new(edit);
        let outcome = &mut self.decision.batches[slot];
        let f = &mut outcome.figures;
        outcome.changed = true;
        f.nb_edits += 1;
        f.total_diffsize = f.total_diffsize.saturating_add(edit.diff_size());
        f.started = f.started.min(edit.timestamp);
        f.ended = f.ended.max(edit.timestamp);
        if edit.change_type == ChangeType::New {
            f.nb_new_pages += 1;
        }
        if reverter.is_some() {
            f.nb_reverted_edits += 1;
            self.decision.report.reverted += 1;
        }
        let title = edit.title.as_str();
        let pages = &mut self.slots[slot].pages;
        if !pages.contains(title) {
            pages.insert(title);
            let stored = outcome.id.is_some_and(|id| self.state.has_page(id, title));
            if !stored {
                outcome.figures.nb_distinct_pages += 1;
                outcome.new_pages.push(index);
            }
        }
        let tags = &mut self.slots[slot].tags;
        let state = self.state;
        for_each_tag(edit, |tag| {
            if tags.contains(tag) {
                return;
            }
            tags.insert(tag.to_owned());
            if !outcome.id.is_some_and(|id| state.has_tag(id, tag)) {
                outcome.new_tags.push(tag.to_owned());
            }
        });
        let at = self.decision.edits.len();
        self.decision.edits.push(NewEdit {
            index,
            batch: slot,
            reverted_by: reverter,
        });
        if let Some(rev) = edit.new_revision {
            self.new_by_revision
                .entry((wiki, rev))
                .or_default()
                .push(at);
        }
        if edit.change_type.creates_page() || edit.change_type.is_delete() {
            self.new_on_page.entry((wiki, title)).or_default().push(at);
        }
        self.decision.report.inserted += 1;
        Some(slot)
    }

    /// The earliest event, stored or in the chunk so far, that reverts an edit
    /// being stored.
    fn reverter_of_new(&mut self, edit: &'c Edit) -> Option<Provenance<S::BatchId>> {
        let wiki = edit.wiki.as_str();
        let position = edit.position();
        let mut best: Option<Provenance<S::BatchId>> = None;
        let mut consider = |candidate: Provenance<S::BatchId>| {
            if best.is_none_or(|b| candidate.position < b.position) {
                best = Some(candidate);
            }
        };
        if let Some(rev) = edit.new_revision {
            self.signals.clear();
            self.state.undos_of(wiki, rev, &mut self.signals);
            for s in &self.signals {
                consider(stored_reverter(s));
            }
            for s in self.undos.get(&(wiki, rev)).into_iter().flatten() {
                consider(self.chunk_reverter(s.index, s.batch));
            }
        }
        let wanted = if edit.change_type.creates_page() {
            Some(PageAction::Delete)
        } else if edit.change_type.is_delete() {
            Some(PageAction::Restore)
        } else {
            None
        };
        if let Some(wanted) = wanted {
            let later = SignalPosition::Known(position);
            self.page_stored.clear();
            self.state
                .page_signals(wiki, &edit.title, &mut self.page_stored);
            for (action, s) in &self.page_stored {
                if *action == wanted && s.position > later {
                    consider(stored_reverter(s));
                }
            }
            let page = (wiki, edit.title.as_str());
            for (action, s) in self.page_signals.get(&page).into_iter().flatten() {
                let r = self.chunk_reverter(s.index, s.batch);
                if *action == wanted && r.position > later {
                    consider(r);
                }
            }
        }
        best
    }

    fn chunk_reverter(&self, index: usize, batch: Option<usize>) -> Provenance<S::BatchId> {
        let edit = &self.chunk.edits[index].edit;
        Provenance {
            position: SignalPosition::Known(edit.position()),
            rcid: Some(edit.rcid),
            batch: batch.map(BatchRef::Outcome),
        }
    }

    /// Applies a revert signal of the chunk to what it reverts.
    fn signal(
        &mut self,
        index: usize,
        edit: &'c Edit,
        signal: Signal<'c>,
        batch: Option<usize>,
    ) -> Result<(), StateError> {
        let wiki = edit.wiki.as_str();
        let reverter = self.chunk_reverter(index, batch);
        let position = edit.position();
        let target = match signal {
            Signal::Undo { revision } => SignalTarget::Revision(revision),
            Signal::Page { action, .. } => SignalTarget::Page(action),
        };
        self.decision.signals.push(NewSignal {
            index,
            target,
            batch,
        });
        // Edits stored by this chunk.
        let new_targets: Vec<usize> = match signal {
            Signal::Undo { revision } => {
                self.undos
                    .entry((wiki, revision))
                    .or_default()
                    .push(ChunkSignal { index, batch });
                self.new_by_revision
                    .get(&(wiki, revision))
                    .cloned()
                    .unwrap_or_default()
            }
            Signal::Page { action, title } => {
                self.page_signals
                    .entry((wiki, title))
                    .or_default()
                    .push((action, ChunkSignal { index, batch }));
                let chunk = self.chunk;
                self.new_on_page
                    .get(&(wiki, title))
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&at| {
                        let e = &chunk.edits[self.decision.edits[at].index].edit;
                        reverts_page(action, &e.change_type, e.position(), position)
                    })
                    .collect()
            }
        };
        for at in new_targets {
            self.revert_new(at, reverter);
        }
        // Edits stored before.
        let mut stored = std::mem::take(&mut self.targets);
        stored.clear();
        match signal {
            Signal::Undo { revision } => {
                self.state.edits_with_revision(wiki, revision, &mut stored)
            }
            Signal::Page { action, title } => {
                self.state.edits_on_page(wiki, title, &mut stored);
                stored.retain(|t| {
                    let kind_matches = match action {
                        PageAction::Delete => t.creates_page,
                        PageAction::Restore => t.is_delete,
                    };
                    kind_matches && t.position < position
                });
            }
        }
        for t in &stored {
            self.revert_stored(wiki, t, index, reverter)?;
        }
        self.targets = stored;
        Ok(())
    }

    /// Marks an edit this chunk stores as reverted by `reverter`, unless an
    /// earlier event already reverts it.
    fn revert_new(&mut self, at: usize, reverter: Provenance<S::BatchId>) {
        let Some(new) = self.decision.edits.get_mut(at) else {
            return;
        };
        match &new.reverted_by {
            Some(current) if current.position <= reverter.position => return,
            Some(_) => {}
            None => {
                self.decision.batches[new.batch].figures.nb_reverted_edits += 1;
                self.decision.report.reverted += 1;
            }
        }
        new.reverted_by = Some(reverter);
    }

    /// Marks a stored edit as reverted by the chunk event `by`, unless an
    /// earlier event already reverts it.
    fn revert_stored(
        &mut self,
        wiki: &'c str,
        t: &StoredTarget<S::BatchId>,
        by: usize,
        reverter: Provenance<S::BatchId>,
    ) -> Result<(), StateError> {
        let current = match self.marked.get(&(wiki, t.rcid)) {
            Some(&(_, position)) => Some(position),
            None => t.reverted_at,
        };
        if current.is_some_and(|c| c <= reverter.position) {
            return Ok(());
        }
        let slot = self
            .slot_of_id(t.batch)
            .ok_or_else(|| StateError::MissingBatch {
                wiki: wiki.to_owned(),
                rcid: t.rcid,
            })?;
        let newly = current.is_none();
        if newly {
            let outcome = &mut self.decision.batches[slot];
            outcome.figures.nb_reverted_edits += 1;
            outcome.changed = true;
            self.decision.report.reverted += 1;
        }
        let mark = RevertMark {
            rcid: t.rcid,
            revision: t.revision,
            batch: slot,
            by,
            reverted_by: reverter,
            newly,
        };
        match self.marked.get(&(wiki, t.rcid)) {
            Some(&(at, _)) => {
                // Moved to an earlier event of the chunk: still newly reverted if
                // it was before this chunk.
                let was_newly = self.decision.reverts[at].newly;
                self.decision.reverts[at] = RevertMark {
                    newly: was_newly,
                    ..mark
                };
                self.marked.insert((wiki, t.rcid), (at, reverter.position));
            }
            None => {
                self.marked.insert(
                    (wiki, t.rcid),
                    (self.decision.reverts.len(), reverter.position),
                );
                self.decision.reverts.push(mark);
                self.replaced.push(t.reverted_by_batch);
            }
        }
        Ok(())
    }
}

fn stored_reverter<Id: Copy>(s: &StoredSignal<Id>) -> Provenance<Id> {
    Provenance {
        position: s.position,
        rcid: s.rcid,
        batch: s.batch.map(BatchRef::Stored),
    }
}

/// Whether a deletion or restore at `at` reverts an edit of its page.
fn reverts_page(
    action: PageAction,
    kind: &ChangeType,
    edit: EventPosition,
    at: EventPosition,
) -> bool {
    let kind_matches = match action {
        PageAction::Delete => kind.creates_page(),
        PageAction::Restore => kind.is_delete(),
    };
    kind_matches && edit < at
}
