//! Properties shared by many objects, and the macro that declares object types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Identifier, Timestamp};

/// Custom and unknown properties of an object, kept exactly as read.
pub type CustomProperties = Map<String, Value>;

/// The common properties of SDOs, SROs, language-content and extension-definition (STIX 2.1 §3.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Common {
    /// `type`.
    #[serde(rename = "type")]
    pub object_type: String,
    /// `spec_version` (`"2.1"`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub spec_version: Option<String>,
    /// `id`.
    pub id: Identifier,
    /// `created_by_ref`: the identity that made the object.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub created_by_ref: Option<Identifier>,
    /// `created`: when this object (all its versions) was first made.
    pub created: Timestamp,
    /// `modified`: when this version was made.
    pub modified: Timestamp,
    /// `revoked`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub revoked: Option<bool>,
    /// `labels`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub labels: Option<Vec<String>>,
    /// `confidence` (0–100).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub confidence: Option<i64>,
    /// `lang`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub lang: Option<String>,
    /// `external_references`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub external_references: Option<Vec<ExternalReference>>,
    /// `object_marking_refs`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub object_marking_refs: Option<Vec<Identifier>>,
    /// `granular_markings`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub granular_markings: Option<Vec<GranularMarking>>,
    /// `extensions`, by extension name or `extension-definition--…` id; kept as read.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub extensions: Option<Map<String, Value>>,
}

/// The common properties of cyber-observable objects (STIX 2.1 §3.2, SCO column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoCommon {
    /// `type`.
    #[serde(rename = "type")]
    pub object_type: String,
    /// `spec_version`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub spec_version: Option<String>,
    /// `id` (deterministic UUIDv5 for most types; see [`crate::deterministic_id`]).
    pub id: Identifier,
    /// `object_marking_refs`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub object_marking_refs: Option<Vec<Identifier>>,
    /// `granular_markings`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub granular_markings: Option<Vec<GranularMarking>>,
    /// `defanged`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub defanged: Option<bool>,
    /// `extensions`; kept as read (typed access for `file` via [`crate::File`] methods).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub extensions: Option<Map<String, Value>>,
}

/// The common properties of a marking-definition, which has no `modified` (it never changes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkingCommon {
    /// `type` (`"marking-definition"`).
    #[serde(rename = "type")]
    pub object_type: String,
    /// `spec_version`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub spec_version: Option<String>,
    /// `id`.
    pub id: Identifier,
    /// `created_by_ref`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub created_by_ref: Option<Identifier>,
    /// `created`.
    pub created: Timestamp,
    /// `external_references`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub external_references: Option<Vec<ExternalReference>>,
    /// `object_marking_refs`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub object_marking_refs: Option<Vec<Identifier>>,
    /// `granular_markings`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub granular_markings: Option<Vec<GranularMarking>>,
    /// `extensions`; kept as read.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub extensions: Option<Map<String, Value>>,
}

/// An external reference (STIX 2.1 §2.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalReference {
    /// `source_name`.
    pub source_name: String,
    /// `description`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub description: Option<String>,
    /// `url`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub url: Option<String>,
    /// `hashes`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub hashes: Option<BTreeMap<String, String>>,
    /// `external_id`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub external_id: Option<String>,
    /// Any other property, kept as read.
    #[serde(flatten)]
    pub custom: CustomProperties,
}

/// A kill chain phase (STIX 2.1 §2.8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillChainPhase {
    /// `kill_chain_name`.
    pub kill_chain_name: String,
    /// `phase_name`.
    pub phase_name: String,
    /// Any other property, kept as read.
    #[serde(flatten)]
    pub custom: CustomProperties,
}

/// A granular marking (STIX 2.1 §7.2.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GranularMarking {
    /// `lang`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub lang: Option<String>,
    /// `marking_ref`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub marking_ref: Option<Identifier>,
    /// `selectors`.
    pub selectors: Vec<String>,
    /// Any other property, kept as read.
    #[serde(flatten)]
    pub custom: CustomProperties,
}

/// Declares one object type: common properties, required properties,
/// optional properties and a map keeping everything else.
macro_rules! stix_type {
    (
        $(#[$doc:meta])*
        $name:ident($common:ty) = $type_name:literal {
            $( $(#[$rdoc:meta])* $req:ident : $rty:ty, )*
        }
        optional {
            $( $(#[$odoc:meta])* $opt:ident : $oty:ty, )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            /// The common properties.
            #[serde(flatten)]
            pub common: $common,
            $(
                $(#[$rdoc])*
                #[doc = concat!("`", stringify!($req), "` (required).")]
                pub $req: $rty,
            )*
            $(
                $(#[$odoc])*
                #[doc = concat!("`", stringify!($opt), "`.")]
                #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::common::present")]
                pub $opt: Option<$oty>,
            )*
            /// Custom (`x_…`) and unknown properties, kept as read.
            #[serde(flatten)]
            pub custom: $crate::common::CustomProperties,
        }

        impl $name {
            /// The value of `type` for this object type.
            pub const TYPE: &'static str = $type_name;
        }
    };
}

pub(crate) use stix_type;

/// Deserialises an optional property that is present: `null` is refused
/// (STIX 2.1 §3.1 forbids null values), so that dropping `None` on output loses nothing.
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

impl Common {
    /// Whether `modified` is not earlier than `created`, as STIX 2.1 §3.2 requires.
    pub fn modified_not_before_created(&self) -> bool {
        self.modified >= self.created
    }
}
