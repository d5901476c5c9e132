//! Shared by the web tests: stores filled from the recorded fixtures, the router
//! served on a loopback port, and a small HTTP client.

#![allow(dead_code, unreachable_pub)]

use editgroups_core::{BatchStore, Pipeline, RegexToolMatcher};
use editgroups_sources::ReplaySource;
use editgroups_store::http::Site;
use editgroups_store::{MemoryStore, SqlStore};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Every recorded fixture (EditGroups' test data, and the regenerated OpenRefine
/// batch).
pub fn fixture_files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("editgroups"))
        .expect("fixtures/editgroups")
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files.push(root.join("synthetic/one_or_batch.json"));
    files
}

/// Replays the fixtures into a store.
pub async fn fill(store: Arc<dyn BatchStore>) {
    let pipeline = Pipeline::builder()
        .source(ReplaySource::from_files(fixture_files()))
        .matcher(RegexToolMatcher::default())
        .shared_store(store)
        .build()
        .expect("pipeline");
    pipeline.run().await.expect("replay of the fixtures");
}

/// A memory store holding the fixtures.
pub async fn memory_store() -> Arc<dyn BatchStore> {
    let store: Arc<dyn BatchStore> = Arc::new(MemoryStore::new());
    fill(store.clone()).await;
    store
}

/// A SQLite file holding the fixtures (the directory lives as long as the
/// returned guard).
pub async fn sqlite_store() -> (Arc<dyn BatchStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("web.db").display());
    let store: Arc<dyn BatchStore> = Arc::new(SqlStore::open(&url).await.expect("sqlite"));
    fill(store.clone()).await;
    (store, dir)
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves an axum app on a free loopback port.
pub async fn serve_app(app: axum::Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Server {
        addr,
        base: format!("http://{addr}"),
        task,
    }
}

/// Serves the router over a store.
pub async fn serve(store: Arc<dyn BatchStore>, site: Site) -> Server {
    serve_app(editgroups_store::http::router(store, site)).await
}

/// A client that follows no redirect.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// GET, with an optional Accept header: (status, headers, body).
pub async fn get(url: &str, accept: Option<&str>) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = client().get(url);
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.expect("body");
    (status, headers, body)
}

/// GET a JSON answer that must be 200.
pub async fn get_json(url: &str) -> serde_json::Value {
    let (status, headers, body) = get(url, None).await;
    assert_eq!(status, 200, "GET {url}: {body}");
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "GET {url}"
    );
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: {e}: {body}"))
}
