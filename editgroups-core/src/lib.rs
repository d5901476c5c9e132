//! Edit groups of Wikibase and MediaWiki tools.
//!
//! Tools such as QuickStatements, OpenRefine or EditGroups itself make edits in
//! *batches* and stamp each edit summary with the batch's id. This crate follows a
//! wiki's recent changes, recognises those stamps, and keeps per-batch statistics
//! (edits, pages, new pages, reverted edits, size change, start and end, tags) up
//! to date, reverts, deletions and restores included.
//!
//! The mental model is one line:
//!
//! ```text
//! EditSource (stream of edits) → ToolMatcher (which batch?) → BatchStore (statistics)
//! ```
//!
//! - [`EditSource`]: a pull stream of [`Edit`]s, each with the [`Cursor`] just
//!   after it. Implementations live in `editgroups-sources` (EventStreams,
//!   recent-changes polling, replay of recorded files); write your own for
//!   anything else.
//! - [`ToolMatcher`]: a synchronous, pure function from an edit to its batch.
//!   [`RegexToolMatcher`] runs EditGroups-style rules loaded from TOML or JSON.
//! - [`BatchStore`]: applies chunks of edits atomically with the source's cursor.
//!   Implementations live in `editgroups-store` (memory, SQLite, PostgreSQL,
//!   MySQL/MariaDB).
//! - [`Pipeline`] joins them, resumes from the stored cursor and stops cleanly on
//!   a shutdown signal.
//!
//! Undoing a batch: [`plan`] computes the actions that undo it (undo, delete,
//! restore, newest edit first) and the summaries that tie them to a revert task;
//! [`RevertTaskStore`] keeps the tasks and the outcome of every action. The worker
//! that carries them out on a wiki lives in `editgroups-sources`.
//!
//! Authors of sources and stores depend on this crate only.
//!
//! # Why a pull stream?
//! The pipeline decides when to store and so when a source position becomes
//! durable; a pull stream leaves back-pressure and chunking in one place, and a
//! host can compose sources with `futures` combinators.
//!
//! # Why is `ToolMatcher` synchronous?
//! Matching is pure CPU work on one string, a few hundred nanoseconds; an async
//! signature would only add allocations on the hot path.
//!
//! # Where this differs from EditGroups
//! EditGroups (Python) is the reference; where it is wrong we do it right:
//! - re-ingesting events never changes a counter (reverts included), whatever the
//!   chunking; a chunk and its source position are stored in one transaction;
//! - an undo or deletion seen before the edit it reverts still counts, and
//!   deletion marks respect time order;
//! - `started` is the earliest edit, not the first one seen; `nb_new_pages` counts
//!   page creations consistently;
//! - single-digit properties are tagged, sitelink sites are not taken for
//!   languages;
//! - a batch is identified by (wiki, tool, uid), so one store can follow several
//!   wikis;
//! - lag is measured from every event read, so a quiet wiki does not look stalled.
//!
//! # Feature flags
//! - `testing`: the [`BatchStore`] and [`RevertTaskStore`] conformance suites and
//!   helpers for testing sources (`editgroups_core::testing`).

#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod cursor;
pub mod edit;
pub mod maintenance;
pub mod matcher;
pub mod pipeline;
pub mod plan;
pub mod recentchange;
pub mod rulebook;
pub mod source;
pub mod store;
pub mod tags;
pub mod tasks;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

/// The attribute that makes `async fn`s in trait impls object-safe, for
/// implementing [`EditSource`] and [`BatchStore`] without depending on
/// `async-trait` yourself.
pub use async_trait::async_trait;
pub use cursor::Cursor;
pub use edit::{ChangeType, Edit, EventPosition, Timestamp};
pub use maintenance::{ArchivalPolicy, MaintenanceStore};
pub use matcher::{RegexToolMatcher, RuleSet, ToolMatch, ToolMatcher};
pub use pipeline::{Pipeline, PipelineConfig, PipelineError};
pub use plan::{RevertOperation, SummaryStamp, UndoPlan};
pub use source::{EditSource, SkipReason, SourceError, SourceItem, SourceStream};
pub use store::{
    ApplyReport, Batch, BatchKey, BatchPosition, BatchQuery, BatchStore, Chunk, ChunkEdit,
    DynBatchStore, Page, RevertedBy, SourceProgress, StoreError, StoredEdit, TimelineBucket,
    ToolStats,
};
pub use tasks::{
    ActionState, CreateTaskError, NewRevertTask, RevertAction, RevertTask, RevertTaskStore,
    TaskQuery, TaskStatus,
};

#[cfg(test)]
fn _object_safe(
    _: &dyn EditSource,
    _: &dyn BatchStore,
    _: &dyn ToolMatcher,
    _: &dyn RevertTaskStore,
    _: &dyn maintenance::MaintenanceStore,
) {
}
