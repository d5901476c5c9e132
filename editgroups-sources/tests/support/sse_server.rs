//! A loopback EventStreams stand-in for tests: raw HTTP/1.1 on a
//! `tokio::net::TcpListener`, serving a history of recorded events as
//! server-sent events with KafkaSSE-style ids, and misbehaving on demand.
//!
//! Ids are what EventStreams sends: a JSON array with one entry per
//! topic-partition, `timestamp` (Kafka message time + 1 ms) for the partition
//! that delivered, `offset: -1` for the one that did not. A request resumes from
//! its `Last-Event-ID` (or `?since=`) like KafkaSSE does, optionally `rewind_ms`
//! earlier, as timestamp resume does in practice.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub const TOPIC: &str = "eqiad.mediawiki.recentchange";
pub const OTHER_TOPIC: &str = "codfw.mediawiki.recentchange";

/// One event of the history.
#[derive(Debug, Clone)]
pub struct Served {
    pub data: String,
    /// The Kafka message time, in ms, strictly increasing along the history.
    pub kafka_ts: i64,
}

impl Served {
    /// The SSE id a client sees after this event.
    pub fn id(&self) -> String {
        format!(
            r#"[{{"topic":"{TOPIC}","partition":0,"timestamp":{}}},{{"topic":"{OTHER_TOPIC}","partition":0,"offset":-1}}]"#,
            self.kafka_ts + 1
        )
    }
}

/// What the n-th request gets.
#[derive(Debug, Clone)]
pub enum Plan {
    /// The stream, with the server's settings.
    Stream,
    /// A status with a JSON body, and `Retry-After` seconds if given.
    Status {
        code: u16,
        body: String,
        retry_after: Option<u64>,
    },
    /// The stream, which goes silent (but stays open) after this many events.
    StallAfter(usize),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub history: Vec<Served>,
    /// End a connection after this many events.
    pub close_every: Option<usize>,
    /// Cut every other closing connection in the middle of a frame.
    pub mid_frame: bool,
    /// Write in pieces of random size (HTTP chunks of 1 to 300 bytes).
    pub split: bool,
    /// Resume this many ms before the position asked for.
    pub rewind_ms: i64,
    /// Requests in order; later ones get [`Plan::Stream`].
    pub plan: Vec<Plan>,
    /// Interleave comments and `event: error` messages.
    pub noise: bool,
    /// `\n`, `\r\n` or `\r`.
    pub line_end: &'static str,
    pub seed: u64,
}

impl Config {
    pub fn new(history: Vec<Served>) -> Self {
        Self {
            history,
            close_every: None,
            mid_frame: false,
            split: false,
            rewind_ms: 0,
            plan: Vec::new(),
            noise: false,
            line_end: "\n",
            seed: 7,
        }
    }
}

/// What a request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub target: String,
    pub last_event_id: Option<String>,
    pub user_agent: Option<String>,
    pub since: Option<String>,
    pub at: std::time::Instant,
}

#[derive(Debug, Clone)]
pub struct Server {
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    config: Arc<Config>,
}

impl Server {
    pub async fn start(config: Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/v2/stream/recentchange",
            listener.local_addr().unwrap()
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let config = Arc::new(config);
        let counter = Arc::new(AtomicUsize::new(0));
        let (log, cfg) = (requests.clone(), config.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (log, cfg, counter) = (log.clone(), cfg.clone(), counter.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, &cfg, &log, &counter).await;
                });
            }
        });
        Self {
            url,
            requests,
            config,
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The id after the last event of the history.
    pub fn last_id(&self) -> String {
        self.config.history.last().unwrap().id()
    }
}

/// A history from JSON lines, with Kafka times from the events' own timestamps,
/// made strictly increasing as in one partition: an event older than the one
/// before it gets a time 20 ms after it.
pub fn history(lines: &[String]) -> Vec<Served> {
    let mut previous = i64::MIN;
    lines
        .iter()
        .map(|line| {
            let seconds = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("timestamp").and_then(|t| t.as_i64()))
                .unwrap_or(1_520_000_000);
            let kafka_ts = (seconds * 1000).max(previous.saturating_add(20));
            previous = kafka_ts;
            Served {
                data: line.clone(),
                kafka_ts,
            }
        })
        .collect()
}

pub fn canary(dt: &str) -> String {
    format!(
        r#"{{"$schema":"/mediawiki/recentchange/1.0.1","meta":{{"dt":"{dt}","stream":"mediawiki.recentchange","domain":"canary"}}}}"#
    )
}

fn problem(kind: &str, title: &str, detail: &str) -> String {
    serde_json::json!({"type": kind, "title": title, "detail": detail, "status": 400}).to_string()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where a request starts in the history, or the 400 body refusing it.
fn start(config: &Config, request: &Request) -> Result<usize, String> {
    let from_ts = if let Some(id) = &request.last_event_id {
        let value: serde_json::Value = serde_json::from_str(id).map_err(|e| {
            problem(
                "InvalidAssignmentError",
                "Invalid Last-Event-ID",
                &format!("cannot parse {id:?}: {e}"),
            )
        })?;
        let entries = value.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
            problem(
                "InvalidAssignmentError",
                "Invalid Last-Event-ID",
                "must be a non-empty array of assignments",
            )
        })?;
        let mine = entries
            .iter()
            .find(|e| e.get("topic").and_then(|t| t.as_str()) == Some(TOPIC));
        match mine
            .and_then(|e| e.get("timestamp"))
            .and_then(|t| t.as_i64())
        {
            Some(ts) => Some(ts),
            None => {
                return Err(problem(
                    "InvalidAssignmentError",
                    "Invalid Last-Event-ID",
                    &format!("no timestamp for {TOPIC}"),
                ));
            }
        }
    } else if let Some(since) = &request.since {
        let ms = since.parse::<i64>().ok().or_else(|| {
            chrono::DateTime::parse_from_rfc3339(since)
                .ok()
                .map(|t| t.timestamp_millis())
        });
        Some(ms.ok_or_else(|| {
            problem(
                "invalid_timestamp",
                "Invalid timestamp",
                &format!("since={since} is not a timestamp"),
            )
        })?)
    } else {
        None
    };
    Ok(match from_ts {
        None => 0,
        Some(ts) => {
            let ts = ts - config.rewind_ms;
            config
                .history
                .iter()
                .position(|e| e.kafka_ts >= ts)
                .unwrap_or(config.history.len())
        }
    })
}

async fn read_request(socket: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    socket.read_line(&mut line).await.ok()?;
    let target = line.split_whitespace().nth(1)?.to_owned();
    let mut last_event_id = None;
    let mut user_agent = None;
    loop {
        line.clear();
        if socket.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim().to_owned();
            match name.to_ascii_lowercase().as_str() {
                "last-event-id" => last_event_id = Some(value),
                "user-agent" => user_agent = Some(value),
                _ => {}
            }
        }
    }
    let since = target.split_once('?').and_then(|(_, query)| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "since")
            .map(|(_, v)| percent_decode(v))
    });
    Some(Request {
        target,
        last_event_id,
        user_agent,
        since,
        at: std::time::Instant::now(),
    })
}

async fn respond_status(
    socket: &mut BufReader<TcpStream>,
    code: u16,
    body: &str,
    retry_after: Option<u64>,
) -> std::io::Result<()> {
    let retry = retry_after
        .map(|s| format!("Retry-After: {s}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {code} Status\r\nContent-Type: application/problem+json\r\nContent-Length: {}\r\n{retry}Connection: close\r\n\r\n",
        body.len()
    );
    let socket = socket.get_mut();
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body.as_bytes()).await?;
    socket.shutdown().await
}

/// Writes `data` as HTTP chunks, in random pieces when splitting.
async fn write_chunks(
    socket: &mut TcpStream,
    data: &[u8],
    split: bool,
    rng: &mut fastrand::Rng,
) -> std::io::Result<()> {
    let mut rest = data;
    while !rest.is_empty() {
        let n = if split {
            rng.usize(1..=300).min(rest.len())
        } else {
            rest.len()
        };
        let (piece, tail) = rest.split_at(n);
        let mut frame = format!("{n:x}\r\n").into_bytes();
        frame.extend_from_slice(piece);
        frame.extend_from_slice(b"\r\n");
        socket.write_all(&frame).await?;
        rest = tail;
    }
    Ok(())
}

fn frame(served: &Served, end: &str) -> String {
    format!(
        "event: message{end}id: {}{end}data: {}{end}{end}",
        served.id(),
        served.data
    )
}

async fn serve(
    socket: TcpStream,
    config: &Config,
    log: &Mutex<Vec<Request>>,
    counter: &AtomicUsize,
) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let mut socket = BufReader::new(socket);
    let Some(request) = read_request(&mut socket).await else {
        return Ok(());
    };
    let n = counter.fetch_add(1, Ordering::SeqCst);
    log.lock().unwrap().push(request.clone());
    let plan = config.plan.get(n).cloned().unwrap_or(Plan::Stream);
    let stall_after = match plan {
        Plan::Status {
            code,
            body,
            retry_after,
        } => return respond_status(&mut socket, code, &body, retry_after).await,
        Plan::Stream => None,
        Plan::StallAfter(k) => Some(k),
    };
    let first = match start(config, &request) {
        Ok(first) => first,
        Err(body) => return respond_status(&mut socket, 400, &body, None).await,
    };
    let socket = socket.get_mut();
    socket
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        )
        .await?;
    let mut rng = fastrand::Rng::with_seed(config.seed.wrapping_add(n as u64));
    let end = config.line_end;
    let mut out = format!(":ok{end}{end}").into_bytes();
    for (sent, (i, served)) in config.history.iter().enumerate().skip(first).enumerate() {
        if stall_after == Some(sent) {
            write_chunks(socket, &out, config.split, &mut rng).await?;
            tokio::time::sleep(Duration::from_secs(30)).await;
            return Ok(());
        }
        if config.close_every == Some(sent) {
            if config.mid_frame && n % 2 == 1 {
                // Half a frame, then the connection drops without ending the body.
                let text = frame(served, end);
                let cut = rng.usize(1..text.len());
                out.extend_from_slice(&text.as_bytes()[..cut]);
                write_chunks(socket, &out, config.split, &mut rng).await?;
                return Ok(());
            }
            write_chunks(socket, &out, config.split, &mut rng).await?;
            socket.write_all(b"0\r\n\r\n").await?;
            return socket.shutdown().await;
        }
        if config.noise {
            if i % 13 == 0 {
                out.extend_from_slice(format!(": heartbeat {i}{end}").as_bytes());
            }
            if i % 97 == 0 {
                out.extend_from_slice(
                    format!(
                        "event: error{end}data: {{\"message\":\"consumer lag {i}\"}}{end}{end}"
                    )
                    .as_bytes(),
                );
            }
        }
        out.extend_from_slice(frame(served, end).as_bytes());
        if out.len() >= 16 * 1024 {
            write_chunks(socket, &out, config.split, &mut rng).await?;
            out.clear();
        }
    }
    write_chunks(socket, &out, config.split, &mut rng).await?;
    // The end of the history: stay open and silent, like a quiet stream.
    tokio::time::sleep(Duration::from_secs(30)).await;
    Ok(())
}
