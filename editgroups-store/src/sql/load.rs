//! Loading what a chunk's rules read ([`Needs`]) from the cache and the
//! database, and answering the rules from it ([`Snapshot`]).

use super::apply::{get, query, to_i64, to_u64};
use super::bulk;
use super::cache::Cache;
use super::chunk_txn::ChunkTxn;
use super::error::corrupt;
use super::lists::{is_one_of, max_list_bytes, padded_parts, parts, parts_of_at_most};
use super::m0009_page_event_index::is_page_event;
use super::read::timestamp;
use super::schema::{
    BatchPages, BatchTags, Batches, EditReverts, Edits, OtherEvents, RevertSignals, Tools,
};
use super::{FastMap, FastSet};
use editgroups_core::edit::EventPosition;
use editgroups_core::rulebook::{
    BatchFigures, Needs, PageAction, SignalPosition, StoredSignal, StoredState, StoredTarget,
};
use editgroups_core::{BatchKey, ChangeType, Chunk, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{ConnectionTrait, DbBackend, JoinType, QueryResult};
use std::collections::BTreeMap;

/// Values by wiki, then by a key within the wiki.
pub(crate) type ByWiki<K, V> = FastMap<String, FastMap<K, Vec<V>>>;

/// A batch read from the database for a chunk.
#[derive(Debug)]
pub(crate) struct LoadedBatch {
    pub(crate) key: BatchKey,
    pub(crate) tool_id: i64,
    pub(crate) figures: BatchFigures,
    /// All its tags, when read (batches the chunk adds edits to).
    pub(crate) tags: Option<FastSet<String>>,
}

/// What a chunk reads, as loaded from the database (the cache answers the rest).
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// The chunk's events stored before, by wiki.
    pub(crate) seen: FastMap<String, FastSet<u64>>,
    pub(crate) tool_ids: FastMap<String, i64>,
    pub(crate) batch_ids: FastMap<BatchKey, i64>,
    pub(crate) batches: FastMap<i64, LoadedBatch>,
    /// Pages found among a batch's, for the chunk's (batch, title) pairs the
    /// cache does not know.
    pub(crate) pages: FastMap<i64, FastSet<String>>,
    pub(crate) edits_by_revision: ByWiki<u64, StoredTarget<i64>>,
    pub(crate) edits_on_page: ByWiki<String, StoredTarget<i64>>,
    pub(crate) undos: ByWiki<u64, StoredSignal<i64>>,
    pub(crate) page_signals: ByWiki<String, (PageAction, StoredSignal<i64>)>,
}

/// The state the rules read: what was loaded, then the cache.
#[derive(Debug)]
pub(crate) struct Snapshot<'a> {
    pub(crate) loaded: &'a Loaded,
    pub(crate) cache: &'a Cache,
}

impl StoredState for Snapshot<'_> {
    type BatchId = i64;

    fn is_seen(&self, wiki: &str, rcid: u64) -> bool {
        self.loaded
            .seen
            .get(wiki)
            .is_some_and(|s| s.contains(&rcid))
    }

    fn batch(&self, key: &BatchKey) -> Option<(i64, BatchFigures)> {
        if let Some(&id) = self.loaded.batch_ids.get(key) {
            return self
                .loaded
                .batches
                .get(&id)
                .map(|b| (id, b.figures.clone()));
        }
        self.cache.batch(key).map(|b| (b.id, b.figures.clone()))
    }

    fn batch_by_id(&self, id: i64) -> Option<(BatchKey, BatchFigures)> {
        if let Some(b) = self.loaded.batches.get(&id) {
            return Some((b.key.clone(), b.figures.clone()));
        }
        self.cache
            .batch_by_id(id)
            .map(|b| (b.key.clone(), b.figures.clone()))
    }

    fn has_page(&self, batch: i64, title: &str) -> bool {
        self.loaded
            .pages
            .get(&batch)
            .is_some_and(|p| p.contains(title))
            || (!self.loaded.batches.contains_key(&batch)
                && self
                    .cache
                    .batch_by_id(batch)
                    .is_some_and(|b| b.pages.contains(title)))
    }

    fn has_tag(&self, batch: i64, tag: &str) -> bool {
        match self.loaded.batches.get(&batch) {
            Some(b) => b.tags.as_ref().is_some_and(|t| t.contains(tag)),
            None => self
                .cache
                .batch_by_id(batch)
                .is_some_and(|b| b.tags.contains(tag)),
        }
    }

    fn edits_with_revision(&self, wiki: &str, revision: u64, out: &mut Vec<StoredTarget<i64>>) {
        if let Some(edits) = self
            .loaded
            .edits_by_revision
            .get(wiki)
            .and_then(|w| w.get(&revision))
        {
            out.extend_from_slice(edits);
        } else if let Some(Some(edits)) = self
            .cache
            .wikis
            .get(wiki)
            .and_then(|w| w.edits.knows(revision))
        {
            out.extend_from_slice(edits);
        }
    }

    fn edits_on_page(&self, wiki: &str, title: &str, out: &mut Vec<StoredTarget<i64>>) {
        if let Some(edits) = self
            .loaded
            .edits_on_page
            .get(wiki)
            .and_then(|w| w.get(title))
        {
            out.extend_from_slice(edits);
        }
    }

    fn undos_of(&self, wiki: &str, revision: u64, out: &mut Vec<StoredSignal<i64>>) {
        if let Some(undos) = self.loaded.undos.get(wiki).and_then(|w| w.get(&revision)) {
            out.extend_from_slice(undos);
        } else if let Some(Some(undos)) = self
            .cache
            .wikis
            .get(wiki)
            .and_then(|w| w.undos.knows(revision))
        {
            out.extend_from_slice(undos);
        }
    }

    fn page_signals(
        &self,
        wiki: &str,
        title: &str,
        out: &mut Vec<(PageAction, StoredSignal<i64>)>,
    ) {
        if let Some(signals) = self
            .loaded
            .page_signals
            .get(wiki)
            .and_then(|w| w.get(title))
        {
            out.extend_from_slice(signals);
        }
    }
}

/// Which of the chunk's events were stored before.
pub(crate) async fn load_seen(
    db: &ChunkTxn,
    chunk: &Chunk,
    cache: &Cache,
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let mut by_wiki: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (wiki, rcid) in Needs::events(chunk) {
        match cache.wikis.get(wiki).and_then(|w| w.seen.knows(rcid)) {
            Some(Some(())) => {
                loaded.seen.entry(wiki.to_owned()).or_default().insert(rcid);
            }
            Some(None) => {}
            None => by_wiki
                .entry(wiki)
                .or_default()
                .push(to_i64(rcid, "rc id")?),
        }
    }
    for (wiki, rcids) in by_wiki {
        // Two lists per statement: edits and other events, in one round trip.
        let limit = (bulk::bind_limit(backend) - 16) / 2;
        for part in &parts_of_at_most(backend, &rcids, limit) {
            let others = Query::select()
                .column(OtherEvents::Rcid)
                .from(OtherEvents::Table)
                .and_where(Expr::col(OtherEvents::Wiki).eq(wiki))
                .and_where(is_one_of(backend, Expr::col(OtherEvents::Rcid), part))
                .to_owned();
            let select = Query::select()
                .column(Edits::Rcid)
                .from(Edits::Table)
                .and_where(Expr::col(Edits::Wiki).eq(wiki))
                .and_where(is_one_of(backend, Expr::col(Edits::Rcid), part))
                .union(UnionType::All, others)
                .to_owned();
            let seen = loaded.seen.entry(wiki.to_owned()).or_default();
            for row in query(db, &select, "finding re-delivered events").await? {
                let rcid: i64 = row
                    .try_get_by_index(0)
                    .map_err(|e| corrupt(format!("rc id: {e}")))?;
                seen.insert(to_u64(rcid, "rc id")?);
            }
        }
    }
    Ok(())
}

/// Loads everything else the chunk's fresh events read.
pub(crate) async fn load_needs(
    db: &ChunkTxn,
    needs: &Needs<'_>,
    cache: &mut Cache,
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    load_tools(db, needs, cache, loaded).await?;
    load_batches_by_key(db, needs, cache, loaded).await?;
    load_pages(db, needs, cache, loaded).await?;
    load_targets(db, needs, cache, loaded).await?;
    load_undos(db, needs, cache, loaded).await?;
    load_page_signals(db, needs, loaded).await
}

async fn load_tools(
    db: &ChunkTxn,
    needs: &Needs<'_>,
    cache: &Cache,
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    let mut missing: Vec<&str> = Vec::new();
    for &(_, tool, _) in &needs.batches {
        if loaded.tool_ids.contains_key(tool) || missing.last() == Some(&tool) {
            continue;
        }
        match cache.tools.get(tool) {
            Some(&id) => {
                loaded.tool_ids.insert(tool.to_owned(), id);
            }
            None => missing.push(tool),
        }
    }
    missing.sort_unstable();
    missing.dedup();
    read_tools(db, &missing, loaded).await
}

/// Reads the ids of these tools.
pub(crate) async fn read_tools(
    db: &ChunkTxn,
    tools: &[&str],
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    for part in &parts(backend, tools) {
        let select = Query::select()
            .columns([Tools::Id, Tools::Shortid])
            .from(Tools::Table)
            .and_where(is_one_of(backend, Expr::col(Tools::Shortid), part))
            .to_owned();
        for row in query(db, &select, "reading tools").await? {
            loaded
                .tool_ids
                .insert(get(&row, Tools::Shortid)?, get(&row, Tools::Id)?);
        }
    }
    Ok(())
}

/// A batch row (of [`BATCH_COLUMNS`] and the tool's short id).
fn batch_from_row(row: &QueryResult) -> Result<(i64, LoadedBatch), StoreError> {
    let id: i64 = get(row, Batches::Id)?;
    let key = BatchKey::new(
        get::<String>(row, Batches::Wiki)?,
        get::<String>(row, Tools::Shortid)?,
        get::<String>(row, Batches::Uid)?,
    );
    Ok((
        id,
        LoadedBatch {
            key,
            tool_id: get(row, Batches::ToolId)?,
            figures: figures(row)?,
            tags: None,
        },
    ))
}

/// A batch's figures from its row.
pub(crate) fn figures(row: &QueryResult) -> Result<BatchFigures, StoreError> {
    Ok(BatchFigures {
        user: get(row, Batches::User)?,
        summary: get(row, Batches::Summary)?,
        nb_edits: to_u64(get(row, Batches::NbEdits)?, "nb_edits")?,
        nb_distinct_pages: to_u64(get(row, Batches::NbDistinctPages)?, "nb_distinct_pages")?,
        nb_new_pages: to_u64(get(row, Batches::NbNewPages)?, "nb_new_pages")?,
        nb_reverted_edits: to_u64(get(row, Batches::NbRevertedEdits)?, "nb_reverted_edits")?,
        total_diffsize: get(row, Batches::TotalDiffsize)?,
        started: timestamp(get(row, Batches::StartedUs)?)?,
        ended: timestamp(get(row, Batches::EndedUs)?)?,
    })
}

/// Batch rows with their tool's short id.
pub(crate) fn batch_select() -> SelectStatement {
    let mut select = Query::select();
    for col in BATCH_COLUMNS {
        select.column((Batches::Table, col));
    }
    select
        .column((Tools::Table, Tools::Shortid))
        .from(Batches::Table)
        .inner_join(
            Tools::Table,
            Expr::col((Tools::Table, Tools::Id)).equals((Batches::Table, Batches::ToolId)),
        )
        .to_owned()
}

/// The batches the chunk adds edits to, with their tags, from the cache or the
/// database.
async fn load_batches_by_key(
    db: &ChunkTxn,
    needs: &Needs<'_>,
    cache: &mut Cache,
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let mut missing: BTreeMap<(&str, i64), Vec<&str>> = BTreeMap::new();
    for &(wiki, tool, uid) in &needs.batches {
        let key = BatchKey::new(wiki, tool, uid);
        if cache.batch(&key).is_some() {
            cache.touch(&key);
            continue;
        }
        if let Some(&tool_id) = loaded.tool_ids.get(tool) {
            missing.entry((wiki, tool_id)).or_default().push(uid);
        }
    }
    let mut ids = Vec::new();
    for ((wiki, tool_id), uids) in missing {
        for part in &parts(backend, &uids) {
            let select = batch_select()
                .and_where(Expr::col((Batches::Table, Batches::Wiki)).eq(wiki))
                .and_where(Expr::col((Batches::Table, Batches::ToolId)).eq(tool_id))
                .and_where(is_one_of(
                    backend,
                    Expr::col((Batches::Table, Batches::Uid)),
                    part,
                ))
                .to_owned();
            for row in query(db, &select, "reading batches").await? {
                let (id, mut batch) = batch_from_row(&row)?;
                batch.tags = Some(FastSet::default());
                loaded.batch_ids.insert(batch.key.clone(), id);
                loaded.batches.insert(id, batch);
                ids.push(id);
            }
        }
    }
    for part in &parts(backend, &ids) {
        let select = Query::select()
            .columns([BatchTags::BatchId, BatchTags::Tag])
            .from(BatchTags::Table)
            .and_where(is_one_of(backend, Expr::col(BatchTags::BatchId), part))
            .to_owned();
        for row in query(db, &select, "reading batch tags").await? {
            let id: i64 = get(&row, BatchTags::BatchId)?;
            if let Some(tags) = loaded.batches.get_mut(&id).and_then(|b| b.tags.as_mut()) {
                tags.insert(get(&row, BatchTags::Tag)?);
            }
        }
    }
    Ok(())
}

/// Which of the chunk's (batch, title) pairs are stored, for batches whose
/// pages the cache does not hold whole.
async fn load_pages(
    db: &ChunkTxn,
    needs: &Needs<'_>,
    cache: &Cache,
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    let mut pairs: Vec<(i64, String)> = Vec::new();
    for &((wiki, tool, uid), title) in &needs.pages {
        let key = BatchKey::new(wiki, tool, uid);
        if let Some(&id) = loaded.batch_ids.get(&key) {
            pairs.push((id, title.to_owned()));
        } else if let Some(b) = cache.batch(&key)
            && !b.pages_complete
            && !b.pages.contains(title)
        {
            pairs.push((b.id, title.to_owned()));
        }
    }
    #[cfg(feature = "postgres")]
    if db.get_database_backend() == DbBackend::Postgres {
        return load_pages_postgres(db, pairs, loaded).await;
    }
    let half = (bulk::bind_limit(db.get_database_backend()) - 16) / 2;
    // Exact (batch, title) pairs: one primary-key probe each.
    let max_bytes = max_list_bytes(db.get_database_backend());
    for part in &padded_parts(&pairs, half, max_bytes) {
        let select = Query::select()
            .columns([BatchPages::BatchId, BatchPages::Title])
            .from(BatchPages::Table)
            .and_where(
                Expr::tuple([Expr::col(BatchPages::BatchId), Expr::col(BatchPages::Title)])
                    .in_tuples(part.iter().cloned()),
            )
            .to_owned();
        remember_pages(query(db, &select, "reading batch pages").await?, loaded)?;
    }
    Ok(())
}

/// Stored (batch, title) rows, as loaded pages.
fn remember_pages(rows: Vec<QueryResult>, loaded: &mut Loaded) -> Result<(), StoreError> {
    for row in rows {
        loaded
            .pages
            .entry(get(&row, BatchPages::BatchId)?)
            .or_default()
            .insert(get(&row, BatchPages::Title)?);
    }
    Ok(())
}

/// [`load_pages`] on PostgreSQL: the pairs bound as two arrays, whatever their
/// number. (A list of pairs written out is an expression as deep as it is long:
/// PostgreSQL refuses one of a few thousand pairs, "stack depth limit exceeded".)
#[cfg(feature = "postgres")]
async fn load_pages_postgres(
    db: &ChunkTxn,
    pairs: Vec<(i64, String)>,
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    use sea_orm::sea_query::{ArrayType, Iden, Value};
    if pairs.is_empty() {
        return Ok(());
    }
    let (ids, titles): (Vec<Value>, Vec<Value>) = pairs
        .into_iter()
        .map(|(id, title)| (Value::from(id), Value::from(title)))
        .unzip();
    let sql = format!(
        r#"SELECT "{id}", "{title}" FROM "{table}" WHERE ("{id}", "{title}") IN (SELECT * FROM unnest($1::bigint[], $2::text[]))"#,
        id = BatchPages::BatchId.to_string(),
        title = BatchPages::Title.to_string(),
        table = BatchPages::Table.to_string(),
    );
    let statement = sea_orm::Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [
            Value::Array(ArrayType::BigInt, Some(Box::new(ids))),
            Value::Array(ArrayType::String, Some(Box::new(titles))),
        ],
    );
    let rows = db
        .query_all_raw(statement)
        .await
        .map_err(|e| super::error::db_error("reading batch pages", e))?;
    remember_pages(rows, loaded)
}

/// Stored edits with their revert marks: the columns the revert rules read.
fn target_select() -> SelectStatement {
    Query::select()
        .columns([
            (Edits::Table, Edits::Wiki),
            (Edits::Table, Edits::Rcid),
            (Edits::Table, Edits::BatchId),
            (Edits::Table, Edits::ChangeType),
            (Edits::Table, Edits::LogType),
            (Edits::Table, Edits::LogAction),
            (Edits::Table, Edits::NewRevision),
            (Edits::Table, Edits::Title),
            (Edits::Table, Edits::TimestampUs),
            (Edits::Table, Edits::Reverted),
        ])
        .columns([
            (EditReverts::Table, EditReverts::ByRcid),
            (EditReverts::Table, EditReverts::ByUs),
            (EditReverts::Table, EditReverts::ByBatchId),
        ])
        .from(Edits::Table)
        .join(
            JoinType::LeftJoin,
            EditReverts::Table,
            Expr::col((EditReverts::Table, EditReverts::Wiki))
                .equals((Edits::Table, Edits::Wiki))
                .and(
                    Expr::col((EditReverts::Table, EditReverts::Rcid))
                        .equals((Edits::Table, Edits::Rcid)),
                ),
        )
        .to_owned()
}

/// A stored edit as the revert rules see it, and its title and revision.
fn target_from_row(
    row: &QueryResult,
) -> Result<(StoredTarget<i64>, String, Option<u64>), StoreError> {
    let rcid = to_u64(get(row, Edits::Rcid)?, "rc id")?;
    let change_type = ChangeType::from_parts(
        &get::<String>(row, Edits::ChangeType)?,
        get::<Option<String>>(row, Edits::LogType)?.as_deref(),
        get::<Option<String>>(row, Edits::LogAction)?.as_deref(),
    );
    let reverted: bool = get(row, Edits::Reverted)?;
    let by_rcid: Option<i64> = get(row, EditReverts::ByRcid)?;
    let by_us: Option<i64> = get(row, EditReverts::ByUs)?;
    let reverted_at = match (reverted, by_rcid, by_us) {
        (false, _, _) => None,
        (true, Some(rcid), Some(us)) => Some(SignalPosition::Known(EventPosition {
            timestamp: timestamp(us)?,
            rcid: to_u64(rcid, "rc id")?,
        })),
        // Reverted before provenance was kept.
        (true, _, _) => Some(SignalPosition::Unknown),
    };
    let revision: Option<i64> = get(row, Edits::NewRevision)?;
    let revision_u64 = revision.map(|r| to_u64(r, "revision")).transpose()?;
    Ok((
        StoredTarget {
            rcid,
            batch: get(row, Edits::BatchId)?,
            revision: revision.map(|r| to_u64(r, "revision")).transpose()?,
            position: EventPosition {
                timestamp: timestamp(get(row, Edits::TimestampUs)?)?,
                rcid,
            },
            creates_page: change_type.creates_page(),
            is_delete: change_type.is_delete(),
            reverted_at,
            reverted_by_batch: if reverted {
                get(row, EditReverts::ByBatchId)?
            } else {
                None
            },
        },
        get(row, Edits::Title)?,
        revision_u64,
    ))
}

/// The stored edits the chunk's undos, deletions and restores may revert, and
/// their batches.
async fn load_targets(
    db: &ChunkTxn,
    needs: &Needs<'_>,
    cache: &Cache,
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let mut batch_ids: FastSet<i64> = FastSet::default();
    let mut unknown: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for &(wiki, revision) in &needs.undone_revisions {
        match cache.wikis.get(wiki).and_then(|w| w.edits.knows(revision)) {
            Some(edits) => batch_ids.extend(edits.into_iter().flatten().map(|e| e.batch)),
            None => unknown
                .entry(wiki)
                .or_default()
                .push(to_i64(revision, "revision")?),
        }
    }
    for (wiki, revisions) in unknown {
        let found = loaded.edits_by_revision.entry(wiki.to_owned()).or_default();
        for &revision in &revisions {
            // Known now: none unless found below.
            found.entry(to_u64(revision, "revision")?).or_default();
        }
        for part in &parts(backend, &revisions) {
            let select = target_select()
                .and_where(Expr::col((Edits::Table, Edits::Wiki)).eq(wiki))
                .and_where(is_one_of(
                    backend,
                    Expr::col((Edits::Table, Edits::NewRevision)),
                    part,
                ))
                .to_owned();
            for row in query(db, &select, "finding undone edits").await? {
                let (target, _, revision) = target_from_row(&row)?;
                batch_ids.insert(target.batch);
                if let Some(revision) = revision {
                    found.entry(revision).or_default().push(target);
                }
            }
        }
    }
    let mut by_wiki: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &(wiki, title) in &needs.signal_titles {
        by_wiki.entry(wiki).or_default().push(title);
    }
    for (wiki, titles) in by_wiki {
        let found = loaded.edits_on_page.entry(wiki.to_owned()).or_default();
        for part in &parts(backend, &titles) {
            let select = page_events_select(backend, wiki, part);
            for row in query(db, &select, "finding deleted or restored edits").await? {
                let (target, title, _) = target_from_row(&row)?;
                batch_ids.insert(target.batch);
                found.entry(title).or_default().push(target);
            }
        }
    }
    let missing: Vec<i64> = batch_ids
        .into_iter()
        .filter(|id| !loaded.batches.contains_key(id) && cache.batch_by_id(*id).is_none())
        .collect();
    for part in &parts(backend, &missing) {
        let select = batch_select()
            .and_where(is_one_of(
                backend,
                Expr::col((Batches::Table, Batches::Id)),
                part,
            ))
            .to_owned();
        for row in query(db, &select, "reading batches of reverted edits").await? {
            let (id, batch) = batch_from_row(&row)?;
            loaded.batches.insert(id, batch);
        }
    }
    Ok(())
}

/// The stored creations, uploads, deletions and restores of some pages of a
/// wiki (through the partial index of `m0009_page_event_index`, but on MySQL).
fn page_events_select(backend: DbBackend, wiki: &str, titles: &[&str]) -> SelectStatement {
    target_select()
        .and_where(Expr::col((Edits::Table, Edits::Wiki)).eq(wiki))
        .and_where(is_one_of(
            backend,
            Expr::col((Edits::Table, Edits::Title)),
            titles,
        ))
        .and_where(is_page_event())
        .to_owned()
}

/// A stored revert signal.
fn signal_from_row(row: &QueryResult) -> Result<StoredSignal<i64>, StoreError> {
    let rcid: Option<i64> = get(row, RevertSignals::Rcid)?;
    let us: Option<i64> = get(row, RevertSignals::TimestampUs)?;
    let rcid = rcid.map(|r| to_u64(r, "rc id")).transpose()?;
    let position = match (rcid, us) {
        (Some(rcid), Some(us)) => SignalPosition::Known(EventPosition {
            timestamp: timestamp(us)?,
            rcid,
        }),
        _ => SignalPosition::Unknown,
    };
    Ok(StoredSignal {
        rcid,
        position,
        batch: get(row, RevertSignals::BatchId)?,
    })
}

fn signal_select() -> SelectStatement {
    Query::select()
        .columns([
            RevertSignals::Action,
            RevertSignals::Revision,
            RevertSignals::Title,
            RevertSignals::Rcid,
            RevertSignals::TimestampUs,
            RevertSignals::BatchId,
        ])
        .from(RevertSignals::Table)
        .to_owned()
}

/// The stored undos of the revisions the chunk's edits made.
async fn load_undos(
    db: &ChunkTxn,
    needs: &Needs<'_>,
    cache: &Cache,
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let mut unknown: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for &(wiki, revision) in &needs.made_revisions {
        if cache
            .wikis
            .get(wiki)
            .and_then(|w| w.undos.knows(revision))
            .is_none()
        {
            unknown
                .entry(wiki)
                .or_default()
                .push(to_i64(revision, "revision")?);
        }
    }
    for (wiki, revisions) in unknown {
        let found = loaded.undos.entry(wiki.to_owned()).or_default();
        for &revision in &revisions {
            found.entry(to_u64(revision, "revision")?).or_default();
        }
        for part in &parts(backend, &revisions) {
            let select = signal_select()
                .and_where(Expr::col(RevertSignals::Wiki).eq(wiki))
                .and_where(Expr::col(RevertSignals::Action).eq("undo"))
                .and_where(is_one_of(backend, Expr::col(RevertSignals::Revision), part))
                .to_owned();
            for row in query(db, &select, "reading undos").await? {
                let revision: Option<i64> = get(&row, RevertSignals::Revision)?;
                if let Some(revision) = revision {
                    found
                        .entry(to_u64(revision, "revision")?)
                        .or_default()
                        .push(signal_from_row(&row)?);
                }
            }
        }
    }
    Ok(())
}

/// The stored deletions and restores of the pages the chunk's edits create or
/// delete.
async fn load_page_signals(
    db: &ChunkTxn,
    needs: &Needs<'_>,
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let mut by_wiki: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &(wiki, title) in &needs.page_titles {
        by_wiki.entry(wiki).or_default().push(title);
    }
    for (wiki, titles) in by_wiki {
        let found = loaded.page_signals.entry(wiki.to_owned()).or_default();
        for part in &parts(backend, &titles) {
            let select = signal_select()
                .and_where(Expr::col(RevertSignals::Wiki).eq(wiki))
                .and_where(is_one_of(backend, Expr::col(RevertSignals::Title), part))
                .to_owned();
            for row in query(db, &select, "reading deletions and restores").await? {
                let action = match get::<String>(&row, RevertSignals::Action)?.as_str() {
                    "delete" => PageAction::Delete,
                    "restore" => PageAction::Restore,
                    _ => continue,
                };
                let title: Option<String> = get(&row, RevertSignals::Title)?;
                if let Some(title) = title {
                    found
                        .entry(title)
                        .or_default()
                        .push((action, signal_from_row(&row)?));
                }
            }
        }
    }
    Ok(())
}

/// The columns of a batch row.
pub(crate) const BATCH_COLUMNS: [Batches; 13] = [
    Batches::Id,
    Batches::Wiki,
    Batches::Uid,
    Batches::User,
    Batches::Summary,
    Batches::NbEdits,
    Batches::NbDistinctPages,
    Batches::NbNewPages,
    Batches::NbRevertedEdits,
    Batches::TotalDiffsize,
    Batches::StartedUs,
    Batches::EndedUs,
    Batches::ToolId,
];

#[cfg(test)]
mod tests {
    use super::super::SqlStore;
    use super::super::m0009_page_event_index::PAGE_EVENT_INDEX;
    use super::page_events_select;
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

    /// The plan the database makes for the page-event lookup (`explain` is the
    /// backend's way of asking), one line per row.
    async fn plan(store: &SqlStore, explain: &str, setup: Option<&str>) -> String {
        let backend = store.db.get_database_backend();
        let select = page_events_select(backend, "wikidatawiki", &["Q1", "Q2"]);
        let built = backend.build(&select);
        let txn = store.db.begin().await.unwrap();
        if let Some(setup) = setup {
            txn.execute_unprepared(setup).await.unwrap();
        }
        let statement = Statement {
            sql: format!("{explain} {}", built.sql),
            ..built
        };
        let rows = txn.query_all_raw(statement).await.unwrap();
        let lines: Vec<String> = rows
            .iter()
            .map(|row| {
                // SQLite's `detail` is its fourth column; PostgreSQL has one.
                row.try_get_by_index::<String>(3)
                    .or_else(|_| row.try_get_by_index::<String>(0))
                    .unwrap()
            })
            .collect();
        txn.rollback().await.unwrap();
        lines.join("\n")
    }

    /// The lookup's condition is the index's, so the planner can use the index
    /// (were they to differ, it would read every edit of the wiki instead).
    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_finds_page_events_through_the_partial_index() {
        let store = SqlStore::open("sqlite::memory:").await.unwrap();
        let plan = plan(&store, "EXPLAIN QUERY PLAN", None).await;
        assert!(plan.contains(PAGE_EVENT_INDEX), "{plan}");
    }

    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn postgres_finds_page_events_through_the_partial_index() {
        let admin_url = std::env::var("EDITGROUPS_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let name = format!("egunit_page_events_{}", std::process::id());
        let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let base = admin_url.rsplit_once('/').map_or(&*admin_url, |(b, _)| b);
        let store = SqlStore::open(&format!("{base}/{name}")).await.unwrap();
        // An empty table is read whole whatever its indexes: plan as for a
        // large one.
        let plan = plan(&store, "EXPLAIN", Some("SET LOCAL enable_seqscan = off")).await;
        store.db.clone().close().await.unwrap();
        admin
            .execute_unprepared(&format!("DROP DATABASE {name}"))
            .await
            .unwrap();
        assert!(plan.contains(PAGE_EVENT_INDEX), "{plan}");
    }
}
