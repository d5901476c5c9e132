//! Migration 3: revert tasks and their actions.
//!
//! One running task per batch is a unique index on `running_batch_id`, which is
//! the batch's id while the task runs and NULL once it ends (NULLs never collide
//! in a unique index, on any of the three databases): two simultaneous requests
//! cannot both insert one.

use super::migration::set_version;
use super::schema::Batches;
use super::tasks::{RevertActions, RevertTasks};
use sea_orm::DbBackend;
use sea_orm::sea_query::IntoIden;
use sea_orm_migration::prelude::*;

/// The schema version after this migration.
const VERSION: i64 = 3;

#[derive(Debug)]
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_revert_tasks"
    }
}

/// Text compared or indexed: byte order on every backend.
fn key<T: IntoIden>(backend: DbBackend, name: T, len: u32) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    col.string_len(len).not_null();
    if backend == DbBackend::Postgres {
        col.extra("COLLATE \"C\"");
    }
    col
}

fn big<T: IntoIden>(name: T, null: bool) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    col.big_integer();
    if null {
        col.null()
    } else {
        col.not_null()
    };
    col
}

fn text<T: IntoIden>(name: T, null: bool) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    col.text();
    if null {
        col.null()
    } else {
        col.not_null()
    };
    col
}

fn table(backend: DbBackend) -> TableCreateStatement {
    let mut table = Table::create();
    if backend == DbBackend::MySql {
        table
            .character_set("utf8mb4")
            .collate("utf8mb4_bin")
            .engine("InnoDB");
    }
    table
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                table(backend)
                    .table(RevertTasks::Table)
                    .col(
                        ColumnDef::new(RevertTasks::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(key(backend, RevertTasks::Uid, 32).unique_key())
                    .col(big(RevertTasks::BatchId, false))
                    .col(big(RevertTasks::RunningBatchId, true))
                    .col(key(backend, RevertTasks::User, 255))
                    .col(text(RevertTasks::Comment, false))
                    .col(big(RevertTasks::CreatedUs, false))
                    .col(key(backend, RevertTasks::Status, 16))
                    .col(text(RevertTasks::Reason, true))
                    .col(big(RevertTasks::FinishedUs, true))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_editgroups_revert_tasks_batch")
                            .from(RevertTasks::Table, RevertTasks::BatchId)
                            .to(Batches::Table, Batches::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col, unique) in [
            (
                "ux_editgroups_revert_tasks_running",
                RevertTasks::RunningBatchId,
                true,
            ),
            (
                "ix_editgroups_revert_tasks_batch",
                RevertTasks::BatchId,
                false,
            ),
            (
                "ix_editgroups_revert_tasks_created",
                RevertTasks::CreatedUs,
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(RevertTasks::Table).col(col);
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }
        manager
            .create_table(
                table(backend)
                    .table(RevertActions::Table)
                    .col(big(RevertActions::TaskId, false))
                    .col(big(RevertActions::Seq, false))
                    .col(big(RevertActions::Rcid, false))
                    .col(big(RevertActions::Namespace, false))
                    .col(text(RevertActions::Title, false))
                    .col(key(backend, RevertActions::Operation, 16))
                    .col(big(RevertActions::Revision, true))
                    .col(text(RevertActions::EditingUser, true))
                    .col(text(RevertActions::Note, true))
                    .col(key(backend, RevertActions::State, 16))
                    .col(big(RevertActions::ResultRevision, true))
                    .col(big(RevertActions::ResultLogId, true))
                    .col(text(RevertActions::Code, true))
                    .col(text(RevertActions::Message, true))
                    .primary_key(
                        Index::create()
                            .col(RevertActions::TaskId)
                            .col(RevertActions::Seq),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_editgroups_revert_actions_task")
                            .from(RevertActions::Table, RevertActions::TaskId)
                            .to(RevertTasks::Table, RevertTasks::Id),
                    )
                    .to_owned(),
            )
            .await?;
        set_version(manager, VERSION).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RevertActions::Table.into_iden(),
            RevertTasks::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
