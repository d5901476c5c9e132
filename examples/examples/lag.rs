//! Checks that ingestion keeps up: prints the lag of a store (now minus the
//! newest event time any source has read into it) and exits with 1 when it is
//! above a limit, 2 when the store cannot be read. A drop-in for EditGroups'
//! `manage.py check_lag` in cron, a systemd timer or a CI job.
//!
//! ```text
//! cargo run --release -p editgroups-examples --example lag -- --db "sqlite://editgroups.db" --max-lag 3000
//! ```
//!
//! The lag counts every event a source read, attributed or not, so a quiet
//! wiki, whose events are read but match no tool, is not taken for a stalled
//! listener (EditGroups measured from attributed edits only).

use chrono::Utc;
use clap::Parser;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    about = "Print a store's ingestion lag; exit 1 above --max-lag, 2 if the store cannot be read"
)]
struct Args {
    /// The store: `sqlite://FILE`, `postgres://…`, `mysql://…`.
    #[arg(long, default_value = "sqlite://editgroups.db")]
    db: String,
    /// The most lag accepted, in seconds.
    #[arg(long, default_value_t = 3000)]
    max_lag: i64,
    /// Accept a store no source has written to yet (by default it fails: a
    /// listener that never ran is not keeping up).
    #[arg(long)]
    empty_ok: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let latest = match editgroups_examples::open_store(&args.db).await {
        Ok(store) => store.latest_event_time().await,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    match latest {
        Err(e) => {
            eprintln!("error: cannot read the store {}: {e}", args.db);
            ExitCode::from(2)
        }
        Ok(None) => {
            println!("Current lag: unknown (no event has been read into this store yet)");
            if args.empty_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Ok(Some(latest)) => {
            let lag = (Utc::now() - latest).num_seconds().max(0);
            println!("Current lag: {lag} seconds");
            if lag > args.max_lag {
                eprintln!("the lag is above {} seconds", args.max_lag);
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
