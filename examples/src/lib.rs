//! Shared helpers of the editgroups examples: printing batches in the formats the
//! examples offer, and wiring logs.

#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod output;

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
