//! The recent-changes poller: rows mapped per second from recorded API pages, and
//! catch-up speed (rows per second) against a loopback fake api.php serving many
//! pages.

#[path = "../../editgroups-sources/tests/support/fake_api.rs"]
#[allow(dead_code, unreachable_pub)]
mod fake_api;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use editgroups_core::EditSource;
use editgroups_sources::recentchanges::{RecentChangesSource, map_page};
use fake_api::{FakeApi, Row};
use futures::StreamExt;
use serde_json::Value;
use std::hint::black_box;
use std::time::Duration;

const RECORDED: &str = include_str!("../../editgroups-sources/tests/data/rc-all-anon.json");

/// A full page (500 rows, `rclimit=max` for anonymous callers) of recorded rows,
/// with distinct rc ids.
fn recorded_page() -> (Vec<u8>, usize) {
    let mut page: Value = serde_json::from_str(RECORDED).unwrap();
    let rows = page["query"]["recentchanges"].as_array().unwrap().clone();
    let mut out = Vec::new();
    for i in 0..500 {
        let mut row = rows[i % rows.len()].clone();
        row["rcid"] = Value::from(1000 + i as u64);
        out.push(row);
    }
    let n = out.len();
    page["query"]["recentchanges"] = Value::Array(out);
    (serde_json::to_vec(&page).unwrap(), n)
}

fn mapping(c: &mut Criterion) {
    let (page, rows) = recorded_page();
    let mut group = c.benchmark_group("recentchanges");
    group.throughput(Throughput::Elements(rows as u64));
    group.bench_function("map_recorded_page", |b| {
        b.iter(|| {
            let edits = map_page(black_box(&page), "wikidatawiki").unwrap();
            assert_eq!(edits.len(), rows);
            edits
        })
    });
    group.finish();
}

const CATCH_UP_ROWS: u64 = 20_000;

fn catch_up(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let start = DateTime::<Utc>::from_timestamp(Utc::now().timestamp() - 3600, 0).unwrap();
    let fake = runtime.block_on(async {
        let fake = FakeApi::start().await;
        fake.add_rows((0..CATCH_UP_ROWS).map(|i| {
            Row::edit(
                i + 1,
                start + TimeDelta::seconds((i / 20) as i64),
                &format!("Q{i}"),
                "#quickstatements; [[:toollabs:quickstatements/#/batch/7|batch #7]] by [[User:Pintoch|]]",
            )
        }));
        fake
    });
    let mut group = c.benchmark_group("recentchanges");
    group.throughput(Throughput::Elements(CATCH_UP_ROWS));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("catch_up_500_row_pages_loopback", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut source = RecentChangesSource::builder(fake.url())
                .user_agent("editgroups-bench/0 (bench)")
                .wiki("fakewiki")
                .since(start)
                .once(true)
                .build()
                .unwrap();
            let mut stream = source.stream(None);
            let mut n = 0u64;
            while let Some(item) = stream.next().await {
                item.unwrap();
                n += 1;
            }
            assert_eq!(n, CATCH_UP_ROWS);
        })
    });
    group.finish();
}

criterion_group!(benches, mapping, catch_up);
criterion_main!(benches);
