//! Handlers: read the request, ask the store, hand a view to a template or to
//! JSON.

use super::AppState;
use super::cache::{Answer, ListKey, ListRoute, TIMELINE_MIN_EDITS, TimelineKey};
use super::error::HttpError;
use super::links::{Links, mount_path};
use super::pages;
use super::params::{
    Format, Params, batch_token, edit_token, encode_query, parse_batch_token, parse_edit_token,
    valid_wiki,
};
use super::timeline;
use super::views::{BatchDetail, BatchItem, EditJson, Reverts, ToolItem};
use axum::extract::{FromRequestParts, OriginalUri, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use editgroups_core::{
    Batch, BatchKey, BatchQuery, BatchStore, Page, StoredEdit, TaskQuery, TimelineBucket,
};
use serde::Serialize;

/// What every page handler reads from a request: its links (mount path, wiki),
/// its query parameters, and whether it asks for JSON.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) links: Links,
    pub(crate) params: Params,
    /// `tool` and `uid` from the path, when the route has them.
    pub(crate) tool: Option<String>,
    pub(crate) uid: Option<String>,
    headers: HeaderMap,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        // Errors of pages are pages, those of the API JSON.
        let page = !parts.uri.path().contains("/api/")
            && !parts
                .uri
                .query()
                .is_some_and(|q| q.split('&').any(|p| p == "format=json"))
            && !prefers_json(
                parts
                    .headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            );
        Self::read(parts, state)
            .await
            .map_err(|e| if page { e.into_page() } else { e })
    }
}

impl Ctx {
    async fn read(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| HttpError::bad_request("the path is not valid UTF-8"))?;
        let (mut wiki, mut tool, mut uid) = (None, None, None);
        for (name, value) in &raw {
            match name {
                "wiki" => wiki = Some(value.to_owned()),
                "tool" => tool = Some(value.to_owned()),
                "uid" => uid = Some(value.to_owned()),
                _ => {}
            }
        }
        let params = Params::parse(parts.uri.query())?;
        let path_wiki = wiki.is_some();
        let wiki = match (wiki, &params.wiki) {
            (Some(path), Some(query)) if path != *query => {
                return Err(HttpError::bad_request(format!(
                    "the path is about wiki {path}, the query about {query}"
                )));
            }
            (Some(path), _) => path,
            (None, Some(query)) => query.clone(),
            (None, None) => state.site.default_wiki.clone(),
        };
        if !valid_wiki(&wiki) {
            return Err(HttpError::not_found(format!("no wiki {wiki:?}")));
        }
        let original = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
        let mut root = mount_path(&original, &parts.uri);
        // Inside our own `/w/WIKI` nest, the stripped part ends with it.
        if path_wiki
            && !parts.uri.path().starts_with("/w/")
            && let Some(at) = root.rfind("/w/")
        {
            root.truncate(at);
        }
        let mut params = params;
        // A list of a `/w/WIKI/` URL keeps its wiki in the path, not the query.
        params.wiki = None;
        Ok(Self {
            links: Links::new(state.site.clone(), &wiki, root, &parts.headers),
            params,
            tool,
            uid,
            headers: parts.headers.clone(),
        })
    }

    /// Whether the answer is JSON: `?format=json`, or an `Accept` that prefers
    /// JSON to HTML.
    pub(crate) fn wants_json(&self) -> Result<bool, HttpError> {
        match self.params.format {
            Some(Format::Json) => return Ok(true),
            Some(Format::Html) => return Ok(false),
            Some(Format::Csv) => {
                return Err(HttpError::bad_request(
                    "CSV is at the .csv URLs (/api/batches.csv, /api/b/TOOL/UID/edits.csv)",
                ));
            }
            None => {}
        }
        let accept = self
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(prefers_json(accept))
    }

    /// The JSON-only routes accept `format=json` or nothing.
    fn json_only(&self) -> Result<(), HttpError> {
        match self.params.format {
            None | Some(Format::Json) => Ok(()),
            _ => Err(HttpError::bad_request(
                "this URL answers JSON only: format must be json",
            )),
        }
    }

    pub(crate) fn key(&self) -> Result<BatchKey, HttpError> {
        match (&self.tool, &self.uid) {
            (Some(tool), Some(uid)) => Ok(BatchKey::new(&self.links.wiki_id, tool, uid)),
            _ => Err(HttpError::not_found("no such batch")),
        }
    }

    /// A link to `path` (relative to the wiki's prefix) with a query.
    fn link(&self, path: &str, params: &Params, absolute: bool) -> String {
        let query = params.to_query();
        let path = self.links.here(path);
        let path = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        if absolute {
            self.links.absolute(&path)
        } else {
            self.links.page(&path)
        }
    }
}

/// Whether an `Accept` header ranks `application/json` above `text/html`.
fn prefers_json(accept: &str) -> bool {
    let mut json = 0.0f32;
    let mut html = 0.0f32;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let kind = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match kind.as_str() {
            "application/json" => json = json.max(quality),
            "text/html" | "application/xhtml+xml" => html = html.max(quality),
            _ => {}
        }
    }
    json > html
}

fn json_answer<T: Serialize>(value: &T) -> Result<Answer, HttpError> {
    match serde_json::to_vec(value) {
        Ok(body) => Ok(Answer {
            content_type: "application/json",
            body: body.into(),
        }),
        Err(e) => {
            tracing::error!(%e, "cannot serialise an answer");
            Err(HttpError::internal())
        }
    }
}

fn json<T: Serialize>(value: &T) -> Response {
    match json_answer(value) {
        Ok(answer) => answer.into_response(),
        Err(e) => e.into_response(),
    }
}

fn html_answer(markup: maud::Markup) -> Answer {
    Answer {
        content_type: "text/html; charset=utf-8",
        body: markup.into_string().into(),
    }
}

fn html(markup: maud::Markup) -> Response {
    html_answer(markup).into_response()
}

/// The JSON envelope of a page of a list.
#[derive(Debug, Serialize)]
struct Envelope<T> {
    next: Option<String>,
    previous: Option<String>,
    results: Vec<T>,
}

/// One page of a list and where its neighbours are (as parameters).
#[derive(Debug)]
struct Window<T> {
    items: Vec<T>,
    previous: Option<Params>,
    next: Option<Params>,
}

/// Pages through a list by offset or by position. `fetch` answers a request for
/// `limit` items after or before a position (or from an offset); `token` gives an
/// item's position.
async fn window<T, P, F, Fut>(
    params: &Params,
    parse: impl Fn(&str) -> Result<P, HttpError>,
    token: impl Fn(&T) -> String,
    fetch: F,
) -> Result<Window<T>, HttpError>
where
    F: Fn(Request<P>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, HttpError>>,
{
    let limit = params.limit;
    let base = params.filters_only();
    let with = |f: &dyn Fn(&mut Params)| {
        let mut p = base.clone();
        p.format = params.format;
        f(&mut p);
        p
    };
    if let Some(before) = &params.before {
        if params.offset > 0 {
            return Err(HttpError::bad_request(
                "offset cannot be combined with before",
            ));
        }
        let position = parse(before)?;
        let mut items = fetch(Request::Before(position, limit + 1)).await?;
        if items.len() as u64 > limit {
            items.remove(0);
            let previous = items
                .first()
                .map(|first| with(&|p| p.before = Some(token(first))));
            let next = items
                .last()
                .map(|last| with(&|p| p.after = Some(token(last))));
            return Ok(Window {
                items,
                previous,
                next,
            });
        }
        // Back at the start: the first page, whatever shifted since.
        let mut items = fetch(Request::First(0, limit + 1)).await?;
        let next = (items.len() as u64 > limit).then(|| {
            items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            items
                .last()
                .map(|last| with(&|p| p.after = Some(token(last))))
        });
        return Ok(Window {
            items,
            previous: None,
            next: next.flatten(),
        });
    }
    let (mut items, previous) = match &params.after {
        Some(after) => {
            let position = parse(after)?;
            let items = fetch(Request::After(position, params.offset, limit + 1)).await?;
            let previous = match items.first() {
                Some(first) => with(&|p| p.before = Some(token(first))),
                None => with(&|_| {}),
            };
            (items, Some(previous))
        }
        None => {
            let items = fetch(Request::First(params.offset, limit + 1)).await?;
            let previous = (params.offset > 0)
                .then(|| with(&|p| p.offset = params.offset.saturating_sub(limit)));
            (items, previous)
        }
    };
    let mut next = None;
    if items.len() as u64 > limit {
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        next = items
            .last()
            .map(|last| with(&|p| p.after = Some(token(last))));
    }
    Ok(Window {
        items,
        previous,
        next,
    })
}

/// What a list page asks the store for.
#[derive(Debug)]
enum Request<P> {
    /// From an offset, at most this many.
    First(u64, u64),
    /// After a position, from an offset, at most this many.
    After(P, u64, u64),
    /// The last this many before a position.
    Before(P, u64),
}

fn batch_query(ctx: &Ctx) -> BatchQuery {
    let mut q = BatchQuery::new().with_wiki(&ctx.links.wiki_id);
    if let Some(tool) = &ctx.params.tool {
        q = q.with_tool(tool);
    }
    if let Some(user) = &ctx.params.user {
        q = q.with_user(user);
    }
    for tag in &ctx.params.tags {
        q = q.with_tag(tag);
    }
    q
}

async fn batch_window(store: &dyn BatchStore, ctx: &Ctx) -> Result<Window<Batch>, HttpError> {
    let wiki = ctx.links.wiki_id.clone();
    let query = batch_query(ctx);
    window(
        &ctx.params,
        |t| parse_batch_token(t, &wiki),
        |b: &Batch| batch_token(&editgroups_core::BatchPosition::of(b)),
        |request| {
            let mut q = query.clone();
            match request {
                Request::First(offset, limit) => q = q.with_page(limit, offset),
                Request::After(p, offset, limit) => q = q.with_page(limit, offset).with_after(p),
                Request::Before(p, limit) => q = q.with_page(limit, 0).with_before(p),
            }
            async move { Ok(store.list_batches(&q).await?) }
        },
    )
    .await
}

/// A list's answer from the cache, or made and kept there.
async fn cached_list<F>(
    state: &AppState,
    route: ListRoute,
    json: bool,
    ctx: &Ctx,
    make: F,
) -> Result<Response, HttpError>
where
    F: Future<Output = Result<Answer, HttpError>>,
{
    if !state.list_cache.enabled() {
        return Ok(make.await?.into_response());
    }
    let key = ListKey::new(route, json, ctx);
    if let Some(answer) = state.list_cache.get(&key) {
        return Ok(answer.into_response());
    }
    let answer = make.await?;
    state.list_cache.put(key, &answer);
    Ok(answer.into_response())
}

/// `/`: the batch list, HTML or JSON.
pub(crate) async fn list_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let wants_json = match ctx.wants_json() {
        Ok(j) => j,
        Err(e) => return e.into_page().into_response(),
    };
    let make = async {
        let window = batch_window(state.store.as_ref(), &ctx).await?;
        if wants_json {
            return list_json(&ctx, "/", &window);
        }
        let link = |p: &Option<Params>| p.as_ref().map(|p| ctx.link("/", p, false));
        Ok(html_answer(pages::list(
            &ctx.links,
            &ctx.params,
            &window.items,
            link(&window.previous),
            link(&window.next),
            chrono::Utc::now(),
        )))
    };
    cached_list(&state, ListRoute::Page, wants_json, &ctx, make)
        .await
        .unwrap_or_else(|e: HttpError| if wants_json { e } else { e.into_page() }.into_response())
}

fn list_json(ctx: &Ctx, path: &str, window: &Window<Batch>) -> Result<Answer, HttpError> {
    let link = |p: &Option<Params>| p.as_ref().map(|p| ctx.link(path, p, true));
    json_answer(&Envelope {
        next: link(&window.next),
        previous: link(&window.previous),
        results: window
            .items
            .iter()
            .map(|b| BatchItem::new(&ctx.links, b))
            .collect(),
    })
}

/// `/api/`: the batch list, JSON.
pub(crate) async fn list_api(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, HttpError> {
    ctx.json_only()?;
    let make = async {
        let window = batch_window(state.store.as_ref(), &ctx).await?;
        list_json(&ctx, "/api/", &window)
    };
    cached_list(&state, ListRoute::Api, true, &ctx, make).await
}

/// `/b/TOOL/`: the list of the tool's batches.
pub(crate) async fn tool_redirect(ctx: Ctx) -> Result<Response, HttpError> {
    let tool = ctx.tool.clone().unwrap_or_default();
    let target = format!(
        "{}?tool={}",
        ctx.links.page(&ctx.links.here("/")),
        encode_query(&tool)
    );
    // 301, as EditGroups answers (axum's permanent redirect is a 308).
    let location =
        HeaderValue::from_str(&target).map_err(|_| HttpError::bad_request("bad tool id"))?;
    Ok((
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, location)],
    )
        .into_response())
}

/// The batches linked to a batch by reverts, from the store's revert
/// provenance, and its running revert task when the store keeps tasks.
async fn reverts(state: &AppState, key: &BatchKey) -> Result<Reverts, HttpError> {
    let store = state.store.as_ref();
    let (reverting, reverted) =
        futures::try_join!(store.reverting_batches(key), store.reverted_batches(key))?;
    let active_task = match &state.tasks {
        Some(tasks) => {
            let query = TaskQuery::new()
                .with_batch(key.clone())
                .running()
                .with_limit(1);
            tasks.revert_tasks(&query).await?.into_iter().next()
        }
        None => None,
    };
    Ok(Reverts {
        reverting,
        reverted,
        active_task,
    })
}

/// How many latest edits the detail holds.
const DETAIL_EDITS: u64 = 11;

async fn detail(
    state: &AppState,
    key: &BatchKey,
) -> Result<Option<(Batch, Vec<StoredEdit>, Reverts)>, HttpError> {
    let store = state.store.as_ref();
    let Some(batch) = store.batch(key).await? else {
        return Ok(None);
    };
    let (edits, reverts) = futures::try_join!(
        async { Ok::<_, HttpError>(store.batch_edits_after(key, None, DETAIL_EDITS).await?) },
        reverts(state, key)
    )?;
    Ok(Some((batch, edits, reverts)))
}

/// The current lag in seconds, if the store knows of any event.
async fn current_lag(store: &dyn BatchStore) -> Option<i64> {
    match store.latest_event_time().await {
        Ok(Some(latest)) => Some((chrono::Utc::now() - latest).num_seconds().max(0)),
        _ => None,
    }
}

async fn batch_not_found(store: &dyn BatchStore, ctx: &Ctx, wants_json: bool) -> Response {
    let lag = current_lag(store).await;
    if wants_json {
        return (
            StatusCode::NOT_FOUND,
            json(&serde_json::json!({ "detail": "Not found.", "current_lag": lag })),
        )
            .into_response();
    }
    let uid = ctx.uid.clone().unwrap_or_default();
    (
        StatusCode::NOT_FOUND,
        html(pages::not_found(&ctx.links, &uid, lag)),
    )
        .into_response()
}

/// A batch's timeline, from the cache for a large batch whose figures have not
/// changed since it was counted.
async fn batch_timeline(
    state: &AppState,
    batch: &Batch,
) -> Result<std::sync::Arc<[TimelineBucket]>, HttpError> {
    let spans = timeline::spans(batch);
    let (buckets, width) = (spans.count, spans.width_micros);
    let count = || {
        state
            .store
            .edit_timeline(&batch.key, spans.start, width, buckets)
    };
    if batch.nb_edits < TIMELINE_MIN_EDITS {
        return Ok(count().await?.into());
    }
    let key = TimelineKey::new(batch, width, buckets);
    if let Some(spans) = state.timelines.get(&key) {
        return Ok(spans);
    }
    let spans: std::sync::Arc<[TimelineBucket]> = count().await?.into();
    state.timelines.put(key, spans.clone());
    Ok(spans)
}

/// `/b/TOOL/UID/`: a batch, HTML or JSON.
pub(crate) async fn batch_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let wants_json = match ctx.wants_json() {
        Ok(j) => j,
        Err(e) => return e.into_page().into_response(),
    };
    let store = state.store.as_ref();
    let answer = async {
        let key = ctx.key()?;
        let Some((batch, edits, reverts)) = detail(&state, &key).await? else {
            return Ok(batch_not_found(store, &ctx, wants_json).await);
        };
        if wants_json {
            return Ok(json(&BatchDetail::new(
                &ctx.links, &batch, &edits, &reverts,
            )));
        }
        let spans = batch_timeline(&state, &batch).await?;
        let page = pages::BatchPage {
            batch: &batch,
            edits: &edits,
            timeline: timeline::render(&batch, &spans),
            reverts: &reverts,
            now: chrono::Utc::now(),
        };
        Ok(html(pages::batch(&ctx.links, &page)))
    };
    answer
        .await
        .unwrap_or_else(|e: HttpError| if wants_json { e } else { e.into_page() }.into_response())
}

/// `/api/b/TOOL/UID/`: a batch, JSON.
pub(crate) async fn batch_api(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, HttpError> {
    ctx.json_only()?;
    let store = state.store.as_ref();
    let key = ctx.key()?;
    match detail(&state, &key).await? {
        Some((batch, edits, reverts)) => Ok(json(&BatchDetail::new(
            &ctx.links, &batch, &edits, &reverts,
        ))),
        None => Ok(batch_not_found(store, &ctx, true).await),
    }
}

async fn edit_window(
    store: &dyn BatchStore,
    ctx: &Ctx,
    key: &BatchKey,
) -> Result<Window<StoredEdit>, HttpError> {
    window(
        &ctx.params,
        parse_edit_token,
        |e: &StoredEdit| edit_token(e.edit.position()),
        |request| async move {
            Ok(match request {
                Request::First(offset, limit) => {
                    store.batch_edits(key, Page::new(limit, offset)).await?
                }
                Request::After(p, offset, limit) => {
                    let mut edits = store
                        .batch_edits_after(key, Some(p), limit.saturating_add(offset))
                        .await?;
                    edits.drain(
                        ..edits
                            .len()
                            .min(usize::try_from(offset).unwrap_or(usize::MAX)),
                    );
                    edits
                }
                Request::Before(p, limit) => store.batch_edits_before(key, p, limit).await?,
            })
        },
    )
    .await
}

/// `/b/TOOL/UID/edits/`: a batch's edits, HTML or JSON.
pub(crate) async fn edits_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let wants_json = match ctx.wants_json() {
        Ok(j) => j,
        Err(e) => return e.into_page().into_response(),
    };
    let store = state.store.as_ref();
    let answer = async {
        let key = ctx.key()?;
        let Some(batch) = store.batch(&key).await? else {
            return Ok(batch_not_found(store, &ctx, wants_json).await);
        };
        let window = edit_window(store, &ctx, &key).await?;
        let path = format!("{}edits/", ctx.links.batch_path(&key));
        let path = path
            .strip_prefix(&ctx.links.wiki_prefix(&key.wiki))
            .unwrap_or(&path)
            .to_owned();
        if wants_json {
            return Ok(edits_json(&ctx, &path, &key, &window));
        }
        let link = |p: &Option<Params>| p.as_ref().map(|p| ctx.link(&path, p, false));
        Ok(html(pages::edits(
            &ctx.links,
            &batch,
            &window.items,
            link(&window.previous),
            link(&window.next),
        )))
    };
    answer
        .await
        .unwrap_or_else(|e: HttpError| if wants_json { e } else { e.into_page() }.into_response())
}

fn edits_json(ctx: &Ctx, path: &str, key: &BatchKey, window: &Window<StoredEdit>) -> Response {
    let link = |p: &Option<Params>| p.as_ref().map(|p| ctx.link(path, p, true));
    json(&Envelope {
        next: link(&window.next),
        previous: link(&window.previous),
        results: window
            .items
            .iter()
            .map(|e| EditJson::new(&ctx.links, key, e))
            .collect(),
    })
}

/// `/api/b/TOOL/UID/edits/`: a batch's edits, JSON.
pub(crate) async fn edits_api(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, HttpError> {
    ctx.json_only()?;
    let store = state.store.as_ref();
    let key = ctx.key()?;
    if store.batch(&key).await?.is_none() {
        return Ok(batch_not_found(store, &ctx, true).await);
    }
    let window = edit_window(store, &ctx, &key).await?;
    let path = format!(
        "/api/b/{}/{}/edits/",
        super::params::encode_segment(&key.tool),
        super::params::encode_segment(&key.uid)
    );
    Ok(edits_json(&ctx, &path, &key, &window))
}

/// `/tools/`: tools with their batches and users, HTML or JSON, paged.
pub(crate) async fn tools_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let wants_json = match ctx.wants_json() {
        Ok(j) => j,
        Err(e) => return e.into_page().into_response(),
    };
    let answer = async {
        if ctx.params.after.is_some() || ctx.params.before.is_some() {
            return Err(HttpError::bad_request("the tools list pages by offset"));
        }
        let all = state.store.tools().await?;
        let limit = usize::try_from(ctx.params.limit).unwrap_or(usize::MAX);
        let offset = usize::try_from(ctx.params.offset).unwrap_or(usize::MAX);
        let items: Vec<ToolItem> = all
            .iter()
            .skip(offset)
            .take(limit)
            .map(|t| {
                let tool = ctx.links.site.tool(&t.tool);
                ToolItem {
                    name: tool.name,
                    shortid: tool.shortid,
                    url: tool.url,
                    nb_batches: t.nb_batches,
                    nb_unique_users: t.nb_users,
                }
            })
            .collect();
        let mut page = ctx.params.filters_only();
        page.format = ctx.params.format;
        let next = (all.len() > offset.saturating_add(limit)).then(|| Params {
            offset: ctx.params.offset + ctx.params.limit,
            ..page.clone()
        });
        let previous = (offset > 0).then(|| Params {
            offset: ctx.params.offset.saturating_sub(ctx.params.limit),
            ..page.clone()
        });
        let link =
            |p: &Option<Params>, absolute| p.as_ref().map(|p| ctx.link("/tools/", p, absolute));
        if wants_json {
            return Ok(json(&Envelope {
                next: link(&next, true),
                previous: link(&previous, true),
                results: items,
            }));
        }
        Ok(html(pages::tools(
            &ctx.links,
            &items,
            link(&previous, false),
            link(&next, false),
        )))
    };
    answer
        .await
        .unwrap_or_else(|e: HttpError| if wants_json { e } else { e.into_page() }.into_response())
}

/// `/robots.txt`: no crawling.
pub(crate) async fn robots() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "User-Agent: *\nDisallow: /\n",
    )
        .into_response()
}

/// `/static/style.css`.
pub(crate) async fn stylesheet(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        state.stylesheet.to_string(),
    )
        .into_response()
}

/// Anything else.
pub(crate) async fn not_found(headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let error = HttpError::not_found("Not found.");
    if prefers_json(accept) || !accept.contains("text/html") {
        error.into_response()
    } else {
        error.into_page().into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::prefers_json;

    #[test]
    fn accept_headers() {
        assert!(prefers_json("application/json"));
        assert!(prefers_json("application/json, text/html;q=0.9"));
        assert!(!prefers_json(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!prefers_json("*/*"));
        assert!(!prefers_json(""));
        assert!(!prefers_json("text/html, application/json"));
    }
}
