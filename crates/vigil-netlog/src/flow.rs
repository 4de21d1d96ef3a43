//! TCP stream reassembly for the application messages the capture reader
//! looks at: DNS over TCP, the TLS ClientHello and HTTP request headers.
//!
//! Each direction of a connection is one [`Stream`], keyed by its four-tuple.
//! The stream starts at the SYN's sequence number (or at the first data
//! segment when the capture missed the SYN). In-order bytes go to a small
//! buffer the application parser consumes; out-of-order segments wait in a
//! bounded list until the gap fills; retransmitted and overlapping bytes are
//! trimmed (the first copy wins). A stream whose first bytes are none of the
//! three protocols, or whose message is complete (one ClientHello per
//! connection), is kept only as a marker so its bulk data costs one lookup.
//!
//! **Memory is bounded** per stream ([`MAX_STREAM_BUFFER`]), in total per
//! table ([`StreamTable::new`]'s byte budget) and in the number of streams:
//! a hostile capture with endless gaps or millions of half-open connections
//! makes streams give up (counted, reported as a warning), never grows memory.

use std::net::IpAddr;

use rustc_hash::FxHashMap;
use vigil_artefact::{Observable, ObservableKind as K};

/// Most bytes one stream may hold, buffered in order plus waiting out of order.
pub const MAX_STREAM_BUFFER: usize = 64 * 1024 + 16;
/// Most out-of-order segments one stream may hold.
const MAX_PENDING_SEGMENTS: usize = 64;
/// How far ahead of the expected sequence number a segment may start and still be kept.
const MAX_WINDOW: u32 = 1 << 20;
/// Longest HTTP request header block read.
const MAX_HTTP_HEAD: usize = 16 * 1024;
/// A stream idle for this long (capture time) is forgotten.
const IDLE_MICROS: i64 = 300 * 1_000_000;

/// One direction of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct StreamKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum App {
    /// Not enough bytes yet to tell.
    Unknown,
    Tls,
    Http,
    Dns,
    /// Nothing more to read here (other protocol, message done, or gave up).
    Done,
}

/// What reassembly found: an event name and its observables.
pub(crate) type AppEvent = (&'static str, Vec<Observable>);

#[derive(Debug)]
struct Stream {
    app: App,
    /// The sequence number of the next in-order byte.
    next: u32,
    /// In-order bytes not yet consumed by the parser.
    buf: Vec<u8>,
    /// Out-of-order segments: (sequence number, bytes), in arrival order.
    pending: Vec<(u32, Vec<u8>)>,
    pending_bytes: usize,
    /// Bytes still to skip before the next message (an HTTP request body).
    skip: u64,
    /// TLS handshake bytes gathered from one or more records.
    handshake: Vec<u8>,
    last_ts: i64,
}

impl Stream {
    fn new(next: u32, ts: i64) -> Self {
        Stream {
            app: App::Unknown,
            next,
            buf: Vec::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            skip: 0,
            handshake: Vec::new(),
            last_ts: ts,
        }
    }

    fn held(&self) -> usize {
        self.buf.len() + self.pending_bytes + self.handshake.len()
    }

    fn finish(&mut self) {
        self.app = App::Done;
        self.buf = Vec::new();
        self.pending = Vec::new();
        self.pending_bytes = 0;
        self.handshake = Vec::new();
    }
}

/// Counters the module reports.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FlowStats {
    /// Streams that gave up because a per-stream or total limit was reached.
    pub over_budget: u64,
    /// New streams not tracked because the table was full.
    pub table_full: u64,
}

/// The streams of one capture (or of one worker's share of it).
pub(crate) struct StreamTable {
    streams: FxHashMap<StreamKey, Stream>,
    max_streams: usize,
    budget: usize,
    held: usize,
    packets: u64,
    pub stats: FlowStats,
}

/// TCP header fields reassembly needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    pub seq: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
}

impl StreamTable {
    /// A table holding at most `max_streams` streams and `budget` buffered bytes.
    pub fn new(max_streams: usize, budget: usize) -> Self {
        StreamTable {
            streams: FxHashMap::default(),
            max_streams: max_streams.max(16),
            budget: budget.max(MAX_STREAM_BUFFER),
            held: 0,
            packets: 0,
            stats: FlowStats::default(),
        }
    }

    /// Bytes currently buffered over all streams.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.held
    }

    /// Streams currently tracked.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Feeds one segment; complete application messages are added to `events`.
    pub fn segment(&mut self, key: StreamKey, s: Segment<'_>, ts: i64, events: &mut Vec<AppEvent>) {
        self.packets += 1;
        if self.packets % 65_536 == 0 {
            self.expire(ts);
        }
        if s.rst {
            self.remove(&key);
            return;
        }
        if !self.streams.contains_key(&key) {
            if s.payload.is_empty() && !s.syn {
                return;
            }
            if self.streams.len() >= self.max_streams {
                self.expire(ts);
                if self.streams.len() >= self.max_streams {
                    self.stats.table_full += 1;
                    return;
                }
            }
            let start = if s.syn { s.seq.wrapping_add(1) } else { s.seq };
            self.streams.insert(key, Stream::new(start, ts));
        }
        let Some(st) = self.streams.get_mut(&key) else {
            return;
        };
        st.last_ts = ts;
        if s.syn {
            // A SYN (again, or after data from a lost one) fixes where the stream starts.
            if st.app == App::Unknown && st.buf.is_empty() {
                st.next = s.seq.wrapping_add(1);
            }
        } else if st.app != App::Done && !s.payload.is_empty() {
            let before = st.held();
            let room = self
                .budget
                .saturating_sub(self.held - before.min(self.held));
            deliver(st, s.seq, s.payload, room, &mut self.stats);
            parse(st, key, events);
            let after = st.held();
            self.held = self.held - before.min(self.held) + after;
        }
        if s.fin {
            self.remove(&key);
        }
    }

    fn remove(&mut self, key: &StreamKey) {
        if let Some(st) = self.streams.remove(key) {
            self.held -= st.held().min(self.held);
        }
    }

    /// Forgets streams idle for longer than [`IDLE_MICROS`] of capture time.
    fn expire(&mut self, now: i64) {
        let before = self.streams.len();
        let mut freed = 0;
        self.streams.retain(|_, st| {
            let keep = now.saturating_sub(st.last_ts) < IDLE_MICROS;
            if !keep {
                freed += st.held();
            }
            keep
        });
        self.held -= freed.min(self.held);
        if self.streams.len() == before && before >= self.max_streams {
            // Nothing idle and still full: drop finished streams first.
            self.streams.retain(|_, st| st.app != App::Done);
        }
    }
}

/// Adds a segment's bytes to the stream: in order to `buf`, ahead of a gap to `pending`.
fn deliver(st: &mut Stream, seq: u32, data: &[u8], room: usize, stats: &mut FlowStats) {
    let ahead = seq.wrapping_sub(st.next);
    if ahead == 0 || ahead > u32::MAX / 2 {
        // In order, or starting before `next` (a retransmission or an overlap): keep what is new.
        let behind = if ahead == 0 {
            0
        } else {
            st.next.wrapping_sub(seq)
        } as usize;
        if behind >= data.len() {
            return;
        }
        append(st, &data[behind..], room, stats);
        // Segments that waited for this gap.
        while let Some(i) = st
            .pending
            .iter()
            .position(|(s, _)| s.wrapping_sub(st.next) > u32::MAX / 2 || *s == st.next)
        {
            let (s, bytes) = st.pending.swap_remove(i);
            st.pending_bytes -= bytes.len();
            let behind = st.next.wrapping_sub(s) as usize;
            if behind < bytes.len() {
                append(st, &bytes[behind..], room, stats);
            }
        }
    } else if ahead <= MAX_WINDOW {
        if st.pending.len() >= MAX_PENDING_SEGMENTS
            || st.held() + data.len() > MAX_STREAM_BUFFER.min(room)
        {
            stats.over_budget += 1;
            st.finish();
            return;
        }
        if st
            .pending
            .iter()
            .any(|(s, b)| *s == seq && b.len() >= data.len())
        {
            return; // a retransmission of a segment already waiting
        }
        st.pending_bytes += data.len();
        st.pending.push((seq, data.to_vec()));
    }
    // Further ahead than any window: a bogus or foreign segment, ignored.
}

fn append(st: &mut Stream, mut data: &[u8], room: usize, stats: &mut FlowStats) {
    st.next = st.next.wrapping_add(data.len() as u32);
    if st.skip > 0 {
        let n = (st.skip.min(data.len() as u64)) as usize;
        st.skip -= n as u64;
        data = &data[n..];
    }
    if data.is_empty() {
        return;
    }
    if st.held() + data.len() > MAX_STREAM_BUFFER.min(room) {
        stats.over_budget += 1;
        st.finish();
        return;
    }
    st.buf.extend_from_slice(data);
}

const METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// Runs the stream's parser over its buffered bytes.
fn parse(st: &mut Stream, key: StreamKey, events: &mut Vec<AppEvent>) {
    if st.app == App::Unknown {
        st.app = classify(&st.buf, key);
    }
    match st.app {
        App::Unknown | App::Done => {}
        App::Tls => parse_tls(st, events),
        App::Http => parse_http(st, events),
        App::Dns => parse_dns(st, events),
    }
    if st.app == App::Done {
        st.finish();
    }
}

fn classify(b: &[u8], key: StreamKey) -> App {
    if b.is_empty() {
        return App::Unknown;
    }
    if key.sport == 53 || key.dport == 53 {
        return App::Dns;
    }
    if b[0] == 0x16 {
        return match (b.get(1), b.get(5)) {
            (Some(3), Some(1)) => App::Tls,
            (Some(3), None) | (None, _) => App::Unknown,
            _ => App::Done,
        };
    }
    for m in METHODS {
        let n = m.len().min(b.len());
        if b[..n] == m[..n] {
            return if n == m.len() {
                App::Http
            } else {
                App::Unknown
            };
        }
    }
    App::Done
}

fn parse_tls(st: &mut Stream, events: &mut Vec<AppEvent>) {
    // Handshake records until the ClientHello is whole.
    let mut at = 0;
    while st.buf.len() >= at + 5 {
        let rec = &st.buf[at..];
        let len = usize::from(u16::from_be_bytes([rec[3], rec[4]]));
        if rec[0] != 0x16 || rec[1] != 3 || len > 18 * 1024 {
            st.app = App::Done;
            return;
        }
        if rec.len() < 5 + len {
            break;
        }
        st.handshake.extend_from_slice(&rec[5..5 + len]);
        at += 5 + len;
        let hs = &st.handshake;
        if hs.len() >= 4 {
            let hlen = (usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]);
            if hs[0] != 1 || hlen > MAX_STREAM_BUFFER - 4 {
                st.app = App::Done;
                return;
            }
            if hs.len() >= 4 + hlen {
                if let Some(sni) = client_hello_sni(&hs[4..4 + hlen]) {
                    events.push(("TLS ClientHello", vec![Observable::new(K::Domain, sni)]));
                }
                st.app = App::Done;
                return;
            }
        }
    }
    st.buf.drain(..at);
}

/// The server name in a ClientHello body (after the handshake header).
pub(crate) fn client_hello_sni(d: &[u8]) -> Option<String> {
    let be16 = |i: usize| {
        Some(usize::from(u16::from_be_bytes([
            *d.get(i)?,
            *d.get(i + 1)?,
        ])))
    };
    // version(2) random(32)
    let mut at = 2 + 32;
    at += 1 + usize::from(*d.get(at)?);
    at += 2 + be16(at)?;
    at += 1 + usize::from(*d.get(at)?);
    let ext_total = be16(at)?;
    at += 2;
    let end = (at + ext_total).min(d.len());
    while at + 4 <= end {
        let ty = be16(at)?;
        let len = be16(at + 2)?;
        let body = d.get(at + 4..at + 4 + len)?;
        if ty == 0 {
            // server_name_list: len(2) { type(1) len(2) name }
            let name_len = usize::from(u16::from_be_bytes([*body.get(3)?, *body.get(4)?]));
            let name = body.get(5..5 + name_len)?;
            let name = std::str::from_utf8(name).ok()?;
            return (!name.is_empty()).then(|| name.to_string());
        }
        at += 4 + len;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn parse_http(st: &mut Stream, events: &mut Vec<AppEvent>) {
    loop {
        if st.skip > 0 {
            let n = (st.skip.min(st.buf.len() as u64)) as usize;
            st.buf.drain(..n);
            st.skip -= n as u64;
            if st.skip > 0 {
                return;
            }
        }
        if st.buf.is_empty() {
            return;
        }
        let Some(end) = find(&st.buf[..st.buf.len().min(MAX_HTTP_HEAD)], b"\r\n\r\n")
            .map(|i| i + 4)
            .or_else(|| find(&st.buf[..st.buf.len().min(MAX_HTTP_HEAD)], b"\n\n").map(|i| i + 2))
        else {
            if st.buf.len() >= MAX_HTTP_HEAD {
                st.app = App::Done;
            }
            return;
        };
        let head = &st.buf[..end];
        if !METHODS.iter().any(|m| head.starts_with(m)) {
            st.app = App::Done;
            return;
        }
        let Some(req) = http_request(head) else {
            st.app = App::Done;
            return;
        };
        if let Some((host, path)) = req.host_path {
            let domain = host.split(':').next().unwrap_or(&host).to_string();
            events.push((
                "HTTP request",
                vec![
                    Observable::new(K::Domain, domain),
                    Observable::new(K::Url, format!("http://{host}{path}")),
                ],
            ));
        }
        if req.chunked {
            // Chunked request bodies are rare; the rest of the connection is not read.
            st.app = App::Done;
            return;
        }
        st.buf.drain(..end);
        st.skip = req.content_length;
    }
}

/// What the header block of one HTTP request says.
pub(crate) struct HttpRequest {
    /// The `Host` header and the path of the request target.
    pub host_path: Option<(String, String)>,
    pub content_length: u64,
    pub chunked: bool,
}

/// Reads a request line and headers (the bytes up to the blank line, or fewer).
pub(crate) fn http_request(head: &[u8]) -> Option<HttpRequest> {
    let m = METHODS.iter().find(|m| head.starts_with(m))?;
    let line_end = head.iter().position(|b| *b == b'\r' || *b == b'\n')?;
    let target = std::str::from_utf8(&head[m.len()..line_end]).ok()?;
    let target = target.split(' ').next().unwrap_or("/");
    let mut req = HttpRequest {
        host_path: None,
        content_length: 0,
        chunked: false,
    };
    let mut host = None;
    for line in head[line_end..].split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (k, v) = (&line[..colon], line[colon + 1..].trim_ascii());
        if k.eq_ignore_ascii_case(b"host") && host.is_none() {
            host = Some(String::from_utf8_lossy(v).into_owned());
        } else if k.eq_ignore_ascii_case(b"content-length") {
            req.content_length = std::str::from_utf8(v)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        } else if k.eq_ignore_ascii_case(b"transfer-encoding") {
            req.chunked = v.to_ascii_lowercase().windows(7).any(|w| w == b"chunked");
        }
    }
    // An absolute-form target (a proxy request) names the host itself.
    let (host, path) = match target.split_once("://") {
        Some((_, rest)) => {
            let (auth, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let auth = if auth.is_empty() {
                host
            } else {
                Some(auth.to_string())
            };
            (auth, path.to_string())
        }
        None => (host, target.to_string()),
    };
    if let Some(host) = host.filter(|h| !h.is_empty()) {
        let path = if path.starts_with('/') {
            path
        } else {
            "/".to_string()
        };
        req.host_path = Some((host, path));
    }
    Some(req)
}

fn parse_dns(st: &mut Stream, events: &mut Vec<AppEvent>) {
    let mut at = 0;
    while st.buf.len() >= at + 2 {
        let len = usize::from(u16::from_be_bytes([st.buf[at], st.buf[at + 1]]));
        if st.buf.len() < at + 2 + len {
            break;
        }
        let msg = &st.buf[at + 2..at + 2 + len];
        let mut obs = Vec::new();
        if let Some(response) = crate::pcap::dns(msg, &mut obs) {
            if !obs.is_empty() {
                events.push((
                    if response {
                        "DNS response"
                    } else {
                        "DNS query"
                    },
                    obs,
                ));
            }
        }
        at += 2 + len;
    }
    st.buf.drain(..at);
}

/// The fuzz target's driver: the input's first byte picks the protocol (by
/// port) and the segment size; the rest is the client's byte stream, cut into
/// segments that are delivered partly swapped and partly retransmitted.
pub(crate) fn fuzz_streams(bytes: &[u8]) -> usize {
    let Some((&ctl, data)) = bytes.split_first() else {
        return 0;
    };
    let key = StreamKey {
        src: IpAddr::from([10, 0, 0, 1]),
        dst: IpAddr::from([10, 0, 0, 2]),
        sport: 40000,
        dport: [443, 80, 53][usize::from(ctl % 3)],
    };
    let mut table = StreamTable::new(64, 1 << 20);
    let mut events = Vec::new();
    let syn = Segment {
        seq: u32::MAX - 3,
        syn: true,
        fin: false,
        rst: false,
        payload: &[],
    };
    table.segment(key, syn, 0, &mut events);
    let size = usize::from(ctl >> 2).max(1);
    let mut seq = syn.seq.wrapping_add(1);
    let mut segments = Vec::new();
    for chunk in data.chunks(size) {
        segments.push((seq, chunk));
        seq = seq.wrapping_add(chunk.len() as u32);
    }
    let mut order: Vec<usize> = (0..segments.len()).collect();
    for i in (1..order.len()).step_by(3) {
        order.swap(i - 1, i);
    }
    for (n, &i) in order.iter().enumerate() {
        let (seq, payload) = segments[i];
        let s = Segment {
            seq,
            payload,
            ..Segment { syn: false, ..syn }
        };
        table.segment(key, s, n as i64, &mut events);
        if n % 5 == 0 {
            table.segment(key, s, n as i64, &mut events);
        }
    }
    assert!(
        table.held <= table.budget,
        "reassembly held more than its budget"
    );
    events.iter().map(|e| e.1.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StreamKey {
        StreamKey {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            sport: 40000,
            dport: 443,
        }
    }

    fn seg(seq: u32, payload: &[u8]) -> Segment<'_> {
        Segment {
            seq,
            syn: false,
            fin: false,
            rst: false,
            payload,
        }
    }

    #[test]
    fn gaps_that_never_fill_stay_within_the_budget() {
        let mut t = StreamTable::new(1000, 200_000);
        let mut ev = Vec::new();
        let syn = Segment {
            syn: true,
            ..seg(0, b"")
        };
        for port in 0..500u16 {
            let k = StreamKey {
                sport: port,
                ..key()
            };
            t.segment(k, syn, 0, &mut ev);
            t.segment(k, seg(1, &[0x16, 3, 1, 0x40, 0]), 0, &mut ev);
            // Segments after a gap that is never filled.
            for i in 0..100u32 {
                t.segment(k, seg(1000 + i * 1000, &[7; 1000]), 0, &mut ev);
            }
            assert!(t.held() <= 200_000, "held {}", t.held());
        }
        assert!(t.stats.over_budget > 0);
        assert!(ev.is_empty());
    }

    #[test]
    fn table_of_half_open_connections_is_capped() {
        let mut t = StreamTable::new(100, 1 << 20);
        let mut ev = Vec::new();
        for port in 0..10_000u16 {
            let k = StreamKey {
                sport: port,
                ..key()
            };
            let syn = Segment {
                syn: true,
                ..seg(u32::from(port), b"")
            };
            t.segment(k, syn, 0, &mut ev);
        }
        assert!(t.len() <= 100);
        assert!(t.stats.table_full > 0);
    }
}
