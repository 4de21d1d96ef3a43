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
use vigil_netlog::{Kinds, ValueFilter};

/// The Bloom filter and what kinds of indicator exist.
pub(crate) struct Prefilter {
    matcher: Arc<Matcher>,
    /// A blocked Bloom filter: each name sets three bits of one 64-bit word,
    /// so a probe reads one cache line.
    words: Vec<u64>,
    mask: u64,
    /// Fewest and most labels of any domain term.
    labels: (usize, usize),
    domains: bool,
    addresses: bool,
    urls: bool,
    /// The kinds a value can match as (see [`Prefilter::new`]).
    kinds: Kinds,
}

const K1: u64 = 0x9e37_79b9_7f4a_7c15;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Lower-cases the ASCII letters of eight bytes at once (other bytes unchanged).
fn lower8(w: u64) -> u64 {
    let low = w & LOW7;
    let above_z = low.wrapping_add(0x2525_2525_2525_2525);
    let from_a = low.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let upper = from_a & !above_z & !w & HIGH;
    w | (upper >> 2)
}

/// One step of the hash: a word of eight bytes mixed into the state.
fn mix(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(K1).rotate_left(29)
}

/// The hash of a name of `len` bytes from the state after its whole words
/// (from the right) and its first `len % 8` bytes as the top bytes of `head`.
fn finish(state: u64, len: usize, head: u64) -> u64 {
    let r = len % 8;
    let head = if r == 0 { 0 } else { head >> (8 * (8 - r)) };
    let mut h = mix(state ^ len as u64, head);
    // splitmix64's finaliser spreads every input bit over the result.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Word `j` of `b` counted from the right: the bytes `n - 8j - 8 .. n - 8j`,
/// lower-cased; bytes before the start of `b` are zero (in the low bytes).
fn word_from_right(b: &[u8], j: usize) -> u64 {
    let hi = b.len() - 8 * j;
    let w = if hi >= 8 {
        let mut x = [0u8; 8];
        x.copy_from_slice(&b[hi - 8..hi]);
        u64::from_le_bytes(x)
    } else {
        // The first bytes of the name as the top bytes of a word (no call to `memcpy` for a few bytes).
        b[..hi]
            .iter()
            .rev()
            .fold(0u64, |w, c| (w << 8) | u64::from(*c))
            << (8 * (8 - hi))
    };
    lower8(w)
}

/// A hash of `b` lower-cased, read eight bytes at a time from the right (no
/// copy is made). Every suffix of a name shares the words to its right, so
/// [`Prefilter::suffixes`] hashes all of a name's suffixes in one pass.
fn hash_lower(b: &[u8]) -> u64 {
    let n = b.len();
    let mut state = K1;
    for j in 0..n / 8 {
        state = mix(state, word_from_right(b, j));
    }
    let head = if n % 8 == 0 {
        0
    } else {
        word_from_right(b, n / 8)
    };
    finish(state, n, head)
}

/// The top bit of each byte of `w` that equals `c`, no other bit.
fn bytes_equal(w: u64, c: u8) -> u64 {
    let x = w ^ (u64::from(c) * 0x0101_0101_0101_0101);
    !(((x & LOW7).wrapping_add(LOW7)) | x) & HIGH
}

/// The three bits a hash sets in its word.
fn bits(h: u64) -> u64 {
    (1 << ((h >> 40) & 63)) | (1 << ((h >> 46) & 63)) | (1 << ((h >> 52) & 63))
}

/// What the domain part of the filter says before any probe.
enum Name<'a> {
    /// No indicator can match.
    No,
    /// The matcher must decide.
    Matcher,
    /// The matcher must decide if one of these suffixes is in the Bloom filter.
    Probe(&'a [u8]),
}

/// The kinds the text extractor reports; the others always pass through to the matcher.
const EXTRACTED: [K; 6] = [K::Domain, K::Url, K::Ipv4, K::Ipv6, K::Email, K::FileHash];

impl Prefilter {
    pub(crate) fn new(matcher: Arc<Matcher>) -> Self {
        let mut names: Vec<&str> = Vec::new();
        let mut addresses = false;
        let mut present = Kinds::NONE;
        for set in matcher.sets() {
            for ind in &set.indicators {
                for t in &ind.terms {
                    present = present.with(t.kind);
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
        // Which kinds can match: a URL by itself or by its host (a name or an
        // address), a name also as an address written as a name; kinds the
        // text extractor does not report are left to the matcher.
        let mut kinds = Kinds::ALL;
        for k in EXTRACTED {
            let can = match k {
                K::Domain => !names.is_empty() || addresses,
                K::Url => present.contains(K::Url) || !names.is_empty() || addresses,
                K::Ipv4 | K::Ipv6 => addresses,
                _ => present.contains(k),
            };
            if !can {
                kinds = kinds.without(k);
            }
        }
        // About 16 bits per name.
        let nwords = (names.len() / 4).next_power_of_two().max(64);
        let mut p = Prefilter {
            words: vec![0; nwords],
            mask: nwords as u64 - 1,
            labels: (usize::MAX, 0),
            domains: !names.is_empty(),
            addresses,
            urls: present.contains(K::Url),
            kinds,
            matcher: matcher.clone(),
        };
        for n in names {
            let labels = n.split('.').count();
            p.labels = (p.labels.0.min(labels), p.labels.1.max(labels));
            let h = hash_lower(n.as_bytes());
            p.words[(h & p.mask) as usize] |= bits(h);
        }
        p
    }

    /// True when `value`, read as `kind`, matches an indicator.
    pub(crate) fn is_match(&self, kind: K, value: &str) -> bool {
        if !self.kinds.contains(kind) {
            return false;
        }
        match kind {
            K::Domain => self.domain_may_match(value) && self.matcher.is_match(kind, value),
            K::Ipv4 | K::Ipv6 => self.addresses && self.matcher.is_match(kind, value),
            K::Url if !self.urls => {
                // Only the host can match.
                vigil_iocs::url_host(value).is_some_and(|h| self.domain_may_match(h))
                    && self.matcher.is_match(kind, value)
            }
            _ => self.matcher.is_match(kind, value),
        }
    }

    /// False only when the matcher would find no domain (or address) indicator for `value`.
    fn domain_may_match(&self, value: &str) -> bool {
        match self.name(value) {
            Name::No => false,
            Name::Matcher => true,
            Name::Probe(b) => {
                let mut any = false;
                self.suffixes(b, &mut |h| {
                    any = any || self.word_has(h);
                });
                any
            }
        }
    }

    fn word_has(&self, h: u64) -> bool {
        let b = bits(h);
        self.words[(h & self.mask) as usize] & b == b
    }

    /// How the filter reads a name.
    #[allow(clippy::manual_contains)]
    fn name<'a>(&self, value: &'a str) -> Name<'a> {
        let v = value.as_bytes();
        // White space (Unicode's too) can only be trimmed off when an end byte is a space, a control or not ASCII.
        let spaced = |c: Option<&u8>| c.is_some_and(|c| *c <= b' ' || *c >= 0x80);
        let mut b = if spaced(v.first()) || spaced(v.last()) {
            value.trim().as_bytes()
        } else {
            v
        };
        while let [rest @ .., b'.'] = b {
            b = rest;
        }
        match b.last() {
            None => return Name::No,
            // Addresses written as names, and overlong names: the matcher decides.
            Some(c) if c.is_ascii_digit() => return Name::Matcher,
            _ if b.len() > 253 || has_colon(b) => return Name::Matcher,
            _ => {}
        }
        if !self.domains {
            return Name::No;
        }
        Name::Probe(b)
    }

    /// The hashes of the suffixes of one, two … labels of `b`, from the
    /// right, that the matcher would look up.
    ///
    /// One pass from the right, eight bytes at a time: each word's dots are
    /// found with byte arithmetic, and a suffix's hash is finished from the
    /// state of the words to its right, which all suffixes share.
    fn suffixes(&self, b: &[u8], out: &mut dyn FnMut(u64)) {
        let (min, max) = self.labels;
        let n = b.len();
        let mut labels = 0;
        let mut state = K1;
        let mut j = 0;
        // The last word read: for a name of `n % 8 != 0` bytes, its first bytes.
        let mut w = 0;
        while 8 * j < n {
            w = word_from_right(b, j);
            // Dots, from the highest byte down; the bytes before the name are zero, not dots.
            let mut dots = bytes_equal(w, b'.');
            while dots != 0 {
                let byte = (63 - dots.leading_zeros() as usize) / 8;
                labels += 1;
                if labels >= min {
                    // The suffix after this dot: word `j`'s bytes above it, then the whole words to the right.
                    out(finish(state, 8 * j + 7 - byte, w));
                }
                if labels >= max {
                    return;
                }
                dots &= !(0xff << (8 * byte));
            }
            if 8 * (j + 1) <= n {
                state = mix(state, w);
            }
            j += 1;
        }
        // The whole name is the last label's suffix.
        if labels + 1 >= min {
            out(finish(state, n, w));
        }
    }
}

/// True when `b` holds a `:`, eight bytes at a time.
fn has_colon(b: &[u8]) -> bool {
    let n = b.len();
    (0..n.div_ceil(8)).any(|j| {
        let hi = n - 8 * j;
        let w = if hi >= 8 {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[hi - 8..hi]);
            u64::from_le_bytes(x)
        } else {
            b[..hi].iter().fold(0u64, |w, c| (w << 8) | u64::from(*c))
        };
        bytes_equal(w, b':') != 0
    })
}

impl ValueFilter for Prefilter {
    fn passes(&self, kind: K, value: &str) -> bool {
        self.is_match(kind, value)
    }

    fn kinds(&self) -> Kinds {
        self.kinds
    }

    /// Domains are hashed first and their Bloom words read in one loop of
    /// independent loads, so the cache misses of a batch overlap instead of
    /// following one another; only names that pass go on to the matcher.
    fn passes_each(&self, values: &[(K, &str)], passed: &mut [bool]) {
        let mut probes: Vec<(u32, u64)> = Vec::with_capacity(values.len() * 2);
        for (i, ((kind, value), p)) in values.iter().zip(passed.iter_mut()).enumerate() {
            *p = false;
            if *kind != K::Domain {
                *p = self.is_match(*kind, value);
                continue;
            }
            match self.name(value) {
                Name::No => {}
                Name::Matcher => *p = self.matcher.is_match(*kind, value),
                Name::Probe(b) => self.suffixes(b, &mut |h| probes.push((i as u32, h))),
            }
        }
        let mut maybe = vec![false; values.len()];
        for (i, h) in &probes {
            maybe[*i as usize] |= self.word_has(*h);
        }
        for (i, m) in maybe.iter().enumerate() {
            if *m {
                let (kind, value) = values[i];
                passed[i] = self.matcher.is_match(kind, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_hold_every_kind_a_value_can_match_as() {
        let load = |list: &str| {
            let set =
                vigil_iocs::load_bytes(std::path::Path::new("t.txt"), list.as_bytes()).unwrap();
            Prefilter::new(Arc::new(Matcher::new(vec![set])))
        };
        // Names alone: a URL can still match by its host; addresses, hashes and e-mail cannot match.
        let names = load("evil.com\n");
        let k = names.kinds();
        assert!(k.contains(K::Domain) && k.contains(K::Url));
        assert!(!k.contains(K::Ipv4) && !k.contains(K::Ipv6));
        assert!(!k.contains(K::FileHash) && !k.contains(K::Email));
        assert!(names.is_match(K::Url, "https://cdn.EVIL.com/x"));
        assert!(!names.is_match(K::Url, "https://notevil.com/x"));
        // An address in the list makes addresses (and names, which may be addresses) wanted.
        let k = load("10.0.0.0/8\n").kinds();
        assert!(k.contains(K::Ipv4) && k.contains(K::Ipv6) && k.contains(K::Domain));
        let k = load(
            "bob@evil.com\n05b5e4070b3b8a130b12ea96c5526b4615fcae121bb802b1a10c3a7a70f39901\n",
        )
        .kinds();
        assert!(k.contains(K::Email) && k.contains(K::FileHash));
    }

    #[test]
    fn lower_casing_eight_bytes_at_once_equals_the_standard_one() {
        let all: Vec<u8> = (0..=255u8).collect();
        for w in all.chunks(8) {
            let v = u64::from_le_bytes(w.try_into().unwrap());
            let mut want = w.to_vec();
            want.make_ascii_lowercase();
            assert_eq!(lower8(v).to_le_bytes().to_vec(), want, "{w:?}");
        }
        assert_eq!(
            hash_lower(b"WWW.Example.COM"),
            hash_lower(b"www.example.com")
        );
        assert_ne!(hash_lower(b"example.com"), hash_lower(b"example.con"));
    }

    #[test]
    fn suffix_hashes_from_the_right_equal_each_suffixs_own_hash() {
        let set = vigil_iocs::load_bytes(std::path::Path::new("t.txt"), b"a.b\n").unwrap();
        let mut p = Prefilter::new(Arc::new(Matcher::new(vec![set])));
        let names = [
            "a.b",
            "Www.Example.COM",
            "a..evil.com",
            ".evil.com",
            "x.",
            "abcdefgh.ijklmnop.qrstuvwx.yz",
            "abcdefg.ijklmnopq.rs",
            "é.exämple.org",
            "no-dots-but-longer-than-a-word",
        ];
        let mut x = 88172645463325252u64;
        let mut random: Vec<String> = Vec::new();
        for _ in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 90) as usize;
            let name: String = (0..len)
                .map(|i| match (x >> (i % 60)) % 7 {
                    0 => '.',
                    1 => 'A',
                    _ => char::from(b'a' + ((x >> (i % 50)) % 26) as u8),
                })
                .collect();
            random.push(name);
        }
        for (min, max) in [(1, 1), (1, 3), (2, 2), (2, 5), (1, 200)] {
            p.labels = (min, max);
            for name in names
                .iter()
                .copied()
                .chain(random.iter().map(String::as_str))
            {
                let b = name.as_bytes();
                let mut want = Vec::new();
                let mut labels = 0;
                let mut end = b.len();
                loop {
                    let start = b[..end]
                        .iter()
                        .rposition(|c| *c == b'.')
                        .map_or(0, |d| d + 1);
                    labels += 1;
                    if labels > max {
                        break;
                    }
                    if labels >= min {
                        want.push(hash_lower(&b[start..]));
                    }
                    if start == 0 {
                        break;
                    }
                    end = start - 1;
                }
                let mut got = Vec::new();
                p.suffixes(b, &mut |h| got.push(h));
                assert_eq!(got, want, "{name:?} {min} {max}");
            }
        }
        assert!(has_colon(b"a:b") && has_colon(b"abcdefghijkl:") && has_colon(b":abcdefghijkl"));
        assert!(!has_colon(b"abcdefghijklmnop.q") && !has_colon(b""));
    }

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
            (K::Domain, "Sub.XN--80AK6AA92E.Com"),
            (K::Domain, "a..evil.com"),
            (K::Domain, ".evil.com"),
        ];
        for (k, v) in probes {
            assert_eq!(p.is_match(k, v), m.is_match(k, v), "{k:?} {v}");
        }
        // The batched check gives the same answers.
        let mut passed = vec![true; probes.len()];
        p.passes_each(&probes, &mut passed);
        for ((k, v), got) in probes.iter().zip(&passed) {
            assert_eq!(*got, m.is_match(*k, v), "batched {k:?} {v}");
        }
        assert!(p.is_match(K::Domain, "x.y.EVIL.com."));
        assert!(!p.is_match(K::Domain, "notevil.com"));
        // Random names: the filter's answer always equals the matcher's.
        let mut x = 88172645463325252u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let name = format!("h{}.Evil{}.cOm", x % 1000, x % 3);
            assert_eq!(
                p.is_match(K::Domain, &name),
                m.is_match(K::Domain, &name),
                "{name}"
            );
        }
    }
}
