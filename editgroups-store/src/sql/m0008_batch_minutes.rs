//! Migration `m0008_batch_minutes`: each batch's edits and reverted edits per
//! minute, counted from the edits already stored, so that a large batch's
//! timeline reads a few thousand rows rather than every edit.

use super::migration::set_version;
use super::schema::BatchMinutes;
use sea_orm_migration::prelude::*;

/// The schema version after this migration.
const VERSION: i64 = 8;

#[derive(Debug)]
pub(crate) struct BatchMinutesTable;

impl MigrationName for BatchMinutesTable {
    fn name(&self) -> &str {
        "m0008_batch_minutes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for BatchMinutesTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        if manager.get_database_backend() == sea_orm::DbBackend::MySql {
            table.engine("InnoDB");
        }
        let count = |column: BatchMinutes| {
            ColumnDef::new(column)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned()
        };
        manager
            .create_table(
                table
                    .table(BatchMinutes::Table)
                    .col(
                        ColumnDef::new(BatchMinutes::BatchId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BatchMinutes::Minute)
                            .big_integer()
                            .not_null(),
                    )
                    .col(count(BatchMinutes::Edits))
                    .col(count(BatchMinutes::Reverted))
                    .primary_key(
                        Index::create()
                            .col(BatchMinutes::BatchId)
                            .col(BatchMinutes::Minute),
                    )
                    .to_owned(),
            )
            .await?;
        super::minutes::rebuild(manager.get_connection(), None).await?;
        set_version(manager, VERSION).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(BatchMinutes::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
