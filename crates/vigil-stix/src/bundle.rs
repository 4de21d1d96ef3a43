//! Streaming bundle reader: one object at a time, in bounded memory.
//!
//! The same reader serves callers that take any STIX document
//! ([`Accept::Any`]: a bundle, a JSON list of objects or a single object),
//! such as the validator; each object says where it sat
//! ([`RawObject::pointer`]).
//!
//! [`BundleReader`] scans the bundle's JSON structure byte by byte without
//! building it, cuts out each element of `objects` and parses only that
//! element. Memory is bounded by [`Limits::max_object_bytes`] plus the size of
//! the parsed object, whatever the size of the bundle; nesting is bounded by
//! [`Limits::max_depth`] and counted without recursion, so deep input cannot
//! exhaust the stack. A malformed, oversized or too deeply nested object is
//! reported with its index and byte offset, and reading goes on with the next
//! one; only a broken bundle structure (truncation, a top level that is not a
//! bundle, an I/O error) ends the stream.

use std::io::Read;

use serde_json::Value;

use crate::json::parse_strict;
use crate::Error;

/// The error type yielded by [`BundleReader`]; the crate's single [`Error`].
pub type ReadError = Error;

/// Resource limits for reading untrusted bundles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted serialised size of one object (and of any other bundle-level value), in bytes.
    pub max_object_bytes: usize,
    /// Deepest accepted nesting of arrays and objects inside one object.
    pub max_depth: usize,
}

impl Default for Limits {
    /// 32 MiB per object, 64 levels of nesting.
    fn default() -> Self {
        Limits {
            max_object_bytes: 32 << 20,
            max_depth: 64,
        }
    }
}

/// Which documents a [`BundleReader`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Accept {
    /// Only a bundle; any other top level ends the stream with [`Error::NotABundle`].
    #[default]
    Bundle,
    /// A bundle, a JSON list of objects, or a single object. An object
    /// whose `type` is not `bundle` is yielded whole, after the members of
    /// an `objects` list it may have; its other top-level properties are
    /// kept as read in [`BundleHeader::other`] until then, without the
    /// bundle's checks on `type`, `id` and `spec_version`.
    Any,
}

/// Where a [`RawObject`] sat in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// An element of the top-level `objects` list (a bundle's members).
    Objects,
    /// An element of a top-level JSON list ([`Accept::Any`]).
    List,
    /// The top-level object itself, when it is not a bundle ([`Accept::Any`]).
    TopLevel,
}

/// One element of a bundle's `objects`, parsed into JSON but not yet typed.
#[derive(Debug, Clone, PartialEq)]
pub struct RawObject {
    /// Position in `objects` (0-based); 0 for a top-level object.
    pub index: usize,
    /// Where the object sat: in `objects`, in a top-level list, or the top level itself.
    pub container: Container,
    /// Byte offset of the object's first byte (`{`) in the input.
    pub offset: u64,
    /// Serialised size in bytes, as read.
    pub len: usize,
    /// The object's JSON.
    pub value: Value,
}

impl RawObject {
    /// The object's `type` property, if it is a string.
    pub fn object_type(&self) -> Option<&str> {
        self.value.get("type").and_then(Value::as_str)
    }

    /// The object's `id` property, if it is a string.
    pub fn id(&self) -> Option<&str> {
        self.value.get("id").and_then(Value::as_str)
    }

    /// The RFC 6901 JSON pointer of the object in the document
    /// (`/objects/3`, `/3` in a list, empty for the top level).
    pub fn pointer(&self) -> String {
        self.container.pointer(self.index)
    }
}

impl Container {
    /// The JSON pointer of element `index` of this container.
    pub fn pointer(self, index: usize) -> String {
        match self {
            Container::Objects => format!("/objects/{index}"),
            Container::List => format!("/{index}"),
            Container::TopLevel => String::new(),
        }
    }
}

/// The bundle-level properties seen so far.
///
/// Properties that come after `objects` in the file are known only once the
/// reader has passed the array, i.e. after iteration has ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BundleHeader {
    /// `type` (must be `"bundle"`).
    pub bundle_type: Option<String>,
    /// `id` (`bundle--…`).
    pub id: Option<String>,
    /// `spec_version`: present in STIX 2.0 bundles, absent from STIX 2.1 ones.
    pub spec_version: Option<String>,
    /// Any other bundle-level property, by name.
    pub other: serde_json::Map<String, Value>,
    /// Whether an `objects` property was seen.
    pub has_objects: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Members { first: bool },
    Objects { first: bool },
    List { first: bool },
    TopLevel,
    End,
    Done,
}

/// A streaming reader of a STIX bundle, yielding each object of `objects` in order.
///
/// ```
/// use vigil_stix::bundle::BundleReader;
/// let json = br#"{"type":"bundle","id":"bundle--0b6f7a47-9c66-4e2f-a1d0-7a6d5fc31b1e",
///   "objects":[{"type":"x-thing","id":"x-thing--5d3c7ea0-2b7d-4a4c-9a0f-8fa8f0a1b2c3"}, 42]}"#;
/// let mut reader = BundleReader::new(&json[..]);
/// let first = reader.next().unwrap().unwrap();
/// assert_eq!(first.object_type(), Some("x-thing"));
/// let second = reader.next().unwrap();
/// assert!(second.is_err()); // 42 is not an object: reported, not fatal
/// assert!(reader.next().is_none());
/// assert_eq!(reader.header().bundle_type.as_deref(), Some("bundle"));
/// ```
pub struct BundleReader<R> {
    input: Input<R>,
    limits: Limits,
    header: BundleHeader,
    state: State,
    next_index: usize,
    scratch: Vec<u8>,
    /// Input offset, line and column of `scratch[0]`.
    scratch_at: (u64, u64, u64),
    header_bytes: usize,
    accept: Accept,
    top_closed: bool,
}

/// Most bytes of bundle-level properties other than `objects` kept in [`BundleHeader`].
const MAX_HEADER_BYTES: usize = 1 << 20;

impl<R: Read> BundleReader<R> {
    /// A reader with the default [`Limits`]. The input need not be buffered.
    pub fn new(reader: R) -> Self {
        Self::with_limits(reader, Limits::default())
    }

    /// A reader with explicit limits.
    pub fn with_limits(reader: R, limits: Limits) -> Self {
        BundleReader {
            input: Input::new(reader),
            limits,
            header: BundleHeader::default(),
            state: State::Start,
            next_index: 0,
            scratch: Vec::new(),
            scratch_at: (0, 1, 0),
            header_bytes: 0,
            accept: Accept::Bundle,
            top_closed: false,
        }
    }

    /// The same reader accepting these documents.
    pub fn accept(mut self, accept: Accept) -> Self {
        self.accept = accept;
        self
    }

    /// Line (1-based) and column (bytes before `offset` on its line) of an
    /// input offset, for offsets in the value read last or in the buffered
    /// bytes not yet consumed — which covers the offset of any error just
    /// yielded; `None` for others.
    pub fn line_column(&self, offset: u64) -> Option<(u64, u64)> {
        let (start, line, column) = self.scratch_at;
        if let Some(rel) = offset.checked_sub(start) {
            if let Some(bytes) = self.scratch.get(..rel as usize) {
                return Some(match bytes.iter().rposition(|&b| b == b'\n') {
                    Some(last) => (
                        line + count_newlines(bytes),
                        (bytes.len() - last - 1) as u64,
                    ),
                    None => (line, column + rel),
                });
            }
        }
        self.input.line_column(offset)
    }

    /// Whether the top-level value has been read to its closing bracket.
    pub fn closed(&self) -> bool {
        self.top_closed
    }

    /// The bundle-level properties read so far.
    pub fn header(&self) -> &BundleHeader {
        &self.header
    }

    /// Bytes consumed from the input so far.
    pub fn offset(&self) -> u64 {
        self.input.offset()
    }

    /// Number of elements of `objects` seen so far (good or bad).
    pub fn objects_seen(&self) -> usize {
        self.next_index
    }

    fn fatal(&mut self, e: Error) -> Option<Result<RawObject, Error>> {
        self.state = State::Done;
        Some(Err(e))
    }

    fn syntax(&self, message: impl Into<String>) -> Error {
        Error::Syntax {
            index: None,
            offset: self.input.offset(),
            message: message.into(),
        }
    }

    /// Reads the next non-whitespace byte without consuming it; EOF is a truncation.
    fn peek_token(&mut self, context: &'static str) -> Result<u8, Error> {
        match self.input.skip_ws()? {
            Some(b) => Ok(b),
            None => Err(Error::Truncated {
                index: None,
                offset: self.input.offset(),
                context,
            }),
        }
    }

    fn step(&mut self) -> Result<Option<Result<RawObject, Error>>, Error> {
        match self.state {
            State::Start => {
                match self.input.skip_ws()? {
                    Some(b'{') => self.input.bump(),
                    Some(b'[') if self.accept == Accept::Any => {
                        self.input.bump();
                        self.state = State::List { first: true };
                        return Ok(None);
                    }
                    Some(_) if self.accept == Accept::Any => {
                        return Err(Error::NotABundle {
                            offset: self.input.offset(),
                            reason: "the top level is neither a JSON object nor a list".into(),
                        })
                    }
                    Some(_) => {
                        return Err(Error::NotABundle {
                            offset: self.input.offset(),
                            reason: "the top level is not a JSON object".into(),
                        })
                    }
                    None => {
                        return Err(Error::NotABundle {
                            offset: 0,
                            reason: "the input is empty".into(),
                        })
                    }
                }
                self.state = State::Members { first: true };
                Ok(None)
            }
            State::Members { first } => {
                let mut b = self.peek_token("the bundle")?;
                if b == b'}' {
                    self.input.bump();
                    self.top_closed = true;
                    let single = self.accept == Accept::Any
                        && self.header.other.get("type").and_then(Value::as_str) != Some("bundle");
                    self.state = if single { State::TopLevel } else { State::End };
                    return Ok(None);
                }
                if !first {
                    if b != b',' {
                        return Err(self.syntax("expected ',' or '}' between bundle properties"));
                    }
                    self.input.bump();
                    b = self.peek_token("the bundle")?;
                }
                if b != b'"' {
                    return Err(self.syntax("expected a property name in the bundle"));
                }
                let key_offset = self.input.offset();
                let key = self.scan_into_scratch(None)?;
                let key: String = match key {
                    Scanned::Complete => serde_json::from_slice(&self.scratch)
                        .map_err(|e| self.syntax(format!("bundle property name: {e}")))?,
                    _ => {
                        return Err(Error::Syntax {
                            index: None,
                            offset: key_offset,
                            message: "bundle property name too long".into(),
                        })
                    }
                };
                if self.peek_token("the bundle")? != b':' {
                    return Err(self.syntax(format!("expected ':' after {key:?}")));
                }
                self.input.bump();
                let b = self.peek_token("the bundle")?;
                self.state = State::Members { first: false };
                if key == "objects" && (b == b'[' || self.accept == Accept::Bundle) {
                    if b != b'[' {
                        return Err(Error::NotABundle {
                            offset: self.input.offset(),
                            reason: "`objects` is not an array".into(),
                        });
                    }
                    self.input.bump();
                    self.header.has_objects = true;
                    self.state = State::Objects { first: true };
                    return Ok(None);
                }
                let value_offset = self.input.offset();
                let scanned = self.scan_into_scratch(None)?;
                self.header_bytes += self.scratch.len() + key.len();
                let max_header_bytes = match self.accept {
                    Accept::Bundle => MAX_HEADER_BYTES,
                    Accept::Any => self.limits.max_object_bytes,
                };
                if self.header_bytes > max_header_bytes {
                    return Ok(Some(Err(Error::Property {
                        index: None,
                        pointer: format!("/{}", key.replace('~', "~0").replace('/', "~1")),
                        message: format!(
                            "bundle-level properties exceed {max_header_bytes} bytes; this one is not kept"
                        ),
                    })));
                }
                let value = match scanned {
                    Scanned::Complete => {
                        parse_strict(&self.scratch).map_err(|e| e.at(value_offset, None))?
                    }
                    Scanned::TooLarge => {
                        return Err(Error::Syntax {
                            index: None,
                            offset: value_offset,
                            message: format!(
                                "bundle property {key:?} is larger than the object size limit"
                            ),
                        })
                    }
                    Scanned::TooDeep(offset) => {
                        return Err(Error::TooDeep {
                            index: None,
                            offset,
                            limit: self.limits.max_depth,
                        })
                    }
                };
                self.set_header(key, value, key_offset)
            }
            State::Objects { first } | State::List { first } => {
                let in_list = matches!(self.state, State::List { .. });
                let mut b = self.peek_token(if in_list { "the list" } else { "`objects`" })?;
                if b == b']' {
                    self.input.bump();
                    self.state = if in_list {
                        self.top_closed = true;
                        State::End
                    } else {
                        State::Members { first: false }
                    };
                    return Ok(None);
                }
                if !first {
                    if b != b',' {
                        return Err(self.syntax(format!(
                            "expected ',' or ']' after object {}",
                            self.next_index.saturating_sub(1)
                        )));
                    }
                    self.input.bump();
                    b = self.peek_token(if in_list { "the list" } else { "`objects`" })?;
                }
                if matches!(b, b']' | b',') {
                    return Err(self.syntax(if in_list {
                        "expected a value in the list"
                    } else {
                        "expected a value in `objects`"
                    }));
                }
                let container = if in_list {
                    self.state = State::List { first: false };
                    Container::List
                } else {
                    self.state = State::Objects { first: false };
                    Container::Objects
                };
                let index = self.next_index;
                self.next_index += 1;
                let offset = self.input.offset();
                let scanned = self.scan_into_scratch(Some(index))?;
                Ok(Some(self.finish_object(index, container, offset, scanned)))
            }
            State::TopLevel => {
                self.state = State::End;
                let value = Value::Object(std::mem::take(&mut self.header.other));
                Ok(Some(Ok(RawObject {
                    index: 0,
                    container: Container::TopLevel,
                    offset: 0,
                    len: self.header_bytes,
                    value,
                })))
            }
            State::End => {
                if self.input.skip_ws()?.is_some() {
                    return Err(self.syntax("trailing characters"));
                }
                self.state = State::Done;
                Ok(None)
            }
            State::Done => Ok(None),
        }
    }

    fn finish_object(
        &mut self,
        index: usize,
        container: Container,
        offset: u64,
        scanned: Scanned,
    ) -> Result<RawObject, Error> {
        match scanned {
            Scanned::TooLarge => Err(Error::ObjectTooLarge {
                index,
                offset,
                limit: self.limits.max_object_bytes,
            }),
            Scanned::TooDeep(at) => Err(Error::TooDeep {
                index: Some(index),
                offset: at,
                limit: self.limits.max_depth,
            }),
            Scanned::Complete => {
                let value = parse_strict(&self.scratch).map_err(|e| e.at(offset, Some(index)))?;
                if !value.is_object() {
                    return Err(Error::NotAnObject {
                        index,
                        pointer: container.pointer(index),
                        found: json_kind(&value),
                    });
                }
                Ok(RawObject {
                    index,
                    container,
                    offset,
                    len: self.scratch.len(),
                    value,
                })
            }
        }
    }

    fn set_header(
        &mut self,
        key: String,
        value: Value,
        offset: u64,
    ) -> Result<Option<Result<RawObject, Error>>, Error> {
        if self.accept == Accept::Any {
            if self.header.other.contains_key(&key) {
                return Ok(Some(Err(duplicate(offset, key))));
            }
            if let Value::String(text) = &value {
                match key.as_str() {
                    "type" => self.header.bundle_type = Some(text.clone()),
                    "id" => self.header.id = Some(text.clone()),
                    "spec_version" => self.header.spec_version = Some(text.clone()),
                    _ => {}
                }
            }
            self.header.other.insert(key, value);
            return Ok(None);
        }
        let slot = match key.as_str() {
            "type" => &mut self.header.bundle_type,
            "id" => &mut self.header.id,
            "spec_version" => &mut self.header.spec_version,
            _ => {
                if self.header.other.contains_key(&key) {
                    return Ok(Some(Err(duplicate(offset, key))));
                }
                self.header.other.insert(key, value);
                return Ok(None);
            }
        };
        if slot.is_some() {
            return Ok(Some(Err(duplicate(offset, key))));
        }
        let Value::String(text) = value else {
            return Ok(Some(Err(Error::Property {
                index: None,
                pointer: format!("/{key}"),
                message: format!("expected a string, found {}", json_kind(&value)),
            })));
        };
        if key == "type" && text != "bundle" {
            return Err(Error::NotABundle {
                offset,
                reason: format!("top-level `type` is {text:?}, not \"bundle\""),
            });
        }
        *slot = Some(text);
        Ok(None)
    }

    /// Scans one JSON value at the cursor into `self.scratch`, honouring the limits.
    fn scan_into_scratch(&mut self, index: Option<usize>) -> Result<Scanned, Error> {
        self.scratch.clear();
        let at = self.input.offset();
        let (line, column) = self.input.line_column(at).unwrap_or((0, 0));
        self.scratch_at = (at, line, column);
        let mut scan = Scan {
            limits: self.limits,
            depth: 0,
            in_string: false,
            escaped: false,
            kind: Kind::Unknown,
            overflow: false,
            too_deep_at: None,
        };
        self.input.scan(&mut scan, &mut self.scratch, index)?;
        Ok(if let Some(at) = scan.too_deep_at {
            Scanned::TooDeep(at)
        } else if scan.overflow {
            Scanned::TooLarge
        } else {
            Scanned::Complete
        })
    }
}

fn duplicate(offset: u64, key: String) -> Error {
    Error::DuplicateKey {
        index: None,
        offset,
        pointer: String::new(),
        key,
    }
}

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<R: Read> Iterator for BundleReader<R> {
    type Item = Result<RawObject, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.state == State::Done {
                return None;
            }
            match self.step() {
                Ok(Some(item)) => return Some(item),
                Ok(None) => {}
                Err(e) => return self.fatal(e),
            }
        }
    }
}

enum Scanned {
    Complete,
    TooLarge,
    TooDeep(u64),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unknown,
    Container,
    String,
    Scalar,
}

/// The state of a structural scan of one value; survives buffer refills.
struct Scan {
    limits: Limits,
    depth: usize,
    in_string: bool,
    escaped: bool,
    kind: Kind,
    overflow: bool,
    too_deep_at: Option<u64>,
}

impl Scan {
    /// Feeds a chunk; returns how many bytes belong to the value and whether it is complete.
    fn feed(&mut self, chunk: &[u8], chunk_offset: u64) -> (usize, bool) {
        let mut i = 0;
        if self.kind == Kind::Unknown {
            match chunk.first() {
                Some(b'{' | b'[') => self.kind = Kind::Container,
                Some(b'"') => {
                    self.kind = Kind::String;
                    self.in_string = true;
                    i = 1;
                }
                Some(_) => self.kind = Kind::Scalar,
                None => return (0, false),
            }
        }
        if self.kind == Kind::Scalar {
            let n = chunk
                .iter()
                .position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(chunk.len());
            return (n, n < chunk.len());
        }
        while i < chunk.len() {
            if self.in_string {
                // Fast path: run to the next quote or backslash.
                while i < chunk.len() && !self.escaped && chunk[i] != b'"' && chunk[i] != b'\\' {
                    i += 1;
                }
                if i == chunk.len() {
                    break;
                }
                let b = chunk[i];
                i += 1;
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else {
                    self.in_string = false;
                    if self.kind == Kind::String {
                        return (i, true);
                    }
                }
                continue;
            }
            let b = chunk[i];
            i += 1;
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    self.depth += 1;
                    if self.depth > self.limits.max_depth && self.too_deep_at.is_none() {
                        self.too_deep_at = Some(chunk_offset + i as u64 - 1);
                    }
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return (i, true);
                    }
                }
                _ => {}
            }
        }
        (i, false)
    }
}

/// A buffered byte source that tracks its offset.
struct Input<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    consumed: u64,
    /// Line number (1-based) at the cursor (`buf[pos]`).
    line: u64,
    /// Input offset of the first byte of that line.
    line_start: u64,
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

impl<R: Read> Input<R> {
    fn new(inner: R) -> Self {
        Input {
            inner,
            buf: vec![0; 64 << 10].into_boxed_slice(),
            pos: 0,
            end: 0,
            consumed: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// Line and column of an offset at or after the cursor, in the buffered
    /// bytes (see [`BundleReader::line_column`]).
    fn line_column(&self, offset: u64) -> Option<(u64, u64)> {
        let rel = usize::try_from(offset.checked_sub(self.consumed)?).ok()?;
        let ahead = self.buf.get(self.pos..rel).filter(|_| rel <= self.end)?;
        Some(match ahead.iter().rposition(|&b| b == b'\n') {
            Some(last) => (
                self.line + count_newlines(ahead),
                (ahead.len() - last - 1) as u64,
            ),
            None => (self.line, offset - self.line_start),
        })
    }

    /// Moves the cursor `n` bytes on, keeping the line count.
    fn advance(&mut self, n: usize) {
        let passed = &self.buf[self.pos..self.pos + n];
        if let Some(last) = passed.iter().rposition(|&b| b == b'\n') {
            self.line += count_newlines(passed);
            self.line_start = self.consumed + (self.pos + last) as u64 + 1;
        }
        self.pos += n;
    }

    fn offset(&self) -> u64 {
        self.consumed + self.pos as u64
    }

    /// Makes sure at least one byte is buffered; `false` at end of input.
    fn fill(&mut self) -> Result<bool, Error> {
        if self.pos < self.end {
            return Ok(true);
        }
        self.consumed += self.end as u64;
        self.pos = 0;
        self.end = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => {
                    self.end = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Io {
                        offset: self.consumed,
                        source,
                    })
                }
            }
        }
    }

    fn bump(&mut self) {
        self.advance(1);
    }

    /// Skips JSON whitespace and peeks at the next byte.
    fn skip_ws(&mut self) -> Result<Option<u8>, Error> {
        loop {
            if !self.fill()? {
                return Ok(None);
            }
            while self.pos < self.end {
                match self.buf[self.pos] {
                    b' ' | b'\t' | b'\r' => self.pos += 1,
                    b'\n' => self.advance(1),
                    b => return Ok(Some(b)),
                }
            }
        }
    }

    /// Runs a scan from the cursor to the end of one value, copying it into `out` within the limits.
    fn scan(
        &mut self,
        scan: &mut Scan,
        out: &mut Vec<u8>,
        index: Option<usize>,
    ) -> Result<(), Error> {
        loop {
            if !self.fill()? {
                if scan.kind == Kind::Scalar {
                    return Ok(());
                }
                return Err(Error::Truncated {
                    index,
                    offset: self.offset(),
                    context: match scan.kind {
                        Kind::String => "a string",
                        _ if index.is_some() => "an object of `objects`",
                        _ => "a value",
                    },
                });
            }
            let chunk_offset = self.offset();
            let (n, done) = scan.feed(&self.buf[self.pos..self.end], chunk_offset);
            if !scan.overflow && scan.too_deep_at.is_none() {
                if out.len() + n > scan.limits.max_object_bytes {
                    scan.overflow = true;
                    out.clear();
                    out.shrink_to(64 << 10);
                } else {
                    out.extend_from_slice(&self.buf[self.pos..self.pos + n]);
                }
            } else if !out.is_empty() {
                out.clear();
                out.shrink_to(64 << 10);
            }
            self.advance(n);
            if done {
                return Ok(());
            }
        }
    }
}
