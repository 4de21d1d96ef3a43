//! A byte scanner that pulls domains, URLs, addresses, hashes and e-mail
//! addresses out of free text without allocating.

use std::net::{Ipv4Addr, Ipv6Addr};

use vigil_artefact::ObservableKind;

use crate::Kinds;

/// A byte's class: 0 outside tokens; inside, [`T`] plus what it may tell about the token.
const T: u8 = 1;
const DOT: u8 = 2;
const COLON: u8 = 4;
const AT: u8 = 8;
const NOT_HEX: u8 = 16;
const PERCENT: u8 = 32;
/// A byte other than a digit or a dot.
const NOT_DIGIT_DOT: u8 = 64;

/// Bytes that may be part of a token: letters, digits, `. - _ @ : %` and non-ASCII.
const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'-' | b'_' | b'@' | b':' | b'%')
            || b >= 0x80
        {
            t[i] = T;
            if !b.is_ascii_hexdigit() {
                t[i] |= NOT_HEX;
            }
            if !(b.is_ascii_digit() || b == b'.') {
                t[i] |= NOT_DIGIT_DOT;
            }
            match b {
                b'.' => t[i] |= DOT,
                b':' => t[i] |= COLON,
                b'@' => t[i] |= AT,
                b'%' => t[i] |= PERCENT,
                _ => {}
            }
        }
        i += 1;
    }
    t
}

static CLASS: [u8; 256] = class_table();

/// Bytes that end a URL.
fn url_end(b: u8) -> bool {
    b.is_ascii_whitespace()
        || b.is_ascii_control()
        || matches!(
            b,
            b'"' | b'\'' | b'<' | b'>' | b'`' | b'|' | b'^' | b'{' | b'}' | b'\\'
        )
}

/// Calls `out` for every observable found in `text`, in order of appearance.
///
/// URLs (`scheme://…`) are reported whole, and the names and addresses inside
/// them are reported again as tokens (a redirect target in a query string is
/// a domain too). Tokens are classified as an IPv4 or IPv6 address, an MD5,
/// SHA-1, SHA-256 or SHA-512 hash (hex of that length), an e-mail address, or
/// a domain (dotted, ending in an alphabetic label of two or more letters).
pub fn extract_observables(text: &str, out: &mut dyn FnMut(ObservableKind, &str)) {
    extract_observables_of(text, Kinds::ALL, out);
}

/// Calls `out` for every observable of `kinds` in `text`: exactly what
/// [`extract_observables`] reports, less the other kinds, found with less work.
///
/// Without hashes among `kinds`, only tokens holding a `.` (or a `:`, when
/// URLs or IPv6 addresses are wanted) can yield anything, and fewer still
/// when addresses are not wanted (a name needs a dot followed by a letter, a
/// URL a colon followed by a slash). The text is classified 64 bytes at a
/// time into bit masks, those tokens are found from the masks' bits, and
/// the bytes between them are not looked at one by one. Addresses are
/// parsed only when wanted.
pub fn extract_observables_of(text: &str, kinds: Kinds, out: &mut dyn FnMut(ObservableKind, &str)) {
    use ObservableKind as K;
    let b = text.as_bytes();
    let mut out = |k: ObservableKind, v: &str| {
        if kinds.contains(k) {
            out(k, v)
        }
    };
    if kinds.contains(K::FileHash) {
        // A hash is a token of hex alone: every token must be looked at.
        let mut i = 0;
        while i < b.len() {
            if CLASS[b[i] as usize] == 0 {
                i += 1;
                continue;
            }
            let start = i;
            let seen;
            (i, seen) = token_end(b, i);
            // Most tokens are words or numbers: without a dot, colon or at sign a
            // token can only be a hash, which is hex of a fixed length.
            if seen & (DOT | COLON | AT) == 0
                && (seen & NOT_HEX != 0 || !matches!(i - start, 32 | 40 | 64 | 128))
            {
                continue;
            }
            token(text, start, i, seen, kinds, &mut out);
        }
        return;
    }
    // Which bytes make a token worth reading. Every dot and colon would do;
    // fewer suffice when some kinds are not wanted: a name (alone, in an
    // e-mail address or in a URL) ends in a label that starts with a letter,
    // so it holds a dot followed by a letter; a URL is found from `scheme://`,
    // a colon followed by a slash. Only IPv4 addresses need every dot, and
    // only IPv6 addresses every colon.
    let marks = Marks {
        any_dot: kinds.contains(K::Ipv4),
        dot_letter: kinds.contains(K::Domain) || kinds.contains(K::Email),
        any_colon: kinds.contains(K::Ipv6),
        colon_slash: kinds.contains(K::Url),
    };
    if !(marks.any_dot || marks.dot_letter || marks.any_colon || marks.colon_slash) {
        return;
    }
    // The text is read 64 bytes at a time into bit masks (token bytes, marks
    // and colons); tokens holding a mark are found from the marks' bits and
    // widened to their ends with the token mask, so the bytes between them
    // are never looked at one by one.
    let n = b.len();
    // Bytes before `i` are done; `i` is 0 or a token's end.
    let mut i = 0;
    let mut chunk = 0;
    while chunk < n {
        let ChunkMasks {
            token: t,
            mark: m,
            colon,
        } = chunk_masks(b, chunk, marks);
        // Marks before `i` belong to tokens already read.
        let mut pending = if i > chunk {
            m & (u64::MAX << (i - chunk))
        } else {
            m
        };
        while pending != 0 {
            let at = pending.trailing_zeros() as usize;
            // The token starts after the last non-token byte before the mark…
            let below = !t & ((1u64 << at) - 1);
            let (start, whole_start) = if below != 0 {
                let s = 64 - below.leading_zeros() as usize;
                (chunk + s, s)
            } else {
                (token_start(b, chunk, i), 0)
            };
            // …and ends at the first non-token byte after it.
            let above = !t & (u64::MAX << at);
            let end_bit = above.trailing_zeros() as usize;
            let end = if above != 0 {
                chunk + end_bit
            } else {
                token_end(b, chunk + 64).0
            };
            let colons = if below != 0 && above != 0 {
                // The token lies in this chunk: its colons are in the mask.
                colon & ((1u64 << end_bit) - 1) & (u64::MAX << whole_start) != 0
            } else {
                // (A short loop: `contains` would call `memchr` for a few bytes.)
                #[allow(clippy::manual_contains)]
                let any = b[start..end].iter().any(|c| *c == b':');
                any
            };
            token(
                text,
                start,
                end,
                if colons { COLON } else { 0 },
                kinds,
                &mut out,
            );
            i = end;
            if end >= chunk + 64 {
                break;
            }
            pending &= u64::MAX << (end - chunk);
        }
        chunk = (chunk + 64).max(i & !63);
    }
}

/// Which bytes mark a token to be read (see [`extract_observables_of`]).
#[derive(Clone, Copy)]
struct Marks {
    any_dot: bool,
    dot_letter: bool,
    any_colon: bool,
    colon_slash: bool,
}

/// True for the bytes [`CLASS`] calls token bytes, written as comparisons the compiler vectorises.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn is_token_byte(c: u8) -> u8 {
    let lower = c | 0x20;
    u8::from(lower.wrapping_sub(b'a') < 26)
        | u8::from(c.wrapping_sub(b'0') < 11) // digits and ':'
        | u8::from(c.wrapping_sub(b'-') < 2) // '-' and '.'
        | u8::from(c == b'_')
        | u8::from(c == b'@')
        | u8::from(c == b'%')
        | u8::from(c >= 0x80)
}

/// Gathers the low bits of 64 bytes (each 0 or 1) into a mask, byte `k` to bit `k`.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn gather(v: &[u8; 64]) -> u64 {
    let mut m = 0;
    for (k, w) in v.chunks_exact(8).enumerate() {
        let mut x = [0u8; 8];
        x.copy_from_slice(w);
        // Each byte is 0 or 1: the product collects byte j's bit at bit 56 + j.
        m |= (u64::from_le_bytes(x).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (k * 8);
    }
    m
}

/// Masks of 64 bytes of text: bit `k` is byte `k`.
struct ChunkMasks {
    /// Token bytes.
    token: u64,
    /// Marks: the bytes that make a token worth reading.
    mark: u64,
    /// Colons.
    colon: u64,
}

/// The masks of the 64 bytes of `b` from `at` (bytes past the end are neither).
#[inline(always)]
fn chunk_masks(b: &[u8], at: usize, marks: Marks) -> ChunkMasks {
    match b.get(at..at + 65) {
        // The chunk and the byte after it (for a mark on the chunk's last byte), read in place.
        Some(full) => masks_of(full.try_into().unwrap_or(&[0; 65]), marks),
        None => {
            let mut c = [0u8; 65];
            let rest = &b[at..];
            c[..rest.len()].copy_from_slice(rest);
            masks_of(&c, marks)
        }
    }
}

/// [`masks_of_bytes`] on 16 bytes at a time with SSE2 (part of every x86-64
/// processor, through the safe wrappers of `safe_arch`): compares, then one
/// `movemask` per mask and 16 bytes, where the portable loop gathers bits
/// from bytes with multiplications.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks_of(c: &[u8; 65], marks: Marks) -> ChunkMasks {
    use safe_arch::{
        add_i8_m128i as add, bitand_m128i as and, bitor_m128i as or, cmp_eq_mask_i8_m128i as eq,
        cmp_lt_mask_i8_m128i as lt, load_unaligned_m128i, m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let load = |b: &[u8]| load_unaligned_m128i(b[..16].try_into().unwrap_or(&[0; 16]));
    let splat = |v: u8| set_splat_i8_m128i(v as i8);
    // Bytes `v` with `v - lo` below `n` (unsigned): shifted so that the range starts at -128, then a signed compare.
    let in_range = |v: m128i, lo: u8, n: u8| {
        lt(
            add(v, splat(0x80u8.wrapping_sub(lo))),
            splat(0x80u8.wrapping_add(n)),
        )
    };
    let letter = |v: m128i| in_range(or(v, splat(0x20)), b'a', 26);
    let all = |on: bool| splat(if on { 0xff } else { 0 });
    let (any_dot, dot_letter) = (all(marks.any_dot), all(marks.dot_letter));
    let (any_colon, colon_slash) = (all(marks.any_colon), all(marks.colon_slash));
    let (mut token, mut mark, mut colon) = (0u64, 0u64, 0u64);
    for k in 0..4 {
        let x = load(&c[16 * k..]);
        let y = load(&c[16 * k + 1..]);
        // Letters, digits and ':', '-' and '.', '_', '@', '%'; bytes from 0x80 have their top bit set in `x` itself.
        let t = or(
            or(
                or(letter(x), in_range(x, b'0', 11)),
                or(in_range(x, b'-', 2), eq(x, splat(b'_'))),
            ),
            or(or(eq(x, splat(b'@')), eq(x, splat(b'%'))), x),
        );
        let dot = eq(x, splat(b'.'));
        let col = eq(x, splat(b':'));
        let dot_mark = and(dot, or(any_dot, and(dot_letter, letter(y))));
        let colon_mark = and(col, or(any_colon, and(colon_slash, eq(y, splat(b'/')))));
        let bits = |v: m128i| u64::from(move_mask_i8_m128i(v) as u16) << (16 * k);
        token |= bits(t);
        mark |= bits(or(dot_mark, colon_mark));
        colon |= bits(col);
    }
    ChunkMasks { token, mark, colon }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn masks_of(c: &[u8; 65], marks: Marks) -> ChunkMasks {
    masks_of_bytes(c, marks)
}

/// The masks of a chunk computed byte by byte (the definition [`masks_of`] follows).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn masks_of_bytes(c: &[u8; 65], marks: Marks) -> ChunkMasks {
    let any_dot = u8::from(marks.any_dot);
    let dot_letter = u8::from(marks.dot_letter);
    let any_colon = u8::from(marks.any_colon);
    let colon_slash = u8::from(marks.colon_slash);
    let mut tok = [0u8; 64];
    let mut mark = [0u8; 64];
    let mut colons = [0u8; 64];
    // Branch-free byte arithmetic, so that the loop runs on vector registers.
    for k in 0..64 {
        let (x, y) = (c[k], c[k + 1]);
        tok[k] = is_token_byte(x);
        let letter = u8::from((y | 0x20).wrapping_sub(b'a') < 26);
        let slash = u8::from(y == b'/');
        let dot = u8::from(x == b'.') & (any_dot | (dot_letter & letter));
        let colon = u8::from(x == b':');
        colons[k] = colon;
        mark[k] = dot | (colon & (any_colon | (colon_slash & slash)));
    }
    ChunkMasks {
        token: gather(&tok),
        mark: gather(&mark),
        colon: gather(&colons),
    }
}

/// Where the token going on before `at` starts, looking back no further than `floor`.
fn token_start(b: &[u8], mut at: usize, floor: usize) -> usize {
    while at > floor && CLASS[b[at - 1] as usize] != 0 {
        at -= 1;
    }
    at
}

/// Where the token going on at `from` ends, and the classes of its bytes from there.
fn token_end(b: &[u8], mut from: usize) -> (usize, u8) {
    let mut seen = 0;
    while let Some(&c) = b.get(from) {
        let c = CLASS[c as usize];
        if c == 0 {
            break;
        }
        seen |= c;
        from += 1;
    }
    (from, seen)
}

/// Reports what the token `text[start..end]` (whose byte classes are `seen`) holds.
fn token(
    text: &str,
    start: usize,
    end: usize,
    seen: u8,
    kinds: Kinds,
    out: &mut dyn FnMut(ObservableKind, &str),
) {
    let b = text.as_bytes();
    // `scheme://`: the token ends in ':' and "//" follows.
    if b[end - 1] == b':' && b.get(end..end + 2) == Some(b"//") {
        if kinds.contains(ObservableKind::Url) {
            if let Some(s) = scheme_start(&b[start..end - 1]).map(|s| start + s) {
                let mut stop = end + 2;
                while stop < b.len() && !url_end(b[stop]) {
                    stop += 1;
                }
                if stop > end + 2 {
                    out(ObservableKind::Url, &text[s..stop]);
                }
            }
        }
        classify(&text[start..end - 1], seen, kinds, out);
        return;
    }
    classify(&text[start..end], seen, kinds, out);
}

/// Where a URL scheme starts at the end of `tok` (letters, then letters, digits, `+ - .`).
fn scheme_start(tok: &[u8]) -> Option<usize> {
    let mut s = tok.len();
    while s > 0 && (tok[s - 1].is_ascii_alphanumeric() || matches!(tok[s - 1], b'+' | b'-' | b'.'))
    {
        s -= 1;
    }
    while s < tok.len() && !tok[s].is_ascii_alphabetic() {
        s += 1;
    }
    (s < tok.len()).then_some(s)
}

fn trim_token(t: &str) -> &str {
    // Every byte trimmed is ASCII, so the cut is on a character boundary.
    let b = t.as_bytes();
    let trim = |c: u8| matches!(c, b'.' | b'-' | b':' | b'_' | b'%' | b'@');
    let start = b.iter().position(|c| !trim(*c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !trim(*c)).map_or(start, |i| i + 1);
    &t[start..end]
}

fn classify(tok: &str, flags: u8, kinds: Kinds, out: &mut dyn FnMut(ObservableKind, &str)) {
    let tok = trim_token(tok);
    if tok.len() < 4 {
        return;
    }
    // (A token whose colons were all trimmed off is its own one piece below.)
    if flags & COLON != 0 {
        // An IPv6 address is never read as pieces, wanted or not.
        if looks_ipv6(tok) && tok.parse::<Ipv6Addr>().is_ok() {
            out(ObservableKind::Ipv6, tok);
            return;
        }
        let mut from = 0;
        for (i, _) in tok.bytes().enumerate().filter(|(_, c)| *c == b':') {
            classify_piece(trim_token(&tok[from..i]), kinds, out);
            from = i + 1;
        }
        classify_piece(trim_token(&tok[from..]), kinds, out);
        return;
    }
    classify_piece(tok, kinds, out);
}

fn looks_ipv6(t: &str) -> bool {
    t.bytes()
        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        && t.bytes().filter(|b| *b == b':').count() >= 2
}

/// What one pass over a piece's bytes tells (one table load per byte, no branch).
struct Facts {
    /// The properties of the bytes, or-ed together.
    flags: u8,
    /// Where the last dot is (0 when there is none).
    last_dot: usize,
    /// Two dots in a row somewhere.
    double_dot: bool,
}

fn facts(b: &[u8]) -> Facts {
    // Each byte is looked at with the one before it, so no step waits on the
    // previous one's result; the last dot is found afterwards, from the end.
    let (mut flags, mut prev_dot, mut double_dot) = (0, false, false);
    for c in b {
        flags |= CLASS[*c as usize];
        let dot = *c == b'.';
        double_dot |= dot & prev_dot;
        prev_dot = dot;
    }
    let last_dot = if flags & DOT != 0 {
        b.iter().rposition(|c| *c == b'.').unwrap_or(0)
    } else {
        0
    };
    Facts {
        flags,
        last_dot,
        double_dot,
    }
}

/// [`facts`] as defined, one property at a time.
#[cfg(test)]
fn facts_bytes(b: &[u8]) -> Facts {
    Facts {
        flags: b.iter().fold(0, |f, c| f | CLASS[*c as usize]),
        last_dot: b.iter().rposition(|c| *c == b'.').unwrap_or(0),
        double_dot: b.windows(2).any(|w| w == b".."),
    }
}

fn classify_piece(tok: &str, kinds: Kinds, out: &mut dyn FnMut(ObservableKind, &str)) {
    let bytes = tok.as_bytes();
    if bytes.len() < 4 {
        return;
    }
    let facts = facts(bytes);
    let flags = facts.flags;
    if flags & AT != 0 {
        // One '@' with something before it and a domain after it.
        let at = bytes.iter().rposition(|c| *c == b'@').unwrap_or(0);
        let (local, domain) = (&tok[..at], &tok[at + 1..]);
        if !local.is_empty() && !local.as_bytes().contains(&b'@') && is_domain(domain) {
            out(ObservableKind::Email, tok);
            out(ObservableKind::Domain, domain);
        }
        return;
    }
    if flags & NOT_HEX == 0 && matches!(bytes.len(), 32 | 40 | 64 | 128) {
        out(ObservableKind::FileHash, tok);
        return;
    }
    if bytes[0].is_ascii_digit() && flags & NOT_DIGIT_DOT == 0 {
        if kinds.contains(ObservableKind::Ipv4) && tok.parse::<Ipv4Addr>().is_ok() {
            out(ObservableKind::Ipv4, tok);
        }
        return;
    }
    if domain_shape(bytes, &facts) {
        out(ObservableKind::Domain, tok);
    }
}

fn is_domain(t: &str) -> bool {
    domain_shape(t.as_bytes(), &facts(t.as_bytes()))
}

/// Dotted, no empty label or `%`, not starting with `.`/`-`, ending in an
/// alphabetic label of two or more letters (or an `xn--` label).
fn domain_shape(b: &[u8], facts: &Facts) -> bool {
    let flags = facts.flags;
    if flags & DOT == 0 || flags & (PERCENT | AT) != 0 || b.len() < 4 || b.len() > 253 {
        return false;
    }
    if b[0] == b'.' || b[0] == b'-' {
        return false;
    }
    let tld = &b[facts.last_dot + 1..];
    let tld_ok = tld.len() >= 2
        && (tld.iter().all(|c| c.is_ascii_alphabetic())
            || (tld.starts_with(b"xn--")
                && tld.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')));
    // No empty label: no two dots in a row.
    tld_ok && !facts.double_dot
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(ObservableKind, String)> {
        let mut v = Vec::new();
        extract_observables(text, &mut |k, s| v.push((k, s.to_string())));
        v
    }

    #[test]
    fn finds_each_kind() {
        use ObservableKind as K;
        let line = "2024-01-02T03:04:05Z client 10.0.0.7#5353 query: Cdn.Evil.example. IN A; \
                    GET https://x.example:8443/a?u=http%3A//y.example \"agent\" \
                    sha=05b5e4070b3b8a130b12ea96c5526b4615fcae121bb802b1a10c3a7a70f39901 \
                    from bob@mail.example to [2001:db8::1]:443";
        let got = all(line);
        assert!(got.contains(&(K::Ipv4, "10.0.0.7".into())), "{got:?}");
        assert!(
            got.contains(&(K::Domain, "Cdn.Evil.example".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&(
                K::Url,
                "https://x.example:8443/a?u=http%3A//y.example".into()
            )),
            "{got:?}"
        );
        assert!(got.contains(&(K::Domain, "x.example".into())), "{got:?}");
        assert!(got.contains(&(
            K::FileHash,
            "05b5e4070b3b8a130b12ea96c5526b4615fcae121bb802b1a10c3a7a70f39901".into()
        )));
        assert!(
            got.contains(&(K::Email, "bob@mail.example".into())),
            "{got:?}"
        );
        assert!(got.contains(&(K::Ipv6, "2001:db8::1".into())), "{got:?}");
        // Times, versions and words are not observables.
        assert!(
            !got.iter().any(|(_, v)| v == "03" || v == "2024-01-02T03"),
            "{got:?}"
        );
    }

    /// Random text over the bytes that matter to the scanner (and some that do not).
    fn random_text(x: &mut u64, len: usize) -> String {
        const PARTS: [&str; 24] = [
            ".",
            ":",
            "@",
            "/",
            "//",
            " ",
            "\n",
            "-",
            "%",
            "a",
            "Z",
            "x",
            "7",
            "0",
            "ab.cd",
            "evil.com",
            "10.1.2.3",
            "::1",
            "https://",
            "é",
            "_",
            "[",
            "]",
            "0123456789abcdef",
        ];
        let mut s = String::new();
        while s.len() < len {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            s.push_str(PARTS[(*x % PARTS.len() as u64) as usize]);
        }
        s
    }

    #[test]
    fn looking_for_some_kinds_finds_exactly_those_of_the_full_scan() {
        use ObservableKind as K;
        let six = [K::Domain, K::Url, K::Ipv4, K::Ipv6, K::Email, K::FileHash];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut texts: Vec<String> = (0..400).map(|i| random_text(&mut x, i % 97 + 1)).collect();
        texts.push(
            "q 2024-01-02T03:04:05.123Z a.b.evil.com. from 10.0.0.1#53 bob@x.example \
             https://h.example:8/p?u=x.org [2001:db8::7]:443 sha=\
             05b5e4070b3b8a130b12ea96c5526b4615fcae121bb802b1a10c3a7a70f39901"
                .into(),
        );
        for mask in 0..64u32 {
            let kinds: Kinds = six
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, k)| *k)
                .collect();
            for t in &texts {
                same_for(t, kinds);
            }
        }
    }

    /// Asserts that looking for `kinds` in `t` finds what the full scan finds of them.
    fn same_for(t: &str, kinds: Kinds) {
        let want: Vec<_> = all(t)
            .into_iter()
            .filter(|(k, _)| kinds.contains(*k))
            .collect();
        let mut got = Vec::new();
        extract_observables_of(t, kinds, &mut |k, v| got.push((k, v.to_string())));
        assert_eq!(got, want, "{kinds:?} {t:?}");
    }

    /// The kinds looked for when indicators are names only, and with addresses too.
    fn some_kinds() -> [Kinds; 3] {
        use ObservableKind as K;
        let names = Kinds::NONE.with(K::Domain).with(K::Url);
        [
            names,
            names.with(K::Ipv4).with(K::Ipv6).with(K::Email),
            Kinds::NONE.with(K::Email),
        ]
    }

    fn same_as_full_scan(t: &str) {
        for kinds in some_kinds() {
            same_for(t, kinds);
        }
    }

    #[test]
    fn tokens_across_64_byte_blocks_are_found_whole() {
        use ObservableKind as K;
        // A name placed at every offset around the block boundaries, at the
        // very start and the very end of the text.
        for pad in 0..140 {
            let t = format!("{}cdn.Evil.example", " ".repeat(pad));
            same_as_full_scan(&t);
            assert!(
                all(&t).contains(&(K::Domain, "cdn.Evil.example".into())),
                "{pad}"
            );
            let t = format!("{}x.y.evil.com{}", "a".repeat(pad), " .".repeat(pad % 7));
            same_as_full_scan(&t);
            // The dot (or colon) on a block's last byte, its letter on the next block's first.
            let t = format!(
                "{}a.b.evil.com https://u.example/{} w.é.com ",
                "-".repeat(pad),
                "z".repeat(pad)
            );
            same_as_full_scan(&t);
        }
        // Tokens spanning many blocks: a long name, a long run of token bytes with a name at its end.
        let long = format!("{}.example", "a".repeat(200));
        let t = format!("q {long} r");
        same_as_full_scan(&t);
        assert!(all(&t).contains(&(K::Domain, long.clone())));
        let t = format!("{}.evil.com", "b1-".repeat(500));
        same_as_full_scan(&t);
        let t = format!("{}.evil.com {}", "é".repeat(300), "%".repeat(300));
        same_as_full_scan(&t);
    }

    #[test]
    fn vector_masks_equal_the_byte_by_byte_ones() {
        let mut x = 0x1234_5678_9abc_def1u64;
        let mut chunks: Vec<[u8; 65]> = (0..=255u8)
            .collect::<Vec<_>>()
            .chunks(64)
            .map(|w| {
                let mut c = [0u8; 65];
                c[..64].copy_from_slice(w);
                c[64] = w[0];
                c
            })
            .collect();
        for _ in 0..2000 {
            let mut c = [0u8; 65];
            for b in c.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly the bytes that matter: '.', ':', '/', letters, and any byte.
                *b = match x % 5 {
                    0 => b'.',
                    1 => b':',
                    2 => b'/',
                    3 => b"aZ0-_@%\n\x80\xff"[(x >> 8) as usize % 10],
                    _ => (x >> 16) as u8,
                };
            }
            chunks.push(c);
        }
        for c in &chunks {
            for m in 0..16u8 {
                let marks = Marks {
                    any_dot: m & 1 != 0,
                    dot_letter: m & 2 != 0,
                    any_colon: m & 4 != 0,
                    colon_slash: m & 8 != 0,
                };
                let (a, b) = (masks_of(c, marks), masks_of_bytes(c, marks));
                assert_eq!(
                    (a.token, a.mark, a.colon),
                    (b.token, b.mark, b.colon),
                    "{c:?} {m}"
                );
            }
        }
    }

    #[test]
    fn facts_equal_those_found_byte_by_byte() {
        let mut x = 0x51af_d7ed_558c_cd1du64;
        let mut tokens: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b".".to_vec(),
            b"..".to_vec(),
            b"a.b".to_vec(),
            b"abcdefg..hij".to_vec(),
            b"abcdefgh.".to_vec(),
            b"abcdefg.".to_vec(),
            b"abcdefg..".to_vec(),
            b"x.y.z\xc3\xa9.com".to_vec(),
        ];
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let t = (0..len)
                .map(|k| {
                    let r = x.rotate_left(k as u32 * 7) ^ (k as u64).wrapping_mul(0x9e37);
                    match r % 6 {
                        0 | 1 => b'.',
                        2 => b"aZ0f9-_@%:"[(r >> 8) as usize % 10],
                        3 => 0x80 | (r >> 16) as u8,
                        _ => (r >> 24) as u8,
                    }
                })
                .collect();
            tokens.push(t);
        }
        for t in &tokens {
            let (a, b) = (facts(t), facts_bytes(t));
            assert_eq!(
                (a.flags, a.last_dot, a.double_dot),
                (b.flags, b.last_dot, b.double_dot),
                "{t:?}"
            );
        }
    }

    #[test]
    fn long_random_texts_give_the_full_scans_answer() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for i in 0..300 {
            let t = random_text(&mut x, 64 + i * 7);
            same_as_full_scan(&t);
        }
    }

    #[test]
    fn binary_garbage_yields_nothing_and_does_not_panic() {
        let junk: String = (0..2000u32)
            .map(|i| char::from_u32((i * 7919) % 0x2FF).unwrap_or('x'))
            .collect();
        let _ = all(&junk);
        assert!(all("::::://///....@@@@").is_empty());
        assert!(all("1.2.3 999.1.1.1 a.b").is_empty());
    }
}
