//! Reduces a STIX pattern to the terms the per-kind matchers look up.
//!
//! Real indicator feeds are almost entirely single comparisons
//! (`[domain-name:value = 'evil.com']`), and loading a million of them must
//! take well under two seconds, so that shape — and ORs of it inside one
//! observation — is read directly here. Everything else goes through the
//! pattern crate's parser and its compile-to-facts step; what does not reduce
//! to facts is kept for the general evaluator, with the reason.

use std::borrow::Cow;

use crate::kinds::{kind_for_path, normalise_term};
use crate::Term;

/// What a pattern reduces to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompiledPattern {
    /// The pattern matches a single observation iff any of these terms matches.
    Terms(Vec<Term>),
    /// The pattern needs the general evaluator; the string says why.
    General(String),
}

/// Compiles a pattern string; `Err` is a message naming the column of the problem.
pub fn compile_pattern(pattern: &str) -> Result<CompiledPattern, String> {
    match compile_fast(pattern) {
        Some(terms) => Ok(CompiledPattern::Terms(terms)),
        None => compile_full(pattern),
    }
}

/// Compiles with the pattern crate's parser and compile step only (no fast path).
pub fn compile_full(pattern: &str) -> Result<CompiledPattern, String> {
    let parsed = vigil_pattern::parse(pattern).map_err(|e| e.to_string())?;
    let facts = match vigil_pattern::compile(&parsed) {
        vigil_pattern::Compiled::Facts(f) => f,
        vigil_pattern::Compiled::General { reason } => return Ok(CompiledPattern::General(reason)),
    };
    let mut terms = Vec::with_capacity(facts.len());
    for f in facts {
        let subset = f.op == vigil_pattern::FactOp::IsSubset;
        match to_term(&f.object_type, &f.path, subset, &f.value) {
            Ok(t) => terms.push(t),
            Err(Problem::General(reason)) => return Ok(CompiledPattern::General(reason)),
            Err(Problem::Invalid(e)) => return Err(e),
        }
    }
    Ok(CompiledPattern::Terms(terms))
}

enum Problem {
    /// Valid, but not a lookup: the general evaluator's work.
    General(String),
    /// The value cannot be what the property says (a bad hash, a bad address).
    Invalid(String),
}

/// One comparison as a term for the per-kind tables.
fn to_term(object_type: &str, path: &str, subset: bool, value: &str) -> Result<Term, Problem> {
    use vigil_artefact::ObservableKind as K;
    let Some(mut kind) = kind_for_path(object_type, path) else {
        return Err(Problem::General(format!(
            "{object_type}:{path} is not a property any reader produces"
        )));
    };
    if subset && !matches!(kind, K::Ipv4 | K::Ipv6) {
        return Err(Problem::General(format!(
            "ISSUBSET on {object_type}:{path}"
        )));
    }
    // Some feeds put a URL path in a domain field ('host.xyz/x'); keep it as the URL it is.
    if kind == K::Domain && value.contains('/') {
        kind = K::Url;
    }
    let value = normalise_term(kind, value)
        .map_err(|e| Problem::Invalid(format!("{object_type}:{path}: {e}")))?;
    Ok(Term { kind, value })
}

/// The fast path alone: `[type:path = 'v' (OR …)*]` read without the parser.
///
/// Returns `None` for anything else, or at any doubt; when it returns terms
/// they are exactly what [`compile_full`] gives (a differential test checks
/// this on every real pattern and on variants of them).
pub fn compile_fast(pattern: &str) -> Option<Vec<Term>> {
    let mut p = Cursor {
        s: pattern.as_bytes(),
        i: 0,
    };
    p.ws();
    if !p.eat(b'[') {
        return None;
    }
    let mut terms = Vec::new();
    // Earlier comparisons of an OR chain (a single comparison never allocates this).
    let mut seen: Vec<(&str, Cow<'_, str>, bool, Cow<'_, str>)> = Vec::new();
    loop {
        p.ws();
        let (object_type, path) = p.object_path()?;
        p.ws();
        let op_is_subset = if p.eat(b'=') {
            false
        } else if p.keyword("ISSUBSET") {
            true
        } else {
            return None;
        };
        p.ws();
        let value = p.string()?;
        // The compile step drops repeated comparisons (same type, path,
        // operator and literal as written) before anything is normalised.
        let ip = matches!(object_type, "ipv4-addr" | "ipv6-addr") && path == "value";
        let subset = op_is_subset || (ip && value.contains('/'));
        let key = (object_type, path, subset, value);
        if !seen.contains(&key) {
            terms.push(to_term(key.0, &key.1, op_is_subset, &key.3).ok()?);
        }
        p.ws();
        if p.keyword("OR") {
            seen.push(key);
            continue;
        }
        if p.eat(b']') {
            break;
        }
        return None;
    }
    p.ws();
    if p.i != p.s.len() {
        return None;
    }
    Some(terms)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn keyword(&mut self, kw: &str) -> bool {
        let end = self.i + kw.len();
        let hit = self.s.get(self.i..end) == Some(kw.as_bytes())
            && !self.s.get(end).is_some_and(|b| b.is_ascii_alphanumeric());
        if hit {
            self.i = end;
        }
        hit
    }

    /// `type:path.with.'quoted'.parts`, returned with quotes removed from the path.
    fn object_path(&mut self) -> Option<(&'a str, Cow<'a, str>)> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            self.i += 1;
        }
        let object_type = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if object_type.is_empty() || !self.eat(b':') {
            return None;
        }
        let path_start = self.i;
        let mut quoted = false;
        let mut path = String::new();
        loop {
            match self.s.get(self.i) {
                Some(b'\'') => {
                    if !quoted {
                        // The unquoted steps so far, as written (ASCII).
                        path.extend(self.s[path_start..self.i].iter().map(|b| *b as char));
                        quoted = true;
                    }
                    self.i += 1;
                    let q = self.i;
                    while self.s.get(self.i).is_some_and(|b| *b != b'\'') {
                        self.i += 1;
                    }
                    let step = std::str::from_utf8(&self.s[q..self.i]).ok()?;
                    // A key holding a '.' is not a path of steps: the parser's case.
                    if step.contains('.') {
                        return None;
                    }
                    path.push_str(step);
                    if !self.eat(b'\'') {
                        return None;
                    }
                }
                Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') => {
                    if quoted {
                        path.push(*b as char);
                    }
                    self.i += 1;
                }
                Some(b'[') => return None, // list index: general evaluator
                _ => break,
            }
        }
        if path.is_empty() && (quoted || self.i == path_start) {
            return None;
        }
        // Without quotes the path is the bytes as written: borrow them.
        let path = if quoted {
            Cow::Owned(path)
        } else {
            Cow::Borrowed(std::str::from_utf8(&self.s[path_start..self.i]).ok()?)
        };
        Some((object_type, path))
    }

    /// A quoted string literal, unescaping `\'` and `\\`.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        if !self.eat(b'\'') {
            return None;
        }
        // No escape before the closing quote: borrow the literal.
        if let Some(n) = memchr::memchr2(b'\'', b'\\', &self.s[self.i..]) {
            if self.s[self.i + n] == b'\'' {
                let lit = std::str::from_utf8(&self.s[self.i..self.i + n]).ok()?;
                self.i += n + 1;
                return Some(Cow::Borrowed(lit));
            }
        }
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return None,
                Some(b'\\') => {
                    match self.s.get(self.i + 1) {
                        Some(c @ (b'\'' | b'\\')) => out.push(*c),
                        _ => return None,
                    }
                    self.i += 2;
                }
                Some(b'\'') => {
                    self.i += 1;
                    break;
                }
                Some(b) => {
                    out.push(*b);
                    self.i += 1;
                }
            }
        }
        String::from_utf8(out).ok().map(Cow::Owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_artefact::ObservableKind as K;

    fn terms(p: &str) -> Vec<(K, String)> {
        match compile_pattern(p).unwrap() {
            CompiledPattern::Terms(t) => t.into_iter().map(|t| (t.kind, t.value)).collect(),
            CompiledPattern::General(r) => panic!("{p}: general: {r}"),
        }
    }

    #[test]
    fn simple_comparisons() {
        assert_eq!(
            terms("[domain-name:value = 'Evil.COM.']"),
            vec![(K::Domain, "evil.com".into())]
        );
        assert_eq!(
            terms("[file:hashes.'SHA-256'='AA00000000000000000000000000000000000000000000000000000000000000']"),
            vec![(K::FileHash, format!("aa{}", "0".repeat(62)))]
        );
        assert_eq!(
            terms("[ipv4-addr:value ISSUBSET '10.0.0.0/8' OR url:value = 'http://x.org']"),
            vec![
                (K::Ipv4, "10.0.0.0/8".into()),
                (K::Url, "http://x.org/".into())
            ]
        );
        assert_eq!(
            terms(r"[process:name = 'it\'s']"),
            vec![(K::ProcessName, "it's".into())]
        );
        assert_eq!(
            terms("[domain-name:value = 'host.xyz/x']"),
            vec![(K::Url, "http://host.xyz/x".into())]
        );
        assert_eq!(
            terms("[domain-name:value = 'host.xyz/x']"),
            vec![(K::Url, "http://host.xyz/x".into())]
        );
    }

    #[test]
    fn richer_patterns_are_general() {
        for p in [
            "[file:name = 'a' AND file:size > 10]",
            "[domain-name:value = 'a.com'] AND [domain-name:value = 'b.com']",
            "[domain-name:value = 'a.com'] WITHIN 10 SECONDS",
            "[domain-name:value LIKE '%.a.com']",
            "[x-custom:value = 'a']",
        ] {
            assert!(
                matches!(compile_pattern(p), Ok(CompiledPattern::General(_))),
                "{p}"
            );
        }
        assert!(compile_pattern("[domain-name:value = 'a.com").is_err());
        assert!(compile_pattern("[file:hashes.MD5 = 'xyz']").is_err());
    }
}
