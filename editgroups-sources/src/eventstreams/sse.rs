//! An incremental parser of server-sent events (the `text/event-stream` format),
//! following the WHATWG HTML "event stream interpretation" rules.
//!
//! It works on bytes as they come off the network, in chunks of any size: a line
//! end, a frame or a UTF-8 character may be split across chunks. Lines end in LF,
//! CRLF or CR; a CR at the end of one chunk and an LF at the start of the next
//! are one line end. Only complete lines are decoded, so a split character is
//! never mangled.
//!
//! One event's size is capped: an event whose lines or data grow past the cap is
//! dropped (and reported as [`SseFrame::Oversized`]) without being held in
//! memory, and parsing goes on with the next event.

use std::time::Duration;

/// The UTF-8 byte order mark, stripped from the start of a stream.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];
/// Room for a field name and its colon on top of an event's data, so a line
/// `data: <max bytes>` still fits.
const FIELD_SLACK: usize = 64;

/// A dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, or `None` for the default type, `message`.
    pub event: Option<String>,
    /// The `data:` lines, joined by LF. Invalid UTF-8 is replaced by U+FFFD.
    pub data: String,
    /// The last event id at dispatch (the spec's `lastEventId`): the latest `id:`
    /// field of this or an earlier event, verbatim; empty when none was sent.
    pub id: String,
}

impl SseEvent {
    /// The event type: the `event:` field, `message` when none was sent.
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }
}

/// What the parser hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseFrame {
    /// A complete event.
    Event(SseEvent),
    /// An event larger than the cap, dropped.
    Oversized {
        /// Bytes of the event seen (its data and over-long lines), at least the cap.
        bytes: usize,
        /// The last event id at its end, as for [`SseEvent::id`].
        id: String,
    },
}

/// An incremental server-sent-events parser. Feed it chunks with
/// [`SseParser::feed`]; it appends every frame completed by the chunk.
///
/// ```
/// use editgroups_sources::eventstreams::sse::{SseFrame, SseParser};
/// let mut parser = SseParser::new(1024);
/// let mut frames = Vec::new();
/// parser.feed(b":ok\n\nid: [1]\ndata: {\"a\":", &mut frames);
/// assert!(frames.is_empty());
/// parser.feed(b"1}\r\n\r\n", &mut frames);
/// let SseFrame::Event(event) = &frames[0] else { panic!() };
/// assert_eq!((event.id.as_str(), event.data.as_str()), ("[1]", "{\"a\":1}"));
/// ```
#[derive(Debug, Clone)]
pub struct SseParser {
    max_event_bytes: usize,
    /// How many bytes of the byte order mark were seen at the start; 3 once the
    /// start has been dealt with.
    bom_seen: usize,
    /// The incomplete line carried over from the previous chunk.
    line: Vec<u8>,
    /// The current line is too long: its bytes are dropped up to its end.
    skipping_line: bool,
    /// The previous chunk ended in CR: an LF starting this chunk ends no line.
    skip_lf: bool,
    data: Vec<u8>,
    event_type: String,
    /// The spec's "last event ID buffer": set by `id:`, kept across events.
    id_buffer: String,
    /// The spec's "last event ID string": the buffer as of the last dispatch.
    last_event_id: String,
    /// The current event has exceeded the cap.
    oversized: bool,
    /// Bytes of the current event (data and dropped lines), for the report.
    event_bytes: usize,
    retry: Option<Duration>,
}

impl SseParser {
    /// A parser that drops events of more than `max_event_bytes` of data.
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            max_event_bytes: max_event_bytes.max(1),
            bom_seen: 0,
            line: Vec::new(),
            skipping_line: false,
            skip_lf: false,
            data: Vec::new(),
            event_type: String::new(),
            id_buffer: String::new(),
            last_event_id: String::new(),
            oversized: false,
            event_bytes: 0,
            retry: None,
        }
    }

    /// The cap on one event's data, in bytes.
    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// The last event id dispatched (empty when none).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time the server asked for with `retry:`, if any.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Parses a chunk of the stream, appending the frames it completes to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseFrame>) {
        let mut rest = self.strip_bom(chunk);
        if self.skip_lf && !rest.is_empty() {
            self.skip_lf = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while !rest.is_empty() {
            let Some(end) = memchr::memchr2(b'\n', b'\r', rest) else {
                self.carry(rest);
                break;
            };
            let (head, tail) = rest.split_at(end);
            if self.line.is_empty() && !self.skipping_line {
                // The usual case: the whole line is in this chunk, no copy.
                self.check_line_length(head.len());
                if !self.skipping_line {
                    self.process_line(head, out);
                }
            } else {
                self.carry(head);
                if !self.skipping_line {
                    let line = std::mem::take(&mut self.line);
                    self.process_line(&line, out);
                    self.line = line;
                }
                self.line.clear();
            }
            self.skipping_line = false;
            let terminator = tail[0];
            rest = &tail[1..];
            if terminator == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
        }
    }

    /// Forgets any incomplete line and event, as at the end of a stream (the spec
    /// drops an event that was not ended by a blank line). The last event id and
    /// `retry` are kept.
    pub fn reset(&mut self) {
        self.bom_seen = 0;
        self.line = Vec::new();
        self.skipping_line = false;
        self.skip_lf = false;
        self.data = Vec::new();
        self.event_type.clear();
        self.id_buffer.clone_from(&self.last_event_id);
        self.oversized = false;
        self.event_bytes = 0;
    }

    /// Drops a byte order mark at the very start of the stream, even split
    /// across chunks.
    fn strip_bom<'a>(&mut self, mut chunk: &'a [u8]) -> &'a [u8] {
        while self.bom_seen < BOM.len() {
            let Some(&byte) = chunk.first() else {
                return chunk;
            };
            if byte == BOM[self.bom_seen] {
                self.bom_seen += 1;
                chunk = &chunk[1..];
            } else {
                // Not a BOM after all: the bytes taken for one are line content.
                let seen = self.bom_seen;
                self.bom_seen = BOM.len();
                self.carry(&BOM[..seen]);
            }
        }
        chunk
    }

    /// Keeps part of an incomplete line, unless the line is too long.
    fn carry(&mut self, part: &[u8]) {
        if self.skipping_line {
            self.event_bytes = self.event_bytes.saturating_add(part.len());
            return;
        }
        self.check_line_length(self.line.len() + part.len());
        if !self.skipping_line {
            self.line.extend_from_slice(part);
        }
    }

    /// Starts dropping the current line and event if a line of `length` bytes
    /// cannot fit in an event.
    fn check_line_length(&mut self, length: usize) {
        if length > self.max_event_bytes.saturating_add(FIELD_SLACK) {
            self.skipping_line = true;
            self.oversized = true;
            self.event_bytes = self.event_bytes.saturating_add(length);
            self.line = Vec::new();
            self.data = Vec::new();
        }
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseFrame>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(0) => return, // a comment
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                let length = self.data.len() + value.len() + 1;
                self.event_bytes = self.event_bytes.saturating_add(value.len() + 1);
                if self.oversized || length > self.max_event_bytes.saturating_add(1) {
                    self.oversized = true;
                    self.data = Vec::new();
                } else {
                    self.data.extend_from_slice(value);
                    self.data.push(b'\n');
                }
            }
            b"event" => {
                self.event_type.clear();
                push_utf8(&mut self.event_type, value);
            }
            // The spec ignores ids containing NUL.
            b"id" if memchr::memchr(0, value).is_none() => {
                self.id_buffer.clear();
                push_utf8(&mut self.id_buffer, value);
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All digits; too many of them saturates rather than fails.
                let millis = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(u64::MAX);
                self.retry = Some(Duration::from_millis(millis));
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseFrame>) {
        if self.last_event_id != self.id_buffer {
            self.last_event_id.clone_from(&self.id_buffer);
        }
        if self.oversized {
            out.push(SseFrame::Oversized {
                bytes: self.event_bytes,
                id: self.last_event_id.clone(),
            });
        } else if !self.data.is_empty() {
            let mut data = std::mem::take(&mut self.data);
            data.pop(); // the LF after the last data line
            let data = match String::from_utf8(data) {
                Ok(text) => text,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            };
            let event = (!self.event_type.is_empty()).then(|| self.event_type.clone());
            out.push(SseFrame::Event(SseEvent {
                event,
                data,
                id: self.last_event_id.clone(),
            }));
        }
        self.data.clear();
        self.event_type.clear();
        self.oversized = false;
        self.event_bytes = 0;
    }
}

/// Appends `bytes` decoded as UTF-8, invalid sequences replaced by U+FFFD.
fn push_utf8(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => out.push_str(text),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

#[cfg(test)]
mod tests;
