#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = vigil_ledger::Note::parse(data) {
        let _ = vigil_ledger::Checkpoint::parse(note.text());
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = vigil_ledger::Checkpoint::parse(s);
        let _ = vigil_ledger::Verifier::parse(s);
        let _ = vigil_ledger::tiles::TileId::parse_path(s);
    }
});
