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
/// dropped, as the reference matcher does.
pub fn parse_timestamp_micros(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if !crate::lexer::timestamp_shape(b) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> i64 {
        b[r].iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
    };
    let (year, month, day) = (num(0..4), num(5..7), num(8..10));
    let (hour, minute, second) = (num(11..13), num(14..16), num(17..19));
    if year == 0 || second > 59 || day > days_in_month(year, month) {
        return None;
    }
    let mut micros = 0i64;
    if b[19] == b'.' {
        let frac = &b[20..b.len() - 1];
        for k in 0..6 {
            micros = micros * 10 + frac.get(k).map_or(0, |d| i64::from(d - b'0'));
        }
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(secs * 1_000_000 + micros)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
