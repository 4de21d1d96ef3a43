//! The canonical pretty-printer: one space around operators, `=` and `!=`
//! spellings, keys bare where the grammar allows and quoted otherwise.
//!
//! For a tree produced by [`crate::parse`], printing and parsing again gives
//! an equal tree. Trees built by hand get parentheses where precedence needs
//! them.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::*;
use crate::literal::{base64_encode, float_text, hex_encode, is_bare_key, quote};

impl Display for Pattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}

fn obs_prec(e: &ObservationExpr) -> u8 {
    match e {
        ObservationExpr::FollowedBy(_) => 0,
        ObservationExpr::Or(_) => 1,
        ObservationExpr::And(_) => 2,
        _ => 3,
    }
}

fn write_obs_operand(f: &mut Formatter<'_>, e: &ObservationExpr, min: u8) -> fmt::Result {
    if obs_prec(e) < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

/// Writes `items` joined by ` kw `, parenthesising those `needs_parens` selects.
fn write_chain<T: Display>(
    f: &mut Formatter<'_>,
    items: &[T],
    kw: &str,
    needs_parens: impl Fn(&T) -> bool,
) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            write!(f, " {kw} ")?;
        }
        if needs_parens(e) {
            write!(f, "({e})")?;
        } else {
            write!(f, "{e}")?;
        }
    }
    Ok(())
}

fn write_obs_chain(
    f: &mut Formatter<'_>,
    items: &[ObservationExpr],
    kw: &str,
    prec: u8,
) -> fmt::Result {
    write_chain(f, items, kw, |e| obs_prec(e) <= prec)
}

impl Display for ObservationExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ObservationExpr::Observation(c) => write!(f, "[{c}]"),
            ObservationExpr::Group(e) => write!(f, "({e})"),
            ObservationExpr::And(v) => write_obs_chain(f, v, "AND", 2),
            ObservationExpr::Or(v) => write_obs_chain(f, v, "OR", 1),
            ObservationExpr::FollowedBy(v) => write_obs_chain(f, v, "FOLLOWEDBY", 0),
            ObservationExpr::Qualified { expr, qualifiers } => {
                write_obs_operand(f, expr, 3)?;
                for q in qualifiers {
                    write!(f, " {q}")?;
                }
                Ok(())
            }
        }
    }
}

impl Display for Qualifier {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within(Seconds::Int(n)) => write!(f, "WITHIN {n} SECONDS"),
            Qualifier::Within(Seconds::Float(x)) => write!(f, "WITHIN {} SECONDS", float_text(*x)),
            Qualifier::Repeats(n) => write!(f, "REPEATS {n} TIMES"),
            Qualifier::StartStop { start, stop } => write!(f, "START t'{start}' STOP t'{stop}'"),
        }
    }
}

fn cmp_prec(e: &ComparisonExpr) -> u8 {
    match e {
        ComparisonExpr::Or(_) => 0,
        ComparisonExpr::And(_) => 1,
        _ => 2,
    }
}

fn write_cmp_chain(
    f: &mut Formatter<'_>,
    items: &[ComparisonExpr],
    kw: &str,
    prec: u8,
) -> fmt::Result {
    write_chain(f, items, kw, |e| cmp_prec(e) <= prec)
}

impl Display for ComparisonExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ComparisonExpr::Comparison(c) => c.fmt(f),
            ComparisonExpr::Group(e) => write!(f, "({e})"),
            ComparisonExpr::And(v) => write_cmp_chain(f, v, "AND", 1),
            ComparisonExpr::Or(v) => write_cmp_chain(f, v, "OR", 0),
        }
    }
}

impl Display for Comparison {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let not = if self.negated { "NOT " } else { "" };
        if let Operator::Exists = self.op {
            return write!(f, "{not}EXISTS {}", self.path);
        }
        write!(f, "{} {not}{} ", self.path, self.op.symbol())?;
        match &self.op {
            Operator::Eq(l)
            | Operator::Ne(l)
            | Operator::Gt(l)
            | Operator::Lt(l)
            | Operator::Ge(l)
            | Operator::Le(l) => l.fmt(f),
            Operator::In(set) => f.write_str(&set_text(set)),
            Operator::Like(s)
            | Operator::Matches(s)
            | Operator::IsSubset(s)
            | Operator::IsSuperset(s) => f.write_str(&quote(s)),
            Operator::Exists => Ok(()),
        }
    }
}

impl Display for ObjectPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(k) => {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    if is_bare_key(k) {
                        f.write_str(k)?;
                    } else {
                        f.write_str(&quote(k))?;
                    }
                }
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Float(x) => f.write_str(&float_text(*x)),
            Literal::Str(s) => f.write_str(&quote(s)),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Binary(b) => write!(f, "b'{}'", base64_encode(b)),
            Literal::Hex(h) => write!(f, "h'{}'", hex_encode(h)),
            Literal::Timestamp(t) => write!(f, "t'{t}'"),
        }
    }
}

/// A set literal as the printer writes it: `('a', 'b')`.
pub(crate) fn set_text(set: &[Literal]) -> String {
    let items: Vec<String> = set.iter().map(Literal::to_string).collect();
    format!("({})", items.join(", "))
}
