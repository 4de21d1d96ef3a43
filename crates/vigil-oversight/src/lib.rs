//! Oversight of government use of surveillance tools, as a pure domain
//! crate.
//!
//! [`Oversight`] is the authorisation workflow of the Guiding Principles on
//! Government Use of Surveillance Technologies turned into enforced rules:
//! separation of duties, independent approval with a double lock for
//! sensitive categories, hard expiry without backdating, renewal only with a
//! fresh assessment, revocation, accesses that must cite a live
//! authorisation within scope (refusals logged too), retention and
//! destruction, reviews, notification deadlines with time-limited
//! deferrals, and complaints. Every change is appended to the transparency
//! log through [`LogSink`] *before* it takes effect; entries carry only
//! salted hashes of people, targets and devices ([`entry`]).
//!
//! [`report::transparency_report`] computes the published statistics from
//! the log entries covered by a verified checkpoint.

pub mod entry;
pub mod model;
pub mod report;
pub mod workflow;

pub use entry::{hub_action_entry, Entry, Event, HubActionKind, Pseudonymiser};
pub use model::*;
pub use report::{transparency_report, TransparencyReport};
pub use workflow::{AuthId, Authorisation, LogSink, Oversight, Status};

/// Everything the workflow refuses or fails at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OversightError {
    /// A request with a missing or out-of-range field.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A person not in the directory.
    #[error("unknown person {0:?}")]
    UnknownPerson(String),
    /// A person without the role the step needs.
    #[error("{person} does not hold the {role:?} role")]
    MissingRole {
        /// The person.
        person: String,
        /// The role needed.
        role: Role,
    },
    /// The same person in two roles that must be held by different people,
    /// or an approver who is not independent of the requesting agency.
    #[error("separation of duties: {0}")]
    SeparationOfDuties(String),
    /// An unknown authorisation id.
    #[error("unknown authorisation {0:?}")]
    UnknownAuthorisation(String),
    /// A step not allowed in the current status.
    #[error("cannot {action} {id}: it is {status:?}")]
    InvalidTransition {
        /// The authorisation.
        id: String,
        /// Its status.
        status: Status,
        /// The step attempted.
        action: &'static str,
    },
    /// A time earlier than the last recorded event: no backdating.
    #[error("time {now} is before the last recorded event at {last}: backdating is not allowed")]
    Backdated {
        /// The time given.
        now: u64,
        /// The last recorded time.
        last: u64,
    },
    /// An access refused; the refusal is on the log at `log_index`.
    #[error("access refused ({reason}); refusal logged at index {log_index}")]
    AccessRefused {
        /// Why.
        reason: String,
        /// Where the refusal was logged.
        log_index: u64,
    },
    /// The log could not record the change; nothing changed.
    #[error("transparency log: {0}")]
    Log(String),
    /// Report entries that do not match the checkpoint.
    #[error("report entries do not match the checkpoint: {0}")]
    ReportMismatch(String),
}
