//! The listed parties: entities with their names, facts and listings, and
//! the ownership and control relations between them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A listed (or related) party as read from a list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Identifier, unique within the loaded lists.
    pub id: String,
    /// FollowTheMoney schema name: `Person`, `Company`, `Organization`,
    /// `LegalEntity`, `Vessel` …
    pub schema: String,
    /// Primary names, in list order.
    pub names: Vec<String>,
    /// All other names: aliases, weak aliases, former names, other scripts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Birth or incorporation dates as written (`1961`, `1961-05-01`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub birth_dates: Vec<String>,
    /// ISO 3166 alpha-2 codes, lower case (country, nationality, jurisdiction).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    /// Registration numbers, tax codes, passport numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<Identifier>,
    /// Postal addresses as free text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// The listings (list, programme, date, source) of this party.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listings: Vec<Listing>,
    /// Data sets the entity was read from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<String>,
    /// Free-text notes (why listed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// True when the party itself is a screening target (listed); false for
    /// related parties that are only present as owners or subsidiaries.
    #[serde(default = "yes")]
    pub target: bool,
}

fn yes() -> bool {
    true
}

/// An identifier of an entity with the kind it was given under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    /// The property or document type (`registrationNumber`, `innCode`, `passport`).
    pub kind: String,
    /// The value as written.
    pub value: String,
}

impl Identifier {
    /// The value reduced to upper-case letters and digits, for comparison.
    pub fn normalised(&self) -> String {
        normalise_identifier(&self.value)
    }
}

/// Reduces an identifier to upper-case ASCII letters and digits.
pub fn normalise_identifier(value: &str) -> String {
    value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// One listing of a party on a restricted list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The list or authority ("US BIS Entity List", "US OFAC SDN").
    pub list: String,
    /// The sanctions programme or legal basis.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub programme: String,
    /// Date of listing, ISO 8601.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub listed_on: String,
    /// Date of removal, when the party was delisted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub removed_on: String,
    /// The official reference: Federal Register citation, press release number.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reference: String,
    /// Where the listing is published (Federal Register, Treasury press release).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_url: String,
}

impl Listing {
    /// True when the listing has been lifted.
    pub fn is_removed(&self) -> bool {
        !self.removed_on.is_empty()
    }
}

/// How one party relates to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// The owner holds `percentage` of the asset.
    Ownership,
    /// The controller directs the asset (director, parent by control).
    Control,
}

/// An ownership or control edge between two entities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    /// Ownership or control.
    pub kind: RelationKind,
    /// The owning or controlling entity's id.
    pub from: String,
    /// The owned or controlled entity's id.
    pub to: String,
    /// Share held, in percent, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<f64>,
}

impl Entity {
    /// True for natural persons.
    pub fn is_person(&self) -> bool {
        self.schema == "Person"
    }

    /// A display name: the first primary name, else the first alias, else the id.
    pub fn caption(&self) -> &str {
        self.names
            .first()
            .or_else(|| self.aliases.first())
            .map(String::as_str)
            .unwrap_or(&self.id)
    }

    /// A content fingerprint: changes whenever any fact of the entry changes.
    pub fn fingerprint(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        hex(&Sha256::digest(&bytes)[..16])
    }

    /// All names, primary first.
    pub fn all_names(&self) -> impl Iterator<Item = &String> {
        self.names.iter().chain(self.aliases.iter())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
