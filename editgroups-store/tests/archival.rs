//! Archival on the SQL backends beyond the conformance suite: a transaction that
//! fails half-way leaves its batch untouched (an injected trigger error), and
//! another store on the same database notices archival and inspection (its
//! cache of its own commits is dropped).
//!
//! Run with `cargo test -p editgroups-store --all-features --test archival`
//! (PostgreSQL and MariaDB must answer; see README.md, "Test databases").

mod common;

use common::{Kind, TestDb};
use editgroups_core::maintenance::{
    ArchivalPolicy, Archived, Inspection, InspectionMark, MaintenanceStore, archive_all,
};
use editgroups_core::testing::{attributed, chunk, edit, unattributed};
use editgroups_core::{BatchKey, BatchStore, ChunkEdit, Page};
use editgroups_store::SqlStore;
use sea_orm::ConnectionTrait;

fn policy() -> ArchivalPolicy {
    ArchivalPolicy {
        ended_before: chrono::DateTime::from_timestamp(1_900_000_000, 0).unwrap(),
        keep: 10,
    }
}

/// Batches `uids`, 15 edits each, rc ids from 1.
fn batches(uids: &[&str]) -> Vec<ChunkEdit> {
    let mut events = Vec::new();
    let mut rcid = 0;
    for uid in uids {
        for _ in 0..15 {
            rcid += 1;
            events.push(attributed(edit("w", rcid), "OR", uid, "Ann"));
        }
    }
    events
}

async fn count(store: &SqlStore, sql: &str) -> i64 {
    let row = store
        .connection()
        .query_one_raw(sea_orm::Statement::from_string(store.backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn fail_deletes_of(store: &SqlStore, kind: Kind, batch_id: i64) {
    let statements: Vec<String> = match kind {
        Kind::SqliteFile | Kind::SqliteMemory => vec![format!(
            "CREATE TRIGGER fail_b BEFORE DELETE ON editgroups_edits WHEN OLD.batch_id = {batch_id} \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )],
        Kind::Postgres => vec![
            format!(
                "CREATE FUNCTION fail_b() RETURNS trigger AS $$ BEGIN IF OLD.batch_id = {batch_id} \
                 THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN OLD; END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER fail_b BEFORE DELETE ON editgroups_edits FOR EACH ROW EXECUTE FUNCTION fail_b()"
                .to_owned(),
        ],
        Kind::Mysql => vec![format!(
            "CREATE TRIGGER fail_b BEFORE DELETE ON editgroups_edits FOR EACH ROW BEGIN \
             IF OLD.batch_id = {batch_id} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'; \
             END IF; END"
        )],
    };
    for sql in statements {
        store.connection().execute_unprepared(&sql).await.unwrap();
    }
}

async fn failed_transaction_leaves_the_batch_untouched(kind: Kind) {
    let db = TestDb::new(kind, "archfail").await;
    let store = db.open().await;
    store
        .apply(chunk("s", "1", batches(&["a", "b", "c"])))
        .await
        .unwrap();
    let key = |uid: &str| BatchKey::new("w", "OR", uid);
    let before = store.batch(&key("b")).await.unwrap().unwrap();
    let b_id = count(&store, "SELECT id FROM editgroups_batches WHERE uid = 'b'").await;
    let seen_before = count(&store, "SELECT COUNT(*) FROM editgroups_other_events").await;
    fail_deletes_of(&store, kind, b_id).await;

    let err = archive_all(&store, &policy(), |_| {}, || false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");
    assert_eq!(
        store.batch(&key("b")).await.unwrap().unwrap(),
        before,
        "b untouched"
    );
    assert_eq!(
        store
            .batch_edits(&key("b"), Page::all())
            .await
            .unwrap()
            .len(),
        15
    );
    // a and c come before or after b in the scan: each is archived or untouched.
    let mut archived = 0;
    for uid in ["a", "c"] {
        let batch = store.batch(&key(uid)).await.unwrap().unwrap();
        let kept = store
            .batch_edits(&key(uid), Page::all())
            .await
            .unwrap()
            .len();
        assert_eq!(kept, if batch.archived { 10 } else { 15 }, "{uid}");
        archived += i64::from(batch.archived);
    }
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM editgroups_other_events").await,
        seen_before + 5 * archived,
        "b's removed edits are not kept as seen: its transaction was rolled back"
    );
    // The store still works after the failure, and a later run finishes.
    store
        .apply(chunk(
            "s",
            "2",
            vec![attributed(edit("w", 100), "OR", "b", "Ann")],
        ))
        .await
        .unwrap();
    let sql = match kind {
        Kind::Postgres => "DROP TRIGGER fail_b ON editgroups_edits",
        _ => "DROP TRIGGER fail_b",
    };
    store.connection().execute_unprepared(sql).await.unwrap();
    let report = archive_all(&store, &policy(), |_| {}, || false)
        .await
        .unwrap();
    let archived = u64::try_from(archived).unwrap();
    assert_eq!(report.batches_archived, 3 - archived);
    assert_eq!(report.edits_removed, 6 + 5 * (2 - archived));
    for uid in ["a", "b", "c"] {
        let edits = store.batch_edits(&key(uid), Page::all()).await.unwrap();
        assert_eq!(edits.len(), 10, "{uid}");
    }
    assert_eq!(store.batch(&key("b")).await.unwrap().unwrap().nb_edits, 16);
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_failed_archival_leaves_the_batch_untouched() {
    failed_transaction_leaves_the_batch_untouched(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_failed_archival_leaves_the_batch_untouched() {
    failed_transaction_leaves_the_batch_untouched(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_failed_archival_leaves_the_batch_untouched() {
    failed_transaction_leaves_the_batch_untouched(Kind::Mysql).await;
}

/// A store that applied chunks (and remembers them) sees what another store on
/// the same database archived and tagged.
async fn another_writer_is_noticed(kind: Kind) {
    let db = TestDb::new(kind, "archcache").await;
    let ingest = db.open().await;
    let maintain = db.open().await;
    let events = batches(&["x"]);
    ingest.apply(chunk("s", "1", events.clone())).await.unwrap();
    let key = BatchKey::new("w", "OR", "x");
    assert!(matches!(
        maintain.archive_batch(&key, &policy()).await.unwrap(),
        Archived::Done { removed: 5 }
    ));
    maintain
        .record_inspection(
            &key,
            &Inspection {
                mark: InspectionMark {
                    at: chrono::Utc::now(),
                    nb_edits: 15,
                    through: 15,
                },
                tags: vec!["lang-fr".to_owned()],
            },
        )
        .await
        .unwrap();
    // rc id 1 was removed: its undo is not counted, its re-delivery is seen;
    // the tag is there already.
    let undo = unattributed(edit("w", 500).comment("/* undo:0||11|Ann */"));
    let mut label = attributed(edit("w", 501), "OR", "x", "Ann");
    label.edit.comment = Some("/* wbsetlabel-add:1|fr */ y".to_owned());
    let report = ingest
        .apply(chunk("s", "2", vec![events[0].clone(), undo, label]))
        .await
        .unwrap();
    assert_eq!(
        (report.duplicates, report.reverted, report.inserted),
        (1, 0, 1),
        "{report:?}"
    );
    let batch = ingest.batch(&key).await.unwrap().unwrap();
    assert_eq!((batch.nb_edits, batch.nb_reverted_edits), (16, 0));
    assert!(batch.archived);
    assert_eq!(batch.tags, ["wbsetlabel-add", "lang-fr"]);
    ingest.close().await.unwrap();
    maintain.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_writers_notice_archival() {
    another_writer_is_noticed(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_writers_notice_archival() {
    another_writer_is_noticed(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_writers_notice_archival() {
    another_writer_is_noticed(Kind::Mysql).await;
}
