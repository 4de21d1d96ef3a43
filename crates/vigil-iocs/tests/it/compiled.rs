//! The compiled form of a set: read back, it answers every lookup as the
//! matcher built from the file does; stale or damaged bytes are refused with
//! an error, never a panic.

use std::path::Path;

use vigil_iocs::{
    load_bytes, load_path, CompiledError, Hit, IndicatorSet, Matcher, ObservableKind as K,
    SourceStamp,
};

const STAMP: SourceStamp = SourceStamp {
    size: 1234,
    modified_ns: 99,
    sample: 7,
};

/// A list touching every table: names, URLs, addresses and ranges, hashes, paths, processes, ids.
fn mixed() -> IndicatorSet {
    let stix = r#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4f1c-9f1c-000000000001","objects":[
      {"type":"malware","spec_version":"2.1","id":"malware--5d0092c5-5f74-4f1c-9f1c-000000000002","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","name":"Predator","is_family":true},
      {"type":"indicator","spec_version":"2.1","id":"indicator--5d0092c5-5f74-4f1c-9f1c-000000000003","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'evil.com' OR url:value = 'https://x.example/a?b=1']","pattern_type":"stix","valid_from":"2021-01-01T00:00:00Z"},
      {"type":"indicator","spec_version":"2.1","id":"indicator--5d0092c5-5f74-4f1c-9f1c-000000000004","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.1.0.0/16'] OR [ipv6-addr:value = '2001:db8::/32'] OR [ipv4-addr:value = '192.0.2.7']","pattern_type":"stix","valid_from":"2021-01-01T00:00:00Z"},
      {"type":"indicator","spec_version":"2.1","id":"indicator--5d0092c5-5f74-4f1c-9f1c-000000000005","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","pattern":"[file:hashes.'SHA-256' = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'] OR [file:path = '/private/var/db/bad/'] OR [file:name = 'roleaccountd']","pattern_type":"stix","valid_from":"2021-01-01T00:00:00Z"},
      {"type":"indicator","spec_version":"2.1","id":"indicator--5d0092c5-5f74-4f1c-9f1c-000000000006","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","pattern":"[process:name = 'com.apple.bhd.agentx'] OR [app:id = 'com.evil.app'] OR [email-addr:value = 'x@evil.com']","pattern_type":"stix","valid_from":"2021-01-01T00:00:00Z"},
      {"type":"indicator","spec_version":"2.1","id":"indicator--5d0092c5-5f74-4f1c-9f1c-000000000007","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'sub.evil.com']","pattern_type":"stix","valid_from":"2021-01-01T00:00:00Z"},
      {"type":"indicator","spec_version":"2.1","id":"indicator--5d0092c5-5f74-4f1c-9f1c-000000000008","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","pattern":"[domain-name:value LIKE '%.bad.net']","pattern_type":"stix","valid_from":"2021-01-01T00:00:00Z"},
      {"type":"indicator","spec_version":"2.1","id":"indicator--5d0092c5-5f74-4f1c-9f1c-000000000009","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","pattern":"[domain-name:value = ","pattern_type":"stix","valid_from":"2021-01-01T00:00:00Z"},
      {"type":"relationship","spec_version":"2.1","id":"relationship--5d0092c5-5f74-4f1c-9f1c-00000000000a","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","relationship_type":"indicates","source_ref":"indicator--5d0092c5-5f74-4f1c-9f1c-000000000003","target_ref":"malware--5d0092c5-5f74-4f1c-9f1c-000000000002"}
    ]}"#;
    load_bytes(Path::new("mixed.stix2"), stix.as_bytes()).expect("loads")
}

/// Observed values of every kind, hits and misses.
const PROBES: &[(K, &str)] = &[
    (K::Domain, "evil.com"),
    (K::Domain, "a.sub.evil.com"),
    (K::Domain, "notevil.com"),
    (K::Domain, "10.1.2.3"),
    (K::Url, "https://x.example/a?b=1"),
    (K::Url, "http://www.evil.com/x"),
    (K::Url, "http://192.0.2.7/"),
    (K::Ipv4, "10.1.255.1"),
    (K::Ipv4, "10.2.0.1"),
    (K::Ipv6, "2001:db8::1"),
    (K::Ipv6, "::ffff:192.0.2.7"),
    (
        K::FileHash,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ),
    (K::FilePath, "/private/var/db/bad/x.plist"),
    (K::FilePath, "/usr/sbin/roleaccountd"),
    (K::ProcessName, "com.apple.bhd.ag"),
    (K::ProcessName, "com.apple.bhd.agentx"),
    (K::AppId, "COM.EVIL.APP"),
    (K::Email, "x@evil.com"),
    (K::Domain, "pegasus.example"),
];

fn all_hits(m: &Matcher, values: &[(K, &str)]) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for (kind, v) in values {
        m.check(*kind, v, &mut |h: Hit<'_>| {
            let ind = m.indicator(h.id);
            out.push((
                v.to_string(),
                ind.id.clone(),
                format!("{}:{:?}", h.value, h.how),
                format!("{}/{:?}", m.set(h.id).name, ind.spyware),
            ));
        });
    }
    out
}

fn round_trip(set: IndicatorSet) -> (Matcher, Matcher) {
    let built = Matcher::new(vec![set.clone()]);
    let bytes = built.to_compiled(STAMP).expect("one set");
    let read = Matcher::from_compiled(&bytes, STAMP, &set.source).expect("reads back");
    (built, read)
}

#[test]
fn a_compiled_set_answers_as_the_built_one() {
    let set = mixed();
    assert_eq!(set.diagnostics.len(), 1, "{:?}", set.diagnostics);
    assert_eq!(set.general_count(), 1);
    let (built, read) = round_trip(set.clone());
    let want = all_hits(&built, PROBES);
    assert!(want.len() >= 15, "{want:?}");
    assert_eq!(all_hits(&read, PROBES), want);
    let r = &read.sets()[0];
    assert_eq!(r.indicators, set.indicators);
    assert_eq!(r.diagnostics, set.diagnostics);
    assert_eq!(
        (r.name.as_str(), r.source.as_path()),
        ("mixed", Path::new("mixed.stix2"))
    );
    assert_eq!(read.general(), built.general());
    // The general evaluator was prepared again.
    let obs = [vigil_artefact::Observable::new(K::Domain, "www.bad.net")];
    let mut general = Vec::new();
    read.check_general(&obs, Some(0), &mut |id| general.push(id));
    assert_eq!(general, built.general());
}

#[test]
fn every_public_set_compiles_and_answers_the_same() {
    let (sets, errors) = load_path(&vigil_testkit::workspace_root().join("data/indicators"));
    assert!(errors.is_empty(), "{errors:?}");
    let mut probes: Vec<(K, String)> = Vec::new();
    for set in &sets {
        for ind in set.indicators.iter().step_by(7) {
            for t in &ind.terms {
                probes.push((t.kind, t.value.clone()));
                if t.kind == K::Domain {
                    probes.push((K::Domain, format!("www.{}", t.value)));
                    probes.push((K::Url, format!("https://a.{}/p", t.value)));
                }
            }
        }
    }
    let probes: Vec<(K, &str)> = probes.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut compiled = Vec::new();
    for set in &sets {
        let (built, read) = round_trip(set.clone());
        assert_eq!(
            all_hits(&read, &probes),
            all_hits(&built, &probes),
            "{}",
            set.name
        );
        compiled.push(read);
    }
    // Joined from compiled parts, or built over all sets at once: the same answers.
    let whole = Matcher::new(sets.clone());
    let joined = Matcher::combine(compiled);
    assert_eq!(joined.len(), whole.len());
    let want = all_hits(&whole, &probes);
    assert!(want.len() > 1000, "{}", want.len());
    assert_eq!(all_hits(&joined, &probes), want);
    assert_eq!(
        joined.sets().iter().map(|s| &s.name).collect::<Vec<_>>(),
        sets.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
}

#[test]
fn combine_keeps_the_set_order_whichever_part_is_largest() {
    let small = load_bytes(Path::new("small.txt"), b"evil.com\n10.1.0.0/16\n").unwrap();
    let big_text: String = (0..500)
        .map(|i| format!("h{i}.evil.com\n"))
        .collect::<String>()
        + "evil.com\n";
    let big = load_bytes(Path::new("big.txt"), big_text.as_bytes()).unwrap();
    let mixed = mixed();
    let sets = vec![small, big, mixed];
    let whole = Matcher::new(sets.clone());
    let parts = sets
        .iter()
        .map(|s| {
            let b = Matcher::new(vec![s.clone()]).to_compiled(STAMP).unwrap();
            Matcher::from_compiled(&b, STAMP, &s.source).unwrap()
        })
        .collect();
    let joined = Matcher::combine(parts);
    let mut probes = PROBES.to_vec();
    probes.extend([
        (K::Domain, "x.h7.evil.com"),
        (K::Url, "http://h499.evil.com"),
    ]);
    assert_eq!(all_hits(&joined, &probes), all_hits(&whole, &probes));
    assert!(Matcher::new(Vec::new()).to_compiled(STAMP).is_err());
}

#[test]
fn stale_or_damaged_bytes_are_refused_never_trusted() {
    let (built, _) = round_trip(mixed());
    let bytes = built.to_compiled(STAMP).unwrap();
    let src = Path::new("mixed.stix2");
    for other in [
        SourceStamp {
            size: 1235,
            ..STAMP
        },
        SourceStamp {
            modified_ns: 100,
            ..STAMP
        },
        SourceStamp { sample: 8, ..STAMP },
    ] {
        assert_eq!(
            Matcher::from_compiled(&bytes, other, src).err(),
            Some(CompiledError::Stale)
        );
    }
    // Every truncation and a flipped bit anywhere: an error, never a panic.
    for n in 0..bytes.len() {
        assert!(
            Matcher::from_compiled(&bytes[..n], STAMP, src).is_err(),
            "cut at {n}"
        );
    }
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x10;
        match Matcher::from_compiled(&b, STAMP, src) {
            Err(CompiledError::Corrupt(_)) | Err(CompiledError::Stale) => {}
            other => panic!("byte {i} flipped: {:?}", other.map(|_| ())),
        }
    }
    let e = Matcher::from_compiled(b"{\"type\":\"bundle\"}", STAMP, src).unwrap_err();
    assert_eq!(
        e.to_string(),
        "damaged compiled indicator set: not a compiled indicator set"
    );
}

#[test]
fn compiled_records_are_decoded_when_asked_for_and_equal_the_loaded_ones() {
    // Several chunks of records and two spyware names.
    let mut text = String::from("# spyware: Pegasus\n");
    for i in 0..1500 {
        if i == 700 {
            text.push_str("# spyware: Predator\n");
        }
        text.push_str(&format!("h{i}.Example.org\n"));
    }
    let set = load_bytes(Path::new("many.txt"), text.as_bytes()).unwrap();
    let (built, read) = round_trip(set.clone());
    assert_eq!(read.set_count(), 1);
    assert_eq!(read.len(), 1500);
    assert_eq!(read.set_len(0), 1500);
    assert_eq!(read.set_spyware(0), ["Pegasus", "Predator"]);
    assert_eq!(read.set_spyware(0), set.spyware());
    assert_eq!(read.set_header(0).name, "many");
    // Single records, from the last chunk back to the first, before any full decode.
    for index in [1499u32, 1024, 700, 699, 256, 255, 0] {
        let id = vigil_iocs::IndicatorId { set: 0, index };
        assert_eq!(read.indicator(id), &set.indicators[index as usize]);
        assert_eq!(read.indicator(id), built.indicator(id));
    }
    let probes = [
        (K::Domain, "a.h1234.example.org"),
        (K::Url, "http://h3.example.org/x"),
    ];
    assert_eq!(all_hits(&read, &probes), all_hits(&built, &probes));
    assert_eq!(read.sets()[0].indicators, set.indicators);
    // Read keeping the file's own buffer for the records: the same records.
    let bytes = built.to_compiled(STAMP).unwrap();
    let owned = Matcher::from_compiled_vec(bytes.clone(), STAMP, &set.source).unwrap();
    let last = vigil_iocs::IndicatorId {
        set: 0,
        index: 1499,
    };
    assert_eq!(owned.indicator(last), &set.indicators[1499]);
    assert_eq!(owned.sets()[0].indicators, set.indicators);
    assert!(
        Matcher::from_compiled_vec(bytes[..bytes.len() - 1].to_vec(), STAMP, &set.source).is_err()
    );
    // Written again from the read matcher: the same bytes.
    assert_eq!(
        read.to_compiled(STAMP).unwrap(),
        built.to_compiled(STAMP).unwrap()
    );
    // Joined with a small set, the compiled records stay as they are and answer the same.
    let small = load_bytes(Path::new("small.txt"), b"h5.example.org\n").unwrap();
    let joined = Matcher::combine(vec![Matcher::new(vec![small.clone()]), read]);
    let whole = Matcher::new(vec![small, set]);
    assert_eq!(joined.len(), whole.len());
    assert_eq!(joined.set_len(1), 1500);
    let probes = [
        (K::Domain, "x.h5.example.org"),
        (K::Domain, "h1499.example.org"),
    ];
    assert_eq!(all_hits(&joined, &probes), all_hits(&whole, &probes));
    assert_eq!(joined.sets()[1].indicators, whole.sets()[1].indicators);
}
