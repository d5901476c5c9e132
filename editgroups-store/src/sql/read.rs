//! Queries: batches, their edits, tools, cursors.

use super::apply::{BATCH_COLUMNS, get, query};
use super::error::corrupt;
use super::schema::{BatchTags, Batches, Cursors, Edits, Tools};
use editgroups_core::edit::{Edit, Timestamp};
use editgroups_core::tags::sort_tags;
use editgroups_core::{
    Batch, BatchKey, BatchQuery, ChangeType, Cursor, Page, StoreError, StoredEdit, ToolStats,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};
use std::collections::HashMap;

/// A time as stored: microseconds since the Unix epoch.
pub(crate) fn micros(time: Timestamp) -> i64 {
    time.timestamp_micros()
}

/// A stored time.
pub(crate) fn timestamp(micros: i64) -> Result<Timestamp, StoreError> {
    chrono::DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| corrupt(format!("time {micros} µs is out of range")))
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt(format!("negative {what} {value}")))
}

/// The newest first, then by key; LIMIT and OFFSET as a query asks.
pub(crate) fn page(select: &mut SelectStatement, limit: u64, offset: u64) {
    if limit > 0 {
        select.limit(limit);
    } else if offset > 0 {
        // Some backends want a LIMIT with every OFFSET.
        select.limit(i64::MAX as u64);
    }
    if offset > 0 {
        select.offset(offset);
    }
}

pub(crate) fn batch_select() -> SelectStatement {
    let mut select = Query::select();
    for col in BATCH_COLUMNS {
        select.column((Batches::Table, col));
    }
    select
        .column((Batches::Table, Batches::Archived))
        .column((Tools::Table, Tools::Shortid))
        .from(Batches::Table)
        .inner_join(
            Tools::Table,
            Expr::col((Tools::Table, Tools::Id)).equals((Batches::Table, Batches::ToolId)),
        )
        .to_owned()
}

pub(crate) fn batch_row(row: &QueryResult) -> Result<(i64, Batch), StoreError> {
    Ok((
        get(row, Batches::Id)?,
        Batch {
            key: BatchKey::new(
                get::<String>(row, Batches::Wiki)?,
                get::<String>(row, Tools::Shortid)?,
                get::<String>(row, Batches::Uid)?,
            ),
            user: get(row, Batches::User)?,
            summary: get(row, Batches::Summary)?,
            nb_edits: to_u64(get(row, Batches::NbEdits)?, "nb_edits")?,
            nb_distinct_pages: to_u64(get(row, Batches::NbDistinctPages)?, "nb_distinct_pages")?,
            nb_new_pages: to_u64(get(row, Batches::NbNewPages)?, "nb_new_pages")?,
            nb_reverted_edits: to_u64(get(row, Batches::NbRevertedEdits)?, "nb_reverted_edits")?,
            total_diffsize: get(row, Batches::TotalDiffsize)?,
            started: timestamp(get(row, Batches::StartedUs)?)?,
            ended: timestamp(get(row, Batches::EndedUs)?)?,
            tags: Vec::new(),
            archived: get(row, Batches::Archived)?,
        },
    ))
}

/// Batches with their tags, in the order given.
pub(crate) async fn with_tags<C: ConnectionTrait>(
    db: &C,
    rows: Vec<QueryResult>,
) -> Result<Vec<Batch>, StoreError> {
    let mut batches = Vec::with_capacity(rows.len());
    let mut index = HashMap::new();
    for row in &rows {
        let (id, batch) = batch_row(row)?;
        index.insert(id, batches.len());
        batches.push(batch);
    }
    let ids: Vec<i64> = index.keys().copied().collect();
    for part in ids.chunks(30_000) {
        let select = Query::select()
            .columns([BatchTags::BatchId, BatchTags::Tag])
            .from(BatchTags::Table)
            .and_where(Expr::col(BatchTags::BatchId).is_in(part.iter().copied()))
            .to_owned();
        for row in query(db, &select, "reading tags").await? {
            let id: i64 = get(&row, BatchTags::BatchId)?;
            if let Some(batch) = index.get(&id).and_then(|&i| batches.get_mut(i)) {
                batch.tags.push(get(&row, BatchTags::Tag)?);
            }
        }
    }
    for batch in &mut batches {
        sort_tags(&mut batch.tags);
    }
    Ok(batches)
}

pub(crate) fn key_filter(select: &mut SelectStatement, key: &BatchKey) {
    select
        .and_where(Expr::col((Batches::Table, Batches::Wiki)).eq(key.wiki.as_str()))
        .and_where(Expr::col((Tools::Table, Tools::Shortid)).eq(key.tool.as_str()))
        .and_where(Expr::col((Batches::Table, Batches::Uid)).eq(key.uid.as_str()));
}

pub(crate) async fn batch<C: ConnectionTrait>(
    db: &C,
    key: &BatchKey,
) -> Result<Option<Batch>, StoreError> {
    let mut select = batch_select();
    key_filter(&mut select, key);
    let rows = query(db, &select, "reading a batch").await?;
    Ok(with_tags(db, rows).await?.into_iter().next())
}

pub(crate) async fn list_batches<C: ConnectionTrait>(
    db: &C,
    q: &BatchQuery,
) -> Result<Vec<Batch>, StoreError> {
    let mut select = batch_select();
    if let Some(wiki) = &q.wiki {
        select.and_where(Expr::col((Batches::Table, Batches::Wiki)).eq(wiki.as_str()));
    }
    if let Some(tool) = &q.tool {
        select.and_where(Expr::col((Tools::Table, Tools::Shortid)).eq(tool.as_str()));
    }
    if let Some(user) = &q.user {
        select.and_where(Expr::col((Batches::Table, Batches::User)).eq(user.as_str()));
    }
    for (i, tag) in q.tags.iter().enumerate() {
        // One primary-key probe per candidate batch: the newest batches are scanned
        // through the `ended` index until the page is full.
        let alias = Alias::new(format!("t{i}"));
        select.and_where(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from_as(BatchTags::Table, alias.clone())
                .and_where(
                    Expr::col((alias.clone(), BatchTags::BatchId))
                        .equals((Batches::Table, Batches::Id)),
                )
                .and_where(Expr::col((alias, BatchTags::Tag)).eq(tag.as_str()))
                .to_owned(),
        ));
    }
    select
        .order_by((Batches::Table, Batches::EndedUs), Order::Desc)
        .order_by((Batches::Table, Batches::Wiki), Order::Asc)
        .order_by((Tools::Table, Tools::Shortid), Order::Asc)
        .order_by((Batches::Table, Batches::Uid), Order::Asc);
    page(&mut select, q.limit, q.offset);
    let rows = query(db, &select, "listing batches").await?;
    with_tags(db, rows).await
}

pub(crate) async fn batch_edits<C: ConnectionTrait>(
    db: &C,
    key: &BatchKey,
    p: Page,
) -> Result<Vec<StoredEdit>, StoreError> {
    let mut find = Query::select();
    find.column((Batches::Table, Batches::Id))
        .from(Batches::Table)
        .inner_join(
            Tools::Table,
            Expr::col((Tools::Table, Tools::Id)).equals((Batches::Table, Batches::ToolId)),
        );
    key_filter(&mut find, key);
    let Some(row) = query(db, &find, "finding a batch")
        .await?
        .into_iter()
        .next()
    else {
        return Ok(Vec::new());
    };
    let id: i64 = get(&row, Batches::Id)?;
    let mut select = Query::select();
    select
        .columns(
            super::apply::EDIT_COLUMNS
                .iter()
                .map(|c| Alias::new(c.to_string())),
        )
        .from(Edits::Table)
        .and_where(Expr::col(Edits::BatchId).eq(id))
        .order_by(Edits::TimestampUs, Order::Desc)
        .order_by(Edits::Rcid, Order::Desc);
    page(&mut select, p.limit, p.offset);
    query(db, &select, "reading edits")
        .await?
        .iter()
        .map(edit_row)
        .collect()
}

pub(crate) fn edit_row(row: &QueryResult) -> Result<StoredEdit, StoreError> {
    let revision = |col: Edits| -> Result<Option<u64>, StoreError> {
        get::<Option<i64>>(row, col)?
            .map(|v| to_u64(v, "revision"))
            .transpose()
    };
    Ok(StoredEdit {
        edit: Edit {
            wiki: get(row, Edits::Wiki)?,
            rcid: to_u64(get(row, Edits::Rcid)?, "rc id")?,
            change_type: ChangeType::from_parts(
                &get::<String>(row, Edits::ChangeType)?,
                get::<Option<String>>(row, Edits::LogType)?.as_deref(),
                get::<Option<String>>(row, Edits::LogAction)?.as_deref(),
            ),
            namespace: get(row, Edits::Namespace)?,
            title: get(row, Edits::Title)?,
            old_revision: revision(Edits::OldRevision)?,
            new_revision: revision(Edits::NewRevision)?,
            old_length: get(row, Edits::OldLength)?,
            new_length: get(row, Edits::NewLength)?,
            timestamp: timestamp(get(row, Edits::TimestampUs)?)?,
            user: get(row, Edits::User)?,
            bot: get(row, Edits::Bot)?,
            minor: get(row, Edits::Minor)?,
            patrolled: get(row, Edits::Patrolled)?,
            comment: get(row, Edits::Comment)?,
            parsedcomment: get(row, Edits::Parsedcomment)?,
            uri: get(row, Edits::Uri)?,
        },
        reverted: get(row, Edits::Reverted)?,
    })
}

pub(crate) async fn tools<C: ConnectionTrait>(db: &C) -> Result<Vec<ToolStats>, StoreError> {
    let select = Query::select()
        .column((Tools::Table, Tools::Shortid))
        .expr_as(
            Func::count(Expr::col((Batches::Table, Batches::Id))),
            Alias::new("nb_batches"),
        )
        .expr_as(
            Func::count_distinct(Expr::col((Batches::Table, Batches::User))),
            Alias::new("nb_users"),
        )
        .from(Batches::Table)
        .inner_join(
            Tools::Table,
            Expr::col((Tools::Table, Tools::Id)).equals((Batches::Table, Batches::ToolId)),
        )
        .group_by_col((Tools::Table, Tools::Shortid))
        .order_by((Tools::Table, Tools::Shortid), Order::Asc)
        .to_owned();
    query(db, &select, "counting tools")
        .await?
        .iter()
        .map(|row| {
            Ok(ToolStats {
                tool: get(row, Tools::Shortid)?,
                nb_batches: to_u64(get(row, Alias::new("nb_batches"))?, "count")?,
                nb_users: to_u64(get(row, Alias::new("nb_users"))?, "count")?,
            })
        })
        .collect()
}

pub(crate) async fn cursor<C: ConnectionTrait>(
    db: &C,
    source: &str,
) -> Result<Option<Cursor>, StoreError> {
    let select = Query::select()
        .column(Cursors::Cursor)
        .from(Cursors::Table)
        .and_where(Expr::col(Cursors::SourceKey).eq(super::apply::source_key(source)))
        .to_owned();
    let Some(row) = query(db, &select, "reading the cursor")
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    get::<Option<String>>(&row, Cursors::Cursor)?
        .map(|text| Cursor::decode(&text).map_err(|e| corrupt(format!("cursor of {source}: {e}"))))
        .transpose()
}

pub(crate) async fn latest_event_time<C: ConnectionTrait>(
    db: &C,
) -> Result<Option<Timestamp>, StoreError> {
    let select = Query::select()
        .expr_as(
            Func::max(Expr::col(Cursors::LatestEventUs)),
            Alias::new("latest"),
        )
        .from(Cursors::Table)
        .to_owned();
    let Some(row) = query(db, &select, "reading the latest event time")
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    get::<Option<i64>>(&row, Alias::new("latest"))?
        .map(timestamp)
        .transpose()
}
