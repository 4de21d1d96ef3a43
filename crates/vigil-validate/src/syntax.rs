//! Lexical rules of STIX 2.1: identifiers, timestamps, type and property
//! names, binary and hex strings. Small hand-written matchers, no regex.

use std::cmp::Ordering;

/// A parsed identifier `type--uuid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ident<'a> {
    pub(crate) ty: &'a str,
    pub(crate) uuid_version: u8,
}

/// Parses an identifier: a type name, `--`, then an RFC 4122 UUID of
/// version 1–5 with the RFC 4122 variant (section 2.9).
pub(crate) fn identifier(s: &str) -> Option<Ident<'_>> {
    // The UUID is the last 36 bytes and contains no "--", so the separator
    // is the two bytes before it (the same split as at the last "--").
    let split = s.len().checked_sub(38)?;
    if s.as_bytes()[split..split + 2] != *b"--" {
        return None;
    }
    let (ty, uuid) = (s.get(..split)?, s.get(split + 2..)?);
    if !identifier_type(ty) {
        return None;
    }
    let version = uuid_v(uuid)?;
    Some(Ident {
        ty,
        uuid_version: version,
    })
}

fn identifier_type(ty: &str) -> bool {
    let b = ty.as_bytes();
    b.len() >= 3
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

/// Returns the UUID version (1–5) when `s` is a canonical UUID with the RFC 4122 variant.
fn uuid_v(s: &str) -> Option<u8> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    for (i, c) in b.iter().enumerate() {
        let dash = matches!(i, 8 | 13 | 18 | 23);
        if dash != (*c == b'-') || (!dash && !c.is_ascii_hexdigit()) {
            return None;
        }
    }
    let version = b[14];
    if !(b'1'..=b'5').contains(&version) {
        return None;
    }
    if !matches!(b[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B') {
        return None;
    }
    Some(version - b'0')
}

/// Whether `s` is a valid object type name (section 2.14/3.1): lowercase
/// ASCII letters, digits and single hyphens, starting with a letter, 3 to 250
/// characters.
pub(crate) fn type_name(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=250).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !s.contains("--")
}

/// Whether `s` is a valid property name (section 3.1): lowercase ASCII
/// letters, digits and underscore, starting with a letter, 3 to 250
/// characters; `id` is the one shorter name the specification itself defines.
pub(crate) fn property_name(s: &str) -> bool {
    if s == "id" {
        return true;
    }
    let b = s.as_bytes();
    (3..=250).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// How precise a valid timestamp is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Precision {
    /// Number of digits after the decimal point (0 when there is none).
    pub(crate) fraction_digits: usize,
}

/// Checks an RFC 3339 timestamp in UTC with `Z` (section 3.2,
/// "timestamp"), including the calendar (no 30 February).
pub(crate) fn timestamp(s: &str) -> Result<Precision, &'static str> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return Err("too short for YYYY-MM-DDTHH:MM:SSZ");
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    };
    let shape = b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':';
    let (Some(year), Some(month), Some(day), Some(hour), Some(min), Some(sec)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return Err("not of the form YYYY-MM-DDTHH:MM:SS[.s+]Z");
    };
    if !shape {
        return Err("not of the form YYYY-MM-DDTHH:MM:SS[.s+]Z");
    }
    if b[b.len() - 1] != b'Z' {
        return Err("must end with 'Z' (UTC)");
    }
    let fraction = &b[19..b.len() - 1];
    let fraction_digits = match fraction.split_first() {
        None => 0,
        Some((b'.', rest)) if !rest.is_empty() && rest.iter().all(u8::is_ascii_digit) => rest.len(),
        _ => return Err("fractional seconds must be '.' followed by digits"),
    };
    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days {
        return Err("day out of range for the month");
    }
    if hour > 23 || min > 59 || sec > 60 {
        return Err("time of day out of range");
    }
    Ok(Precision { fraction_digits })
}

/// Compares two valid timestamps chronologically.
pub(crate) fn compare_timestamps(a: &str, b: &str) -> Ordering {
    let (ha, fa) = split_fraction(a);
    let (hb, fb) = split_fraction(b);
    ha.cmp(hb).then_with(|| {
        // Fractions compare as if padded with zeros to the same length.
        let (fa, fb) = (fa.as_bytes(), fb.as_bytes());
        (0..fa.len().max(fb.len()))
            .map(|i| {
                let digit = |f: &[u8]| f.get(i).copied().unwrap_or(b'0');
                digit(fa).cmp(&digit(fb))
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    })
}

fn split_fraction(s: &str) -> (&str, &str) {
    let body = s.strip_suffix('Z').unwrap_or(s);
    match body.split_once('.') {
        Some((head, frac)) => (head, frac),
        None => (body, ""),
    }
}

/// Whether `s` is base64 (RFC 4648 with padding).
pub(crate) fn base64(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b.len() % 4 != 0 {
        return false;
    }
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// Whether `s` is a non-empty even-length hex string.
pub(crate) fn hex(s: &str) -> bool {
    !s.is_empty() && s.len() % 2 == 0 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Whether `s` looks like an absolute URI: `scheme:` and something after it.
pub(crate) fn uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let sb = scheme.as_bytes();
    !sb.is_empty()
        && sb[0].is_ascii_alphabetic()
        && sb
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
        && !rest.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether `s` is shaped like an RFC 5646 language tag (e.g. `en`, `pt-BR`).
pub(crate) fn language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let Some(primary) = parts.next() else {
        return false;
    };
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_alphanumeric()))
}

/// Whether `s` is a simple e-mail address `local@domain.tld`.
pub(crate) fn email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let Some((host, tld)) = domain.split_once('.') else {
        return false;
    };
    !local.is_empty()
        && local
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'+' | b'-'))
        && !host.is_empty()
        && host.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        && !tld.is_empty()
        && tld
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(identifier("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").is_some());
        assert!(identifier("indicator--8e2e2d2b-17d4-6cbf-938f-98ee46b3cd3f").is_none());
        assert!(identifier("indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f").is_none());
        assert!(identifier("Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").is_none());
        assert!(identifier("indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").is_none());
        assert!(identifier("indicator---8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").is_none());
        assert!(identifier("indicatorß--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").is_none());
        assert!(identifier("x--y").is_none());
        assert!(identifier("").is_none());
        let two = identifier("x-a--b--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
        assert_eq!(two.map(|i| i.ty), Some("x-a--b"), "split at the last '--'");
        let ok = identifier("x-a-b--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f").unwrap();
        assert_eq!((ok.ty, ok.uuid_version), ("x-a-b", 5));
    }

    #[test]
    fn timestamps() {
        assert!(timestamp("2016-04-06T20:03:48.000Z").is_ok());
        assert!(timestamp("2016-02-29T20:03:48Z").is_ok());
        assert!(timestamp("2015-02-29T20:03:48Z").is_err());
        assert!(timestamp("2016-04-06 20:03:48Z").is_err());
        assert!(timestamp("2016-04-06T20:03:48+00:00").is_err());
        assert!(timestamp("2016-04-06T20:03:48.Z").is_err());
        assert_eq!(
            compare_timestamps("2016-04-06T20:03:48.1Z", "2016-04-06T20:03:48.100Z"),
            Ordering::Equal
        );
        assert_eq!(
            compare_timestamps("2016-04-06T20:03:48Z", "2016-04-06T20:03:48.001Z"),
            Ordering::Less
        );
    }
}
