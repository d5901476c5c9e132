//! The wiki side of an action: the request that carries it out, reading the
//! answer, and finding in the page's history or log whether it was already made.

use crate::mediawiki::{ApiError, MediaWikiClient};
use editgroups_core::plan::{RevertOperation, task_marker};
use editgroups_core::tasks::ActionState;
use serde::Deserialize;
use std::collections::HashSet;

/// The parameters of the request that carries out `operation` on `title`.
pub(crate) fn request(
    operation: &RevertOperation,
    title: &str,
    summary: &str,
) -> Vec<(String, String)> {
    let p = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    match operation {
        RevertOperation::Undo { revision, .. } => vec![
            p("action", "edit"),
            p("title", title),
            p("undo", &revision.to_string()),
            p("summary", summary),
            // Without it the edit is not flagged as a bot's, even for bots.
            p("bot", "1"),
            // A page deleted since: fail (`missingtitle`), do not re-create it.
            p("nocreate", "1"),
            p("watchlist", "nochange"),
        ],
        RevertOperation::Delete => vec![
            p("action", "delete"),
            p("title", title),
            p("reason", summary),
            p("watchlist", "nochange"),
        ],
        RevertOperation::Undelete => vec![
            p("action", "undelete"),
            p("title", title),
            p("reason", summary),
            p("watchlist", "nochange"),
        ],
        RevertOperation::CannotUndo { .. } => Vec::new(),
    }
}

/// What an answer without an API error says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Done: the new revision (undo) or log id (deletion).
    Done {
        revision: Option<u64>,
        log_id: Option<u64>,
    },
    /// The undo changed nothing: the page is already as it was before the edit.
    NoChange,
    /// The wiki did not do it, without an error object (e.g. an edit `result`
    /// other than `Success`, asking for a captcha).
    Refused { code: String, message: String },
}

/// Reads the answer to the request of `operation`.
pub(crate) fn read_answer(operation: &RevertOperation, body: &[u8]) -> Answer {
    #[derive(Deserialize)]
    struct EditAnswer {
        edit: Option<Edit>,
        delete: Option<Delete>,
        undelete: Option<serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Edit {
        #[serde(default)]
        result: String,
        #[serde(default)]
        newrevid: Option<u64>,
        #[serde(default)]
        nochange: bool,
    }
    #[derive(Deserialize)]
    struct Delete {
        #[serde(default)]
        logid: Option<u64>,
    }
    let unexpected = |what: &str| Answer::Refused {
        code: "unexpected-answer".into(),
        message: format!(
            "{what}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ),
    };
    let Ok(answer) = serde_json::from_slice::<EditAnswer>(body) else {
        return unexpected("not the answer of a write");
    };
    match operation {
        RevertOperation::Undo { .. } => match answer.edit {
            Some(edit) if edit.result == "Success" && edit.nochange => Answer::NoChange,
            Some(Edit {
                result,
                newrevid: Some(revision),
                ..
            }) if result == "Success" => Answer::Done {
                revision: Some(revision),
                log_id: None,
            },
            Some(edit) => Answer::Refused {
                code: if edit.result.is_empty() {
                    "unexpected-answer".into()
                } else {
                    edit.result.clone()
                },
                message: format!(
                    "the edit was not saved: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                ),
            },
            None => unexpected("no `edit` in the answer"),
        },
        RevertOperation::Delete => match answer.delete {
            Some(delete) => Answer::Done {
                revision: None,
                log_id: delete.logid,
            },
            None => unexpected("no `delete` in the answer"),
        },
        RevertOperation::Undelete => match answer.undelete {
            Some(_) => Answer::Done {
                revision: None,
                log_id: None,
            },
            None => unexpected("no `undelete` in the answer"),
        },
        RevertOperation::CannotUndo { .. } => unexpected("nothing was asked"),
    }
}

/// Whether the task `task_uid` already carried out `operation` on `title`: its
/// undo in the page's latest `depth` revisions, its deletion or restore in the
/// page's latest `depth` deletion-log entries. `claimed` holds the revisions and
/// log ids other actions of the task made, which cannot be this one's.
pub(crate) async fn find_done(
    client: &MediaWikiClient,
    operation: &RevertOperation,
    title: &str,
    task_uid: &str,
    depth: u32,
    claimed: &HashSet<u64>,
) -> Result<Option<ActionState>, ApiError> {
    let marker = task_marker(task_uid);
    let depth = depth.clamp(1, 500).to_string();
    match operation {
        RevertOperation::Undo { revision, .. } => {
            #[derive(Deserialize)]
            struct Answer {
                query: Option<Query>,
            }
            #[derive(Deserialize)]
            struct Query {
                #[serde(default)]
                pages: Vec<Page>,
            }
            #[derive(Deserialize)]
            struct Page {
                #[serde(default)]
                revisions: Vec<Revision>,
            }
            #[derive(Deserialize)]
            struct Revision {
                revid: u64,
                #[serde(default)]
                comment: String,
            }
            let answer: Answer = client
                .get_json(&[
                    ("action", "query"),
                    ("prop", "revisions"),
                    ("titles", title),
                    ("rvprop", "ids|comment"),
                    ("rvlimit", depth.as_str()),
                ])
                .await?;
            let prefix = format!("/* undo:0||{revision}|");
            let found = answer
                .query
                .into_iter()
                .flat_map(|q| q.pages)
                .flat_map(|p| p.revisions)
                .find(|r| {
                    r.comment.starts_with(&prefix)
                        && r.comment.contains(&marker)
                        && !claimed.contains(&r.revid)
                });
            Ok(found.map(|r| ActionState::Done {
                revision: Some(r.revid),
                log_id: None,
            }))
        }
        RevertOperation::Delete | RevertOperation::Undelete => {
            let wanted = if matches!(operation, RevertOperation::Delete) {
                "delete"
            } else {
                "restore"
            };
            Ok(find_log(client, title, wanted, &marker, &depth, claimed)
                .await?
                .map(|log_id| ActionState::Done {
                    revision: None,
                    log_id: Some(log_id),
                }))
        }
        RevertOperation::CannotUndo { .. } => Ok(None),
    }
}

/// The id of the newest deletion-log entry of `title` with action `action`
/// whose comment holds `marker`.
pub(crate) async fn find_log(
    client: &MediaWikiClient,
    title: &str,
    action: &str,
    marker: &str,
    depth: &str,
    claimed: &HashSet<u64>,
) -> Result<Option<u64>, ApiError> {
    #[derive(Deserialize)]
    struct Answer {
        query: Option<Query>,
    }
    #[derive(Deserialize)]
    struct Query {
        #[serde(default)]
        logevents: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        logid: u64,
        #[serde(default)]
        action: String,
        #[serde(default)]
        comment: String,
    }
    let answer: Answer = client
        .get_json(&[
            ("action", "query"),
            ("list", "logevents"),
            ("letype", "delete"),
            ("letitle", title),
            ("leprop", "ids|type|comment"),
            ("lelimit", depth),
        ])
        .await?;
    Ok(answer
        .query
        .into_iter()
        .flat_map(|q| q.logevents)
        .find(|e| e.action == action && e.comment.contains(marker) && !claimed.contains(&e.logid))
        .map(|e| e.logid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn undo() -> RevertOperation {
        RevertOperation::Undo {
            revision: 3,
            editing_user: "Pintoch".into(),
        }
    }

    #[test]
    fn answers_of_the_real_wiki_are_read() {
        // Recorded from MediaWiki 1.39 (formatversion=2).
        let done = br#"{"edit":{"result":"Success","pageid":2,"title":"T1","contentmodel":"wikitext","oldrevid":3,"newrevid":4,"newtimestamp":"2026-12-02T02:39:42Z"}}"#;
        assert_eq!(
            read_answer(&undo(), done),
            Answer::Done {
                revision: Some(4),
                log_id: None
            }
        );
        let nochange = br#"{"edit":{"result":"Success","pageid":2,"title":"T1","contentmodel":"wikitext","nochange":true}}"#;
        assert_eq!(read_answer(&undo(), nochange), Answer::NoChange);
        let deleted = br#"{"delete":{"title":"T1","reason":"c","logid":5}}"#;
        assert_eq!(
            read_answer(&RevertOperation::Delete, deleted),
            Answer::Done {
                revision: None,
                log_id: Some(5)
            }
        );
        let restored =
            br#"{"undelete":{"title":"T1","revisions":3,"fileversions":0,"reason":"r"}}"#;
        assert!(matches!(
            read_answer(&RevertOperation::Undelete, restored),
            Answer::Done { .. }
        ));
        let captcha = br#"{"edit":{"result":"Failure","captcha":{"type":"image"}}}"#;
        assert!(matches!(
            read_answer(&undo(), captcha),
            Answer::Refused { code, .. } if code == "Failure"
        ));
        for garbage in [&b"<html>"[..], br#"{"edit":5}"#, br#"{}"#] {
            assert!(matches!(
                read_answer(&RevertOperation::Delete, garbage),
                Answer::Refused { code, .. } if code == "unexpected-answer"
            ));
        }
    }

    #[test]
    fn requests_carry_what_each_operation_needs() {
        let params = request(&undo(), "Property:P1", "/* undo:0||3|Pintoch */ x");
        let get = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("action"), Some("edit"));
        assert_eq!(get("undo"), Some("3"));
        assert_eq!(get("title"), Some("Property:P1"));
        assert_eq!(get("bot"), Some("1"));
        assert_eq!(get("nocreate"), Some("1"));
        let params = request(&RevertOperation::Undelete, "Q1", "because");
        assert!(params.contains(&("reason".into(), "because".into())));
        assert!(params.contains(&("action".into(), "undelete".into())));
    }
}
