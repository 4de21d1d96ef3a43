//! Lowering of the common indicator forms to plain facts a fast matcher can
//! index (by object type, path and value), with the reason when a pattern
//! needs the general evaluator instead.

use serde::Serialize;

use crate::ast::*;

/// The result of [`compile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compiled {
    /// The pattern matches an observation iff ANY one of these facts holds
    /// for a single SCO (possibly none: `[x:y IN ()]` matches nothing).
    Facts(Vec<Fact>),
    /// Needs the general evaluator (qualifiers, FOLLOWEDBY, AND across
    /// comparisons or observations, NOT, LIKE/MATCHES, refs…); the reason says why.
    General {
        /// Why the pattern is not a set of facts.
        reason: String,
    },
}

/// One indexable fact: `object_type:path op value` on a single SCO.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Fact {
    /// The SCO type: `domain-name`, `url`, `ipv4-addr`, `file`, `app`, `android-property`, …
    pub object_type: String,
    /// The object path without the type, keys joined by `.` and unquoted:
    /// `value`, `hashes.SHA-256`, `parent_directory_ref.path`.
    pub path: String,
    /// How the SCO's value relates to `value`.
    pub op: FactOp,
    /// The literal (for [`FactOp::IsSubset`]: the CIDR text).
    pub value: String,
}

/// The relation a [`Fact`] tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactOp {
    /// The SCO's value equals the fact's value (exact string equality).
    Equals,
    /// The SCO's value (an IP address or subnet) lies inside the fact's CIDR subnet.
    IsSubset,
}

/// Lowers `pattern` to facts when it is a disjunction of simple equality,
/// set-membership or subnet tests, else says why it needs the evaluator.
///
/// Lowered forms: `[t:p = 'x']`, `[t:p IN ('a', 'b')]` (one fact per
/// element), `[ipv4-addr:value ISSUBSET '10.0.0.0/8']`, CIDR equality
/// `[ipv4-addr:value = '10.0.0.0/8']` (an indicator's way of naming a
/// subnet), OR-chains of these inside one observation, and OR between
/// observations made only of these. Parentheses are transparent.
pub fn compile(pattern: &Pattern) -> Compiled {
    let mut facts = Vec::new();
    match lower_observation(&pattern.root, &mut facts) {
        Ok(()) => {
            let mut seen = std::collections::HashSet::new();
            facts.retain(|f| seen.insert(f.clone()));
            Compiled::Facts(facts)
        }
        Err(reason) => Compiled::General { reason },
    }
}

impl Compiled {
    /// The facts, if the pattern lowered to facts.
    pub fn facts(&self) -> Option<&[Fact]> {
        match self {
            Compiled::Facts(facts) => Some(facts),
            Compiled::General { .. } => None,
        }
    }
}

fn lower_observation(e: &ObservationExpr, out: &mut Vec<Fact>) -> Result<(), String> {
    match e {
        ObservationExpr::Observation(c) => lower_comparison(c, out),
        ObservationExpr::Group(inner) => lower_observation(inner, out),
        ObservationExpr::Or(v) => v.iter().try_for_each(|x| lower_observation(x, out)),
        ObservationExpr::And(_) => Err("AND between observations".into()),
        ObservationExpr::FollowedBy(_) => Err("FOLLOWEDBY between observations".into()),
        ObservationExpr::Qualified { qualifiers, .. } => {
            let names: Vec<&str> = qualifiers
                .iter()
                .map(|q| match q {
                    Qualifier::Within(_) => "WITHIN",
                    Qualifier::Repeats(_) => "REPEATS",
                    Qualifier::StartStop { .. } => "START/STOP",
                })
                .collect();
            Err(format!("qualifier {}", names.join(", ")))
        }
    }
}

fn lower_comparison(c: &ComparisonExpr, out: &mut Vec<Fact>) -> Result<(), String> {
    match c {
        ComparisonExpr::Group(inner) => lower_comparison(inner, out),
        ComparisonExpr::Or(v) => v.iter().try_for_each(|x| lower_comparison(x, out)),
        ComparisonExpr::And(_) => Err("AND between comparisons".into()),
        ComparisonExpr::Comparison(cmp) => lower_test(cmp, out),
    }
}

fn lower_test(cmp: &Comparison, out: &mut Vec<Fact>) -> Result<(), String> {
    if cmp.negated {
        return Err(format!("NOT {} in {}", cmp.op.symbol(), cmp.path));
    }
    let path = fact_path(&cmp.path)?;
    let ip_type = matches!(cmp.path.object_type.as_str(), "ipv4-addr" | "ipv6-addr");
    let fact = |op, value: &str| Fact {
        object_type: cmp.path.object_type.clone(),
        path: path.clone(),
        op,
        value: value.to_string(),
    };
    match &cmp.op {
        Operator::Eq(Literal::Str(s)) => {
            let op = if ip_type && path == "value" && s.contains('/') {
                FactOp::IsSubset
            } else {
                FactOp::Equals
            };
            out.push(fact(op, s));
            Ok(())
        }
        Operator::In(set) => {
            for lit in set {
                match lit {
                    Literal::Str(s) => out.push(fact(FactOp::Equals, s)),
                    other => return Err(format!("IN set holds a non-string literal {other}")),
                }
            }
            Ok(())
        }
        Operator::IsSubset(s) if ip_type => {
            out.push(fact(FactOp::IsSubset, s));
            Ok(())
        }
        Operator::Eq(other) => Err(format!("= with a non-string literal {other}")),
        other => Err(format!("operator {} in {}", other.symbol(), cmp.path)),
    }
}

fn fact_path(path: &ObjectPath) -> Result<String, String> {
    let mut keys = Vec::with_capacity(path.steps.len());
    for step in &path.steps {
        match step {
            PathStep::Key(k) if !k.contains('.') => keys.push(k.as_str()),
            PathStep::Key(_) => return Err(format!("key with a '.' in {path}")),
            PathStep::Index(_) | PathStep::AnyIndex => return Err(format!("list index in {path}")),
        }
    }
    Ok(keys.join("."))
}
