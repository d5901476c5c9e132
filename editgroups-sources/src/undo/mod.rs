//! Undoing batches on a wiki: the [`RevertWorker`] carries out the revert tasks
//! a [`RevertTaskStore`] holds, one action at a time, through a
//! [`MediaWikiClient`].
//!
//! # Nothing lost, nothing done twice
//! Before an action is sent it is stored as [`ActionState::Sent`]; its outcome is
//! stored before the next action is sent. An action found `Sent` (the worker
//! crashed, or the answer was lost on the way back) is first looked for on the
//! wiki: its undo in the page's latest revisions, its deletion or restore in the
//! page's deletion log, recognised by the task's stamp in the summary. Only if
//! it is not there is it sent again. (MediaWiki itself answers a repeated undo
//! with `nochange`, a repeated deletion with `missingtitle` and a repeated
//! restore with `cantundelete`; those answers are checked against the history
//! the same way.)
//!
//! # Refusals before any change
//! Before a task starts, the account's rights are read
//! (`meta=userinfo&uiprop=rights`): a task that needs `delete` (for creations)
//! or `undelete` (for deletions) the account lacks is refused, naming them, and
//! nothing is sent. A task of another wiki than the client's is an error.
//!
//! # Stopping
//! A cancelled task stops before its next action; a shutdown future stops the
//! worker after the action in hand (waiting for it at most a grace period, after
//! which the action stays `Sent` and is checked on the next start). A restarted
//! worker takes up running tasks where they stopped.

mod stats;
mod wiki;

pub use stats::{RevertSnapshot, RevertStats};

use crate::mediawiki::{ApiError, MediaWikiClient, WriteError};
use editgroups_core::StoreError;
use editgroups_core::plan::{
    RevertOperation, SummaryStamp, missing_rights, required_rights, task_marker,
};
use editgroups_core::tasks::{
    ActionCounts, ActionState, RevertAction, RevertTask, RevertTaskStore, TaskEnd, TaskQuery,
    TaskStatus,
};
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use wiki::Answer;

/// How a run of a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunEnd {
    /// Every action was tried.
    Completed,
    /// The task was cancelled; the actions not tried stay pending.
    Cancelled,
    /// Refused before any change, with the reason.
    Refused(String),
    /// Stopped by the shutdown signal; the task runs on at the next start.
    Stopped,
}

/// What a run of one task came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRun {
    /// The task.
    pub uid: String,
    /// How the run ended.
    pub end: RunEnd,
    /// The task's actions by state afterwards.
    pub counts: ActionCounts,
}

/// What stops the worker.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The wiki could not be asked (bad credentials, unreachable, refusing the
    /// client): nothing was changed by the action in hand.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The task undoes a batch of another wiki than the client's.
    #[error("task {task} undoes a batch of {task_wiki}, but {api} is the API of {api_wiki}")]
    WrongWiki {
        /// The task.
        task: String,
        /// Its batch's wiki.
        task_wiki: String,
        /// The client's api.php.
        api: String,
        /// The client's wiki.
        api_wiki: String,
    },
    /// No task has this id.
    #[error("there is no revert task {0}")]
    NoSuchTask(String),
}

/// Builds a [`RevertWorker`].
#[derive(Debug)]
pub struct RevertWorkerBuilder {
    client: MediaWikiClient,
    store: Arc<dyn RevertTaskStore>,
    stamp: SummaryStamp,
    wiki: Option<String>,
    idle_interval: Duration,
    grace: Duration,
    history_depth: u32,
    unknown_retries: u32,
    check_delay: Duration,
}

impl RevertWorkerBuilder {
    /// The stamp of the summaries (default `[[:toolforge:editgroups/b/EG/UID|details]]`).
    pub fn stamp(mut self, stamp: SummaryStamp) -> Self {
        self.stamp = stamp;
        self
    }

    /// The wiki id of the client's api.php (default: read once from siteinfo).
    pub fn wiki(mut self, wiki: impl Into<String>) -> Self {
        self.wiki = Some(wiki.into());
        self
    }

    /// How often [`RevertWorker::run_until`] looks for new tasks (default 5 s).
    pub fn idle_interval(mut self, interval: Duration) -> Self {
        self.idle_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// How long a shutdown waits for the action in hand (default 60 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// How many of a page's latest revisions or log entries are searched for an
    /// action whose answer was lost (default 50).
    pub fn history_depth(mut self, depth: u32) -> Self {
        self.history_depth = depth.clamp(1, 500);
        self
    }

    /// How many times a write whose answer was lost (and that the wiki does not
    /// show) is sent again before it is recorded failed (default 3), and how long
    /// after a lost answer the wiki is looked at (default 2 s: a request cut on
    /// our side may still be running on the server's).
    pub fn lost_answers(mut self, retries: u32, check_delay: Duration) -> Self {
        self.unknown_retries = retries;
        self.check_delay = check_delay;
        self
    }

    /// The worker.
    pub fn build(self) -> RevertWorker {
        let wiki = OnceLock::new();
        if let Some(id) = self.wiki {
            let _ = wiki.set(id);
        }
        RevertWorker {
            client: self.client,
            store: self.store,
            stamp: self.stamp,
            wiki,
            idle_interval: self.idle_interval,
            grace: self.grace,
            history_depth: self.history_depth,
            unknown_retries: self.unknown_retries,
            check_delay: self.check_delay,
            stats: Arc::default(),
        }
    }
}

/// Carries out revert tasks on one wiki (see the [module](self)).
#[derive(Debug)]
pub struct RevertWorker {
    client: MediaWikiClient,
    store: Arc<dyn RevertTaskStore>,
    stamp: SummaryStamp,
    wiki: OnceLock<String>,
    idle_interval: Duration,
    grace: Duration,
    history_depth: u32,
    unknown_retries: u32,
    check_delay: Duration,
    stats: Arc<RevertStats>,
}

/// The shutdown signal, polled beside the work.
struct Shutdown<F> {
    signal: Pin<Box<F>>,
    fired: bool,
}

impl<F: Future<Output = ()>> Shutdown<F> {
    fn new(signal: F) -> Self {
        Self {
            signal: Box::pin(signal),
            fired: false,
        }
    }

    /// Whether the signal came.
    fn fired(&mut self) -> bool {
        if !self.fired && futures::FutureExt::now_or_never(self.signal.as_mut()).is_some() {
            self.fired = true;
        }
        self.fired
    }

    /// Sleeps; false when the signal came first.
    async fn sleep(&mut self, duration: Duration) -> bool {
        if self.fired() {
            return false;
        }
        tokio::select! {
            () = self.signal.as_mut() => {
                self.fired = true;
                false
            }
            () = tokio::time::sleep(duration) => true,
        }
    }

    /// Runs `work` to its end; after the signal, for at most `grace`.
    async fn finish<T>(&mut self, work: impl Future<Output = T>, grace: Duration) -> Option<T> {
        let mut work = std::pin::pin!(work);
        if !self.fired {
            tokio::select! {
                out = work.as_mut() => return Some(out),
                () = self.signal.as_mut() => {
                    self.fired = true;
                    tracing::info!(?grace, "stopping after the action in hand");
                }
            }
        }
        tokio::time::timeout(grace, work).await.ok()
    }
}

fn run_end(status: &TaskStatus) -> RunEnd {
    match status {
        TaskStatus::Running => RunEnd::Stopped,
        TaskStatus::Cancelled => RunEnd::Cancelled,
        TaskStatus::Completed => RunEnd::Completed,
        TaskStatus::Refused { reason } => RunEnd::Refused(reason.clone()),
    }
}

/// The revision or log id an action's state holds.
fn result_ids(state: &ActionState) -> impl Iterator<Item = u64> {
    match state {
        ActionState::Done { revision, log_id } => [*revision, *log_id],
        _ => [None, None],
    }
    .into_iter()
    .flatten()
}

impl RevertWorker {
    /// A worker of the tasks in `store`, sending through `client` (which needs
    /// credentials: a bot password or an OAuth 2 token).
    pub fn builder(
        client: MediaWikiClient,
        store: Arc<dyn RevertTaskStore>,
    ) -> RevertWorkerBuilder {
        RevertWorkerBuilder {
            client,
            store,
            stamp: SummaryStamp::default(),
            wiki: None,
            idle_interval: Duration::from_secs(5),
            grace: Duration::from_secs(60),
            history_depth: 50,
            unknown_retries: 3,
            check_delay: Duration::from_secs(2),
        }
    }

    /// The live counters.
    pub fn stats(&self) -> Arc<RevertStats> {
        Arc::clone(&self.stats)
    }

    /// The client the worker sends through.
    pub fn client(&self) -> &MediaWikiClient {
        &self.client
    }

    /// The wiki id of the client's api.php (read from siteinfo the first time).
    pub async fn wiki(&self) -> Result<String, WorkerError> {
        if let Some(wiki) = self.wiki.get() {
            return Ok(wiki.clone());
        }
        let wiki = self.client.wiki_id().await?;
        let _ = self.wiki.set(wiki.clone());
        Ok(wiki)
    }

    /// Runs task `uid` until it ends, is cancelled, or `shutdown` comes.
    pub async fn run_task(
        &self,
        uid: &str,
        shutdown: impl Future<Output = ()>,
    ) -> Result<TaskRun, WorkerError> {
        let mut shutdown = Shutdown::new(shutdown);
        self.run(uid, &mut shutdown).await
    }

    /// Runs every running task of the client's wiki, oldest first, then returns
    /// (early when `shutdown` comes).
    pub async fn run_pending(
        &self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<Vec<TaskRun>, WorkerError> {
        let mut shutdown = Shutdown::new(shutdown);
        self.pending(&mut shutdown).await
    }

    /// Runs tasks as they come, looking for new ones every idle interval, until
    /// `shutdown` comes.
    pub async fn run_until(&self, shutdown: impl Future<Output = ()>) -> Result<(), WorkerError> {
        let mut shutdown = Shutdown::new(shutdown);
        loop {
            self.pending(&mut shutdown).await?;
            if !shutdown.sleep(self.idle_interval).await {
                return Ok(());
            }
        }
    }

    async fn pending<F: Future<Output = ()>>(
        &self,
        shutdown: &mut Shutdown<F>,
    ) -> Result<Vec<TaskRun>, WorkerError> {
        let wiki = self.wiki().await?;
        let mut tasks = self
            .store
            .revert_tasks(&TaskQuery::new().with_wiki(wiki).running())
            .await?;
        tasks.reverse();
        let mut runs = Vec::with_capacity(tasks.len());
        for task in tasks {
            if shutdown.fired() {
                break;
            }
            runs.push(self.run(&task.uid, shutdown).await?);
        }
        Ok(runs)
    }

    async fn run<F: Future<Output = ()>>(
        &self,
        uid: &str,
        shutdown: &mut Shutdown<F>,
    ) -> Result<TaskRun, WorkerError> {
        let task = self
            .store
            .revert_task(uid)
            .await?
            .ok_or_else(|| WorkerError::NoSuchTask(uid.to_owned()))?;
        let wiki = self.wiki().await?;
        if task.batch.wiki != wiki {
            return Err(WorkerError::WrongWiki {
                task: task.uid,
                task_wiki: task.batch.wiki,
                api: self.client.api_url().to_string(),
                api_wiki: wiki,
            });
        }
        if !task.status.is_running() {
            return Ok(TaskRun {
                uid: task.uid,
                end: run_end(&task.status),
                counts: task.counts,
            });
        }
        let actions = self.store.revert_actions(uid).await?;
        self.stats.tasks_started();
        tracing::info!(
            task = uid,
            batch = %task.batch,
            actions = actions.len(),
            left = task.counts.unsettled(),
            "revert task started"
        );
        if let Some(reason) = self.refusal(&actions).await? {
            tracing::warn!(task = uid, %reason, "revert task refused");
            self.stats.tasks_refused();
            let ended = self
                .store
                .finish_revert_task(uid, &TaskEnd::Refused(reason.clone()))
                .await?;
            return Ok(self.ended(uid, ended, RunEnd::Refused(reason)));
        }
        let mut claimed: HashSet<u64> = actions.iter().flat_map(|a| result_ids(&a.state)).collect();
        for action in actions.iter().filter(|a| !a.state.is_final()) {
            if shutdown.fired() {
                return self.stopped(uid).await;
            }
            // A cancel takes effect before the next action.
            let now = self.store.revert_task(uid).await?;
            match now.as_ref().map(|t| &t.status) {
                Some(TaskStatus::Running) => {}
                Some(status) => {
                    let status = status.clone();
                    if status == TaskStatus::Cancelled {
                        self.stats.tasks_cancelled();
                        tracing::info!(task = uid, "revert task cancelled");
                    }
                    return Ok(self.ended(uid, now, run_end(&status)));
                }
                None => return Err(WorkerError::NoSuchTask(uid.to_owned())),
            }
            let Some(state) = self.carry_out(&task, action, &claimed, shutdown).await? else {
                return self.stopped(uid).await;
            };
            self.store.record_action(uid, action.seq, &state).await?;
            claimed.extend(result_ids(&state));
            match &state {
                ActionState::Done { .. } => self.stats.done(),
                ActionState::Failed { .. } => self.stats.failed(),
                _ => self.stats.skipped(),
            }
            tracing::info!(
                task = uid,
                seq = action.seq,
                title = %action.planned.title,
                operation = %action.planned.operation,
                outcome = %state,
                "revert action"
            );
        }
        let ended = self
            .store
            .finish_revert_task(uid, &TaskEnd::Completed)
            .await?;
        let end = ended
            .as_ref()
            .map_or(RunEnd::Completed, |t| run_end(&t.status));
        if end == RunEnd::Completed {
            self.stats.tasks_completed();
            tracing::info!(task = uid, "revert task completed");
        }
        Ok(self.ended(uid, ended, end))
    }

    fn ended(&self, uid: &str, task: Option<RevertTask>, end: RunEnd) -> TaskRun {
        TaskRun {
            uid: uid.to_owned(),
            end,
            counts: task.map(|t| t.counts).unwrap_or_default(),
        }
    }

    async fn stopped(&self, uid: &str) -> Result<TaskRun, WorkerError> {
        tracing::info!(task = uid, "stopped; the task goes on at the next start");
        let task = self.store.revert_task(uid).await?;
        Ok(self.ended(uid, task, RunEnd::Stopped))
    }

    /// Why the task cannot start, if it cannot: the rights its unsettled actions
    /// need that the account lacks.
    async fn refusal(&self, actions: &[RevertAction]) -> Result<Option<String>, WorkerError> {
        let needed = required_rights(
            actions
                .iter()
                .filter(|a| !a.state.is_final())
                .map(|a| &a.planned.operation),
        );
        if needed.is_empty() {
            return Ok(None);
        }
        let user = self.client.user_info().await?;
        if user.anon {
            return Ok(Some(
                "the wiki sees no account: the credentials were not accepted".into(),
            ));
        }
        let missing = missing_rights(&needed, &user.rights);
        Ok((!missing.is_empty()).then(|| {
            format!(
                "the account {} lacks the right{} {} on this wiki, needed to {}",
                user.name,
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                missing
                    .iter()
                    .map(|r| match *r {
                        "delete" => "delete the pages the batch created",
                        "undelete" => "restore the pages the batch deleted",
                        _ => "undo edits",
                    })
                    .collect::<Vec<_>>()
                    .join(" and ")
            )
        }))
    }

    /// Carries out one action; its new state, or `None` when the shutdown came
    /// before its outcome was known (it stays as stored: pending or sent).
    async fn carry_out<F: Future<Output = ()>>(
        &self,
        task: &RevertTask,
        action: &RevertAction,
        claimed: &HashSet<u64>,
        shutdown: &mut Shutdown<F>,
    ) -> Result<Option<ActionState>, WorkerError> {
        let operation = &action.planned.operation;
        let title = action.planned.title.as_str();
        let Some(summary) = self.stamp.summary(operation, &task.comment, &task.uid) else {
            return Ok(Some(RevertAction::initial_state(operation)));
        };
        let params = wiki::request(operation, title, &summary);
        let mut maybe_sent = action.state == ActionState::Sent;
        let mut lost = 0;
        loop {
            if maybe_sent
                && let Some(done) = self.find_done(task, operation, title, claimed).await?
            {
                self.stats.found_done();
                tracing::info!(task = %task.uid, seq = action.seq, %title, "already done on the wiki");
                return Ok(Some(done));
            }
            self.store
                .record_action(&task.uid, action.seq, &ActionState::Sent)
                .await?;
            self.stats.sent();
            let Some(outcome) = shutdown
                .finish(self.client.write(&params), self.grace)
                .await
            else {
                return Ok(None);
            };
            let refusal = match outcome {
                Ok(body) => match wiki::read_answer(operation, &body) {
                    Answer::Done { revision, log_id } => {
                        let log_id = match (operation, log_id) {
                            // The answer of a restore names no log entry: find it.
                            (RevertOperation::Undelete, None) => wiki::find_log(
                                &self.client,
                                title,
                                "restore",
                                &task_marker(&task.uid),
                                "5",
                                claimed,
                            )
                            .await
                            .unwrap_or_default(),
                            (_, log_id) => log_id,
                        };
                        return Ok(Some(ActionState::Done { revision, log_id }));
                    }
                    Answer::NoChange => {
                        if maybe_sent
                            && let Some(done) =
                                self.find_done(task, operation, title, claimed).await?
                        {
                            self.stats.found_done();
                            return Ok(Some(done));
                        }
                        return Ok(Some(ActionState::Skipped {
                            reason: "nochange: the page no longer has this edit's changes".into(),
                        }));
                    }
                    Answer::Refused { code, message } => (code, message),
                },
                Err(WriteError::Refused { code, info }) => (code, info),
                Err(WriteError::Unknown { message }) => {
                    self.stats.unknown();
                    lost += 1;
                    tracing::warn!(task = %task.uid, seq = action.seq, %title, %message, "no answer; checking the wiki");
                    if lost > self.unknown_retries {
                        if let Some(done) = self.find_done(task, operation, title, claimed).await? {
                            self.stats.found_done();
                            return Ok(Some(done));
                        }
                        return Ok(Some(ActionState::Failed {
                            code: "no-answer".into(),
                            message,
                        }));
                    }
                    maybe_sent = true;
                    if !shutdown.sleep(self.check_delay).await {
                        return Ok(None);
                    }
                    continue;
                }
                Err(WriteError::NotSent(error)) => {
                    // Nothing changed by this attempt; the wiki or the credentials
                    // need attention before anything else is sent.
                    if !maybe_sent {
                        self.store
                            .record_action(&task.uid, action.seq, &ActionState::Pending)
                            .await?;
                    }
                    return Err(error.into());
                }
            };
            let (code, message) = refusal;
            // A repeat of our own action is refused as already done.
            if maybe_sent
                && matches!(
                    code.as_str(),
                    "missingtitle" | "cantundelete" | "undofailure"
                )
                && let Some(done) = self.find_done(task, operation, title, claimed).await?
            {
                self.stats.found_done();
                return Ok(Some(done));
            }
            return Ok(Some(ActionState::Failed { code, message }));
        }
    }

    async fn find_done(
        &self,
        task: &RevertTask,
        operation: &RevertOperation,
        title: &str,
        claimed: &HashSet<u64>,
    ) -> Result<Option<ActionState>, WorkerError> {
        Ok(wiki::find_done(
            &self.client,
            operation,
            title,
            &task.uid,
            self.history_depth,
            claimed,
        )
        .await?)
    }
}
