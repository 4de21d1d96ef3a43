//! The crate's error type.

/// Errors of the screening crate.
#[derive(Debug, thiserror::Error)]
pub enum ScreenError {
    /// A decision was recorded without a reason or officer.
    #[error("decision for {entity}: {field} must not be empty")]
    IncompleteDecision {
        /// The entity the decision is about.
        entity: String,
        /// The missing field.
        field: &'static str,
    },
    /// A line of a decisions or classifications file could not be read.
    #[error("{source_name}:{line}: {message}")]
    BadRecord {
        /// File name.
        source_name: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An unknown control-list entry was named.
    #[error("unknown control entry {0:?} (known: 4A005, 4D004, 4E001c, 5A001j, ART5)")]
    UnknownControlEntry(String),
    /// An unknown determination was named.
    #[error("unknown determination {0:?} (known: applies, does-not-apply, undetermined)")]
    UnknownDetermination(String),
}
