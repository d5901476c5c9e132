//! Replay of recorded recent-change events: JSON lines, one EventStreams
//! `recentchange` event per line, from files (gzip too, by their `.gz` name) or
//! standard input.

use editgroups_core::recentchange::{EventError, ParsedEvent, RecentChangeParser};
use editgroups_core::{Cursor, EditSource, SkipReason, SourceError, SourceItem, SourceStream};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use tokio::sync::oneshot;

const CURSOR_KIND: &str = "replay";
const CURSOR_VERSION: u32 = 1;
/// Lines a batch holds at least (all those of its last read block, whole), unless
/// the input ends first.
const LINES_PER_READ: usize = 1024;
/// Lines longer than this are skipped as oversized, without being held in memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Where recorded events come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayInput {
    /// A file; decompressed when its name ends in `.gz`.
    File(PathBuf),
    /// Standard input (cannot be resumed).
    Stdin,
}

impl ReplayInput {
    fn label(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Stdin => "-".to_owned(),
        }
    }
}

/// The position after a line: which input, how many bytes of it (decompressed)
/// and lines were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    input: usize,
    offset: u64,
    line: u64,
}

impl Position {
    fn cursor(self) -> Cursor {
        // The JSON of `Position`, written directly: this runs for every line, and
        // `write!` costs several times what the three numbers do.
        let mut numbers = itoa::Buffer::new();
        let mut text = String::with_capacity(48);
        text.push_str(r#"{"input":"#);
        text.push_str(numbers.format(self.input));
        text.push_str(r#","offset":"#);
        text.push_str(numbers.format(self.offset));
        text.push_str(r#","line":"#);
        text.push_str(numbers.format(self.line));
        text.push('}');
        Cursor::new(CURSOR_KIND, CURSOR_VERSION, text)
    }
}

/// Replays recorded events. Malformed lines (not JSON, not an object, truncated,
/// not UTF-8) are skipped and reported with their line numbers; they never stop
/// the replay nor hide a neighbouring line.
///
/// Its cursor is the position in the input, so an interrupted replay resumes
/// where it stopped. Its [name](EditSource::name) lists the inputs, so replays of
/// other files into the same store start from their own beginning.
#[derive(Debug, Clone)]
pub struct ReplaySource {
    inputs: Vec<ReplayInput>,
    parser: RecentChangeParser,
    name: String,
    max_line_bytes: usize,
}

impl ReplaySource {
    /// Replays these inputs in order.
    pub fn new(inputs: Vec<ReplayInput>) -> Self {
        let name = format!(
            "{CURSOR_KIND}:{}",
            inputs
                .iter()
                .map(ReplayInput::label)
                .collect::<Vec<_>>()
                .join(",")
        );
        Self {
            inputs,
            parser: RecentChangeParser::new(),
            name,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }

    /// Replays these files in order.
    pub fn from_files<I, P>(paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        Self::new(
            paths
                .into_iter()
                .map(|p| ReplayInput::File(p.into()))
                .collect(),
        )
    }

    /// Replays standard input.
    pub fn stdin() -> Self {
        Self::new(vec![ReplayInput::Stdin])
    }

    /// Keeps only events of these wikis; the others are skipped as
    /// [`SkipReason::OtherWiki`].
    pub fn with_wikis<I, S>(mut self, wikis: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.parser = self.parser.with_wikis(wikis);
        self
    }

    /// Skips lines longer than this (default [`DEFAULT_MAX_LINE_BYTES`]).
    pub fn with_max_line_bytes(mut self, max: usize) -> Self {
        self.max_line_bytes = max.max(1);
        self
    }

    /// The inputs.
    pub fn inputs(&self) -> &[ReplayInput] {
        &self.inputs
    }
}

impl EditSource for ReplaySource {
    fn name(&self) -> &str {
        &self.name
    }

    fn stream(&mut self, from: Option<Cursor>) -> SourceStream {
        let start = match from.as_ref().map(decode_cursor).transpose() {
            Ok(start) => start.unwrap_or(Position {
                input: 0,
                offset: 0,
                line: 0,
            }),
            Err(e) => return Box::pin(futures::stream::once(async { Err(e) })),
        };
        let labels: Arc<[String]> = self.inputs.iter().map(ReplayInput::label).collect();
        let state = ReadState {
            inputs: self.inputs.clone(),
            parser: self.parser.clone(),
            max_line_bytes: self.max_line_bytes,
            position: start,
            reader: None,
            carry: Vec::new(),
            dropped: None,
            labels,
            done: false,
        };
        let parse_threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get().clamp(1, MAX_BATCHES_PARSING));
        Box::pin(futures::stream::unfold(
            ReadAhead {
                idle: Some(state),
                reading: None,
                parsing: VecDeque::new(),
                parse_threads,
                workers: None,
                batch: VecDeque::new(),
            },
            |mut ahead| async move {
                let item = ahead.next().await?;
                Some((item, ahead))
            },
        ))
    }
}

/// Reads and parses the next lines on threads of its own while the consumer works
/// through the items before them: reading, parsing (most of a replay's work, on
/// as many cores as the machine has, up to [`MAX_BATCHES_PARSING`]) and storing
/// all run at once. The reader goes from thread to thread, so lines are read in
/// order, one batch at a time, while earlier batches are parsed; batches are
/// handed out in the order they were read.
struct ReadAhead {
    /// The reader, when no read is in flight.
    idle: Option<ReadState>,
    /// The read in flight, which gives the reader back once its batch is read.
    reading: Option<oneshot::Receiver<ReadState>>,
    /// Batches being read or parsed, oldest first.
    parsing: VecDeque<oneshot::Receiver<Parsed>>,
    /// How many batches may be read or parsed at once.
    parse_threads: usize,
    /// The threads, started with the first read. They need no runtime: the
    /// stream runs on any executor.
    workers: Option<Workers>,
    /// Items parsed and not yet handed out.
    batch: VecDeque<Result<SourceItem, SourceError>>,
}

/// Batches parsed at once, at most: one per core, up to this.
const MAX_BATCHES_PARSING: usize = 4;

/// The items of a batch.
type Parsed = Vec<Result<SourceItem, SourceError>>;

/// A read to do: the reader, where to give it back once the batch is read, and
/// where the parsed batch goes.
struct Job {
    state: ReadState,
    reader_back: oneshot::Sender<ReadState>,
    parsed: oneshot::Sender<Parsed>,
}

impl Job {
    fn run(self) {
        let Self {
            mut state,
            reader_back,
            parsed,
        } = self;
        let batch = state.read();
        let (parser, labels) = (state.parser.clone(), Arc::clone(&state.labels));
        // A stream dropped meanwhile no longer wants either.
        let _ = reader_back.send(state);
        let _ = parsed.send(batch.parse(&parser, &labels));
    }
}

/// Threads that read and parse batches, handed reads in turn; they end with the
/// stream. Threads of their own rather than the runtime's blocking pool: a
/// batch's lines and events are allocated, and mostly freed, on the thread that
/// read them, and an allocator takes memory freed by other threads back only
/// when the owner next allocates, so events parsed on whichever pool thread was
/// free held memory that sat idle (measured: 260 MB resident instead of 195 MB
/// for 3,000,000 events into SQLite).
struct Workers {
    queues: Vec<mpsc::Sender<Job>>,
    next: usize,
}

impl Workers {
    fn start(count: usize) -> Self {
        let mut queues = Vec::with_capacity(count);
        for _ in 0..count {
            let (queue, jobs) = mpsc::channel::<Job>();
            let started = std::thread::Builder::new()
                .name("replay-read".into())
                .spawn(move || jobs.into_iter().for_each(Job::run));
            if started.is_ok() {
                queues.push(queue);
            }
        }
        Self { queues, next: 0 }
    }

    /// Hands a job to the next thread; runs it here when no thread takes it.
    fn run(&mut self, job: Job) {
        let job = match self.queues.get(self.next % self.queues.len().max(1)) {
            Some(queue) => match queue.send(job) {
                Ok(()) => {
                    self.next = self.next.wrapping_add(1);
                    return;
                }
                Err(mpsc::SendError(job)) => job,
            },
            None => job,
        };
        job.run();
    }
}

impl ReadAhead {
    async fn next(&mut self) -> Option<Result<SourceItem, SourceError>> {
        loop {
            if let Some(item) = self.batch.pop_front() {
                self.start_read();
                return Some(item);
            }
            if let Some(reading) = self.reading.as_mut() {
                match reading.try_recv() {
                    Ok(state) => {
                        self.reading = None;
                        self.idle = Some(state);
                    }
                    Err(oneshot::error::TryRecvError::Empty) => {}
                    Err(oneshot::error::TryRecvError::Closed) => {
                        return Some(Err(self.failed()));
                    }
                }
            }
            self.start_read();
            if let Some(parse) = self.parsing.pop_front() {
                match parse.await {
                    Ok(items) => self.batch = items.into(),
                    Err(_) => return Some(Err(self.failed())),
                }
                continue;
            }
            if let Some(reading) = self.reading.take() {
                match reading.await {
                    Ok(state) => self.idle = Some(state),
                    Err(_) => return Some(Err(self.failed())),
                }
                continue;
            }
            return None;
        }
    }

    /// A thread that stopped before it answered: the replay ends there.
    fn failed(&mut self) -> SourceError {
        self.idle = None;
        self.reading = None;
        self.parsing.clear();
        SourceError::Other {
            source_kind: CURSOR_KIND,
            error: "a replay thread stopped".into(),
        }
    }

    /// Sends the idle reader off to read (and its thread to parse) the next
    /// lines, when fewer batches than there are threads are on their way.
    fn start_read(&mut self) {
        if self.reading.is_some()
            || self.parsing.len() >= self.parse_threads
            || self.idle.as_ref().is_none_or(|s| s.done)
        {
            return;
        }
        let Some(state) = self.idle.take() else {
            return;
        };
        let (reader_back, reading) = oneshot::channel();
        let (parsed, parsing) = oneshot::channel();
        self.reading = Some(reading);
        self.parsing.push_back(parsing);
        let threads = self.parse_threads;
        self.workers
            .get_or_insert_with(|| Workers::start(threads))
            .run(Job {
                state,
                reader_back,
                parsed,
            });
    }
}

fn decode_cursor(cursor: &Cursor) -> Result<Position, SourceError> {
    let text = cursor.position_for(CURSOR_KIND, CURSOR_VERSION)?;
    serde_json::from_str(text).map_err(|e| SourceError::CorruptCursor {
        kind: CURSOR_KIND,
        position: text.to_owned(),
        message: e.to_string(),
    })
}

struct ReadState {
    inputs: Vec<ReplayInput>,
    parser: RecentChangeParser,
    max_line_bytes: usize,
    /// The position after the last line taken into a batch.
    position: Position,
    reader: Option<Box<dyn Read + Send>>,
    /// Bytes read past the last line taken: the start of the next line, which the
    /// next batch begins with.
    carry: Vec<u8>,
    /// How many bytes of the current line were dropped because it is too long
    /// (none when it is not).
    dropped: Option<u64>,
    /// The inputs' names, for messages.
    labels: Arc<[String]>,
    done: bool,
}

/// A line read and not parsed yet, or an item ready as it is.
enum Pending {
    Line {
        /// Its bytes in the batch's arena.
        bytes: Range<usize>,
        /// Its input, by index.
        input: usize,
        /// Its line number.
        line: u64,
        /// Where its item resumes.
        resume: Position,
    },
    Item(Result<SourceItem, SourceError>),
}

/// Lines read and not parsed yet.
struct Batch {
    /// The lines' bytes, one after the other.
    arena: Arena,
    reads: Vec<Pending>,
}

/// The bytes a batch's lines are read into: initialized once and reused from
/// batch to batch on the thread that reads and parses them, so reads neither
/// clear memory nor fault pages in.
struct Arena {
    bytes: Vec<u8>,
    /// How many of `bytes` hold what was read.
    filled: usize,
}

/// Arenas larger than this are not kept for the next batch (a line of many
/// megabytes made them grow).
const MAX_KEPT_ARENA: usize = 4 * 1024 * 1024;

thread_local! {
    static SPARE_ARENA: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

impl Arena {
    /// This thread's spare arena, at least `len` bytes long.
    fn take(len: usize) -> Self {
        let mut bytes = SPARE_ARENA.take();
        let len = len.max(LINES_PER_READ * 1024 + READ_BYTES);
        if bytes.len() < len {
            bytes.resize(len, 0);
        }
        Self { bytes, filled: 0 }
    }

    /// Keeps the arena for this thread's next batch.
    fn give_back(self) {
        if self.bytes.len() <= MAX_KEPT_ARENA {
            SPARE_ARENA.set(self.bytes);
        }
    }
}

/// Bytes asked of the input per read, straight into the batch's arena.
const READ_BYTES: usize = 256 * 1024;

impl ReadState {
    /// Reads at least [`LINES_PER_READ`] lines, or up to the end (blocking). The
    /// input is read in large blocks into the batch's arena, where the lines are
    /// found and left in place: no copy of a line of its own.
    fn read(&mut self) -> Batch {
        let mut arena = Arena::take(self.carry.len() + READ_BYTES);
        arena.bytes[..self.carry.len()].copy_from_slice(&self.carry);
        arena.filled = self.carry.len();
        self.carry.clear();
        if self.carry.capacity() > MAX_KEPT_ARENA {
            // It held the start of a very long line: not kept for the lines to come.
            self.carry = Vec::new();
        }
        let mut reads = Vec::with_capacity(LINES_PER_READ + 64);
        // Where the line being read starts in the arena, and where to look for
        // its end.
        let (mut line_start, mut scanned) = (0, 0);
        while !self.done {
            let input = self.position.input;
            if self.reader.is_none() {
                let Some(source) = self.inputs.get(input) else {
                    self.done = true;
                    break;
                };
                match open(source, self.position.offset) {
                    Ok(reader) => self.reader = Some(reader),
                    Err(e) => {
                        reads.push(Pending::Item(Err(e)));
                        self.done = true;
                        break;
                    }
                }
            }
            // The lines the arena holds.
            let unscanned = arena.bytes.get(scanned..arena.filled).unwrap_or_default();
            for newline in memchr::memchr_iter(b'\n', unscanned) {
                let end = scanned + newline + 1;
                self.take_line(&mut reads, line_start..end, true);
                line_start = end;
            }
            scanned = arena.filled;
            if self.dropped.is_some() || arena.filled - line_start > self.max_line_bytes + 2 {
                // A line too long to keep: count its bytes, keep none.
                *self.dropped.get_or_insert(0) += (arena.filled - line_start) as u64;
                arena.filled = line_start;
                scanned = line_start;
            }
            if reads.len() >= LINES_PER_READ {
                break;
            }
            match self.read_more(&mut arena) {
                Ok(0) => {
                    // The end of this input: a last line without its newline is a
                    // line too.
                    if arena.filled > line_start || self.dropped.is_some() {
                        self.take_line(&mut reads, line_start..arena.filled, false);
                        line_start = arena.filled;
                    }
                    scanned = arena.filled;
                    self.reader = None;
                    self.position = Position {
                        input: input + 1,
                        offset: 0,
                        line: 0,
                    };
                }
                Ok(_) => {}
                Err(e) => {
                    let label = self.labels.get(input).map_or("?", String::as_str);
                    reads.push(Pending::Item(Err(SourceError::Io {
                        context: format!("{label} after line {}", self.position.line),
                        source: e,
                    })));
                    self.done = true;
                    break;
                }
            }
        }
        if let Some(rest) = arena.bytes.get(line_start..arena.filled) {
            self.carry.extend_from_slice(rest);
        }
        arena.filled = line_start;
        Batch { arena, reads }
    }

    /// Reads the next block of the input onto the end of the arena.
    fn read_more(&mut self, arena: &mut Arena) -> std::io::Result<usize> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(0);
        };
        let from = arena.filled;
        if arena.bytes.len() < from + READ_BYTES {
            arena.bytes.resize(from + READ_BYTES, 0);
        }
        let spare = arena.bytes.get_mut(from..).unwrap_or_default();
        let read = loop {
            match reader.read(spare) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                read => break read,
            }
        };
        arena.filled += *read.as_ref().unwrap_or(&0);
        read
    }

    /// Takes the line at `bytes` of the arena into the batch.
    fn take_line(&mut self, reads: &mut Vec<Pending>, bytes: Range<usize>, terminated: bool) {
        let before = self.position;
        let length = (bytes.end - bytes.start) as u64 + self.dropped.unwrap_or(0);
        self.position.offset += length;
        self.position.line += 1;
        if self.dropped.take().is_some() || bytes.len() > self.max_line_bytes + 2 {
            let label = self.labels.get(before.input).map_or("?", String::as_str);
            reads.push(Pending::Item(Ok(SourceItem::Skipped {
                reason: SkipReason::Oversized,
                detail: format!(
                    "{label} line {}: longer than {} bytes",
                    self.position.line, self.max_line_bytes
                ),
                cursor: self.position.cursor(),
            })));
            return;
        }
        reads.push(Pending::Line {
            bytes,
            input: before.input,
            line: self.position.line,
            // A last line without its newline may be a line still being written:
            // its items resume before it, so a later replay reads it whole.
            resume: if terminated { self.position } else { before },
        });
    }
}

impl Batch {
    /// The items of the lines, in order.
    fn parse(
        self,
        parser: &RecentChangeParser,
        labels: &[String],
    ) -> Vec<Result<SourceItem, SourceError>> {
        let arena = self.arena;
        let lines = arena.bytes.get(..arena.filled).unwrap_or_default();
        let items = self
            .reads
            .into_iter()
            .filter_map(|read| match read {
                Pending::Item(item) => Some(item),
                Pending::Line {
                    bytes,
                    input,
                    line,
                    resume,
                } => {
                    let label = labels.get(input).map_or("?", String::as_str);
                    let text = lines.get(bytes).unwrap_or_default();
                    item(parser, label, line, resume, text).map(Ok)
                }
            })
            .collect();
        arena.give_back();
        items
    }
}

/// The item of one line.
fn item(
    parser: &RecentChangeParser,
    label: &str,
    line: u64,
    resume: Position,
    bytes: &[u8],
) -> Option<SourceItem> {
    let text = bytes.trim_ascii();
    if text.is_empty() {
        return None;
    }
    // The cursor is written for the one item the line becomes.
    let skipped = |reason, message: String| SourceItem::Skipped {
        reason,
        detail: format!("{label} line {line}: {message}"),
        cursor: resume.cursor(),
    };
    // The line is checked as UTF-8 once, and the parser reads it as text.
    let parsed = match std::str::from_utf8(text) {
        Ok(json) => parser.parse(json),
        Err(e) => {
            return Some(skipped(
                SkipReason::Malformed,
                format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            ));
        }
    };
    Some(match parsed {
        Ok(ParsedEvent::Edit(edit)) => SourceItem::Edit {
            edit,
            cursor: resume.cursor(),
        },
        Ok(ParsedEvent::Canary) => skipped(SkipReason::Canary, "canary event".into()),
        Ok(ParsedEvent::OtherWiki) => skipped(SkipReason::OtherWiki, "other wiki".into()),
        Ok(_) => skipped(SkipReason::Incomplete, "unknown event".into()),
        Err(EventError::Malformed(e)) => skipped(SkipReason::Malformed, e.to_string()),
        Err(e) => skipped(SkipReason::Incomplete, e.to_string()),
    })
}

fn open(input: &ReplayInput, offset: u64) -> Result<Box<dyn Read + Send>, SourceError> {
    let io_error = |context: String| move |source| SourceError::Io { context, source };
    match input {
        ReplayInput::Stdin => {
            if offset > 0 {
                return Err(SourceError::Config(
                    "standard input cannot be resumed; replay a file instead".into(),
                ));
            }
            Ok(Box::new(std::io::stdin()))
        }
        ReplayInput::File(path) => {
            let label = path.display().to_string();
            let mut file = File::open(path).map_err(io_error(format!("cannot open {label}")))?;
            let gzip = path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("gz"));
            if gzip {
                let mut reader = flate2::read::MultiGzDecoder::new(BufReader::new(file));
                let skipped = std::io::copy(&mut (&mut reader).take(offset), &mut std::io::sink())
                    .map_err(io_error(format!("cannot read {label}")))?;
                if skipped < offset {
                    return Err(resume_past_end(&label, offset));
                }
                Ok(Box::new(reader))
            } else {
                let length = file
                    .metadata()
                    .map_err(io_error(format!("cannot read {label}")))?
                    .len();
                if offset > length {
                    return Err(resume_past_end(&label, offset));
                }
                file.seek(SeekFrom::Start(offset))
                    .map_err(io_error(format!("cannot seek in {label}")))?;
                Ok(Box::new(file))
            }
        }
    }
}

fn resume_past_end(label: &str, offset: u64) -> SourceError {
    SourceError::CorruptCursor {
        kind: CURSOR_KIND,
        position: offset.to_string(),
        message: format!("{label} is shorter than the stored position: was it replaced?"),
    }
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn cursors_are_the_json_of_the_position() {
        let position = Position {
            input: 2,
            offset: 12_345_678_901,
            line: 77,
        };
        let cursor = position.cursor();
        let text = cursor.position_for("replay", 1).unwrap();
        assert_eq!(text, serde_json::to_string(&position).unwrap());
        assert_eq!(serde_json::from_str::<Position>(text).unwrap(), position);
    }
}
