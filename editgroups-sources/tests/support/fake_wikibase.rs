//! A scripted Wikibase api.php on a loopback socket (raw HTTP/1.1 over
//! `tokio::net::TcpListener`) for the inspector: `action=compare` answers the
//! diff HTML the test gives for a (from, to) pair, `prop=revisions` the entity
//! JSON of the revisions the test gives (the others in `badrevids`), or a whole
//! recorded answer; faults (API errors, malformed bodies, 5xx, maxlag) on
//! demand. It records every request and how many were in flight at once.

use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub params: BTreeMap<String, String>,
    pub at: Instant,
    pub user_agent: Option<String>,
}

/// What the fake answers to one diff.
#[derive(Debug, Clone)]
pub enum Diff {
    /// The diff HTML (in `compare.body`, format version 2).
    Html(String),
    /// An API error object.
    Error(&'static str),
    /// A body that is not JSON.
    Garbage,
    /// JSON without a diff.
    NoBody,
}

/// A fault served before the normal answer, one per request.
#[derive(Debug, Clone)]
pub enum Fault {
    Status(u16),
    Maxlag { retry_after: u64 },
    Delay(Duration),
}

#[derive(Debug, Default)]
struct State {
    diffs: BTreeMap<(u64, u64), Diff>,
    revisions: BTreeMap<u64, String>,
    canned: BTreeMap<String, String>,
    faults: VecDeque<Fault>,
    requests: Vec<Request>,
}

/// The fake server; it stops when dropped.
#[derive(Debug)]
pub struct FakeWikibase {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWikibase {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeWikibase {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let (s, i, m) = (state.clone(), in_flight.clone(), max_in_flight.clone());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (s, i, m) = (s.clone(), i.clone(), m.clone());
                tokio::spawn(async move {
                    let now = i.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    let _ = serve(socket, s).await;
                    i.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self {
            addr,
            state,
            in_flight,
            max_in_flight,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/w/api.php", self.addr)
    }

    pub fn add_diff(&self, from: u64, to: u64, diff: Diff) {
        self.state.lock().unwrap().diffs.insert((from, to), diff);
    }

    pub fn add_revision(&self, revid: u64, content: &str) {
        self.state
            .lock()
            .unwrap()
            .revisions
            .insert(revid, content.to_owned());
    }

    /// A whole recorded answer for `prop=revisions` with exactly these `revids`.
    pub fn add_canned_revisions(&self, revids: &str, body: &str) {
        self.state
            .lock()
            .unwrap()
            .canned
            .insert(revids.to_owned(), body.to_owned());
    }

    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().unwrap().faults.extend(faults);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The most requests served at the same time so far.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn serve(mut socket: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let target = lines
        .next()
        .unwrap_or_default()
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let mut user_agent = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("user-agent")
        {
            user_agent = Some(value.trim().to_owned());
        }
    }
    let mut params = BTreeMap::new();
    if let Some((_, query)) = target.split_once('?') {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.insert(percent_decode(k), percent_decode(v));
        }
    }
    let request = Request {
        params,
        at: Instant::now(),
        user_agent,
    };
    let (fault, reply) = {
        let mut state = state.lock().unwrap();
        state.requests.push(request.clone());
        (state.faults.pop_front(), answer(&state, &request.params))
    };
    let (status, extra, body) = match fault {
        None => (200, String::new(), reply),
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            (200, String::new(), reply)
        }
        Some(Fault::Status(s)) => (s, String::new(), "<html>oops</html>".to_owned()),
        Some(Fault::Maxlag { retry_after }) => (
            200,
            format!("Retry-After: {retry_after}\r\n"),
            json!({"error": {"code": "maxlag", "info": "Waiting for db1: 7 seconds lagged"}})
                .to_string(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    socket.write_all(response.as_bytes()).await?;
    socket.shutdown().await
}

fn error(code: &str) -> String {
    json!({"error": {"code": code, "info": format!("scripted {code}")}}).to_string()
}

fn answer(state: &State, p: &BTreeMap<String, String>) -> String {
    let get = |k: &str| p.get(k).map(String::as_str);
    if get("meta") == Some("siteinfo") {
        return json!({"query": {"general": {"wikiid": "wikidatawiki"}}}).to_string();
    }
    if get("action") == Some("compare") {
        let pair = (
            get("fromrev").and_then(|v| v.parse().ok()).unwrap_or(0),
            get("torev").and_then(|v| v.parse().ok()).unwrap_or(0),
        );
        return match state.diffs.get(&pair) {
            Some(Diff::Html(html)) => {
                json!({"compare": {"fromrevid": pair.0, "torevid": pair.1, "body": html}})
                    .to_string()
            }
            Some(Diff::Error(code)) => error(code),
            Some(Diff::Garbage) => "<html>not json".to_owned(),
            Some(Diff::NoBody) => json!({"compare": {"fromrevid": pair.0}}).to_string(),
            None => error("nosuchrevid"),
        };
    }
    if get("action") == Some("query") && get("prop") == Some("revisions") {
        let revids = get("revids").unwrap_or("");
        if let Some(body) = state.canned.get(revids) {
            return body.clone();
        }
        let mut pages = Vec::new();
        let mut bad = Vec::new();
        for id in revids.split('|').filter_map(|r| r.parse::<u64>().ok()) {
            match state.revisions.get(&id) {
                Some(content) => pages.push(json!({
                    "pageid": id, "ns": 0, "title": format!("Q{id}"),
                    "revisions": [{"revid": id, "parentid": 0, "slots": {"main": {
                        "contentmodel": "wikibase-item", "contentformat": "application/json",
                        "content": content}}}]
                })),
                None => bad.push(json!({"revid": id, "missing": true})),
            }
        }
        let mut query = json!({"pages": pages});
        if !bad.is_empty() {
            query["badrevids"] = Value::Array(bad);
        }
        return json!({"batchcomplete": true, "query": query}).to_string();
    }
    error("badvalue")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
