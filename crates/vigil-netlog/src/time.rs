//! Timestamps at the start of log lines and in Zeek fields.

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    s.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// Parses `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±HH[:]MM]` at the start of `b`.
/// Without a zone the time is read as UTC.
pub(crate) fn parse_iso(b: &[u8]) -> Option<i64> {
    let (y, mo, d) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b' '))
    {
        return None;
    }
    let (h, mi, s) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let mut scale = 100_000;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            micros += i64::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let mut offset = 0i64;
    if let Some(sign @ (b'+' | b'-')) = b.get(i) {
        {
            let oh = digits(b, i + 1, 2)?;
            let om_at = if b.get(i + 3) == Some(&b':') {
                i + 4
            } else {
                i + 3
            };
            let om = digits(b, om_at, 2).unwrap_or(0);
            offset = (oh * 60 + om) * 60 * if *sign == b'+' { 1 } else { -1 };
        }
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset;
    Some(secs * 1_000_000 + micros)
}

/// Parses epoch seconds with an optional fraction (`1700000000.123456`) at the start of `b`.
pub(crate) fn parse_epoch(b: &[u8]) -> Option<i64> {
    let mut i = 0;
    let mut secs = 0i64;
    while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
        secs = secs.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
        i += 1;
    }
    // Nine to ten digits: 2001 to 2286; anything else is not an epoch time.
    if !(9..=10).contains(&i) {
        return None;
    }
    let mut micros = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100_000;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            micros += i64::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    match b.get(i) {
        None | Some(b' ' | b'\t' | b',' | b';') => Some(secs * 1_000_000 + micros),
        _ => None,
    }
}

/// A timestamp at the start of a log line (after an optional `[` or `"`), if one is there.
pub(crate) fn leading_timestamp(line: &[u8]) -> Option<i64> {
    let b = match line.first() {
        Some(b'[' | b'"' | b'<') => &line[1..],
        _ => line,
    };
    parse_iso(b).or_else(|| parse_epoch(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_epoch() {
        // 2021-07-18T12:00:00Z is 1626609600.
        assert_eq!(
            parse_iso(b"2021-07-18T12:00:00Z x"),
            Some(1_626_609_600_000_000)
        );
        assert_eq!(
            parse_iso(b"2021-07-18 14:00:00.5+02:00"),
            Some(1_626_609_600_500_000)
        );
        assert_eq!(
            parse_epoch(b"1626609600.25\tx"),
            Some(1_626_609_600_250_000)
        );
        assert_eq!(
            leading_timestamp(b"[2021-07-18T12:00:00Z] GET"),
            Some(1_626_609_600_000_000)
        );
        assert_eq!(parse_epoch(b"12345 x"), None);
        assert_eq!(parse_iso(b"2021-13-18T12:00:00Z"), None);
        assert_eq!(leading_timestamp(b"hello"), None);
    }
}
