//! STIX 2.1 validation.
//!
//! [`Validator`] reads a STIX document (a bundle, a single object or a JSON
//! list of objects) and reports [`Diagnostic`]s: errors for broken "MUST"
//! rules of the specification, warnings for "SHOULD" rules and best
//! practices. Each diagnostic names the object (index and id) and points at
//! the offending value with a JSON pointer such as
//! `/objects/12/kill_chain_phases/0/phase_name`.
//!
//! Bundles are read object by object, so memory stays bounded by the largest
//! single object, and a bad object is reported while the rest are still
//! checked. The syntax of `indicator.pattern` is checked by a pluggable
//! [`PatternCheck`]: [`StixPatterns`] (the pattern crate's grammar) via
//! [`Options::with_stix_patterns`], or any other; without one, only the names
//! a pattern uses are checked.

#![forbid(unsafe_code)]

mod check;
mod diag;
mod pattern_paths;
mod stream;
mod syntax;

// The property tables and vocabularies are the object model's.
use vigil_stix::{spec, vocab};

use std::io::Read;
use std::sync::Arc;

use serde::Serialize;

pub use diag::{Diagnostic, Severity};

/// Errors that stop validation of a whole input (not findings about it).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be read.
    #[error("reading input: {0}")]
    Io(#[from] std::io::Error),
}

/// Checks the syntax of a STIX pattern; plugged in by the caller.
pub trait PatternCheck: Send + Sync {
    /// Returns `Ok(())` when `pattern` parses, or one message per problem.
    fn check(&self, pattern: &str) -> Result<(), Vec<String>>;
}

/// The STIX patterning grammar of `vigil-pattern`: parse, then the checks
/// beyond the grammar (hash lengths, one qualifier of each kind).
#[derive(Debug, Default, Clone, Copy)]
pub struct StixPatterns;

impl PatternCheck for StixPatterns {
    fn check(&self, pattern: &str) -> Result<(), Vec<String>> {
        let parsed = vigil_pattern::parse(pattern).map_err(|e| vec![e.to_string()])?;
        let issues = vigil_pattern::validate(&parsed);
        if issues.is_empty() {
            Ok(())
        } else {
            Err(issues.into_iter().map(|i| i.to_string()).collect())
        }
    }
}

/// How to validate.
#[derive(Clone, Default)]
pub struct Options {
    /// Treat warnings as errors when deciding validity (the reference
    /// validator's `--strict`).
    pub strict: bool,
    /// The pattern syntax checker, if any.
    pub patterns: Option<Arc<dyn PatternCheck>>,
}

impl Options {
    /// Options with the STIX pattern grammar plugged in ([`StixPatterns`]).
    pub fn with_stix_patterns(strict: bool) -> Self {
        Options {
            strict,
            patterns: Some(Arc::new(StixPatterns)),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("strict", &self.strict)
            .field("patterns", &self.patterns.is_some())
            .finish()
    }
}

/// The result of validating one document.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Whether warnings count as errors.
    pub strict: bool,
    /// Number of STIX objects seen (bundle members or top-level objects).
    pub objects: usize,
    /// Number of bytes read.
    pub bytes: u64,
    /// Every finding, in document order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, s: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == s).count()
    }

    /// Valid: no errors, and with `strict` no warnings either.
    pub fn is_valid(&self) -> bool {
        self.errors() == 0 && !(self.strict && self.warnings() > 0)
    }
}

/// Validates STIX 2.1 documents.
#[derive(Debug, Clone, Default)]
pub struct Validator {
    options: Options,
}

impl Validator {
    /// A validator with these options.
    pub fn new(options: Options) -> Self {
        Validator { options }
    }

    /// Validates a document read from `reader`, streaming bundle members.
    ///
    /// Malformed JSON is a finding (an error diagnostic with line and
    /// column), not an `Err`; only failing to read is.
    pub fn validate_reader<R: Read>(&self, reader: R) -> Result<Report, Error> {
        stream::validate(self, reader)
    }

    /// Validates a document held in memory.
    pub fn validate_bytes(&self, bytes: &[u8]) -> Report {
        match stream::validate(self, bytes) {
            Ok(r) => r,
            // Reading from a slice cannot fail.
            Err(Error::Io(e)) => Report {
                strict: self.options.strict,
                diagnostics: vec![Diagnostic {
                    severity: Severity::Error,
                    code: "io",
                    index: None,
                    object_id: None,
                    pointer: String::new(),
                    message: e.to_string(),
                }],
                ..Report::default()
            },
        }
    }

    /// Validates an already parsed document.
    pub fn validate_value(&self, doc: &serde_json::Value) -> Report {
        stream::validate_value(self, doc)
    }

    /// Validates one STIX object on its own, whatever its `type` (a JSON
    /// list or a bundle is not unpacked); pointers start at the object
    /// (`/valid_from`).
    pub fn validate_object(&self, object: &serde_json::Value) -> Report {
        stream::validate_object(self, object)
    }

    pub(crate) fn options(&self) -> &Options {
        &self.options
    }
}
