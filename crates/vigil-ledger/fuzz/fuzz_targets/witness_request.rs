#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vigil_ledger::witness::AddCheckpoint::parse(data);
    let _ = vigil_ledger::tiles::decode_bundle(data);
});
