//! A scripted wiki on a loopback socket that takes writes (`action=edit&undo`,
//! `delete`, `undelete`) and answers the reads a revert worker makes (tokens,
//! login, `meta=userinfo`, `meta=siteinfo`, `prop=revisions`, `list=logevents`),
//! for what a real wiki will not do on demand: `maxlag` with `Retry-After`,
//! 5xx, `badtoken`, `ratelimited`, an answer lost after the write was made.
//!
//! Pages have histories (revision id, user, comment) and a deletion log. An undo
//! of revision R succeeds when every later revision of the page is an undo (or
//! was undone); it is `nochange` when R was undone already; otherwise
//! `undofailure`. Faults queued for writes are served, one per write request,
//! before the normal answer.

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::fake_api::decode_into;

/// The bot password the fake accepts.
pub const PASSWORD: &str = "0123456789abcdefghijklmnopqrstuv";
/// The OAuth 2 token the fake accepts.
pub const OAUTH_TOKEN: &str = "oauth-token-of-Reverter";

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET` or `POST`.
    pub method: String,
    /// Query and form parameters, decoded.
    pub params: BTreeMap<String, String>,
    /// When it arrived.
    pub at: Instant,
    /// Its `Authorization` header.
    pub authorization: Option<String>,
}

impl Request {
    /// A parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// Whether it is a write (edit, delete, undelete).
    pub fn is_write(&self) -> bool {
        self.method == "POST"
            && matches!(self.param("action"), Some("edit" | "delete" | "undelete"))
    }
}

/// A fault served to the next write request instead of the normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// An HTTP status, nothing done.
    Status(u16),
    /// `maxlag` with `Retry-After`, nothing done.
    Maxlag { retry_after: u64 },
    /// An API error object, nothing done.
    ApiError(&'static str),
    /// The write is made, then the connection is closed without an answer.
    LoseAnswer,
    /// The write is made, then answered with HTTP 503.
    ApplyThenStatus(u16),
    /// Wait before answering normally.
    Delay(Duration),
    /// Answer normally (to aim a later fault at a later write).
    Pass,
}

/// A revision of a page.
#[derive(Debug, Clone)]
pub struct Revision {
    pub id: u64,
    pub user: String,
    pub comment: String,
}

#[derive(Debug, Clone, Default)]
struct Page {
    revisions: Vec<Revision>,
    deleted: bool,
}

/// An entry of the deletion log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub id: u64,
    pub title: String,
    pub action: &'static str,
    pub comment: String,
}

#[derive(Debug)]
struct State {
    pages: HashMap<String, Page>,
    log: Vec<LogEntry>,
    next_id: u64,
    faults: VecDeque<Fault>,
    requests: Vec<Request>,
    rights: Vec<String>,
    logged_in: bool,
    csrf_serial: u32,
}

/// The fake wiki; it stops when dropped.
#[derive(Debug)]
pub struct FakeWiki {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWiki {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeWiki {
    /// Starts a fake wiki whose account has `rights`.
    pub async fn start(rights: &[&str]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            pages: HashMap::new(),
            log: Vec::new(),
            next_id: 100,
            faults: VecDeque::new(),
            requests: Vec::new(),
            rights: rights.iter().map(|r| r.to_string()).collect(),
            logged_in: false,
            csrf_serial: 0,
        }));
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

    /// Adds a revision to a page (creating it); its id.
    pub fn edit(&self, title: &str, user: &str, comment: &str) -> u64 {
        let mut state = self.state.lock().unwrap();
        state.next_id += 1;
        let id = state.next_id;
        let page = state.pages.entry(title.to_owned()).or_default();
        page.deleted = false;
        page.revisions.push(Revision {
            id,
            user: user.to_owned(),
            comment: comment.to_owned(),
        });
        id
    }

    /// A page's revisions, oldest first (empty when missing or deleted).
    pub fn history(&self, title: &str) -> Vec<Revision> {
        let state = self.state.lock().unwrap();
        match state.pages.get(title) {
            Some(page) if !page.deleted => page.revisions.clone(),
            _ => Vec::new(),
        }
    }

    /// Whether a page exists.
    pub fn exists(&self, title: &str) -> bool {
        !self.history(title).is_empty()
    }

    /// The deletion log, oldest first.
    pub fn log(&self) -> Vec<LogEntry> {
        self.state.lock().unwrap().log.clone()
    }

    /// Queues faults, served one per write request.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().unwrap().faults.extend(faults);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The write requests so far.
    pub fn writes(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(Request::is_write)
            .collect()
    }
}

fn error(code: &str, info: &str) -> Value {
    json!({"error": {"code": code, "info": info}})
}

impl State {
    fn authorized(&self, request: &Request) -> bool {
        self.logged_in || request.authorization.as_deref() == Some(&format!("Bearer {OAUTH_TOKEN}"))
    }

    fn csrf(&self) -> String {
        format!("token{}+\\", self.csrf_serial)
    }

    /// The answer to a request, and the write it makes (applied by the caller).
    fn answer(&mut self, request: &Request) -> Value {
        let p = |k: &str| request.param(k).unwrap_or_default();
        if request.param("assert") == Some("user") && !self.authorized(request) {
            return error("assertuserfailed", "You are no longer logged in.");
        }
        match (p("action"), p("meta"), p("prop"), p("list")) {
            (_, "siteinfo", _, _) => {
                json!({"query": {"general": {"wikiid": "fakewiki", "sitename": "Fake"}}})
            }
            (_, "tokens", _, _) if p("type") == "login" => {
                json!({"query": {"tokens": {"logintoken": "login+\\"}}})
            }
            (_, "tokens", _, _) => {
                if self.authorized(request) {
                    json!({"query": {"tokens": {"csrftoken": self.csrf()}}})
                } else {
                    json!({"query": {"tokens": {"csrftoken": "+\\"}}})
                }
            }
            ("login", _, _, _) => {
                if p("lgtoken") == "login+\\" && p("lgpassword") == PASSWORD {
                    self.logged_in = true;
                    json!({"login": {"result": "Success", "lgusername": "Reverter"}})
                } else {
                    json!({"login": {"result": "Failed", "reason": "Incorrect username or password entered."}})
                }
            }
            (_, "userinfo", _, _) => {
                if self.authorized(request) {
                    json!({"query": {"userinfo": {"id": 3, "name": "Reverter", "rights": self.rights, "groups": ["user"]}}})
                } else {
                    json!({"query": {"userinfo": {"id": 0, "name": "127.0.0.1", "anon": true, "rights": ["read"]}}})
                }
            }
            (_, _, "revisions", _) => {
                let title = p("titles");
                let limit: usize = p("rvlimit").parse().unwrap_or(1);
                match self.pages.get(title) {
                    Some(page) if !page.deleted => {
                        let revisions: Vec<Value> = page
                            .revisions
                            .iter()
                            .rev()
                            .take(limit)
                            .map(|r| json!({"revid": r.id, "user": r.user, "comment": r.comment}))
                            .collect();
                        json!({"query": {"pages": [{"title": title, "revisions": revisions}]}})
                    }
                    _ => json!({"query": {"pages": [{"title": title, "missing": true}]}}),
                }
            }
            (_, _, _, "logevents") => {
                let limit: usize = p("lelimit").parse().unwrap_or(1);
                let entries: Vec<Value> = self
                    .log
                    .iter()
                    .rev()
                    .filter(|e| e.title == p("letitle"))
                    .take(limit)
                    .map(|e| json!({"logid": e.id, "title": e.title, "type": "delete", "action": e.action, "comment": e.comment}))
                    .collect();
                json!({"query": {"logevents": entries}})
            }
            ("edit" | "delete" | "undelete", _, _, _) if request.method == "POST" => {
                if p("token") != self.csrf() || !self.authorized(request) {
                    return error("badtoken", "Invalid CSRF token.");
                }
                self.write(request)
            }
            _ => error("badvalue", "the fake wiki does not know this"),
        }
    }

    fn write(&mut self, request: &Request) -> Value {
        let p = |k: &str| request.param(k).unwrap_or_default().to_owned();
        let title = p("title");
        let exists = self.pages.get(&title).is_some_and(|page| !page.deleted);
        match p("action").as_str() {
            "edit" => {
                let Ok(undo) = p("undo").parse::<u64>() else {
                    return error("badvalue", "the fake only undoes");
                };
                if !exists {
                    return error("missingtitle", "The page you specified doesn't exist.");
                }
                let page = self.pages.get(&title).unwrap();
                let Some(at) = page.revisions.iter().position(|r| r.id == undo) else {
                    return error(
                        "nosuchrevid",
                        &format!("There is no revision with ID {undo}."),
                    );
                };
                let undone = |id: u64| {
                    page.revisions
                        .iter()
                        .any(|r| r.comment.starts_with(&format!("/* undo:0||{id}|")))
                };
                if undone(undo) {
                    return json!({"edit": {"result": "Success", "title": title, "nochange": true}});
                }
                let later_kept = page.revisions[at + 1..]
                    .iter()
                    .any(|r| !r.comment.starts_with("/* undo:0||") && !undone(r.id));
                if later_kept {
                    return error(
                        "undofailure",
                        "The edit could not be undone due to conflicting intermediate edits.",
                    );
                }
                self.next_id += 1;
                let id = self.next_id;
                self.pages
                    .get_mut(&title)
                    .unwrap()
                    .revisions
                    .push(Revision {
                        id,
                        user: "Reverter".into(),
                        comment: p("summary"),
                    });
                json!({"edit": {"result": "Success", "title": title, "oldrevid": undo, "newrevid": id}})
            }
            "delete" => {
                if !exists {
                    return error("missingtitle", "The page you specified doesn't exist.");
                }
                if !self.rights.iter().any(|r| r == "delete") {
                    return error("permissiondenied", "You are not allowed to delete pages.");
                }
                self.pages.get_mut(&title).unwrap().deleted = true;
                self.next_id += 1;
                let id = self.next_id;
                self.log.push(LogEntry {
                    id,
                    title: title.clone(),
                    action: "delete",
                    comment: p("reason"),
                });
                json!({"delete": {"title": title, "reason": p("reason"), "logid": id}})
            }
            _ => {
                let deleted = self.pages.get(&title).is_some_and(|page| page.deleted);
                if !deleted {
                    return error(
                        "cantundelete",
                        "Couldn't undelete: the requested revisions may not exist, or may have been undeleted already.",
                    );
                }
                let page = self.pages.get_mut(&title).unwrap();
                page.deleted = false;
                let revisions = page.revisions.len();
                self.next_id += 1;
                let id = self.next_id;
                self.log.push(LogEntry {
                    id,
                    title: title.clone(),
                    action: "restore",
                    comment: p("reason"),
                });
                json!({"undelete": {"title": title, "revisions": revisions, "fileversions": 0, "reason": p("reason")}})
            }
        }
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
    let mut parts = lines.next().unwrap_or_default().split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut content_length = 0;
    let mut authorization = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => content_length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_owned()),
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
    decode_into(&String::from_utf8_lossy(&buffer[head_end..]), &mut params);
    let request = Request {
        method,
        params,
        at: Instant::now(),
        authorization,
    };
    let (fault, reply) = {
        let mut state = state.lock().unwrap();
        state.requests.push(request.clone());
        let fault = if request.is_write() {
            state.faults.pop_front()
        } else {
            None
        };
        let applies = matches!(
            fault,
            None | Some(
                Fault::Pass | Fault::LoseAnswer | Fault::ApplyThenStatus(_) | Fault::Delay(_)
            )
        );
        let reply = if applies {
            state.answer(&request).to_string()
        } else {
            String::new()
        };
        // A bad token is fixed by fetching a new one: the next token is new.
        if reply.contains("\"badtoken\"") {
            state.csrf_serial += 1;
        }
        (fault, reply)
    };
    let (status, extra, body) = match fault {
        None | Some(Fault::Pass) => (200, String::new(), reply),
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            (200, String::new(), reply)
        }
        Some(Fault::LoseAnswer) => {
            // The write is made; the connection is cut before any answer.
            return Ok(());
        }
        Some(Fault::ApplyThenStatus(status)) | Some(Fault::Status(status)) => {
            (status, String::new(), "<html>oops</html>".to_owned())
        }
        Some(Fault::Maxlag { retry_after }) => (
            200,
            format!("Retry-After: {retry_after}\r\n"),
            json!({"error": {"code": "maxlag", "info": "Waiting for db1: 7 seconds lagged", "lag": 7}}).to_string(),
        ),
        Some(Fault::ApiError(code)) => (
            200,
            String::new(),
            error(code, &format!("scripted {code}")).to_string(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    socket.write_all(response.as_bytes()).await?;
    socket.shutdown().await
}
