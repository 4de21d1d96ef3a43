#![no_main]
// The compiled-set reader behind a valid header (the checksum would otherwise stop most inputs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use vigil_iocs::{Matcher, ObservableKind as K, SourceStamp};
    let stamp = SourceStamp::default();
    let bytes = vigil_iocs::seal_payload(data, stamp);
    if let Ok(m) = Matcher::from_compiled(&bytes, stamp, std::path::Path::new("f.stix2")) {
        for (k, v) in [
            (K::Domain, "a.b.evil.com"),
            (K::Url, "https://x.example/p"),
            (K::Ipv4, "10.1.2.3"),
            (K::FilePath, "/private/var/x"),
            (K::ProcessName, "com.apple.bhd.ag"),
        ] {
            m.check(k, v, &mut |h| {
                let _ = m.indicator(h.id);
            });
        }
    }
});
