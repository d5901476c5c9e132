//! Follows Wikimedia EventStreams into a store, resuming where the store stopped.
//!
//! Run with `cargo run -p editgroups-examples --example listen -- --user-agent
//! "my-tool/1.0 (https://example.org; me@example.org)"`.
//!
//! - `--db URL`: the store (default `sqlite://editgroups.db?mode=rwc`; `memory:`
//!   keeps nothing after exit). After a restart the store's cursor is the
//!   position to resume from.
//! - `--wiki W` (repeatable, default `wikidatawiki`), `--url`, `--rules FILE`.
//! - `--since TIME`: where a first start begins in the stream's history (kept 7
//!   to 31 days); ignored once the store has a position.
//! - `--until TIME`: stop, after storing everything before it, at the first event
//!   later than this time (a time-window backfill with `--since`).
//! - Ctrl-C (or SIGTERM) stops cleanly: what has been read is stored first.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::Parser;
use editgroups_core::{BatchQuery, Cursor, EditSource, Pipeline, SourceItem, SourceStream};
use editgroups_sources::eventstreams::{DEFAULT_URL, EventStreamsSource, EventStreamsStats};
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Follows Wikimedia EventStreams into an editgroups store.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The User-Agent sent to Wikimedia, with contact details, e.g.
    /// "my-tool/1.0 (https://example.org; me@example.org)". Required.
    #[arg(long, env = "EDITGROUPS_USER_AGENT")]
    user_agent: String,
    /// A wiki to follow; repeat for several.
    #[arg(long = "wiki", default_values_t = ["wikidatawiki".to_owned()])]
    wikis: Vec<String>,
    /// The store URL: sqlite://FILE?mode=rwc, postgres://..., mysql://..., memory:.
    #[arg(long, default_value = "sqlite://editgroups.db?mode=rwc")]
    db: String,
    /// The stream URL.
    #[arg(long, default_value = DEFAULT_URL)]
    url: String,
    /// Where a first start begins (RFC 3339, e.g. 2026-11-27T00:00:00Z); ignored when
    /// the store holds a position.
    #[arg(long)]
    since: Option<DateTime<Utc>>,
    /// Stop at the first event later than this time (RFC 3339), after storing
    /// everything before it.
    #[arg(long)]
    until: Option<DateTime<Utc>>,
    /// Tool rules (TOML or JSON); EditGroups' defaults when not given.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Seconds between progress lines.
    #[arg(long, default_value_t = 5)]
    progress_every: u64,
    /// Seconds without data before reconnecting.
    #[arg(long, default_value_t = 60)]
    idle_timeout: u64,
    /// Print the store's batches as JSON lines on exit.
    #[arg(long)]
    print_batches: bool,
}

/// Ends a source's stream at the first edit later than a time, without yielding
/// that edit: the stored cursor stays just before it.
#[derive(Debug)]
struct Until<S> {
    inner: S,
    until: DateTime<Utc>,
}

impl<S: EditSource> EditSource for Until<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn stream(&mut self, from: Option<Cursor>) -> SourceStream {
        let until = self.until;
        self.inner
            .stream(from)
            .take_while(move |item| {
                let later =
                    matches!(item, Ok(SourceItem::Edit { edit, .. }) if edit.timestamp > until);
                if later {
                    tracing::info!(%until, "reached the first event after --until");
                }
                futures::future::ready(!later)
            })
            .boxed()
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(%e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    eprintln!("stopping: storing what has been read");
}

/// Prints a progress line every `every`: events/s, attributed, stored, lag,
/// reconnects.
async fn progress(
    pipeline: Arc<editgroups_core::pipeline::PipelineStats>,
    source: Arc<EventStreamsStats>,
    every: Duration,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    let mut previous = 0;
    loop {
        ticks.tick().await;
        let stats = pipeline.snapshot();
        let stream = source.snapshot();
        let rate = (stats.events_read - previous) as f64 / every.as_secs_f64();
        previous = stats.events_read;
        let lag = stats
            .lag(Utc::now())
            .map_or_else(|| "-".to_owned(), |l| format!("{}s", l.num_seconds()));
        eprintln!(
            "events {} ({rate:.0}/s), attributed {}, stored {}, duplicates {}, lag {lag}, reconnects {}",
            stats.events_read,
            stats.attributed,
            stats.inserted,
            stats.duplicates,
            stream.reconnects
        );
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();

    let mut builder = EventStreamsSource::builder()
        .url(&args.url)
        .user_agent(&args.user_agent)
        .wikis(args.wikis.iter().cloned())
        .idle_timeout(Duration::from_secs(args.idle_timeout.max(1)));
    if let Some(since) = args.since {
        builder = builder.since(since);
    }
    let source = builder.build().context("EventStreams")?;
    let source_stats = source.stats();
    let store = editgroups_examples::open_store(&args.db).await?;
    let matcher = editgroups_examples::load_matcher(args.rules.as_deref())?;
    let builder = Pipeline::builder()
        .shared_store(store.clone())
        .matcher(matcher);
    let builder = match args.until {
        Some(until) => builder.source(Until {
            inner: source,
            until,
        }),
        None => builder.source(source),
    };
    let pipeline = builder.build()?;
    let progress = tokio::spawn(progress(
        pipeline.stats(),
        source_stats.clone(),
        Duration::from_secs(args.progress_every.max(1)),
    ));
    let outcome = pipeline.run_until(shutdown_signal()).await;
    progress.abort();
    let stats = outcome?;
    eprintln!(
        "done: {} events read, {} attributed, {} stored, {} duplicates, {} reconnects",
        stats.events_read,
        stats.attributed,
        stats.inserted,
        stats.duplicates,
        source_stats.snapshot().reconnects
    );
    if args.print_batches {
        for batch in store.list_batches(&BatchQuery::new()).await? {
            println!("{}", serde_json::to_string(&batch)?);
        }
    }
    Ok(())
}
