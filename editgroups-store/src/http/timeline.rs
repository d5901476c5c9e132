//! A batch's timeline as server-rendered SVG: edits per time span from its start
//! to its end, reverted edits in another colour.

use super::views::utc;
use editgroups_core::edit::Timestamp;
use editgroups_core::{Batch, TimelineBucket};
use maud::{Markup, html};

/// The most spans a timeline has.
pub(crate) const MAX_BUCKETS: usize = 60;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 100.0;
/// Room under the bars for the time labels.
const LABELS: f64 = 18.0;

/// A minute in microseconds.
const MINUTE_MICROS: i64 = 60_000_000;

/// How a batch's time is cut into spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spans {
    /// Where the first span starts (at or before the batch's first edit).
    pub(crate) start: Timestamp,
    /// How many spans.
    pub(crate) count: usize,
    /// The width of each, in microseconds.
    pub(crate) width_micros: i64,
}

/// How a batch's time is cut. The time from the first to the last edit is
/// widened by a second, so that the last edit falls inside the last span.
///
/// A batch of an hour or more is cut into whole minutes from the minute of its
/// first edit (30 to 60 spans): SQL stores count those from their edits per
/// minute, without reading a large batch's edits. A shorter batch is cut into
/// up to 60 equal spans from its first edit.
pub(crate) fn spans(batch: &Batch) -> Spans {
    let started = batch.started.timestamp_micros();
    let ended = batch.ended.timestamp_micros().max(started);
    let max = MAX_BUCKETS as i64;
    let origin = started - started.rem_euclid(MINUTE_MICROS);
    let total = ended.saturating_sub(origin).saturating_add(1_000_000);
    if started >= 0 && total >= max * MINUTE_MICROS {
        let minutes = ceil_div(ceil_div(total, max), MINUTE_MICROS);
        let width = minutes.saturating_mul(MINUTE_MICROS);
        if let Some(start) = chrono::DateTime::from_timestamp_micros(origin) {
            return Spans {
                start,
                count: usize::try_from(ceil_div(total, width))
                    .unwrap_or(MAX_BUCKETS)
                    .clamp(1, MAX_BUCKETS),
                width_micros: width,
            };
        }
    }
    let seconds = batch.duration_seconds().max(0) + 1;
    let count = usize::try_from(seconds)
        .unwrap_or(MAX_BUCKETS)
        .clamp(1, MAX_BUCKETS);
    let total = seconds.saturating_mul(1_000_000);
    Spans {
        start: batch.started,
        count,
        width_micros: ceil_div(total, i64::try_from(count).unwrap_or(1)),
    }
}

/// `a / b` rounded up, for positive numbers.
fn ceil_div(a: i64, b: i64) -> i64 {
    let b = b.max(1);
    a / b + i64::from(a % b != 0)
}

/// The SVG.
pub(crate) fn render(batch: &Batch, timeline: &[TimelineBucket]) -> Markup {
    let highest = timeline.iter().map(|b| b.edits).max().unwrap_or(0).max(1) as f64;
    let bar = WIDTH / timeline.len().max(1) as f64;
    let Spans {
        start: first,
        width_micros,
        ..
    } = spans(batch);
    let height = |count: u64| count as f64 / highest * HEIGHT;
    let total: u64 = timeline.iter().map(|b| b.edits).sum();
    let reverted: u64 = timeline.iter().map(|b| b.reverted).sum();
    let label = format!(
        "Timeline: {total} edits from {} to {}, {reverted} reverted",
        utc(batch.started),
        utc(batch.ended)
    );
    html! {
        svg class="timeline" xmlns="http://www.w3.org/2000/svg" role="img"
            viewBox={ "0 0 " (WIDTH) " " (HEIGHT + LABELS) } aria-label=(label) {
            title { (label) }
            @for (i, bucket) in timeline.iter().enumerate() {
                @let x = i as f64 * bar;
                @let kept = bucket.edits.saturating_sub(bucket.reverted);
                @let start = first + chrono::Duration::microseconds(width_micros.saturating_mul(i as i64));
                @if bucket.edits > 0 {
                    g {
                        title { (utc(start)) ": " (bucket.edits) " edits, " (bucket.reverted) " reverted" }
                        rect class="tl-edits" x=(fmt(x)) y=(fmt(HEIGHT - height(kept)))
                            width=(fmt(bar * 0.9)) height=(fmt(height(kept))) {}
                        @if bucket.reverted > 0 {
                            rect class="tl-reverted" x=(fmt(x))
                                y=(fmt(HEIGHT - height(bucket.edits)))
                                width=(fmt(bar * 0.9)) height=(fmt(height(bucket.reverted))) {}
                        }
                    }
                }
            }
            line class="tl-axis" x1="0" y1=(HEIGHT) x2=(WIDTH) y2=(HEIGHT) {}
            text class="tl-label" x="0" y=(HEIGHT + LABELS - 4.0) { (utc(batch.started)) }
            text class="tl-label tl-end" x=(WIDTH) y=(HEIGHT + LABELS - 4.0) { (utc(batch.ended)) }
        }
    }
}

fn fmt(value: f64) -> String {
    format!("{value:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use editgroups_core::BatchKey;

    fn batch(duration: i64) -> Batch {
        let started = chrono::DateTime::from_timestamp(1_000, 0).unwrap();
        Batch {
            key: BatchKey::new("w", "OR", "x"),
            user: "A".into(),
            summary: String::new(),
            nb_edits: 3,
            nb_distinct_pages: 1,
            nb_new_pages: 0,
            nb_reverted_edits: 1,
            total_diffsize: 0,
            started,
            ended: started + chrono::Duration::seconds(duration),
            tags: Vec::new(),
            archived: false,
        }
    }

    fn short(count: usize, width_micros: i64) -> Spans {
        Spans {
            start: batch(0).started,
            count,
            width_micros,
        }
    }

    #[test]
    fn short_batches_are_cut_from_their_first_edit() {
        assert_eq!(spans(&batch(0)), short(1, 1_000_000));
        assert_eq!(spans(&batch(9)), short(10, 1_000_000));
        assert_eq!(spans(&batch(599)), short(60, 10_000_000));
        // 59 minutes from 16:40 past the epoch: the last edit at 75:40, short.
        let s = spans(&batch(59 * 60));
        assert_eq!((s.start, s.count), (batch(0).started, 60));
    }

    #[test]
    fn long_batches_are_cut_into_whole_minutes() {
        for seconds in [3_600, 3_601, 7_199, 7_200, 86_400 * 3 + 17, 86_400 * 400] {
            let b = batch(seconds);
            let s = spans(&b);
            let start = s.start.timestamp_micros();
            assert_eq!(
                start, 960_000_000,
                "{seconds}: the minute of the first edit"
            );
            assert_eq!(s.width_micros % MINUTE_MICROS, 0, "{seconds}");
            assert!((30..=MAX_BUCKETS).contains(&s.count), "{seconds}: {s:?}");
            let end = b.ended.timestamp_micros();
            assert!(
                start + s.width_micros * s.count as i64 > end,
                "{seconds}: {s:?}"
            );
            assert!(
                start + s.width_micros * (s.count as i64 - 1) <= end,
                "{seconds}: no empty span after the last edit: {s:?}"
            );
        }
    }

    #[test]
    fn reverted_edits_have_their_own_bars() {
        let b = |edits, reverted| TimelineBucket { edits, reverted };
        let svg = render(&batch(1), &[b(2, 1), b(0, 0)]).into_string();
        assert_eq!(svg.matches("class=\"tl-edits\"").count(), 1);
        assert_eq!(svg.matches("class=\"tl-reverted\"").count(), 1);
        assert!(svg.contains("2 edits, 1 reverted"));
    }
}
