//! STIX/TAXII timestamps (`2016-11-02T12:34:34.123456Z`) to and from
//! microseconds since the Unix epoch.

use vigil_stix::Timestamp;

/// Parses a STIX timestamp (`Z` suffix, optional fraction of up to 9
/// digits, truncated to microseconds). Returns `None` for anything else.
pub fn parse(s: &str) -> Option<i64> {
    Timestamp::parse(s).ok().map(|t| t.to_unix_micros())
}

/// Formats microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`
/// (clamped to years 0000–9999).
pub fn format(micros: i64) -> String {
    match Timestamp::from_unix_micros(micros) {
        Some(t) => t.to_string(),
        None if micros < 0 => "0000-01-01T00:00:00.000000Z".into(),
        None => "9999-12-31T23:59:59.999999Z".into(),
    }
}

/// Now, in microseconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
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
        assert_eq!(format(i64::MAX), "9999-12-31T23:59:59.999999Z");
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
