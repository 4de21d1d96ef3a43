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
            classify(&text[start..i - 1], out);
            continue;
        }
        classify(&text[start..i], out);
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
    t.trim_matches(|c: char| matches!(c, '.' | '-' | ':' | '_' | '%' | '@'))
}

fn classify(tok: &str, out: &mut dyn FnMut(ObservableKind, &str)) {
    let tok = trim_token(tok);
    if tok.len() < 4 {
        return;
    }
    if tok.contains(':') {
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

fn classify_piece(tok: &str, out: &mut dyn FnMut(ObservableKind, &str)) {
    let bytes = tok.as_bytes();
    if bytes.len() < 4 {
        return;
    }
    if let Some(at) = tok.rfind('@') {
        let (local, domain) = (&tok[..at], &tok[at + 1..]);
        if !local.is_empty() && !local.contains('@') && is_domain(domain) {
            out(ObservableKind::Email, tok);
            out(ObservableKind::Domain, domain);
        }
        return;
    }
    if matches!(bytes.len(), 32 | 40 | 64 | 128) && bytes.iter().all(|b| b.is_ascii_hexdigit()) {
        out(ObservableKind::FileHash, tok);
        return;
    }
    if bytes[0].is_ascii_digit() && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        if tok.parse::<Ipv4Addr>().is_ok() {
            out(ObservableKind::Ipv4, tok);
        }
        return;
    }
    if is_domain(tok) {
        out(ObservableKind::Domain, tok);
    }
}

fn is_domain(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() < 4 || b.len() > 253 || !t.contains('.') || t.contains("..") || t.contains('%') {
        return false;
    }
    if b[0] == b'.' || b[0] == b'-' {
        return false;
    }
    let tld = t.rsplit('.').next().unwrap_or("");
    tld.len() >= 2
        && (tld.bytes().all(|c| c.is_ascii_alphabetic())
            || (tld.starts_with("xn--")
                && tld.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')))
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
