//! Revert tasks of the [`MemoryStore`], in a table of their own (beside the
//! batch state, under a lock of its own).

use super::MemoryStore;
use async_trait::async_trait;
use editgroups_core::plan::REVERT_TOOL;
use editgroups_core::tasks::{
    ActionCounts, ActionState, CreateTaskError, NewRevertTask, RevertAction, RevertTask,
    RevertTaskStore, TaskEnd, TaskQuery, TaskStatus, check_new_task, new_task_uid,
};
use editgroups_core::{BatchKey, BatchStore, StoreError};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// How many random ids to try before giving up (a collision is rare: 2^28 ids).
const UID_ATTEMPTS: usize = 16;

#[derive(Debug)]
struct StoredTask {
    task: RevertTask,
    actions: Vec<RevertAction>,
}

impl StoredTask {
    /// The task with its counts as they are now.
    fn snapshot(&self) -> RevertTask {
        RevertTask {
            counts: ActionCounts::of(self.actions.iter().map(|a| &a.state)),
            ..self.task.clone()
        }
    }
}

#[derive(Debug, Default)]
struct Tasks {
    tasks: HashMap<String, StoredTask>,
    /// The running task of each batch.
    running: HashMap<BatchKey, String>,
}

/// The revert tasks of a [`MemoryStore`].
#[derive(Debug, Default)]
pub(super) struct TaskTable {
    state: Mutex<Tasks>,
}

impl TaskTable {
    fn lock(&self) -> Result<MutexGuard<'_, Tasks>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Backend {
            store: "memory",
            source: "a thread panicked while holding the revert tasks".into(),
        })
    }
}

impl Tasks {
    fn end(&mut self, uid: &str, status: TaskStatus) -> Option<RevertTask> {
        let stored = self.tasks.get_mut(uid)?;
        if stored.task.status.is_running() {
            stored.task.status = status;
            stored.task.finished = Some(chrono::Utc::now());
            self.running.remove(&stored.task.batch);
        }
        Some(stored.snapshot())
    }
}

#[async_trait]
impl RevertTaskStore for MemoryStore {
    async fn create_revert_task(
        &self,
        task: &NewRevertTask,
    ) -> Result<RevertTask, CreateTaskError> {
        let batch = BatchStore::batch(self, &task.batch).await?;
        check_new_task(task, batch.as_ref())?;
        for _ in 0..UID_ATTEMPTS {
            let uid = new_task_uid();
            // Not the id of a revert batch already on the wiki (made by another
            // EditGroups, say): the new task's edits would join it.
            let revert_batch = BatchKey::new(task.batch.wiki.clone(), REVERT_TOOL, uid.clone());
            if BatchStore::batch(self, &revert_batch).await?.is_some() {
                continue;
            }
            let mut tasks = self.tasks.lock()?;
            if let Some(running) = tasks.running.get(&task.batch) {
                return Err(CreateTaskError::AlreadyRunning {
                    batch: task.batch.clone(),
                    task: running.clone(),
                });
            }
            if tasks.tasks.contains_key(&uid) {
                continue;
            }
            let actions = task
                .actions
                .iter()
                .enumerate()
                .map(|(seq, planned)| {
                    Ok(RevertAction {
                        seq: u32::try_from(seq).map_err(|_| StoreError::Backend {
                            store: "memory",
                            source: "more actions than a task can hold".into(),
                        })?,
                        planned: planned.clone(),
                        state: RevertAction::initial_state(&planned.operation),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let stored = StoredTask {
                task: RevertTask {
                    uid: uid.clone(),
                    batch: task.batch.clone(),
                    user: task.user.clone(),
                    comment: task.comment.clone(),
                    created: chrono::Utc::now(),
                    status: TaskStatus::Running,
                    finished: None,
                    counts: ActionCounts::default(),
                },
                actions,
            };
            let created = stored.snapshot();
            tasks.running.insert(task.batch.clone(), uid.clone());
            tasks.tasks.insert(uid, stored);
            return Ok(created);
        }
        Err(CreateTaskError::Store(StoreError::Backend {
            store: "memory",
            source: "no free task id found".into(),
        }))
    }

    async fn revert_task(&self, uid: &str) -> Result<Option<RevertTask>, StoreError> {
        Ok(self.tasks.lock()?.tasks.get(uid).map(StoredTask::snapshot))
    }

    async fn revert_tasks(&self, query: &TaskQuery) -> Result<Vec<RevertTask>, StoreError> {
        let tasks = self.tasks.lock()?;
        let mut found: Vec<RevertTask> = tasks
            .tasks
            .values()
            .filter(|t| query.matches(&t.task))
            .map(StoredTask::snapshot)
            .collect();
        found.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.uid.cmp(&b.uid)));
        if query.limit > 0 {
            found.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
        }
        Ok(found)
    }

    async fn revert_actions(&self, uid: &str) -> Result<Vec<RevertAction>, StoreError> {
        Ok(self
            .tasks
            .lock()?
            .tasks
            .get(uid)
            .map(|t| t.actions.clone())
            .unwrap_or_default())
    }

    async fn record_action(
        &self,
        uid: &str,
        seq: u32,
        state: &ActionState,
    ) -> Result<(), StoreError> {
        let mut tasks = self.tasks.lock()?;
        let action = tasks
            .tasks
            .get_mut(uid)
            .and_then(|t| t.actions.get_mut(seq as usize))
            .ok_or_else(|| StoreError::Backend {
                store: "memory",
                source: format!("task {uid} has no action {seq}").into(),
            })?;
        action.state = state.clone();
        Ok(())
    }

    async fn cancel_revert_task(&self, uid: &str) -> Result<Option<RevertTask>, StoreError> {
        Ok(self.tasks.lock()?.end(uid, TaskStatus::Cancelled))
    }

    async fn finish_revert_task(
        &self,
        uid: &str,
        end: &TaskEnd,
    ) -> Result<Option<RevertTask>, StoreError> {
        let status = match end {
            TaskEnd::Completed => TaskStatus::Completed,
            TaskEnd::Refused(reason) => TaskStatus::Refused {
                reason: reason.clone(),
            },
        };
        Ok(self.tasks.lock()?.end(uid, status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_passes_the_task_suite() {
        let store = MemoryStore::new();
        editgroups_core::testing::tasks::run_all(&store).await;
        // Both suites share a store.
        editgroups_core::testing::store::run_all(&store).await;
    }
}
