//! The SQL store: SQLite, PostgreSQL and MySQL/MariaDB through sea-orm.
//!
//! - `schema`: table and column names;
//! - `migration`: the schema through `sea-orm-migration`, and the version check;
//! - `apply`: a chunk in one transaction: `load` what the rulebook needs, let it
//!   decide, `write` the decision;
//! - `bulk`: multi-row statements under the bind-parameter limits;
//! - `cache`: what the store remembers of its own commits between chunks;
//! - `chunk_txn`: the transaction a chunk is applied in, on a pool connection
//!   through sqlx; on PostgreSQL its edits go in with `COPY` (`copy`: the binary
//!   rows);
//! - `checkpoint`: SQLite checkpoints beside the writer;
//! - `read`: queries;
//! - `minutes`: each batch's edits per minute, for timelines (`m0008_batch_minutes`);
//! - `m0009_page_event_index`: the partial `(wiki, title)` index of the edits
//!   deletions and restores look for;
//! - `tasks`: revert tasks (migration `m0003_revert_tasks`);
//! - `maintenance`: inspection marks and archival (schema: `m0004_maintenance`);
//! - `error`: driver errors as [`StoreError`]s.

mod apply;
mod bulk;
mod cache;
#[cfg(feature = "sqlite")]
mod checkpoint;
mod chunk_txn;
#[cfg(feature = "postgres")]
mod copy;
mod error;
mod lists;
mod load;
mod m0003_revert_tasks;
mod m0004_maintenance;
mod m0007_batch_list_index;
mod m0008_batch_minutes;
mod m0009_page_event_index;
mod maintenance;
mod migration;
mod migration_edit_order;
mod minutes;
mod read;
mod readers;
mod schema;
mod tasks;
mod write;

/// Hash maps of the apply work and the cache: keyed by values this process
/// builds from events, hashed many times per event, where SipHash's strength
/// costs a few percent of throughput; foldhash is still seeded per process.
type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// The set counterpart of [`FastMap`].
type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

use async_trait::async_trait;
use cache::Cache;
pub use cache::CacheLimits;
use editgroups_core::edit::Timestamp;
use editgroups_core::{
    ApplyReport, Batch, BatchKey, BatchQuery, BatchStore, Chunk, Cursor, Page, StoreError,
    StoredEdit, ToolStats,
};
use error::{STORE, db_error};
use migration::{Migrator, SCHEMA_VERSION};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// Prepared statements kept per connection.
#[cfg(any(feature = "mysql", feature = "postgres"))]
const STATEMENT_CACHE: usize = 1024;

/// How long a SQLite writer waits for a lock held by another process.
#[cfg(feature = "sqlite")]
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The page size of new SQLite files.
#[cfg(feature = "sqlite")]
const SQLITE_PAGE_SIZE: u32 = 8192;

/// A [`BatchStore`] in a SQL database: SQLite (feature `sqlite`), PostgreSQL
/// (`postgres`) or MySQL/MariaDB (`mysql`).
///
/// Every chunk is applied in one transaction with a fixed number of multi-row
/// statements; its edits, batch counters, tags, revert marks and source cursor are
/// stored together or not at all, so a restarted pipeline resumes exactly where
/// the stored data ends.
///
/// SQLite is opened in WAL mode with a busy timeout and one connection (one
/// writer); a file opened from a URL gets a second connection that checkpoints
/// the log in the background. `sqlite::memory:` is one private in-memory
/// database. Writers on PostgreSQL and MySQL take a row lock first, so several
/// processes may share a database.
///
/// Between chunks the store remembers what it wrote, so that a chunk reads little
/// back; see [`SqlStore::with_cache_limits`].
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: DatabaseConnection,
    /// What this store's commits wrote, shared by its clones; held for the whole
    /// of `apply`, which serialises the store's own writers.
    cache: Arc<Mutex<Cache>>,
    /// Background checkpoints of a SQLite file opened from a URL.
    #[cfg(feature = "sqlite")]
    checkpointer: Option<Arc<checkpoint::Checkpointer>>,
}

impl SqlStore {
    /// Connects to `url` (`sqlite://PATH?mode=rwc`, `sqlite::memory:`,
    /// `postgres://…`, `mysql://…`) and brings the schema up to date.
    ///
    /// Fails with [`StoreError::SchemaTooNew`] on a database written by a newer
    /// version of this library.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to `url` without touching the schema, for hosts that migrate
    /// themselves (see [`SqlStore::migrate`]).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10));
        if url.starts_with("sqlite:") {
            #[cfg(feature = "sqlite")]
            {
                let in_memory = is_in_memory(url);
                // One connection: SQLite has one writer at a time, and an in-memory
                // database lives and dies with its connection.
                options
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .map_sqlx_sqlite_opts(move |o| {
                        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                        let o = o
                            .busy_timeout(SQLITE_BUSY_TIMEOUT)
                            .foreign_keys(true)
                            .statement_cache_capacity(256)
                            // 8 KiB pages for new files (SQLite's default is 4 KiB):
                            // a chunk's inserts touch fewer pages of the edit
                            // indexes and write fewer log frames; about 10 % more
                            // events/s on the benchmark stream.
                            .page_size(SQLITE_PAGE_SIZE)
                            // 32 MiB of page cache (bounded): the hot pages of a
                            // large store's indexes stay in memory. 64 MiB was no
                            // faster on 3,000,000 events and held 30 MB more.
                            .pragma("cache_size", "-32768")
                            .pragma("temp_store", "memory");
                        if in_memory {
                            o
                        } else {
                            // WAL with NORMAL sync: a committed chunk survives a
                            // process crash; readers never block the writer.
                            // Checkpoints run in the background (`checkpoint`);
                            // the writer's own only bound the log, at 256 MiB
                            // (32,768 pages) rather than SQLite's 4 MiB, so that
                            // commits do not wait for them. The log file is cut
                            // back to 64 MiB whenever it starts over.
                            o.journal_mode(SqliteJournalMode::Wal)
                                .synchronous(SqliteSynchronous::Normal)
                                .pragma("wal_autocheckpoint", "32768")
                                .pragma("journal_size_limit", "67108864")
                        }
                    });
            }
        } else {
            options.max_connections(4).min_connections(1);
            // Room for every statement shape a chunk uses (see `bulk`), so that
            // statements are prepared once, not re-prepared and closed on each
            // chunk; closing costs a round trip stalled by delayed ACKs on MySQL.
            #[cfg(feature = "mysql")]
            options.map_sqlx_mysql_opts(|o| o.statement_cache_capacity(STATEMENT_CACHE));
            #[cfg(feature = "postgres")]
            options.map_sqlx_postgres_opts(|o| {
                // Cached statements would otherwise switch to generic plans, which
                // do not see how selective an `IN` list is. A chunk's writes go
                // back to cached plans (`ChunkTxn::start_writes`).
                o.statement_cache_capacity(STATEMENT_CACHE)
                    .options([("plan_cache_mode", "force_custom_plan")])
            });
        }
        let db = Database::connect(options.clone())
            .await
            .map_err(|e| db_error(&format!("connecting to {}", redact(url)), e))?;
        let store = Self::from_connection(db);
        #[cfg(feature = "sqlite")]
        let store = Self {
            checkpointer: background_checkpoints(&store, url, options).await,
            ..store
        };
        Ok(store)
    }

    /// Sets how much the store remembers of its own writes between chunks (see
    /// [`CacheLimits`]), forgetting what it remembered.
    ///
    /// Between chunks the store keeps what it wrote (the events it stored, its
    /// batches with their tags and pages, recent edits and undone revisions), so
    /// that a chunk reads little from the database. This is exact while the store
    /// is the only writer; another [`SqlStore`] writing to the same database, in
    /// this process or another, is noticed and the cache dropped. Writes that
    /// bypass `SqlStore` are not noticed: use [`CacheLimits::none`] then.
    pub fn with_cache_limits(self, limits: CacheLimits) -> Self {
        Self {
            cache: Arc::new(Mutex::new(Cache::with_limits(limits))),
            ..self
        }
    }

    /// Wraps an open sea-orm connection (the schema untouched).
    ///
    /// On a sqlx pool (what `Database::connect` opens), chunks are written on the
    /// pool's connections through sqlx directly: sea-orm's statement logging and
    /// metric callback do not see those statements. Other connections (mock,
    /// proxy) are written through sea-orm.
    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self {
            db,
            cache: Arc::default(),
            #[cfg(feature = "sqlite")]
            checkpointer: None,
        }
    }

    /// Applies the schema's pending migrations (recorded in the table
    /// `editgroups_migrations`). Fails with [`StoreError::SchemaTooNew`] on a
    /// database written by a newer version of this library.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.check_version().await?;
        Migrator::up(&self.db, None)
            .await
            .map_err(|e| db_error("migrating the schema", e))
    }

    /// Checks that this code can read the database's schema.
    pub async fn check_version(&self) -> Result<(), StoreError> {
        let found = migration::stored_version(&self.db)
            .await
            .map_err(|e| db_error("reading the schema version", e))?;
        match found {
            Some(found) if found > SCHEMA_VERSION => Err(StoreError::SchemaTooNew {
                store: STORE,
                found,
                supported: SCHEMA_VERSION,
            }),
            _ => Ok(()),
        }
    }

    /// The schema version this code reads and writes.
    pub fn schema_version() -> i64 {
        SCHEMA_VERSION
    }

    /// The underlying connection, e.g. to run queries of your own.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Which database this is.
    pub fn backend(&self) -> DbBackend {
        sea_orm::ConnectionTrait::get_database_backend(&self.db)
    }

    /// Closes the connections.
    pub async fn close(self) -> Result<(), StoreError> {
        #[cfg(feature = "sqlite")]
        if let Some(checkpointer) = self.checkpointer.and_then(Arc::into_inner) {
            checkpointer.stop().await;
        }
        self.db
            .close()
            .await
            .map_err(|e| db_error("closing the connection", e))
    }
}

/// A checkpointer on a connection of its own, for a SQLite file.
#[cfg(feature = "sqlite")]
async fn background_checkpoints(
    store: &SqlStore,
    url: &str,
    options: ConnectOptions,
) -> Option<Arc<checkpoint::Checkpointer>> {
    if store.backend() != DbBackend::Sqlite || is_in_memory(url) {
        return None;
    }
    match Database::connect(options).await {
        Ok(db) => checkpoint::Checkpointer::start(db).map(Arc::new),
        Err(e) => {
            // The writer's own checkpoints still run.
            tracing::warn!(error = %e, "no background checkpoints");
            None
        }
    }
}

/// Whether a SQLite URL names an in-memory database.
#[cfg(feature = "sqlite")]
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[async_trait]
impl BatchStore for SqlStore {
    async fn apply(&self, chunk: Chunk) -> Result<ApplyReport, StoreError> {
        let mut cache = self.cache.lock().await;
        let report = apply::apply(&self.db, chunk, &mut cache).await?;
        #[cfg(feature = "sqlite")]
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.committed();
        }
        Ok(report)
    }

    async fn cursor(&self, source: &str) -> Result<Option<Cursor>, StoreError> {
        read::cursor(&self.db, source).await
    }

    async fn batch(&self, key: &BatchKey) -> Result<Option<Batch>, StoreError> {
        read::batch(&self.db, key).await
    }

    async fn list_batches(&self, query: &BatchQuery) -> Result<Vec<Batch>, StoreError> {
        read::list_batches(&self.db, query).await
    }

    async fn batch_edits(&self, key: &BatchKey, page: Page) -> Result<Vec<StoredEdit>, StoreError> {
        read::batch_edits(&self.db, key, page).await
    }

    async fn tools(&self) -> Result<Vec<ToolStats>, StoreError> {
        read::tools(&self.db).await
    }

    async fn reverting_batches(&self, key: &BatchKey) -> Result<Vec<Batch>, StoreError> {
        read::linked_batches(&self.db, key, read::Link::Reverting).await
    }

    async fn reverted_batches(&self, key: &BatchKey) -> Result<Vec<Batch>, StoreError> {
        read::linked_batches(&self.db, key, read::Link::Reverted).await
    }

    async fn latest_event_time(&self) -> Result<Option<Timestamp>, StoreError> {
        read::latest_event_time(&self.db).await
    }

    async fn batch_edits_after(
        &self,
        key: &BatchKey,
        after: Option<editgroups_core::EventPosition>,
        limit: u64,
    ) -> Result<Vec<StoredEdit>, StoreError> {
        read::batch_edits_after(&self.db, key, after, limit).await
    }

    async fn batch_edits_before(
        &self,
        key: &BatchKey,
        before: editgroups_core::EventPosition,
        limit: u64,
    ) -> Result<Vec<StoredEdit>, StoreError> {
        read::batch_edits_before(&self.db, key, before, limit).await
    }

    async fn edit_timeline(
        &self,
        key: &BatchKey,
        start: Timestamp,
        width_micros: i64,
        buckets: usize,
    ) -> Result<Vec<editgroups_core::TimelineBucket>, StoreError> {
        read::edit_timeline(&self.db, key, start, width_micros, buckets).await
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://me:secret@host/db"),
            "postgres://me:***@host/db"
        );
        assert_eq!(redact("sqlite://x.db?mode=rwc"), "sqlite://x.db?mode=rwc");
    }
}
