//! Each batch's edits per minute (`editgroups_batch_minutes`), kept equal to the
//! batch's stored edits: added to when edits are stored or marked reverted, and
//! rebuilt from the edits by the migration that creates the table and by
//! archival. A timeline whose spans are whole minutes, from a whole minute, is
//! counted from it: one row per minute in which the batch edited, instead of one
//! per edit (a batch of 100,000 edits has a few thousand such minutes).

use super::apply::get;
use super::bulk::{self, Conflict};
use super::error::db_error;
use super::lists::is_one_of;
use super::schema::{BatchMinutes, Edits};
use editgroups_core::{StoreError, TimelineBucket};
use sea_orm::sea_query::{Cond, Expr, ExprTrait, Func, Query, Value};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use std::collections::BTreeMap;

/// A minute in microseconds.
pub(crate) const MINUTE_MICROS: i64 = 60_000_000;

/// The minute of a stored time, rounded toward zero as SQL's integer division
/// rounds (the same on every backend, and in the rebuild below).
pub(crate) fn minute_of(timestamp_us: i64) -> i64 {
    timestamp_us / MINUTE_MICROS
}

/// Whether a timeline from `start_us` in spans of `width_micros` can be counted
/// by minutes exactly: both whole minutes, and no earlier than the epoch (where
/// rounding toward zero and rounding down part).
pub(crate) fn counts_by_minutes(start_us: i64, width_micros: i64) -> bool {
    start_us >= 0
        && start_us % MINUTE_MICROS == 0
        && width_micros > 0
        && width_micros % MINUTE_MICROS == 0
}

/// What a chunk adds to the minutes of its batches: (edits, reverted edits) by
/// (batch id, minute).
#[derive(Debug, Default)]
pub(crate) struct MinuteCounts(BTreeMap<(i64, i64), (i64, i64)>);

impl MinuteCounts {
    /// An edit stored, reverted already or not.
    pub(crate) fn edit(&mut self, batch: i64, timestamp_us: i64, reverted: bool) {
        let counts = self.0.entry((batch, minute_of(timestamp_us))).or_default();
        counts.0 += 1;
        counts.1 += i64::from(reverted);
    }

    /// A stored edit newly marked reverted.
    pub(crate) fn reverted(&mut self, batch: i64, timestamp_us: i64) {
        self.0
            .entry((batch, minute_of(timestamp_us)))
            .or_default()
            .1 += 1;
    }

    /// Adds the counts to the stored ones.
    pub(crate) async fn write<C: ConnectionTrait>(self, db: &C) -> Result<(), StoreError> {
        let rows = self
            .0
            .into_iter()
            .map(|((batch, minute), (edits, reverted))| {
                vec![batch.into(), minute.into(), edits.into(), reverted.into()]
            })
            .collect::<Vec<Vec<Value>>>();
        bulk::insert(
            db,
            &BatchMinutes::Table,
            &[
                &BatchMinutes::BatchId,
                &BatchMinutes::Minute,
                &BatchMinutes::Edits,
                &BatchMinutes::Reverted,
            ],
            rows,
            Conflict::Add {
                key: &[&BatchMinutes::BatchId, &BatchMinutes::Minute],
                columns: &[&BatchMinutes::Edits, &BatchMinutes::Reverted],
            },
            "counting edits by minute",
        )
        .await
    }
}

/// Marks the stored edits with these rc ids reverted, counting in `counts` by
/// minute those that were not reverted yet: what marking them adds to their
/// minutes. One statement where the database returns the rows it updates
/// (SQLite, PostgreSQL); a count, then the update, on MySQL and MariaDB.
pub(crate) async fn mark_reverted<C: ConnectionTrait>(
    db: &C,
    wiki: &str,
    rcids: &[i64],
    counts: &mut MinuteCounts,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let unreverted = Cond::all()
        .add(Expr::col(Edits::Wiki).eq(wiki))
        .add(is_one_of(backend, Expr::col(Edits::Rcid), rcids))
        .add(Expr::col(Edits::Reverted).eq(false));
    let mut update = Query::update()
        .table(Edits::Table)
        .value(Edits::Reverted, true)
        .cond_where(unreverted.clone())
        .to_owned();
    let doing = "marking reverted edits";
    let rows = if backend == DbBackend::MySql {
        let select = Query::select()
            .columns([Edits::BatchId, Edits::TimestampUs])
            .from(Edits::Table)
            .cond_where(unreverted)
            .to_owned();
        let rows = super::apply::query(db, &select, doing).await?;
        db.execute(&update).await.map_err(|e| db_error(doing, e))?;
        rows
    } else {
        update.returning(Query::returning().columns([Edits::BatchId, Edits::TimestampUs]));
        db.query_all(&update)
            .await
            .map_err(|e| db_error(doing, e))?
    };
    for row in rows {
        counts.reverted(get(&row, Edits::BatchId)?, get(&row, Edits::TimestampUs)?);
    }
    Ok(())
}

/// The minute of `timestamp_us` in this backend's SQL.
fn minute_sql(backend: DbBackend) -> String {
    let divide = if backend == DbBackend::MySql {
        "DIV"
    } else {
        "/"
    };
    format!("timestamp_us {divide} {MINUTE_MICROS}")
}

/// Counts the minutes of one batch (or of all) again from their stored edits.
pub(crate) async fn rebuild<C: ConnectionTrait>(db: &C, batch: Option<i64>) -> Result<(), DbErr> {
    let mut delete = Query::delete();
    delete.from_table(BatchMinutes::Table);
    if let Some(id) = batch {
        delete.and_where(Expr::col(BatchMinutes::BatchId).eq(id));
    }
    db.execute(&delete).await?;
    let minute = minute_sql(db.get_database_backend());
    let mut select = Query::select();
    select
        .column(Edits::BatchId)
        .expr(Expr::cust(minute.clone()))
        .expr(Func::count(Expr::col(Edits::Rcid)))
        .expr(Func::sum(Expr::cust(
            "CASE WHEN reverted THEN 1 ELSE 0 END",
        )))
        .from(Edits::Table)
        .group_by_col(Edits::BatchId)
        .add_group_by([Expr::cust(minute)]);
    if let Some(id) = batch {
        select.and_where(Expr::col(Edits::BatchId).eq(id));
    }
    let insert = Query::insert()
        .into_table(BatchMinutes::Table)
        .columns([
            BatchMinutes::BatchId,
            BatchMinutes::Minute,
            BatchMinutes::Edits,
            BatchMinutes::Reverted,
        ])
        .select_from(select)
        .map_err(|e| DbErr::Custom(format!("building the count of edits by minute: {e}")))?
        .to_owned();
    db.execute(&insert).await?;
    Ok(())
}

/// Adds a batch's minutes to a timeline from `start_us` in spans of
/// `width_micros` (both whole minutes: [`counts_by_minutes`]); earlier minutes
/// count in the first span, later ones in the last.
pub(crate) async fn timeline<C: ConnectionTrait>(
    db: &C,
    batch: i64,
    start_us: i64,
    width_micros: i64,
    timeline: &mut [TimelineBucket],
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    // PostgreSQL's SUM of BIGINT is NUMERIC and MySQL's DECIMAL: back to integers.
    let (divide, sum_type) = match backend {
        DbBackend::MySql => ("DIV", Some("SIGNED")),
        DbBackend::Postgres => ("/", Some("BIGINT")),
        _ => ("/", None),
    };
    let sum = |column: &str| match sum_type {
        Some(t) => format!("CAST(SUM({column}) AS {t})"),
        None => format!("SUM({column})"),
    };
    let (b, s, w) = if backend == DbBackend::Postgres {
        ("$1", "$2", "$3")
    } else {
        ("?", "?", "?")
    };
    let sql = format!(
        "SELECT (minute - {s}) {divide} {w} AS span, {} AS edits, {} AS reverted \
         FROM editgroups_batch_minutes WHERE batch_id = {b} GROUP BY span",
        sum("edits"),
        sum("reverted"),
    );
    let values: Vec<Value> = if backend == DbBackend::Postgres {
        vec![
            batch.into(),
            (start_us / MINUTE_MICROS).into(),
            (width_micros / MINUTE_MICROS).into(),
        ]
    } else {
        // `?` placeholders bind in the order they appear: start, width, batch.
        vec![
            (start_us / MINUTE_MICROS).into(),
            (width_micros / MINUTE_MICROS).into(),
            batch.into(),
        ]
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map_err(|e| db_error("counting edits over time by minute", e))?;
    let last = timeline.len().saturating_sub(1);
    for row in rows {
        let span: i64 = row
            .try_get("", "span")
            .map_err(|e| db_error("reading a span", e))?;
        let index = usize::try_from(span).unwrap_or(0).min(last);
        let edits: i64 = row
            .try_get("", "edits")
            .map_err(|e| db_error("reading a span's edits", e))?;
        let reverted: i64 = row
            .try_get("", "reverted")
            .map_err(|e| db_error("reading a span's reverted edits", e))?;
        if let Some(bucket) = timeline.get_mut(index) {
            bucket.edits += count(edits)?;
            bucket.reverted += count(reverted)?;
        }
    }
    Ok(())
}

/// A stored count, which is never negative.
fn count(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value)
        .map_err(|_| super::error::corrupt(format!("negative count {value} of edits by minute")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_round_toward_zero_like_sql() {
        assert_eq!(minute_of(0), 0);
        assert_eq!(minute_of(59_999_999), 0);
        assert_eq!(minute_of(60_000_000), 1);
        assert_eq!(minute_of(1_520_438_408_000_000), 25_340_640);
        assert_eq!(minute_of(-1), 0);
    }

    #[test]
    fn only_whole_minutes_from_the_epoch_on_count_by_minutes() {
        assert!(counts_by_minutes(0, MINUTE_MICROS));
        assert!(counts_by_minutes(MINUTE_MICROS * 7, MINUTE_MICROS * 3));
        assert!(!counts_by_minutes(MINUTE_MICROS * 7 + 1, MINUTE_MICROS));
        assert!(!counts_by_minutes(0, MINUTE_MICROS + 1));
        assert!(!counts_by_minutes(0, 0));
        assert!(!counts_by_minutes(-MINUTE_MICROS, MINUTE_MICROS));
    }

    #[test]
    fn counts_add_up_by_batch_and_minute() {
        let mut counts = MinuteCounts::default();
        counts.edit(1, 60_000_001, false);
        counts.edit(1, 119_999_999, true);
        counts.edit(2, 60_000_001, false);
        counts.reverted(1, 61_000_000);
        let rows: Vec<_> = counts.0.into_iter().collect();
        assert_eq!(rows, [((1, 1), (2, 2)), ((2, 1), (1, 0))]);
    }
}
