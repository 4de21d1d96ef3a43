//! The STIX 2.1 Patterning language.
//!
//! - [`parse`] reads a pattern per the OASIS grammar (`STIXPattern.g4`) into
//!   a [`Pattern`] tree, or a [`ParseError`] that says where and what was
//!   expected (`expected ']' at 1:31`).
//! - `Display` on [`Pattern`] is the canonical pretty-printer; its output
//!   parses back to an equal tree.
//! - [`validate`] adds the checks beyond the grammar that the OASIS
//!   validator makes (hash values fit their algorithm, no repeated qualifier
//!   on one observation).
//! - [`compile`] lowers common indicator forms to [`Fact`]s for an index.
//! - [`matches`] evaluates a pattern against observed-data, with the
//!   semantics of the OASIS `stix2-matcher` (see `eval` for where it differs).
//!
//! This crate does no I/O.

#![forbid(unsafe_code)]

mod ast;
mod compile;
mod error;
pub mod eval;

mod lexer;
mod literal;
mod parser;
mod print;
mod validate;

pub use ast::{
    Comparison, ComparisonExpr, Literal, ObjectPath, ObservationExpr, Operator, PathStep, Pattern,
    Qualifier, Seconds,
};
pub use compile::{compile, Compiled, Fact, FactOp};
pub use error::{EvalError, ParseError};
pub use eval::{matches, matches_stix, Evaluator, ObservedData};

pub use literal::{parse_timestamp_micros, Timestamp};
pub use parser::{parse, MAX_DEPTH};
pub use validate::{validate, Issue};
