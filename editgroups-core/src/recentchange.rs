//! Parsing of Wikimedia EventStreams `mediawiki/recentchange` events (and of the
//! JSON lines recorded from them) into [`Edit`]s.
//!
//! The parser borrows from the input where it can: strings without escapes are
//! not copied until an event is known to be kept, so canary events and events of
//! other wikis cost no allocation.

use crate::edit::{ChangeType, Edit};
use chrono::DateTime;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeSet;

/// Why an event could not be turned into an [`Edit`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The input is not a JSON object of the expected shape.
    #[error("malformed event: {0}")]
    Malformed(#[from] serde_json::Error),
    /// A field needed to attribute or de-duplicate the change is missing.
    #[error("incomplete event: no `{0}` field")]
    MissingField(&'static str),
    /// A field holds a value out of range.
    #[error("invalid event: {0}")]
    Invalid(String),
}

/// What a recent-change event turned out to be.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ParsedEvent {
    /// A change to keep.
    Edit(Box<Edit>),
    /// A canary event (`meta.domain == "canary"`), produced by Wikimedia to tell an
    /// idle stream from a broken one: never an edit.
    Canary,
    /// A change of a wiki the parser was told to leave out.
    OtherWiki,
}

/// A JSON string borrowed from the input when it has no escapes.
///
/// serde's own `Cow<str>` always copies, and `#[serde(borrow)]` only reaches a
/// `Cow` that is not wrapped in an `Option`: every field would be allocated.
#[derive(Debug)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

impl Text<'_> {
    fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

#[derive(Deserialize)]
struct RawMeta<'a> {
    #[serde(borrow, default)]
    domain: Option<Text<'a>>,
    #[serde(borrow, default)]
    uri: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
struct OldNew<T> {
    #[serde(default)]
    old: Option<T>,
    #[serde(default)]
    new: Option<T>,
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(borrow, default)]
    meta: Option<RawMeta<'a>>,
    #[serde(default)]
    id: Option<i64>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Text<'a>>,
    #[serde(default)]
    namespace: Option<i64>,
    #[serde(borrow, default)]
    title: Option<Text<'a>>,
    #[serde(borrow, default)]
    comment: Option<Text<'a>>,
    #[serde(borrow, default)]
    parsedcomment: Option<Text<'a>>,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(borrow, default)]
    user: Option<Text<'a>>,
    #[serde(default)]
    bot: Option<bool>,
    #[serde(default)]
    minor: Option<bool>,
    #[serde(default)]
    patrolled: Option<bool>,
    #[serde(default)]
    length: Option<OldNew<i64>>,
    #[serde(default)]
    revision: Option<OldNew<i64>>,
    #[serde(borrow, default)]
    wiki: Option<Text<'a>>,
    #[serde(borrow, default)]
    log_type: Option<Text<'a>>,
    #[serde(borrow, default)]
    log_action: Option<Text<'a>>,
}

/// Parses recent-change events, optionally keeping only some wikis.
///
/// ```
/// use editgroups_core::recentchange::{ParsedEvent, RecentChangeParser};
/// let parser = RecentChangeParser::new().with_wikis(["wikidatawiki"]);
/// let line = r#"{"meta":{"domain":"canary"}}"#;
/// assert_eq!(parser.parse(line).unwrap(), ParsedEvent::Canary);
/// ```
#[derive(Debug, Clone, Default)]
pub struct RecentChangeParser {
    wikis: Option<BTreeSet<String>>,
}

impl RecentChangeParser {
    /// A parser that keeps every wiki.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps only events of these wikis (e.g. `wikidatawiki`). An empty list keeps all.
    pub fn with_wikis<I, S>(mut self, wikis: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let set: BTreeSet<String> = wikis.into_iter().map(Into::into).collect();
        self.wikis = (!set.is_empty()).then_some(set);
        self
    }

    /// The wikis kept, if the parser filters.
    pub fn wikis(&self) -> Option<&BTreeSet<String>> {
        self.wikis.as_ref()
    }

    /// Parses one event from its JSON text.
    pub fn parse(&self, json: &str) -> Result<ParsedEvent, EventError> {
        let raw: RawEvent<'_> = serde_json::from_str(json)?;
        self.convert(raw)
    }

    /// Parses one event from JSON bytes (which must be UTF-8).
    pub fn parse_slice(&self, json: &[u8]) -> Result<ParsedEvent, EventError> {
        let raw: RawEvent<'_> = serde_json::from_slice(json)?;
        self.convert(raw)
    }

    fn convert(&self, raw: RawEvent<'_>) -> Result<ParsedEvent, EventError> {
        if raw
            .meta
            .as_ref()
            .and_then(|m| m.domain.as_deref())
            .is_some_and(|d| d == "canary")
        {
            return Ok(ParsedEvent::Canary);
        }
        let wiki = raw.wiki.ok_or(EventError::MissingField("wiki"))?;
        if let Some(wikis) = &self.wikis
            && !wikis.contains(&*wiki)
        {
            return Ok(ParsedEvent::OtherWiki);
        }
        let rcid = raw.id.ok_or(EventError::MissingField("id"))?;
        let rcid =
            u64::try_from(rcid).map_err(|_| EventError::Invalid(format!("negative id {rcid}")))?;
        let kind = raw.kind.ok_or(EventError::MissingField("type"))?;
        let namespace = raw.namespace.ok_or(EventError::MissingField("namespace"))?;
        let title = raw.title.ok_or(EventError::MissingField("title"))?;
        let seconds = raw.timestamp.ok_or(EventError::MissingField("timestamp"))?;
        let timestamp = DateTime::from_timestamp(seconds, 0)
            .ok_or_else(|| EventError::Invalid(format!("timestamp {seconds} out of range")))?;
        let revision = raw.revision.unwrap_or_default();
        let length = raw.length.unwrap_or_default();
        let change_type =
            ChangeType::from_parts(&kind, raw.log_type.as_deref(), raw.log_action.as_deref());
        Ok(ParsedEvent::Edit(Box::new(Edit {
            wiki: wiki.into_owned(),
            rcid,
            change_type,
            namespace,
            title: title.into_owned(),
            old_revision: positive_id(revision.old),
            new_revision: positive_id(revision.new),
            old_length: length.old,
            new_length: length.new,
            timestamp,
            user: raw.user.map(Text::into_owned),
            bot: raw.bot,
            minor: raw.minor,
            patrolled: raw.patrolled,
            comment: raw.comment.map(Text::into_owned),
            parsedcomment: raw.parsedcomment.map(Text::into_owned),
            uri: raw.meta.and_then(|m| m.uri).map(Text::into_owned),
        })))
    }
}

/// Revision ids of 0 (or below) mean "no revision".
fn positive_id(id: Option<i64>) -> Option<u64> {
    id.and_then(|v| u64::try_from(v).ok()).filter(|&v| v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EDIT: &str = r#"{"bot":false,"comment":"/* wbsetdescription-add:1|eu */ x","id":700971720,"length":{"new":1620,"old":1555},"meta":{"domain":"www.wikidata.org","uri":"https://www.wikidata.org/wiki/Q1"},"minor":false,"namespace":0,"parsedcomment":"x","patrolled":true,"revision":{"new":649009271,"old":647931399},"server_name":"www.wikidata.org","timestamp":1521740416,"title":"Q1","type":"edit","user":"QuickStatementsBot","wiki":"wikidatawiki"}"#;

    #[test]
    fn parses_an_edit_with_every_field() {
        let ParsedEvent::Edit(edit) = RecentChangeParser::new().parse(EDIT).unwrap() else {
            panic!("not an edit")
        };
        assert_eq!(edit.wiki, "wikidatawiki");
        assert_eq!(edit.rcid, 700971720);
        assert_eq!(edit.change_type, ChangeType::Edit);
        assert_eq!(edit.old_revision, Some(647931399));
        assert_eq!(edit.new_revision, Some(649009271));
        assert_eq!(edit.diff_size(), 65);
        assert_eq!(edit.timestamp.timestamp(), 1521740416);
        assert_eq!(
            edit.uri.as_deref(),
            Some("https://www.wikidata.org/wiki/Q1")
        );
        assert_eq!(edit.patrolled, Some(true));
    }

    #[test]
    fn strings_are_borrowed_unless_they_hold_escapes() {
        let raw: RawEvent<'_> = serde_json::from_str(EDIT).unwrap();
        assert!(matches!(raw.title.map(|t| t.0), Some(Cow::Borrowed("Q1"))));
        assert!(matches!(
            raw.meta.and_then(|m| m.domain).map(|d| d.0),
            Some(Cow::Borrowed("www.wikidata.org"))
        ));
        let escaped = r#"{"title":"Q\"1\u00e9","comment":"a\nb"}"#;
        let raw: RawEvent<'_> = serde_json::from_str(escaped).unwrap();
        assert!(matches!(raw.title.as_ref().map(|t| &t.0), Some(Cow::Owned(t)) if t == "Q\"1é"));
        assert_eq!(raw.comment.as_deref(), Some("a\nb"));
        let raw: RawEvent<'_> = serde_json::from_slice(EDIT.as_bytes()).unwrap();
        assert!(matches!(
            raw.wiki.map(|w| w.0),
            Some(Cow::Borrowed("wikidatawiki"))
        ));
    }

    #[test]
    fn canaries_are_recognised_before_anything_else() {
        let canary = r#"{"$schema":"/mediawiki/recentchange/1.0.1","meta":{"dt":"2026-01-01T00:00:00Z","stream":"mediawiki.recentchange","domain":"canary"}}"#;
        assert_eq!(
            RecentChangeParser::new().parse(canary).unwrap(),
            ParsedEvent::Canary
        );
    }

    #[test]
    fn other_wikis_are_left_out_when_filtering() {
        let parser = RecentChangeParser::new().with_wikis(["commonswiki"]);
        assert_eq!(parser.parse(EDIT).unwrap(), ParsedEvent::OtherWiki);
        let parser = RecentChangeParser::new().with_wikis(["commonswiki", "wikidatawiki"]);
        assert!(matches!(parser.parse(EDIT).unwrap(), ParsedEvent::Edit(_)));
    }

    #[test]
    fn large_ids_and_log_entries_parse() {
        let log = r#"{"id":5000000000,"type":"log","log_type":"delete","log_action":"delete","namespace":0,"title":"Q5","timestamp":1532278800,"wiki":"wikidatawiki","revision":{"new":null},"comment":"gone"}"#;
        let ParsedEvent::Edit(edit) = RecentChangeParser::new().parse(log).unwrap() else {
            panic!("not an edit")
        };
        assert_eq!(edit.rcid, 5_000_000_000);
        assert!(edit.change_type.is_delete());
        assert_eq!(edit.change_type.kind(), "delete");
        assert_eq!(edit.new_revision, None);
        assert_eq!(edit.user, None);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let parser = RecentChangeParser::new();
        for bad in [
            "",
            "not json",
            "[1,2]",
            "42",
            r#"{"id":1,"type":"edit""#,
            r#"{"id":"x","wiki":"w"}"#,
            r#"{"id":-3,"type":"edit","namespace":0,"title":"Q1","timestamp":1,"wiki":"w"}"#,
            r#"{"id":3,"type":"edit","namespace":0,"title":"Q1","timestamp":99999999999999999,"wiki":"w"}"#,
            r#"{"id":3,"type":"edit","namespace":0,"title":"Q1","timestamp":1,"wiki":"w"} trailing"#,
            r#"{"id":3.5,"type":"edit","namespace":0,"title":"Q1","timestamp":1,"wiki":"w"}"#,
            r#"{"id":3,"type":"edit","namespace":0,"title":7,"timestamp":1,"wiki":"w"}"#,
            r#"{"id":3,"type":"edit","namespace":0,"title":"Q1","timestamp":1,"wiki":"w\ud800"}"#,
        ] {
            assert!(parser.parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(matches!(
            parser.parse(r#"{"wiki":"w","type":"edit"}"#),
            Err(EventError::MissingField("id"))
        ));
        assert!(parser.parse_slice(b"{\"wiki\":\"\xff\"}").is_err());
    }
}
