//! Tool-matcher throughput on a real comment mix: every comment of the recorded
//! Wikidata fixtures (most match no tool, as in a real stream).
//!
//! Run with `cargo bench -p editgroups-benches --bench matcher`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use editgroups_core::recentchange::{ParsedEvent, RecentChangeParser};
use editgroups_core::{Edit, RegexToolMatcher, ToolMatcher};
use std::hint::black_box;

fn fixture_edits() -> Vec<Edit> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/editgroups");
    let parser = RecentChangeParser::new();
    let mut edits = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for line in text.lines() {
            if let Ok(ParsedEvent::Edit(edit)) = parser.parse(line) {
                edits.push(*edit);
            }
        }
    }
    edits
}

fn matcher(c: &mut Criterion) {
    let edits = fixture_edits();
    let matched = {
        let m = RegexToolMatcher::default();
        edits.iter().filter(|e| m.match_edit(e).is_some()).count()
    };
    eprintln!("{} comments, {} matched", edits.len(), matched);
    let matcher = RegexToolMatcher::default();
    let mut group = c.benchmark_group("matcher");
    group.throughput(Throughput::Elements(edits.len() as u64));
    group.bench_function("fixture_comments", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for edit in &edits {
                hits += usize::from(matcher.match_edit(black_box(edit)).is_some());
            }
            hits
        })
    });
    let attributed: Vec<Edit> = edits
        .iter()
        .filter(|e| matcher.match_edit(e).is_some())
        .cloned()
        .collect();
    group.throughput(Throughput::Elements(attributed.len() as u64));
    group.bench_function("matching_comments_only", |b| {
        b.iter(|| {
            attributed
                .iter()
                .filter_map(|e| matcher.match_edit(black_box(e)))
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, matcher);
criterion_main!(benches);
