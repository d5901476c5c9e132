//! Writes a realistic recent-change stream (JSON lines, deterministic from a seed)
//! for benchmarks, crash tests and demos.
//!
//! Run with
//! `cargo run --release -p editgroups-examples --example generate -- --events 1000000 --out events.json`

use anyhow::Context;
use clap::Parser;
use editgroups_benches::{GeneratorConfig, write_events};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(about = "Write a realistic recent-change stream as JSON lines")]
struct Args {
    /// How many events.
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// The seed: the same seed gives the same stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many tool batches.
    #[arg(long, default_value_t = 300)]
    batches: usize,
    /// Where to write (standard output by default).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = GeneratorConfig::new(args.seed, args.events);
    config.batches = args.batches;
    match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(file);
            write_events(&config, &mut out)?;
            out.flush()?;
        }
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            write_events(&config, &mut out)?;
            out.flush()?;
        }
    }
    Ok(())
}
