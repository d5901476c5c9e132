//! The `replay` example on the recorded fixtures: what EditGroups expects, printed
//! as JSON lines, and bad input reported on standard error without stopping.

mod support;
use support::example;
use support::fixture;

use serde_json::Value;
use std::process::Command;

fn replay(args: &[&str]) -> (Vec<Value>, String) {
    let output = Command::new(example("replay"))
        .args(["--db", "memory:", "--format", "jsonl"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "replay failed: {stderr}");
    let batches = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (batches, stderr)
}

#[test]
fn one_qs_batch_prints_the_expected_batch() {
    let (batches, stderr) = replay(&[&fixture("one_qs_batch.json")]);
    assert_eq!(batches.len(), 1, "{batches:?}");
    let b = &batches[0];
    assert_eq!(b["wiki"], "wikidatawiki");
    assert_eq!(b["tool"], "QSv2");
    assert_eq!(b["uid"], "2120");
    assert_eq!(b["user"], "Pintoch");
    assert_eq!(b["started"], "2018-03-07T16:20:12Z");
    assert_eq!(b["ended"], "2018-03-07T16:20:14Z");
    assert_eq!(b["nb_edits"], 4);
    assert_eq!(b["nb_distinct_pages"], 1);
    assert_eq!(
        b["tags"],
        serde_json::json!([
            "wbcreateclaim-create",
            "prop-P18",
            "prop-P2534",
            "prop-P3896",
            "prop-P856"
        ])
    );
    assert!(stderr.contains("read 3818 events"), "{stderr}");
    assert!(stderr.contains("events/s"), "{stderr}");
}

#[test]
fn batches_come_sorted_by_wiki_tool_and_uid() {
    let files = [
        "eg_revert.json",
        "deletion_restore.json",
        "qs_batch_with_terms.json",
    ]
    .map(fixture);
    let (batches, _) = replay(&files.iter().map(String::as_str).collect::<Vec<_>>());
    let keys: Vec<String> = batches
        .iter()
        .map(|b| format!("{}/{}", b["tool"], b["uid"]).replace('"', ""))
        .collect();
    assert_eq!(
        keys,
        ["EG/be3a1d9", "EG/ca7d7cc", "EG/d6f5146", "QSv2/4578"]
    );
    let reverted: Vec<u64> = batches
        .iter()
        .map(|b| b["nb_reverted_edits"].as_u64().unwrap())
        .collect();
    assert_eq!(reverted, [1, 0, 0, 0]);
}

#[test]
fn malformed_lines_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.json");
    let good = std::fs::read_to_string(fixture("qs_batch_with_terms.json")).unwrap();
    std::fs::write(&path, format!("garbage\n{good}{{\"truncated\": \n")).unwrap();
    let (batches, stderr) = replay(&[path.to_str().unwrap()]);
    assert_eq!(batches.len(), 1);
    assert!(stderr.contains("line 1"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("malformed 2"), "{stderr}");
}

#[test]
fn a_wrong_rules_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[[rules]]\nshortid = 'X'\nid_regex = '(unclosed'\n").unwrap();
    let output = Command::new(example("replay"))
        .args([
            "--db",
            "memory:",
            "--rules",
            rules.to_str().unwrap(),
            &fixture("eg_revert.json"),
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("tool rule \"X\"") && stderr.contains("(unclosed"),
        "{stderr}"
    );
}
