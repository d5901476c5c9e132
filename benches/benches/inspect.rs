//! Tag inspection: recorded Wikidata diffs parsed per second, and whole
//! inspection rounds (store candidates, diffs fetched through the shared
//! `MediaWikiClient` from a loopback fake api.php without pacing, tags recorded)
//! in diffs per second.
//!
//! Run with `cargo bench -p editgroups-benches --bench inspect`.

#[path = "../../editgroups-sources/tests/support/fake_wikibase.rs"]
#[allow(dead_code, unreachable_pub)]
mod fake_wikibase;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use editgroups_core::testing::{attributed, chunk, edit};
use editgroups_core::{BatchStore, ChunkEdit};
use editgroups_sources::inspect::{Inspector, InspectorConfig, read_diff};
use editgroups_sources::mediawiki::MediaWikiClient;
use editgroups_store::MemoryStore;
use fake_wikibase::{Diff, FakeWikibase};
use std::hint::black_box;
use std::time::Duration;

const FILES: [&str; 6] = [
    "death.html",
    "delete_statements.html",
    "descriptions.html",
    "head_coach.html",
    "patronage.html",
    "sitelink.html",
];

fn recorded() -> Vec<String> {
    FILES
        .iter()
        .map(|f| {
            std::fs::read_to_string(format!(
                "{}/../fixtures/editgroups-tagging/{f}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        })
        .collect()
}

fn parsing(c: &mut Criterion) {
    let diffs = recorded();
    let mut group = c.benchmark_group("inspect");
    group.throughput(Throughput::Elements(diffs.len() as u64));
    group.bench_function("read_recorded_diffs", |b| {
        b.iter(|| {
            for html in &diffs {
                black_box(read_diff(black_box(html)));
            }
        })
    });
    group.finish();
}

/// Batches of 10 opaque edits each.
const BATCHES: u64 = 20;

fn rounds(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let diffs = recorded();
    let fake = runtime.block_on(async {
        let fake = FakeWikibase::start().await;
        for n in 0..BATCHES * 10 {
            let html = &diffs[n as usize % diffs.len()];
            fake.add_diff(n * 10 + 10, n * 10 + 11, Diff::Html(html.clone()));
        }
        fake
    });
    let client = MediaWikiClient::builder(fake.url())
        .user_agent("editgroups-bench/0 (inspect)")
        .build()
        .unwrap();
    let mut config = InspectorConfig::new("wikidatawiki");
    config.pace = Duration::ZERO;
    let inspector = Inspector::new(client, config);
    let edits: Vec<ChunkEdit> = (0..BATCHES * 10)
        .map(|n| {
            attributed(
                edit("wikidatawiki", n + 1)
                    .revisions(Some(n * 10 + 10), Some(n * 10 + 11))
                    .comment("/* wbeditentity-update:0| */ x"),
                "OR",
                &format!("b{}", n / 10),
                "Pintoch",
            )
        })
        .collect();
    let mut group = c.benchmark_group("inspect");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCHES * 10));
    group.bench_function("round_against_loopback_fake", |b| {
        b.iter_batched(
            || {
                let store = MemoryStore::new();
                runtime
                    .block_on(store.apply(chunk("s", "1", edits.clone())))
                    .unwrap();
                store
            },
            |store| {
                let report = runtime
                    .block_on(inspector.run_once(&store, |_| {}, || false))
                    .unwrap();
                assert_eq!(report.diffs_read, BATCHES * 10);
                report
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, parsing, rounds);
criterion_main!(benches);
