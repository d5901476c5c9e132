//! The revert worker on a real MediaWiki on loopback: batches polled into a
//! store are undone (undos, deletions, a restore), an action left `Sent` by a
//! crash is found in the page's history rather than done again, and polling
//! again shows the batches reverted and the `EG` batches of the tasks.
//!
//! Needs Debian's `mediawiki php-sqlite3 php-cli php-intl php-mbstring php-xml`;
//! fails (never skips) when the wiki cannot start.
#![cfg(all(feature = "undo", feature = "recentchanges"))]

mod support;

use chrono::{DateTime, Utc};
use editgroups_core::plan::SummaryStamp;
use editgroups_core::{
    ActionState, Batch, BatchKey, BatchStore, NewRevertTask, Page, Pipeline, RevertOperation,
    RevertTask, RevertTaskStore, UndoPlan,
};
use editgroups_sources::mediawiki::MediaWikiClient;
use editgroups_sources::recentchanges::RecentChangesSource;
use editgroups_sources::undo::{RevertWorker, RunEnd};
use editgroups_store::MemoryStore;
use std::sync::Arc;
use std::time::Duration;
use support::mediawiki::{BOT_PASS, BOT_USER, TOOL_PASS, TOOL_USER, TestWiki};

const QS: &str =
    "#quickstatements; [[:toollabs:quickstatements/#/batch/4242|batch #4242]] by [[User:Pintoch|]]";
const CLEANUP: &str = "cleanup ([[:toollabs:editgroups/b/CB/c0ffee12|details]])";
const COMMENT: &str = "Undoing test batch 4242";
const AGENT: &str = "editgroups-tests/0 (https://example.org; tests@example.org)";

async fn poll_into(store: &Arc<MemoryStore>, wiki: &TestWiki, since: DateTime<Utc>) {
    let source = RecentChangesSource::builder(&wiki.api)
        .user_agent(AGENT)
        .since(since)
        .once(true)
        .build()
        .unwrap();
    let pipeline = Pipeline::builder()
        .source(source)
        .shared_store(store.clone())
        .build()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(60), pipeline.run())
        .await
        .expect("the poller catches up")
        .unwrap();
}

async fn batch(store: &MemoryStore, tool: &str, uid: &str) -> Batch {
    store
        .batch(&BatchKey::new("wiki", tool, uid))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no batch {tool}/{uid}"))
}

async fn task_for(store: &MemoryStore, key: &BatchKey, user: &str) -> RevertTask {
    let edits = store.batch_edits(key, Page::all()).await.unwrap();
    let plan = UndoPlan::new(key.clone(), &edits);
    store
        .create_revert_task(&NewRevertTask {
            batch: key.clone(),
            user: user.into(),
            comment: COMMENT.into(),
            actions: plan.actions,
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_undone_on_a_real_wiki_once_and_polled_back_as_reverted() {
    let wiki = TestWiki::start();
    let tool = wiki.login(TOOL_USER, TOOL_PASS).await;
    let bot = wiki.login(BOT_USER, BOT_PASS).await;
    bot.edit("Q10", "Q10 before", "setup").await;
    bot.edit("Property:P10", "P10 before", "setup").await;
    bot.edit("Q11", "Q11 kept", "setup").await;
    let since = tool.server_time().await;
    // A QuickStatements batch: two creations, two edits of existing pages.
    tool.edit("Q20", "new item", QS).await;
    tool.edit("Q10", "Q10 before\nP31 Q5", QS).await;
    tool.edit("Q21", "another new item", QS).await;
    let p10 = tool.edit("Property:P10", "P10 before\nlabel", QS).await;
    // A tool following the EditGroups convention deleted a page.
    bot.delete("Q11", CLEANUP).await;

    let store = Arc::new(MemoryStore::new());
    poll_into(&store, &wiki, since).await;
    let qs = batch(&store, "QSv2", "4242").await;
    assert_eq!((qs.nb_edits, qs.nb_new_pages), (4, 2));
    let cb = batch(&store, "CB", "c0ffee12").await;
    assert_eq!(cb.nb_edits, 1);

    let client = MediaWikiClient::builder(&wiki.api)
        .user_agent(AGENT)
        .bot_password(BOT_USER, BOT_PASS)
        .write_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let worker = RevertWorker::builder(client, store.clone()).build();

    let task = task_for(&store, &qs.key, "UndoBot").await;
    let actions = store.revert_actions(&task.uid).await.unwrap();
    let plan: Vec<(&str, &RevertOperation)> = actions
        .iter()
        .map(|a| (a.planned.title.as_str(), &a.planned.operation))
        .collect();
    assert_eq!(plan[0].0, "Property:P10", "newest edit first: {plan:?}");
    // Same second: by rc id.
    assert_eq!(plan[1], ("Q21", &RevertOperation::Delete));
    // A crash: action 0 (an undo) was sent and made, action 1 (a deletion) was
    // sent and lost on the way.
    let stamp = SummaryStamp::default();
    let made = bot
        .undo(
            "Property:P10",
            p10,
            &stamp.undo_summary(p10, "Pintoch", COMMENT, &task.uid),
        )
        .await;
    for seq in [0, 1] {
        store
            .record_action(&task.uid, seq, &ActionState::Sent)
            .await
            .unwrap();
    }
    let run = tokio::time::timeout(
        Duration::from_secs(60),
        worker.run_task(&task.uid, std::future::pending()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(run.end, RunEnd::Completed);
    assert_eq!(run.counts.done, 4, "{run:?}");
    let states = store.revert_actions(&task.uid).await.unwrap();
    assert_eq!(
        states[0].state,
        ActionState::Done {
            revision: Some(made),
            log_id: None
        },
        "found in the history, not done again"
    );
    assert_eq!(worker.stats().snapshot().found_done, 1);
    // Each revision undone exactly once; the texts are back; the creations gone.
    for (title, before) in [("Property:P10", "P10 before"), ("Q10", "Q10 before")] {
        let undos = bot
            .history(title)
            .await
            .into_iter()
            .filter(|(_, user, comment)| user == "UndoBot" && comment.starts_with("/* undo:0||"))
            .count();
        assert_eq!(undos, 1, "{title}");
        assert_eq!(bot.text(title).await.as_deref(), Some(before), "{title}");
    }
    for title in ["Q20", "Q21"] {
        assert_eq!(bot.text(title).await, None, "{title} still exists");
        let deletions = bot.deletion_log(title).await;
        assert_eq!(deletions.len(), 1, "{title}: {deletions:?}");
        assert!(deletions[0].2.contains(&task.uid));
    }
    assert!(matches!(
        states[1].state,
        ActionState::Done {
            revision: None,
            log_id: Some(_)
        }
    ));

    // The deletion is undone by a restore.
    let restore = task_for(&store, &cb.key, "UndoBot").await;
    let run = worker
        .run_task(&restore.uid, std::future::pending())
        .await
        .unwrap();
    assert_eq!((run.end, run.counts.done), (RunEnd::Completed, 1));
    assert_eq!(bot.text("Q11").await.as_deref(), Some("Q11 kept"));
    let log = bot.deletion_log("Q11").await;
    let restored = store.revert_actions(&restore.uid).await.unwrap();
    assert_eq!(
        restored[0].state,
        ActionState::Done {
            revision: None,
            log_id: Some(log[0].0)
        },
        "{log:?}"
    );
    assert_eq!(log[0].1, "restore");

    // Polled again: both batches reverted, each task's EG batch there.
    poll_into(&store, &wiki, since).await;
    let qs = batch(&store, "QSv2", "4242").await;
    assert_eq!(qs.nb_reverted_edits, qs.nb_edits);
    let cb = batch(&store, "CB", "c0ffee12").await;
    assert_eq!(cb.nb_reverted_edits, 1);
    let eg = batch(&store, "EG", &task.uid).await;
    assert_eq!(
        (eg.user.as_str(), eg.summary.as_str(), eg.nb_edits),
        (task.user.as_str(), COMMENT, 4)
    );
    let eg_restore = batch(&store, "EG", &restore.uid).await;
    assert_eq!(
        (eg_restore.nb_edits, eg_restore.summary.as_str()),
        (1, COMMENT)
    );
    assert!(
        eg_restore.tags.contains(&"restore".to_owned()),
        "{:?}",
        eg_restore.tags
    );
}
