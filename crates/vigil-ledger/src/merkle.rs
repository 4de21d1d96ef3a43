//! RFC 9162 (RFC 6962) SHA-256 Merkle tree: hashing, tree heads, inclusion and
//! consistency proofs, and their verification.
//!
//! Proof *generation* is written against [`NodeSource`], which only has to
//! return hashes of complete, aligned subtrees. That is exactly what tiles
//! store, so the same code answers proofs from an in-memory tree and from a
//! tile store on disk, touching O(log n) nodes.

use sha2::{Digest, Sha256};

use crate::LedgerError;

/// A SHA-256 hash: a leaf hash, an interior node or a tree head.
pub type Hash = [u8; 32];

/// Longest proof accepted by the verifiers: a tree of 2^64 leaves needs 64.
pub const MAX_PROOF_LEN: usize = 64;

/// The root of the empty tree, SHA-256 of the empty string (RFC 6962 2.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Hashes leaf data: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// Hashes two children into their parent: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Source of the hashes of complete subtrees of a log.
///
/// `node(level, index)` is the root of the perfect subtree of `2^level` leaves
/// covering leaves `index << level .. (index + 1) << level`. Callers only ask
/// for subtrees that lie entirely inside the tree size they work on.
pub trait NodeSource {
    /// Returns the hash of complete subtree `index` at `level`.
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, LedgerError>;
}

/// Largest power of two strictly smaller than `n` (n >= 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Root of the leaves `lo..hi`, an RFC 6962 subtree (so `lo` is aligned to the
/// largest power of two not above `hi - lo`); needs `hi > lo`.
fn range_hash<S: NodeSource + ?Sized>(src: &mut S, lo: u64, hi: u64) -> Result<Hash, LedgerError> {
    let n = hi - lo;
    if n.is_power_of_two() && lo % n == 0 {
        let level = n.trailing_zeros() as u8;
        return src.node(level, lo >> level);
    }
    let k = split_point(n);
    let left = range_hash(src, lo, lo + k)?;
    let right = range_hash(src, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The tree head (root hash) of the first `size` leaves.
pub fn tree_root<S: NodeSource + ?Sized>(src: &mut S, size: u64) -> Result<Hash, LedgerError> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(src, 0, size)
}

/// An inclusion proof (audit path) of one leaf in a tree of a given size,
/// ordered leaf to root as in RFC 6962 PATH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// Zero-based index of the leaf.
    pub leaf_index: u64,
    /// Size of the tree the proof is for.
    pub tree_size: u64,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<Hash>,
}

/// A consistency proof between two sizes of the same log (RFC 6962 PROOF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The older (smaller) tree size.
    pub old_size: u64,
    /// The newer tree size.
    pub new_size: u64,
    /// The proof hashes.
    pub path: Vec<Hash>,
}

/// Builds the inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn prove_inclusion<S: NodeSource + ?Sized>(
    src: &mut S,
    index: u64,
    size: u64,
) -> Result<InclusionProof, LedgerError> {
    if index >= size {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    let mut path = Vec::new();
    // Walk down from the root, remembering the sibling subtree at each split;
    // the path lists them bottom-up, so reverse at the end.
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            path.push(range_hash(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(src, lo, lo + k)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(InclusionProof {
        leaf_index: index,
        tree_size: size,
        path,
    })
}

/// Builds the consistency proof from `old_size` to `new_size`.
///
/// Sizes 0 and `old_size == new_size` give an empty proof (the conventions of
/// C2SP tlog-witness and of the common libraries).
pub fn prove_consistency<S: NodeSource + ?Sized>(
    src: &mut S,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProof, LedgerError> {
    if old_size > new_size {
        return Err(LedgerError::SizeOutOfRange { old_size, new_size });
    }
    let mut path = Vec::new();
    if old_size > 0 && old_size < new_size {
        // RFC 6962 SUBPROOF(m, D[lo:hi], b), iteratively.
        let (mut lo, mut hi, mut m, mut b) = (0u64, new_size, old_size, true);
        loop {
            let n = hi - lo;
            if m == n {
                if !b {
                    path.push(range_hash(src, lo, hi)?);
                }
                break;
            }
            let k = split_point(n);
            if m <= k {
                path.push(range_hash(src, lo + k, hi)?);
                hi = lo + k;
            } else {
                path.push(range_hash(src, lo, lo + k)?);
                lo += k;
                m -= k;
                b = false;
            }
        }
        path.reverse();
    }
    Ok(ConsistencyProof {
        old_size,
        new_size,
        path,
    })
}

/// Proof that a leaf is in a tree with a given root. Only
/// [`InclusionProof::verify`] can make one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedInclusion {
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: Hash,
    root: Hash,
}

impl VerifiedInclusion {
    /// Index of the leaf that was proven.
    pub fn leaf_index(&self) -> u64 {
        self.leaf_index
    }
    /// Tree size the proof was checked against.
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }
    /// Hash of the leaf that was proven.
    pub fn leaf_hash(&self) -> &Hash {
        &self.leaf_hash
    }
    /// Root the leaf was proven to be under.
    pub fn root(&self) -> &Hash {
        &self.root
    }
}

/// Proof that one tree head is a prefix of another. Only
/// [`ConsistencyProof::verify`] can make one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedConsistency {
    old_size: u64,
    new_size: u64,
    old_root: Hash,
    new_root: Hash,
}

impl VerifiedConsistency {
    /// The older tree size.
    pub fn old_size(&self) -> u64 {
        self.old_size
    }
    /// The newer tree size.
    pub fn new_size(&self) -> u64 {
        self.new_size
    }
    /// Root of the older tree.
    pub fn old_root(&self) -> &Hash {
        &self.old_root
    }
    /// Root of the newer tree.
    pub fn new_root(&self) -> &Hash {
        &self.new_root
    }
}

impl InclusionProof {
    /// Checks the proof for `leaf_hash` against `root` (RFC 9162 2.1.3.2).
    ///
    /// The root does not bind `tree_size`: the same path also verifies for
    /// another size whose tree has the same shape along it. Take the size
    /// from the signed checkpoint that gave `root` and compare it with
    /// `tree_size` (as `verify_checkpoint` users and `vigil log verify` do).
    pub fn verify(&self, leaf_hash: &Hash, root: &Hash) -> Result<VerifiedInclusion, LedgerError> {
        let (index, size) = (self.leaf_index, self.tree_size);
        if index >= size {
            return Err(LedgerError::IndexOutOfRange { index, size });
        }
        if self.path.len() > MAX_PROOF_LEN {
            return Err(LedgerError::ProofTooLong(self.path.len()));
        }
        let mut f = index;
        let mut s = size - 1;
        let mut r = *leaf_hash;
        for p in &self.path {
            if s == 0 {
                return Err(LedgerError::InclusionMismatch { index, size });
            }
            if f & 1 == 1 || f == s {
                r = node_hash(p, &r);
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            } else {
                r = node_hash(&r, p);
            }
            f >>= 1;
            s >>= 1;
        }
        if s != 0 || r != *root {
            return Err(LedgerError::InclusionMismatch { index, size });
        }
        Ok(VerifiedInclusion {
            leaf_index: index,
            tree_size: size,
            leaf_hash: *leaf_hash,
            root: *root,
        })
    }
}

impl ConsistencyProof {
    /// Checks that `old_root` (of `old_size` leaves) is a prefix of
    /// `new_root` (RFC 9162 2.1.4.2).
    ///
    /// As for inclusion, the roots do not bind the sizes: compare
    /// `old_size` and `new_size` with the signed checkpoints' sizes.
    ///
    /// Equal sizes need an empty proof and equal roots; size 0 needs an empty
    /// proof and the empty-tree root.
    pub fn verify(
        &self,
        old_root: &Hash,
        new_root: &Hash,
    ) -> Result<VerifiedConsistency, LedgerError> {
        let (m, n) = (self.old_size, self.new_size);
        let mismatch = LedgerError::ConsistencyMismatch {
            old_size: m,
            new_size: n,
        };
        if m > n {
            return Err(LedgerError::SizeOutOfRange {
                old_size: m,
                new_size: n,
            });
        }
        if self.path.len() > MAX_PROOF_LEN {
            return Err(LedgerError::ProofTooLong(self.path.len()));
        }
        let ok = VerifiedConsistency {
            old_size: m,
            new_size: n,
            old_root: *old_root,
            new_root: *new_root,
        };
        if m == 0 {
            return if self.path.is_empty() && *old_root == empty_root() {
                Ok(ok)
            } else {
                Err(mismatch)
            };
        }
        if m == n {
            return if self.path.is_empty() && old_root == new_root {
                Ok(ok)
            } else {
                Err(mismatch)
            };
        }
        let mut path = self.path.iter();
        let first = if m.is_power_of_two() {
            *old_root
        } else {
            match path.next() {
                Some(h) => *h,
                None => return Err(mismatch),
            }
        };
        let mut f = m - 1;
        let mut s = n - 1;
        while f & 1 == 1 {
            f >>= 1;
            s >>= 1;
        }
        let (mut fr, mut sr) = (first, first);
        for c in path {
            if s == 0 {
                return Err(mismatch);
            }
            if f & 1 == 1 || f == s {
                fr = node_hash(c, &fr);
                sr = node_hash(c, &sr);
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            } else {
                sr = node_hash(&sr, c);
            }
            f >>= 1;
            s >>= 1;
        }
        if fr != *old_root || sr != *new_root || s != 0 {
            return Err(mismatch);
        }
        Ok(ok)
    }
}

/// An in-memory Merkle tree keeping every complete subtree hash.
///
/// Good for tests, small logs and for replaying a log; a log on disk uses
/// tiles instead.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is `node(l, i)`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// Creates an empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends leaf data; returns its index.
    pub fn push(&mut self, data: &[u8]) -> u64 {
        self.push_hash(leaf_hash(data))
    }

    /// Appends an already hashed leaf; returns its index.
    pub fn push_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        let mut level = 0;
        let mut hash = leaf;
        let mut i = index;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            if i & 1 == 0 {
                break;
            }
            let left = self.levels[level][(i - 1) as usize];
            hash = node_hash(&left, &hash);
            i >>= 1;
            level += 1;
        }
        index
    }

    /// The tree head for the current size.
    pub fn root(&mut self) -> Hash {
        let size = self.size();
        // Cannot fail: every node below the current size is stored.
        tree_root(self, size).unwrap_or_else(|_| empty_root())
    }

    /// The stored leaf hashes.
    pub fn leaf_hashes(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }
}

impl NodeSource for MemoryTree {
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, LedgerError> {
        self.levels
            .get(level as usize)
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or(LedgerError::MissingNode { level, index })
    }
}
