//! The web service under load over loopback: the router of
//! `editgroups_store::http` on a loopback listener (two worker threads, as
//! `serve` has on this machine), loaded by a Rust load generator in the same
//! process (keep-alive HTTP/1.1 connections, one thread): requests/s, median and
//! 99th-percentile latency, for the API list, the HTML list (with the list cache
//! of a second, as served, and without), the page of the largest batch, the last
//! page of the list and the 1,000th of the largest batch's edits, and the CSV of
//! every batch.
//!
//! ```text
//! cargo bench -p editgroups-benches --bench web
//! EDITGROUPS_BENCH_WEB_DB="sqlite://big.db?mode=rwc" cargo bench -p editgroups-benches --bench web
//! EDITGROUPS_BENCH_WEB_DB=postgres://postgres@127.0.0.1/big cargo bench -p editgroups-benches --bench web
//! ```
//!
//! Without `EDITGROUPS_BENCH_WEB_DB` it builds a SQLite store of 300,000
//! generated events first. `EDITGROUPS_BENCH_SECONDS` (default 5) is the time per
//! URL, `EDITGROUPS_BENCH_CONNECTIONS` (default 16) the connections.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use bytes::Bytes;
use editgroups_benches::{GeneratorConfig, write_events};
use editgroups_core::{BatchQuery, BatchStore, Pipeline};
use editgroups_sources::ReplaySource;
use editgroups_store::SqlStore;
use editgroups_store::http::{Site, router};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The store to serve: the one named, or a SQLite file of generated events.
async fn store(dir: &std::path::Path) -> (String, Arc<dyn BatchStore>) {
    let url = match std::env::var("EDITGROUPS_BENCH_WEB_DB") {
        Ok(url) => url,
        Err(_) => {
            let url = format!("sqlite://{}?mode=rwc", dir.join("web.db").display());
            let events = dir.join("events.json");
            let mut out = BufWriter::new(std::fs::File::create(&events).unwrap());
            write_events(&GeneratorConfig::new(42, 300_000), &mut out).unwrap();
            out.flush().unwrap();
            drop(out);
            let writer = SqlStore::open(&url).await.unwrap();
            Pipeline::builder()
                .source(ReplaySource::from_files([events]))
                .shared_store(Arc::new(writer.clone()))
                .chunk_size(10_000)
                .build()
                .unwrap()
                .run()
                .await
                .unwrap();
            writer.close().await.unwrap();
            url
        }
    };
    // As `serve` does: readers of their own (the writer migrated the schema).
    SqlStore::open(&url).await.unwrap().close().await.unwrap();
    let readers = SqlStore::connect_readers(&url, 4).await.unwrap();
    (url, Arc::new(readers))
}

/// One keep-alive connection's requests.
async fn connection(addr: SocketAddr, path: String, until: Instant) -> Vec<u32> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut latencies = Vec::new();
    while Instant::now() < until {
        let request = hyper::Request::get(&path)
            .header("host", addr.to_string())
            .body(Empty::<Bytes>::new())
            .unwrap();
        let start = Instant::now();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        latencies.push(u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
    latencies
}

/// Loads one URL; prints requests/s, p50 and p99.
async fn load(addr: SocketAddr, name: &str, path: &str, seconds: u64, connections: usize) {
    // Warm-up.
    let _ = connection(
        addr,
        path.to_owned(),
        Instant::now() + Duration::from_millis(300),
    )
    .await;
    let start = Instant::now();
    let until = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(addr, path.to_owned(), until)))
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    println!(
        "{name:<34} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} requests, {connections} connections)",
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        all.len()
    );
}

/// GETs a path once: (status, body).
async fn fetch(addr: SocketAddr, path: &str) -> (u16, Bytes) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = hyper::Request::get(path)
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

/// GETs a path, reading the body as it streams: (status, bytes, lines).
async fn fetch_streamed(addr: SocketAddr, path: &str) -> (u16, usize, usize) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = hyper::Request::get(path)
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let (mut bytes, mut lines) = (0, 0);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            bytes += data.len();
            lines += data.iter().filter(|b| **b == b'\n').count();
        }
    }
    (status, bytes, lines)
}

/// The path and query of an absolute link.
fn path_of(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    url[after_scheme..]
        .find('/')
        .map_or_else(|| "/".to_owned(), |i| url[after_scheme + i..].to_owned())
}

fn resident_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let seconds: u64 = env_or("EDITGROUPS_BENCH_SECONDS", 5);
    let connections: usize = env_or("EDITGROUPS_BENCH_CONNECTIONS", 16);
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (url, store) = server_rt.block_on(store(dir.path()));
    let batches = server_rt.block_on(async {
        store
            .list_batches(&BatchQuery::new().with_wiki("wikidatawiki"))
            .await
            .unwrap()
    });
    let edits: u64 = batches.iter().map(|b| b.nb_edits).sum();
    let largest = batches.iter().max_by_key(|b| b.nb_edits).unwrap().clone();
    println!(
        "store {url}: {} batches, {edits} edits; largest {} with {} edits",
        batches.len(),
        largest.key,
        largest.nb_edits
    );
    let serve_with = |site: Site| {
        let listener = server_rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(store.clone(), site);
        server_rt.spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        addr
    };
    let addr = serve_with(Site::default());
    // The same service with the lists read afresh at every request.
    let uncached = serve_with(Site {
        list_cache_milliseconds: 0,
        ..Site::default()
    });
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    client_rt.block_on(async {
        let batch = format!("/b/{}/{}/", largest.key.tool, largest.key.uid);
        // The first view of the largest batch counts its timeline; later ones
        // find it kept while the batch stays as it is.
        let start = Instant::now();
        let (status, _) = fetch(addr, &batch).await;
        assert_eq!(status, 200);
        println!(
            "largest batch page, first view: {:.2} ms",
            start.elapsed().as_secs_f64() * 1000.0
        );
        // The last page of the list and the 1,000th page of the largest batch's
        // edits, of 15 each, reached through `next` links.
        let walk_to = |first: String, pages: usize| async move {
            let mut page = first;
            let mut reached = 1;
            while reached < pages {
                let (_, body) = fetch(addr, &page).await;
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                match json["next"].as_str() {
                    Some(next) => page = path_of(next),
                    None => break,
                }
                reached += 1;
            }
            (page, reached)
        };
        let walk = Instant::now();
        let (page, list_pages) = walk_to("/api/?limit=15".to_owned(), 1000).await;
        let edits_first = format!(
            "/api/b/{}/{}/edits/?limit=15",
            largest.key.tool, largest.key.uid
        );
        let (edits_page, edit_pages) = walk_to(edits_first.clone(), 1000).await;
        println!(
            "walked to page {list_pages} of the list and page {edit_pages} of the largest batch's edits in {:.2} s",
            walk.elapsed().as_secs_f64()
        );
        load(addr, "/api/?limit=15", "/api/?limit=15", seconds, connections).await;
        load(addr, "/ (HTML list)", "/", seconds, connections).await;
        load(
            uncached,
            "/api/?limit=15, list cache off",
            "/api/?limit=15",
            seconds,
            connections,
        )
        .await;
        load(uncached, "/ (HTML list), list cache off", "/", seconds, connections).await;
        load(addr, "/api/ last page (keyset)", &page, seconds, connections).await;
        load(addr, "edits, first page", &edits_first, seconds, connections).await;
        load(
            addr,
            &format!("edits, page {edit_pages} (keyset)"),
            &edits_page,
            seconds,
            connections,
        )
        .await;
        load(addr, "largest batch page (HTML)", &batch, seconds, connections).await;
        load(
            addr,
            "largest batch, JSON",
            &format!("/api/b/{}/{}/", largest.key.tool, largest.key.uid),
            seconds,
            connections,
        )
        .await;
        // One batch page at a time: its own latency.
        let mut single = Vec::new();
        for _ in 0..50 {
            let start = Instant::now();
            let (status, _) = fetch(addr, &batch).await;
            assert_eq!(status, 200);
            single.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        single.sort_by(f64::total_cmp);
        println!(
            "largest batch page, one at a time: median {:.2} ms, max {:.2} ms",
            single[single.len() / 2],
            single[single.len() - 1]
        );
        let before = resident_mb();
        let start = Instant::now();
        let (status, bytes, lines) = fetch_streamed(addr, "/api/batches.csv").await;
        assert_eq!(status, 200);
        println!(
            "CSV of every batch: {} rows, {:.1} MB in {:.2} s; process resident {before:.0} MB before, {:.0} MB after",
            lines - 1,
            bytes as f64 / 1e6,
            start.elapsed().as_secs_f64(),
            resident_mb()
        );
        let start = Instant::now();
        let (status, bytes, _) = fetch_streamed(
            addr,
            &format!("/api/b/{}/{}/edits.csv", largest.key.tool, largest.key.uid),
        )
        .await;
        assert_eq!(status, 200);
        println!(
            "CSV of the largest batch's edits: {:.1} MB in {:.2} s; process resident {:.0} MB",
            bytes as f64 / 1e6,
            start.elapsed().as_secs_f64(),
            resident_mb()
        );
    });
}
