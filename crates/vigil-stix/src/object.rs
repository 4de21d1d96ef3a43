//! [`StixObject`]: any STIX object, typed when its type is known, kept whole when not.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::bundle::json_kind;
use crate::common::{Common, MarkingCommon, ScoCommon};
use crate::meta::{ExtensionDefinition, LanguageContent, MarkingDefinition};
use crate::sco::*;
use crate::sdo::*;
use crate::{validate_type_name, Error, Identifier, Timestamp};

/// The broad kind of a STIX object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// A STIX Domain Object.
    Sdo,
    /// A STIX Relationship Object (`relationship`, `sighting`).
    Sro,
    /// A STIX Cyber-observable Object.
    Sco,
    /// A meta object: marking-definition, language-content, extension-definition.
    Meta,
    /// A type this model does not define (custom `x-…` or non-standard).
    Custom,
}

/// How an object of a type this model does not define is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomKind {
    /// A custom object type with the `x-` prefix (allowed by STIX 2.1 §11.1).
    Prefixed,
    /// A well-formed type name that is neither predefined nor `x-`-prefixed.
    Unknown,
    /// A type name that breaks the naming rules, such as `app:id` or
    /// `android-property:name` used by some indicator feeds. Kept, with a warning.
    NonStandard,
    /// No string `type` property at all.
    Untyped,
}

/// An object whose type this model does not define, kept exactly as read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomObject {
    /// All properties, including `type` and `id`.
    pub properties: Map<String, Value>,
}

impl CustomObject {
    /// The `type` property, if it is a string.
    pub fn object_type(&self) -> Option<&str> {
        self.properties.get("type").and_then(Value::as_str)
    }

    /// How the type is named.
    pub fn kind(&self) -> CustomKind {
        match self.object_type() {
            None => CustomKind::Untyped,
            Some(t) if validate_type_name(t).is_err() => CustomKind::NonStandard,
            Some(t) if t.starts_with("x-") => CustomKind::Prefixed,
            Some(_) => CustomKind::Unknown,
        }
    }
}

/// Something a reader should know about an object that was nevertheless kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The object's `type`, or `""` if it has none.
    pub object_type: String,
    /// What is unusual.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.object_type, self.message)
    }
}

fn typed<T: serde::de::DeserializeOwned>(value: &Value, object_type: &str) -> Result<T, Error> {
    // Fast path without path tracking; on failure, parse again to locate the error.
    if let Ok(t) = T::deserialize(value) {
        return Ok(t);
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = path_to_pointer(e.path());
        let inner = e.into_inner().to_string();
        if pointer.is_empty() {
            // Properties of the flattened common part lose their path; find the offending value.
            pointer = locate_quoted_value(value, &inner).unwrap_or_default();
        }
        Error::Property {
            index: None,
            pointer,
            message: format!("{object_type}: {inner}"),
        }
    })
}

/// Finds the top-level property (or array element) holding the first quoted string of `message`.
fn locate_quoted_value(value: &Value, message: &str) -> Option<String> {
    let start = message.find('"')?;
    let quoted: String = serde_json::Deserializer::from_str(&message[start..])
        .into_iter::<String>()
        .next()?
        .ok()?;
    let map = value.as_object()?;
    map.iter().find_map(|(k, v)| match v {
        Value::String(s) if *s == quoted => Some(format!("/{k}")),
        Value::Array(items) => items
            .iter()
            .position(|i| i.as_str() == Some(quoted.as_str()))
            .map(|i| format!("/{k}/{i}")),
        _ => None,
    })
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

macro_rules! objects {
    (
        common { $( $cv:ident => $ccat:ident, )* }
        sco { $( $sv:ident, )* }
    ) => {
        /// Any STIX 2.1 object: a typed variant per predefined type, or [`CustomObject`].
        ///
        /// Every variant keeps unknown and custom properties, so
        /// `StixObject::from_value(v)?.to_value() == v` for any object that
        /// parses (key order aside; `null` properties, which STIX forbids, are
        /// the one thing not kept).
        #[derive(Debug, Clone, PartialEq)]
        #[allow(missing_docs)]
        pub enum StixObject {
            $( $cv($cv), )*
            $( $sv($sv), )*
            MarkingDefinition(MarkingDefinition),
            /// A type not defined here, kept whole.
            Custom(CustomObject),
        }

        impl StixObject {
            /// Types a JSON object by its `type`; unknown types become [`StixObject::Custom`].
            ///
            /// Fails when a predefined type lacks a required property or a
            /// property has the wrong shape; the error names the property by
            /// JSON pointer.
            pub fn from_value(value: Value) -> Result<StixObject, Error> {
                let Value::Object(map) = value else {
                    return Err(Error::Property {
                        index: None,
                        pointer: String::new(),
                        message: format!("expected a JSON object, found {}", json_kind(&value)),
                    });
                };
                let Some(ty) = map.get("type").and_then(Value::as_str) else {
                    return Ok(StixObject::Custom(CustomObject { properties: map }));
                };
                Ok(match ty {
                    $( $cv::TYPE => StixObject::$cv(typed(&Value::Object(map), $cv::TYPE)?), )*
                    $( $sv::TYPE => StixObject::$sv(typed(&Value::Object(map), $sv::TYPE)?), )*
                    MarkingDefinition::TYPE => StixObject::MarkingDefinition(typed(&Value::Object(map), MarkingDefinition::TYPE)?),
                    _ => StixObject::Custom(CustomObject { properties: map }),
                })
            }

            /// The object as JSON.
            pub fn to_value(&self) -> Value {
                let result = match self {
                    $( StixObject::$cv(o) => serde_json::to_value(o), )*
                    $( StixObject::$sv(o) => serde_json::to_value(o), )*
                    StixObject::MarkingDefinition(o) => serde_json::to_value(o),
                    StixObject::Custom(o) => return Value::Object(o.properties.clone()),
                };
                // Serialising these types into a Value cannot fail: all map keys are strings.
                result.unwrap_or_else(|e| unreachable!("serialising a STIX object: {e}"))
            }

            /// The `type` property.
            pub fn object_type(&self) -> &str {
                match self {
                    $( StixObject::$cv(o) => &o.common.object_type, )*
                    $( StixObject::$sv(o) => &o.common.object_type, )*
                    StixObject::MarkingDefinition(o) => &o.common.object_type,
                    StixObject::Custom(o) => o.object_type().unwrap_or(""),
                }
            }

            /// The broad kind of object.
            pub fn category(&self) -> Category {
                match self {
                    $( StixObject::$cv(_) => Category::$ccat, )*
                    $( StixObject::$sv(_) => Category::Sco, )*
                    StixObject::MarkingDefinition(_) => Category::Meta,
                    StixObject::Custom(_) => Category::Custom,
                }
            }

            /// The `id` property as written (for custom objects, if it is a string).
            pub fn id(&self) -> Option<&str> {
                match self {
                    $( StixObject::$cv(o) => Some(o.common.id.as_str()), )*
                    $( StixObject::$sv(o) => Some(o.common.id.as_str()), )*
                    StixObject::MarkingDefinition(o) => Some(o.common.id.as_str()),
                    StixObject::Custom(o) => o.properties.get("id").and_then(Value::as_str),
                }
            }

            /// The SDO/SRO common properties, for objects that have them.
            pub fn common(&self) -> Option<&Common> {
                match self {
                    $( StixObject::$cv(o) => Some(&o.common), )*
                    _ => None,
                }
            }

            /// The SCO common properties, for cyber-observables.
            pub fn sco_common(&self) -> Option<&ScoCommon> {
                match self {
                    $( StixObject::$sv(o) => Some(&o.common), )*
                    _ => None,
                }
            }

            /// The custom properties of a typed object (`None` for [`StixObject::Custom`]).
            pub fn custom_properties(&self) -> Option<&Map<String, Value>> {
                match self {
                    $( StixObject::$cv(o) => Some(&o.custom), )*
                    $( StixObject::$sv(o) => Some(&o.custom), )*
                    StixObject::MarkingDefinition(o) => Some(&o.custom),
                    StixObject::Custom(_) => None,
                }
            }
        }

        /// Every object type this model defines, as `(type, category)`.
        pub const PREDEFINED_TYPES: &[(&str, Category)] = &[
            $( ($cv::TYPE, Category::$ccat), )*
            $( ($sv::TYPE, Category::Sco), )*
            (MarkingDefinition::TYPE, Category::Meta),
        ];
    };
}

objects! {
    common {
        AttackPattern => Sdo,
        Campaign => Sdo,
        CourseOfAction => Sdo,
        Grouping => Sdo,
        Identity => Sdo,
        Incident => Sdo,
        Indicator => Sdo,
        Infrastructure => Sdo,
        IntrusionSet => Sdo,
        Location => Sdo,
        Malware => Sdo,
        MalwareAnalysis => Sdo,
        Note => Sdo,
        ObservedData => Sdo,
        Opinion => Sdo,
        Report => Sdo,
        ThreatActor => Sdo,
        Tool => Sdo,
        Vulnerability => Sdo,
        Relationship => Sro,
        Sighting => Sro,
        LanguageContent => Meta,
        ExtensionDefinition => Meta,
    }
    sco {
        Artifact,
        AutonomousSystem,
        Directory,
        DomainName,
        EmailAddr,
        EmailMessage,
        File,
        Ipv4Addr,
        Ipv6Addr,
        MacAddr,
        Mutex,
        NetworkTraffic,
        Process,
        Software,
        Url,
        UserAccount,
        WindowsRegistryKey,
        X509Certificate,
    }
}

impl StixObject {
    /// The marking-definition common properties, for marking definitions.
    pub fn marking_common(&self) -> Option<&MarkingCommon> {
        match self {
            StixObject::MarkingDefinition(o) => Some(&o.common),
            _ => None,
        }
    }

    /// `created`, for objects that have it.
    pub fn created(&self) -> Option<Timestamp> {
        match self {
            StixObject::MarkingDefinition(o) => Some(o.common.created),
            StixObject::Custom(o) => timestamp_of(&o.properties, "created"),
            other => other.common().map(|c| c.created),
        }
    }

    /// `modified`, for objects that have it.
    pub fn modified(&self) -> Option<Timestamp> {
        match self {
            StixObject::Custom(o) => timestamp_of(&o.properties, "modified"),
            other => other.common().map(|c| c.modified),
        }
    }

    /// The identifier, parsed (`None` if absent or malformed, as custom objects may have).
    pub fn identifier(&self) -> Option<Identifier> {
        self.id().and_then(|id| Identifier::parse(id).ok())
    }

    /// A warning if the object's type is not predefined and not `x-`-prefixed.
    ///
    /// Such objects are kept (never dropped); callers decide whether to report.
    pub fn warning(&self) -> Option<Warning> {
        let StixObject::Custom(o) = self else {
            return None;
        };
        let object_type = o.object_type().unwrap_or("").to_owned();
        let message = match o.kind() {
            CustomKind::Prefixed => return None,
            CustomKind::Unknown => "unknown object type without the `x-` custom prefix; kept as is",
            CustomKind::NonStandard => {
                "non-standard object type name (not a-z, 0-9, '-'); kept as is"
            }
            CustomKind::Untyped => "object without a string `type`; kept as is",
        };
        Some(Warning {
            object_type,
            message: message.into(),
        })
    }
}

fn timestamp_of(map: &Map<String, Value>, key: &str) -> Option<Timestamp> {
    map.get(key)
        .and_then(Value::as_str)
        .and_then(|s| Timestamp::parse(s).ok())
}

/// The category of a type name (`None` for types this model does not define).
/// A `match`, as fast as the validator needs on every object; the tests check
/// that it agrees with [`PREDEFINED_TYPES`].
pub fn category_of(object_type: &str) -> Option<Category> {
    Some(match object_type {
        "attack-pattern" | "campaign" | "course-of-action" | "grouping" | "identity"
        | "incident" | "indicator" | "infrastructure" | "intrusion-set" | "location"
        | "malware" | "malware-analysis" | "note" | "observed-data" | "opinion" | "report"
        | "threat-actor" | "tool" | "vulnerability" => Category::Sdo,
        "relationship" | "sighting" => Category::Sro,
        "artifact"
        | "autonomous-system"
        | "directory"
        | "domain-name"
        | "email-addr"
        | "email-message"
        | "file"
        | "ipv4-addr"
        | "ipv6-addr"
        | "mac-addr"
        | "mutex"
        | "network-traffic"
        | "process"
        | "software"
        | "url"
        | "user-account"
        | "windows-registry-key"
        | "x509-certificate" => Category::Sco,
        "marking-definition" | "language-content" | "extension-definition" => Category::Meta,
        _ => return None,
    })
}

impl Serialize for StixObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            StixObject::Custom(o) => o.properties.serialize(s),
            other => other.to_value().serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for StixObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        StixObject::from_value(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<Value> for StixObject {
    type Error = Error;
    fn try_from(value: Value) -> Result<Self, Error> {
        StixObject::from_value(value)
    }
}

/// A whole STIX bundle held in memory. For large inputs use [`crate::bundle::BundleReader`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    /// `type` (`"bundle"`).
    #[serde(rename = "type")]
    pub object_type: String,
    /// `id`.
    pub id: Identifier,
    /// `objects`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::common::present"
    )]
    pub objects: Option<Vec<StixObject>>,
    /// Other bundle-level properties (`spec_version` of STIX 2.0 bundles, custom ones).
    #[serde(flatten)]
    pub custom: Map<String, Value>,
}

impl Bundle {
    /// A new empty bundle with a random id.
    pub fn new(objects: Vec<StixObject>) -> Bundle {
        Bundle {
            object_type: "bundle".into(),
            id: Identifier::new_v4("bundle")
                .unwrap_or_else(|e| unreachable!("fixed type name: {e}")),
            objects: Some(objects),
            custom: Map::new(),
        }
    }

    /// Types a whole bundle held in memory (duplicate keys are errors).
    pub fn from_slice(bytes: &[u8]) -> Result<Bundle, Error> {
        let value = crate::json::from_slice_strict(bytes)?;
        let Value::Object(mut map) = value else {
            return Err(Error::NotABundle {
                offset: 0,
                reason: "the top level is not a JSON object".into(),
            });
        };
        if map.get("type").and_then(Value::as_str) != Some("bundle") {
            return Err(Error::NotABundle {
                offset: 0,
                reason: "`type` is not \"bundle\"".into(),
            });
        }
        let objects = match map.remove("objects") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| StixObject::from_value(v).map_err(|e| e.with_index(i)))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(other) => {
                return Err(Error::Property {
                    index: None,
                    pointer: "/objects".into(),
                    message: format!("expected an array, found {}", json_kind(&other)),
                })
            }
        };
        let mut bundle: Bundle = typed(&Value::Object(map), "bundle")?;
        bundle.objects = objects;
        Ok(bundle)
    }
}

impl StixObject {
    /// A new version of this object with `changes` applied (see [`crate::versioning::new_version`]).
    pub fn new_version(
        &self,
        changes: &Map<String, Value>,
        now: Timestamp,
    ) -> Result<StixObject, Error> {
        let Value::Object(map) = self.to_value() else {
            unreachable!("objects serialise to JSON objects")
        };
        StixObject::from_value(Value::Object(crate::versioning::new_version(
            &map, changes, now,
        )?))
    }

    /// A revoked version of this object (see [`crate::versioning::revoke`]).
    pub fn revoke(&self, now: Timestamp) -> Result<StixObject, Error> {
        let Value::Object(map) = self.to_value() else {
            unreachable!("objects serialise to JSON objects")
        };
        StixObject::from_value(Value::Object(crate::versioning::revoke(&map, now)?))
    }
}
