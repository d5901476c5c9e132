//! The recent-changes poller against a real MediaWiki on loopback: tool edits,
//! page creations, an undo, a deletion and a restore go through the poller, the
//! pipeline and the memory store, and come out as the expected batches.
//!
//! Needs Debian's `mediawiki php-sqlite3 php-cli php-intl php-mbstring php-xml`;
//! fails (never skips) when the wiki cannot start.
#![cfg(feature = "recentchanges")]

#[cfg(feature = "eventstreams")]
#[path = "support/sse_server.rs"]
mod sse_server;
mod support;

use chrono::{DateTime, TimeDelta, Utc};
use editgroups_core::{Batch, BatchKey, BatchQuery, BatchStore, Page, Pipeline};
use editgroups_sources::recentchanges::RecentChangesSource;
use editgroups_store::MemoryStore;
use std::sync::Arc;
use std::time::Duration;
use support::mediawiki::{BOT_PASS, BOT_USER, TOOL_PASS, TOOL_USER, TestWiki, WikiClient};

const OR_CREATE: &str =
    "/* wbeditentity-create:0| */ create X ([[:toollabs:editgroups/b/OR/ab12cd3|details]])";
const OR_EDIT: &str =
    "/* wbeditentity-update:0| */ import X ([[:toollabs:editgroups/b/OR/ab12cd3|details]])";
const QS: &str =
    "#quickstatements; [[:toollabs:quickstatements/#/batch/2120|batch #2120]] by [[User:Pintoch|]]";
const EG_DELETE: &str = "Undoing batch 2120 ([[:toollabs:editgroups/b/EG/abcdef1|details]])";

fn eg_undo(revision: u64) -> String {
    format!(
        "/* undo:0||{revision}|Pintoch */ Undoing batch ab12cd3 ([[:toollabs:editgroups/b/EG/abcdef1|details]])"
    )
}

fn poller(wiki: &TestWiki, since: DateTime<Utc>) -> RecentChangesSource {
    RecentChangesSource::builder(&wiki.api)
        .user_agent("editgroups-tests/0 (https://example.org; tests@example.org)")
        .since(since)
        .once(true)
        .build()
        .unwrap()
}

async fn poll_into(
    store: &Arc<MemoryStore>,
    source: RecentChangesSource,
) -> editgroups_core::pipeline::StatsSnapshot {
    let pipeline = Pipeline::builder()
        .source(source)
        .shared_store(store.clone())
        .chunk_size(3)
        .build()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(60), pipeline.run())
        .await
        .expect("the poller catches up and stops")
        .unwrap()
}

async fn batch(store: &MemoryStore, tool: &str, uid: &str) -> Batch {
    store
        .batch(&BatchKey::new("wiki", tool, uid))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no batch {tool}/{uid}"))
}

fn counts(batch: &Batch) -> (u64, u64, u64, u64) {
    (
        batch.nb_edits,
        batch.nb_distinct_pages,
        batch.nb_new_pages,
        batch.nb_reverted_edits,
    )
}

/// OpenRefine and QuickStatements batches by the tool account, the first poll.
async fn tool_edits(tool: &WikiClient) -> u64 {
    tool.edit("Q1", "Q1 v1", OR_CREATE).await;
    let imported = tool.edit("Q1", "Q1 v1\n\nP31 Q5", OR_EDIT).await;
    tool.edit("Q4", "Q4 v1", OR_CREATE).await;
    tool.edit("Property:P1", "P1 v1", QS).await;
    tool.edit("Property:P1", "P1 v1\nlabel", QS).await;
    tool.edit("Q2", "Q2 v1", QS).await;
    // Not a tool's edit: not stored.
    tool.edit("Q5", "plain", "just an edit").await;
    imported
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_reverts_deletions_and_restores_from_a_real_wiki() {
    let wiki = TestWiki::start();
    let tool = wiki.login(TOOL_USER, TOOL_PASS).await;
    let bot = wiki.login(BOT_USER, BOT_PASS).await;
    let since = tool.server_time().await;
    let imported = tool_edits(&tool).await;

    let store = Arc::new(MemoryStore::new());
    let stats = poll_into(&store, poller(&wiki, since)).await;
    assert_eq!(stats.inserted, 6, "{stats:?}");
    let or = batch(&store, "OR", "ab12cd3").await;
    assert_eq!(counts(&or), (3, 2, 2, 0));
    assert_eq!(or.user, "Pintoch");
    assert_eq!(or.tags, ["wbeditentity-create", "wbeditentity-update"]);
    let qs = batch(&store, "QSv2", "2120").await;
    assert_eq!(counts(&qs), (3, 2, 2, 0));
    assert_eq!(qs.user, "Pintoch");
    assert_eq!(qs.summary, "#quickstatements");

    // EditGroups undoes an OpenRefine edit and deletes a QuickStatements creation;
    // someone restores the page. (A deletion hides the page's earlier rows from
    // recent changes, which is why the first poll ran before it.)
    bot.undo("Q1", imported, &eg_undo(imported)).await;
    bot.delete("Q2", EG_DELETE).await;
    bot.undelete("Q2", "Restoring after a mistaken deletion")
        .await;

    // The same source name: it resumes from the store's cursor.
    let stats = poll_into(&store, poller(&wiki, since)).await;
    assert_eq!(stats.inserted, 2, "{stats:?}");
    let or = batch(&store, "OR", "ab12cd3").await;
    assert_eq!(counts(&or), (3, 2, 2, 1), "the undone import");
    let qs = batch(&store, "QSv2", "2120").await;
    assert_eq!(counts(&qs), (3, 2, 2, 1), "the deleted creation");
    let eg = batch(&store, "EG", "abcdef1").await;
    assert_eq!(eg.user, "UndoBot");
    assert_eq!(counts(&eg), (2, 2, 0, 1), "the restored deletion");
    assert!(eg.tags.contains(&"delete".to_owned()), "{:?}", eg.tags);
    let edits = store.batch_edits(&eg.key, Page::all()).await.unwrap();
    assert!(
        edits
            .iter()
            .any(|e| e.edit.change_type.is_delete() && e.reverted)
    );
    assert!(
        edits.iter().all(|e| e.edit.wiki == "wiki"),
        "wiki id from siteinfo"
    );

    let all = store.list_batches(&BatchQuery::new()).await.unwrap();
    assert_eq!(all.len(), 3, "{all:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_poller_over_the_same_changes_changes_nothing() {
    let wiki = TestWiki::start();
    let tool = wiki.login(TOOL_USER, TOOL_PASS).await;
    let since = tool.server_time().await;
    let imported = tool_edits(&tool).await;
    let bot = wiki.login(BOT_USER, BOT_PASS).await;
    bot.undo("Q1", imported, &eg_undo(imported)).await;

    // Polling with a bot password login, as bots do for higher limits.
    let store = Arc::new(MemoryStore::new());
    let source = RecentChangesSource::builder(&wiki.api)
        .user_agent("editgroups-tests/0 (x)")
        .bot_password(BOT_USER, BOT_PASS)
        .wiki("wiki")
        .since(since)
        .once(true)
        .page_size(2)
        .build()
        .unwrap();
    let first = poll_into(&store, source).await;
    assert_eq!(first.inserted, 7, "{first:?}");
    let before = store.list_batches(&BatchQuery::new()).await.unwrap();
    assert_eq!(before.len(), 3);

    // Another source (another name, so no stored cursor) from an earlier start,
    // into the same store: every edit is a duplicate, no counter moves.
    let source = RecentChangesSource::builder(&wiki.api)
        .user_agent("editgroups-tests/0 (x)")
        .name("second-poller")
        .since(since - TimeDelta::hours(1))
        .once(true)
        .build()
        .unwrap();
    let second = poll_into(&store, source).await;
    assert_eq!(second.inserted, 0, "{second:?}");
    assert!(second.duplicates >= 7, "{second:?}");
    let after = store.list_batches(&BatchQuery::new()).await.unwrap();
    assert_eq!(after, before);

    // The same changes as EventStreams would have sent them, replayed: alone they
    // give the same batches; into the polled store they change nothing.
    let lines = as_stream_events(&wiki, since).await;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), lines.join("\n")).unwrap();
    let replayed = Arc::new(MemoryStore::new());
    replay_into(&replayed, file.path()).await;
    assert_eq!(
        replayed.list_batches(&BatchQuery::new()).await.unwrap(),
        before
    );
    let third = replay_into(&store, file.path()).await;
    assert_eq!((third.inserted, third.reverted), (0, 0), "{third:?}");
    assert_eq!(
        store.list_batches(&BatchQuery::new()).await.unwrap(),
        before
    );

    // Handover: the EventStreams source follows on the same store, from a
    // stream that starts before the poll ended. Nothing moves, and it keeps a
    // cursor of its own for its next start.
    #[cfg(feature = "eventstreams")]
    {
        let listened = listen_into(&store, &lines).await;
        assert_eq!(listened.events_read, lines.len() as u64, "{listened:?}");
        assert_eq!(
            (listened.inserted, listened.reverted),
            (0, 0),
            "{listened:?}"
        );
        assert!(listened.duplicates >= 7, "{listened:?}");
        assert_eq!(
            store.list_batches(&BatchQuery::new()).await.unwrap(),
            before
        );
        let cursor = store.cursor("eventstreams:wiki").await.unwrap();
        assert!(cursor.is_some_and(|c| c.kind() == "eventstreams"));
    }
}

/// Follows `lines`, served as EventStreams would, into `store` until all are read.
#[cfg(feature = "eventstreams")]
async fn listen_into(
    store: &Arc<MemoryStore>,
    lines: &[String],
) -> editgroups_core::pipeline::StatsSnapshot {
    use editgroups_sources::eventstreams::EventStreamsSource;
    let server =
        sse_server::Server::start(sse_server::Config::new(sse_server::history(lines))).await;
    let source = EventStreamsSource::builder()
        .url(&server.url)
        .user_agent("editgroups-tests/0 (x)")
        .wiki("wiki")
        .build()
        .unwrap();
    let pipeline = Pipeline::builder()
        .source(source)
        .shared_store(store.clone())
        .max_chunk_delay(Duration::from_millis(20))
        .build()
        .unwrap();
    let stats = pipeline.stats();
    let expected = lines.len() as u64;
    let all_read = async move {
        while stats.snapshot().events_read < expected {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), pipeline.run_until(all_read))
        .await
        .expect("the stream was not read within a minute")
        .unwrap()
}

async fn replay_into(
    store: &Arc<MemoryStore>,
    path: &std::path::Path,
) -> editgroups_core::pipeline::StatsSnapshot {
    let pipeline = Pipeline::builder()
        .source(editgroups_sources::ReplaySource::from_files([path]))
        .shared_store(store.clone())
        .build()
        .unwrap();
    pipeline.run().await.unwrap()
}

/// The wiki's recent changes since `since`, read with a plain request and
/// rewritten in the EventStreams `mediawiki/recentchange` shape.
async fn as_stream_events(wiki: &TestWiki, since: DateTime<Utc>) -> Vec<String> {
    let url = format!(
        "{}?action=query&list=recentchanges&format=json&formatversion=2&rcdir=newer&rclimit=500&rcprop=title|ids|sizes|flags|user|comment|parsedcomment|timestamp|loginfo&rcstart={}",
        wiki.api,
        since.format("%Y-%m-%dT%H:%M:%SZ")
    );
    let body = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let rows = body["query"]["recentchanges"].as_array().unwrap();
    assert!(rows.len() >= 8, "{body}");
    rows.iter()
        .map(|row| {
            let kind = row["type"].as_str().unwrap();
            let time = DateTime::parse_from_rfc3339(row["timestamp"].as_str().unwrap()).unwrap();
            let mut event = serde_json::json!({
                "$schema": "/mediawiki/recentchange/1.0.0",
                "meta": {"domain": "127.0.0.1", "stream": "mediawiki.recentchange"},
                "id": row["rcid"], "type": kind, "namespace": row["ns"], "title": row["title"],
                "user": row["user"], "bot": row["bot"], "timestamp": time.timestamp(),
                "comment": row["comment"], "parsedcomment": row["parsedcomment"], "wiki": "wiki",
            });
            match kind {
                "edit" => {
                    event["minor"] = row["minor"].clone();
                    event["revision"] =
                        serde_json::json!({"old": row["old_revid"], "new": row["revid"]});
                    event["length"] =
                        serde_json::json!({"old": row["oldlen"], "new": row["newlen"]});
                }
                "new" => {
                    event["minor"] = row["minor"].clone();
                    event["revision"] = serde_json::json!({"new": row["revid"]});
                    event["length"] = serde_json::json!({"new": row["newlen"]});
                }
                _ => {
                    event["log_type"] = row["logtype"].clone();
                    event["log_action"] = row["logaction"].clone();
                    event["log_id"] = row["logid"].clone();
                }
            }
            event.to_string()
        })
        .collect()
}
