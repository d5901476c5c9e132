//! Undoes a batch through the MediaWiki API: prints the plan, asks for
//! confirmation, then undoes, deletes and restores, newest edit first, with
//! every outcome stored as it comes.
//!
//! ```text
//! undo --db URL --api URL --batch [WIKI:]TOOL/UID --comment TEXT \
//!      [--bot-user U --bot-password P | --oauth-token T] [--dry-run] [--yes]
//! undo --db URL --tasks [--batch …]        # tasks and their states
//! undo --db URL --cancel UID               # cancel a running task
//! undo --db URL --api URL --resume …       # go on with every running task of the wiki
//! ```
//!
//! Ctrl-C stops after the current action; running the same command again
//! resumes the task (an action whose answer was lost is looked for on the wiki
//! first, so nothing is done twice). A User-Agent with contact details is
//! required (`--user-agent` or `EDITGROUPS_USER_AGENT`).

use anyhow::{Context, Result, bail};
use clap::Parser;
use editgroups_core::plan::{DEFAULT_LINK_PREFIX, RevertOperation, SummaryStamp, missing_rights};
use editgroups_core::tasks::check_comment;
use editgroups_core::{
    ActionState, Batch, BatchKey, BatchQuery, NewRevertTask, Page, RevertTask, TaskQuery, UndoPlan,
};
use editgroups_examples::output::Format;
use editgroups_examples::revert_links::{TaskRow, write_tasks};
use editgroups_sources::mediawiki::MediaWikiClient;
use editgroups_sources::undo::{RevertWorker, RunEnd, TaskRun};
use editgroups_store::Store;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Undoes a batch of edits on a MediaWiki or Wikibase wiki.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The store (where `poll` or `listen` put the batch): sqlite://FILE?mode=rwc,
    /// postgres://…, mysql://….
    #[arg(long, default_value = editgroups_examples::DEFAULT_DB)]
    db: String,
    /// The wiki's api.php, e.g. https://www.wikidata.org/w/api.php.
    #[arg(long)]
    api: Option<String>,
    /// The batch to undo: `TOOL/UID`, or `WIKI:TOOL/UID` when the store follows
    /// several wikis.
    #[arg(long)]
    batch: Option<String>,
    /// Why (1 to 150 characters); it goes into every summary.
    #[arg(long)]
    comment: Option<String>,
    /// A bot-password user (`User@appid`).
    #[arg(long, env = "EDITGROUPS_BOT_USER", requires = "bot_password")]
    bot_user: Option<String>,
    /// The bot password.
    #[arg(long, env = "EDITGROUPS_BOT_PASSWORD", hide_env_values = true)]
    bot_password: Option<String>,
    /// The access token of an owner-only OAuth 2 consumer, instead of a bot
    /// password.
    #[arg(
        long,
        env = "EDITGROUPS_OAUTH_TOKEN",
        hide_env_values = true,
        conflicts_with = "bot_user"
    )]
    oauth_token: Option<String>,
    /// Print the plan (and check the rights, with --api) without changing
    /// anything.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    /// List the revert tasks (of --batch, or all) and their states.
    #[arg(long, conflicts_with_all = ["cancel", "resume", "dry_run"])]
    tasks: bool,
    /// Cancel the running task with this id.
    #[arg(long, value_name = "UID", conflicts_with_all = ["batch", "resume"])]
    cancel: Option<String>,
    /// Go on with every running task of --api's wiki.
    #[arg(long, conflicts_with = "batch")]
    resume: bool,
    /// A descriptive User-Agent: tool/version (contact).
    #[arg(long, env = "EDITGROUPS_USER_AGENT")]
    user_agent: Option<String>,
    /// The link prefix of the summaries' stamp: `[[PREFIX/b/EG/UID|details]]`.
    #[arg(long, default_value = DEFAULT_LINK_PREFIX)]
    link_prefix: String,
    /// Seconds between two changes on the wiki (slower when it says
    /// `ratelimited`).
    #[arg(long, default_value_t = 1.0)]
    pace: f64,
    /// How --tasks prints.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[tokio::main]
async fn main() -> ExitCode {
    editgroups_examples::init_logging();
    let args = Args::parse();
    match run(args).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<ExitCode> {
    let store = editgroups_examples::open_store(&args.db).await?;
    if args.tasks {
        return list_tasks(&args, store.as_ref()).await;
    }
    if let Some(uid) = &args.cancel {
        let Some(task) = store.cancel_revert_task(uid).await? else {
            bail!("there is no revert task {uid} in {}", args.db);
        };
        match task.status {
            editgroups_core::TaskStatus::Cancelled => println!(
                "task {uid} (batch {}) is cancelled; {} actions were not done",
                task.batch,
                task.counts.unsettled()
            ),
            other => println!("task {uid} was not running: it is {other}"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.resume {
        let worker = connect(&args, store.clone(), None).await?.0;
        return resume_all(&worker, store.as_ref()).await;
    }
    let Some(name) = &args.batch else {
        bail!("say which batch: --batch TOOL/UID (or --tasks, --cancel UID, --resume)");
    };
    let batch = find_batch(store.as_ref(), name).await?;
    let running = store
        .revert_tasks(&TaskQuery::new().with_batch(batch.key.clone()).running())
        .await?;
    if let Some(task) = running.into_iter().next() {
        println!(
            "batch {} is being undone by task {} ({} of {} actions left): resuming it",
            batch.key,
            task.uid,
            task.counts.unsettled(),
            task.counts.total()
        );
        if args.comment.as_deref().is_some_and(|c| c != task.comment) {
            println!("(the task keeps its comment: {:?})", task.comment);
        }
        if args.dry_run {
            return Ok(ExitCode::SUCCESS);
        }
        let worker = connect(&args, store.clone(), Some(&batch.key.wiki))
            .await?
            .0;
        let total = task.counts.unsettled();
        let run = with_progress(&worker, total, worker.run_task(&task.uid, shutdown())).await?;
        return report(store.as_ref(), &run, &batch.key).await;
    }

    let edits = store.batch_edits(&batch.key, Page::all()).await?;
    let plan = UndoPlan::new(batch.key.clone(), &edits);
    print_plan(&batch, &plan, args.dry_run);
    if !plan.has_work() {
        println!("nothing to undo");
        return Ok(ExitCode::FAILURE);
    }
    if args.dry_run && args.api.is_none() {
        println!("dry run: nothing was changed");
        return Ok(ExitCode::SUCCESS);
    }
    let comment = match &args.comment {
        Some(comment) => comment.clone(),
        None if args.dry_run => String::from("dry run"),
        None => bail!("--comment TEXT is required: why the batch is undone (1 to 150 characters)"),
    };
    check_comment(&comment).map_err(|e| anyhow::anyhow!("--comment: {e}"))?;

    let (worker, account) = connect(&args, store.clone(), Some(&batch.key.wiki)).await?;
    let missing = missing_rights(&plan.required_rights(), &account.rights);
    if !missing.is_empty() {
        println!(
            "refused: the account {} lacks the right{} {} on {}; nothing was changed",
            account.name,
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            batch.key.wiki
        );
        return Ok(ExitCode::FAILURE);
    }
    println!("acting as {} on {}", account.name, batch.key.wiki);
    if args.dry_run {
        println!("dry run: nothing was changed");
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes && !confirm(&plan, &batch)? {
        println!("not confirmed: nothing was changed");
        return Ok(ExitCode::from(2));
    }
    let task = store
        .create_revert_task(&NewRevertTask {
            batch: batch.key.clone(),
            user: account.name.clone(),
            comment,
            actions: plan.actions.clone(),
        })
        .await
        .context("cannot start the task")?;
    println!(
        "task {} started; its changes form batch {}",
        task.uid,
        task.revert_batch()
    );
    let total = task.counts.unsettled();
    let run = with_progress(&worker, total, worker.run_task(&task.uid, shutdown())).await?;
    report(store.as_ref(), &run, &batch.key).await
}

/// `--tasks`.
async fn list_tasks(args: &Args, store: &dyn Store) -> Result<ExitCode> {
    let mut query = TaskQuery::new();
    if let Some(name) = &args.batch {
        query = query.with_batch(find_batch(store, name).await?.key);
    }
    let tasks = store.revert_tasks(&query).await?;
    let mut made = Vec::with_capacity(tasks.len());
    for task in &tasks {
        made.push(store.batch(&task.revert_batch()).await?);
    }
    let rows: Vec<TaskRow<'_>> = tasks
        .iter()
        .zip(&made)
        .map(|(task, batch)| TaskRow::new(task, batch.as_ref()))
        .collect();
    let mut out = std::io::stdout().lock();
    write_tasks(&mut out, &rows, args.format)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `TOOL/UID` or `WIKI:TOOL/UID`, found in the store.
async fn find_batch(store: &dyn Store, name: &str) -> Result<Batch> {
    let (wiki, rest) = match name.split_once(':') {
        Some((wiki, rest)) if !wiki.contains('/') => (Some(wiki), rest),
        _ => (None, name),
    };
    let Some((tool, uid)) = rest.split_once('/') else {
        bail!("--batch expects TOOL/UID or WIKI:TOOL/UID, e.g. QSv2/2120, not {name:?}");
    };
    if let Some(wiki) = wiki {
        return store
            .batch(&BatchKey::new(wiki, tool, uid))
            .await?
            .with_context(|| format!("no batch {name} in the store"));
    }
    let found: Vec<Batch> = store
        .list_batches(&BatchQuery::new().with_tool(tool))
        .await?
        .into_iter()
        .filter(|b| b.key.uid == uid)
        .collect();
    match found.len() {
        0 => bail!("no batch {name} in the store"),
        1 => Ok(found.into_iter().next().context("one batch")?),
        _ => {
            let wikis: Vec<&str> = found.iter().map(|b| b.key.wiki.as_str()).collect();
            bail!(
                "batch {name} exists on several wikis ({}): name one, e.g. --batch {}:{name}",
                wikis.join(", "),
                wikis[0]
            )
        }
    }
}

fn print_plan(batch: &Batch, plan: &UndoPlan, list_all: bool) {
    let counts = plan.counts();
    println!(
        "batch {} by {}: {} edits, {} reverted",
        batch.key, batch.user, batch.nb_edits, batch.nb_reverted_edits
    );
    println!(
        "plan (newest edit first): {} undos, {} deletions, {} undeletions, {} that cannot be undone ({} already reverted, left out)",
        counts.undos,
        counts.deletions,
        counts.undeletions,
        counts.cannot_undo,
        counts.already_reverted
    );
    let rights: Vec<&str> = plan.required_rights().into_iter().collect();
    println!(
        "rights needed: {}",
        if rights.is_empty() {
            "none".to_owned()
        } else {
            rights.join(", ")
        }
    );
    for (i, action) in plan.actions.iter().enumerate() {
        match &action.operation {
            RevertOperation::CannotUndo { reason } => {
                println!(
                    "  cannot be undone: {} (rc id {}): {reason}",
                    action.title, action.rcid
                );
            }
            operation if list_all => println!("  {:>4}. {} — {operation}", i + 1, action.title),
            _ => {}
        }
    }
}

/// Asks on the terminal; refuses when standard input is not one.
fn confirm(plan: &UndoPlan, batch: &Batch) -> Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "standard input is not a terminal, so there is no one to confirm: run again with --yes to undo batch {} without being asked",
            batch.key
        );
    }
    let doable = plan
        .actions
        .iter()
        .filter(|a| a.operation.is_doable())
        .count();
    print!(
        "Carry out these {doable} changes on {}? [y/N] ",
        batch.key.wiki
    );
    std::io::stdout().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// The worker for `--api`, logged in and checked: the wiki is `wiki` (when
/// given), and the account is seen. Nothing is changed on the wiki.
async fn connect(
    args: &Args,
    store: Arc<dyn Store>,
    wiki: Option<&str>,
) -> Result<(RevertWorker, editgroups_sources::mediawiki::UserInfo)> {
    let Some(api) = &args.api else {
        bail!("--api URL is required to change the wiki (e.g. https://www.wikidata.org/w/api.php)");
    };
    let Some(agent) = &args.user_agent else {
        bail!(
            "a User-Agent is required: --user-agent \"my-tool/1.0 (me@example.org)\" or EDITGROUPS_USER_AGENT"
        );
    };
    let pace = Duration::try_from_secs_f64(args.pace)
        .with_context(|| format!("--pace {} is not a duration", args.pace))?;
    let mut builder = MediaWikiClient::builder(api)
        .user_agent(agent)
        .write_interval(pace);
    builder = match (&args.bot_user, &args.bot_password, &args.oauth_token) {
        (Some(user), Some(password), None) => builder.bot_password(user, password),
        (None, None, Some(token)) => builder.oauth2_token(token),
        (None, None, None) => {
            bail!("credentials are required: --bot-user U --bot-password P, or --oauth-token T")
        }
        _ => bail!("give either --bot-user with --bot-password, or --oauth-token"),
    };
    let client = builder.build()?;
    client
        .login()
        .await
        .context("cannot log in; nothing was changed")?;
    let api_wiki = client.wiki_id().await?;
    if let Some(wiki) = wiki
        && wiki != api_wiki
    {
        bail!("the batch is on {wiki}, but {api} is the API of {api_wiki}; nothing was changed");
    }
    let account = client.user_info().await?;
    if account.anon {
        bail!("the wiki sees no account: the credentials were not accepted; nothing was changed");
    }
    let stamp = SummaryStamp::new(args.link_prefix.clone()).map_err(anyhow::Error::msg)?;
    let store: Arc<dyn editgroups_core::RevertTaskStore> = store;
    let worker = RevertWorker::builder(client, store)
        .wiki(api_wiki)
        .stamp(stamp)
        .build();
    Ok((worker, account))
}

/// The first Ctrl-C: stop after the current action; the second: quit at once
/// (the action in hand is then checked on the wiki by the next run).
fn shutdown() -> impl std::future::Future<Output = ()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        eprintln!("stopping after the current action (Ctrl-C again to quit at once)");
        let _ = tx.send(());
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
    async move {
        if rx.await.is_err() {
            // No signal handler: never stop early.
            std::future::pending::<()>().await;
        }
    }
}

/// Awaits `work`, with a progress bar of `total` actions on a terminal.
async fn with_progress<T>(
    worker: &RevertWorker,
    total: u64,
    work: impl std::future::Future<Output = Result<T, editgroups_sources::undo::WorkerError>>,
) -> Result<T> {
    if !std::io::stderr().is_terminal() {
        return Ok(work.await?);
    }
    let bar = ProgressBar::new(total);
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} actions, {elapsed} ({eta} left) {msg}",
    )?);
    let stats = worker.stats();
    let ticker = {
        let bar = bar.clone();
        tokio::spawn(async move {
            loop {
                let s = stats.snapshot();
                bar.set_position(s.settled());
                bar.set_message(format!(
                    "done {} failed {} skipped {}",
                    s.done, s.failed, s.skipped
                ));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let result = work.await;
    ticker.abort();
    bar.finish_and_clear();
    Ok(result?)
}

/// `--resume`: every running task of the API's wiki.
async fn resume_all(worker: &RevertWorker, store: &dyn Store) -> Result<ExitCode> {
    let wiki = worker.wiki().await?;
    let tasks = store
        .revert_tasks(&TaskQuery::new().with_wiki(wiki.clone()).running())
        .await?;
    if tasks.is_empty() {
        println!("no running task on {wiki}");
        return Ok(ExitCode::SUCCESS);
    }
    let total = tasks.iter().map(|t| t.counts.unsettled()).sum();
    println!("resuming {} task(s) on {wiki}", tasks.len());
    let runs = with_progress(worker, total, worker.run_pending(shutdown())).await?;
    let mut code = ExitCode::SUCCESS;
    for run in &runs {
        if let Some(task) = store.revert_task(&run.uid).await? {
            code = report(store, run, &task.batch).await?;
        }
    }
    Ok(code)
}

/// Prints how a run ended, the counts, and every failure with its code.
async fn report(store: &dyn Store, run: &TaskRun, batch: &BatchKey) -> Result<ExitCode> {
    let task: Option<RevertTask> = store.revert_task(&run.uid).await?;
    let actions = store.revert_actions(&run.uid).await?;
    let counts = task.as_ref().map(|t| t.counts).unwrap_or(run.counts);
    let status = task
        .as_ref()
        .map_or_else(|| "?".to_owned(), |t| t.status.to_string());
    println!(
        "task {} ({batch}): {status}: {} done, {} failed, {} skipped, {} not done",
        run.uid,
        counts.done,
        counts.failed,
        counts.skipped,
        counts.unsettled()
    );
    for action in &actions {
        match &action.state {
            ActionState::Failed { code, message } => println!(
                "  failed: {} ({}): {code}: {message}",
                action.planned.title, action.planned.operation
            ),
            ActionState::Skipped { reason } => {
                println!("  skipped: {}: {reason}", action.planned.title);
            }
            _ => {}
        }
    }
    Ok(match &run.end {
        RunEnd::Completed => {
            if let Some(task) = &task {
                println!(
                    "poll the wiki to see batch {batch} reverted and its undo batch {}",
                    task.revert_batch()
                );
            }
            ExitCode::SUCCESS
        }
        RunEnd::Stopped => {
            println!("stopped: run the same command again to go on");
            ExitCode::from(130)
        }
        _ => ExitCode::FAILURE,
    })
}
