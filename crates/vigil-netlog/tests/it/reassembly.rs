//! TCP reassembly: messages split across segments, delivered out of order,
//! retransmitted, several per connection; limits under hostile captures; the
//! same records from one thread and from several.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use vigil_artefact::{ObservableKind as K, Record};
use vigil_netlog::synth::{self, ACK, FIN, PSH_ACK, SYN};
use vigil_netlog::{Options, PcapModule};

use crate::{has, ip, run, tmp, T0};

/// Builds a capture packet by packet and remembers each packet's offset.
struct Capture {
    pcap: synth::Pcap,
    t: i64,
    offsets: Vec<u64>,
}

impl Capture {
    fn new() -> Self {
        Capture {
            pcap: synth::Pcap::new(),
            t: T0,
            offsets: Vec::new(),
        }
    }

    /// One segment from `from` to `to`; returns the packet's index.
    fn seg(
        &mut self,
        from: (&str, u16),
        to: (&str, u16),
        seq: u32,
        flags: u8,
        data: &[u8],
    ) -> usize {
        self.t += 1000;
        let frame = synth::tcp_segment(ip(from.0), ip(to.0), from.1, to.1, seq, flags, data);
        self.offsets.push(self.pcap.packet(self.t, &frame));
        self.offsets.len() - 1
    }

    fn write(self, name: &str) -> (PathBuf, Vec<u64>) {
        let file = tmp("reassembly").join(name);
        std::fs::write(&file, self.pcap.into_bytes()).unwrap();
        (file, self.offsets)
    }
}

fn records(file: &std::path::Path) -> (Vec<Record>, vigil_artefact::ModuleSummary) {
    run(&PcapModule::new(file.to_path_buf(), Options::default()))
}

const C: &str = "192.168.1.20";
const S: &str = "203.0.113.80";

#[test]
fn client_hello_split_out_of_order_and_retransmitted() {
    let hello = synth::tls_client_hello("secure.smscentro.com");
    let (a, b, c) = (&hello[..7], &hello[7..40], &hello[40..]);
    let mut cap = Capture::new();
    cap.seg((C, 40001), (S, 443), 999, SYN, &[]);
    cap.seg((S, 443), (C, 40001), 5000, SYN | ACK, &[]);
    // The second and third pieces arrive before the first; the third twice.
    cap.seg((C, 40001), (S, 443), 1000 + 7, PSH_ACK, b);
    cap.seg((C, 40001), (S, 443), 1000 + 40, PSH_ACK, c);
    cap.seg((C, 40001), (S, 443), 1000 + 40, PSH_ACK, c);
    let completing = cap.seg((C, 40001), (S, 443), 1000, PSH_ACK, a);
    // A retransmission of the whole hello after it was read: no second record.
    cap.seg((C, 40001), (S, 443), 1000, PSH_ACK, &hello);
    cap.seg(
        (S, 443),
        (C, 40001),
        5001,
        PSH_ACK,
        &[0x16, 3, 3, 0, 2, 2, 0],
    );
    let (file, offsets) = cap.write("split-tls.pcap");
    let (recs, summary) = records(&file);
    let hellos: Vec<&Record> = recs
        .iter()
        .filter(|r| r.event == "TLS ClientHello")
        .collect();
    assert_eq!(hellos.len(), 1, "{recs:#?}");
    let h = hellos[0];
    assert!(has(h, K::Domain, "secure.smscentro.com"));
    assert!(has(h, K::Ipv4, S));
    assert_eq!(h.provenance.offset, Some(offsets[completing]));
    assert_eq!(h.timestamp, Some(T0 + 1000 * (completing as i64 + 1)));
    assert_eq!(summary.records, 8);
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
}

#[test]
fn client_hello_spread_over_two_tls_records() {
    // A large ClientHello (post-quantum key shares) may be cut into two handshake records.
    let hello = synth::tls_client_hello("big.weather4free.com");
    let hs = &hello[5..];
    let (h1, h2) = hs.split_at(30);
    let mut stream = Vec::new();
    for part in [h1, h2] {
        stream.extend_from_slice(&[0x16, 3, 1]);
        stream.extend_from_slice(&(part.len() as u16).to_be_bytes());
        stream.extend_from_slice(part);
    }
    let mut cap = Capture::new();
    cap.seg((C, 40002), (S, 443), 0, SYN, &[]);
    cap.seg((C, 40002), (S, 443), 1, PSH_ACK, &stream[..20]);
    cap.seg((C, 40002), (S, 443), 21, PSH_ACK, &stream[20..]);
    let (file, _) = cap.write("two-records.pcap");
    let (recs, _) = records(&file);
    assert!(
        recs.iter()
            .any(|r| r.event == "TLS ClientHello" && has(r, K::Domain, "big.weather4free.com")),
        "{recs:#?}"
    );
}

#[test]
fn http_requests_split_with_bodies_and_keep_alive() {
    // The body looks like a request but is not one: the reader skips it by its length.
    let body = b"GET /fake HTTP/1.1\r\nHost: not.a.request";
    let first = format!(
        "POST /upload HTTP/1.1\r\nHost: tookcheckout.com\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let first = first.as_bytes();
    let second = synth::http_get("cdn.weather4free.com:8080", "/x?y=1");
    let mut stream = first.to_vec();
    stream.extend_from_slice(body);
    stream.extend_from_slice(&second);
    let cut1 = 30; // inside the Host header
    let cut2 = first.len() + 10; // inside the body
    let mut cap = Capture::new();
    cap.seg((C, 40003), (S, 80), 77, SYN, &[]);
    let i1 = cap.seg(
        (C, 40003),
        (S, 80),
        78 + cut1 as u32,
        PSH_ACK,
        &stream[cut1..cut2],
    );
    let i0 = cap.seg((C, 40003), (S, 80), 78, PSH_ACK, &stream[..cut1]);
    let i2 = cap.seg(
        (C, 40003),
        (S, 80),
        78 + cut2 as u32,
        PSH_ACK,
        &stream[cut2..],
    );
    cap.seg(
        (C, 40003),
        (S, 80),
        78 + stream.len() as u32,
        FIN | ACK,
        &[],
    );
    let (file, offsets) = cap.write("split-http.pcap");
    let (recs, _) = records(&file);
    let http: Vec<&Record> = recs.iter().filter(|r| r.event == "HTTP request").collect();
    assert_eq!(http.len(), 2, "{http:#?}");
    assert!(has(http[0], K::Url, "http://tookcheckout.com/upload"));
    assert!(has(http[0], K::Domain, "tookcheckout.com"));
    assert_eq!(http[0].provenance.offset, Some(offsets[i0]));
    assert!(has(
        http[1],
        K::Url,
        "http://cdn.weather4free.com:8080/x?y=1"
    ));
    assert!(has(http[1], K::Domain, "cdn.weather4free.com"));
    assert_eq!(http[1].provenance.offset, Some(offsets[i2]));
    assert!(!recs.iter().any(|r| has(r, K::Domain, "not.a.request")));
    let _ = i1;
}

#[test]
fn dns_over_tcp_queries_and_responses() {
    let q1 = synth::dns_over_tcp(&synth::dns_query(1, "a.weather4free.com"));
    let q2 = synth::dns_over_tcp(&synth::dns_query(2, "b.example.org"));
    let resp = synth::dns_over_tcp(&synth::dns_response(
        1,
        "a.weather4free.com",
        Some("edge.smscentro.com"),
        &[ip("198.51.100.9")],
    ));
    let mut both = q1.clone();
    both.extend_from_slice(&q2);
    let mut cap = Capture::new();
    cap.seg((C, 40004), (S, 53), 10, SYN, &[]);
    cap.seg((S, 53), (C, 40004), 90, SYN | ACK, &[]);
    // Two queries in one stream: the first cut after its length prefix.
    cap.seg((C, 40004), (S, 53), 11, PSH_ACK, &both[..2]);
    cap.seg((C, 40004), (S, 53), 13, PSH_ACK, &both[2..]);
    // The response in two pieces.
    cap.seg((S, 53), (C, 40004), 91, PSH_ACK, &resp[..15]);
    cap.seg((S, 53), (C, 40004), 106, PSH_ACK, &resp[15..]);
    let (file, _) = cap.write("dns-tcp.pcap");
    let (recs, _) = records(&file);
    let queries: Vec<&Record> = recs.iter().filter(|r| r.event == "DNS query").collect();
    assert_eq!(queries.len(), 2, "{recs:#?}");
    assert!(has(queries[0], K::Domain, "a.weather4free.com"));
    assert!(has(queries[1], K::Domain, "b.example.org"));
    let r = recs
        .iter()
        .find(|r| r.event == "DNS response")
        .expect("response");
    assert!(has(r, K::Domain, "edge.smscentro.com"));
    assert!(has(r, K::Ipv4, "198.51.100.9"));
}

#[test]
fn endless_gaps_give_up_with_a_warning_not_memory() {
    let mut cap = Capture::new();
    cap.seg((C, 40005), (S, 443), 0, SYN, &[]);
    cap.seg((C, 40005), (S, 443), 1, PSH_ACK, &[0x16, 3, 1, 0x40, 0, 1]);
    // The gap after byte 7 is never filled; 200 segments of 1400 bytes pile up behind it.
    for i in 0..200u32 {
        cap.seg((C, 40005), (S, 443), 100 + i * 1400, PSH_ACK, &[0x41; 1400]);
    }
    // A later connection is still read.
    let hello = synth::tls_client_hello("after.smscentro.com");
    cap.seg((C, 40006), (S, 443), 0, SYN, &[]);
    cap.seg((C, 40006), (S, 443), 1, PSH_ACK, &hello);
    let (file, _) = cap.write("gaps.pcap");
    let (recs, summary) = records(&file);
    assert!(recs
        .iter()
        .any(|r| has(r, K::Domain, "after.smscentro.com")));
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.contains("1 TCP stream(s) were not fully reassembled")),
        "{:?}",
        summary.warnings
    );
}

#[test]
fn several_threads_give_the_same_records_in_capture_order() {
    // More than two 8 MiB batches, many connections, a planted name every 500.
    let mut p = synth::Pcap::new();
    let mut t = T0;
    let filler = vec![0u8; 1400];
    let mut n = 0u32;
    while p.len() < 20 << 20 {
        n += 1;
        let server = IpAddr::from([198, 51, (n >> 8) as u8, n as u8]);
        let client = ip(C);
        let port = 1024 + (n % 50_000) as u16;
        let name = if n % 500 == 0 {
            format!("n{n}.weather4free.com")
        } else {
            format!("n{n}.example.org")
        };
        t += 1000;
        p.packet(
            t,
            &synth::tcp_segment(client, server, port, 443, 7, SYN, &[]),
        );
        let hello = synth::tls_client_hello(&name);
        let (a, b) = hello.split_at(20);
        // Out of order on purpose.
        p.packet(
            t + 2,
            &synth::tcp_segment(client, server, port, 443, 28, PSH_ACK, b),
        );
        p.packet(
            t + 3,
            &synth::tcp_segment(client, server, port, 443, 8, PSH_ACK, a),
        );
        for k in 0..3 {
            p.packet(
                t + 4,
                &synth::tcp_segment(server, client, 443, port, 100 + k * 1400, PSH_ACK, &filler),
            );
        }
        p.packet(
            t + 5,
            &synth::tcp_segment(
                client,
                server,
                port,
                443,
                8 + hello.len() as u32,
                FIN | ACK,
                &[],
            ),
        );
    }
    let file = tmp("reassembly").join("big.pcap");
    std::fs::write(&file, p.into_bytes()).unwrap();
    let filter: vigil_netlog::Filter =
        Arc::new(|k: K, v: &str| k == K::Domain && v.ends_with("weather4free.com"));
    let mut results = Vec::new();
    for threads in [1, 3] {
        let m = PcapModule::new(
            file.clone(),
            Options {
                filter: Some(filter.clone()),
                threads,
            },
        );
        let (recs, summary) = run(&m);
        assert_eq!(recs.len() as u32, n / 500, "threads={threads}");
        results.push((recs, summary.records));
    }
    assert_eq!(results[0], results[1]);
    let offsets: Vec<u64> = results[0]
        .0
        .iter()
        .map(|r| r.provenance.offset.unwrap())
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "capture order");
}
