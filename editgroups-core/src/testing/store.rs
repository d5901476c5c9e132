//! The [`BatchStore`] conformance suite.
//!
//! Each function checks one behaviour of the contract on a store, panicking with a
//! message on failure; [`run_all`] runs them all. Every function uses its own wiki
//! names, so they can share one store, which must be empty at the start.
//!
//! ```no_run
//! # async fn check(my_store: &dyn editgroups_core::BatchStore) {
//! // In a `#[tokio::test]` of your store, on a new, empty store:
//! editgroups_core::testing::store::run_all(my_store).await;
//! # }
//! ```

use super::build::{attributed, chunk, edit, unattributed};
use crate::cursor::Cursor;
use crate::edit::Edit;
use crate::store::{
    Batch, BatchKey, BatchPosition, BatchQuery, BatchStore, Chunk, ChunkEdit, Page, RevertedBy,
    TimelineBucket,
};

/// Runs every check of the suite.
pub async fn run_all(store: &dyn BatchStore) {
    attributed_edits_build_batches(store).await;
    redelivery_changes_nothing(store).await;
    chunking_does_not_matter(store).await;
    hijacked_edits_are_dropped(store).await;
    undos_revert_in_any_order(store).await;
    deletions_and_restores_revert_in_time_order(store).await;
    reverts_record_their_earliest_reverter(store).await;
    cursor_is_stored_with_the_chunk(store).await;
    listing_filters_orders_and_pages(store).await;
    listing_resumes_after_a_position(store).await;
    batch_edits_are_newest_first(store).await;
    batch_edits_resume_after_a_position(store).await;
    timeline_counts_edits_per_span(store).await;
    timeline_of_whole_minutes_counts_later_reverts(store).await;
    tools_count_batches_and_authors(store).await;
    large_ids_round_trip(store).await;
    awkward_text_round_trips(store).await;
    latest_event_time_is_the_newest_of_all_sources(store).await;
}

async fn apply(store: &dyn BatchStore, chunk: Chunk) -> crate::ApplyReport {
    match store.apply(chunk).await {
        Ok(report) => report,
        Err(e) => panic!("apply failed: {e}"),
    }
}

async fn get(store: &dyn BatchStore, wiki: &str, tool: &str, uid: &str) -> Batch {
    match store.batch(&BatchKey::new(wiki, tool, uid)).await {
        Ok(Some(batch)) => batch,
        Ok(None) => panic!("batch {wiki}:{tool}/{uid} not found"),
        Err(e) => panic!("batch {wiki}:{tool}/{uid}: {e}"),
    }
}

async fn list(store: &dyn BatchStore, query: BatchQuery) -> Vec<Batch> {
    match store.list_batches(&query).await {
        Ok(list) => list,
        Err(e) => panic!("list_batches({query:?}): {e}"),
    }
}

fn uids(batches: &[Batch]) -> Vec<&str> {
    batches.iter().map(|b| b.key.uid.as_str()).collect()
}

/// Statistics, tags, start and end of a batch from its edits.
pub async fn attributed_edits_build_batches(store: &dyn BatchStore) {
    let w = "suite-basic";
    let long_summary = "é".repeat(300);
    let mut first = attributed(
        edit(w, 10)
            .title("Q1")
            .at(1_000)
            .comment("/* wbsetclaim-create:2||1 */ [[Property:P31]]: [[Q5]]")
            .lengths(Some(100), Some(150)),
        "OR",
        "abc1234",
        "Alice",
    );
    if let Some(m) = first.attribution.as_mut() {
        m.summary = long_summary;
    }
    let edits = vec![
        first,
        // Earlier than the first edit seen: `started` must go back.
        attributed(
            edit(w, 11)
                .title("Q2")
                .at(900)
                .created()
                .comment("/* wbeditentity-create:0| */ new")
                .lengths(None, Some(40)),
            "OR",
            "abc1234",
            "Alice",
        ),
        attributed(
            edit(w, 12)
                .title("Q1")
                .at(1_100)
                .comment("/* wbsetlabel-add:1|fr */ chat")
                .lengths(Some(150), None),
            "OR",
            "abc1234",
            "Alice",
        ),
        // Another batch of the same tool and uid on another wiki.
        attributed(edit("suite-basic-other", 12).at(5), "OR", "abc1234", "Bob"),
        // Unattributed events that revert nothing are not stored.
        unattributed(edit(w, 13).title("Q9")),
    ];
    let report = apply(store, chunk("suite-basic", "1", edits)).await;
    assert_eq!(report.inserted, 4, "inserted: {report:?}");
    assert_eq!(report.batches_touched, 2, "batches touched: {report:?}");

    let batch = get(store, w, "OR", "abc1234").await;
    assert_eq!(batch.user, "Alice");
    assert_eq!(
        batch.summary.chars().count(),
        190,
        "summary truncated to 190 characters"
    );
    assert!(batch.summary.chars().all(|c| c == 'é'));
    assert_eq!(batch.nb_edits, 3);
    assert_eq!(batch.nb_distinct_pages, 2);
    assert_eq!(batch.nb_new_pages, 1);
    assert_eq!(batch.nb_reverted_edits, 0);
    assert_eq!(batch.total_diffsize, 50 + 40 - 150);
    assert_eq!(batch.started.timestamp(), 900);
    assert_eq!(batch.ended.timestamp(), 1_100);
    assert_eq!(
        batch.tags,
        [
            "wbeditentity-create",
            "wbsetclaim-create",
            "wbsetlabel-add",
            "lang-fr",
            "prop-P31"
        ]
    );
    let other = get(store, "suite-basic-other", "OR", "abc1234").await;
    assert_eq!((other.user.as_str(), other.nb_edits), ("Bob", 1));
    assert!(
        store
            .batch(&BatchKey::new(w, "OR", "missing"))
            .await
            .is_ok_and(|b| b.is_none())
    );
}

fn sample_events(w: &str) -> Vec<ChunkEdit> {
    let mut events = Vec::new();
    for i in 0..12u64 {
        let title = format!("Q{}", 100 + i % 4);
        let mut e = edit(w, 100 + i).title(&title).at(2_000 + i as i64);
        if i % 4 == 0 {
            e = e.created();
        }
        let uid = if i % 3 == 0 { "b1" } else { "b2" };
        events.push(attributed(
            e.comment("/* wbsetdescription-add:1|de */ x"),
            "QSv2",
            uid,
            "Carol",
        ));
    }
    // An undo of the second edit, a deletion of a created page, a hijack.
    events.push(unattributed(
        edit(w, 200)
            .at(3_000)
            .comment(&format!("/* undo:0||{}|X */", 101 * 10 + 1)),
    ));
    events.push(unattributed(
        edit(w, 201).title("Q100").at(3_001).log("delete", "delete"),
    ));
    events.push(attributed(edit(w, 202).at(3_002), "QSv2", "b1", "Mallory"));
    events
}

async fn snapshot(store: &dyn BatchStore, wiki: &str) -> Vec<(Batch, Vec<(u64, bool)>)> {
    let mut out = Vec::new();
    for mut batch in list(store, BatchQuery::new().with_wiki(wiki)).await {
        let edits = match store.batch_edits(&batch.key, Page::all()).await {
            Ok(edits) => edits,
            Err(e) => panic!("batch_edits: {e}"),
        };
        batch.key.wiki = String::new();
        out.push((
            batch,
            edits.iter().map(|e| (e.edit.rcid, e.reverted)).collect(),
        ));
    }
    out
}

fn rename(events: &[ChunkEdit], wiki: &str) -> Vec<ChunkEdit> {
    events
        .iter()
        .cloned()
        .map(|mut e| {
            e.edit.wiki = wiki.to_owned();
            e
        })
        .collect()
}

/// Applying events again, alone or overlapping new ones, changes nothing.
pub async fn redelivery_changes_nothing(store: &dyn BatchStore) {
    let w = "suite-redelivery";
    let events = sample_events(w);
    apply(store, chunk(w, "1", events.clone())).await;
    let before = snapshot(store, w).await;
    let report = apply(store, chunk(w, "2", events.clone())).await;
    assert_eq!(report.inserted, 0, "{report:?}");
    assert_eq!(report.duplicates, events.len() as u64, "{report:?}");
    assert_eq!(report.reverted, 0, "{report:?}");
    let mut overlap = events[5..].to_vec();
    overlap.push(attributed(
        edit(w, 300).title("Q100").at(4_000),
        "QSv2",
        "b2",
        "Carol",
    ));
    overlap.extend(events[..3].iter().cloned());
    let report = apply(store, chunk(w, "3", overlap)).await;
    assert_eq!(report.inserted, 1, "{report:?}");
    let after = snapshot(store, w).await;
    let b2_before = before
        .iter()
        .find(|(b, _)| b.key.uid == "b2")
        .map(|(b, _)| b.nb_edits);
    let b2_after = after
        .iter()
        .find(|(b, _)| b.key.uid == "b2")
        .map(|(b, _)| b.nb_edits);
    assert_eq!(b2_after, b2_before.map(|n| n + 1));
    let b1 =
        |s: &Vec<(Batch, Vec<(u64, bool)>)>| s.iter().find(|(b, _)| b.key.uid == "b1").cloned();
    assert_eq!(b1(&after), b1(&before), "batch b1 changed on re-delivery");
}

/// One chunk, one chunk per event, or chunks of three: the same state.
pub async fn chunking_does_not_matter(store: &dyn BatchStore) {
    let events = sample_events("template");
    let whole = "suite-chunks-whole";
    apply(store, chunk(whole, "1", rename(&events, whole))).await;
    let single = "suite-chunks-single";
    for (i, e) in rename(&events, single).into_iter().enumerate() {
        apply(store, chunk(single, &i.to_string(), vec![e])).await;
    }
    let threes = "suite-chunks-threes";
    for (i, part) in rename(&events, threes).chunks(3).enumerate() {
        apply(store, chunk(threes, &i.to_string(), part.to_vec())).await;
    }
    let expected = snapshot(store, whole).await;
    assert_eq!(expected.len(), 2, "two batches expected: {expected:?}");
    let b1 = &expected
        .iter()
        .find(|(b, _)| b.key.uid == "b1")
        .map(|(b, _)| b.clone());
    assert!(
        b1.as_ref().is_some_and(|b| b.nb_reverted_edits == 1),
        "{b1:?}"
    );
    assert_eq!(
        snapshot(store, single).await,
        expected,
        "one event per chunk differs"
    );
    assert_eq!(
        snapshot(store, threes).await,
        expected,
        "chunks of three differ"
    );
}

/// The first author owns a batch; edits naming another are dropped and counted.
pub async fn hijacked_edits_are_dropped(store: &dyn BatchStore) {
    let w = "suite-hijack";
    apply(
        store,
        chunk(
            w,
            "1",
            vec![attributed(edit(w, 1).at(10), "OR", "ca7d7cc", "Pintoch")],
        ),
    )
    .await;
    let report = apply(
        store,
        chunk(
            w,
            "2",
            vec![
                attributed(edit(w, 2).at(20), "OR", "ca7d7cc", "PintochHijack"),
                attributed(edit(w, 3).at(30), "OR", "ca7d7cc", "Pintoch"),
            ],
        ),
    )
    .await;
    assert_eq!((report.hijacked, report.inserted), (1, 1), "{report:?}");
    let batch = get(store, w, "OR", "ca7d7cc").await;
    assert_eq!(
        (batch.user.as_str(), batch.nb_edits, batch.ended.timestamp()),
        ("Pintoch", 2, 30)
    );
}

/// An undo reverts the edit whose revision it names, before or after it arrives,
/// once.
pub async fn undos_revert_in_any_order(store: &dyn BatchStore) {
    let w = "suite-undo";
    let target = edit(w, 1).at(10).revisions(Some(500), Some(501));
    let undo = |rcid| {
        unattributed(
            edit(w, rcid)
                .at(20)
                .comment("/* undo:0||501|QuickStatementsBot */ no"),
        )
    };
    apply(
        store,
        chunk(w, "1", vec![attributed(target.clone(), "QSv2", "1", "A")]),
    )
    .await;
    let report = apply(store, chunk(w, "2", vec![undo(2)])).await;
    assert_eq!(report.reverted, 1, "{report:?}");
    // A second undo of the same revision (another event) counts nothing more.
    apply(store, chunk(w, "3", vec![undo(3)])).await;
    assert_eq!(get(store, w, "QSv2", "1").await.nb_reverted_edits, 1);

    // The undo arrives first.
    let w2 = "suite-undo-early";
    let early = edit(w2, 1).at(10).revisions(Some(500), Some(501));
    apply(
        store,
        chunk(
            w2,
            "1",
            vec![unattributed(
                edit(w2, 2).at(20).comment("/* undo:0||501|X */"),
            )],
        ),
    )
    .await;
    apply(
        store,
        chunk(w2, "2", vec![attributed(early, "QSv2", "1", "A")]),
    )
    .await;
    let batch = get(store, w2, "QSv2", "1").await;
    assert_eq!(batch.nb_reverted_edits, 1, "undo seen before the edit");
    let edits = store
        .batch_edits(&batch.key, Page::all())
        .await
        .unwrap_or_default();
    assert!(edits.iter().all(|e| e.reverted), "{edits:?}");
}

/// Creation → deletion → restore → deletion, delivered in order and backwards.
pub async fn deletions_and_restores_revert_in_time_order(store: &dyn BatchStore) {
    let events = |w: &str| {
        vec![
            attributed(
                edit(w, 1).title("Q52218094").at(100).created(),
                "QSv2",
                "2213",
                "Beireke1",
            ),
            attributed(
                edit(w, 2)
                    .title("Q52218094")
                    .at(200)
                    .log("delete", "delete"),
                "EG",
                "be3a1d9",
                "Pintoch",
            ),
            attributed(
                edit(w, 3)
                    .title("Q52218094")
                    .at(300)
                    .log("delete", "restore"),
                "EG",
                "ca7d7cc",
                "Pintoch",
            ),
            attributed(
                edit(w, 4)
                    .title("Q52218094")
                    .at(400)
                    .log("delete", "delete"),
                "EG",
                "45bc44f",
                "Pintoch",
            ),
            // A deletion of another page, and a deletion older than a creation.
            unattributed(edit(w, 5).title("Q7").at(50).log("delete", "delete")),
            attributed(
                edit(w, 6).title("Q7").at(60).created(),
                "QSv2",
                "2213",
                "Beireke1",
            ),
        ]
    };
    for (w, reverse) in [
        ("suite-delete-forward", false),
        ("suite-delete-backward", true),
    ] {
        let mut list = events(w);
        if reverse {
            list.reverse();
        }
        for (i, e) in list.into_iter().enumerate() {
            apply(store, chunk(w, &i.to_string(), vec![e])).await;
        }
        let reverted = |tool: &'static str, uid: &'static str| async move {
            get(store, w, tool, uid).await.nb_reverted_edits
        };
        assert_eq!(
            reverted("QSv2", "2213").await,
            1,
            "{w}: creation reverted by the later deletion, not the earlier one"
        );
        assert_eq!(
            reverted("EG", "be3a1d9").await,
            1,
            "{w}: deletion reverted by the restore"
        );
        assert_eq!(
            reverted("EG", "ca7d7cc").await,
            1,
            "{w}: restore reverted by the deletion"
        );
        assert_eq!(
            reverted("EG", "45bc44f").await,
            0,
            "{w}: last deletion stands"
        );
        let tags = get(store, w, "EG", "ca7d7cc").await.tags;
        assert_eq!(tags, ["restore"], "{w}");
    }
}

/// Every reverted edit names the earliest event that reverts it, with its batch,
/// whatever order events arrive in; batches name the batches that reverted them
/// and those they reverted.
pub async fn reverts_record_their_earliest_reverter(store: &dyn BatchStore) {
    let events = |w: &str| {
        vec![
            // Batch QSv2/10 by Ann: an edit (revision 501) and a creation of Q2.
            attributed(
                edit(w, 1)
                    .title("Q1")
                    .at(10)
                    .revisions(Some(500), Some(501)),
                "QSv2",
                "10",
                "Ann",
            ),
            attributed(edit(w, 2).title("Q2").at(11).created(), "QSv2", "10", "Ann"),
            // Two undos of revision 501: the earlier by hand, the later by EG/aaa.
            unattributed(
                edit(w, 3)
                    .title("Q1")
                    .at(20)
                    .comment("/* undo:0||501|Bot */"),
            ),
            attributed(
                edit(w, 4)
                    .title("Q1")
                    .at(30)
                    .comment("/* undo:0||501|Bot */ again"),
                "EG",
                "aaa1111",
                "Bob",
            ),
            // Two deletions of Q2, by EG/bbb then by EG/ccc.
            attributed(
                edit(w, 5).title("Q2").at(40).log("delete", "delete"),
                "EG",
                "bbb2222",
                "Bob",
            ),
            attributed(
                edit(w, 6).title("Q2").at(50).log("delete", "delete"),
                "EG",
                "ccc3333",
                "Cy",
            ),
        ]
    };
    let orders: [(&str, &[usize]); 3] = [
        ("suite-provenance-forward", &[0, 1, 2, 3, 4, 5]),
        ("suite-provenance-backward", &[5, 4, 3, 2, 1, 0]),
        ("suite-provenance-mixed", &[3, 5, 0, 4, 1, 2]),
    ];
    for (w, order) in orders {
        let list = events(w);
        for (i, &at) in order.iter().enumerate() {
            apply(store, chunk(w, &i.to_string(), vec![list[at].clone()])).await;
        }
        let key = BatchKey::new(w, "QSv2", "10");
        let edits = match store.batch_edits(&key, Page::all()).await {
            Ok(edits) => edits,
            Err(e) => panic!("batch_edits: {e}"),
        };
        let by = |rcid: u64| {
            edits
                .iter()
                .find(|e| e.edit.rcid == rcid)
                .and_then(|e| e.reverted_by.clone())
        };
        assert_eq!(
            by(1),
            Some(RevertedBy {
                rcid: 3,
                batch: None
            }),
            "{w}: the undo by hand came first"
        );
        assert_eq!(
            by(2),
            Some(RevertedBy {
                rcid: 5,
                batch: Some(BatchKey::new(w, "EG", "bbb2222"))
            }),
            "{w}: the first deletion reverted the creation"
        );
        assert_eq!(
            get(store, w, "QSv2", "10").await.nb_reverted_edits,
            2,
            "{w}"
        );
        let keys = |batches: Result<Vec<Batch>, crate::StoreError>| match batches {
            Ok(batches) => batches.into_iter().map(|b| b.key.uid).collect::<Vec<_>>(),
            Err(e) => panic!("linked batches: {e}"),
        };
        // EG/aaa's undo and EG/ccc's deletion came later: they reverted nothing.
        assert_eq!(
            keys(store.reverting_batches(&key).await),
            ["bbb2222"],
            "{w}"
        );
        for uid in ["aaa1111", "ccc3333"] {
            let eg = BatchKey::new(w, "EG", uid);
            assert!(
                keys(store.reverted_batches(&eg).await).is_empty(),
                "{w} {uid}"
            );
        }
        let eg = BatchKey::new(w, "EG", "bbb2222");
        assert_eq!(keys(store.reverted_batches(&eg).await), ["10"], "{w}");
        assert!(keys(store.reverting_batches(&eg).await).is_empty(), "{w}");
    }
}

/// The cursor is stored with its chunk, per source, and an empty chunk moves it.
pub async fn cursor_is_stored_with_the_chunk(store: &dyn BatchStore) {
    let source = "suite-cursor";
    let read = |name: &'static str| async move {
        match store.cursor(name).await {
            Ok(c) => c,
            Err(e) => panic!("cursor: {e}"),
        }
    };
    assert_eq!(read(source).await, None);
    apply(
        store,
        chunk(
            source,
            "first",
            vec![attributed(edit(source, 1), "OR", "aaaa", "A")],
        ),
    )
    .await;
    assert_eq!(read(source).await, Some(Cursor::new("test", 1, "first")));
    assert_eq!(read("suite-cursor-other").await, None);
    apply(store, chunk(source, "second", Vec::new())).await;
    assert_eq!(read(source).await, Some(Cursor::new("test", 1, "second")));
    let mut no_cursor = chunk(source, "", Vec::new());
    no_cursor.cursor = None;
    apply(store, no_cursor).await;
    assert_eq!(
        read(source).await,
        Some(Cursor::new("test", 1, "second")),
        "a chunk without cursor keeps it"
    );
}

/// Filters combine with AND, newest `ended` first, pages.
pub async fn listing_filters_orders_and_pages(store: &dyn BatchStore) {
    let w = "suite-list";
    let e = |rcid: u64, at: i64, comment: &str| edit(w, rcid).at(at).comment(comment);
    apply(
        store,
        chunk(
            w,
            "1",
            vec![
                attributed(e(1, 100, "/* wbsetlabel-add:1|fr */ x"), "OR", "u1", "Ann"),
                attributed(e(2, 400, "/* wbsetlabel-add:1|de */ x"), "OR", "u2", "Ben"),
                attributed(
                    e(3, 300, "/* wbsetlabel-add:1|fr */ x"),
                    "QSv2",
                    "u3",
                    "Ann",
                ),
                attributed(
                    e(4, 200, "/* wbcreateclaim-create:1| */ [[Property:P18]]: x"),
                    "QSv2",
                    "u4",
                    "Ben",
                ),
                attributed(e(5, 300, "/* wbsetlabel-add:1|fr */ x"), "OR", "u5", "Ann"),
            ],
        ),
    )
    .await;
    let all = list(store, BatchQuery::new().with_wiki(w)).await;
    assert_eq!(
        uids(&all),
        ["u2", "u5", "u3", "u4", "u1"],
        "newest ended first, ties by tool then uid"
    );
    let q = || BatchQuery::new().with_wiki(w);
    assert_eq!(
        uids(&list(store, q().with_tool("OR")).await),
        ["u2", "u5", "u1"]
    );
    assert_eq!(
        uids(&list(store, q().with_user("Ann")).await),
        ["u5", "u3", "u1"]
    );
    assert_eq!(
        uids(&list(store, q().with_tag("lang-fr")).await),
        ["u5", "u3", "u1"]
    );
    assert_eq!(
        uids(
            &list(
                store,
                q().with_tag("lang-fr")
                    .with_tag("wbsetlabel-add")
                    .with_tool("QSv2")
            )
            .await
        ),
        ["u3"]
    );
    assert!(
        list(store, q().with_tag("lang-fr").with_tag("prop-P18"))
            .await
            .is_empty()
    );
    assert_eq!(uids(&list(store, q().with_page(2, 1)).await), ["u5", "u3"]);
    assert_eq!(uids(&list(store, q().with_page(0, 4)).await), ["u1"]);
    assert!(list(store, q().with_page(10, 10)).await.is_empty());
}

/// Edits of a batch come newest first, by timestamp then rc id, in pages.
pub async fn batch_edits_are_newest_first(store: &dyn BatchStore) {
    let w = "suite-edits";
    let events = [(1, 50), (2, 70), (3, 70), (4, 10)]
        .map(|(rcid, at)| attributed(edit(w, rcid).at(at), "OR", "e1", "A"))
        .to_vec();
    apply(store, chunk(w, "1", events)).await;
    let key = BatchKey::new(w, "OR", "e1");
    let rcids = |page| {
        let key = key.clone();
        async move {
            match store.batch_edits(&key, page).await {
                Ok(edits) => edits.iter().map(|e| e.edit.rcid).collect::<Vec<_>>(),
                Err(e) => panic!("batch_edits: {e}"),
            }
        }
    };
    assert_eq!(rcids(Page::all()).await, [3, 2, 1, 4]);
    assert_eq!(rcids(Page::new(2, 1)).await, [2, 1]);
    let stored = store
        .batch_edits(&BatchKey::new(w, "OR", "e1"), Page::new(1, 0))
        .await;
    let first = stored.ok().and_then(|v| v.into_iter().next());
    assert_eq!(
        first.map(|s| s.edit),
        Some(edit(w, 3).at(70).build()),
        "edits round-trip unchanged"
    );
}

/// Tools are listed with their batch and distinct-author counts.
pub async fn tools_count_batches_and_authors(store: &dyn BatchStore) {
    let w = "suite-tools";
    apply(
        store,
        chunk(
            w,
            "1",
            vec![
                attributed(edit(w, 1), "suite-tool", "1", "A"),
                attributed(edit(w, 2), "suite-tool", "2", "A"),
                attributed(edit(w, 3), "suite-tool", "3", "B"),
                attributed(edit("suite-tools-2", 3), "suite-tool", "3", "C"),
            ],
        ),
    )
    .await;
    let tools = match store.tools().await {
        Ok(t) => t,
        Err(e) => panic!("tools: {e}"),
    };
    let tool = tools.iter().find(|t| t.tool == "suite-tool");
    assert_eq!(
        tool.map(|t| (t.nb_batches, t.nb_users)),
        Some((4, 3)),
        "{tools:?}"
    );
}

/// 64-bit ids and negative sizes survive the store.
pub async fn large_ids_round_trip(store: &dyn BatchStore) {
    let w = "suite-large";
    let big = edit(w, 9_000_000_000_000)
        .revisions(Some(4_000_000_000), Some(9_000_000_000_000_000_000))
        .lengths(Some(5_000_000_000), Some(10))
        .comment("/* undo:0||1|X */ ünïcödé");
    apply(
        store,
        chunk(w, "1", vec![attributed(big.clone(), "OR", "ffff", "Zoë")]),
    )
    .await;
    let key = BatchKey::new(w, "OR", "ffff");
    let stored = store
        .batch_edits(&key, Page::all())
        .await
        .unwrap_or_default();
    assert_eq!(stored.first().map(|s| &s.edit), Some(&big.build()));
    assert_eq!(
        get(store, w, "OR", "ffff").await.total_diffsize,
        10 - 5_000_000_000
    );
}

/// Text with quotes, backslashes, commas, braces, the word NULL, line breaks and
/// characters outside the BMP comes back exactly (SQL stores send rows in bulk,
/// where such text could be misread).
pub async fn awkward_text_round_trips(store: &dyn BatchStore) {
    let w = "suite-text";
    let texts = [
        r#"say "hi", {to} \ all\"#,
        "NULL",
        "",
        "line\nbreak\ttab 'single' ünïcödé 🎉",
        r#"{"json": [1, null]}"#,
    ];
    let edits: Vec<_> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            edit(w, 50 + i as u64)
                .title(&format!("Q{i} {text}"))
                .comment(text)
                .user(text)
        })
        .collect();
    let items = edits
        .iter()
        .map(|e| attributed(e.clone(), "OR", r#"a"b\c,{d}"#, "NULL"))
        .collect();
    apply(store, chunk(w, r#"pos "1", \{x}"#, items)).await;
    let key = BatchKey::new(w, "OR", r#"a"b\c,{d}"#);
    let batch = get(store, w, "OR", r#"a"b\c,{d}"#).await;
    assert_eq!(batch.user, "NULL");
    assert_eq!(batch.nb_distinct_pages, texts.len() as u64);
    let mut stored: Vec<Edit> = store
        .batch_edits(&key, Page::all())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.edit)
        .collect();
    stored.sort_by_key(|e| e.rcid);
    let expected: Vec<Edit> = edits.into_iter().map(|e| e.build()).collect();
    assert_eq!(stored, expected);
}

/// The newest event time of every source, for lag.
pub async fn latest_event_time_is_the_newest_of_all_sources(store: &dyn BatchStore) {
    let far = 4_000_000_000;
    let mut c = chunk("suite-lag-a", "1", Vec::new());
    c.latest_event_time = chrono::DateTime::from_timestamp(far, 0);
    apply(store, c).await;
    let mut c = chunk("suite-lag-b", "1", Vec::new());
    c.latest_event_time = chrono::DateTime::from_timestamp(far - 100, 0);
    apply(store, c).await;
    let latest = store.latest_event_time().await.ok().flatten();
    assert_eq!(latest.map(|t| t.timestamp()), Some(far));
}

/// Keyset pagination of batches: each page starts after the last of the previous
/// one, ties on `ended` broken by key, filters still applied.
pub async fn listing_resumes_after_a_position(store: &dyn BatchStore) {
    let w = "suite-keyset";
    // Ten batches; several share an `ended` time, so ties are resolved by key.
    let events = (0..10u64)
        .map(|i| {
            let tool = if i % 3 == 0 { "QSv2" } else { "OR" };
            attributed(
                edit(w, 100 + i)
                    .at(1_000 + i64::try_from(i / 3).unwrap_or(0))
                    .comment("/* wbsetlabel-add:1|fr */ x"),
                tool,
                &format!("k{i}"),
                if i % 2 == 0 { "Ann" } else { "Ben" },
            )
        })
        .collect();
    apply(store, chunk(w, "1", events)).await;
    let all = list(store, BatchQuery::new().with_wiki(w)).await;
    assert_eq!(all.len(), 10);
    for page_size in [1u64, 3, 4] {
        let mut seen = Vec::new();
        let mut after: Option<BatchPosition> = None;
        loop {
            let mut q = BatchQuery::new().with_wiki(w).with_page(page_size, 0);
            if let Some(position) = after.clone() {
                q = q.with_after(position);
            }
            let page = list(store, q).await;
            if page.is_empty() {
                break;
            }
            assert!(page.len() as u64 <= page_size);
            after = page.last().map(BatchPosition::of);
            seen.extend(page.into_iter().map(|b| b.key.uid));
            assert!(seen.len() <= 10, "keyset pages never end: {seen:?}");
        }
        assert_eq!(
            seen,
            all.iter().map(|b| b.key.uid.clone()).collect::<Vec<_>>(),
            "pages of {page_size} follow the full list"
        );
    }
    // After a position, with a filter and an offset counted from there.
    let position = all.get(2).map(BatchPosition::of);
    let Some(position) = position else {
        panic!("no third batch")
    };
    let expected: Vec<&str> = uids(&all[3..])
        .into_iter()
        .filter(|u| all.iter().any(|b| b.key.uid == *u && b.user == "Ann"))
        .collect();
    let found = list(
        store,
        BatchQuery::new()
            .with_wiki(w)
            .with_user("Ann")
            .with_after(position.clone()),
    )
    .await;
    assert_eq!(
        uids(&found),
        expected,
        "a filter applies after the position"
    );
    let skipped = list(
        store,
        BatchQuery::new()
            .with_wiki(w)
            .with_page(2, 1)
            .with_after(position),
    )
    .await;
    assert_eq!(
        uids(&skipped),
        uids(&all[4..6]),
        "offset counts from the position"
    );
    // Backwards: the page that ends just before a position, in list order.
    for (at, limit, offset, expected) in [
        (5usize, 2u64, 0u64, 3..5),
        (5, 10, 0, 0..5),
        (9, 3, 2, 4..7),
        (0, 3, 0, 0..0),
    ] {
        let Some(position) = all.get(at).map(BatchPosition::of) else {
            panic!("no batch {at}")
        };
        let page = list(
            store,
            BatchQuery::new()
                .with_wiki(w)
                .with_page(limit, offset)
                .with_before(position),
        )
        .await;
        assert_eq!(
            uids(&page),
            uids(&all[expected]),
            "before batch {at}, limit {limit}, offset {offset}"
        );
    }
    // A position of a batch that does not exist still orders by (ended, key).
    let Some(last) = all.last() else {
        panic!("no batches")
    };
    let beyond = BatchPosition {
        ended: last.ended,
        key: BatchKey::new(w, "ZZZ", "zzz"),
    };
    assert!(
        list(store, BatchQuery::new().with_wiki(w).with_after(beyond))
            .await
            .is_empty()
    );
}

/// Keyset pagination of a batch's edits: after a (timestamp, rc id) position,
/// newest first, ties on timestamp broken by rc id.
pub async fn batch_edits_resume_after_a_position(store: &dyn BatchStore) {
    let w = "suite-edits-keyset";
    let events = [
        (1, 50),
        (2, 70),
        (3, 70),
        (4, 10),
        (5, 70),
        (6, 60),
        (7, 10),
    ]
    .map(|(rcid, at)| attributed(edit(w, rcid).at(at), "OR", "k1", "A"))
    .to_vec();
    apply(store, chunk(w, "1", events)).await;
    let key = BatchKey::new(w, "OR", "k1");
    let after = |position: Option<crate::EventPosition>, limit: u64| {
        let key = key.clone();
        async move {
            match store.batch_edits_after(&key, position, limit).await {
                Ok(edits) => edits.iter().map(|e| e.edit.rcid).collect::<Vec<_>>(),
                Err(e) => panic!("batch_edits_after: {e}"),
            }
        }
    };
    let full = [5, 3, 2, 6, 1, 7, 4];
    assert_eq!(after(None, 0).await, full);
    assert_eq!(after(None, 2).await, [5, 3]);
    let at = |seconds: i64, rcid: u64| {
        Some(crate::EventPosition {
            timestamp: chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default(),
            rcid,
        })
    };
    assert_eq!(
        after(at(70, 3), 3).await,
        [2, 6, 1],
        "same second, lower rc id"
    );
    assert_eq!(after(at(70, 2), 0).await, [6, 1, 7, 4]);
    assert_eq!(after(at(10, 7), 0).await, [4]);
    assert!(after(at(10, 4), 0).await.is_empty());
    let before = |position: Option<crate::EventPosition>, limit: u64| {
        let key = key.clone();
        async move {
            let Some(position) = position else {
                panic!("no position")
            };
            match store.batch_edits_before(&key, position, limit).await {
                Ok(edits) => edits.iter().map(|e| e.edit.rcid).collect::<Vec<_>>(),
                Err(e) => panic!("batch_edits_before: {e}"),
            }
        }
    };
    assert_eq!(before(at(60, 6), 2).await, [3, 2], "the page just before");
    assert_eq!(before(at(60, 6), 0).await, [5, 3, 2]);
    assert_eq!(before(at(70, 3), 5).await, [5], "same second, higher rc id");
    assert!(before(at(70, 5), 5).await.is_empty());
    let mut walked = Vec::new();
    let mut position = None;
    loop {
        let page = match store.batch_edits_after(&key, position, 2).await {
            Ok(page) => page,
            Err(e) => panic!("batch_edits_after: {e}"),
        };
        let Some(last) = page.last() else { break };
        position = Some(last.edit.position());
        walked.extend(page.iter().map(|e| e.edit.rcid));
        assert!(walked.len() <= full.len(), "pages never end");
    }
    assert_eq!(walked, full, "pages of 2 follow the full list");
    assert!(
        store
            .batch_edits_after(&BatchKey::new(w, "OR", "missing"), None, 0)
            .await
            .is_ok_and(|e| e.is_empty())
    );
}

/// A timeline in spans of whole minutes from a whole minute (which stores may
/// count from edits per minute) counts each edit in its span, and edits reverted
/// in the same chunk and in later chunks as reverted.
pub async fn timeline_of_whole_minutes_counts_later_reverts(store: &dyn BatchStore) {
    let w = "suite-minutes";
    // Minute 100 starts at 6,000 s.
    let times = [6_000, 6_030, 6_059, 6_060, 6_179, 6_180, 6_500, 9_000];
    let edits: Vec<ChunkEdit> = times
        .iter()
        .zip(1u64..)
        .map(|(&at, rcid)| attributed(edit(w, rcid).at(at), "OR", "m1", "A"))
        .collect();
    let undo = |rcid: u64, undone: u64| {
        unattributed(
            edit(w, rcid)
                .at(9_500)
                .comment(&format!("/* undo:0||{}|A */", undone * 10 + 1)),
        )
    };
    let mut first: Vec<ChunkEdit> = edits[..6].to_vec();
    first.push(undo(20, 2));
    apply(store, chunk(w, "1", first)).await;
    let mut second: Vec<ChunkEdit> = edits[6..].to_vec();
    second.extend([undo(21, 4), undo(22, 7)]);
    apply(store, chunk(w, "2", second)).await;
    apply(store, chunk(w, "3", vec![undo(23, 1)])).await;
    let key = BatchKey::new(w, "OR", "m1");
    let timeline = |start: i64, width_minutes: i64, buckets: usize| {
        let key = key.clone();
        async move {
            let start = chrono::DateTime::from_timestamp(start, 0).unwrap_or_default();
            match store
                .edit_timeline(&key, start, width_minutes * 60_000_000, buckets)
                .await
            {
                Ok(t) => t,
                Err(e) => panic!("edit_timeline: {e}"),
            }
        }
    };
    let b = |edits, reverted| TimelineBucket { edits, reverted };
    // [6000, 6120): 1, 2, 3, 4 (1, 2 and 4 reverted); [6120, 6240): 5, 6;
    // nothing in [6240, 6360); 7 (reverted) and 8 in the last span.
    assert_eq!(
        timeline(6_000, 2, 4).await,
        [b(4, 3), b(2, 0), b(0, 0), b(2, 1)]
    );
    // Spans before the first edit are empty; the last takes what lies beyond.
    assert_eq!(timeline(5_880, 1, 3).await, [b(0, 0), b(0, 0), b(8, 4)]);
    // Edits before the start count in the first span.
    assert_eq!(timeline(6_060, 1, 2).await, [b(4, 3), b(4, 1)]);
    assert_eq!(
        timeline(0, 60, 3).await,
        [b(0, 0), b(7, 4), b(1, 0)],
        "hours from the epoch: 6,000 s to 6,500 s are in the second"
    );
}

/// A batch's timeline: edits and reverted edits per span, the first and last
/// spans taking what lies outside.
pub async fn timeline_counts_edits_per_span(store: &dyn BatchStore) {
    let w = "suite-timeline";
    let mut events: Vec<ChunkEdit> = [(1, 100), (2, 101), (3, 109), (4, 110), (5, 119), (6, 130)]
        .map(|(rcid, at)| attributed(edit(w, rcid).at(at), "OR", "t1", "A"))
        .to_vec();
    // Reverts edits 2 and 5 (by their new revisions).
    for (rcid, undone) in [(7u64, 21u64), (8, 51)] {
        events.push(unattributed(
            edit(w, rcid)
                .at(200)
                .comment(&format!("/* undo:0||{undone}|A */")),
        ));
    }
    apply(store, chunk(w, "1", events)).await;
    let key = BatchKey::new(w, "OR", "t1");
    let start = chrono::DateTime::from_timestamp(100, 0).unwrap_or_default();
    let timeline = match store.edit_timeline(&key, start, 10_000_000, 3).await {
        Ok(t) => t,
        Err(e) => panic!("edit_timeline: {e}"),
    };
    let b = |edits, reverted| TimelineBucket { edits, reverted };
    // [100, 110): 1, 2, 3; [110, 120): 4, 5; 130 lies beyond: the last span.
    assert_eq!(timeline, [b(3, 1), b(2, 1), b(1, 0)]);
    // Many narrow spans (stores may count them another way).
    let fine = match store.edit_timeline(&key, start, 100_000, 400).await {
        Ok(t) => t,
        Err(e) => panic!("edit_timeline: {e}"),
    };
    assert_eq!(fine.len(), 400);
    assert_eq!(fine.iter().map(|b| b.edits).sum::<u64>(), 6);
    assert_eq!(
        (fine[0], fine[10], fine[300], fine[399]),
        (b(1, 0), b(1, 1), b(1, 0), b(0, 0))
    );
    let one = store.edit_timeline(&key, start, 1_000_000_000, 1).await;
    assert_eq!(one.ok(), Some(vec![b(6, 2)]));
    let missing = store
        .edit_timeline(&BatchKey::new(w, "OR", "none"), start, 1_000_000, 2)
        .await;
    assert_eq!(missing.ok(), Some(vec![b(0, 0), b(0, 0)]));
}
