//! Edit sources for editgroups.
//!
//! - [`replay::ReplaySource`] (feature `replay`, default): recorded JSON-lines
//!   events from files (gzip too) or standard input.
//! - `eventstreams::EventStreamsSource` (feature `eventstreams`): Wikimedia
//!   EventStreams, resumable across disconnects.
//! - `recentchanges::RecentChangesSource` (feature `recentchanges`): polling of the
//!   MediaWiki recent-changes API, for any MediaWiki or Wikibase.
//! - `mediawiki::MediaWikiClient` (feature `mediawiki`, enabled by
//!   `recentchanges`, `undo` and `inspect`): the Action API client they share,
//!   reads and writes.
//! - `undo::RevertWorker` (feature `undo`): carries out revert tasks on a wiki.
//! - `inspect::Inspector` (feature `inspect`): tags batches from their diffs and
//!   new entities, read through the shared client.

#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "eventstreams")]
pub mod eventstreams;
#[cfg(feature = "inspect")]
pub mod inspect;
#[cfg(feature = "mediawiki")]
pub mod mediawiki;
#[cfg(feature = "recentchanges")]
pub mod recentchanges;
#[cfg(feature = "replay")]
pub mod replay;
#[cfg(feature = "undo")]
pub mod undo;

#[cfg(feature = "replay")]
pub use replay::{ReplayInput, ReplaySource};

#[cfg(feature = "http")]
pub mod http;
