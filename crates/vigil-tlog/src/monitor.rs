//! Following a remote log: every checkpoint seen, from any source, must be
//! consistent with every other one. Anything else is a split view.

use vigil_ledger::tiles::{TileNodes, TileReader};
use vigil_ledger::{prove_consistency, verify_checkpoint, Checkpoint, Hash, Verifier};

use crate::TlogError;

/// What one observation of a checkpoint showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The first checkpoint seen.
    First {
        /// Its size.
        size: u64,
    },
    /// The log grew and the new checkpoint is consistent with the old one.
    Grew {
        /// Previous size.
        from: u64,
        /// New size.
        to: u64,
    },
    /// Same checkpoint as before.
    Unchanged {
        /// The size.
        size: u64,
    },
    /// An older checkpoint, consistent with the latest (a lagging mirror).
    Stale {
        /// Its size.
        size: u64,
    },
    /// Two signed checkpoints that cannot both be views of one append-only
    /// log: the log, or whoever serves it, shows different histories.
    SplitView {
        /// Size of the checkpoint previously trusted.
        known_size: u64,
        /// Its root.
        known_root: Hash,
        /// Size of the conflicting checkpoint.
        seen_size: u64,
        /// Its root.
        seen_root: Hash,
        /// Where the conflicting checkpoint came from.
        source: String,
    },
}

/// Follows one log, identified by its key, requiring `quorum` cosignatures
/// from `witnesses` on every checkpoint it accepts.
#[derive(Debug, Clone)]
pub struct Monitor {
    log_key: Verifier,
    witnesses: Vec<Verifier>,
    quorum: usize,
    latest: Option<Checkpoint>,
}

impl Monitor {
    /// A monitor with no history.
    pub fn new(log_key: Verifier, witnesses: Vec<Verifier>, quorum: usize) -> Self {
        Self {
            log_key,
            witnesses,
            quorum,
            latest: None,
        }
    }

    /// Starts from a previously trusted checkpoint (e.g. saved by an
    /// earlier run); it is verified like any other.
    pub fn resume(&mut self, note: &[u8]) -> Result<(), TlogError> {
        let v = verify_checkpoint(note, &self.log_key, &self.witnesses, self.quorum)?;
        self.latest = Some(v.checkpoint().clone());
        Ok(())
    }

    /// The latest checkpoint accepted.
    pub fn latest(&self) -> Option<&Checkpoint> {
        self.latest.as_ref()
    }

    /// Checks a checkpoint from `source`, proving consistency with the
    /// latest accepted one from `tiles` (untrusted: every proof is checked
    /// against the signed roots).
    pub fn observe(
        &mut self,
        note: &[u8],
        source: &str,
        tiles: &mut dyn TileReader,
    ) -> Result<Observation, TlogError> {
        let seen = verify_checkpoint(note, &self.log_key, &self.witnesses, self.quorum)?
            .checkpoint()
            .clone();
        let Some(known) = self.latest.clone() else {
            let size = seen.size;
            self.latest = Some(seen);
            return Ok(Observation::First { size });
        };
        let split = |seen: &Checkpoint| Observation::SplitView {
            known_size: known.size,
            known_root: known.root,
            seen_size: seen.size,
            seen_root: seen.root,
            source: source.to_string(),
        };
        if seen.size == known.size {
            return Ok(if seen.root == known.root {
                Observation::Unchanged { size: seen.size }
            } else {
                split(&seen)
            });
        }
        let (old, new) = if seen.size < known.size {
            (&seen, &known)
        } else {
            (&known, &seen)
        };
        // A source that cannot serve a proof is an error: not yet evidence
        // of a split view, but nothing is accepted either.
        let proof = prove_consistency(
            &mut TileNodes::new(&mut *tiles, new.size),
            old.size,
            new.size,
        )?;
        if proof.verify(&old.root, &new.root).is_err() {
            return Ok(split(&seen));
        }
        if seen.size < known.size {
            return Ok(Observation::Stale { size: seen.size });
        }
        let from = known.size;
        self.latest = Some(seen.clone());
        Ok(Observation::Grew {
            from,
            to: seen.size,
        })
    }
}
