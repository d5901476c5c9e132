//! Runs the maintenance jobs of a store beside its listener: tag inspection of
//! batches whose summaries say little (through the wiki's API) and archival of
//! old batches down to their newest edits.
//!
//! ```text
//! cargo run --release -p editgroups-examples --example maintain -- \
//!     --db "sqlite://editgroups.db?mode=rwc" --api https://www.wikidata.org/w/api.php \
//!     --user-agent "my-editgroups/1.0 (https://example.org; me@example.org)" \
//!     --inspect --archive --every 10m
//! ```
//!
//! `--once` runs the chosen jobs once and exits (for cron); `--every` repeats
//! them until Ctrl-C, which stops between two batches: every batch is then
//! either done or untouched, and the next run carries on.
//!
//! Inspection reads through one `MediaWikiClient`, the API client the poller
//! and the revert worker use: User-Agent, `maxlag`, backoff and retries, one
//! request at a time; `--pace` spaces the inspector's reads.

use anyhow::{Context, Result, bail};
use chrono::{TimeDelta, Utc};
use clap::Parser;
use editgroups_core::maintenance::{ArchivalPolicy, ArchivalReport, archive_all};
use editgroups_sources::inspect::{InspectionReport, Inspector, InspectorConfig};
use editgroups_sources::mediawiki::MediaWikiClient;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Runs tag inspection and archival on an editgroups store.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The store URL.
    #[arg(long, default_value = editgroups_examples::DEFAULT_DB)]
    db: String,
    /// The wiki's api.php (needed by --inspect).
    #[arg(long)]
    api: Option<String>,
    /// Inspect batches: read diffs and new entities, add property, language and
    /// site tags.
    #[arg(long)]
    inspect: bool,
    /// Archive batches whose last edit is older than --older-than down to their
    /// --keep newest edits.
    #[arg(long)]
    archive: bool,
    /// How old a batch's last edit must be to archive it (e.g. 365d, 12h).
    #[arg(long, default_value = "365d", value_parser = parse_age)]
    older_than: TimeDelta,
    /// How many edits an archived batch keeps.
    #[arg(long, default_value_t = editgroups_core::maintenance::DEFAULT_KEPT_EDITS)]
    keep: u64,
    /// Run once and exit.
    #[arg(long, conflicts_with = "every")]
    once: bool,
    /// Run every this long (e.g. 10m) until Ctrl-C.
    #[arg(long, value_parser = parse_age)]
    every: Option<TimeDelta>,
    /// A descriptive User-Agent for the API: tool/version (contact).
    #[arg(long, env = "EDITGROUPS_USER_AGENT")]
    user_agent: Option<String>,
    /// The wiki id whose batches are inspected (default: siteinfo's `wikiid`).
    #[arg(long)]
    wiki: Option<String>,
    /// Diffs read per batch and round.
    #[arg(long, default_value_t = 10)]
    max_diffs: usize,
    /// New entities read per batch and round.
    #[arg(long, default_value_t = 25)]
    max_new_entities: usize,
    /// Seconds between the starts of two of the inspector's API requests.
    #[arg(long, default_value_t = 0.5)]
    pace: f64,
    /// The `maxlag` sent with every API request, in seconds (0: none).
    #[arg(long, default_value_t = 5)]
    maxlag: u32,
    /// Retries of a failed API request (5xx, timeouts, connection errors, lag)
    /// before the wiki counts as unreachable and the inspection round stops.
    #[arg(long, default_value_t = 5)]
    max_retries: u32,
}

fn parse_age(text: &str) -> Result<TimeDelta, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 10m, 12h or 365d"))?;
    match unit {
        "s" => TimeDelta::try_seconds(number),
        "m" => TimeDelta::try_minutes(number),
        "h" => TimeDelta::try_hours(number),
        "d" => TimeDelta::try_days(number),
        _ => None,
    }
    .ok_or_else(|| format!("{text:?}: a duration is a number and s, m, h or d"))
}

/// What every round did, added up.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    inspection: InspectionReport,
    archival: ArchivalReport,
}

fn line(t: &Totals) -> String {
    let i = &t.inspection;
    let a = &t.archival;
    format!(
        "batches inspected={} tags added={} diffs={} entities={} edits skipped={} rows skipped={} batches left={} | batches archived={} edits removed={}",
        i.batches_inspected,
        i.tags_added,
        i.diffs_read,
        i.entities_read,
        i.edits_skipped,
        i.rows_skipped,
        i.batches_failed,
        a.batches_archived,
        a.edits_removed,
    )
}

fn add(total: &mut Totals, round: &Totals) {
    let (i, r) = (&mut total.inspection, &round.inspection);
    i.batches_inspected += r.batches_inspected;
    i.batches_failed += r.batches_failed;
    i.diffs_read += r.diffs_read;
    i.entities_read += r.entities_read;
    i.edits_skipped += r.edits_skipped;
    i.rows_skipped += r.rows_skipped;
    i.tags_added += r.tags_added;
    i.requests += r.requests;
    let (a, r) = (&mut total.archival, &round.archival);
    a.batches_archived += r.batches_archived;
    a.batches_skipped += r.batches_skipped;
    a.edits_removed += r.edits_removed;
}

/// Progress on standard error: a spinner on a terminal, otherwise a line at most
/// every 5 seconds.
struct Progress {
    bar: Option<ProgressBar>,
    last: Instant,
}

impl Progress {
    fn new() -> Result<Self> {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}")?);
            bar.enable_steady_tick(Duration::from_millis(250));
            Some(bar)
        } else {
            None
        };
        Ok(Self {
            bar,
            last: Instant::now(),
        })
    }

    fn show(&mut self, totals: &Totals) {
        match &self.bar {
            Some(bar) => bar.set_message(line(totals)),
            None if self.last.elapsed() >= Duration::from_secs(5) => {
                self.last = Instant::now();
                eprintln!("{}", line(totals));
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    editgroups_examples::init_logging();
    let args = Args::parse();
    if !args.inspect && !args.archive {
        bail!("nothing to do: give --inspect, --archive or both");
    }
    if !args.once && args.every.is_none() {
        bail!("give --once (run and exit) or --every DURATION (repeat until Ctrl-C)");
    }
    let inspector = if args.inspect {
        let Some(url) = &args.api else {
            bail!("--inspect needs --api (the wiki's api.php)");
        };
        let Some(agent) = &args.user_agent else {
            bail!(
                "--inspect needs --user-agent (or EDITGROUPS_USER_AGENT): tool/version (contact)"
            );
        };
        let pace = Duration::try_from_secs_f64(args.pace)
            .with_context(|| format!("--pace {} is not a duration", args.pace))?;
        let client = MediaWikiClient::builder(url)
            .user_agent(agent)
            .maxlag(Some(args.maxlag).filter(|lag| *lag > 0))
            .max_retries(Some(args.max_retries))
            .build()?;
        let wiki = match &args.wiki {
            Some(wiki) => wiki.clone(),
            None => client
                .wiki_id()
                .await
                .context("reading the wiki id from siteinfo (or give --wiki)")?,
        };
        let mut config = InspectorConfig::new(wiki);
        config.max_diffs = args.max_diffs;
        config.max_new_entities = args.max_new_entities;
        config.pace = pace;
        Some(Inspector::new(client, config))
    } else {
        None
    };
    let store = editgroups_examples::open_store(&args.db).await?;

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
            }
        });
    }
    let stopped = || stop.load(Ordering::SeqCst);
    let mut total = Totals::default();
    let mut progress = Progress::new()?;
    loop {
        let mut round = Totals::default();
        if let Some(inspector) = &inspector {
            let before = total;
            round.inspection = inspector
                .run_once(
                    &*store,
                    |r| {
                        let mut shown = before;
                        add(
                            &mut shown,
                            &Totals {
                                inspection: *r,
                                ..Totals::default()
                            },
                        );
                        progress.show(&shown);
                    },
                    stopped,
                )
                .await?;
        }
        if args.archive && !stopped() {
            let policy = ArchivalPolicy::older_than(Utc::now(), args.older_than, args.keep);
            let mut before = total;
            add(&mut before, &round);
            round.archival = archive_all(
                &*store,
                &policy,
                |r| {
                    let mut shown = before;
                    add(
                        &mut shown,
                        &Totals {
                            archival: *r,
                            ..Totals::default()
                        },
                    );
                    progress.show(&shown);
                },
                stopped,
            )
            .await?;
        }
        add(&mut total, &round);
        progress.finish();
        println!("{}", line(&round));
        let Some(every) = args.every.filter(|_| !args.once && !stopped()) else {
            break;
        };
        let wait = every.to_std().unwrap_or(Duration::from_secs(600));
        let deadline = tokio::time::Instant::now() + wait;
        while !stopped() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200).min(wait)).await;
        }
        if stopped() {
            break;
        }
        progress = Progress::new()?;
    }
    if stopped() {
        eprintln!("stopped; every batch is either done or untouched");
    }
    println!("total: {}", line(&total));
    Ok(())
}
