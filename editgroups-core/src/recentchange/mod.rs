//! Parsing of Wikimedia EventStreams `mediawiki/recentchange` events (and of the
//! JSON lines recorded from them) into [`Edit`]s.
//!
//! The parser reads only the fields it needs and steps over the rest (see
//! its `scan` module), and borrows from the input where it can: strings without escapes
//! are not copied until an event is known to be kept, so canary events and events
//! of other wikis cost no allocation.

#[cfg(test)]
mod reference;
mod scan;
#[cfg(test)]
mod tests;

use crate::edit::{ChangeType, Edit};
use chrono::DateTime;
use scan::Fields;
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
        self.convert(scan::scan(json)?)
    }

    /// Parses one event from JSON bytes (which must be UTF-8).
    pub fn parse_slice(&self, json: &[u8]) -> Result<ParsedEvent, EventError> {
        let text = std::str::from_utf8(json).map_err(|e| {
            <serde_json::Error as serde::de::Error>::custom(format_args!("not UTF-8: {e}"))
        })?;
        self.parse(text)
    }

    fn convert(&self, fields: Fields<'_>) -> Result<ParsedEvent, EventError> {
        if fields
            .meta
            .as_ref()
            .and_then(|m| m.domain.as_deref())
            .is_some_and(|d| d == "canary")
        {
            return Ok(ParsedEvent::Canary);
        }
        let wiki = fields.wiki.ok_or(EventError::MissingField("wiki"))?;
        if let Some(wikis) = &self.wikis
            && !wikis.contains(&*wiki)
        {
            return Ok(ParsedEvent::OtherWiki);
        }
        let rcid = fields.id.ok_or(EventError::MissingField("id"))?;
        let rcid =
            u64::try_from(rcid).map_err(|_| EventError::Invalid(format!("negative id {rcid}")))?;
        let kind = fields.kind.ok_or(EventError::MissingField("type"))?;
        let namespace = fields
            .namespace
            .ok_or(EventError::MissingField("namespace"))?;
        let title = fields.title.ok_or(EventError::MissingField("title"))?;
        let seconds = fields
            .timestamp
            .ok_or(EventError::MissingField("timestamp"))?;
        let timestamp = DateTime::from_timestamp(seconds, 0)
            .ok_or_else(|| EventError::Invalid(format!("timestamp {seconds} out of range")))?;
        let revision = fields.revision.unwrap_or_default();
        let length = fields.length.unwrap_or_default();
        let change_type = ChangeType::from_parts(
            &kind,
            fields.log_type.as_deref(),
            fields.log_action.as_deref(),
        );
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
            user: fields.user.map(Cow::into_owned),
            bot: fields.bot,
            minor: fields.minor,
            patrolled: fields.patrolled,
            comment: fields.comment.map(Cow::into_owned),
            parsedcomment: fields.parsedcomment.map(Cow::into_owned),
            uri: fields.meta.and_then(|m| m.uri).map(Cow::into_owned),
        })))
    }
}

/// Revision ids of 0 (or below) mean "no revision".
fn positive_id(id: Option<i64>) -> Option<u64> {
    id.and_then(|v| u64::try_from(v).ok()).filter(|&v| v > 0)
}
