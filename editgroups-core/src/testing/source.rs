//! Helpers for testing [`EditSource`]s.

use crate::cursor::Cursor;
use crate::source::{EditSource, SourceError, SourceItem};
use futures::StreamExt;

/// Reads a source to its end from `from`: the items, and the error that ended it,
/// if any.
pub async fn collect(
    source: &mut dyn EditSource,
    from: Option<Cursor>,
) -> (Vec<SourceItem>, Option<SourceError>) {
    let mut stream = source.stream(from);
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(item) => items.push(item),
            Err(e) => return (items, Some(e)),
        }
    }
    (items, None)
}

/// Checks that resuming a finite source from the cursor of any item yields exactly
/// the items that followed it.
pub async fn resumes_without_gaps(source: &mut dyn EditSource) {
    let (all, error) = collect(source, None).await;
    assert!(error.is_none(), "source failed: {error:?}");
    for (i, item) in all.iter().enumerate() {
        let (rest, error) = collect(source, Some(item.cursor().clone())).await;
        assert!(error.is_none(), "resumed source failed: {error:?}");
        assert_eq!(
            rest,
            all[i + 1..],
            "resuming after item {i} gave other items"
        );
    }
}
