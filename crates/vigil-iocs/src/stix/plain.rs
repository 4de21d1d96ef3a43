//! The properties this loader uses, read straight from the bytes of a plain object.
//!
//! A million indicators and a million relationships are almost all plain:
//! no escape in any string, each used property once and of the type it
//! should have. [`object`] reads those without serde, checking the whole
//! object against the JSON grammar on the way (a broken object must still be
//! reported as broken), and returns `None` at the first thing it does not
//! handle — serde then reads the object and words any problem. A unit test
//! holds it to serde's answer on every object of the shipped indicator sets
//! and on broken variants of them.

use std::borrow::Cow;

use super::Object;

/// Deepest nesting of unused values read here (deeper: serde's case).
const MAX_DEPTH: usize = 64;

/// The object, when `b` is exactly one plain JSON object.
pub(super) fn object(b: &[u8]) -> Option<Object<'_>> {
    if memchr::memchr(b'\\', b).is_some() {
        return None;
    }
    let text = std::str::from_utf8(b).ok()?;
    let mut r = Reader { s: text, i: 0 };
    let mut o = Object::default();
    let mut seen = 0u16;
    r.byte(b'{')?;
    r.ws();
    if r.peek()? != b'}' {
        loop {
            r.ws();
            let key = r.string()?;
            r.ws();
            r.byte(b':')?;
            r.ws();
            let bit = match key {
                "type" => 1,
                "id" => 2,
                "name" => 4,
                "pattern" => 8,
                "pattern_type" => 16,
                "revoked" => 32,
                "relationship_type" => 64,
                "source_ref" => 128,
                "target_ref" => 256,
                "object_refs" => 512,
                _ => 0,
            };
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            match key {
                "type" => o.kind = r.cow()?,
                "id" => o.id = r.cow()?,
                "name" => o.name = Some(r.cow()?),
                "pattern" => o.pattern = Some(r.cow()?),
                "pattern_type" => o.pattern_type = Some(r.cow()?),
                "relationship_type" => o.relationship_type = Some(r.cow()?),
                "source_ref" => o.source_ref = Some(r.cow()?),
                "target_ref" => o.target_ref = Some(r.cow()?),
                "revoked" => {
                    o.revoked = if r.literal("true") {
                        true
                    } else if r.literal("false") {
                        false
                    } else {
                        return None;
                    }
                }
                "object_refs" => o.object_refs = r.strings()?,
                _ => r.skip(0)?,
            }
            r.ws();
            match r.next()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
    } else {
        r.i += 1;
    }
    // The object ends the element.
    (r.i == b.len()).then_some(o)
}

struct Reader<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn byte(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// JSON's four blanks (not every ASCII blank).
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &str) -> bool {
        let hit = self.s.as_bytes()[self.i..].starts_with(word.as_bytes());
        if hit {
            self.i += word.len();
        }
        hit
    }

    /// A string without escapes (the caller made sure there are none) or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.byte(b'"')?;
        let body = &self.s.as_bytes()[self.i..];
        let end = memchr::memchr(b'"', body)?;
        if body[..end].iter().any(|c| *c < 0x20) {
            return None;
        }
        let v = self.s.get(self.i..self.i + end)?;
        self.i += end + 1;
        Some(v)
    }

    fn cow(&mut self) -> Option<Cow<'a, str>> {
        self.string().map(Cow::Borrowed)
    }

    /// An array of strings.
    fn strings(&mut self) -> Option<Vec<Cow<'a, str>>> {
        self.byte(b'[')?;
        let mut out = Vec::new();
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(out);
        }
        loop {
            self.ws();
            out.push(Cow::Borrowed(self.string()?));
            self.ws();
            match self.next()? {
                b',' => continue,
                b']' => return Some(out),
                _ => return None,
            }
        }
    }

    /// Skips one value, checking it against the grammar.
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let close = if self.next()? == b'{' { b'}' } else { b']' };
                self.ws();
                if self.peek()? == close {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.ws();
                    if close == b'}' {
                        self.string()?;
                        self.ws();
                        self.byte(b':')?;
                        self.ws();
                    }
                    self.skip(depth + 1)?;
                    self.ws();
                    match self.next()? {
                        b',' => continue,
                        c if c == close => return Some(()),
                        _ => return None,
                    }
                }
            }
            b't' => self.literal("true").then_some(()),
            b'f' => self.literal("false").then_some(()),
            b'n' => self.literal("null").then_some(()),
            _ => self.number(),
        }
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        let digits = |r: &mut Self| {
            let start = r.i;
            while r.peek().is_some_and(|c| c.is_ascii_digit()) {
                r.i += 1;
            }
            r.i > start
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !digits(self) {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde(b: &[u8]) -> Option<Object<'_>> {
        serde_json::from_slice(b).ok()
    }

    /// Plain gives serde's object whenever it gives one, and nothing where serde fails.
    fn agree(b: &[u8]) -> bool {
        match object(b) {
            Some(o) => {
                assert_eq!(
                    Some(&o),
                    serde(b).as_ref(),
                    "{}",
                    String::from_utf8_lossy(b)
                );
                true
            }
            None => false,
        }
    }

    fn elements(bundle: &[u8]) -> Vec<Vec<u8>> {
        let path = std::path::Path::new("t.json");
        let mut sp = super::super::Splitter::new(path, bundle);
        let mut out = Vec::new();
        if sp.start().is_err() {
            return out;
        }
        while let Ok(Some(block)) = sp.next_block() {
            for e in &block.elements {
                out.push(block.bytes[e.start..e.end].to_vec());
            }
        }
        out
    }

    fn variants(e: &[u8]) -> Vec<Vec<u8>> {
        let t = String::from_utf8_lossy(e).into_owned();
        let mut v: Vec<String> = vec![
            t[..t.len() / 2].to_string(),
            t.replacen("\"id\":", "\"id\":\"x\",\"id\":", 1),
            t.replacen("\"type\":", "\"type\":7,\"other\":", 1),
            t.replacen("{", "{\"revoked\":true,", 1),
            t.replacen("{", "{\"revoked\":\"yes\",", 1),
            t.replacen("{", "{\"name\":null,", 1),
            t.replacen("{", "{\"x\":[1,-0.5e+3,{\"y\":null}],\"z\":01,", 1),
            t.replacen("{", "{\"x\":[1,-0.5e+3,{\"y\":false}],\"z\":10,", 1),
            t.replacen("{", "{\"x\":1.,", 1),
            t.replacen("{", "{\"x\":\"a\tb\",", 1),
            t.replacen("{", "{\"x\":\"a\\\"b\",", 1),
            t.replacen("{", "{\u{c}\"x\":2,", 1),
            t.replacen("{", "{\"object_refs\":[\"a\", \"b\" ],", 1),
            t.replacen("{", "{\"object_refs\":[\"a\",],", 1),
            t.replacen("{", "{\"Type\":\"a\",", 1),
            format!("{t} "),
            format!(" {t}"),
            t.replacen(",", ",,", 1),
            t.replacen("\"", "", 1),
        ];
        v.dedup();
        v.into_iter().map(String::into_bytes).collect()
    }

    #[test]
    fn gives_what_serde_gives_on_every_shipped_object_and_broken_variants() {
        let dir = vigil_testkit::workspace_root().join("data/indicators");
        let mut files = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if matches!(
                    p.extension().and_then(|x| x.to_str()),
                    Some("stix2" | "json")
                ) {
                    files.push(p);
                }
            }
        }
        let (mut objects, mut plain) = (0, 0);
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            for e in elements(&bytes) {
                objects += 1;
                plain += usize::from(agree(&e));
                for v in variants(&e) {
                    agree(&v);
                }
            }
        }
        assert!(
            objects > 1000,
            "only {objects} objects in {} files",
            files.len()
        );
        // Real feeds are plain nearly throughout: the fast reader must be the one used.
        assert!(
            plain * 10 > objects * 9,
            "{plain} of {objects} read plainly"
        );
    }
}
