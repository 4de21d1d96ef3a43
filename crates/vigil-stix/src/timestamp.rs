//! STIX timestamps: RFC 3339 in UTC with a `Z`, sub-second precision tracked.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// A STIX timestamp (STIX 2.1 §3.2): `YYYY-MM-DDTHH:MM:SS[.s+]Z`, always UTC.
///
/// The number of fractional digits as written is kept ([`Timestamp::fraction_digits`]),
/// so formatting gives back the text that was parsed (`…00.100Z` stays
/// `…00.100Z`). Up to nine fractional digits (nanoseconds) are accepted.
///
/// Equality, hashing and ordering compare the instant only:
/// `2020-01-01T00:00:00Z` equals `2020-01-01T00:00:00.000Z`.
#[derive(Clone, Copy)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
    digits: u8,
}

/// Sub-second precision of a timestamp, named as STIX does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    /// No fractional part.
    Second,
    /// One or two fractional digits.
    SubMillisecond,
    /// Exactly three fractional digits.
    Millisecond,
    /// Four to six fractional digits.
    Microsecond,
    /// Seven to nine fractional digits.
    Nanosecond,
}

impl Timestamp {
    /// Parses a STIX timestamp.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let fail = |reason: &str| Error::InvalidTimestamp {
            value: text.to_owned(),
            reason: reason.to_owned(),
        };
        let b = text.as_bytes();
        if b.len() < 20 {
            return Err(fail("too short for YYYY-MM-DDTHH:MM:SSZ"));
        }
        let num = |range: std::ops::Range<usize>, what: &str| -> Result<u32, Error> {
            let part = &b[range];
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(fail(&format!("{what} is not a number")));
            }
            Ok(part.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
        };
        let year = num(0..4, "year")?;
        let month = num(5..7, "month")?;
        let day = num(8..10, "day")?;
        let hour = num(11..13, "hour")?;
        let minute = num(14..16, "minute")?;
        let second = num(17..19, "second")?;
        if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
            return Err(fail("expected YYYY-MM-DDTHH:MM:SS"));
        }
        if b[10] != b'T' {
            return Err(fail("expected 'T' between date and time"));
        }
        if !(1..=12).contains(&month) {
            return Err(fail("month out of range"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(fail("day out of range for the month"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(fail("time of day out of range"));
        }
        let rest = &b[19..];
        let (frac, tail) = match rest.first() {
            Some(b'.') => {
                let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                (&rest[1..1 + digits], &rest[1 + digits..])
            }
            _ => (&rest[..0], rest),
        };
        if rest.first() == Some(&b'.') && frac.is_empty() {
            return Err(fail("'.' must be followed by at least one digit"));
        }
        if frac.len() > 9 {
            return Err(fail("more than 9 fractional digits"));
        }
        match tail {
            b"Z" => {}
            b"z" => return Err(fail("the UTC designator must be an uppercase 'Z'")),
            [] => return Err(fail("missing the 'Z' (UTC) suffix")),
            [b'+' | b'-', ..] => {
                return Err(fail("must be in UTC with a 'Z' suffix, not an offset"))
            }
            _ => return Err(fail("unexpected characters after the time")),
        }
        let mut nanos = frac.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        for _ in frac.len()..9 {
            nanos *= 10;
        }
        let days = days_from_civil(i64::from(year), month, day);
        let secs =
            days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
        Ok(Timestamp {
            secs,
            nanos,
            digits: frac.len() as u8,
        })
    }

    /// A timestamp from Unix seconds and nanoseconds, written with `digits` fractional digits (0–9).
    ///
    /// Nanoseconds beyond the requested precision are truncated. Returns
    /// `None` outside years 0000–9999 or for `digits > 9`.
    pub fn from_unix(secs: i64, nanos: u32, digits: u8) -> Option<Self> {
        const MIN: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
        const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
        if !(MIN..=MAX).contains(&secs) || digits > 9 || nanos >= 1_000_000_000 {
            return None;
        }
        let unit = 10u32.pow(9 - u32::from(digits));
        Some(Timestamp {
            secs,
            nanos: nanos / unit * unit,
            digits,
        })
    }

    /// A timestamp from microseconds since the Unix epoch, written with six fractional digits.
    ///
    /// Returns `None` outside years 0000–9999.
    pub fn from_unix_micros(micros: i64) -> Option<Self> {
        let nanos = micros.rem_euclid(1_000_000) as u32 * 1000;
        Self::from_unix(micros.div_euclid(1_000_000), nanos, 6)
    }

    /// Microseconds since the Unix epoch; digits finer than a microsecond are dropped
    /// (truncated towards the past, as the reference tools do).
    pub fn to_unix_micros(&self) -> i64 {
        self.secs * 1_000_000 + i64::from(self.nanos / 1000)
    }

    /// The current time, with millisecond precision as STIX wants for `created`/`modified`.
    pub fn now() -> Self {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        // The clock is within years 0000-9999, so this cannot fail; fall back to the epoch.
        Self::from_unix(d.as_secs() as i64, d.subsec_nanos(), 3).unwrap_or(Timestamp {
            secs: 0,
            nanos: 0,
            digits: 3,
        })
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// How many fractional digits the timestamp was written with (0–9).
    pub fn fraction_digits(&self) -> u8 {
        self.digits
    }

    /// The precision class of the written form.
    pub fn precision(&self) -> Precision {
        match self.digits {
            0 => Precision::Second,
            1 | 2 => Precision::SubMillisecond,
            3 => Precision::Millisecond,
            4..=6 => Precision::Microsecond,
            _ => Precision::Nanosecond,
        }
    }

    /// Whether the timestamp meets the rule for `created` and `modified`:
    /// precise to at least the millisecond (three or more fractional digits).
    pub fn has_millisecond_precision(&self) -> bool {
        self.digits >= 3
    }

    /// The same instant written with `digits` fractional digits (truncating extra precision).
    pub fn with_fraction_digits(self, digits: u8) -> Option<Self> {
        Self::from_unix(self.secs, self.nanos, digits)
    }

    /// The smallest timestamp with this precision that is strictly later than `self`.
    pub fn next_tick(self) -> Option<Self> {
        let unit = 10u32.pow(9 - u32::from(self.digits));
        let nanos = self.nanos + unit;
        if nanos >= 1_000_000_000 {
            Self::from_unix(self.secs + 1, nanos - 1_000_000_000, self.digits)
        } else {
            Self::from_unix(self.secs, nanos, self.digits)
        }
    }
}

fn is_leap(year: u32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let tod = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            tod / 3600,
            tod % 3600 / 60,
            tod % 60
        )?;
        if self.digits > 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", &frac[..usize::from(self.digits)])?;
        }
        f.write_str("Z")
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        (self.secs, self.nanos) == (other.secs, other.nanos)
    }
}

impl Eq for Timestamp {}

impl Hash for Timestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.secs, self.nanos).hash(state);
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.secs, self.nanos).cmp(&(other.secs, other.nanos))
    }
}

impl FromStr for Timestamp {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}
