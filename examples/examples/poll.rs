//! Polls a MediaWiki's recent changes (any MediaWiki or Wikibase, no EventStreams
//! needed) into a store, resuming from the store's cursor.
//!
//! ```text
//! cargo run -p editgroups-examples --example poll -- \
//!     --api https://wiki.example.org/w/api.php \
//!     --user-agent "my-editgroups/1.0 (https://example.org; me@example.org)" \
//!     --since 7d --once
//! ```
//!
//! `--once` polls until caught up, then exits (for cron); without it the poller
//! keeps polling until Ctrl-C.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, TimeDelta, Utc};
use clap::Parser;
use editgroups_core::pipeline::PipelineStats;
use editgroups_core::{BatchQuery, Pipeline};
use editgroups_sources::recentchanges::{GapPolicy, RecentChangesSource, RecentChangesStats};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Duration;

/// Polls a wiki's recent changes into an editgroups store.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The wiki's api.php, e.g. https://www.wikidata.org/w/api.php.
    #[arg(long)]
    api: String,
    /// The wiki id edits are filed under (default: `wikiid` from siteinfo).
    #[arg(long)]
    wiki: Option<String>,
    /// Where to start when the store has no cursor for this wiki: an RFC 3339
    /// time (2026-01-31T00:00:00Z) or an age (90m, 12h, 7d). Default: now.
    #[arg(long, value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
    /// The store URL.
    #[arg(long, default_value = "sqlite://editgroups.db?mode=rwc")]
    db: String,
    /// Seconds between polls once caught up (doubling while idle, up to
    /// --max-interval).
    #[arg(long, default_value_t = 5.0)]
    interval: f64,
    /// The longest pause between polls while the wiki is idle, in seconds.
    #[arg(long, default_value_t = 60.0)]
    max_interval: f64,
    /// Poll until caught up, then exit.
    #[arg(long)]
    once: bool,
    /// A descriptive User-Agent: tool/version (contact).
    #[arg(long, env = "EDITGROUPS_USER_AGENT")]
    user_agent: String,
    /// Tool rules (TOML or JSON, by extension); default: EditGroups' rules.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// A bot-password user (`User@appid`) to log in with, for bots' higher limits.
    #[arg(long, env = "EDITGROUPS_BOT_USER", requires = "bot_password")]
    bot_user: Option<String>,
    /// The bot password.
    #[arg(long, env = "EDITGROUPS_BOT_PASSWORD", hide_env_values = true)]
    bot_password: Option<String>,
    /// Seconds each poll starts before the newest change seen.
    #[arg(long, default_value_t = 60)]
    overlap: u64,
    /// How many days the wiki keeps recent changes ($wgRCMaxAge).
    #[arg(long, default_value_t = 90)]
    max_age_days: u64,
    /// Go on past changes the wiki no longer keeps (logged and counted) instead
    /// of stopping.
    #[arg(long)]
    accept_gap: bool,
}

fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.to_utc());
    }
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let number: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is neither an RFC 3339 time nor an age like 12h"))?;
    let age = match unit {
        "s" => TimeDelta::try_seconds(number),
        "m" => TimeDelta::try_minutes(number),
        "h" => TimeDelta::try_hours(number),
        "d" => TimeDelta::try_days(number),
        _ => None,
    }
    .ok_or_else(|| format!("{text:?}: an age is a number and s, m, h or d"))?;
    Utc::now()
        .checked_sub_signed(age)
        .ok_or_else(|| format!("{text:?} reaches before any date this program handles"))
}

fn seconds(value: f64, what: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("--{what} {value} is not a duration"))
}

fn progress_line(pipeline: &PipelineStats, poller: &RecentChangesStats) -> String {
    let p = pipeline.snapshot();
    let r = poller.snapshot();
    let lag = p
        .lag(Utc::now())
        .map_or_else(|| "-".to_owned(), |lag| format!("{}s", lag.num_seconds()));
    format!(
        "read={} inserted={} duplicates={} skipped={} reverted={} pages={} requests={} retries={} lagged={} gaps={} lag={lag}",
        p.events_read,
        p.inserted,
        p.duplicates,
        p.skipped_total(),
        p.reverted,
        r.pages,
        r.requests,
        r.retries,
        r.lagged,
        r.gaps,
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let matcher = editgroups_examples::load_matcher(args.rules.as_deref())?;
    let mut builder = RecentChangesSource::builder(&args.api)
        .user_agent(&args.user_agent)
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
        })
        .once(args.once);
    if let Some(wiki) = &args.wiki {
        builder = builder.wiki(wiki);
    }
    if let Some(since) = args.since {
        builder = builder.since(since);
    }
    match (&args.bot_user, &args.bot_password) {
        (Some(user), Some(password)) => builder = builder.bot_password(user, password),
        (None, None) => {}
        _ => bail!("--bot-user and --bot-password go together"),
    }
    let source = builder.build()?;
    let poller_stats = source.stats();
    let store = editgroups_examples::open_store(&args.db).await?;
    let pipeline = Pipeline::builder()
        .source(source)
        .matcher(matcher)
        .shared_store(store.clone())
        .build()?;
    let stats = pipeline.stats();
    println!("polling {} into {}", args.api, args.db);

    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}")?);
    let ticker = {
        let (bar, stats, poller_stats) = (bar.clone(), stats.clone(), poller_stats.clone());
        tokio::spawn(async move {
            loop {
                bar.set_message(progress_line(&stats, &poller_stats));
                bar.tick();
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let result = pipeline
        .run_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    ticker.abort();
    bar.finish_and_clear();
    println!("{}", progress_line(&stats, &poller_stats));
    if let Some(gap) = poller_stats.snapshot().last_gap {
        println!("gap passed over: {gap}");
    }
    if let Err(error) = result {
        if matches!(
            &error,
            editgroups_core::PipelineError::Source {
                error: editgroups_core::SourceError::Gap { .. },
                ..
            }
        ) {
            eprintln!(
                "(to go on from the oldest change the wiki still has, run again with --accept-gap)"
            );
        }
        return Err(error.into());
    }
    let batches = store
        .list_batches(&BatchQuery::new().with_page(20, 0))
        .await?;
    println!("latest batches ({}):", batches.len());
    for batch in batches {
        println!(
            "  {} by {}: edits={} pages={} new={} reverted={} tags={}",
            batch.key,
            batch.user,
            batch.nb_edits,
            batch.nb_distinct_pages,
            batch.nb_new_pages,
            batch.nb_reverted_edits,
            batch.tags.join(",")
        );
    }
    Ok(())
}
