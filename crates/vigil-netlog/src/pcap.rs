//! pcap and pcapng captures (gzip-compressed too).
//!
//! Link layers: Ethernet (with 802.1Q/802.1ad tags), Linux cooked capture
//! (SLL and SLL2), raw IP and BSD loopback. Network: IPv4 (first fragments
//! only) and IPv6 (hop-by-hop, routing, destination-options and fragment
//! headers skipped). What is read: DNS over UDP port 53/5353 (questions, A,
//! AAAA and CNAME answers); over reassembled TCP streams ([`crate::flow`]),
//! DNS over TCP, the server name of a TLS ClientHello and the `Host` header
//! and target of every HTTP request; and the two addresses of each new
//! conversation. Every record's provenance is the byte offset of the packet
//! that completed it.
//!
//! Large captures are read on one thread and decoded on several: each worker
//! owns the connections whose address/port pair hashes to it, and records
//! are merged back into capture order before they are emitted.

use std::io::{BufReader, Read};
use std::net::IpAddr;
use std::path::PathBuf;

use rustc_hash::FxHashSet;
use vigil_artefact::{
    Module, ModuleError, ModuleSummary, Observable, ObservableKind as K, Provenance, Record,
};

use crate::flow::{AppEvent, FlowStats, Segment, StreamKey, StreamTable};
use crate::{display, keep, Options};

/// Largest packet or block accepted; bigger ones mean a corrupt file.
const MAX_PACKET: usize = 1 << 20;
/// Conversations remembered for de-duplication before the table is cleared.
const MAX_CONVERSATIONS: usize = 1 << 20;

pub(crate) fn is_capture_magic(head: &[u8]) -> bool {
    matches!(
        head.get(..4),
        Some(
            [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0xc3, 0xd4]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
                | [0x0a, 0x0d, 0x0d, 0x0a]
        )
    )
}

/// Reads one capture file.
pub struct PcapModule {
    path: PathBuf,
    options: Options,
}

impl PcapModule {
    /// A reader for the capture at `path`.
    pub fn new(path: PathBuf, options: Options) -> Self {
        PcapModule { path, options }
    }
}

/// One packet as the container gives it.
pub(crate) struct Packet<'a> {
    pub linktype: u32,
    pub ts_micros: Option<i64>,
    pub data: &'a [u8],
    pub offset: u64,
}

/// Calls `on_packet` for every packet of a pcap or pcapng stream.
///
/// Returns a warning when the capture ends inside a packet; an error when it is
/// not a capture or a header is impossible.
pub(crate) fn read_packets<R: Read>(
    mut r: R,
    on_packet: &mut dyn FnMut(Packet<'_>),
) -> Result<Option<String>, String> {
    let mut magic = [0u8; 4];
    if !read_full(&mut r, &mut magic).map_err(|e| e.to_string())? {
        return Err("empty file, not a capture".into());
    }
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        return read_pcapng(r, on_packet);
    }
    let (be, nanos) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
        [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
        _ => return Err("not a pcap or pcapng capture (unknown magic number)".into()),
    };
    let mut hdr = [0u8; 20];
    if !read_full(&mut r, &mut hdr).map_err(|e| e.to_string())? {
        return Err("capture ends inside its file header".into());
    }
    let linktype = u32_at(&hdr, 16, be) & 0x0fff_ffff;
    let mut offset = 24u64;
    let mut buf = Vec::new();
    let mut rec = [0u8; 16];
    loop {
        match read_full(&mut r, &mut rec) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(e) => return Ok(Some(format!("read failed at offset {offset}: {e}"))),
        }
        let secs = i64::from(u32_at(&rec, 0, be));
        let frac = i64::from(u32_at(&rec, 4, be));
        let incl = u32_at(&rec, 8, be) as usize;
        if incl > MAX_PACKET {
            return Ok(Some(format!(
                "packet at offset {offset} claims {incl} bytes; the rest of the capture is unreadable"
            )));
        }
        buf.resize(incl, 0);
        match read_full(&mut r, &mut buf) {
            Ok(true) => {}
            _ => {
                return Ok(Some(format!(
                    "capture ends inside the packet at offset {offset}"
                )))
            }
        }
        let ts = secs * 1_000_000 + if nanos { frac / 1000 } else { frac };
        on_packet(Packet {
            linktype,
            ts_micros: Some(ts),
            data: &buf,
            offset,
        });
        offset += 16 + incl as u64;
    }
}

fn read_pcapng<R: Read>(
    mut r: R,
    on_packet: &mut dyn FnMut(Packet<'_>),
) -> Result<Option<String>, String> {
    // Interfaces of the current section: link type and ticks per second.
    let mut interfaces: Vec<(u32, u64)> = Vec::new();
    let mut be = false;
    let mut offset = 0u64;
    let mut first = true;
    let mut body = Vec::new();
    loop {
        let mut head = [0u8; 8];
        if first {
            head[..4].copy_from_slice(&[0x0a, 0x0d, 0x0d, 0x0a]);
            match read_full(&mut r, &mut head[4..]) {
                Ok(true) => {}
                _ => return Err("capture ends inside its first block".into()),
            }
        } else {
            match read_full(&mut r, &mut head) {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(e) => return Ok(Some(format!("read failed at offset {offset}: {e}"))),
            }
        }
        let block_type_raw = head[..4].try_into().unwrap_or([0; 4]);
        if block_type_raw == [0x0a, 0x0d, 0x0d, 0x0a] {
            // Section header: the byte-order magic decides endianness.
            let mut bom = [0u8; 4];
            if !read_full(&mut r, &mut bom).unwrap_or(false) {
                return Ok(Some(format!(
                    "capture ends inside the section header at offset {offset}"
                )));
            }
            be = match bom {
                [0x1a, 0x2b, 0x3c, 0x4d] => true,
                [0x4d, 0x3c, 0x2b, 0x1a] => false,
                _ => {
                    return if first {
                        Err("not a pcapng capture (bad byte-order magic)".into())
                    } else {
                        Ok(Some(format!("bad section header at offset {offset}")))
                    }
                }
            };
            interfaces.clear();
            let len = u32_at(&head, 4, be) as usize;
            if !(28..=MAX_PACKET).contains(&len) || len % 4 != 0 {
                return Ok(Some(format!(
                    "bad section header length {len} at offset {offset}"
                )));
            }
            body.resize(len - 12, 0);
            if !read_full(&mut r, &mut body).unwrap_or(false) {
                return Ok(Some(format!(
                    "capture ends inside the block at offset {offset}"
                )));
            }
            first = false;
            offset += len as u64;
            continue;
        }
        let block_type = u32_at(&head, 0, be);
        let len = u32_at(&head, 4, be) as usize;
        if !(12..=MAX_PACKET + 64).contains(&len) || len % 4 != 0 {
            return Ok(Some(format!(
                "block at offset {offset} has impossible length {len}; the rest of the capture is unreadable"
            )));
        }
        body.resize(len - 8, 0);
        if !read_full(&mut r, &mut body).unwrap_or(false) {
            return Ok(Some(format!(
                "capture ends inside the block at offset {offset}"
            )));
        }
        let content = &body[..len - 12];
        match block_type {
            1 if content.len() >= 8 => {
                let linktype = u32::from(u16_at(content, 0, be));
                interfaces.push((linktype, tsresol(&content[8..], be)));
            }
            6 if content.len() >= 20 => {
                let iface = u32_at(content, 0, be) as usize;
                let ticks =
                    (u64::from(u32_at(content, 4, be)) << 32) | u64::from(u32_at(content, 8, be));
                let cap = (u32_at(content, 12, be) as usize).min(content.len() - 20);
                if let Some(&(linktype, per_sec)) = interfaces.get(iface) {
                    let ts = ticks_to_micros(ticks, per_sec);
                    on_packet(Packet {
                        linktype,
                        ts_micros: Some(ts),
                        data: &content[20..20 + cap],
                        offset,
                    });
                }
            }
            3 if content.len() >= 4 => {
                if let Some(&(linktype, _)) = interfaces.first() {
                    on_packet(Packet {
                        linktype,
                        ts_micros: None,
                        data: &content[4..],
                        offset,
                    });
                }
            }
            _ => {}
        }
        offset += len as u64;
    }
}

/// The `if_tsresol` option of an interface block (default: microseconds).
fn tsresol(mut opts: &[u8], be: bool) -> u64 {
    while opts.len() >= 4 {
        let code = u16_at(opts, 0, be);
        let len = u16_at(opts, 2, be) as usize;
        let padded = (len + 3) & !3;
        if code == 0 || opts.len() < 4 + len {
            break;
        }
        if code == 9 && len >= 1 {
            let v = opts[4];
            let exp = u32::from(v & 0x7f).min(19);
            return if v & 0x80 == 0 {
                10u64.pow(exp)
            } else {
                1u64 << exp.min(63)
            };
        }
        opts = opts.get(4 + padded..).unwrap_or(&[]);
    }
    1_000_000
}

fn ticks_to_micros(ticks: u64, per_sec: u64) -> i64 {
    let per_sec = per_sec.max(1);
    let micros = (u128::from(ticks) * 1_000_000 / u128::from(per_sec)).min(i64::MAX as u128);
    micros as i64
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        let n = r.read(&mut buf[got..])?;
        if n == 0 {
            if got == 0 {
                return Ok(false);
            }
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "truncated",
            ));
        }
        got += n;
    }
    Ok(true)
}

fn u16_at(b: &[u8], i: usize, be: bool) -> u16 {
    let v = [
        b.get(i).copied().unwrap_or(0),
        b.get(i + 1).copied().unwrap_or(0),
    ];
    if be {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    }
}

fn u32_at(b: &[u8], i: usize, be: bool) -> u32 {
    let mut v = [0u8; 4];
    for (k, x) in v.iter_mut().enumerate() {
        *x = b.get(i + k).copied().unwrap_or(0);
    }
    if be {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    }
}

fn be16(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

/// A packet's network and transport layers.
#[derive(Debug, PartialEq)]
pub(crate) struct Decoded<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
    /// TCP sequence number and flags (`FIN` 0x01, `SYN` 0x02, `RST` 0x04).
    pub tcp: Option<(u32, u8)>,
    /// The transport payload (UDP or TCP data).
    pub payload: &'a [u8],
}

/// Where the IP header starts for a link type.
fn ip_of(linktype: u32, data: &[u8]) -> Option<&[u8]> {
    match linktype {
        1 => {
            let mut ethertype = be16(data, 12)?;
            let mut at = 14;
            while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
                ethertype = be16(data, at + 2)?;
                at += 4;
            }
            match ethertype {
                0x0800 | 0x86dd => data.get(at..),
                _ => None,
            }
        }
        113 => data.get(16..),
        276 => data.get(20..),
        0 | 108 => data.get(4..),
        12 | 14 | 101 | 228 | 229 => Some(data),
        _ => None,
    }
}

/// Decodes link, network and transport layers.
pub(crate) fn decode(linktype: u32, data: &[u8]) -> Option<Decoded<'_>> {
    decode_ip(ip_of(linktype, data)?)
}

fn decode_ip(ip: &[u8]) -> Option<Decoded<'_>> {
    let version = ip.first()? >> 4;
    let (src, dst, mut proto, mut payload): (IpAddr, IpAddr, u8, &[u8]) = match version {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(be16(ip, 2)?).clamp(ihl, ip.len().max(ihl));
            let frag = be16(ip, 6)? & 0x1fff;
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            let payload = if frag == 0 { ip.get(ihl..total)? } else { &[] };
            (src.into(), dst.into(), *ip.get(9)?, payload)
        }
        6 => {
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (src.into(), dst.into(), *ip.get(6)?, ip.get(40..)?)
        }
        _ => return None,
    };
    if version == 6 {
        // Extension headers.
        for _ in 0..8 {
            match proto {
                0 | 43 | 60 => {
                    proto = *payload.first()?;
                    let len = (usize::from(*payload.get(1)?) + 1) * 8;
                    payload = payload.get(len..)?;
                }
                44 => {
                    proto = *payload.first()?;
                    let off = be16(payload, 2)? >> 3;
                    payload = if off == 0 { payload.get(8..)? } else { &[] };
                }
                _ => break,
            }
        }
    }
    let mut d = Decoded {
        src,
        dst,
        proto,
        sport: 0,
        dport: 0,
        tcp: None,
        payload: &[],
    };
    match proto {
        17 => {
            d.sport = be16(payload, 0)?;
            d.dport = be16(payload, 2)?;
            d.payload = payload.get(8..).unwrap_or(&[]);
        }
        6 => {
            d.sport = be16(payload, 0)?;
            d.dport = be16(payload, 2)?;
            let seq = u32::from_be_bytes(payload.get(4..8)?.try_into().ok()?);
            let flags = *payload.get(13)?;
            d.tcp = Some((seq, flags));
            let off = usize::from(payload.get(12)? >> 4) * 4;
            d.payload = payload.get(off..).unwrap_or(&[]);
        }
        _ => {}
    }
    Some(d)
}

/// Which of `n` workers handles a packet: both directions of a connection go to the same one.
fn shard_of(linktype: u32, data: &[u8], n: usize) -> usize {
    use std::hash::{Hash, Hasher};
    if n <= 1 {
        return 0;
    }
    let Some(d) = decode(linktype, data) else {
        return 0;
    };
    let mut h = rustc_hash::FxHasher::default();
    let (a, b) = if (d.src, d.sport) <= (d.dst, d.dport) {
        ((d.src, d.sport), (d.dst, d.dport))
    } else {
        ((d.dst, d.dport), (d.src, d.sport))
    };
    (a, b, d.proto).hash(&mut h);
    (h.finish() >> 32) as usize % n
}

/// Reads a DNS name with compression; `None` when malformed.
fn dns_name(msg: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(at)?;
        match len {
            0 => {
                return Some((name, end.unwrap_or(at + 1)));
            }
            l if l & 0xc0 == 0xc0 => {
                let ptr = usize::from(be16(msg, at)? & 0x3fff);
                end.get_or_insert(at + 2);
                jumps += 1;
                if jumps > 32 || ptr >= msg.len() {
                    return None;
                }
                at = ptr;
            }
            l if l & 0xc0 == 0 => {
                let label = msg.get(at + 1..at + 1 + usize::from(l))?;
                if !name.is_empty() {
                    name.push('.');
                }
                for &c in label {
                    name.push(if c.is_ascii_graphic() { c as char } else { '?' });
                }
                if name.len() > 255 {
                    return None;
                }
                at += 1 + usize::from(l);
            }
            _ => return None,
        }
    }
}

/// Questions and answers of a DNS message; returns whether it is a response.
pub(crate) fn dns(msg: &[u8], out: &mut Vec<Observable>) -> Option<bool> {
    let flags = be16(msg, 2)?;
    let qd = be16(msg, 4)?.min(16);
    let an = be16(msg, 6)?.min(64);
    let mut at = 12;
    for _ in 0..qd {
        let (name, next) = dns_name(msg, at)?;
        if !name.is_empty() {
            out.push(Observable::new(K::Domain, name));
        }
        at = next + 4;
    }
    for _ in 0..an {
        let Some((name, next)) = dns_name(msg, at) else {
            break;
        };
        let rtype = be16(msg, next)?;
        let rdlen = usize::from(be16(msg, next + 8)?);
        let rdata_at = next + 10;
        let rdata = msg.get(rdata_at..rdata_at + rdlen)?;
        if !name.is_empty() && !out.iter().any(|o| o.value == name) {
            out.push(Observable::new(K::Domain, name));
        }
        match (rtype, rdlen) {
            (1, 4) => {
                let a: [u8; 4] = rdata.try_into().ok()?;
                out.push(Observable::new(K::Ipv4, IpAddr::from(a).to_string()));
            }
            (28, 16) => {
                let a: [u8; 16] = rdata.try_into().ok()?;
                out.push(Observable::new(K::Ipv6, IpAddr::from(a).to_string()));
            }
            (5, _) => {
                if let Some((target, _)) = dns_name(msg, rdata_at) {
                    out.push(Observable::new(K::Domain, target));
                }
            }
            _ => {}
        }
        at = rdata_at + rdlen;
    }
    Some(flags & 0x8000 != 0)
}

/// One record a worker produced, with what the merge step needs.
struct Out {
    record: Record,
    /// Set for "new conversation" records: the conversation, for de-duplication across workers.
    conversation: Option<(IpAddr, IpAddr, u8)>,
}

/// Decodes packets and reassembles streams for one share of a capture.
struct Worker<'a> {
    file: &'a str,
    filter: &'a Option<crate::Filter>,
    seen: FxHashSet<(IpAddr, IpAddr, u8)>,
    streams: StreamTable,
    quic: crate::quic::QuicHellos,
    undecoded: u64,
    events: Vec<AppEvent>,
}

impl<'a> Worker<'a> {
    fn new(file: &'a str, filter: &'a Option<crate::Filter>, share: usize) -> Self {
        Worker {
            file,
            filter,
            seen: FxHashSet::default(),
            streams: StreamTable::new(MAX_STREAMS / share, REASSEMBLY_BUDGET / share),
            quic: crate::quic::QuicHellos::default(),
            undecoded: 0,
            events: Vec::new(),
        }
    }

    fn packet(&mut self, p: &Packet<'_>, index: u64, out: &mut Vec<Out>) {
        let Some(d) = decode(p.linktype, p.data) else {
            self.undecoded += 1;
            return;
        };
        let mut events = std::mem::take(&mut self.events);
        match d.tcp {
            None if d.proto == 17 && [d.sport, d.dport].iter().any(|p| matches!(p, 53 | 5353)) => {
                let mut obs = Vec::new();
                if let Some(response) = dns(d.payload, &mut obs) {
                    let event = if response {
                        "DNS response"
                    } else {
                        "DNS query"
                    };
                    events.push((event, obs));
                }
            }
            None if d.proto == 17 => {
                for sni in self.quic.datagram(d.payload) {
                    events.push(("QUIC ClientHello", vec![Observable::new(K::Domain, sni)]));
                }
            }
            Some((seq, flags)) => {
                let key = StreamKey {
                    src: d.src,
                    dst: d.dst,
                    sport: d.sport,
                    dport: d.dport,
                };
                let segment = Segment {
                    seq,
                    fin: flags & 0x01 != 0,
                    syn: flags & 0x02 != 0,
                    rst: flags & 0x04 != 0,
                    payload: d.payload,
                };
                self.streams
                    .segment(key, segment, p.ts_micros.unwrap_or(0), &mut events);
            }
            None => {}
        }
        let conversation = (d.src, d.dst, d.proto);
        if self.seen.len() >= MAX_CONVERSATIONS {
            self.seen.clear();
        }
        let new_conversation = self.seen.insert(conversation);
        if events.is_empty() && new_conversation {
            events.push(("new conversation", Vec::new()));
        }
        for (event, mut observables) in events.drain(..) {
            for a in [d.src, d.dst] {
                let kind = if a.is_ipv4() { K::Ipv4 } else { K::Ipv6 };
                observables.push(Observable::new(kind, a.to_string()));
            }
            if !keep(self.filter, &observables) {
                continue;
            }
            let mut data = serde_json::Map::new();
            data.insert("src".into(), d.src.to_string().into());
            data.insert("dst".into(), d.dst.to_string().into());
            data.insert("protocol".into(), d.proto.into());
            if d.sport != 0 || d.dport != 0 {
                data.insert("src_port".into(), d.sport.into());
                data.insert("dst_port".into(), d.dport.into());
            }
            data.insert("packet".into(), index.into());
            out.push(Out {
                conversation: (event == "new conversation").then_some(conversation),
                record: Record {
                    module: "pcap".into(),
                    provenance: Provenance {
                        file: self.file.to_string(),
                        offset: Some(p.offset),
                        ..Provenance::default()
                    },
                    timestamp: p.ts_micros,
                    event: event.into(),
                    observables,
                    data,
                },
            });
        }
        self.events = events;
    }
}

/// Packets of one worker's share of a batch, copied out of the capture.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    /// (linktype, timestamp, file offset, packet number, start, end in `bytes`).
    packets: Vec<(u32, Option<i64>, u64, u64, usize, usize)>,
}

/// Bytes of packets gathered before a batch is handed to the workers.
const BATCH_BYTES: usize = 8 << 20;
/// Streams tracked at once for reassembly, over all workers.
const MAX_STREAMS: usize = 1 << 17;
/// Bytes buffered for reassembly at once, over all workers.
const REASSEMBLY_BUDGET: usize = 64 << 20;

/// What reading a capture came to.
pub(crate) struct Totals {
    packets: u64,
    undecoded: u64,
    flow: FlowStats,
    /// A warning (the capture ends early) or an error (not a capture).
    result: Result<Option<String>, String>,
}

pub(crate) fn run_sequential(
    reader: Box<dyn Read + Send>,
    file: &str,
    filter: &Option<crate::Filter>,
    sink: &mut dyn FnMut(Record),
) -> Totals {
    let mut w = Worker::new(file, filter, 1);
    let mut packets = 0u64;
    let mut out = Vec::new();
    let result = read_packets(BufReader::with_capacity(1 << 20, reader), &mut |p| {
        packets += 1;
        w.packet(&p, packets, &mut out);
        for o in out.drain(..) {
            sink(o.record);
        }
    });
    Totals {
        packets,
        undecoded: w.undecoded,
        flow: w.streams.stats,
        result,
    }
}

/// Reads on one thread, decodes on `n` workers (each owning the streams of its
/// share of the connections) and emits records in capture order on this thread.
fn run_parallel(
    reader: Box<dyn Read + Send>,
    n: usize,
    file: &str,
    filter: &Option<crate::Filter>,
    sink: &mut dyn FnMut(Record),
) -> Totals {
    use std::sync::mpsc;
    std::thread::scope(|s| {
        let (done_tx, done_rx) = mpsc::channel::<(u64, Vec<Out>)>();
        let mut inputs = Vec::new();
        let mut workers = Vec::new();
        for _ in 0..n {
            let (tx, rx) = mpsc::sync_channel::<(u64, Batch)>(2);
            inputs.push(tx);
            let done = done_tx.clone();
            workers.push(s.spawn(move || {
                let mut w = Worker::new(file, filter, n);
                while let Ok((seq, batch)) = rx.recv() {
                    let mut out = Vec::new();
                    for &(linktype, ts_micros, offset, index, a, b) in &batch.packets {
                        let p = Packet {
                            linktype,
                            ts_micros,
                            data: &batch.bytes[a..b],
                            offset,
                        };
                        w.packet(&p, index, &mut out);
                    }
                    if done.send((seq, out)).is_err() {
                        break;
                    }
                }
                (w.undecoded, w.streams.stats)
            }));
        }
        drop(done_tx);
        let reader_thread = s.spawn(move || {
            let mut batches: Vec<Batch> = (0..n).map(|_| Batch::default()).collect();
            let mut size = 0usize;
            let mut seq = 0u64;
            let mut packets = 0u64;
            let mut stopped = false;
            let send = |batches: &mut Vec<Batch>, seq: &mut u64| -> bool {
                let full = std::mem::replace(batches, (0..n).map(|_| Batch::default()).collect());
                let ok = full
                    .into_iter()
                    .zip(&inputs)
                    .all(|(b, tx)| tx.send((*seq, b)).is_ok());
                *seq += 1;
                ok
            };
            let result = read_packets(BufReader::with_capacity(1 << 20, reader), &mut |p| {
                packets += 1;
                if stopped {
                    return;
                }
                let b = &mut batches[shard_of(p.linktype, p.data, n)];
                let start = b.bytes.len();
                b.bytes.extend_from_slice(p.data);
                b.packets.push((
                    p.linktype,
                    p.ts_micros,
                    p.offset,
                    packets,
                    start,
                    b.bytes.len(),
                ));
                size += p.data.len() + 64;
                if size >= BATCH_BYTES {
                    size = 0;
                    stopped = !send(&mut batches, &mut seq);
                }
            });
            if !stopped && size > 0 {
                send(&mut batches, &mut seq);
            }
            drop(inputs);
            (packets, result)
        });
        // Merge: a batch is emitted once every worker has returned its share.
        let mut waiting: std::collections::BTreeMap<u64, (usize, Vec<Out>)> = Default::default();
        let mut next = 0u64;
        let mut conversations: FxHashSet<(IpAddr, IpAddr, u8)> = FxHashSet::default();
        while let Ok((seq, out)) = done_rx.recv() {
            let slot = waiting.entry(seq).or_default();
            slot.0 += 1;
            slot.1.extend(out);
            while waiting.get(&next).is_some_and(|s| s.0 == n) {
                let Some((_, mut outs)) = waiting.remove(&next) else {
                    break;
                };
                outs.sort_by_key(|o| o.record.provenance.offset);
                for o in outs {
                    if let Some(c) = o.conversation {
                        if conversations.len() >= MAX_CONVERSATIONS {
                            conversations.clear();
                        }
                        if !conversations.insert(c) {
                            continue;
                        }
                    }
                    sink(o.record);
                }
                next += 1;
            }
        }
        let (packets, result) = reader_thread
            .join()
            .unwrap_or((0, Err("the capture reader stopped unexpectedly".into())));
        let mut totals = Totals {
            packets,
            undecoded: 0,
            flow: FlowStats::default(),
            result,
        };
        for w in workers {
            if let Ok((undecoded, flow)) = w.join() {
                totals.undecoded += undecoded;
                totals.flow.over_budget += flow.over_budget;
                totals.flow.table_full += flow.table_full;
            }
        }
        totals
    })
}

impl Module for PcapModule {
    fn name(&self) -> &'static str {
        "pcap"
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let file = display(&self.path);
        let reader = crate::text::open(&self.path, "pcap")?;
        let size = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        let threads = match self.options.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let filter = &self.options.filter;
        let totals = if threads > 1 && size > 2 * BATCH_BYTES as u64 {
            run_parallel(reader, threads, &file, filter, sink)
        } else {
            run_sequential(reader, &file, filter, sink)
        };
        let mut summary = ModuleSummary {
            module: "pcap".into(),
            records: totals.packets,
            ..ModuleSummary::default()
        };
        match totals.result {
            Ok(None) => {}
            Ok(Some(w)) => summary.warnings.push(format!("{file}: {w}")),
            Err(message) => {
                return Err(ModuleError {
                    module: "pcap".into(),
                    file,
                    message,
                })
            }
        }
        if totals.undecoded > 0 {
            summary.warnings.push(format!(
                "{file}: {} of {} packets had a link or network layer this reader does not decode",
                totals.undecoded, totals.packets
            ));
        }
        let f = totals.flow;
        if f.over_budget + f.table_full > 0 {
            summary.warnings.push(format!(
                "{file}: {} TCP stream(s) were not fully reassembled because a memory limit was reached \
                 ({} with gaps or buffers over {} KiB or the {} MiB total, {} beyond {} concurrent streams)",
                f.over_budget + f.table_full,
                f.over_budget,
                crate::flow::MAX_STREAM_BUFFER / 1024,
                REASSEMBLY_BUDGET >> 20,
                f.table_full,
                MAX_STREAMS
            ));
        }
        Ok(summary)
    }
}
