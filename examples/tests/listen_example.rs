//! Runs the built `listen` example against a loopback EventStreams server and
//! checks what it stored (printed with `--print-batches`) against a replay of
//! the same events.

mod support;

#[path = "../../editgroups-sources/tests/support/sse_server.rs"]
mod sse_server;

use editgroups_core::{Batch, BatchQuery, BatchStore, Pipeline};
use editgroups_sources::ReplaySource;
use editgroups_store::MemoryStore;
use sse_server::{Config, Server, history};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const AGENT: &str = "editgroups-tests/0.1 (https://example.org; tests@example.org)";

fn fixture_lines(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/editgroups")
        .join(name);
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

async fn replayed_batches(lines: &[String]) -> Vec<Batch> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.json");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let store = Arc::new(MemoryStore::new());
    Pipeline::builder()
        .source(ReplaySource::from_files([&path]).with_wikis(["wikidatawiki"]))
        .shared_store(store.clone())
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    store.list_batches(&BatchQuery::new()).await.unwrap()
}

fn parse_batches(stdout: &[u8]) -> Vec<Batch> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn timestamp(line: &str) -> i64 {
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    value["timestamp"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn until_stores_everything_before_the_first_later_event_and_stops() {
    let lines = fixture_lines("one_qs_batch.json");
    let until = chrono::DateTime::parse_from_rfc3339("2018-03-07T16:20:13Z").unwrap();
    let cut = lines
        .iter()
        .position(|l| timestamp(l) > until.timestamp())
        .unwrap();
    assert!(cut > 0 && cut < lines.len());
    let expected = replayed_batches(&lines[..cut]).await;
    let full = replayed_batches(&lines).await;
    assert_ne!(expected, full, "the cut should fall inside the batch");

    let mut config = Config::new(history(&lines));
    config.close_every = Some(700);
    config.split = true;
    let server = Server::start(config).await;
    let binary = support::example("listen");
    let url = server.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(binary)
            .args([
                "--url",
                &url,
                "--db",
                "memory:",
                "--until",
                "2018-03-07T16:20:13Z",
            ])
            .args(["--print-batches", "--idle-timeout", "5"])
            .env("EDITGROUPS_USER_AGENT", AGENT)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    });
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("listen did not stop at --until")
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(parse_batches(&output.stdout), expected);
    let requests = server.requests();
    assert!(
        requests.len() >= 2,
        "the forced disconnects were not exercised"
    );
    assert_eq!(requests[0].user_agent.as_deref(), Some(AGENT));
    assert!(requests[1..].iter().all(|r| r.last_event_id.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stores_what_was_read_and_exits_cleanly() {
    let lines = fixture_lines("qs_batch_with_new_items.json");
    let expected = replayed_batches(&lines).await;
    let server = Server::start(Config::new(history(&lines))).await;
    let binary = support::example("listen");
    let url = server.url.clone();
    let total = lines.len() as u64;
    let run = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(binary)
            .args(["--url", &url, "--db", "memory:", "--user-agent", AGENT])
            .args(["--print-batches", "--progress-every", "1"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for a progress line showing every event read, then interrupt.
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut log = Vec::new();
        for line in stderr.by_ref() {
            let line = line.unwrap();
            let read: Option<u64> = line
                .strip_prefix("events ")
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok());
            log.push(line);
            if read.is_some_and(|n| n >= total) {
                break;
            }
        }
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        // Keep reading, so the example's last words do not hit a closed pipe.
        log.extend(stderr.map_while(Result::ok));
        let output = child.wait_with_output().unwrap();
        (output, log)
    });
    let (output, log) = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("listen did not stop on SIGINT")
        .unwrap();
    assert!(output.status.success(), "{log:#?}");
    assert_eq!(parse_batches(&output.stdout), expected);
}
