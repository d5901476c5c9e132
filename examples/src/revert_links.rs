//! The revert tasks of a batch and the batches they made, both ways: for a
//! batch, the tasks that undo it and the `EG` batch each made; for an `EG`
//! batch, the batch its task undid.

use crate::output::{Format, utc};
use editgroups_core::plan::REVERT_TOOL;
use editgroups_core::{Batch, RevertTask, StoreError, TaskQuery};
use editgroups_store::Store;
use serde::Serialize;
use std::io::{self, Write};

/// A task and the batch its actions made on the wiki (once polled).
#[derive(Debug, Clone)]
pub struct TaskLink {
    /// The task.
    pub task: RevertTask,
    /// The `EG` batch of its undo edits, deletions and restores, when stored.
    pub revert_batch: Option<Batch>,
}

/// What links a batch to revert tasks.
#[derive(Debug, Clone, Default)]
pub struct RevertLinks {
    /// The tasks that undo this batch, newest first.
    pub tasks: Vec<TaskLink>,
    /// For an `EG` batch: the task that made it, and the batch it undid.
    pub reverts: Option<(RevertTask, Option<Batch>)>,
}

/// The links of `batch` in `store`.
pub async fn revert_links(store: &dyn Store, batch: &Batch) -> Result<RevertLinks, StoreError> {
    let mut links = RevertLinks::default();
    for task in store
        .revert_tasks(&TaskQuery::new().with_batch(batch.key.clone()))
        .await?
    {
        let revert_batch = store.batch(&task.revert_batch()).await?;
        links.tasks.push(TaskLink { task, revert_batch });
    }
    if batch.key.tool == REVERT_TOOL
        && let Some(task) = store.revert_task(&batch.key.uid).await?
        && task.batch.wiki == batch.key.wiki
    {
        let undone = store.batch(&task.batch).await?;
        links.reverts = Some((task, undone));
    }
    Ok(links)
}

/// A task in the JSON-lines and CSV outputs.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRow<'a> {
    /// The task id (the uid of its `EG` batch).
    pub uid: &'a str,
    /// The batch it undoes, `WIKI:TOOL/UID`.
    pub batch: String,
    /// `running`, `cancelled`, `completed` or `refused`.
    pub status: &'static str,
    /// Why it was refused.
    pub reason: Option<&'a str>,
    /// Who asked for it.
    pub user: &'a str,
    /// Why.
    pub comment: &'a str,
    /// When it was created, `YYYY-MM-DDTHH:MM:SSZ`.
    pub created: String,
    /// Actions done.
    pub done: u64,
    /// Actions the wiki refused.
    pub failed: u64,
    /// Actions skipped.
    pub skipped: u64,
    /// Actions not settled (pending or sent).
    pub pending: u64,
    /// The `EG` batch it made, `WIKI:EG/UID`, when stored.
    pub revert_batch: Option<String>,
}

impl<'a> TaskRow<'a> {
    /// The row of a task; `revert_batch` is the batch it made, if stored.
    pub fn new(task: &'a RevertTask, revert_batch: Option<&Batch>) -> Self {
        Self {
            uid: &task.uid,
            batch: task.batch.to_string(),
            status: task.status.name(),
            reason: match &task.status {
                editgroups_core::TaskStatus::Refused { reason } => Some(reason),
                _ => None,
            },
            user: &task.user,
            comment: &task.comment,
            created: utc(task.created),
            done: task.counts.done,
            failed: task.counts.failed,
            skipped: task.counts.skipped,
            pending: task.counts.unsettled(),
            revert_batch: revert_batch.map(|b| b.key.to_string()),
        }
    }
}

/// Prints tasks: a table, one JSON object per line, or CSV.
pub fn write_tasks(out: &mut impl Write, rows: &[TaskRow<'_>], format: Format) -> io::Result<()> {
    match format {
        Format::Jsonl => {
            for row in rows {
                serde_json::to_writer(&mut *out, row)?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            writeln!(
                out,
                "uid,batch,status,user,created,done,failed,skipped,pending,revert_batch,comment"
            )?;
            for row in rows {
                let csv = |t: &str| {
                    if t.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", t.replace('"', "\"\""))
                    } else {
                        t.to_owned()
                    }
                };
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{}",
                    row.uid,
                    csv(&row.batch),
                    row.status,
                    csv(row.user),
                    row.created,
                    row.done,
                    row.failed,
                    row.skipped,
                    row.pending,
                    csv(row.revert_batch.as_deref().unwrap_or("")),
                    csv(row.comment)
                )?;
            }
        }
        Format::Table => {
            writeln!(
                out,
                "{:<8} {:<28} {:<10} {:<16} {:<20} {:>5} {:>6} {:>7} {:>7}  comment",
                "task",
                "batch",
                "status",
                "user",
                "created",
                "done",
                "failed",
                "skipped",
                "pending"
            )?;
            for row in rows {
                writeln!(
                    out,
                    "{:<8} {:<28} {:<10} {:<16} {:<20} {:>5} {:>6} {:>7} {:>7}  {}{}",
                    row.uid,
                    row.batch,
                    row.status,
                    row.user,
                    row.created,
                    row.done,
                    row.failed,
                    row.skipped,
                    row.pending,
                    row.comment,
                    row.reason
                        .map(|r| format!(" (refused: {r})"))
                        .unwrap_or_default()
                )?;
            }
        }
    }
    Ok(())
}

/// Prints the links of a batch after its detail (table and CSV), or returns the
/// keys to add to its JSON object (`revert_tasks`, `reverted_batch`).
pub fn links_json(links: &RevertLinks) -> serde_json::Map<String, serde_json::Value> {
    let mut keys = serde_json::Map::new();
    let tasks: Vec<serde_json::Value> = links
        .tasks
        .iter()
        .filter_map(|l| serde_json::to_value(TaskRow::new(&l.task, l.revert_batch.as_ref())).ok())
        .collect();
    keys.insert("revert_tasks".into(), tasks.into());
    let reverted = links.reverts.as_ref().map(|(task, undone)| {
        serde_json::json!({
            "task": task.uid,
            "batch": task.batch.to_string(),
            "stored": undone.is_some(),
        })
    });
    keys.insert(
        "reverted_batch".into(),
        reverted.unwrap_or(serde_json::Value::Null),
    );
    keys
}

/// Prints the links of a batch as text lines (table format) or CSV rows.
pub fn write_links(out: &mut impl Write, links: &RevertLinks, format: Format) -> io::Result<()> {
    if format == Format::Jsonl {
        return Ok(());
    }
    if let Some((task, undone)) = &links.reverts {
        writeln!(out)?;
        writeln!(
            out,
            "reverts batch {} (task {}, {}){}",
            task.batch,
            task.uid,
            task.status.name(),
            if undone.is_some() {
                ""
            } else {
                " [not in this store]"
            }
        )?;
    }
    if !links.tasks.is_empty() {
        writeln!(out)?;
        if format == Format::Table {
            writeln!(out, "revert tasks:")?;
        }
        let rows: Vec<TaskRow<'_>> = links
            .tasks
            .iter()
            .map(|l| TaskRow::new(&l.task, l.revert_batch.as_ref()))
            .collect();
        write_tasks(out, &rows, format)?;
        if format == Format::Table {
            for link in &links.tasks {
                match &link.revert_batch {
                    Some(b) => writeln!(
                        out,
                        "  task {} made batch {}: {} edits, {} reverted",
                        link.task.uid, b.key, b.nb_edits, b.nb_reverted_edits
                    )?,
                    None => writeln!(
                        out,
                        "  task {} made batch {} (not polled yet)",
                        link.task.uid,
                        link.task.revert_batch()
                    )?,
                }
            }
        }
    }
    Ok(())
}
