//! The `undo` example against a real MediaWiki on loopback, with `poll` and
//! `batches` around it: a whole round (a QuickStatements-style batch polled,
//! undone, polled again and seen reverted), refusals before any change (no
//! terminal to confirm on, an account without `delete`, wrong credentials), a
//! conflicting later edit, a cancel in the middle, and a SIGKILL in the middle
//! followed by a second run that undoes each revision exactly once.
//!
//! One wiki for the whole file (starting one takes seconds): the scenarios run
//! in order in one test, each on its own pages, batch and store.
//!
//! Needs Debian's `mediawiki php-sqlite3 php-cli php-intl php-mbstring php-xml`;
//! fails (never skips) when the wiki cannot start.

mod support;

#[path = "../../editgroups-sources/tests/support/mediawiki.rs"]
#[allow(dead_code, unreachable_pub)]
mod mediawiki;

use editgroups_core::{ActionState, RevertTask, RevertTaskStore, TaskQuery, TaskStatus};
use editgroups_store::SqlStore;
use mediawiki::{BOT_PASS, BOT_USER, TOOL_PASS, TOOL_USER, TestWiki, WikiClient};
use serde_json::Value;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const AGENT: &str = "editgroups-tests/0 (undo example test)";

fn qs(batch: u32) -> String {
    format!(
        "#quickstatements; [[:toollabs:quickstatements/#/batch/{batch}|batch #{batch}]] by [[User:Pintoch|]]"
    )
}

fn command(name: &str, args: &[&str]) -> Command {
    let mut command = Command::new(support::example(name));
    command
        .args(args)
        .env_remove("EDITGROUPS_USER_AGENT")
        .env_remove("EDITGROUPS_BOT_USER")
        .env_remove("EDITGROUPS_BOT_PASSWORD")
        .env_remove("EDITGROUPS_OAUTH_TOKEN")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn wait(mut child: Child, what: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{what} did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Runs an example to its end: (exit code, stdout, stderr).
fn run(name: &str, args: &[&str]) -> (i32, String, String) {
    let output = wait(command(name, args).spawn().unwrap(), name);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// One scenario: its store, its batch, its pages.
struct Scenario {
    _dir: tempfile::TempDir,
    db: String,
    batch: u32,
    since: String,
    /// Pages the batch edited, with their text before it.
    edited: Vec<(String, String)>,
    /// Pages the batch created.
    created: Vec<String>,
    /// The batch's revisions of the edited pages.
    revisions: Vec<u64>,
}

impl Scenario {
    /// A QuickStatements-style batch `batch` by the tool account: it creates
    /// `creations` pages and edits `edits` pages that existed before.
    async fn new(
        wiki: &TestWiki,
        tool: &WikiClient,
        bot: &WikiClient,
        batch: u32,
        creations: usize,
        edits: usize,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
        let mut edited = Vec::new();
        for i in 0..edits {
            let title = format!("Q{batch}e{i}");
            let before = format!("{title} before the batch");
            bot.edit(&title, &before, "set-up").await;
            edited.push((title, before));
        }
        let since = tool.server_time().await.to_rfc3339();
        let summary = qs(batch);
        let mut created = Vec::new();
        let mut revisions = Vec::new();
        for i in 0..creations.max(edits) {
            if i < creations {
                let title = format!("Q{batch}n{i}");
                tool.edit(&title, "created by the batch", &summary).await;
                created.push(title);
            }
            if let Some((title, before)) = edited.get(i) {
                let revision = tool
                    .edit(title, &format!("{before}\nP31 Q5"), &summary)
                    .await;
                revisions.push(revision);
            }
        }
        let _ = wiki;
        Self {
            _dir: dir,
            db,
            batch,
            since,
            edited,
            created,
            revisions,
        }
    }

    fn name(&self) -> String {
        format!("QSv2/{}", self.batch)
    }

    fn poll(&self, wiki: &TestWiki) {
        let (code, out, err) = run(
            "poll",
            &[
                "--api",
                &wiki.api,
                "--db",
                &self.db,
                "--since",
                &self.since,
                "--once",
                "--user-agent",
                AGENT,
            ],
        );
        assert_eq!(code, 0, "poll failed:\n{out}\n{err}");
    }

    /// `undo` for this batch with these credentials and extra arguments.
    fn undo_args<'a>(
        &'a self,
        wiki: &'a TestWiki,
        user: &'a str,
        password: &'a str,
    ) -> Vec<String> {
        [
            "--db",
            &self.db,
            "--api",
            &wiki.api,
            "--batch",
            &self.name(),
            "--comment",
            "Undoing a test batch",
            "--bot-user",
            user,
            "--bot-password",
            password,
            "--user-agent",
            AGENT,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    fn batch_json(&self, name: &str) -> Value {
        let (code, out, err) = run(
            "batches",
            &["--db", &self.db, "--batch", name, "--format", "jsonl"],
        );
        assert_eq!(code, 0, "batches --batch {name}: {err}");
        serde_json::from_str(out.trim()).unwrap()
    }

    async fn store(&self) -> SqlStore {
        SqlStore::open(&self.db).await.unwrap()
    }

    async fn tasks(&self) -> Vec<RevertTask> {
        let store = self.store().await;
        let tasks = store.revert_tasks(&TaskQuery::new()).await.unwrap();
        store.close().await.unwrap();
        tasks
    }

    /// Waits until the task has `done` actions done; its id.
    async fn wait_for_done(&self, done: u64) -> String {
        let store = self.store().await;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let tasks = store.revert_tasks(&TaskQuery::new()).await.unwrap();
            if let Some(task) = tasks.first()
                && task.counts.done >= done
            {
                store.close().await.unwrap();
                return task.uid.clone();
            }
            assert!(Instant::now() < deadline, "no progress: {tasks:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How many times the wiki's history undoes each of the batch's revisions.
    async fn undo_counts(&self, bot: &WikiClient) -> Vec<usize> {
        let mut counts = Vec::new();
        for ((title, _), revision) in self.edited.iter().zip(&self.revisions) {
            let prefix = format!("/* undo:0||{revision}|");
            let history = bot.history(title).await;
            counts.push(
                history
                    .iter()
                    .filter(|(_, _, c)| c.starts_with(&prefix))
                    .count(),
            );
        }
        counts
    }
}

fn strings(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_on_a_real_wiki() {
    let wiki = TestWiki::start();
    let tool = wiki.login(TOOL_USER, TOOL_PASS).await;
    let bot = wiki.login(BOT_USER, BOT_PASS).await;
    a_whole_round(&wiki, &tool, &bot).await;
    refusals_change_nothing(&wiki, &tool, &bot).await;
    a_later_edit_by_another_account_conflicts(&wiki, &tool, &bot).await;
    a_cancel_in_the_middle(&wiki, &tool, &bot).await;
    a_sigkill_in_the_middle_then_a_second_run(&wiki, &tool, &bot).await;
}

/// Poll, find the batch, undo it, poll again: reverted, with its EG batch.
async fn a_whole_round(wiki: &TestWiki, tool: &WikiClient, bot: &WikiClient) {
    let s = Scenario::new(wiki, tool, bot, 5001, 2, 2).await;
    s.poll(wiki);
    let before = s.batch_json(&s.name());
    assert_eq!(
        (before["nb_edits"].as_u64(), before["nb_new_pages"].as_u64()),
        (Some(4), Some(2))
    );
    assert_eq!(before["revert_tasks"], serde_json::json!([]));

    // The plan first, changing nothing.
    let mut dry = s.undo_args(wiki, BOT_USER, BOT_PASS);
    dry.push("--dry-run".into());
    let (code, out, err) = run("undo", &strings(&dry));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("2 undos, 2 deletions, 0 undeletions, 0 that cannot be undone"),
        "{out}"
    );
    assert!(out.contains("rights needed: delete, edit"), "{out}");
    assert!(out.contains("nothing was changed"), "{out}");
    assert!(s.tasks().await.is_empty());

    let mut args = s.undo_args(wiki, BOT_USER, BOT_PASS);
    args.extend(["--yes", "--pace", "0.2"].map(str::to_owned));
    let (code, out, err) = run("undo", &strings(&args));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("4 done, 0 failed, 0 skipped, 0 not done"),
        "{out}"
    );
    assert!(!err.contains("\u{1b}["), "colours off a terminal: {err}");

    // The wiki: texts as before the batch, created pages gone.
    for (title, text) in &s.edited {
        assert_eq!(
            bot.text(title).await.as_deref(),
            Some(text.as_str()),
            "{title}"
        );
    }
    for title in &s.created {
        assert_eq!(bot.text(title).await, None, "{title} still exists");
    }

    s.poll(wiki);
    let after = s.batch_json(&s.name());
    assert_eq!(after["nb_reverted_edits"], after["nb_edits"], "{after}");
    let tasks = after["revert_tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{after}");
    assert_eq!(tasks[0]["status"], "completed");
    let uid = tasks[0]["uid"].as_str().unwrap();
    assert_eq!(tasks[0]["revert_batch"], format!("wiki:EG/{uid}"));
    let eg = s.batch_json(&format!("EG/{uid}"));
    assert_eq!(eg["user"], "UndoBot");
    assert_eq!(eg["summary"], "Undoing a test batch");
    assert_eq!(eg["nb_edits"], 4);
    assert_eq!(eg["reverted_batch"]["batch"], "wiki:QSv2/5001");
    assert_eq!(eg["reverted_batch"]["task"], uid);
    let tasks = s.tasks().await;
    assert_eq!(tasks[0].user, "UndoBot");

    // Listed by --tasks; once done, nothing is left to undo.
    let (code, out, _) = run("undo", &["--db", &s.db, "--tasks"]);
    assert_eq!(code, 0);
    assert!(out.contains(uid) && out.contains("completed"), "{out}");
    let (code, out, _) = run("undo", &strings(&args));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("nothing to undo"), "{out}");
}

/// No terminal to confirm on, an account without `delete`, wrong credentials:
/// refused, no task, the wiki as the batch left it.
async fn refusals_change_nothing(wiki: &TestWiki, tool: &WikiClient, bot: &WikiClient) {
    let s = Scenario::new(wiki, tool, bot, 5002, 1, 1).await;
    s.poll(wiki);
    let history = bot.history(&s.edited[0].0).await;

    let args = s.undo_args(wiki, BOT_USER, BOT_PASS);
    let (code, out, err) = run("undo", &strings(&args));
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("not a terminal") && err.contains("--yes"),
        "{err}"
    );

    let mut args = s.undo_args(wiki, TOOL_USER, TOOL_PASS);
    args.push("--yes".into());
    let (code, out, err) = run("undo", &strings(&args));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("refused: the account Pintoch lacks the right delete"),
        "{out}"
    );

    let mut args = s.undo_args(wiki, BOT_USER, "wrongwrongwrongwrongwrongwrong00");
    args.push("--yes".into());
    let (code, out, err) = run("undo", &strings(&args));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("cannot log in"), "{err}");
    assert!(err.contains("login as UndoBot@ci failed"), "{err}");

    assert!(s.tasks().await.is_empty());
    assert_eq!(bot.history(&s.edited[0].0).await, history);
    assert!(bot.text(&s.created[0]).await.is_some());
}

/// A page edited by another account after the batch: that undo fails with
/// `undofailure`, the rest is done.
async fn a_later_edit_by_another_account_conflicts(
    wiki: &TestWiki,
    tool: &WikiClient,
    bot: &WikiClient,
) {
    let s = Scenario::new(wiki, tool, bot, 5003, 1, 2).await;
    let (title, _) = &s.edited[0];
    bot.edit(title, "rewritten by someone else", "a later edit")
        .await;
    s.poll(wiki);
    let mut args = s.undo_args(wiki, BOT_USER, BOT_PASS);
    args.extend(["--yes", "--pace", "0.2"].map(str::to_owned));
    let (code, out, err) = run("undo", &strings(&args));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("2 done, 1 failed"), "{out}");
    assert!(
        out.contains(&format!(
            "failed: {title} (undo revision {}): undofailure:",
            s.revisions[0]
        )),
        "{out}"
    );
    assert_eq!(
        bot.text(title).await.as_deref(),
        Some("rewritten by someone else")
    );
    assert_eq!(
        bot.text(&s.edited[1].0).await.as_deref(),
        Some(s.edited[1].1.as_str())
    );
    let store = s.store().await;
    let task = &store.revert_tasks(&TaskQuery::new()).await.unwrap()[0];
    assert_eq!(task.status, TaskStatus::Completed);
    let failed: Vec<String> = store
        .revert_actions(&task.uid)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|a| match a.state {
            ActionState::Failed { code, .. } => Some(code),
            _ => None,
        })
        .collect();
    assert_eq!(failed, ["undofailure"]);
    store.close().await.unwrap();
}

/// `--cancel` while the task runs: it stops before its next action, the rest
/// stays pending.
async fn a_cancel_in_the_middle(wiki: &TestWiki, tool: &WikiClient, bot: &WikiClient) {
    let s = Scenario::new(wiki, tool, bot, 5004, 0, 5).await;
    s.poll(wiki);
    let mut args = s.undo_args(wiki, BOT_USER, BOT_PASS);
    args.extend(["--yes", "--pace", "1"].map(str::to_owned));
    let child = command("undo", &strings(&args)).spawn().unwrap();
    let uid = s.wait_for_done(1).await;
    let (code, out, err) = run("undo", &["--db", &s.db, "--cancel", &uid]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("is cancelled"), "{out}");
    let output = wait(child, "the cancelled undo");
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("task {uid} (wiki:QSv2/5004): cancelled")),
        "{out}"
    );

    let store = s.store().await;
    let task = store.revert_task(&uid).await.unwrap().unwrap();
    assert_eq!(task.status, TaskStatus::Cancelled);
    assert!(
        task.counts.done >= 1 && task.counts.done <= 2,
        "{:?}",
        task.counts
    );
    assert_eq!(
        task.counts.pending,
        5 - task.counts.done,
        "{:?}",
        task.counts
    );
    store.close().await.unwrap();
    let undone: usize = s.undo_counts(bot).await.iter().sum();
    assert_eq!(undone as u64, task.counts.done);
}

/// SIGKILL in the middle, then the same command again: it resumes, and the
/// wiki's history undoes each revision exactly once.
async fn a_sigkill_in_the_middle_then_a_second_run(
    wiki: &TestWiki,
    tool: &WikiClient,
    bot: &WikiClient,
) {
    let s = Scenario::new(wiki, tool, bot, 5005, 1, 5).await;
    s.poll(wiki);
    let mut args = s.undo_args(wiki, BOT_USER, BOT_PASS);
    args.extend(["--yes", "--pace", "0.3"].map(str::to_owned));
    let mut child = command("undo", &strings(&args)).spawn().unwrap();
    s.wait_for_done(2).await;
    child.kill().unwrap();
    let killed = child.wait().unwrap();
    assert!(!killed.success());
    let interrupted = s.tasks().await;
    assert_eq!(interrupted[0].status, TaskStatus::Running);
    assert!(
        interrupted[0].counts.unsettled() > 0,
        "{:?}",
        interrupted[0].counts
    );

    let (code, out, err) = run("undo", &strings(&args));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("resuming it"), "{out}");
    assert!(
        out.contains("6 done, 0 failed, 0 skipped, 0 not done"),
        "{out}"
    );
    assert_eq!(s.undo_counts(bot).await, [1, 1, 1, 1, 1]);
    for (title, text) in &s.edited {
        assert_eq!(
            bot.text(title).await.as_deref(),
            Some(text.as_str()),
            "{title}"
        );
    }
    assert_eq!(bot.deletion_log(&s.created[0]).await.len(), 1);
    assert_eq!(s.tasks().await[0].status, TaskStatus::Completed);
}
