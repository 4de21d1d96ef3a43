//! Reduces a STIX pattern to the terms the per-kind matchers look up.
//!
//! Real indicator feeds are almost entirely single comparisons
//! (`[domain-name:value = 'evil.com']`), and loading a million of them must
//! take well under two seconds, so that shape — and ORs of it inside one
//! observation — is read directly here. Anything richer is a pattern for the
//! general evaluator: the indicator keeps the reason, and the scanner reports
//! it as not reducible to a lookup.

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
    let mut p = Cursor {
        s: pattern.as_bytes(),
        i: 0,
    };
    p.ws();
    if !p.eat(b'[') {
        return Ok(general(pattern));
    }
    let mut terms = Vec::new();
    loop {
        p.ws();
        let Some((object_type, path)) = p.object_path() else {
            return Ok(general(pattern));
        };
        p.ws();
        let op_is_subset = if p.eat(b'=') {
            false
        } else if p.keyword("ISSUBSET") {
            true
        } else {
            return Ok(general(pattern));
        };
        p.ws();
        let Some(value) = p.string()? else {
            return Ok(general(pattern));
        };
        let Some(mut kind) = kind_for_path(object_type, &path) else {
            return Ok(CompiledPattern::General(format!(
                "{object_type}:{path} is not a property any reader produces"
            )));
        };
        let is_ip = matches!(
            kind,
            vigil_artefact::ObservableKind::Ipv4 | vigil_artefact::ObservableKind::Ipv6
        );
        if op_is_subset && !is_ip {
            return Ok(general(pattern));
        }
        // Some feeds put a URL path in a domain field ('host.xyz/x'); keep it as the URL it is.
        if kind == vigil_artefact::ObservableKind::Domain && value.contains('/') {
            kind = vigil_artefact::ObservableKind::Url;
        }
        let value =
            normalise_term(kind, &value).map_err(|e| format!("{object_type}:{path}: {e}"))?;
        terms.push(Term { kind, value });
        p.ws();
        if p.keyword("OR") {
            continue;
        }
        if p.eat(b']') {
            break;
        }
        return Ok(general(pattern));
    }
    p.ws();
    if p.i != p.s.len() {
        return Ok(general(pattern));
    }
    Ok(CompiledPattern::Terms(terms))
}

fn general(pattern: &str) -> CompiledPattern {
    let shape = if pattern.contains(" AND ") {
        "AND of comparisons"
    } else if pattern.contains("] ") || pattern.contains(")") {
        "several observations or qualifiers"
    } else {
        "operators other than = and ISSUBSET"
    };
    CompiledPattern::General(format!("pattern uses {shape}"))
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
    fn object_path(&mut self) -> Option<(&'a str, String)> {
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
        let mut path = String::new();
        loop {
            match self.s.get(self.i) {
                Some(b'\'') => {
                    self.i += 1;
                    let q = self.i;
                    while self.s.get(self.i).is_some_and(|b| *b != b'\'') {
                        self.i += 1;
                    }
                    path.push_str(std::str::from_utf8(&self.s[q..self.i]).ok()?);
                    if !self.eat(b'\'') {
                        return None;
                    }
                }
                Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') => {
                    path.push(*b as char);
                    self.i += 1;
                }
                Some(b'[') => return None, // list index: general evaluator
                _ => break,
            }
        }
        (!path.is_empty()).then_some((object_type, path))
    }

    /// A quoted string literal, unescaping `\'` and `\\`.
    fn string(&mut self) -> Result<Option<String>, String> {
        if !self.eat(b'\'') {
            return Ok(None);
        }
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err(format!("unterminated string at column {}", self.i + 1)),
                Some(b'\\') => {
                    match self.s.get(self.i + 1) {
                        Some(c @ (b'\'' | b'\\')) => out.push(*c),
                        _ => {
                            return Err(format!("invalid escape at column {}", self.i + 1));
                        }
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
        String::from_utf8(out)
            .map(Some)
            .map_err(|_| "string is not UTF-8".to_string())
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
