//! The first check in front of the matcher for the network and log readers.
//!
//! A text log of a few gigabytes yields hundreds of millions of domain
//! names and addresses, nearly all of them clean. [`Prefilter`] tells the
//! readers which kinds of value can match at all ([`Matcher::can_match`]),
//! so they do not look for the others, and hands the values they find to
//! the matcher in batches ([`Matcher::is_match_each`]): the matcher hashes
//! every suffix of a batch's names in one pass each and reads their filter
//! words together, so a clean name costs one hash and one filter word read,
//! with the cache misses of a batch overlapping. There is no second filter
//! here: the matcher's own filter is the one a name is checked against.

use std::sync::Arc;

use vigil_artefact::ObservableKind as K;
use vigil_iocs::Matcher;
use vigil_netlog::{Kinds, ValueFilter};

/// The matcher and the kinds of value that can match it.
pub(crate) struct Prefilter {
    matcher: Arc<Matcher>,
    /// The kinds a value can match as (see [`Matcher::can_match`]).
    kinds: Kinds,
}

/// The kinds the text extractor reports; the others always pass through to the matcher.
const EXTRACTED: [K; 6] = [K::Domain, K::Url, K::Ipv4, K::Ipv6, K::Email, K::FileHash];

impl Prefilter {
    pub(crate) fn new(matcher: Arc<Matcher>) -> Self {
        let kinds = EXTRACTED
            .into_iter()
            .filter(|k| !matcher.can_match(*k))
            .fold(Kinds::ALL, Kinds::without);
        Prefilter { matcher, kinds }
    }

    /// True when `value`, read as `kind`, matches an indicator.
    pub(crate) fn is_match(&self, kind: K, value: &str) -> bool {
        self.kinds.contains(kind) && self.matcher.is_match(kind, value)
    }
}

impl ValueFilter for Prefilter {
    fn passes(&self, kind: K, value: &str) -> bool {
        self.is_match(kind, value)
    }

    fn kinds(&self) -> Kinds {
        self.kinds
    }

    fn passes_each(&self, values: &[(K, &str)], passed: &mut [bool]) {
        self.matcher.is_match_each(values, passed);
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
