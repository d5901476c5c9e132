//! Migration `m0007_batch_list_index`: an index on a wiki's batches, newest first,
//! so that a page of the batch list (always of one wiki) reads the batches it
//! shows and stops, instead of reading all the wiki's batches through the key
//! index and sorting them.

use super::migration::set_version;
use super::schema::Batches;
use sea_orm_migration::prelude::*;

/// The schema version after this migration (6 is that of `m0006`).
const VERSION: i64 = 7;

/// The index name.
const INDEX: &str = "ix_editgroups_batches_wiki_ended";

#[derive(Debug)]
pub(crate) struct BatchListIndex;

impl MigrationName for BatchListIndex {
    fn name(&self) -> &str {
        "m0007_batch_list_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for BatchListIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Batches::Table)
                    .col(Batches::Wiki)
                    .col(Batches::EndedUs)
                    .to_owned(),
            )
            .await?;
        set_version(manager, VERSION).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Batches::Table).to_owned())
            .await
    }
}
