//! STIX/TAXII timestamps (`2016-11-02T12:34:34.123456Z`) to and from
//! microseconds since the Unix epoch.

/// Parses an RFC 3339 UTC timestamp as STIX writes it (`Z` suffix, optional
/// fraction of up to 9 digits, truncated to microseconds). Returns `None`
/// for anything else.
pub fn parse(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b.last() != Some(&b'Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || (b[10] != b'T' && b[10] != b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let rest = &b[19..b.len() - 1];
    let micros = match rest {
        [] => 0,
        [b'.', digits @ ..]
            if !digits.is_empty() && digits.len() <= 9 && digits.iter().all(u8::is_ascii_digit) =>
        {
            let mut v: i64 = 0;
            for i in 0..6 {
                v = v * 10 + digits.get(i).map(|d| i64::from(d - b'0')).unwrap_or(0);
            }
            v
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(((days * 86_400 + hour * 3600 + minute * 60 + second.min(59)) * 1_000_000) + micros)
}

/// Formats microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn format(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Now, in microseconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's algorithms for the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2000-03-01T00:00:00.5Z"), Some(951_868_800_500_000));
        assert_eq!(format(951_868_800_500_000), "2000-03-01T00:00:00.500000Z");
        assert_eq!(format(0), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn round_trip_and_rejects() {
        let t = parse("2016-11-02T12:34:34.123456Z").unwrap();
        assert_eq!(format(t), "2016-11-02T12:34:34.123456Z");
        for bad in [
            "",
            "2016-11-02",
            "2016-13-02T00:00:00Z",
            "2016-02-30T00:00:00Z",
            "2016-11-02T12:34:34+01:00",
            "2016-11-02T12:34:34.Z",
            "x016-11-02T12:34:34Z",
            "2016-11-02T12:34:34.1234567890Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
