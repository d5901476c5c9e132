//! Matching a chunk's candidates: which tool made each edit, and which edits the
//! store is handed.

use super::PipelineStats;
use crate::edit::Edit;
use crate::matcher::ToolMatcher;
use crate::rulebook::signal_of;
use crate::source::SkipReason;
use crate::store::{ChunkEdit, StoreError, attribution_fits, edit_fits, truncate_chars};
use std::sync::{Arc, mpsc};
use tokio::sync::oneshot;

/// Candidates are matched by batches of this many, on the matching thread, as they
/// are read: matching is most of the pipeline's own work, and the edits it drops
/// are freed soon instead of waiting, a whole chunk of them, for the chunk's end.
pub(super) const CANDIDATES_PER_MATCH: usize = 1024;

/// Fewer candidates than this, left at a chunk's end, are matched where they are
/// read: the trip to the matching thread would cost more than it frees.
pub(super) const MIN_CANDIDATES_TO_HAND_OFF: usize = 256;

/// A batch of a chunk's candidates, matched or being matched.
pub(super) enum Matching {
    Done(Vec<ChunkEdit>),
    Running(oneshot::Receiver<Vec<ChunkEdit>>),
}

impl Matching {
    /// The batch's kept edits, once matched.
    pub(super) async fn edits(self) -> Result<Vec<ChunkEdit>, StoreError> {
        match self {
            Self::Done(edits) => Ok(edits),
            Self::Running(answer) => answer.await.map_err(|_| StoreError::Backend {
                store: "pipeline",
                source: "the matching thread stopped (the tool matcher panicked)".into(),
            }),
        }
    }
}

/// A batch to match, and where its result goes.
type Job = (Vec<Box<Edit>>, oneshot::Sender<Vec<ChunkEdit>>);

/// A thread that matches batches of candidates, one after the other; it ends
/// when the pipeline drops it.
#[derive(Debug)]
pub(super) struct MatchingThread {
    jobs: mpsc::Sender<Job>,
}

impl MatchingThread {
    /// The thread, or `None` when no thread can be had (the pipeline then
    /// matches where it reads).
    pub(super) fn start(matcher: Arc<dyn ToolMatcher>, stats: Arc<PipelineStats>) -> Option<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("editgroups-match".into())
            .spawn(move || {
                for (candidates, answer) in queue {
                    // A pipeline that went away no longer wants the answer.
                    let _ = answer.send(attribute(&*matcher, &stats, candidates));
                }
            })
            .ok()?;
        Some(Self { jobs })
    }

    /// Queues a batch.
    #[allow(clippy::vec_box, reason = "the edits arrive boxed")]
    pub(super) fn submit(&self, candidates: Vec<Box<Edit>>) -> Matching {
        let (answer, receiver) = oneshot::channel();
        // When the thread is gone (a panic in the matcher) the job comes back and
        // is dropped with its answer: the chunk then fails, it loses no edit quietly.
        let _ = self.jobs.send((candidates, answer));
        Matching::Running(receiver)
    }
}

/// The edits of a chunk the store is handed: those a tool made (attributed) and
/// those that revert an edit (undo, deletion, restore); the rest are dropped.
/// Counts what it attributes, and what is too long to store.
#[allow(clippy::vec_box, reason = "the edits arrive boxed")]
pub(super) fn attribute(
    matcher: &dyn ToolMatcher,
    stats: &PipelineStats,
    candidates: Vec<Box<Edit>>,
) -> Vec<ChunkEdit> {
    let mut edits = Vec::with_capacity(candidates.len() / 2);
    for edit in candidates {
        if !edit_fits(&edit) {
            stats.skipped(SkipReason::Oversized);
            tracing::warn!(
                rcid = edit.rcid,
                "skipped an event whose ids or title are too long to store"
            );
            continue;
        }
        let attribution = matcher.match_edit(&edit).filter(|found| {
            let fits = attribution_fits(found);
            if !fits {
                stats.skipped(SkipReason::Oversized);
                tracing::warn!(rcid = edit.rcid, tool = %truncate_chars(&found.tool, 40), "dropped an attribution whose batch id or author is too long to store");
            }
            fits
        });
        if attribution.is_some() {
            stats.attributed();
        } else if signal_of(&edit).is_none() {
            continue;
        }
        edits.push(ChunkEdit {
            edit: *edit,
            attribution,
        });
    }
    edits
}
