//! pcap and pcapng captures.
//!
//! Link layers: Ethernet (with 802.1Q/802.1ad tags), Linux cooked capture
//! (SLL and SLL2), raw IP and BSD loopback. Network: IPv4 (first fragments
//! only) and IPv6 (hop-by-hop, routing, destination-options and fragment
//! headers skipped). What is read: DNS over UDP port 53/5353 (questions, A,
//! AAAA and CNAME answers), the server name of a TLS ClientHello and the
//! `Host` header of an HTTP request, each when it sits in a single TCP
//! segment (no stream reassembly), and the two addresses of each new
//! conversation. Every record's provenance is the byte offset of its packet.

use std::collections::HashSet;
use std::io::{BufReader, Read};
use std::net::IpAddr;
use std::path::PathBuf;

use vigil_artefact::{
    Module, ModuleError, ModuleSummary, Observable, ObservableKind as K, Provenance, Record,
};

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

/// What a packet says at the application layer.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Decoded {
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
    pub event: Option<&'static str>,
    pub observables: Vec<Observable>,
}

/// Decodes link, network and transport layers and the application data we read.
pub(crate) fn decode(linktype: u32, data: &[u8]) -> Option<Decoded> {
    let ip = match linktype {
        1 => {
            let mut ethertype = be16(data, 12)?;
            let mut at = 14;
            while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
                ethertype = be16(data, at + 2)?;
                at += 4;
            }
            match ethertype {
                0x0800 | 0x86dd => data.get(at..)?,
                _ => return None,
            }
        }
        113 => data.get(16..)?,
        276 => data.get(20..)?,
        0 | 108 => data.get(4..)?,
        12 | 14 | 101 | 228 | 229 => data,
        _ => return None,
    };
    decode_ip(ip)
}

fn decode_ip(ip: &[u8]) -> Option<Decoded> {
    let version = ip.first()? >> 4;
    let (src, dst, mut proto, payload): (IpAddr, IpAddr, u8, &[u8]) = match version {
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
    let mut payload = payload;
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
        src: Some(src),
        dst: Some(dst),
        proto,
        ..Decoded::default()
    };
    match proto {
        17 => {
            d.sport = be16(payload, 0)?;
            d.dport = be16(payload, 2)?;
            let data = payload.get(8..).unwrap_or(&[]);
            if [d.sport, d.dport].iter().any(|p| matches!(p, 53 | 5353)) {
                if let Some(is_response) = dns(data, &mut d.observables) {
                    d.event = Some(if is_response {
                        "DNS response"
                    } else {
                        "DNS query"
                    });
                }
            }
        }
        6 => {
            d.sport = be16(payload, 0)?;
            d.dport = be16(payload, 2)?;
            let off = usize::from(payload.get(12)? >> 4) * 4;
            let data = payload.get(off..).unwrap_or(&[]);
            if let Some(sni) = tls_sni(data) {
                d.observables.push(Observable::new(K::Domain, sni));
                d.event = Some("TLS ClientHello");
            } else if let Some((host, path)) = http_host(data) {
                d.observables.push(Observable::new(
                    K::Domain,
                    host.split(':').next().unwrap_or(&host),
                ));
                d.observables
                    .push(Observable::new(K::Url, format!("http://{host}{path}")));
                d.event = Some("HTTP request");
            }
        }
        _ => {}
    }
    Some(d)
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
fn dns(msg: &[u8], out: &mut Vec<Observable>) -> Option<bool> {
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

/// The server name of a TLS ClientHello in one segment.
fn tls_sni(d: &[u8]) -> Option<String> {
    if *d.first()? != 0x16 || *d.get(1)? != 0x03 || *d.get(5)? != 0x01 {
        return None;
    }
    // record(5) handshake type(1) len(3) version(2) random(32)
    let mut at = 5 + 4 + 2 + 32;
    let sid = usize::from(*d.get(at)?);
    at += 1 + sid;
    let cs = usize::from(be16(d, at)?);
    at += 2 + cs;
    let cm = usize::from(*d.get(at)?);
    at += 1 + cm;
    let ext_total = usize::from(be16(d, at)?);
    at += 2;
    let end = (at + ext_total).min(d.len());
    while at + 4 <= end {
        let ty = be16(d, at)?;
        let len = usize::from(be16(d, at + 2)?);
        let body = d.get(at + 4..at + 4 + len)?;
        if ty == 0 {
            // server_name_list: len(2) { type(1) len(2) name }
            let name_len = usize::from(be16(body, 3)?);
            let name = body.get(5..5 + name_len)?;
            return std::str::from_utf8(name).ok().map(str::to_string);
        }
        at += 4 + len;
    }
    None
}

/// The `Host` header and request path of an HTTP request in one segment.
fn http_host(d: &[u8]) -> Option<(String, String)> {
    const METHODS: [&[u8]; 8] = [
        b"GET ",
        b"POST ",
        b"HEAD ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
        b"PATCH ",
        b"CONNECT ",
    ];
    let m = METHODS.iter().find(|m| d.starts_with(m))?;
    let head = &d[..d.len().min(8192)];
    let line_end = head.iter().position(|b| *b == b'\r' || *b == b'\n')?;
    let target = std::str::from_utf8(&head[m.len()..line_end]).ok()?;
    let path = target.split(' ').next().unwrap_or("/");
    let text = String::from_utf8_lossy(head);
    let host = text.split("\r\n").chain(text.split('\n')).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("host").then(|| v.trim().to_string())
    })?;
    if host.is_empty() {
        return None;
    }
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        "/".to_string()
    };
    Some((host, path))
}

impl Module for PcapModule {
    fn name(&self) -> &'static str {
        "pcap"
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let file = display(&self.path);
        let f = std::fs::File::open(&self.path).map_err(|e| ModuleError {
            module: "pcap".into(),
            file: file.clone(),
            message: format!("cannot open: {e}"),
        })?;
        let mut summary = ModuleSummary {
            module: "pcap".into(),
            ..ModuleSummary::default()
        };
        let mut seen: HashSet<(IpAddr, IpAddr, u8)> = HashSet::new();
        let mut packets = 0u64;
        let mut undecoded = 0u64;
        let filter = &self.options.filter;
        let result = read_packets(BufReader::with_capacity(1 << 20, f), &mut |p| {
            packets += 1;
            let Some(mut d) = decode(p.linktype, p.data) else {
                undecoded += 1;
                return;
            };
            let (Some(src), Some(dst)) = (d.src, d.dst) else {
                return;
            };
            let new_conversation = {
                if seen.len() >= MAX_CONVERSATIONS {
                    seen.clear();
                }
                seen.insert((src, dst, d.proto))
            };
            if d.event.is_none() && !new_conversation {
                return;
            }
            for a in [src, dst] {
                let kind = if a.is_ipv4() { K::Ipv4 } else { K::Ipv6 };
                d.observables.push(Observable::new(kind, a.to_string()));
            }
            if !keep(filter, &d.observables) {
                return;
            }
            let mut data = serde_json::Map::new();
            data.insert("src".into(), src.to_string().into());
            data.insert("dst".into(), dst.to_string().into());
            data.insert("protocol".into(), d.proto.into());
            if d.sport != 0 || d.dport != 0 {
                data.insert("src_port".into(), d.sport.into());
                data.insert("dst_port".into(), d.dport.into());
            }
            data.insert("packet".into(), packets.into());
            sink(Record {
                module: "pcap".into(),
                provenance: Provenance {
                    file: file.clone(),
                    offset: Some(p.offset),
                    ..Provenance::default()
                },
                timestamp: p.ts_micros,
                event: d.event.unwrap_or("new conversation").into(),
                observables: d.observables,
                data,
            });
        });
        summary.records = packets;
        match result {
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
        if undecoded > 0 {
            summary.warnings.push(format!(
                "{file}: {undecoded} of {packets} packets had a link or network layer this reader does not decode"
            ));
        }
        Ok(summary)
    }
}
