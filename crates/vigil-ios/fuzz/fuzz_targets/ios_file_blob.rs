#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = vigil_ios::parse_file_blob(data);
});
