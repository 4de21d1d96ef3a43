//! Writers for synthetic captures, for tests and benchmarks: pcap and pcapng
//! containers, Ethernet/IPv4/IPv6/UDP/TCP framing, DNS messages, TLS
//! ClientHellos and HTTP requests, byte for byte as the standards lay them out.

use std::net::IpAddr;

/// A classic pcap file (little-endian, microseconds, Ethernet).
#[derive(Debug, Clone)]
pub struct Pcap {
    bytes: Vec<u8>,
}

impl Default for Pcap {
    fn default() -> Self {
        Self::new()
    }
}

impl Pcap {
    /// An empty capture with its file header.
    pub fn new() -> Self {
        let mut bytes = Vec::with_capacity(1 << 16);
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&0i32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&65535u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        Pcap { bytes }
    }

    /// Appends one Ethernet frame captured at `ts_micros`; returns its byte offset.
    pub fn packet(&mut self, ts_micros: i64, frame: &[u8]) -> u64 {
        let offset = self.bytes.len() as u64;
        let secs = (ts_micros / 1_000_000) as u32;
        let frac = (ts_micros % 1_000_000) as u32;
        self.bytes.extend_from_slice(&secs.to_le_bytes());
        self.bytes.extend_from_slice(&frac.to_le_bytes());
        self.bytes
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(frame);
        offset
    }

    /// Bytes so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when only the file header is written.
    pub fn is_empty(&self) -> bool {
        self.bytes.len() <= 24
    }

    /// The file's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// A pcapng file (big-endian sections, one Ethernet interface with nanosecond
/// resolution) holding these `(timestamp µs, frame)` packets as enhanced packet blocks.
pub fn pcapng(packets: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let block = |out: &mut Vec<u8>, ty: u32, body: &[u8]| {
        let padded = (body.len() + 3) & !3;
        let len = (12 + padded) as u32;
        out.extend_from_slice(&ty.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(body);
        out.resize(out.len() + padded - body.len(), 0);
        out.extend_from_slice(&len.to_be_bytes());
    };
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_be_bytes());
    shb.extend_from_slice(&1u16.to_be_bytes());
    shb.extend_from_slice(&0u16.to_be_bytes());
    shb.extend_from_slice(&(-1i64).to_be_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_be_bytes());
    idb.extend_from_slice(&0u16.to_be_bytes());
    idb.extend_from_slice(&0u32.to_be_bytes());
    // if_tsresol = 9 (nanoseconds), then end of options.
    idb.extend_from_slice(&9u16.to_be_bytes());
    idb.extend_from_slice(&1u16.to_be_bytes());
    idb.extend_from_slice(&[9, 0, 0, 0]);
    idb.extend_from_slice(&[0, 0, 0, 0]);
    block(&mut out, 1, &idb);
    for (ts, frame) in packets {
        let ticks = (*ts as u64) * 1000;
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_be_bytes());
        epb.extend_from_slice(&((ticks >> 32) as u32).to_be_bytes());
        epb.extend_from_slice(&(ticks as u32).to_be_bytes());
        epb.extend_from_slice(&(frame.len() as u32).to_be_bytes());
        epb.extend_from_slice(&(frame.len() as u32).to_be_bytes());
        epb.extend_from_slice(frame);
        block(&mut out, 6, &epb);
    }
    out
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in data.chunks(2) {
        let w = u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]);
        sum += u32::from(w);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An Ethernet frame carrying `transport` (protocol 17 UDP or 6 TCP) between two addresses.
fn ip_frame(src: IpAddr, dst: IpAddr, proto: u8, transport: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            f.extend_from_slice(&0x0800u16.to_be_bytes());
            let mut h = vec![0x45, 0];
            h.extend_from_slice(&((20 + transport.len()) as u16).to_be_bytes());
            h.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
            h.extend_from_slice(&s.octets());
            h.extend_from_slice(&d.octets());
            let c = checksum(&h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            f.extend_from_slice(&h);
        }
        (s, d) => {
            let to6 = |a: IpAddr| match a {
                IpAddr::V4(v) => v.to_ipv6_mapped(),
                IpAddr::V6(v) => v,
            };
            f.extend_from_slice(&0x86ddu16.to_be_bytes());
            f.extend_from_slice(&[0x60, 0, 0, 0]);
            f.extend_from_slice(&(transport.len() as u16).to_be_bytes());
            f.extend_from_slice(&[proto, 64]);
            f.extend_from_slice(&to6(s).octets());
            f.extend_from_slice(&to6(d).octets());
        }
    }
    f.extend_from_slice(transport);
    f
}

/// An Ethernet/IP/UDP frame.
pub fn udp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&0u16.to_be_bytes());
    u.extend_from_slice(payload);
    ip_frame(src, dst, 17, &u)
}

/// TCP flag FIN, for [`tcp_segment`].
pub const FIN: u8 = 0x01;
/// TCP flag SYN.
pub const SYN: u8 = 0x02;
/// TCP flag RST.
pub const RST: u8 = 0x04;
/// TCP flags PSH and ACK, as data segments carry them.
pub const PSH_ACK: u8 = 0x18;
/// TCP flag ACK.
pub const ACK: u8 = 0x10;

/// An Ethernet/IP/TCP frame (PSH+ACK, sequence number 1) with this payload.
pub fn tcp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    tcp_segment(src, dst, sport, dport, 1, PSH_ACK, payload)
}

/// An Ethernet/IP/TCP frame with this sequence number, flags and payload.
pub fn tcp_segment(
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&1u32.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    ip_frame(src, dst, 6, &t)
}

/// A DNS message framed for TCP (two-byte length first).
pub fn dns_over_tcp(message: &[u8]) -> Vec<u8> {
    let mut m = (message.len() as u16).to_be_bytes().to_vec();
    m.extend_from_slice(message);
    m
}

fn dns_qname(out: &mut Vec<u8>, name: &str) {
    for label in name.trim_end_matches('.').split('.') {
        let l = &label.as_bytes()[..label.len().min(63)];
        out.push(l.len() as u8);
        out.extend_from_slice(l);
    }
    out.push(0);
}

/// A DNS query for `name` (type A).
pub fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    dns_qname(&mut m, name);
    m.extend_from_slice(&[0, 1, 0, 1]);
    m
}

/// A DNS response to a query for `name`: a CNAME to `cname` when given, then A/AAAA answers.
pub fn dns_response(id: u16, name: &str, cname: Option<&str>, addrs: &[IpAddr]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    let an = addrs.len() + usize::from(cname.is_some());
    m.extend_from_slice(&[0x81, 0x80, 0, 1]);
    m.extend_from_slice(&(an as u16).to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    dns_qname(&mut m, name);
    m.extend_from_slice(&[0, 1, 0, 1]);
    // Answers point back at the question name (offset 12), as servers do.
    if let Some(c) = cname {
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60]);
        let mut rdata = Vec::new();
        dns_qname(&mut rdata, c);
        m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(&rdata);
    }
    for a in addrs {
        m.extend_from_slice(&[0xc0, 12]);
        match a {
            IpAddr::V4(v) => {
                m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                m.extend_from_slice(&v.octets());
            }
            IpAddr::V6(v) => {
                m.extend_from_slice(&[0, 28, 0, 1, 0, 0, 0, 60, 0, 16]);
                m.extend_from_slice(&v.octets());
            }
        }
    }
    m
}

/// A TLS 1.2-style ClientHello record with a server_name extension for `sni`.
pub fn tls_client_hello(sni: &str) -> Vec<u8> {
    let name = sni.as_bytes();
    let mut ext = Vec::new();
    // supported_groups first, so the reader has to walk the list.
    ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d]);
    ext.extend_from_slice(&0u16.to_be_bytes());
    ext.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x11; 32]);
    body.push(0);
    body.extend_from_slice(&[0x00, 0x02, 0x13, 0x01, 0x01, 0x00]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![0x01];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// Protected QUIC v1 client Initial packets (one UDP payload each, 1200
/// bytes) carrying a ClientHello for `sni` under Destination Connection ID
/// `dcid`, cut into `pieces` CRYPTO frames sent last piece first.
pub fn quic_client_initials(dcid: &[u8], sni: &str, pieces: usize) -> Vec<Vec<u8>> {
    let record = tls_client_hello(sni);
    crate::quic::client_initials(dcid, &record[5..], pieces)
}

/// An HTTP/1.1 GET request.
pub fn http_get(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n")
        .into_bytes()
}

/// A small seeded generator (xorshift64) so generated inputs are the same on every run.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// `len` random lower-case letters.
    pub fn word(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| (b'a' + (self.next_u64() % 26) as u8) as char)
            .collect()
    }
}
