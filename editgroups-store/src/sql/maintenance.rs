//! [`MaintenanceStore`] for [`SqlStore`]: inspection marks and archival.
//!
//! Every write takes the writers' lock row first, as `apply` does (SQLite:
//! `BEGIN IMMEDIATE`; PostgreSQL and MySQL: `SELECT … FOR UPDATE`), and bumps its
//! generation number, so that every store's cache of its own commits (see
//! `cache`) is dropped: the cache would otherwise remember removed edits or miss
//! added tags.
//!
//! An edit's sequence number is its row id: writers are serialised, so ids grow
//! in the order edits are stored.
//!
//! Archival runs in the database: one statement copies the removed edits'
//! (wiki, rc id) into `editgroups_other_events` (so that their re-delivery is a
//! duplicate), one deletes them; nothing is read into memory but the batch row.

use super::SqlStore;
use super::apply::{get, query, to_i64};
use super::error::{backend as store_error, db_error};
use super::migration::LOCK_ROW;
use super::read::{batch_row, batch_select, key_filter, micros, page, timestamp, with_tags};
use super::schema::{BatchTags, Batches, Edits, Inspections, Meta, OtherEvents, Tools};
use async_trait::async_trait;
use editgroups_core::maintenance::{
    ArchivalCandidate, ArchivalPolicy, Archived, Inspection, InspectionCandidate, InspectionMark,
    InspectionQuery, InspectionRecorded, MaintenanceStore, ScanPage, ScanPosition,
};
use editgroups_core::store::MAX_TAG_CHARS;
use editgroups_core::{BatchKey, StoreError, StoredEdit};
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, Func, LockType, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, QueryResult};
use std::collections::BTreeSet;

const NEWEST: &str = "newest_edit_id";
const MARK_US: &str = "mark_inspected_us";
const MARK_EDITS: &str = "mark_nb_edits";
const MARK_THROUGH: &str = "mark_through_id";

/// A write transaction holding the writers' lock, and the generation it found.
struct Write {
    txn: DatabaseTransaction,
    generation: Option<i64>,
}

impl Write {
    async fn begin(db: &DatabaseConnection) -> Result<Self, StoreError> {
        let backend = db.get_database_backend();
        let txn = super::chunk_txn::begin_writing(db).await?;
        let mut lock = Query::select()
            .column(Meta::Value)
            .from(Meta::Table)
            .and_where(Expr::col(Meta::Name).eq(LOCK_ROW))
            .to_owned();
        if backend != DbBackend::Sqlite {
            lock.lock(LockType::Update);
        }
        let generation = match txn
            .query_one(&lock)
            .await
            .map_err(|e| db_error("locking the store for writing", e))?
        {
            Some(row) => Some(get::<i64>(&row, Meta::Value)?),
            None => None,
        };
        Ok(Self { txn, generation })
    }

    /// Rolls back now. A dropped transaction only queues its rollback, and a
    /// statement that failed on SQLite or MySQL leaves the rest of the
    /// transaction's writes in place until then.
    async fn rollback(self) -> Result<(), StoreError> {
        self.txn
            .rollback()
            .await
            .map_err(|e| db_error("rolling back maintenance", e))
    }

    /// Runs `body` in the transaction: commits (generation bumped) when it gives
    /// `Ok(Some(_))`, rolls back on `Ok(None)` (nothing to do) and on errors.
    async fn run<T, F>(db: &DatabaseConnection, body: F) -> Result<Option<T>, StoreError>
    where
        F: AsyncFnOnce(&DatabaseTransaction) -> Result<Option<T>, StoreError>,
    {
        let write = Self::begin(db).await?;
        match body(&write.txn).await {
            Ok(Some(value)) => {
                write.commit().await?;
                Ok(Some(value))
            }
            Ok(None) => {
                write.rollback().await?;
                Ok(None)
            }
            Err(error) => {
                if let Err(rollback) = write.rollback().await {
                    tracing::warn!(%rollback, "rollback after a failure failed");
                }
                Err(error)
            }
        }
    }

    /// Bumps the generation (every store's cache is then dropped) and commits.
    async fn commit(self) -> Result<(), StoreError> {
        if let Some(generation) = self.generation {
            let bump = Query::update()
                .table(Meta::Table)
                .value(Meta::Value, generation.wrapping_add(1))
                .and_where(Expr::col(Meta::Name).eq(LOCK_ROW))
                .to_owned();
            self.txn
                .execute(&bump)
                .await
                .map_err(|e| db_error("recording the write", e))?;
        }
        self.txn
            .commit()
            .await
            .map_err(|e| db_error("committing maintenance", e))
    }
}

/// The id of a batch, with the columns archival checks.
async fn find_batch<C: ConnectionTrait>(
    db: &C,
    key: &BatchKey,
) -> Result<Option<(i64, editgroups_core::Batch)>, StoreError> {
    let mut select = batch_select();
    key_filter(&mut select, key);
    match query(db, &select, "finding a batch").await?.first() {
        Some(row) => Ok(Some(batch_row(row)?)),
        None => Ok(None),
    }
}

fn after_id(page_of: ScanPage) -> Result<i64, StoreError> {
    page_of
        .after
        .map_or(Ok(0), |p| to_i64(p.0, "scan position"))
}

fn position(id: i64) -> Result<ScanPosition, StoreError> {
    u64::try_from(id)
        .map(ScanPosition)
        .map_err(|_| store_error(format!("negative batch id {id}")))
}

fn check_tags(tags: &[String]) -> Result<(), StoreError> {
    for tag in tags {
        if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
            return Err(store_error(format!(
                "tag {:?} is empty or longer than the {MAX_TAG_CHARS} characters the SQL store keeps",
                editgroups_core::store::truncate_chars(tag, 40)
            )));
        }
    }
    Ok(())
}

fn mark_from(row: &QueryResult) -> Result<Option<InspectionMark>, StoreError> {
    let at: Option<i64> = get(row, Alias::new(MARK_US))?;
    let nb_edits: Option<i64> = get(row, Alias::new(MARK_EDITS))?;
    let through: Option<i64> = get(row, Alias::new(MARK_THROUGH))?;
    match (at, nb_edits, through) {
        (Some(at), Some(nb_edits), Some(through)) => Ok(Some(InspectionMark {
            at: timestamp(at)?,
            nb_edits: u64::try_from(nb_edits).unwrap_or(0),
            through: u64::try_from(through).unwrap_or(0),
        })),
        _ => Ok(None),
    }
}

impl SqlStore {
    fn committed_maintenance(&self) {
        #[cfg(feature = "sqlite")]
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.committed();
        }
    }
}

#[async_trait]
impl MaintenanceStore for SqlStore {
    async fn inspection_candidates(
        &self,
        q: &InspectionQuery,
        page_of: ScanPage,
    ) -> Result<Vec<InspectionCandidate>, StoreError> {
        let mut select = batch_select();
        select
            .expr_as(
                Expr::col((Inspections::Table, Inspections::InspectedUs)),
                Alias::new(MARK_US),
            )
            .expr_as(
                Expr::col((Inspections::Table, Inspections::NbEdits)),
                Alias::new(MARK_EDITS),
            )
            .expr_as(
                Expr::col((Inspections::Table, Inspections::ThroughId)),
                Alias::new(MARK_THROUGH),
            )
            // Read in the same statement as the batch's `nb_edits`: one snapshot.
            .expr_as(
                Expr::expr(
                    Query::select()
                        .expr(Func::max(Expr::col((Alias::new("e"), Edits::Id))))
                        .from_as(Edits::Table, Alias::new("e"))
                        .and_where(
                            Expr::col((Alias::new("e"), Edits::BatchId))
                                .equals((Batches::Table, Batches::Id)),
                        )
                        .take(),
                ),
                Alias::new(NEWEST),
            )
            .left_join(
                Inspections::Table,
                Expr::col((Inspections::Table, Inspections::BatchId))
                    .equals((Batches::Table, Batches::Id)),
            )
            .and_where(Expr::col((Batches::Table, Batches::Id)).gt(after_id(page_of)?))
            .and_where(Expr::col((Batches::Table, Batches::Archived)).eq(false))
            .cond_where(
                Cond::any()
                    .add(Expr::col((Inspections::Table, Inspections::BatchId)).is_null())
                    .add(
                        Expr::col((Inspections::Table, Inspections::NbEdits))
                            .ne(Expr::col((Batches::Table, Batches::NbEdits))),
                    ),
            );
        let mut wanted = Cond::any();
        if q.with_new_pages {
            wanted = wanted.add(Expr::col((Batches::Table, Batches::NbNewPages)).gt(0));
        }
        if !q.tags.is_empty() {
            wanted = wanted.add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from_as(BatchTags::Table, Alias::new("t"))
                    .and_where(
                        Expr::col((Alias::new("t"), BatchTags::BatchId))
                            .equals((Batches::Table, Batches::Id)),
                    )
                    .and_where(
                        Expr::col((Alias::new("t"), BatchTags::Tag))
                            .is_in(q.tags.iter().map(String::as_str)),
                    )
                    .take(),
            ));
        }
        if !q.with_new_pages && q.tags.is_empty() {
            return Ok(Vec::new());
        }
        select
            .cond_where(wanted)
            .order_by((Batches::Table, Batches::Id), Order::Asc)
            .limit(Ord::max(page_of.limit, 1));
        let rows = query(&self.db, &select, "listing inspection candidates").await?;
        let mut extras = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = get(row, Batches::Id)?;
            let newest: Option<i64> = get(row, Alias::new(NEWEST))?;
            extras.push((
                position(id)?,
                mark_from(row)?,
                newest.and_then(|n| u64::try_from(n).ok()),
            ));
        }
        let batches = with_tags(&self.db, rows).await?;
        Ok(batches
            .into_iter()
            .zip(extras)
            .map(
                |(batch, (position, inspected, newest_edit))| InspectionCandidate {
                    batch,
                    position,
                    inspected,
                    newest_edit,
                },
            )
            .collect())
    }

    async fn edits_to_inspect(
        &self,
        key: &BatchKey,
        after: Option<u64>,
        through: u64,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<StoredEdit>, StoreError> {
        let Some((id, _)) = find_batch(&self.db, key).await? else {
            return Ok(Vec::new());
        };
        let after = after.map_or(Ok(0), |a| to_i64(a, "sequence number"))?;
        let through = i64::try_from(through).unwrap_or(i64::MAX);
        let mut select = super::read::edit_select(id);
        select
            .and_where(Expr::col((Edits::Table, Edits::Id)).gt(after))
            .and_where(Expr::col((Edits::Table, Edits::Id)).lte(through))
            .order_by((Edits::Table, Edits::TimestampUs), Order::Desc)
            .order_by((Edits::Table, Edits::Rcid), Order::Desc);
        page(&mut select, limit, offset);
        super::read::edits_from(&self.db, &select).await
    }

    async fn record_inspection(
        &self,
        key: &BatchKey,
        inspection: &Inspection,
    ) -> Result<InspectionRecorded, StoreError> {
        check_tags(&inspection.tags)?;
        let added = Write::run(&self.db, async |txn| record(txn, key, inspection).await).await?;
        if added.is_some() {
            self.committed_maintenance();
        }
        Ok(InspectionRecorded {
            tags_added: added.unwrap_or(0),
            found: added.is_some(),
        })
    }

    async fn inspection_mark(&self, key: &BatchKey) -> Result<Option<InspectionMark>, StoreError> {
        let mut select = Query::select();
        select
            .expr_as(
                Expr::col((Inspections::Table, Inspections::InspectedUs)),
                Alias::new(MARK_US),
            )
            .expr_as(
                Expr::col((Inspections::Table, Inspections::NbEdits)),
                Alias::new(MARK_EDITS),
            )
            .expr_as(
                Expr::col((Inspections::Table, Inspections::ThroughId)),
                Alias::new(MARK_THROUGH),
            )
            .from(Inspections::Table)
            .inner_join(
                Batches::Table,
                Expr::col((Batches::Table, Batches::Id))
                    .equals((Inspections::Table, Inspections::BatchId)),
            )
            .inner_join(
                Tools::Table,
                Expr::col((Tools::Table, Tools::Id)).equals((Batches::Table, Batches::ToolId)),
            );
        key_filter(&mut select, key);
        match query(&self.db, &select, "reading an inspection mark")
            .await?
            .first()
        {
            Some(row) => mark_from(row),
            None => Ok(None),
        }
    }

    async fn archival_candidates(
        &self,
        policy: &ArchivalPolicy,
        page_of: ScanPage,
    ) -> Result<Vec<ArchivalCandidate>, StoreError> {
        let select = Query::select()
            .column((Batches::Table, Batches::Id))
            .column((Batches::Table, Batches::Wiki))
            .column((Batches::Table, Batches::Uid))
            .column((Tools::Table, Tools::Shortid))
            .from(Batches::Table)
            .inner_join(
                Tools::Table,
                Expr::col((Tools::Table, Tools::Id)).equals((Batches::Table, Batches::ToolId)),
            )
            .and_where(Expr::col((Batches::Table, Batches::Id)).gt(after_id(page_of)?))
            .and_where(Expr::col((Batches::Table, Batches::Archived)).eq(false))
            .and_where(
                Expr::col((Batches::Table, Batches::NbEdits))
                    .gt(to_i64(Ord::max(policy.keep, 1), "keep")?),
            )
            .and_where(
                Expr::col((Batches::Table, Batches::EndedUs)).lt(micros(policy.ended_before)),
            )
            .order_by((Batches::Table, Batches::Id), Order::Asc)
            .limit(Ord::max(page_of.limit, 1))
            .to_owned();
        query(&self.db, &select, "listing archival candidates")
            .await?
            .iter()
            .map(|row| {
                Ok(ArchivalCandidate {
                    key: BatchKey::new(
                        get::<String>(row, Batches::Wiki)?,
                        get::<String>(row, Tools::Shortid)?,
                        get::<String>(row, Batches::Uid)?,
                    ),
                    position: position(get(row, Batches::Id)?)?,
                })
            })
            .collect()
    }

    async fn archive_batch(
        &self,
        key: &BatchKey,
        policy: &ArchivalPolicy,
    ) -> Result<Archived, StoreError> {
        let removed = Write::run(&self.db, async |txn| archive(txn, key, policy).await).await?;
        let Some(removed) = removed else {
            return Ok(Archived::Skipped);
        };
        self.committed_maintenance();
        tracing::debug!(batch = %key, removed, "batch archived");
        Ok(Archived::Done { removed })
    }
}

/// Records an inspection in `txn`: the tags a batch lacks, and its mark; the
/// number of tags added, or `None` for a missing batch.
async fn record(
    txn: &DatabaseTransaction,
    key: &BatchKey,
    inspection: &Inspection,
) -> Result<Option<u64>, StoreError> {
    let Some((id, _)) = find_batch(txn, key).await? else {
        return Ok(None);
    };
    let select = Query::select()
        .column(BatchTags::Tag)
        .from(BatchTags::Table)
        .and_where(Expr::col(BatchTags::BatchId).eq(id))
        .to_owned();
    let mut have = BTreeSet::new();
    for row in query(txn, &select, "reading tags").await? {
        have.insert(get::<String>(&row, BatchTags::Tag)?);
    }
    let missing: BTreeSet<&str> = inspection
        .tags
        .iter()
        .map(String::as_str)
        .filter(|t| !have.contains(*t))
        .collect();
    if !missing.is_empty() {
        let mut insert = Query::insert();
        insert
            .into_table(BatchTags::Table)
            .columns([BatchTags::BatchId, BatchTags::Tag]);
        for tag in &missing {
            insert
                .values([id.into(), (*tag).into()])
                .map_err(|e| store_error(format!("building the tag insert: {e}")))?;
        }
        txn.execute(&insert)
            .await
            .map_err(|e| db_error("adding tags", e))?;
    }
    let delete = Query::delete()
        .from_table(Inspections::Table)
        .and_where(Expr::col(Inspections::BatchId).eq(id))
        .to_owned();
    txn.execute(&delete)
        .await
        .map_err(|e| db_error("replacing the inspection mark", e))?;
    let mark = &inspection.mark;
    let mut insert = Query::insert();
    insert
        .into_table(Inspections::Table)
        .columns([
            Inspections::BatchId,
            Inspections::InspectedUs,
            Inspections::NbEdits,
            Inspections::ThroughId,
        ])
        .values([
            id.into(),
            micros(mark.at).into(),
            to_i64(mark.nb_edits, "nb_edits")?.into(),
            to_i64(mark.through, "sequence number")?.into(),
        ])
        .map_err(|e| store_error(format!("building the mark insert: {e}")))?;
    txn.execute(&insert)
        .await
        .map_err(|e| db_error("recording the inspection mark", e))?;
    Ok(Some(missing.len() as u64))
}

/// SQLite's page cache, bounded while a batch is archived: deleting a large
/// batch dirties pages of every index of the edits table, which would fill
/// the cache the store keeps for ingestion (32 MiB) and keep it filled; with the
/// bound, SQLite writes the surplus to its log as it goes (measured: 111 MB
/// resident archiving a million edits without the bound, 57 MB with it).
struct SqliteCache {
    /// The size to restore (`PRAGMA cache_size`), on SQLite.
    previous: Option<i64>,
}

/// The page cache while a batch is archived, in KiB.
const ARCHIVAL_CACHE_KIB: i64 = 8 * 1024;

impl SqliteCache {
    async fn shrink(txn: &DatabaseTransaction) -> Result<Self, StoreError> {
        if txn.get_database_backend() != DbBackend::Sqlite {
            return Ok(Self { previous: None });
        }
        let row = txn
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA cache_size",
            ))
            .await
            .map_err(|e| db_error("reading the cache size", e))?;
        let previous = match row {
            Some(row) => Some(
                row.try_get_by_index::<i64>(0)
                    .map_err(|e| store_error(format!("cache size: {e}")))?,
            ),
            None => None,
        };
        txn.execute_unprepared(&format!("PRAGMA cache_size = -{ARCHIVAL_CACHE_KIB}"))
            .await
            .map_err(|e| db_error("bounding the cache", e))?;
        Ok(Self { previous })
    }

    async fn restore(self, txn: &DatabaseTransaction) -> Result<(), StoreError> {
        if let Some(previous) = self.previous {
            txn.execute_unprepared(&format!("PRAGMA cache_size = {previous}"))
                .await
                .map_err(|e| db_error("restoring the cache size", e))?;
        }
        Ok(())
    }
}

/// Archives a batch in `txn` with SQLite's cache bounded.
async fn archive(
    txn: &DatabaseTransaction,
    key: &BatchKey,
    policy: &ArchivalPolicy,
) -> Result<Option<u64>, StoreError> {
    let cache = SqliteCache::shrink(txn).await?;
    let result = archive_rows(txn, key, policy).await;
    let restored = cache.restore(txn).await;
    let removed = result?;
    restored?;
    Ok(removed)
}

/// Archives a batch in `txn`: the number of edits removed, or `None` when the
/// policy does not apply.
async fn archive_rows(
    txn: &DatabaseTransaction,
    key: &BatchKey,
    policy: &ArchivalPolicy,
) -> Result<Option<u64>, StoreError> {
    let Some((id, batch)) = find_batch(txn, key).await? else {
        return Ok(None);
    };
    if !policy.applies_to(&batch) {
        return Ok(None);
    }
    let keep = Ord::max(policy.keep, 1);
    // The oldest edit kept: the `keep`-th newest by timestamp, then rc id
    // (unique within a batch, so exactly `keep` edits stay).
    let boundary = Query::select()
        .columns([Edits::TimestampUs, Edits::Rcid])
        .from(Edits::Table)
        .and_where(Expr::col(Edits::BatchId).eq(id))
        .order_by(Edits::TimestampUs, Order::Desc)
        .order_by(Edits::Rcid, Order::Desc)
        .limit(1)
        .offset(keep - 1)
        .to_owned();
    let mut removed = 0;
    if let Some(row) = query(txn, &boundary, "finding the edits kept")
        .await?
        .first()
    {
        let at: i64 = get(row, Edits::TimestampUs)?;
        let rcid: i64 = get(row, Edits::Rcid)?;
        let older = Cond::all().add(Expr::col(Edits::BatchId).eq(id)).add(
            Cond::any().add(Expr::col(Edits::TimestampUs).lt(at)).add(
                Cond::all()
                    .add(Expr::col(Edits::TimestampUs).eq(at))
                    .add(Expr::col(Edits::Rcid).lt(rcid)),
            ),
        );
        let seen = Query::insert()
            .into_table(OtherEvents::Table)
            .columns([OtherEvents::Wiki, OtherEvents::Rcid])
            .select_from(
                Query::select()
                    .columns([Edits::Wiki, Edits::Rcid])
                    .from(Edits::Table)
                    .cond_where(older.clone())
                    .take(),
            )
            .map_err(|e| store_error(format!("building the seen-events copy: {e}")))?
            .to_owned();
        txn.execute(&seen)
            .await
            .map_err(|e| db_error("keeping the removed edits as seen events", e))?;
        let delete = Query::delete()
            .from_table(Edits::Table)
            .cond_where(older)
            .to_owned();
        removed = txn
            .execute(&delete)
            .await
            .map_err(|e| db_error("removing archived edits", e))?
            .rows_affected();
        super::minutes::rebuild(txn, Some(id))
            .await
            .map_err(|e| db_error("counting the kept edits by minute", e))?;
    }
    let flag = Query::update()
        .table(Batches::Table)
        .value(Batches::Archived, true)
        .and_where(Expr::col(Batches::Id).eq(id))
        .to_owned();
    txn.execute(&flag)
        .await
        .map_err(|e| db_error("flagging the batch archived", e))?;
    Ok(Some(removed))
}
