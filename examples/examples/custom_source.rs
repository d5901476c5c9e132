//! Writing your own source: here, edits pushed into a channel by another part of
//! the program (a webhook handler, a message-queue consumer, ...), fed through
//! the pipeline into a store.
//!
//! Run with `cargo run -p editgroups-examples --example custom_source`

use editgroups_core::recentchange::{ParsedEvent, RecentChangeParser};
use editgroups_core::{
    BatchQuery, BatchStore, Cursor, EditSource, Pipeline, SkipReason, SourceItem, SourceStream,
};
use editgroups_examples::output::{Format, write_batches};
use editgroups_store::MemoryStore;
use futures::StreamExt;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A source fed by a channel of raw recentchange JSON messages, numbered by the
/// sender. Its cursor is the number of the last message, so a sender that can
/// replay its messages (a queue with offsets) can resume where the store stopped.
#[derive(Debug)]
struct ChannelSource {
    receiver: Option<mpsc::Receiver<(u64, String)>>,
    parser: RecentChangeParser,
}

impl EditSource for ChannelSource {
    fn name(&self) -> &str {
        "channel:example"
    }

    fn stream(&mut self, from: Option<Cursor>) -> SourceStream {
        // A real source would ask its sender to replay from `from`; messages up
        // to it are skipped here.
        let after: u64 = from
            .and_then(|c| {
                c.position_for("channel", 1)
                    .ok()
                    .and_then(|p| p.parse().ok())
            })
            .unwrap_or(0);
        let Some(receiver) = self.receiver.take() else {
            return Box::pin(futures::stream::empty());
        };
        let parser = self.parser.clone();
        let messages = futures::stream::unfold(receiver, |mut r| async move {
            r.recv().await.map(|message| (message, r))
        });
        Box::pin(messages.filter_map(move |(number, json)| {
            let parser = parser.clone();
            async move {
                if number <= after {
                    return None;
                }
                let cursor = Cursor::new("channel", 1, number.to_string());
                Some(Ok(match parser.parse(&json) {
                    Ok(ParsedEvent::Edit(edit)) => SourceItem::Edit { edit, cursor },
                    Ok(_) => SourceItem::Skipped {
                        reason: SkipReason::Canary,
                        detail: format!("message {number}"),
                        cursor,
                    },
                    Err(e) => SourceItem::Skipped {
                        reason: SkipReason::Malformed,
                        detail: format!("message {number}: {e}"),
                        cursor,
                    },
                }))
            }
        }))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    editgroups_examples::init_logging();
    let (sender, receiver) = mpsc::channel(100);
    let store = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder()
        .source(ChannelSource {
            receiver: Some(receiver),
            parser: RecentChangeParser::new(),
        })
        .shared_store(store.clone())
        .build()?;

    // Another part of the program receives events and pushes them.
    let producer = async move {
        let events = include_str!("../../fixtures/editgroups/qs_batch_with_new_items.json");
        for (number, line) in events.lines().enumerate() {
            let _ = sender.send((number as u64 + 1, line.to_owned())).await;
        }
        // Dropping the sender ends the stream, and with it the pipeline.
    };
    let (summary, ()) = tokio::join!(pipeline.run(), producer);
    let summary = summary?;
    eprintln!(
        "read {} events, {} attributed",
        summary.events_read, summary.attributed
    );

    let batches = store.list_batches(&BatchQuery::new()).await?;
    write_batches(&mut std::io::stdout().lock(), &batches, Format::Table)?;
    Ok(())
}
