//! Schema version 2: revert provenance. Every revert signal is kept (not only
//! undone revisions and each page's latest deletion and restore), reverted
//! edits record their earliest reverting event, and batches their links to the
//! batches that reverted them.

use super::super::schema::{
    EditReverts, Edits, Meta, PageEvents, RevertLinks, RevertSignals, Undone,
};
use super::{Columns, VERSION_ROW, index};
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
        set_version(manager, 1).await
    }
}

/// Records the schema version a migration brings the database to.
pub(super) async fn set_version(manager: &SchemaManager<'_>, version: i64) -> Result<(), DbErr> {
    let update = Query::update()
        .table(Meta::Table)
        .value(Meta::Value, version)
        .and_where(Expr::col(Meta::Name).eq(VERSION_ROW))
        .to_owned();
    manager.exec_stmt(update).await
}
