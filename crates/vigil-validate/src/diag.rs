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

/// A JSON pointer that is only written out when a diagnostic needs it: a
/// chain of borrowed steps on the stack, so checking a clean object builds
/// no strings.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ptr<'a> {
    /// The document root (`""`).
    Root,
    /// A member of an object.
    Key(&'a Ptr<'a>, &'a str),
    /// An element of a list.
    Index(&'a Ptr<'a>, usize),
}

impl<'a> Ptr<'a> {
    /// The pointer to member `key` of the value here.
    pub(crate) fn key(&'a self, key: &'a str) -> Ptr<'a> {
        Ptr::Key(self, key)
    }

    /// The pointer to element `index` of the list here.
    pub(crate) fn index(&'a self, index: usize) -> Ptr<'a> {
        Ptr::Index(self, index)
    }

    /// The RFC 6901 text, escaping `~` and `/` in keys.
    pub(crate) fn render(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }

    fn write(&self, s: &mut String) {
        match self {
            Ptr::Root => {}
            Ptr::Key(parent, key) => {
                parent.write(s);
                s.push('/');
                for c in key.chars() {
                    match c {
                        '~' => s.push_str("~0"),
                        '/' => s.push_str("~1"),
                        c => s.push(c),
                    }
                }
            }
            Ptr::Index(parent, i) => {
                parent.write(s);
                s.push('/');
                s.push_str(&i.to_string());
            }
        }
    }
}

/// Collects diagnostics for one object, remembering its index and id.
pub(crate) struct Sink<'a> {
    pub(crate) out: &'a mut Vec<Diagnostic>,
    pub(crate) index: Option<usize>,
    pub(crate) object_id: Option<&'a str>,
}

impl Sink<'_> {
    pub(crate) fn error(
        &mut self,
        code: &'static str,
        pointer: &Ptr<'_>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Error, code, pointer, message.into());
    }

    pub(crate) fn warn(
        &mut self,
        code: &'static str,
        pointer: &Ptr<'_>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Warning, code, pointer, message.into());
    }

    fn push(&mut self, severity: Severity, code: &'static str, pointer: &Ptr<'_>, message: String) {
        self.out.push(Diagnostic {
            severity,
            code,
            index: self.index,
            object_id: self.object_id.map(str::to_string),
            pointer: pointer.render(),
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::Ptr;

    #[test]
    fn pointers_escape_keys() {
        let root = Ptr::Root;
        let objects = root.key("objects");
        let member = objects.index(12);
        let odd = member.key("a/b~c");
        assert_eq!(odd.index(0).render(), "/objects/12/a~1b~0c/0");
        assert_eq!(root.render(), "");
    }
}
