//! The EventStreams source against a loopback SSE server serving recorded
//! Wikidata events: resume ids, disconnects (clean and mid-frame), random
//! network splits, refusals, stalls, canaries and error events, end to end into
//! the memory store.

#[path = "support/sse_server.rs"]
mod sse_server;

use editgroups_core::{
    BatchQuery, BatchStore, Cursor, Edit, EditSource, Page, Pipeline, PipelineError, SkipReason,
    SourceError, SourceItem,
};
use editgroups_sources::ReplaySource;
use editgroups_sources::eventstreams::{CURSOR_KIND, CURSOR_VERSION, EventStreamsSource};
use editgroups_sources::http::BackoffConfig;
use editgroups_store::MemoryStore;
use futures::StreamExt;
use sse_server::{Config, Plan, Served, Server, canary, history};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const AGENT: &str = "editgroups-tests/0.1 (https://example.org; tests@example.org)";

fn fixture_lines(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/editgroups")
        .join(name);
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Two recorded batches, with a canary every 50 events, every 10th event moved
/// to another wiki, and a few malformed events.
fn mixed_lines() -> Vec<String> {
    let mut lines = Vec::new();
    let recorded = [
        fixture_lines("one_qs_batch.json"),
        fixture_lines("qs_batch_with_new_items.json"),
    ]
    .concat();
    for (i, line) in recorded.into_iter().enumerate() {
        if i % 50 == 25 {
            lines.push(canary("2018-03-07T16:20:00Z"));
        }
        if i % 1000 == 500 {
            lines.push(r#"{"id": 1, "type": "edit", "truncated"#.to_owned());
            lines.push(
                r#"{"meta": {"domain": "www.wikidata.org"}, "wiki": "wikidatawiki"}"#.to_owned(),
            );
        }
        if i % 10 == 3 {
            lines.push(line.replace("\"wiki\": \"wikidatawiki\"", "\"wiki\": \"commonswiki\""));
        } else {
            lines.push(line);
        }
    }
    lines
}

fn write_lines(dir: &tempfile::TempDir, lines: &[String]) -> PathBuf {
    let path = dir.path().join("served.json");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn source(server: &Server) -> editgroups_sources::eventstreams::EventStreamsBuilder {
    EventStreamsSource::builder()
        .url(&server.url)
        .user_agent(AGENT)
        .wiki("wikidatawiki")
        .idle_timeout(Duration::from_secs(5))
        .backoff(BackoffConfig::new(
            Duration::from_millis(1),
            Duration::from_millis(20),
        ))
}

/// What an item says, without its position (replay and EventStreams positions
/// differ).
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Edit(Box<Edit>),
    Skipped(SkipReason),
}

fn seen(item: &SourceItem) -> Seen {
    match item {
        SourceItem::Edit { edit, .. } => Seen::Edit(edit.clone()),
        SourceItem::Skipped { reason, .. } => Seen::Skipped(*reason),
        _ => panic!("unknown item {item:?}"),
    }
}

/// Reads a source until an item's cursor is `last_id`.
async fn read_until(
    source: &mut EventStreamsSource,
    from: Option<Cursor>,
    last_id: &str,
) -> Vec<SourceItem> {
    let mut stream = source.stream(from);
    let mut items = Vec::new();
    let read = async {
        while let Some(item) = stream.next().await {
            let item = item.unwrap();
            let done = item.cursor().position() == last_id;
            items.push(item);
            if done {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the source did not deliver the whole history");
    items
}

async fn replay(path: &Path) -> Vec<Seen> {
    let mut replay = ReplaySource::from_files([path]).with_wikis(["wikidatawiki"]);
    let (items, error) = editgroups_core::testing::source::collect(&mut replay, None).await;
    assert!(error.is_none());
    items.iter().map(seen).collect()
}

fn position_of(server_history: &[Served], id: &str) -> usize {
    server_history
        .iter()
        .position(|e| e.id() == id)
        .unwrap_or_else(|| panic!("{id} is not the id of any event served"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_once_in_order_across_many_disconnects_split_anywhere() {
    let lines = mixed_lines();
    let dir = tempfile::tempdir().unwrap();
    let expected = replay(&write_lines(&dir, &lines)).await;
    let served = history(&lines);
    let mut config = Config::new(served.clone());
    config.close_every = Some(60);
    config.mid_frame = true;
    config.split = true;
    config.noise = true;
    let server = Server::start(config).await;
    let mut source = source(&server).build().unwrap();
    let stats = source.stats();

    let items = read_until(&mut source, None, &server.last_id()).await;

    // Nothing lost, nothing doubled, nothing reordered.
    let got: Vec<Seen> = items.iter().map(seen).collect();
    assert_eq!(got.len(), expected.len());
    assert!(
        got == expected,
        "the stream differs from a replay of the same events"
    );
    let canaries = lines.iter().filter(|l| l.contains("\"canary\"")).count();
    assert_eq!(
        got.iter()
            .filter(|s| **s == Seen::Skipped(SkipReason::Canary))
            .count(),
        canaries
    );
    for reason in [
        SkipReason::OtherWiki,
        SkipReason::Malformed,
        SkipReason::Incomplete,
    ] {
        assert!(got.contains(&Seen::Skipped(reason)), "no {reason} item");
    }

    // Every item carries the id of the event it came from.
    for (item, event) in items.iter().zip(&served) {
        assert_eq!(
            item.cursor(),
            &Cursor::new(CURSOR_KIND, CURSOR_VERSION, event.id())
        );
    }

    let requests = server.requests();
    assert!(requests.len() > 50, "{} connections", requests.len());
    assert_eq!(
        requests[0].last_event_id, None,
        "the first connection has no id"
    );
    assert_eq!(requests[0].user_agent.as_deref(), Some(AGENT));
    // Each reconnection resumes after the last event fully received before it:
    // a connection cut mid-frame resumes before the cut event.
    let mut previous = 0;
    for request in &requests[1..] {
        let id = request
            .last_event_id
            .as_deref()
            .expect("a reconnection without id");
        let at = position_of(&served, id);
        assert!(at >= previous, "resumed backwards");
        previous = at;
    }
    let stats = stats.snapshot();
    assert_eq!(stats.reconnects as usize, requests.len() - 1);
    assert_eq!(stats.connections as usize, requests.len());
    assert_eq!(stats.events as usize, served.len());
    assert!(
        stats.error_events > 0,
        "the server's error events were not seen"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_equals_a_replay_despite_rewinds_and_disconnects() {
    let lines = mixed_lines();
    let dir = tempfile::tempdir().unwrap();
    let path = write_lines(&dir, &lines);
    let mut config = Config::new(history(&lines));
    config.close_every = Some(50);
    config.mid_frame = true;
    config.split = true;
    // Like timestamp resume: the events of the last second or two again after
    // each reconnect (up to 19 a second in this file, fewer than 50).
    config.rewind_ms = 1000;
    let server = Server::start(config).await;
    let source = source(&server).build().unwrap();
    let source_stats = source.stats();
    let name = source.name().to_owned();

    let store = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder()
        .source(source)
        .shared_store(store.clone())
        .chunk_size(100)
        .max_chunk_delay(Duration::from_millis(10))
        .build()
        .unwrap();
    let stats = pipeline.stats();
    let last = Cursor::new(CURSOR_KIND, CURSOR_VERSION, server.last_id());
    let watched = store.clone();
    let all_stored = async move {
        while watched.cursor(&name).await.unwrap().as_ref() != Some(&last) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), pipeline.run_until(all_stored))
        .await
        .expect("the pipeline did not store the whole history")
        .unwrap();

    let reference = Arc::new(MemoryStore::new());
    Pipeline::builder()
        .source(ReplaySource::from_files([&path]).with_wikis(["wikidatawiki"]))
        .shared_store(reference.clone())
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();

    let batches = store.list_batches(&BatchQuery::new()).await.unwrap();
    let expected = reference.list_batches(&BatchQuery::new()).await.unwrap();
    assert_eq!(batches.len(), 2);
    assert_eq!(batches, expected);
    for batch in &expected {
        assert_eq!(
            store.batch_edits(&batch.key, Page::all()).await.unwrap(),
            reference
                .batch_edits(&batch.key, Page::all())
                .await
                .unwrap()
        );
    }
    let snapshot = stats.snapshot();
    assert!(
        snapshot.duplicates > 0,
        "no event was delivered twice: {snapshot:?}"
    );
    assert!(source_stats.snapshot().reconnects >= 50);
}

#[tokio::test]
async fn a_first_start_asks_for_since_and_a_resume_sends_the_stored_id() {
    let served = history(&fixture_lines("qs_batch_with_new_items.json"));
    let server = Server::start(Config::new(served.clone())).await;
    let since_ms = served[40].kafka_ts;
    let since = chrono::DateTime::from_timestamp_millis(since_ms).unwrap();
    let mut source = source(&server).since(since).build().unwrap();

    let items = read_until(&mut source, None, &served[45].id()).await;
    let first = &server.requests()[0];
    assert_eq!(first.last_event_id, None);
    assert_eq!(
        first.since.as_deref(),
        Some(
            since
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                .as_str()
        )
    );
    assert_eq!(items.len(), 6, "events 40 to 45");
    assert_eq!(items[0].cursor().position(), served[40].id());

    // Resuming from a stored cursor sends it, and `since` no longer matters.
    let cursor = items[2].cursor().clone();
    let items = read_until(&mut source, Some(cursor), &served[45].id()).await;
    let resumed = &server.requests()[1];
    assert_eq!(
        resumed.last_event_id.as_deref(),
        Some(served[42].id().as_str())
    );
    assert_eq!(resumed.since, None);
    assert_eq!(items.len(), 3, "events 43 to 45");

    // Without since and without a cursor: no id, no since (start now).
    let mut source = self::source(&server).build().unwrap();
    read_until(&mut source, None, &served[0].id()).await;
    let plain = &server.requests()[2];
    assert_eq!(
        (plain.last_event_id.as_deref(), plain.since.as_deref()),
        (None, None)
    );
    assert!(!plain.target.contains('?'), "{}", plain.target);
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried_after_retry_after() {
    let served = history(&fixture_lines("qs_batch_with_new_items.json"));
    let mut config = Config::new(served.clone());
    config.plan = vec![
        Plan::Status {
            code: 500,
            body: "{}".into(),
            retry_after: None,
        },
        Plan::Status {
            code: 429,
            body: r#"{"type":"too_many_requests"}"#.into(),
            retry_after: Some(1),
        },
        Plan::Status {
            code: 503,
            body: String::new(),
            retry_after: None,
        },
    ];
    let server = Server::start(config).await;
    let mut source = source(&server).build().unwrap();
    let items = read_until(&mut source, None, &served.last().unwrap().id()).await;
    assert_eq!(items.len(), served.len());
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert!(
        requests[2].at - requests[1].at >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert!(requests.iter().all(|r| r.last_event_id.is_none()));
    assert_eq!(source.stats().snapshot().reconnects, 3);
}

#[tokio::test]
async fn a_bad_since_stops_the_source_with_the_servers_message() {
    let served = history(&fixture_lines("qs_batch_with_terms.json"));
    let mut config = Config::new(served);
    config.plan = vec![Plan::Status {
        code: 400,
        body: r#"{"type":"invalid_timestamp","title":"Invalid timestamp","detail":"since=1970 is too old"}"#
            .into(),
        retry_after: None,
    }];
    let server = Server::start(config).await;
    let source = source(&server)
        .since(chrono::DateTime::from_timestamp(0, 0).unwrap())
        .build()
        .unwrap();
    let pipeline = Pipeline::builder()
        .source(source)
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let error = pipeline.run().await.unwrap_err();
    let PipelineError::Source {
        error:
            SourceError::Http {
                url,
                status,
                message,
            },
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(*status, 400);
    assert!(url.contains("since=1970-01-01T00%3A00%3A00Z"), "{url}");
    assert!(message.contains("since=1970 is too old"), "{message}");
    assert!(error.to_string().contains("invalid_timestamp"), "{error}");
    assert_eq!(server.requests().len(), 1, "a 400 must not be retried");
}

#[tokio::test]
async fn a_corrupt_stored_id_is_refused_by_the_server_and_stops_the_source() {
    let server = Server::start(Config::new(history(&fixture_lines("eg_revert.json")))).await;
    let mut source = source(&server).build().unwrap();
    let cursor = Cursor::new(CURSOR_KIND, CURSOR_VERSION, "[]");
    let (items, error) = editgroups_core::testing::source::collect(&mut source, Some(cursor)).await;
    assert!(items.is_empty());
    let error = error.expect("the source should stop").to_string();
    assert!(
        error.contains("400") && error.contains("Last-Event-ID"),
        "{error}"
    );
    assert_eq!(server.requests()[0].last_event_id.as_deref(), Some("[]"));
}

#[tokio::test]
async fn forbidden_and_not_found_are_final() {
    for code in [403, 404] {
        let mut config = Config::new(history(&fixture_lines("eg_revert.json")));
        config.plan = vec![Plan::Status {
            code,
            body: "blocked: see the User-Agent policy".into(),
            retry_after: None,
        }];
        let server = Server::start(config).await;
        let mut source = source(&server).build().unwrap();
        let (items, error) = editgroups_core::testing::source::collect(&mut source, None).await;
        assert!(items.is_empty());
        match error {
            Some(SourceError::Http {
                status, message, ..
            }) => {
                assert_eq!(status, code);
                assert!(message.contains("User-Agent policy"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn a_stalled_connection_is_dropped_and_resumed() {
    let served = history(&fixture_lines("qs_batch_with_new_items.json"));
    let mut config = Config::new(served.clone());
    config.plan = vec![Plan::StallAfter(10)];
    let server = Server::start(config).await;
    let mut source = source(&server)
        .idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let items = read_until(&mut source, None, &served.last().unwrap().id()).await;
    assert_eq!(items.len(), served.len());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].last_event_id.as_deref(),
        Some(served[9].id().as_str())
    );
    let stats = source.stats().snapshot();
    assert_eq!((stats.idle_timeouts, stats.reconnects), (1, 1));
}

#[tokio::test]
async fn cr_and_crlf_line_ends_over_the_wire() {
    let lines = fixture_lines("qs_batch_with_new_items.json");
    let dir = tempfile::tempdir().unwrap();
    let expected = replay(&write_lines(&dir, &lines)).await;
    for line_end in ["\r\n", "\r"] {
        let mut config = Config::new(history(&lines));
        config.line_end = line_end;
        config.split = true;
        config.noise = true;
        config.close_every = Some(9);
        let server = Server::start(config).await;
        let mut source = source(&server).build().unwrap();
        let items = read_until(&mut source, None, &server.last_id()).await;
        let got: Vec<Seen> = items.iter().map(seen).collect();
        assert!(got == expected, "line end {line_end:?}");
    }
}

#[tokio::test]
async fn oversized_events_are_skipped_with_their_position_and_counted() {
    let lines = fixture_lines("qs_batch_with_new_items.json");
    let served = history(&lines);
    let mut lengths: Vec<usize> = lines.iter().map(String::len).collect();
    lengths.sort_unstable();
    let max = lengths[lengths.len() / 2];
    let server = Server::start(Config::new(served.clone())).await;
    let mut source = source(&server).max_event_bytes(max).build().unwrap();
    let items = read_until(&mut source, None, &server.last_id()).await;
    assert_eq!(items.len(), served.len());
    let mut oversized = 0;
    for (item, (line, event)) in items.iter().zip(lines.iter().zip(&served)) {
        assert_eq!(item.cursor().position(), event.id());
        let skipped = matches!(
            item,
            SourceItem::Skipped {
                reason: SkipReason::Oversized,
                ..
            }
        );
        assert_eq!(skipped, line.len() > max, "{item:?}");
        oversized += usize::from(skipped);
    }
    assert!(oversized > 0 && oversized < served.len());
    assert_eq!(source.stats().snapshot().oversized as usize, oversized);
}

#[tokio::test]
async fn routine_closes_reconnect_promptly() {
    // EventStreams ends every stream after about 15 minutes: a connection that
    // delivered events resets the backoff, so the delays do not pile up.
    let served = history(&fixture_lines("qs_batch_with_new_items.json"));
    let mut config = Config::new(served.clone());
    config.close_every = Some(5);
    let server = Server::start(config).await;
    let mut source = source(&server)
        .backoff(BackoffConfig::new(
            Duration::from_millis(20),
            Duration::from_secs(30),
        ))
        .build()
        .unwrap();
    let items = read_until(&mut source, None, &server.last_id()).await;
    assert_eq!(items.len(), served.len());
    let requests = server.requests();
    assert_eq!(requests.len(), served.len().div_ceil(5));
    for pair in requests.windows(2) {
        // Without the reset the 10th delay alone would be over 5 s.
        assert!(pair[1].at - pair[0].at < Duration::from_millis(500));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_pipeline_resumes_from_the_stored_cursor() {
    let lines = fixture_lines("one_qs_batch.json");
    let dir = tempfile::tempdir().unwrap();
    let path = write_lines(&dir, &lines);
    let mut config = Config::new(history(&lines));
    config.split = true;
    // The first run cannot read past event 1000 before it is stopped.
    config.plan = vec![Plan::StallAfter(1000)];
    let server = Server::start(config).await;
    let store = Arc::new(MemoryStore::new());
    let run = |until: Option<Cursor>| {
        let source = source(&server).build().unwrap();
        let name = source.name().to_owned();
        let pipeline = Pipeline::builder()
            .source(source)
            .shared_store(store.clone())
            .chunk_size(500)
            .build()
            .unwrap();
        let watched = store.clone();
        let stop = async move {
            loop {
                let cursor = watched.cursor(&name).await.unwrap();
                // The first run stops after its first stored chunk.
                if cursor.is_some() && (until.is_none() || cursor == until) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        async move {
            tokio::time::timeout(Duration::from_secs(60), pipeline.run_until(stop))
                .await
                .unwrap()
                .unwrap()
        }
    };
    run(None).await;
    let name = source(&server).build().unwrap().name().to_owned();
    let stored = store.cursor(&name).await.unwrap().unwrap();
    assert_ne!(
        stored.position(),
        server.last_id(),
        "the first run read everything"
    );
    run(Some(Cursor::new(
        CURSOR_KIND,
        CURSOR_VERSION,
        server.last_id(),
    )))
    .await;

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].last_event_id, None);
    assert_eq!(
        requests[1].last_event_id.as_deref(),
        Some(stored.position())
    );
    let reference = Arc::new(MemoryStore::new());
    Pipeline::builder()
        .source(ReplaySource::from_files([&path]).with_wikis(["wikidatawiki"]))
        .shared_store(reference.clone())
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    let expected = reference.list_batches(&BatchQuery::new()).await.unwrap();
    assert_eq!(
        store.list_batches(&BatchQuery::new()).await.unwrap(),
        expected
    );
}
