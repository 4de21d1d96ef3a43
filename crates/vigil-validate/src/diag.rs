//! Diagnostics: what the validator reports about one object.

use std::fmt;

use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A "SHOULD" of the specification or a best practice; valid unless `--strict`.
    Warning,
    /// A "MUST" of the specification is broken; the input is invalid.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding about one object (or about the document as a whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable, machine-readable name of the rule (e.g. `required-property`).
    pub code: &'static str,
    /// Position of the object in the bundle's `objects` list (or top-level list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The `id` of the object, when it has a usable one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// RFC 6901 JSON pointer to the offending value, from the document root.
    pub pointer: String,
    /// A human explanation.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] {}: {}",
            self.severity,
            self.code,
            if self.pointer.is_empty() {
                "/"
            } else {
                &self.pointer
            },
            self.message
        )
    }
}

/// Appends one reference token to a JSON pointer, escaping `~` and `/`.
pub(crate) fn push_pointer(base: &str, token: &str) -> String {
    let mut s = String::with_capacity(base.len() + token.len() + 1);
    s.push_str(base);
    s.push('/');
    for c in token.chars() {
        match c {
            '~' => s.push_str("~0"),
            '/' => s.push_str("~1"),
            c => s.push(c),
        }
    }
    s
}

/// Collects diagnostics for one object, remembering its index and id.
pub(crate) struct Sink<'a> {
    pub(crate) out: &'a mut Vec<Diagnostic>,
    pub(crate) index: Option<usize>,
    pub(crate) object_id: Option<String>,
}

impl Sink<'_> {
    pub(crate) fn error(&mut self, code: &'static str, pointer: &str, message: impl Into<String>) {
        self.push(Severity::Error, code, pointer, message.into());
    }

    pub(crate) fn warn(&mut self, code: &'static str, pointer: &str, message: impl Into<String>) {
        self.push(Severity::Warning, code, pointer, message.into());
    }

    fn push(&mut self, severity: Severity, code: &'static str, pointer: &str, message: String) {
        self.out.push(Diagnostic {
            severity,
            code,
            index: self.index,
            object_id: self.object_id.clone(),
            pointer: pointer.to_string(),
            message,
        });
    }
}
