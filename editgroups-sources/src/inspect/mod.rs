//! Tag inspection: reading what the edits of a batch really touched, through a
//! wiki's API, to tag batches whose summaries say little.
//!
//! OpenRefine's `wbeditentity-update` edits, and page creations, name no
//! property or language in their summaries. The [`Inspector`] samples such
//! batches' edits and reads
//! - their diffs (`action=compare&fromrev=&torev=`), as HTML ([`read_diff`]);
//! - the first revision of the entities they created
//!   (`action=query&prop=revisions&revids=…&rvslots=*&rvprop=content|ids`, at
//!   most 50 ids a request), as entity JSON ([`read_entity`]);
//!
//! and adds `prop-P…`, `lang-…` and `site-…` tags to the batch through the
//! store ([`MaintenanceStore::record_inspection`]).
//!
//! Candidates are the store's [`MaintenanceStore::inspection_candidates`]:
//! batches with an opaque action or page creations that got edits since their
//! last inspection (EditGroups looked only at batches created in the last 30
//! minutes). Each is sampled among the edits stored since, newest first: up to
//! 10 diffs and 25 new entities by default, as EditGroups.
//!
//! It reads through the host's shared [`MediaWikiClient`](crate::mediawiki::MediaWikiClient)
//! (the recent-changes poller's and the revert worker's): its User-Agent,
//! `maxlag` with `Retry-After`, backoff on 5xx, timeouts and connection errors,
//! one request at a time among all its users. The inspector adds its own pace
//! between its reads ([`InspectorConfig::pace`], 0.5 s by default), which does
//! not slow the client's other users.
//!
//! An edit whose diff or entity cannot be read (malformed answer, deleted
//! revision, API error) is skipped with a warning and counted; the batch gets
//! what the others gave. A wiki that cannot be reached (the client gave up
//! retrying), or cannot be read now (lagged, read-only), ends the round; the
//! batches not done are inspected in the next one.

mod api;
mod diff;
mod digest;
mod entity;

pub use api::{ApiFailure, WikiApi};
pub use diff::{DiffReading, read_diff};
pub use digest::Digest;
pub use entity::{EntityError, RevisionContent, read_entity, read_revisions};

use editgroups_core::maintenance::{
    Inspection, InspectionCandidate, InspectionMark, InspectionQuery, MaintenanceStore, ScanPage,
};
use editgroups_core::tags::extract_comment_tags;
use editgroups_core::{ChangeType, StoreError, StoredEdit};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The most revision ids one `prop=revisions` request carries (the API's
/// limit for clients without `apihighlimits`).
pub const REVISIONS_PER_REQUEST: usize = 50;

/// What the inspector samples and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InspectorConfig {
    /// Only batches of this wiki (the one the API belongs to).
    pub wiki: String,
    /// Which batches are candidates (default: EditGroups' opaque actions, and
    /// page creations).
    pub query: InspectionQuery,
    /// Diffs read per batch and inspection, at most (default 10).
    pub max_diffs: usize,
    /// New entities read per batch and inspection, at most (default 25).
    pub max_new_entities: usize,
    /// Edits looked at per batch and inspection to find them, at most (default
    /// 1,000).
    pub max_scanned: u64,
    /// Candidates read from the store at a time (default 50).
    pub page_size: u64,
    /// The least time between the starts of two of the inspector's reads
    /// (default 0.5 s, as EditGroups slept between its inspections). The
    /// shared client's other users are not held to it.
    pub pace: Duration,
}

/// The default [`InspectorConfig::pace`].
pub const DEFAULT_PACE: Duration = Duration::from_millis(500);

impl InspectorConfig {
    /// The defaults, for the batches of `wiki`.
    pub fn new(wiki: impl Into<String>) -> Self {
        Self {
            wiki: wiki.into(),
            query: InspectionQuery::default(),
            max_diffs: 10,
            max_new_entities: 25,
            max_scanned: 1_000,
            page_size: 50,
            pace: DEFAULT_PACE,
        }
    }
}

/// What inspection did (one batch, or a whole run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InspectionReport {
    /// Batches inspected (their mark recorded).
    pub batches_inspected: u64,
    /// Batches left for later because the wiki could not be reached (a round
    /// stops at the first).
    pub batches_failed: u64,
    /// Diffs read.
    pub diffs_read: u64,
    /// New entities read.
    pub entities_read: u64,
    /// Edits skipped: malformed answer, deleted revision, API error.
    pub edits_skipped: u64,
    /// Rows of read diffs that could not be read (skipped).
    pub rows_skipped: u64,
    /// Tags added to batches.
    pub tags_added: u64,
    /// API requests made.
    pub requests: u64,
}

impl InspectionReport {
    fn add(&mut self, other: &InspectionReport) {
        self.batches_inspected += other.batches_inspected;
        self.batches_failed += other.batches_failed;
        self.diffs_read += other.diffs_read;
        self.entities_read += other.entities_read;
        self.edits_skipped += other.edits_skipped;
        self.rows_skipped += other.rows_skipped;
        self.tags_added += other.tags_added;
        self.requests += other.requests;
    }
}

/// Why inspecting a batch stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The wiki cannot be reached; the batch is left for the next run.
    #[error("{0}")]
    Unreachable(ApiFailure),
}

/// The edits of a batch's sample.
#[derive(Debug, Default)]
struct Sample {
    /// (old revision, new revision) of edits to diff.
    diffs: Vec<(u64, u64)>,
    /// First revisions of created pages.
    created: Vec<u64>,
}

/// Reads what the edits of batches touched and tags the batches (see the
/// module documentation).
#[derive(Debug)]
pub struct Inspector<A> {
    api: A,
    config: InspectorConfig,
    /// When the last read started; held while waiting for the next one.
    last_read: Mutex<Option<Instant>>,
}

impl<A: WikiApi> Inspector<A> {
    /// An inspector of `config.wiki`'s batches through `api`: the host's
    /// [`MediaWikiClient`](crate::mediawiki::MediaWikiClient) (or a clone, an
    /// `Arc` or a reference of it), or a scripted [`WikiApi`] in unit tests.
    pub fn new(api: A, config: InspectorConfig) -> Self {
        Self {
            api,
            config,
            last_read: Mutex::new(None),
        }
    }

    /// The API it reads through.
    pub fn api(&self) -> &A {
        &self.api
    }

    /// One read, at least [`InspectorConfig::pace`] after the start of the
    /// previous one.
    async fn read(&self, params: &[(&str, String)]) -> Result<Value, ApiFailure> {
        {
            let mut last = self.last_read.lock().await;
            if let Some(at) = *last {
                tokio::time::sleep_until(at + self.config.pace).await;
            }
            *last = Some(Instant::now());
        }
        self.api.get_json(params).await
    }

    /// Its configuration.
    pub fn config(&self) -> &InspectorConfig {
        &self.config
    }

    fn worth_a_diff(&self, stored: &StoredEdit) -> Option<(u64, u64)> {
        let edit = &stored.edit;
        let (old, new) = (edit.old_revision?, edit.new_revision?);
        if old == 0 || new == 0 {
            return None;
        }
        let tags = extract_comment_tags(edit.comment_str());
        tags.iter()
            .any(|t| self.config.query.tags.contains(t))
            .then_some((old, new))
    }

    async fn sample<S: MaintenanceStore + ?Sized>(
        &self,
        store: &S,
        candidate: &InspectionCandidate,
        through: u64,
    ) -> Result<Sample, StoreError> {
        const PAGE: u64 = 100;
        let after = candidate.inspected.map(|m| m.through);
        let mut sample = Sample::default();
        let mut scanned = 0;
        while scanned < self.config.max_scanned
            && (sample.diffs.len() < self.config.max_diffs
                || sample.created.len() < self.config.max_new_entities)
        {
            let limit = PAGE.min(self.config.max_scanned - scanned);
            let edits = store
                .edits_to_inspect(&candidate.batch.key, after, through, limit, scanned)
                .await?;
            scanned += edits.len() as u64;
            for stored in &edits {
                if let Some(pair) = self.worth_a_diff(stored) {
                    if sample.diffs.len() < self.config.max_diffs {
                        sample.diffs.push(pair);
                    }
                } else if stored.edit.change_type == ChangeType::New
                    && self.config.query.with_new_pages
                    && let Some(rev) = stored.edit.new_revision.filter(|r| *r > 0)
                    && sample.created.len() < self.config.max_new_entities
                {
                    sample.created.push(rev);
                }
            }
            if (edits.len() as u64) < limit {
                break;
            }
        }
        Ok(sample)
    }

    /// Reads one diff; `Ok(None)` when the edit is skipped.
    async fn diff(
        &self,
        old: u64,
        new: u64,
        report: &mut InspectionReport,
    ) -> Result<Option<Digest>, InspectError> {
        report.requests += 1;
        let params = [
            ("action", "compare".to_owned()),
            ("fromrev", old.to_string()),
            ("torev", new.to_string()),
            ("uselang", "en".to_owned()),
        ];
        let answer = match self.read(&params).await {
            Ok(answer) => answer,
            Err(failure @ ApiFailure::Unreachable(_)) => {
                return Err(InspectError::Unreachable(failure));
            }
            Err(failure) => {
                tracing::warn!(old, new, %failure, "diff not read; edit skipped");
                report.edits_skipped += 1;
                return Ok(None);
            }
        };
        let compare = answer.get("compare");
        let html = compare
            .and_then(|c| c.get("body").or_else(|| c.get("*")))
            .and_then(Value::as_str);
        let Some(html) = html else {
            tracing::warn!(old, new, "compare answer without a diff; edit skipped");
            report.edits_skipped += 1;
            return Ok(None);
        };
        let reading = read_diff(html);
        report.diffs_read += 1;
        report.rows_skipped += reading.rows_skipped;
        Ok(Some(reading.digest))
    }

    /// Reads new entities, at most [`REVISIONS_PER_REQUEST`] a request.
    async fn entities(
        &self,
        revisions: &[u64],
        report: &mut InspectionReport,
    ) -> Result<Digest, InspectError> {
        let mut digest = Digest::default();
        for part in revisions.chunks(REVISIONS_PER_REQUEST) {
            report.requests += 1;
            let ids: Vec<String> = part.iter().map(u64::to_string).collect();
            let params = [
                ("action", "query".to_owned()),
                ("prop", "revisions".to_owned()),
                ("revids", ids.join("|")),
                ("rvslots", "*".to_owned()),
                ("rvprop", "content|ids".to_owned()),
            ];
            let answer = match self.read(&params).await {
                Ok(answer) => answer,
                Err(failure @ ApiFailure::Unreachable(_)) => {
                    return Err(InspectError::Unreachable(failure));
                }
                Err(failure) => {
                    tracing::warn!(%failure, count = part.len(), "new entities not read; edits skipped");
                    report.edits_skipped += part.len() as u64;
                    continue;
                }
            };
            let (found, missing) = read_revisions(&answer);
            for revid in part {
                match found.get(revid) {
                    Some(RevisionContent::Entity(entity)) => {
                        report.entities_read += 1;
                        digest.merge(entity.clone());
                    }
                    Some(RevisionContent::Unreadable(why)) => {
                        tracing::warn!(revid, %why, "new entity not read; edit skipped");
                        report.edits_skipped += 1;
                    }
                    None => {
                        let why = if missing.contains(revid) {
                            "deleted or missing revision"
                        } else {
                            "not in the answer"
                        };
                        tracing::warn!(revid, why, "new entity not read; edit skipped");
                        report.edits_skipped += 1;
                    }
                }
            }
        }
        Ok(digest)
    }

    /// Inspects one candidate and records the result (mark and tags at once).
    pub async fn inspect<S: MaintenanceStore + ?Sized>(
        &self,
        store: &S,
        candidate: &InspectionCandidate,
    ) -> Result<InspectionReport, InspectError> {
        let mut report = InspectionReport::default();
        let previous = candidate.inspected.map_or(0, |m| m.through);
        let through = candidate.newest_edit.unwrap_or(previous).max(previous);
        let sample = self.sample(store, candidate, through).await?;
        let mut digest = Digest::default();
        for (old, new) in &sample.diffs {
            if let Some(found) = self.diff(*old, *new, &mut report).await? {
                digest.merge(found);
            }
        }
        if !sample.created.is_empty() {
            digest.merge(self.entities(&sample.created, &mut report).await?);
        }
        let inspection = Inspection {
            mark: InspectionMark {
                at: chrono::Utc::now(),
                nb_edits: candidate.batch.nb_edits,
                through,
            },
            tags: digest.tags(),
        };
        let recorded = store
            .record_inspection(&candidate.batch.key, &inspection)
            .await?;
        report.tags_added = recorded.tags_added;
        report.batches_inspected = u64::from(recorded.found);
        tracing::debug!(batch = %candidate.batch.key, ?report, "batch inspected");
        Ok(report)
    }

    /// Inspects every candidate of the wiki once, a page of candidates at a
    /// time. `progress` is called after each batch with the totals; `stop` is
    /// checked between batches. When the wiki cannot be reached (after the
    /// client's retries) or read now, the round ends, the batch counted in
    /// [`InspectionReport::batches_failed`] and every batch not done left for
    /// the next round; a store failure ends the round with the error.
    pub async fn run_once<S, P, Q>(
        &self,
        store: &S,
        mut progress: P,
        stop: Q,
    ) -> Result<InspectionReport, StoreError>
    where
        S: MaintenanceStore + ?Sized,
        P: FnMut(&InspectionReport),
        Q: Fn() -> bool,
    {
        let mut total = InspectionReport::default();
        let mut page = ScanPage::first(self.config.page_size);
        loop {
            let candidates = store
                .inspection_candidates(&self.config.query, page)
                .await?;
            let Some(last) = candidates.last().map(|c| c.position) else {
                return Ok(total);
            };
            for candidate in candidates
                .iter()
                .filter(|c| c.batch.key.wiki == self.config.wiki)
            {
                if stop() {
                    return Ok(total);
                }
                match self.inspect(store, candidate).await {
                    Ok(report) => total.add(&report),
                    Err(InspectError::Store(e)) => return Err(e),
                    Err(InspectError::Unreachable(failure)) => {
                        // The client retried already: the rest would only wait too.
                        tracing::warn!(batch = %candidate.batch.key, %failure, "the wiki cannot be reached; the round stops, the batches are left for the next one");
                        total.batches_failed += 1;
                        progress(&total);
                        return Ok(total);
                    }
                }
                progress(&total);
            }
            page = ScanPage::after(last, self.config.page_size);
        }
    }
}
