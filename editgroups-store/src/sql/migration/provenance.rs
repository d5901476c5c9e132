//! Schema version 2: revert provenance. Every revert signal is kept (not only
//! undone revisions and each page's latest deletion and restore), reverted
//! edits record their earliest reverting event, and batches their links to the
//! batches that reverted them.

use super::super::schema::{
    EditReverts, Edits, Meta, PageEvents, RevertLinks, RevertSignals, Undone,
};
use super::{Columns, VERSION_ROW, index, set_version};
use sea_orm::sea_query::IntoIden;
use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::prelude::*;

#[derive(Debug)]
pub(super) struct RevertProvenance;

impl MigrationName for RevertProvenance {
    fn name(&self) -> &str {
        "m0002_revert_provenance"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for RevertProvenance {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let c = Columns(manager.get_database_backend());
        manager
            .create_table(
                c.table()
                    .table(RevertSignals::Table)
                    .col(c.id(RevertSignals::Id))
                    .col(c.key(RevertSignals::Wiki, 64))
                    .col(c.big_null(RevertSignals::Rcid))
                    .col(c.key(RevertSignals::Action, 16))
                    .col(c.big_null(RevertSignals::Revision))
                    .col(c.key_null(RevertSignals::Title, 255))
                    .col(c.big_null(RevertSignals::TimestampUs))
                    .col(c.big_null(RevertSignals::BatchId))
                    .to_owned(),
            )
            .await?;
        let s = |cols: &[RevertSignals]| cols.iter().map(|c| c.into_iden()).collect::<Vec<_>>();
        index(
            manager,
            "ux_editgroups_revert_signals_event",
            RevertSignals::Table,
            &s(&[RevertSignals::Wiki, RevertSignals::Rcid]),
            true,
        )
        .await?;
        index(
            manager,
            "ix_editgroups_revert_signals_revision",
            RevertSignals::Table,
            &s(&[RevertSignals::Wiki, RevertSignals::Revision]),
            false,
        )
        .await?;
        index(
            manager,
            "ix_editgroups_revert_signals_title",
            RevertSignals::Table,
            &s(&[RevertSignals::Wiki, RevertSignals::Title]),
            false,
        )
        .await?;
        manager
            .create_table(
                c.table()
                    .table(EditReverts::Table)
                    .col(c.key(EditReverts::Wiki, 64))
                    .col(c.big(EditReverts::Rcid))
                    .col(c.big(EditReverts::ByRcid))
                    .col(c.big(EditReverts::ByUs))
                    .col(c.big_null(EditReverts::ByBatchId))
                    .primary_key(
                        Index::create()
                            .col(EditReverts::Wiki)
                            .col(EditReverts::Rcid),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                c.table()
                    .table(RevertLinks::Table)
                    .col(c.big(RevertLinks::BatchId))
                    .col(c.big(RevertLinks::RevertingBatchId))
                    .col(c.big(RevertLinks::Edits))
                    .primary_key(
                        Index::create()
                            .col(RevertLinks::BatchId)
                            .col(RevertLinks::RevertingBatchId),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_editgroups_revert_links_reverting",
            RevertLinks::Table,
            &[
                RevertLinks::RevertingBatchId.into_iden(),
                RevertLinks::BatchId.into_iden(),
            ],
            false,
        )
        .await?;

        // What version 1 kept: undone revisions (without the undo event) and each
        // page's latest deletion and restore (with the event's position; its batch
        // when the event is a stored edit).
        let db = manager.get_connection();
        let signals = RevertSignals::Table.to_string();
        let undone = Undone::Table.to_string();
        let pages = PageEvents::Table.to_string();
        let edits = Edits::Table.to_string();
        db.execute_unprepared(&format!(
            "INSERT INTO {signals} (wiki, rcid, action, revision, title, timestamp_us, batch_id) \
             SELECT wiki, NULL, 'undo', revision, NULL, NULL, NULL FROM {undone}"
        ))
        .await?;
        for (action, us, rcid) in [
            ("delete", "delete_us", "delete_rcid"),
            ("restore", "restore_us", "restore_rcid"),
        ] {
            db.execute_unprepared(&format!(
                "INSERT INTO {signals} (wiki, rcid, action, revision, title, timestamp_us, batch_id) \
                 SELECT p.wiki, p.{rcid}, '{action}', NULL, p.title, p.{us}, e.batch_id \
                 FROM {pages} p LEFT JOIN {edits} e ON e.wiki = p.wiki AND e.rcid = p.{rcid} \
                 WHERE p.{us} IS NOT NULL AND p.{rcid} IS NOT NULL"
            ))
            .await?;
        }
        for table in [Undone::Table.into_iden(), PageEvents::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        set_version(manager, 2).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RevertLinks::Table.into_iden(),
            EditReverts::Table.into_iden(),
            RevertSignals::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        let update = Query::update()
            .table(Meta::Table)
            .value(Meta::Value, 1)
            .and_where(Expr::col(Meta::Name).eq(VERSION_ROW))
            .to_owned();
        manager.exec_stmt(update).await
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::super::Migrator;
    use crate::SqlStore;
    use editgroups_core::testing::{attributed, chunk, edit};
    use editgroups_core::{BatchKey, BatchStore, Page, RevertedBy};
    use sea_orm::{ConnectionTrait, Database};
    use sea_orm_migration::MigratorTrait;

    /// A store written by version 1 knows an undone revision (without the undo)
    /// and a page's latest deletion: after the migration both still revert the
    /// edits that arrive.
    #[tokio::test]
    async fn version_1_revert_state_carries_over() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Migrator::up(&db, Some(1)).await.unwrap();
        for sql in [
            "INSERT INTO editgroups_undone_revisions (wiki, revision) VALUES ('w', 501)",
            "INSERT INTO editgroups_page_events (wiki, title, delete_us, delete_rcid, restore_us, restore_rcid) \
             VALUES ('w', 'Q2', 100000000, 9, NULL, NULL)",
        ] {
            db.execute_unprepared(sql).await.unwrap();
        }
        Migrator::up(&db, None).await.unwrap();
        let store = SqlStore::from_connection(db);
        store.check_version().await.unwrap();
        store
            .apply(chunk(
                "s",
                "1",
                vec![
                    attributed(
                        edit("w", 1)
                            .title("Q1")
                            .at(10)
                            .revisions(Some(500), Some(501)),
                        "QSv2",
                        "7",
                        "Ann",
                    ),
                    attributed(
                        edit("w", 2).title("Q2").at(50).created(),
                        "QSv2",
                        "7",
                        "Ann",
                    ),
                ],
            ))
            .await
            .unwrap();
        let key = BatchKey::new("w", "QSv2", "7");
        let batch = store.batch(&key).await.unwrap().unwrap();
        assert_eq!(batch.nb_reverted_edits, 2);
        let edits = store.batch_edits(&key, Page::all()).await.unwrap();
        let by = |rcid| edits.iter().find(|e| e.edit.rcid == rcid).unwrap();
        assert!(by(1).reverted);
        assert_eq!(by(1).reverted_by, None, "the version-1 undo has no rc id");
        assert_eq!(
            by(2).reverted_by,
            Some(RevertedBy {
                rcid: 9,
                batch: None
            })
        );
        let tables = store
            .connection()
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT name FROM sqlite_master WHERE name = 'editgroups_undone_revisions'",
            ))
            .await
            .unwrap();
        assert!(tables.is_empty(), "the version-1 tables are gone");
    }
}
