//! The loader's fast path for single comparisons must give exactly what the
//! pattern crate's parser and compile step give: on every real pattern of the
//! public sets and on variants of them in every spelling the grammar allows
//! (blanks, escapes, quoted path steps, OR chains, qualifiers, broken input).

use std::collections::BTreeSet;

use vigil_iocs::{compile_fast, compile_full, compile_pattern, load_path, CompiledPattern};

fn real_patterns() -> Vec<String> {
    let (sets, _) = load_path(&vigil_testkit::workspace_root().join("data/indicators"));
    let mut out: BTreeSet<String> = BTreeSet::new();
    for s in &sets {
        for ind in &s.indicators {
            if ind.pattern.starts_with('[') {
                out.insert(ind.pattern.clone());
            }
        }
    }
    out.into_iter().collect()
}

/// Spellings of one pattern `[T:P = 'V']` (split at its first `=`), valid and not.
fn variants(p: &str) -> Vec<String> {
    let mut v = vec![p.to_string()];
    let inner = p.trim().trim_start_matches('[').trim_end_matches(']');
    let Some((lhs, rhs)) = inner.split_once('=') else {
        return v;
    };
    let (lhs, rhs) = (lhs.trim(), rhs.trim());
    v.extend([
        format!("[{lhs}={rhs}]"),
        format!("[ {lhs}  =\t{rhs} ]"),
        format!("\n[{lhs} =\n{rhs}]\n"),
        format!("[{lhs} = {rhs} OR {lhs} = {rhs}]"),
        format!("[{lhs} = {rhs}] OR [{lhs} = {rhs}]"),
        format!("[{lhs} = {rhs} AND {lhs} = {rhs}]"),
        format!("[{lhs} = {rhs}] WITHIN 10 SECONDS"),
        format!("[{lhs} = {rhs}] REPEATS 2 TIMES"),
        format!("[{lhs} != {rhs}]"),
        format!("[{lhs} LIKE {rhs}]"),
        format!("[{lhs} IN ({rhs})]"),
        format!("[{lhs} = {rhs}"),
        format!("{lhs} = {rhs}]"),
        format!("[{lhs} = {rhs}] x"),
        format!("[{lhs} = {rhs} OR]"),
        format!("[{lhs} == {rhs}]"),
        format!("[{lhs} = {}]", rhs.replace('\'', "\"")),
        format!("[{} = {rhs}]", lhs.to_uppercase()),
        format!("[{lhs} = {rhs} or {lhs} = {rhs}]"),
        format!("[{lhs} = {rhs}]]"),
        format!("[[{lhs} = {rhs}]]"),
    ]);
    // Escapes and characters inside the value.
    if let Some(body) = rhs.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        for value in [
            format!("{body}\\'x"),
            format!("{body}\\\\"),
            format!("{body}\\n"),
            format!("{body}'"),
            format!("{}é", body),
            String::new(),
            format!(" {body} "),
            format!("{}.", body.to_uppercase()),
        ] {
            v.push(format!("[{lhs} = '{value}']"));
        }
    }
    // Path spellings: quoted steps, blanks inside the path.
    if let Some((ty, path)) = lhs.split_once(':') {
        v.push(format!("[{ty}:'{path}' = {rhs}]"));
        v.push(format!("[{ty} :{path} = {rhs}]"));
        v.push(format!("[{ty}: {path} = {rhs}]"));
        v.push(format!("[{ty}:{path}[0] = {rhs}]"));
        v.push(format!("[{ty}:{path}.x = {rhs}]"));
    }
    v
}

fn hand_written() -> Vec<String> {
    [
        "[domain-name:value = 'Evil.COM.']",
        "[domain-name:value = 'host.xyz/x']",
        "[domain-name:value = '1.2.3.4']",
        "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
        "[ipv4-addr:value ISSUBSET '10.0.0.0/33']",
        "[ipv6-addr:value = '2001:db8::1']",
        "[domain-name:value ISSUBSET 'a.com']",
        "[file:hashes.'SHA-256' = 'AA00000000000000000000000000000000000000000000000000000000000000']",
        "[file:hashes.MD5 = 'xyz']",
        "[file:hashes.sha256 = '0000']",
        "[file:hashes.'SHA-1' = '0000000000000000000000000000000000000000']",
        "[url:value = 'HTTPS://Evil.COM:443/a#frag']",
        "[url:value = 'nohost']",
        "[email-addr:value = 'A@B.example']",
        "[process:name = 'it\\'s']",
        "[process:image_ref.name = 'bh']",
        "[app:id = 'Com.Example']",
        "[app:cert.sha256 = 'AA:BB']",
        "[android-property:name = 'persist.x']",
        "[configuration-profile:id = 'X']",
        "[file:name = 'a' OR file:path = '/private/var/x']",
        "[x-custom:value = 'a']",
        "[domain-name:value = 'a.com' OR x-custom:value = 'b']",
        "[domain-name:value = 'a b.com']",
        "[domain-name:value = ' ']",
        "[]",
        "[domain-name:value]",
        "",
        "   ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn fast_path_equals_the_full_compile_on_real_patterns_and_their_variants() {
    let real = real_patterns();
    assert!(real.len() > 5000, "{} real patterns", real.len());
    let mut checked = 0usize;
    let mut fast_taken = 0usize;
    let mut real_fast = 0usize;
    for p in &real {
        real_fast += usize::from(compile_fast(p).is_some());
    }
    for p in real.iter().flat_map(|p| variants(p)).chain(hand_written()) {
        let full = compile_full(&p);
        if let Some(terms) = compile_fast(&p) {
            assert_eq!(full, Ok(CompiledPattern::Terms(terms)), "{p:?}");
            fast_taken += 1;
        }
        // What the loader calls: the fast path, else the full compile.
        assert_eq!(compile_pattern(&p), full, "{p:?}");
        checked += 1;
    }
    assert!(checked > 100_000, "{checked} variants");
    // The fast path is what real feeds take, and many variants take it too.
    assert_eq!(
        real_fast,
        real.len(),
        "every real pattern takes the fast path"
    );
    assert!(
        fast_taken > 5 * real.len(),
        "{fast_taken} of {checked} took the fast path"
    );
}
