//! EventStreams reading, in events per second: server-sent events from a
//! loopback server read with reqwest and parsed (`loopback_sse`); the same
//! through the whole source, recent-change parsing into edits and wiki filter
//! included (`loopback_source`); and the SSE parser alone on bytes in memory
//! (`parser_only`).
//!
//! Run with `cargo bench -p editgroups-benches --bench sse`.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use editgroups_core::EditSource;
use editgroups_sources::eventstreams::EventStreamsSource;
use editgroups_sources::eventstreams::sse::SseParser;
use futures::StreamExt;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Recorded Wikidata events framed as EventStreams sends them, with
/// KafkaSSE-style ids.
fn frames() -> (Vec<u8>, usize) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/editgroups/one_qs_batch.json");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut body = b":ok\n\n".to_vec();
    let mut count = 0;
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        body.extend_from_slice(
            format!(
                "event: message\nid: [{{\"topic\":\"eqiad.mediawiki.recentchange\",\"partition\":0,\"timestamp\":{}}},{{\"topic\":\"codfw.mediawiki.recentchange\",\"partition\":0,\"offset\":-1}}]\ndata: {line}\n\n",
                1_520_439_377_000_i64 + i as i64
            )
            .as_bytes(),
        );
        count += 1;
    }
    (body, count)
}

/// Serves `body` to every connection as one chunked SSE response, then ends it.
async fn serve(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/v2/stream/recentchange",
        listener.local_addr().unwrap()
    );
    let body = std::sync::Arc::new(body);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
                    .await;
                for chunk in body.chunks(16 * 1024) {
                    let mut out = format!("{:x}\r\n", chunk.len()).into_bytes();
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                    if socket.write_all(&out).await.is_err() {
                        return;
                    }
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    url
}

fn sse(c: &mut Criterion) {
    let (body, count) = frames();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = runtime.block_on(serve(body.clone()));
    let mut group = c.benchmark_group("eventstreams");
    group.throughput(Throughput::Elements(count as u64));
    group.sample_size(20);
    let client = reqwest::Client::new();
    group.bench_function("loopback_sse", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = client.get(&url).send().await.unwrap();
            let mut body = response.bytes_stream();
            let mut parser = SseParser::new(4 * 1024 * 1024);
            let mut frames = Vec::new();
            let mut events = 0;
            while let Some(chunk) = body.next().await {
                parser.feed(&chunk.unwrap(), &mut frames);
                events += frames.len();
                frames.clear();
            }
            assert_eq!(events, count);
            events
        });
    });
    let source = EventStreamsSource::builder()
        .url(&url)
        .user_agent("editgroups-bench/0.1 (bench@example.org)")
        .wiki("wikidatawiki")
        .build()
        .unwrap();
    group.bench_function("loopback_source", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut source = source.clone();
            let mut stream = source.stream(None);
            let mut read = 0;
            while read < count {
                match stream.next().await {
                    Some(Ok(_)) => read += 1,
                    other => panic!("{other:?}"),
                }
            }
            read
        });
    });
    group.bench_function("parser_only", |b| {
        b.iter(|| {
            let mut parser = SseParser::new(4 * 1024 * 1024);
            let mut frames = Vec::new();
            let mut events = 0;
            for chunk in body.chunks(16 * 1024) {
                parser.feed(chunk, &mut frames);
                events += frames.len();
                frames.clear();
            }
            assert_eq!(events, count);
            events
        });
    });
    group.finish();
}

criterion_group!(benches, sse);
criterion_main!(benches);
