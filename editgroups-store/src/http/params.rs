//! Query parameters: parsed strictly, so that a bad value is a 400 with a message
//! rather than a silently ignored filter.

use super::error::HttpError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use editgroups_core::edit::{EventPosition, Timestamp};
use editgroups_core::{BatchKey, BatchPosition};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The page size when none is asked for.
pub(crate) const DEFAULT_LIMIT: u64 = 15;
/// The largest page.
pub(crate) const MAX_LIMIT: u64 = 500;
/// The largest offset: deeper pages are reached through `next` links.
pub(crate) const MAX_OFFSET: u64 = 10_000;
/// The most tags a filter may combine.
const MAX_TAGS: usize = 16;

/// What a query string may hold.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params {
    pub(crate) tool: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) wiki: Option<String>,
    pub(crate) limit: u64,
    pub(crate) offset: u64,
    pub(crate) after: Option<String>,
    pub(crate) before: Option<String>,
    pub(crate) format: Option<Format>,
}

/// A representation asked for with `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Html,
    Json,
    Csv,
}

fn decode(raw: &str, name: &str) -> Result<String, HttpError> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| HttpError::bad_request(format!("query parameter {name} is not valid UTF-8")))
}

fn number(value: &str, name: &str, max: u64) -> Result<u64, HttpError> {
    let n: u64 = value.trim().parse().map_err(|_| {
        HttpError::bad_request(format!(
            "{name} must be a whole number from 0 to {max}, not {value:?}"
        ))
    })?;
    if n > max {
        return Err(HttpError::bad_request(format!(
            "{name} must be at most {max} (got {n}); follow the `next` links for deeper pages"
        )));
    }
    Ok(n)
}

/// Checks a text filter: bounded, no control characters.
fn text(value: String, name: &str) -> Result<Option<String>, HttpError> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > editgroups_core::store::MAX_KEY_CHARS {
        return Err(HttpError::bad_request(format!("{name} is too long")));
    }
    if value.chars().any(char::is_control) {
        return Err(HttpError::bad_request(format!(
            "{name} contains control characters"
        )));
    }
    Ok(Some(value))
}

/// Whether a wiki id is well-formed (`wikidatawiki`, `my-wiki_2`).
pub(crate) fn valid_wiki(wiki: &str) -> bool {
    !wiki.is_empty()
        && wiki.len() <= editgroups_core::store::MAX_WIKI_CHARS
        && wiki
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Params {
    /// Parses a raw query string (without the `?`). Unknown parameters are
    /// ignored (caches and trackers add them); known ones must be valid.
    pub(crate) fn parse(query: Option<&str>) -> Result<Self, HttpError> {
        let mut params = Self {
            limit: DEFAULT_LIMIT,
            ..Self::default()
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(raw_name, "name")?;
            let value = || decode(raw_value, &name);
            match name.as_str() {
                "tool" => params.tool = text(value()?, "tool")?,
                "user" => params.user = text(value()?, "user")?,
                "tags" => {
                    for tag in value()?.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                        if tag.len() > editgroups_core::store::MAX_TAG_CHARS
                            || tag.chars().any(char::is_control)
                        {
                            return Err(HttpError::bad_request(format!("bad tag {tag:?}")));
                        }
                        if !params.tags.iter().any(|t| t == tag) {
                            params.tags.push(tag.to_owned());
                        }
                    }
                    if params.tags.len() > MAX_TAGS {
                        return Err(HttpError::bad_request(format!(
                            "at most {MAX_TAGS} tags can be combined"
                        )));
                    }
                }
                "wiki" => {
                    let wiki = value()?;
                    if wiki.is_empty() {
                        params.wiki = None;
                    } else if valid_wiki(&wiki) {
                        params.wiki = Some(wiki);
                    } else {
                        return Err(HttpError::bad_request(format!("bad wiki id {wiki:?}")));
                    }
                }
                "limit" => {
                    let limit = number(&value()?, "limit", MAX_LIMIT)?;
                    if limit == 0 {
                        return Err(HttpError::bad_request(format!(
                            "limit must be from 1 to {MAX_LIMIT}"
                        )));
                    }
                    params.limit = limit;
                }
                "offset" => params.offset = number(&value()?, "offset", MAX_OFFSET)?,
                "after" => params.after = Some(value()?).filter(|v| !v.is_empty()),
                "before" => params.before = Some(value()?).filter(|v| !v.is_empty()),
                "format" => {
                    params.format = match value()?.as_str() {
                        "json" => Some(Format::Json),
                        "html" | "api" => Some(Format::Html),
                        "csv" => Some(Format::Csv),
                        "" => None,
                        other => {
                            return Err(HttpError::bad_request(format!(
                                "unknown format {other:?}: use json or html (csv for the .csv URLs)"
                            )));
                        }
                    }
                }
                _ => {}
            }
        }
        if params.after.is_some() && params.before.is_some() {
            return Err(HttpError::bad_request("use `after` or `before`, not both"));
        }
        Ok(params)
    }

    /// Parameters of a page of the same list elsewhere: filters kept, position
    /// and offset dropped.
    pub(crate) fn filters_only(&self) -> Self {
        Self {
            tool: self.tool.clone(),
            user: self.user.clone(),
            tags: self.tags.clone(),
            wiki: self.wiki.clone(),
            limit: self.limit,
            ..Self::default()
        }
    }

    /// The query string of these parameters (no `?`), in a fixed order; the
    /// page size only when it is not the default, the format only when JSON was
    /// asked for by parameter.
    pub(crate) fn to_query(&self) -> String {
        let mut parts = Vec::new();
        let mut push = |name: &str, value: &str| {
            parts.push(format!("{name}={}", encode_query(value)));
        };
        if let Some(tool) = &self.tool {
            push("tool", tool);
        }
        if let Some(user) = &self.user {
            push("user", user);
        }
        if !self.tags.is_empty() {
            push("tags", &self.tags.join(","));
        }
        if let Some(wiki) = &self.wiki {
            push("wiki", wiki);
        }
        if self.limit != DEFAULT_LIMIT {
            push("limit", &self.limit.to_string());
        }
        if self.offset > 0 {
            push("offset", &self.offset.to_string());
        }
        if let Some(after) = &self.after {
            push("after", after);
        }
        if let Some(before) = &self.before {
            push("before", before);
        }
        if self.format == Some(Format::Json) {
            push("format", "json");
        }
        parts.join("&")
    }
}

/// What stays readable in query values; everything else is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b',')
    .remove(b':');

/// A query value, percent-encoded.
pub(crate) fn encode_query(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// What stays readable in a path segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A path segment, percent-encoded.
pub(crate) fn encode_segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

/// What stays readable in a wiki title in a URL (MediaWiki's own choice, about).
const TITLE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b':')
    .remove(b'/')
    .remove(b'(')
    .remove(b')')
    .remove(b',');

/// A page title as MediaWiki writes it in URLs: spaces as underscores,
/// percent-encoded.
pub(crate) fn encode_title(title: &str) -> String {
    utf8_percent_encode(&title.replace(' ', "_"), TITLE).to_string()
}

/// Keyset positions in `after`/`before` tokens: URL-safe base64 of a JSON array.
pub(crate) fn batch_token(position: &BatchPosition) -> String {
    let value = serde_json::json!([
        position.ended.timestamp_micros(),
        position.key.wiki,
        position.key.tool,
        position.key.uid
    ]);
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn token_json(token: &str) -> Result<serde_json::Value, HttpError> {
    let bad =
        || HttpError::bad_request("bad page position: follow the `next` and `previous` links");
    if token.len() > 2048 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

fn micros_time(value: &serde_json::Value) -> Option<Timestamp> {
    value
        .as_i64()
        .and_then(chrono::DateTime::from_timestamp_micros)
}

/// A batch position from a token, which must be of `wiki`.
pub(crate) fn parse_batch_token(token: &str, wiki: &str) -> Result<BatchPosition, HttpError> {
    let value = token_json(token)?;
    let parsed = value.as_array().and_then(|a| match a.as_slice() {
        [ended, w, t, u] => Some(BatchPosition {
            ended: micros_time(ended)?,
            key: BatchKey::new(w.as_str()?, t.as_str()?, u.as_str()?),
        }),
        _ => None,
    });
    match parsed {
        Some(position) if position.key.wiki == wiki => Ok(position),
        Some(_) => Err(HttpError::bad_request(
            "this page position belongs to another wiki",
        )),
        None => Err(HttpError::bad_request(
            "bad page position: follow the `next` and `previous` links",
        )),
    }
}

/// An edit position as a token.
pub(crate) fn edit_token(position: EventPosition) -> String {
    let value = serde_json::json!([position.timestamp.timestamp_micros(), position.rcid]);
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// An edit position from a token.
pub(crate) fn parse_edit_token(token: &str) -> Result<EventPosition, HttpError> {
    let value = token_json(token)?;
    value
        .as_array()
        .and_then(|a| match a.as_slice() {
            [time, rcid] => Some(EventPosition {
                timestamp: micros_time(time)?,
                rcid: rcid.as_u64()?,
            }),
            _ => None,
        })
        .ok_or_else(|| {
            HttpError::bad_request("bad page position: follow the `next` and `previous` links")
        })
}

/// Refuses a request whose address holds a NUL character (`%00`, the only way a
/// URL carries one), before any handler: no title, batch id, user or tool has
/// one, and PostgreSQL cannot even compare such a text (its error would read as
/// an outage, a 503).
pub(crate) async fn refuse_nul(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let has_nul = |text: &str| {
        text.as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
    };
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        let error = HttpError::bad_request("the address holds a NUL character (%00)");
        let api = uri.path().contains("/api/") || uri.path().ends_with(".csv");
        return if api { error } else { error.into_page() }.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(query: &str) -> String {
        match Params::parse(Some(query)) {
            Ok(p) => panic!("{query} parsed: {p:?}"),
            Err(e) => e.message().to_owned(),
        }
    }

    #[test]
    fn parses_filters_and_pages() {
        let p = Params::parse(Some(
            "tool=OR&user=Jean+Dupont&tags=a,b,,a&limit=20&offset=3&x=1",
        ))
        .unwrap();
        assert_eq!(p.tool.as_deref(), Some("OR"));
        assert_eq!(p.user.as_deref(), Some("Jean Dupont"));
        assert_eq!(p.tags, ["a", "b"]);
        assert_eq!((p.limit, p.offset), (20, 3));
        assert_eq!(
            Params::parse(Some("user=%C3%A9")).unwrap().user.as_deref(),
            Some("é")
        );
        assert_eq!(Params::parse(None).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(
            Params::parse(Some("tool=&user=")).unwrap().tool,
            None,
            "an empty filter is no filter"
        );
    }

    #[test]
    fn refuses_bad_values_with_a_message() {
        assert!(err("limit=501").contains("at most 500"));
        assert!(err("limit=-1").contains("limit"));
        assert!(err("limit=0").contains("limit"));
        assert!(err("limit=99999999999999999999999").contains("limit"));
        assert!(err("offset=x").contains("offset"));
        assert!(err("offset=10001").contains("offset"));
        assert!(err("user=%FF").contains("UTF-8"));
        assert!(err("format=xml").contains("format"));
        assert!(err("wiki=a%20b").contains("wiki"));
        assert!(err("user=a%0Ab").contains("control"));
        assert!(err("after=x&before=y").contains("not both"));
    }

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        let position = BatchPosition {
            ended: chrono::DateTime::from_timestamp(1_600_000_000, 5_000).unwrap(),
            key: BatchKey::new("w", "OR", "a\"b/c"),
        };
        let token = batch_token(&position);
        assert_eq!(parse_batch_token(&token, "w").unwrap(), position);
        assert!(parse_batch_token(&token, "other").is_err());
        assert!(parse_batch_token("!!!", "w").is_err());
        assert!(parse_batch_token(&URL_SAFE_NO_PAD.encode("[1,2]"), "w").is_err());
        let edit = EventPosition {
            timestamp: chrono::DateTime::from_timestamp(5, 0).unwrap(),
            rcid: 9,
        };
        assert_eq!(parse_edit_token(&edit_token(edit)).unwrap(), edit);
        assert!(parse_edit_token(&URL_SAFE_NO_PAD.encode("[1,-2]")).is_err());
    }

    #[test]
    fn encodes_links() {
        assert_eq!(encode_title("Property:P31 a&b"), "Property:P31_a%26b");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
        let p = Params::parse(Some("tags=lang-fr,prop-P31&user=A%26B&limit=15")).unwrap();
        assert_eq!(p.to_query(), "user=A%26B&tags=lang-fr,prop-P31");
    }
}
