//! Opening a store from a URL.

use crate::Store;
use editgroups_core::StoreError;
use std::sync::Arc;

/// Opens the store a URL names, schema migrated:
/// - `memory:` for a [`crate::MemoryStore`] (feature `memory`);
/// - `sqlite://PATH?mode=rwc` or `sqlite::memory:` (feature `sqlite`);
/// - `postgres://…` or `postgresql://…` (feature `postgres`);
/// - `mysql://…` or `mariadb://…` (feature `mysql`).
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    #[cfg(feature = "memory")]
    if url == "memory:" || url == "memory://" {
        return Ok(Arc::new(crate::MemoryStore::new()));
    }
    let (scheme, feature) = if url.starts_with("sqlite:") {
        ("sqlite", "sqlite")
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        ("postgres", "postgres")
    } else if url.starts_with("mysql://") {
        ("mysql", "mysql")
    } else if let Some(rest) = url.strip_prefix("mariadb://") {
        return open_sql(&format!("mysql://{rest}"), cfg!(feature = "mysql"), "mysql").await;
    } else {
        return Err(StoreError::Config(format!(
            "unsupported store URL {url:?}: expected memory:, sqlite://PATH?mode=rwc, sqlite::memory:, postgres://…, mysql://…"
        )));
    };
    let enabled = match scheme {
        "sqlite" => cfg!(feature = "sqlite"),
        "postgres" => cfg!(feature = "postgres"),
        _ => cfg!(feature = "mysql"),
    };
    open_sql(url, enabled, feature).await
}

#[allow(clippy::unused_async)]
async fn open_sql(url: &str, enabled: bool, feature: &str) -> Result<Arc<dyn Store>, StoreError> {
    if !enabled {
        return Err(StoreError::Config(format!(
            "{feature} stores need the `{feature}` feature of editgroups-store"
        )));
    }
    #[cfg(feature = "sql")]
    {
        Ok(Arc::new(crate::SqlStore::open(url).await?))
    }
    #[cfg(not(feature = "sql"))]
    {
        let _ = url;
        Err(StoreError::Config(format!(
            "{feature} stores need the `{feature}` feature of editgroups-store"
        )))
    }
}
