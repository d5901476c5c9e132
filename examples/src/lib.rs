//! Shared helpers of the editgroups examples: printing batches in the formats the
//! examples offer, and wiring logs.

#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod output;

use anyhow::Context;
use editgroups_core::{BatchStore, RegexToolMatcher, RuleSet};
use std::path::Path;
use std::sync::Arc;

// The examples churn through many small strings; mimalloc serves them faster
// than the system allocator. (Set here, it applies to every example; built without
// transparent huge pages, see the workspace manifest.)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Opens the store a `--db` URL names, saying which on failure.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn BatchStore>> {
    Ok(open_full_store(url).await?)
}

/// Opens the store a `--db` URL names with its maintenance side too.
pub async fn open_full_store(url: &str) -> anyhow::Result<Arc<dyn editgroups_store::Store>> {
    editgroups_store::open_store(url)
        .await
        .with_context(|| format!("cannot open the store {url}"))
}

/// The tool matcher of a `--rules` file (TOML, or JSON by its `.json` name), or
/// the default rules.
pub fn load_matcher(rules: Option<&Path>) -> anyhow::Result<RegexToolMatcher> {
    Ok(match rules {
        Some(path) => RegexToolMatcher::new(RuleSet::from_file(path)?)?,
        None => RegexToolMatcher::default(),
    })
}

/// The store the examples use unless `--db` says otherwise: the SQLite file
/// `editgroups.db` in the working directory.
pub const DEFAULT_DB: &str = "sqlite://editgroups.db?mode=rwc";

/// Sends `tracing` logs to standard error, filtered by `RUST_LOG` (default `info`
/// for the library, `warn` for dependencies).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,editgroups_core=info,editgroups_sources=info")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
