//! Store benchmarks: replaying a generated stream of 200,000 realistic events
//! through the pipeline into SQLite (a file), PostgreSQL and MariaDB (throughput
//! in events/s), and listing the newest 50 batches with a tag with about a
//! million edits stored.
//!
//! Run with `cargo bench -p editgroups-benches --bench store`. PostgreSQL and
//! MariaDB are the test servers of README.md ("Test databases");
//! `EDITGROUPS_BENCH_POSTGRES` and `EDITGROUPS_BENCH_MYSQL` change their URLs
//! (a database named there is created and dropped).

// As in the examples: mimalloc serves the many small strings of edits faster.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use editgroups_benches::{GeneratorConfig, write_events};
use editgroups_core::{BatchQuery, BatchStore, Pipeline};
use editgroups_sources::ReplaySource;
use editgroups_store::SqlStore;
use sea_orm::{ConnectionTrait, Database};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const REPLAY_EVENTS: u64 = 200_000;
/// Events whose ~30% attributed share gives about a million stored edits.
const LIST_EVENTS: u64 = 3_400_000;
/// Events read before each write (as the replay example does by default).
const CHUNK: usize = 10_000;

fn generate(dir: &Path, events: u64) -> PathBuf {
    let path = dir.join(format!("events-{events}.json"));
    let mut out = BufWriter::new(std::fs::File::create(&path).unwrap());
    write_events(&GeneratorConfig::new(42, events), &mut out).unwrap();
    out.flush().unwrap();
    path
}

async fn replay(store: Arc<dyn BatchStore>, input: &Path) {
    let pipeline = Pipeline::builder()
        .source(ReplaySource::from_files([input.to_path_buf()]))
        .shared_store(store)
        .chunk_size(CHUNK)
        .build()
        .unwrap();
    pipeline.run().await.unwrap();
}

/// A server database made for the benchmark and dropped after it.
struct ServerDb {
    admin: String,
    name: String,
}

impl ServerDb {
    async fn create(admin: &str, name: &str) -> (Self, String) {
        let conn = Database::connect(admin)
            .await
            .unwrap_or_else(|e| panic!("{admin} does not answer: {e}"));
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        conn.close().await.unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
        (
            Self {
                admin: admin.to_owned(),
                name: name.to_owned(),
            },
            format!("{base}/{name}"),
        )
    }

    async fn drop(self) {
        let conn = Database::connect(&self.admin).await.unwrap();
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {}", self.name))
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
}

fn postgres_admin() -> String {
    std::env::var("EDITGROUPS_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn mysql_admin() -> String {
    std::env::var("EDITGROUPS_BENCH_MYSQL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned())
}

fn replay_benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), REPLAY_EVENTS);
    let mut group = c.benchmark_group("replay_200k_events");
    group.throughput(Throughput::Elements(REPLAY_EVENTS));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    let mut run = 0u32;
    group.bench_function("sqlite_file", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                run += 1;
                let path = dir.path().join(format!("bench-{run}.db"));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                total += rt.block_on(async {
                    let sql = SqlStore::open(&url).await.unwrap();
                    let store: Arc<dyn BatchStore> = Arc::new(sql.clone());
                    let start = std::time::Instant::now();
                    replay(store, &input).await;
                    let elapsed = start.elapsed();
                    // Background checkpoints end with the store, and its files reach
                    // the disk, before the next run rather than during it.
                    sql.close().await.unwrap();
                    for file in [path.clone(), path.with_extension("db-wal")] {
                        if let Ok(file) = std::fs::File::open(file) {
                            let _ = file.sync_all();
                        }
                    }
                    elapsed
                });
            }
            total
        });
    });
    for (name, admin) in [("postgres", postgres_admin()), ("mariadb", mysql_admin())] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += rt.block_on(async {
                        let (db, url) = ServerDb::create(&admin, "egbench_replay").await;
                        let sql = SqlStore::open(&url).await.unwrap();
                        let store: Arc<dyn BatchStore> = Arc::new(sql.clone());
                        let start = std::time::Instant::now();
                        replay(store, &input).await;
                        let elapsed = start.elapsed();
                        sql.close().await.unwrap();
                        db.drop().await;
                        elapsed
                    });
                }
                total
            });
        });
    }
    group.finish();
}

fn list_benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), LIST_EVENTS);
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("list.db").display());
    let sql = rt.block_on(SqlStore::open(&url)).unwrap();
    rt.block_on(replay(Arc::new(sql.clone()), &input));
    let edits: i64 = rt.block_on(async {
        let row = sql
            .connection()
            .query_one_raw(sea_orm::Statement::from_string(
                sql.backend(),
                "SELECT COUNT(*) FROM editgroups_edits",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index(0).unwrap()
    });
    eprintln!("list benchmark: {edits} edits stored");
    let mut group = c.benchmark_group(format!("list_newest_50_by_tag_{edits}_edits"));
    for tag in ["wbsetlabel-add", "lang-eu", "delete"] {
        let query = BatchQuery::new().with_tag(tag).with_page(50, 0);
        group.bench_function(format!("sqlite_file/{tag}"), |b| {
            b.iter(|| rt.block_on(sql.list_batches(&query)).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, replay_benches, list_benches);
criterion_main!(benches);
