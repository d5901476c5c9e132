//! The `batches` example on a SQLite store filled by `replay`: filters, one batch
//! with its edits, formats, and bad arguments reported.

mod support;
use support::example;
use support::fixture;

use serde_json::Value;
use std::process::Command;

fn run(name: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(example(name)).args(args).output().unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn batches_lists_filters_and_shows_what_replay_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
    let files = [
        fixture("one_qs_batch.json"),
        fixture("qs_batch_with_terms.json"),
        fixture("eg_revert.json"),
        fixture("deletion_restore.json"),
    ];
    let mut args = vec!["--db", db.as_str(), "--format", "jsonl"];
    args.extend(files.iter().map(String::as_str));
    let (ok, replayed, stderr) = run("replay", &args);
    assert!(ok, "{stderr}");

    // Without filters: what replay printed, in the same order.
    let (ok, all, stderr) = run("batches", &["--db", &db, "--format", "jsonl"]);
    assert!(ok, "{stderr}");
    assert_eq!(all, replayed);
    // `replay` without files prints the store's batches too.
    let (ok, again, _) = run("replay", &["--db", &db, "--format", "jsonl"]);
    assert!(ok);
    assert_eq!(again, replayed);

    let uids = |text: &str| -> Vec<String> {
        lines(text)
            .iter()
            .map(|b| {
                format!(
                    "{}/{}",
                    b["tool"].as_str().unwrap(),
                    b["uid"].as_str().unwrap()
                )
            })
            .collect()
    };
    let (_, out, _) = run(
        "batches",
        &["--db", &db, "--format", "jsonl", "--tool", "QSv2"],
    );
    assert_eq!(uids(&out), ["QSv2/2120", "QSv2/4578"]);
    let (_, out, _) = run(
        "batches",
        &["--db", &db, "--format", "jsonl", "--tag", "lang-eu"],
    );
    assert_eq!(uids(&out), ["QSv2/4578"]);
    let (_, out, _) = run(
        "batches",
        &[
            "--db", &db, "--format", "jsonl", "--tag", "lang-eu", "--tag", "prop-P18",
        ],
    );
    assert!(out.is_empty(), "{out}");
    let (_, out, _) = run(
        "batches",
        &[
            "--db",
            &db,
            "--format",
            "jsonl",
            "--limit",
            "1",
            "--newest-first",
        ],
    );
    assert_eq!(uids(&out), ["EG/ca7d7cc"], "the newest batch");
    let (_, out, _) = run(
        "batches",
        &["--db", &db, "--format", "csv", "--user", "Pintoch"],
    );
    assert!(out.starts_with("wiki,tool,uid,user,"), "{out}");
    assert_eq!(out.lines().count(), 1 + 5, "{out}");

    let (ok, out, _) = run(
        "batches",
        &[
            "--db",
            &db,
            "--format",
            "jsonl",
            "--batch",
            "EG/d6f5146",
            "--edits",
            "2",
        ],
    );
    assert!(ok);
    let detail = &lines(&out)[0];
    assert_eq!(detail["summary"], "this was just dumb");
    assert_eq!(detail["edits"].as_array().unwrap().len(), 2);
    assert_eq!(detail["edits"][0]["timestamp"], "2018-03-11T00:08:45Z");

    // deletion_restore.json: EG/ca7d7cc restored the page EG/be3a1d9 deleted.
    let detail_of = |name: &str| {
        let (ok, out, stderr) = run(
            "batches",
            &["--db", &db, "--format", "jsonl", "--batch", name],
        );
        assert!(ok, "{stderr}");
        lines(&out).remove(0)
    };
    let deleted = detail_of("EG/be3a1d9");
    assert_eq!(deleted["reverting_batches"][0]["uid"], "ca7d7cc");
    assert_eq!(deleted["reverted_batches"], serde_json::json!([]));
    assert_eq!(deleted["edits"][0]["reverted_by_batch"], "EG/ca7d7cc");
    let restored = detail_of("EG/ca7d7cc");
    assert_eq!(restored["reverted_batches"][0]["uid"], "be3a1d9");
    let (ok, table, _) = run("batches", &["--db", &db, "--batch", "EG/ca7d7cc"]);
    assert!(ok);
    assert!(table.contains("reverts: EG/be3a1d9 (Pintoch"), "{table}");

    let (ok, _, stderr) = run("batches", &["--db", &db, "--batch", "EG"]);
    assert!(!ok && stderr.contains("TOOL/UID"), "{stderr}");
    let (ok, _, stderr) = run("batches", &["--db", &db, "--batch", "EG/0000000"]);
    assert!(!ok && stderr.contains("no batch EG/0000000"), "{stderr}");
    let (ok, _, stderr) = run("batches", &["--db", "ftp://nowhere"]);
    assert!(!ok && stderr.contains("cannot open the store"), "{stderr}");
}
