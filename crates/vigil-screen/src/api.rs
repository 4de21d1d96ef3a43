//! Request and response types shaped like yente's `POST /match` API, so
//! clients written for OpenSanctions' matcher can call Vigil's hub.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::entity::Entity;
use crate::screener::{Explanation, Match, Query, Screener};
use crate::OwnershipPath;

/// A FollowTheMoney-style example entity to match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityExample {
    /// FtM schema (`Person`, `Company`, `LegalEntity` …).
    #[serde(default)]
    pub schema: String,
    /// FtM properties: `name`, `alias`, `birthDate`, `country`,
    /// `nationality`, `jurisdiction`, `registrationNumber` …
    #[serde(default)]
    pub properties: BTreeMap<String, Vec<String>>,
}

impl EntityExample {
    /// Turns the example into a screening query.
    pub fn to_query(&self) -> Query {
        let get = |keys: &[&str]| -> Vec<String> {
            keys.iter()
                .filter_map(|k| self.properties.get(*k))
                .flatten()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        };
        let mut names = get(&["name", "alias", "weakAlias", "previousName"]);
        if names.is_empty() {
            let parts = get(&["firstName", "middleName", "lastName"]);
            if !parts.is_empty() {
                names.push(parts.join(" "));
            }
        }
        Query {
            schema: if self.schema.is_empty() {
                "LegalEntity".into()
            } else {
                self.schema.clone()
            },
            names,
            countries: get(&["country", "nationality", "citizenship", "jurisdiction"])
                .into_iter()
                .map(|c| c.to_ascii_lowercase())
                .collect(),
            birth_dates: get(&["birthDate", "incorporationDate"]),
            identifiers: get(&[
                "registrationNumber",
                "innCode",
                "ogrnCode",
                "taxNumber",
                "idNumber",
                "passportNumber",
                "leiCode",
                "imoNumber",
            ]),
        }
    }
}

/// The body of `POST /match`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MatchRequest {
    /// Queries by caller-chosen key.
    pub queries: BTreeMap<String, EntityExample>,
}

/// One scored result, as yente returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredEntity {
    /// Listed entity id.
    pub id: String,
    /// Display name.
    pub caption: String,
    /// FtM schema.
    pub schema: String,
    /// Properties of the listed entity (names, countries, dates, listings).
    pub properties: BTreeMap<String, Vec<String>>,
    /// Source lists.
    pub datasets: Vec<String>,
    /// True for listed parties.
    pub target: bool,
    /// Overall score.
    pub score: f32,
    /// True when screening raises the entry at the threshold: its score
    /// reaches it and no other entry explains the query's facts better
    /// (see `Screener::alerts`).
    #[serde(rename = "match")]
    pub is_match: bool,
    /// Per-feature factors (`name`, `country`, `birth_date` …).
    pub features: BTreeMap<String, f32>,
    /// Vigil's explanation of the score.
    pub explanation: Explanation,
    /// Ownership paths when restricted through a listed owner.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ownership: Vec<OwnershipPath>,
}

/// The total count, as yente writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Total {
    /// Number of results.
    pub value: usize,
    /// Always `eq`.
    pub relation: String,
}

/// The response for one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResponse {
    /// HTTP-like status (200, or 400 for a query without a name).
    pub status: u16,
    /// Results, best first.
    pub results: Vec<ScoredEntity>,
    /// Count of results.
    pub total: Total,
    /// The query as understood.
    pub query: EntityExample,
}

/// The body of the `POST /match` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchResponse {
    /// Responses by the caller's query key.
    pub responses: BTreeMap<String, QueryResponse>,
    /// The result limit applied.
    pub limit: usize,
}

fn entity_properties(e: &Entity) -> BTreeMap<String, Vec<String>> {
    let mut p = BTreeMap::new();
    let mut put = |k: &str, v: Vec<String>| {
        if !v.is_empty() {
            p.insert(k.to_string(), v);
        }
    };
    put("name", e.names.clone());
    put("alias", e.aliases.clone());
    put("birthDate", e.birth_dates.clone());
    put("country", e.countries.clone());
    put("address", e.addresses.clone());
    put("notes", e.notes.clone());
    put(
        "program",
        e.listings
            .iter()
            .map(|l| l.programme.clone())
            .filter(|s| !s.is_empty())
            .collect(),
    );
    put(
        "sourceUrl",
        e.listings
            .iter()
            .map(|l| l.source_url.clone())
            .filter(|s| !s.is_empty())
            .collect(),
    );
    p
}

fn scored(screener: &Screener, m: Match, raised: bool) -> ScoredEntity {
    let mut features = BTreeMap::new();
    features.insert("name".to_string(), m.explanation.name_score);
    for f in &m.explanation.features {
        features.insert(f.name.clone(), f.factor);
    }
    let entity = screener.entity(&m.entity_id);
    ScoredEntity {
        properties: entity.map(entity_properties).unwrap_or_default(),
        datasets: entity.map(|e| e.datasets.clone()).unwrap_or_default(),
        target: entity.is_some_and(|e| e.target),
        is_match: raised,
        id: m.entity_id,
        caption: m.caption,
        schema: m.schema,
        score: m.score,
        features,
        explanation: m.explanation,
        ownership: m.ownership,
    }
}

/// Answers a `POST /match` body: scores each query, keeps the best `limit`
/// candidates and marks as matches those [`Screener::alerts`] raises at
/// `threshold` (the entries `vigil screen` and the hub report, with the
/// entries raised together with them).
pub fn answer(
    screener: &Screener,
    request: &MatchRequest,
    threshold: f32,
    limit: usize,
) -> MatchResponse {
    let responses = request
        .queries
        .iter()
        .map(|(key, example)| {
            let query = example.to_query();
            let (status, results) = if query.names.is_empty() {
                (400, Vec::new())
            } else {
                let mut ms = screener.score_query(&query, crate::CANDIDATES);
                let mut raised = vec![false; ms.len()];
                for a in screener.alerts(&ms, threshold) {
                    a.entries().for_each(|i| raised[i] = true);
                }
                ms.truncate(limit);
                (
                    200,
                    ms.into_iter()
                        .zip(raised)
                        .map(|(m, r)| scored(screener, m, r))
                        .collect::<Vec<_>>(),
                )
            };
            let resp = QueryResponse {
                status,
                total: Total {
                    value: results.len(),
                    relation: "eq".into(),
                },
                results,
                query: example.clone(),
            };
            (key.clone(), resp)
        })
        .collect();
    MatchResponse { responses, limit }
}
