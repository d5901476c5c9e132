//! Counters of a client, readable while it works.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters of a [`MediaWikiClient`](super::MediaWikiClient), shared by its
/// clones.
#[derive(Debug, Default)]
pub struct ClientStats {
    requests: AtomicU64,
    retries: AtomicU64,
    lagged: AtomicU64,
    rate_limited: AtomicU64,
    logins: AtomicU64,
    tokens: AtomicU64,
    writes: AtomicU64,
}

/// The counters of a client at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ClientSnapshot {
    /// HTTP requests sent (retries included).
    pub requests: u64,
    /// Requests retried (5xx, timeouts, connection errors, lag, rate limits).
    pub retries: u64,
    /// `maxlag` answers received.
    pub lagged: u64,
    /// `ratelimited` answers received.
    pub rate_limited: u64,
    /// Logins made.
    pub logins: u64,
    /// CSRF tokens fetched.
    pub tokens: u64,
    /// Write requests sent (retries included).
    pub writes: u64,
}

impl ClientStats {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn lagged(&self) {
        self.lagged.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn login(&self) {
        self.logins.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn token(&self) {
        self.tokens.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> ClientSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ClientSnapshot {
            requests: load(&self.requests),
            retries: load(&self.retries),
            lagged: load(&self.lagged),
            rate_limited: load(&self.rate_limited),
            logins: load(&self.logins),
            tokens: load(&self.tokens),
            writes: load(&self.writes),
        }
    }
}
