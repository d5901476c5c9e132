use super::*;
use proptest::prelude::*;

fn parse_all(chunks: &[&[u8]], max: usize) -> Vec<SseFrame> {
    let mut parser = SseParser::new(max);
    let mut out = Vec::new();
    for chunk in chunks {
        parser.feed(chunk, &mut out);
    }
    out
}

fn events(frames: &[SseFrame]) -> Vec<(String, String, String)> {
    frames
        .iter()
        .map(|f| match f {
            SseFrame::Event(e) => (e.event_type().to_owned(), e.data.clone(), e.id.clone()),
            SseFrame::Oversized { bytes, id } => {
                ("<oversized>".into(), bytes.to_string(), id.clone())
            }
        })
        .collect()
}

fn ev(kind: &str, data: &str, id: &str) -> (String, String, String) {
    (kind.into(), data.into(), id.into())
}

#[test]
fn every_line_end_style_gives_the_same_events() {
    for end in ["\n", "\r\n", "\r"] {
        let text =
            ":ok\n\nevent: message\nid: [1]\ndata: {\"a\":1}\n\ndata: x\n\n".replace('\n', end);
        assert_eq!(
            events(&parse_all(&[text.as_bytes()], 100)),
            [ev("message", "{\"a\":1}", "[1]"), ev("message", "x", "[1]")],
            "line end {end:?}"
        );
    }
}

#[test]
fn crlf_split_across_chunks_is_one_line_end() {
    let frames = parse_all(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"], 100);
    assert_eq!(events(&frames), [ev("message", "a\nb", "")]);
    // A lone CR at the end of a chunk followed by another line.
    let frames = parse_all(&[b"data: a\r", b"\r"], 100);
    assert_eq!(events(&frames), [ev("message", "a", "")]);
}

#[test]
fn multi_line_data_comments_and_unknown_fields() {
    let text = b": comment\ndata\ndata:x\ndata:  two spaces\nfoo: bar\nbad line\n\n";
    assert_eq!(
        events(&parse_all(&[text], 100)),
        [ev("message", "\nx\n two spaces", "")]
    );
}

#[test]
fn ids_persist_are_verbatim_and_nul_ids_are_ignored() {
    let text = "id: [{\"topic\":\"eqiad.x\",\"partition\":0,\"timestamp\":1}]\ndata: a\n\ndata: b\n\nid: bad\0id\ndata: c\n\nid\ndata: d\n\n";
    assert_eq!(
        events(&parse_all(&[text.as_bytes()], 100)),
        [
            ev(
                "message",
                "a",
                "[{\"topic\":\"eqiad.x\",\"partition\":0,\"timestamp\":1}]"
            ),
            ev(
                "message",
                "b",
                "[{\"topic\":\"eqiad.x\",\"partition\":0,\"timestamp\":1}]"
            ),
            ev(
                "message",
                "c",
                "[{\"topic\":\"eqiad.x\",\"partition\":0,\"timestamp\":1}]"
            ),
            ev("message", "d", ""),
        ]
    );
}

#[test]
fn an_id_without_data_sets_the_last_id_but_dispatches_nothing() {
    let mut parser = SseParser::new(100);
    let mut out = Vec::new();
    parser.feed(b"id: 7\n\nevent: error\n\n", &mut out);
    assert!(out.is_empty());
    assert_eq!(parser.last_event_id(), "7");
}

#[test]
fn event_types_and_retry() {
    let mut parser = SseParser::new(100);
    let mut out = Vec::new();
    parser.feed(
        b"retry: 2500\nevent: error\ndata: {}\n\nretry: x1\ndata: y\n\n",
        &mut out,
    );
    assert_eq!(
        events(&out),
        [ev("error", "{}", ""), ev("message", "y", "")]
    );
    assert_eq!(parser.retry(), Some(Duration::from_millis(2500)));
}

#[test]
fn an_unfinished_event_is_dropped_and_its_id_forgotten_on_reset() {
    let mut parser = SseParser::new(100);
    let mut out = Vec::new();
    parser.feed(b"id: 1\ndata: a\n\nid: 2\ndata: half", &mut out);
    parser.reset();
    parser.feed(b"data: b\n\n", &mut out);
    assert_eq!(
        events(&out),
        [ev("message", "a", "1"), ev("message", "b", "1")]
    );
}

#[test]
fn a_utf8_character_split_across_chunks_survives() {
    let text = "data: Zürich — 東京\n\n".as_bytes();
    for split in 0..text.len() {
        let frames = parse_all(&[&text[..split], &text[split..]], 100);
        assert_eq!(
            events(&frames),
            [ev("message", "Zürich — 東京", "")],
            "split at {split}"
        );
    }
    let frames = parse_all(&[b"data: \xff\n\n"], 100);
    assert_eq!(events(&frames), [ev("message", "\u{fffd}", "")]);
}

#[test]
fn a_byte_order_mark_is_stripped_once_even_split() {
    let frames = parse_all(
        &[b"\xEF", b"\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n"],
        100,
    );
    // A BOM later is not stripped: it makes `\u{feff}data`, an unknown field.
    assert_eq!(events(&frames), [ev("message", "a", "")]);
}

#[test]
fn oversized_events_are_reported_and_parsing_goes_on() {
    let big = "x".repeat(1000);
    // Too long in one data line, in one chunk or in many.
    let text = format!("id: 1\ndata: ok\n\nid: 2\ndata: {big}\n\nid: 3\ndata: after\n\n");
    for piece in [text.len(), 7, 1] {
        let chunks: Vec<&[u8]> = text.as_bytes().chunks(piece).collect();
        let frames = parse_all(&chunks, 100);
        assert_eq!(frames.len(), 3, "{frames:?}");
        assert_eq!(events(&frames[..1]), [ev("message", "ok", "1")]);
        assert!(
            matches!(&frames[1], SseFrame::Oversized { bytes, id } if *bytes >= 1000 && id == "2"),
            "{:?}",
            frames[1]
        );
        assert_eq!(events(&frames[2..]), [ev("message", "after", "3")]);
    }
    // Too long over many short data lines.
    let many = "data: 0123456789\n".repeat(20);
    let frames = parse_all(&[format!("{many}\ndata: z\n\n").as_bytes()], 100);
    assert!(matches!(frames[0], SseFrame::Oversized { .. }));
    assert_eq!(events(&frames[1..]), [ev("message", "z", "")]);
}

#[test]
fn memory_stays_bounded_on_an_endless_line() {
    let mut parser = SseParser::new(1000);
    let mut out = Vec::new();
    let chunk = vec![b'x'; 4096];
    for _ in 0..1000 {
        parser.feed(&chunk, &mut out);
    }
    assert!(
        parser.line.capacity() <= 1000 + FIELD_SLACK + 4096,
        "{}",
        parser.line.capacity()
    );
    parser.feed(b"\n\ndata: a\n\n", &mut out);
    assert!(matches!(out[0], SseFrame::Oversized { bytes, .. } if bytes >= 4096 * 1000));
    assert_eq!(events(&out[1..]), [ev("message", "a", "")]);
}

fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just(b":ok".to_vec()),
        Just(Vec::new()),
        Just(b"event: error".to_vec()),
        Just("data: {\"title\":\"Zürich 東京\"}".as_bytes().to_vec()),
        "[a-z ]{0,20}".prop_map(|s| format!("data: {s}").into_bytes()),
        "[0-9]{1,4}".prop_map(|s| format!("id: [{{\"t\":{s}}}]").into_bytes()),
        "[0-9]{1,4}".prop_map(|s| format!("retry: {s}").into_bytes()),
        Just(b"data".to_vec()),
        Just(vec![b'd'; 90]).prop_map(|mut v| {
            v.splice(0..0, b"data:".iter().copied());
            v
        }),
    ];
    let end = prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b"\r"[..])];
    proptest::collection::vec((line, end), 0..60).prop_map(|lines| {
        let mut out = Vec::new();
        for (line, end) in lines {
            out.extend_from_slice(&line);
            out.extend_from_slice(end);
        }
        out
    })
}

proptest! {
    #[test]
    fn any_split_into_chunks_gives_the_same_frames(
        stream in stream_strategy(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let whole = parse_all(&[&stream], 120);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for cut in cuts {
            chunks.push(&stream[start..cut]);
            start = cut;
        }
        chunks.push(&stream[start..]);
        prop_assert_eq!(parse_all(&chunks, 120), whole.clone());
        // Byte by byte too.
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        prop_assert_eq!(parse_all(&bytes, 120), whole);
    }
}
