use crate::edit::Timestamp;
use crate::source::SkipReason;
use crate::store::ApplyReport;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Live counters of a pipeline, readable from any thread while it runs.
#[derive(Debug)]
pub struct PipelineStats {
    events_read: AtomicU64,
    skipped: [AtomicU64; SkipReason::ALL.len()],
    attributed: AtomicU64,
    inserted: AtomicU64,
    duplicates: AtomicU64,
    hijacked: AtomicU64,
    reverted: AtomicU64,
    batches_touched: AtomicU64,
    chunks_applied: AtomicU64,
    /// Unix seconds of the newest event read, or `i64::MIN` for none.
    latest_event_time: AtomicI64,
}

impl Default for PipelineStats {
    fn default() -> Self {
        Self {
            events_read: AtomicU64::new(0),
            skipped: std::array::from_fn(|_| AtomicU64::new(0)),
            attributed: AtomicU64::new(0),
            inserted: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            hijacked: AtomicU64::new(0),
            reverted: AtomicU64::new(0),
            batches_touched: AtomicU64::new(0),
            chunks_applied: AtomicU64::new(0),
            latest_event_time: AtomicI64::new(i64::MIN),
        }
    }
}

fn reason_index(reason: SkipReason) -> usize {
    SkipReason::ALL
        .iter()
        .position(|r| *r == reason)
        .unwrap_or(0)
}

impl PipelineStats {
    pub(crate) fn read_event(&self) {
        self.events_read.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn skipped(&self, reason: SkipReason) {
        if let Some(counter) = self.skipped.get(reason_index(reason)) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn attributed(&self) {
        self.attributed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn saw_time(&self, time: Timestamp) {
        self.latest_event_time
            .fetch_max(time.timestamp(), Ordering::Relaxed);
    }

    pub(crate) fn applied(&self, report: &ApplyReport) {
        self.inserted.fetch_add(report.inserted, Ordering::Relaxed);
        self.duplicates
            .fetch_add(report.duplicates, Ordering::Relaxed);
        self.hijacked.fetch_add(report.hijacked, Ordering::Relaxed);
        self.reverted.fetch_add(report.reverted, Ordering::Relaxed);
        self.batches_touched
            .fetch_add(report.batches_touched, Ordering::Relaxed);
        self.chunks_applied.fetch_add(1, Ordering::Relaxed);
    }

    /// A consistent-enough copy of the counters.
    pub fn snapshot(&self) -> StatsSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let latest = self.latest_event_time.load(Ordering::Relaxed);
        StatsSnapshot {
            events_read: load(&self.events_read),
            skipped: SkipReason::ALL
                .iter()
                .zip(&self.skipped)
                .map(|(reason, count)| (reason.as_str(), load(count)))
                .filter(|(_, count)| *count > 0)
                .collect(),
            attributed: load(&self.attributed),
            inserted: load(&self.inserted),
            duplicates: load(&self.duplicates),
            hijacked: load(&self.hijacked),
            reverted: load(&self.reverted),
            batches_touched: load(&self.batches_touched),
            chunks_applied: load(&self.chunks_applied),
            latest_event_time: (latest != i64::MIN)
                .then(|| DateTime::from_timestamp(latest, 0))
                .flatten(),
        }
    }
}

/// The counters of a pipeline at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct StatsSnapshot {
    /// Items read from the source (events and skipped input).
    pub events_read: u64,
    /// Items skipped, by reason (only reasons that occurred).
    pub skipped: BTreeMap<&'static str, u64>,
    /// Events a tool rule matched (duplicates included).
    pub attributed: u64,
    /// Attributed edits newly stored.
    pub inserted: u64,
    /// Re-delivered events the store already had.
    pub duplicates: u64,
    /// Edits dropped because they name another author than their batch's.
    pub hijacked: u64,
    /// Edits newly marked reverted.
    pub reverted: u64,
    /// Batch changes (a batch changed by several chunks counts once per chunk).
    pub batches_touched: u64,
    /// Chunks applied to the store.
    pub chunks_applied: u64,
    /// The newest event time read.
    pub latest_event_time: Option<Timestamp>,
}

impl StatsSnapshot {
    /// Everything skipped.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// How far the pipeline is behind `now`: `now` minus the newest event read.
    pub fn lag(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        self.latest_event_time.map(|t| now - t)
    }
}
