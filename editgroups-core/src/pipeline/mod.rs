//! The pipeline: source → tool matcher → store.

mod matching;
mod stats;

pub use stats::{PipelineStats, StatsSnapshot};

use crate::edit::Edit;
use crate::matcher::{RegexToolMatcher, ToolMatcher};
use crate::source::{EditSource, SkipReason, SourceError, SourceItem};
use crate::store::{ApplyReport, BatchStore, Chunk, StoreError};
use futures::StreamExt;
use matching::{
    CANDIDATES_PER_MATCH, MIN_CANDIDATES_TO_HAND_OFF, Matching, MatchingThread, attribute,
};
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The namespaces EditGroups watches: items, properties, queries, lexemes, entity
/// schemas and files.
pub const DEFAULT_WATCHED_NAMESPACES: [i64; 6] = [0, 120, 122, 146, 640, 6];

/// Tunables of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PipelineConfig {
    /// Items read before a chunk is applied.
    pub chunk_size: usize,
    /// The longest a read item waits before its chunk is applied, so a quiet wiki
    /// still shows its edits within seconds.
    pub max_chunk_delay: Duration,
    /// Only changes in these namespaces are ingested.
    pub watched_namespaces: BTreeSet<i64>,
    /// How often progress is logged at `info` level (events read, attributed, lag).
    pub progress_interval: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            chunk_size: 1000,
            max_chunk_delay: Duration::from_secs(1),
            watched_namespaces: DEFAULT_WATCHED_NAMESPACES.into_iter().collect(),
            progress_interval: Duration::from_secs(30),
        }
    }
}

/// Why a pipeline stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The source failed in a way it could not recover from. Everything read before
    /// the failure was stored.
    #[error("source {source_name}: {error}")]
    Source {
        /// The source's name.
        source_name: String,
        /// What failed.
        error: SourceError,
    },
    /// The store failed. The chunk in hand was not stored; the stored cursor is
    /// where the stored data ends, so running again resumes without loss.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The pipeline was assembled wrongly.
    #[error("pipeline configuration: {0}")]
    Config(String),
}

/// A source, a matcher and a store, joined.
///
/// The pipeline is a value the host awaits on its Tokio runtime; it starts no
/// runtime. While it runs it keeps one thread of its own, which matches the
/// edits it reads by batches of 1,024, and it stores each chunk on a task of the
/// runtime while it reads the next; dropping the pipeline cancels that task as it
/// would cancel a future, and ends the thread.
///
/// ```no_run
/// # async fn run(source: impl editgroups_core::EditSource + 'static, store: std::sync::Arc<dyn editgroups_core::BatchStore>) -> Result<(), editgroups_core::pipeline::PipelineError> {
/// use editgroups_core::Pipeline;
/// let pipeline = Pipeline::builder().source(source).shared_store(store).build()?;
/// let stats = pipeline.stats();
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// # drop(stop);
/// pipeline.run_until(async { let _ = stopped.await; }).await?;
/// println!("{:?}", stats.snapshot());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Pipeline {
    source: Box<dyn EditSource>,
    matcher: Arc<dyn ToolMatcher>,
    store: Arc<dyn BatchStore>,
    config: PipelineConfig,
    stats: Arc<PipelineStats>,
    /// Where large batches of candidates are matched, while the pipeline runs.
    matching_thread: Option<MatchingThread>,
}

/// Assembles a [`Pipeline`].
#[derive(Debug, Default)]
pub struct PipelineBuilder {
    source: Option<Box<dyn EditSource>>,
    matcher: Option<Arc<dyn ToolMatcher>>,
    store: Option<Arc<dyn BatchStore>>,
    config: PipelineConfig,
}

impl PipelineBuilder {
    /// The source (required).
    pub fn source(mut self, source: impl EditSource + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The matcher; [`RegexToolMatcher::default`] when not given.
    pub fn matcher(mut self, matcher: impl ToolMatcher + 'static) -> Self {
        self.matcher = Some(Arc::new(matcher));
        self
    }

    /// A matcher shared with other parts of the host.
    pub fn shared_matcher(mut self, matcher: Arc<dyn ToolMatcher>) -> Self {
        self.matcher = Some(matcher);
        self
    }

    /// The store (required).
    pub fn store(mut self, store: impl BatchStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// A store shared with other parts of the host (a web front, another pipeline).
    pub fn shared_store(mut self, store: Arc<dyn BatchStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// All tunables at once.
    pub fn config(mut self, config: PipelineConfig) -> Self {
        self.config = config;
        self
    }

    /// Items read before a chunk is applied (default 1000).
    pub fn chunk_size(mut self, size: usize) -> Self {
        self.config.chunk_size = size;
        self
    }

    /// The longest a read item waits before it is stored (default 1 s).
    pub fn max_chunk_delay(mut self, delay: Duration) -> Self {
        self.config.max_chunk_delay = delay;
        self
    }

    /// The namespaces to ingest (default [`DEFAULT_WATCHED_NAMESPACES`]).
    pub fn watched_namespaces(mut self, namespaces: impl IntoIterator<Item = i64>) -> Self {
        self.config.watched_namespaces = namespaces.into_iter().collect();
        self
    }

    /// Checks the parts and builds the pipeline.
    pub fn build(self) -> Result<Pipeline, PipelineError> {
        let source = self
            .source
            .ok_or_else(|| PipelineError::Config("no source given".into()))?;
        let store = self
            .store
            .ok_or_else(|| PipelineError::Config("no store given".into()))?;
        if self.config.chunk_size == 0 {
            return Err(PipelineError::Config(
                "chunk size must be at least 1".into(),
            ));
        }
        if self.config.watched_namespaces.is_empty() {
            return Err(PipelineError::Config("no namespace is watched".into()));
        }
        if self.config.max_chunk_delay > Duration::from_secs(86_400) {
            return Err(PipelineError::Config(
                "the chunk delay must be at most a day".into(),
            ));
        }
        if self.config.progress_interval.is_zero() {
            return Err(PipelineError::Config(
                "the progress interval must not be zero".into(),
            ));
        }
        let matcher = self
            .matcher
            .unwrap_or_else(|| Arc::new(RegexToolMatcher::default()));
        Ok(Pipeline {
            source,
            matcher,
            store,
            config: self.config,
            stats: Arc::default(),
            matching_thread: None,
        })
    }
}

/// The chunk being read.
struct Pending {
    /// Its cursor and times; its edits are filled in from `matching`.
    chunk: Chunk,
    /// Its edits read before `candidates`, matched or being matched, in order.
    matching: Vec<Matching>,
    /// The edits of watched namespaces, not matched yet. Boxed as the source hands
    /// them over: the reading thread moves a pointer, not a whole edit.
    #[allow(clippy::vec_box, reason = "the edits arrive boxed")]
    candidates: Vec<Box<Edit>>,
    items: usize,
    deadline: Option<Instant>,
}

impl Pending {
    fn new(source: String) -> Self {
        Self {
            chunk: Chunk {
                source,
                ..Chunk::default()
            },
            matching: Vec::new(),
            candidates: Vec::new(),
            items: 0,
            deadline: None,
        }
    }
}

impl Pipeline {
    /// Starts assembling a pipeline.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// The live counters; keep the `Arc` to read them while the pipeline runs.
    pub fn stats(&self) -> Arc<PipelineStats> {
        Arc::clone(&self.stats)
    }

    /// The store the pipeline writes to.
    pub fn store(&self) -> Arc<dyn BatchStore> {
        Arc::clone(&self.store)
    }

    /// Runs until the source ends.
    pub async fn run(self) -> Result<StatsSnapshot, PipelineError> {
        self.run_until(std::future::pending()).await
    }

    /// Runs until the source ends or `shutdown` completes; either way what has been
    /// read is stored before returning.
    pub async fn run_until<F>(mut self, shutdown: F) -> Result<StatsSnapshot, PipelineError>
    where
        F: Future<Output = ()> + Send,
    {
        let source_name = self.source.name().to_owned();
        let from = self.store.cursor(&source_name).await?;
        match &from {
            Some(cursor) => tracing::info!(source = %source_name, %cursor, "resuming"),
            None => tracing::info!(source = %source_name, "starting from the source's start"),
        }
        // One thread of its own, for as long as the pipeline runs: the matcher's
        // regex caches are per thread, so matching on the runtime's blocking pool
        // would grow a set of them on every thread of the pool.
        self.matching_thread =
            MatchingThread::start(Arc::clone(&self.matcher), Arc::clone(&self.stats));
        let mut stream = self.source.stream(from);
        let mut pending = Pending::new(source_name.clone());
        let mut shutdown = std::pin::pin!(shutdown);
        let mut progress = tokio::time::interval(self.config.progress_interval);
        progress.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        progress.tick().await;
        // The chunk being stored while the next one is read: storing and reading
        // overlap, and chunks are still stored one after the other, in order.
        let mut storing: Option<Storing> = None;
        loop {
            let deadline = pending.deadline;
            tokio::select! {
                biased;
                () = &mut shutdown => {
                    tracing::info!(source = %source_name, "shutting down");
                    self.flush(&mut pending, &mut storing).await?;
                    self.finish_storing(&mut storing).await?;
                    return Ok(self.stats.snapshot());
                }
                stored = poll_storing(&mut storing) => {
                    storing = None;
                    self.stored(stored)?;
                }
                () = sleep_until(deadline) => {
                    self.flush(&mut pending, &mut storing).await?;
                }
                _ = progress.tick() => {
                    let s = self.stats.snapshot();
                    let lag = s.lag(chrono::Utc::now()).map(|l| l.num_seconds());
                    tracing::info!(
                        source = %source_name,
                        events = s.events_read,
                        skipped = s.skipped_total(),
                        attributed = s.attributed,
                        stored = s.inserted,
                        lag_seconds = lag,
                        "progress"
                    );
                }
                item = stream.next() => match item {
                    None => {
                        self.flush(&mut pending, &mut storing).await?;
                        self.finish_storing(&mut storing).await?;
                        tracing::info!(source = %source_name, "source ended");
                        return Ok(self.stats.snapshot());
                    }
                    Some(Err(error)) => {
                        self.flush(&mut pending, &mut storing).await?;
                        self.finish_storing(&mut storing).await?;
                        tracing::error!(source = %source_name, %error, "source failed");
                        return Err(PipelineError::Source { source_name, error });
                    }
                    Some(Ok(item)) => {
                        self.accept(item, &mut pending);
                        if pending.items >= self.config.chunk_size {
                            self.flush(&mut pending, &mut storing).await?;
                        }
                    }
                }
            }
        }
    }

    fn accept(&self, item: SourceItem, pending: &mut Pending) {
        self.stats.read_event();
        pending.items += 1;
        if pending.deadline.is_none() {
            pending.deadline = Some(Instant::now() + self.config.max_chunk_delay);
        }
        match item {
            SourceItem::Skipped {
                reason,
                detail,
                cursor,
            } => {
                self.stats.skipped(reason);
                if reason.is_bad_input() {
                    tracing::warn!(%reason, "skipped {detail}");
                } else {
                    tracing::debug!(%reason, "skipped {detail}");
                }
                pending.chunk.cursor = Some(cursor);
            }
            SourceItem::Edit { edit, cursor } => {
                pending.chunk.cursor = Some(cursor);
                self.stats.saw_time(edit.timestamp);
                let latest = &mut pending.chunk.latest_event_time;
                *latest = (*latest).max(Some(edit.timestamp));
                if !self.config.watched_namespaces.contains(&edit.namespace) {
                    self.stats.skipped(SkipReason::Namespace);
                    return;
                }
                pending.candidates.push(edit);
                if pending.candidates.len() >= CANDIDATES_PER_MATCH {
                    self.hand_off(pending);
                }
            }
        }
    }

    /// Sends the candidates read so far off to be matched: to the matching thread
    /// when there are enough of them, here otherwise.
    fn hand_off(&self, pending: &mut Pending) {
        let candidates = std::mem::take(&mut pending.candidates);
        if candidates.is_empty() {
            return;
        }
        let batch = match &self.matching_thread {
            Some(thread) if candidates.len() >= MIN_CANDIDATES_TO_HAND_OFF => {
                thread.submit(candidates)
            }
            _ => Matching::Done(attribute(&*self.matcher, &self.stats, candidates)),
        };
        pending.matching.push(batch);
    }

    /// Starts storing what has been read, once the chunk before it is stored.
    async fn flush(
        &self,
        pending: &mut Pending,
        storing: &mut Option<Storing>,
    ) -> Result<(), StoreError> {
        if pending.items == 0 {
            return Ok(());
        }
        self.hand_off(pending);
        let source = pending.chunk.source.clone();
        let Pending {
            mut chunk,
            matching,
            ..
        } = std::mem::replace(pending, Pending::new(source));
        let runtime = tokio::runtime::Handle::try_current().ok();
        self.finish_storing(storing).await?;
        let store = Arc::clone(&self.store);
        let work = async move {
            for batch in matching {
                match batch.edits().await {
                    Ok(edits) => chunk.edits.extend(edits),
                    Err(error) => return (Err(error), 0),
                }
            }
            let events = chunk.edits.len();
            (store.apply(chunk).await, events)
        };
        // Stored on a task of its own, so that a store that works on the calling
        // thread (a `MemoryStore`) does not hold up the reading of the next chunk.
        *storing = Some(match runtime {
            Some(runtime) => {
                let task = AbortOnDrop(runtime.spawn(work));
                Box::pin(async move {
                    let mut task = task;
                    match (&mut task.0).await {
                        Ok(stored) => stored,
                        Err(error) => (Err(task_failed(error)), 0),
                    }
                })
            }
            None => Box::pin(work),
        });
        Ok(())
    }

    /// Waits for the chunk being stored, if any.
    async fn finish_storing(&self, storing: &mut Option<Storing>) -> Result<(), StoreError> {
        match storing.take() {
            Some(future) => self.stored(future.await),
            None => Ok(()),
        }
    }

    fn stored(
        &self,
        (result, events): (Result<ApplyReport, StoreError>, usize),
    ) -> Result<(), StoreError> {
        let report = result?;
        self.stats.applied(&report);
        tracing::debug!(
            events,
            inserted = report.inserted,
            duplicates = report.duplicates,
            "chunk stored"
        );
        Ok(())
    }
}

/// A task that is cancelled when the pipeline drops it, as a future would be.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A task of the pipeline that did not finish: its panic goes on, as it would
/// have without the task; a cancellation (the runtime shutting down) is an error.
fn task_failed(error: tokio::task::JoinError) -> StoreError {
    if error.is_panic() {
        std::panic::resume_unwind(error.into_panic());
    }
    StoreError::Backend {
        store: "pipeline",
        source: Box::new(error),
    }
}

/// A chunk being stored: the store's answer and how many events it held.
type Storing =
    std::pin::Pin<Box<dyn Future<Output = (Result<ApplyReport, StoreError>, usize)> + Send>>;

/// Completes when the chunk being stored is stored; never when there is none.
async fn poll_storing(storing: &mut Option<Storing>) -> (Result<ApplyReport, StoreError>, usize) {
    match storing {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
