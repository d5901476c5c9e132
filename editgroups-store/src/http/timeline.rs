//! A batch's timeline as server-rendered SVG: edits per time span from its start
//! to its end, reverted edits in another colour.

use super::views::utc;
use editgroups_core::{Batch, TimelineBucket};
use maud::{Markup, html};

/// The most spans a timeline has.
pub(crate) const MAX_BUCKETS: usize = 60;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 100.0;
/// Room under the bars for the time labels.
const LABELS: f64 = 18.0;

/// How a batch's time is cut: (number of spans, span width in microseconds).
/// The span from the first to the last edit is widened by a second, so that the
/// last edit falls inside the last span.
pub(crate) fn spans(batch: &Batch) -> (usize, i64) {
    let seconds = batch.duration_seconds().max(0) + 1;
    let buckets = usize::try_from(seconds)
        .unwrap_or(MAX_BUCKETS)
        .clamp(1, MAX_BUCKETS);
    let total = seconds.saturating_mul(1_000_000);
    let count = i64::try_from(buckets).unwrap_or(1);
    // Rounded up, so that `buckets` spans cover the whole.
    (buckets, (total + count - 1) / count)
}

/// The SVG.
pub(crate) fn render(batch: &Batch, timeline: &[TimelineBucket]) -> Markup {
    let highest = timeline.iter().map(|b| b.edits).max().unwrap_or(0).max(1) as f64;
    let bar = WIDTH / timeline.len().max(1) as f64;
    let (_, width_micros) = spans(batch);
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
                @let start = batch.started + chrono::Duration::microseconds(width_micros.saturating_mul(i as i64));
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

    #[test]
    fn spans_cover_the_batch() {
        assert_eq!(spans(&batch(0)), (1, 1_000_000));
        assert_eq!(spans(&batch(9)), (10, 1_000_000));
        let (n, width) = spans(&batch(3_600));
        assert_eq!(n, MAX_BUCKETS);
        assert!(width * n as i64 >= 3_601_000_000);
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
