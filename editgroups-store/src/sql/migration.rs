//! The schema, applied through `sea-orm-migration` with its own migrations table,
//! and the check that refuses a database written by newer code.

use super::schema::{
    BatchPages, BatchTags, Batches, Cursors, Edits, Meta, OtherEvents, PageEvents, Tools, Undone,
};
use editgroups_core::store::MAX_TAG_CHARS;
use sea_orm::sea_query::{Alias, IntoIden};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::prelude::*;

mod fewer_edit_indexes;
mod provenance;

/// The schema version this code writes and reads. Every migration that changes the
/// schema raises it, in `editgroups_meta`.
pub(crate) const SCHEMA_VERSION: i64 = 9;

/// The name of the row of `editgroups_meta` that holds the schema version.
pub(crate) const VERSION_ROW: &str = "schema_version";

/// The name of the row of `editgroups_meta` that writers lock, one at a time.
pub(crate) const LOCK_ROW: &str = "writer_lock";

/// Records the schema version a migration brings the database to (never
/// lowering it: a database may have run a later migration first).
pub(crate) async fn set_version(manager: &SchemaManager<'_>, version: i64) -> Result<(), DbErr> {
    let update = Query::update()
        .table(Meta::Table)
        .value(Meta::Value, version)
        .and_where(Expr::col(Meta::Name).eq(VERSION_ROW))
        .and_where(Expr::col(Meta::Value).lt(version))
        .to_owned();
    manager.exec_stmt(update).await
}

/// The migrations of the editgroups schema.
#[derive(Debug)]
pub(crate) struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateTables),
            Box::new(provenance::RevertProvenance),
            Box::new(super::m0003_revert_tasks::Migration),
            Box::new(super::m0004_maintenance::Maintenance),
            Box::new(super::migration_edit_order::EditOrderIndex),
            Box::new(fewer_edit_indexes::FewerEditIndexes),
            Box::new(super::m0007_batch_list_index::BatchListIndex),
            Box::new(super::m0008_batch_minutes::BatchMinutesTable),
            Box::new(super::m0009_page_event_index::PageEventIndex),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("editgroups_migrations").into_iden()
    }
}

/// The schema version a database holds, if it has the schema at all.
pub(crate) async fn stored_version(db: &DatabaseConnection) -> Result<Option<i64>, DbErr> {
    let manager = SchemaManager::new(db);
    if !manager.has_table(Meta::Table.to_string()).await? {
        return Ok(None);
    }
    let query = Query::select()
        .column(Meta::Value)
        .from(Meta::Table)
        .and_where(Expr::col(Meta::Name).eq(VERSION_ROW))
        .to_owned();
    match db.query_one(&query).await? {
        Some(row) => Ok(Some(row.try_get::<i64>("", &Meta::Value.to_string())?)),
        None => Ok(None),
    }
}

#[derive(Debug)]
struct CreateTables;

impl MigrationName for CreateTables {
    fn name(&self) -> &str {
        "m0001_create_tables"
    }
}

/// Column helpers that give every backend the same comparison and ordering of
/// text as Rust's `String`: byte order, case-sensitive.
struct Columns(DbBackend);

impl Columns {
    /// A text column that is compared, indexed or ordered.
    fn key<T: IntoIden>(&self, name: T, len: u32) -> ColumnDef {
        let mut col = ColumnDef::new(name);
        col.string_len(len).not_null();
        if self.0 == DbBackend::Postgres {
            col.extra("COLLATE \"C\"");
        }
        col
    }

    fn big<T: IntoIden>(&self, name: T) -> ColumnDef {
        let mut col = ColumnDef::new(name);
        col.big_integer().not_null();
        col
    }

    fn big_null<T: IntoIden>(&self, name: T) -> ColumnDef {
        let mut col = ColumnDef::new(name);
        col.big_integer().null();
        col
    }

    /// A text column like [`Columns::key`] that may be NULL.
    fn key_null<T: IntoIden>(&self, name: T, len: u32) -> ColumnDef {
        let mut col = ColumnDef::new(name);
        col.string_len(len).null();
        if self.0 == DbBackend::Postgres {
            col.extra("COLLATE \"C\"");
        }
        col
    }

    fn text_null<T: IntoIden>(&self, name: T) -> ColumnDef {
        let mut col = ColumnDef::new(name);
        col.text().null();
        col
    }

    fn id<T: IntoIden>(&self, name: T) -> ColumnDef {
        let mut col = ColumnDef::new(name);
        col.big_integer().not_null().auto_increment().primary_key();
        col
    }

    /// MySQL tables default to case-insensitive collations: ask for bytes.
    fn table(&self) -> TableCreateStatement {
        let mut table = Table::create();
        if self.0 == DbBackend::MySql {
            table
                .character_set("utf8mb4")
                .collate("utf8mb4_bin")
                .engine("InnoDB");
        }
        table
    }
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[DynIden],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col.clone());
    }
    if unique {
        index.unique();
    }
    manager.create_index(index).await
}

#[async_trait::async_trait]
impl MigrationTrait for CreateTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let c = Columns(manager.get_database_backend());
        manager
            .create_table(
                c.table()
                    .table(Meta::Table)
                    .col(c.key(Meta::Name, 64).primary_key())
                    .col(c.big(Meta::Value))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                c.table()
                    .table(Tools::Table)
                    .col(c.id(Tools::Id))
                    .col(c.key(Tools::Shortid, 64).unique_key())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                c.table()
                    .table(Batches::Table)
                    .col(c.id(Batches::Id))
                    .col(c.key(Batches::Wiki, 64))
                    .col(c.big(Batches::ToolId))
                    .col(c.key(Batches::Uid, 255))
                    .col(c.key(Batches::User, 255))
                    .col(ColumnDef::new(Batches::Summary).text().not_null())
                    .col(c.big(Batches::NbEdits))
                    .col(c.big(Batches::NbDistinctPages))
                    .col(c.big(Batches::NbNewPages))
                    .col(c.big(Batches::NbRevertedEdits))
                    .col(c.big(Batches::TotalDiffsize))
                    .col(c.big(Batches::StartedUs))
                    .col(c.big(Batches::EndedUs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_editgroups_batches_tool")
                            .from(Batches::Table, Batches::ToolId)
                            .to(Tools::Table, Tools::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let b = |cols: &[Batches]| cols.iter().map(|c| c.into_iden()).collect::<Vec<_>>();
        index(
            manager,
            "ux_editgroups_batches_key",
            Batches::Table,
            &b(&[Batches::Wiki, Batches::ToolId, Batches::Uid]),
            true,
        )
        .await?;
        index(
            manager,
            "ix_editgroups_batches_ended",
            Batches::Table,
            &b(&[Batches::EndedUs]),
            false,
        )
        .await?;
        index(
            manager,
            "ix_editgroups_batches_user",
            Batches::Table,
            &b(&[Batches::User]),
            false,
        )
        .await?;
        index(
            manager,
            "ix_editgroups_batches_tool",
            Batches::Table,
            &b(&[Batches::ToolId, Batches::User]),
            false,
        )
        .await?;

        manager
            .create_table(
                c.table()
                    .table(Edits::Table)
                    .col(c.id(Edits::Id))
                    .col(c.key(Edits::Wiki, 64))
                    .col(c.big(Edits::Rcid))
                    .col(c.big(Edits::BatchId))
                    .col(c.key(Edits::ChangeType, 64))
                    .col(c.text_null(Edits::LogType))
                    .col(c.text_null(Edits::LogAction))
                    .col(c.big(Edits::Namespace))
                    .col(c.key(Edits::Title, 255))
                    .col(c.big_null(Edits::OldRevision))
                    .col(c.big_null(Edits::NewRevision))
                    .col(c.big_null(Edits::OldLength))
                    .col(c.big_null(Edits::NewLength))
                    .col(c.big(Edits::TimestampUs))
                    .col(c.text_null(Edits::User))
                    .col(ColumnDef::new(Edits::Bot).boolean().null())
                    .col(ColumnDef::new(Edits::Minor).boolean().null())
                    .col(ColumnDef::new(Edits::Patrolled).boolean().null())
                    .col(c.text_null(Edits::Comment))
                    .col(c.text_null(Edits::Parsedcomment))
                    .col(c.text_null(Edits::Uri))
                    .col(ColumnDef::new(Edits::Reverted).boolean().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_editgroups_edits_batch")
                            .from(Edits::Table, Edits::BatchId)
                            .to(Batches::Table, Batches::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let e = |cols: &[Edits]| cols.iter().map(|c| c.into_iden()).collect::<Vec<_>>();
        index(
            manager,
            "ux_editgroups_edits_event",
            Edits::Table,
            &e(&[Edits::Wiki, Edits::Rcid]),
            true,
        )
        .await?;
        index(
            manager,
            "ix_editgroups_edits_batch_revision",
            Edits::Table,
            &e(&[Edits::BatchId, Edits::NewRevision]),
            false,
        )
        .await?;
        index(
            manager,
            "ix_editgroups_edits_revision",
            Edits::Table,
            &e(&[Edits::Wiki, Edits::NewRevision]),
            false,
        )
        .await?;
        index(
            manager,
            "ix_editgroups_edits_title",
            Edits::Table,
            &e(&[Edits::Wiki, Edits::Title]),
            false,
        )
        .await?;
        index(
            manager,
            "ix_editgroups_edits_timestamp",
            Edits::Table,
            &e(&[Edits::TimestampUs]),
            false,
        )
        .await?;

        manager
            .create_table(
                c.table()
                    .table(OtherEvents::Table)
                    .col(c.key(OtherEvents::Wiki, 64))
                    .col(c.big(OtherEvents::Rcid))
                    .primary_key(
                        Index::create()
                            .col(OtherEvents::Wiki)
                            .col(OtherEvents::Rcid),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                c.table()
                    .table(BatchTags::Table)
                    .col(c.big(BatchTags::BatchId))
                    .col(c.key(BatchTags::Tag, MAX_TAG_CHARS as u32))
                    .primary_key(Index::create().col(BatchTags::BatchId).col(BatchTags::Tag))
                    .to_owned(),
            )
            .await?;
        // "The newest batches with tag X": from the tag to its batches.
        index(
            manager,
            "ix_editgroups_batch_tags_tag",
            BatchTags::Table,
            &[BatchTags::Tag.into_iden(), BatchTags::BatchId.into_iden()],
            false,
        )
        .await?;
        manager
            .create_table(
                c.table()
                    .table(BatchPages::Table)
                    .col(c.big(BatchPages::BatchId))
                    .col(c.key(BatchPages::Title, 255))
                    .primary_key(
                        Index::create()
                            .col(BatchPages::BatchId)
                            .col(BatchPages::Title),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                c.table()
                    .table(Undone::Table)
                    .col(c.key(Undone::Wiki, 64))
                    .col(c.big(Undone::Revision))
                    .primary_key(Index::create().col(Undone::Wiki).col(Undone::Revision))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                c.table()
                    .table(PageEvents::Table)
                    .col(c.key(PageEvents::Wiki, 64))
                    .col(c.key(PageEvents::Title, 255))
                    .col(c.big_null(PageEvents::DeleteUs))
                    .col(c.big_null(PageEvents::DeleteRcid))
                    .col(c.big_null(PageEvents::RestoreUs))
                    .col(c.big_null(PageEvents::RestoreRcid))
                    .primary_key(Index::create().col(PageEvents::Wiki).col(PageEvents::Title))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                c.table()
                    .table(Cursors::Table)
                    .col(c.key(Cursors::SourceKey, 255).primary_key())
                    .col(ColumnDef::new(Cursors::Source).text().not_null())
                    .col(c.text_null(Cursors::Cursor))
                    .col(c.big_null(Cursors::LatestEventUs))
                    .to_owned(),
            )
            .await?;

        let rows = Query::insert()
            .into_table(Meta::Table)
            .columns([Meta::Name, Meta::Value])
            .values_panic([VERSION_ROW.into(), 1i64.into()])
            .values_panic([LOCK_ROW.into(), 0i64.into()])
            .to_owned();
        manager.exec_stmt(rows).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Cursors::Table.into_iden(),
            PageEvents::Table.into_iden(),
            Undone::Table.into_iden(),
            BatchPages::Table.into_iden(),
            BatchTags::Table.into_iden(),
            OtherEvents::Table.into_iden(),
            Edits::Table.into_iden(),
            Batches::Table.into_iden(),
            Tools::Table.into_iden(),
            Meta::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
