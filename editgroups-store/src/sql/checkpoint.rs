//! SQLite checkpoints in the background.
//!
//! In WAL mode, committed pages go to the log and are copied back into the
//! database file by checkpoints. Left to the writer, a checkpoint runs inside a
//! commit once the log reaches its limit, and that commit waits for the copy
//! (around 100 ms for a 64 MiB log here, more on slower disks). A second
//! connection instead runs passive checkpoints beside the writer: they copy
//! what is committed without blocking the writer or readers. The writer's own
//! automatic checkpoint stays as a bound on the log should the background fall
//! behind; it then finds little left to copy.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The least time between two background checkpoints: pages rewritten by
/// successive chunks in between are copied once.
const MIN_INTERVAL: Duration = Duration::from_millis(500);

/// Runs passive checkpoints on its own connection after commits.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    wake: mpsc::Sender<()>,
    task: JoinHandle<()>,
}

impl Checkpointer {
    /// Starts checkpointing through `db`, a connection of its own to the
    /// database file. `None` outside a Tokio runtime.
    pub(crate) fn start(db: DatabaseConnection) -> Option<Self> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        // One pending wake-up: commits during a checkpoint or a pause ask for
        // one more checkpoint, not one each.
        let (wake, mut woken) = mpsc::channel::<()>(1);
        let task = runtime.spawn(async move {
            while woken.recv().await.is_some() {
                if let Err(e) = db
                    .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                    .await
                {
                    // The writer's own checkpoints still bound the log.
                    tracing::warn!(error = %e, "background checkpoint failed");
                }
                tokio::time::sleep(MIN_INTERVAL).await;
            }
            let _ = db.close().await;
        });
        Some(Self { wake, task })
    }

    /// Asks for a checkpoint of what has been committed.
    pub(crate) fn committed(&self) {
        // Full means a checkpoint is already due.
        let _ = self.wake.try_send(());
    }

    /// Stops after the checkpoint in progress, if any, and closes the connection.
    pub(crate) async fn stop(self) {
        drop(self.wake);
        let _ = self.task.await;
    }
}
