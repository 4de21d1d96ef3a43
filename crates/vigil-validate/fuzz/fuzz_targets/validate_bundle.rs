#![no_main]
//! Arbitrary bytes as a STIX document: the validator must never panic.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = vigil_validate::Validator::default().validate_bytes(data);
});
