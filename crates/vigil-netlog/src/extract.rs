//! A byte scanner that pulls domains, URLs, addresses, hashes and e-mail
//! addresses out of free text without allocating.

use std::net::{Ipv4Addr, Ipv6Addr};

use vigil_artefact::ObservableKind;

/// A byte's class: 0 outside tokens; inside, [`T`] plus what it may tell about the token.
const T: u8 = 1;
const DOT: u8 = 2;
const COLON: u8 = 4;
const AT: u8 = 8;
const NOT_HEX: u8 = 16;

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
            match b {
                b'.' => t[i] |= DOT,
                b':' => t[i] |= COLON,
                b'@' => t[i] |= AT,
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
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if CLASS[b[i] as usize] == 0 {
            i += 1;
            continue;
        }
        let start = i;
        let mut seen = 0u8;
        while i < b.len() {
            let c = CLASS[b[i] as usize];
            if c == 0 {
                break;
            }
            seen |= c;
            i += 1;
        }
        // Most tokens are words or numbers: without a dot, colon or at sign a
        // token can only be a hash, which is hex of a fixed length.
        if seen & (DOT | COLON | AT) == 0
            && (seen & NOT_HEX != 0 || !matches!(i - start, 32 | 40 | 64 | 128))
        {
            continue;
        }
        // `scheme://`: the token ends in ':' and "//" follows.
        if b[i - 1] == b':' && b.get(i..i + 2) == Some(b"//") {
            let scheme = scheme_start(&b[start..i - 1]).map(|s| start + s);
            if let Some(s) = scheme {
                let mut end = i + 2;
                while end < b.len() && !url_end(b[end]) {
                    end += 1;
                }
                if end > i + 2 {
                    out(ObservableKind::Url, &text[s..end]);
                }
            }
            classify(&text[start..i - 1], seen, out);
            continue;
        }
        classify(&text[start..i], seen, out);
    }
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

fn classify(tok: &str, flags: u8, out: &mut dyn FnMut(ObservableKind, &str)) {
    let tok = trim_token(tok);
    if tok.len() < 4 {
        return;
    }
    if flags & COLON != 0 && tok.as_bytes().contains(&b':') {
        if looks_ipv6(tok) && tok.parse::<Ipv6Addr>().is_ok() {
            out(ObservableKind::Ipv6, tok);
            return;
        }
        for piece in tok.split(':') {
            classify_piece(trim_token(piece), out);
        }
        return;
    }
    classify_piece(tok, out);
}

fn looks_ipv6(t: &str) -> bool {
    t.bytes().filter(|b| *b == b':').count() >= 2
        && t.bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
}

/// What one pass over a token tells about it.
struct Shape {
    last_at: Option<usize>,
    ats: usize,
    last_dot: Option<usize>,
    double_dot: bool,
    percent: bool,
    digits_and_dots: bool,
    hex: bool,
}

fn shape(b: &[u8]) -> Shape {
    let mut s = Shape {
        last_at: None,
        ats: 0,
        last_dot: None,
        double_dot: false,
        percent: false,
        digits_and_dots: true,
        hex: true,
    };
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'.' => {
                s.double_dot |= s.last_dot == Some(i.wrapping_sub(1));
                s.last_dot = Some(i);
            }
            b'@' => {
                s.ats += 1;
                s.last_at = Some(i);
            }
            b'%' => s.percent = true,
            _ => {}
        }
        s.digits_and_dots &= c.is_ascii_digit() || c == b'.';
        s.hex &= c.is_ascii_hexdigit();
    }
    s
}

fn classify_piece(tok: &str, out: &mut dyn FnMut(ObservableKind, &str)) {
    let bytes = tok.as_bytes();
    if bytes.len() < 4 {
        return;
    }
    let sh = shape(bytes);
    if let Some(at) = sh.last_at {
        let (local, domain) = (&tok[..at], &tok[at + 1..]);
        if !local.is_empty() && sh.ats == 1 && is_domain(domain) {
            out(ObservableKind::Email, tok);
            out(ObservableKind::Domain, domain);
        }
        return;
    }
    if sh.hex && matches!(bytes.len(), 32 | 40 | 64 | 128) {
        out(ObservableKind::FileHash, tok);
        return;
    }
    if bytes[0].is_ascii_digit() && sh.digits_and_dots {
        if tok.parse::<Ipv4Addr>().is_ok() {
            out(ObservableKind::Ipv4, tok);
        }
        return;
    }
    if domain_shape(bytes, &sh) {
        out(ObservableKind::Domain, tok);
    }
}

fn is_domain(t: &str) -> bool {
    domain_shape(t.as_bytes(), &shape(t.as_bytes()))
}

/// Dotted, no empty label or `%`, not starting with `.`/`-`, ending in an
/// alphabetic label of two or more letters (or an `xn--` label).
fn domain_shape(b: &[u8], sh: &Shape) -> bool {
    let Some(last_dot) = sh.last_dot else {
        return false;
    };
    if b.len() < 4 || b.len() > 253 || sh.double_dot || sh.percent || sh.last_at.is_some() {
        return false;
    }
    if b[0] == b'.' || b[0] == b'-' {
        return false;
    }
    let tld = &b[last_dot + 1..];
    tld.len() >= 2
        && (tld.iter().all(|c| c.is_ascii_alphabetic())
            || (tld.starts_with(b"xn--")
                && tld.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')))
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
