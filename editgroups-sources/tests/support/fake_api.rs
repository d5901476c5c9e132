//! A scripted api.php on a loopback socket (raw HTTP/1.1 over
//! `tokio::net::TcpListener`), for what a real wiki will not do on demand: lag,
//! 500s, slow answers, rows committed late, thousands of pages, purged history.
//!
//! It serves `meta=siteinfo` and a faithful `list=recentchanges` (`rcdir=newer`,
//! inclusive `rcstart`, `rccontinue` = `YYYYMMDDHHMMSS|rcid` of the next row,
//! `rclimit`, `rcnamespace`), over rows the test adds at any time; faults queued
//! by the test are served first, one per request.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET` or `POST`.
    pub method: String,
    /// Query and form parameters, decoded.
    pub params: BTreeMap<String, String>,
    /// When it arrived.
    pub at: Instant,
    /// Its User-Agent.
    pub user_agent: Option<String>,
}

/// A fault served instead of the normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// An HTTP status with a plain body.
    Status(u16),
    /// `{"error":{"code":"maxlag",...}}` with HTTP 200 and `Retry-After`.
    Maxlag { retry_after: u64 },
    /// Any API error object, with HTTP 200.
    ApiError(&'static str),
    /// Wait this long before answering normally.
    Delay(Duration),
    /// Answer normally (to aim a later fault at a later request).
    Pass,
}

/// A change on the fake wiki.
#[derive(Debug, Clone)]
pub struct Row {
    pub rcid: u64,
    pub timestamp: DateTime<Utc>,
    pub ns: i64,
    pub title: String,
    pub kind: &'static str,
    pub comment: String,
    pub user: String,
}

impl Row {
    /// An edit of `title` in ns 0.
    pub fn edit(rcid: u64, timestamp: DateTime<Utc>, title: &str, comment: &str) -> Self {
        Self {
            rcid,
            timestamp,
            ns: 0,
            title: title.to_owned(),
            kind: "edit",
            comment: comment.to_owned(),
            user: "Pintoch".to_owned(),
        }
    }

    fn json(&self) -> Value {
        let (revid, old_revid) = match self.kind {
            "log" => (0, 0),
            "new" => (self.rcid + 1000, 0),
            _ => (self.rcid + 1000, self.rcid + 999),
        };
        let mut row = json!({
            "type": self.kind, "ns": self.ns, "title": self.title, "pageid": 7,
            "revid": revid, "old_revid": old_revid, "rcid": self.rcid,
            "user": self.user, "bot": false, "new": self.kind == "new", "minor": false,
            "oldlen": 10, "newlen": 20,
            "timestamp": self.timestamp.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "comment": self.comment, "parsedcomment": self.comment,
        });
        // An empty title stands for a row whose action was hidden by revision
        // deletion: MediaWiki leaves out its title.
        if self.title.is_empty()
            && let Some(fields) = row.as_object_mut()
        {
            fields.remove("title");
            fields.remove("ns");
            fields.insert("actionhidden".into(), json!(true));
        }
        row
    }
}

#[derive(Debug, Default)]
struct State {
    rows: Vec<Row>,
    faults: VecDeque<Fault>,
    requests: Vec<Request>,
}

/// The fake server; it stops when dropped.
#[derive(Debug)]
pub struct FakeApi {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeApi {
    /// Starts a fake on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let _ = serve(socket, state).await;
                });
            }
        });
        Self { addr, state, task }
    }

    /// The api.php URL.
    pub fn url(&self) -> String {
        format!("http://{}/w/api.php", self.addr)
    }

    /// Adds changes (they become visible at once, whatever their timestamps).
    pub fn add_rows(&self, rows: impl IntoIterator<Item = Row>) {
        self.state.lock().unwrap().rows.extend(rows);
    }

    /// Removes changes older than `before`, as `$wgRCMaxAge` purging does.
    pub fn purge_before(&self, before: DateTime<Utc>) {
        self.state
            .lock()
            .unwrap()
            .rows
            .retain(|r| r.timestamp >= before);
    }

    /// Queues faults, served one per request before normal answers.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().unwrap().faults.extend(faults);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The `list=recentchanges` requests so far.
    pub fn rc_requests(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.params.get("list").map(String::as_str) == Some("recentchanges"))
            .collect()
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
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut content_length = 0;
    let mut user_agent = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => content_length = value.trim().parse().unwrap_or(0),
                "user-agent" => user_agent = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    while buffer.len() < head_end + content_length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let mut params = BTreeMap::new();
    if let Some((_, query)) = target.split_once('?') {
        decode_into(query, &mut params);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..]).to_string();
    decode_into(&body, &mut params);
    let request = Request {
        method,
        params,
        at: Instant::now(),
        user_agent,
    };
    let (fault, reply) = {
        let mut state = state.lock().unwrap();
        state.requests.push(request.clone());
        let fault = state.faults.pop_front();
        let reply = answer(&state.rows, &request);
        (fault, reply)
    };
    let (status, extra, body) = match fault {
        None | Some(Fault::Pass) => (200, String::new(), reply),
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            (200, String::new(), reply)
        }
        Some(Fault::Status(status)) => (status, String::new(), "<html>oops</html>".to_owned()),
        Some(Fault::Maxlag { retry_after }) => (
            200,
            format!("Retry-After: {retry_after}\r\nX-Database-Lag: 7\r\n"),
            json!({"error": {"code": "maxlag", "info": "Waiting for db1: 7 seconds lagged", "host": "db1", "lag": 7}}).to_string(),
        ),
        Some(Fault::ApiError(code)) => (
            200,
            String::new(),
            json!({"error": {"code": code, "info": format!("scripted {code}")}}).to_string(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    socket.write_all(response.as_bytes()).await?;
    socket.shutdown().await
}

fn answer(rows: &[Row], request: &Request) -> String {
    let p = &request.params;
    if p.get("meta").map(String::as_str) == Some("siteinfo") {
        return json!({"batchcomplete": true, "query": {"general": {"wikiid": "fakewiki", "sitename": "Fake"}}}).to_string();
    }
    if p.get("meta").map(String::as_str) == Some("tokens") {
        return json!({"batchcomplete": true, "query": {"tokens": {"logintoken": "abc+\\"}}})
            .to_string();
    }
    if p.get("action").map(String::as_str) == Some("login") {
        let ok = p.get("lgtoken").map(String::as_str) == Some("abc+\\")
            && p.get("lgpassword").map(String::as_str) == Some("0123456789abcdefghijklmnopqrstuv");
        let result = if ok {
            json!({"result": "Success", "lguserid": 3, "lgusername": "Bot"})
        } else {
            json!({"result": "Failed", "reason": "Incorrect username or password entered."})
        };
        return json!({"login": result}).to_string();
    }
    if p.get("list").map(String::as_str) != Some("recentchanges") {
        return json!({"error": {"code": "badvalue", "info": "the fake only knows recentchanges"}})
            .to_string();
    }
    let parse_ts = |text: &str| DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc));
    let start = match p.get("rcstart").map(|s| parse_ts(s)) {
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => {
            return json!({"error": {"code": "badtimestamp_rcstart", "info": "bad"}}).to_string();
        }
        None => None,
    };
    let from = match p.get("rccontinue") {
        Some(c) => {
            let parsed = c.split_once('|').and_then(|(ts, id)| {
                let ts = chrono::NaiveDateTime::parse_from_str(ts, "%Y%m%d%H%M%S").ok()?;
                Some((ts.and_utc(), id.parse::<u64>().ok()?))
            });
            match parsed {
                Some(from) if p.get("continue").map(String::as_str) == Some("-||") => Some(from),
                _ => {
                    return json!({"error": {"code": "badcontinue", "info": "Invalid continue param."}}).to_string();
                }
            }
        }
        None => None,
    };
    let namespaces: Option<Vec<i64>> = p
        .get("rcnamespace")
        .map(|n| n.split('|').filter_map(|x| x.parse().ok()).collect());
    let limit: usize = match p.get("rclimit").map(String::as_str) {
        Some("max") | None => 500,
        Some(n) => n.parse().unwrap_or(10),
    };
    let mut selected: Vec<&Row> = rows
        .iter()
        .filter(|r| start.is_none_or(|s| r.timestamp >= s))
        .filter(|r| from.is_none_or(|f| (r.timestamp, r.rcid) >= f))
        .filter(|r| namespaces.as_ref().is_none_or(|n| n.contains(&r.ns)))
        .collect();
    selected.sort_by_key(|r| (r.timestamp, r.rcid));
    let page: Vec<Value> = selected.iter().take(limit).map(|r| r.json()).collect();
    let mut body = json!({"batchcomplete": true, "query": {"recentchanges": page}});
    if let Some(next) = selected.get(limit) {
        body["continue"] = json!({
            "rccontinue": format!("{}|{}", next.timestamp.format("%Y%m%d%H%M%S"), next.rcid),
            "continue": "-||",
        });
    }
    body.to_string()
}

pub fn decode_into(text: &str, params: &mut BTreeMap<String, String>) {
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(percent_decode(key), percent_decode(value));
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
