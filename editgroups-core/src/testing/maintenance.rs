//! The [`MaintenanceStore`] conformance suite: inspection candidates and marks,
//! tags added by inspection, archival.
//!
//! Each function checks one behaviour on a store that is also a [`BatchStore`],
//! panicking with a message on failure; [`run_all`] runs them all. Every function
//! uses its own wiki names, so they can share one store, which must be empty at
//! the start.
//!
//! ```no_run
//! # use editgroups_core::testing::maintenance::Maintained;
//! # async fn check<S: Maintained>(my_store: &S) {
//! // In a `#[tokio::test]` of your store, on a new, empty store:
//! editgroups_core::testing::maintenance::run_all(my_store).await;
//! # }
//! ```

use super::build::{attributed, chunk, edit, unattributed};
use crate::maintenance::{
    ArchivalPolicy, Archived, Inspection, InspectionCandidate, InspectionMark, InspectionQuery,
    MaintenanceStore, ScanPage,
};
use crate::store::{Batch, BatchKey, BatchQuery, BatchStore, Chunk, ChunkEdit, Page, StoredEdit};
use chrono::DateTime;

/// A store with both traits.
pub trait Maintained: BatchStore + MaintenanceStore {}
impl<T: BatchStore + MaintenanceStore + ?Sized> Maintained for T {}

/// Runs every check of the suite.
pub async fn run_all<S: Maintained + ?Sized>(store: &S) {
    archival_keeps_the_newest_edits_and_the_statistics(store).await;
    archival_twice_changes_nothing(store).await;
    removed_edits_stay_seen(store).await;
    late_reverts_of_removed_edits_are_not_counted(store).await;
    small_and_recent_batches_are_not_archived(store).await;
    archival_candidates_page_by_keyset(store).await;
    edits_after_archival_are_counted(store).await;
    inspection_candidates_are_changed_batches_with_opaque_tags(store).await;
    inspection_covers_only_new_edits(store).await;
    inspection_adds_missing_tags(store).await;
    tags_added_by_inspection_do_not_break_ingestion(store).await;
    bad_tags_are_refused_and_nothing_recorded(store).await;
}

fn time(seconds: i64) -> crate::Timestamp {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// Archives batches ended before 2030 (every test edit), keeping `keep`.
fn policy(keep: u64) -> ArchivalPolicy {
    ArchivalPolicy {
        ended_before: time(1_900_000_000),
        keep,
    }
}

async fn apply<S: Maintained + ?Sized>(store: &S, chunk: Chunk) -> crate::ApplyReport {
    match store.apply(chunk).await {
        Ok(report) => report,
        Err(e) => panic!("apply failed: {e}"),
    }
}

async fn get<S: Maintained + ?Sized>(store: &S, key: &BatchKey) -> Batch {
    match store.batch(key).await {
        Ok(Some(batch)) => batch,
        Ok(None) => panic!("batch {key} not found"),
        Err(e) => panic!("batch {key}: {e}"),
    }
}

async fn edits<S: Maintained + ?Sized>(store: &S, key: &BatchKey) -> Vec<StoredEdit> {
    match store.batch_edits(key, Page::all()).await {
        Ok(edits) => edits,
        Err(e) => panic!("batch_edits {key}: {e}"),
    }
}

async fn archive<S: Maintained + ?Sized>(
    store: &S,
    key: &BatchKey,
    policy: &ArchivalPolicy,
) -> Archived {
    match store.archive_batch(key, policy).await {
        Ok(done) => done,
        Err(e) => panic!("archive_batch {key}: {e}"),
    }
}

/// Every archival candidate of `wiki`, page by page.
async fn archival_keys<S: Maintained + ?Sized>(
    store: &S,
    policy: &ArchivalPolicy,
    wiki: &str,
    page_size: u64,
) -> Vec<BatchKey> {
    let mut keys = Vec::new();
    let mut page = ScanPage::first(page_size);
    loop {
        let found = match store.archival_candidates(policy, page).await {
            Ok(found) => found,
            Err(e) => panic!("archival_candidates: {e}"),
        };
        assert!(
            found.len() as u64 <= page_size,
            "a page of {page_size} gave {}",
            found.len()
        );
        let Some(last) = found.last() else {
            return keys;
        };
        page = ScanPage::after(last.position, page_size);
        keys.extend(found.into_iter().map(|c| c.key).filter(|k| k.wiki == wiki));
    }
}

/// Every inspection candidate of `wiki`, page by page.
async fn inspection_candidates<S: Maintained + ?Sized>(
    store: &S,
    wiki: &str,
) -> Vec<InspectionCandidate> {
    let mut all = Vec::new();
    let mut page = ScanPage::first(2);
    loop {
        let found = match store
            .inspection_candidates(&InspectionQuery::default(), page)
            .await
        {
            Ok(found) => found,
            Err(e) => panic!("inspection_candidates: {e}"),
        };
        let Some(last) = found.last() else {
            return all;
        };
        page = ScanPage::after(last.position, 2);
        all.extend(found.into_iter().filter(|c| c.batch.key.wiki == wiki));
    }
}

/// Fifteen edits of one batch: times with ties (broken by rc id), two page
/// creations, a reverted edit, tags.
fn fifteen(w: &str, uid: &str, first_rcid: u64) -> Vec<ChunkEdit> {
    let mut events = Vec::new();
    for i in 0..15u64 {
        let rcid = first_rcid + i;
        // Times 1000, 1000, 1001, 1001, ...: ties between pairs.
        let mut e = edit(w, rcid)
            .title(&format!("Q{}", i % 6))
            .at(1_000 + (i / 2) as i64)
            .comment(&format!(
                "/* wbsetclaim-create:2||1 */ [[Property:P{}]]: x",
                i + 1
            ));
        if i < 2 {
            e = e.created();
        }
        events.push(attributed(e, "OR", uid, "Alice"));
    }
    // An undo of the fourth edit (kept or not, it is counted now).
    events.push(unattributed(edit(w, first_rcid + 100).at(2_000).comment(
        &format!("/* undo:0||{}|Alice */", (first_rcid + 3) * 10 + 1),
    )));
    events
}

/// An archived batch keeps exactly its newest `keep` edits (timestamp, then rc
/// id), its statistics and tags stay as they were, it is flagged archived, and
/// the store says how many rows it removed.
pub async fn archival_keeps_the_newest_edits_and_the_statistics<S: Maintained + ?Sized>(store: &S) {
    let w = "maint-archive";
    apply(store, chunk(w, "1", fifteen(w, "a1", 100))).await;
    let key = BatchKey::new(w, "OR", "a1");
    let before = get(store, &key).await;
    assert_eq!(before.nb_edits, 15);
    assert!(!before.archived);
    let all = edits(store, &key).await;
    assert_eq!(all.len(), 15);

    let done = archive(store, &key, &policy(10)).await;
    assert_eq!(done, Archived::Done { removed: 5 }, "five rows removed");
    let after = get(store, &key).await;
    assert!(after.archived, "flagged archived");
    let mut unflagged = after.clone();
    unflagged.archived = false;
    assert_eq!(unflagged, before, "statistics and tags unchanged");
    let kept = edits(store, &key).await;
    let expected: Vec<u64> = all.iter().take(10).map(|e| e.edit.rcid).collect();
    assert_eq!(
        kept.iter().map(|e| e.edit.rcid).collect::<Vec<_>>(),
        expected,
        "the ten newest by timestamp then rc id"
    );
    // Ties at the boundary: rc ids 104 and 105 share a second; 105 is kept.
    assert!(expected.contains(&105) && !expected.contains(&104));
    // The timeline counts the kept edits, in whole minutes too (which SQL stores
    // count from their edits per minute).
    let kept_reverted = kept.iter().filter(|e| e.reverted).count() as u64;
    let epoch = chrono::DateTime::UNIX_EPOCH;
    for width in [60_000_000, 7_000_000] {
        match store.edit_timeline(&key, epoch, width, 1).await {
            Ok(t) => assert_eq!(
                t,
                [crate::TimelineBucket {
                    edits: 10,
                    reverted: kept_reverted
                }],
                "spans of {width} µs"
            ),
            Err(e) => panic!("edit_timeline: {e}"),
        }
    }
    let listed = match store.list_batches(&BatchQuery::new().with_wiki(w)).await {
        Ok(list) => list,
        Err(e) => panic!("list_batches: {e}"),
    };
    assert_eq!(listed.len(), 1);
    assert!(
        listed.first().is_some_and(|b| b.archived),
        "listed as archived"
    );
}

/// Archiving an archived batch, or running the whole archival again, changes
/// nothing.
pub async fn archival_twice_changes_nothing<S: Maintained + ?Sized>(store: &S) {
    let w = "maint-twice";
    apply(store, chunk(w, "1", fifteen(w, "t1", 100))).await;
    let key = BatchKey::new(w, "OR", "t1");
    assert!(matches!(
        archive(store, &key, &policy(10)).await,
        Archived::Done { removed: 5 }
    ));
    let batch = get(store, &key).await;
    let kept = edits(store, &key).await;
    assert_eq!(archive(store, &key, &policy(10)).await, Archived::Skipped);
    assert_eq!(
        archive(store, &key, &policy(3)).await,
        Archived::Skipped,
        "an archived batch is not cut down again"
    );
    assert!(archival_keys(store, &policy(10), w, 10).await.is_empty());
    assert_eq!(get(store, &key).await, batch);
    assert_eq!(edits(store, &key).await, kept);
    assert_eq!(
        archive(store, &BatchKey::new(w, "OR", "missing"), &policy(10)).await,
        Archived::Skipped
    );
}

/// A removed edit delivered again is a duplicate: no counter moves.
pub async fn removed_edits_stay_seen<S: Maintained + ?Sized>(store: &S) {
    let w = "maint-seen";
    let events = fifteen(w, "s1", 100);
    apply(store, chunk(w, "1", events.clone())).await;
    let key = BatchKey::new(w, "OR", "s1");
    archive(store, &key, &policy(10)).await;
    let batch = get(store, &key).await;
    let report = apply(store, chunk(w, "2", events)).await;
    assert_eq!(report.inserted, 0, "{report:?}");
    assert_eq!(report.duplicates, 16, "{report:?}");
    assert_eq!(get(store, &key).await, batch);
    assert_eq!(edits(store, &key).await.len(), 10);
}

/// What archival gives up: a late undo of a removed edit is not counted; an
/// undo of a kept edit still is.
pub async fn late_reverts_of_removed_edits_are_not_counted<S: Maintained + ?Sized>(store: &S) {
    let w = "maint-late";
    apply(store, chunk(w, "1", fifteen(w, "l1", 100))).await;
    let key = BatchKey::new(w, "OR", "l1");
    archive(store, &key, &policy(10)).await;
    let before = get(store, &key).await;
    assert_eq!(before.nb_reverted_edits, 1);
    // rc id 100 was removed (the oldest); 114 kept (the newest).
    let undo = |rcid: u64, of: u64| {
        unattributed(
            edit(w, rcid)
                .at(3_000)
                .comment(&format!("/* undo:0||{}|Alice */", of * 10 + 1)),
        )
    };
    let report = apply(store, chunk(w, "2", vec![undo(500, 100)])).await;
    assert_eq!(report.reverted, 0, "{report:?}");
    assert_eq!(get(store, &key).await.nb_reverted_edits, 1);
    let report = apply(store, chunk(w, "3", vec![undo(501, 114)])).await;
    assert_eq!(report.reverted, 1, "{report:?}");
    assert_eq!(get(store, &key).await.nb_reverted_edits, 2);
    let newest = edits(store, &key).await;
    assert!(
        newest
            .first()
            .is_some_and(|e| e.edit.rcid == 114 && e.reverted)
    );
}

/// Batches with at most `keep` edits, and batches whose last edit is recent, are
/// neither candidates nor archived.
pub async fn small_and_recent_batches_are_not_archived<S: Maintained + ?Sized>(store: &S) {
    let w = "maint-small";
    let mut events: Vec<ChunkEdit> = (0..10)
        .map(|i| attributed(edit(w, 100 + i).at(1_000), "OR", "small", "Bob"))
        .collect();
    events.extend((0..12).map(|i| attributed(edit(w, 200 + i).at(5_000), "OR", "recent", "Bob")));
    apply(store, chunk(w, "1", events)).await;
    let recent_policy = ArchivalPolicy {
        ended_before: time(4_000),
        keep: 10,
    };
    assert!(archival_keys(store, &recent_policy, w, 10).await.is_empty());
    for uid in ["small", "recent"] {
        let key = BatchKey::new(w, "OR", uid);
        assert_eq!(
            archive(store, &key, &recent_policy).await,
            Archived::Skipped,
            "{uid}"
        );
        assert!(!get(store, &key).await.archived);
    }
    assert_eq!(
        edits(store, &BatchKey::new(w, "OR", "recent")).await.len(),
        12
    );
    // With a later bound, the recent batch qualifies (and only it).
    assert_eq!(
        archival_keys(store, &policy(10), w, 10).await,
        [BatchKey::new(w, "OR", "recent")]
    );
}

/// Candidates come in pages by scan position: every candidate once, however
/// small the pages.
pub async fn archival_candidates_page_by_keyset<S: Maintained + ?Sized>(store: &S) {
    let w = "maint-pages";
    let mut events = Vec::new();
    for b in 0..7u64 {
        for i in 0..12u64 {
            let rcid = 1_000 + b * 100 + i;
            events.push(attributed(edit(w, rcid), "QSv2", &format!("p{b}"), "Carol"));
        }
    }
    apply(store, chunk(w, "1", events)).await;
    let mut keys = archival_keys(store, &policy(10), w, 3).await;
    keys.sort();
    let expected: Vec<BatchKey> = (0..7)
        .map(|b| BatchKey::new(w, "QSv2", format!("p{b}")))
        .collect();
    assert_eq!(keys, expected);
    let mut again = archival_keys(store, &policy(10), w, 100).await;
    again.sort();
    assert_eq!(again, expected, "the page size does not matter");
}

/// An archived batch still counts the edits that arrive after archival, and the
/// store stays consistent for its writer (no stale memory of removed edits).
pub async fn edits_after_archival_are_counted<S: Maintained + ?Sized>(store: &S) {
    let w = "maint-after";
    apply(store, chunk(w, "1", fifteen(w, "f1", 100))).await;
    let key = BatchKey::new(w, "OR", "f1");
    archive(store, &key, &policy(10)).await;
    let before = get(store, &key).await;
    let report = apply(
        store,
        chunk(
            w,
            "2",
            vec![
                attributed(edit(w, 300).at(4_000).title("Q0"), "OR", "f1", "Alice"),
                // A deletion of Q0: its creation (rc id 100) was removed, not
                // counted; the new edit is not a creation.
                unattributed(edit(w, 301).at(4_001).title("Q0").log("delete", "delete")),
            ],
        ),
    )
    .await;
    assert_eq!(report.inserted, 1, "{report:?}");
    let after = get(store, &key).await;
    assert_eq!(after.nb_edits, before.nb_edits + 1);
    assert_eq!(
        after.nb_distinct_pages, before.nb_distinct_pages,
        "Q0 was known"
    );
    assert_eq!(after.nb_reverted_edits, before.nb_reverted_edits);
    assert_eq!(after.ended, time(4_000));
    assert!(after.archived, "still archived");
    assert_eq!(edits(store, &key).await.len(), 11);
}

fn mark(nb_edits: u64, through: u64) -> InspectionMark {
    InspectionMark {
        at: time(1_800_000_000),
        nb_edits,
        through,
    }
}

/// Candidates: batches with an opaque action or page creations, not archived,
/// never inspected or with new edits since.
pub async fn inspection_candidates_are_changed_batches_with_opaque_tags<S: Maintained + ?Sized>(
    store: &S,
) {
    let w = "maint-candidates";
    let opaque = "/* wbeditentity-update:0| */ updated";
    let events = vec![
        attributed(edit(w, 1).comment(opaque), "OR", "opaque", "Ann"),
        attributed(edit(w, 2).created(), "QSv2", "creates", "Ann"),
        attributed(
            edit(w, 3).comment("/* wbsetlabel-add:1|fr */ x"),
            "QSv2",
            "plain",
            "Ann",
        ),
    ];
    let mut archived: Vec<ChunkEdit> = (10..22)
        .map(|i| attributed(edit(w, i).comment(opaque), "OR", "archived", "Ann"))
        .collect();
    let mut all = events;
    all.append(&mut archived);
    apply(store, chunk(w, "1", all)).await;
    archive(store, &BatchKey::new(w, "OR", "archived"), &policy(10)).await;
    let found = inspection_candidates(store, w).await;
    let mut uids: Vec<&str> = found.iter().map(|c| c.batch.key.uid.as_str()).collect();
    uids.sort_unstable();
    assert_eq!(uids, ["creates", "opaque"]);
    for candidate in &found {
        assert_eq!(candidate.inspected, None);
        assert!(candidate.newest_edit.is_some(), "{candidate:?}");
        assert_eq!(candidate.batch.nb_edits, 1);
    }
    let positions: Vec<_> = found.iter().map(|c| c.position).collect();
    let mut sorted = positions.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(positions, sorted, "in scan order, once each");
}

async fn rcids_to_inspect<S: Maintained + ?Sized>(
    store: &S,
    key: &BatchKey,
    after: Option<u64>,
    through: u64,
    limit: u64,
    offset: u64,
) -> Vec<u64> {
    match store
        .edits_to_inspect(key, after, through, limit, offset)
        .await
    {
        Ok(edits) => edits.iter().map(|e| e.edit.rcid).collect(),
        Err(e) => panic!("edits_to_inspect: {e}"),
    }
}

/// After an inspection the batch is no candidate until it gets new edits; then
/// only the edits stored since are to inspect, newest first.
pub async fn inspection_covers_only_new_edits<S: Maintained + ?Sized>(store: &S) {
    let w = "maint-new-edits";
    let opaque = "/* wbeditentity-update:0| */ updated";
    let first: Vec<ChunkEdit> = (1..=4)
        .map(|i| {
            attributed(
                edit(w, i).at(1_000 + i as i64).comment(opaque),
                "OR",
                "n1",
                "Ann",
            )
        })
        .collect();
    apply(store, chunk(w, "1", first)).await;
    let key = BatchKey::new(w, "OR", "n1");
    let found = inspection_candidates(store, w).await;
    let Some(candidate) = found.first() else {
        panic!("the batch is a candidate");
    };
    let Some(through) = candidate.newest_edit else {
        panic!("it has edits");
    };
    let to_inspect = |after: Option<u64>, through: u64, limit: u64, offset: u64| {
        rcids_to_inspect(store, &key, after, through, limit, offset)
    };
    assert_eq!(to_inspect(None, through, 0, 0).await, [4, 3, 2, 1]);
    assert_eq!(to_inspect(None, through, 2, 1).await, [3, 2], "paged");
    let recorded = match store
        .record_inspection(
            &key,
            &Inspection {
                mark: mark(4, through),
                tags: Vec::new(),
            },
        )
        .await
    {
        Ok(r) => r,
        Err(e) => panic!("record_inspection: {e}"),
    };
    assert!(recorded.found);
    assert_eq!(recorded.tags_added, 0);
    match store.inspection_mark(&key).await {
        Ok(m) => assert_eq!(m, Some(mark(4, through))),
        Err(e) => panic!("inspection_mark: {e}"),
    }
    assert!(
        inspection_candidates(store, w).await.is_empty(),
        "inspected"
    );

    // New edits, one of them older than every edit so far (a backfill).
    apply(
        store,
        chunk(
            w,
            "2",
            vec![
                attributed(edit(w, 7).at(2_000).comment(opaque), "OR", "n1", "Ann"),
                attributed(edit(w, 6).at(500).comment(opaque), "OR", "n1", "Ann"),
            ],
        ),
    )
    .await;
    let found = inspection_candidates(store, w).await;
    let Some(candidate) = found.first() else {
        panic!("new edits make it a candidate again");
    };
    assert_eq!(candidate.inspected, Some(mark(4, through)));
    let Some(newest) = candidate.newest_edit else {
        panic!("it has edits");
    };
    assert!(newest > through, "{newest} > {through}");
    assert_eq!(to_inspect(Some(through), newest, 0, 0).await, [7, 6]);
    // Edits stored after a candidate was read are left for the next round.
    apply(
        store,
        chunk(
            w,
            "3",
            vec![attributed(
                edit(w, 8).at(3_000).comment(opaque),
                "OR",
                "n1",
                "Ann",
            )],
        ),
    )
    .await;
    assert_eq!(to_inspect(Some(through), newest, 0, 0).await, [7, 6]);
    assert!(
        matches!(
            store.inspection_mark(&BatchKey::new(w, "OR", "none")).await,
            Ok(None)
        ),
        "no mark for a missing batch"
    );
}

/// Recording an inspection adds the tags the batch lacks, counted, in priority
/// order with the others; a missing batch records nothing.
pub async fn inspection_adds_missing_tags<S: Maintained + ?Sized>(store: &S) {
    let w = "maint-tags";
    apply(
        store,
        chunk(
            w,
            "1",
            vec![attributed(
                edit(w, 1).comment("/* wbeditentity-update:0| */ x"),
                "OR",
                "g1",
                "Ann",
            )],
        ),
    )
    .await;
    let key = BatchKey::new(w, "OR", "g1");
    let inspection = Inspection {
        mark: mark(1, 1),
        tags: ["prop-P31", "lang-fr", "site-enwiki", "wbeditentity-update"]
            .map(String::from)
            .to_vec(),
    };
    let recorded = match store.record_inspection(&key, &inspection).await {
        Ok(r) => r,
        Err(e) => panic!("record_inspection: {e}"),
    };
    assert_eq!(recorded.tags_added, 3, "the action tag was there");
    assert_eq!(
        get(store, &key).await.tags,
        ["wbeditentity-update", "lang-fr", "site-enwiki", "prop-P31"]
    );
    let again = match store.record_inspection(&key, &inspection).await {
        Ok(r) => r,
        Err(e) => panic!("record_inspection: {e}"),
    };
    assert_eq!(again.tags_added, 0);
    let tagged = match store
        .list_batches(&BatchQuery::new().with_tag("site-enwiki"))
        .await
    {
        Ok(list) => list,
        Err(e) => panic!("list_batches: {e}"),
    };
    assert!(tagged.iter().any(|b| b.key == key), "found by its new tag");
    let missing = match store
        .record_inspection(&BatchKey::new(w, "OR", "missing"), &inspection)
        .await
    {
        Ok(r) => r,
        Err(e) => panic!("record_inspection: {e}"),
    };
    assert!(!missing.found);
    assert_eq!(missing.tags_added, 0);
}

/// A tag added by inspection and then extracted from a new edit is kept once;
/// ingestion goes on.
pub async fn tags_added_by_inspection_do_not_break_ingestion<S: Maintained + ?Sized>(store: &S) {
    let w = "maint-ingest";
    let claim = |rcid: u64| {
        attributed(
            edit(w, rcid).comment("/* wbsetclaim-create:2||1 */ [[Property:P999]]: x"),
            "OR",
            "i1",
            "Ann",
        )
    };
    apply(store, chunk(w, "1", vec![claim(1)])).await;
    let key = BatchKey::new(w, "OR", "i1");
    let inspection = Inspection {
        mark: mark(1, 1),
        tags: vec!["prop-P1000".to_owned(), "lang-de".to_owned()],
    };
    if let Err(e) = store.record_inspection(&key, &inspection).await {
        panic!("record_inspection: {e}");
    }
    let mut later = claim(2);
    later.edit.comment = Some("/* wbsetclaim-create:2||1 */ [[Property:P1000]]: y".to_owned());
    let mut label = claim(3);
    label.edit.comment = Some("/* wbsetlabel-add:1|de */ z".to_owned());
    let report = apply(store, chunk(w, "2", vec![later, label])).await;
    assert_eq!(report.inserted, 2, "{report:?}");
    let batch = get(store, &key).await;
    assert_eq!(batch.nb_edits, 3);
    assert_eq!(
        batch.tags,
        [
            "wbsetclaim-create",
            "wbsetlabel-add",
            "lang-de",
            "prop-P1000",
            "prop-P999"
        ]
    );
}

/// A tag no store can keep is refused, and the inspection is not recorded.
pub async fn bad_tags_are_refused_and_nothing_recorded<S: Maintained + ?Sized>(store: &S) {
    let w = "maint-bad-tags";
    apply(
        store,
        chunk(
            w,
            "1",
            vec![attributed(edit(w, 1).created(), "OR", "b1", "Ann")],
        ),
    )
    .await;
    let key = BatchKey::new(w, "OR", "b1");
    let before = get(store, &key).await;
    for bad in [String::new(), "x".repeat(crate::store::MAX_TAG_CHARS + 1)] {
        let inspection = Inspection {
            mark: mark(1, 1),
            tags: vec!["lang-fr".to_owned(), bad],
        };
        assert!(
            store.record_inspection(&key, &inspection).await.is_err(),
            "a bad tag is refused"
        );
    }
    assert_eq!(get(store, &key).await, before, "no tag added");
    assert!(matches!(store.inspection_mark(&key).await, Ok(None)));
}
