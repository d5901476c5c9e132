//! The rules on hand-made stored states.

use super::*;
use crate::edit::EventPosition;
use crate::store::{BatchKey, Chunk, ChunkEdit};
use crate::testing::{attributed, chunk, edit, unattributed};
use std::collections::HashMap;

/// A stored state written by hand: one batch (id 7), its edits, its signals.
#[derive(Default)]
struct Hand {
    seen: Vec<(String, u64)>,
    batches: HashMap<u64, (BatchKey, BatchFigures)>,
    pages: Vec<(u64, String)>,
    tags: Vec<(u64, String)>,
    targets: Vec<(String, StoredTarget<u64>)>,
    undos: Vec<(u64, StoredSignal<u64>)>,
}

impl StoredState for Hand {
    type BatchId = u64;
    fn is_seen(&self, wiki: &str, rcid: u64) -> bool {
        self.seen.iter().any(|(w, r)| w == wiki && *r == rcid)
    }
    fn batch(&self, key: &BatchKey) -> Option<(u64, BatchFigures)> {
        self.batches
            .iter()
            .find(|(_, (k, _))| k == key)
            .map(|(id, (_, f))| (*id, f.clone()))
    }
    fn batch_by_id(&self, id: u64) -> Option<(BatchKey, BatchFigures)> {
        self.batches.get(&id).cloned()
    }
    fn has_page(&self, batch: u64, title: &str) -> bool {
        self.pages.iter().any(|(b, t)| *b == batch && t == title)
    }
    fn has_tag(&self, batch: u64, tag: &str) -> bool {
        self.tags.iter().any(|(b, t)| *b == batch && t == tag)
    }
    fn edits_with_revision(&self, wiki: &str, revision: u64, out: &mut Vec<StoredTarget<u64>>) {
        out.extend(
            self.targets
                .iter()
                .filter(|(w, t)| w == wiki && t.revision == Some(revision))
                .map(|(_, t)| *t),
        );
    }
    fn edits_on_page(&self, _: &str, _: &str, _: &mut Vec<StoredTarget<u64>>) {}
    fn undos_of(&self, _: &str, revision: u64, out: &mut Vec<StoredSignal<u64>>) {
        out.extend(
            self.undos
                .iter()
                .filter(|(r, _)| *r == revision)
                .map(|(_, s)| *s),
        );
    }
    fn page_signals(&self, _: &str, _: &str, _: &mut Vec<(PageAction, StoredSignal<u64>)>) {}
}

fn at(seconds: i64, rcid: u64) -> EventPosition {
    EventPosition {
        timestamp: chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default(),
        rcid,
    }
}

fn figures(user: &str) -> BatchFigures {
    BatchFigures {
        user: user.into(),
        summary: String::new(),
        nb_edits: 1,
        nb_distinct_pages: 1,
        nb_new_pages: 0,
        nb_reverted_edits: 0,
        total_diffsize: 0,
        started: at(10, 1).timestamp,
        ended: at(10, 1).timestamp,
    }
}

/// A stored batch QSv2/1 of Ann (id 7) with one edit: rc id 1, revision 501,
/// page Q1, tag `wbsetlabel-add`.
fn one_batch() -> Hand {
    let mut state = Hand::default();
    state.seen.push(("w".into(), 1));
    state
        .batches
        .insert(7, (BatchKey::new("w", "QSv2", "1"), figures("Ann")));
    state.pages.push((7, "Q1".into()));
    state.tags.push((7, "wbsetlabel-add".into()));
    state.targets.push((
        "w".into(),
        StoredTarget {
            rcid: 1,
            batch: 7,
            revision: Some(501),
            position: at(10, 1),
            creates_page: false,
            is_delete: false,
            reverted_at: None,
            reverted_by_batch: None,
        },
    ));
    state
}

fn decide_on(chunk: &Chunk, state: &Hand) -> Decision<u64> {
    match decide(chunk, state) {
        Ok(decision) => decision,
        Err(e) => panic!("decide: {e}"),
    }
}

#[test]
fn needs_name_only_what_fresh_events_read() {
    let c = chunk(
        "s",
        "1",
        vec![
            attributed(
                edit("w", 1).title("Q1").revisions(Some(1), Some(2)),
                "QSv2",
                "1",
                "Ann",
            ),
            attributed(edit("w", 2).title("Q2").created(), "QSv2", "1", "Ann"),
            unattributed(edit("w", 3).comment("/* undo:0||77|X */")),
            unattributed(edit("w", 4).title("Q9").log("delete", "delete")),
            // Seen before: nothing of it is needed.
            unattributed(edit("w", 5).comment("/* undo:0||88|X */")),
        ],
    );
    let needs = Needs::of(&c, |_, rcid| rcid == 5);
    assert_eq!(needs.events, [("w", 1), ("w", 2), ("w", 3), ("w", 4)]);
    assert_eq!(needs.batches, [("w", "QSv2", "1")]);
    assert_eq!(
        needs.pages,
        [(("w", "QSv2", "1"), "Q1"), (("w", "QSv2", "1"), "Q2")]
    );
    assert_eq!(needs.undone_revisions, [("w", 77)]);
    // The creation made revision 21 (`created` gives it one).
    assert_eq!(needs.made_revisions, [("w", 2), ("w", 21)]);
    assert_eq!(needs.signal_titles, [("w", "Q9")]);
    assert_eq!(needs.page_titles, [("w", "Q2")]);
    assert_eq!(Needs::events(&c).len(), 5);
}

#[test]
fn known_pages_and_tags_are_not_new_and_hijacks_are_dropped() {
    let state = one_batch();
    let c = chunk(
        "s",
        "1",
        vec![
            attributed(
                edit("w", 2)
                    .title("Q1")
                    .comment("/* wbsetlabel-add:1|fr */ x"),
                "QSv2",
                "1",
                "Ann",
            ),
            attributed(edit("w", 3).title("Q3"), "QSv2", "1", "Mallory"),
            // A duplicate of a stored event and of an event of the chunk.
            attributed(edit("w", 1).title("Q1"), "QSv2", "1", "Ann"),
            attributed(edit("w", 2).title("Q1"), "QSv2", "1", "Ann"),
        ],
    );
    let d = decide_on(&c, &state);
    assert_eq!(
        (d.report.inserted, d.report.hijacked, d.report.duplicates),
        (1, 1, 2)
    );
    let batch = &d.batches[0];
    assert_eq!(batch.id, Some(7));
    assert_eq!(batch.figures.nb_edits, 2);
    assert_eq!(batch.figures.nb_distinct_pages, 1, "Q1 was stored");
    assert!(batch.new_pages.is_empty());
    assert_eq!(batch.new_tags, ["lang-fr"], "wbsetlabel-add was stored");
    assert_eq!(
        d.other_events,
        [1],
        "the hijack attempt is remembered as seen"
    );
}

#[test]
fn an_earlier_reverter_replaces_a_later_one_and_moves_the_link() {
    let mut state = one_batch();
    // Edit 1 was reverted by event 9 (at 90 s) of batch 8 (EG/late).
    state
        .batches
        .insert(8, (BatchKey::new("w", "EG", "late"), figures("Bob")));
    state.targets[0].1.reverted_at = Some(SignalPosition::Known(at(90, 9)));
    state.targets[0].1.reverted_by_batch = Some(8);
    state
        .batches
        .entry(7)
        .and_modify(|(_, f)| f.nb_reverted_edits = 1);
    // An earlier undo, by EG/early, arrives now.
    let c = chunk(
        "s",
        "1",
        vec![attributed(
            edit("w", 5).at(50).comment("/* undo:0||501|Bot */"),
            "EG",
            "early",
            "Cy",
        )],
    );
    let d = decide_on(&c, &state);
    assert_eq!(d.report.reverted, 0, "already reverted");
    assert_eq!(d.reverts.len(), 1);
    let mark = &d.reverts[0];
    assert!(!mark.newly);
    assert_eq!(mark.reverted_by.rcid, Some(5));
    let target = d.batches[mark.batch].figures.nb_reverted_edits;
    assert_eq!(target, 1, "the count does not move");
    let early = d.batches.iter().position(|b| b.key.uid == "early");
    let mut links: Vec<(usize, BatchRef<u64>, i64)> = d
        .links
        .iter()
        .map(|l| (l.batch, l.reverting, l.delta))
        .collect();
    links.sort_by_key(|l| l.2);
    assert_eq!(
        links,
        [
            (mark.batch, BatchRef::Stored(8), -1),
            (
                mark.batch,
                BatchRef::Outcome(early.unwrap_or(usize::MAX)),
                1
            )
        ]
    );
    // A later undo than the recorded one changes nothing.
    let later = chunk(
        "s",
        "2",
        vec![unattributed(
            edit("w", 6).at(95).comment("/* undo:0||501|Bot */"),
        )],
    );
    assert!(decide_on(&later, &state).reverts.is_empty());
}

#[test]
fn an_edit_arriving_after_its_undo_names_the_stored_undo() {
    let mut state = Hand::default();
    state.undos.push((
        501,
        StoredSignal {
            rcid: Some(9),
            position: SignalPosition::Known(at(90, 9)),
            batch: Some(3),
        },
    ));
    // An older record without provenance: it counts as the earliest.
    state.undos.push((
        601,
        StoredSignal {
            rcid: None,
            position: SignalPosition::Unknown,
            batch: None,
        },
    ));
    let c = chunk(
        "s",
        "1",
        vec![
            attributed(
                edit("w", 1).at(10).revisions(Some(500), Some(501)),
                "QSv2",
                "1",
                "Ann",
            ),
            attributed(
                edit("w", 2).at(11).revisions(Some(600), Some(601)),
                "QSv2",
                "1",
                "Ann",
            ),
            unattributed(edit("w", 3).at(12).comment("/* undo:0||601|Bot */")),
        ],
    );
    let d = decide_on(&c, &state);
    assert_eq!(d.report.reverted, 2);
    let first = d.edits[0].reverted_by;
    assert_eq!(
        first.map(|p| (p.rcid, p.batch)),
        Some((Some(9), Some(BatchRef::Stored(3))))
    );
    let second = d.edits[1].reverted_by;
    assert_eq!(
        second.map(|p| p.position),
        Some(SignalPosition::Unknown),
        "the unknown reverter stays: it is the earliest"
    );
    assert_eq!(d.batches[0].figures.nb_reverted_edits, 2);
}

#[test]
fn a_target_of_an_unknown_batch_is_a_state_error() {
    let mut state = one_batch();
    state.batches.clear();
    let c: Chunk = chunk(
        "s",
        "1",
        vec![ChunkEdit {
            edit: edit("w", 2).comment("/* undo:0||501|Bot */").build(),
            attribution: None,
        }],
    );
    assert!(matches!(
        decide(&c, &state),
        Err(StateError::MissingBatch { rcid: 1, .. })
    ));
}
