//! Lists the batches a store holds, filtered by tool, author, tags and wiki, or
//! shows one batch with its latest edits and its revert tasks (each with the
//! `EG` batch it made), or, for an `EG` batch, the batch its task undid.
//!
//! Run with
//! `cargo run --release -p editgroups-examples --example batches -- --tag lang-fr --limit 20`
//! or `… --example batches -- --batch QSv2/2120 --format jsonl`.

use anyhow::bail;
use clap::Parser;
use editgroups_core::{BatchKey, BatchQuery, Page};
use editgroups_examples::output::{BatchDetail, Format, write_batch_detail, write_batches};
use editgroups_examples::revert_links::{links_json, revert_links, write_links};
use std::io::Write;

#[derive(Debug, Parser)]
#[command(about = "List the batches a store holds, or show one batch with its latest edits")]
struct Args {
    /// The store: `sqlite://FILE?mode=rwc` (default: `editgroups.db` in the working
    /// directory), `postgres://…`, `mysql://…`.
    #[arg(long, default_value = editgroups_examples::DEFAULT_DB)]
    db: String,
    /// Only batches of this tool (short id, e.g. `QSv2`).
    #[arg(long)]
    tool: Option<String>,
    /// Only batches of this author.
    #[arg(long)]
    user: Option<String>,
    /// Only batches with this tag (repeatable: all of them).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Only batches of this wiki.
    #[arg(long)]
    wiki: Option<String>,
    /// At most this many batches, the newest (0: all).
    #[arg(long, default_value_t = 0)]
    limit: u64,
    /// Print newest first instead of by (wiki, tool, uid).
    #[arg(long)]
    newest_first: bool,
    /// Show one batch, `TOOL/UID`, with its latest edits.
    #[arg(long)]
    batch: Option<String>,
    /// How many of the batch's latest edits `--batch` shows.
    #[arg(long, default_value_t = 20)]
    edits: u64,
    /// How to print.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    editgroups_examples::init_logging();
    let args = Args::parse();
    let store = editgroups_examples::open_store(&args.db).await?;
    let mut out = std::io::stdout().lock();

    if let Some(name) = &args.batch {
        let Some((tool, uid)) = name.split_once('/') else {
            bail!("--batch expects TOOL/UID, e.g. QSv2/2120, not {name:?}");
        };
        let found = match &args.wiki {
            Some(wiki) => store.batch(&BatchKey::new(wiki, tool, uid)).await?,
            None => store
                .list_batches(&BatchQuery::new().with_tool(tool))
                .await?
                .into_iter()
                .find(|b| b.key.uid == uid),
        };
        let Some(batch) = found else {
            bail!("no batch {name} in {}", args.db);
        };
        let edits = store
            .batch_edits(&batch.key, Page::new(args.edits, 0))
            .await?;
        let reverting = store.reverting_batches(&batch.key).await?;
        let reverted = store.reverted_batches(&batch.key).await?;
        let detail = BatchDetail {
            batch: &batch,
            edits: &edits,
            reverting: &reverting,
            reverted: &reverted,
        };
        let links = revert_links(store.as_ref(), &batch).await?;
        if args.format == Format::Jsonl {
            // One object: the batch, its edits, and its revert tasks.
            let mut line = Vec::new();
            write_batch_detail(&mut line, detail, args.format)?;
            let mut detail: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&line)?;
            detail.extend(links_json(&links));
            serde_json::to_writer(&mut out, &detail)?;
            writeln!(out)?;
        } else {
            write_batch_detail(&mut out, detail, args.format)?;
            write_links(&mut out, &links, args.format)?;
        }
        out.flush()?;
        return Ok(());
    }

    let mut query = BatchQuery::new().with_page(args.limit, 0);
    query.wiki = args.wiki.clone();
    query.tool = args.tool.clone();
    query.user = args.user.clone();
    query.tags = args.tags.clone();
    let mut batches = store.list_batches(&query).await?;
    if !args.newest_first {
        batches.sort_by(|a, b| a.key.cmp(&b.key));
    }
    write_batches(&mut out, &batches, args.format)?;
    out.flush()?;
    Ok(())
}
