//! One value for everything a store does.

use editgroups_core::{BatchStore, RevertTaskStore};

/// A store of batches and of revert tasks: what [`open_store`](crate::open_store)
/// returns. Every type with both traits is one; an `Arc<dyn Store>` coerces to an
/// `Arc<dyn BatchStore>` or an `Arc<dyn RevertTaskStore>` where only one is
/// wanted (a pipeline, a revert worker).
pub trait Store: BatchStore + RevertTaskStore {}

impl<T: BatchStore + RevertTaskStore + ?Sized> Store for T {}
