//! C2SP `tlog-checkpoint`: the signed statement of a log's size and root.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::merkle::{ConsistencyProof, Hash, VerifiedConsistency};
use crate::note::{Note, Signer, VerifiedSignature, Verifier};
use crate::LedgerError;

/// Most extension lines accepted after the root hash.
pub const MAX_EXTENSIONS: usize = 32;

/// A checkpoint body: origin, tree size, root hash and optional extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line, unique per log (e.g. `example.org/oversight`).
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Root hash of the first `size` entries.
    pub root: Hash,
    /// Extension lines (opaque, non-empty).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Parses a checkpoint body (the signed text of the note).
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        let bad = |line: usize, why: &str| LedgerError::Checkpoint {
            line,
            why: why.to_string(),
        };
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad(1, "checkpoint must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(bad(1, "empty origin line"));
        }
        let size_line = lines.next().ok_or_else(|| bad(2, "missing tree size"))?;
        if size_line.is_empty()
            || !size_line.bytes().all(|b| b.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(bad(2, "tree size must be a decimal without leading zeros"));
        }
        let size: u64 = size_line
            .parse()
            .map_err(|_| bad(2, "tree size out of range"))?;
        let root_line = lines.next().ok_or_else(|| bad(3, "missing root hash"))?;
        let root: Hash = B64
            .decode(root_line)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad(3, "root hash must be 32 bytes of base64"))?;
        let mut extensions = Vec::new();
        for (i, l) in lines.enumerate() {
            if l.is_empty() {
                return Err(bad(4 + i, "empty extension line"));
            }
            if extensions.len() == MAX_EXTENSIONS {
                return Err(bad(4 + i, "too many extension lines"));
            }
            extensions.push(l.to_string());
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }

    /// The checkpoint body text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Signs the body with the log key, giving a signed note.
    pub fn sign(&self, log_key: &Signer) -> Result<Note, LedgerError> {
        let mut note = Note::new(self.to_text())?;
        let sig = log_key.sign(&note)?;
        note.add_signature(sig);
        Ok(note)
    }
}

/// A checkpoint whose log signature verified, with the witnesses whose
/// cosignatures verified. Only [`verify_checkpoint`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    cosigners: Vec<VerifiedSignature>,
}

impl VerifiedCheckpoint {
    /// The checkpoint body.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }
    /// Witnesses whose valid cosignatures are on the note.
    pub fn cosigners(&self) -> &[VerifiedSignature] {
        &self.cosigners
    }

    /// Checks that `newer` extends this checkpoint using `proof`.
    pub fn verify_consistent(
        &self,
        newer: &VerifiedCheckpoint,
        proof: &[Hash],
    ) -> Result<VerifiedConsistency, LedgerError> {
        if self.checkpoint.origin != newer.checkpoint.origin {
            return Err(LedgerError::Checkpoint {
                line: 1,
                why: format!(
                    "origins differ: {:?} vs {:?}",
                    self.checkpoint.origin, newer.checkpoint.origin
                ),
            });
        }
        ConsistencyProof {
            old_size: self.checkpoint.size,
            new_size: newer.checkpoint.size,
            path: proof.to_vec(),
        }
        .verify(&self.checkpoint.root, &newer.checkpoint.root)
    }
}

/// Verifies a signed checkpoint: the log key must have signed it, and at
/// least `quorum` distinct witnesses from `witnesses` must have cosigned it.
pub fn verify_checkpoint(
    note_bytes: &[u8],
    log_key: &Verifier,
    witnesses: &[Verifier],
    quorum: usize,
) -> Result<VerifiedCheckpoint, LedgerError> {
    let note = Note::parse(note_bytes)?;
    note.verify(std::slice::from_ref(log_key))?;
    let checkpoint = Checkpoint::parse(note.text())?;
    if checkpoint.origin != log_key.name() {
        return Err(LedgerError::Checkpoint {
            line: 1,
            why: format!(
                "origin {:?} does not match log key name {:?}",
                checkpoint.origin,
                log_key.name()
            ),
        });
    }
    let cosigners = if witnesses.is_empty() {
        Vec::new()
    } else {
        match note.verify(witnesses) {
            Ok(v) => v.signers().to_vec(),
            Err(LedgerError::NoKnownSignature) => Vec::new(),
            Err(e) => return Err(e),
        }
    };
    let mut names: Vec<&str> = cosigners.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    if names.len() < quorum {
        return Err(LedgerError::Quorum {
            have: names.len(),
            need: quorum,
        });
    }
    Ok(VerifiedCheckpoint {
        checkpoint,
        cosigners,
    })
}
