//! Literal helpers: timestamps, base64 and hex, and float spelling.

use std::fmt;

/// A `t'…'` timestamp as written (`2014-01-13T07:03:17Z`), always of the
/// grammar's shape; [`Timestamp::micros`] turns it into an instant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp(String);

impl Timestamp {
    /// Wraps the text between the quotes of a timestamp literal, if it has the
    /// grammar's shape (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`).
    pub fn new(text: &str) -> Option<Timestamp> {
        crate::lexer::timestamp_shape(text.as_bytes()).then(|| Timestamp(text.to_string()))
    }

    /// The timestamp text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Microseconds since 1970-01-01T00:00:00Z, or `None` if the text names
    /// no real instant (February 30th, second 60, year 0).
    pub fn micros(&self) -> Option<i64> {
        parse_timestamp_micros(&self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses an RFC 3339 UTC timestamp as STIX writes it
/// (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, upper-case `T` and `Z`) to
/// microseconds since the epoch. Digits past the sixth fractional one are
/// dropped, as the reference matcher does; year 0 names no instant there.
pub fn parse_timestamp_micros(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if !crate::lexer::timestamp_shape(b) || s.starts_with("0000") {
        return None;
    }
    // The grammar allows any number of fractional digits; the model keeps
    // nine, and only six of them count here.
    let parsed = match s.get(..29) {
        Some(head) if b.len() > 30 => vigil_stix::Timestamp::parse(&format!("{head}Z")),
        _ => vigil_stix::Timestamp::parse(s),
    };
    parsed.ok().map(|t| t.to_unix_micros())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_val(c: u8) -> Option<u32> {
    B64.iter().position(|x| *x == c).map(|p| p as u32)
}

/// Decodes padded standard base64 (the caller checked the alphabet and
/// length). Unused low bits of the last group are ignored, as Python does.
pub(crate) fn base64_decode(body: &[u8]) -> Option<Vec<u8>> {
    if body.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 4 * 3);
    for chunk in body.chunks(4) {
        let pad = chunk.iter().filter(|c| **c == b'=').count();
        let mut acc = 0u32;
        for &c in chunk {
            acc = acc << 6 | if c == b'=' { 0 } else { b64_val(c)? };
        }
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&bytes[..3 - pad.min(2)]);
    }
    Some(out)
}

/// Decodes base64 text as found in `*_bin` JSON properties: the standard
/// alphabet, `=` padding required.
pub fn base64_decode_str(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    if pad > 2 || !b[..b.len() - pad].iter().all(|c| b64_val(*c).is_some()) {
        return None;
    }
    base64_decode(b)
}

/// Encodes bytes as padded standard base64.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let mut buf = [0u8; 3];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u32::from(buf[0]) << 16 | u32::from(buf[1]) << 8 | u32::from(buf[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes hex text as found in `*_hex` JSON properties.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    b.chunks(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16)?;
            let lo = (p[1] as char).to_digit(16)?;
            Some((hi << 4 | lo) as u8)
        })
        .collect()
}

/// Encodes bytes as lower-case hex.
pub fn hex_encode(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Spells a float so that the grammar reads it back as the same value:
/// always with a decimal point, never with an exponent.
pub(crate) fn float_text(v: f64) -> String {
    if v.is_infinite() {
        // Only a literal too large for f64 parses to infinity; write one.
        let sign = if v < 0.0 { "-" } else { "" };
        return format!("{sign}1{}.0", "0".repeat(309));
    }
    let s = format!("{v}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// Whether `s` can be written as a bare (unquoted) path key.
pub(crate) fn is_bare_key(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && !crate::lexer::KEYWORDS.contains(&s)
}

/// Writes `s` as a pattern string literal, escaping `'` and `\`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp_micros as micros;

    #[test]
    fn timestamps_to_microseconds() {
        assert_eq!(micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(micros("2000-03-01T00:00:00.5Z"), Some(951_868_800_500_000));
        // Digits past the sixth are dropped, however many there are.
        assert_eq!(
            micros("2000-03-01T00:00:00.1234567890123Z"),
            Some(951_868_800_123_456)
        );
        assert_eq!(micros("1969-12-31T23:59:59.999999Z"), Some(-1));
        for none in [
            "2015-02-29T00:00:00Z",
            "2016-04-31T00:00:00Z",
            "2016-01-01T00:00:60Z",
            "0000-01-01T00:00:00Z",
            "2016-01-01t00:00:00Z",
        ] {
            assert_eq!(micros(none), None, "{none}");
        }
    }
}
