//! Applying a chunk in one transaction.
//!
//! The rules are [`editgroups_core::rulebook`]'s; this module only moves state:
//! 1. **load** (`load`): what the chunk's [`Needs`] name — which of its events
//!    were seen, its batches with their tags and pages among the chunk's titles,
//!    the edits its undos, deletions and restores may revert, the stored revert
//!    signals its edits may be reverted by. What the store's own earlier commits
//!    wrote comes from its cache (see `cache`); the rest from a few `IN (...)`
//!    queries;
//! 2. **decide**: [`rulebook::decide`] on that state;
//! 3. **write** (`write`): the decision, with multi-row statements.
//!
//! Writers are serialised (SQLite: one connection and `BEGIN IMMEDIATE`;
//! PostgreSQL and MySQL: a row lock taken first), so the loaded state cannot change
//! under a transaction.

use super::cache::{Cache, WikiCache};
use super::chunk_txn::ChunkTxn;
use super::error::{backend as store_error, corrupt, db_error};
use super::load::{self, Loaded, Snapshot};
use super::migration::LOCK_ROW;
use super::schema::{Edits, Meta, OtherEvents, RevertSignals};
use super::write::Writer;
use editgroups_core::rulebook::{self, Needs};
use editgroups_core::store::truncate_chars;
use editgroups_core::{ApplyReport, ChangeType, Chunk, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Iden, LockType, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, TryGetable};
use std::collections::BTreeSet;
use std::time::Instant;

/// Longest texts the key columns hold, in characters.
const MAX_WIKI: usize = 64;
const MAX_TOOL: usize = 64;
const MAX_KEY_TEXT: usize = 255;

/// Applies a chunk: everything or nothing. `cache` is what the store remembers of
/// its previous commits; it is updated after this commit, or dropped on failure.
pub(crate) async fn apply(
    db: &DatabaseConnection,
    chunk: Chunk,
    cache: &mut Cache,
) -> Result<ApplyReport, StoreError> {
    let mut chunk = chunk;
    if db.get_database_backend() == DbBackend::Postgres {
        replace_nul(&mut chunk);
    }
    validate(&chunk)?;
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
    chunk: Chunk,
    cache: &mut Cache,
) -> Result<ApplyReport, StoreError> {
    let started = Instant::now();
    let txn = ChunkTxn::begin(db).await?;
    let generation = lock_generation(&txn).await?;
    cache.validate(generation);
    load_wikis(&txn, &chunk, cache).await?;
    let mut loaded = Loaded::default();
    load::load_seen(&txn, &chunk, cache, &mut loaded).await?;
    let needs = Needs::of(&chunk, |wiki, rcid| {
        loaded.seen.get(wiki).is_some_and(|s| s.contains(&rcid))
    });
    load::load_needs(&txn, &needs, cache, &mut loaded).await?;
    let cursor_row = super::write::cursor_row(&txn, &chunk.source, cache).await?;
    let loaded_at = Instant::now();
    let decision = rulebook::decide(
        &chunk,
        &Snapshot {
            loaded: &loaded,
            cache,
        },
    )
    .map_err(|e| corrupt(e.to_string()))?;
    let decided_at = Instant::now();
    let report = decision.report;
    txn.start_writes().await?;
    let writer = Writer::new(&txn, chunk, decision, loaded, cursor_row, cache);
    let written = writer.write().await?;
    let next = bump_generation(&txn, generation).await?;
    let written_at = Instant::now();
    // The cache learns the chunk while the database commits it (the commit is
    // sent before the cache work starts); a failed commit clears the cache.
    let (committed, ()) = futures::join!(txn.commit(), async { written.remember(cache) });
    committed.map_err(|e| db_error("committing the chunk", e))?;
    match next {
        Some(generation) => cache.committed(generation),
        None => cache.clear(),
    }
    tracing::debug!(
        events = report.inserted + report.duplicates,
        load_us = (loaded_at - started).as_micros() as u64,
        decide_us = (decided_at - loaded_at).as_micros() as u64,
        write_us = (written_at - decided_at).as_micros() as u64,
        commit_us = written_at.elapsed().as_micros() as u64,
        "chunk applied"
    );
    Ok(report)
}

/// Takes the writer lock (PostgreSQL and MySQL; SQLite's `BEGIN IMMEDIATE`
/// already did) and reads the write generation it holds.
pub(crate) async fn lock_generation(txn: &ChunkTxn) -> Result<Option<i64>, StoreError> {
    let mut lock = Query::select()
        .column(Meta::Value)
        .from(Meta::Table)
        .and_where(Expr::col(Meta::Name).eq(LOCK_ROW))
        .to_owned();
    if txn.get_database_backend() != DbBackend::Sqlite {
        // One writer at a time across processes: the rest of the transaction reads
        // state that must not change before it commits.
        lock.lock(LockType::Update);
    }
    match txn
        .query_one(&lock)
        .await
        .map_err(|e| db_error("locking the store for writing", e))?
    {
        Some(row) => Ok(Some(get(&row, Meta::Value)?)),
        None => Ok(None),
    }
}

/// Records a write: every cache that remembers another generation is dropped.
pub(crate) async fn bump_generation(
    txn: &ChunkTxn,
    generation: Option<i64>,
) -> Result<Option<i64>, StoreError> {
    let Some(next) = generation.map(|g| g.wrapping_add(1)) else {
        return Ok(None);
    };
    let bump = Query::update()
        .table(Meta::Table)
        .value(Meta::Value, next)
        .and_where(Expr::col(Meta::Name).eq(LOCK_ROW))
        .to_owned();
    txn.execute(&bump)
        .await
        .map_err(|e| db_error("recording the write", e))?;
    Ok(Some(next))
}

/// PostgreSQL text cannot hold U+0000: every NUL in the texts of a chunk for it
/// becomes U+FFFD (the replacement character), before the rules read them, so
/// that what is stored and what the rules compare are the same. MediaWiki sends
/// no NUL; without this, one event with a NUL (from a source of one's own, or a
/// damaged record) would fail its chunk on every retry and stop ingestion.
fn replace_nul(chunk: &mut Chunk) {
    fn fix(text: &mut String) {
        if text.contains('\0') {
            *text = text.replace('\0', "\u{fffd}");
        }
    }
    fn fix_opt(text: &mut Option<String>) {
        if let Some(text) = text {
            fix(text);
        }
    }
    for item in &mut chunk.edits {
        let e = &mut item.edit;
        fix(&mut e.wiki);
        fix(&mut e.title);
        fix_opt(&mut e.user);
        fix_opt(&mut e.comment);
        fix_opt(&mut e.parsedcomment);
        fix_opt(&mut e.uri);
        match &mut e.change_type {
            ChangeType::Log {
                log_type,
                log_action,
            } => {
                fix_opt(log_type);
                fix_opt(log_action);
            }
            ChangeType::Other { name } => fix(name),
            _ => {}
        }
        if let Some(m) = &mut item.attribution {
            fix(&mut m.tool);
            fix(&mut m.uid);
            fix(&mut m.user);
            fix(&mut m.summary);
        }
    }
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
            // the width of the tag column; undone revisions are bounded by
            // `MAX_ID` where they are read.
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

/// A stored id, never negative.
pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
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

/// Makes sure the cache knows, for each wiki of the chunk, up to where its stored
/// events, undos and edits are remembered: above the stored maxima when it
/// meets the wiki (everything later is written through it).
async fn load_wikis(db: &ChunkTxn, chunk: &Chunk, cache: &mut Cache) -> Result<(), StoreError> {
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
        let max_undone = max(
            db,
            RevertSignals::Table,
            RevertSignals::Wiki,
            RevertSignals::Revision,
            wiki,
        )
        .await?;
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
    db: &ChunkTxn,
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
