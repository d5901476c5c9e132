//! Serves a store's batches: EditGroups' pages and JSON/CSV API
//! (`editgroups_store::http`), optionally following a wiki in the same process.
//!
//! ```text
//! serve --db URL [--listen 127.0.0.1:8000] [--rules FILE] [--site FILE]
//! serve ... --follow eventstreams --user-agent UA [--wiki W]... [--url URL] [--since TIME]
//! serve ... --follow api --api URL --user-agent UA [--wiki W] [--since 7d] [--interval S] ...
//! ```
//!
//! Ctrl-C or SIGTERM: stops accepting connections, finishes the requests in
//! flight (for at most `--drain-seconds`), stores the pipeline's chunk in hand,
//! and exits 0.
//!
//! On a SQLite file the pages read through connections of their own, so that they
//! are answered while a writer (this process's pipeline, or another process such
//! as `listen`, `poll` or `replay`) commits.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, TimeDelta, Utc};
use clap::{Parser, ValueEnum};
use editgroups_core::{BatchStore, Pipeline, RuleSet};
use editgroups_sources::eventstreams::{DEFAULT_URL, EventStreamsSource};
use editgroups_sources::recentchanges::{GapPolicy, RecentChangesSource};
use editgroups_store::Store;
use editgroups_store::http::Site;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What to follow while serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Follow {
    /// Wikimedia EventStreams (as the `listen` example).
    Eventstreams,
    /// A MediaWiki's recent-changes API (as the `poll` example).
    Api,
}

/// Serves an editgroups store over HTTP.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The store URL: sqlite://FILE?mode=rwc, postgres://..., mysql://..., memory:.
    #[arg(long, default_value = editgroups_examples::DEFAULT_DB)]
    db: String,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Tool rules (TOML or JSON): the tools' names and links, and what a
    /// pipeline (--follow) matches; EditGroups' defaults when not given.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// The site configuration (TOML: wikis, links, limits); Wikidata's when not
    /// given.
    #[arg(long)]
    site: Option<PathBuf>,
    /// Also follow a wiki into the store.
    #[arg(long, value_enum)]
    follow: Option<Follow>,
    /// Seconds to let requests in flight finish after a stop signal.
    #[arg(long, default_value_t = 10)]
    drain_seconds: u64,
    /// Read connections of the pages (SQLite files and server databases).
    #[arg(long, default_value_t = 4)]
    readers: u32,

    /// A User-Agent with contact details, for Wikimedia and other wikis (--follow).
    #[arg(long, env = "EDITGROUPS_USER_AGENT")]
    user_agent: Option<String>,
    /// A wiki to follow (EventStreams: repeat for several, default wikidatawiki;
    /// api: the wiki id edits are filed under, default siteinfo's).
    #[arg(long = "wiki")]
    wikis: Vec<String>,
    /// Where a first start begins: RFC 3339 (EventStreams, api) or an age such as
    /// 12h or 7d (api).
    #[arg(long)]
    since: Option<String>,
    /// The EventStreams URL.
    #[arg(long, default_value = DEFAULT_URL)]
    url: String,
    /// Seconds without data before EventStreams reconnects.
    #[arg(long, default_value_t = 60)]
    idle_timeout: u64,
    /// The wiki's api.php (--follow api).
    #[arg(long)]
    api: Option<String>,
    /// Seconds between polls once caught up (--follow api).
    #[arg(long, default_value_t = 5.0)]
    interval: f64,
    /// The longest pause between polls while the wiki is idle (--follow api).
    #[arg(long, default_value_t = 60.0)]
    max_interval: f64,
    /// Seconds each poll starts before the newest change seen (--follow api).
    #[arg(long, default_value_t = 60)]
    overlap: u64,
    /// How many days the wiki keeps recent changes (--follow api).
    #[arg(long, default_value_t = 90)]
    max_age_days: u64,
    /// Go on past changes the wiki no longer keeps (--follow api).
    #[arg(long)]
    accept_gap: bool,
    /// A bot-password user (`User@appid`) (--follow api).
    #[arg(long, env = "EDITGROUPS_BOT_USER", requires = "bot_password")]
    bot_user: Option<String>,
    /// The bot password (--follow api).
    #[arg(long, env = "EDITGROUPS_BOT_PASSWORD", hide_env_values = true)]
    bot_password: Option<String>,
}

fn parse_since(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.to_utc());
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .with_context(|| format!("--since {text:?} is neither an RFC 3339 time nor an age"))?;
    let age = match unit {
        "s" => TimeDelta::try_seconds(number),
        "m" => TimeDelta::try_minutes(number),
        "h" => TimeDelta::try_hours(number),
        "d" => TimeDelta::try_days(number),
        _ => None,
    }
    .with_context(|| format!("--since {text:?}: an age is a number and s, m, h or d"))?;
    Utc::now()
        .checked_sub_signed(age)
        .with_context(|| format!("--since {text:?} is too far back"))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
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
}

/// Waits until `stop` turns true.
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Builds the pipeline `--follow` asks for.
fn pipeline(args: &Args, rules: &RuleSet, store: Arc<dyn BatchStore>) -> Result<Option<Pipeline>> {
    let Some(follow) = args.follow else {
        return Ok(None);
    };
    let matcher = editgroups_core::RegexToolMatcher::new(rules.clone())?;
    let user_agent = args
        .user_agent
        .as_deref()
        .context("--follow needs --user-agent (or EDITGROUPS_USER_AGENT) with contact details")?;
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let builder = Pipeline::builder().matcher(matcher).shared_store(store);
    let pipeline = match follow {
        Follow::Eventstreams => {
            let wikis = if args.wikis.is_empty() {
                vec!["wikidatawiki".to_owned()]
            } else {
                args.wikis.clone()
            };
            let mut source = EventStreamsSource::builder()
                .url(&args.url)
                .user_agent(user_agent)
                .wikis(wikis)
                .idle_timeout(Duration::from_secs(args.idle_timeout.max(1)));
            if let Some(since) = since {
                source = source.since(since);
            }
            builder
                .source(source.build().context("EventStreams")?)
                .build()?
        }
        Follow::Api => {
            let api = args
                .api
                .as_deref()
                .context("--follow api needs --api URL")?;
            let seconds = |v: f64, what: &str| {
                Duration::try_from_secs_f64(v).with_context(|| format!("--{what} {v}"))
            };
            let mut source = RecentChangesSource::builder(api)
                .user_agent(user_agent)
                .interval(
                    seconds(args.interval, "interval")?,
                    seconds(args.max_interval, "max-interval")?,
                )
                .overlap(Duration::from_secs(args.overlap))
                .max_age(Duration::from_secs(
                    args.max_age_days.saturating_mul(86_400),
                ))
                .gap_policy(if args.accept_gap {
                    GapPolicy::Continue
                } else {
                    GapPolicy::Fail
                });
            match args.wikis.as_slice() {
                [] => {}
                [wiki] => source = source.wiki(wiki),
                _ => bail!("--follow api follows one wiki: give one --wiki"),
            }
            if let Some(since) = since {
                source = source.since(since);
            }
            match (&args.bot_user, &args.bot_password) {
                (Some(user), Some(password)) => source = source.bot_password(user, password),
                (None, None) => {}
                _ => bail!("--bot-user and --bot-password go together"),
            }
            builder.source(source.build()?).build()?
        }
    };
    Ok(Some(pipeline))
}

/// The store the pages read: readers of their own on SQLite files and server
/// databases, else the writer's store.
async fn reader_store(args: &Args, writer: &Arc<dyn Store>) -> Result<Arc<dyn Store>> {
    let shared = args.db.starts_with("memory:")
        || args.db.contains(":memory:")
        || args.db.contains("mode=memory");
    if shared {
        return Ok(writer.clone());
    }
    let readers = editgroups_store::SqlStore::connect_readers(&args.db, args.readers)
        .await
        .with_context(|| format!("cannot open readers of {}", args.db))?;
    Ok(Arc::new(readers))
}

#[tokio::main]
async fn main() -> Result<()> {
    editgroups_examples::init_logging();
    let args = Args::parse();
    let rules = match &args.rules {
        Some(path) => RuleSet::from_file(path)?,
        None => RuleSet::defaults(),
    };
    let site = match &args.site {
        Some(path) => Site::from_file(path)?,
        None => Site::default(),
    }
    .with_rules(&rules);
    // Opening through the writer migrates the schema first.
    let store = editgroups_examples::open_store(&args.db).await?;
    let readers = reader_store(&args, &store).await?;
    let pipeline = pipeline(&args, &rules, store.clone() as Arc<dyn BatchStore>)?;
    if pipeline.is_none() && !Arc::ptr_eq(&store, &readers) {
        // Only opened to migrate the schema: its connections and cache go.
        drop(store);
    }
    let stats = pipeline.as_ref().map(|p| p.stats());
    let app = editgroups_store::http::store_router(readers, site, stats);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    // Tests and scripts read this line to find the port (`--listen 127.0.0.1:0`).
    println!("listening on http://{address}/");

    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let signal_tx = stop_tx.clone();
    tokio::spawn(async move {
        stop_signal().await;
        eprintln!("stopping: finishing requests in flight and storing what has been read");
        let _ = signal_tx.send(true);
    });
    let server = {
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped(stop))
                .await
        })
    };
    let mut failure = None;
    // The pipeline runs on this task (it is not `Sync`); the server on its own.
    if let Some(pipeline) = pipeline {
        match pipeline.run_until(stopped(stop_rx.clone())).await {
            Ok(stats) => eprintln!(
                "pipeline stopped: {} events read, {} stored",
                stats.events_read, stats.inserted
            ),
            Err(e) => {
                failure = Some(anyhow::Error::from(e).context("the pipeline failed"));
                // A failed pipeline stops the service too, so that a supervisor
                // restarts it.
                eprintln!("stopping the server: the pipeline ended");
                let _ = stop_tx.send(true);
            }
        }
    }
    let mut stop = stop_rx;
    if failure.is_none() {
        let _ = stop.wait_for(|s| *s).await;
    }
    match tokio::time::timeout(Duration::from_secs(args.drain_seconds), server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => eprintln!("server error: {e}"),
        Ok(Err(e)) => eprintln!("server task failed: {e}"),
        Err(_) => eprintln!(
            "requests still running after {} s: leaving them",
            args.drain_seconds
        ),
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
