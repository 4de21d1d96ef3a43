//! Restricted-party screening for exports of intrusion and surveillance
//! technology.
//!
//! Lists are read by [`import`] (FollowTheMoney JSON lines, the US
//! Consolidated Screening List, simple CSV), compiled once into a
//! [`Screener`] and queried with [`Screener::match_query`]. Every [`Match`]
//! carries an [`Explanation`] of its score, and ownership paths when the
//! party is restricted through a listed owner. Officers' dispositions are
//! kept in a [`DecisionBook`]; item classifications in [`Classification`].
//!
//! The crate does no I/O of its own beyond reading the `BufRead` it is
//! handed: the binary and the hub choose files, databases and transports.

#![deny(missing_docs)]

pub mod api;
pub mod classify;
pub mod decision;
pub mod entity;
mod error;
pub mod eval;
pub mod import;
pub mod ownership;
mod screener;
pub mod seed;
pub mod text;
mod variants;

pub use classify::{Classification, ControlEntry, Determination, EntryDetermination};
pub use decision::{Decision, DecisionBook, Disposition};
pub use entity::{Entity, Identifier, Listing, Relation, RelationKind};
pub use error::ScreenError;
pub use import::{Diagnostic, Format, Import};
pub use ownership::{OwnershipGraph, OwnershipPath, PathStep};
pub use screener::{
    alert, best_rank, is_alert, Alert, Config, Explanation, Feature, Match, PartMatch, Query,
    Related, Screener, CANDIDATES, DEFAULT_THRESHOLD,
};
