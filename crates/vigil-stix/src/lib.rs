//! The STIX 2.1 object model.
//!
//! - [`Identifier`] and [`Timestamp`]: the two value types every object uses,
//!   parsed strictly and written back exactly as read.
//! - [`bundle::BundleReader`]: reads a bundle of any size object by object in
//!   bounded memory, reporting bad objects and going on.
//!
//! This crate does no I/O of its own beyond reading the `std::io::Read` it is
//! given, and knows nothing of the command line, HTTP or storage.

#![forbid(unsafe_code)]

pub mod bundle;
mod error;
mod identifier;
mod json;
mod timestamp;

pub use error::Error;
pub use identifier::{validate_type_name, Identifier, STIX_NAMESPACE};
pub use json::{canonical_json, from_slice_strict};
pub use timestamp::{Precision, Timestamp};
