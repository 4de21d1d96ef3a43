//! QUIC Initial packets: the server name in the TLS ClientHello they carry.
//!
//! A client's first flight is protected only with keys anyone can derive
//! from the Destination Connection ID in its header (RFC 9001 §5.2): an
//! HKDF-SHA256 extract with the version's published salt, then
//! `client in`, `quic key`, `quic iv` and `quic hp` expansions. Header
//! protection is removed with AES-128 on a sample of the ciphertext, the
//! payload opened with AES-128-GCM, and the CRYPTO frames put back in order
//! (a ClientHello with large key shares spans several packets, and clients
//! shuffle the frames) until the whole ClientHello is there.
//!
//! QUIC version 1 (RFC 9000), version 2 (RFC 9369) and draft 29 are known.
//! State is bounded: at most [`MAX_PENDING`] unfinished ClientHellos of at
//! most [`MAX_HELLO`] bytes each; malformed or undecryptable packets are
//! ignored.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes_gcm::aead::AeadInPlace;
use hkdf::Hkdf;
use rustc_hash::FxHashMap;
use sha2::Sha256;

/// Largest ClientHello reassembled (real ones are under 2 KiB, or about 3 with post-quantum key shares).
pub(crate) const MAX_HELLO: usize = 16 << 10;
/// Unfinished ClientHellos held at once; when full, all are dropped.
pub(crate) const MAX_PENDING: usize = 4096;

/// A QUIC version whose Initial packets can be opened.
pub(crate) struct Version {
    id: u32,
    salt: [u8; 20],
    /// The long-header packet type of Initial packets.
    initial_type: u8,
    labels: [&'static str; 3],
}

pub(crate) const VERSIONS: [Version; 3] = [
    Version {
        id: 0x0000_0001,
        salt: [
            0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
            0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
        ],
        initial_type: 0,
        labels: ["quic key", "quic iv", "quic hp"],
    },
    Version {
        id: 0x6b33_43cf,
        salt: [
            0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26,
            0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
        ],
        initial_type: 1,
        labels: ["quicv2 key", "quicv2 iv", "quicv2 hp"],
    },
    Version {
        id: 0xff00_001d,
        salt: [
            0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61,
            0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99,
        ],
        initial_type: 0,
        labels: ["quic key", "quic iv", "quic hp"],
    },
];

/// The packet-protection keys of one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialKeys {
    /// AEAD key (AES-128-GCM).
    pub key: [u8; 16],
    /// AEAD nonce base.
    pub iv: [u8; 12],
    /// Header-protection key (AES-128).
    pub hp: [u8; 16],
}

/// HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1) with an empty context.
fn expand_label(prk: &Hkdf<Sha256>, label: &str, out: &mut [u8]) -> Option<()> {
    let mut info = Vec::with_capacity(4 + 6 + label.len());
    info.extend_from_slice(&(out.len() as u16).to_be_bytes());
    info.push((6 + label.len()) as u8);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(0);
    prk.expand(&info, out).ok()
}

/// The client's Initial keys for a Destination Connection ID (RFC 9001 §5.2).
pub(crate) fn client_initial_keys(version: &Version, dcid: &[u8]) -> Option<InitialKeys> {
    let (_, initial) = Hkdf::<Sha256>::extract(Some(&version.salt), dcid);
    let mut client = [0u8; 32];
    expand_label(&initial, "client in", &mut client)?;
    let client = Hkdf::<Sha256>::from_prk(&client).ok()?;
    let mut k = InitialKeys {
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    expand_label(&client, version.labels[0], &mut k.key)?;
    expand_label(&client, version.labels[1], &mut k.iv)?;
    expand_label(&client, version.labels[2], &mut k.hp)?;
    Some(k)
}

/// The QUIC v1 client Initial keys for `dcid` (exposed for the RFC 9001 test vectors).
pub fn client_initial_keys_v1(dcid: &[u8]) -> Option<InitialKeys> {
    client_initial_keys(&VERSIONS[0], dcid)
}

/// A QUIC variable-length integer (RFC 9000 §16) at `*at`, advancing it.
pub(crate) fn varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let first = *b.get(*at)?;
    let len = 1usize << (first >> 6);
    let bytes = b.get(*at..at.checked_add(len)?)?;
    let v = bytes[1..]
        .iter()
        .fold(u64::from(first & 0x3f), |v, x| (v << 8) | u64::from(*x));
    *at += len;
    Some(v)
}

/// The header-protection mask: AES-128 of the 16-byte sample (RFC 9001 §5.4.3).
pub(crate) fn hp_mask(hp: &[u8; 16], sample: &[u8]) -> Option<[u8; 16]> {
    let cipher = aes::Aes128::new(hp.into());
    let mut block = aes::Block::clone_from_slice(sample.get(..16)?);
    cipher.encrypt_block(&mut block);
    Some(block.into())
}

/// The AEAD nonce of packet number `pn`.
pub(crate) fn nonce(iv: &[u8; 12], pn: u64) -> [u8; 12] {
    let mut n = *iv;
    for (a, b) in n[4..].iter_mut().zip(pn.to_be_bytes()) {
        *a ^= b;
    }
    n
}

/// Receives each CRYPTO frame as `(destination connection id, offset, data)`.
type CryptoSink<'a> = dyn FnMut(&[u8], u64, &[u8]) + 'a;

/// Calls `f(dcid, offset, data)` for every CRYPTO frame of every client
/// Initial packet in one UDP payload (long-header packets may be coalesced).
pub(crate) fn client_initial_crypto(datagram: &[u8], f: &mut CryptoSink<'_>) {
    let mut rest = datagram;
    // A datagram holds at most a handful of coalesced packets.
    for _ in 0..8 {
        let Some(len) = long_packet(rest, f) else {
            return;
        };
        rest = &rest[len..];
    }
}

/// Handles the long-header packet at the start of `p`; returns its length.
fn long_packet(p: &[u8], f: &mut CryptoSink<'_>) -> Option<usize> {
    let first = *p.first()?;
    // Long header with the fixed bit set.
    if first & 0xc0 != 0xc0 {
        return None;
    }
    let id = u32::from_be_bytes(p.get(1..5)?.try_into().ok()?);
    let version = VERSIONS.iter().find(|v| v.id == id)?;
    let ty = (first >> 4) & 0x03;
    let mut at = 5;
    let dcid_len = usize::from(*p.get(at)?);
    if dcid_len > 20 {
        return None;
    }
    let dcid = p.get(at + 1..at + 1 + dcid_len)?;
    at += 1 + dcid_len;
    let scid_len = usize::from(*p.get(at)?);
    if scid_len > 20 {
        return None;
    }
    at += 1 + scid_len;
    let initial = ty == version.initial_type;
    // Retry packets (type 3 in v1, 0 in v2) have no length: they end the datagram.
    let retry = ty == (version.initial_type + 3) & 0x03;
    if retry {
        return None;
    }
    if initial {
        let token = usize::try_from(varint(p, &mut at)?).ok()?;
        at = at.checked_add(token)?;
    }
    let length = usize::try_from(varint(p, &mut at)?).ok()?;
    let end = at.checked_add(length)?;
    let packet = p.get(..end)?;
    if initial {
        if let Some(plain) = open(version, packet, at, dcid) {
            crypto_frames(&plain, &mut |off, data| f(dcid, off, data));
        }
    }
    Some(end)
}

/// Removes header protection and opens an Initial packet; `pn_offset` is where the packet number starts.
fn open(version: &Version, packet: &[u8], pn_offset: usize, dcid: &[u8]) -> Option<Vec<u8>> {
    let keys = client_initial_keys(version, dcid)?;
    let mask = hp_mask(&keys.hp, packet.get(pn_offset + 4..pn_offset + 20)?)?;
    let first = packet[0] ^ (mask[0] & 0x0f);
    let pn_len = usize::from(first & 0x03) + 1;
    let mut header = packet.get(..pn_offset + pn_len)?.to_vec();
    header[0] = first;
    let mut pn = 0u64;
    for i in 0..pn_len {
        header[pn_offset + i] ^= mask[1 + i];
        pn = (pn << 8) | u64::from(header[pn_offset + i]);
    }
    let body = &packet[pn_offset + pn_len..];
    let split = body.len().checked_sub(16)?;
    let (ciphertext, tag) = body.split_at(split);
    let mut plain = ciphertext.to_vec();
    let aead = aes_gcm::Aes128Gcm::new((&keys.key).into());
    aead.decrypt_in_place_detached(
        (&nonce(&keys.iv, pn)).into(),
        &header,
        &mut plain,
        tag.into(),
    )
    .ok()?;
    Some(plain)
}

/// Walks the frames of an Initial packet's plaintext, passing on CRYPTO frames.
fn crypto_frames(b: &[u8], f: &mut dyn FnMut(u64, &[u8])) {
    let mut at = 0;
    while at < b.len() {
        let Some(ty) = varint(b, &mut at) else {
            return;
        };
        let ok = match ty {
            // PADDING, PING
            0x00 | 0x01 => Some(()),
            // ACK (with ECN counts for 0x03)
            0x02 | 0x03 => (|| {
                for _ in 0..2 {
                    varint(b, &mut at)?;
                }
                let ranges = varint(b, &mut at)?;
                varint(b, &mut at)?;
                // Each range takes at least two bytes, so this ends with the packet.
                for _ in 0..ranges.min(b.len() as u64) {
                    varint(b, &mut at)?;
                    varint(b, &mut at)?;
                }
                if ty == 0x03 {
                    for _ in 0..3 {
                        varint(b, &mut at)?;
                    }
                }
                Some(())
            })(),
            // CRYPTO
            0x06 => (|| {
                let off = varint(b, &mut at)?;
                let len = usize::try_from(varint(b, &mut at)?).ok()?;
                let data = b.get(at..at.checked_add(len)?)?;
                at += len;
                f(off, data);
                Some(())
            })(),
            // CONNECTION_CLOSE or anything not allowed in an Initial packet.
            _ => None,
        };
        if ok.is_none() {
            return;
        }
    }
}

/// One ClientHello being put together from CRYPTO frames.
#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    /// Received byte ranges, unsorted and possibly overlapping.
    have: Vec<(usize, usize)>,
}

impl Pending {
    /// Bytes from offset 0 without a gap.
    fn contiguous(&mut self) -> usize {
        self.have.sort_unstable();
        // Merge overlapping and touching ranges so the list stays short.
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.have.len());
        for &(s, e) in &self.have {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.have = merged;
        match self.have.first() {
            Some(&(0, e)) => e,
            _ => 0,
        }
    }
}

/// What the ClientHello of a connection came to.
enum Hello {
    /// Not all of it yet.
    Incomplete,
    /// Complete, with this server name (or none).
    Done(Option<String>),
}

/// ClientHellos of QUIC connections, reassembled from their client Initial packets.
#[derive(Default)]
pub(crate) struct QuicHellos {
    pending: FxHashMap<Vec<u8>, Pending>,
}

impl QuicHellos {
    /// Feeds one UDP payload; returns the server names of the ClientHellos it completes.
    pub(crate) fn datagram(&mut self, payload: &[u8]) -> Vec<String> {
        // Cheap test first: a long header with the fixed bit and a known version.
        if payload.len() < 7 || payload[0] & 0xc0 != 0xc0 {
            return Vec::new();
        }
        let mut touched: Vec<Vec<u8>> = Vec::new();
        let pending = &mut self.pending;
        client_initial_crypto(payload, &mut |dcid, off, data| {
            add_crypto(pending, &mut touched, dcid, off, data);
        });
        self.finish(touched)
    }

    /// Feeds the plaintext frames of one Initial packet of connection `dcid`
    /// (for the fuzz target: encryption would hide the frame parser from it).
    pub(crate) fn plaintext_frames(&mut self, dcid: &[u8], frames: &[u8]) -> Vec<String> {
        let mut touched: Vec<Vec<u8>> = Vec::new();
        let pending = &mut self.pending;
        crypto_frames(frames, &mut |off, data| {
            add_crypto(pending, &mut touched, dcid, off, data);
        });
        self.finish(touched)
    }

    /// The server names of the ClientHellos now complete among `touched` connections.
    fn finish(&mut self, touched: Vec<Vec<u8>>) -> Vec<String> {
        let mut names = Vec::new();
        for dcid in touched {
            let Some(p) = self.pending.get_mut(&dcid) else {
                continue;
            };
            match hello(p) {
                Hello::Done(name) => {
                    self.pending.remove(&dcid);
                    names.extend(name);
                }
                // Thousands of disjoint pieces: not a ClientHello worth holding.
                Hello::Incomplete if p.have.len() > MAX_PIECES => {
                    self.pending.remove(&dcid);
                }
                Hello::Incomplete => {}
            }
        }
        names
    }
}

/// Most disjoint byte ranges kept for one unfinished ClientHello.
const MAX_PIECES: usize = 1024;

/// Stores one CRYPTO frame of connection `dcid`.
fn add_crypto(
    pending: &mut FxHashMap<Vec<u8>, Pending>,
    touched: &mut Vec<Vec<u8>>,
    dcid: &[u8],
    off: u64,
    data: &[u8],
) {
    let Ok(off) = usize::try_from(off) else {
        return;
    };
    let end = off.saturating_add(data.len());
    if end > MAX_HELLO {
        return;
    }
    if pending.len() >= MAX_PENDING && !pending.contains_key(dcid) {
        pending.clear();
        touched.clear();
    }
    let p = pending.entry(dcid.to_vec()).or_default();
    if p.buf.len() < end {
        p.buf.resize(end, 0);
    }
    p.buf[off..end].copy_from_slice(data);
    p.have.push((off, end));
    if !touched.iter().any(|t| t == dcid) {
        touched.push(dcid.to_vec());
    }
}

fn hello(p: &mut Pending) -> Hello {
    let have = p.contiguous();
    if have < 4 {
        return Hello::Incomplete;
    }
    // Handshake message: type 1 (ClientHello), 24-bit length.
    if p.buf[0] != 1 {
        return Hello::Done(None);
    }
    let len =
        4 + (usize::from(p.buf[1]) << 16 | usize::from(p.buf[2]) << 8 | usize::from(p.buf[3]));
    if len > MAX_HELLO {
        return Hello::Done(None);
    }
    if have < len {
        return Hello::Incomplete;
    }
    Hello::Done(crate::flow::client_hello_sni(&p.buf[4..len]))
}

/// Builds protected client Initial packets (for tests and benchmarks): the
/// ClientHello handshake message `hello` cut into `pieces` CRYPTO frames, one
/// per packet, sent in reverse order, each datagram padded to 1200 bytes.
pub(crate) fn client_initials(dcid: &[u8], hello: &[u8], pieces: usize) -> Vec<Vec<u8>> {
    let version = &VERSIONS[0];
    let Some(keys) = client_initial_keys(version, dcid) else {
        return Vec::new();
    };
    let pieces = pieces.clamp(1, hello.len().max(1));
    let step = hello.len().div_ceil(pieces).max(1);
    let mut out = Vec::new();
    for (i, chunk) in hello.chunks(step).enumerate().rev() {
        let mut plain = vec![0x06];
        push_varint(&mut plain, (i * step) as u64);
        push_varint(&mut plain, chunk.len() as u64);
        plain.extend_from_slice(chunk);
        let pn = i as u64;
        let mut header = vec![0xc1]; // Initial, 2-byte packet number
        header.extend_from_slice(&version.id.to_be_bytes());
        header.push(dcid.len() as u8);
        header.extend_from_slice(dcid);
        header.extend_from_slice(&[8, 0x5c, 0x1d, 0xc0, 0xde, 0x5c, 0x1d, 0xc0, 0xde]);
        header.push(0); // no token
        let overhead = header.len() + 2 + 2 + 16;
        plain.resize(plain.len().max(1200usize.saturating_sub(overhead)), 0);
        push_varint_2(&mut header, (2 + plain.len() + 16) as u64);
        let pn_offset = header.len();
        header.extend_from_slice(&(pn as u16).to_be_bytes());
        let aead = aes_gcm::Aes128Gcm::new((&keys.key).into());
        let Ok(tag) =
            aead.encrypt_in_place_detached((&nonce(&keys.iv, pn)).into(), &header, &mut plain)
        else {
            return Vec::new();
        };
        let mut packet = header;
        packet.extend_from_slice(&plain);
        packet.extend_from_slice(&tag);
        let Some(mask) = packet
            .get(pn_offset + 4..pn_offset + 20)
            .and_then(|s| hp_mask(&keys.hp, s))
        else {
            return Vec::new();
        };
        packet[0] ^= mask[0] & 0x0f;
        packet[pn_offset] ^= mask[1];
        packet[pn_offset + 1] ^= mask[2];
        out.push(packet);
    }
    out
}

fn push_varint(out: &mut Vec<u8>, v: u64) {
    if v < 64 {
        out.push(v as u8);
    } else if v < 16384 {
        push_varint_2(out, v);
    } else {
        out.extend_from_slice(&((v as u32) | 0x8000_0000).to_be_bytes());
    }
}

fn push_varint_2(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&((v as u16) | 0x4000).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_of_rfc_9000_appendix_a1() {
        for (hex, v) in [
            ("c2197c5eff14e88c", 151_288_809_941_952_652u64),
            ("9d7f3e7d", 494_878_333),
            ("7bbd", 15_293),
            ("25", 37),
            ("4025", 37),
        ] {
            let b: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            let mut at = 0;
            assert_eq!(varint(&b, &mut at), Some(v));
            assert_eq!(at, b.len());
        }
        assert_eq!(varint(&[0xc2, 0x19], &mut 0), None);
    }

    #[test]
    fn built_initials_open_again_in_any_order() {
        let hello = &crate::synth::tls_client_hello("quic.example.net")[5..];
        for pieces in [1, 2, 3] {
            let mut q = QuicHellos::default();
            let packets = client_initials(b"\x01\x02\x03\x04\x05\x06\x07\x08", hello, pieces);
            assert_eq!(packets.len(), pieces);
            let mut names = Vec::new();
            for (i, p) in packets.iter().enumerate() {
                assert_eq!(p.len(), 1200);
                let got = q.datagram(p);
                // Only the last piece completes the ClientHello.
                assert_eq!(got.is_empty(), i + 1 < pieces, "{pieces} {i}");
                names.extend(got);
            }
            assert_eq!(names, ["quic.example.net"]);
            assert!(q.pending.is_empty());
        }
    }

    #[test]
    fn plaintext_frames_out_of_order_and_the_piece_cap() {
        let hello = &crate::synth::tls_client_hello("frames.example")[5..];
        let mut frames = Vec::new();
        // Second half first, with PADDING, PING and an ACK between the frames.
        let half = hello.len() / 2;
        for (off, part) in [(half, &hello[half..]), (0, &hello[..half])] {
            frames.extend_from_slice(&[0x00, 0x01, 0x02, 0x05, 0x00, 0x01, 0x00, 0x02, 0x01]);
            frames.push(0x06);
            push_varint(&mut frames, off as u64);
            push_varint(&mut frames, part.len() as u64);
            frames.extend_from_slice(part);
        }
        let mut q = QuicHellos::default();
        assert_eq!(q.plaintext_frames(b"c1", &frames), ["frames.example"]);
        // One-byte pieces with gaps: dropped once there are too many, not kept growing.
        let mut q = QuicHellos::default();
        for i in 0..(MAX_PIECES as u64 + 10) {
            let mut f = vec![0x06];
            push_varint(&mut f, 2 + 2 * i);
            f.extend_from_slice(&[1, 0xaa]);
            q.plaintext_frames(b"c2", &f);
            assert!(q
                .pending
                .get(&b"c2"[..])
                .is_none_or(|p| p.have.len() <= MAX_PIECES + 1));
        }
    }

    #[test]
    fn pending_hellos_are_bounded() {
        let hello = &crate::synth::tls_client_hello("x.example")[5..];
        let mut q = QuicHellos::default();
        for i in 0..(MAX_PENDING + 10) as u32 {
            let dcid = i.to_be_bytes();
            // Only the second half of each ClientHello: it never completes.
            let packets = client_initials(&dcid, hello, 2);
            assert!(q.datagram(&packets[0]).is_empty());
            assert!(q.pending.len() <= MAX_PENDING);
        }
    }
}
