//! Migration m0004: what maintenance keeps. Batches get an `archived` flag, and
//! a table records each batch's last inspection.

use super::migration::set_version;
use super::schema::{Batches, Inspections};
use sea_orm_migration::prelude::*;

/// The schema version this migration brings.
pub(crate) const VERSION: i64 = 4;

#[derive(Debug)]
pub(crate) struct Maintenance;

impl MigrationName for Maintenance {
    fn name(&self) -> &str {
        "m0004_maintenance"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Maintenance {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Batches::Table)
                    .add_column(
                        ColumnDef::new(Batches::Archived)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        let mut table = Table::create();
        if manager.get_database_backend() == sea_orm::DbBackend::MySql {
            table.engine("InnoDB");
        }
        manager
            .create_table(
                table
                    .table(Inspections::Table)
                    .col(
                        ColumnDef::new(Inspections::BatchId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Inspections::InspectedUs)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Inspections::NbEdits)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Inspections::ThroughId)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        set_version(manager, VERSION).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Inspections::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Batches::Table)
                    .drop_column(Batches::Archived)
                    .to_owned(),
            )
            .await
    }
}
