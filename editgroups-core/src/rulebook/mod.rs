//! The rulebook: how chunks of events become batch statistics, written once for
//! every store.
//!
//! A store keeps state; the rules live here. Applying a chunk is three steps:
//!
//! 1. [`Needs::of`] lists what the chunk reads of the stored state (which of its
//!    events were seen, its batches with their pages and tags, the edits its
//!    undos, deletions and restores may revert, the revert signals its edits may
//!    be reverted by), so that a store can load it in bulk;
//! 2. [`decide`] applies the rules, event by event in chunk order, to that state
//!    (any [`StoredState`]) and returns a [`Decision`];
//! 3. the store persists the decision, with the chunk's cursor, all or nothing.
//!
//! This module is pure and synchronous: no I/O, no async, no clock.
//!
//! # The rules
//!
//! These are the semantics of [`BatchStore`](crate::BatchStore); every store
//! that persists what [`decide`] returns follows them.
//!
//! **Events.** An event is identified by (wiki, rc id). An event already stored,
//! or met earlier in the chunk, is a *duplicate* and changes nothing. Every
//! fresh event is remembered: attributed edits as edits, the others (revert
//! signals without a batch, hijack attempts) as seen events.
//!
//! **Batches.** A batch is (wiki, tool, uid). Its author is the author of its
//! first attributed edit; a later edit naming another author is a *hijack* and
//! is dropped (counted in [`ApplyReport::hijacked`](crate::ApplyReport)). Each
//! attributed edit adds to its batch:
//! - `nb_edits` + 1, `total_diffsize` + (new − old length, a missing length
//!   counting 0, saturating);
//! - `started` = the earliest, `ended` = the latest edit time;
//! - `nb_new_pages` + 1 for a page creation (type `new`);
//! - `nb_distinct_pages` + 1 when its title is new to the batch;
//! - its tags ([`crate::tags::for_each_tag`]) when new to the batch;
//! - `nb_reverted_edits` + 1 when it is reverted already (below).
//!
//! The summary is the first edit's (at most
//! [`SUMMARY_MAX_CHARS`](crate::store::SUMMARY_MAX_CHARS) characters).
//!
//! **Reverts.** A fresh event is a *revert signal* when it is ([`signal_of`]):
//! - an undo: its comment starts `/* undo:0||REV|` (anyone's), naming
//!   revision REV;
//! - a deletion (log action `delete`) or a restore (log action `restore`) of a
//!   page.
//!
//! An attributed edit is *reverted* when some signal, stored or in the chunk,
//! whatever the order they arrive in:
//! - is an undo naming its new revision; or
//! - is a deletion of its page later than it, and the edit brought the page into
//!   existence (a creation, an upload, a restore); or
//! - is a restore of its page later than it, and the edit is a deletion.
//!
//! "Later" compares [`EventPosition`](crate::edit::EventPosition)s: time, then rc
//! id. An edit counts as reverted once, however many signals revert it. Its
//! *provenance* is the earliest of those signals (by position): its rc id and,
//! when the signal is itself an attributed edit, its batch. So the state is a
//! function of the set of events applied: chunking, re-delivery and arrival
//! order change nothing.
//!
//! # Example
//!
//! An undo that comes before the edit it undoes still reverts it:
//!
//! ```
//! use editgroups_core::rulebook::{decide, EmptyState, Needs};
//! use editgroups_core::{ChangeType, ChunkEdit, Chunk, Edit, ToolMatch};
//!
//! let event = |rcid: u64, seconds: i64, revision: u64, comment: &str| Edit {
//!     wiki: "w".into(), rcid, change_type: ChangeType::Edit, namespace: 0,
//!     title: "Q1".into(), old_revision: Some(revision - 1), new_revision: Some(revision),
//!     old_length: Some(10), new_length: Some(15),
//!     timestamp: chrono::DateTime::from_timestamp(seconds, 0).unwrap(),
//!     user: Some("Bob".into()), bot: None, minor: None, patrolled: None,
//!     comment: Some(comment.into()), parsedcomment: None, uri: None,
//! };
//! let chunk = Chunk {
//!     source: "example".into(),
//!     edits: vec![
//!         // Ann's undo of revision 11: no batch.
//!         ChunkEdit { edit: event(2, 20, 12, "/* undo:0||11|Bob */"), attribution: None },
//!         // The edit that made revision 11, in batch OR/abc.
//!         ChunkEdit {
//!             edit: event(1, 10, 11, "import"),
//!             attribution: Some(ToolMatch {
//!                 tool: "OR".into(), uid: "abc".into(), user: "Bob".into(), summary: "import".into(),
//!             }),
//!         },
//!     ],
//!     ..Chunk::default()
//! };
//! // What a store would load for it: the edits that made revision 11, the undos
//! // of revision 11, and batch OR/abc.
//! let needs = Needs::of(&chunk, |_, _| false);
//! assert_eq!(needs.undone_revisions, [("w", 11)]);
//! assert_eq!(needs.made_revisions, [("w", 11)]);
//! assert_eq!(needs.batches, [("w", "OR", "abc")]);
//!
//! let decision = decide(&chunk, &EmptyState).unwrap();
//! assert_eq!(decision.report.inserted, 1);
//! assert_eq!(decision.report.reverted, 1);
//! let batch = &decision.batches[0];
//! assert_eq!((batch.figures.nb_edits, batch.figures.nb_reverted_edits), (1, 1));
//! // Reverted by the undo, rc id 2, which has no batch.
//! let by = decision.edits[0].reverted_by.unwrap();
//! assert_eq!((by.rcid, by.batch), (Some(2), None));
//! // The undo is remembered, for edits of revision 11 that other chunks bring.
//! assert_eq!(decision.other_events, [0]);
//! assert_eq!(decision.signals.len(), 1);
//! ```

mod decide;
mod decision;
mod index;
mod needs;
mod signal;
mod state;

pub use decide::{StateError, decide};
pub use decision::{
    BatchOutcome, BatchRef, Decision, LinkChange, NewEdit, NewSignal, Provenance, RevertMark,
    SignalTarget,
};
pub use index::{RevertLinks, SignalIndex};
pub use needs::{BatchKeyRef, Needs};
pub use signal::{Signal, signal_of, undone_revision};
pub use state::{
    BatchFigures, EmptyState, PageAction, SignalPosition, StoredSignal, StoredState, StoredTarget,
};

#[cfg(test)]
mod tests;
