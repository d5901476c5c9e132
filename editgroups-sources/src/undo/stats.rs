//! Counters of a revert worker, readable while it runs.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters of a [`RevertWorker`](super::RevertWorker).
#[derive(Debug, Default)]
pub struct RevertStats {
    tasks_started: AtomicU64,
    tasks_completed: AtomicU64,
    tasks_cancelled: AtomicU64,
    tasks_refused: AtomicU64,
    sent: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    found_done: AtomicU64,
    unknown: AtomicU64,
}

/// The counters of a worker at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RevertSnapshot {
    /// Tasks taken up (resumed ones included).
    pub tasks_started: u64,
    /// Tasks that ended with every action tried.
    pub tasks_completed: u64,
    /// Tasks found cancelled.
    pub tasks_cancelled: u64,
    /// Tasks refused before any change (missing rights).
    pub tasks_refused: u64,
    /// Actions sent to the wiki (sent again included).
    pub sent: u64,
    /// Actions done.
    pub done: u64,
    /// Actions the wiki refused.
    pub failed: u64,
    /// Actions skipped (nothing left to change).
    pub skipped: u64,
    /// Actions whose answer was lost and that the wiki's history showed done.
    pub found_done: u64,
    /// Writes without a usable answer (checked against the wiki).
    pub unknown: u64,
}

impl RevertSnapshot {
    /// Actions settled in this run: done, failed or skipped.
    pub fn settled(&self) -> u64 {
        self.done + self.failed + self.skipped
    }
}

macro_rules! counters {
    ($($name:ident),*) => {
        impl RevertStats {
            $(
                pub(crate) fn $name(&self) {
                    self.$name.fetch_add(1, Ordering::Relaxed);
                }
            )*

            /// A copy of the counters.
            pub fn snapshot(&self) -> RevertSnapshot {
                RevertSnapshot {
                    $($name: self.$name.load(Ordering::Relaxed),)*
                }
            }
        }
    };
}

counters!(
    tasks_started,
    tasks_completed,
    tasks_cancelled,
    tasks_refused,
    sent,
    done,
    failed,
    skipped,
    found_done,
    unknown
);
