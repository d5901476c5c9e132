//! Tag inspection: the recorded Wikidata answers give the digests EditGroups'
//! tests give (fixtures/editgroups-tagging/README.md); the inspector over the
//! shared `MediaWikiClient` against a scripted api.php on loopback (tags added,
//! edits skipped and counted, one request at a time, paced, resumed by marks,
//! the client's retries and its other users); and against a real MediaWiki for
//! the request shapes.
#![cfg(feature = "inspect")]

mod support;

use editgroups_core::maintenance::{InspectionQuery, MaintenanceStore, ScanPage};
use editgroups_core::testing::{attributed, chunk, edit};
use editgroups_core::{BatchKey, BatchStore, ChunkEdit};
use editgroups_sources::http::BackoffConfig;
use editgroups_sources::inspect::{
    DEFAULT_PACE, Digest, Inspector, InspectorConfig, RevisionContent, read_diff, read_entity,
    read_revisions,
};
use editgroups_sources::mediawiki::MediaWikiClient;
use editgroups_store::{MemoryStore, SqlStore, Store};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use support::fake_wikibase::{Diff, FakeWikibase, Fault};

const AGENT: &str = "editgroups-tests/0 (inspector tests)";
const OPAQUE: &str = "/* wbeditentity-update:0| */ updated an item";

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../fixtures/editgroups-tagging/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn digest(
    statements: &[&str],
    qualifiers: &[&str],
    labels: &[&str],
    descriptions: &[&str],
    aliases: &[&str],
    sitelinks: &[&str],
) -> Digest {
    Digest {
        statements: set(statements),
        qualifiers: set(qualifiers),
        labels: set(labels),
        descriptions: set(descriptions),
        aliases: set(aliases),
        sitelinks: set(sitelinks),
    }
}

fn trophee() -> Digest {
    digest(
        &["P17", "P276", "P31", "P585", "P641", "P664"],
        &[],
        &["en"],
        &["en"],
        &[],
        &[],
    )
}

fn wilhelm() -> Digest {
    digest(
        &["P31", "P569", "P570", "P723"],
        &[],
        &["en", "nl"],
        &[],
        &[],
        &[],
    )
}

#[test]
fn recorded_diffs_give_the_documented_digests() {
    let cases = [
        (
            "death.html",
            digest(&["P569", "P570", "P723"], &[], &[], &[], &[], &[]),
        ),
        (
            "delete_statements.html",
            digest(&["P2093"], &["P1545"], &[], &[], &[], &[]),
        ),
        (
            "descriptions.html",
            digest(&[], &[], &[], &["en"], &[], &[]),
        ),
        (
            "head_coach.html",
            digest(&["P286"], &["P580", "P582"], &[], &[], &[], &[]),
        ),
        (
            "patronage.html",
            digest(&["P3872"], &["P585"], &[], &[], &["fr"], &[]),
        ),
        (
            "sitelink.html",
            digest(&[], &[], &[], &[], &[], &["enwiki"]),
        ),
    ];
    for (file, expected) in cases {
        let reading = read_diff(&fixture(file));
        assert_eq!(reading.digest, expected, "{file}");
        assert_eq!(reading.rows_skipped, 0, "{file}");
    }
    assert_eq!(
        read_diff(&fixture("sitelink.html")).digest.tags(),
        ["site-enwiki"],
        "a sitelink is a site, not a language"
    );
}

#[test]
fn recorded_entities_give_the_documented_digests() {
    assert_eq!(read_entity(&fixture("trophee.json")).unwrap(), trophee());
    assert_eq!(read_entity(&fixture("wilhelm.json")).unwrap(), wilhelm());
    let answer: Value = serde_json::from_str(&fixture("api_response.json")).unwrap();
    let (found, missing) = read_revisions(&answer);
    assert!(missing.is_empty());
    assert_eq!(found.len(), 2);
    assert_eq!(
        found.get(&881732187),
        Some(&RevisionContent::Entity(trophee()))
    );
    assert_eq!(
        found.get(&888850125),
        Some(&RevisionContent::Entity(wilhelm()))
    );
    assert_eq!(
        wilhelm().tags(),
        [
            "lang-en",
            "lang-nl",
            "prop-P31",
            "prop-P569",
            "prop-P570",
            "prop-P723"
        ]
    );
}

/// The shared client, as a host builds it: two retries, quick backoff.
fn client(fake: &FakeWikibase) -> MediaWikiClient {
    MediaWikiClient::builder(fake.url())
        .user_agent(AGENT)
        .max_retries(Some(2))
        .backoff(BackoffConfig::new(
            Duration::from_millis(10),
            Duration::from_millis(50),
        ))
        .build()
        .unwrap()
}

/// The inspector of Wikidata's batches, `pace` between its reads.
fn config(pace: Duration) -> InspectorConfig {
    let mut config = InspectorConfig::new("wikidatawiki");
    config.pace = pace;
    config
}

/// An opaque edit of batch OR/abc diffing `old` → `new`.
fn opaque(rcid: u64, at: i64, old: u64, new: u64) -> ChunkEdit {
    attributed(
        edit("wikidatawiki", rcid)
            .at(at)
            .revisions(Some(old), Some(new))
            .comment(OPAQUE),
        "OR",
        "abc",
        "Pintoch",
    )
}

/// A page creation of batch QSv2/`uid` with first revision `rev`.
fn creation(rcid: u64, at: i64, rev: u64, uid: &str) -> ChunkEdit {
    attributed(
        edit("wikidatawiki", rcid)
            .at(at)
            .created()
            .revisions(None, Some(rev))
            .comment("/* wbeditentity-create-item:0| */"),
        "QSv2",
        uid,
        "Pintoch",
    )
}

fn scripted(fake: &FakeWikibase) {
    let diffs = [
        (1, "death.html"),
        (2, "head_coach.html"),
        (3, "sitelink.html"),
        (4, "patronage.html"),
        (5, "descriptions.html"),
    ];
    for (n, file) in diffs {
        fake.add_diff(n * 10, n * 10 + 1, Diff::Html(fixture(file)));
    }
    fake.add_diff(60, 61, Diff::Error("nosuchrevid"));
    fake.add_diff(70, 71, Diff::Garbage);
    fake.add_diff(80, 81, Diff::NoBody);
    // A statement row without its link (EditGroups' IndexError), then a good row.
    fake.add_diff(
        90,
        91,
        Diff::Html(
            r#"<tr><td class="diff-lineno">Property / plain text</td></tr><tr><td class="diff-lineno">Property / <a title="Property:P6">head of government</a></td></tr>"#
                .to_owned(),
        ),
    );
    fake.add_canned_revisions("881732187|888850125", &fixture("api_response.json"));
    let wilhelm = fixture("wilhelm.json");
    fake.add_revision(1001, &wilhelm);
    fake.add_revision(1000, "this is not an entity");
}

async fn fill(store: &dyn Store) {
    let mut edits: Vec<ChunkEdit> = (1..=9)
        .map(|n| opaque(n, 1_000 + n as i64, n * 10, n * 10 + 1))
        .collect();
    // The newer creation first: the recorded answer lists them in that order.
    edits.push(creation(20, 2_000, 881732187, "7"));
    edits.push(creation(21, 1_900, 888850125, "7"));
    edits.push(creation(30, 3_000, 999, "8"));
    edits.push(creation(31, 3_001, 1000, "8"));
    edits.push(creation(32, 3_002, 1001, "8"));
    // Not a candidate: its action says what it did.
    edits.push(attributed(
        edit("wikidatawiki", 40).comment("/* wbsetlabel-add:1|fr */ x"),
        "QSv2",
        "plain",
        "Pintoch",
    ));
    // Another wiki's batch: not this API's.
    edits.push(attributed(
        edit("commonswiki", 41).comment(OPAQUE),
        "OR",
        "abc",
        "Pintoch",
    ));
    store.apply(chunk("s", "1", edits)).await.unwrap();
}

async fn tags(store: &dyn Store, tool: &str, uid: &str) -> Vec<String> {
    store
        .batch(&BatchKey::new("wikidatawiki", tool, uid))
        .await
        .unwrap()
        .unwrap()
        .tags
}

async fn inspects_batches(store: &dyn Store) {
    let fake = FakeWikibase::start().await;
    scripted(&fake);
    fill(store).await;
    let pace = Duration::from_millis(30);
    let inspector = Inspector::new(client(&fake), config(pace));
    let mut progress = Vec::new();
    let report = inspector
        .run_once(store, |r| progress.push(*r), || false)
        .await
        .unwrap();
    assert_eq!(report.batches_inspected, 3, "{report:?}");
    assert_eq!(report.batches_failed, 0, "{report:?}");
    assert_eq!(
        report.diffs_read, 6,
        "five recorded diffs and one with a bad row: {report:?}"
    );
    assert_eq!(report.rows_skipped, 1, "{report:?}");
    assert_eq!(report.entities_read, 3, "{report:?}");
    // nosuchrevid, garbage, no body; a missing and an unreadable revision.
    assert_eq!(report.edits_skipped, 5, "{report:?}");
    assert_eq!(report.requests, 9 + 2, "{report:?}");
    assert_eq!(progress.len(), 3);
    assert_eq!(progress.last(), Some(&report));

    let or = tags(store, "OR", "abc").await;
    for tag in [
        "wbeditentity-update",
        "prop-P569",
        "prop-P570",
        "prop-P723",
        "prop-P286",
        "prop-P580",
        "prop-P582",
        "prop-P3872",
        "prop-P585",
        "prop-P6",
        "lang-fr",
        "lang-en",
        "site-enwiki",
    ] {
        assert!(or.contains(&tag.to_owned()), "{tag} missing from {or:?}");
    }
    assert!(!or.iter().any(|t| t == "lang-enwiki"));
    let mut expected: Vec<String> = trophee().tags();
    expected.extend(wilhelm().tags());
    expected.sort();
    expected.dedup();
    let mut seven: Vec<String> = tags(store, "QSv2", "7")
        .await
        .into_iter()
        .filter(|t| t != "wbeditentity-create-item")
        .collect();
    seven.sort();
    assert_eq!(seven, expected);
    let eight = tags(store, "QSv2", "8").await;
    assert!(eight.contains(&"lang-nl".to_owned()), "{eight:?}");
    assert_eq!(
        tags(store, "QSv2", "plain").await,
        ["wbsetlabel-add", "lang-fr"],
        "not inspected"
    );
    let commons = store
        .batch(&BatchKey::new("commonswiki", "OR", "abc"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        commons.tags,
        ["wbeditentity-update"],
        "another wiki's batch"
    );

    let requests = fake.requests();
    assert_eq!(fake.max_in_flight(), 1, "one request at a time");
    for r in &requests {
        assert_eq!(r.user_agent.as_deref(), Some(AGENT));
        assert_eq!(r.params.get("maxlag").map(String::as_str), Some("5"));
        assert_eq!(r.params.get("format").map(String::as_str), Some("json"));
    }
    // Requests start at least `pace` apart; arrival times jitter on a busy
    // machine, so the span of all of them is checked.
    let span = requests.last().unwrap().at - requests.first().unwrap().at;
    let least = pace * (requests.len() as u32 - 1);
    assert!(
        span + Duration::from_millis(50) >= least,
        "{} requests in {span:?}",
        requests.len()
    );
    let compare = requests
        .iter()
        .find(|r| r.params.get("action").map(String::as_str) == Some("compare"))
        .unwrap();
    assert_eq!(
        compare.params.get("uselang").map(String::as_str),
        Some("en")
    );
    // One request per batch (in the store's scan order), each newest first.
    let mut revisions: Vec<&str> = requests
        .iter()
        .filter_map(|r| r.params.get("revids").map(String::as_str))
        .collect();
    revisions.sort_unstable();
    assert_eq!(
        revisions,
        ["1001|1000|999", "881732187|888850125"],
        "newest first"
    );
    for r in requests.iter().filter(|r| r.params.contains_key("revids")) {
        assert_eq!(r.params.get("rvslots").map(String::as_str), Some("*"));
        assert_eq!(
            r.params.get("rvprop").map(String::as_str),
            Some("content|ids")
        );
    }

    // Nothing changed: nothing to inspect, no request.
    let before = fake.requests().len();
    let again = inspector.run_once(store, |_| {}, || false).await.unwrap();
    assert_eq!(again.batches_inspected, 0, "{again:?}");
    assert_eq!(fake.requests().len(), before);

    // A new edit: the batch is inspected again, only that edit is read.
    fake.add_diff(100, 101, Diff::Html(fixture("delete_statements.html")));
    store
        .apply(chunk("s", "2", vec![opaque(50, 500, 100, 101)]))
        .await
        .unwrap();
    let third = inspector.run_once(store, |_| {}, || false).await.unwrap();
    assert_eq!(
        (third.batches_inspected, third.diffs_read, third.requests),
        (1, 1, 1),
        "{third:?}"
    );
    let last = fake.requests().pop().unwrap();
    assert_eq!(last.params.get("fromrev").map(String::as_str), Some("100"));
    let or = tags(store, "OR", "abc").await;
    assert!(or.contains(&"prop-P2093".to_owned()) && or.contains(&"prop-P1545".to_owned()));
}

#[tokio::test]
async fn the_inspector_tags_batches_in_memory() {
    inspects_batches(&MemoryStore::new()).await;
}

#[tokio::test]
async fn the_inspector_tags_batches_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
    let store = SqlStore::open(&url).await.unwrap();
    inspects_batches(&store).await;
    store.close().await.unwrap();
}

#[tokio::test]
async fn samples_are_bounded_and_newest_first() {
    let fake = FakeWikibase::start().await;
    let store = opaque_edits(&fake, 30).await;
    let mut config = config(Duration::ZERO);
    config.max_diffs = 4;
    let inspector = Inspector::new(client(&fake), config);
    let report = inspector.run_once(&store, |_| {}, || false).await.unwrap();
    assert_eq!(report.diffs_read, 4);
    let froms: Vec<String> = fake
        .requests()
        .iter()
        .filter_map(|r| r.params.get("fromrev").cloned())
        .collect();
    assert_eq!(froms, ["300", "290", "280", "270"], "the newest edits");
}

#[tokio::test]
async fn an_unreachable_wiki_leaves_batches_for_the_next_run() {
    let fake = FakeWikibase::start().await;
    fake.add_diff(10, 11, Diff::Html(fixture("death.html")));
    let store = MemoryStore::new();
    // The other batch's diff would be read first if the round went on.
    let mut other = opaque(2, 900, 20, 21);
    other.attribution.as_mut().unwrap().uid = "other".to_owned();
    store
        .apply(chunk("s", "1", vec![opaque(1, 1_000, 10, 11), other]))
        .await
        .unwrap();
    // Three failures: the first try and both retries.
    fake.push_faults([Fault::Status(503), Fault::Status(502), Fault::Status(500)]);
    let inspector = Inspector::new(client(&fake), config(Duration::ZERO));
    let report = inspector.run_once(&store, |_| {}, || false).await.unwrap();
    assert_eq!(
        (report.batches_inspected, report.batches_failed),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(
        fake.requests().len(),
        3,
        "the round stopped at the first batch"
    );
    let key = BatchKey::new("wikidatawiki", "OR", "abc");
    assert_eq!(
        store.inspection_mark(&key).await.unwrap(),
        None,
        "not marked"
    );
    let candidates = store
        .inspection_candidates(&InspectionQuery::default(), ScanPage::first(10))
        .await
        .unwrap();
    assert_eq!(candidates.len(), 2, "both still candidates");
    // Lag, then the wiki answers: retried after its Retry-After.
    fake.push_faults([Fault::Maxlag { retry_after: 1 }]);
    let report = inspector.run_once(&store, |_| {}, || false).await.unwrap();
    assert_eq!(
        (
            report.batches_inspected,
            report.diffs_read,
            report.edits_skipped
        ),
        (2, 1, 1),
        "{report:?}"
    );
    let requests = fake.requests();
    assert!(
        requests[4].at - requests[3].at >= Duration::from_millis(900),
        "Retry-After honoured"
    );
    assert!(
        store
            .batch(&key)
            .await
            .unwrap()
            .unwrap()
            .tags
            .contains(&"prop-P570".to_owned())
    );
}

#[tokio::test]
async fn a_stop_request_ends_the_run_between_batches() {
    let fake = FakeWikibase::start().await;
    let store = MemoryStore::new();
    let edits: Vec<ChunkEdit> = (1..=3)
        .map(|n| creation(n, 1_000, n, &format!("b{n}")))
        .collect();
    store.apply(chunk("s", "1", edits)).await.unwrap();
    let inspector = Inspector::new(client(&fake), config(Duration::ZERO));
    let done = std::sync::atomic::AtomicU64::new(0);
    let report = inspector
        .run_once(
            &store,
            |r| done.store(r.batches_inspected, std::sync::atomic::Ordering::SeqCst),
            || done.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        )
        .await
        .unwrap();
    assert_eq!(report.batches_inspected, 1);
    let left = store
        .inspection_candidates(&InspectionQuery::default(), ScanPage::first(10))
        .await
        .unwrap();
    assert_eq!(left.len(), 2, "the others are left for the next run");
}

#[test]
fn the_default_pace_is_half_a_second() {
    assert_eq!(DEFAULT_PACE, Duration::from_millis(500));
    assert_eq!(InspectorConfig::new("wikidatawiki").pace, DEFAULT_PACE);
}

/// A fresh store holding `count` opaque edits of batch OR/abc, the nth at
/// second 1,000 + n and diffing 10n → 10n + 1 on the fake wiki.
async fn opaque_edits(fake: &FakeWikibase, count: u64) -> MemoryStore {
    let edits: Vec<ChunkEdit> = (1..=count)
        .map(|n| opaque(n, 1_000 + n as i64, n * 10, n * 10 + 1))
        .collect();
    for n in 1..=count {
        fake.add_diff(n * 10, n * 10 + 1, Diff::Html(fixture("death.html")));
    }
    let store = MemoryStore::new();
    store.apply(chunk("s", "1", edits)).await.unwrap();
    store
}

#[tokio::test]
async fn the_client_retries_timeouts_and_gives_up_on_lag_for_the_round() {
    let fake = FakeWikibase::start().await;
    let store = opaque_edits(&fake, 1).await;
    let client = MediaWikiClient::builder(fake.url())
        .user_agent(AGENT)
        .max_retries(Some(2))
        .backoff(BackoffConfig::new(
            Duration::from_millis(10),
            Duration::from_millis(50),
        ))
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let inspector = Inspector::new(&client, config(Duration::ZERO));
    // Lag past the client's retries: the wiki cannot be read now, so the batch
    // is left for the next round rather than marked with nothing read.
    fake.push_faults([
        Fault::Maxlag { retry_after: 0 },
        Fault::Maxlag { retry_after: 0 },
        Fault::Maxlag { retry_after: 0 },
    ]);
    let report = inspector.run_once(&store, |_| {}, || false).await.unwrap();
    assert_eq!(
        (
            report.batches_inspected,
            report.batches_failed,
            report.edits_skipped
        ),
        (0, 1, 0),
        "{report:?}"
    );
    assert_eq!(fake.requests().len(), 3, "the first try and two retries");
    let key = BatchKey::new("wikidatawiki", "OR", "abc");
    assert_eq!(store.inspection_mark(&key).await.unwrap(), None);
    // A request that times out is sent again.
    fake.push_faults([Fault::Delay(Duration::from_secs(2))]);
    let report = inspector.run_once(&store, |_| {}, || false).await.unwrap();
    assert_eq!(
        (report.batches_inspected, report.diffs_read),
        (1, 1),
        "{report:?}"
    );
    let stats = client.stats().snapshot();
    assert_eq!(stats.lagged, 3, "{stats:?}");
    assert_eq!(stats.requests, 5, "{stats:?}");
    assert_eq!(
        stats.retries, 3,
        "two after lag, one after the timeout: {stats:?}"
    );
    assert!(store.inspection_mark(&key).await.unwrap().is_some());
}

#[tokio::test]
async fn a_wiki_refusing_connections_stops_the_round() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/w/api.php", closed.local_addr().unwrap());
    drop(closed);
    let fake = FakeWikibase::start().await;
    let store = opaque_edits(&fake, 1).await;
    let client = MediaWikiClient::builder(url)
        .user_agent(AGENT)
        .max_retries(Some(1))
        .backoff(BackoffConfig::new(
            Duration::from_millis(10),
            Duration::from_millis(20),
        ))
        .build()
        .unwrap();
    let inspector = Inspector::new(client, config(Duration::ZERO));
    let report = inspector.run_once(&store, |_| {}, || false).await.unwrap();
    assert_eq!(
        (report.batches_inspected, report.batches_failed),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(
        inspector.api().stats().snapshot().requests,
        2,
        "tried, retried once"
    );
    let key = BatchKey::new("wikidatawiki", "OR", "abc");
    assert_eq!(store.inspection_mark(&key).await.unwrap(), None);
}

/// The poller (or a revert worker) and the inspector on one client: their
/// requests go one at a time, and the inspector's pace holds its own reads
/// only.
#[tokio::test]
async fn the_inspector_shares_the_client_and_paces_only_its_own_reads() {
    let fake = FakeWikibase::start().await;
    let store = opaque_edits(&fake, 4).await;
    let shared = client(&fake);
    let pace = Duration::from_millis(250);
    let inspector = Inspector::new(shared.clone(), config(pace));
    let other = shared.clone();
    const OTHER_READS: usize = 8;
    let other_reads = async move {
        let started = Instant::now();
        for _ in 0..OTHER_READS {
            assert_eq!(other.wiki_id().await.unwrap(), "wikidatawiki");
        }
        started.elapsed()
    };
    // The first request is answered slowly: whoever sends the second one waits
    // for that answer.
    let slow = Duration::from_millis(200);
    fake.push_faults([Fault::Delay(slow)]);
    let (report, other_took) =
        tokio::join!(inspector.run_once(&store, |_| {}, || false), other_reads);
    let report = report.unwrap();
    assert_eq!(
        (report.batches_inspected, report.diffs_read),
        (1, 4),
        "{report:?}"
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 4 + OTHER_READS);
    assert_eq!(
        shared.stats().snapshot().requests,
        requests.len() as u64,
        "every request went through the one client"
    );
    assert!(
        requests[1].at - requests[0].at >= slow - Duration::from_millis(10),
        "one request at a time: {:?}",
        requests[1].at - requests[0].at
    );
    let compares: Vec<Instant> = requests
        .iter()
        .filter(|r| r.params.get("action").map(String::as_str) == Some("compare"))
        .map(|r| r.at)
        .collect();
    assert_eq!(compares.len(), 4);
    let span = compares[3] - compares[0];
    assert!(
        span + Duration::from_millis(50) >= pace * 3,
        "the inspector's reads are paced: {span:?}"
    );
    // Paced, the other reads would take at least 7 paces (1.75 s).
    assert!(
        other_took < pace * 4,
        "the other user's reads are not paced: {other_took:?}"
    );
    for r in &requests {
        assert_eq!(r.user_agent.as_deref(), Some(AGENT));
        assert_eq!(r.params.get("maxlag").map(String::as_str), Some("5"));
    }
}

/// The request shapes against a real MediaWiki: `action=compare` of wikitext
/// revisions answers a diff without Wikibase rows (no tag, no error); the first
/// revision of a wikitext page is not an entity, and a deleted page's revision
/// is not served: both edits skipped and counted.
#[tokio::test]
async fn a_real_mediawiki_answers_compare_and_revisions() {
    use support::mediawiki::{BOT_PASS, BOT_USER, TOOL_PASS, TOOL_USER, TestWiki};
    let wiki = TestWiki::start();
    let client = wiki.login(TOOL_USER, TOOL_PASS).await;
    let first = client.edit("Inspected", "Hello", "create").await;
    let second = client.edit("Inspected", "Hello, world", "change").await;
    let doomed = client.edit("Doomed", "Soon gone", "create").await;
    // Deleting needs a sysop.
    wiki.login(BOT_USER, BOT_PASS)
        .await
        .delete("Doomed", "test")
        .await;

    let store = MemoryStore::new();
    let w = "wikidatawiki";
    store
        .apply(chunk(
            "s",
            "1",
            vec![
                opaque(1, 1_000, first, second),
                creation(2, 1_001, first, "real"),
                creation(3, 1_002, doomed, "real"),
            ],
        ))
        .await
        .unwrap();
    let api = MediaWikiClient::builder(&wiki.api)
        .user_agent(AGENT)
        .max_retries(Some(2))
        .build()
        .unwrap();
    let mut config = InspectorConfig::new(w);
    config.pace = Duration::ZERO;
    let inspector = Inspector::new(api, config);
    let report = inspector.run_once(&store, |_| {}, || false).await.unwrap();
    assert_eq!(report.batches_inspected, 2, "{report:?}");
    assert_eq!(report.batches_failed, 0, "{report:?}");
    assert_eq!(report.diffs_read, 1, "{report:?}");
    assert_eq!(report.rows_skipped, 0, "{report:?}");
    assert_eq!(report.entities_read, 0, "{report:?}");
    assert_eq!(report.edits_skipped, 2, "{report:?}");
    assert_eq!(report.tags_added, 0, "{report:?}");
    assert_eq!(tags(&store, "OR", "abc").await, ["wbeditentity-update"]);
    let key = BatchKey::new(w, "QSv2", "real");
    assert!(store.inspection_mark(&key).await.unwrap().is_some());
}
