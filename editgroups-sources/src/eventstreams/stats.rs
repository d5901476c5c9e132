//! Counters of an EventStreams connection, readable by the host while it runs.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters of an [`EventStreamsSource`](super::EventStreamsSource), shared
/// with the host through an `Arc` ([`EventStreamsSource::stats`](super::EventStreamsSource::stats)).
#[derive(Debug, Default)]
pub struct EventStreamsStats {
    connections: AtomicU64,
    reconnects: AtomicU64,
    idle_timeouts: AtomicU64,
    bytes: AtomicU64,
    events: AtomicU64,
    error_events: AtomicU64,
    oversized: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl EventStreamsStats {
    pub(super) fn connected(&self) {
        add(&self.connections, 1);
    }

    pub(super) fn reconnecting(&self) {
        add(&self.reconnects, 1);
    }

    pub(super) fn idle_timeout(&self) {
        add(&self.idle_timeouts, 1);
    }

    pub(super) fn read(&self, bytes: usize) {
        add(&self.bytes, bytes as u64);
    }

    pub(super) fn event(&self) {
        add(&self.events, 1);
    }

    pub(super) fn error_event(&self) {
        add(&self.error_events, 1);
    }

    pub(super) fn oversized_event(&self) {
        add(&self.oversized, 1);
    }

    /// The counters now.
    pub fn snapshot(&self) -> EventStreamsStatsSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        EventStreamsStatsSnapshot {
            connections: load(&self.connections),
            reconnects: load(&self.reconnects),
            idle_timeouts: load(&self.idle_timeouts),
            bytes: load(&self.bytes),
            events: load(&self.events),
            error_events: load(&self.error_events),
            oversized: load(&self.oversized),
        }
    }
}

/// The counters of an EventStreams source at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct EventStreamsStatsSnapshot {
    /// Connections that got a stream (HTTP 200).
    pub connections: u64,
    /// Reconnection attempts, whatever the reason (a closed stream, an idle
    /// timeout, a network error, a refused connection).
    pub reconnects: u64,
    /// Reconnections because no byte came for the idle timeout.
    pub idle_timeouts: u64,
    /// Bytes of stream read (after decompression).
    pub bytes: u64,
    /// `message` events read, canaries and other wikis' events included.
    pub events: u64,
    /// `error` events the server sent.
    pub error_events: u64,
    /// Events skipped for their size.
    pub oversized: u64,
}
