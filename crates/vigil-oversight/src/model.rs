//! The authorisation request and its parts.

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch (UTC).
pub type Timestamp = u64;

/// Seconds in a day.
pub const DAY: u64 = 86_400;

/// An internal identifier of a person (officer, judge, operator, auditor).
/// It stays in the database; the log only ever sees its salted hash.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PersonId(pub String);

/// What a person may do in the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Files authorisation requests for an agency.
    Requester,
    /// Decides on requests for an independent authority (judge, commission).
    Approver,
    /// Carries out authorised operations.
    Operator,
    /// Reviews authorisations after the fact.
    Auditor,
}

/// A person known to the workflow: their organisation and roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Internal identifier.
    pub id: PersonId,
    /// Organisation (agency, court, oversight body).
    pub organisation: String,
    /// Roles held.
    pub roles: Vec<Role>,
}

/// The surveillance tool, linked to the spyware registry and the export
/// licence under which it was acquired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRef {
    /// STIX id of the tool or malware object in the registry.
    pub registry_id: String,
    /// STIX id of the vendor (identity) in the registry.
    pub vendor_id: String,
    /// Product name as in the registry.
    pub product: String,
    /// Reference of the export (or import) licence.
    pub export_licence: String,
}

/// The legal basis invoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalBasis {
    /// Jurisdiction (ISO 3166 code).
    pub jurisdiction: String,
    /// The statute or instrument.
    pub instrument: String,
    /// The provision (article, section).
    pub provision: String,
}

/// Category of the person targeted. Some categories are sensitive and need
/// a second, independent approval (the "double lock").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetCategory {
    /// A suspect of a criminal offence.
    Suspect,
    /// A contact of a suspect.
    Contact,
    /// A person in danger (e.g. kidnapping victim).
    Victim,
    /// A journalist (sensitive).
    Journalist,
    /// A lawyer (sensitive: privilege).
    Lawyer,
    /// A member of a legislature (sensitive).
    Legislator,
    /// A human-rights defender (sensitive).
    HumanRightsDefender,
}

impl TargetCategory {
    /// Whether this category needs a double lock.
    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            Self::Journalist | Self::Lawyer | Self::Legislator | Self::HumanRightsDefender
        )
    }

    /// The name used in log entries and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspect => "suspect",
            Self::Contact => "contact",
            Self::Victim => "victim",
            Self::Journalist => "journalist",
            Self::Lawyer => "lawyer",
            Self::Legislator => "legislator",
            Self::HumanRightsDefender => "human_rights_defender",
        }
    }
}

/// Scope of the measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Largest number of distinct devices that may be accessed.
    pub max_devices: u32,
    /// Data types that may be collected (e.g. `messages`, `location`).
    pub data_types: Vec<String>,
    /// Geographic areas (ISO 3166 codes) where access is allowed.
    pub geography: Vec<String>,
}

/// One less intrusive means considered, and why it was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlternativeConsidered {
    /// The means.
    pub means: String,
    /// Why it does not suffice.
    pub why_rejected: String,
}

/// The necessity and proportionality assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Why the measure is necessary.
    pub necessity: String,
    /// Why it is proportionate to the aim.
    pub proportionality: String,
    /// Less intrusive means considered.
    pub alternatives: Vec<AlternativeConsidered>,
    /// Expected collateral intrusion on third parties.
    pub collateral_intrusion: String,
}

/// An authorisation request as filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorisationRequest {
    /// The requesting agency.
    pub agency: String,
    /// The officer filing the request.
    pub officer: PersonId,
    /// The tool.
    pub tool: ToolRef,
    /// The legal basis.
    pub legal_basis: LegalBasis,
    /// The purpose, in words.
    pub purpose: String,
    /// The offence category (e.g. `terrorism`, `organised_crime`).
    pub offence_category: String,
    /// The target category.
    pub target_category: TargetCategory,
    /// Reference of the target record in the access-controlled database;
    /// never written to the log.
    pub target_ref: String,
    /// The scope.
    pub scope: Scope,
    /// The assessment.
    pub assessment: Assessment,
    /// Requested duration in days.
    pub duration_days: u32,
}

/// One operational access, which must cite a live authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    /// The operator.
    pub operator: PersonId,
    /// Reference of the device in the database (hashed in the log).
    pub device_ref: String,
    /// The data type to collect.
    pub data_type: String,
    /// Where the device is (ISO 3166 code).
    pub geography: String,
}

/// Limits set by law or policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Longest duration that may be approved at once, in days.
    pub max_duration_days: u32,
    /// Days after the end of a measure by which collected data must be destroyed.
    pub retention_days: u32,
    /// Days between scheduled reviews of a live authorisation.
    pub review_interval_days: u32,
    /// Days after the end of a measure by which the target must be notified.
    pub notification_days: u32,
    /// Longest single deferral of notification, in days.
    pub max_deferral_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_duration_days: 90,
            retention_days: 180,
            review_interval_days: 30,
            notification_days: 90,
            max_deferral_days: 180,
        }
    }
}
