//! Test support for implementors: conformance suites for [`BatchStore`]s and
//! [`RevertTaskStore`]s, edit builders, and helpers for testing [`EditSource`]s.
//!
//! Not covered by semver. The suite writes data: run it on an empty store made
//! for the test.
//!
//! [`BatchStore`]: crate::BatchStore
//! [`EditSource`]: crate::EditSource
//! [`RevertTaskStore`]: crate::RevertTaskStore

mod build;
pub mod maintenance;
pub mod source;
pub mod store;
pub mod tasks;

pub use build::{EditBuilder, attributed, chunk, edit, unattributed};
