//! Strict JSON parsing (duplicate keys are errors) and RFC 8785 canonical form.

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};

use crate::Error;

/// Why a strict parse failed, relative to the parsed slice.
#[derive(Debug)]
pub(crate) enum JsonError {
    Syntax { rel_offset: usize, message: String },
    Duplicate { pointer: String, key: String },
}

impl JsonError {
    /// Places the error in the input: `base` is the slice's offset, `index` the object index.
    pub(crate) fn at(self, base: u64, index: Option<usize>) -> Error {
        match self {
            JsonError::Syntax {
                rel_offset,
                message,
            } => Error::Syntax {
                index,
                offset: base + rel_offset as u64,
                message,
            },
            JsonError::Duplicate { pointer, key } => Error::DuplicateKey {
                index,
                offset: base,
                pointer,
                key,
            },
        }
    }
}

/// Parses one JSON value, rejecting duplicate keys anywhere in it.
pub(crate) fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let dup = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictValue { dup: &dup }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        Err(e) => match dup.into_inner() {
            Some((mut path, key)) => {
                path.reverse();
                let pointer = path.iter().fold(String::new(), |mut p, seg| {
                    p.push('/');
                    p.push_str(&seg.replace('~', "~0").replace('/', "~1"));
                    p
                });
                Err(JsonError::Duplicate { pointer, key })
            }
            None => Err(JsonError::Syntax {
                rel_offset: byte_offset(bytes, e.line(), e.column()),
                message: strip_position(&e.to_string()),
            }),
        },
    }
}

/// Parses a JSON document held in memory, rejecting duplicate keys (for single objects read whole).
pub fn from_slice_strict(bytes: &[u8]) -> Result<Value, Error> {
    parse_strict(bytes).map_err(|e| e.at(0, None))
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// serde_json reports 1-based lines and columns; turn them into a byte offset.
fn byte_offset(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match bytes[start..].iter().position(|&b| b == b'\n') {
            Some(p) => start += p + 1,
            None => break,
        }
    }
    (start + column.saturating_sub(1)).min(bytes.len())
}

/// Path (innermost first) and key of a duplicate, filled while the error unwinds.
type DupSlot = RefCell<Option<(Vec<String>, String)>>;

struct StrictValue<'a> {
    dup: &'a DupSlot,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            match seq.next_element_seed(StrictValue { dup: self.dup }) {
                Ok(Some(v)) => out.push(v),
                Ok(None) => return Ok(Value::Array(out)),
                Err(e) => {
                    if let Some((path, _)) = self.dup.borrow_mut().as_mut() {
                        path.push(out.len().to_string());
                    }
                    return Err(e);
                }
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match map.next_value_seed(StrictValue { dup: self.dup }) {
                Ok(v) => match out.entry(key) {
                    Entry::Vacant(slot) => {
                        slot.insert(v);
                    }
                    Entry::Occupied(slot) => {
                        *self.dup.borrow_mut() = Some((Vec::new(), slot.key().clone()));
                        return Err(serde::de::Error::custom("duplicate key"));
                    }
                },
                Err(e) => {
                    if let Some((path, _)) = self.dup.borrow_mut().as_mut() {
                        path.push(key);
                    }
                    return Err(e);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Serialises a JSON value in the RFC 8785 (JCS) canonical form.
///
/// Object members are sorted by the UTF-16 code units of their names, no
/// whitespace is written, strings use the minimal JSON escaping and numbers
/// the ECMAScript shortest form. STIX uses this form to derive deterministic
/// SCO identifiers.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(n: &serde_json::Number, out: &mut String) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(f) = n.as_f64() {
        out.push_str(&es_number(f));
    }
}

/// ECMAScript `Number.prototype.toString` for finite doubles.
fn es_number(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        return format!("{f:.0}");
    }
    // Shortest round-trip digits and exponent from Rust's `{:e}`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i32;
    let n = exp + 1;
    let sign = if f < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e = if e >= 0 {
            format!("+{e}")
        } else {
            e.to_string()
        };
        if k == 1 {
            format!("{digits}e{e}")
        } else {
            format!("{}.{}e{e}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn es_numbers_follow_rfc8785_examples() {
        // Examples from RFC 8785 Appendix B.
        let cases = [
            (0.0, "0"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (333333333.3333333, "333333333.3333333"),
            (4.5, "4.5"),
            (0.002, "0.002"),
            (1e23, "1e+23"),
            (-5e-324, "-5e-324"),
            (9007199254740992.0, "9007199254740992"),
        ];
        for (f, want) in cases {
            assert_eq!(es_number(f), want, "{f:e}");
        }
    }

    #[test]
    fn canonical_sorts_keys_by_utf16() {
        let v: Value = serde_json::from_str(
            r#"{"b":1,"a":[true,null],"\u00e9":"x","\ud83d\ude00":2,"\ufb01":3}"#,
        )
        .unwrap();
        // U+1F600 is a surrogate pair (0xD83D...) and sorts before U+FB01 in UTF-16.
        assert_eq!(
            canonical_json(&v),
            "{\"a\":[true,null],\"b\":1,\"é\":\"x\",\"😀\":2,\"ﬁ\":3}"
        );
    }
}
