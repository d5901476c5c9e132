//! Maintenance beside ingestion: what a store keeps for tag inspection, and the
//! archival of old batches.
//!
//! Both jobs run off the ingest path, on the same store, while a pipeline may be
//! writing to it:
//! - **inspection** reads the edits of batches whose summaries say little
//!   (`wbeditentity-update`, page creations) and adds the property, language and
//!   site tags found in their diffs. The store records, per batch, how far the
//!   last inspection went, so that a batch is inspected again only when it got new
//!   edits, and only those new edits are sampled (EditGroups looked only at
//!   batches in their first 30 minutes);
//! - **archival** cuts old, large batches down to their newest edits so that the
//!   database stays bounded, one batch per transaction, without touching their
//!   statistics or tags.
//!
//! # What archival gives up
//! The removed edits are gone: a late undo, deletion or restore of one of them is
//! no longer counted as a revert, [`BatchStore::batch_edits`] shows only the kept
//! edits, and an archived batch can no longer be reverted as a whole. Their
//! (wiki, rc id) stay known, so a re-delivered removed edit is still recognised
//! as seen and counts nothing again.

use crate::edit::Timestamp;
#[cfg(doc)]
use crate::store::BatchStore;
use crate::store::{Batch, BatchKey, StoreError, StoredEdit};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// How many edits an archived batch keeps by default (EditGroups'
/// `EDITS_KEPT_AFTER_ARCHIVAL`).
pub const DEFAULT_KEPT_EDITS: u64 = 10;

/// How old (in days) a batch's last edit must be before it is archived, by
/// default (EditGroups' `BATCH_ARCHIVAL_DELAY`).
pub const DEFAULT_ARCHIVAL_AGE_DAYS: i64 = 365;

/// The actions whose batches are worth inspecting: their summaries do not say
/// which properties or languages they touched (EditGroups' set D, §5.3).
pub const OPAQUE_ACTIONS: [&str; 6] = [
    "wbeditentity-update",
    "wbeditentity-update-languages",
    "wbeditentity-update-languages-short",
    "wbeditentity-update-languages-and-other",
    "wbeditentity-update-languages-and-other-short",
    "wbcreateclaim",
];

/// A position in a store's scan of its batches, for keyset paging: pass the
/// position of the last item of a page to get the next page. Opaque: only the
/// store that gave it knows what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ScanPosition(pub u64);

/// A page of a keyset scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanPage {
    /// Only items after this position (`None`: from the start).
    pub after: Option<ScanPosition>,
    /// At most this many items (at least 1).
    pub limit: u64,
}

impl ScanPage {
    /// The first page of `limit` items.
    pub fn first(limit: u64) -> Self {
        Self {
            after: None,
            limit: limit.max(1),
        }
    }

    /// The page of `limit` items after `after`.
    pub fn after(after: ScanPosition, limit: u64) -> Self {
        Self {
            after: Some(after),
            limit: limit.max(1),
        }
    }
}

/// Which batches are candidates for inspection: not archived, changed (new edits)
/// since their last inspection or never inspected, and with one of `tags` or
/// with page creations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionQuery {
    /// Batches with any of these tags (usually [`OPAQUE_ACTIONS`]).
    pub tags: Vec<String>,
    /// Batches with page creations too.
    pub with_new_pages: bool,
}

impl Default for InspectionQuery {
    fn default() -> Self {
        Self {
            tags: OPAQUE_ACTIONS.iter().map(|t| (*t).to_owned()).collect(),
            with_new_pages: true,
        }
    }
}

/// How far an inspection of a batch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionMark {
    /// When it was made.
    pub at: Timestamp,
    /// The batch's `nb_edits` when it was made: a batch whose count moved since
    /// has new edits.
    pub nb_edits: u64,
    /// The store's sequence number of the newest edit it covered (see
    /// [`InspectionCandidate::newest_edit`]).
    pub through: u64,
}

/// A batch to inspect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionCandidate {
    /// The batch, as it stands.
    pub batch: Batch,
    /// Where it stands in the scan.
    pub position: ScanPosition,
    /// Its last inspection, if any.
    pub inspected: Option<InspectionMark>,
    /// The sequence number of its newest stored edit, read with `batch`: every
    /// edit a store keeps gets a number greater than those of the batch's edits
    /// stored before it (an order of storage, not of time). `None` when no edit
    /// is stored.
    pub newest_edit: Option<u64>,
}

/// The result of an inspection, recorded with [`MaintenanceStore::record_inspection`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    /// How far it went.
    pub mark: InspectionMark,
    /// The tags it found (those the batch already has are left alone).
    pub tags: Vec<String>,
}

/// What recording an inspection changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InspectionRecorded {
    /// Tags the batch did not have.
    pub tags_added: u64,
    /// Whether the batch exists (nothing is recorded for a missing batch).
    pub found: bool,
}

/// Which batches archival cuts down: those whose last edit is older than
/// `ended_before` and that have more than `keep` edits; each keeps its `keep`
/// newest edits (by timestamp, then rc id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivalPolicy {
    /// Only batches whose last edit is older than this.
    pub ended_before: Timestamp,
    /// How many edits each keeps (at least 1).
    pub keep: u64,
}

impl ArchivalPolicy {
    /// Batches older than `age` at `now`, keeping `keep` edits.
    pub fn older_than(now: Timestamp, age: chrono::TimeDelta, keep: u64) -> Self {
        Self {
            ended_before: now.checked_sub_signed(age).unwrap_or(Timestamp::MIN_UTC),
            keep: keep.max(1),
        }
    }

    /// EditGroups' defaults at `now`: a year old, keeping 10 edits.
    pub fn defaults(now: Timestamp) -> Self {
        Self::older_than(
            now,
            chrono::TimeDelta::days(DEFAULT_ARCHIVAL_AGE_DAYS),
            DEFAULT_KEPT_EDITS,
        )
    }

    /// Whether a batch falls under this policy (and is not archived yet).
    pub fn applies_to(&self, batch: &Batch) -> bool {
        !batch.archived && batch.ended < self.ended_before && batch.nb_edits > self.keep.max(1)
    }
}

/// A batch archival would cut down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivalCandidate {
    /// The batch.
    pub key: BatchKey,
    /// Where it stands in the scan.
    pub position: ScanPosition,
}

/// What archiving one batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Archived {
    /// The batch is archived now; this many edit rows were removed.
    Done {
        /// Edits removed.
        removed: u64,
    },
    /// Nothing was done: the batch is missing, archived already, or not under
    /// the policy (any more).
    Skipped,
}

/// What a store keeps for maintenance, beside [`BatchStore`].
///
/// # Contract
/// - [`inspection_candidates`](Self::inspection_candidates) lists, by scan
///   position, the batches an [`InspectionQuery`] selects: not archived, with one
///   of its tags or (if asked) page creations, and never inspected or with
///   `nb_edits` different from their last [`InspectionMark`];
/// - [`edits_to_inspect`](Self::edits_to_inspect) gives a batch's edits whose
///   sequence number is in `(after, through]`, newest first (timestamp, then rc
///   id), paged;
/// - [`record_inspection`](Self::record_inspection) stores the mark and adds
///   the missing tags in one transaction;
/// - [`archive_batch`](Self::archive_batch) archives one batch in one
///   transaction: the batch keeps exactly its `keep` newest edits; statistics and
///   tags stay as they were; the removed edits' (wiki, rc id) stay known as seen
///   (their re-delivery changes nothing); the batch is flagged
///   [`Batch::archived`]. Archiving again does nothing; a failure leaves the
///   batch untouched;
/// - writes here are coordinated with [`BatchStore::apply`] of any writer of the
///   same database: neither sees half of the other.
///
/// The conformance suite in `editgroups_core::testing::maintenance` (feature
/// `testing`) checks all of this.
#[async_trait]
pub trait MaintenanceStore: Send + Sync + Debug {
    /// A page of inspection candidates, by scan position.
    async fn inspection_candidates(
        &self,
        query: &InspectionQuery,
        page: ScanPage,
    ) -> Result<Vec<InspectionCandidate>, StoreError>;

    /// The edits of a batch with sequence numbers in `(after, through]` (`after`
    /// `None`: from the first), newest first, skipping `offset` and at most
    /// `limit` (0: all).
    async fn edits_to_inspect(
        &self,
        key: &BatchKey,
        after: Option<u64>,
        through: u64,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<StoredEdit>, StoreError>;

    /// Records an inspection of a batch: its mark and the tags it found, at once.
    async fn record_inspection(
        &self,
        key: &BatchKey,
        inspection: &Inspection,
    ) -> Result<InspectionRecorded, StoreError>;

    /// A batch's last inspection, if any.
    async fn inspection_mark(&self, key: &BatchKey) -> Result<Option<InspectionMark>, StoreError>;

    /// A page of the batches `policy` would archive, by scan position.
    async fn archival_candidates(
        &self,
        policy: &ArchivalPolicy,
        page: ScanPage,
    ) -> Result<Vec<ArchivalCandidate>, StoreError>;

    /// Archives one batch if `policy` applies to it, in one transaction.
    async fn archive_batch(
        &self,
        key: &BatchKey,
        policy: &ArchivalPolicy,
    ) -> Result<Archived, StoreError>;
}

macro_rules! forward_maintenance {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<T: MaintenanceStore + ?Sized> MaintenanceStore for $ty {
            async fn inspection_candidates(&self, query: &InspectionQuery, page: ScanPage) -> Result<Vec<InspectionCandidate>, StoreError> {
                (**self).inspection_candidates(query, page).await
            }
            async fn edits_to_inspect(&self, key: &BatchKey, after: Option<u64>, through: u64, limit: u64, offset: u64) -> Result<Vec<StoredEdit>, StoreError> {
                (**self).edits_to_inspect(key, after, through, limit, offset).await
            }
            async fn record_inspection(&self, key: &BatchKey, inspection: &Inspection) -> Result<InspectionRecorded, StoreError> {
                (**self).record_inspection(key, inspection).await
            }
            async fn inspection_mark(&self, key: &BatchKey) -> Result<Option<InspectionMark>, StoreError> {
                (**self).inspection_mark(key).await
            }
            async fn archival_candidates(&self, policy: &ArchivalPolicy, page: ScanPage) -> Result<Vec<ArchivalCandidate>, StoreError> {
                (**self).archival_candidates(policy, page).await
            }
            async fn archive_batch(&self, key: &BatchKey, policy: &ArchivalPolicy) -> Result<Archived, StoreError> {
                (**self).archive_batch(key, policy).await
            }
        }
    )*};
}

forward_maintenance!(std::sync::Arc<T>, Box<T>);

/// What a whole archival run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ArchivalReport {
    /// Batches archived.
    pub batches_archived: u64,
    /// Candidates found archived or out of the policy by the time they were
    /// reached (another run, new edits).
    pub batches_skipped: u64,
    /// Edit rows removed.
    pub edits_removed: u64,
}

/// How many candidates an archival run reads at a time: memory stays flat
/// whatever the number of batches.
pub const ARCHIVAL_PAGE: u64 = 100;

/// Archives every batch `policy` applies to, one batch per transaction, reading
/// candidates a page at a time. `progress` is called after each batch with the
/// totals so far; `stop` is checked between batches (a run stopped early leaves
/// every batch archived or untouched, and the next run carries on).
pub async fn archive_all<S, P, Q>(
    store: &S,
    policy: &ArchivalPolicy,
    mut progress: P,
    stop: Q,
) -> Result<ArchivalReport, StoreError>
where
    S: MaintenanceStore + ?Sized,
    P: FnMut(&ArchivalReport),
    Q: Fn() -> bool,
{
    let mut report = ArchivalReport::default();
    let mut page = ScanPage::first(ARCHIVAL_PAGE);
    loop {
        let candidates = store.archival_candidates(policy, page).await?;
        let Some(last) = candidates.last().map(|c| c.position) else {
            return Ok(report);
        };
        for candidate in &candidates {
            if stop() {
                return Ok(report);
            }
            match store.archive_batch(&candidate.key, policy).await? {
                Archived::Done { removed } => {
                    report.batches_archived += 1;
                    report.edits_removed += removed;
                }
                Archived::Skipped => report.batches_skipped += 1,
            }
            progress(&report);
        }
        page = ScanPage::after(last, ARCHIVAL_PAGE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BatchKey;
    use chrono::DateTime;

    fn batch(ended: i64, nb_edits: u64, archived: bool) -> Batch {
        let t = DateTime::from_timestamp(ended, 0).unwrap_or_default();
        Batch {
            key: BatchKey::new("w", "OR", "1"),
            user: "u".into(),
            summary: String::new(),
            nb_edits,
            nb_distinct_pages: 1,
            nb_new_pages: 0,
            nb_reverted_edits: 0,
            total_diffsize: 0,
            started: t,
            ended: t,
            tags: Vec::new(),
            archived,
        }
    }

    #[test]
    fn the_policy_takes_old_large_unarchived_batches() {
        let now = DateTime::from_timestamp(400 * 86_400, 0).unwrap_or_default();
        let policy = ArchivalPolicy::defaults(now);
        assert_eq!(policy.keep, 10);
        assert!(policy.applies_to(&batch(86_400, 11, false)));
        assert!(
            !policy.applies_to(&batch(86_400, 10, false)),
            "not more than keep"
        );
        assert!(!policy.applies_to(&batch(86_400, 11, true)), "archived");
        assert!(
            !policy.applies_to(&batch(390 * 86_400, 11, false)),
            "recent"
        );
        let zero = ArchivalPolicy::older_than(now, chrono::TimeDelta::days(1), 0);
        assert_eq!(zero.keep, 1, "a batch keeps at least one edit");
    }
}
