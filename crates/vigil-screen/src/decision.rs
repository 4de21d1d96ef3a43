//! Decisions: an officer's disposition of a screening hit, kept, audited
//! and reused. A cleared false positive is not raised again for the same
//! list version, until the listed entry changes.

use serde::{Deserialize, Serialize};

use crate::error::ScreenError;

/// What the officer decided about a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// The party is the listed party.
    TrueMatch,
    /// The party is not the listed party.
    FalsePositive,
    /// Needs a senior officer's review.
    Escalate,
}

impl std::str::FromStr for Disposition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "true_match" | "match" => Ok(Disposition::TrueMatch),
            "false_positive" | "fp" | "clear" => Ok(Disposition::FalsePositive),
            "escalate" => Ok(Disposition::Escalate),
            _ => Err(format!(
                "unknown disposition {s:?} (true-match, false-positive, escalate)"
            )),
        }
    }
}

/// One recorded decision about one hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The screened party's key (`Query::key`).
    pub query_key: String,
    /// The screened party's name as entered, for the audit trail.
    pub query_name: String,
    /// The listed entity the hit was on.
    pub entity_id: String,
    /// Fingerprint of the listed entry when decided (`Entity::fingerprint`).
    pub entity_fingerprint: String,
    /// Version of the list when decided (`Screener::list_version`).
    pub list_version: String,
    /// The disposition.
    pub disposition: Disposition,
    /// Why.
    pub reason: String,
    /// Who decided.
    pub officer: String,
    /// When (RFC 3339, supplied by the caller).
    pub decided_at: String,
}

/// All decisions, in the order they were taken (an append-only audit log).
#[derive(Debug, Clone, Default)]
pub struct DecisionBook {
    decisions: Vec<Decision>,
}

impl DecisionBook {
    /// An empty book.
    pub fn new() -> DecisionBook {
        DecisionBook::default()
    }

    /// Reads a book from JSON lines, reporting the first bad line.
    pub fn from_json_lines(text: &str, source: &str) -> Result<DecisionBook, ScreenError> {
        let mut book = DecisionBook::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let d: Decision = serde_json::from_str(line).map_err(|e| ScreenError::BadRecord {
                source_name: source.to_string(),
                line: i + 1,
                message: e.to_string(),
            })?;
            book.decisions.push(d);
        }
        Ok(book)
    }

    /// Records a decision; reason and officer are required.
    pub fn record(&mut self, decision: Decision) -> Result<&Decision, ScreenError> {
        for (field, value) in [("reason", &decision.reason), ("officer", &decision.officer)] {
            if value.trim().is_empty() {
                return Err(ScreenError::IncompleteDecision {
                    entity: decision.entity_id.clone(),
                    field,
                });
            }
        }
        self.decisions.push(decision);
        Ok(self.decisions.last().expect("just pushed"))
    }

    /// The latest decision on this query and entity, if any.
    pub fn latest(&self, query_key: &str, entity_id: &str) -> Option<&Decision> {
        self.decisions
            .iter()
            .rev()
            .find(|d| d.query_key == query_key && d.entity_id == entity_id)
    }

    /// The false-positive clearance that suppresses this hit, if any: the
    /// latest decision is a false positive taken on the same list version
    /// and the same entry fingerprint.
    pub fn suppressing(
        &self,
        query_key: &str,
        entity_id: &str,
        entity_fingerprint: &str,
        list_version: &str,
    ) -> Option<&Decision> {
        self.latest(query_key, entity_id).filter(|d| {
            d.disposition == Disposition::FalsePositive
                && d.entity_fingerprint == entity_fingerprint
                && d.list_version == list_version
        })
    }

    /// Every decision on this query and entity, oldest first (the audit trail).
    pub fn history<'a>(
        &'a self,
        query_key: &'a str,
        entity_id: &'a str,
    ) -> impl Iterator<Item = &'a Decision> + 'a {
        self.decisions
            .iter()
            .filter(move |d| d.query_key == query_key && d.entity_id == entity_id)
    }

    /// All decisions, oldest first.
    pub fn all(&self) -> &[Decision] {
        &self.decisions
    }
}
