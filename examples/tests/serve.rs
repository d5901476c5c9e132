//! The `serve` example as a process: beside a separate writer process on the
//! same SQLite file (no request fails, new batches show within 2 s), and with its
//! own pipeline (`--follow eventstreams` against a loopback stream), stopped by
//! SIGTERM after storing what it read.

mod support;

#[path = "../../editgroups-sources/tests/support/sse_server.rs"]
mod sse_server;

use editgroups_benches::{GeneratorConfig, write_events};
use editgroups_core::{BatchKey, BatchStore};
use editgroups_store::SqlStore;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{example, fixture};

const AGENT: &str = "editgroups-tests/0.1 (https://example.org; tests@example.org)";

/// A `serve` process and the address it listens on.
struct Serve {
    child: Child,
    base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_serve(args: &[&str]) -> Serve {
    let mut child = Command::new(example("serve"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .next()
        .and_then(Result::ok)
        .expect("serve prints where it listens");
    let base = line
        .strip_prefix("listening on ")
        .expect("a listening line")
        .trim_end_matches('/')
        .to_owned();
    // Keep draining standard output.
    std::thread::spawn(move || lines.for_each(drop));
    Serve { child, base }
}

fn replay_into(db: &str, file: &Path, chunk: &str) -> Command {
    let mut command = Command::new(example("replay"));
    command
        .args(["--db", db, "--format", "jsonl", "--chunk-size", chunk])
        .arg(file)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_answer_beside_a_writer_process_and_show_new_batches() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("shared.db").display()
    );
    // A store with the schema and one batch.
    let first = replay_into(&db, Path::new(&fixture("one_qs_batch.json")), "500")
        .output()
        .unwrap();
    assert!(first.status.success());
    let serve = start_serve(&["--db", &db]);
    let client = reqwest::Client::new();
    let events = dir.path().join("events.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&events).unwrap());
    write_events(&GeneratorConfig::new(7, 20_000), &mut out).unwrap();
    out.flush().unwrap();
    drop(out);

    // The writer commits small chunks, often, while the pages are read.
    let mut writer = replay_into(&db, &events, "200").spawn().unwrap();
    // Read its output as it comes, so that it never waits on a full pipe.
    let mut writer_stdout = writer.stdout.take().unwrap();
    let printed = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut writer_stdout, &mut text).map(|_| text)
    });
    let urls = [
        "/api/?limit=50",
        "/",
        "/b/QSv2/2120/",
        "/api/b/QSv2/2120/edits/",
        "/tools/",
        "/api/batches.csv",
    ];
    let mut answered = 0u64;
    let mut seen_batches = std::collections::BTreeSet::new();
    let started = Instant::now();
    loop {
        let done = writer.try_wait().unwrap().is_some();
        for path in urls {
            let response = client
                .get(format!("{}{path}", serve.base))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            let status = response.status();
            let body = response.text().await.unwrap();
            assert!(
                !body.contains("locked"),
                "{path}: {status} while the writer runs: {body}"
            );
            assert_eq!(status, 200, "{path} while the writer runs: {body}");
            if path == "/api/?limit=50" {
                let page: serde_json::Value = serde_json::from_str(&body).unwrap();
                for item in page["results"].as_array().unwrap() {
                    seen_batches.insert(item["full_uid"].as_str().unwrap().to_owned());
                }
            }
            answered += 1;
        }
        if done {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the writer never ends"
        );
    }
    assert!(writer.wait().unwrap().success());
    let printed = printed.join().unwrap().unwrap();
    assert!(
        answered > 30,
        "only {answered} requests ran beside the writer"
    );
    assert!(
        seen_batches.len() > 1,
        "batches written meanwhile showed up: {seen_batches:?}"
    );
    // Every batch the writer stored is served within 2 s of its end.
    let written: Vec<serde_json::Value> = printed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let newest = written
        .iter()
        .max_by_key(|b| b["ended"].as_str().unwrap().to_owned())
        .unwrap();
    let url = format!(
        "{}/api/b/{}/{}/",
        serve.base,
        newest["tool"].as_str().unwrap(),
        newest["uid"].as_str().unwrap()
    );
    let finished = Instant::now();
    loop {
        let response = client.get(&url).send().await.unwrap();
        if response.status() == 200 {
            let detail: serde_json::Value =
                serde_json::from_str(&response.text().await.unwrap()).unwrap();
            if detail["nb_edits"] == newest["nb_edits"] {
                break;
            }
        }
        assert!(
            finished.elapsed() < Duration::from_secs(2),
            "{url} not up to date 2 s after the writer ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_a_stream_and_stops_on_sigterm_after_storing() {
    let lines: Vec<String> = std::fs::read_to_string(fixture("qs_batch_with_new_items.json"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    let stream =
        sse_server::Server::start(sse_server::Config::new(sse_server::history(&lines))).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("follow.db").display()
    );
    let mut serve = start_serve(&[
        "--db",
        &db,
        "--follow",
        "eventstreams",
        "--url",
        &stream.url,
        "--user-agent",
        AGENT,
    ]);
    let client = reqwest::Client::new();
    let url = format!("{}/api/b/QSv2/2213/", serve.base);
    let started = Instant::now();
    loop {
        let response = client.get(&url).send().await.unwrap();
        if response.status() == 200 {
            let detail: serde_json::Value =
                serde_json::from_str(&response.text().await.unwrap()).unwrap();
            if detail["nb_edits"] == 82 {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the followed batch never showed completely"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = client
        .get(format!("{}/metrics", serve.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("editgroups_pipeline_events_read_total 82"),
        "{metrics}"
    );
    let pid = serve.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exited = Instant::now();
    let status = loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            exited.elapsed() < Duration::from_secs(20),
            "serve did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "serve exits 0 on SIGTERM: {status}");
    let store = SqlStore::open(&db).await.unwrap();
    let batch = store
        .batch(&BatchKey::new("wikidatawiki", "QSv2", "2213"))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!((batch.nb_edits, batch.nb_new_pages), (82, 9));
    assert!(store.cursor("eventstreams").await.is_ok());
    store.close().await.unwrap();
}
