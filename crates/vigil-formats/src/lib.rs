//! Interchange formats around the registry: what a hub exports to the tools
//! defenders actually deploy, and what it imports from MISP.
//!
//! Exports start from STIX 2.1 objects (a collection, a query result or a
//! bundle). [`IndicatorSet::from_objects`] keeps the indicators whose pattern
//! compiles to plain facts (domain, URL, address, hash …), resolves the
//! spyware each one `indicates`, and reports every indicator it cannot lower,
//! by id and reason. [`export`] then writes one of the [`Format`]s.
//!
//! Imports ([`misp`]) turn MISP events and galaxy clusters into STIX 2.1
//! objects, reporting each attribute that has no STIX equivalent.
//!
//! **Architecture Invariant:** no I/O beyond `std::io::Write` given by the
//! caller, no async runtime, no network. Exports are deterministic: the same
//! objects produce the same bytes (entries sorted, duplicates removed).

mod export;
pub mod misp;
mod set;

pub use export::{export, ExportOptions, Format};
pub use set::{Entry, EntryKind, IndicatorSet, Skipped};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing the output failed.
    #[error("writing {format} output: {source}")]
    Write {
        /// The format being written.
        format: &'static str,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The input is not what the importer expects; names the place.
    #[error("{place}: {message}")]
    Input {
        /// Where: a JSON pointer or object name.
        place: String,
        /// What is wrong.
        message: String,
    },
    /// An unknown format name was asked for.
    #[error("unknown export format {name:?} (expected one of: {})", Format::NAMES.join(", "))]
    UnknownFormat {
        /// The name given.
        name: String,
    },
}
