//! The syntax tree of a STIX pattern.
//!
//! The tree keeps the parentheses the author wrote (`Group` nodes) so that
//! the pretty-printer reproduces the same structure, but forgets spelling
//! variants that do not change meaning (`==` is `=`, `<>` is `!=`, a quoted
//! key that could be written bare is just a key).

use crate::literal::Timestamp;

/// A parsed STIX 2.1 pattern: one observation expression tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The top-level observation expression.
    pub root: ObservationExpr,
}

/// An observation expression: one `[...]` or a combination of them.
///
/// `And`, `Or` and `FollowedBy` hold two or more operands, in source order;
/// a chain `a OR b OR c` is one `Or` node (the operators are evaluated left
/// to right, as the grammar's left associativity says).
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison-expression ]`: one observation.
    Observation(ComparisonExpr),
    /// `( observation-expressions )`.
    Group(Box<ObservationExpr>),
    /// `a AND b AND …`: each operand is matched by a different observation.
    And(Vec<ObservationExpr>),
    /// `a OR b OR …`.
    Or(Vec<ObservationExpr>),
    /// `a FOLLOWEDBY b …`: each operand observed no earlier than the previous one.
    FollowedBy(Vec<ObservationExpr>),
    /// An `Observation` or `Group` with one or more qualifiers, in source order.
    Qualified {
        /// The qualified expression (an `Observation` or a `Group`).
        expr: Box<ObservationExpr>,
        /// The qualifiers, innermost (leftmost) first.
        qualifiers: Vec<Qualifier>,
    },
}

/// A qualifier on an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`: all bound observations fit in a window of `n` seconds.
    Within(Seconds),
    /// `REPEATS n TIMES`: the expression is matched `n` times by distinct observations.
    Repeats(i64),
    /// `START t'…' STOP t'…'`: observations fall in `[start, stop)`.
    StartStop {
        /// Inclusive start of the window.
        start: Timestamp,
        /// Exclusive end of the window.
        stop: Timestamp,
    },
}

/// The duration of a `WITHIN` qualifier, as written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seconds {
    /// An integer number of seconds.
    Int(i64),
    /// A fractional number of seconds.
    Float(f64),
}

impl Seconds {
    /// The duration as a float number of seconds.
    pub fn as_f64(self) -> f64 {
        match self {
            Seconds::Int(i) => i as f64,
            Seconds::Float(f) => f,
        }
    }
}

/// A comparison expression: the content of one `[...]`.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    /// A single comparison.
    Comparison(Comparison),
    /// `( comparison-expression )`.
    Group(Box<ComparisonExpr>),
    /// `a AND b AND …`: all hold for the same object.
    And(Vec<ComparisonExpr>),
    /// `a OR b OR …`.
    Or(Vec<ComparisonExpr>),
}

/// One comparison: an object path, an optional `NOT`, an operator and its operand.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The object path on the left side (`file:hashes.'SHA-256'`).
    pub path: ObjectPath,
    /// True when the operator is preceded by `NOT` (for `EXISTS`: `NOT EXISTS`).
    pub negated: bool,
    /// The operator and its operand.
    pub op: Operator,
}

/// A comparison operator with its operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Operator {
    /// `=` (also spelled `==`).
    Eq(Literal),
    /// `!=` (also spelled `<>`).
    Ne(Literal),
    /// `>`.
    Gt(Literal),
    /// `<`.
    Lt(Literal),
    /// `>=`.
    Ge(Literal),
    /// `<=`.
    Le(Literal),
    /// `IN (…)`.
    In(Vec<Literal>),
    /// `LIKE '…'` with SQL `%` and `_` wildcards.
    Like(String),
    /// `MATCHES '…'`: a regular expression.
    Matches(String),
    /// `ISSUBSET '…'`: the value is an address or subnet inside the given subnet.
    IsSubset(String),
    /// `ISSUPERSET '…'`: the value is a subnet containing the given address or subnet.
    IsSuperset(String),
    /// `EXISTS` (written before the path).
    Exists,
}

impl Operator {
    /// The keyword or symbol of the operator, as the printer writes it.
    pub fn symbol(&self) -> &'static str {
        match self {
            Operator::Eq(_) => "=",
            Operator::Ne(_) => "!=",
            Operator::Gt(_) => ">",
            Operator::Lt(_) => "<",
            Operator::Ge(_) => ">=",
            Operator::Le(_) => "<=",
            Operator::In(_) => "IN",
            Operator::Like(_) => "LIKE",
            Operator::Matches(_) => "MATCHES",
            Operator::IsSubset(_) => "ISSUBSET",
            Operator::IsSuperset(_) => "ISSUPERSET",
            Operator::Exists => "EXISTS",
        }
    }
}

/// An object path: an object type and a sequence of steps into the object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectPath {
    /// The SCO type, e.g. `file`, `domain-name`, `x-usb-device`.
    pub object_type: String,
    /// The steps; the first one is always a [`PathStep::Key`].
    pub steps: Vec<PathStep>,
}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// A property or dictionary key (`.name`, `.'SHA-256'`).
    Key(String),
    /// A list index (`[0]`, `[-1]` counts from the end).
    Index(i64),
    /// Every list element (`[*]`).
    AnyIndex,
}

/// A literal value in a pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// An integer (`5`, `-3`, `+7`).
    Int(i64),
    /// A float (`7.0`, `-.5`).
    Float(f64),
    /// A string (`'abc'`), unescaped.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// `b'…'`: base64-encoded bytes.
    Binary(Vec<u8>),
    /// `h'…'`: hex-encoded bytes.
    Hex(Vec<u8>),
    /// `t'…'`: an RFC 3339 UTC timestamp.
    Timestamp(Timestamp),
}

impl Pattern {
    /// Visits every comparison of the pattern, in source order.
    pub fn comparisons(&self) -> Vec<&Comparison> {
        let mut out = Vec::new();
        let mut stack = vec![&self.root];
        while let Some(e) = stack.pop() {
            match e {
                ObservationExpr::Observation(c) => collect_comparisons(c, &mut out),
                ObservationExpr::Group(inner) | ObservationExpr::Qualified { expr: inner, .. } => {
                    stack.push(inner)
                }
                ObservationExpr::And(v)
                | ObservationExpr::Or(v)
                | ObservationExpr::FollowedBy(v) => stack.extend(v.iter().rev()),
            }
        }
        out
    }
}

fn collect_comparisons<'a>(c: &'a ComparisonExpr, out: &mut Vec<&'a Comparison>) {
    match c {
        ComparisonExpr::Comparison(cmp) => out.push(cmp),
        ComparisonExpr::Group(inner) => collect_comparisons(inner, out),
        ComparisonExpr::And(v) | ComparisonExpr::Or(v) => {
            for x in v {
                collect_comparisons(x, out)
            }
        }
    }
}
