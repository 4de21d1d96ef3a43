//! The curated seed list shipped with Vigil: spyware vendors and people
//! on the US Entity List and the OFAC SDN list, with their Federal Register
//! and Treasury references (including later removals).

use crate::import::{read_ftm, Import};

/// The seed list in FollowTheMoney JSON lines.
pub const SEED_FTM: &str = include_str!("../../../data/screening/seed.ftm.jsonl");

/// Name under which the seed list is reported.
pub const SEED_SOURCE: &str = "vigil-seed";

/// Reads the seed list.
pub fn seed() -> Import {
    read_ftm(SEED_FTM.as_bytes(), SEED_SOURCE)
}
