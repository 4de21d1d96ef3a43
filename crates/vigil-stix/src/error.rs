//! The one error type of this crate.

/// Everything that can go wrong when reading or building STIX content.
///
/// Errors that come from a bundle carry where they happened: the index of the
/// object in `objects`, the byte offset in the input and, when known, a JSON
/// pointer inside the object. The accessors [`Error::index`],
/// [`Error::offset`] and [`Error::pointer`] expose them uniformly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An identifier is not `type--uuid`, or its type part breaks the naming rules.
    #[error("invalid identifier {value:?}: {reason}")]
    InvalidIdentifier {
        /// The text that was parsed.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A type name breaks the naming rules (3–250 characters of `a-z`, `0-9`, `-`).
    #[error("invalid type name {value:?}: {reason}")]
    InvalidTypeName {
        /// The text that was checked.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A timestamp is not RFC 3339 UTC (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`).
    #[error("invalid timestamp {value:?}: {reason}")]
    InvalidTimestamp {
        /// The text that was parsed.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Reading the input failed.
    #[error("I/O error at byte {offset}: {source}")]
    Io {
        /// Bytes consumed before the failure.
        offset: u64,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The input is not JSON where JSON was expected.
    #[error("{}byte {offset}: malformed JSON: {message}", at_object(*index))]
    Syntax {
        /// Index of the object in `objects`, if the error is inside one.
        index: Option<usize>,
        /// Byte offset of the error in the input.
        offset: u64,
        /// What the parser saw.
        message: String,
    },
    /// The input ended inside a value.
    #[error("{}byte {offset}: input ends inside {context}", at_object(*index))]
    Truncated {
        /// Index of the object in `objects`, if the input ended inside one.
        index: Option<usize>,
        /// Byte offset where the input ended.
        offset: u64,
        /// What was open when it ended.
        context: &'static str,
    },
    /// One object is larger than the configured per-object limit; it was skipped.
    #[error("{}byte {offset}: object larger than the limit of {limit} bytes; skipped", at_object(Some(*index)))]
    ObjectTooLarge {
        /// Index of the object in `objects`.
        index: usize,
        /// Byte offset of the object's first byte.
        offset: u64,
        /// The limit in bytes.
        limit: usize,
    },
    /// JSON nests deeper than the configured limit.
    #[error("{}byte {offset}: JSON nested deeper than {limit} levels", at_object(*index))]
    TooDeep {
        /// Index of the object in `objects`, if inside one.
        index: Option<usize>,
        /// Byte offset where the limit was crossed.
        offset: u64,
        /// The depth limit.
        limit: usize,
    },
    /// A JSON object has the same key twice (RFC 8259 leaves it undefined; STIX content must not).
    #[error("{}byte {offset}: duplicate key {key:?}{}", at_object(*index), in_pointer(pointer))]
    DuplicateKey {
        /// Index of the object in `objects`, if inside one.
        index: Option<usize>,
        /// Byte offset of the object holding the duplicate.
        offset: u64,
        /// JSON pointer of the object that has the duplicate key.
        pointer: String,
        /// The repeated key.
        key: String,
    },
    /// The top level is not a bundle (`{"type": "bundle", "objects": [...]}`).
    #[error("byte {offset}: not a STIX bundle: {reason}")]
    NotABundle {
        /// Byte offset where this became clear.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// An element of `objects` (or of a top-level list) is not a JSON object; it was skipped.
    #[error("{}{pointer}: expected a JSON object, found {found}", at_object(Some(*index)))]
    NotAnObject {
        /// Index of the element.
        index: usize,
        /// JSON pointer of the element (`/objects/3`).
        pointer: String,
        /// What was found instead (`a string`, `null`, …).
        found: &'static str,
    },
    /// A property is missing or has the wrong type or value.
    #[error("{}{}{message}", at_object(*index), pointer_prefix(pointer))]
    Property {
        /// Index of the object in `objects`, if known.
        index: Option<usize>,
        /// JSON pointer of the property (`/objects/3/created` style, or `/created` for a single object).
        pointer: String,
        /// What is wrong.
        message: String,
    },
}

fn in_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!(" in {pointer}")
    }
}

fn pointer_prefix(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!("{pointer}: ")
    }
}

fn at_object(index: Option<usize>) -> String {
    match index {
        Some(i) => format!("object {i}: "),
        None => String::new(),
    }
}

impl Error {
    /// Index of the object in the bundle's `objects` the error belongs to, if any.
    pub fn index(&self) -> Option<usize> {
        match self {
            Error::Syntax { index, .. }
            | Error::Truncated { index, .. }
            | Error::TooDeep { index, .. }
            | Error::DuplicateKey { index, .. }
            | Error::Property { index, .. } => *index,
            Error::ObjectTooLarge { index, .. } | Error::NotAnObject { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// Byte offset in the input the error belongs to, if it came from a reader.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::Io { offset, .. }
            | Error::Syntax { offset, .. }
            | Error::Truncated { offset, .. }
            | Error::ObjectTooLarge { offset, .. }
            | Error::TooDeep { offset, .. }
            | Error::DuplicateKey { offset, .. }
            | Error::NotABundle { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    /// JSON pointer inside the object, if known.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Error::DuplicateKey { pointer, .. }
            | Error::Property { pointer, .. }
            | Error::NotAnObject { pointer, .. } => Some(pointer),
            _ => None,
        }
    }

    /// Whether a [`crate::bundle::BundleReader`] stops after this error.
    ///
    /// Errors confined to one object (malformed, too large, too deep, duplicate
    /// key) are not fatal: the reader continues with the next object.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Error::Io { .. } | Error::Truncated { .. } | Error::NotABundle { .. }
        ) || (matches!(self, Error::Syntax { .. } | Error::TooDeep { .. })
            && self.index().is_none())
    }

    /// Attaches the object index to an error that does not have one yet.
    pub fn with_index(mut self, i: usize) -> Self {
        if let Error::Syntax { index, .. }
        | Error::Truncated { index, .. }
        | Error::TooDeep { index, .. }
        | Error::DuplicateKey { index, .. }
        | Error::Property { index, .. } = &mut self
        {
            index.get_or_insert(i);
        }
        self
    }
}
