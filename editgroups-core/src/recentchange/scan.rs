//! Reads the fields of a recent-change event that the pipeline uses, and skips the
//! rest without building it.
//!
//! Most of an event is metadata nothing here reads (`meta.id`, `meta.dt`,
//! `server_url`, `log_params`, ...). A generic deserializer still builds or visits
//! every value of it; this reader steps over those values, checking only that they
//! are well-formed JSON. It accepts a line exactly when serde_json would accept it
//! as the event: one JSON object (surrounded by whitespace at most) whose known
//! fields hold values of the expected types or `null`, each at most once, with no
//! control characters or bad escapes in any string. Strings without escapes are
//! borrowed from the line; the rare string with escapes is decoded by serde_json,
//! so escapes mean exactly what they mean there.
//!
//! One difference, on purpose: serde_json also reads a derived struct from a JSON
//! *array* of its values in field order, so `"meta":["canary"]` would be a canary
//! to it. Here the event, `meta`, `length` and `revision` must be objects.

use serde::de::Error as _;
use std::borrow::Cow;

/// What went wrong, with the byte column where it did. A serde_json error, so that
/// callers see one error type whichever reader found the fault.
pub(super) type ScanError = serde_json::Error;

/// An `{"old": …, "new": …}` pair (`length`, `revision`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct OldNew {
    pub(super) old: Option<i64>,
    pub(super) new: Option<i64>,
}

/// The `meta` object's fields that are read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Meta<'a> {
    pub(super) domain: Option<Cow<'a, str>>,
    pub(super) uri: Option<Cow<'a, str>>,
}

/// The fields of an event that are read; `None` when absent or `null`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Fields<'a> {
    pub(super) meta: Option<Meta<'a>>,
    pub(super) id: Option<i64>,
    pub(super) kind: Option<Cow<'a, str>>,
    pub(super) namespace: Option<i64>,
    pub(super) title: Option<Cow<'a, str>>,
    pub(super) comment: Option<Cow<'a, str>>,
    pub(super) parsedcomment: Option<Cow<'a, str>>,
    pub(super) timestamp: Option<i64>,
    pub(super) user: Option<Cow<'a, str>>,
    pub(super) bot: Option<bool>,
    pub(super) minor: Option<bool>,
    pub(super) patrolled: Option<bool>,
    pub(super) length: Option<OldNew>,
    pub(super) revision: Option<OldNew>,
    pub(super) wiki: Option<Cow<'a, str>>,
    pub(super) log_type: Option<Cow<'a, str>>,
    pub(super) log_action: Option<Cow<'a, str>>,
}

/// Reads the fields of one event.
pub(super) fn scan(text: &str) -> Result<Fields<'_>, ScanError> {
    let mut scanner = Scanner {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let mut fields = Fields::default();
    let mut seen = Seen::default();
    scanner.object(|s, key| {
        let key = key.decode(s)?;
        let Some(field) = Field::of(&key) else {
            return s.skip_value();
        };
        seen.first(s, &key, field as u32)?;
        match field {
            Field::Meta => fields.meta = s.meta()?,
            Field::Id => fields.id = s.integer()?,
            Field::Kind => fields.kind = s.text()?,
            Field::Namespace => fields.namespace = s.integer()?,
            Field::Title => fields.title = s.text()?,
            Field::Comment => fields.comment = s.text()?,
            Field::ParsedComment => fields.parsedcomment = s.text()?,
            Field::Timestamp => fields.timestamp = s.integer()?,
            Field::User => fields.user = s.text()?,
            Field::Bot => fields.bot = s.boolean()?,
            Field::Minor => fields.minor = s.boolean()?,
            Field::Patrolled => fields.patrolled = s.boolean()?,
            Field::Length => fields.length = s.old_new()?,
            Field::Revision => fields.revision = s.old_new()?,
            Field::Wiki => fields.wiki = s.text()?,
            Field::LogType => fields.log_type = s.text()?,
            Field::LogAction => fields.log_action = s.text()?,
        }
        Ok(())
    })?;
    scanner.skip_whitespace();
    if scanner.pos < scanner.bytes.len() {
        return Err(scanner.error("trailing characters"));
    }
    Ok(fields)
}

/// The event's fields that are read.
#[derive(Clone, Copy)]
enum Field {
    Meta,
    Id,
    Kind,
    Namespace,
    Title,
    Comment,
    ParsedComment,
    Timestamp,
    User,
    Bot,
    Minor,
    Patrolled,
    Length,
    Revision,
    Wiki,
    LogType,
    LogAction,
}

impl Field {
    fn of(key: &str) -> Option<Self> {
        Some(match key {
            "meta" => Self::Meta,
            "id" => Self::Id,
            "type" => Self::Kind,
            "namespace" => Self::Namespace,
            "title" => Self::Title,
            "comment" => Self::Comment,
            "parsedcomment" => Self::ParsedComment,
            "timestamp" => Self::Timestamp,
            "user" => Self::User,
            "bot" => Self::Bot,
            "minor" => Self::Minor,
            "patrolled" => Self::Patrolled,
            "length" => Self::Length,
            "revision" => Self::Revision,
            "wiki" => Self::Wiki,
            "log_type" => Self::LogType,
            "log_action" => Self::LogAction,
            _ => return None,
        })
    }
}

/// Which known fields of one object were met, by their index, to refuse a second
/// one (as serde's derived structs do).
#[derive(Default)]
struct Seen(u32);

impl Seen {
    fn first(&mut self, scanner: &Scanner<'_>, key: &str, index: u32) -> Result<(), ScanError> {
        let bit = 1u32 << index;
        if self.0 & bit != 0 {
            return Err(scanner.error(&format!("duplicate field `{key}`")));
        }
        self.0 |= bit;
        Ok(())
    }
}

/// The two fields of an object read by [`Scanner::two_fields`].
type Pair<A, B> = (Option<A>, Option<B>);

/// A string as it stands in the line, between its quotes.
#[derive(Clone, Copy)]
struct RawString<'a> {
    /// The string with its quotes.
    quoted: &'a str,
    /// Whether it holds a backslash escape.
    escaped: bool,
}

impl<'a> RawString<'a> {
    /// The string's value: borrowed, or decoded when it holds escapes.
    fn decode(self, scanner: &Scanner<'a>) -> Result<Cow<'a, str>, ScanError> {
        if self.escaped {
            return serde_json::from_str::<String>(self.quoted).map(Cow::Owned);
        }
        let inner = self.quoted.len().saturating_sub(1);
        self.quoted
            .get(1..inner)
            .map(Cow::Borrowed)
            .ok_or_else(|| scanner.error("bad string"))
    }
}

/// A number's value, when it is one an `i64` field takes.
enum Number {
    Integer(i64),
    /// A fraction, an exponent, `-0` or out of the range of `i64`: serde_json
    /// reads those as floating-point or unsigned numbers, which `i64` fields refuse.
    Other,
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn error(&self, what: &str) -> ScanError {
        ScanError::custom(format_args!("{what} at column {}", self.pos + 1))
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte that is not whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes.get(self.pos).copied()
    }

    fn unexpected(&mut self, expected: &str) -> ScanError {
        match self.peek() {
            None => self.error(&format!("EOF while parsing: expected {expected}")),
            Some(_) => self.error(&format!("expected {expected}")),
        }
    }

    /// An object, handing each key to `field`, which must read the key's value.
    fn object<F>(&mut self, mut field: F) -> Result<(), ScanError>
    where
        F: FnMut(&mut Self, RawString<'a>) -> Result<(), ScanError>,
    {
        if self.peek() != Some(b'{') {
            return Err(self.unexpected("an object"));
        }
        self.pos += 1;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let key = self.member_key()?;
            field(self, key)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected("`,` or `}`")),
            }
        }
    }

    /// A value of a field that is not read: checked, not kept. Iterative, with no
    /// depth limit (serde_json sets none on the values it ignores either), so a
    /// deeply nested value cannot exhaust the stack.
    fn skip_value(&mut self) -> Result<(), ScanError> {
        // The open containers: `true` for an object.
        let mut open: Vec<bool> = Vec::new();
        loop {
            // A value.
            match self.peek() {
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'{') => {
                    self.pos += 1;
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                    } else {
                        self.member_key()?;
                        open.push(true);
                        continue;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                    } else {
                        open.push(false);
                        continue;
                    }
                }
                Some(b't') => self.literal("true")?,
                Some(b'f') => self.literal("false")?,
                Some(b'n') => self.literal("null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                _ => return Err(self.unexpected("a value")),
            }
            // What follows a value: the next one, or the end of its containers.
            loop {
                let Some(&object) = open.last() else {
                    return Ok(());
                };
                let close = if object { b'}' } else { b']' };
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if object {
                            self.member_key()?;
                        }
                        break;
                    }
                    Some(c) if c == close => {
                        self.pos += 1;
                        open.pop();
                    }
                    _ if object => return Err(self.unexpected("`,` or `}`")),
                    _ => return Err(self.unexpected("`,` or `]`")),
                }
            }
        }
    }

    /// A member's key and its colon.
    fn member_key(&mut self) -> Result<RawString<'a>, ScanError> {
        if self.peek() != Some(b'"') {
            return Err(self.unexpected("a key"));
        }
        let key = self.string()?;
        if self.peek() != Some(b':') {
            return Err(self.unexpected("`:`"));
        }
        self.pos += 1;
        Ok(key)
    }

    fn literal(&mut self, word: &str) -> Result<(), ScanError> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end) == Some(word.as_bytes()) {
            self.pos = end;
            Ok(())
        } else {
            Err(self.error("expected ident"))
        }
    }

    /// A string at `pos` (its opening quote).
    fn string(&mut self) -> Result<RawString<'a>, ScanError> {
        let start = self.pos;
        let mut at = start + 1;
        let mut escaped = false;
        loop {
            at = plain_run_end(self.bytes, at);
            match self.bytes.get(at) {
                None => {
                    self.pos = self.bytes.len();
                    return Err(self.error("EOF while parsing a string"));
                }
                Some(b'"') => {
                    self.pos = at + 1;
                    let quoted = self
                        .text
                        .get(start..self.pos)
                        .ok_or_else(|| self.error("bad string"))?;
                    return Ok(RawString { quoted, escaped });
                }
                Some(b'\\') => {}
                Some(_) => {
                    self.pos = at;
                    return Err(self.error(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ));
                }
            }
            escaped = true;
            at += 1;
            match self.bytes.get(at) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => at += 1,
                Some(b'u') => {
                    let hex = self.bytes.get(at + 1..at + 5);
                    if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                        self.pos = at;
                        return Err(self.error("invalid escape"));
                    }
                    at += 5;
                }
                _ => {
                    self.pos = at;
                    return Err(self.error("invalid escape"));
                }
            }
        }
    }

    /// A number at `pos`, in JSON's grammar.
    fn number(&mut self) -> Result<Number, ScanError> {
        let negative = self.bytes.get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        let mut magnitude: Option<u64> = Some(0);
        match self.bytes.get(self.pos) {
            Some(b'0') => {
                self.pos += 1;
                if self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    return Err(self.error("invalid number"));
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(&digit @ b'0'..=b'9') = self.bytes.get(self.pos) {
                    magnitude = magnitude
                        .and_then(|m| m.checked_mul(10))
                        .and_then(|m| m.checked_add(u64::from(digit - b'0')));
                    self.pos += 1;
                }
            }
            _ => return Err(self.error("invalid number")),
        }
        let mut integer = true;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            integer = false;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            self.digits()?;
        }
        let value = match (integer, magnitude, negative) {
            (true, Some(m), false) => i64::try_from(m).ok(),
            // serde_json reads `-0` as a floating-point number.
            (true, Some(m), true) if m > 0 => 0i64.checked_sub_unsigned(m),
            _ => None,
        };
        Ok(value.map_or(Number::Other, Number::Integer))
    }

    /// At least one digit.
    fn digits(&mut self) -> Result<(), ScanError> {
        let start = self.pos;
        while self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("invalid number"));
        }
        Ok(())
    }

    /// `null`, or `then`'s value.
    fn nullable<T>(
        &mut self,
        then: impl FnOnce(&mut Self) -> Result<T, ScanError>,
    ) -> Result<Option<T>, ScanError> {
        if self.peek() == Some(b'n') {
            self.literal("null")?;
            return Ok(None);
        }
        then(self).map(Some)
    }

    fn integer(&mut self) -> Result<Option<i64>, ScanError> {
        self.nullable(|s| match s.peek() {
            Some(b'-' | b'0'..=b'9') => match s.number()? {
                Number::Integer(value) => Ok(value),
                Number::Other => Err(s.error("invalid type: expected i64")),
            },
            _ => Err(s.unexpected("an integer")),
        })
    }

    fn boolean(&mut self) -> Result<Option<bool>, ScanError> {
        self.nullable(|s| match s.peek() {
            Some(b't') => s.literal("true").map(|()| true),
            Some(b'f') => s.literal("false").map(|()| false),
            _ => Err(s.unexpected("a boolean")),
        })
    }

    fn text(&mut self) -> Result<Option<Cow<'a, str>>, ScanError> {
        self.nullable(|s| match s.peek() {
            Some(b'"') => s.string()?.decode(s),
            _ => Err(s.unexpected("a string")),
        })
    }

    fn old_new(&mut self) -> Result<Option<OldNew>, ScanError> {
        let pair = self.two_fields(["old", "new"], Self::integer, Self::integer)?;
        Ok(pair.map(|(old, new)| OldNew { old, new }))
    }

    fn meta(&mut self) -> Result<Option<Meta<'a>>, ScanError> {
        let pair = self.two_fields(["domain", "uri"], Self::text, Self::text)?;
        Ok(pair.map(|(domain, uri)| Meta { domain, uri }))
    }

    /// `null`, or an object of which the two fields `names` are read (each at
    /// most once) and the others stepped over.
    fn two_fields<A, B>(
        &mut self,
        names: [&str; 2],
        first: impl Fn(&mut Self) -> Result<Option<A>, ScanError>,
        second: impl Fn(&mut Self) -> Result<Option<B>, ScanError>,
    ) -> Result<Option<Pair<A, B>>, ScanError> {
        self.nullable(|s| {
            let (mut a, mut b) = (None, None);
            let mut seen = Seen::default();
            s.object(|s, key| {
                let key = key.decode(s)?;
                if *key == *names[0] {
                    seen.first(s, &key, 0)?;
                    a = first(s)?;
                } else if *key == *names[1] {
                    seen.first(s, &key, 1)?;
                    b = second(s)?;
                } else {
                    s.skip_value()?;
                }
                Ok(())
            })?;
            Ok((a, b))
        })
    }
}

/// Where the run of plain string bytes from `at` ends: at the first quote,
/// backslash or control character, or at the end of the input. Eight bytes at a
/// time: most strings of an event are short, and a SIMD search's set-up would cost
/// more than it saves on them.
fn plain_run_end(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    // The high bit of each byte below `n` (n <= 128), and possibly of later bytes:
    // the lowest flagged byte is exact.
    let below = |word: u64, n: u64| word.wrapping_sub(ONES * n) & !word & HIGHS;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let flagged = below(word, 0x20) | below(word ^ QUOTES, 1) | below(word ^ BACKSLASHES, 1);
        if flagged != 0 {
            return at + (flagged.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&byte) = bytes.get(at) {
        if byte == b'"' || byte == b'\\' || byte < 0x20 {
            return at;
        }
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::plain_run_end;

    #[test]
    fn plain_runs_end_at_the_first_quote_backslash_or_control_character() {
        for len in 0..24 {
            for stop in [b'"', b'\\', 0x00, 0x1f] {
                for at in 0..len {
                    let mut bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                    bytes[at] = stop;
                    // Bytes that only look like the stops to a careless word test.
                    if at + 1 < len {
                        bytes[at + 1] = 0x80 | stop;
                    }
                    assert_eq!(plain_run_end(&bytes, 0), at, "{bytes:?}");
                }
            }
            let plain: Vec<u8> = "é x ".bytes().cycle().take(len).collect();
            assert_eq!(plain_run_end(&plain, 0), len);
        }
        assert_eq!(plain_run_end(b"ab\"cd\"", 3), 5);
        assert_eq!(plain_run_end(b"ab", 7), 7);
    }
}
