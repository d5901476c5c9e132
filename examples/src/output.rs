//! Printing batches as a table, JSON lines or CSV.

use chrono::SecondsFormat;
use editgroups_core::{Batch, StoredEdit, Timestamp};
use serde::Serialize;
use std::io::{self, Write};

/// How batches are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table for people.
    Table,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header.
    Csv,
}

/// The flat shape of a batch in the JSON-lines and CSV outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchRow<'a> {
    /// The wiki id.
    pub wiki: &'a str,
    /// The tool's short id.
    pub tool: &'a str,
    /// The batch id.
    pub uid: &'a str,
    /// The author.
    pub user: &'a str,
    /// The summary.
    pub summary: &'a str,
    /// Edits.
    pub nb_edits: u64,
    /// Distinct pages.
    pub nb_distinct_pages: u64,
    /// Page creations.
    pub nb_new_pages: u64,
    /// Reverted edits.
    pub nb_reverted_edits: u64,
    /// Sum of size changes, in bytes.
    pub total_diffsize: i64,
    /// First edit, `YYYY-MM-DDTHH:MM:SSZ`.
    pub started: String,
    /// Last edit, `YYYY-MM-DDTHH:MM:SSZ`.
    pub ended: String,
    /// Tag ids, by priority.
    pub tags: &'a [String],
    /// Whether the batch was archived (cut down to its newest edits).
    pub archived: bool,
}

/// A time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc(time: Timestamp) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl<'a> From<&'a Batch> for BatchRow<'a> {
    fn from(batch: &'a Batch) -> Self {
        Self {
            wiki: &batch.key.wiki,
            tool: &batch.key.tool,
            uid: &batch.key.uid,
            user: &batch.user,
            summary: &batch.summary,
            nb_edits: batch.nb_edits,
            nb_distinct_pages: batch.nb_distinct_pages,
            nb_new_pages: batch.nb_new_pages,
            nb_reverted_edits: batch.nb_reverted_edits,
            total_diffsize: batch.total_diffsize,
            started: utc(batch.started),
            ended: utc(batch.ended),
            tags: &batch.tags,
            archived: batch.archived,
        }
    }
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

const CSV_HEADER: &str = "wiki,tool,uid,user,summary,nb_edits,nb_distinct_pages,nb_new_pages,nb_reverted_edits,total_diffsize,started,ended,tags,archived";

/// Prints batches in a format.
pub fn write_batches(out: &mut impl Write, batches: &[Batch], format: Format) -> io::Result<()> {
    match format {
        Format::Jsonl => {
            for batch in batches {
                serde_json::to_writer(&mut *out, &BatchRow::from(batch))?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            writeln!(out, "{CSV_HEADER}")?;
            for batch in batches {
                let row = BatchRow::from(batch);
                let fields = [
                    csv_field(row.wiki),
                    csv_field(row.tool),
                    csv_field(row.uid),
                    csv_field(row.user),
                    csv_field(row.summary),
                    row.nb_edits.to_string(),
                    row.nb_distinct_pages.to_string(),
                    row.nb_new_pages.to_string(),
                    row.nb_reverted_edits.to_string(),
                    row.total_diffsize.to_string(),
                    row.started,
                    row.ended,
                    csv_field(&row.tags.join("|")),
                    row.archived.to_string(),
                ];
                writeln!(out, "{}", fields.join(","))?;
            }
        }
        Format::Table => {
            writeln!(
                out,
                "{:<14} {:<22} {:<18} {:>7} {:>6} {:>5} {:>6} {:>9}  {:<20}  summary",
                "wiki", "batch", "user", "edits", "pages", "new", "revert", "diff", "ended"
            )?;
            for batch in batches {
                let name = format!("{}/{}", batch.key.tool, batch.key.uid);
                writeln!(
                    out,
                    "{:<14} {:<22} {:<18} {:>7} {:>6} {:>5} {:>6} {:>9}  {:<20}  {}{}",
                    batch.key.wiki,
                    name,
                    batch.user,
                    batch.nb_edits,
                    batch.nb_distinct_pages,
                    batch.nb_new_pages,
                    batch.nb_reverted_edits,
                    batch.total_diffsize,
                    utc(batch.ended),
                    if batch.archived { "[archived] " } else { "" },
                    batch.summary
                )?;
            }
        }
    }
    Ok(())
}

/// The flat shape of an edit in the JSON-lines and CSV outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditRow<'a> {
    /// The rc id.
    pub rcid: u64,
    /// When.
    pub timestamp: String,
    /// The page.
    pub title: &'a str,
    /// EditGroups' change type (`edit`, `new`, `delete`, ...).
    pub changetype: &'a str,
    /// The editing account.
    pub user: Option<&'a str>,
    /// The new revision.
    pub newrevid: Option<u64>,
    /// The size change.
    pub diffsize: i64,
    /// Whether it was reverted.
    pub reverted: bool,
    /// The rc id of the event that reverted it.
    pub reverted_by: Option<u64>,
    /// The batch of that event, `TOOL/UID`.
    pub reverted_by_batch: Option<String>,
    /// The summary.
    pub comment: Option<&'a str>,
}

impl<'a> From<&'a StoredEdit> for EditRow<'a> {
    fn from(stored: &'a StoredEdit) -> Self {
        let edit = &stored.edit;
        Self {
            rcid: edit.rcid,
            timestamp: utc(edit.timestamp),
            title: &edit.title,
            changetype: edit.change_type.kind(),
            user: edit.user.as_deref(),
            newrevid: edit.new_revision,
            diffsize: edit.diff_size(),
            reverted: stored.reverted,
            reverted_by: stored.reverted_by.as_ref().map(|by| by.rcid),
            reverted_by_batch: stored
                .reverted_by
                .as_ref()
                .and_then(|by| by.batch.as_ref())
                .map(|key| format!("{}/{}", key.tool, key.uid)),
            comment: edit.comment.as_deref(),
        }
    }
}

/// Prints edits in a format.
pub fn write_edits(out: &mut impl Write, edits: &[StoredEdit], format: Format) -> io::Result<()> {
    match format {
        Format::Jsonl => {
            for edit in edits {
                serde_json::to_writer(&mut *out, &EditRow::from(edit))?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            writeln!(
                out,
                "rcid,timestamp,title,changetype,user,newrevid,diffsize,reverted,reverted_by,reverted_by_batch,comment"
            )?;
            for edit in edits {
                let row = EditRow::from(edit);
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{}",
                    row.rcid,
                    row.timestamp,
                    csv_field(row.title),
                    csv_field(row.changetype),
                    csv_field(row.user.unwrap_or("")),
                    row.newrevid.map(|r| r.to_string()).unwrap_or_default(),
                    row.diffsize,
                    row.reverted,
                    row.reverted_by.map(|r| r.to_string()).unwrap_or_default(),
                    csv_field(row.reverted_by_batch.as_deref().unwrap_or("")),
                    csv_field(row.comment.unwrap_or(""))
                )?;
            }
        }
        Format::Table => {
            for edit in edits {
                let row = EditRow::from(edit);
                let reverted = match (row.reverted, &row.reverted_by_batch) {
                    (false, _) => String::new(),
                    (true, Some(batch)) => format!("[reverted by {batch}] "),
                    (true, None) => "[reverted] ".to_owned(),
                };
                writeln!(
                    out,
                    "  {}  {:<12} {:<8} {:>7} {}{}",
                    row.timestamp,
                    row.title,
                    row.changetype,
                    row.diffsize,
                    reverted,
                    row.comment.unwrap_or("")
                )?;
            }
        }
    }
    Ok(())
}

/// One batch as `batches --batch` shows it: its latest edits and the batches
/// linked to it by reverts.
#[derive(Debug, Clone, Copy)]
pub struct BatchDetail<'a> {
    /// The batch.
    pub batch: &'a Batch,
    /// Some of its edits, newest first.
    pub edits: &'a [StoredEdit],
    /// The batches whose events reverted edits of it.
    pub reverting: &'a [Batch],
    /// The batches whose edits its events reverted.
    pub reverted: &'a [Batch],
}

/// A batch named by `TOOL/UID` (and its wiki), in the JSON-lines detail.
#[derive(Debug, Serialize)]
struct LinkedBatch<'a> {
    wiki: &'a str,
    tool: &'a str,
    uid: &'a str,
    user: &'a str,
}

fn linked(batches: &[Batch]) -> Vec<LinkedBatch<'_>> {
    batches
        .iter()
        .map(|b| LinkedBatch {
            wiki: &b.key.wiki,
            tool: &b.key.tool,
            uid: &b.key.uid,
            user: &b.user,
        })
        .collect()
}

fn names(batches: &[Batch]) -> String {
    if batches.is_empty() {
        return "none".to_owned();
    }
    batches
        .iter()
        .map(|b| {
            format!(
                "{}/{} ({}, {})",
                b.key.tool,
                b.key.uid,
                b.user,
                utc(b.started)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints one batch and some of its edits: a table; one JSON object with the
/// batch's keys, `reverting_batches`, `reverted_batches` and an `edits` array;
/// or the batch as CSV, a blank line, and the edits as CSV.
pub fn write_batch_detail(
    out: &mut impl Write,
    detail: BatchDetail<'_>,
    format: Format,
) -> io::Result<()> {
    let batch = detail.batch;
    match format {
        Format::Jsonl => {
            #[derive(Serialize)]
            struct Detail<'a> {
                #[serde(flatten)]
                batch: BatchRow<'a>,
                reverting_batches: Vec<LinkedBatch<'a>>,
                reverted_batches: Vec<LinkedBatch<'a>>,
                edits: Vec<EditRow<'a>>,
            }
            let value = Detail {
                batch: BatchRow::from(batch),
                reverting_batches: linked(detail.reverting),
                reverted_batches: linked(detail.reverted),
                edits: detail.edits.iter().map(EditRow::from).collect(),
            };
            serde_json::to_writer(&mut *out, &value)?;
            writeln!(out)
        }
        Format::Csv => {
            write_batches(out, std::slice::from_ref(batch), format)?;
            writeln!(out)?;
            write_edits(out, detail.edits, format)
        }
        Format::Table => {
            write_batches(out, std::slice::from_ref(batch), format)?;
            writeln!(out, "tags: {}", batch.tags.join(", "))?;
            if batch.archived {
                writeln!(
                    out,
                    "archived: only its newest edits are kept; counters and tags are as before"
                )?;
            }
            writeln!(out, "reverted by: {}", names(detail.reverting))?;
            writeln!(out, "reverts: {}", names(detail.reverted))?;
            writeln!(out, "latest edits:")?;
            write_edits(out, detail.edits, format)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use editgroups_core::BatchKey;

    fn batch() -> Batch {
        let t = chrono::DateTime::from_timestamp(1_520_439_612, 0).unwrap();
        Batch {
            key: BatchKey::new("wikidatawiki", "QSv2", "2120"),
            user: "Pintoch".into(),
            summary: "a, \"quoted\" summary".into(),
            nb_edits: 4,
            nb_distinct_pages: 1,
            nb_new_pages: 0,
            nb_reverted_edits: 0,
            total_diffsize: 1423,
            started: t,
            ended: t,
            tags: vec!["wbcreateclaim-create".into(), "prop-P18".into()],
            archived: false,
        }
    }

    #[test]
    fn jsonl_has_the_documented_keys_and_utc_times() {
        let mut out = Vec::new();
        write_batches(&mut out, &[batch()], Format::Jsonl).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["started"], "2018-03-07T16:20:12Z");
        assert_eq!(
            value["tags"],
            serde_json::json!(["wbcreateclaim-create", "prop-P18"])
        );
        for key in [
            "wiki",
            "tool",
            "uid",
            "user",
            "summary",
            "nb_edits",
            "nb_distinct_pages",
            "nb_new_pages",
            "nb_reverted_edits",
            "total_diffsize",
            "ended",
            "archived",
        ] {
            assert!(value.get(key).is_some(), "{key} missing");
        }
    }

    #[test]
    fn detail_in_jsonl_is_the_batch_keys_and_its_edits() {
        let mut eg = batch();
        eg.key = BatchKey::new("wikidatawiki", "EG", "d6f5146");
        let edit = StoredEdit {
            edit: editgroups_core::testing::edit("wikidatawiki", 7).build(),
            reverted: true,
            reverted_by: Some(editgroups_core::RevertedBy {
                rcid: 9,
                batch: Some(eg.key.clone()),
            }),
        };
        let mut out = Vec::new();
        let detail = BatchDetail {
            batch: &batch(),
            edits: &[edit],
            reverting: std::slice::from_ref(&eg),
            reverted: &[],
        };
        write_batch_detail(&mut out, detail, Format::Jsonl).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["uid"], "2120");
        assert_eq!(value["nb_edits"], 4);
        assert_eq!(value["edits"][0]["rcid"], 7);
        assert_eq!(value["edits"][0]["reverted"], true);
        assert_eq!(value["edits"][0]["reverted_by"], 9);
        assert_eq!(value["edits"][0]["reverted_by_batch"], "EG/d6f5146");
        assert_eq!(value["reverting_batches"][0]["uid"], "d6f5146");
        assert_eq!(value["reverted_batches"].as_array().map(Vec::len), Some(0));
        let mut table = Vec::new();
        write_batch_detail(&mut table, detail, Format::Table).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(
            table.contains("reverted by: EG/d6f5146 (Pintoch,"),
            "{table}"
        );
        assert!(table.contains("[reverted by EG/d6f5146]"), "{table}");
    }

    #[test]
    fn csv_quotes_fields_that_need_it() {
        let mut out = Vec::new();
        write_batches(&mut out, &[batch()], Format::Csv).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(CSV_HEADER));
        assert!(
            lines
                .next()
                .unwrap()
                .contains(",\"a, \"\"quoted\"\" summary\",4,")
        );
    }
}
