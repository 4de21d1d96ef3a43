//! Vigil's transparency log core, free of I/O frameworks.
//!
//! - [`merkle`]: the RFC 9162 SHA-256 Merkle tree, inclusion and consistency
//!   proofs, and verifiers whose results ([`VerifiedInclusion`],
//!   [`VerifiedConsistency`]) can only exist after a successful check.
//! - [`note`]: C2SP signed notes with Ed25519 signatures and
//!   `cosignature/v1` witness cosignatures.
//! - [`checkpoint`]: C2SP `tlog-checkpoint` bodies and their verification
//!   with a witness quorum.
//! - [`tiles`]: C2SP `tlog-tiles` paths, entry bundles and proofs from tiles.
//! - [`witness`]: the C2SP `tlog-witness` decision logic.

pub mod checkpoint;
pub mod merkle;
pub mod note;
pub mod tiles;
pub mod witness;

pub use checkpoint::{verify_checkpoint, Checkpoint, VerifiedCheckpoint};
pub use merkle::{
    empty_root, leaf_hash, node_hash, prove_consistency, prove_inclusion, tree_root,
    ConsistencyProof, Hash, InclusionProof, MemoryTree, NodeSource, VerifiedConsistency,
    VerifiedInclusion,
};
pub use note::{Note, NoteSignature, Signer, VerifiedNote, Verifier};

/// Everything that can go wrong in the ledger core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// A leaf index at or beyond the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// An older size larger than the newer one.
    #[error("old size {old_size} is larger than new size {new_size}")]
    SizeOutOfRange {
        /// The older size.
        old_size: u64,
        /// The newer size.
        new_size: u64,
    },
    /// A proof with more hashes than any tree can need.
    #[error("proof has {0} hashes, more than 64")]
    ProofTooLong(usize),
    /// An inclusion proof that does not lead to the root.
    #[error("inclusion proof for leaf {index} in tree of size {size} does not verify")]
    InclusionMismatch {
        /// Leaf index.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// A consistency proof that does not verify.
    #[error("consistency proof from size {old_size} to {new_size} does not verify")]
    ConsistencyMismatch {
        /// Older size.
        old_size: u64,
        /// Newer size.
        new_size: u64,
    },
    /// A node the tree storage does not have.
    #[error("tree storage has no node at level {level} index {index}")]
    MissingNode {
        /// Tree level.
        level: u8,
        /// Index within the level.
        index: u64,
    },
    /// A malformed signed note.
    #[error("signed note, line {line}: {why}")]
    Note {
        /// 1-based line (0 when not tied to a line).
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// A malformed checkpoint body.
    #[error("checkpoint, line {line}: {why}")]
    Checkpoint {
        /// 1-based line of the body.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// A malformed witness request.
    #[error("witness request, line {line}: {why}")]
    Witness {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// A malformed or unusable key.
    #[error("key: {0}")]
    Key(String),
    /// A signature from a known key that does not verify.
    #[error("signature by {name} does not verify")]
    BadSignature {
        /// Key name.
        name: String,
    },
    /// No signature from any of the given keys.
    #[error("no signature from a known key")]
    NoKnownSignature,
    /// Too few witnesses cosigned.
    #[error("{have} valid witness cosignature(s), {need} required")]
    Quorum {
        /// Distinct witnesses whose cosignature verified.
        have: usize,
        /// Required quorum.
        need: usize,
    },
    /// A path that is not a canonical tile path.
    #[error("not a tile path: {0:?}")]
    TilePath(String),
    /// A tile with the wrong content.
    #[error("tile {path}: {why}")]
    Tile {
        /// Tile path.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// A malformed entry bundle.
    #[error("entry bundle: {0}")]
    Bundle(String),
    /// An entry too large for an entry bundle.
    #[error("entry of {0} bytes exceeds the 65535-byte limit")]
    EntryTooLarge(usize),
    /// Storage behind a tile reader failed.
    #[error("storage: {0}")]
    Storage(String),
}
