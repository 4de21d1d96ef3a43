//! The log entries the workflow writes: one JSON object per leaf, holding
//! no personal data. People, targets, devices and complaints appear only as
//! salted hashes; the plaintext stays in the access-controlled database.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Timestamp;

/// Version of the entry format.
pub const ENTRY_VERSION: u32 = 1;

/// Turns identifiers into salted hashes for the log. The salt is secret
/// (kept with the database), so small identifier spaces cannot be
/// enumerated from the public log.
#[derive(Clone)]
pub struct Pseudonymiser {
    salt: [u8; 32],
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser { salt: <secret> }")
    }
}

impl Pseudonymiser {
    /// A pseudonymiser with a secret 32-byte salt.
    pub fn new(salt: [u8; 32]) -> Self {
        Self { salt }
    }

    /// The salted hash of `value` in namespace `kind` (e.g. `person`),
    /// as 32 hex digits.
    pub fn hash(&self, kind: &str, value: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update([0]);
        h.update(kind.as_bytes());
        h.update([0]);
        h.update(value.as_bytes());
        h.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Kinds of the hub's own sensitive actions recorded on the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HubActionKind {
    /// Release of TLP:RED material.
    TlpRedRelease,
    /// An export-screening decision.
    ExportScreening,
    /// A licence determination.
    LicenceDetermination,
    /// An administrative change (users, roles, keys, configuration).
    AdminChange,
}

/// One log entry's event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A request (or renewal request) was filed.
    Requested {
        /// Authorisation id.
        auth: String,
        /// Agency.
        agency: String,
        /// Hash of the requesting officer.
        requester: String,
        /// Registry id of the tool.
        tool: String,
        /// Offence category.
        offence_category: String,
        /// Target category.
        target_category: String,
        /// Whether a double lock applies.
        sensitive: bool,
        /// Requested duration in days.
        duration_days: u32,
        /// Devices in scope.
        max_devices: u32,
        /// The authorisation this renews, if any.
        renewal_of: Option<String>,
    },
    /// One approval (first or second lock). `valid_until` is set on the
    /// approval that makes the authorisation live.
    Approved {
        /// Authorisation id.
        auth: String,
        /// Hash of the approver.
        approver: String,
        /// The approving authority.
        authority: String,
        /// 1 for the first approval, 2 for the second lock.
        lock: u8,
        /// Start of validity (the approval time: never earlier).
        valid_from: Option<Timestamp>,
        /// Hard expiry.
        valid_until: Option<Timestamp>,
        /// Approved duration in days.
        duration_days: Option<u32>,
    },
    /// The request was refused.
    Refused {
        /// Authorisation id.
        auth: String,
        /// Hash of the approver.
        approver: String,
        /// The authority.
        authority: String,
    },
    /// The authorisation was revoked.
    Revoked {
        /// Authorisation id.
        auth: String,
        /// Hash of who revoked.
        by: String,
    },
    /// The authorisation reached its hard expiry.
    Expired {
        /// Authorisation id.
        auth: String,
    },
    /// An operational access, granted or refused.
    Access {
        /// The authorisation cited (or a hash of an unknown citation).
        auth: String,
        /// Hash of the operator.
        operator: String,
        /// Hash of the device.
        device: String,
        /// Data type.
        data_type: String,
        /// Whether it was granted.
        granted: bool,
        /// Why it was refused.
        refusal: Option<String>,
    },
    /// A scheduled review.
    Reviewed {
        /// Authorisation id.
        auth: String,
        /// Hash of the auditor.
        auditor: String,
        /// Whether the use was found compliant.
        compliant: bool,
    },
    /// Collected data was destroyed.
    Destroyed {
        /// Authorisation id.
        auth: String,
        /// Hash of who destroyed it.
        by: String,
    },
    /// The targeted person was notified.
    Notified {
        /// Authorisation id.
        auth: String,
    },
    /// Notification was deferred, with justification, until a date.
    NotificationDeferred {
        /// Authorisation id.
        auth: String,
        /// Hash of the approver.
        approver: String,
        /// New deadline.
        until: Timestamp,
    },
    /// A complaint was lodged.
    Complaint {
        /// Authorisation id.
        auth: String,
        /// Hash of the complaint reference.
        complaint: String,
    },
    /// A complaint was decided.
    Remedy {
        /// Authorisation id.
        auth: String,
        /// Hash of the complaint reference.
        complaint: String,
        /// Whether the complaint was upheld.
        upheld: bool,
    },
    /// A sensitive action of the hub itself.
    HubAction {
        /// Kind of action.
        action: HubActionKind,
        /// Hash of the actor.
        actor: String,
        /// Hash of the subject (document, party, licence, setting).
        subject: String,
    },
}

/// A log entry: format version, time and event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Format version ([`ENTRY_VERSION`]).
    pub v: u32,
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

impl Entry {
    /// The bytes appended to the log.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses an entry; `None` for entries of other producers.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(bytes)
            .ok()
            .filter(|e| e.v == ENTRY_VERSION)
    }
}

/// Builds the log entry for a hub action.
pub fn hub_action_entry(
    pseud: &Pseudonymiser,
    action: HubActionKind,
    actor: &str,
    subject: &str,
    at: Timestamp,
) -> Vec<u8> {
    Entry {
        v: ENTRY_VERSION,
        at,
        event: Event::HubAction {
            action,
            actor: pseud.hash("person", actor),
            subject: pseud.hash("subject", subject),
        },
    }
    .to_bytes()
}
