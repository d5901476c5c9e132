//! The wire side of `list=recentchanges`: response types (`formatversion=2`), the
//! mapping of a row onto an [`Edit`], the API's error objects, and the cursor.

use chrono::{DateTime, Utc};
use editgroups_core::{ChangeType, Cursor, Edit, EventPosition, SourceError};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The cursor kind of this source.
pub(crate) const CURSOR_KIND: &str = "recentchanges";
/// The cursor format: `{"ts":<unix seconds>,"rcid":<rc id>}`.
pub(crate) const CURSOR_VERSION: u32 = 1;

/// One answer of `action=query&list=recentchanges` (errors are handled by the
/// client before).
#[derive(Debug, Deserialize)]
pub(crate) struct RcResponse<'a> {
    /// Every key must be sent back as it came.
    #[serde(rename = "continue", default)]
    pub(crate) continuation: Option<Map<String, Value>>,
    #[serde(borrow, default)]
    pub(crate) query: Option<RcQuery<'a>>,
    #[serde(default)]
    pub(crate) warnings: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RcQuery<'a> {
    #[serde(borrow, default)]
    pub(crate) recentchanges: Vec<RcRow<'a>>,
}

/// A row of `list=recentchanges` with the props this source asks for. Ids that the
/// API writes as 0 when there is none (`revid`, `old_revid`) are read as they are
/// and mapped to `None` later.
#[derive(Debug, Deserialize)]
pub(crate) struct RcRow<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    ns: Option<i64>,
    #[serde(borrow, default)]
    title: Option<Cow<'a, str>>,
    #[serde(default)]
    revid: Option<i64>,
    #[serde(default)]
    old_revid: Option<i64>,
    #[serde(default)]
    pub(crate) rcid: Option<u64>,
    #[serde(borrow, default)]
    user: Option<Cow<'a, str>>,
    #[serde(default)]
    bot: Option<bool>,
    #[serde(default)]
    minor: Option<bool>,
    #[serde(default)]
    oldlen: Option<i64>,
    #[serde(default)]
    newlen: Option<i64>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    comment: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    parsedcomment: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    logtype: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    logaction: Option<Cow<'a, str>>,
}

/// Why a row cannot become an [`Edit`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RowError {
    /// A field needed to attribute or order the change is missing (hidden by
    /// revision deletion, or not sent).
    #[error("row without `{0}`")]
    Missing(&'static str),
    /// A field holds a value that cannot be read.
    #[error("row with {0}")]
    Invalid(String),
}

/// Reads an API timestamp (`2026-11-28T01:42:21Z`).
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Writes a timestamp as the API takes it.
pub(crate) fn format_timestamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl RcRow<'_> {
    /// The row's position, if it has an rc id and a readable timestamp.
    pub(crate) fn position(&self) -> Result<EventPosition, RowError> {
        let rcid = self.rcid.ok_or(RowError::Missing("rcid"))?;
        let text = self
            .timestamp
            .as_deref()
            .ok_or(RowError::Missing("timestamp"))?;
        let timestamp = parse_timestamp(text)
            .ok_or_else(|| RowError::Invalid(format!("timestamp {text:?}")))?;
        Ok(EventPosition { timestamp, rcid })
    }

    /// Maps the row onto the edit model, as the EventStreams parser maps the
    /// equivalent event: ids and lengths the stream would leave out are `None`.
    pub(crate) fn to_edit(&self, wiki: &str) -> Result<Edit, RowError> {
        let position = self.position()?;
        let kind = self.kind.as_deref().ok_or(RowError::Missing("type"))?;
        let namespace = self.ns.ok_or(RowError::Missing("ns"))?;
        let title = self.title.as_deref().ok_or(RowError::Missing("title"))?;
        let change_type =
            ChangeType::from_parts(kind, self.logtype.as_deref(), self.logaction.as_deref());
        // The stream has lengths for edits (old and new) and creations (new only),
        // and `minor` for edits and creations only; the API writes 0 and false.
        let (old_length, new_length, minor) = match &change_type {
            ChangeType::Edit => (self.oldlen, self.newlen, self.minor),
            ChangeType::New => (None, self.newlen, self.minor),
            _ => (None, None, None),
        };
        Ok(Edit {
            wiki: wiki.to_owned(),
            rcid: position.rcid,
            change_type,
            namespace,
            title: title.to_owned(),
            old_revision: positive(self.old_revid),
            new_revision: positive(self.revid),
            old_length,
            new_length,
            timestamp: position.timestamp,
            user: self.user.as_deref().map(str::to_owned),
            bot: self.bot,
            minor,
            patrolled: None,
            comment: self.comment.as_deref().map(str::to_owned),
            parsedcomment: self.parsedcomment.as_deref().map(str::to_owned),
            uri: None,
        })
    }
}

/// Maps one `list=recentchanges` answer (`formatversion=2`, e.g. recorded) onto
/// edits of `wiki`, row by row as the poller does: a row that cannot be attributed
/// (no rc id, no title, a bad timestamp) is an error in its place.
pub fn map_page(body: &[u8], wiki: &str) -> Result<Vec<Result<Edit, String>>, serde_json::Error> {
    let response: RcResponse<'_> = serde_json::from_slice(body)?;
    Ok(response
        .query
        .map(|q| q.recentchanges)
        .unwrap_or_default()
        .iter()
        .map(|row| row.to_edit(wiki).map_err(|e| e.to_string()))
        .collect())
}

fn positive(id: Option<i64>) -> Option<u64> {
    id.and_then(|v| u64::try_from(v).ok()).filter(|&v| v > 0)
}

#[derive(serde::Serialize, Deserialize)]
struct CursorPosition {
    ts: i64,
    rcid: u64,
}

/// The cursor after a change at `position`.
pub(crate) fn encode_cursor(position: EventPosition) -> Cursor {
    let body = CursorPosition {
        ts: position.timestamp.timestamp(),
        rcid: position.rcid,
    };
    // A struct of integers always serialises.
    Cursor::new(
        CURSOR_KIND,
        CURSOR_VERSION,
        serde_json::to_string(&body).unwrap_or_default(),
    )
}

/// Reads a cursor written by [`encode_cursor`].
pub(crate) fn decode_cursor(cursor: &Cursor) -> Result<EventPosition, SourceError> {
    let text = cursor.position_for(CURSOR_KIND, CURSOR_VERSION)?;
    let corrupt = |message: String| SourceError::CorruptCursor {
        kind: CURSOR_KIND,
        position: text.to_owned(),
        message,
    };
    let body: CursorPosition = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    let timestamp = DateTime::from_timestamp(body.ts, 0)
        .ok_or_else(|| corrupt(format!("timestamp {} out of range", body.ts)))?;
    Ok(EventPosition {
        timestamp,
        rcid: body.rcid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use editgroups_core::recentchange::{ParsedEvent, RecentChangeParser};

    const ALL: &str = include_str!("../../tests/data/rc-all-anon.json");

    fn rows(json: &str) -> Vec<Edit> {
        let response: RcResponse<'_> = serde_json::from_str(json).unwrap();
        response
            .query
            .unwrap()
            .recentchanges
            .iter()
            .map(|row| row.to_edit("wiki").unwrap())
            .collect()
    }

    fn stream_event(json: &str) -> Edit {
        match RecentChangeParser::new().parse(json).unwrap() {
            ParsedEvent::Edit(edit) => *edit,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn recorded_rows_map_like_the_equivalent_stream_events() {
        let edits = rows(ALL);
        assert_eq!(edits.len(), 12);
        let by_rcid = |rcid| edits.iter().find(|e| e.rcid == rcid).unwrap();
        let parsed = |e: &Edit| e.parsedcomment.clone().unwrap();

        // A page creation: rcid 2, Q1, revid 2, no parent, new length 5.
        let creation = stream_event(&format!(
            r#"{{"id":2,"type":"new","namespace":0,"title":"Q1","revision":{{"new":2}},"length":{{"new":5}},"user":"Pintoch","bot":false,"minor":false,"timestamp":{},"comment":"/* wbeditentity-create:0| */ create X ([[:toollabs:editgroups/b/OR/ab12cd3|details]])","parsedcomment":{},"wiki":"wiki"}}"#,
            parse_timestamp("2026-11-28T01:42:21Z").unwrap().timestamp(),
            serde_json::to_string(&parsed(by_rcid(2))).unwrap()
        ));
        assert_eq!(by_rcid(2), &creation);

        // An edit in ns 120 with a QuickStatements summary.
        let qs = stream_event(&format!(
            r##"{{"id":5,"type":"edit","namespace":120,"title":"Property:P1","revision":{{"old":4,"new":5}},"length":{{"old":5,"new":11}},"user":"Pintoch","bot":false,"minor":false,"timestamp":{},"comment":"#quickstatements; [[:toollabs:quickstatements/#/batch/2120|batch #2120]] by [[User:Pintoch|]]","parsedcomment":{},"wiki":"wiki"}}"##,
            by_rcid(5).timestamp.timestamp(),
            serde_json::to_string(&parsed(by_rcid(5))).unwrap()
        ));
        assert_eq!(by_rcid(5), &qs);

        // A deletion log row: no revision, no lengths, no minor flag.
        let delete = stream_event(&format!(
            r#"{{"id":12,"type":"log","namespace":0,"title":"Q2","log_type":"delete","log_action":"delete","log_id":8,"user":"UndoBot","bot":true,"timestamp":{},"comment":"Undoing batch 2120 (creation)","parsedcomment":"Undoing batch 2120 (creation)","wiki":"wiki"}}"#,
            by_rcid(12).timestamp.timestamp()
        ));
        assert_eq!(by_rcid(12), &delete);
        assert!(by_rcid(12).change_type.is_delete());
        assert!(by_rcid(13).change_type.is_restore());
        assert_eq!(by_rcid(10).bot, Some(true));
    }

    #[test]
    fn rows_without_identity_are_errors_not_panics() {
        let bad = [
            (
                r#"{"type":"edit","ns":0,"title":"Q1","timestamp":"2026-11-28T01:42:21Z"}"#,
                "rcid",
            ),
            (
                r#"{"rcid":1,"type":"edit","ns":0,"title":"Q1"}"#,
                "timestamp",
            ),
            (
                r#"{"rcid":1,"type":"log","ns":0,"timestamp":"2026-11-28T01:42:21Z","actionhidden":true}"#,
                "title",
            ),
            (
                r#"{"rcid":1,"ns":0,"title":"Q1","timestamp":"2026-11-28T01:42:21Z"}"#,
                "type",
            ),
        ];
        for (json, field) in bad {
            let row: RcRow<'_> = serde_json::from_str(json).unwrap();
            assert_eq!(
                row.to_edit("w").unwrap_err(),
                RowError::Missing(field),
                "{json}"
            );
        }
        let row: RcRow<'_> = serde_json::from_str(
            r#"{"rcid":1,"type":"edit","ns":0,"title":"Q1","timestamp":"yesterday"}"#,
        )
        .unwrap();
        assert!(matches!(row.to_edit("w"), Err(RowError::Invalid(_))));
        // Hidden users and comments are simply absent.
        let row: RcRow<'_> = serde_json::from_str(
            r#"{"rcid":7,"type":"edit","ns":0,"title":"Q1","timestamp":"2026-11-28T01:42:21Z","userhidden":true,"commenthidden":true,"revid":9,"old_revid":8}"#,
        )
        .unwrap();
        let edit = row.to_edit("w").unwrap();
        assert_eq!((edit.user, edit.comment), (None, None));
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let position = EventPosition {
            timestamp: parse_timestamp("2026-11-28T01:42:21Z").unwrap(),
            rcid: 5_000_000_000,
        };
        assert_eq!(decode_cursor(&encode_cursor(position)).unwrap(), position);
        assert!(matches!(
            decode_cursor(&Cursor::new(CURSOR_KIND, CURSOR_VERSION, "{")),
            Err(SourceError::CorruptCursor { .. })
        ));
        assert!(matches!(
            decode_cursor(&Cursor::new("replay", 1, "{}")),
            Err(SourceError::Cursor(_))
        ));
        assert_eq!(format_timestamp(position.timestamp), "2026-11-28T01:42:21Z");
    }
}
