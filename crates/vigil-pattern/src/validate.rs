//! Checks beyond the grammar, as the OASIS pattern validator makes them:
//! hash values must fit their algorithm, and one `[...]` takes each kind of
//! qualifier at most once.

use crate::ast::*;

/// A problem [`validate`] found in a syntactically valid pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// What is wrong, naming the object path or qualifier.
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Checks a parsed pattern for what the grammar cannot express. An empty
/// result means the pattern is valid.
pub fn validate(pattern: &Pattern) -> Vec<Issue> {
    let mut issues = Vec::new();
    check_qualifiers(&pattern.root, &mut issues);
    for cmp in pattern.comparisons() {
        check_hash(cmp, &mut issues);
    }
    issues
}

fn check_qualifiers(e: &ObservationExpr, issues: &mut Vec<Issue>) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match e {
            ObservationExpr::Observation(_) => {}
            ObservationExpr::Group(inner) => stack.push(inner),
            ObservationExpr::And(v) | ObservationExpr::Or(v) | ObservationExpr::FollowedBy(v) => {
                stack.extend(v)
            }
            ObservationExpr::Qualified { expr, qualifiers } => {
                // Only a bare observation is checked: `([...] WITHIN 1 SECONDS)
                // WITHIN 2 SECONDS` nests two windows and is meaningful.
                if let ObservationExpr::Observation(_) = **expr {
                    for kind in ["WITHIN", "REPEATS", "START/STOP"] {
                        let n = qualifiers
                            .iter()
                            .filter(|q| qualifier_kind(q) == kind)
                            .count();
                        if n > 1 {
                            issues.push(Issue {
                                message: format!(
                                    "{expr} has {n} {kind} qualifiers; an observation takes at most one of each kind"
                                ),
                            });
                        }
                    }
                }
                stack.push(expr);
            }
        }
    }
}

fn qualifier_kind(q: &Qualifier) -> &'static str {
    match q {
        Qualifier::Within(_) => "WITHIN",
        Qualifier::Repeats(_) => "REPEATS",
        Qualifier::StartStop { .. } => "START/STOP",
    }
}

/// Hash algorithms of the STIX hashing-algorithm vocabulary, keyed by the
/// name upper-cased without hyphens, with a check of the value's form.
type HashRule = (&'static str, fn(&str) -> bool);

fn hash_rule(name: &str) -> Option<HashRule> {
    fn hex_len(s: &str, lens: &[usize]) -> bool {
        lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
    }
    let key = name.to_ascii_uppercase().replace('-', "");
    Some(match key.as_str() {
        "MD5" => ("MD5", |s| hex_len(s, &[32])),
        "MD6" => ("MD6", |s| hex_len(s, &[32, 40, 56, 64, 96, 128])),
        "RIPEMD160" => ("RIPEMD-160", |s| hex_len(s, &[40])),
        "SHA1" => ("SHA-1", |s| hex_len(s, &[40])),
        "SHA224" => ("SHA-224", |s| hex_len(s, &[56])),
        "SHA256" => ("SHA-256", |s| hex_len(s, &[64])),
        "SHA384" => ("SHA-384", |s| hex_len(s, &[96])),
        "SHA512" => ("SHA-512", |s| hex_len(s, &[128])),
        "SHA3224" => ("SHA3-224", |s| hex_len(s, &[56])),
        "SHA3256" => ("SHA3-256", |s| hex_len(s, &[64])),
        "SHA3384" => ("SHA3-384", |s| hex_len(s, &[96])),
        "SHA3512" => ("SHA3-512", |s| hex_len(s, &[128])),
        "WHIRLPOOL" => ("WHIRLPOOL", |s| hex_len(s, &[128])),
        "SSDEEP" => ("SSDEEP", |s| {
            (1..=128).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/+:.".contains(&b))
        }),
        _ => return None,
    })
}

fn check_hash(cmp: &Comparison, issues: &mut Vec<Issue>) {
    let under_hashes = cmp
        .path
        .steps
        .iter()
        .any(|s| matches!(s, PathStep::Key(k) if k == "hashes"));
    let Some(PathStep::Key(last)) = cmp.path.steps.last() else {
        return;
    };
    if !under_hashes {
        return;
    }
    let Some((algo, ok)) = hash_rule(last) else {
        return;
    };
    let mut check = |lit: &Literal| {
        let fine = matches!(lit, Literal::Str(s) if ok(s));
        if !fine {
            issues.push(Issue {
                message: format!("{}: {lit} is not a valid {algo} hash", cmp.path),
            });
        }
    };
    match &cmp.op {
        Operator::Eq(l)
        | Operator::Ne(l)
        | Operator::Gt(l)
        | Operator::Lt(l)
        | Operator::Ge(l)
        | Operator::Le(l) => check(l),
        Operator::In(set) => set.iter().for_each(check),
        Operator::Like(s)
        | Operator::Matches(s)
        | Operator::IsSubset(s)
        | Operator::IsSuperset(s) => check(&Literal::Str(s.clone())),
        Operator::Exists => {}
    }
}
