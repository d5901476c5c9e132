//! The `BatchStore` conformance suite on every SQL backend, plus what is specific
//! to SQL stores: the schema version check, reopening, URLs.
//!
//! Run with `cargo test -p editgroups-store --all-features --test sql_conformance`
//! (PostgreSQL and MariaDB must answer; see README.md, "Test databases").

mod common;

use common::{Kind, TestDb};
use editgroups_core::testing::{attributed, chunk, edit, unattributed};
use editgroups_core::{BatchKey, BatchStore, RevertTaskStore, StoreError};
use editgroups_store::{SqlStore, open_store};
use sea_orm::ConnectionTrait;

async fn conformance(kind: Kind) {
    let db = TestDb::new(kind, "suite").await;
    let store = db.open().await;
    editgroups_core::testing::store::run_all(&store).await;
    store.close().await.unwrap();
    db.drop_db().await;
}

/// The revert-task suite, on a store the batch suite has filled.
async fn task_conformance(kind: Kind) {
    let db = TestDb::new(kind, "tasks").await;
    let store = db.open().await;
    editgroups_core::testing::tasks::run_all(&store).await;
    editgroups_core::testing::store::run_all(&store).await;
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_file_passes_the_task_suite() {
    task_conformance(Kind::SqliteFile).await;
}

#[tokio::test]
async fn sqlite_memory_passes_the_task_suite() {
    task_conformance(Kind::SqliteMemory).await;
}

#[tokio::test]
async fn postgres_passes_the_task_suite() {
    task_conformance(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_passes_the_task_suite() {
    task_conformance(Kind::Mysql).await;
}

/// A database written before revert tasks existed (schema version 1) gains
/// their tables when opened, and keeps its batches.
async fn old_databases_gain_the_task_tables(kind: Kind) {
    let db = TestDb::new(kind, "m0003").await;
    let store = db.open().await;
    store
        .apply(chunk(
            "s",
            "1",
            vec![attributed(edit("w", 1), "OR", "abc", "Ann")],
        ))
        .await
        .unwrap();
    // Back to version 1: no task tables, no record of their migration.
    for sql in [
        "DROP TABLE editgroups_revert_actions",
        "DROP TABLE editgroups_revert_tasks",
        "DELETE FROM editgroups_migrations WHERE version = 'm0003_revert_tasks'",
        "UPDATE editgroups_meta SET value = 1 WHERE name = 'schema_version'",
    ] {
        store.connection().execute_unprepared(sql).await.unwrap();
    }
    store.close().await.unwrap();
    let store = db.open().await;
    let key = BatchKey::new("w", "OR", "abc");
    let edits = store
        .batch_edits(&key, editgroups_core::Page::all())
        .await
        .unwrap();
    let plan = editgroups_core::UndoPlan::new(key.clone(), &edits);
    let task = store
        .create_revert_task(&editgroups_core::NewRevertTask {
            batch: key,
            user: "Ann".into(),
            comment: "after the upgrade".into(),
            actions: plan.actions,
        })
        .await
        .unwrap();
    assert_eq!(task.counts.pending, 1);
    let version = store
        .connection()
        .query_one_raw(sea_orm::Statement::from_string(
            store.backend(),
            "SELECT value FROM editgroups_meta WHERE name = 'schema_version'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    // The later migrations stayed recorded as applied: only m0003 ran again,
    // raising the version to its own.
    assert_eq!(version, 3);
    store.close().await.unwrap();
    db.drop_db().await;
}

/// A database written before edits were counted by minute (schema version 7)
/// gains the counts of its stored edits when opened: a timeline in whole
/// minutes counts them, reverted ones too.
async fn old_databases_gain_the_minute_counts(kind: Kind) {
    let db = TestDb::new(kind, "m0008").await;
    let store = db.open().await;
    let w = "w";
    let mut edits: Vec<_> = [(1, 6_000), (2, 6_070), (3, 6_130), (4, 9_000)]
        .map(|(rcid, at)| attributed(edit(w, rcid).at(at), "OR", "abc", "Ann"))
        .to_vec();
    edits.push(unattributed(
        edit(w, 9).at(9_100).comment("/* undo:0||21|Ann */"),
    ));
    store.apply(chunk("s", "1", edits)).await.unwrap();
    for sql in [
        "DROP TABLE editgroups_batch_minutes",
        "DELETE FROM editgroups_migrations WHERE version = 'm0008_batch_minutes'",
        "UPDATE editgroups_meta SET value = 7 WHERE name = 'schema_version'",
    ] {
        store.connection().execute_unprepared(sql).await.unwrap();
    }
    store.close().await.unwrap();
    let store = db.open().await;
    let key = BatchKey::new(w, "OR", "abc");
    let start = chrono::DateTime::from_timestamp(6_000, 0).unwrap();
    let timeline = store
        .edit_timeline(&key, start, 60_000_000, 4)
        .await
        .unwrap();
    let b = |edits, reverted| editgroups_core::TimelineBucket { edits, reverted };
    assert_eq!(timeline, [b(1, 0), b(1, 1), b(1, 0), b(1, 0)]);
    assert_eq!(
        store
            .connection()
            .query_one_raw(sea_orm::Statement::from_string(
                store.backend(),
                "SELECT value FROM editgroups_meta WHERE name = 'schema_version'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap(),
        8
    );
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_databases_gain_the_minute_counts() {
    old_databases_gain_the_minute_counts(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_databases_gain_the_minute_counts() {
    old_databases_gain_the_minute_counts(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_databases_gain_the_minute_counts() {
    old_databases_gain_the_minute_counts(Kind::Mysql).await;
}

/// The names of the indexes of the edits table.
async fn edit_indexes(store: &SqlStore) -> Vec<String> {
    let sql = match store.backend() {
        sea_orm::DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'editgroups_edits'"
        }
        sea_orm::DbBackend::Postgres => {
            "SELECT indexname FROM pg_indexes WHERE tablename = 'editgroups_edits'"
        }
        _ => {
            "SELECT DISTINCT index_name FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = 'editgroups_edits'"
        }
    };
    let rows = store
        .connection()
        .query_all_raw(sea_orm::Statement::from_string(store.backend(), sql))
        .await
        .unwrap();
    let mut names: Vec<String> = rows
        .iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect();
    names.sort();
    names
}

/// A database of schema 8 (the `(wiki, title)` index holds every edit) gets
/// the partial index of page events when opened (SQLite and PostgreSQL; MySQL
/// keeps the whole index), and a deletion read by a new store (nothing
/// remembered) still finds the creation it reverts through it.
async fn old_databases_get_the_page_event_index(kind: Kind) {
    let db = TestDb::new(kind, "m0009").await;
    let store = db.open().await;
    let w = "w";
    let key = BatchKey::new(w, "OR", "abc");
    let edits = vec![
        attributed(
            edit(w, 1).at(6_000).title("Q1").created(),
            "OR",
            "abc",
            "Ann",
        ),
        attributed(edit(w, 2).at(6_010).title("Q2"), "OR", "abc", "Ann"),
    ];
    store.apply(chunk("s", "1", edits)).await.unwrap();
    let partial = "ix_editgroups_edits_page_events";
    let whole = "ix_editgroups_edits_title";
    let mysql = store.backend() == sea_orm::DbBackend::MySql;
    let mut downgrade = vec![
        "DELETE FROM editgroups_migrations WHERE version = 'm0009_page_event_index'",
        "UPDATE editgroups_meta SET value = 8 WHERE name = 'schema_version'",
    ];
    if mysql {
        assert!(edit_indexes(&store).await.contains(&whole.to_owned()));
    } else {
        assert!(edit_indexes(&store).await.contains(&partial.to_owned()));
        downgrade.push("DROP INDEX ix_editgroups_edits_page_events");
        downgrade.push("CREATE INDEX ix_editgroups_edits_title ON editgroups_edits (wiki, title)");
    }
    for sql in downgrade {
        store.connection().execute_unprepared(sql).await.unwrap();
    }
    store.close().await.unwrap();

    let store = db.open().await;
    let indexes = edit_indexes(&store).await;
    assert_eq!(indexes.contains(&whole.to_owned()), mysql, "{indexes:?}");
    assert_eq!(indexes.contains(&partial.to_owned()), !mysql, "{indexes:?}");
    let deletion = unattributed(edit(w, 9).at(7_000).title("Q1").log("delete", "delete"));
    store.apply(chunk("s", "2", vec![deletion])).await.unwrap();
    let batch = store.batch(&key).await.unwrap().unwrap();
    assert_eq!(batch.nb_reverted_edits, 1);
    let mut reverted: Vec<(u64, bool)> = store
        .batch_edits(&key, editgroups_core::Page::all())
        .await
        .unwrap()
        .iter()
        .map(|e| (e.edit.rcid, e.reverted))
        .collect();
    reverted.sort();
    assert_eq!(reverted, [(1, true), (2, false)]);
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_databases_get_the_page_event_index() {
    old_databases_get_the_page_event_index(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_databases_get_the_page_event_index() {
    old_databases_get_the_page_event_index(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_databases_get_the_page_event_index() {
    old_databases_get_the_page_event_index(Kind::Mysql).await;
}

/// A chunk with many pages of a batch stored before, read by a new store (which
/// remembers none of them): every page is looked up in one go (on PostgreSQL a
/// list of 20,000 (batch, title) pairs written out failed with "stack depth
/// limit exceeded", on every retry).
async fn many_pages_of_a_stored_batch(kind: Kind) {
    let db = TestDb::new(kind, "many_pages").await;
    let store = db.open().await;
    let w = "w";
    let key = BatchKey::new(w, "OR", "big");
    let first = (0..10_000u64)
        .map(|i| {
            let e = edit(w, i + 1).at(6_000).title(&format!("Q{i}"));
            attributed(e, "OR", "big", "Ann")
        })
        .collect();
    store.apply(chunk("s", "1", first)).await.unwrap();
    store.close().await.unwrap();

    let store = db.open().await;
    // Half of the pages are the batch's already, half are new to it.
    let second = (0..20_000u64)
        .map(|i| {
            let e = edit(w, 100_000 + i)
                .at(7_000)
                .title(&format!("Q{}", i + 5_000));
            attributed(e, "OR", "big", "Ann")
        })
        .collect();
    store.apply(chunk("s", "2", second)).await.unwrap();
    let batch = store.batch(&key).await.unwrap().unwrap();
    assert_eq!(batch.nb_edits, 30_000);
    assert_eq!(batch.nb_distinct_pages, 25_000);
    store.close().await.unwrap();
    db.drop_db().await;
}

/// The same with 25,000 long titles (255 characters of three bytes): on
/// MariaDB one list of them was larger than the server's `max_allowed_packet`.
async fn long_titles_of_a_stored_batch(kind: Kind) {
    let db = TestDb::new(kind, "long_titles").await;
    let store = db.open().await;
    let w = "w";
    let first = vec![attributed(
        edit(w, 1).at(6_000).title("Q1"),
        "OR",
        "big",
        "Ann",
    )];
    store.apply(chunk("s", "1", first)).await.unwrap();
    store.close().await.unwrap();
    let store = db.open().await;
    let stem = "漢".repeat(249);
    let second = (0..25_000u64)
        .map(|i| {
            let e = edit(w, 10 + i).at(7_000).title(&format!("{stem}{i:06}"));
            attributed(e, "OR", "big", "Ann")
        })
        .collect();
    store.apply(chunk("s", "2", second)).await.unwrap();
    let batch = store
        .batch(&BatchKey::new(w, "OR", "big"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(batch.nb_distinct_pages, 25_001);
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_reads_long_titles_of_a_stored_batch() {
    long_titles_of_a_stored_batch(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_reads_long_titles_of_a_stored_batch() {
    long_titles_of_a_stored_batch(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_reads_long_titles_of_a_stored_batch() {
    long_titles_of_a_stored_batch(Kind::Mysql).await;
}

#[tokio::test]
async fn sqlite_reads_many_pages_of_a_stored_batch() {
    many_pages_of_a_stored_batch(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_reads_many_pages_of_a_stored_batch() {
    many_pages_of_a_stored_batch(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_reads_many_pages_of_a_stored_batch() {
    many_pages_of_a_stored_batch(Kind::Mysql).await;
}

/// A chunk of edits with long summaries (MediaWiki keeps 1,000 characters of a
/// summary; its HTML, here 400 links, 17 KB, is several times longer) is stored
/// whole: on MariaDB a statement of a thousand such edits was larger than the
/// server's `max_allowed_packet` (16 MiB) and failed its chunk on every retry.
async fn edits_with_long_summaries(kind: Kind) {
    let db = TestDb::new(kind, "long_texts").await;
    let store = db.open().await;
    let w = "w";
    let summary: String = "é".repeat(1_000);
    let html = "<a href=\"/wiki/Q1\" title=\"Q1\">Q1</a> ".repeat(400);
    let edits = (0..4_000u64)
        .map(|i| {
            let e = edit(w, i + 1)
                .at(6_000)
                .title(&format!("Q{i}"))
                .comment(&summary)
                .parsedcomment(&html);
            attributed(e, "OR", "long", "Ann")
        })
        .collect();
    store.apply(chunk("s", "1", edits)).await.unwrap();
    let key = BatchKey::new(w, "OR", "long");
    let stored = store
        .batch_edits(&key, editgroups_core::Page::all())
        .await
        .unwrap();
    assert_eq!(stored.len(), 4_000);
    assert!(
        stored
            .iter()
            .all(|e| e.edit.comment.as_deref() == Some(summary.as_str())
                && e.edit.parsedcomment.as_deref() == Some(html.as_str()))
    );
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_stores_edits_with_long_summaries() {
    edits_with_long_summaries(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_stores_edits_with_long_summaries() {
    edits_with_long_summaries(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_stores_edits_with_long_summaries() {
    edits_with_long_summaries(Kind::Mysql).await;
}

#[tokio::test]
async fn sqlite_databases_gain_the_task_tables() {
    old_databases_gain_the_task_tables(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_databases_gain_the_task_tables() {
    old_databases_gain_the_task_tables(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_databases_gain_the_task_tables() {
    old_databases_gain_the_task_tables(Kind::Mysql).await;
}

#[tokio::test]
async fn sqlite_file_passes_the_conformance_suite() {
    conformance(Kind::SqliteFile).await;
}

#[tokio::test]
async fn sqlite_memory_passes_the_conformance_suite() {
    conformance(Kind::SqliteMemory).await;
}

#[tokio::test]
async fn postgres_passes_the_conformance_suite() {
    conformance(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_passes_the_conformance_suite() {
    conformance(Kind::Mysql).await;
}

/// Data survives closing and reopening, and migrating twice changes nothing.
async fn reopen_keeps_data(kind: Kind) {
    let db = TestDb::new(kind, "reopen").await;
    let store = db.open().await;
    store
        .apply(chunk(
            "s",
            "1",
            vec![attributed(edit("w", 1), "OR", "abc", "Ann")],
        ))
        .await
        .unwrap();
    store.close().await.unwrap();
    let store = db.open().await;
    store.migrate().await.unwrap();
    let batch = store.batch(&BatchKey::new("w", "OR", "abc")).await.unwrap();
    assert_eq!(batch.map(|b| b.nb_edits), Some(1));
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_file_keeps_data_across_reopening() {
    reopen_keeps_data(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_keeps_data_across_reopening() {
    reopen_keeps_data(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_keeps_data_across_reopening() {
    reopen_keeps_data(Kind::Mysql).await;
}

/// A chunk whose last write (its edits) the database refuses leaves nothing
/// behind (no batch, no cursor), and the store goes on with the next chunk on
/// the same connections. A trigger refuses one title.
async fn refused_edits_leave_nothing_behind(kind: Kind) {
    let db = TestDb::new(kind, "refused").await;
    let store = db.open().await;
    let refuse: &[&str] = match kind {
        Kind::Postgres => &[
            "CREATE FUNCTION refuse_title() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN IF NEW.title = 'Refused' THEN RAISE EXCEPTION 'refused title'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER refuse_title BEFORE INSERT ON editgroups_edits \
             FOR EACH ROW EXECUTE FUNCTION refuse_title()",
        ],
        Kind::Mysql => &[
            "CREATE TRIGGER refuse_title BEFORE INSERT ON editgroups_edits \
             FOR EACH ROW BEGIN IF NEW.title = 'Refused' THEN \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused title'; END IF; END",
        ],
        Kind::SqliteFile | Kind::SqliteMemory => &[
            "CREATE TRIGGER refuse_title BEFORE INSERT ON editgroups_edits \
             WHEN NEW.title = 'Refused' BEGIN SELECT RAISE(ABORT, 'refused title'); END",
        ],
    };
    for sql in refuse {
        store.connection().execute_unprepared(sql).await.unwrap();
    }
    let edits = |first: u64, last_title: &str| {
        (first..first + 50)
            .map(|rcid| {
                let title = if rcid == first + 49 {
                    last_title.to_owned()
                } else {
                    format!("Q{rcid}")
                };
                attributed(edit("w", rcid).title(&title), "OR", "abc", "Ann")
            })
            .collect::<Vec<_>>()
    };
    let refused = async || {
        let err = store
            .apply(chunk("s", "1", edits(1, "Refused")))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("refused title"), "{err}");
    };
    // Back to back: the failed transaction is rolled back before the next.
    refused().await;
    refused().await;
    assert_eq!(store.cursor("s").await.unwrap(), None, "no cursor stored");
    let batch = store.batch(&BatchKey::new("w", "OR", "abc")).await.unwrap();
    assert!(batch.is_none(), "no batch stored: {batch:?}");
    refused().await;
    let report = store
        .apply(chunk("s", "2", edits(101, "Q150")))
        .await
        .unwrap();
    assert_eq!(report.inserted, 50);
    let batch = store.batch(&BatchKey::new("w", "OR", "abc")).await.unwrap();
    assert_eq!(
        batch.map(|b| (b.nb_edits, b.nb_distinct_pages)),
        Some((50, 50))
    );
    assert!(store.cursor("s").await.unwrap().is_some());
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_file_stores_nothing_of_a_refused_chunk() {
    refused_edits_leave_nothing_behind(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_stores_nothing_of_a_refused_chunk() {
    refused_edits_leave_nothing_behind(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_stores_nothing_of_a_refused_chunk() {
    refused_edits_leave_nothing_behind(Kind::Mysql).await;
}

/// Texts with NUL characters are stored: as they are where the database can
/// hold them, with U+FFFD in place of each NUL on PostgreSQL (whose text
/// cannot); the rules see what is stored, so the page counts once either way.
async fn texts_with_nul_are_stored(kind: Kind) {
    let db = TestDb::new(kind, "nul").await;
    let store = db.open().await;
    let with_nul = |rcid: u64| {
        let mut item = attributed(
            edit("w", rcid)
                .title("Q\u{0}1")
                .comment("one\u{0}two")
                .user("A\u{0}nn"),
            "OR",
            "abc",
            "A\u{0}nn",
        );
        if let Some(m) = &mut item.attribution {
            m.summary = "sum\u{0}mary".to_owned();
        }
        item
    };
    store
        .apply(chunk("s", "1", vec![with_nul(1), with_nul(2)]))
        .await
        .unwrap();
    let expected = |text: &str| match kind {
        Kind::Postgres => text.replace('\0', "\u{fffd}"),
        _ => text.to_owned(),
    };
    let key = BatchKey::new("w", "OR", "abc");
    let batch = store.batch(&key).await.unwrap().expect("the batch");
    assert_eq!(batch.user, expected("A\u{0}nn"));
    assert_eq!(batch.summary, expected("sum\u{0}mary"));
    assert_eq!((batch.nb_edits, batch.nb_distinct_pages), (2, 1));
    let edits = store
        .batch_edits(&key, editgroups_core::Page::all())
        .await
        .unwrap();
    assert_eq!(edits.len(), 2);
    for stored in &edits {
        assert_eq!(stored.edit.title, expected("Q\u{0}1"));
        assert_eq!(
            stored.edit.comment.as_deref(),
            Some(expected("one\u{0}two").as_str())
        );
        assert_eq!(
            stored.edit.user.as_deref(),
            Some(expected("A\u{0}nn").as_str())
        );
    }
    // A later chunk's edit of the same page is no new page.
    store
        .apply(chunk("s", "2", vec![with_nul(3)]))
        .await
        .unwrap();
    let batch = store.batch(&key).await.unwrap().expect("the batch");
    assert_eq!((batch.nb_edits, batch.nb_distinct_pages), (3, 1));
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_stores_texts_with_nul() {
    texts_with_nul_are_stored(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_stores_texts_with_nul() {
    texts_with_nul_are_stored(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_stores_texts_with_nul() {
    texts_with_nul_are_stored(Kind::Mysql).await;
}

/// A wiki's answer with a NUL in it (the code or message of a failed action) is
/// recorded, with U+FFFD in place of the NUL, on every SQL backend.
async fn wiki_answers_with_nul_are_recorded(kind: Kind) {
    use editgroups_core::plan::PlannedAction;
    use editgroups_core::{ActionState, NewRevertTask, RevertOperation};
    let db = TestDb::new(kind, "nulanswer").await;
    let store = db.open().await;
    store
        .apply(chunk(
            "s",
            "1",
            vec![attributed(
                edit("w", 1).revisions(Some(1), Some(2)),
                "OR",
                "abc",
                "Ann",
            )],
        ))
        .await
        .unwrap();
    let task = store
        .create_revert_task(&NewRevertTask {
            batch: BatchKey::new("w", "OR", "abc"),
            user: "Reverter".into(),
            comment: "undo".into(),
            actions: vec![PlannedAction {
                rcid: 1,
                namespace: 0,
                title: "Q1".into(),
                operation: RevertOperation::Undo {
                    revision: 2,
                    editing_user: "Ann".into(),
                },
            }],
        })
        .await
        .unwrap();
    store
        .record_action(&task.uid, 0, &ActionState::Sent)
        .await
        .unwrap();
    let failed = ActionState::Failed {
        code: "bad\u{0}code".into(),
        message: "the wiki said \u{0}".into(),
    };
    store.record_action(&task.uid, 0, &failed).await.unwrap();
    let actions = store.revert_actions(&task.uid).await.unwrap();
    assert_eq!(
        actions.first().map(|a| a.state.clone()),
        Some(ActionState::Failed {
            code: "bad\u{fffd}code".into(),
            message: "the wiki said \u{fffd}".into(),
        })
    );
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_records_wiki_answers_with_nul() {
    wiki_answers_with_nul_are_recorded(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_records_wiki_answers_with_nul() {
    wiki_answers_with_nul_are_recorded(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_records_wiki_answers_with_nul() {
    wiki_answers_with_nul_are_recorded(Kind::Mysql).await;
}

/// A database whose schema version is newer than the code's is refused, and
/// nothing is written to it.
async fn newer_schema_is_refused(kind: Kind) {
    let db = TestDb::new(kind, "version").await;
    let store = db.open().await;
    let newer = SqlStore::schema_version() + 1;
    store
        .connection()
        .execute_unprepared(&format!(
            "UPDATE editgroups_meta SET value = {newer} WHERE name = 'schema_version'"
        ))
        .await
        .unwrap();
    store.close().await.unwrap();
    let err = SqlStore::open(&db.url).await.unwrap_err();
    match &err {
        StoreError::SchemaTooNew {
            found, supported, ..
        } => assert_eq!((*found, *supported), (newer, newer - 1)),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(err.to_string().contains("upgrade"), "{err}");
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_refuses_a_newer_schema() {
    newer_schema_is_refused(Kind::SqliteFile).await;
}

#[tokio::test]
async fn postgres_refuses_a_newer_schema() {
    newer_schema_is_refused(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_refuses_a_newer_schema() {
    newer_schema_is_refused(Kind::Mysql).await;
}

/// The library's migrations are recorded in its own table, not `seaql_migrations`.
#[tokio::test]
async fn migrations_have_their_own_table() {
    let db = TestDb::new(Kind::SqliteFile, "migrations").await;
    let store = db.open().await;
    let rows = store
        .connection()
        .query_all_raw(sea_orm::Statement::from_string(
            store.backend(),
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%migrations'",
        ))
        .await
        .unwrap();
    let names: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect();
    assert_eq!(names, ["editgroups_migrations"]);
}

#[tokio::test]
async fn open_store_picks_the_backend_from_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
    let store = open_store(&url).await.unwrap();
    assert!(format!("{store:?}").contains("SqlStore"), "{store:?}");
    let store = open_store("sqlite::memory:").await.unwrap();
    assert!(store.tools().await.unwrap().is_empty());
    let memory = open_store("memory:").await.unwrap();
    assert!(format!("{memory:?}").contains("MemoryStore"));
    match open_store("ftp://x").await {
        Err(StoreError::Config(message)) => assert!(message.contains("sqlite://"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unreachable_servers_give_connection_errors() {
    // Nothing listens on port 1 of loopback.
    let urls = [
        "postgres://postgres@127.0.0.1:1/x",
        "mysql://root@127.0.0.1:1/x",
    ];
    let results = futures::future::join_all(urls.map(SqlStore::open)).await;
    for (url, result) in urls.iter().zip(results) {
        match result {
            Err(StoreError::Connection { .. }) => {}
            other => panic!("{url}: expected a connection error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn ids_beyond_the_signed_range_are_refused_clearly() {
    let store = SqlStore::open("sqlite::memory:").await.unwrap();
    let mut huge = attributed(edit("w", 1), "OR", "abc", "Ann");
    huge.edit.rcid = u64::MAX;
    let err = store.apply(chunk("s", "1", vec![huge])).await.unwrap_err();
    assert!(err.to_string().contains("does not fit"), "{err}");
    assert_eq!(store.cursor("s").await.unwrap(), None, "nothing was stored");
}

/// A SQLite file's log is copied back into the database file beside the writer,
/// long before the writer's own bound on the log, and without closing the store.
#[tokio::test]
async fn sqlite_checkpoints_run_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = SqlStore::open(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    let file_size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let before = file_size();
    let mut rcid = 0;
    for c in 0..3 {
        let edits = (0..2_000)
            .map(|i| {
                rcid += 1;
                let mut e = attributed(edit("w", rcid), "OR", &format!("b{}", i % 20), "Ann");
                e.edit.title = format!("Q{rcid}");
                e
            })
            .collect();
        store
            .apply(chunk("s", &c.to_string(), edits))
            .await
            .unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while file_size() < before + 1_000_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {} bytes (was {before}): no checkpoint ran",
            file_size()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let batch = store.batch(&BatchKey::new("w", "OR", "b7")).await.unwrap();
    assert_eq!(batch.map(|b| b.nb_edits), Some(300));
    store.close().await.unwrap();
}

async fn maintenance_conformance(kind: Kind) {
    let db = TestDb::new(kind, "maint").await;
    let store = db.open().await;
    editgroups_core::testing::maintenance::run_all(&store).await;
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_file_passes_the_maintenance_suite() {
    maintenance_conformance(Kind::SqliteFile).await;
}

#[tokio::test]
async fn sqlite_memory_passes_the_maintenance_suite() {
    maintenance_conformance(Kind::SqliteMemory).await;
}

#[tokio::test]
async fn postgres_passes_the_maintenance_suite() {
    maintenance_conformance(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_passes_the_maintenance_suite() {
    maintenance_conformance(Kind::Mysql).await;
}

/// Lists read a batch's tags in the same query as the batch (aggregated as
/// JSON): tags recorded by inspection may hold any character, and come back
/// whole, in every list and in a batch and its revert links, with batches that
/// have none beside them.
async fn tags_of_any_characters_read_back(kind: Kind) {
    use editgroups_core::maintenance::{Inspection, InspectionMark};
    use editgroups_core::{BatchQuery, MaintenanceStore};
    let db = TestDb::new(kind, "tagchars").await;
    let store = db.open().await;
    let w = "tagchars";
    let edits = ["odd", "plain"]
        .iter()
        .enumerate()
        .map(|(i, uid)| {
            attributed(
                edit(w, i as u64 + 1).comment("/* wbeditentity-update:0| */ x"),
                "OR",
                uid,
                "Ann",
            )
        })
        .collect();
    store.apply(chunk(w, "1", edits)).await.unwrap();
    let bare = attributed(edit(w, 3), "OR", "bare", "Ann");
    store.apply(chunk(w, "2", vec![bare])).await.unwrap();
    let odd = [
        "quote\"d",
        "back\\slash",
        "comma,and]bracket[",
        "ünïcødé ✓",
        "null\u{0}and\ttab",
        "'single'",
    ];
    let key = BatchKey::new(w, "OR", "odd");
    let inspection = Inspection {
        mark: InspectionMark {
            at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            nb_edits: 1,
            through: 1,
        },
        tags: odd.map(String::from).to_vec(),
    };
    // MariaDB and PostgreSQL text cannot hold NUL: a store may refuse that tag,
    // but must not garble the others.
    let recorded = match store.record_inspection(&key, &inspection).await {
        Ok(_) => odd.to_vec(),
        Err(_) => {
            let kept: Vec<&str> = odd.iter().copied().filter(|t| !t.contains('\0')).collect();
            let inspection = Inspection {
                tags: kept.iter().map(|t| t.to_string()).collect(),
                ..inspection
            };
            store.record_inspection(&key, &inspection).await.unwrap();
            kept
        }
    };
    let mut expected: Vec<String> = recorded.iter().map(|t| t.to_string()).collect();
    expected.push("wbeditentity-update".to_owned());
    editgroups_core::tags::sort_tags(&mut expected);
    let listed = store
        .list_batches(&BatchQuery::new().with_wiki(w))
        .await
        .unwrap();
    let tags_of = |uid: &str| {
        listed
            .iter()
            .find(|b| b.key.uid == uid)
            .map(|b| b.tags.clone())
    };
    assert_eq!(tags_of("odd"), Some(expected.clone()), "{kind:?}");
    assert_eq!(
        tags_of("plain"),
        Some(vec!["wbeditentity-update".to_owned()])
    );
    assert_eq!(tags_of("bare"), Some(Vec::new()), "a batch without tags");
    let by_tag = store
        .list_batches(&BatchQuery::new().with_wiki(w).with_tag(recorded[0]))
        .await
        .unwrap();
    assert_eq!(by_tag.len(), 1);
    assert_eq!(by_tag[0].tags, expected);
    let one = store.batch(&key).await.unwrap().unwrap();
    assert_eq!(one.tags, expected);
    store.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn tags_of_any_characters_read_back_on_every_backend() {
    for kind in common::ALL {
        tags_of_any_characters_read_back(kind).await;
    }
}
