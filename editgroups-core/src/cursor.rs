//! Resumable positions of sources.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A position in a source, just after some event, from which the source can
/// resume.
///
/// Each source defines what its cursor holds (a byte offset, an EventStreams id, a
/// timestamp and rc id) and versions it; stores persist cursors opaquely, together
/// with the data read up to them. A source handed a cursor of another kind or of a
/// version it does not know refuses it with a clear error rather than guessing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cursor {
    // Sources name their kind with a constant: no allocation per cursor.
    kind: Cow<'static, str>,
    version: u32,
    position: String,
}

/// A cursor a source cannot resume from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot resume a {expected} v{expected_version} source from a {found} v{found_version} cursor"
)]
pub struct CursorMismatch {
    /// The kind the source expected.
    pub expected: String,
    /// The version the source expected.
    pub expected_version: u32,
    /// The kind found.
    pub found: String,
    /// The version found.
    pub found_version: u32,
}

impl Cursor {
    /// A cursor of a source kind (`replay`, `eventstreams`, ...), in that source's
    /// cursor format `version`, at `position`.
    pub fn new(
        kind: impl Into<Cow<'static, str>>,
        version: u32,
        position: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.into(),
            version,
            position: position.into(),
        }
    }

    /// The kind of source that made this cursor.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The version of the cursor format.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The position, in the source's own format.
    pub fn position(&self) -> &str {
        &self.position
    }

    /// The position, if this cursor is of `kind` and `version`.
    pub fn position_for(&self, kind: &str, version: u32) -> Result<&str, CursorMismatch> {
        if self.kind == kind && self.version == version {
            Ok(&self.position)
        } else {
            Err(CursorMismatch {
                expected: kind.to_owned(),
                expected_version: version,
                found: self.kind.clone().into_owned(),
                found_version: self.version,
            })
        }
    }

    /// Serialises the cursor to one string, for stores that keep it in a column.
    pub fn encode(&self) -> String {
        // Serialising a struct of strings and an integer cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a cursor written by [`Cursor::encode`].
    pub fn decode(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{} @ {}", self.kind, self.version, self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_other_kinds() {
        let cursor = Cursor::new("replay", 1, r#"{"offset":12}"#);
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        assert_eq!(
            cursor.position_for("replay", 1).unwrap(),
            r#"{"offset":12}"#
        );
        let err = cursor.position_for("eventstreams", 1).unwrap_err();
        assert!(err.to_string().contains("eventstreams"));
        assert!(cursor.position_for("replay", 2).is_err());
        assert!(Cursor::decode("{").is_err());
    }
}
