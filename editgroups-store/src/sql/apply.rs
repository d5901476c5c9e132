//! Applying a chunk in one transaction.
//!
//! The chunk is applied in three steps, with a fixed number of statements whatever
//! its size:
//! 1. **load**: the part of the stored state the chunk can read: which of its
//!    events were seen, its batches, their pages and tags among the chunk's
//!    titles, the edits its undos, deletions and restores may revert, the undone
//!    revisions and latest deletions and restores of its pages, the source's
//!    cursor. What the store's own earlier commits wrote comes from its cache
//!    (see `cache`); the rest from a few `IN (...)` queries;
//! 2. **simulate**: the rules of the reference `MemoryStore`, event by event in
//!    chunk order, on that partial state;
//! 3. **write**: what changed, with multi-row statements.
//!
//! Writers are serialised (SQLite: one connection and `BEGIN IMMEDIATE`;
//! PostgreSQL and MySQL: a row lock taken first), so the loaded state cannot change
//! under a transaction.

use super::bulk::{self, Col, Conflict};
use super::cache::{Cache, CachedBatch, CachedEdit, WikiCache};
use super::error::{backend as store_error, corrupt, db_error};
use super::migration::LOCK_ROW;
use super::read::{micros, timestamp};
use super::schema::{
    BatchPages, BatchTags, Batches, Cursors, Edits, Meta, OtherEvents, PageEvents, Tools, Undone,
};
use super::{FastMap, FastSet};
use editgroups_core::edit::{Edit, EventPosition, Timestamp};
use editgroups_core::revert::{RevertSignal, revert_signal};
use editgroups_core::store::{SUMMARY_MAX_CHARS, truncate_chars};
use editgroups_core::tags::extract_tags;
use editgroups_core::{ApplyReport, BatchKey, ChangeType, Chunk, StoreError, ToolMatch};
use sea_orm::sea_query::{
    Expr, ExprTrait, Func, Iden, LockType, Query, SelectStatement, UnionType, Value,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, QueryResult,
    SqliteTransactionMode, TransactionOptions, TransactionTrait, TryGetable,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

type EventKey = (String, u64);
type TitleKey = (String, String);

/// Longest texts the key columns hold, in characters.
const MAX_WIKI: usize = 64;
const MAX_TOOL: usize = 64;
const MAX_KEY_TEXT: usize = 255;

/// Applies a chunk: everything or nothing. `cache` is what the store remembers of
/// its previous commits; it is updated after this commit, or dropped on failure.
pub(crate) async fn apply(
    db: &DatabaseConnection,
    chunk: &Chunk,
    cache: &mut Cache,
) -> Result<ApplyReport, StoreError> {
    validate(chunk)?;
    let result = apply_in_transaction(db, chunk, cache).await;
    if result.is_err() {
        // Whether the commit happened is unknown, and the cache may already hold
        // the chunk: the next chunk reads afresh.
        cache.clear();
    }
    result
}

/// The transaction of [`apply`]. The cache may hold the chunk when it fails.
async fn apply_in_transaction(
    db: &DatabaseConnection,
    chunk: &Chunk,
    cache: &mut Cache,
) -> Result<ApplyReport, StoreError> {
    let started = Instant::now();
    let backend = db.get_database_backend();
    let options = TransactionOptions {
        sqlite_transaction_mode: (backend == DbBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    let txn = db
        .begin_with_options(options)
        .await
        .map_err(|e| db_error("starting a transaction", e))?;
    let mut lock = Query::select()
        .column(Meta::Value)
        .from(Meta::Table)
        .and_where(Expr::col(Meta::Name).eq(LOCK_ROW))
        .to_owned();
    if backend != DbBackend::Sqlite {
        // One writer at a time across processes: the rest of the transaction reads
        // state that must not change before it commits. (SQLite's `BEGIN
        // IMMEDIATE` already did that.)
        lock.lock(LockType::Update);
    }
    let generation: Option<i64> = match txn
        .query_one(&lock)
        .await
        .map_err(|e| db_error("locking the store for writing", e))?
    {
        Some(row) => Some(get(&row, Meta::Value)?),
        None => None,
    };
    cache.validate(generation);
    let mut work = Work::default();
    work.load(&txn, chunk, cache).await?;
    let loaded = Instant::now();
    work.simulate(chunk);
    work.write(&txn, chunk).await?;
    let next = generation.map(|g| g.wrapping_add(1));
    if let Some(next) = next {
        let bump = Query::update()
            .table(Meta::Table)
            .value(Meta::Value, next)
            .and_where(Expr::col(Meta::Name).eq(LOCK_ROW))
            .to_owned();
        txn.execute(&bump)
            .await
            .map_err(|e| db_error("recording the write", e))?;
    }
    let written = Instant::now();
    let report = work.report;
    // The cache learns the chunk while the database commits it (the commit is
    // sent before the cache work starts); a failed commit clears the cache.
    let (committed, ()) = futures::join!(txn.commit(), async { work.remember(cache, chunk) });
    committed.map_err(|e| db_error("committing the chunk", e))?;
    match next {
        Some(generation) => cache.committed(generation),
        None => cache.clear(),
    }
    tracing::debug!(
        events = chunk.edits.len(),
        load_us = (loaded - started).as_micros() as u64,
        write_us = (written - loaded).as_micros() as u64,
        commit_us = written.elapsed().as_micros() as u64,
        "chunk applied"
    );
    Ok(report)
}

/// Checks that every value fits its column, before anything is written.
fn validate(chunk: &Chunk) -> Result<(), StoreError> {
    let too_long = |what: &str, text: &str, max: usize| -> Result<(), StoreError> {
        // No text has more characters than bytes: most need no counting.
        if text.len() > max && text.chars().count() > max {
            Err(store_error(format!(
                "{what} {:?} is longer than the {max} characters the SQL store keeps",
                truncate_chars(text, 40)
            )))
        } else {
            Ok(())
        }
    };
    for item in &chunk.edits {
        let e = &item.edit;
        too_long("wiki", &e.wiki, MAX_WIKI)?;
        too_long("title", &e.title, MAX_KEY_TEXT)?;
        too_long("change type", e.change_type.type_name(), MAX_WIKI)?;
        to_i64(e.rcid, "rc id")?;
        for rev in [e.old_revision, e.new_revision].into_iter().flatten() {
            to_i64(rev, "revision id")?;
        }
        if let Some(m) = &item.attribution {
            too_long("tool", &m.tool, MAX_TOOL)?;
            too_long("batch id", &m.uid, MAX_KEY_TEXT)?;
            too_long("user", &m.user, MAX_KEY_TEXT)?;
            // Tags need no check: their patterns bound them to `MAX_TAG_CHARS`,
            // the width of the tag column.
        }
        if let Some(RevertSignal::Undo { revision }) = revert_signal(e) {
            to_i64(revision, "undone revision id")?;
        }
    }
    Ok(())
}

/// An id as the 64-bit signed integer SQL stores keep.
pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| {
        store_error(format!(
            "{what} {value} does not fit the signed 64-bit integers the SQL store keeps"
        ))
    })
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt(format!("negative {what} {value}")))
}

/// A column of a row.
pub(crate) fn get<T: TryGetable>(row: &QueryResult, col: impl Iden) -> Result<T, StoreError> {
    let name = col.to_string();
    row.try_get::<T>("", &name)
        .map_err(|e| corrupt(format!("column {name}: {e}")))
}

pub(crate) async fn query<C: ConnectionTrait>(
    db: &C,
    select: &SelectStatement,
    doing: &str,
) -> Result<Vec<QueryResult>, StoreError> {
    db.query_all(select).await.map_err(|e| db_error(doing, e))
}

/// Splits values for `IN (...)` lists under the bind limit, each list padded
/// (with its last value again) to a power of two: few statement shapes, so each is
/// prepared once per connection (see `bulk`).
fn in_chunks<T: Clone>(backend: DbBackend, items: &[T]) -> Vec<Vec<T>> {
    in_chunks_of(items, bulk::bind_limit(backend) - 16)
}

fn in_chunks_of<T: Clone>(items: &[T], limit: usize) -> Vec<Vec<T>> {
    items
        .chunks(bulk::padded_len(limit, limit))
        .map(|part| {
            let mut part = part.to_vec();
            let len = bulk::padded_len(part.len(), limit);
            if let Some(last) = part.last().cloned() {
                part.resize(len, last);
            }
            part
        })
        .collect()
}

/// A batch as the chunk sees it.
#[derive(Debug)]
struct BatchWork {
    id: Option<i64>,
    tool_id: Option<i64>,
    user: String,
    summary: String,
    nb_edits: u64,
    nb_distinct_pages: u64,
    nb_new_pages: u64,
    nb_reverted_edits: u64,
    total_diffsize: i64,
    started: Timestamp,
    ended: Timestamp,
    changed: bool,
    /// Whether `pages` holds all its pages, not only the chunk's.
    pages_complete: bool,
    /// Whether `tags` holds all its tags (a batch read only because the chunk
    /// reverts one of its edits has none read).
    tags_known: bool,
    /// Its pages among the chunk's titles, stored or added.
    pages: FastSet<String>,
    new_pages: Vec<String>,
    tags: FastSet<String>,
    new_tags: Vec<String>,
}

impl BatchWork {
    /// A batch this chunk creates, with its first edit.
    fn new(attribution: &ToolMatch, edit: &Edit) -> Self {
        Self {
            id: None,
            tool_id: None,
            user: attribution.user.clone(),
            summary: truncate_chars(&attribution.summary, SUMMARY_MAX_CHARS).to_owned(),
            nb_edits: 0,
            nb_distinct_pages: 0,
            nb_new_pages: 0,
            nb_reverted_edits: 0,
            total_diffsize: 0,
            started: edit.timestamp,
            ended: edit.timestamp,
            changed: true,
            pages_complete: true,
            tags_known: true,
            pages: FastSet::default(),
            new_pages: Vec::new(),
            tags: FastSet::default(),
            new_tags: Vec::new(),
        }
    }
}

/// A stored edit a signal may revert: its event, what the rules need, and its
/// title when it matters; grouped by batch id until the batches are known.
type TargetRow = (EventKey, EditWork, Option<String>);

/// What the revert rules need to know of an edit.
#[derive(Debug)]
struct EditWork {
    batch: BatchKey,
    position: EventPosition,
    creates_page: bool,
    is_delete: bool,
    reverted: bool,
    /// The revision it made.
    revision: Option<u64>,
    /// Whether it was stored before this chunk.
    stored: bool,
    /// Its index in the chunk when the chunk adds it.
    chunk_index: Option<usize>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Positions {
    delete: Option<EventPosition>,
    restore: Option<EventPosition>,
}

#[derive(Debug, Default)]
struct Work {
    tool_ids: FastMap<String, i64>,
    seen: FastSet<EventKey>,
    batches: FastMap<BatchKey, BatchWork>,
    edits: FastMap<EventKey, EditWork>,
    by_revision: FastMap<EventKey, Vec<EventKey>>,
    by_title: FastMap<TitleKey, Vec<EventKey>>,
    undone: FastSet<EventKey>,
    new_undone: Vec<EventKey>,
    positions: FastMap<TitleKey, Positions>,
    changed_positions: BTreeSet<TitleKey>,
    other_events: Vec<EventKey>,
    new_edits: Vec<EventKey>,
    cursor_row: Option<(Option<String>, Option<i64>)>,
    /// The cursor row as written.
    cursor_written: Option<(Option<String>, Option<i64>)>,
    report: ApplyReport,
    touched: FastSet<BatchKey>,
}

/// What the chunk's fresh events ask to load.
#[derive(Debug, Default)]
struct Wanted {
    /// (wiki, tool) → uids.
    batches: BTreeMap<(String, String), BTreeSet<String>>,
    /// (batch, title) of the chunk's attributed edits.
    pages: BTreeSet<(BatchKey, String)>,
    /// wiki → revisions its attributed edits made.
    revisions: BTreeMap<String, BTreeSet<i64>>,
    /// wiki → revisions its undos name.
    undos: BTreeMap<String, BTreeSet<i64>>,
    /// wiki → titles it deletes or restores.
    signal_titles: BTreeMap<String, BTreeSet<String>>,
    /// wiki → titles whose latest deletion or restore matters.
    position_titles: BTreeMap<String, BTreeSet<String>>,
}

impl Work {
    async fn load(
        &mut self,
        db: &DatabaseTransaction,
        chunk: &Chunk,
        cache: &mut Cache,
    ) -> Result<(), StoreError> {
        let backend = db.get_database_backend();
        load_wikis(db, chunk, cache).await?;
        self.load_seen(db, chunk, cache).await?;
        let mut wanted = Wanted::default();
        let mut first = FastSet::default();
        for item in &chunk.edits {
            let e = &item.edit;
            let key = (e.wiki.clone(), e.rcid);
            if self.seen.contains(&key) || !first.insert(key) {
                continue;
            }
            match revert_signal(e) {
                Some(RevertSignal::Undo { revision }) => {
                    wanted
                        .undos
                        .entry(e.wiki.clone())
                        .or_default()
                        .insert(to_i64(revision, "revision")?);
                }
                Some(RevertSignal::Delete { title } | RevertSignal::Restore { title }) => {
                    for map in [&mut wanted.signal_titles, &mut wanted.position_titles] {
                        map.entry(e.wiki.clone())
                            .or_default()
                            .insert(title.to_owned());
                    }
                }
                None => {}
            }
            if let Some(m) = &item.attribution {
                wanted
                    .batches
                    .entry((e.wiki.clone(), m.tool.clone()))
                    .or_default()
                    .insert(m.uid.clone());
                wanted
                    .pages
                    .insert((BatchKey::new(&e.wiki, &m.tool, &m.uid), e.title.clone()));
                if let Some(rev) = e.new_revision {
                    wanted
                        .revisions
                        .entry(e.wiki.clone())
                        .or_default()
                        .insert(to_i64(rev, "revision")?);
                }
                if e.change_type.creates_page() || e.change_type.is_delete() {
                    wanted
                        .position_titles
                        .entry(e.wiki.clone())
                        .or_default()
                        .insert(e.title.clone());
                }
            }
        }
        let tools: Vec<String> = wanted
            .batches
            .keys()
            .map(|(_, tool)| tool.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        self.load_tools(db, &tools, cache).await?;
        let attributed_ids = self.load_batches_by_key(db, &wanted, cache).await?;
        self.load_targets(db, &wanted, cache).await?;
        let pages: Vec<(i64, String)> = wanted
            .pages
            .iter()
            .filter_map(|(key, title)| {
                let batch = self.batches.get(key)?;
                let unknown = !batch.pages_complete && !batch.pages.contains(title);
                batch.id.filter(|_| unknown).map(|id| (id, title.clone()))
            })
            .collect();
        self.load_pages_and_tags(db, backend, &attributed_ids, &pages)
            .await?;
        self.load_undone(db, &wanted, cache).await?;
        self.load_positions(db, &wanted).await?;
        let source = source_key(&chunk.source);
        self.cursor_row = match cache.cursors.get(&source) {
            Some(row) => Some(row.clone()),
            None => {
                let select = Query::select()
                    .columns([Cursors::Cursor, Cursors::LatestEventUs])
                    .from(Cursors::Table)
                    .and_where(Expr::col(Cursors::SourceKey).eq(source))
                    .to_owned();
                match query(db, &select, "reading the cursor").await?.first() {
                    Some(row) => Some((
                        get(row, Cursors::Cursor)?,
                        get(row, Cursors::LatestEventUs)?,
                    )),
                    None => None,
                }
            }
        };
        Ok(())
    }

    async fn load_seen(
        &mut self,
        db: &DatabaseTransaction,
        chunk: &Chunk,
        cache: &Cache,
    ) -> Result<(), StoreError> {
        let backend = db.get_database_backend();
        let mut by_wiki: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
        for item in &chunk.edits {
            let (wiki, rcid) = (&item.edit.wiki, item.edit.rcid);
            match cache.wikis.get(wiki).and_then(|w| w.seen.knows(rcid)) {
                Some(true) => {
                    self.seen.insert((wiki.clone(), rcid));
                }
                Some(false) => {}
                None => {
                    by_wiki
                        .entry(wiki)
                        .or_default()
                        .insert(to_i64(rcid, "rc id")?);
                }
            }
        }
        for (wiki, rcids) in by_wiki {
            let rcids: Vec<i64> = rcids.into_iter().collect();
            // Two lists per statement: edits and other events, in one round trip.
            let limit = (bulk::bind_limit(backend) - 16) / 2;
            for part in &in_chunks_of(&rcids, limit) {
                let others = Query::select()
                    .column(OtherEvents::Rcid)
                    .from(OtherEvents::Table)
                    .and_where(Expr::col(OtherEvents::Wiki).eq(wiki))
                    .and_where(Expr::col(OtherEvents::Rcid).is_in(part.iter().copied()))
                    .to_owned();
                let select = Query::select()
                    .column(Edits::Rcid)
                    .from(Edits::Table)
                    .and_where(Expr::col(Edits::Wiki).eq(wiki))
                    .and_where(Expr::col(Edits::Rcid).is_in(part.iter().copied()))
                    .union(UnionType::All, others)
                    .to_owned();
                for row in query(db, &select, "finding re-delivered events").await? {
                    let rcid: i64 = row
                        .try_get_by_index(0)
                        .map_err(|e| corrupt(format!("rc id: {e}")))?;
                    self.seen.insert((wiki.to_owned(), to_u64(rcid, "rc id")?));
                }
            }
        }
        Ok(())
    }

    async fn load_tools(
        &mut self,
        db: &DatabaseTransaction,
        tools: &[String],
        cache: &Cache,
    ) -> Result<(), StoreError> {
        let mut missing = Vec::new();
        for tool in tools {
            match cache.tools.get(tool) {
                Some(&id) => {
                    self.tool_ids.insert(tool.clone(), id);
                }
                None => missing.push(tool.clone()),
            }
        }
        self.read_tools(db, &missing).await
    }

    async fn read_tools(
        &mut self,
        db: &DatabaseTransaction,
        tools: &[String],
    ) -> Result<(), StoreError> {
        for part in &in_chunks(db.get_database_backend(), tools) {
            let select = Query::select()
                .columns([Tools::Id, Tools::Shortid])
                .from(Tools::Table)
                .and_where(Expr::col(Tools::Shortid).is_in(part.iter().map(String::as_str)))
                .to_owned();
            for row in query(db, &select, "reading tools").await? {
                self.tool_ids
                    .insert(get(&row, Tools::Shortid)?, get(&row, Tools::Id)?);
            }
        }
        Ok(())
    }

    fn batch_from_row(&mut self, row: &QueryResult, tool: &str) -> Result<i64, StoreError> {
        let id: i64 = get(row, Batches::Id)?;
        let key = BatchKey::new(
            get::<String>(row, Batches::Wiki)?,
            tool,
            get::<String>(row, Batches::Uid)?,
        );
        let batch = BatchWork {
            id: Some(id),
            tool_id: Some(get(row, Batches::ToolId)?),
            user: get(row, Batches::User)?,
            summary: get(row, Batches::Summary)?,
            nb_edits: to_u64(get(row, Batches::NbEdits)?, "nb_edits")?,
            nb_distinct_pages: to_u64(get(row, Batches::NbDistinctPages)?, "nb_distinct_pages")?,
            nb_new_pages: to_u64(get(row, Batches::NbNewPages)?, "nb_new_pages")?,
            nb_reverted_edits: to_u64(get(row, Batches::NbRevertedEdits)?, "nb_reverted_edits")?,
            total_diffsize: get(row, Batches::TotalDiffsize)?,
            started: timestamp(get(row, Batches::StartedUs)?)?,
            ended: timestamp(get(row, Batches::EndedUs)?)?,
            changed: false,
            pages_complete: false,
            tags_known: false,
            pages: FastSet::default(),
            new_pages: Vec::new(),
            tags: FastSet::default(),
            new_tags: Vec::new(),
        };
        self.batches.entry(key).or_insert(batch);
        Ok(id)
    }

    /// Takes a batch from the cache, with those of its known pages the chunk
    /// names (or none, when `pages` is empty). Whether it was there.
    fn batch_from_cache(
        &mut self,
        cache: &mut Cache,
        key: &BatchKey,
        pages: &BTreeSet<(BatchKey, String)>,
    ) -> bool {
        if self.batches.contains_key(key) {
            return true;
        }
        let Some(cached) = cache.batch(key) else {
            return false;
        };
        let chunk_pages = pages
            .range((key.clone(), String::new())..)
            .take_while(|(k, _)| k == key)
            .filter(|(_, title)| cached.pages.contains(title))
            .map(|(_, title)| title.clone())
            .collect();
        let batch = BatchWork {
            id: Some(cached.id),
            tool_id: Some(cached.tool_id),
            user: cached.user.clone(),
            summary: cached.summary.clone(),
            nb_edits: cached.nb_edits,
            nb_distinct_pages: cached.nb_distinct_pages,
            nb_new_pages: cached.nb_new_pages,
            nb_reverted_edits: cached.nb_reverted_edits,
            total_diffsize: cached.total_diffsize,
            started: cached.started,
            ended: cached.ended,
            changed: false,
            pages_complete: cached.pages_complete,
            tags_known: true,
            pages: chunk_pages,
            new_pages: Vec::new(),
            tags: cached.tags.clone(),
            new_tags: Vec::new(),
        };
        self.batches.insert(key.clone(), batch);
        true
    }

    /// Loads the batches the chunk attributes edits to; returns the ids of those
    /// read from the database.
    async fn load_batches_by_key(
        &mut self,
        db: &DatabaseTransaction,
        wanted: &Wanted,
        cache: &mut Cache,
    ) -> Result<Vec<i64>, StoreError> {
        let backend = db.get_database_backend();
        let mut ids = Vec::new();
        for ((wiki, tool), uids) in &wanted.batches {
            let Some(&tool_id) = self.tool_ids.get(tool) else {
                continue;
            };
            let uids: Vec<&str> = uids
                .iter()
                .filter(|uid| {
                    let key = BatchKey::new(wiki.as_str(), tool.as_str(), uid.as_str());
                    !self.batch_from_cache(cache, &key, &wanted.pages)
                })
                .map(String::as_str)
                .collect();
            for part in &in_chunks(backend, &uids) {
                let select = Query::select()
                    .columns(BATCH_COLUMNS)
                    .from(Batches::Table)
                    .and_where(Expr::col(Batches::Wiki).eq(wiki.as_str()))
                    .and_where(Expr::col(Batches::ToolId).eq(tool_id))
                    .and_where(Expr::col(Batches::Uid).is_in(part.iter().copied()))
                    .to_owned();
                for row in query(db, &select, "reading batches").await? {
                    ids.push(self.batch_from_row(&row, tool)?);
                }
            }
        }
        Ok(ids)
    }

    /// Loads the stored, unreverted edits the chunk's undos, deletions and restores
    /// may revert, and their batches.
    async fn load_targets(
        &mut self,
        db: &DatabaseTransaction,
        wanted: &Wanted,
        cache: &mut Cache,
    ) -> Result<(), StoreError> {
        let backend = db.get_database_backend();
        let mut batch_ids: FastMap<i64, Vec<TargetRow>> = FastMap::default();
        let mut rows = Vec::new();
        for (wiki, revisions) in &wanted.undos {
            let mut unknown = Vec::new();
            for &revision in revisions {
                let known = to_u64(revision, "revision")
                    .ok()
                    .and_then(|rev| Some((rev, cache.wikis.get(wiki)?.edits_of(rev)?)));
                let Some((rev, edits)) = known else {
                    unknown.push(revision);
                    continue;
                };
                for edit in edits.iter().filter(|e| !e.reverted) {
                    let work = EditWork {
                        // Filled in once the batch is known.
                        batch: BatchKey::new("", "", ""),
                        position: edit.position,
                        creates_page: edit.creates_page,
                        is_delete: edit.is_delete,
                        reverted: false,
                        revision: Some(rev),
                        stored: true,
                        chunk_index: None,
                    };
                    batch_ids.entry(edit.batch_id).or_default().push((
                        (wiki.clone(), edit.rcid),
                        work,
                        None,
                    ));
                }
            }
            for part in &in_chunks(backend, &unknown) {
                let select = target_select()
                    .and_where(Expr::col(Edits::Wiki).eq(wiki.as_str()))
                    .and_where(Expr::col(Edits::NewRevision).is_in(part.iter().copied()))
                    .to_owned();
                rows.extend(query(db, &select, "finding undone edits").await?);
            }
        }
        for (wiki, titles) in &wanted.signal_titles {
            let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
            for part in &in_chunks(backend, &titles) {
                let select = target_select()
                    .and_where(Expr::col(Edits::Wiki).eq(wiki.as_str()))
                    .and_where(Expr::col(Edits::Title).is_in(part.iter().copied()))
                    .and_where(
                        Expr::col(Edits::ChangeType)
                            .eq("new")
                            .or(Expr::col(Edits::LogAction).is_in(["upload", "restore", "delete"])),
                    )
                    .to_owned();
                rows.extend(query(db, &select, "finding deleted or restored edits").await?);
            }
        }
        for row in rows {
            let wiki: String = get(&row, Edits::Wiki)?;
            let rcid = to_u64(get(&row, Edits::Rcid)?, "rc id")?;
            let change_type = ChangeType::from_parts(
                &get::<String>(&row, Edits::ChangeType)?,
                get::<Option<String>>(&row, Edits::LogType)?.as_deref(),
                get::<Option<String>>(&row, Edits::LogAction)?.as_deref(),
            );
            let new_revision: Option<i64> = get(&row, Edits::NewRevision)?;
            let work = EditWork {
                // Filled in once the batch is known.
                batch: BatchKey::new("", "", ""),
                position: EventPosition {
                    timestamp: timestamp(get(&row, Edits::TimestampUs)?)?,
                    rcid,
                },
                creates_page: change_type.creates_page(),
                is_delete: change_type.is_delete(),
                reverted: false,
                revision: new_revision
                    .map(|rev| to_u64(rev, "revision"))
                    .transpose()?,
                stored: true,
                chunk_index: None,
            };
            batch_ids
                .entry(get(&row, Edits::BatchId)?)
                .or_default()
                .push(((wiki, rcid), work, Some(get(&row, Edits::Title)?)));
        }
        if batch_ids.is_empty() {
            return Ok(());
        }
        let mut keys: FastMap<i64, BatchKey> = self
            .batches
            .iter()
            .filter_map(|(k, b)| b.id.map(|id| (id, k.clone())))
            .collect();
        let no_pages = BTreeSet::new();
        for &id in batch_ids.keys() {
            if keys.contains_key(&id) {
                continue;
            }
            if let Some(key) = cache.key_of(id).cloned()
                && self.batch_from_cache(cache, &key, &no_pages)
            {
                keys.insert(id, key);
            }
        }
        let missing: Vec<i64> = batch_ids
            .keys()
            .filter(|id| !keys.contains_key(id))
            .copied()
            .collect();
        for part in &in_chunks(backend, &missing) {
            let mut select = Query::select();
            for col in BATCH_COLUMNS {
                select.column((Batches::Table, col));
            }
            let select = select
                .column((Tools::Table, Tools::Shortid))
                .from(Batches::Table)
                .inner_join(
                    Tools::Table,
                    Expr::col((Tools::Table, Tools::Id)).equals((Batches::Table, Batches::ToolId)),
                )
                .and_where(Expr::col((Batches::Table, Batches::Id)).is_in(part.iter().copied()))
                .to_owned();
            for row in query(db, &select, "reading batches of reverted edits").await? {
                let tool: String = get(&row, Tools::Shortid)?;
                let id = self.batch_from_row(&row, &tool)?;
                let key = BatchKey::new(
                    get::<String>(&row, Batches::Wiki)?,
                    tool,
                    get::<String>(&row, Batches::Uid)?,
                );
                keys.insert(id, key);
            }
        }
        for (batch_id, edits) in batch_ids {
            let key = keys
                .get(&batch_id)
                .ok_or_else(|| corrupt(format!("edits of a missing batch {batch_id}")))?;
            for (event, mut work, title) in edits {
                // An edit found both by revision and by title is one edit.
                if let Some(title) = title {
                    let on_title = self.by_title.entry((event.0.clone(), title)).or_default();
                    if !on_title.contains(&event) {
                        on_title.push(event.clone());
                    }
                }
                if self.edits.contains_key(&event) {
                    continue;
                }
                work.batch = key.clone();
                if let Some(rev) = work.revision {
                    self.by_revision
                        .entry((event.0.clone(), rev))
                        .or_default()
                        .push(event.clone());
                }
                self.edits.insert(event, work);
            }
        }
        Ok(())
    }

    /// Loads the pages the chunk names of batches read from the database or
    /// partly known, and the tags of batches read from the database.
    async fn load_pages_and_tags(
        &mut self,
        db: &DatabaseTransaction,
        backend: DbBackend,
        batch_ids: &[i64],
        pages: &[(i64, String)],
    ) -> Result<(), StoreError> {
        if batch_ids.is_empty() && pages.is_empty() {
            return Ok(());
        }
        let by_id: FastMap<i64, BatchKey> = self
            .batches
            .iter()
            .filter_map(|(k, b)| b.id.map(|id| (id, k.clone())))
            .collect();
        let half = (bulk::bind_limit(backend) - 16) / 2;
        // Exact (batch, title) pairs: one primary-key probe each.
        for part in &in_chunks_of(pages, half) {
            let select = Query::select()
                .columns([BatchPages::BatchId, BatchPages::Title])
                .from(BatchPages::Table)
                .and_where(
                    Expr::tuple([Expr::col(BatchPages::BatchId), Expr::col(BatchPages::Title)])
                        .in_tuples(part.iter().cloned()),
                )
                .to_owned();
            for row in query(db, &select, "reading batch pages").await? {
                let id: i64 = get(&row, BatchPages::BatchId)?;
                if let Some(batch) = by_id.get(&id).and_then(|k| self.batches.get_mut(k)) {
                    batch.pages.insert(get(&row, BatchPages::Title)?);
                }
            }
        }
        for id in batch_ids {
            if let Some(batch) = by_id.get(id).and_then(|k| self.batches.get_mut(k)) {
                batch.tags_known = true;
            }
        }
        for ids in &in_chunks_of(batch_ids, half) {
            let select = Query::select()
                .columns([BatchTags::BatchId, BatchTags::Tag])
                .from(BatchTags::Table)
                .and_where(Expr::col(BatchTags::BatchId).is_in(ids.iter().copied()))
                .to_owned();
            for row in query(db, &select, "reading batch tags").await? {
                let id: i64 = get(&row, BatchTags::BatchId)?;
                if let Some(batch) = by_id.get(&id).and_then(|k| self.batches.get_mut(k)) {
                    batch.tags.insert(get(&row, BatchTags::Tag)?);
                }
            }
        }
        Ok(())
    }

    async fn load_undone(
        &mut self,
        db: &DatabaseTransaction,
        wanted: &Wanted,
        cache: &Cache,
    ) -> Result<(), StoreError> {
        let backend = db.get_database_backend();
        // Revisions the chunk's edits made (are they undone?) and revisions its undos
        // name (were they undone before?).
        let mut all = wanted.revisions.clone();
        for (wiki, revisions) in &wanted.undos {
            all.entry(wiki.clone()).or_default().extend(revisions);
        }
        for (wiki, revisions) in &all {
            let known = cache.wikis.get(wiki);
            let mut unknown = Vec::new();
            for &revision in revisions {
                let rev = to_u64(revision, "revision")?;
                match known.and_then(|w| w.undone.knows(rev)) {
                    Some(true) => {
                        self.undone.insert((wiki.clone(), rev));
                    }
                    Some(false) => {}
                    None => unknown.push(revision),
                }
            }
            for part in &in_chunks(backend, &unknown) {
                let select = Query::select()
                    .column(Undone::Revision)
                    .from(Undone::Table)
                    .and_where(Expr::col(Undone::Wiki).eq(wiki.as_str()))
                    .and_where(Expr::col(Undone::Revision).is_in(part.iter().copied()))
                    .to_owned();
                for row in query(db, &select, "reading undone revisions").await? {
                    let rev: i64 = get(&row, Undone::Revision)?;
                    self.undone.insert((wiki.clone(), to_u64(rev, "revision")?));
                }
            }
        }
        Ok(())
    }

    async fn load_positions(
        &mut self,
        db: &DatabaseTransaction,
        wanted: &Wanted,
    ) -> Result<(), StoreError> {
        let backend = db.get_database_backend();
        for (wiki, titles) in &wanted.position_titles {
            let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
            for part in &in_chunks(backend, &titles) {
                let select = Query::select()
                    .columns([
                        PageEvents::Title,
                        PageEvents::DeleteUs,
                        PageEvents::DeleteRcid,
                        PageEvents::RestoreUs,
                        PageEvents::RestoreRcid,
                    ])
                    .from(PageEvents::Table)
                    .and_where(Expr::col(PageEvents::Wiki).eq(wiki.as_str()))
                    .and_where(Expr::col(PageEvents::Title).is_in(part.iter().copied()))
                    .to_owned();
                for row in query(db, &select, "reading deletions and restores").await? {
                    let position =
                        |us: PageEvents,
                         rcid: PageEvents|
                         -> Result<Option<EventPosition>, StoreError> {
                            let us: Option<i64> = get(&row, us)?;
                            let rcid: Option<i64> = get(&row, rcid)?;
                            match (us, rcid) {
                                (Some(us), Some(rcid)) => Ok(Some(EventPosition {
                                    timestamp: timestamp(us)?,
                                    rcid: to_u64(rcid, "rc id")?,
                                })),
                                _ => Ok(None),
                            }
                        };
                    let positions = Positions {
                        delete: position(PageEvents::DeleteUs, PageEvents::DeleteRcid)?,
                        restore: position(PageEvents::RestoreUs, PageEvents::RestoreRcid)?,
                    };
                    self.positions
                        .insert((wiki.clone(), get(&row, PageEvents::Title)?), positions);
                }
            }
        }
        Ok(())
    }

    // ---- simulation: the rules of `MemoryStore::apply`, on the loaded state ----

    fn mark_reverted(&mut self, key: &EventKey) -> bool {
        let Some(edit) = self.edits.get_mut(key) else {
            return false;
        };
        if edit.reverted {
            return false;
        }
        edit.reverted = true;
        if let Some(batch) = self.batches.get_mut(&edit.batch) {
            batch.nb_reverted_edits += 1;
            batch.changed = true;
        }
        self.report.reverted += 1;
        self.touched.insert(edit.batch.clone());
        true
    }

    fn apply_signal(&mut self, edit: &Edit, signal: RevertSignal<'_>) {
        let position = edit.position();
        let targets: Vec<EventKey> = match signal {
            RevertSignal::Undo { revision } => {
                let key = (edit.wiki.clone(), revision);
                let targets = self.by_revision.get(&key).cloned().unwrap_or_default();
                if self.undone.insert(key.clone()) {
                    self.new_undone.push(key);
                }
                targets
            }
            RevertSignal::Delete { title } | RevertSignal::Restore { title } => {
                let key = (edit.wiki.clone(), title.to_owned());
                let is_delete = matches!(signal, RevertSignal::Delete { .. });
                let entry = self.positions.entry(key.clone()).or_default();
                let slot = if is_delete {
                    &mut entry.delete
                } else {
                    &mut entry.restore
                };
                if slot.is_none_or(|p| p < position) {
                    *slot = Some(position);
                    self.changed_positions.insert(key.clone());
                }
                self.by_title
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .filter(|k| {
                        self.edits.get(*k).is_some_and(|e| {
                            let reverts = if is_delete {
                                e.creates_page
                            } else {
                                e.is_delete
                            };
                            reverts && e.position < position
                        })
                    })
                    .cloned()
                    .collect()
            }
        };
        for target in targets {
            self.mark_reverted(&target);
        }
    }

    fn is_reverted(&self, edit: &Edit) -> bool {
        let position = edit.position();
        let positions = self
            .positions
            .get(&(edit.wiki.clone(), edit.title.clone()))
            .copied()
            .unwrap_or_default();
        edit.new_revision
            .is_some_and(|rev| self.undone.contains(&(edit.wiki.clone(), rev)))
            || (edit.change_type.creates_page() && positions.delete.is_some_and(|d| d > position))
            || (edit.change_type.is_delete() && positions.restore.is_some_and(|r| r > position))
    }

    fn simulate(&mut self, chunk: &Chunk) {
        for (index, item) in chunk.edits.iter().enumerate() {
            let edit = &item.edit;
            let event = (edit.wiki.clone(), edit.rcid);
            if !self.seen.insert(event.clone()) {
                self.report.duplicates += 1;
                continue;
            }
            if let Some(signal) = revert_signal(edit) {
                self.apply_signal(edit, signal);
            }
            let Some(attribution) = &item.attribution else {
                self.other_events.push(event);
                continue;
            };
            let key = BatchKey::new(&edit.wiki, &attribution.tool, &attribution.uid);
            if let Some(existing) = self.batches.get(&key)
                && existing.user != attribution.user
            {
                self.report.hijacked += 1;
                self.other_events.push(event);
                continue;
            }
            let reverted = self.is_reverted(edit);
            // Most edits join a batch already here: no key to clone for them.
            if !self.batches.contains_key(&key) {
                self.batches
                    .insert(key.clone(), BatchWork::new(attribution, edit));
            }
            let Some(batch) = self.batches.get_mut(&key) else {
                continue;
            };
            batch.changed = true;
            batch.nb_edits += 1;
            batch.total_diffsize = batch.total_diffsize.saturating_add(edit.diff_size());
            batch.started = std::cmp::min(batch.started, edit.timestamp);
            batch.ended = std::cmp::max(batch.ended, edit.timestamp);
            if edit.change_type == ChangeType::New {
                batch.nb_new_pages += 1;
            }
            if reverted {
                batch.nb_reverted_edits += 1;
                self.report.reverted += 1;
            }
            if batch.pages.insert(edit.title.clone()) {
                batch.nb_distinct_pages += 1;
                batch.new_pages.push(edit.title.clone());
            }
            for tag in extract_tags(edit) {
                if batch.tags.insert(tag.clone()) {
                    batch.new_tags.push(tag);
                }
            }
            if let Some(rev) = edit.new_revision {
                self.by_revision
                    .entry((edit.wiki.clone(), rev))
                    .or_default()
                    .push(event.clone());
            }
            self.by_title
                .entry((edit.wiki.clone(), edit.title.clone()))
                .or_default()
                .push(event.clone());
            self.edits.insert(
                event.clone(),
                EditWork {
                    batch: key.clone(),
                    position: edit.position(),
                    creates_page: edit.change_type.creates_page(),
                    is_delete: edit.change_type.is_delete(),
                    reverted,
                    revision: edit.new_revision,
                    stored: false,
                    chunk_index: Some(index),
                },
            );
            self.new_edits.push(event);
            self.report.inserted += 1;
            self.touched.insert(key);
        }
        self.report.batches_touched = self.touched.len() as u64;
    }

    // ---- writes ----

    async fn write(&mut self, db: &DatabaseTransaction, chunk: &Chunk) -> Result<(), StoreError> {
        self.write_batches(db).await?;
        self.write_edits(db, chunk).await?;
        self.write_revert_state(db).await?;
        self.write_cursor(db, chunk).await
    }

    async fn write_batches(&mut self, db: &DatabaseTransaction) -> Result<(), StoreError> {
        let backend = db.get_database_backend();
        // Tools first: new batches refer to them.
        let new_tools: Vec<String> = self
            .batches
            .iter()
            .filter(|(k, b)| b.id.is_none() && !self.tool_ids.contains_key(&k.tool))
            .map(|(k, _)| k.tool.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !new_tools.is_empty() {
            let rows = new_tools.iter().map(|t| vec![t.as_str().into()]).collect();
            bulk::insert(
                db,
                &Tools::Table,
                &[&Tools::Shortid],
                rows,
                Conflict::Fail,
                "adding tools",
            )
            .await?;
            self.read_tools(db, &new_tools).await?;
        }
        let row = |key: &BatchKey, b: &BatchWork, tool_id: i64| -> Result<Vec<Value>, StoreError> {
            Ok(vec![
                key.wiki.as_str().into(),
                tool_id.into(),
                key.uid.as_str().into(),
                b.user.as_str().into(),
                b.summary.as_str().into(),
                counter(b.nb_edits)?.into(),
                counter(b.nb_distinct_pages)?.into(),
                counter(b.nb_new_pages)?.into(),
                counter(b.nb_reverted_edits)?.into(),
                b.total_diffsize.into(),
                micros(b.started).into(),
                micros(b.ended).into(),
            ])
        };
        let tool_id = |tool: &str| {
            self.tool_ids
                .get(tool)
                .copied()
                .ok_or_else(|| backend_missing_tool(tool))
        };
        let mut new_rows = Vec::new();
        let mut new_keys: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
        let mut changed_rows = Vec::new();
        for (key, b) in &self.batches {
            if !b.changed {
                continue;
            }
            let tool = match b.tool_id {
                Some(id) => id,
                None => tool_id(&key.tool)?,
            };
            match b.id {
                None => {
                    new_rows.push(row(key, b, tool)?);
                    new_keys
                        .entry((key.wiki.clone(), tool))
                        .or_default()
                        .push(key.uid.clone());
                }
                Some(id) => {
                    let mut values = vec![id.into()];
                    values.extend(row(key, b, tool)?);
                    changed_rows.push(values);
                }
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
            db,
            &Batches::Table,
            &COLUMNS,
            new_rows,
            Conflict::Fail,
            "adding batches",
        )
        .await?;
        let mut with_id: Vec<&Col> = vec![&Batches::Id];
        with_id.extend(COLUMNS);
        bulk::insert(
            db,
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
        // The ids of the new batches.
        let names: FastMap<i64, String> =
            self.tool_ids.iter().map(|(k, v)| (*v, k.clone())).collect();
        for ((wiki, tool), uids) in new_keys {
            for part in &in_chunks(backend, &uids) {
                let select = Query::select()
                    .columns([Batches::Id, Batches::Uid])
                    .from(Batches::Table)
                    .and_where(Expr::col(Batches::Wiki).eq(wiki.as_str()))
                    .and_where(Expr::col(Batches::ToolId).eq(tool))
                    .and_where(Expr::col(Batches::Uid).is_in(part.iter().map(String::as_str)))
                    .to_owned();
                for r in query(db, &select, "reading new batch ids").await? {
                    let name = names.get(&tool).cloned().unwrap_or_default();
                    let key = BatchKey::new(wiki.as_str(), name, get::<String>(&r, Batches::Uid)?);
                    if let Some(b) = self.batches.get_mut(&key) {
                        b.id = Some(get(&r, Batches::Id)?);
                    }
                }
            }
        }
        let mut pages = Vec::new();
        let mut tags = Vec::new();
        for (key, b) in &self.batches {
            if b.new_pages.is_empty() && b.new_tags.is_empty() {
                continue;
            }
            let id =
                b.id.ok_or_else(|| store_error(format!("batch {key} has no id after insertion")))?;
            for title in &b.new_pages {
                pages.push(vec![id.into(), title.as_str().into()]);
            }
            for tag in &b.new_tags {
                tags.push(vec![id.into(), tag.as_str().into()]);
            }
        }
        bulk::insert(
            db,
            &BatchPages::Table,
            &[&BatchPages::BatchId, &BatchPages::Title],
            pages,
            Conflict::Fail,
            "adding batch pages",
        )
        .await?;
        bulk::insert(
            db,
            &BatchTags::Table,
            &[&BatchTags::BatchId, &BatchTags::Tag],
            tags,
            Conflict::Fail,
            "adding batch tags",
        )
        .await
    }

    async fn write_edits(&self, db: &DatabaseTransaction, chunk: &Chunk) -> Result<(), StoreError> {
        let mut new_edits = Vec::with_capacity(self.new_edits.len());
        for event in &self.new_edits {
            let Some(work) = self.edits.get(event) else {
                continue;
            };
            let Some(item) = work.chunk_index.and_then(|i| chunk.edits.get(i)) else {
                continue;
            };
            let batch_id = self
                .batches
                .get(&work.batch)
                .and_then(|b| b.id)
                .ok_or_else(|| store_error(format!("batch {} has no id", work.batch)))?;
            new_edits.push((&item.edit, batch_id, work.reverted));
        }
        let rows = new_edits.into_iter().map(|(e, batch_id, reverted)| {
            let opt = |v: Option<u64>| -> Result<Option<i64>, StoreError> {
                v.map(|v| to_i64(v, "revision id")).transpose()
            };
            Ok(vec![
                e.wiki.as_str().into(),
                to_i64(e.rcid, "rc id")?.into(),
                batch_id.into(),
                e.change_type.type_name().into(),
                e.change_type.log_type().map(str::to_owned).into(),
                e.change_type.log_action().map(str::to_owned).into(),
                e.namespace.into(),
                e.title.as_str().into(),
                opt(e.old_revision)?.into(),
                opt(e.new_revision)?.into(),
                e.old_length.into(),
                e.new_length.into(),
                micros(e.timestamp).into(),
                e.user.clone().into(),
                e.bot.into(),
                e.minor.into(),
                e.patrolled.into(),
                e.comment.clone().into(),
                e.parsedcomment.clone().into(),
                e.uri.clone().into(),
                reverted.into(),
            ])
        });
        bulk::insert_built_lazily(
            db,
            &Edits::Table,
            &EDIT_COLUMNS,
            rows,
            Conflict::Fail,
            "adding edits",
        )
        .await?;

        // Edits stored before this chunk that it reverts.
        let mut reverted: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for ((wiki, rcid), e) in &self.edits {
            if e.reverted && e.stored {
                reverted
                    .entry(wiki)
                    .or_default()
                    .push(to_i64(*rcid, "rc id")?);
            }
        }
        for (wiki, rcids) in reverted {
            for part in &in_chunks(db.get_database_backend(), &rcids) {
                let update = Query::update()
                    .table(Edits::Table)
                    .value(Edits::Reverted, true)
                    .and_where(Expr::col(Edits::Wiki).eq(wiki))
                    .and_where(Expr::col(Edits::Rcid).is_in(part.iter().copied()))
                    .to_owned();
                db.execute(&update)
                    .await
                    .map_err(|e| db_error("marking reverted edits", e))?;
            }
        }
        let others = self
            .other_events
            .iter()
            .map(|(wiki, rcid)| Ok(vec![wiki.as_str().into(), to_i64(*rcid, "rc id")?.into()]))
            .collect::<Result<Vec<_>, StoreError>>()?;
        bulk::insert(
            db,
            &OtherEvents::Table,
            &[&OtherEvents::Wiki, &OtherEvents::Rcid],
            others,
            Conflict::Fail,
            "remembering events",
        )
        .await
    }

    async fn write_revert_state(&self, db: &DatabaseTransaction) -> Result<(), StoreError> {
        let undone = self
            .new_undone
            .iter()
            .map(|(wiki, rev)| {
                Ok(vec![
                    wiki.as_str().into(),
                    to_i64(*rev, "revision id")?.into(),
                ])
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        bulk::insert(
            db,
            &Undone::Table,
            &[&Undone::Wiki, &Undone::Revision],
            undone,
            Conflict::Fail,
            "remembering undone revisions",
        )
        .await?;
        let mut rows = Vec::new();
        for key in &self.changed_positions {
            let p = self.positions.get(key).copied().unwrap_or_default();
            let parts =
                |p: Option<EventPosition>| -> Result<(Option<i64>, Option<i64>), StoreError> {
                    match p {
                        Some(p) => Ok((Some(micros(p.timestamp)), Some(to_i64(p.rcid, "rc id")?))),
                        None => Ok((None, None)),
                    }
                };
            let (du, dr) = parts(p.delete)?;
            let (ru, rr) = parts(p.restore)?;
            rows.push(vec![
                key.0.as_str().into(),
                key.1.as_str().into(),
                du.into(),
                dr.into(),
                ru.into(),
                rr.into(),
            ]);
        }
        bulk::insert(
            db,
            &PageEvents::Table,
            &[
                &PageEvents::Wiki,
                &PageEvents::Title,
                &PageEvents::DeleteUs,
                &PageEvents::DeleteRcid,
                &PageEvents::RestoreUs,
                &PageEvents::RestoreRcid,
            ],
            rows,
            Conflict::Update {
                key: &[&PageEvents::Wiki, &PageEvents::Title],
                columns: &[
                    &PageEvents::DeleteUs,
                    &PageEvents::DeleteRcid,
                    &PageEvents::RestoreUs,
                    &PageEvents::RestoreRcid,
                ],
            },
            "remembering deletions and restores",
        )
        .await
    }

    /// Remembers in `cache` what this committed chunk wrote and read.
    fn remember(self, cache: &mut Cache, chunk: &Chunk) {
        if let Some(row) = self.cursor_written {
            cache.cursors.insert(source_key(&chunk.source), row);
        }
        for (wiki, rcid) in self.new_edits.iter().chain(&self.other_events) {
            cache.put_seen(wiki, *rcid);
        }
        for (wiki, revision) in &self.new_undone {
            cache.put_undone(wiki, *revision);
        }
        for ((wiki, rcid), edit) in &self.edits {
            let batch_id = self.batches.get(&edit.batch).and_then(|b| b.id);
            if edit.revision.is_some() && batch_id.is_none() {
                // An edit the cache cannot hold would be missed by a later undo.
                cache.clear();
                return;
            }
            if let (Some(revision), Some(batch_id)) = (edit.revision, batch_id) {
                let cached = CachedEdit {
                    rcid: *rcid,
                    batch_id,
                    position: edit.position,
                    creates_page: edit.creates_page,
                    is_delete: edit.is_delete,
                    reverted: edit.reverted,
                };
                cache.put_edit(wiki, revision, cached);
            }
        }
        for (key, b) in self.batches {
            let tool_id = b.tool_id.or_else(|| self.tool_ids.get(&key.tool).copied());
            let (Some(id), Some(tool_id), true) = (b.id, tool_id, b.tags_known) else {
                cache.forget_batch(&key);
                continue;
            };
            let batch = CachedBatch {
                id,
                tool_id,
                user: b.user,
                summary: b.summary,
                nb_edits: b.nb_edits,
                nb_distinct_pages: b.nb_distinct_pages,
                nb_new_pages: b.nb_new_pages,
                nb_reverted_edits: b.nb_reverted_edits,
                total_diffsize: b.total_diffsize,
                started: b.started,
                ended: b.ended,
                pages: b.pages,
                pages_complete: b.pages_complete,
                tags: b.tags,
            };
            cache.put_batch(&key, batch);
        }
        cache.tools.extend(self.tool_ids);
    }

    async fn write_cursor(
        &mut self,
        db: &DatabaseTransaction,
        chunk: &Chunk,
    ) -> Result<(), StoreError> {
        let (stored_cursor, stored_latest) = self.cursor_row.clone().unwrap_or((None, None));
        let cursor = match &chunk.cursor {
            Some(c) => Some(c.encode()),
            None => stored_cursor,
        };
        let latest = std::cmp::max(stored_latest, chunk.latest_event_time.map(micros));
        self.cursor_written = Some((cursor.clone(), latest));
        bulk::insert(
            db,
            &Cursors::Table,
            &[
                &Cursors::SourceKey,
                &Cursors::Source,
                &Cursors::Cursor,
                &Cursors::LatestEventUs,
            ],
            vec![vec![
                source_key(&chunk.source).into(),
                chunk.source.as_str().into(),
                cursor.into(),
                latest.into(),
            ]],
            Conflict::Update {
                key: &[&Cursors::SourceKey],
                columns: &[&Cursors::Cursor, &Cursors::LatestEventUs],
            },
            "saving the cursor",
        )
        .await
    }
}

/// Makes sure the cache knows, for each wiki of the chunk, up to where its stored
/// events, undone revisions and edits are remembered: above the stored maxima
/// when it meets the wiki (everything later is written through it).
async fn load_wikis(
    db: &DatabaseTransaction,
    chunk: &Chunk,
    cache: &mut Cache,
) -> Result<(), StoreError> {
    let wikis: BTreeSet<&str> = chunk
        .edits
        .iter()
        .map(|item| item.edit.wiki.as_str())
        .filter(|wiki| !cache.wikis.contains_key(*wiki))
        .collect();
    for wiki in wikis {
        let max_rcid = max(db, Edits::Table, Edits::Wiki, Edits::Rcid, wiki).await?;
        let max_other = max(
            db,
            OtherEvents::Table,
            OtherEvents::Wiki,
            OtherEvents::Rcid,
            wiki,
        )
        .await?;
        let max_undone = max(db, Undone::Table, Undone::Wiki, Undone::Revision, wiki).await?;
        let max_revision = max(db, Edits::Table, Edits::Wiki, Edits::NewRevision, wiki).await?;
        cache.wikis.insert(
            wiki.to_owned(),
            WikiCache::from_maxima(std::cmp::max(max_rcid, max_other), max_undone, max_revision),
        );
    }
    Ok(())
}

/// The largest value of `column` among a wiki's rows.
async fn max(
    db: &DatabaseTransaction,
    table: impl Iden + 'static,
    wiki_column: impl Iden + 'static,
    column: impl Iden + 'static,
    wiki: &str,
) -> Result<Option<u64>, StoreError> {
    let select = Query::select()
        .expr(Func::max(Expr::col(column)))
        .from(table)
        .and_where(Expr::col(wiki_column).eq(wiki))
        .to_owned();
    let rows = query(db, &select, "reading the stored maxima").await?;
    let max: Option<i64> = match rows.first() {
        Some(row) => row
            .try_get_by_index(0)
            .map_err(|e| corrupt(format!("maximum: {e}")))?,
        None => None,
    };
    max.map(|m| to_u64(m, "id")).transpose()
}

/// The key of a source's cursor row: its name, or for names too long for a key
/// column (a replay of many files), a prefix and a hash of the whole name.
pub(crate) fn source_key(source: &str) -> String {
    if source.chars().count() <= MAX_KEY_TEXT {
        return source.to_owned();
    }
    // FNV-1a: stable across versions and platforms, unlike `DefaultHasher`.
    let hash = source.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}#{hash:016x}", truncate_chars(source, 200))
}

fn counter(value: u64) -> Result<i64, StoreError> {
    to_i64(value, "counter")
}

fn backend_missing_tool(tool: &str) -> StoreError {
    store_error(format!("tool {tool} has no id after insertion"))
}

/// The columns of a batch row, read back by [`Work::batch_from_row`].
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

fn target_select() -> SelectStatement {
    Query::select()
        .columns([
            Edits::Id,
            Edits::Wiki,
            Edits::Rcid,
            Edits::BatchId,
            Edits::ChangeType,
            Edits::LogType,
            Edits::LogAction,
            Edits::NewRevision,
            Edits::Title,
            Edits::TimestampUs,
        ])
        .from(Edits::Table)
        .and_where(Expr::col(Edits::Reverted).eq(false))
        .to_owned()
}
