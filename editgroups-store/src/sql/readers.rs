//! A store of readers only, for a web service beside a writer: several
//! connections, so that requests are answered side by side (SQLite in WAL mode
//! lets readers work while another connection or process writes).

use super::SqlStore;
use super::error::db_error;
use editgroups_core::StoreError;
use sea_orm::{ConnectOptions, Database};
use std::time::Duration;

impl SqlStore {
    /// Connects a pool of `connections` for reading to `url`, without touching
    /// the schema (a writer migrates it). On SQLite each connection waits up to
    /// 10 s for a lock rather than failing; use this store to read, and another
    /// one (in this process or another) to write.
    pub async fn connect_readers(url: &str, connections: u32) -> Result<Self, StoreError> {
        let connections = connections.max(1);
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .max_connections(connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10));
        #[cfg(feature = "sqlite")]
        if url.starts_with("sqlite:") {
            if super::is_in_memory(url) {
                return Err(StoreError::Config(
                    "an in-memory SQLite database has no other readers: use the writer's store"
                        .to_owned(),
                ));
            }
            options.map_sqlx_sqlite_opts(|o| {
                o.busy_timeout(super::SQLITE_BUSY_TIMEOUT)
                    .statement_cache_capacity(256)
                    // 4 MiB of page cache each: the operating system caches the
                    // file too, and readers scan large batches only for exports.
                    .pragma("cache_size", "-4096")
                    .pragma("temp_store", "memory")
            });
        }
        let db = Database::connect(options)
            .await
            .map_err(|e| db_error(&format!("connecting readers to {}", super::redact(url)), e))?;
        let store = Self::from_connection(db);
        store.check_version().await?;
        Ok(store)
    }
}
