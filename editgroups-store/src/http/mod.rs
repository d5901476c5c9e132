//! The web service (feature `http`): EditGroups' pages and JSON/CSV API over any
//! [`BatchStore`], as an [`axum::Router`] a host mounts where it likes:
//!
//! ```no_run
//! # async fn host() -> Result<(), Box<dyn std::error::Error>> {
//! use editgroups_store::http::{Site, router};
//! let store = editgroups_store::open_store("sqlite://editgroups.db?mode=rwc").await?;
//! let app = axum::Router::new().nest("/editgroups", router(store, Site::default()));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! # URLs
//! EditGroups' URLs serve the site's default wiki, unchanged; every wiki is also
//! under `/w/WIKI/` (`/w/commonswiki/b/OR/1234abcd/`):
//!
//! | URL | what |
//! |---|---|
//! | `/` | batch list (HTML; JSON with `Accept: application/json` or `?format=json`) |
//! | `/api/` | batch list, JSON `{next, previous, results}` |
//! | `/api/batches.csv` | every matching batch, CSV, streamed |
//! | `/b/TOOL/` | 301 to `/?tool=TOOL` |
//! | `/b/TOOL/UID/`, `/api/b/TOOL/UID/` | one batch (HTML or JSON) |
//! | `/b/TOOL/UID/edits/`, `/api/b/TOOL/UID/edits/` | its edits, newest first |
//! | `/api/b/TOOL/UID/edits.csv` | all its edits, CSV, streamed |
//! | `/tools/` | tools with their batches and users |
//! | `/healthz`, `/metrics`, `/robots.txt` | lag and store status; Prometheus text; no crawling |
//!
//! Lists take `tool`, `user`, `tags` (comma-separated, all required), `wiki`,
//! `limit` (default 15, at most 500) and `offset` (at most 10,000); `next` and
//! `previous` links carry the position (`after`/`before`), so that a deep page
//! costs what the first costs. A bad parameter is a 400 with a message.
//! The lists' answers are kept for [`Site::list_cache_milliseconds`] (a second
//! by default): a list may show the store as it was that long ago.
//!
//! # Security
//! Every value is escaped by the templates; `parsedcomment` (HTML from the wiki)
//! is cut down by a sanitizer to links and text. Answers carry a strict
//! `Content-Security-Policy` (no script at all, styles from the stylesheet only)
//! and `X-Content-Type-Options: nosniff`. Requests have a time limit and a
//! bounded number run at once; CSV streams at the pace the client reads.

mod cache;
mod comment;
mod csv;
mod error;
mod handlers;
mod health;
mod links;
mod pages;
mod params;
mod site;
mod timeline;
mod views;

pub use health::HttpMetrics;
pub use site::{Site, SiteError, ToolSite, WikiSite};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::get;
use editgroups_core::pipeline::PipelineStats;
use editgroups_core::{BatchStore, RevertTaskStore};
use std::sync::Arc;
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// The policy of every answer: nothing runs, styles come from our stylesheet,
/// pictures from us or inline SVG, no framing, no forms elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What every handler shares.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<dyn BatchStore>,
    /// Revert tasks, for stores that keep them.
    pub(crate) tasks: Option<Arc<dyn RevertTaskStore>>,
    pub(crate) site: Arc<Site>,
    pub(crate) metrics: Arc<HttpMetrics>,
    pub(crate) stylesheet: Arc<str>,
    /// The batch lists' answers of the last moment.
    pub(crate) list_cache: Arc<cache::ListCache>,
    /// The timelines of large batches, while their figures stay the same.
    pub(crate) timelines: Arc<cache::TimelineCache>,
}

/// The web service over any batch store: pages, API, health and metrics.
pub fn router(store: Arc<dyn BatchStore>, site: Site) -> Router {
    build(store, None, site, None)
}

/// The web service over one of this crate's stores, whose revert tasks the
/// batch pages show (`active_revert_task`); with the counters of a pipeline
/// feeding it in the same process, `/metrics` shows them too.
pub fn store_router(
    store: Arc<dyn crate::Store>,
    site: Site,
    pipeline: Option<Arc<PipelineStats>>,
) -> Router {
    let tasks: Arc<dyn RevertTaskStore> = store.clone();
    build(store, Some(tasks), site, pipeline)
}

/// The web service over a batch store fed by a pipeline in the same process:
/// `/metrics` also shows the pipeline's counters.
pub fn router_with_pipeline(
    store: Arc<dyn BatchStore>,
    site: Site,
    pipeline: Arc<PipelineStats>,
) -> Router {
    build(store, None, site, Some(pipeline))
}

/// The routes of one wiki's pages, relative to `/` or `/w/WIKI`.
fn wiki_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(handlers::list_page))
        .route("/api/", get(handlers::list_api))
        .route("/api/batches.csv", get(csv::batches))
        .route("/b/{tool}", get(handlers::tool_redirect))
        .route("/b/{tool}/", get(handlers::tool_redirect))
        .route("/b/{tool}/{uid}/", get(handlers::batch_page))
        .route("/api/b/{tool}/{uid}/", get(handlers::batch_api))
        .route("/b/{tool}/{uid}/edits/", get(handlers::edits_page))
        .route("/api/b/{tool}/{uid}/edits/", get(handlers::edits_api))
        .route("/api/b/{tool}/{uid}/edits.csv", get(csv::edits))
        .route("/tools/", get(handlers::tools_page))
}

fn build(
    store: Arc<dyn BatchStore>,
    tasks: Option<Arc<dyn RevertTaskStore>>,
    site: Site,
    pipeline: Option<Arc<PipelineStats>>,
) -> Router {
    let timeout = Duration::from_secs(site.request_timeout_seconds.max(1));
    let concurrency = site.max_concurrent_requests.max(1);
    let metrics = Arc::new(HttpMetrics::new(pipeline));
    let list_cache = Arc::new(cache::ListCache::new(Duration::from_millis(
        site.list_cache_milliseconds,
    )));
    let state = AppState {
        list_cache,
        timelines: Arc::default(),
        store,
        tasks,
        site: Arc::new(site),
        metrics: metrics.clone(),
        stylesheet: Arc::from(pages::stylesheet()),
    };
    Router::new()
        .merge(wiki_routes())
        .route("/w/{wiki}/", get(handlers::list_page))
        .nest("/w/{wiki}", wiki_routes())
        .route("/robots.txt", get(handlers::robots))
        .route("/static/style.css", get(handlers::stylesheet))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn(params::refuse_nul))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            health::count_requests,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(concurrency))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}
