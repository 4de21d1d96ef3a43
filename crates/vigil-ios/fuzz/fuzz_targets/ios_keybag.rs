#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(bag) = vigil_ios::keybag::Keybag::parse(data) {
        let _ = bag.unlock(&[0u8; 32]);
    }
});
