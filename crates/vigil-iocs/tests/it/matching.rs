//! Matching rules a helpline relies on, one test per rule.

use std::path::Path;

use vigil_iocs::{load_bytes, How, Matcher, ObservableKind as K};

fn matcher(name: &str, text: &str) -> Matcher {
    let set = load_bytes(Path::new(name), text.as_bytes()).expect("loads");
    assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
    Matcher::new(vec![set])
}

fn hits(m: &Matcher, kind: K, value: &str) -> Vec<(String, How)> {
    let mut out = Vec::new();
    m.check(kind, value, &mut |h| {
        out.push((m.indicator(h.id).pattern.clone(), h.how))
    });
    out
}

#[test]
fn parent_domains_match_but_lookalikes_do_not() {
    let m = matcher("list.txt", "# spyware: Pegasus\nevil.com\n");
    assert_eq!(
        hits(&m, K::Domain, "evil.com"),
        vec![("evil.com".into(), How::Exact)]
    );
    assert_eq!(
        hits(&m, K::Domain, "EVIL.com."),
        vec![("evil.com".into(), How::Exact)]
    );
    assert_eq!(
        hits(&m, K::Domain, "a.b.evil.com"),
        vec![("evil.com".into(), How::ParentDomain)]
    );
    for miss in [
        "notevil.com",
        "evil.com.attacker.net",
        "evil.co",
        "com",
        "vil.com",
        "",
    ] {
        assert!(
            hits(&m, K::Domain, miss).is_empty(),
            "{miss} must not match"
        );
    }
    let ind = m.indicator(vigil_iocs::IndicatorId { set: 0, index: 0 });
    assert_eq!(
        ind.spyware.iter().map(|s| s.as_ref()).collect::<Vec<_>>(),
        ["Pegasus"]
    );
    assert_eq!(ind.id, "list.txt:2");
}

#[test]
fn urls_are_normalised_and_their_host_checked_as_a_domain() {
    let m = matcher(
        "u.stix2",
        r#"{"type":"bundle","objects":[
        {"type":"indicator","id":"indicator--1","pattern":"[url:value = 'https://Shop.example/Path?q=1']","pattern_type":"stix"},
        {"type":"indicator","id":"indicator--2","pattern":"[domain-name:value = 'tracker.example']","pattern_type":"stix"},
        {"type":"indicator","id":"indicator--3","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix"}]}"#,
    );
    assert_eq!(
        hits(&m, K::Url, "HTTPS://shop.example:443/Path?q=1#x").len(),
        1
    );
    assert!(
        hits(&m, K::Url, "https://shop.example/path?q=1").is_empty(),
        "path is case-sensitive"
    );
    assert_eq!(
        hits(&m, K::Url, "http://cdn.tracker.example/x.js"),
        vec![(
            "[domain-name:value = 'tracker.example']".into(),
            How::ParentDomain
        )]
    );
    assert_eq!(
        hits(&m, K::Url, "http://tracker.example/"),
        vec![(
            "[domain-name:value = 'tracker.example']".into(),
            How::UrlHost
        )]
    );
    assert_eq!(hits(&m, K::Url, "http://198.51.100.7:8080/a").len(), 1);
    assert!(hits(&m, K::Url, "http://198.51.100.8/").is_empty());
}

#[test]
fn addresses_and_cidr_ranges() {
    let m = matcher(
        "ips.txt",
        "203.0.113.9\n10.20.0.0/16\n2001:db8:1::/48\n2001:db8::42\n",
    );
    assert_eq!(
        hits(&m, K::Ipv4, "203.0.113.9"),
        vec![("203.0.113.9".into(), How::Exact)]
    );
    assert!(hits(&m, K::Ipv4, "203.0.113.10").is_empty());
    assert_eq!(
        hits(&m, K::Ipv4, "10.20.255.1"),
        vec![("10.20.0.0/16".into(), How::CidrRange)]
    );
    assert!(hits(&m, K::Ipv4, "10.21.0.1").is_empty());
    assert_eq!(hits(&m, K::Ipv6, "2001:db8:1:ffff::1").len(), 1);
    assert_eq!(
        hits(&m, K::Ipv6, "2001:DB8::42"),
        vec![("2001:db8::42".into(), How::Exact)]
    );
    assert!(hits(&m, K::Ipv6, "2001:db8:2::1").is_empty());
    // IPv4-mapped IPv6 and a domain field holding an address.
    assert_eq!(hits(&m, K::Ipv6, "::ffff:203.0.113.9").len(), 1);
    assert_eq!(hits(&m, K::Domain, "10.20.3.4").len(), 1);
    assert!(hits(&m, K::Ipv4, "not-an-ip").is_empty());
}

#[test]
fn every_hash_key_spelling_used_in_feeds_matches() {
    let sha256 = "05b5e4070b3b8a130b12ea96c5526b4615fcae121bb802b1a10c3a7a70f39901";
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    let patterns = [
        format!("[file:hashes.'SHA-256' = '{sha256}']"),
        format!("[file:hashes.sha256 = '{}']", sha256.to_uppercase()),
        format!("[file:hashes.SHA256 = '{sha256}']"),
        format!("[file:hashes.MD5 = '{md5}']"),
        format!("[file:hashes.'SHA-1' = '{sha1}']"),
        format!("[file:hashes.sha1 = '{sha1}']"),
    ];
    let text = patterns.join("\n");
    let m = matcher("hashes.txt", &text);
    assert_eq!(hits(&m, K::FileHash, sha256).len(), 3);
    assert_eq!(hits(&m, K::FileHash, &sha256.to_uppercase()).len(), 3);
    assert_eq!(hits(&m, K::FileHash, md5).len(), 1);
    assert_eq!(hits(&m, K::FileHash, sha1).len(), 2);
    assert!(hits(&m, K::FileHash, &"0".repeat(64)).is_empty());
}

#[test]
fn process_names_match_the_16_characters_ios_keeps() {
    let m = matcher(
        "p.txt",
        "[process:name = 'com.apple.Launcher.Helper']\n[process:name = 'bh']\n",
    );
    assert_eq!(
        hits(&m, K::ProcessName, "com.apple.Launch"),
        vec![(
            "[process:name = 'com.apple.Launcher.Helper']".into(),
            How::TruncatedProcessName
        )]
    );
    assert_eq!(
        hits(&m, K::ProcessName, "com.apple.Launcher.Helper").len(),
        1
    );
    assert_eq!(hits(&m, K::ProcessName, "/private/var/tmp/bh").len(), 1);
    // Fifteen characters is not a truncation iOS makes.
    assert!(hits(&m, K::ProcessName, "com.apple.Launc").is_empty());
    assert!(hits(&m, K::ProcessName, "bhx").is_empty());
}

#[test]
fn file_paths_match_as_prefixes_and_by_file_name() {
    let m = matcher(
        "f.txt",
        "[file:path = '/private/var/db/com.apple.xpc.roleaccountd.staging/']\n\
         [file:name = 'rce_loader.js']\n",
    );
    assert_eq!(
        hits(
            &m,
            K::FilePath,
            "/private/var/db/com.apple.xpc.roleaccountd.staging/bh"
        ),
        vec![(
            "[file:path = '/private/var/db/com.apple.xpc.roleaccountd.staging/']".into(),
            How::PathPrefix
        )]
    );
    assert_eq!(
        hits(&m, K::FilePath, "/var/mobile/Library/rce_loader.js"),
        vec![("[file:name = 'rce_loader.js']".into(), How::FileNameOfPath)]
    );
    assert_eq!(hits(&m, K::FileName, "rce_loader.js").len(), 1);
    assert!(hits(&m, K::FilePath, "/private/var/db/other").is_empty());
}

#[test]
fn identifiers_compare_without_case() {
    let m = matcher(
        "ids.txt",
        "[app:id = 'com.oneplussync.bat']\n\
         [email-addr:value = 'nonbaguette@yahoo.com']\n\
         [android-property:name = 'sys.brand.note']\n\
         [configuration-profile:id = '76DAB334-7E17-475D-A5D6-0794EB5818A5']\n\
         [app:cert.sha256 = 'd12616542268d32329f1c4357b5d5a57e954e13d2338d27bb8439794291b8c6d']\n",
    );
    assert_eq!(hits(&m, K::AppId, "com.OnePlusSync.bat").len(), 1);
    assert_eq!(hits(&m, K::Email, "NonBaguette@Yahoo.com").len(), 1);
    assert_eq!(hits(&m, K::AndroidProperty, "sys.brand.note").len(), 1);
    assert_eq!(
        hits(
            &m,
            K::ConfigurationProfileId,
            "76dab334-7e17-475d-a5d6-0794eb5818a5"
        )
        .len(),
        1
    );
    assert_eq!(
        hits(&m, K::AppCertHash, "D1:26:16:54:22:68:D3:23:29:F1:C4:35:7B:5D:5A:57:E9:54:E1:3D:23:38:D2:7B:B8:43:97:94:29:1B:8C:6D").len(),
        1
    );
    assert!(hits(&m, K::AppId, "com.oneplussync").is_empty());
}

#[test]
fn one_bad_indicator_is_reported_and_the_rest_load() {
    let bundle = r#"{"type":"bundle","objects":[
      {"type":"malware","id":"malware--1","name":"Predator"},
      {"type":"indicator","id":"indicator--good","pattern":"[domain-name:value = 'ok.example']","pattern_type":"stix"},
      {"type":"indicator","id":"indicator--bad","pattern":"[domain-name:value = 'unterminated]","pattern_type":"stix"},
      {"type":"indicator","id":"indicator--rich","pattern":"[file:name = 'a' AND file:size > 3]","pattern_type":"stix"},
      {"type":"indicator","id":"indicator--yara","pattern":"rule x {}","pattern_type":"yara"},
      {"type":"relationship","id":"relationship--1","relationship_type":"indicates","source_ref":"indicator--good","target_ref":"malware--1"}]}"#;
    let set = load_bytes(Path::new("bundle.stix2"), bundle.as_bytes()).unwrap();
    assert_eq!(set.indicators.len(), 2, "good and rich load");
    assert_eq!(set.indicators[0].spyware[0].as_ref(), "Predator");
    assert_eq!(set.general_count(), 1);
    assert_eq!(set.diagnostics.len(), 2, "{:?}", set.diagnostics);
    assert!(
        set.diagnostics[0].contains("indicator--bad (object 2)"),
        "{:?}",
        set.diagnostics
    );
    assert!(
        set.diagnostics[1].contains("indicator--yara"),
        "{:?}",
        set.diagnostics
    );
    let m = Matcher::new(vec![set]);
    assert_eq!(m.general().len(), 1);
}

#[test]
fn unreadable_files_name_the_file() {
    let err = load_bytes(
        Path::new("broken.stix2"),
        b"{\"type\": \"bundle\", \"objects\": [",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("broken.stix2: not a STIX 2.1 bundle"),
        "{err}"
    );
    let err = load_bytes(Path::new("x.csv"), b"description,comment\na,b\n").unwrap_err();
    assert!(
        err.to_string().contains("x.csv: no indicator column"),
        "{err}"
    );
    let err = load_bytes(Path::new("x.txt"), b"\xff\xfe garbage").unwrap_err();
    assert!(err.to_string().contains("x.txt: not UTF-8"), "{err}");
    let set = load_bytes(
        Path::new("x.txt"),
        b"evil.example\nthis is not an indicator\n",
    )
    .unwrap();
    assert_eq!(set.indicators.len(), 1);
    assert_eq!(
        set.diagnostics,
        ["x.txt:2: cannot tell what kind of indicator 'this is not an indicator' is"]
    );
}

#[test]
fn patterns_beyond_lookups_go_through_the_general_evaluator() {
    let m = matcher(
        "g.txt",
        "[domain-name:value LIKE '%.tracking.example']\n[domain-name:value = 'plain.example']\n",
    );
    assert_eq!(m.general().len(), 1);
    let obs = |v: &str| vec![vigil_artefact::Observable::new(K::Domain, v)];
    let mut got = Vec::new();
    m.check_general(&obs("a.tracking.example"), Some(0), &mut |id| got.push(id));
    assert_eq!(got.len(), 1);
    assert_eq!(
        m.indicator(got[0]).pattern,
        "[domain-name:value LIKE '%.tracking.example']"
    );
    got.clear();
    m.check_general(&obs("tracking.example.org"), Some(0), &mut |id| {
        got.push(id)
    });
    assert!(got.is_empty());
}

/// Values of every kind the log readers hand over, in spellings a log holds.
fn observed_values() -> Vec<(K, String)> {
    let mut v: Vec<(K, String)> = [
        (K::Domain, "evil.com"),
        (K::Domain, "x.y.EVIL.com."),
        (K::Domain, " a.b.Example.ORG\n"),
        (K::Domain, "\u{a0}cdn.evil.com\u{2003}"),
        (K::Domain, "b.example.org"),
        (K::Domain, "notevil.com"),
        (K::Domain, "a..evil.com"),
        (K::Domain, ".evil.com"),
        (K::Domain, "..."),
        (K::Domain, ""),
        (K::Domain, "10.1.2.3"),
        (K::Domain, "10.2.0.1"),
        (K::Domain, "2001:db8::1"),
        (K::Domain, "www.xn--80ak6aa92e.com"),
        (K::Domain, "Sub.XN--80AK6AA92E.Com"),
        (K::Domain, "é.evil.com"),
        (
            K::Domain,
            "a-very-long-label-that-spans-several-words.evil.com",
        ),
        (K::Url, "https://cdn.evil.com/x"),
        (K::Url, "https://10.1.9.9:8443/x"),
        (K::Url, "http://[2001:db8::5]/"),
        (K::Url, "https://notevil.com/x"),
        (K::Url, "not a url"),
        (K::Ipv4, "10.1.200.3"),
        (K::Ipv4, "10.2.0.1"),
        (K::Ipv6, "2001:db8::1"),
        (K::Email, "bob@evil.com"),
        (K::FileHash, "d41d8cd98f00b204e9800998ecf8427e"),
    ]
    .into_iter()
    .map(|(k, s)| (k, s.to_string()))
    .collect();
    // Random names around the listed ones: capitals, extra labels, near misses.
    let mut x = 88172645463325252u64;
    for _ in 0..5_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let base = [
            "evil.com",
            "example.org",
            "EVIL.COM",
            "vil.com",
            "a.b.example.org",
        ][(x % 5) as usize];
        let name = match (x >> 8) % 4 {
            0 => format!("h{}.{base}", x % 1000),
            1 => format!("{}.{base}.", x % 97),
            2 => format!("{base}x"),
            _ => format!("a.{}.{base}", x % 13),
        };
        v.push((K::Domain, name));
    }
    v
}

#[test]
fn batched_lookups_answer_as_one_by_one() {
    for list in [
        "# spyware: X\nevil.com\nA.B.Example.ORG\n10.1.0.0/16\n2001:db8::/32\nxn--80ak6aa92e.com\nbob@evil.com\n",
        "evil.com\nhttps://evil.com/landing\n",
        "10.1.0.0/16\n",
        "d41d8cd98f00b204e9800998ecf8427e\n",
    ] {
        let m = matcher("list.txt", list);
        let values = observed_values();
        let batch: Vec<(K, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut matched = vec![true; batch.len()];
        m.is_match_each(&batch, &mut matched);
        let mut hits = 0;
        for ((k, v), got) in batch.iter().zip(&matched) {
            assert_eq!(*got, m.is_match(*k, v), "{list:?}: {k:?} {v:?}");
            hits += usize::from(*got);
        }
        assert!(hits > 0, "{list:?}: nothing matched");
        // Batches of any size, down to one value, give the same answers.
        for size in [1, 3, 64] {
            for (chunk, want) in batch.chunks(size).zip(matched.chunks(size)) {
                let mut got = vec![false; chunk.len()];
                m.is_match_each(chunk, &mut got);
                assert_eq!(got, want, "{list:?}, batches of {size}");
            }
        }
        // A kind is said to be unmatchable only when no value of it matches.
        for ((k, v), got) in batch.iter().zip(&matched) {
            assert!(!got || m.can_match(*k), "{list:?}: {k:?} {v:?}");
        }
    }
    let names = matcher("list.txt", "evil.com\n");
    assert!(names.can_match(K::Domain) && names.can_match(K::Url));
    assert!(!names.can_match(K::Ipv4) && !names.can_match(K::Email));
    assert!(!names.can_match(K::FileHash) && !names.can_match(K::ProcessName));
    let addresses = matcher("list.txt", "10.0.0.0/8\n");
    assert!(addresses.can_match(K::Ipv6) && addresses.can_match(K::Domain));
}

/// Whether any suffix of `name` at a label boundary (the name trimmed,
/// without trailing dots, in lower case) is one of `keys`: the rule the
/// domain lookups implement, written the slow way.
fn listed_slowly(keys: &[String], name: &str) -> bool {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return false;
    }
    let mut starts = vec![0];
    starts.extend(name.match_indices('.').map(|(i, _)| i + 1));
    starts.iter().any(|s| keys.iter().any(|k| *k == name[*s..]))
}

#[test]
fn every_parent_domain_is_found_with_one_label_keys_heavy_groups_and_odd_names() {
    // One registered domain with hundreds of listed subdomains (of three and
    // four labels) beside ordinary keys, keys of one label, and keys of five labels.
    let mut keys: Vec<String> = (0..400).map(|i| format!("h{i}.dyn-dns.org")).collect();
    keys.extend((0..200).map(|i| format!("a{i}.deep.dyn-dns.org")));
    keys.extend((0..300).map(|i| format!("site{i}.example.net")));
    keys.extend(["zip", "a.b.c.d.spy"].map(String::from));
    // A bundle, since a plain list cannot tell a one-label name from other kinds.
    let objects: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            format!(
                r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{i:012}","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern":"[domain-name:value='{k}']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}}"#
            )
        })
        .collect();
    let bundle = format!(
        r#"{{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[{}]}}"#,
        objects.join(",")
    );
    let m = matcher("set.stix2", &bundle);
    assert_eq!(m.len(), keys.len());
    let mut names: Vec<String> = Vec::new();
    for i in (0..500).step_by(7) {
        names.extend([
            format!("h{i}.dyn-dns.org"),
            format!("x.h{i}.dyn-dns.org"),
            format!("a{i}.deep.dyn-dns.org"),
            "deep.dyn-dns.org".to_string(),
            format!("H{i}.DYN-DNS.ORG."),
            format!(" a{i}.Deep.dyn-dns.org..\n"),
            format!("other{i}.dyn-dns.org"),
            format!("www.site{i}.example.net"),
            format!("site{i}.example.net.attacker.net"),
            format!("site{i}.example"),
            format!("file{i}.zip"),
            format!("zip{i}"),
            format!("b.c.d.spy{i}"),
        ]);
    }
    names.extend(
        [
            "zip",
            "ZIP.",
            "zip..",
            "spy",
            "d.spy",
            "a.b.c.d.spy",
            "x.A.B.C.D.SPY",
            "dyn-dns.org",
            "org",
            ".",
            "",
            "..zip",
            "a..zip",
            "example.net",
        ]
        .map(String::from),
    );
    let batch: Vec<(K, &str)> = names.iter().map(|n| (K::Domain, n.as_str())).collect();
    let mut matched = vec![false; batch.len()];
    m.is_match_each(&batch, &mut matched);
    let mut hits = 0;
    for ((_, name), got) in batch.iter().zip(&matched) {
        let want = listed_slowly(&keys, name);
        assert_eq!(m.is_match(K::Domain, name), want, "{name:?}");
        assert_eq!(*got, want, "{name:?} in a batch");
        hits += usize::from(want);
    }
    assert!(hits > names.len() / 3 && hits < names.len(), "{hits}");
    // URL hosts go the same way.
    for name in [
        "h7.dyn-dns.org",
        "a.b.c.d.spy",
        "other.dyn-dns.org",
        "x.zip",
    ] {
        let url = format!("https://{name}:8443/path");
        assert_eq!(
            m.is_match(K::Url, &url),
            listed_slowly(&keys, name),
            "{url}"
        );
    }
}
