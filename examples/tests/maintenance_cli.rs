//! The `lag` and `maintain` examples as binaries: exit codes of the lag check;
//! archival of a replayed store (counters kept, the newest edits kept, twice
//! changes nothing, killed mid-run leaves every batch archived or untouched);
//! inspection against a scripted api.php on loopback.

mod support;
use support::{example, fixture};

#[path = "../../editgroups-sources/tests/support/fake_wikibase.rs"]
#[allow(dead_code, unreachable_pub)]
mod fake_wikibase;

use editgroups_benches::{GeneratorConfig, write_events};
use editgroups_core::maintenance::{MaintenanceStore, ScanPage};
use editgroups_core::testing::{attributed, chunk, edit};
use editgroups_core::{BatchKey, BatchQuery, BatchStore, Page};
use editgroups_store::SqlStore;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn sqlite(dir: &Path, name: &str) -> String {
    format!("sqlite://{}?mode=rwc", dir.join(name).display())
}

#[tokio::test]
async fn lag_exits_by_the_lag() {
    let dir = tempfile::tempdir().unwrap();
    // Recorded events of 2018: years behind.
    let old = sqlite(dir.path(), "old.db");
    let replayed = run("replay", &["--db", &old, &fixture("one_qs_batch.json")]);
    assert!(replayed.status.success(), "{}", text(&replayed.stderr));
    let out = run("lag", &["--db", &old]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let seconds: i64 = stdout
        .trim()
        .strip_prefix("Current lag: ")
        .and_then(|s| s.strip_suffix(" seconds"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output {stdout:?}"));
    assert!(seconds > 5 * 365 * 86_400, "{seconds}");
    let out = run(
        "lag",
        &["--db", &old, "--max-lag", &(seconds + 3600).to_string()],
    );
    assert_eq!(out.status.code(), Some(0), "a higher limit passes");

    // A source that read an event a minute ago, attributed or not.
    let fresh = sqlite(dir.path(), "fresh.db");
    let store = SqlStore::open(&fresh).await.unwrap();
    let mut c = chunk("listener", "1", Vec::new());
    c.latest_event_time = Some(chrono::Utc::now() - chrono::TimeDelta::seconds(60));
    store.apply(c).await.unwrap();
    store.close().await.unwrap();
    let out = run("lag", &["--db", &fresh, "--max-lag", "3000"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = run("lag", &["--db", &fresh, "--max-lag", "10"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));

    // A store no source wrote to.
    let empty = sqlite(dir.path(), "empty.db");
    SqlStore::open(&empty).await.unwrap().close().await.unwrap();
    let out = run("lag", &["--db", &empty]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("no event"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        run("lag", &["--db", &empty, "--empty-ok"]).status.code(),
        Some(0)
    );

    // Stores that cannot be read.
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x55u8; 65_536]).unwrap();
    for db in [
        format!("sqlite://{}", garbage.display()),
        format!("sqlite://{}", dir.path().join("missing/none.db").display()),
        "ftp://nowhere".to_owned(),
    ] {
        let out = run("lag", &["--db", &db]);
        assert_eq!(out.status.code(), Some(2), "{db}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("error"), "{}", text(&out.stderr));
    }
}

fn generate(dir: &Path, events: u64) -> PathBuf {
    let path = dir.join("events.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    write_events(&GeneratorConfig::new(7, events), &mut out).unwrap();
    out.flush().unwrap();
    path
}

fn batches(db: &str) -> Vec<Value> {
    let out = run("batches", &["--db", db, "--format", "jsonl"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// What a batch holds, as stored: its row and how many edits it keeps.
async fn stored_edits(url: &str) -> Vec<(BatchKey, u64, usize, bool)> {
    let store = SqlStore::open(url).await.unwrap();
    let mut out = Vec::new();
    for batch in store.list_batches(&BatchQuery::new()).await.unwrap() {
        let kept = store
            .batch_edits(&batch.key, Page::all())
            .await
            .unwrap()
            .len();
        out.push((batch.key, batch.nb_edits, kept, batch.archived));
    }
    store.close().await.unwrap();
    out.sort();
    out
}

fn summary(out: &Output) -> String {
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[tokio::test]
async fn maintain_archives_once_and_changes_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path(), "s.db");
    let events = generate(dir.path(), 20_000);
    let replayed = run("replay", &["--db", &db, events.to_str().unwrap()]);
    assert!(replayed.status.success(), "{}", text(&replayed.stderr));
    let before = batches(&db);
    let large = before
        .iter()
        .filter(|b| b["nb_edits"].as_u64().unwrap() > 10)
        .count();
    assert!(large > 10, "the stream has large batches");
    let expected_removed: u64 = before
        .iter()
        .map(|b| b["nb_edits"].as_u64().unwrap().saturating_sub(10))
        .sum();

    let out = summary(&run("maintain", &["--db", &db, "--archive", "--once"]));
    assert!(
        out.contains(&format!(
            "batches archived={large} edits removed={expected_removed}"
        )),
        "{out}"
    );
    let after = batches(&db);
    assert_eq!(after.len(), before.len());
    for (b, a) in before.iter().zip(&after) {
        let mut unflagged = a.clone();
        unflagged["archived"] = Value::Bool(false);
        assert_eq!(&unflagged, b, "counters and tags unchanged");
        assert_eq!(
            a["archived"].as_bool(),
            Some(b["nb_edits"].as_u64().unwrap() > 10),
            "{a}"
        );
    }
    for (key, nb_edits, kept, archived) in stored_edits(&db).await {
        assert_eq!(kept as u64, nb_edits.min(10), "{key}");
        assert_eq!(archived, nb_edits > 10, "{key}");
    }
    let table = text(&run("batches", &["--db", &db]).stdout);
    assert!(table.contains("[archived]"), "{table}");

    let again = summary(&run("maintain", &["--db", &db, "--archive", "--once"]));
    assert!(
        again.contains("batches archived=0 edits removed=0"),
        "{again}"
    );
    assert_eq!(batches(&db), after);
    // Removed edits delivered again are duplicates: nothing moves.
    let replayed = run("replay", &["--db", &db, events.to_str().unwrap()]);
    assert!(replayed.status.success());
    assert_eq!(
        batches(&db),
        after,
        "a re-delivered removed edit counts nothing"
    );

    let recent = summary(&run(
        "maintain",
        &["--db", &db, "--archive", "--once", "--older-than", "36500d"],
    ));
    assert!(recent.contains("batches archived=0"), "{recent}");
}

#[tokio::test]
async fn maintain_killed_mid_archival_leaves_every_batch_archived_or_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path(), "s.db");
    let events = generate(dir.path(), 60_000);
    let replayed = run("replay", &["--db", &db, events.to_str().unwrap()]);
    assert!(replayed.status.success(), "{}", text(&replayed.stderr));
    let before = stored_edits(&db).await;
    let mut child = Command::new(example("maintain"))
        .args(["--db", &db, "--archive", "--once", "--keep", "1"])
        .env("RUST_LOG", "warn,editgroups_store=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill it as soon as it has archived a few batches.
    let stderr = child.stderr.take().unwrap();
    let mut archived = 0;
    for line in BufReader::new(stderr).lines() {
        if line.unwrap().contains("batch archived") {
            archived += 1;
            if archived == 3 {
                break;
            }
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed before the end: {status:?}");
    let middle = stored_edits(&db).await;
    let (mut done, mut untouched) = (0, 0);
    for ((key, nb_edits, kept, archived), (_, _, kept_before, _)) in middle.iter().zip(&before) {
        if *archived {
            assert_eq!(*kept, 1, "{key} archived keeps one edit");
            done += 1;
        } else {
            assert_eq!(kept, kept_before, "{key} untouched keeps all its edits");
            if *nb_edits > 1 {
                untouched += 1;
            }
        }
    }
    assert!(done >= 3, "{done} archived");
    assert!(untouched > 0, "killed before the end: {untouched} left");
    // The next run carries on.
    let out = summary(&run(
        "maintain",
        &["--db", &db, "--archive", "--once", "--keep", "1"],
    ));
    assert!(
        out.contains(&format!("batches archived={untouched} ")),
        "{out}"
    );
    for (key, nb_edits, kept, archived) in stored_edits(&db).await {
        assert_eq!(
            (kept as u64, archived),
            (nb_edits.min(1), nb_edits > 1),
            "{key}"
        );
    }
}

// The fake serves on this runtime while the example runs: more than one thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintain_inspects_through_the_api() {
    use fake_wikibase::{Diff, FakeWikibase};
    let fake = FakeWikibase::start().await;
    let html = std::fs::read_to_string(format!(
        "{}/../fixtures/editgroups-tagging/head_coach.html",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    fake.add_diff(10, 11, Diff::Html(html));
    fake.add_diff(20, 21, Diff::Error("nosuchrevid"));
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path(), "s.db");
    let store = SqlStore::open(&db).await.unwrap();
    let opaque = |rcid: u64, old: u64| {
        attributed(
            edit("wikidatawiki", rcid)
                .revisions(Some(old), Some(old + 1))
                .comment("/* wbeditentity-update:0| */ x"),
            "OR",
            "abc",
            "Pintoch",
        )
    };
    store
        .apply(chunk("s", "1", vec![opaque(1, 10), opaque(2, 20)]))
        .await
        .unwrap();
    store.close().await.unwrap();

    let url = fake.url();
    let args = [
        "--db",
        &db,
        "--api",
        &url,
        "--user-agent",
        "editgroups-tests/0 (maintain)",
        "--inspect",
        "--once",
        "--pace",
        "0",
    ];
    let out = summary(&run("maintain", &args));
    assert!(
        out.contains("batches inspected=1 tags added=3 diffs=1"),
        "{out}"
    );
    assert!(out.contains("edits skipped=1"), "{out}");
    let wikiid = fake
        .requests()
        .iter()
        .any(|r| r.params.get("meta").map(String::as_str) == Some("siteinfo"));
    assert!(wikiid, "the wiki id comes from siteinfo");
    for request in fake.requests() {
        assert_eq!(
            request.user_agent.as_deref(),
            Some("editgroups-tests/0 (maintain)")
        );
        assert_eq!(request.params.get("maxlag").map(String::as_str), Some("5"));
    }
    let store = SqlStore::open(&db).await.unwrap();
    let batch = store
        .batch(&BatchKey::new("wikidatawiki", "OR", "abc"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        batch.tags,
        ["wbeditentity-update", "prop-P286", "prop-P580", "prop-P582"]
    );
    let left = store
        .inspection_candidates(
            &editgroups_core::maintenance::InspectionQuery::default(),
            ScanPage::first(10),
        )
        .await
        .unwrap();
    assert!(left.is_empty(), "inspected: {left:?}");
    store.close().await.unwrap();
    let again = summary(&run("maintain", &args));
    assert!(again.contains("batches inspected=0"), "{again}");

    // A wiki that refuses connections: the client gives up after its retries,
    // the round stops and leaves the batch for the next one.
    let store = SqlStore::open(&db).await.unwrap();
    store
        .apply(chunk("s", "2", vec![opaque(3, 30)]))
        .await
        .unwrap();
    store.close().await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = format!("http://{}/w/api.php", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = [
        "--db",
        &db,
        "--api",
        &gone,
        "--wiki",
        "wikidatawiki",
        "--user-agent",
        "editgroups-tests/0 (maintain)",
        "--inspect",
        "--once",
        "--max-retries",
        "1",
    ];
    let out = summary(&run("maintain", &unreachable));
    assert!(
        out.contains("batches inspected=0") && out.contains("batches left=1"),
        "{out}"
    );

    // Bad invocations say what is missing.
    let out = run("maintain", &["--db", &db, "--once"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("nothing to do"),
        "{}",
        text(&out.stderr)
    );
    let out = run("maintain", &["--db", &db, "--inspect", "--once"]);
    assert!(text(&out.stderr).contains("--api"), "{}", text(&out.stderr));
    let out = run("maintain", &["--db", &db, "--archive"]);
    assert!(
        text(&out.stderr).contains("--once"),
        "{}",
        text(&out.stderr)
    );
}

#[cfg(unix)]
#[tokio::test]
async fn maintain_every_stops_cleanly_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path(), "s.db");
    let replayed = run(
        "replay",
        &["--db", &db, &fixture("qs_batch_with_new_items.json")],
    );
    assert!(replayed.status.success());
    let mut child = Command::new(example("maintain"))
        .args(["--db", &db, "--archive", "--every", "10m"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first round ends with its summary; then it waits for the next.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("batches archived=1"), "{first}");
    let started = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "stopped while waiting"
    );
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(rest.contains("total: "), "{rest}");
    assert!(
        text(&output.stderr).contains("stopped"),
        "{}",
        text(&output.stderr)
    );
}
