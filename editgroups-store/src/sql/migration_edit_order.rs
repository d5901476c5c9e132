//! Migration `m0005_edit_order_index`: an index on a batch's edits in their
//! display order (newest first), so that the latest edits of a large batch, keyset
//! pages of its edits and its timeline read only what they show.

use super::migration::set_version;

/// The schema version after this migration.
const VERSION: i64 = 5;
use super::schema::Edits;
use sea_orm_migration::prelude::*;

/// The index name.
const INDEX: &str = "ix_editgroups_edits_batch_order";

#[derive(Debug)]
pub(crate) struct EditOrderIndex;

impl MigrationName for EditOrderIndex {
    fn name(&self) -> &str {
        "m0005_edit_order_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for EditOrderIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `reverted` too: the timeline counts reverted edits from the index alone.
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Edits::Table)
                    .col(Edits::BatchId)
                    .col(Edits::TimestampUs)
                    .col(Edits::Rcid)
                    .col(Edits::Reverted)
                    .to_owned(),
            )
            .await?;
        set_version(manager, VERSION).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Edits::Table).to_owned())
            .await
    }
}
