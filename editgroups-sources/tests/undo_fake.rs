//! The revert worker and the shared API client against a scripted wiki on
//! loopback: what a real wiki will not do on demand (`maxlag` with
//! `Retry-After`, 5xx, `badtoken`, `ratelimited`, an answer lost after the write
//! was made), crashes, shutdowns, cancels, refusals, credentials.
#![cfg(feature = "undo")]

mod support;

use editgroups_core::plan::SummaryStamp;
use editgroups_core::testing::{attributed, chunk, edit};
use editgroups_core::{
    ActionState, BatchKey, BatchStore, NewRevertTask, Page, RevertTask, RevertTaskStore,
    TaskStatus, UndoPlan,
};
use editgroups_sources::http::BackoffConfig;
use editgroups_sources::mediawiki::{ApiError, MediaWikiClient, MediaWikiClientBuilder};
use editgroups_sources::undo::{RevertWorker, RunEnd, WorkerError};
use editgroups_store::MemoryStore;
use std::sync::Arc;
use std::time::Duration;
use support::fake_wiki::{FakeWiki, Fault, OAUTH_TOKEN, PASSWORD};

const QS: &str =
    "#quickstatements; [[:toollabs:quickstatements/#/batch/7|batch #7]] by [[User:Pintoch|]]";
const COMMENT: &str = "Reverting batch 7: wrong property";
const PACE: Duration = Duration::from_millis(50);

/// A fake wiki with a QuickStatements batch (it created Q1, edited Q2 and Q3),
/// that batch in a memory store, and a task to undo it.
struct Setup {
    fake: FakeWiki,
    store: Arc<MemoryStore>,
    task: RevertTask,
    /// The batch's revisions of Q1 (creation), Q2 and Q3.
    revisions: [u64; 3],
}

async fn setup(rights: &[&str]) -> Setup {
    let fake = FakeWiki::start(rights).await;
    let created = fake.edit("Q1", "QSBot", QS);
    let q2_base = fake.edit("Q2", "Other", "base");
    let q2 = fake.edit("Q2", "QSBot", QS);
    let q3_base = fake.edit("Q3", "Other", "base");
    let q3 = fake.edit("Q3", "QSBot", QS);
    let store = Arc::new(MemoryStore::new());
    let batch = |e: editgroups_core::testing::EditBuilder| attributed(e, "QSv2", "7", "Pintoch");
    store
        .apply(chunk(
            "test",
            "1",
            vec![
                batch(
                    edit("fakewiki", 1)
                        .title("Q1")
                        .at(1_000)
                        .created()
                        .revisions(None, Some(created))
                        .user("QSBot"),
                ),
                batch(
                    edit("fakewiki", 2)
                        .title("Q2")
                        .at(1_001)
                        .revisions(Some(q2_base), Some(q2))
                        .user("QSBot"),
                ),
                batch(
                    edit("fakewiki", 3)
                        .title("Q3")
                        .at(1_002)
                        .revisions(Some(q3_base), Some(q3))
                        .user("QSBot"),
                ),
            ],
        ))
        .await
        .unwrap();
    let key = BatchKey::new("fakewiki", "QSv2", "7");
    let edits = store.batch_edits(&key, Page::all()).await.unwrap();
    let plan = UndoPlan::new(key.clone(), &edits);
    let task = store
        .create_revert_task(&NewRevertTask {
            batch: key,
            user: "Reverter".into(),
            comment: COMMENT.into(),
            actions: plan.actions,
        })
        .await
        .unwrap();
    Setup {
        fake,
        store,
        task,
        revisions: [created, q2, q3],
    }
}

fn client(fake: &FakeWiki) -> MediaWikiClientBuilder {
    MediaWikiClient::builder(fake.url())
        .user_agent("editgroups-tests/0 (https://example.org; tests@example.org)")
        .bot_password("Reverter@test", PASSWORD)
        .write_interval(PACE)
        .backoff(BackoffConfig::new(
            Duration::from_millis(10),
            Duration::from_millis(100),
        ))
        .lag_wait(Duration::from_millis(50))
}

fn worker(s: &Setup, client: MediaWikiClient) -> RevertWorker {
    RevertWorker::builder(client, s.store.clone())
        .lost_answers(3, Duration::from_millis(20))
        .build()
}

async fn run(s: &Setup) -> (editgroups_sources::undo::TaskRun, RevertWorker) {
    let worker = worker(s, client(&s.fake).build().unwrap());
    let run = tokio::time::timeout(
        Duration::from_secs(30),
        worker.run_task(&s.task.uid, std::future::pending()),
    )
    .await
    .expect("the task ends")
    .unwrap();
    (run, worker)
}

async fn states(s: &Setup) -> Vec<ActionState> {
    s.store
        .revert_actions(&s.task.uid)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.state)
        .collect()
}

/// How many revisions of `title` undo `revision`.
fn undos_of(fake: &FakeWiki, title: &str, revision: u64) -> usize {
    fake.history(title)
        .iter()
        .filter(|r| r.comment.starts_with(&format!("/* undo:0||{revision}|")))
        .count()
}

/// Every edit of the batch undone exactly once, the creation deleted once.
fn assert_undone_once(s: &Setup) {
    let [_, q2, q3] = s.revisions;
    assert_eq!(undos_of(&s.fake, "Q3", q3), 1, "{:?}", s.fake.history("Q3"));
    assert_eq!(undos_of(&s.fake, "Q2", q2), 1, "{:?}", s.fake.history("Q2"));
    assert!(!s.fake.exists("Q1"));
    let deletions = s.fake.log().iter().filter(|e| e.title == "Q1").count();
    assert_eq!(deletions, 1);
}

#[tokio::test]
async fn a_task_undoes_every_edit_once_newest_first_with_the_stamp() {
    let s = setup(&["edit", "delete", "undelete"]).await;
    let (run, worker) = run(&s).await;
    assert_eq!(run.end, RunEnd::Completed);
    assert_eq!((run.counts.done, run.counts.total()), (3, 3));
    assert_undone_once(&s);
    let task = s.store.revert_task(&s.task.uid).await.unwrap().unwrap();
    assert_eq!(task.status, TaskStatus::Completed);
    assert!(task.finished.is_some());

    let [_, q2, q3] = s.revisions;
    let stamp = SummaryStamp::default();
    let undo = s.fake.history("Q3").last().unwrap().clone();
    assert_eq!(
        undo.comment,
        stamp.undo_summary(q3, "QSBot", COMMENT, &s.task.uid)
    );
    let writes = s.fake.writes();
    let order: Vec<(&str, &str)> = writes
        .iter()
        .map(|w| (w.param("title").unwrap(), w.param("action").unwrap()))
        .collect();
    assert_eq!(order, [("Q3", "edit"), ("Q2", "edit"), ("Q1", "delete")]);
    assert_eq!(writes[1].param("undo"), Some(q2.to_string().as_str()));
    assert_eq!(
        writes[2].param("reason"),
        Some(stamp.reason(COMMENT, &s.task.uid).as_str())
    );
    for write in &writes {
        assert_eq!(write.param("assert"), Some("user"));
        assert_eq!(write.param("maxlag"), Some("5"));
    }
    assert!(
        writes.windows(2).all(|w| w[1].at - w[0].at >= PACE),
        "paced"
    );
    // The states hold what the wiki answered.
    let states = states(&s).await;
    assert_eq!(
        states[0],
        ActionState::Done {
            revision: Some(undo.id),
            log_id: None
        }
    );
    let deletion = s.fake.log()[0].id;
    assert_eq!(
        states[2],
        ActionState::Done {
            revision: None,
            log_id: Some(deletion)
        }
    );
    // One token, one login, three writes.
    let stats = worker.client().stats().snapshot();
    assert_eq!((stats.tokens, stats.logins, stats.writes), (1, 1, 3));
    let snapshot = worker.stats().snapshot();
    assert_eq!(
        (snapshot.done, snapshot.sent, snapshot.tasks_completed),
        (3, 3, 1)
    );
}

#[tokio::test]
async fn maxlag_and_server_errors_are_waited_out_and_nothing_is_done_twice() {
    let s = setup(&["edit", "delete"]).await;
    s.fake.push_faults([
        // Nothing done: wait at least Retry-After.
        Fault::Maxlag { retry_after: 1 },
        // Nothing done, but the client cannot know: the wiki is checked, then
        // the write is sent again.
        Fault::Status(500),
        // Done, then the answer is an error page: the wiki shows it done.
        Fault::ApplyThenStatus(503),
    ]);
    let (run, worker) = run(&s).await;
    assert_eq!(run.end, RunEnd::Completed);
    assert_eq!(run.counts.done, 3);
    assert_undone_once(&s);
    let writes = s.fake.writes();
    assert_eq!(writes.len(), 5, "maxlag, 500, resend, 503 (done), delete");
    assert!(
        writes[1].at - writes[0].at >= Duration::from_secs(1),
        "Retry-After was not honoured: {:?}",
        writes[1].at - writes[0].at
    );
    let snapshot = worker.stats().snapshot();
    assert_eq!((snapshot.unknown, snapshot.found_done), (2, 1));
    assert_eq!(worker.client().stats().snapshot().lagged, 1);
}

#[tokio::test]
async fn badtoken_fetches_a_new_token_and_ratelimited_slows_writes_down() {
    let s = setup(&["edit", "delete"]).await;
    s.fake.push_faults([
        Fault::ApiError("badtoken"),
        Fault::Pass,
        Fault::ApiError("ratelimited"),
    ]);
    let (run, worker) = run(&s).await;
    assert_eq!(run.end, RunEnd::Completed);
    assert_undone_once(&s);
    let stats = worker.client().stats().snapshot();
    assert_eq!((stats.tokens, stats.rate_limited), (2, 1));
    let writes = s.fake.writes();
    assert_eq!(writes.len(), 5);
    // After `ratelimited` the pace doubled: the retry and the next write waited.
    assert!(
        writes[3].at - writes[2].at >= PACE * 2,
        "{:?}",
        writes[3].at - writes[2].at
    );
    assert!(
        writes[4].at - writes[3].at >= PACE * 3 / 2,
        "{:?}",
        writes[4].at - writes[3].at
    );
}

#[tokio::test]
async fn an_answer_lost_after_the_write_is_found_on_the_wiki_not_repeated() {
    let s = setup(&["edit", "delete"]).await;
    s.fake
        .push_faults([Fault::LoseAnswer, Fault::Pass, Fault::LoseAnswer]);
    let (run, worker) = run(&s).await;
    assert_eq!(run.end, RunEnd::Completed);
    assert_eq!(run.counts.done, 3);
    assert_undone_once(&s);
    assert_eq!(s.fake.writes().len(), 3, "no write was sent twice");
    let states = states(&s).await;
    let q3_undo = s.fake.history("Q3").last().unwrap().id;
    assert_eq!(
        states[0],
        ActionState::Done {
            revision: Some(q3_undo),
            log_id: None
        }
    );
    assert_eq!(
        states[2],
        ActionState::Done {
            revision: None,
            log_id: Some(s.fake.log()[0].id)
        }
    );
    assert_eq!(worker.stats().snapshot().found_done, 2);
}

#[tokio::test]
async fn after_a_crash_actions_left_sent_are_checked_before_anything_is_sent() {
    let s = setup(&["edit", "delete"]).await;
    let [_, q2, q3] = s.revisions;
    // The crashed run had sent action 0 (done on the wiki) and action 1 (lost
    // on the way: not on the wiki).
    let stamp = SummaryStamp::default();
    let done = s.fake.edit(
        "Q3",
        "Reverter",
        &stamp.undo_summary(q3, "QSBot", COMMENT, &s.task.uid),
    );
    for seq in [0, 1] {
        s.store
            .record_action(&s.task.uid, seq, &ActionState::Sent)
            .await
            .unwrap();
    }
    let (run, worker) = run(&s).await;
    assert_eq!(run.end, RunEnd::Completed);
    assert_undone_once(&s);
    let writes = s.fake.writes();
    let titles: Vec<&str> = writes.iter().map(|w| w.param("title").unwrap()).collect();
    assert_eq!(titles, ["Q2", "Q1"], "Q3 was not undone again");
    assert_eq!(
        states(&s).await[0],
        ActionState::Done {
            revision: Some(done),
            log_id: None
        }
    );
    assert_eq!(undos_of(&s.fake, "Q2", q2), 1);
    assert_eq!(worker.stats().snapshot().found_done, 1);
}

#[tokio::test]
async fn refusals_are_recorded_verbatim_and_the_rest_goes_on() {
    let s = setup(&["edit", "delete"]).await;
    // Someone edited Q2 after the batch: its undo conflicts.
    s.fake.edit("Q2", "Other", "a later edit");
    s.fake.push_faults([Fault::ApiError("some-new-error-code")]);
    let (run, _) = run(&s).await;
    assert_eq!(run.end, RunEnd::Completed);
    assert_eq!((run.counts.failed, run.counts.done), (2, 1));
    let states = states(&s).await;
    assert_eq!(
        states[0],
        ActionState::Failed {
            code: "some-new-error-code".into(),
            message: "scripted some-new-error-code".into()
        }
    );
    assert!(
        matches!(&states[1], ActionState::Failed { code, message } if code == "undofailure" && message.contains("conflicting")),
        "{:?}",
        states[1]
    );
    assert!(matches!(states[2], ActionState::Done { .. }));
    assert!(!s.fake.exists("Q1"));
}

#[tokio::test]
async fn missing_rights_refuse_the_task_before_any_change() {
    let s = setup(&["edit", "createpage"]).await;
    let (run, _) = run(&s).await;
    let RunEnd::Refused(reason) = &run.end else {
        panic!("{run:?}")
    };
    assert!(reason.contains("lacks the right delete"), "{reason}");
    assert!(reason.contains("Reverter"), "{reason}");
    assert!(s.fake.writes().is_empty());
    let task = s.store.revert_task(&s.task.uid).await.unwrap().unwrap();
    assert_eq!(
        task.status,
        TaskStatus::Refused {
            reason: reason.clone()
        }
    );
    assert_eq!(task.counts.pending, 3);
}

#[tokio::test]
async fn a_shutdown_stops_after_the_action_in_hand_and_the_next_run_resumes() {
    let s = setup(&["edit", "delete"]).await;
    s.fake
        .push_faults([Fault::Delay(Duration::from_millis(400))]);
    let first_worker = worker(&s, client(&s.fake).build().unwrap());
    let first = first_worker
        .run_task(&s.task.uid, tokio::time::sleep(Duration::from_millis(100)))
        .await
        .unwrap();
    assert_eq!(first.end, RunEnd::Stopped);
    let after_first = states(&s).await;
    assert!(
        matches!(after_first[0], ActionState::Done { .. }),
        "the action in hand finished"
    );
    assert_eq!(
        after_first[1..],
        [ActionState::Pending, ActionState::Pending]
    );
    assert_eq!(s.fake.writes().len(), 1);
    let task = s.store.revert_task(&s.task.uid).await.unwrap().unwrap();
    assert_eq!(task.status, TaskStatus::Running);

    // A new worker (a restart) takes up the running tasks of its wiki.
    let restarted = worker(&s, client(&s.fake).build().unwrap());
    let runs = restarted.run_pending(std::future::pending()).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].end, RunEnd::Completed);
    assert_undone_once(&s);
    assert_eq!(s.fake.writes().len(), 3);
}

#[tokio::test]
async fn a_cancel_takes_effect_before_the_next_action() {
    let s = setup(&["edit", "delete"]).await;
    s.fake
        .push_faults([Fault::Delay(Duration::from_millis(300))]);
    let worker = worker(&s, client(&s.fake).build().unwrap());
    let cancel = async {
        while s.fake.writes().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        s.store.cancel_revert_task(&s.task.uid).await.unwrap();
    };
    let (run, ()) = tokio::join!(worker.run_task(&s.task.uid, std::future::pending()), cancel);
    let run = run.unwrap();
    assert_eq!(run.end, RunEnd::Cancelled);
    let states = states(&s).await;
    assert!(
        matches!(states[0], ActionState::Done { .. }),
        "the action in flight is recorded"
    );
    assert_eq!(states[1..], [ActionState::Pending, ActionState::Pending]);
    assert_eq!(s.fake.writes().len(), 1);
    assert_eq!(worker.stats().snapshot().tasks_cancelled, 1);
}

#[tokio::test]
async fn oauth_tokens_go_as_bearer_with_every_request_and_need_no_login() {
    let s = setup(&["edit", "delete"]).await;
    let client = MediaWikiClient::builder(s.fake.url())
        .user_agent("editgroups-tests/0 (x)")
        .oauth2_token(OAUTH_TOKEN)
        .write_interval(PACE)
        .build()
        .unwrap();
    let run = worker(&s, client)
        .run_task(&s.task.uid, std::future::pending())
        .await
        .unwrap();
    assert_eq!(run.end, RunEnd::Completed);
    assert_undone_once(&s);
    let requests = s.fake.requests();
    assert!(requests.iter().all(|r| r.param("action") != Some("login")));
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("Bearer {OAUTH_TOKEN}")))
    );
}

#[tokio::test]
async fn wrong_credentials_are_a_clear_error_and_nothing_is_written() {
    let s = setup(&["edit", "delete"]).await;
    let client = client(&s.fake)
        .bot_password("Reverter@test", "wrongwrongwrongwrongwrongwrong00")
        .build()
        .unwrap();
    let error = worker(&s, client)
        .run_task(&s.task.uid, std::future::pending())
        .await
        .unwrap_err();
    match &error {
        WorkerError::Api(ApiError::Login { user, reason, .. }) => {
            assert_eq!(user, "Reverter@test");
            assert!(reason.contains("Incorrect"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error.to_string().contains("login as Reverter@test failed"),
        "{error}"
    );
    assert!(s.fake.writes().is_empty());
    assert!(
        states(&s)
            .await
            .iter()
            .all(|st| *st == ActionState::Pending)
    );

    // A bad OAuth token: the wiki sees no account, and the task is refused.
    let client = MediaWikiClient::builder(s.fake.url())
        .user_agent("editgroups-tests/0 (x)")
        .oauth2_token("not-the-token")
        .build()
        .unwrap();
    let error = worker(&s, client)
        .run_task(&s.task.uid, std::future::pending())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, WorkerError::Api(ApiError::Api { code, .. }) if code == "assertuserfailed"),
        "{error:?}"
    );
    assert!(s.fake.writes().is_empty());
}

#[tokio::test]
async fn a_task_of_another_wiki_is_not_run() {
    let s = setup(&["edit", "delete"]).await;
    let worker = RevertWorker::builder(client(&s.fake).build().unwrap(), s.store.clone())
        .wiki("otherwiki")
        .build();
    let error = worker
        .run_task(&s.task.uid, std::future::pending())
        .await
        .unwrap_err();
    assert!(matches!(error, WorkerError::WrongWiki { .. }), "{error:?}");
    // Nor listed among its pending tasks.
    assert!(
        worker
            .run_pending(std::future::pending())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.fake.writes().is_empty());
}

#[tokio::test]
async fn writes_without_credentials_are_refused_by_the_client() {
    let fake = FakeWiki::start(&["edit"]).await;
    let client = MediaWikiClient::builder(fake.url())
        .user_agent("editgroups-tests/0 (x)")
        .build()
        .unwrap();
    let error = client
        .write(&[("action", "edit"), ("title", "Q1"), ("undo", "5")])
        .await
        .unwrap_err();
    assert!(error.to_string().contains("credentials"), "{error}");
    assert!(fake.requests().is_empty());
    assert!(
        MediaWikiClient::builder(fake.url()).build().is_err(),
        "a User-Agent is required"
    );
}
