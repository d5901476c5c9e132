//! Replay into the in-memory store, end to end (file → parse → match → store), on
//! a realistic generated stream of 200,000 events; and the matcher on that
//! stream's comment mix (about 30% attributed).
//!
//! Run with `cargo bench -p editgroups-benches --bench replay`.

// As in the examples: mimalloc serves the many small strings of edits faster.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use editgroups_benches::{GeneratorConfig, write_events};
use editgroups_core::recentchange::{ParsedEvent, RecentChangeParser};
use editgroups_core::{Pipeline, RegexToolMatcher, ToolMatcher};
use editgroups_sources::ReplaySource;
use editgroups_store::MemoryStore;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::time::Duration;

const EVENTS: u64 = 200_000;

fn replay(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.json");
    let mut out = BufWriter::new(std::fs::File::create(&input).unwrap());
    write_events(&GeneratorConfig::new(42, EVENTS), &mut out).unwrap();
    out.flush().unwrap();
    drop(out);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("replay_200k_events");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("memory", |b| {
        b.iter(|| {
            rt.block_on(async {
                let pipeline = Pipeline::builder()
                    .source(ReplaySource::from_files([input.clone()]))
                    .store(MemoryStore::new())
                    .build()
                    .unwrap();
                black_box(pipeline.run().await.unwrap())
            })
        })
    });
    group.finish();

    let parser = RecentChangeParser::new();
    let edits: Vec<_> = std::fs::read_to_string(&input)
        .unwrap()
        .lines()
        .filter_map(|line| match parser.parse(line) {
            Ok(ParsedEvent::Edit(edit)) => Some(*edit),
            _ => None,
        })
        .collect();
    let matcher = RegexToolMatcher::default();
    let matched = edits
        .iter()
        .filter(|e| matcher.match_edit(e).is_some())
        .count();
    eprintln!(
        "generated comment mix: {} comments, {matched} matched",
        edits.len()
    );
    let mut group = c.benchmark_group("matcher");
    group.throughput(Throughput::Elements(edits.len() as u64));
    group.bench_function("generated_comments", |b| {
        b.iter(|| {
            edits
                .iter()
                .filter(|e| matcher.match_edit(black_box(e)).is_some())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
