//! The registry bundled with Vigil.
//!
//! Every STIX 2.1 bundle under `data/registry/` (the curated dataset of the
//! commercial spyware ecosystem) and under `data/indicators/` (the public
//! indicator sets of investigations) is embedded in the binary at build time,
//! so that a fresh hub can load them on first start with no file at hand.
//! This crate only finds and parses the bundles; loading them into a store
//! is the hub's job.

#![forbid(unsafe_code)]

use serde_json::Value;

/// Where a bundle comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// `data/registry/`: vendors, products, listings and cases.
    Registry,
    /// `data/indicators/`: the public indicator sets.
    Indicators,
}

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// A bundle embedded in the binary.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedBundle {
    /// Which folder it comes from.
    pub source: Source,
    /// Its path under `data/`, e.g. `indicators/investigations/2021-07-18_nso/pegasus.stix2`.
    pub path: &'static str,
    /// Its JSON text.
    pub text: &'static str,
}

/// Why an embedded bundle could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file is not JSON.
    #[error("{path}: not JSON: {source}")]
    Json {
        /// Path under `data/`.
        path: &'static str,
        /// Parser error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// The JSON is not a STIX bundle.
    #[error("{path}: not a STIX bundle: {reason}")]
    NotABundle {
        /// Path under `data/`.
        path: &'static str,
        /// What is missing.
        reason: &'static str,
    },
}

/// Every embedded bundle, sorted by source and path.
pub fn bundles() -> impl Iterator<Item = EmbeddedBundle> {
    EMBEDDED
        .iter()
        .map(|&(source, path, text)| EmbeddedBundle { source, path, text })
}

impl EmbeddedBundle {
    /// Parses the bundle and returns its objects.
    pub fn objects(&self) -> Result<Vec<Value>, RegistryError> {
        let value: Value =
            serde_json::from_str(self.text).map_err(|source| RegistryError::Json {
                path: self.path,
                source,
            })?;
        let Value::Object(mut map) = value else {
            return Err(RegistryError::NotABundle {
                path: self.path,
                reason: "top level is not a JSON object",
            });
        };
        if map.get("type").and_then(Value::as_str) != Some("bundle") {
            return Err(RegistryError::NotABundle {
                path: self.path,
                reason: "\"type\" is not \"bundle\"",
            });
        }
        match map.remove("objects") {
            Some(Value::Array(objects)) => Ok(objects),
            None => Ok(Vec::new()),
            Some(_) => Err(RegistryError::NotABundle {
                path: self.path,
                reason: "\"objects\" is not an array",
            }),
        }
    }
}
