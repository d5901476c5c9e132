//! The store of `examples/examples/custom_store.rs`, a store of the user's own
//! on the rulebook, passes the whole `BatchStore` conformance suite, and the
//! example replays the recorded fixtures as a binary.

#[path = "../examples/custom_store.rs"]
mod custom_store;

mod support;

#[tokio::test]
async fn the_custom_store_passes_the_conformance_suite() {
    let store = custom_store::BTreeStore::default();
    editgroups_core::testing::store::run_all(&store).await;
}

#[test]
fn the_custom_store_example_replays_the_fixtures() {
    let output = std::process::Command::new(support::example("custom_store"))
        .arg(support::fixture("one_qs_batch.json"))
        .arg(support::fixture("new_deletion_restore_deletion.json"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(
        out.contains("wikidatawiki:QSv2/2120 Pintoch: 4 edits"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 5, "{out}");
}
