//! Integration tests of the ledger core: RFC 9162 known answers, C2SP
//! signed-note, checkpoint, cosignature and tile vectors, and the witness.

mod merkle;
mod notes;
mod tiles;
mod witness;

use serde_json::Value;
use vigil_ledger::Hash;

/// The vectors file shipped with the project.
pub fn vectors() -> Value {
    let path = vigil_testkit::workspace_root().join("data/ledger/rfc9162-vectors.json");
    let text = std::fs::read_to_string(&path).expect("read data/ledger/rfc9162-vectors.json");
    serde_json::from_str(&text).expect("vectors file is JSON")
}

/// Decodes a lowercase hex hash from the vectors.
pub fn h(v: &Value) -> Hash {
    let bytes = hex::decode(v.as_str().expect("hash is a string")).expect("hex");
    bytes.try_into().expect("32 bytes")
}

/// Decodes a list of hex hashes.
pub fn hs(v: &Value) -> Vec<Hash> {
    v.as_array().expect("array").iter().map(h).collect()
}
