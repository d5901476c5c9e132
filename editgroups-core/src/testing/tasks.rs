//! The [`RevertTaskStore`] conformance suite.
//!
//! Each function checks one behaviour of the contract on a store that is also a
//! [`BatchStore`] (tasks undo stored batches), panicking with a message on
//! failure; [`run_all`] runs them all. Every function uses its own wiki names, so
//! they can share one store with the [`store`](super::store) suite.
//!
//! ```no_run
//! # use editgroups_core::{BatchStore, RevertTaskStore};
//! # async fn check<S: BatchStore + RevertTaskStore>(my_store: &S) {
//! // In a `#[tokio::test]` of your store, on a new, empty store:
//! editgroups_core::testing::tasks::run_all(my_store).await;
//! # }
//! ```

use super::build::{attributed, chunk, edit, unattributed};
use crate::plan::{PlannedAction, RevertOperation, UndoPlan};
use crate::store::{BatchKey, BatchStore, Page};
use crate::tasks::{
    ActionCounts, ActionState, CreateTaskError, NewRevertTask, RevertAction, RevertTask,
    RevertTaskStore, TaskEnd, TaskQuery, TaskStatus, is_task_uid,
};
use chrono::{TimeDelta, Utc};

/// Runs every check of the suite.
pub async fn run_all<S: BatchStore + RevertTaskStore + ?Sized>(store: &S) {
    created_tasks_hold_their_plan(store).await;
    refusals_say_why(store).await;
    one_task_runs_per_batch_even_when_asked_at_once(store).await;
    action_states_round_trip(store).await;
    cancel_and_finish_change_only_running_tasks(store).await;
    listing_filters_and_orders(store).await;
    many_actions_keep_their_order(store).await;
}

/// A batch `QSv2/uid` of `wiki` (`uid` a number) with a creation and two edits
/// of existing pages, stored; its key. Its rc ids are `100 * uid + 1..=3`.
async fn stored_batch<S: BatchStore + ?Sized>(store: &S, wiki: &str, uid: &str) -> BatchKey {
    let base = uid.parse::<u64>().unwrap_or(0) * 100;
    let edits = vec![
        attributed(
            edit(wiki, base + 1).title("Q1").at(1_000).created(),
            "QSv2",
            uid,
            "Ann",
        ),
        attributed(
            edit(wiki, base + 2).title("Q2").at(1_001).user("QSBot"),
            "QSv2",
            uid,
            "Ann",
        ),
        attributed(
            edit(wiki, base + 3).title("Q3").at(1_002).user("QSBot"),
            "QSv2",
            uid,
            "Ann",
        ),
    ];
    if let Err(e) = store
        .apply(chunk(&format!("tasks-{wiki}"), uid, edits))
        .await
    {
        panic!("apply failed: {e}");
    }
    BatchKey::new(wiki, "QSv2", uid)
}

async fn plan_of<S: BatchStore + ?Sized>(store: &S, key: &BatchKey) -> UndoPlan {
    match store.batch_edits(key, Page::all()).await {
        Ok(edits) => UndoPlan::new(key.clone(), &edits),
        Err(e) => panic!("batch_edits({key}): {e}"),
    }
}

fn request(plan: &UndoPlan, comment: &str) -> NewRevertTask {
    NewRevertTask {
        batch: plan.batch.clone(),
        user: "Reverter".into(),
        comment: comment.into(),
        actions: plan.actions.clone(),
    }
}

async fn create<S: RevertTaskStore + ?Sized>(store: &S, task: &NewRevertTask) -> RevertTask {
    match store.create_revert_task(task).await {
        Ok(task) => task,
        Err(e) => panic!("create_revert_task({}): {e}", task.batch),
    }
}

async fn get<S: RevertTaskStore + ?Sized>(store: &S, uid: &str) -> RevertTask {
    match store.revert_task(uid).await {
        Ok(Some(task)) => task,
        Ok(None) => panic!("task {uid} not found"),
        Err(e) => panic!("revert_task({uid}): {e}"),
    }
}

async fn actions<S: RevertTaskStore + ?Sized>(store: &S, uid: &str) -> Vec<RevertAction> {
    match store.revert_actions(uid).await {
        Ok(actions) => actions,
        Err(e) => panic!("revert_actions({uid}): {e}"),
    }
}

async fn record<S: RevertTaskStore + ?Sized>(store: &S, uid: &str, seq: u32, state: ActionState) {
    if let Err(e) = store.record_action(uid, seq, &state).await {
        panic!("record_action({uid}, {seq}, {state:?}): {e}");
    }
}

async fn list<S: RevertTaskStore + ?Sized>(store: &S, query: TaskQuery) -> Vec<RevertTask> {
    match store.revert_tasks(&query).await {
        Ok(tasks) => tasks,
        Err(e) => panic!("revert_tasks({query:?}): {e}"),
    }
}

/// A created task has a fresh id, the request's fields, the creation time, and
/// the plan's actions in order, those that cannot be done already skipped.
pub async fn created_tasks_hold_their_plan<S: BatchStore + RevertTaskStore + ?Sized>(store: &S) {
    let key = stored_batch(store, "suite-tasks-create", "1").await;
    let mut plan = plan_of(store, &key).await;
    assert_eq!(plan.actions.len(), 3, "{plan:?}");
    plan.actions.push(PlannedAction {
        rcid: 99,
        namespace: 0,
        title: "Q9".into(),
        operation: RevertOperation::CannotUndo {
            reason: "a move/move log entry cannot be undone".into(),
        },
    });
    let before = Utc::now() - TimeDelta::seconds(1);
    let task = create(store, &request(&plan, "Bad import (see talk)")).await;
    let after = Utc::now() + TimeDelta::seconds(1);
    assert!(is_task_uid(&task.uid), "uid {:?}", task.uid);
    assert_eq!(task.batch, key);
    assert_eq!(
        (task.user.as_str(), task.comment.as_str()),
        ("Reverter", "Bad import (see talk)")
    );
    assert_eq!(task.status, TaskStatus::Running);
    assert_eq!(task.finished, None);
    assert!(
        task.created >= before && task.created <= after,
        "created {}",
        task.created
    );
    assert_eq!(
        task.counts,
        ActionCounts {
            pending: 3,
            skipped: 1,
            ..ActionCounts::default()
        }
    );
    assert_eq!(get(store, &task.uid).await, task, "read back");

    let stored = actions(store, &task.uid).await;
    let expected: Vec<RevertAction> = plan
        .actions
        .iter()
        .enumerate()
        .map(|(i, planned)| RevertAction {
            seq: i as u32,
            planned: planned.clone(),
            state: RevertAction::initial_state(&planned.operation),
        })
        .collect();
    assert_eq!(stored, expected);
    assert!(matches!(
        stored[0].planned.operation,
        RevertOperation::Undo { revision: 1031, ref editing_user } if editing_user == "QSBot"
    ));
    assert_eq!(stored[2].planned.operation, RevertOperation::Delete);
    assert!(
        actions(store, "0000000").await.is_empty(),
        "unknown tasks have no actions"
    );
    match store.revert_task("0000000").await {
        Ok(None) => {}
        other => panic!("an unknown task: {other:?}"),
    }

    // Ids differ from task to task.
    let other_key = stored_batch(store, "suite-tasks-create", "2").await;
    let other = create(store, &request(&plan_of(store, &other_key).await, "x")).await;
    assert_ne!(other.uid, task.uid);
}

/// Refusals are typed: no such batch, nothing left to undo, a bad comment or
/// user; nothing is stored for them.
pub async fn refusals_say_why<S: BatchStore + RevertTaskStore + ?Sized>(store: &S) {
    let w = "suite-tasks-refuse";
    let key = stored_batch(store, w, "1").await;
    let plan = plan_of(store, &key).await;

    let mut missing = request(&plan, "x");
    missing.batch = BatchKey::new(w, "QSv2", "404");
    match store.create_revert_task(&missing).await {
        Err(CreateTaskError::NoSuchBatch(k)) => assert_eq!(k, missing.batch),
        other => panic!("a missing batch: {other:?}"),
    }
    for comment in ["", "two\nlines", &"x".repeat(151)] {
        match store.create_revert_task(&request(&plan, comment)).await {
            Err(CreateTaskError::InvalidComment(_)) => {}
            other => panic!("comment {comment:?}: {other:?}"),
        }
    }
    let mut nobody = request(&plan, "x");
    nobody.user = String::new();
    assert!(matches!(
        store.create_revert_task(&nobody).await,
        Err(CreateTaskError::InvalidUser(_))
    ));
    let mut impossible = request(&plan, "x");
    for action in &mut impossible.actions {
        action.operation = RevertOperation::CannotUndo { reason: "x".into() };
    }
    assert!(matches!(
        store.create_revert_task(&impossible).await,
        Err(CreateTaskError::NothingToUndo(_))
    ));

    // A batch whose every edit is reverted, whatever plan comes with the request.
    let undone = vec![
        attributed(edit(w, 10).title("Q10").at(2_000), "QSv2", "2", "Ann"),
        unattributed(
            edit(w, 11)
                .title("Q10")
                .at(2_001)
                .comment("/* undo:0||101|Ann */"),
        ),
    ];
    if let Err(e) = store.apply(chunk("tasks-refuse", "2", undone)).await {
        panic!("apply failed: {e}");
    }
    let mut stale = request(&plan, "x");
    stale.batch = BatchKey::new(w, "QSv2", "2");
    match store.create_revert_task(&stale).await {
        Err(CreateTaskError::NothingToUndo(k)) => assert_eq!(k, stale.batch),
        other => panic!("a fully reverted batch: {other:?}"),
    }
    let left = list(store, TaskQuery::new().with_wiki(w)).await;
    assert!(left.is_empty(), "refused tasks were stored: {left:?}");
}

/// Of simultaneous requests for one batch exactly one starts a task; the others
/// name it. Once it ends, a new task may start.
pub async fn one_task_runs_per_batch_even_when_asked_at_once<
    S: BatchStore + RevertTaskStore + ?Sized,
>(
    store: &S,
) {
    let w = "suite-tasks-race";
    let key = stored_batch(store, w, "1").await;
    let task = request(&plan_of(store, &key).await, "at once");
    let results = futures::future::join_all((0..6).map(|_| store.create_revert_task(&task))).await;
    let created: Vec<&RevertTask> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(created.len(), 1, "{results:?}");
    let winner = created[0].uid.clone();
    for result in &results {
        match result {
            Ok(_) => {}
            Err(CreateTaskError::AlreadyRunning { batch, task }) => {
                assert_eq!((batch, task), (&key, &winner));
            }
            Err(e) => panic!("expected AlreadyRunning, got {e:?}"),
        }
    }
    let running = list(store, TaskQuery::new().with_batch(key.clone()).running()).await;
    assert_eq!(running.len(), 1, "{running:?}");

    // Done: another may start; it runs alone again.
    if let Err(e) = store.finish_revert_task(&winner, &TaskEnd::Completed).await {
        panic!("finish: {e}");
    }
    let second = create(store, &task).await;
    match store.create_revert_task(&task).await {
        Err(CreateTaskError::AlreadyRunning { task, .. }) => assert_eq!(task, second.uid),
        other => panic!("{other:?}"),
    }
    if let Err(e) = store.cancel_revert_task(&second.uid).await {
        panic!("cancel: {e}");
    }
    create(store, &task).await;
}

/// Every state an action can be in is stored and read back, awkward text
/// included, and the task's counts follow.
pub async fn action_states_round_trip<S: BatchStore + RevertTaskStore + ?Sized>(store: &S) {
    let key = stored_batch(store, "suite-tasks-states", "1").await;
    let task = create(store, &request(&plan_of(store, &key).await, "states")).await;
    let awkward = "l'API a dit « non » — \"quoted\", 100% \\ 😀 ".repeat(30);
    let states = [
        ActionState::Done {
            revision: Some(u64::try_from(i64::MAX).unwrap_or(u64::MAX)),
            log_id: None,
        },
        ActionState::Failed {
            code: "undofailure".into(),
            message: awkward.clone(),
        },
        ActionState::Sent,
    ];
    for (seq, state) in states.iter().enumerate() {
        record(store, &task.uid, seq as u32, state.clone()).await;
    }
    let stored: Vec<ActionState> = actions(store, &task.uid)
        .await
        .into_iter()
        .map(|a| a.state)
        .collect();
    assert_eq!(stored, states);
    let counts = get(store, &task.uid).await.counts;
    assert_eq!((counts.done, counts.failed, counts.sent), (1, 1, 1));

    // States change again, and to every kind.
    for state in [
        ActionState::Pending,
        ActionState::Done {
            revision: None,
            log_id: Some(42),
        },
        ActionState::Skipped {
            reason: awkward.clone(),
        },
        ActionState::Done {
            revision: None,
            log_id: None,
        },
    ] {
        record(store, &task.uid, 2, state.clone()).await;
        let now = actions(store, &task.uid).await;
        assert_eq!(now[2].state, state);
        assert_eq!(now[1].state, states[1], "other actions stay");
    }
    // Recording the same state twice is fine.
    record(store, &task.uid, 0, states[0].clone()).await;

    assert!(
        store
            .record_action(&task.uid, 3, &ActionState::Sent)
            .await
            .is_err(),
        "an action the task does not have"
    );
    assert!(
        store
            .record_action("0000000", 0, &ActionState::Sent)
            .await
            .is_err(),
        "an unknown task"
    );
}

/// Cancelling and finishing change running tasks only; an action's outcome is
/// still recorded after a cancel.
pub async fn cancel_and_finish_change_only_running_tasks<
    S: BatchStore + RevertTaskStore + ?Sized,
>(
    store: &S,
) {
    let w = "suite-tasks-end";
    let key = stored_batch(store, w, "1").await;
    let task = request(&plan_of(store, &key).await, "end");
    let first = create(store, &task).await;
    let cancelled = match store.cancel_revert_task(&first.uid).await {
        Ok(Some(t)) => t,
        other => panic!("cancel: {other:?}"),
    };
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert!(cancelled.finished.is_some());
    assert_eq!(get(store, &first.uid).await, cancelled);
    // The action in flight when it was cancelled.
    record(
        store,
        &first.uid,
        0,
        ActionState::Done {
            revision: Some(7),
            log_id: None,
        },
    )
    .await;
    // Neither finishing nor cancelling again changes a cancelled task.
    for end in [TaskEnd::Completed, TaskEnd::Refused("late".into())] {
        match store.finish_revert_task(&first.uid, &end).await {
            Ok(Some(t)) => assert_eq!(t.status, TaskStatus::Cancelled),
            other => panic!("finish after cancel: {other:?}"),
        }
    }
    let again = match store.cancel_revert_task(&first.uid).await {
        Ok(Some(t)) => t,
        other => panic!("cancel again: {other:?}"),
    };
    assert_eq!(
        (again.status, again.finished),
        (TaskStatus::Cancelled, cancelled.finished)
    );

    let second = create(store, &task).await;
    let refused = match store
        .finish_revert_task(
            &second.uid,
            &TaskEnd::Refused("missing rights: delete".into()),
        )
        .await
    {
        Ok(Some(t)) => t,
        other => panic!("refuse: {other:?}"),
    };
    assert_eq!(
        refused.status,
        TaskStatus::Refused {
            reason: "missing rights: delete".into()
        }
    );
    assert!(refused.finished.is_some());
    let third = create(store, &task).await;
    match store
        .finish_revert_task(&third.uid, &TaskEnd::Completed)
        .await
    {
        Ok(Some(t)) => assert_eq!(t.status, TaskStatus::Completed),
        other => panic!("complete: {other:?}"),
    }
    match store.cancel_revert_task(&third.uid).await {
        Ok(Some(t)) => assert_eq!(t.status, TaskStatus::Completed, "a completed task stays"),
        other => panic!("cancel a completed task: {other:?}"),
    }
    for result in [
        store.cancel_revert_task("0000000").await,
        store
            .finish_revert_task("0000000", &TaskEnd::Completed)
            .await,
    ] {
        assert!(matches!(result, Ok(None)), "unknown task: {result:?}");
    }
}

/// Lists: newest first (ties by uid), by batch, by wiki, running only, limited.
pub async fn listing_filters_and_orders<S: BatchStore + RevertTaskStore + ?Sized>(store: &S) {
    let (w1, w2) = ("suite-tasks-list-1", "suite-tasks-list-2");
    let a = stored_batch(store, w1, "1").await;
    let b = stored_batch(store, w1, "2").await;
    let c = stored_batch(store, w2, "1").await;
    let mut uids = Vec::new();
    for key in [&a, &b, &c] {
        let plan = plan_of(store, key).await;
        let task = create(store, &request(&plan, "list")).await;
        uids.push(task.uid.clone());
        if key == &a {
            if let Err(e) = store
                .finish_revert_task(&task.uid, &TaskEnd::Completed)
                .await
            {
                panic!("{e}");
            }
            uids.push(create(store, &request(&plan, "again")).await.uid);
        }
    }
    let ordered = |tasks: &[RevertTask]| {
        tasks
            .windows(2)
            .all(|w| (w[1].created, &w[0].uid) <= (w[0].created, &w[1].uid))
    };
    let in_w1 = list(store, TaskQuery::new().with_wiki(w1)).await;
    assert_eq!(in_w1.len(), 3, "{in_w1:?}");
    assert!(ordered(&in_w1), "not newest first: {in_w1:?}");
    let of_a = list(store, TaskQuery::new().with_batch(a.clone())).await;
    assert_eq!(of_a.len(), 2);
    assert!(of_a.iter().all(|t| t.batch == a));
    let running_a = list(store, TaskQuery::new().with_batch(a.clone()).running()).await;
    assert_eq!(running_a.len(), 1);
    assert_eq!(running_a[0].uid, uids[1]);
    let all = list(store, TaskQuery::new()).await;
    assert!(ordered(&all), "not newest first");
    for uid in &uids {
        assert!(all.iter().any(|t| &t.uid == uid), "{uid} not listed");
    }
    let limited = list(store, TaskQuery::new().with_wiki(w1).with_limit(2)).await;
    assert_eq!(limited.as_slice(), &in_w1[..2]);
    let in_w2 = list(store, TaskQuery::new().with_wiki(w2).running()).await;
    assert_eq!(in_w2.len(), 1);
    assert_eq!(in_w2[0].batch, c);
    assert!(
        list(store, TaskQuery::new().with_wiki("suite-tasks-none"))
            .await
            .is_empty()
    );
}

/// A task with thousands of actions keeps them all, in order.
pub async fn many_actions_keep_their_order<S: BatchStore + RevertTaskStore + ?Sized>(store: &S) {
    let key = stored_batch(store, "suite-tasks-many", "1").await;
    let planned: Vec<PlannedAction> = (0..2_500u64)
        .map(|i| PlannedAction {
            rcid: 1_000_000 + i,
            namespace: i64::try_from(i % 3).unwrap_or(0) * 60,
            title: format!("Q{}", 5_000 - i),
            operation: match i % 4 {
                0 => RevertOperation::Delete,
                1 => RevertOperation::Undelete,
                2 => RevertOperation::Undo {
                    revision: 10 * i,
                    editing_user: format!("Bot {i}"),
                },
                _ => RevertOperation::CannotUndo {
                    reason: format!("reason {i}"),
                },
            },
        })
        .collect();
    let task = create(
        store,
        &NewRevertTask {
            batch: key,
            user: "Reverter".into(),
            comment: "many".into(),
            actions: planned.clone(),
        },
    )
    .await;
    let stored = actions(store, &task.uid).await;
    assert_eq!(stored.len(), planned.len());
    for (i, (action, planned)) in stored.iter().zip(&planned).enumerate() {
        assert_eq!(action.seq as usize, i);
        assert_eq!(&action.planned, planned, "action {i}");
    }
    assert_eq!(
        (task.counts.pending, task.counts.skipped),
        (1_875, 625),
        "{:?}",
        task.counts
    );
}
