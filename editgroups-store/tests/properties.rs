//! The store's state is a function of the set of events: chunking, re-delivery and
//! reverts arriving before the edits they revert change nothing.

use editgroups_core::testing::{EditBuilder, attributed, chunk, edit, unattributed};
use editgroups_core::{Batch, BatchKey, BatchQuery, BatchStore, ChunkEdit, Page, RevertedBy};
use editgroups_store::MemoryStore;
use proptest::prelude::*;

/// One generated event.
#[derive(Debug, Clone)]
enum Event {
    /// An attributed edit of page `page` in batch `batch` by `user`.
    Edit {
        page: u8,
        batch: u8,
        user: u8,
        create: bool,
    },
    /// An undo of the revision of the `n`-th event (by rcid), whatever it is; by
    /// a batch of its own (`by`) or by hand.
    Undo { target: u8, by: bool },
    /// A deletion or restore of a page, by a batch of its own or by hand.
    Delete { page: u8, restore: bool, by: bool },
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        6 => (0..6u8, 0..4u8, 0..3u8, any::<bool>()).prop_map(|(page, batch, user, create)| Event::Edit { page, batch, user, create }),
        2 => (any::<u8>(), any::<bool>()).prop_map(|(target, by)| Event::Undo { target, by }),
        2 => (0..6u8, any::<bool>(), any::<bool>()).prop_map(|(page, restore, by)| Event::Delete { page, restore, by }),
    ]
}

/// Turns generated events into chunk edits; rcid i+1, time 1000 + i.
fn materialise(events: &[Event]) -> Vec<ChunkEdit> {
    let n = events.len() as u64;
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let rcid = i as u64 + 1;
            let base = edit("w", rcid)
                .at(1_000 + i as i64)
                .revisions(Some(rcid * 10), Some(rcid * 10 + 1));
            match e {
                Event::Edit {
                    page,
                    batch,
                    user,
                    create,
                } => {
                    let mut b = base.title(&format!("Q{page}"));
                    if *create {
                        b = b.created().revisions(None, Some(rcid * 10 + 1));
                    }
                    attributed(b, "OR", &format!("b{batch}"), &format!("u{user}"))
                }
                Event::Undo { target, by } => {
                    let target = u64::from(*target) % n.max(1) + 1;
                    signal(
                        base.comment(&format!("/* undo:0||{}|X */ no", target * 10 + 1)),
                        *by,
                        rcid,
                    )
                }
                Event::Delete { page, restore, by } => {
                    let action = if *restore { "restore" } else { "delete" };
                    signal(
                        base.title(&format!("Q{page}")).log("delete", action),
                        *by,
                        rcid,
                    )
                }
            }
        })
        .collect()
}

/// A revert signal, by hand or by a batch of its own (so that it may move
/// anywhere without taking a batch from another author).
fn signal(event: EditBuilder, by_batch: bool, rcid: u64) -> ChunkEdit {
    if by_batch {
        attributed(event, "EG", &format!("r{rcid}"), "Reverter")
    } else {
        unattributed(event)
    }
}

/// Every batch with its edits (rc id, reverted, reverting event), and the
/// batches each batch reverted and was reverted by.
type State = Vec<(
    Batch,
    Vec<(u64, bool, Option<RevertedBy>)>,
    Vec<BatchKey>,
    Vec<BatchKey>,
)>;

async fn state(store: &MemoryStore) -> State {
    let mut out = Vec::new();
    for batch in store.list_batches(&BatchQuery::new()).await.unwrap() {
        let edits = store.batch_edits(&batch.key, Page::all()).await.unwrap();
        let keys = |batches: Vec<Batch>| batches.into_iter().map(|b| b.key).collect::<Vec<_>>();
        let reverting = keys(store.reverting_batches(&batch.key).await.unwrap());
        let reverted = keys(store.reverted_batches(&batch.key).await.unwrap());
        out.push((
            batch,
            edits
                .into_iter()
                .map(|e| (e.edit.rcid, e.reverted, e.reverted_by))
                .collect(),
            reverting,
            reverted,
        ));
    }
    out
}

async fn ingest(chunks: Vec<Vec<ChunkEdit>>) -> MemoryStore {
    let store = MemoryStore::new();
    for (i, edits) in chunks.into_iter().enumerate() {
        store
            .apply(chunk("p", &i.to_string(), edits))
            .await
            .unwrap();
    }
    store
}

fn split(events: Vec<ChunkEdit>, cuts: &[usize]) -> Vec<Vec<ChunkEdit>> {
    let mut chunks = vec![Vec::new()];
    for (i, e) in events.into_iter().enumerate() {
        if cuts.contains(&i) {
            chunks.push(Vec::new());
        }
        if let Some(last) = chunks.last_mut() {
            last.push(e);
        }
    }
    chunks
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn chunking_does_not_matter(events in prop::collection::vec(event(), 1..60), cuts in prop::collection::vec(0usize..60, 0..10)) {
        let edits = materialise(&events);
        let whole = run(ingest(vec![edits.clone()]));
        let parts = run(ingest(split(edits, &cuts)));
        prop_assert_eq!(run(state(&whole)), run(state(&parts)));
    }

    #[test]
    fn redelivery_changes_nothing(events in prop::collection::vec(event(), 1..60), repeats in prop::collection::vec((0usize..60, 0usize..60), 0..30)) {
        let edits = materialise(&events);
        let once = run(ingest(vec![edits.clone()]));
        // Re-deliver earlier events after their first delivery, as a resumed stream does.
        let mut delivered = edits.clone();
        for (at, which) in repeats {
            let which = which % edits.len();
            // After the event's first delivery: earlier copies shift it to the right.
            let first = delivered
                .iter()
                .position(|e| e.edit.rcid == edits[which].edit.rcid)
                .unwrap_or(which);
            let at = (first + 1 + at).min(delivered.len());
            delivered.insert(at, edits[which].clone());
        }
        let twice = run(ingest(vec![delivered.clone(), edits.clone()]));
        prop_assert_eq!(run(state(&once)), run(state(&twice)));
    }

    #[test]
    fn reverts_may_arrive_before_the_edits_they_revert(events in prop::collection::vec(event(), 1..60), seed in any::<u64>()) {
        let edits = materialise(&events);
        let in_order = run(ingest(vec![edits.clone()]));
        // Move every revert signal to a random place; the other attributed edits
        // keep their order (the first author of a batch owns it).
        let (signals, mut reordered): (Vec<ChunkEdit>, Vec<ChunkEdit>) = edits
            .into_iter()
            .partition(|e| e.attribution.as_ref().is_none_or(|m| m.tool == "EG"));
        let mut rng = seed;
        for signal in signals {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let at = (rng >> 33) as usize % (reordered.len() + 1);
            reordered.insert(at, signal);
        }
        let expected = run(state(&in_order));
        let whole = run(ingest(vec![reordered.clone()]));
        prop_assert_eq!(&expected, &run(state(&whole)), "reordered, in one chunk");
        let shuffled = run(ingest(reordered.into_iter().map(|e| vec![e]).collect()));
        prop_assert_eq!(&expected, &run(state(&shuffled)), "reordered, one event a chunk");
    }
}
