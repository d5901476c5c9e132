//! The recent-changes poller against a scripted api.php on loopback: paging,
//! overlap, faults, gaps and errors that a real wiki will not produce on demand.
#![cfg(feature = "recentchanges")]

mod support;

use chrono::{DateTime, TimeDelta, Utc};
use editgroups_core::testing::source::collect;
use editgroups_core::{EditSource, SourceError, SourceItem};
use editgroups_sources::http::BackoffConfig;
use editgroups_sources::recentchanges::{GapPolicy, RecentChangesBuilder, RecentChangesSource};
use futures::StreamExt;
use std::time::Duration;
use support::fake_api::{FakeApi, Fault, Row};

const QS: &str =
    "#quickstatements; [[:toollabs:quickstatements/#/batch/7|batch #7]] by [[User:Pintoch|]]";

fn builder(fake: &FakeApi) -> RecentChangesBuilder {
    RecentChangesSource::builder(fake.url())
        .user_agent("editgroups-tests/0 (https://example.org; tests@example.org)")
        .wiki("fakewiki")
        .backoff(BackoffConfig::new(
            Duration::from_millis(10),
            Duration::from_millis(100),
        ))
        .interval(Duration::from_millis(10), Duration::from_millis(50))
        .lag_wait(Duration::from_millis(50))
}

fn t0() -> DateTime<Utc> {
    // A whole second, a few minutes ago: well inside any retention.
    DateTime::from_timestamp(Utc::now().timestamp() - 600, 0).unwrap()
}

/// `n` rows, `per_second` sharing each second, from `start`.
fn rows(first_rcid: u64, n: u64, per_second: u64, start: DateTime<Utc>) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let at = start + TimeDelta::seconds((i / per_second) as i64);
            Row::edit(first_rcid + i, at, &format!("Q{}", i % 17), QS)
        })
        .collect()
}

fn rcids(items: &[SourceItem]) -> Vec<u64> {
    items
        .iter()
        .filter_map(|item| match item {
            SourceItem::Edit { edit, .. } => Some(edit.rcid),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn continuation_over_many_pages_yields_every_row_once_in_order() {
    let t0 = t0();
    let fake = FakeApi::start().await;
    fake.add_rows(rows(1, 1000, 10, t0));
    // A long interval: finishing at all proves pages are followed without waiting.
    let mut source = builder(&fake)
        .page_size(7)
        .interval(Duration::from_secs(600), Duration::from_secs(600))
        .since(t0)
        .once(true)
        .build()
        .unwrap();
    let (items, error) = collect(&mut source, None).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rcids(&items), (1..=1000).collect::<Vec<_>>());
    let requests = fake.rc_requests();
    assert_eq!(requests.len(), 1000usize.div_ceil(7));
    for (i, request) in requests.iter().enumerate() {
        let p = &request.params;
        assert_eq!(p["rcdir"], "newer");
        assert_eq!(p["rctype"], "edit|new|log");
        assert_eq!(p["rcnamespace"], "0|6|120|122|146|640");
        assert_eq!(p["maxlag"], "5");
        assert_eq!(
            (p["format"].as_str(), p["formatversion"].as_str()),
            ("json", "2")
        );
        assert!(!p["rcprop"].contains("patrolled"));
        assert!(p["rcprop"].contains("loginfo") && p["rcprop"].contains("sizes"));
        assert_eq!(p["rcstart"], t0.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        assert_eq!(p.contains_key("rccontinue"), i > 0, "request {i}");
        assert!(
            request
                .user_agent
                .as_deref()
                .unwrap()
                .starts_with("editgroups-tests/0")
        );
    }
    let stats = source.stats().snapshot();
    assert_eq!((stats.rows, stats.catch_ups, stats.retries), (1000, 1, 0));
    let last = items.last().unwrap().cursor();
    assert_eq!(last.kind(), "recentchanges");
}

#[tokio::test]
async fn late_rows_inside_the_overlap_are_read_and_seen_rows_are_not_repeated() {
    let start = t0();
    let fake = FakeApi::start().await;
    fake.add_rows(rows(1, 20, 4, start));
    let mut source = builder(&fake).since(start).build().unwrap();
    let mut stream = source.stream(None);
    let mut next = async || match tokio::time::timeout(Duration::from_secs(10), stream.next()).await
    {
        Ok(Some(Ok(item))) => item,
        other => panic!("no item: {other:?}"),
    };
    let mut first = Vec::new();
    for _ in 0..20 {
        first.push(next().await);
    }
    assert_eq!(rcids(&first), (1..=20).collect::<Vec<_>>());
    // Committed late: an older timestamp than the newest row, a higher rc id.
    fake.add_rows([
        Row::edit(21, start + TimeDelta::seconds(1), "Q99", QS),
        Row::edit(22, start + TimeDelta::seconds(9), "Q98", QS),
    ]);
    let more = vec![next().await, next().await];
    assert_eq!(rcids(&more), [21, 22]);
    // The rows of the overlap were read again, and dropped.
    let stats = source.stats().snapshot();
    assert!(stats.overlap_dropped >= 20, "{stats:?}");
    // The poll after the first catch-up started one overlap before the newest row.
    let expected = (start + TimeDelta::seconds(4) - TimeDelta::seconds(60))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert!(
        fake.rc_requests()
            .iter()
            .skip(1)
            .any(|r| r.params["rcstart"] == expected),
        "no poll from {expected}"
    );
}

#[tokio::test]
async fn maxlag_errors_wait_for_retry_after() {
    let t0 = t0();
    let fake = FakeApi::start().await;
    fake.add_rows(rows(1, 5, 5, t0));
    fake.push_faults([Fault::Maxlag { retry_after: 1 }]);
    let mut source = builder(&fake).since(t0).once(true).build().unwrap();
    let (items, error) = collect(&mut source, None).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rcids(&items), [1, 2, 3, 4, 5]);
    let requests = fake.rc_requests();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].at - requests[0].at;
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    let stats = source.stats().snapshot();
    assert_eq!((stats.lagged, stats.retries), (1, 1));
}

#[tokio::test]
async fn server_errors_and_timeouts_are_retried() {
    let t0 = t0();
    let fake = FakeApi::start().await;
    fake.add_rows(rows(1, 30, 3, t0));
    fake.push_faults([
        Fault::Status(500),
        Fault::Status(503),
        Fault::Delay(Duration::from_secs(3)),
        Fault::ApiError("readonly"),
    ]);
    let mut source = builder(&fake)
        .since(t0)
        .once(true)
        .request_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let (items, error) = collect(&mut source, None).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rcids(&items), (1..=30).collect::<Vec<_>>());
    assert_eq!(fake.rc_requests().len(), 5);
    assert_eq!(source.stats().snapshot().retries, 4);
}

#[tokio::test]
async fn retrying_gives_up_after_max_retries() {
    let t0 = t0();
    let fake = FakeApi::start().await;
    fake.push_faults(std::iter::repeat_n(Fault::Status(502), 10));
    let mut source = builder(&fake)
        .since(t0)
        .once(true)
        .max_retries(Some(2))
        .build()
        .unwrap();
    let (items, error) = collect(&mut source, None).await;
    assert!(items.is_empty());
    assert!(
        matches!(error, Some(SourceError::Http { status: 502, .. })),
        "{error:?}"
    );
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn bad_parameters_stop_the_source_without_retrying() {
    let t0 = t0();
    for code in ["badcontinue", "paramerror", "permissiondenied", "badvalue"] {
        let fake = FakeApi::start().await;
        fake.add_rows(rows(1, 5, 5, t0));
        fake.push_faults([Fault::ApiError(code)]);
        let mut source = builder(&fake).since(t0).build().unwrap();
        let (items, error) = collect(&mut source, None).await;
        assert!(items.is_empty());
        match error {
            Some(SourceError::Api {
                code: got, info, ..
            }) => {
                assert_eq!(got, code);
                assert!(info.contains(code));
            }
            other => panic!("{code}: {other:?}"),
        }
        assert_eq!(fake.requests().len(), 1, "{code} was retried");
    }
    // Neither are HTTP errors other than 429 and 5xx (a wrong URL, a block).
    let fake = FakeApi::start().await;
    fake.push_faults([Fault::Status(404)]);
    let mut source = builder(&fake).since(t0).build().unwrap();
    let (_, error) = collect(&mut source, None).await;
    assert!(
        matches!(error, Some(SourceError::Http { status: 404, .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_start_older_than_the_retention_is_a_gap_with_its_range() {
    let now = Utc::now();
    let kept = DateTime::from_timestamp(now.timestamp() - 10 * 86_400, 0).unwrap();
    let since = DateTime::from_timestamp(now.timestamp() - 40 * 86_400, 0).unwrap();
    let fake = FakeApi::start().await;
    fake.add_rows(rows(100, 10, 2, kept));
    let build = |policy| {
        builder(&fake)
            .since(since)
            .max_age(Duration::from_secs(30 * 86_400))
            .gap_policy(policy)
            .once(true)
            .build()
            .unwrap()
    };
    let mut source = build(GapPolicy::Fail);
    let (items, error) = collect(&mut source, None).await;
    assert!(items.is_empty());
    let Some(SourceError::Gap { message }) = error else {
        panic!("{error:?}")
    };
    assert!(message.contains(&since.to_string()), "{message}");
    assert!(message.contains(&kept.to_string()), "{message}");

    // Told to go on, it counts the gap and reads what is left.
    let mut source = build(GapPolicy::Continue);
    let (items, error) = collect(&mut source, None).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rcids(&items), (100..110).collect::<Vec<_>>());
    let stats = source.stats().snapshot();
    assert_eq!(stats.gaps, 1);
    assert!(stats.last_gap.unwrap().contains(&kept.to_string()));

    // An old start is no gap while the wiki still has older rows (longer retention).
    fake.add_rows([Row::edit(1, since - TimeDelta::days(1), "Q1", QS)]);
    let mut source = build(GapPolicy::Fail);
    let (items, error) = collect(&mut source, None).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rcids(&items).len(), 10);
}

#[tokio::test]
async fn a_resumed_source_starts_one_overlap_before_its_cursor() {
    let start = t0();
    let fake = FakeApi::start().await;
    fake.add_rows(rows(1, 40, 1, start));
    let mut source = builder(&fake).since(start).once(true).build().unwrap();
    let (items, _) = collect(&mut source, None).await;
    let cursor = items[29].cursor().clone();
    let before = fake.rc_requests().len();
    let (again, error) = collect(&mut source, Some(cursor)).await;
    assert!(error.is_none(), "{error:?}");
    let request = &fake.rc_requests()[before];
    let expected = start + TimeDelta::seconds(29) - TimeDelta::seconds(60);
    assert_eq!(
        request.params["rcstart"],
        expected.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
    // Everything after the cursor, and the overlap again (the store drops those).
    assert_eq!(rcids(&again), (1..=40).collect::<Vec<_>>());
    let bad = editgroups_core::Cursor::new("replay", 1, "{}");
    let (_, error) = collect(&mut source, Some(bad)).await;
    assert!(matches!(error, Some(SourceError::Cursor(_))), "{error:?}");
}

#[tokio::test]
async fn the_interval_grows_while_idle() {
    let fake = FakeApi::start().await;
    let mut source = builder(&fake)
        .interval(Duration::from_millis(40), Duration::from_millis(160))
        .build()
        .unwrap();
    let mut stream = source.stream(None);
    // Nothing to read: poll for a while.
    let _ = tokio::time::timeout(Duration::from_millis(900), stream.next()).await;
    drop(stream);
    let at: Vec<_> = fake.rc_requests().iter().map(|r| r.at).collect();
    assert!(at.len() >= 4, "{} polls", at.len());
    let gaps: Vec<_> = at.windows(2).map(|w| w[1] - w[0]).collect();
    // 80 ms, then 160 ms (the maximum) from there on.
    assert!(gaps[0] >= Duration::from_millis(80), "{gaps:?}");
    assert!(
        gaps[1..].iter().all(|g| *g >= Duration::from_millis(160)),
        "{gaps:?}"
    );
    assert!(at.len() <= 8, "polled {} times in 0.9 s", at.len());
}

#[tokio::test]
async fn configuration_errors_are_clear() {
    let fake = FakeApi::start().await;
    let no_agent = RecentChangesSource::builder(fake.url()).build();
    assert!(matches!(no_agent, Err(SourceError::Config(m)) if m.contains("User-Agent")));
    let bad_url = RecentChangesSource::builder("not a url")
        .user_agent("t/1 (x)")
        .build();
    assert!(matches!(bad_url, Err(SourceError::Config(_))));
    let no_ns = builder(&fake).namespaces([]).build();
    assert!(matches!(no_ns, Err(SourceError::Config(_))));
}

#[tokio::test]
async fn the_wiki_id_is_read_from_siteinfo_once() {
    let t0 = t0();
    let fake = FakeApi::start().await;
    fake.add_rows(rows(1, 3, 3, t0));
    let mut source = RecentChangesSource::builder(fake.url())
        .user_agent("editgroups-tests/0 (x)")
        .since(t0)
        .once(true)
        .build()
        .unwrap();
    assert_eq!(source.wiki(), None);
    let (items, _) = collect(&mut source, None).await;
    let SourceItem::Edit { edit, .. } = &items[0] else {
        panic!()
    };
    assert_eq!(edit.wiki, "fakewiki");
    assert_eq!(source.wiki(), Some("fakewiki"));
    collect(&mut source, None).await;
    let siteinfo = fake
        .requests()
        .iter()
        .filter(|r| r.params.get("meta").map(String::as_str) == Some("siteinfo"))
        .count();
    assert_eq!(siteinfo, 1);
}

#[tokio::test]
async fn a_lost_session_logs_in_again() {
    let start = t0();
    let fake = FakeApi::start().await;
    fake.add_rows(rows(1, 4, 4, start));
    // Login token, login, then the first poll finds the session gone.
    fake.push_faults([
        Fault::Pass,
        Fault::Pass,
        Fault::ApiError("assertuserfailed"),
    ]);
    let mut source = builder(&fake)
        .bot_password("Bot@app", "0123456789abcdefghijklmnopqrstuv")
        .since(start)
        .once(true)
        .build()
        .unwrap();
    let (items, error) = collect(&mut source, None).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rcids(&items), [1, 2, 3, 4]);
    let requests = fake.requests();
    let logins: Vec<_> = requests
        .iter()
        .filter(|r| r.params.get("action").map(String::as_str) == Some("login"))
        .collect();
    assert_eq!(logins.len(), 2);
    assert!(
        logins
            .iter()
            .all(|r| r.method == "POST" && r.params["lgname"] == "Bot@app")
    );
    assert!(
        fake.rc_requests()
            .iter()
            .all(|r| r.params.get("assert").map(String::as_str) == Some("user"))
    );

    // A refused password stops the source with a clear error.
    let mut source = builder(&fake)
        .bot_password("Bot@app", "wrong")
        .since(start)
        .build()
        .unwrap();
    let (_, error) = collect(&mut source, None).await;
    match error {
        Some(SourceError::Config(message)) => {
            assert!(message.contains("login as Bot@app failed"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rows_that_cannot_be_attributed_are_skipped_with_their_position() {
    let start = t0();
    let fake = FakeApi::start().await;
    fake.add_rows([
        Row::edit(1, start, "Q1", QS),
        Row::edit(2, start, "", QS),
        Row::edit(3, start, "Q3", QS),
    ]);
    let mut source = builder(&fake).since(start).once(true).build().unwrap();
    let (items, error) = collect(&mut source, None).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rcids(&items), [1, 3]);
    match &items[1] {
        SourceItem::Skipped { reason, detail, .. } => {
            assert_eq!(*reason, editgroups_core::SkipReason::Incomplete);
            assert!(detail.contains("rc id 2: row without"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    // Through a pipeline, it is counted.
    let store = std::sync::Arc::new(editgroups_store::MemoryStore::new());
    let source = builder(&fake).since(start).once(true).build().unwrap();
    let stats = editgroups_core::Pipeline::builder()
        .source(source)
        .shared_store(store)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(stats.skipped.get("incomplete"), Some(&1));
    assert_eq!(stats.inserted, 2);
}

#[tokio::test]
async fn a_shared_api_client_is_used_and_must_be_the_same_wiki() {
    let t0 = t0();
    let fake = FakeApi::start().await;
    fake.add_rows(rows(1, 3, 3, t0));
    let client = editgroups_sources::mediawiki::MediaWikiClient::builder(fake.url())
        .user_agent("editgroups-tests/0 (shared client)")
        .build()
        .unwrap();
    let mut source = RecentChangesSource::builder(fake.url())
        .client(client.clone())
        .wiki("fakewiki")
        .since(t0)
        .once(true)
        .build()
        .unwrap();
    let (items, error) = collect(&mut source, None).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rcids(&items), [1, 2, 3]);
    // The requests went through the shared client, with its User-Agent.
    assert_eq!(client.stats().snapshot().requests, 1);
    assert_eq!(source.stats().snapshot().requests, 1);
    assert_eq!(
        fake.requests()[0].user_agent.as_deref(),
        Some("editgroups-tests/0 (shared client)")
    );
    let other = RecentChangesSource::builder("http://127.0.0.1:1/w/api.php")
        .client(client)
        .build();
    assert!(
        matches!(other, Err(SourceError::Config(m)) if m.contains("shared API client")),
        "a client of another wiki is refused"
    );
}
