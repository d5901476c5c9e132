//! The rulebook alone: what a chunk reads (`Needs::of`) and what it decides
//! (`decide`), without a store, on the chunks a pipeline hands over for a
//! realistic generated stream of 200,000 events (attributed edits and revert
//! signals, in chunks of 10,000 events read).
//!
//! Run with `cargo bench -p editgroups-benches --bench rulebook`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use editgroups_benches::{GeneratorConfig, write_events};
use editgroups_core::recentchange::{ParsedEvent, RecentChangeParser};
use editgroups_core::rulebook::{EmptyState, Needs, decide, signal_of};
use editgroups_core::{Chunk, ChunkEdit, RegexToolMatcher, ToolMatcher};
use std::hint::black_box;

const EVENTS: u64 = 200_000;
const CHUNK: usize = 10_000;

/// The chunks a pipeline would hand to a store.
fn chunks() -> (Vec<Chunk>, u64) {
    let mut text = Vec::new();
    write_events(&GeneratorConfig::new(42, EVENTS), &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    let parser = RecentChangeParser::new();
    let matcher = RegexToolMatcher::default();
    let mut chunks = Vec::new();
    let mut items = Vec::new();
    let mut kept = 0;
    for (i, line) in text.lines().enumerate() {
        if let Ok(ParsedEvent::Edit(edit)) = parser.parse(line) {
            let attribution = matcher.match_edit(&edit);
            if attribution.is_some() || signal_of(&edit).is_some() {
                items.push(ChunkEdit {
                    edit: *edit,
                    attribution,
                });
                kept += 1;
            }
        }
        if (i + 1) % CHUNK == 0 {
            chunks.push(Chunk {
                source: "bench".into(),
                edits: std::mem::take(&mut items),
                ..Chunk::default()
            });
        }
    }
    chunks.push(Chunk {
        source: "bench".into(),
        edits: items,
        ..Chunk::default()
    });
    (chunks, kept)
}

fn rulebook(c: &mut Criterion) {
    let (chunks, kept) = chunks();
    eprintln!(
        "{} chunks, {kept} events handed to the store of {EVENTS} read",
        chunks.len()
    );
    let mut group = c.benchmark_group("rulebook_200k_events");
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("needs", |b| {
        b.iter(|| {
            chunks
                .iter()
                .map(|chunk| Needs::of(black_box(chunk), |_, _| false).events.len())
                .sum::<usize>()
        })
    });
    group.bench_function("decide", |b| {
        b.iter(|| {
            chunks
                .iter()
                .map(|chunk| match decide(black_box(chunk), &EmptyState) {
                    Ok(decision) => decision.report.inserted,
                    Err(_) => 0,
                })
                .sum::<u64>()
        })
    });
    group.finish();
}

criterion_group!(benches, rulebook);
criterion_main!(benches);
