//! C2SP `tlog-witness` logic, free of any transport: parsing and formatting
//! `add-checkpoint` requests, and the witness decision with its status codes.
//!
//! The caller provides a [`WitnessStore`] and must hold it exclusively for
//! the duration of [`Witness::add_checkpoint`]: the check of the old size and
//! the update of the recorded checkpoint must be atomic.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::checkpoint::Checkpoint;
use crate::merkle::{empty_root, ConsistencyProof, Hash};
use crate::note::{Note, NoteSignature, Signer, Verifier};
use crate::LedgerError;

/// The protocol's limit on consistency proof lines.
pub const MAX_PROOF_LINES: usize = 63;

/// An `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// Size of the checkpoint the client believes the witness last cosigned.
    pub old_size: u64,
    /// Consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: Vec<u8>,
}

impl AddCheckpoint {
    /// Formats the request body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old_size).into_bytes();
        for h in &self.proof {
            out.extend_from_slice(B64.encode(h).as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// Parses a request body.
    pub fn parse(body: &[u8]) -> Result<Self, LedgerError> {
        let bad = |line: usize, why: &str| LedgerError::Witness {
            line,
            why: why.to_string(),
        };
        let mut rest = body;
        let mut next_line = |line_no: usize| -> Result<&[u8], LedgerError> {
            let nl = rest
                .iter()
                .position(|b| *b == b'\n')
                .ok_or_else(|| bad(line_no, "line does not end with a newline"))?;
            let (l, r) = rest.split_at(nl);
            rest = &r[1..];
            Ok(l)
        };
        let first = next_line(1)?;
        let size = first
            .strip_prefix(b"old ")
            .and_then(|s| std::str::from_utf8(s).ok())
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .filter(|s| s.len() == 1 || !s.starts_with('0'))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| bad(1, "expected `old <size>`"))?;
        let mut proof = Vec::new();
        let mut line_no = 2;
        loop {
            let l = next_line(line_no)?;
            if l.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad(line_no, "more than 63 proof lines"));
            }
            let h: Hash = B64
                .decode(l)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| bad(line_no, "proof line is not a base64 hash"))?;
            proof.push(h);
            line_no += 1;
        }
        Ok(Self {
            old_size: size,
            proof,
            checkpoint: rest.to_vec(),
        })
    }
}

/// Why a witness refused to cosign, with the HTTP status the protocol asks for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessRefusal {
    /// The request is malformed or the old size exceeds the checkpoint size (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No signature from a trusted log key (403).
    #[error("checkpoint not signed by a trusted key of {origin}")]
    Forbidden {
        /// The origin of the submitted checkpoint.
        origin: String,
    },
    /// The witness does not know this log (404).
    #[error("unknown log origin {0:?}")]
    UnknownLog(String),
    /// The old size is not what the witness recorded (409, body is the size).
    #[error("old size does not match; witness is at size {0}")]
    SizeConflict(u64),
    /// Same size as recorded but a different root: a split view (409).
    #[error("same size {0} with a different root hash: split view")]
    RootConflict(u64),
    /// The consistency proof does not verify (422).
    #[error("consistency proof does not verify: {0}")]
    BadProof(String),
    /// The witness could not read or persist its state (500).
    #[error("witness storage: {0}")]
    Storage(String),
}

impl WitnessRefusal {
    /// The HTTP status code the protocol mandates.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Forbidden { .. } => 403,
            Self::UnknownLog(_) => 404,
            Self::SizeConflict(_) | Self::RootConflict(_) => 409,
            Self::BadProof(_) => 422,
            Self::Storage(_) => 500,
        }
    }
}

/// The witness's record of the last checkpoint it cosigned for one log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WitnessedHead {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// Where a witness keeps its per-log state. Implementations must make
/// [`WitnessStore::store`] durable before returning.
pub trait WitnessStore {
    /// The last cosigned head for `origin`, if any.
    fn load(&mut self, origin: &str) -> Result<Option<WitnessedHead>, String>;
    /// Durably records a new head for `origin`.
    fn store(&mut self, origin: &str, head: WitnessedHead) -> Result<(), String>;
}

/// An in-memory store for tests and embedded use.
#[derive(Debug, Default, Clone)]
pub struct MemoryWitnessStore(pub std::collections::BTreeMap<String, WitnessedHead>);

impl WitnessStore for MemoryWitnessStore {
    fn load(&mut self, origin: &str) -> Result<Option<WitnessedHead>, String> {
        Ok(self.0.get(origin).copied())
    }
    fn store(&mut self, origin: &str, head: WitnessedHead) -> Result<(), String> {
        self.0.insert(origin.to_string(), head);
        Ok(())
    }
}

/// A witness: its cosigning key and the logs it follows.
#[derive(Debug, Clone)]
pub struct Witness {
    key: Signer,
    logs: Vec<Verifier>,
}

impl Witness {
    /// A witness with cosigning `key` (type 0x04) following `logs` (their
    /// verifier keys; the key name is the log origin).
    pub fn new(key: Signer, logs: Vec<Verifier>) -> Result<Self, LedgerError> {
        if !key.verifier().is_cosigner() {
            return Err(LedgerError::Key(format!(
                "witness key {} must be a cosignature (type 0x04) key",
                key.name()
            )));
        }
        Ok(Self { key, logs })
    }

    /// The witness's verifier key.
    pub fn verifier(&self) -> Verifier {
        self.key.verifier()
    }

    /// Handles one `add-checkpoint` request at time `now` (Unix seconds):
    /// checks it, records the new head in `store`, then returns the
    /// cosignature line(s) to send back.
    pub fn add_checkpoint(
        &self,
        store: &mut dyn WitnessStore,
        request_body: &[u8],
        now: u64,
    ) -> Result<String, WitnessRefusal> {
        let req = AddCheckpoint::parse(request_body)
            .map_err(|e| WitnessRefusal::BadRequest(e.to_string()))?;
        let note =
            Note::parse(&req.checkpoint).map_err(|e| WitnessRefusal::BadRequest(e.to_string()))?;
        let cp = Checkpoint::parse(note.text())
            .map_err(|e| WitnessRefusal::BadRequest(e.to_string()))?;
        let keys: Vec<Verifier> = self
            .logs
            .iter()
            .filter(|v| v.name() == cp.origin && !v.is_cosigner())
            .cloned()
            .collect();
        if keys.is_empty() {
            return Err(WitnessRefusal::UnknownLog(cp.origin));
        }
        if note.verify(&keys).is_err() {
            return Err(WitnessRefusal::Forbidden { origin: cp.origin });
        }
        if req.old_size > cp.size {
            return Err(WitnessRefusal::BadRequest(format!(
                "old size {} is larger than checkpoint size {}",
                req.old_size, cp.size
            )));
        }
        let recorded = store
            .load(&cp.origin)
            .map_err(WitnessRefusal::Storage)?
            .unwrap_or(WitnessedHead {
                size: 0,
                root: empty_root(),
            });
        if req.old_size != recorded.size {
            return Err(WitnessRefusal::SizeConflict(recorded.size));
        }
        if recorded.size == cp.size {
            if recorded.root != cp.root {
                return Err(WitnessRefusal::RootConflict(cp.size));
            }
            if !req.proof.is_empty() {
                return Err(WitnessRefusal::BadProof(
                    "proof must be empty for equal sizes".into(),
                ));
            }
        } else {
            let proof = ConsistencyProof {
                old_size: recorded.size,
                new_size: cp.size,
                path: req.proof,
            };
            proof
                .verify(&recorded.root, &cp.root)
                .map_err(|e| WitnessRefusal::BadProof(e.to_string()))?;
        }
        let sig: NoteSignature = self
            .key
            .cosign(note.text(), now)
            .map_err(|e| WitnessRefusal::BadRequest(e.to_string()))?;
        // Persist before answering, as the protocol requires.
        store
            .store(
                &cp.origin,
                WitnessedHead {
                    size: cp.size,
                    root: cp.root,
                },
            )
            .map_err(WitnessRefusal::Storage)?;
        Ok(sig.to_line())
    }
}
