//! Revert tasks in SQL: `editgroups_revert_tasks` (one row per task) and
//! `editgroups_revert_actions` (one row per action, keyed by task and place).
//!
//! Tasks are written outside the chunk writer's lock: they touch no table that
//! `apply` reads or caches. One running task per batch is the unique index on
//! `running_batch_id` (see `m0003_revert_tasks`).

use super::SqlStore;
use super::apply::{get, query, to_i64};
use super::bulk::{self, Col, Conflict};
use super::error::{backend as store_error, corrupt, db_error};
use super::read::{micros, timestamp};
use super::schema::{Batches, Tools};
use async_trait::async_trait;
use editgroups_core::plan::{PlannedAction, REVERT_TOOL, RevertOperation};
use editgroups_core::tasks::{
    ActionCounts, ActionState, CreateTaskError, NewRevertTask, RevertAction, RevertTask,
    RevertTaskStore, TaskEnd, TaskQuery, TaskStatus, check_new_task, new_task_uid,
};
use editgroups_core::{BatchKey, StoreError};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query, SelectStatement, Value};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, SqlErr};
use std::collections::HashMap;

/// How many times creating a task is tried when a random id collides.
const UID_ATTEMPTS: usize = 16;

/// Revert tasks.
#[derive(Debug, Clone, Copy, sea_orm::DeriveIden)]
pub(crate) enum RevertTasks {
    #[sea_orm(iden = "editgroups_revert_tasks")]
    Table,
    Id,
    Uid,
    BatchId,
    /// The batch id while the task runs, NULL once it ended.
    RunningBatchId,
    User,
    Comment,
    CreatedUs,
    Status,
    Reason,
    FinishedUs,
}

/// The actions of revert tasks.
#[derive(Debug, Clone, Copy, sea_orm::DeriveIden)]
pub(crate) enum RevertActions {
    #[sea_orm(iden = "editgroups_revert_actions")]
    Table,
    TaskId,
    Seq,
    Rcid,
    Namespace,
    Title,
    Operation,
    Revision,
    EditingUser,
    /// Why an action cannot be undone.
    Note,
    State,
    ResultRevision,
    ResultLogId,
    Code,
    Message,
}

const ACTION_COLUMNS: [&Col; 14] = [
    &RevertActions::TaskId,
    &RevertActions::Seq,
    &RevertActions::Rcid,
    &RevertActions::Namespace,
    &RevertActions::Title,
    &RevertActions::Operation,
    &RevertActions::Revision,
    &RevertActions::EditingUser,
    &RevertActions::Note,
    &RevertActions::State,
    &RevertActions::ResultRevision,
    &RevertActions::ResultLogId,
    &RevertActions::Code,
    &RevertActions::Message,
];

/// The five state columns of an action: state, result revision, result log id,
/// code, message.
///
/// The code and message come from the wiki's answer: a NUL in them is kept as
/// U+FFFD on every backend (PostgreSQL text cannot hold NUL, and an answer that
/// could not be recorded would leave the action unrecorded).
fn state_values(state: &ActionState) -> Result<[Value; 5], StoreError> {
    let id = |value: Option<u64>, what: &str| -> Result<Value, StoreError> {
        Ok(Value::BigInt(value.map(|v| to_i64(v, what)).transpose()?))
    };
    let text = |value: Option<&str>| Value::String(value.map(|v| v.replace('\0', "\u{fffd}")));
    Ok(match state {
        ActionState::Pending | ActionState::Sent => [
            state.name().into(),
            id(None, "")?,
            id(None, "")?,
            text(None),
            text(None),
        ],
        ActionState::Done { revision, log_id } => [
            state.name().into(),
            id(*revision, "revision id")?,
            id(*log_id, "log id")?,
            text(None),
            text(None),
        ],
        ActionState::Failed { code, message } => [
            state.name().into(),
            id(None, "")?,
            id(None, "")?,
            text(Some(code)),
            text(Some(message)),
        ],
        ActionState::Skipped { reason } => [
            state.name().into(),
            id(None, "")?,
            id(None, "")?,
            text(None),
            text(Some(reason)),
        ],
    })
}

fn action_row(task_id: i64, seq: usize, planned: &PlannedAction) -> Result<Vec<Value>, StoreError> {
    let (revision, editing_user, note) = match &planned.operation {
        RevertOperation::Undo {
            revision,
            editing_user,
        } => (
            Some(to_i64(*revision, "revision id")?),
            Some(editing_user.clone()),
            None,
        ),
        RevertOperation::Delete | RevertOperation::Undelete => (None, None, None),
        RevertOperation::CannotUndo { reason } => (None, None, Some(reason.clone())),
    };
    let mut row = vec![
        Value::BigInt(Some(task_id)),
        Value::BigInt(Some(to_i64(seq as u64, "action number")?)),
        Value::BigInt(Some(to_i64(planned.rcid, "rc id")?)),
        Value::BigInt(Some(planned.namespace)),
        Value::String(Some(planned.title.clone())),
        planned.operation.name().into(),
        Value::BigInt(revision),
        Value::String(editing_user),
        Value::String(note),
    ];
    row.extend(state_values(&RevertAction::initial_state(
        &planned.operation,
    ))?);
    Ok(row)
}

fn u64_of(row: &QueryResult, col: RevertActions) -> Result<Option<u64>, StoreError> {
    get::<Option<i64>>(row, col)?
        .map(|v| u64::try_from(v).map_err(|_| corrupt(format!("negative {col:?} {v}"))))
        .transpose()
}

fn read_action(row: &QueryResult) -> Result<RevertAction, StoreError> {
    let text = |col: RevertActions| get::<Option<String>>(row, col);
    let operation = match get::<String>(row, RevertActions::Operation)?.as_str() {
        "undo" => RevertOperation::Undo {
            revision: u64_of(row, RevertActions::Revision)?
                .ok_or_else(|| corrupt("an undo action without a revision"))?,
            editing_user: text(RevertActions::EditingUser)?.unwrap_or_default(),
        },
        "delete" => RevertOperation::Delete,
        "undelete" => RevertOperation::Undelete,
        "none" => RevertOperation::CannotUndo {
            reason: text(RevertActions::Note)?.unwrap_or_default(),
        },
        other => return Err(corrupt(format!("unknown revert operation {other:?}"))),
    };
    let state = match get::<String>(row, RevertActions::State)?.as_str() {
        "pending" => ActionState::Pending,
        "sent" => ActionState::Sent,
        "done" => ActionState::Done {
            revision: u64_of(row, RevertActions::ResultRevision)?,
            log_id: u64_of(row, RevertActions::ResultLogId)?,
        },
        "failed" => ActionState::Failed {
            code: text(RevertActions::Code)?.unwrap_or_default(),
            message: text(RevertActions::Message)?.unwrap_or_default(),
        },
        "skipped" => ActionState::Skipped {
            reason: text(RevertActions::Message)?.unwrap_or_default(),
        },
        other => return Err(corrupt(format!("unknown action state {other:?}"))),
    };
    let seq: i64 = get(row, RevertActions::Seq)?;
    Ok(RevertAction {
        seq: u32::try_from(seq).map_err(|_| corrupt(format!("action number {seq}")))?,
        planned: PlannedAction {
            rcid: u64_of(row, RevertActions::Rcid)?
                .ok_or_else(|| corrupt("an action without an rc id"))?,
            namespace: get(row, RevertActions::Namespace)?,
            title: get(row, RevertActions::Title)?,
            operation,
        },
        state,
    })
}

/// Tasks with the key of their batch.
fn task_select() -> SelectStatement {
    let mut select = Query::select();
    for col in [
        RevertTasks::Id,
        RevertTasks::Uid,
        RevertTasks::User,
        RevertTasks::Comment,
        RevertTasks::CreatedUs,
        RevertTasks::Status,
        RevertTasks::Reason,
        RevertTasks::FinishedUs,
    ] {
        select.column((RevertTasks::Table, col));
    }
    select
        .expr_as(
            Expr::col((Batches::Table, Batches::Wiki)),
            Alias::new("batch_wiki"),
        )
        .expr_as(
            Expr::col((Tools::Table, Tools::Shortid)),
            Alias::new("batch_tool"),
        )
        .expr_as(
            Expr::col((Batches::Table, Batches::Uid)),
            Alias::new("batch_uid"),
        )
        .from(RevertTasks::Table)
        .inner_join(
            Batches::Table,
            Expr::col((Batches::Table, Batches::Id))
                .equals((RevertTasks::Table, RevertTasks::BatchId)),
        )
        .inner_join(
            Tools::Table,
            Expr::col((Tools::Table, Tools::Id)).equals((Batches::Table, Batches::ToolId)),
        )
        .to_owned()
}

fn read_task(row: &QueryResult) -> Result<(i64, RevertTask), StoreError> {
    let status = match get::<String>(row, RevertTasks::Status)?.as_str() {
        "running" => TaskStatus::Running,
        "cancelled" => TaskStatus::Cancelled,
        "completed" => TaskStatus::Completed,
        "refused" => TaskStatus::Refused {
            reason: get::<Option<String>>(row, RevertTasks::Reason)?.unwrap_or_default(),
        },
        other => return Err(corrupt(format!("unknown task status {other:?}"))),
    };
    Ok((
        get(row, RevertTasks::Id)?,
        RevertTask {
            uid: get(row, RevertTasks::Uid)?,
            batch: BatchKey::new(
                get::<String>(row, Alias::new("batch_wiki"))?,
                get::<String>(row, Alias::new("batch_tool"))?,
                get::<String>(row, Alias::new("batch_uid"))?,
            ),
            user: get(row, RevertTasks::User)?,
            comment: get(row, RevertTasks::Comment)?,
            created: timestamp(get(row, RevertTasks::CreatedUs)?)?,
            status,
            finished: get::<Option<i64>>(row, RevertTasks::FinishedUs)?
                .map(timestamp)
                .transpose()?,
            counts: ActionCounts::default(),
        },
    ))
}

/// Tasks of a query, with their counts.
async fn tasks_where<C: ConnectionTrait>(
    db: &C,
    select: &SelectStatement,
) -> Result<Vec<RevertTask>, StoreError> {
    let rows = query(db, select, "reading revert tasks").await?;
    let mut tasks = Vec::with_capacity(rows.len());
    let mut index = HashMap::new();
    for row in &rows {
        let (id, task) = read_task(row)?;
        index.insert(id, tasks.len());
        tasks.push(task);
    }
    let ids: Vec<i64> = index.keys().copied().collect();
    for part in ids.chunks(10_000) {
        let counts = Query::select()
            .columns([RevertActions::TaskId, RevertActions::State])
            .expr_as(Func::count(Expr::val(1)), Alias::new("n"))
            .from(RevertActions::Table)
            .and_where(Expr::col(RevertActions::TaskId).is_in(part.iter().copied()))
            .group_by_col(RevertActions::TaskId)
            .group_by_col(RevertActions::State)
            .to_owned();
        for row in query(db, &counts, "counting revert actions").await? {
            let id: i64 = get(&row, RevertActions::TaskId)?;
            let n: i64 = get(&row, Alias::new("n"))?;
            if let Some(task) = index.get(&id).and_then(|&i| tasks.get_mut(i)) {
                let state: String = get(&row, RevertActions::State)?;
                task.counts.add(&state, u64::try_from(n).unwrap_or(0));
            }
        }
    }
    Ok(tasks)
}

async fn task_by_uid<C: ConnectionTrait>(
    db: &C,
    uid: &str,
) -> Result<Option<RevertTask>, StoreError> {
    let mut select = task_select();
    select.and_where(Expr::col((RevertTasks::Table, RevertTasks::Uid)).eq(uid));
    Ok(tasks_where(db, &select).await?.into_iter().next())
}

/// The id of a batch.
async fn batch_id<C: ConnectionTrait>(db: &C, key: &BatchKey) -> Result<Option<i64>, StoreError> {
    let select = Query::select()
        .column((Batches::Table, Batches::Id))
        .from(Batches::Table)
        .inner_join(
            Tools::Table,
            Expr::col((Tools::Table, Tools::Id)).equals((Batches::Table, Batches::ToolId)),
        )
        .and_where(Expr::col((Batches::Table, Batches::Wiki)).eq(key.wiki.as_str()))
        .and_where(Expr::col((Tools::Table, Tools::Shortid)).eq(key.tool.as_str()))
        .and_where(Expr::col((Batches::Table, Batches::Uid)).eq(key.uid.as_str()))
        .to_owned();
    query(db, &select, "finding a batch")
        .await?
        .first()
        .map(|row| get(row, Batches::Id))
        .transpose()
}

/// The uid of the running task of a batch.
async fn running_task<C: ConnectionTrait>(
    db: &C,
    batch_id: i64,
) -> Result<Option<String>, StoreError> {
    let select = Query::select()
        .column(RevertTasks::Uid)
        .from(RevertTasks::Table)
        .and_where(Expr::col(RevertTasks::RunningBatchId).eq(batch_id))
        .to_owned();
    query(db, &select, "finding the running task")
        .await?
        .first()
        .map(|row| get(row, RevertTasks::Uid))
        .transpose()
}

async fn uid_taken<C: ConnectionTrait>(db: &C, wiki: &str, uid: &str) -> Result<bool, StoreError> {
    let select = Query::select()
        .column(RevertTasks::Id)
        .from(RevertTasks::Table)
        .and_where(Expr::col(RevertTasks::Uid).eq(uid))
        .to_owned();
    if !query(db, &select, "checking a task id").await?.is_empty() {
        return Ok(true);
    }
    // Not the id of a revert batch already on the wiki (made by another
    // EditGroups, say): the new task's edits would join it.
    Ok(batch_id(db, &BatchKey::new(wiki, REVERT_TOOL, uid))
        .await?
        .is_some())
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// What one attempt at creating a task came to.
enum Attempt {
    Created(String),
    /// The insert hit a unique index: another task started, or the id was taken.
    Collided,
}

async fn try_create(
    db: &DatabaseConnection,
    task: &NewRevertTask,
) -> Result<Attempt, CreateTaskError> {
    let txn = super::chunk_txn::begin_writing(db).await?;
    let batch = super::read::batch(&txn, &task.batch).await?;
    check_new_task(task, batch.as_ref())?;
    let id = batch_id(&txn, &task.batch)
        .await?
        .ok_or_else(|| CreateTaskError::NoSuchBatch(task.batch.clone()))?;
    if let Some(running) = running_task(&txn, id).await? {
        return Err(CreateTaskError::AlreadyRunning {
            batch: task.batch.clone(),
            task: running,
        });
    }
    let mut uid = new_task_uid();
    let mut tries = 0;
    while uid_taken(&txn, &task.batch.wiki, &uid).await? {
        tries += 1;
        if tries >= UID_ATTEMPTS {
            return Err(store_error("no free task id found").into());
        }
        uid = new_task_uid();
    }
    let insert = Query::insert()
        .into_table(RevertTasks::Table)
        .columns([
            RevertTasks::Uid,
            RevertTasks::BatchId,
            RevertTasks::RunningBatchId,
            RevertTasks::User,
            RevertTasks::Comment,
            RevertTasks::CreatedUs,
            RevertTasks::Status,
        ])
        .values([
            uid.as_str().into(),
            id.into(),
            id.into(),
            task.user.as_str().into(),
            task.comment.as_str().into(),
            micros(chrono::Utc::now()).into(),
            TaskStatus::Running.name().into(),
        ])
        .map_err(|e| store_error(format!("building the task row: {e}")))?
        .to_owned();
    match txn.execute(&insert).await {
        Ok(_) => {}
        // The transaction is rolled back when dropped.
        Err(e) if is_unique_violation(&e) => return Ok(Attempt::Collided),
        Err(e) => return Err(db_error("storing a revert task", e).into()),
    }
    let select = Query::select()
        .column(RevertTasks::Id)
        .from(RevertTasks::Table)
        .and_where(Expr::col(RevertTasks::Uid).eq(uid.as_str()))
        .to_owned();
    let task_id: i64 = query(&txn, &select, "reading the new task")
        .await?
        .first()
        .map(|row| get(row, RevertTasks::Id))
        .transpose()?
        .ok_or_else(|| store_error("the new task was not found"))?;
    let rows = task
        .actions
        .iter()
        .enumerate()
        .map(|(seq, planned)| action_row(task_id, seq, planned))
        .collect::<Result<Vec<_>, _>>()?;
    bulk::insert(
        &txn,
        &RevertActions::Table,
        &ACTION_COLUMNS,
        rows,
        Conflict::Fail,
        "storing revert actions",
    )
    .await?;
    txn.commit()
        .await
        .map_err(|e| db_error("committing a revert task", e))?;
    Ok(Attempt::Created(uid))
}

#[async_trait]
impl RevertTaskStore for SqlStore {
    async fn create_revert_task(
        &self,
        task: &NewRevertTask,
    ) -> Result<RevertTask, CreateTaskError> {
        for _ in 0..UID_ATTEMPTS {
            match try_create(&self.db, task).await? {
                Attempt::Created(uid) => {
                    return task_by_uid(&self.db, &uid)
                        .await?
                        .ok_or_else(|| store_error("the new task was not found").into());
                }
                Attempt::Collided => {
                    // Another request started a task for the batch first (or took
                    // the random id): say which, or try again.
                    if let Some(id) = batch_id(&self.db, &task.batch).await?
                        && let Some(running) = running_task(&self.db, id).await?
                    {
                        return Err(CreateTaskError::AlreadyRunning {
                            batch: task.batch.clone(),
                            task: running,
                        });
                    }
                }
            }
        }
        Err(store_error("could not store the revert task: ids kept colliding").into())
    }

    async fn revert_task(&self, uid: &str) -> Result<Option<RevertTask>, StoreError> {
        task_by_uid(&self.db, uid).await
    }

    async fn revert_tasks(&self, q: &TaskQuery) -> Result<Vec<RevertTask>, StoreError> {
        let mut select = task_select();
        if let Some(key) = &q.batch {
            select
                .and_where(Expr::col((Batches::Table, Batches::Wiki)).eq(key.wiki.as_str()))
                .and_where(Expr::col((Tools::Table, Tools::Shortid)).eq(key.tool.as_str()))
                .and_where(Expr::col((Batches::Table, Batches::Uid)).eq(key.uid.as_str()));
        }
        if let Some(wiki) = &q.wiki {
            select.and_where(Expr::col((Batches::Table, Batches::Wiki)).eq(wiki.as_str()));
        }
        if q.running_only {
            select.and_where(
                Expr::col((RevertTasks::Table, RevertTasks::Status)).eq(TaskStatus::Running.name()),
            );
        }
        select
            .order_by((RevertTasks::Table, RevertTasks::CreatedUs), Order::Desc)
            .order_by((RevertTasks::Table, RevertTasks::Uid), Order::Asc);
        if q.limit > 0 {
            select.limit(q.limit);
        }
        tasks_where(&self.db, &select).await
    }

    async fn revert_actions(&self, uid: &str) -> Result<Vec<RevertAction>, StoreError> {
        let mut select = Query::select();
        for col in ACTION_COLUMNS.iter().skip(1) {
            select.column((RevertActions::Table, Alias::new(col.to_string())));
        }
        select
            .from(RevertActions::Table)
            .inner_join(
                RevertTasks::Table,
                Expr::col((RevertTasks::Table, RevertTasks::Id))
                    .equals((RevertActions::Table, RevertActions::TaskId)),
            )
            .and_where(Expr::col((RevertTasks::Table, RevertTasks::Uid)).eq(uid))
            .order_by((RevertActions::Table, RevertActions::Seq), Order::Asc);
        query(&self.db, &select, "reading revert actions")
            .await?
            .iter()
            .map(read_action)
            .collect()
    }

    async fn record_action(
        &self,
        uid: &str,
        seq: u32,
        state: &ActionState,
    ) -> Result<(), StoreError> {
        let [state_name, revision, log_id, code, message] = state_values(state)?;
        let task = Query::select()
            .column(RevertTasks::Id)
            .from(RevertTasks::Table)
            .and_where(Expr::col(RevertTasks::Uid).eq(uid))
            .to_owned();
        let update = Query::update()
            .table(RevertActions::Table)
            .values([
                (RevertActions::State, state_name.into()),
                (RevertActions::ResultRevision, revision.into()),
                (RevertActions::ResultLogId, log_id.into()),
                (RevertActions::Code, code.into()),
                (RevertActions::Message, message.into()),
            ])
            .and_where(Expr::col(RevertActions::TaskId).in_subquery(task.clone()))
            .and_where(Expr::col(RevertActions::Seq).eq(i64::from(seq)))
            .to_owned();
        let result = self
            .db
            .execute(&update)
            .await
            .map_err(|e| db_error("recording a revert action", e))?;
        if result.rows_affected() > 0 {
            return Ok(());
        }
        // MySQL counts changed rows only: the state may simply be the same.
        let exists = Query::select()
            .column(RevertActions::Seq)
            .from(RevertActions::Table)
            .and_where(Expr::col(RevertActions::TaskId).in_subquery(task))
            .and_where(Expr::col(RevertActions::Seq).eq(i64::from(seq)))
            .to_owned();
        if query(&self.db, &exists, "finding a revert action")
            .await?
            .is_empty()
        {
            return Err(store_error(format!("task {uid} has no action {seq}")));
        }
        Ok(())
    }

    async fn cancel_revert_task(&self, uid: &str) -> Result<Option<RevertTask>, StoreError> {
        end_task(&self.db, uid, &TaskStatus::Cancelled).await
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
        end_task(&self.db, uid, &status).await
    }
}

/// Ends a running task with `status`; the task as it is afterwards.
async fn end_task(
    db: &DatabaseConnection,
    uid: &str,
    status: &TaskStatus,
) -> Result<Option<RevertTask>, StoreError> {
    let reason = match status {
        TaskStatus::Refused { reason } => Some(reason.clone()),
        _ => None,
    };
    let update = Query::update()
        .table(RevertTasks::Table)
        .values([
            (RevertTasks::Status, status.name().into()),
            (RevertTasks::Reason, reason.into()),
            (RevertTasks::FinishedUs, micros(chrono::Utc::now()).into()),
            (RevertTasks::RunningBatchId, Option::<i64>::None.into()),
        ])
        .and_where(Expr::col(RevertTasks::Uid).eq(uid))
        .and_where(Expr::col(RevertTasks::Status).eq(TaskStatus::Running.name()))
        .to_owned();
    db.execute(&update)
        .await
        .map_err(|e| db_error("ending a revert task", e))?;
    task_by_uid(db, uid).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_its_columns() {
        for state in [
            ActionState::Pending,
            ActionState::Sent,
            ActionState::Done {
                revision: Some(1),
                log_id: None,
            },
            ActionState::Failed {
                code: "c".into(),
                message: "m".into(),
            },
            ActionState::Skipped { reason: "r".into() },
        ] {
            let values = state_values(&state).unwrap();
            assert_eq!(values[0], Value::from(state.name()));
        }
        assert!(
            state_values(&ActionState::Done {
                revision: Some(u64::MAX),
                log_id: None
            })
            .is_err()
        );
    }
}
