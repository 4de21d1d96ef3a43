//! A compact first check in front of the matcher for the network and log readers.
//!
//! A text log of a few gigabytes yields hundreds of millions of domain
//! names and addresses, nearly all of them clean. [`Prefilter`] answers most
//! of them from a Bloom filter of the indicator domains (two bits per name,
//! about 2 MB for a million indicators, so it stays in cache where the
//! matcher's table does not) and from whether any address indicator exists
//! at all; only values that may match go on to [`Matcher::is_match`], which
//! decides. It never says no to a value the matcher would match: every
//! domain term's exact string is in the filter, and the suffixes looked up
//! are the ones the matcher looks up (trimmed, lower-case, within the label
//! counts of the indicators).

use std::sync::Arc;

use vigil_artefact::ObservableKind as K;
use vigil_iocs::Matcher;

/// The Bloom filter and what kinds of indicator exist.
pub(crate) struct Prefilter {
    matcher: Arc<Matcher>,
    bits: Vec<u64>,
    mask: u64,
    /// Fewest and most labels of any domain term.
    labels: (usize, usize),
    domains: bool,
    addresses: bool,
}

const K1: u64 = 0x9e37_79b9_7f4a_7c15;

fn hash(b: &[u8]) -> u64 {
    let mut h = K1 ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        h = (h ^ v).wrapping_mul(K1).rotate_left(29);
    }
    let rest = chunks.remainder();
    let mut t = [0u8; 8];
    t[..rest.len()].copy_from_slice(rest);
    h = (h ^ u64::from_le_bytes(t)).wrapping_mul(K1);
    // splitmix64's finaliser spreads every input bit over the result.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl Prefilter {
    pub(crate) fn new(matcher: Arc<Matcher>) -> Self {
        let mut names: Vec<&str> = Vec::new();
        let mut addresses = false;
        for set in matcher.sets() {
            for ind in &set.indicators {
                for t in &ind.terms {
                    match t.kind {
                        K::Domain => {
                            let v = t.value.as_str();
                            // Feeds put addresses and ranges in domain fields; the matcher reads them as addresses.
                            if v.parse::<std::net::IpAddr>().is_ok() || v.contains('/') {
                                addresses = true;
                            }
                            names.push(v);
                        }
                        K::Ipv4 | K::Ipv6 => addresses = true,
                        _ => {}
                    }
                }
            }
        }
        let nbits = (names.len() * 16).next_power_of_two().max(1 << 12);
        let mut p = Prefilter {
            bits: vec![0; nbits / 64],
            mask: nbits as u64 - 1,
            labels: (usize::MAX, 0),
            domains: !names.is_empty(),
            addresses,
            matcher: matcher.clone(),
        };
        for n in names {
            let labels = n.split('.').count();
            p.labels = (p.labels.0.min(labels), p.labels.1.max(labels));
            let (a, b) = p.positions(n.as_bytes());
            p.bits[a / 64] |= 1 << (a % 64);
            p.bits[b / 64] |= 1 << (b % 64);
        }
        p
    }

    fn positions(&self, name: &[u8]) -> (usize, usize) {
        let h = hash(name);
        ((h & self.mask) as usize, ((h >> 32) & self.mask) as usize)
    }

    fn may_contain(&self, name: &[u8]) -> bool {
        let (a, b) = self.positions(name);
        self.bits[a / 64] & (1 << (a % 64)) != 0 && self.bits[b / 64] & (1 << (b % 64)) != 0
    }

    /// True when `value`, read as `kind`, matches an indicator.
    pub(crate) fn is_match(&self, kind: K, value: &str) -> bool {
        match kind {
            K::Domain => {
                let name = value.trim().trim_end_matches('.');
                let b = name.as_bytes();
                match b.last() {
                    None => return false,
                    // Addresses written as names, and overlong names: the matcher decides.
                    Some(c) if c.is_ascii_digit() => return self.matcher.is_match(kind, value),
                    _ if b.contains(&b':') || b.len() > 253 => {
                        return self.matcher.is_match(kind, value)
                    }
                    _ => {}
                }
                if !self.domains {
                    return false;
                }
                let mut lower = [0u8; 253];
                let lower = &mut lower[..b.len()];
                lower.copy_from_slice(b);
                lower.make_ascii_lowercase();
                let total = lower.iter().filter(|c| **c == b'.').count() + 1;
                let (min, max) = self.labels;
                let mut labels = total;
                let mut start = 0;
                while labels >= min {
                    if labels <= max && self.may_contain(&lower[start..]) {
                        return self.matcher.is_match(kind, value);
                    }
                    match lower[start..].iter().position(|c| *c == b'.') {
                        Some(dot) => {
                            start += dot + 1;
                            labels -= 1;
                        }
                        None => break,
                    }
                }
                false
            }
            K::Ipv4 | K::Ipv6 => self.addresses && self.matcher.is_match(kind, value),
            _ => self.matcher.is_match(kind, value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_yes_whenever_the_matcher_does() {
        let list = "# spyware: X\nevil.com\nA.B.Example.ORG\n10.1.0.0/16\nxn--80ak6aa92e.com\n";
        let set = vigil_iocs::load_bytes(std::path::Path::new("t.txt"), list.as_bytes()).unwrap();
        let m = Arc::new(Matcher::new(vec![set]));
        let p = Prefilter::new(m.clone());
        let probes = [
            (K::Domain, "evil.com"),
            (K::Domain, "x.y.EVIL.com."),
            (K::Domain, "notevil.com"),
            (K::Domain, "a.b.example.org"),
            (K::Domain, "b.example.org"),
            (K::Domain, "10.1.2.3"),
            (K::Domain, "www.xn--80ak6aa92e.com"),
            (K::Domain, ""),
            (K::Ipv4, "10.1.200.3"),
            (K::Ipv4, "10.2.0.1"),
            (K::Url, "https://cdn.evil.com/x"),
        ];
        for (k, v) in probes {
            assert_eq!(p.is_match(k, v), m.is_match(k, v), "{k:?} {v}");
        }
        assert!(p.is_match(K::Domain, "x.y.EVIL.com."));
        assert!(!p.is_match(K::Domain, "notevil.com"));
        // Random names: the filter's answer always equals the matcher's.
        let mut x = 88172645463325252u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let name = format!("h{}.evil{}.com", x % 1000, x % 3);
            assert_eq!(
                p.is_match(K::Domain, &name),
                m.is_match(K::Domain, &name),
                "{name}"
            );
        }
    }
}
