//! Replay of recorded events: bad lines are skipped and reported, never fatal;
//! the cursor resumes exactly; gzip works.

use editgroups_core::testing::source::{collect, resumes_without_gaps};
use editgroups_core::{Cursor, EditSource, SkipReason, SourceError, SourceItem};
use editgroups_sources::{ReplayInput, ReplaySource};
use futures::StreamExt;
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/editgroups")
        .join(name)
}

fn event(rcid: u64) -> String {
    format!(
        r#"{{"id":{rcid},"type":"edit","namespace":0,"title":"Q{rcid}","timestamp":{},"wiki":"wikidatawiki","comment":"c","user":"U"}}"#,
        1_500_000_000 + rcid
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn summary(items: &[SourceItem]) -> Vec<String> {
    items
        .iter()
        .map(|item| match item {
            SourceItem::Edit { edit, .. } => format!("edit {}", edit.rcid),
            SourceItem::Skipped { reason, detail, .. } => format!("{reason}: {detail}"),
            _ => "other".to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn malformed_lines_are_skipped_with_their_line_numbers_and_lose_no_neighbour() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    bytes.extend(format!("{}\n", event(1)).as_bytes());
    bytes.extend(b"not json at all\n");
    bytes.extend(format!("{}\r\n", event(2)).as_bytes());
    bytes.extend(b"[1, 2, 3]\n");
    bytes.extend(b"\n   \n");
    bytes.extend(b"{\"id\": 7, \"wiki\": \"w\", \"title\": \"\xff\xfe\"}\n");
    bytes.extend(format!("{}\n", event(3)).as_bytes());
    bytes.extend(br#"{"meta":{"domain":"canary"}}"#);
    bytes.push(b'\n');
    bytes.extend(br#"{"wiki":"wikidatawiki","type":"log","log_type":"abusefilter"}"#);
    bytes.push(b'\n');
    bytes.extend(format!("{}\n", event(4)).as_bytes());
    let truncated = event(5);
    bytes.extend(&truncated.as_bytes()[..truncated.len() / 2]);
    let path = write(dir.path(), "mixed.json", &bytes);

    let mut source = ReplaySource::from_files([&path]);
    let (items, error) = collect(&mut source, None).await;
    assert!(error.is_none(), "{error:?}");
    let lines = summary(&items);
    assert_eq!(lines.len(), 10, "{lines:#?}");
    assert_eq!(lines[0], "edit 1");
    assert!(
        lines[1].starts_with(&format!("malformed: {} line 2:", path.display())),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "edit 2");
    assert!(lines[3].contains("line 4"), "{}", lines[3]);
    assert!(
        lines[4].starts_with("malformed") && lines[4].contains("line 7"),
        "invalid UTF-8: {}",
        lines[4]
    );
    assert_eq!(lines[5], "edit 3");
    assert!(lines[6].starts_with("canary"), "{}", lines[6]);
    assert!(
        lines[7].starts_with("incomplete") && lines[7].contains("line 10"),
        "{}",
        lines[7]
    );
    assert_eq!(lines[8], "edit 4");
    assert!(
        lines[9].starts_with("malformed") && lines[9].contains("line 12"),
        "truncated last line: {}",
        lines[9]
    );
}

#[tokio::test]
async fn resuming_from_any_item_yields_exactly_what_followed() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 1..=20 {
        text.push_str(&event(i));
        text.push('\n');
        if i % 7 == 0 {
            text.push_str("{broken\n");
        }
    }
    let a = write(dir.path(), "a.json", text.as_bytes());
    let b = write(
        dir.path(),
        "b.json",
        format!("{}\n{}\n", event(100), event(101)).as_bytes(),
    );
    resumes_without_gaps(&mut ReplaySource::from_files([&a, &b])).await;
}

#[tokio::test]
async fn a_last_line_without_newline_is_read_again_on_resume() {
    // The file may still be being written: its unfinished last line must not be
    // stepped over by a resumed replay.
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "growing.json",
        format!("{}\n{}", event(1), event(2)).as_bytes(),
    );
    let mut source = ReplaySource::from_files([&path]);
    let (items, _) = collect(&mut source, None).await;
    assert_eq!(summary(&items), ["edit 1", "edit 2"]);
    let (again, _) = collect(&mut source, Some(items[1].cursor().clone())).await;
    assert_eq!(summary(&again), ["edit 2"]);
    let (rest, _) = collect(&mut source, Some(items[0].cursor().clone())).await;
    assert_eq!(summary(&rest), ["edit 2"]);
}

#[tokio::test]
async fn gzip_files_replay_and_resume_like_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(fixture("qs_batch_with_new_items.json")).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&plain).unwrap();
    let gz = write(dir.path(), "events.json.gz", &encoder.finish().unwrap());

    let (from_plain, _) = collect(
        &mut ReplaySource::from_files([fixture("qs_batch_with_new_items.json")]),
        None,
    )
    .await;
    let mut gz_source = ReplaySource::from_files([&gz]);
    let (from_gz, error) = collect(&mut gz_source, None).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(summary(&from_gz), summary(&from_plain));
    assert_eq!(from_gz.len(), 82);
    let (rest, _) = collect(&mut gz_source, Some(from_gz[40].cursor().clone())).await;
    assert_eq!(summary(&rest), summary(&from_gz[41..]));
}

#[tokio::test]
async fn oversized_lines_are_skipped_and_the_replay_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let huge = format!(r#"{{"comment":"{}"}}"#, "x".repeat(10_000));
    let path = write(
        dir.path(),
        "big.json",
        format!("{}\n{huge}\n{}\n", event(1), event(2)).as_bytes(),
    );
    let (items, error) = collect(
        &mut ReplaySource::from_files([&path]).with_max_line_bytes(1_000),
        None,
    )
    .await;
    assert!(error.is_none());
    let lines = summary(&items);
    assert_eq!(lines[0], "edit 1");
    assert!(
        lines[1].starts_with("oversized") && lines[1].contains("line 2"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "edit 2");
}

/// An event with a comment of `len` bytes: a line longer than any read block.
fn long_event(rcid: u64, len: usize) -> String {
    let event = event(rcid);
    let comment = format!(r#""comment":"{}""#, "y".repeat(len));
    event.replace(r#""comment":"c""#, &comment)
}

#[tokio::test]
async fn lines_longer_than_a_read_are_kept_or_skipped_whole_and_resume_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for rcid in 1..=3000u64 {
        // Now and then a line of 0.3 to 1.5 MB, spanning several reads.
        let line = match rcid % 700 {
            0 => long_event(rcid, 1_500_000),
            350 => long_event(rcid, 300_000),
            _ => event(rcid),
        };
        text.push_str(&line);
        text.push('\n');
    }
    let path = write(dir.path(), "long.json", text.as_bytes());

    let (items, error) = collect(&mut ReplaySource::from_files([&path]), None).await;
    assert!(error.is_none());
    let expected: Vec<String> = (1..=3000).map(|rcid| format!("edit {rcid}")).collect();
    assert_eq!(summary(&items), expected);
    let long = items.iter().find_map(|item| match item {
        SourceItem::Edit { edit, .. } if edit.rcid == 700 => edit.comment.clone(),
        _ => None,
    });
    assert_eq!(long.map(|c| c.len()), Some(1_500_000));

    // Lines over 1 MB are dropped, whatever reads they span.
    let mut small = ReplaySource::from_files([&path]).with_max_line_bytes(1_000_000);
    let (items, error) = collect(&mut small, None).await;
    assert!(error.is_none());
    let lines = summary(&items);
    assert_eq!(lines.len(), 3000);
    for (index, line) in lines.iter().enumerate() {
        let rcid = index + 1;
        if rcid % 700 == 0 {
            assert!(line.starts_with("oversized") && line.contains(&format!("line {rcid}:")));
        } else {
            assert_eq!(*line, format!("edit {rcid}"));
        }
    }
    // Resuming after a dropped line, or after any other item, yields the rest.
    for at in [0, 698, 699, 700, 1399, 2999] {
        let (rest, _) = collect(&mut small, Some(items[at].cursor().clone())).await;
        assert_eq!(summary(&rest), lines[at + 1..], "resuming after item {at}");
    }
}

#[tokio::test]
async fn wiki_filtering_skips_other_wikis_but_moves_the_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let other = event(2).replace("wikidatawiki", "commonswiki");
    let path = write(
        dir.path(),
        "w.json",
        format!("{}\n{other}\n", event(1)).as_bytes(),
    );
    let (items, _) = collect(
        &mut ReplaySource::from_files([&path]).with_wikis(["wikidatawiki"]),
        None,
    )
    .await;
    assert!(matches!(
        items[1],
        SourceItem::Skipped {
            reason: SkipReason::OtherWiki,
            ..
        }
    ));
    assert_ne!(items[0].cursor(), items[1].cursor());
}

#[tokio::test]
async fn bad_cursors_and_missing_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "short.json",
        format!("{}\n", event(1)).as_bytes(),
    );
    let mut source = ReplaySource::from_files([&path]);

    let (_, error) = collect(&mut source, Some(Cursor::new("eventstreams", 1, "[]"))).await;
    assert!(matches!(error, Some(SourceError::Cursor(_))), "{error:?}");
    let (_, error) = collect(&mut source, Some(Cursor::new("replay", 1, "garbage"))).await;
    assert!(
        matches!(error, Some(SourceError::CorruptCursor { .. })),
        "{error:?}"
    );
    let past_end = Cursor::new("replay", 1, r#"{"input":0,"offset":99999,"line":5}"#);
    let (_, error) = collect(&mut source, Some(past_end)).await;
    assert!(error.is_some_and(|e| e.to_string().contains("shorter than the stored position")));

    let mut missing = ReplaySource::from_files([dir.path().join("nope.json")]);
    let (items, error) = collect(&mut missing, None).await;
    assert!(items.is_empty());
    assert!(matches!(error, Some(SourceError::Io { .. })), "{error:?}");
}

#[test]
fn the_name_lists_the_inputs() {
    let source = ReplaySource::new(vec![ReplayInput::File("a.json".into()), ReplayInput::Stdin]);
    assert_eq!(source.name(), "replay:a.json,-");
}

/// Events in [`long_input`]: about twenty read-ahead batches, more than are
/// parsed at once.
const LONG: u64 = 20_000;

/// Many more lines than one read-ahead batch, some of them bad, so that items
/// cross several batches read on other threads.
fn long_input(dir: &Path) -> PathBuf {
    let mut text = String::new();
    for rcid in 1..=LONG {
        if rcid % 997 == 0 {
            text.push_str("{not json\n");
        }
        text.push_str(&event(rcid));
        text.push('\n');
    }
    write(dir, "long.jsonl", text.as_bytes())
}

#[test]
fn every_runtime_and_none_yield_the_same_items_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = long_input(dir.path());
    let read = || async {
        let mut source = ReplaySource::from_files([&path]);
        let (items, error) = collect(&mut source, None).await;
        assert!(error.is_none(), "{error:?}");
        summary(&items)
    };
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(read());
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
        .block_on(read());
    // Without a Tokio runtime: the reading threads need none.
    let none = futures::executor::block_on(read());

    let edits: Vec<String> = (1..=LONG).map(|rcid| format!("edit {rcid}")).collect();
    let read_edits: Vec<String> = current
        .iter()
        .filter(|s| s.starts_with("edit "))
        .cloned()
        .collect();
    assert_eq!(read_edits, edits);
    assert_eq!(current.len(), LONG as usize + LONG as usize / 997);
    assert_eq!(multi, current);
    assert_eq!(none, current);
}

#[tokio::test]
async fn dropping_the_stream_mid_read_is_harmless_and_a_new_stream_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let path = long_input(dir.path());
    let mut source = ReplaySource::from_files([&path]);
    let mut stream = source.stream(None);
    let mut cursor = None;
    for _ in 0..1_500 {
        // A read of the next lines is in flight when the stream is dropped.
        match stream.next().await {
            Some(Ok(item)) => cursor = Some(item.cursor().clone()),
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(stream);
    let (rest, error) = collect(&mut source, cursor).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rest.len(), LONG as usize + LONG as usize / 997 - 1_500);
}
