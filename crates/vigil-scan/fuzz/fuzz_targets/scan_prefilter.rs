#![no_main]
//! The log prefilter against the matcher: for any indicator list and any
//! observed value, the filter keeps the value whenever the matcher matches it.
//! Input: an indicator text list, a NUL byte, then observed values, one a line.
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use vigil_iocs::{Matcher, ObservableKind as K};

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|b| *b == 0) else {
        return;
    };
    let (list, values) = (&data[..split], &data[split + 1..]);
    let Ok(set) = vigil_iocs::load_bytes(std::path::Path::new("fuzz.txt"), list) else {
        return;
    };
    let matcher = Arc::new(Matcher::new(vec![set]));
    let filter = vigil_scan::netlog_filter(matcher.clone());
    let kinds = [K::Domain, K::Url, K::Ipv4, K::Ipv6, K::Email, K::FileHash];
    let values: Vec<&str> = values
        .split(|b| *b == b'\n')
        .filter_map(|v| std::str::from_utf8(v).ok())
        .collect();
    let mut batch = Vec::new();
    for v in &values {
        for k in kinds {
            let matched = matcher.is_match(k, v);
            assert!(!matched || filter.passes(k, v), "filter drops {k:?} {v:?}");
            assert!(
                !matched || filter.kinds().contains(k),
                "filter never looks for {k:?}, which matches {v:?}"
            );
            batch.push((k, *v));
        }
    }
    let mut passed = vec![false; batch.len()];
    filter.passes_each(&batch, &mut passed);
    for ((k, v), p) in batch.iter().zip(passed) {
        assert!(
            p || !matcher.is_match(*k, v),
            "batched filter drops {k:?} {v:?}"
        );
    }
});
