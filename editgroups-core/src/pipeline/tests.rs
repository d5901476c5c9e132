use super::*;
use crate::cursor::Cursor;
use crate::source::MockEditSource;
use crate::store::{ApplyReport, MockBatchStore};
use crate::testing::edit;
use futures::stream;
use std::sync::Mutex;

fn item(rcid: u64, comment: &str) -> Result<SourceItem, SourceError> {
    Ok(SourceItem::Edit {
        edit: Box::new(edit("w", rcid).comment(comment).build()),
        cursor: Cursor::new("mock", 1, rcid.to_string()),
    })
}

const QS: &str =
    "#quickstatements; [[:toollabs:quickstatements/#/batch/7|batch #7]] by [[User:Ann|]]";

fn source_of(items: Vec<Result<SourceItem, SourceError>>, then_pending: bool) -> MockEditSource {
    let mut source = MockEditSource::new();
    source.expect_name().return_const("mock".to_owned());
    let mut items = Some(items);
    source.expect_stream().returning(move |_| {
        let s = stream::iter(items.take().unwrap_or_default());
        if then_pending {
            Box::pin(s.chain(stream::pending()))
        } else {
            Box::pin(s)
        }
    });
    source
}

/// A store mock that records every chunk applied, and fails the calls whose
/// index is in `fail_at`.
fn recording_store(
    start: Option<Cursor>,
    fail_at: &'static [usize],
) -> (MockBatchStore, Arc<Mutex<Vec<Chunk>>>) {
    let applied = Arc::new(Mutex::new(Vec::new()));
    let mut store = MockBatchStore::new();
    store.expect_cursor().returning(move |_| Ok(start.clone()));
    let log = Arc::clone(&applied);
    let calls = Arc::new(Mutex::new(0usize));
    store.expect_apply().returning(move |chunk| {
        let mut n = calls.lock().unwrap();
        let index = *n;
        *n += 1;
        if fail_at.contains(&index) {
            return Err(StoreError::Connection {
                store: "mock",
                source: "connection reset by peer".into(),
            });
        }
        log.lock().unwrap().push(chunk.clone());
        Ok(ApplyReport {
            inserted: chunk
                .edits
                .iter()
                .filter(|e| e.attribution.is_some())
                .count() as u64,
            ..ApplyReport::default()
        })
    });
    (store, applied)
}

/// The rc ids of the edits handed to the store, in order.
fn stored_rcids(chunks: &[Chunk]) -> Vec<u64> {
    chunks
        .iter()
        .flat_map(|c| c.edits.iter().map(|e| e.edit.rcid))
        .collect()
}

fn positions(chunks: &[Chunk]) -> Vec<String> {
    chunks
        .iter()
        .filter_map(|c| c.cursor.as_ref().map(|c| c.position().to_owned()))
        .collect()
}

#[tokio::test]
async fn chunks_carry_the_cursor_of_their_last_item() {
    let items = (1..=5).map(|i| item(i, QS)).collect();
    let (store, applied) = recording_store(None, &[]);
    let summary = Pipeline::builder()
        .source(source_of(items, false))
        .store(store)
        .chunk_size(2)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    let applied = applied.lock().unwrap();
    assert_eq!(positions(&applied), ["2", "4", "5"]);
    assert!(applied.iter().all(|c| c.source == "mock"));
    assert_eq!(
        (summary.events_read, summary.attributed, summary.inserted),
        (5, 5, 5)
    );
    assert_eq!(
        applied[0].edits[0]
            .attribution
            .as_ref()
            .map(|a| a.user.as_str()),
        Some("Ann")
    );
}

#[tokio::test]
async fn a_store_error_stops_the_pipeline_and_the_stored_cursor_stays_behind() {
    let items = (1..=6).map(|i| item(i, QS)).collect();
    let (store, applied) = recording_store(None, &[1]);
    let error = Pipeline::builder()
        .source(source_of(items, false))
        .store(store)
        .chunk_size(2)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(error, PipelineError::Store(StoreError::Connection { .. })),
        "{error}"
    );
    assert!(
        error.to_string().contains("connection reset by peer"),
        "{error}"
    );
    // Only the first chunk was stored: a restart resumes after item 2.
    assert_eq!(positions(&applied.lock().unwrap()), ["2"]);
}

#[tokio::test]
async fn a_source_error_is_reported_after_storing_what_was_read() {
    let items = vec![
        item(1, QS),
        item(2, QS),
        Err(SourceError::Http {
            url: "http://stream".into(),
            status: 400,
            message: "bad Last-Event-ID".into(),
        }),
        item(3, QS),
    ];
    let (store, applied) = recording_store(None, &[]);
    let error = Pipeline::builder()
        .source(source_of(items, false))
        .store(store)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap_err();
    match &error {
        PipelineError::Source { source_name, error } => {
            assert_eq!(source_name, "mock");
            assert!(error.to_string().contains("bad Last-Event-ID"));
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(positions(&applied.lock().unwrap()), ["2"]);
}

#[tokio::test]
async fn shutdown_stores_the_chunk_in_hand() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let items: Vec<_> = (1..=3).map(|i| item(i, QS)).collect();
    let mut source = MockEditSource::new();
    source.expect_name().return_const("mock".to_owned());
    let mut items = Some(items);
    source.expect_stream().returning(move |_| {
        let tx = tx.take();
        // After the items, signal that they were read, then stay open.
        let signal = stream::once(async move {
            if let Some(tx) = tx {
                let _ = tx.send(());
            }
        })
        .filter_map(|()| async { None });
        Box::pin(
            stream::iter(items.take().unwrap_or_default())
                .chain(signal)
                .chain(stream::pending()),
        )
    });
    let (store, applied) = recording_store(None, &[]);
    let summary = Pipeline::builder()
        .source(source)
        .store(store)
        .max_chunk_delay(Duration::from_secs(3600))
        .build()
        .unwrap()
        .run_until(async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    assert_eq!(summary.events_read, 3);
    assert_eq!(positions(&applied.lock().unwrap()), ["3"]);
}

#[tokio::test(start_paused = true)]
async fn a_quiet_source_is_stored_after_the_chunk_delay() {
    let (store, applied) = recording_store(None, &[]);
    let pipeline = Pipeline::builder()
        .source(source_of(vec![item(1, QS)], true))
        .store(store)
        .max_chunk_delay(Duration::from_secs(2))
        .build()
        .unwrap();
    let observed = Arc::clone(&applied);
    let summary = pipeline
        .run_until(async move {
            tokio::time::sleep(Duration::from_millis(1900)).await;
            assert!(
                observed.lock().unwrap().is_empty(),
                "stored before the delay"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert_eq!(
                observed.lock().unwrap().len(),
                1,
                "not stored after the delay"
            );
        })
        .await
        .unwrap();
    assert_eq!(
        summary.chunks_applied, 1,
        "nothing left to store at shutdown"
    );
}

#[tokio::test]
async fn the_source_resumes_from_the_stored_cursor() {
    let stored = Cursor::new("mock", 1, "41");
    let mut source = MockEditSource::new();
    source.expect_name().return_const("mock".to_owned());
    let expected = stored.clone();
    source
        .expect_stream()
        .withf(move |from| from.as_ref() == Some(&expected))
        .times(1)
        .returning(|_| Box::pin(stream::iter(vec![item(42, QS)])));
    let (store, applied) = recording_store(Some(stored), &[]);
    Pipeline::builder()
        .source(source)
        .store(store)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(positions(&applied.lock().unwrap()), ["42"]);
}

#[tokio::test]
async fn only_watched_attributed_or_reverting_events_reach_the_store() {
    let talk = Ok(SourceItem::Edit {
        edit: Box::new(edit("w", 3).namespace(1).comment(QS).build()),
        cursor: Cursor::new("mock", 1, "3"),
    });
    let malformed = Ok(SourceItem::Skipped {
        reason: SkipReason::Malformed,
        detail: "line 5: expected value".into(),
        cursor: Cursor::new("mock", 1, "5"),
    });
    let items = vec![
        item(1, QS),
        item(2, "/* wbsetlabel-add:1|en */ plain edit"),
        talk,
        item(4, "/* undo:0||11|Ann */"),
        malformed,
    ];
    let (store, applied) = recording_store(None, &[]);
    let summary = Pipeline::builder()
        .source(source_of(items, false))
        .store(store)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    let applied = applied.lock().unwrap();
    assert_eq!(stored_rcids(&applied), [1, 4]);
    assert_eq!(positions(&applied), ["5"]);
    assert_eq!(summary.skipped.get("namespace"), Some(&1));
    assert_eq!(summary.skipped.get("malformed"), Some(&1));
    assert_eq!(summary.events_read, 5);
    assert_eq!(summary.attributed, 1);
    assert!(summary.latest_event_time.is_some());
}

/// Chunks large enough to be matched by batches on the matching thread keep
/// every kept edit, in order, whatever the runtime.
#[test]
fn large_chunks_matched_on_other_threads_keep_their_order() {
    let events = 10_000u64;
    let items = || {
        (1..=events)
            .map(|rcid| match rcid % 3 {
                0 => item(rcid, QS),
                1 => item(rcid, "/* wbsetlabel-add:1|en */ plain edit"),
                _ => item(rcid, &format!("/* undo:0||{rcid}|Ann */")),
            })
            .collect::<Vec<_>>()
    };
    let run = |runtime: tokio::runtime::Runtime| {
        let (store, applied) = recording_store(None, &[]);
        let summary = runtime
            .block_on(
                Pipeline::builder()
                    .source(source_of(items(), false))
                    .store(store)
                    .chunk_size(4_000)
                    .build()
                    .unwrap()
                    .run(),
            )
            .unwrap();
        let applied = applied.lock().unwrap();
        (
            summary.attributed,
            positions(&applied),
            stored_rcids(&applied),
        )
    };
    let multi = run(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap());
    let kept: Vec<u64> = (1..=events).filter(|r| r % 3 != 1).collect();
    assert_eq!(multi.0, events / 3);
    assert_eq!(multi.1, ["4000", "8000", "10000"]);
    assert_eq!(multi.2, kept);
    let current = run(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap());
    assert_eq!(current, multi);
}

#[test]
fn the_builder_refuses_incomplete_pipelines() {
    assert!(matches!(
        Pipeline::builder().build(),
        Err(PipelineError::Config(_))
    ));
    let (store, _) = recording_store(None, &[]);
    assert!(Pipeline::builder().store(store).build().is_err());
    let (store, _) = recording_store(None, &[]);
    let result = Pipeline::builder()
        .source(source_of(Vec::new(), false))
        .store(store)
        .chunk_size(0)
        .build();
    assert!(result.is_err());
    let (store, _) = recording_store(None, &[]);
    let result = Pipeline::builder()
        .source(source_of(Vec::new(), false))
        .store(store)
        .watched_namespaces([])
        .build();
    assert!(result.is_err());
}

#[tokio::test]
async fn values_too_long_for_a_store_are_skipped_not_stored() {
    let huge_batch = format!("#quickstatements; #temporary_batch_{}", "9".repeat(300));
    let long_title = Ok(SourceItem::Edit {
        edit: Box::new(edit("w", 3).title(&"x".repeat(300)).comment(QS).build()),
        cursor: Cursor::new("mock", 1, "3"),
    });
    let items = vec![item(1, &huge_batch), item(2, QS), long_title];
    let (store, applied) = recording_store(None, &[]);
    let summary = Pipeline::builder()
        .source(source_of(items, false))
        .store(store)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    let applied = applied.lock().unwrap();
    let rcids: Vec<u64> = applied
        .iter()
        .flat_map(|c| c.edits.iter().map(|e| e.edit.rcid))
        .collect();
    assert_eq!(rcids, [2], "only the edit that fits is handed over");
    assert_eq!(summary.skipped.get("oversized"), Some(&2));
    assert_eq!(
        positions(&applied),
        ["3"],
        "the cursor still moves past them"
    );
}
