//! Errors of the pattern crate.

use std::fmt;

/// A syntax error: where it is and what would have been accepted there.
///
/// Displays as `expected ']' at 1:31 (found end of input)`; [`ParseError::caret`]
/// adds the offending line with a caret under the position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    /// Byte offset of the offending token in the input.
    pub offset: usize,
    /// What the grammar accepts at this position (empty for errors that are
    /// not about an unexpected token, such as an integer out of range).
    pub expected: Vec<String>,
    /// What was found instead (`end of input`, `'x'`, `integer 5`).
    pub found: String,
    /// More detail, e.g. why a literal failed to lex at this position.
    pub detail: Option<String>,
}

impl ParseError {
    pub(crate) fn new(
        input: &str,
        offset: usize,
        expected: Vec<String>,
        found: String,
        detail: Option<String>,
    ) -> ParseError {
        let offset = offset.min(input.len());
        let before = &input[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = input[line_start..offset].chars().count() + 1;
        ParseError {
            line,
            column,
            offset,
            expected,
            found,
            detail,
        }
    }

    /// The input line holding the error and a caret line under the position.
    pub fn caret(&self, input: &str) -> String {
        let line = input.lines().nth(self.line - 1).unwrap_or("");
        format!("{line}\n{}^", " ".repeat(self.column.saturating_sub(1)))
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.expected.as_slice() {
            [] => write!(
                f,
                "{} at {}:{}",
                self.detail.as_deref().unwrap_or("syntax error"),
                self.line,
                self.column
            ),
            expected => {
                if let [one] = expected {
                    write!(f, "expected {one}")?;
                } else {
                    write!(f, "expected one of {}", expected.join(", "))?;
                }
                write!(f, " at {}:{} (found {}", self.line, self.column, self.found)?;
                if let Some(d) = &self.detail {
                    write!(f, "; {d}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Why a pattern could not be evaluated against observed data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// An observed-data object lacks a property the evaluator needs or has it in the wrong form.
    #[error("observed-data {index}: {message}")]
    ObservedData {
        /// Position of the object in the input list.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A literal of the pattern cannot be used (an impossible date, a bad regular expression).
    #[error("pattern: {0}")]
    Pattern(String),
    /// A value in the observed data cannot be compared as the pattern asks
    /// (a malformed timestamp, IP address or reference).
    #[error("observed value: {0}")]
    Value(String),
    /// The search for a binding exceeded its budget (a `REPEATS` count or
    /// combination of operators too large for the data).
    #[error("evaluation gave up after {0} steps; the pattern is too expensive for this data")]
    Budget(u64),
}
