//! Counters of a poller, readable while it runs.

use crate::mediawiki::ClientStats;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Live counters of a [`RecentChangesSource`](super::RecentChangesSource).
#[derive(Debug, Default)]
pub struct RecentChangesStats {
    /// The counters of the poller's API client (requests, retries, lag).
    client: Arc<ClientStats>,
    pages: AtomicU64,
    rows: AtomicU64,
    overlap_dropped: AtomicU64,
    catch_ups: AtomicU64,
    gaps: AtomicU64,
    last_gap: Mutex<Option<String>>,
}

/// The counters of a poller at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RecentChangesSnapshot {
    /// HTTP requests sent (retries included) by the poller's API client (a
    /// client shared with others counts theirs too).
    pub requests: u64,
    /// Pages of recent changes read.
    pub pages: u64,
    /// Rows read, those dropped as already seen included.
    pub rows: u64,
    /// Rows dropped because an earlier poll had yielded them (the overlap).
    pub overlap_dropped: u64,
    /// Requests retried (5xx, timeouts, connection errors, lag).
    pub retries: u64,
    /// `maxlag` answers received.
    pub lagged: u64,
    /// Times the poller caught up (read a page without `continue`).
    pub catch_ups: u64,
    /// Gaps found and passed over ([`GapPolicy::Continue`](super::GapPolicy::Continue)).
    pub gaps: u64,
    /// The last gap's range and reason.
    pub last_gap: Option<String>,
}

impl RecentChangesStats {
    pub(crate) fn with_client(client: Arc<ClientStats>) -> Self {
        Self {
            client,
            ..Self::default()
        }
    }

    pub(crate) fn page(&self, rows: usize) {
        self.pages.fetch_add(1, Ordering::Relaxed);
        self.rows.fetch_add(rows as u64, Ordering::Relaxed);
    }

    pub(crate) fn overlap_dropped(&self) {
        self.overlap_dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn caught_up(&self) {
        self.catch_ups.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn gap(&self, message: String) {
        self.gaps.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut last) = self.last_gap.lock() {
            *last = Some(message);
        }
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> RecentChangesSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let client = self.client.snapshot();
        RecentChangesSnapshot {
            requests: client.requests,
            pages: load(&self.pages),
            rows: load(&self.rows),
            overlap_dropped: load(&self.overlap_dropped),
            retries: client.retries,
            lagged: client.lagged,
            catch_ups: load(&self.catch_ups),
            gaps: load(&self.gaps),
            last_gap: self.last_gap.lock().ok().and_then(|g| g.clone()),
        }
    }
}
