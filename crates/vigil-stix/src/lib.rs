//! The STIX 2.1 object model.
//!
//! - [`Identifier`] and [`Timestamp`]: the value types every object uses,
//!   parsed strictly and written back exactly as read.
//! - [`StixObject`]: one typed struct per SDO, SRO, SCO and meta object of
//!   STIX 2.1, each keeping custom and unknown properties, plus
//!   [`CustomObject`] for custom and non-standard types, which are kept whole
//!   (with a [`Warning`] for non-standard names), never dropped.
//! - [`bundle::BundleReader`]: reads a bundle of any size object by object in
//!   bounded memory, reporting bad objects and going on.
//! - [`deterministic_id`]: UUIDv5 ids of cyber-observables; [`versioning`]:
//!   new versions and revocation; [`Tlp`]: TLP 1.0 and 2.0 markings.
//!
//! Key order: objects serialise their typed properties first, then custom
//! ones; JSON key order carries no meaning in STIX and is not kept.
//!
//! This crate does no I/O of its own beyond reading the `std::io::Read` it is
//! given, and knows nothing of the command line, HTTP or storage.

#![forbid(unsafe_code)]

pub mod bundle;
mod common;
mod error;
mod identifier;
mod json;
mod meta;
mod object;
mod sco;
mod sco_id;
mod sdo;
pub mod spec;
mod timestamp;
pub mod versioning;
pub mod vocab;

pub use common::{
    Common, CustomProperties, ExternalReference, GranularMarking, KillChainPhase, MarkingCommon,
    ScoCommon,
};
pub use error::Error;
pub use identifier::{validate_type_name, Identifier, STIX_NAMESPACE};
pub use json::{canonical_json, from_slice_strict};
pub use meta::{ExtensionDefinition, LanguageContent, MarkingDefinition, Tlp, TLP_2_EXTENSION_ID};
pub use object::{
    category_of, Bundle, Category, CustomKind, CustomObject, StixObject, Warning, PREDEFINED_TYPES,
};
pub use sco::*;
pub use sco_id::{deterministic_id, id_contributing_properties, ID_CONTRIBUTING_PROPERTIES};
pub use sdo::*;
pub use timestamp::{Precision, Timestamp};
