//! Integration tests of the capture, Zeek and text-log readers: records carry
//! the observables, provenance and timestamps a detection needs, and bad input
//! is reported, not fatal.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_artefact::{Module, ObservableKind as K, Record};
use vigil_netlog::{synth, Options};

mod quic;
mod reassembly;

fn tmp(name: &str) -> PathBuf {
    let dir = vigil_testkit::workspace_root()
        .join("target/test-tmp/netlog")
        .join(format!("{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(m: &dyn Module) -> (Vec<Record>, vigil_artefact::ModuleSummary) {
    let mut recs = Vec::new();
    let summary = m.run(&mut |r| recs.push(r)).expect("module runs");
    (recs, summary)
}

/// Reads a text log with a filter on `threads` threads.
fn text_log(
    file: &Path,
    filter: &vigil_netlog::Filter,
    threads: usize,
) -> (Vec<Record>, vigil_artefact::ModuleSummary) {
    let options = Options {
        filter: Some(filter.clone()),
        threads,
    };
    run(&vigil_netlog::TextLogModule::new(
        file.to_path_buf(),
        options,
    ))
}

fn has(r: &Record, kind: K, value: &str) -> bool {
    r.observables
        .iter()
        .any(|o| o.kind == kind && o.value == value)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const T0: i64 = 1_626_609_600_000_000; // 2021-07-18T12:00:00Z

fn sample_packets() -> Vec<(i64, Vec<u8>)> {
    let (c, r, w) = (ip("192.168.1.20"), ip("192.168.1.1"), ip("203.0.113.80"));
    vec![
        (
            T0,
            synth::udp(
                c,
                r,
                40000,
                53,
                &synth::dns_query(7, "cdn.weather4free.com"),
            ),
        ),
        (
            T0 + 1000,
            synth::udp(
                r,
                c,
                53,
                40000,
                &synth::dns_response(
                    7,
                    "cdn.weather4free.com",
                    Some("edge.example.net"),
                    &[w, ip("2001:db8::5")],
                ),
            ),
        ),
        (
            T0 + 2000,
            synth::tcp(
                c,
                w,
                40001,
                443,
                &synth::tls_client_hello("secure.smscentro.com"),
            ),
        ),
        (
            T0 + 3000,
            synth::tcp(
                c,
                w,
                40002,
                80,
                &synth::http_get("tookcheckout.com:8080", "/a/b?c=d"),
            ),
        ),
        (
            T0 + 4000,
            synth::udp(
                ip("2001:db8::1"),
                ip("2001:db8::53"),
                40003,
                53,
                &synth::dns_query(8, "v6.example.org"),
            ),
        ),
    ]
}

fn check_sample(recs: &[Record], file: &Path, offsets: Option<&[u64]>) {
    let q = recs.iter().find(|r| r.event == "DNS query").expect("query");
    assert!(has(q, K::Domain, "cdn.weather4free.com"));
    assert_eq!(q.timestamp, Some(T0));
    assert_eq!(q.provenance.file, file.display().to_string());
    if let Some(off) = offsets {
        assert_eq!(q.provenance.offset, Some(off[0]));
    }
    let a = recs
        .iter()
        .find(|r| r.event == "DNS response")
        .expect("response");
    assert!(has(a, K::Domain, "edge.example.net"));
    assert!(has(a, K::Ipv4, "203.0.113.80"));
    assert!(has(a, K::Ipv6, "2001:db8::5"));
    let tls = recs
        .iter()
        .find(|r| r.event == "TLS ClientHello")
        .expect("tls");
    assert!(has(tls, K::Domain, "secure.smscentro.com"));
    assert!(has(tls, K::Ipv4, "203.0.113.80"));
    assert_eq!(tls.timestamp, Some(T0 + 2000));
    let http = recs
        .iter()
        .find(|r| r.event == "HTTP request")
        .expect("http");
    assert!(has(http, K::Domain, "tookcheckout.com"));
    assert!(has(http, K::Url, "http://tookcheckout.com:8080/a/b?c=d"));
    assert!(recs
        .iter()
        .any(|r| has(r, K::Domain, "v6.example.org") && has(r, K::Ipv6, "2001:db8::53")));
}

#[test]
fn pcap_dns_tls_http_with_offsets_and_times() {
    let dir = tmp("pcap");
    let mut p = synth::Pcap::new();
    let offsets: Vec<u64> = sample_packets()
        .iter()
        .map(|(t, f)| p.packet(*t, f))
        .collect();
    let file = dir.join("capture.pcap");
    std::fs::write(&file, p.into_bytes()).unwrap();
    assert!(vigil_netlog::looks_like_pcap(&file));
    let mods = vigil_netlog::pcap_modules(&file, &Options::default()).unwrap();
    let (recs, summary) = run(mods[0].as_ref());
    assert_eq!(summary.records, 5, "packets read");
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    check_sample(&recs, &file, Some(&offsets));
}

#[test]
fn pcapng_reads_the_same() {
    let dir = tmp("pcapng");
    let file = dir.join("capture.pcapng");
    std::fs::write(&file, synth::pcapng(&sample_packets())).unwrap();
    assert!(vigil_netlog::looks_like_pcap(&file));
    let mods = vigil_netlog::pcap_modules(&file, &Options::default()).unwrap();
    let (recs, _) = run(mods[0].as_ref());
    check_sample(&recs, &file, None);
}

#[test]
fn gzip_compressed_capture_reads_the_same() {
    use std::io::Write;
    let dir = tmp("pcapgz");
    let mut p = synth::Pcap::new();
    let offsets: Vec<u64> = sample_packets()
        .iter()
        .map(|(t, f)| p.packet(*t, f))
        .collect();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&p.into_bytes()).unwrap();
    let file = dir.join("capture.pcap.gz");
    std::fs::write(&file, enc.finish().unwrap()).unwrap();
    assert!(vigil_netlog::looks_like_pcap(&file));
    let mods = vigil_netlog::auto_modules(&dir, &Options::default()).unwrap();
    assert_eq!(mods[0].name(), "pcap");
    let (recs, summary) = run(mods[0].as_ref());
    assert_eq!(summary.records, 5);
    check_sample(&recs, &file, Some(&offsets));
}

#[test]
fn filter_keeps_only_wanted_records_but_counts_every_packet() {
    let dir = tmp("filter");
    let mut p = synth::Pcap::new();
    for (t, f) in sample_packets() {
        p.packet(t, &f);
    }
    let file = dir.join("c.pcap");
    std::fs::write(&file, p.into_bytes()).unwrap();
    let options = Options {
        filter: Some(Arc::new(|k: K, v: &str| {
            k == K::Domain && v.ends_with("smscentro.com")
        })),
        threads: 0,
    };
    let mods = vigil_netlog::pcap_modules(&file, &options).unwrap();
    let (recs, summary) = run(mods[0].as_ref());
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].event, "TLS ClientHello");
    assert_eq!(summary.records, 5);
}

#[test]
fn truncated_and_garbage_captures_are_reported() {
    let dir = tmp("badpcap");
    let mut p = synth::Pcap::new();
    for (t, f) in sample_packets() {
        p.packet(t, &f);
    }
    let bytes = p.into_bytes();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let (recs, summary) = run(&vigil_netlog::PcapModule::new(cut, Options::default()));
    assert!(!recs.is_empty(), "packets before the cut are read");
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.contains("capture ends inside the packet at offset")),
        "{:?}",
        summary.warnings
    );

    let junk = dir.join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture at all").unwrap();
    let err = vigil_netlog::PcapModule::new(junk.clone(), Options::default())
        .run(&mut |_| {})
        .unwrap_err();
    assert_eq!(err.module, "pcap");
    assert_eq!(err.file, junk.display().to_string());
    assert!(
        err.message.contains("not a pcap or pcapng capture"),
        "{}",
        err.message
    );

    // A huge claimed length stops reading with a warning, not an allocation.
    let mut huge = synth::Pcap::new().into_bytes();
    huge.extend_from_slice(&[
        0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f,
    ]);
    let hp = dir.join("huge.pcap");
    std::fs::write(&hp, huge).unwrap();
    let (_, summary) = run(&vigil_netlog::PcapModule::new(hp, Options::default()));
    assert!(
        summary.warnings[0].contains("claims"),
        "{:?}",
        summary.warnings
    );
}

#[test]
fn zeek_tsv_and_json_logs() {
    let dir = tmp("zeek");
    let tsv = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n\
1626609600.500000\tC1\t10.0.0.2\t5353\t10.0.0.1\t53\tudp\tfree.weather4free.com\t198.51.100.9,alias.example.net\n\
1626609601.000000\tC2\t10.0.0.2\t5353\t10.0.0.1\t53\tudp\tbenign.example\t-\n";
    std::fs::write(dir.join("dns.log"), tsv).unwrap();
    std::fs::write(
        dir.join("ssl.log"),
        "{\"ts\":1626609602.25,\"uid\":\"C3\",\"id.orig_h\":\"10.0.0.2\",\"id.resp_h\":\"198.51.100.9\",\"server_name\":\"api.smscentro.com\"}\nnot json\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("files.log"),
        "#separator \\x09\n#fields\tts\tfuid\tmd5\tsha1\tsha256\tfilename\n1626609603.0\tF1\t-\t-\t05b5e4070b3b8a130b12ea96c5526b4615fcae121bb802b1a10c3a7a70f39901\tpayload.bin\n",
    )
    .unwrap();
    assert!(vigil_netlog::looks_like_zeek(&dir));
    let mods = vigil_netlog::zeek_modules(&dir, &Options::default()).unwrap();
    let names: Vec<_> = mods.iter().map(|m| m.name()).collect();
    assert_eq!(names, ["zeek_dns", "zeek_files", "zeek_ssl"]);
    let (dns, s) = run(mods[0].as_ref());
    assert_eq!(s.records, 2);
    assert!(has(&dns[0], K::Domain, "free.weather4free.com"));
    assert!(has(&dns[0], K::Ipv4, "198.51.100.9"));
    assert!(has(&dns[0], K::Domain, "alias.example.net"));
    assert_eq!(dns[0].timestamp, Some(T0 + 500_000));
    assert_eq!(dns[0].provenance.line, Some(8));
    let (files, _) = run(mods[1].as_ref());
    assert!(has(
        &files[0],
        K::FileHash,
        "05b5e4070b3b8a130b12ea96c5526b4615fcae121bb802b1a10c3a7a70f39901"
    ));
    let (ssl, s) = run(mods[2].as_ref());
    assert!(has(&ssl[0], K::Domain, "api.smscentro.com"));
    assert_eq!(ssl[0].timestamp, Some(T0 + 2_250_000));
    assert!(s.warnings[0].contains("1 line(s)"), "{:?}", s.warnings);
}

#[test]
fn text_log_lines_numbers_and_timestamps_across_threads() {
    let dir = tmp("text");
    let file = dir.join("dnsmasq.log");
    // Enough lines for several 8 MiB blocks, with hits in the middle and at the end.
    let mut s = String::new();
    let mut n = 0u64;
    let mut hits = Vec::new();
    while s.len() < 20 << 20 {
        n += 1;
        if n % 100_003 == 0 {
            s.push_str(&format!(
                "2021-07-18T12:00:00Z dnsmasq[1]: query[A] x{n}.weather4free.com from 10.0.0.5\n"
            ));
            hits.push(n);
        } else {
            s.push_str(&format!(
                "2021-07-18T12:00:00Z dnsmasq[1]: query[A] host{n}.example.org from 10.0.0.5\n"
            ));
        }
    }
    s.push_str("1626609600.000 final https://tookcheckout.com/x");
    n += 1;
    hits.push(n);
    std::fs::write(&file, &s).unwrap();
    let filter: vigil_netlog::Filter = Arc::new(|k: K, v: &str| {
        (k == K::Domain && v.ends_with("weather4free.com"))
            || (k == K::Url && v.contains("tookcheckout"))
    });
    for threads in [1, 3] {
        let (recs, summary) = text_log(&file, &filter, threads);
        assert_eq!(summary.records, n, "lines read");
        let lines: Vec<u64> = recs.iter().map(|r| r.provenance.line.unwrap()).collect();
        assert_eq!(lines, hits, "threads={threads}");
        assert_eq!(recs[0].timestamp, Some(T0));
        let last = recs.last().unwrap();
        assert!(has(last, K::Url, "https://tookcheckout.com/x"));
        assert_eq!(last.timestamp, Some(T0));
        // The offset points at the line in the file.
        let off = recs[0].provenance.offset.unwrap() as usize;
        assert!(
            s[off..].starts_with("2021-07-18T12:00:00Z dnsmasq[1]: query[A] x100003."),
            "threads={threads}"
        );
    }
}

#[test]
fn gzip_logs_gigantic_lines_and_binary_garbage() {
    use std::io::Write;
    let dir = tmp("gz");
    let gz = dir.join("proxy.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b"GET http://smscentro.com/p HTTP/1.1\n")
        .unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let (recs, _) = run(&vigil_netlog::TextLogModule::new(gz, Options::default()));
    assert!(has(&recs[0], K::Url, "http://smscentro.com/p"));

    let long = dir.join("long.log");
    let mut s = "a".repeat(3 << 20);
    s.push_str(" evil.example.com\nnext.example.org\n");
    std::fs::write(&long, &s).unwrap();
    let (recs, summary) = run(&vigil_netlog::TextLogModule::new(long, Options::default()));
    assert!(recs.iter().any(|r| has(r, K::Domain, "evil.example.com")));
    assert!(recs.iter().any(|r| has(r, K::Domain, "next.example.org")));
    assert!(
        summary.warnings.iter().any(|w| w.contains("longer than")),
        "{:?}",
        summary.warnings
    );

    let bin = dir.join("garbage.bin");
    let junk: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&bin, junk).unwrap();
    let (_, summary) = run(&vigil_netlog::TextLogModule::new(bin, Options::default()));
    assert!(
        summary.warnings.iter().any(|w| w.contains("binary")),
        "{:?}",
        summary.warnings
    );

    let missing = vigil_netlog::TextLogModule::new(dir.join("nope.log"), Options::default());
    let err = missing.run(&mut |_| {}).unwrap_err();
    assert!(err.message.starts_with("cannot open"), "{}", err.message);
}

#[test]
fn a_line_longer_than_a_block_is_one_line_checked_in_pieces() {
    let dir = tmp("longline");
    let file = dir.join("long.log");
    let mut s = String::from("first line free.weather4free.com\n");
    // 20 MiB without a line break, a wanted value in its middle.
    let half = "ab ".repeat((10 << 20) / 3);
    s.push_str(&half);
    s.push_str(" mid.weather4free.com ");
    s.push_str(&half);
    s.push_str("\nlast line x.weather4free.com\n");
    std::fs::write(&file, &s).unwrap();
    let filter: vigil_netlog::Filter =
        Arc::new(|k: K, v: &str| k == K::Domain && v.ends_with("weather4free.com"));
    for threads in [1, 3] {
        let (recs, summary) = text_log(&file, &filter, threads);
        assert_eq!(summary.records, 3, "threads={threads}");
        let lines: Vec<u64> = recs.iter().map(|r| r.provenance.line.unwrap()).collect();
        assert_eq!(lines, [1, 2, 3], "threads={threads}");
        assert!(has(&recs[1], K::Domain, "mid.weather4free.com"));
        assert!(has(&recs[2], K::Domain, "x.weather4free.com"));
        assert_eq!(
            summary.warnings,
            [format!(
                "{}: 1 line(s) longer than 1048576 bytes were checked in pieces",
                file.display()
            )],
            "threads={threads}"
        );
    }
}
