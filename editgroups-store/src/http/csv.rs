//! CSV exports, streamed page by page from the store (never built in memory), at
//! the pace the client reads: the next page is read only when the last one has
//! been sent.

use super::AppState;
use super::error::HttpError;
use super::handlers::Ctx;
use super::links::Links;
use super::params::Format;
use super::views::{BatchItem, EditJson};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use editgroups_core::edit::EventPosition;
use editgroups_core::{BatchKey, BatchPosition, BatchQuery, BatchStore};
use std::sync::Arc;

/// The batch columns, sorted as EditGroups' CSV renderer sorts them.
pub(crate) const BATCH_HEADER: &str = "archived,author,avg_diffsize,duration,editing_speed,ended,entities_speed,full_uid,id,last_modified,nb_distinct_pages,nb_edits,nb_existing_pages,nb_new_pages,nb_pages,nb_reverted,nb_reverted_edits,started,summary,tags,tool.name,tool.shortid,tool.url,total_diffsize,uid,url";
/// The edit columns, sorted likewise.
pub(crate) const EDIT_HEADER: &str = "batch,bot,changetype,comment,id,minor,namespace,newlength,newrevid,oldlength,oldrevid,parsedcomment,patrolled,revert_url,reverted,timestamp,title,uri,url,user";

/// Batches read per page.
const BATCH_PAGE: u64 = 500;
/// Edits read per page.
const EDIT_PAGE: u64 = 1_000;

/// One CSV field, quoted when it must be (Python's `csv` rules: a comma, a quote
/// or a line break; quotes doubled).
fn field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

fn row(out: &mut String, values: &[&str]) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, value);
    }
    out.push_str("\r\n");
}

/// Python's spelling of booleans, as EditGroups' CSV has them.
fn boolean(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

fn batch_row(out: &mut String, item: &BatchItem) {
    let tags: Vec<&str> = item.sorted_tags.iter().map(|t| t.id.as_str()).collect();
    row(
        out,
        &[
            boolean(item.archived),
            &item.author,
            &item.avg_diffsize.to_string(),
            &item.duration.to_string(),
            &item.editing_speed,
            &item.ended,
            &item.entities_speed,
            &item.full_uid,
            &item.id.to_string(),
            &item.last_modified,
            &item.nb_distinct_pages.to_string(),
            &item.nb_edits.to_string(),
            &item.nb_existing_pages.to_string(),
            &item.nb_new_pages.to_string(),
            &item.nb_pages.to_string(),
            &item.nb_reverted.to_string(),
            &item.nb_reverted_edits.to_string(),
            &item.started,
            &item.summary,
            &tags.join("|"),
            &item.tool.name,
            &item.tool.shortid,
            &item.tool.url,
            &item.total_diffsize.to_string(),
            &item.uid,
            &item.url,
        ],
    );
}

fn edit_row(out: &mut String, e: &EditJson) {
    row(
        out,
        &[
            &e.batch.to_string(),
            boolean(e.bot),
            &e.changetype,
            &e.comment,
            &e.id.to_string(),
            boolean(e.minor),
            &e.namespace.to_string(),
            &e.newlength.to_string(),
            &e.newrevid.to_string(),
            &e.oldlength.to_string(),
            &e.oldrevid.to_string(),
            &e.parsedcomment,
            boolean(e.patrolled),
            e.revert_url.as_deref().unwrap_or(""),
            boolean(e.reverted),
            &e.timestamp,
            &e.title,
            &e.uri,
            e.url.as_deref().unwrap_or(""),
            &e.user,
        ],
    );
}

fn csv_only(ctx: &Ctx) -> Result<(), HttpError> {
    match ctx.params.format {
        None | Some(Format::Csv) => Ok(()),
        _ => Err(HttpError::bad_request(
            "this URL answers CSV only: format must be csv",
        )),
    }
}

fn csv_response(filename: &str, body: Body) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

/// Where a streamed export stands.
enum Progress<P> {
    Header,
    After(Option<P>),
    Done,
}

fn store_failed(error: &editgroups_core::StoreError) -> std::io::Error {
    tracing::error!(%error, "store error while streaming a CSV export; the answer is cut short");
    std::io::Error::other("the store failed during the export")
}

/// `/api/batches.csv`: every batch matching the filters.
pub(crate) async fn batches(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, HttpError> {
    csv_only(&ctx)?;
    if ctx.params.after.is_some() || ctx.params.before.is_some() || ctx.params.offset > 0 {
        return Err(HttpError::bad_request(
            "the CSV export has every matching batch: no offset or position",
        ));
    }
    let mut query = BatchQuery::new().with_wiki(&ctx.links.wiki_id);
    if let Some(tool) = &ctx.params.tool {
        query = query.with_tool(tool);
    }
    if let Some(user) = &ctx.params.user {
        query = query.with_user(user);
    }
    for tag in &ctx.params.tags {
        query = query.with_tag(tag);
    }
    let store = state.store.clone();
    let links = Arc::new(ctx.links);
    let stream = futures::stream::unfold(Progress::<BatchPosition>::Header, move |progress| {
        let store = store.clone();
        let links = links.clone();
        let query = query.clone();
        async move {
            let after = match progress {
                Progress::Done => return None,
                Progress::Header => {
                    let header = Bytes::from(format!("{BATCH_HEADER}\r\n"));
                    return Some((Ok(header), Progress::After(None)));
                }
                Progress::After(after) => after,
            };
            let mut q = query.with_page(BATCH_PAGE, 0);
            q.after = after;
            match store.list_batches(&q).await {
                Ok(page) => {
                    let mut out = String::new();
                    for batch in &page {
                        batch_row(&mut out, &BatchItem::new(&links, batch));
                    }
                    let next = if (page.len() as u64) < BATCH_PAGE {
                        Progress::Done
                    } else {
                        Progress::After(page.last().map(BatchPosition::of))
                    };
                    Some((Ok(Bytes::from(out)), next))
                }
                Err(e) => Some((Err(store_failed(&e)), Progress::Done)),
            }
        }
    });
    Ok(csv_response("batches.csv", Body::from_stream(stream)))
}

/// `/api/b/TOOL/UID/edits.csv`: every edit of a batch, newest first.
pub(crate) async fn edits(State(state): State<AppState>, ctx: Ctx) -> Result<Response, HttpError> {
    csv_only(&ctx)?;
    let key = ctx.key()?;
    if state.store.batch(&key).await?.is_none() {
        return Err(HttpError::not_found("Not found."));
    }
    let store: Arc<dyn BatchStore> = state.store.clone();
    let links: Arc<Links> = Arc::new(ctx.links);
    let filename = format!("{}-{}.csv", key.tool, key.uid)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect::<String>();
    let stream = futures::stream::unfold(Progress::<EventPosition>::Header, move |progress| {
        let store = store.clone();
        let links = links.clone();
        let key: BatchKey = key.clone();
        async move {
            let after = match progress {
                Progress::Done => return None,
                Progress::Header => {
                    let header = Bytes::from(format!("{EDIT_HEADER}\r\n"));
                    return Some((Ok(header), Progress::After(None)));
                }
                Progress::After(after) => after,
            };
            match store.batch_edits_after(&key, after, EDIT_PAGE).await {
                Ok(page) => {
                    let mut out = String::new();
                    for stored in &page {
                        edit_row(&mut out, &EditJson::new(&links, &key, stored));
                    }
                    let next = if (page.len() as u64) < EDIT_PAGE {
                        Progress::Done
                    } else {
                        Progress::After(page.last().map(|e| e.edit.position()))
                    };
                    Some((Ok(Bytes::from(out)), next))
                }
                Err(e) => Some((Err(store_failed(&e)), Progress::Done)),
            }
        }
    });
    Ok(csv_response(&filename, Body::from_stream(stream)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_as_python_does() {
        let mut out = String::new();
        row(&mut out, &["a", "b,c", "say \"hi\"", "line\nbreak", ""]);
        assert_eq!(out, "a,\"b,c\",\"say \"\"hi\"\"\",\"line\nbreak\",\r\n");
    }

    #[test]
    fn headers_have_the_sorted_columns() {
        for header in [BATCH_HEADER, EDIT_HEADER] {
            let columns: Vec<&str> = header.split(',').collect();
            let mut sorted = columns.clone();
            sorted.sort_unstable();
            assert_eq!(columns, sorted);
        }
    }
}
