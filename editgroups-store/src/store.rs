//! One value for everything a store does.

use editgroups_core::{BatchStore, MaintenanceStore, RevertTaskStore};

/// A store of batches, of revert tasks and of maintenance state: what
/// [`open_store`](crate::open_store) returns. Every type with the three traits
/// is one; an `Arc<dyn Store>` coerces to an `Arc<dyn BatchStore>`, an
/// `Arc<dyn RevertTaskStore>` or an `Arc<dyn MaintenanceStore>` where only one
/// is wanted (a pipeline, a revert worker, an inspector).
pub trait Store: BatchStore + RevertTaskStore + MaintenanceStore {}

impl<T: BatchStore + RevertTaskStore + MaintenanceStore + ?Sized> Store for T {}
