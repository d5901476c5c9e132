//! Schema version 6: two indexes on edits that no query uses any more go, so
//! that each stored edit updates four indexes instead of six:
//! - `(batch_id, new_revision)`, from EditGroups' schema: a batch's edits are
//!   read in display order through `(batch_id, timestamp, rc id)` (version 5),
//!   which also serves the foreign key to the batch; undos find their edits
//!   through `(wiki, new_revision)`;
//! - `(timestamp)`: lag is read from the sources' cursors, and every query by
//!   time is within one batch.

use super::super::schema::Edits;
use super::set_version;
use sea_orm::DbErr;
use sea_orm_migration::prelude::*;

/// The schema version after this migration.
const VERSION: i64 = 6;

#[derive(Debug)]
pub(super) struct FewerEditIndexes;

impl MigrationName for FewerEditIndexes {
    fn name(&self) -> &str {
        "m0006_fewer_edit_indexes"
    }
}

const DROPPED: [&str; 2] = [
    "ix_editgroups_edits_batch_revision",
    "ix_editgroups_edits_timestamp",
];

#[async_trait::async_trait]
impl MigrationTrait for FewerEditIndexes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in DROPPED {
            manager
                .drop_index(Index::drop().name(name).table(Edits::Table).to_owned())
                .await?;
        }
        set_version(manager, VERSION).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, cols) in [
            (DROPPED[0], vec![Edits::BatchId, Edits::NewRevision]),
            (DROPPED[1], vec![Edits::TimestampUs]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Edits::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }
}
