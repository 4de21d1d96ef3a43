//! Integration tests of log storage, serving, witnesses and monitoring.

mod crash;
mod http;
mod keys;
mod lock;
mod store;

use vigil_ledger::note::{ALG_COSIGNATURE_V1, ALG_ED25519};
use vigil_ledger::Signer;

/// A fresh log key named after the origin.
pub fn log_key() -> Signer {
    Signer::generate("test.example/log", ALG_ED25519).unwrap()
}

/// A fresh witness key.
pub fn witness_key(name: &str) -> Signer {
    Signer::generate(name, ALG_COSIGNATURE_V1).unwrap()
}
