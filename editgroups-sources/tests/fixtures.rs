//! The expectations EditGroups states for its recorded Wikidata fixtures, through
//! replay and the pipeline, on every store: the reference `MemoryStore` and the
//! SQL store on a SQLite file.

use editgroups_core::{Batch, BatchKey, BatchQuery, BatchStore, Page, Pipeline};
use editgroups_sources::ReplaySource;
use editgroups_store::{MemoryStore, SqlStore};
use std::path::PathBuf;
use std::sync::Arc;

/// A store made for one test; a SQLite store's file goes with it.
struct TestStore {
    store: Arc<dyn BatchStore>,
    _dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for TestStore {
    type Target = Arc<dyn BatchStore>;
    fn deref(&self) -> &Self::Target {
        &self.store
    }
}

async fn memory_store() -> TestStore {
    TestStore {
        store: Arc::new(MemoryStore::new()),
        _dir: None,
    }
}

async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("store.db").display()
    );
    TestStore {
        store: Arc::new(SqlStore::open(&url).await.unwrap()),
        _dir: Some(dir),
    }
}

fn fixture(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    // EditGroups' recorded events, and stand-ins for the files it does not publish.
    let recorded = root.join("editgroups").join(name);
    if recorded.exists() {
        recorded
    } else {
        root.join("synthetic").join(name)
    }
}

async fn ingest_into(store: &TestStore, files: &[&str], chunk_size: usize) {
    let source = ReplaySource::from_files(files.iter().map(|f| fixture(f)));
    let pipeline = Pipeline::builder()
        .source(source)
        .shared_store(store.store.clone())
        .chunk_size(chunk_size)
        .build()
        .unwrap();
    pipeline.run().await.unwrap();
}

async fn batches(store: &TestStore) -> Vec<Batch> {
    store.list_batches(&BatchQuery::new()).await.unwrap()
}

async fn only_batch(store: &TestStore) -> Batch {
    let all = batches(store).await;
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap()
}

fn key(tool: &str, uid: &str) -> BatchKey {
    BatchKey::new("wikidatawiki", tool, uid)
}

/// The fixture tests, on the store `$new_store` makes.
macro_rules! fixture_tests {
    ($new_store:path) => {
        use super::*;

        async fn new_store() -> TestStore {
            $new_store().await
        }

        async fn ingest(files: &[&str]) -> TestStore {
            let store = new_store().await;
            ingest_into(&store, files, 50).await;
            store
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn one_qs_batch() {
            let store = ingest(&["one_qs_batch.json"]).await;
            let batch = only_batch(&store).await;
            assert_eq!(batch.key, key("QSv2", "2120"));
            assert_eq!(batch.user, "Pintoch");
            assert_eq!(batch.summary, "#quickstatements");
            assert_eq!(batch.started.to_rfc3339(), "2018-03-07T16:20:12+00:00");
            assert_eq!(batch.ended.to_rfc3339(), "2018-03-07T16:20:14+00:00");
            assert_eq!((batch.nb_edits, batch.nb_distinct_pages), (4, 1));
            assert_eq!(
                batch.tags,
                [
                    "wbcreateclaim-create",
                    "prop-P18",
                    "prop-P2534",
                    "prop-P3896",
                    "prop-P856"
                ]
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn one_qs_batch_in_any_chunk_size_and_twice() {
            let reference = ingest(&["one_qs_batch.json"]).await;
            for chunk_size in [1, 7, 1000, 100_000] {
                let store = new_store().await;
                ingest_into(&store, &["one_qs_batch.json"], chunk_size).await;
                assert_eq!(
                    batches(&store).await,
                    batches(&reference).await,
                    "chunk size {chunk_size}"
                );
            }
            // Another source name (two inputs), the same events again: nothing changes.
            ingest_into(&reference, &["one_qs_batch.json", "one_qs_batch.json"], 50).await;
            assert_eq!(only_batch(&reference).await.nb_edits, 4);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn qs_batch_with_new_items_also_twice() {
            let store = ingest(&[
                "qs_batch_with_new_items.json",
                "qs_batch_with_new_items.json",
            ])
            .await;
            let batch = only_batch(&store).await;
            assert_eq!(batch.key, key("QSv2", "2213"));
            assert_eq!(batch.user, "Beireke1");
            assert_eq!(
                (
                    batch.nb_edits,
                    batch.nb_new_pages,
                    batch.nb_distinct_pages,
                    batch.nb_reverted_edits
                ),
                (82, 9, 9, 0)
            );
            assert_eq!(
                batch.nb_distinct_pages - batch.nb_new_pages,
                0,
                "no existing page"
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn qs_batch_with_terms() {
            let store = ingest(&["qs_batch_with_terms.json"]).await;
            let batch = only_batch(&store).await;
            assert_eq!(batch.key, key("QSv2", "4578"));
            assert_eq!(batch.tags, ["wbsetdescription-add", "lang-eu"]);
            let lowest = batch
                .tags
                .last()
                .map(|t| editgroups_core::tags::tag_info(t));
            assert_eq!(lowest.map(|t| t.display_name), Some("eu".to_owned()));
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn new_items_deleted() {
            let store = ingest(&["new_items_deleted.json"]).await;
            let batch = only_batch(&store).await;
            assert_eq!(
                (
                    batch.nb_new_pages,
                    batch.nb_reverted_edits,
                    batch.nb_distinct_pages
                ),
                (1, 1, 1)
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn deletion_edit() {
            let store = ingest(&["deletion_edit.json"]).await;
            let batch = only_batch(&store).await;
            assert_eq!(batch.key, key("EG", "ca7d7cc"));
            assert_eq!((batch.nb_new_pages, batch.nb_reverted_edits), (0, 0));
            assert_eq!(batch.tags, ["delete"]);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn deletion_restore() {
            let store = ingest(&["deletion_restore.json"]).await;
            assert_eq!(batches(&store).await.len(), 2);
            let delete = store.batch(&key("EG", "be3a1d9")).await.unwrap().unwrap();
            let restore = store.batch(&key("EG", "ca7d7cc")).await.unwrap().unwrap();
            assert_eq!(delete.nb_reverted_edits, 1);
            assert_eq!(restore.nb_reverted_edits, 0);
            let edits = store.batch_edits(&restore.key, Page::all()).await.unwrap();
            assert_eq!(edits.len(), 1);
            assert!(
                !edits[0].reverted && edits[0].edit.change_type.creates_page(),
                "an undeleted page remains"
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn new_deletion_restore_deletion() {
            let store = ingest(&["new_deletion_restore_deletion.json"]).await;
            let all = batches(&store).await;
            assert_eq!(all.len(), 4);
            assert_eq!(
                store
                    .batch(&key("QSv2", "2213"))
                    .await
                    .unwrap()
                    .unwrap()
                    .nb_reverted_edits,
                1
            );
            assert_eq!(
                store
                    .batch(&key("EG", "ca7d7cc"))
                    .await
                    .unwrap()
                    .unwrap()
                    .nb_reverted_edits,
                1
            );
            let mut unreverted = 0;
            for batch in &all {
                for stored in store.batch_edits(&batch.key, Page::all()).await.unwrap() {
                    unreverted += u32::from(!stored.reverted);
                }
            }
            assert_eq!(unreverted, 1);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn eg_revert() {
            let store = ingest(&["eg_revert.json"]).await;
            let batch = only_batch(&store).await;
            assert_eq!(batch.key, key("EG", "d6f5146"));
            assert_eq!(batch.summary, "this was just dumb");
            assert_eq!((batch.nb_reverted_edits, batch.nb_new_pages), (0, 0));
            assert_eq!(batch.tags, ["undo"]);
            assert_eq!(batch.total_diffsize, -1443);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn wrong_namespace() {
            let store = ingest(&["wrong_namespace.json"]).await;
            assert!(batches(&store).await.is_empty());
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn every_fixture_at_once_equals_each_alone() {
            let all = [
                "one_qs_batch.json",
                "qs_batch_with_new_items.json",
                "qs_batch_with_terms.json",
                "eg_revert.json",
                "wrong_namespace.json",
            ];
            let together = ingest(&all).await;
            let mut separate = Vec::new();
            for file in all {
                separate.extend(batches(&ingest(&[file]).await).await);
            }
            let mut together = batches(&together).await;
            together.sort_by(|a, b| a.key.cmp(&b.key));
            separate.sort_by(|a, b| a.key.cmp(&b.key));
            assert_eq!(together, separate);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_deletion_in_another_file_reverts_the_creation_it_deletes() {
            // deletion_edit.json deletes Q50570219, created by QuickStatements batch 2213.
            for order in [
                ["qs_batch_with_new_items.json", "deletion_edit.json"],
                ["deletion_edit.json", "qs_batch_with_new_items.json"],
            ] {
                let store = ingest(&order).await;
                let batch = store.batch(&key("QSv2", "2213")).await.unwrap().unwrap();
                assert_eq!(batch.nb_reverted_edits, 1, "{order:?}");
                let reverted: Vec<_> = store
                    .batch_edits(&batch.key, Page::all())
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|e| e.reverted)
                    .map(|e| (e.edit.title, e.edit.change_type.kind().to_owned()))
                    .collect();
                assert_eq!(reverted, [("Q50570219".to_owned(), "new".to_owned())]);
            }
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn one_or_batch() {
            let store = ingest(&["one_or_batch.json"]).await;
            let batch = only_batch(&store).await;
            assert_eq!(batch.key, key("OR", "ca7d7cc"));
            assert_eq!(batch.user, "Pintoch");
            assert_eq!(batch.summary, "import Charity Navigator");
            assert_eq!(batch.started.to_rfc3339(), "2018-03-06T16:39:37+00:00");
            assert_eq!(batch.ended.to_rfc3339(), "2018-03-06T16:41:10+00:00");
            assert_eq!(batch.duration_seconds(), 93);
            assert_eq!(
                (
                    batch.nb_edits,
                    batch.nb_distinct_pages,
                    batch.nb_new_pages,
                    batch.nb_reverted_edits
                ),
                (51, 51, 0, 0)
            );
            assert_eq!(batch.total_diffsize, 130901);
            let average = batch.total_diffsize / batch.nb_edits as i64;
            assert!((2500..3000).contains(&average), "{average}");
            assert_eq!(batch.tags, ["wbeditentity-update"]);
            let edits = store
                .batch_edits(&batch.key, Page::new(11, 0))
                .await
                .unwrap();
            assert_eq!(edits.len(), 11);
            assert!(
                edits
                    .windows(2)
                    .all(|w| w[0].edit.position() > w[1].edit.position()),
                "newest first"
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn one_or_batch_twice() {
            let store = ingest(&["one_or_batch.json", "one_or_batch.json"]).await;
            let batch = only_batch(&store).await;
            assert_eq!(
                (
                    batch.nb_edits,
                    batch.nb_distinct_pages,
                    batch.total_diffsize
                ),
                (51, 51, 130901)
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn hijack() {
            let store = new_store().await;
            ingest_into(&store, &["one_or_batch.json"], 50).await;
            let source = ReplaySource::from_files([fixture("hijack.json")]);
            let pipeline = Pipeline::builder()
                .source(source)
                .shared_store(store.store.clone())
                .build()
                .unwrap();
            let summary = pipeline.run().await.unwrap();
            assert_eq!(
                (summary.attributed, summary.hijacked, summary.inserted),
                (1, 1, 0)
            );
            let batch = only_batch(&store).await;
            assert_eq!((batch.user.as_str(), batch.nb_edits), ("Pintoch", 51));
        }
    };
}

mod memory {
    fixture_tests!(super::memory_store);
}

mod sqlite {
    fixture_tests!(super::sqlite_store);
}
