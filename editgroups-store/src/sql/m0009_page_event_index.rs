//! Migration `m0009_page_event_index`: the edits' `(wiki, title)` index keeps
//! only the edits that deletions and restores look for (creations, uploads,
//! deletions, restores), on SQLite and PostgreSQL. Every stored edit updated it,
//! at a random place (titles do not come in order), for a lookup that only ever
//! asks for those few: a tenth of the edits of a typical stream. MySQL and
//! MariaDB have no partial indexes and keep the whole index.

use super::migration::set_version;
use super::schema::Edits;
use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm_migration::prelude::*;

/// The schema version after this migration.
const VERSION: i64 = 9;

/// The index it replaces.
const WHOLE_INDEX: &str = "ix_editgroups_edits_title";
/// The partial index.
pub(crate) const PAGE_EVENT_INDEX: &str = "ix_editgroups_edits_page_events";

/// The edits the partial index holds. A query on it must have this very
/// condition among its `AND`ed terms, values written in (not bound): the
/// planners use a partial index only where they can see that the query's
/// condition implies the index's.
pub(crate) fn is_page_event() -> Expr {
    Expr::col(Edits::ChangeType)
        .eq(Expr::cust("'new'"))
        .or(Expr::col(Edits::LogAction).is_in([
            Expr::cust("'upload'"),
            Expr::cust("'restore'"),
            Expr::cust("'delete'"),
        ]))
}

#[derive(Debug)]
pub(crate) struct PageEventIndex;

impl MigrationName for PageEventIndex {
    fn name(&self) -> &str {
        "m0009_page_event_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for PageEventIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Each step may commit on its own (SQLite): a migration stopped halfway
        // runs again from the start.
        if manager.get_database_backend() != DbBackend::MySql {
            manager
                .create_index(
                    Index::create()
                        .name(PAGE_EVENT_INDEX)
                        .table(Edits::Table)
                        .col(Edits::Wiki)
                        .col(Edits::Title)
                        .and_where(is_page_event())
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            manager
                .drop_index(
                    Index::drop()
                        .name(WHOLE_INDEX)
                        .table(Edits::Table)
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        set_version(manager, VERSION).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::MySql {
            manager
                .create_index(
                    Index::create()
                        .name(WHOLE_INDEX)
                        .table(Edits::Table)
                        .col(Edits::Wiki)
                        .col(Edits::Title)
                        .to_owned(),
                )
                .await?;
            manager
                .drop_index(
                    Index::drop()
                        .name(PAGE_EVENT_INDEX)
                        .table(Edits::Table)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
