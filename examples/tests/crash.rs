//! Crashes and outages: the `replay` example killed with SIGKILL mid-run on a
//! SQLite file, and PostgreSQL connections cut mid-run, resume without loss or
//! double counting: the batches equal those of an uninterrupted run.
//!
//! The PostgreSQL test needs the test server of README.md ("Test databases");
//! `EDITGROUPS_TEST_POSTGRES` changes its URL. It fails when the server does not
//! answer.

mod support;
use support::example;

use editgroups_benches::{GeneratorConfig, write_events};
use editgroups_core::BatchStore;
use editgroups_store::SqlStore;
use sea_orm::ConnectionTrait;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn generate(dir: &Path, seed: u64, events: u64) -> PathBuf {
    let path = dir.join("events.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    write_events(&GeneratorConfig::new(seed, events), &mut out).unwrap();
    out.flush().unwrap();
    path
}

fn replay(db: &str, input: &Path) -> Command {
    let mut command = Command::new(example("replay"));
    command
        .args(["--db", db, "--format", "jsonl", "--chunk-size", "500"])
        .arg(input)
        .env("RUST_LOG", "warn");
    command
}

fn jsonl(output: &Output) -> String {
    assert!(
        output.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(text.lines().count() > 50, "too few batches: {text}");
    text
}

fn total_edits(text: &str) -> u64 {
    text.lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["nb_edits"]
                .as_u64()
                .unwrap()
        })
        .sum()
}

/// Waits until the store has stored at least one chunk past `after` (in events'
/// time), while the process still runs; returns that time.
async fn wait_for_progress(url: &str, child: &mut Child, after: Option<i64>) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "replay ended before it could be interrupted"
        );
        assert!(Instant::now() < deadline, "no progress in two minutes");
        if let Ok(store) = SqlStore::connect(url).await {
            let latest = store.latest_event_time().await.ok().flatten();
            store.close().await.ok();
            if let Some(t) = latest.map(|t| t.timestamp())
                && after.is_none_or(|a| t > a)
            {
                return t;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_run_then_rerun_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), 11, 120_000);
    let reference_db = format!("sqlite://{}?mode=rwc", dir.path().join("ref.db").display());
    let reference = jsonl(&replay(&reference_db, &input).output().unwrap());

    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("crash.db").display()
    );
    let mut progress = None;
    for kill in 0..2 {
        let mut child = replay(&db, &input)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        progress = Some(wait_for_progress(&db, &mut child, progress).await);
        // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no commit.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "kill {kill}: {status:?}");
        // What was stored is partial: fewer edits than the whole run.
        let partial = Command::new(example("batches"))
            .args(["--db", &db, "--format", "jsonl"])
            .output()
            .unwrap();
        assert!(partial.status.success());
        let partial = String::from_utf8(partial.stdout).unwrap();
        assert!(
            total_edits(&partial) < total_edits(&reference),
            "kill {kill} came after the end"
        );
    }
    let resumed = jsonl(&replay(&db, &input).output().unwrap());
    assert_eq!(total_edits(&resumed), total_edits(&reference));
    assert!(
        resumed == reference,
        "the resumed run differs from the uninterrupted one"
    );
}

fn postgres_admin() -> String {
    std::env::var("EDITGROUPS_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_cut_mid_run_give_a_clear_error_and_resume_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), 12, 60_000);
    let reference = jsonl(&replay("memory:", &input).output().unwrap());

    let admin_url = postgres_admin();
    let admin = sea_orm::Database::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} does not answer: {e}"));
    let name = format!("egtest_outage_{}", std::process::id());
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
    let db = format!("{base}/{name}");

    let mut child = replay(&db, &input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_progress(&db, &mut child, None).await;
    // Cut every connection of the replay until it gives up.
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "replay survived two minutes of cuts"
        );
        admin
            .execute_unprepared(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "replay succeeded despite the cuts"
    );
    assert!(
        stderr.contains("connection") || stderr.contains("terminat"),
        "unclear error: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let resumed = jsonl(&replay(&db, &input).output().unwrap());
    assert_eq!(total_edits(&resumed), total_edits(&reference));
    assert!(
        resumed == reference,
        "the resumed run differs from a run without outage"
    );
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}
