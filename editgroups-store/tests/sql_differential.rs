//! Differential property test: random event sequences, cut into random chunks,
//! leave every SQL store in the same state as the reference `MemoryStore`, with
//! the same report for every chunk.
//!
//! Each case uses wikis of its own, so one store per backend serves every case; the
//! whole state (every batch, its edits, tools, cursors, lag) is compared after
//! each case. `PROPTEST_CASES` changes the number of cases (default 40).
//!
//! The store's cache of its own writes is exercised too: with bounds so small
//! they are always hit, switched off, and with two stores writing in turn.

mod common;

use common::{Kind, TestDb};
use editgroups_core::testing::{EditBuilder, attributed, edit, unattributed};
use editgroups_core::{
    BatchQuery, BatchStore, Chunk, ChunkEdit, Cursor, Page, Timestamp, ToolStats,
};
use editgroups_store::{CacheLimits, MemoryStore, SqlStore};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// One generated event.
#[derive(Debug, Clone)]
enum Op {
    /// An edit (or a creation) of a page by a batch.
    Edit {
        batch: usize,
        page: usize,
        create: bool,
        at: i64,
    },
    /// An undo of the revision made by an earlier event (or of an unknown one).
    Undo {
        target: usize,
        by: Option<usize>,
        at: i64,
    },
    /// A deletion or restore of a page, attributed or not.
    Log {
        restore: bool,
        page: usize,
        by: Option<usize>,
        at: i64,
    },
    /// An earlier event delivered again.
    Again { index: usize },
}

/// (tool, uid, user): the second is a hijack attempt on the first.
const BATCHES: [(&str, &str, &str); 5] = [
    ("OR", "aaa1111", "Ann"),
    ("OR", "aaa1111", "Mallory"),
    ("QSv2", "2120", "Ann"),
    ("EG", "ca7d7cc", "Bob"),
    ("QSv2", "2121", "Bob"),
];

const COMMENTS: [&str; 4] = [
    "/* wbsetclaim-create:2||1 */ [[Property:P31]]: [[Q5]]",
    "/* wbsetlabel-add:1|fr */ chat",
    "/* wbsetsitelink-add:1|enwiki */ x",
    "plain",
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..BATCHES.len(), 0..6usize, any::<bool>(), 0..60i64)
            .prop_map(|(batch, page, create, at)| Op::Edit { batch, page, create, at }),
        2 => (0..64usize, proptest::option::of(0..BATCHES.len()), 0..60i64)
            .prop_map(|(target, by, at)| Op::Undo { target, by, at }),
        2 => (any::<bool>(), 0..6usize, proptest::option::of(0..BATCHES.len()), 0..60i64)
            .prop_map(|(restore, page, by, at)| Op::Log { restore, page, by, at }),
        1 => (0..64usize).prop_map(|index| Op::Again { index }),
    ]
}

fn case() -> impl Strategy<Value = (Vec<Op>, Vec<usize>)> {
    (
        proptest::collection::vec(op(), 1..40),
        proptest::collection::vec(1..8usize, 1..40),
    )
}

/// Builds the events of a case on wiki `w`.
fn events(w: &str, ops: &[Op]) -> Vec<ChunkEdit> {
    let mut out: Vec<ChunkEdit> = Vec::new();
    let attribute = |e: EditBuilder, by: Option<usize>, rcid: u64| match by {
        Some(b) => {
            let (tool, uid, user) = BATCHES[b];
            let mut item = attributed(e, tool, uid, user);
            if let Some(m) = item.attribution.as_mut() {
                m.summary = format!("summary {rcid}");
            }
            item
        }
        None => unattributed(e),
    };
    for (i, op) in ops.iter().enumerate() {
        let rcid = 1000 + i as u64;
        let item = match *op {
            Op::Edit {
                batch,
                page,
                create,
                at,
            } => {
                let mut e = edit(w, rcid)
                    .title(&format!("Q{page}"))
                    .at(1_000 + at)
                    .comment(COMMENTS[(rcid % 4) as usize])
                    .lengths(Some(rcid as i64 % 7), Some(rcid as i64 % 11));
                if create {
                    e = e.created();
                }
                attribute(e, Some(batch), rcid)
            }
            Op::Undo { target, by, at } => {
                let revision = out
                    .get(target % out.len().max(1))
                    .and_then(|t| t.edit.new_revision)
                    .unwrap_or(99_999);
                let e = edit(w, rcid)
                    .title("Q0")
                    .at(1_000 + at)
                    .comment(&format!("/* undo:0||{revision}|X */ why"));
                attribute(e, by, rcid)
            }
            Op::Log {
                restore,
                page,
                by,
                at,
            } => {
                let action = if restore { "restore" } else { "delete" };
                let e = edit(w, rcid)
                    .title(&format!("Q{page}"))
                    .at(1_000 + at)
                    .log("delete", action);
                attribute(e, by, rcid)
            }
            Op::Again { index } => match out.get(index % out.len().max(1)) {
                Some(earlier) => earlier.clone(),
                None => continue,
            },
        };
        out.push(item);
    }
    out
}

fn chunks(w: &str, events: Vec<ChunkEdit>, sizes: &[usize]) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut rest = events.as_slice();
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].min(rest.len());
        let (part, tail) = rest.split_at(n);
        out.push(Chunk {
            source: format!("source-{w}"),
            // Every third chunk carries no cursor: the stored one stays.
            cursor: (i % 3 != 2).then(|| Cursor::new("test", 1, i.to_string())),
            latest_event_time: part.iter().map(|e| e.edit.timestamp).max(),
            edits: part.to_vec(),
        });
        rest = tail;
        i += 1;
    }
    out
}

/// Every batch with its edits, the batches that reverted it and those it
/// reverted.
type BatchState = (
    editgroups_core::Batch,
    Vec<editgroups_core::StoredEdit>,
    Vec<editgroups_core::Batch>,
    Vec<editgroups_core::Batch>,
);

type Snapshot = (
    Vec<BatchState>,
    Vec<ToolStats>,
    Option<Cursor>,
    Option<Timestamp>,
);

async fn snapshot(store: &dyn BatchStore, w: &str) -> Snapshot {
    let mut batches = Vec::new();
    for batch in store
        .list_batches(&BatchQuery::new().with_wiki(w))
        .await
        .unwrap()
    {
        let edits = store.batch_edits(&batch.key, Page::all()).await.unwrap();
        let reverting = store.reverting_batches(&batch.key).await.unwrap();
        let reverted = store.reverted_batches(&batch.key).await.unwrap();
        batches.push((batch, edits, reverting, reverted));
    }
    (
        batches,
        store.tools().await.unwrap(),
        store.cursor(&format!("source-{w}")).await.unwrap(),
        store.latest_event_time().await.unwrap(),
    )
}

/// How the SQL side of a differential run is set up.
#[derive(Debug, Clone, Copy)]
enum Writers {
    /// One store with the default cache.
    One,
    /// One store whose cache holds next to nothing: its bounds are hit all the time.
    TinyCache,
    /// One store that caches nothing.
    NoCache,
    /// Two stores on the same database, taking chunks in turn: each finds the
    /// other's writes and must not trust its cache.
    Two,
}

async fn differential(kind: Kind, writers: Writers) {
    let db = TestDb::new(kind, "diff").await;
    let sql: Vec<SqlStore> = match writers {
        Writers::One => vec![db.open().await],
        Writers::TinyCache => vec![db.open().await.with_cache_limits(CacheLimits {
            events: 3,
            undone_revisions: 2,
            edits: 3,
            batches: 2,
            pages: 3,
        })],
        Writers::NoCache => vec![db.open().await.with_cache_limits(CacheLimits::none())],
        Writers::Two => vec![db.open().await, db.open().await],
    };
    let memory = MemoryStore::new();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let runtime = tokio::runtime::Handle::current();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let result = tokio::task::block_in_place(|| {
        runner.run(&case(), |(ops, sizes)| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let w = format!("w{n}");
            runtime.block_on(async {
                for (i, chunk) in chunks(&w, events(&w, &ops), &sizes).iter().enumerate() {
                    let expected = memory.apply(chunk.clone()).await.unwrap();
                    let got = sql[i % sql.len()].apply(chunk.clone()).await.unwrap();
                    prop_assert_eq!(got, expected, "report of a chunk of {:?}", ops);
                }
                prop_assert_eq!(snapshot(&sql[0], &w).await, snapshot(&memory, &w).await);
                Ok(())
            })
        })
    });
    for store in sql {
        store.close().await.unwrap();
    }
    db.drop_db().await;
    if let Err(e) = result {
        panic!("{kind:?} ({writers:?}): {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_equals_memory() {
    differential(Kind::SqliteFile, Writers::One).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_memory_equals_memory() {
    differential(Kind::SqliteMemory, Writers::One).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_equals_memory() {
    differential(Kind::Postgres, Writers::One).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_equals_memory() {
    differential(Kind::Mysql, Writers::One).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_with_a_tiny_cache_equals_memory() {
    differential(Kind::SqliteFile, Writers::TinyCache).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_without_cache_equals_memory() {
    differential(Kind::SqliteFile, Writers::NoCache).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sqlite_writers_equal_memory() {
    differential(Kind::SqliteFile, Writers::Two).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_writers_equal_memory() {
    differential(Kind::Postgres, Writers::Two).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_mariadb_writers_equal_memory() {
    differential(Kind::Mysql, Writers::Two).await;
}
