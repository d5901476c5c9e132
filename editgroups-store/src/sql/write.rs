//! Writing what the rules decided about a chunk, and remembering it in the
//! cache once committed.

use super::apply::{get, query, source_key, to_i64};
use super::bulk::{self, Col, Conflict};
use super::cache::{Cache, CachedBatch};
use super::chunk_txn::ChunkTxn;
use super::error::backend as store_error;
use super::lists::{is_one_of, parts};
use super::load::{Loaded, read_tools};
use super::minutes::{self, MinuteCounts};
use super::read::micros;
use super::schema::{
    BatchPages, BatchTags, Batches, Cursors, EditReverts, Edits, OtherEvents, RevertLinks,
    RevertSignals, Tools,
};
use super::{FastMap, FastSet};
use editgroups_core::rulebook::{
    BatchRef, Decision, PageAction, Provenance, SignalPosition, SignalTarget, StoredSignal,
    StoredTarget,
};
use editgroups_core::{BatchKey, Chunk, Edit, StoreError};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query, Value};
use std::collections::BTreeMap;

/// A cursor row: the encoded cursor and the latest event time (µs).
pub(crate) type CursorRow = (Option<String>, Option<i64>);

/// The stored cursor row of a source, from the cache or the database.
pub(crate) async fn cursor_row(
    txn: &ChunkTxn,
    source: &str,
    cache: &Cache,
) -> Result<Option<CursorRow>, StoreError> {
    let key = source_key(source);
    if let Some(row) = cache.cursors.get(&key) {
        return Ok(Some(row.clone()));
    }
    let select = Query::select()
        .columns([Cursors::Cursor, Cursors::LatestEventUs])
        .from(Cursors::Table)
        .and_where(Expr::col(Cursors::SourceKey).eq(key))
        .to_owned();
    match query(txn, &select, "reading the cursor").await?.first() {
        Some(row) => Ok(Some((
            get(row, Cursors::Cursor)?,
            get(row, Cursors::LatestEventUs)?,
        ))),
        None => Ok(None),
    }
}

/// A decision on its way to the database.
pub(crate) struct Writer<'t> {
    txn: &'t ChunkTxn,
    chunk: Chunk,
    decision: Decision<i64>,
    loaded: Loaded,
    cursor_row: Option<CursorRow>,
    /// The tool id of each stored batch outcome.
    tools_of: Vec<Option<i64>>,
}

/// What a committed chunk teaches the cache, per wiki.
#[derive(Debug, Default)]
struct WikiWrites {
    seen: Vec<u64>,
    undos: Vec<(u64, StoredSignal<i64>)>,
    edits: Vec<(u64, StoredTarget<i64>)>,
    /// Revert marks of stored edits: (rc id, revision, reverted at, reverting
    /// batch).
    marks: Vec<(u64, u64, SignalPosition, Option<i64>)>,
}

/// What a written chunk teaches the cache.
#[derive(Debug)]
pub(crate) struct Written {
    wikis: Vec<(String, WikiWrites)>,
    batches: Vec<CachedBatch>,
    /// Batches the chunk changed that the cache cannot hold whole (read only to
    /// count a revert): their cached copies, if any, get these figures.
    updated: Vec<(BatchKey, editgroups_core::rulebook::BatchFigures)>,
    tools: FastMap<String, i64>,
    cursor: Option<(String, CursorRow)>,
}

impl Written {
    /// Teaches the cache what was committed.
    pub(crate) fn remember(self, cache: &mut Cache) {
        if let Some((key, row)) = self.cursor {
            cache.cursors.insert(key, row);
        }
        for (wiki, writes) in &self.wikis {
            for &rcid in &writes.seen {
                cache.put_seen(wiki, rcid);
            }
            for (revision, undo) in &writes.undos {
                cache.put_undo(wiki, *revision, *undo);
            }
            for (revision, edit) in &writes.edits {
                cache.put_edit(wiki, *revision, *edit);
            }
        }
        for batch in self.batches {
            match cache.batch_mut(&batch.key) {
                Some(cached) => {
                    cached.figures = batch.figures;
                    let before = cached.pages.len();
                    cached.pages.extend(batch.pages);
                    cached.tags.extend(batch.tags);
                    let added = cached.pages.len() - before;
                    cache.added_titles(added);
                }
                None => cache.put_batch(batch),
            }
        }
        for (key, figures) in self.updated {
            if let Some(cached) = cache.batch_mut(&key) {
                cached.figures = figures;
            }
        }
        cache.tools.extend(self.tools);
        // Marks come last: they update edits the cache holds by revision.
        for (wiki, writes) in &self.wikis {
            for &(rcid, revision, at, by_batch) in &writes.marks {
                cache.mark_edit(wiki, revision, rcid, at, by_batch);
            }
        }
    }
}

impl<'t> Writer<'t> {
    pub(crate) fn new(
        txn: &'t ChunkTxn,
        chunk: Chunk,
        decision: Decision<i64>,
        loaded: Loaded,
        cursor_row: Option<CursorRow>,
        cache: &Cache,
    ) -> Self {
        let tools_of = decision
            .batches
            .iter()
            .map(|b| {
                let id = b.id?;
                match loaded.batches.get(&id) {
                    Some(batch) => Some(batch.tool_id),
                    None => cache.batch_by_id(id).map(|batch| batch.tool_id),
                }
            })
            .collect();
        Self {
            txn,
            chunk,
            decision,
            loaded,
            cursor_row,
            tools_of,
        }
    }

    /// Writes the decision; what to remember once it is committed.
    pub(crate) async fn write(mut self) -> Result<Written, StoreError> {
        let ids = self.write_batches().await?;
        let mut written = Written {
            wikis: Vec::new(),
            batches: Vec::new(),
            updated: Vec::new(),
            tools: FastMap::default(),
            cursor: None,
        };
        self.write_pages_and_tags(&ids, &mut written).await?;
        written.tools = std::mem::take(&mut self.loaded.tool_ids);
        self.write_revert_state(&ids, &mut written).await?;
        self.write_other_events(&mut written).await?;
        written.cursor = Some(self.write_cursor().await?);
        self.write_edits(&ids, &mut written).await?;
        Ok(written)
    }

    /// Tools and batches: the id of every batch outcome.
    async fn write_batches(&mut self) -> Result<Vec<i64>, StoreError> {
        let txn = self.txn;
        let backend = txn.get_database_backend();
        let mut new_tools: Vec<&str> = self
            .decision
            .batches
            .iter()
            .filter(|b| b.id.is_none() && !self.loaded.tool_ids.contains_key(&b.key.tool))
            .map(|b| b.key.tool.as_str())
            .collect();
        new_tools.sort_unstable();
        new_tools.dedup();
        if !new_tools.is_empty() {
            let rows = new_tools.iter().map(|t| vec![(*t).into()]).collect();
            bulk::insert(
                txn,
                &Tools::Table,
                &[&Tools::Shortid],
                rows,
                Conflict::Fail,
                "adding tools",
            )
            .await?;
            read_tools(txn, &new_tools, &mut self.loaded).await?;
        }
        let tool_id = |loaded: &Loaded, tool: &str| {
            loaded
                .tool_ids
                .get(tool)
                .copied()
                .ok_or_else(|| store_error(format!("tool {tool} has no id after insertion")))
        };
        let row = |key: &BatchKey, f: &editgroups_core::rulebook::BatchFigures, tool: i64| {
            Ok::<_, StoreError>(vec![
                key.wiki.as_str().into(),
                tool.into(),
                key.uid.as_str().into(),
                f.user.as_str().into(),
                f.summary.as_str().into(),
                counter(f.nb_edits)?.into(),
                counter(f.nb_distinct_pages)?.into(),
                counter(f.nb_new_pages)?.into(),
                counter(f.nb_reverted_edits)?.into(),
                f.total_diffsize.into(),
                micros(f.started).into(),
                micros(f.ended).into(),
            ])
        };
        let mut new_rows = Vec::new();
        let mut new_keys: BTreeMap<(&str, i64), Vec<&str>> = BTreeMap::new();
        let mut changed_rows = Vec::new();
        for (b, tool) in self.decision.batches.iter().zip(&self.tools_of) {
            match b.id {
                None => {
                    let tool = tool_id(&self.loaded, &b.key.tool)?;
                    new_rows.push(row(&b.key, &b.figures, tool)?);
                    new_keys
                        .entry((b.key.wiki.as_str(), tool))
                        .or_default()
                        .push(b.key.uid.as_str());
                }
                Some(id) if b.changed => {
                    let tool = tool.ok_or_else(|| {
                        store_error(format!("batch {} was read without its tool", b.key))
                    })?;
                    let mut values = vec![id.into()];
                    values.extend(row(&b.key, &b.figures, tool)?);
                    changed_rows.push(values);
                }
                Some(_) => {}
            }
        }
        const COLUMNS: [&Col; 12] = [
            &Batches::Wiki,
            &Batches::ToolId,
            &Batches::Uid,
            &Batches::User,
            &Batches::Summary,
            &Batches::NbEdits,
            &Batches::NbDistinctPages,
            &Batches::NbNewPages,
            &Batches::NbRevertedEdits,
            &Batches::TotalDiffsize,
            &Batches::StartedUs,
            &Batches::EndedUs,
        ];
        bulk::insert(
            txn,
            &Batches::Table,
            &COLUMNS,
            new_rows,
            Conflict::Fail,
            "adding batches",
        )
        .await?;
        if !changed_rows.is_empty() {
            // Existing rows, by id: the conflict overwrites the counters alone.
            let mut with_id: Vec<&Col> = vec![&Batches::Id];
            with_id.extend(COLUMNS);
            bulk::insert(
                txn,
                &Batches::Table,
                &with_id,
                changed_rows,
                Conflict::Update {
                    key: &[&Batches::Id],
                    columns: &COLUMNS[5..],
                },
                "updating batches",
            )
            .await?;
        }
        // The ids of the new batches.
        let mut found: FastMap<(String, i64, String), i64> = FastMap::default();
        for ((wiki, tool), uids) in new_keys {
            for part in &parts(backend, &uids) {
                let select = Query::select()
                    .columns([Batches::Id, Batches::Uid])
                    .from(Batches::Table)
                    .and_where(Expr::col(Batches::Wiki).eq(wiki))
                    .and_where(Expr::col(Batches::ToolId).eq(tool))
                    .and_where(is_one_of(backend, Expr::col(Batches::Uid), part))
                    .to_owned();
                for r in query(txn, &select, "reading new batch ids").await? {
                    found.insert(
                        (wiki.to_owned(), tool, get::<String>(&r, Batches::Uid)?),
                        get(&r, Batches::Id)?,
                    );
                }
            }
        }
        self.decision
            .batches
            .iter()
            .map(|b| match b.id {
                Some(id) => Ok(id),
                None => {
                    let tool = tool_id(&self.loaded, &b.key.tool)?;
                    found
                        .get(&(b.key.wiki.clone(), tool, b.key.uid.clone()))
                        .copied()
                        .ok_or_else(|| {
                            store_error(format!("batch {} has no id after insertion", b.key))
                        })
                }
            })
            .collect()
    }

    /// New pages and tags of batches; the batches to remember.
    async fn write_pages_and_tags(
        &mut self,
        ids: &[i64],
        written: &mut Written,
    ) -> Result<(), StoreError> {
        let mut pages = Vec::new();
        let mut tags = Vec::new();
        for (outcome, &id) in self.decision.batches.iter().zip(ids) {
            for &i in &outcome.new_pages {
                if let Some(item) = self.chunk.edits.get(i) {
                    pages.push(vec![id.into(), item.edit.title.as_str().into()]);
                }
            }
            for tag in &outcome.new_tags {
                tags.push(vec![id.into(), tag.as_str().into()]);
            }
        }
        bulk::insert(
            self.txn,
            &BatchPages::Table,
            &[&BatchPages::BatchId, &BatchPages::Title],
            pages,
            Conflict::Fail,
            "adding batch pages",
        )
        .await?;
        bulk::insert(
            self.txn,
            &BatchTags::Table,
            &[&BatchTags::BatchId, &BatchTags::Tag],
            tags,
            Conflict::Fail,
            "adding batch tags",
        )
        .await?;
        // What the cache keeps of them.
        for ((outcome, &id), tool) in self
            .decision
            .batches
            .iter_mut()
            .zip(ids)
            .zip(&self.tools_of)
        {
            let new_pages: FastSet<String> = outcome
                .new_pages
                .iter()
                .filter_map(|&i| self.chunk.edits.get(i))
                .map(|item| item.edit.title.clone())
                .collect();
            let new_tags: FastSet<String> = outcome.new_tags.drain(..).collect();
            let loaded = outcome.id.and_then(|id| self.loaded.batches.remove(&id));
            let cached = match (outcome.id, loaded) {
                // Created by this chunk: all its pages and tags are known.
                (None, _) => Some(CachedBatch {
                    id,
                    tool_id: self
                        .loaded
                        .tool_ids
                        .get(&outcome.key.tool)
                        .copied()
                        .unwrap_or_default(),
                    key: outcome.key.clone(),
                    figures: outcome.figures.clone(),
                    pages: new_pages,
                    pages_complete: true,
                    tags: new_tags,
                }),
                // Read with its tags: known pages are those the chunk met.
                (Some(_), Some(b)) if b.tags.is_some() => {
                    let mut pages = self.loaded.pages.remove(&id).unwrap_or_default();
                    pages.extend(new_pages);
                    let mut tags = b.tags.unwrap_or_default();
                    tags.extend(new_tags);
                    Some(CachedBatch {
                        id,
                        tool_id: b.tool_id,
                        key: b.key,
                        figures: outcome.figures.clone(),
                        pages,
                        pages_complete: false,
                        tags,
                    })
                }
                // Read without its tags (only to count a revert).
                (Some(_), Some(_)) => None,
                // From the cache: update it in place.
                (Some(_), None) => Some(CachedBatch {
                    id,
                    tool_id: tool.unwrap_or_default(),
                    key: outcome.key.clone(),
                    figures: outcome.figures.clone(),
                    pages: new_pages,
                    pages_complete: false,
                    tags: new_tags,
                }),
            };
            match cached {
                Some(batch) => written.batches.push(batch),
                None if outcome.changed => written
                    .updated
                    .push((outcome.key.clone(), outcome.figures.clone())),
                None => {}
            }
        }
        Ok(())
    }

    /// Revert marks, their provenance, the links between batches, and the
    /// chunk's revert signals.
    async fn write_revert_state(
        &mut self,
        ids: &[i64],
        written: &mut Written,
    ) -> Result<(), StoreError> {
        let txn = self.txn;
        let resolve = |batch: Option<BatchRef<i64>>| -> Option<i64> {
            match batch? {
                BatchRef::Stored(id) => Some(id),
                BatchRef::Outcome(slot) => ids.get(slot).copied(),
            }
        };
        let mut reverts = Vec::new();
        let mut newly: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        // Provenance of the chunk's new edits that are reverted already.
        for new in &self.decision.edits {
            let (Some(by), Some(item)) = (&new.reverted_by, self.chunk.edits.get(new.index)) else {
                continue;
            };
            if let Some(row) = revert_row(&item.edit.wiki, item.edit.rcid, by, &resolve)? {
                reverts.push(row);
            }
        }
        for mark in &self.decision.reverts {
            let Some(by) = self.chunk.edits.get(mark.by) else {
                continue;
            };
            let wiki = by.edit.wiki.as_str();
            if mark.newly {
                newly
                    .entry(wiki)
                    .or_default()
                    .push(to_i64(mark.rcid, "rc id")?);
            }
            if let Some(row) = revert_row(wiki, mark.rcid, &mark.reverted_by, &resolve)? {
                reverts.push(row);
            }
            if let Some(revision) = mark.revision {
                wiki_writes(&mut written.wikis, wiki).marks.push((
                    mark.rcid,
                    revision,
                    mark.reverted_by.position,
                    resolve(mark.reverted_by.batch),
                ));
            }
        }
        bulk::insert(
            txn,
            &EditReverts::Table,
            &[
                &EditReverts::Wiki,
                &EditReverts::Rcid,
                &EditReverts::ByRcid,
                &EditReverts::ByUs,
                &EditReverts::ByBatchId,
            ],
            reverts,
            Conflict::Update {
                key: &[&EditReverts::Wiki, &EditReverts::Rcid],
                columns: &[
                    &EditReverts::ByRcid,
                    &EditReverts::ByUs,
                    &EditReverts::ByBatchId,
                ],
            },
            "recording what reverted edits",
        )
        .await?;
        let mut minutes = MinuteCounts::default();
        for (wiki, rcids) in newly {
            for part in &parts(txn.get_database_backend(), &rcids) {
                minutes::mark_reverted(txn, wiki, part, &mut minutes).await?;
            }
        }
        minutes.write(txn).await?;
        let mut links = Vec::new();
        for link in &self.decision.links {
            let (Some(&batch), Some(reverting)) =
                (ids.get(link.batch), resolve(Some(link.reverting)))
            else {
                continue;
            };
            links.push(vec![batch.into(), reverting.into(), link.delta.into()]);
        }
        bulk::insert(
            txn,
            &RevertLinks::Table,
            &[
                &RevertLinks::BatchId,
                &RevertLinks::RevertingBatchId,
                &RevertLinks::Edits,
            ],
            links,
            Conflict::Add {
                key: &[&RevertLinks::BatchId, &RevertLinks::RevertingBatchId],
                columns: &[&RevertLinks::Edits],
            },
            "linking batches to those that reverted them",
        )
        .await?;
        let mut signals = Vec::new();
        for signal in &self.decision.signals {
            let Some(item) = self.chunk.edits.get(signal.index) else {
                continue;
            };
            let e = &item.edit;
            let batch = signal.batch.and_then(|slot| ids.get(slot).copied());
            let (action, revision, title) = match signal.target {
                SignalTarget::Revision(revision) => {
                    ("undo", Some(to_i64(revision, "revision")?), None)
                }
                SignalTarget::Page(PageAction::Delete) => ("delete", None, Some(e.title.as_str())),
                SignalTarget::Page(PageAction::Restore) => {
                    ("restore", None, Some(e.title.as_str()))
                }
            };
            signals.push(vec![
                e.wiki.as_str().into(),
                to_i64(e.rcid, "rc id")?.into(),
                action.into(),
                revision.into(),
                title.map(str::to_owned).into(),
                micros(e.timestamp).into(),
                batch.into(),
            ]);
            if let SignalTarget::Revision(revision) = signal.target {
                wiki_writes(&mut written.wikis, &e.wiki).undos.push((
                    revision,
                    StoredSignal {
                        rcid: Some(e.rcid),
                        position: SignalPosition::Known(e.position()),
                        batch,
                    },
                ));
            }
        }
        bulk::insert(
            txn,
            &RevertSignals::Table,
            &[
                &RevertSignals::Wiki,
                &RevertSignals::Rcid,
                &RevertSignals::Action,
                &RevertSignals::Revision,
                &RevertSignals::Title,
                &RevertSignals::TimestampUs,
                &RevertSignals::BatchId,
            ],
            signals,
            Conflict::Fail,
            "remembering revert signals",
        )
        .await
    }

    async fn write_other_events(&self, written: &mut Written) -> Result<(), StoreError> {
        let mut rows = Vec::with_capacity(self.decision.other_events.len());
        for &i in &self.decision.other_events {
            let Some(item) = self.chunk.edits.get(i) else {
                continue;
            };
            let e = &item.edit;
            rows.push(vec![
                e.wiki.as_str().into(),
                to_i64(e.rcid, "rc id")?.into(),
            ]);
            wiki_writes(&mut written.wikis, &e.wiki).seen.push(e.rcid);
        }
        bulk::insert(
            self.txn,
            &OtherEvents::Table,
            &[&OtherEvents::Wiki, &OtherEvents::Rcid],
            rows,
            Conflict::Fail,
            "remembering events",
        )
        .await
    }

    async fn write_cursor(&self) -> Result<(String, CursorRow), StoreError> {
        let chunk = &self.chunk;
        let (stored_cursor, stored_latest) = self.cursor_row.clone().unwrap_or((None, None));
        let cursor = match &chunk.cursor {
            Some(c) => Some(c.encode()),
            None => stored_cursor,
        };
        let latest = std::cmp::max(stored_latest, chunk.latest_event_time.map(micros));
        let key = source_key(&chunk.source);
        bulk::insert(
            self.txn,
            &Cursors::Table,
            &[
                &Cursors::SourceKey,
                &Cursors::Source,
                &Cursors::Cursor,
                &Cursors::LatestEventUs,
            ],
            vec![vec![
                key.as_str().into(),
                chunk.source.as_str().into(),
                cursor.clone().into(),
                latest.into(),
            ]],
            Conflict::Update {
                key: &[&Cursors::SourceKey],
                columns: &[&Cursors::Cursor, &Cursors::LatestEventUs],
            },
            "saving the cursor",
        )
        .await?;
        Ok((key, (cursor, latest)))
    }

    /// The chunk's attributed edits, moved into their rows (last: they consume
    /// the chunk).
    async fn write_edits(self, ids: &[i64], written: &mut Written) -> Result<(), StoreError> {
        let Self {
            txn,
            chunk,
            decision,
            ..
        } = self;
        let mut stored = decision.edits.into_iter().peekable();
        let mut edits = Vec::with_capacity(stored.len());
        let mut minutes = MinuteCounts::default();
        for (i, item) in chunk.edits.into_iter().enumerate() {
            let Some(new) = stored.next_if(|n| n.index == i) else {
                continue;
            };
            let batch = ids
                .get(new.batch)
                .copied()
                .ok_or_else(|| store_error("an edit of a batch without an id"))?;
            let edit = item.edit;
            let writes = wiki_writes(&mut written.wikis, &edit.wiki);
            writes.seen.push(edit.rcid);
            if let Some(revision) = edit.new_revision {
                let reverting = new.reverted_by.and_then(|p| match p.batch? {
                    BatchRef::Stored(id) => Some(id),
                    BatchRef::Outcome(slot) => ids.get(slot).copied(),
                });
                writes.edits.push((
                    revision,
                    StoredTarget {
                        rcid: edit.rcid,
                        batch,
                        revision: Some(revision),
                        position: edit.position(),
                        creates_page: edit.change_type.creates_page(),
                        is_delete: edit.change_type.is_delete(),
                        reverted_at: new.reverted_by.map(|p| p.position),
                        reverted_by_batch: reverting,
                    },
                ));
            }
            minutes.edit(batch, micros(edit.timestamp), new.reverted_by.is_some());
            edits.push((edit, batch, new.reverted_by.is_some()));
        }
        minutes.write(txn).await?;
        #[cfg(feature = "postgres")]
        if let Some(pg) = txn.postgres() {
            return copy_edits(pg, edits).await;
        }
        let rows = edits
            .into_iter()
            .map(|(e, batch, reverted)| edit_row(e, batch, reverted));
        bulk::insert_built_lazily(
            txn,
            &Edits::Table,
            &EDIT_COLUMNS,
            rows,
            Conflict::Fail,
            "adding edits",
        )
        .await
    }
}

/// The writes of a wiki, created on first use (a chunk has one wiki or few).
fn wiki_writes<'w>(wikis: &'w mut Vec<(String, WikiWrites)>, wiki: &str) -> &'w mut WikiWrites {
    let at = match wikis.iter().position(|(w, _)| w == wiki) {
        Some(at) => at,
        None => {
            wikis.push((wiki.to_owned(), WikiWrites::default()));
            wikis.len() - 1
        }
    };
    &mut wikis[at].1
}

/// A row of `editgroups_edit_reverts`, when the reverter is known.
fn revert_row(
    wiki: &str,
    rcid: u64,
    by: &Provenance<i64>,
    resolve: &impl Fn(Option<BatchRef<i64>>) -> Option<i64>,
) -> Result<Option<Vec<Value>>, StoreError> {
    let (SignalPosition::Known(at), Some(by_rcid)) = (by.position, by.rcid) else {
        return Ok(None);
    };
    Ok(Some(vec![
        wiki.into(),
        to_i64(rcid, "rc id")?.into(),
        to_i64(by_rcid, "rc id")?.into(),
        micros(at.timestamp).into(),
        resolve(by.batch).into(),
    ]))
}

/// An edit's row, its strings moved in.
fn edit_row(e: Edit, batch: i64, reverted: bool) -> Result<Vec<Value>, StoreError> {
    let mut row = Vec::with_capacity(EDIT_COLUMNS.len());
    put_edit(&mut row, e, batch, reverted)?;
    Ok(row)
}

/// Where a row's values go, column by column: sea-query values, or
/// PostgreSQL's binary `COPY` rows.
trait RowValues {
    fn bigint(&mut self, value: Option<i64>);
    fn boolean(&mut self, value: Option<bool>);
    /// A text, moved in where it is kept.
    fn text(&mut self, value: Option<String>) -> Result<(), StoreError>;
    fn text_ref(&mut self, value: Option<&str>) -> Result<(), StoreError>;
}

impl RowValues for Vec<Value> {
    fn bigint(&mut self, value: Option<i64>) {
        self.push(Value::BigInt(value));
    }
    fn boolean(&mut self, value: Option<bool>) {
        self.push(Value::Bool(value));
    }
    fn text(&mut self, value: Option<String>) -> Result<(), StoreError> {
        self.push(Value::String(value));
        Ok(())
    }
    fn text_ref(&mut self, value: Option<&str>) -> Result<(), StoreError> {
        self.push(Value::String(value.map(str::to_owned)));
        Ok(())
    }
}

#[cfg(feature = "postgres")]
impl RowValues for super::copy::BinaryRows {
    fn bigint(&mut self, value: Option<i64>) {
        super::copy::BinaryRows::bigint(self, value);
    }
    fn boolean(&mut self, value: Option<bool>) {
        super::copy::BinaryRows::boolean(self, value);
    }
    fn text(&mut self, value: Option<String>) -> Result<(), StoreError> {
        super::copy::BinaryRows::text(self, value.as_deref())
    }
    fn text_ref(&mut self, value: Option<&str>) -> Result<(), StoreError> {
        super::copy::BinaryRows::text(self, value)
    }
}

/// An edit's values in the order of [`EDIT_COLUMNS`], each of its column's type.
fn put_edit(
    row: &mut impl RowValues,
    e: Edit,
    batch: i64,
    reverted: bool,
) -> Result<(), StoreError> {
    let revision = |v: Option<u64>| v.map(|v| to_i64(v, "revision id")).transpose();
    row.text(Some(e.wiki))?;
    row.bigint(Some(to_i64(e.rcid, "rc id")?));
    row.bigint(Some(batch));
    row.text_ref(Some(e.change_type.type_name()))?;
    row.text_ref(e.change_type.log_type())?;
    row.text_ref(e.change_type.log_action())?;
    row.bigint(Some(e.namespace));
    row.text(Some(e.title))?;
    row.bigint(revision(e.old_revision)?);
    row.bigint(revision(e.new_revision)?);
    row.bigint(e.old_length);
    row.bigint(e.new_length);
    row.bigint(Some(micros(e.timestamp)));
    row.text(e.user)?;
    row.boolean(e.bot);
    row.boolean(e.minor);
    row.boolean(e.patrolled);
    row.text(e.comment)?;
    row.text(e.parsedcomment)?;
    row.text(e.uri)?;
    row.boolean(Some(reverted));
    Ok(())
}

/// PostgreSQL: the edits in one binary `COPY`.
#[cfg(feature = "postgres")]
async fn copy_edits(
    pg: &super::chunk_txn::sqlx_txn::SqlxTxn<sea_orm::sqlx::Postgres>,
    edits: Vec<(Edit, i64, bool)>,
) -> Result<(), StoreError> {
    use super::copy::BinaryRows;
    // About what a Wikidata edit's row takes, so that the data is allocated once.
    const BYTES_PER_EDIT: usize = 400;
    let mut rows = BinaryRows::new(EDIT_COLUMNS.len(), edits.len() * BYTES_PER_EDIT)?;
    for (e, batch, reverted) in edits {
        rows.row();
        put_edit(&mut rows, e, batch, reverted)?;
    }
    let count = rows.len();
    let copied = pg
        .copy_in(
            &bulk::copy_statement(&Edits::Table, &EDIT_COLUMNS),
            rows.finish(),
        )
        .await
        .map_err(|e| super::error::db_error("adding edits", e))?;
    if copied != count as u64 {
        return Err(store_error(format!(
            "adding edits: {copied} rows copied of {count}"
        )));
    }
    Ok(())
}

fn counter(value: u64) -> Result<i64, StoreError> {
    to_i64(value, "counter")
}

/// The columns of an edit row, as inserted.
pub(crate) const EDIT_COLUMNS: [&Col; 21] = [
    &Edits::Wiki,
    &Edits::Rcid,
    &Edits::BatchId,
    &Edits::ChangeType,
    &Edits::LogType,
    &Edits::LogAction,
    &Edits::Namespace,
    &Edits::Title,
    &Edits::OldRevision,
    &Edits::NewRevision,
    &Edits::OldLength,
    &Edits::NewLength,
    &Edits::TimestampUs,
    &Edits::User,
    &Edits::Bot,
    &Edits::Minor,
    &Edits::Patrolled,
    &Edits::Comment,
    &Edits::Parsedcomment,
    &Edits::Uri,
    &Edits::Reverted,
];
