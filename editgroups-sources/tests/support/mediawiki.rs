//! A real MediaWiki (Debian's `mediawiki` package, SQLite, `php -S` on loopback)
//! in a temporary directory, started by `scripts/mediawiki-up.sh` and stopped by
//! PID on drop, and an API client to make edits on it.
//!
//! Starting fails the test, never skips it: when the packages are missing the
//! panic says which and how to install them.

use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The bot account `mediawiki-up.sh` makes (groups bot and sysop).
pub const BOT_USER: &str = "UndoBot@ci";
/// Its bot password.
pub const BOT_PASS: &str = "0123456789abcdefghijklmnopqrstuv";
/// The plain account that plays the tools' users.
pub const TOOL_USER: &str = "Pintoch@qs";
/// Its bot password.
pub const TOOL_PASS: &str = "qsqsqsqsqsqsqsqsqsqsqsqsqsqsqsqs";

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts")
}

/// A running test wiki; stopped when dropped.
#[derive(Debug)]
pub struct TestWiki {
    dir: tempfile::TempDir,
    /// Its api.php.
    pub api: String,
}

impl TestWiki {
    /// Starts a fresh wiki on a free loopback port. Panics when it cannot.
    pub fn start() -> Self {
        let mut last = String::new();
        for _ in 0..3 {
            let dir = tempfile::Builder::new()
                .prefix("editgroups-mw-")
                .tempdir()
                .expect("a temporary directory");
            let wiki_dir = dir.path().join("wiki");
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let output = Command::new("bash")
                .arg(scripts().join("mediawiki-up.sh"))
                .arg(&wiki_dir)
                .arg(port.to_string())
                .output()
                .expect("bash runs");
            if output.status.success() {
                return Self {
                    dir,
                    api: format!("http://127.0.0.1:{port}/api.php"),
                };
            }
            last = format!(
                "{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            // A port taken between choosing and binding: try another one.
            if !last.contains("already listens") {
                break;
            }
        }
        panic!("the test MediaWiki did not start (these tests need it):\n{last}");
    }

    /// Runs the wiki's pending jobs (e.g. the `mw-reverted` tags).
    pub fn run_jobs(&self) {
        let status = Command::new("sh")
            .arg(self.dir.path().join("wiki/run-jobs.sh"))
            .status()
            .expect("sh runs");
        assert!(status.success(), "runJobs failed");
    }

    /// A client of this wiki, logged in with a bot password.
    pub async fn login(&self, user: &str, password: &str) -> WikiClient {
        let client = WikiClient {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .user_agent("editgroups-tests/0 (test wiki client)")
                .build()
                .unwrap(),
            api: self.api.clone(),
            csrf: String::new(),
        };
        client.login(user, password).await
    }
}

impl Drop for TestWiki {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(scripts().join("mediawiki-down.sh"))
            .arg(self.dir.path().join("wiki"))
            .output();
    }
}

/// Edits through the API as one account.
#[derive(Debug)]
pub struct WikiClient {
    http: reqwest::Client,
    api: String,
    csrf: String,
}

impl WikiClient {
    async fn call(&self, params: &[(&str, &str)]) -> Value {
        let mut form: Vec<(&str, &str)> = vec![("format", "json"), ("formatversion", "2")];
        form.extend_from_slice(params);
        let bytes = self
            .http
            .post(&self.api)
            .form(&form)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert!(body.get("error").is_none(), "{params:?}: {body}");
        body
    }

    async fn login(mut self, user: &str, password: &str) -> Self {
        let tokens = self
            .call(&[("action", "query"), ("meta", "tokens"), ("type", "login")])
            .await;
        let token = tokens["query"]["tokens"]["logintoken"]
            .as_str()
            .unwrap()
            .to_owned();
        let login = self
            .call(&[
                ("action", "login"),
                ("lgname", user),
                ("lgpassword", password),
                ("lgtoken", &token),
            ])
            .await;
        assert_eq!(login["login"]["result"], "Success", "{login}");
        let tokens = self
            .call(&[("action", "query"), ("meta", "tokens"), ("type", "csrf")])
            .await;
        self.csrf = tokens["query"]["tokens"]["csrftoken"]
            .as_str()
            .unwrap()
            .to_owned();
        self
    }

    /// Any read (`action=query&…`); panics on an API error.
    pub async fn query(&self, params: &[(&str, &str)]) -> Value {
        self.call(params).await
    }

    /// The current text of a page, `None` when it does not exist.
    pub async fn text(&self, title: &str) -> Option<String> {
        let answer = self
            .call(&[
                ("action", "query"),
                ("prop", "revisions"),
                ("titles", title),
                ("rvprop", "content"),
                ("rvslots", "main"),
            ])
            .await;
        let page = &answer["query"]["pages"][0];
        if page.get("missing").is_some() {
            return None;
        }
        page["revisions"][0]["slots"]["main"]["content"]
            .as_str()
            .map(str::to_owned)
    }

    /// A page's revisions, newest first: (id, user, comment).
    pub async fn history(&self, title: &str) -> Vec<(u64, String, String)> {
        let answer = self
            .call(&[
                ("action", "query"),
                ("prop", "revisions"),
                ("titles", title),
                ("rvprop", "ids|user|comment"),
                ("rvlimit", "max"),
            ])
            .await;
        answer["query"]["pages"][0]["revisions"]
            .as_array()
            .map(|revisions| {
                revisions
                    .iter()
                    .map(|r| {
                        (
                            r["revid"].as_u64().unwrap(),
                            r["user"].as_str().unwrap_or_default().to_owned(),
                            r["comment"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A page's deletion-log entries, newest first: (log id, action, comment).
    pub async fn deletion_log(&self, title: &str) -> Vec<(u64, String, String)> {
        let answer = self
            .call(&[
                ("action", "query"),
                ("list", "logevents"),
                ("letype", "delete"),
                ("letitle", title),
                ("leprop", "ids|type|comment"),
                ("lelimit", "max"),
            ])
            .await;
        answer["query"]["logevents"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        (
                            e["logid"].as_u64().unwrap(),
                            e["action"].as_str().unwrap_or_default().to_owned(),
                            e["comment"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The wiki's clock now.
    pub async fn server_time(&self) -> chrono::DateTime<chrono::Utc> {
        let info = self
            .call(&[("action", "query"), ("meta", "siteinfo")])
            .await;
        let text = info["query"]["general"]["time"].as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    /// Saves `text` on `title`; returns the new revision id.
    pub async fn edit(&self, title: &str, text: &str, summary: &str) -> u64 {
        let answer = self
            .call(&[
                ("action", "edit"),
                ("title", title),
                ("text", text),
                ("summary", summary),
                ("token", &self.csrf),
            ])
            .await;
        answer["edit"]["newrevid"].as_u64().unwrap()
    }

    /// Undoes revision `revision` of `title` with a custom summary, as a bot edit.
    pub async fn undo(&self, title: &str, revision: u64, summary: &str) -> u64 {
        let revision = revision.to_string();
        let answer = self
            .call(&[
                ("action", "edit"),
                ("title", title),
                ("undo", &revision),
                ("summary", summary),
                ("bot", "1"),
                ("nocreate", "1"),
                ("token", &self.csrf),
            ])
            .await;
        answer["edit"]["newrevid"].as_u64().unwrap()
    }

    /// Deletes a page.
    pub async fn delete(&self, title: &str, reason: &str) {
        self.call(&[
            ("action", "delete"),
            ("title", title),
            ("reason", reason),
            ("token", &self.csrf),
        ])
        .await;
    }

    /// Restores a deleted page.
    pub async fn undelete(&self, title: &str, reason: &str) {
        self.call(&[
            ("action", "undelete"),
            ("title", title),
            ("reason", reason),
            ("token", &self.csrf),
        ])
        .await;
    }
}
