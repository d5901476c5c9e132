//! Test support for implementors: a conformance suite for [`BatchStore`]s, edit
//! builders, and helpers for testing [`EditSource`]s.
//!
//! Not covered by semver. The suite writes data: run it on an empty store made
//! for the test.
//!
//! [`BatchStore`]: crate::BatchStore
//! [`EditSource`]: crate::EditSource

mod build;
pub mod maintenance;
pub mod source;
pub mod store;

pub use build::{EditBuilder, attributed, chunk, edit, unattributed};
