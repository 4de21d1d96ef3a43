use vigil_stix::{Precision, Timestamp};

#[test]
fn keeps_the_written_precision() {
    for text in [
        "2016-05-12T08:17:27Z",
        "2016-05-12T08:17:27.1Z",
        "2016-05-12T08:17:27.000Z",
        "2016-05-12T08:17:27.120Z",
        "2016-05-12T08:17:27.123456Z",
        "2016-05-12T08:17:27.123456789Z",
        "2000-02-29T23:59:59.999Z",
        "1970-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
    ] {
        let ts = Timestamp::parse(text).unwrap();
        assert_eq!(ts.to_string(), text);
    }
}

#[test]
fn precision_classes_and_millisecond_rule() {
    let p = |s: &str| Timestamp::parse(s).unwrap();
    assert_eq!(p("2016-05-12T08:17:27Z").precision(), Precision::Second);
    assert_eq!(
        p("2016-05-12T08:17:27.000Z").precision(),
        Precision::Millisecond
    );
    assert_eq!(
        p("2016-05-12T08:17:27.000001Z").precision(),
        Precision::Microsecond
    );
    assert!(!p("2016-05-12T08:17:27Z").has_millisecond_precision());
    assert!(!p("2016-05-12T08:17:27.1Z").has_millisecond_precision());
    assert!(p("2016-05-12T08:17:27.100Z").has_millisecond_precision());
    assert!(p("2016-05-12T08:17:27.123456Z").has_millisecond_precision());
}

#[test]
fn unix_time_matches_known_instants() {
    // 2016-05-12T08:17:27Z is 1463041047 (date -u -d @1463041047).
    let ts = Timestamp::parse("2016-05-12T08:17:27.5Z").unwrap();
    assert_eq!(ts.unix_seconds(), 1_463_041_047);
    assert_eq!(ts.subsec_nanos(), 500_000_000);
    assert_eq!(
        Timestamp::parse("1969-12-31T23:59:59Z")
            .unwrap()
            .unix_seconds(),
        -1
    );
}

#[test]
fn ordering_compares_instants() {
    let a = Timestamp::parse("2020-01-01T00:00:00Z").unwrap();
    let b = Timestamp::parse("2020-01-01T00:00:00.000Z").unwrap();
    let c = Timestamp::parse("2020-01-01T00:00:00.001Z").unwrap();
    let d = Timestamp::parse("2019-12-31T23:59:59.999999Z").unwrap();
    assert_eq!(a, b);
    assert!(b < c);
    assert!(d < a);
    assert_eq!(
        c.next_tick().unwrap().to_string(),
        "2020-01-01T00:00:00.002Z"
    );
    let end = Timestamp::parse("2020-12-31T23:59:59.999Z").unwrap();
    assert_eq!(
        end.next_tick().unwrap().to_string(),
        "2021-01-01T00:00:00.000Z"
    );
}

#[test]
fn rejects_non_utc_and_malformed() {
    for bad in [
        "2016-05-12T08:17:27",
        "2016-05-12T08:17:27+00:00",
        "2016-05-12T08:17:27z",
        "2016-05-12 08:17:27Z",
        "2016-13-12T08:17:27Z",
        "2015-02-29T08:17:27Z",
        "2016-05-12T24:00:00Z",
        "2016-05-12T08:17:27.Z",
        "2016-05-12T08:17:27.1234567890Z",
        "2016-05-12T08:17:27ZZ",
        "16-05-12T08:17:27Z",
        "２016-05-12T08:17:27Z",
    ] {
        let err = Timestamp::parse(bad).expect_err(bad);
        assert!(
            err.to_string().contains(bad),
            "error names the value: {err}"
        );
    }
}

#[test]
fn now_has_millisecond_precision() {
    let now = Timestamp::now();
    assert_eq!(now.fraction_digits(), 3);
    assert!(now > Timestamp::parse("2024-01-01T00:00:00Z").unwrap());
}

#[test]
fn unix_microseconds_both_ways() {
    // 2000-03-01T00:00:00.5Z is 951868800.5 s after the epoch.
    let t = Timestamp::parse("2000-03-01T00:00:00.5Z").unwrap();
    assert_eq!(t.to_unix_micros(), 951_868_800_500_000);
    let back = Timestamp::from_unix_micros(951_868_800_500_000).unwrap();
    assert_eq!(back.to_string(), "2000-03-01T00:00:00.500000Z");
    assert_eq!(back, t);
    // Before the epoch the fraction still counts forwards from the second.
    let early = Timestamp::from_unix_micros(-1).unwrap();
    assert_eq!(early.to_string(), "1969-12-31T23:59:59.999999Z");
    assert_eq!(early.to_unix_micros(), -1);
    // Nanoseconds are truncated, not rounded.
    let fine = Timestamp::parse("2016-11-02T12:34:34.123456789Z").unwrap();
    assert_eq!(
        Timestamp::from_unix_micros(fine.to_unix_micros())
            .unwrap()
            .to_string(),
        "2016-11-02T12:34:34.123456Z"
    );
    assert!(Timestamp::from_unix_micros(i64::MAX).is_none());
    assert!(Timestamp::from_unix_micros(i64::MIN).is_none());
}
