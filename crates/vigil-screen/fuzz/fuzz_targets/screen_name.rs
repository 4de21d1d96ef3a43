#![no_main]
// Normalisation and matching of an arbitrary name against a small list.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use std::sync::OnceLock;
    use vigil_screen::{seed, Query, Screener};
    static S: OnceLock<Screener> = OnceLock::new();
    let s = S.get_or_init(|| {
        let imp = seed::seed();
        Screener::build(imp.entities, imp.relations)
    });
    let name = String::from_utf8_lossy(data);
    let _ = s.match_query(&Query::name(&name), 0.5);
});
