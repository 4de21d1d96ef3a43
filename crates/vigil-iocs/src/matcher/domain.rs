//! Domain names hashed from the right, once for all their parent domains.
//!
//! A name is read eight bytes at a time from its right end, with ASCII
//! capitals folded to lower case and no copy made. All suffixes of a name end
//! where the name ends, so they share the words to their right: each word's
//! dots are found by byte arithmetic, and each suffix's hash is finished from
//! the state of the words to its right. The hash of a suffix is therefore
//! [`hash_lower`] of that suffix on its own, which is what a table of
//! indicator domains is keyed by.

const K: u64 = 0x9e37_79b9_7f4a_7c15;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Lower-cases the ASCII capitals among eight bytes at once (other bytes are kept).
#[inline]
pub(super) fn lower8(w: u64) -> u64 {
    // Per byte, with its top bit cleared: > 'Z' and >= 'A' show in the top bit
    // (no carry crosses a byte: 0x7f + 0x3f < 0x100).
    let low = w & LOW7;
    let above_z = low.wrapping_add(0x2525_2525_2525_2525);
    let from_a = low.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let upper = from_a & !above_z & !w & HIGH;
    w | (upper >> 2)
}

/// One step of the hash: a word of eight bytes mixed into the state.
#[inline]
fn mix(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(K).rotate_left(29)
}

/// The hash of a name of `len` bytes from the state after its whole words
/// (from the right) and its first `len % 8` bytes as the top bytes of `head`.
#[inline]
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
#[inline]
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

/// The top bit of each byte of `w` that equals `c`, no other bit.
#[inline]
fn bytes_equal(w: u64, c: u8) -> u64 {
    let x = w ^ (u64::from(c) * 0x0101_0101_0101_0101);
    !(((x & LOW7).wrapping_add(LOW7)) | x) & HIGH
}

/// The fingerprint of a domain name as if lower-cased (ASCII), read eight
/// bytes at a time from the right.
pub(super) fn hash_lower(b: &[u8]) -> u64 {
    let n = b.len();
    let mut state = K;
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

/// Calls `out(start, hash)` for the suffixes of `b` of `min` to `max` labels
/// (a label ends at a dot; empty labels count), shortest first, where
/// `hash` is [`hash_lower`] of `b[start..]`.
#[inline]
pub(super) fn suffixes(b: &[u8], (min, max): (usize, usize), out: &mut impl FnMut(usize, u64)) {
    let n = b.len();
    let mut labels = 0;
    let mut state = K;
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
                let len = 8 * j + 7 - byte;
                out(n - len, finish(state, len, w));
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
        out(0, finish(state, n, w));
    }
}

/// True when `b` holds a `:`, eight bytes at a time.
#[inline]
pub(super) fn has_colon(b: &[u8]) -> bool {
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

/// An observed name as the domain lookups read it: white space (Unicode's
/// too) trimmed from both ends and then every trailing dot.
///
/// White space can only be trimmed when an end byte is a space, a control
/// or not ASCII, so the usual name is not searched for it.
#[inline]
pub(super) fn trim_name(raw: &str) -> &str {
    let v = raw.as_bytes();
    let spaced = |c: Option<&u8>| c.is_some_and(|c| *c <= b' ' || *c >= 0x80);
    let t = if spaced(v.first()) || spaced(v.last()) {
        raw.trim()
    } else {
        raw
    };
    t.trim_end_matches('.')
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_ne!(hash_lower(b"evil.com"), hash_lower(b"evil.com."));
        assert_ne!(hash_lower(b"ab.c"), hash_lower(b"a.bc"));
    }

    #[test]
    fn suffix_hashes_from_the_right_equal_each_suffixs_own_hash() {
        let names = [
            "a.b",
            "Www.Example.COM",
            "a..evil.com",
            ".evil.com",
            "x.",
            "abcdefgh.ijklmnop.qrstuvwx.yz",
            "abcdefg.ijklmnopq.rs",
            "é.exämple.org",
            "Ünïcode.Пример.рф",
            "no-dots-but-longer-than-a-word",
            "",
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
            for name in names
                .iter()
                .copied()
                .chain(random.iter().map(String::as_str))
            {
                let b = name.as_bytes();
                let lowered = name.to_ascii_lowercase();
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
                        want.push((start, hash_lower(&lowered.as_bytes()[start..])));
                    }
                    if start == 0 {
                        break;
                    }
                    end = start - 1;
                }
                let mut got = Vec::new();
                suffixes(b, (min, max), &mut |s, h| got.push((s, h)));
                assert_eq!(got, want, "{name:?} {min} {max}");
            }
        }
        assert!(has_colon(b"a:b") && has_colon(b"abcdefghijkl:") && has_colon(b":abcdefghijkl"));
        assert!(!has_colon(b"abcdefghijklmnop.q") && !has_colon(b""));
    }

    #[test]
    fn names_are_trimmed_as_str_trim_and_trailing_dots() {
        for raw in [
            "evil.com",
            " evil.com.\n",
            "\u{a0}evil.com\u{2003}",
            "evil.com..",
            "...",
            "",
            "é.com ",
        ] {
            assert_eq!(trim_name(raw), raw.trim().trim_end_matches('.'), "{raw:?}");
        }
    }
}
