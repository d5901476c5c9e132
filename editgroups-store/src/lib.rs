//! Batch stores for editgroups.
//!
//! - [`MemoryStore`] (feature `memory`): in memory, the reference implementation.
#![cfg_attr(
    feature = "sql",
    doc = "- [`SqlStore`] (features `sqlite`, `postgres`, `mysql`): SQL through sea-orm."
)]
//!
//! Each keeps batches ([`BatchStore`](editgroups_core::BatchStore)), revert
//! tasks ([`RevertTaskStore`](editgroups_core::RevertTaskStore)) and what
//! maintenance needs ([`MaintenanceStore`](editgroups_core::MaintenanceStore));
//! [`Store`] is all three, and [`open_store`] opens any of them from one URL
//! string.
#![cfg_attr(
    feature = "http",
    doc = "\n[`http`] (feature `http`) is the web service over any store: EditGroups' pages and JSON/CSV API."
)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "memory")]
mod memory;
#[cfg(feature = "sql")]
mod sql;
mod store;
mod url;

#[cfg(feature = "memory")]
pub use memory::MemoryStore;
#[cfg(feature = "sql")]
pub use sql::{CacheLimits, SqlStore};
pub use store::Store;
pub use url::open_store;
