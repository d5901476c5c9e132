//! Opening a store from a URL.

use editgroups_core::{BatchStore, StoreError};
use std::sync::Arc;

/// Opens the store a URL names: `memory:` for a [`crate::MemoryStore`].
pub async fn open_store(url: &str) -> Result<Arc<dyn BatchStore>, StoreError> {
    #[cfg(feature = "memory")]
    if url == "memory:" || url == "memory://" {
        return Ok(Arc::new(crate::MemoryStore::new()));
    }
    Err(StoreError::Config(format!(
        "unsupported store URL {url:?}: expected memory:"
    )))
}
