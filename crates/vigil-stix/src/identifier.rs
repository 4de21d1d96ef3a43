//! STIX identifiers (`type--uuid`) and type names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::Error;

/// The namespace of deterministic (UUIDv5) identifiers, fixed by STIX 2.1 §2.9.
pub const STIX_NAMESPACE: Uuid = Uuid::from_bytes([
    0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7,
]);

/// Checks a STIX type name: 3 to 250 characters of `a-z`, `0-9` and `-`, starting with a letter.
///
/// These are the rules of STIX 2.1 §3.1 for object type names (custom types
/// included). Names such as `app:id` used by some feeds for observables do
/// not pass; the model keeps such objects anyway (see [`crate::StixObject`]).
pub fn validate_type_name(name: &str) -> Result<(), Error> {
    let fail = |reason: &str| {
        Err(Error::InvalidTypeName {
            value: name.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if name.len() < 3 {
        return fail("shorter than 3 characters");
    }
    if name.len() > 250 {
        return fail("longer than 250 characters");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return fail("must start with a lowercase letter a-z");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return fail(&format!("character {c:?} is not one of a-z, 0-9, '-'"));
    }
    Ok(())
}

/// A STIX identifier: `object-type--UUID` (STIX 2.1 §2.9).
///
/// Parsing checks the shape (`--` separator, hyphenated 36-character UUID)
/// and the type name rules; the original text is kept, so display and
/// serialisation give back exactly what was read. Equality, ordering and
/// hashing compare that text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identifier {
    text: String,
    sep: usize,
    uuid: Uuid,
}

impl Identifier {
    /// Parses and checks an identifier.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let fail = |reason: String| Error::InvalidIdentifier {
            value: text.to_owned(),
            reason,
        };
        let sep = text
            .rfind("--")
            .ok_or_else(|| fail("missing the `--` between type and UUID".into()))?;
        let (ty, uuid_text) = (&text[..sep], &text[sep + 2..]);
        validate_type_name(ty).map_err(|e| match e {
            Error::InvalidTypeName { reason, .. } => fail(format!("type part: {reason}")),
            other => other,
        })?;
        let hyphenated = uuid_text.len() == 36
            && uuid_text
                .char_indices()
                .all(|(i, c)| matches!(i, 8 | 13 | 18 | 23) == (c == '-'));
        if !hyphenated {
            return Err(fail(
                "UUID part is not in the hyphenated 8-4-4-4-12 form".into(),
            ));
        }
        let uuid = Uuid::parse_str(uuid_text).map_err(|e| fail(format!("UUID part: {e}")))?;
        Ok(Identifier {
            text: text.to_owned(),
            sep,
            uuid,
        })
    }

    /// Builds an identifier from a type name and a UUID.
    pub fn new(object_type: &str, uuid: Uuid) -> Result<Self, Error> {
        validate_type_name(object_type)?;
        let text = format!("{object_type}--{uuid}");
        Ok(Identifier {
            sep: object_type.len(),
            text,
            uuid,
        })
    }

    /// A fresh random (UUIDv4) identifier, as STIX recommends for SDOs and SROs.
    pub fn new_v4(object_type: &str) -> Result<Self, Error> {
        Self::new(object_type, Uuid::new_v4())
    }

    /// The type part (`indicator` in `indicator--…`).
    pub fn object_type(&self) -> &str {
        &self.text[..self.sep]
    }

    /// The UUID part.
    pub fn uuid(&self) -> Uuid {
        self.uuid
    }

    /// The UUID version number (4 for random, 5 for deterministic SCO ids).
    pub fn uuid_version(&self) -> usize {
        self.uuid.get_version_num()
    }

    /// Whether the UUID has the RFC 4122 variant bits, which STIX requires.
    pub fn is_rfc4122(&self) -> bool {
        self.uuid.get_variant() == uuid::Variant::RFC4122
    }

    /// The identifier as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identifier({})", self.text)
    }
}

impl FromStr for Identifier {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl Serialize for Identifier {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Identifier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        Identifier::parse(&text).map_err(serde::de::Error::custom)
    }
}
