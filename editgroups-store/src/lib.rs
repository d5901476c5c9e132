//! Batch stores for editgroups.
//!
//! - [`MemoryStore`] (feature `memory`): in memory, the reference implementation.
#![cfg_attr(
    feature = "sql",
    doc = "- [`SqlStore`] (features `sqlite`, `postgres`, `mysql`): SQL through sea-orm."
)]
//!
//! [`open_store`] opens any of them from one URL string.

#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "memory")]
mod memory;
#[cfg(feature = "sql")]
mod sql;
mod url;

#[cfg(feature = "memory")]
pub use memory::MemoryStore;
#[cfg(feature = "sql")]
pub use sql::{CacheLimits, SqlStore};
pub use url::open_store;

use editgroups_core::{BatchStore, MaintenanceStore};

/// A store with every trait: ingestion and queries ([`BatchStore`]) and
/// maintenance ([`MaintenanceStore`]). [`open_store`] gives one; an
/// `Arc<dyn Store>` converts to an `Arc<dyn BatchStore>` where only that is
/// needed.
pub trait Store: BatchStore + MaintenanceStore {}

impl<T: BatchStore + MaintenanceStore + ?Sized> Store for T {}
