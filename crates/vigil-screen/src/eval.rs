//! Evaluation on a labelled query set: precision, recall and F1 at a
//! threshold, the best F1 over thresholds, per-category results and the
//! recall of candidate retrieval. Used by the quality test and benchmark.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::entity::Entity;
use crate::screener::{alert, best_rank, Query, Screener, CANDIDATES};

/// One labelled query.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// The query's id.
    pub id: String,
    /// The query.
    pub query: Query,
    /// The listed entity it should match, or `None` for a negative.
    pub truth: Option<String>,
    /// The label category (`typo`, `neg_homonym` …).
    pub category: String,
}

#[derive(Deserialize)]
struct Label {
    query_id: String,
    truth: Option<String>,
    category: String,
}

/// Turns a list-format entity into the query an officer would type.
pub fn entity_to_query(e: &Entity) -> Query {
    Query {
        schema: e.schema.clone(),
        names: e.all_names().cloned().collect(),
        countries: e.countries.clone(),
        birth_dates: e.birth_dates.clone(),
        identifiers: e.identifiers.iter().map(|i| i.value.clone()).collect(),
    }
}

/// Joins FtM queries with their labels (`query_id`, `truth`, `category`).
pub fn load(queries: &[Entity], labels_jsonl: &str) -> Vec<Labelled> {
    let by_id: HashMap<&str, &Entity> = queries.iter().map(|e| (e.id.as_str(), e)).collect();
    labels_jsonl
        .lines()
        .filter_map(|l| serde_json::from_str::<Label>(l).ok())
        .filter_map(|l| {
            by_id.get(l.query_id.as_str()).map(|e| Labelled {
                id: l.query_id,
                query: entity_to_query(e),
                truth: l.truth,
                category: l.category,
            })
        })
        .collect()
}

/// Scores of one query's candidates.
#[derive(Debug, Clone)]
pub struct Scored {
    /// The labelled query.
    pub labelled: Labelled,
    /// (entity id, score, rank) of the retrieved candidates, best first.
    pub candidates: Vec<(String, f32, f32)>,
    /// Ids of candidates whose names are identical to the query's after
    /// normalisation (list homonyms no scorer can tell apart by name).
    pub same_name: Vec<String>,
    /// The margin below the best candidate beyond which nothing alerts.
    pub margin: f32,
}

/// Scores every labelled query once.
pub fn score_all(screener: &Screener, set: &[Labelled]) -> Vec<Scored> {
    set.iter()
        .map(|l| {
            let ms = screener.score_query(&l.query, CANDIDATES);
            Scored {
                labelled: l.clone(),
                same_name: ms
                    .iter()
                    .filter(|m| {
                        m.explanation.name_score >= 0.999
                            && m.explanation.unmatched_candidate.is_empty()
                            && m.explanation.unmatched_query.is_empty()
                    })
                    .map(|m| m.entity_id.clone())
                    .collect(),
                candidates: ms
                    .into_iter()
                    .map(|m| {
                        let rank = m.rank();
                        (m.entity_id, m.score, rank)
                    })
                    .collect(),
                margin: screener.config().margin,
            }
        })
        .collect()
}

/// Precision, recall and F1 at one threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// The threshold.
    pub threshold: f32,
    /// True positives: positive queries whose listed party scored ≥ threshold.
    pub tp: usize,
    /// False positives: other candidates alerting.
    pub fp: usize,
    /// False positives whose name is identical to the query's.
    pub fp_same_name: usize,
    /// False negatives: positive queries whose listed party scored below.
    pub fn_: usize,
    /// tp / (tp + fp).
    pub precision: f64,
    /// tp / (tp + fn).
    pub recall: f64,
    /// Harmonic mean.
    pub f1: f64,
}

/// Ids of the candidates of one query that alert at `threshold`.
pub fn alerts(s: &Scored, threshold: f32) -> impl Iterator<Item = &str> {
    let best = best_rank(s.candidates.iter().map(|c| (c.1, c.2)), threshold);
    s.candidates
        .iter()
        .filter(move |(_, sc, rank)| alert(*sc, *rank, best, threshold, s.margin))
        .map(|(id, _, _)| id.as_str())
}

/// Computes metrics at `threshold` over scored queries.
pub fn metrics(scored: &[Scored], threshold: f32) -> Metrics {
    let (mut tp, mut fp, mut fn_, mut fp_same_name) = (0, 0, 0, 0);
    for s in scored {
        let truth = s.labelled.truth.as_deref();
        let mut found = false;
        for id in alerts(s, threshold) {
            if Some(id) == truth {
                found = true;
            } else {
                fp += 1;
                fp_same_name += usize::from(s.same_name.iter().any(|x| x == id));
            }
        }
        if truth.is_some() {
            if found {
                tp += 1;
            } else {
                fn_ += 1;
            }
        }
    }
    ratios(threshold, tp, fp, fp_same_name, fn_)
}

/// Metrics at `threshold` counting each group of tied alerts once: alerts
/// of one query with the same score and rank are entries the query cannot
/// tell apart (homonyms with the same facts), which an officer clears or
/// confirms together. A group holding the listed party is a true positive;
/// any other group one false positive. A secondary view beside
/// [`metrics`], which counts every entry.
pub fn metrics_grouped(scored: &[Scored], threshold: f32) -> Metrics {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for s in scored {
        let truth = s.labelled.truth.as_deref();
        let ids: Vec<&str> = alerts(s, threshold).collect();
        let mut groups: Vec<((f32, f32), bool)> = Vec::new();
        for (id, score, rank) in &s.candidates {
            if !ids.contains(&id.as_str()) {
                continue;
            }
            let hit = Some(id.as_str()) == truth;
            let tied = |g: &(f32, f32)| (g.0 - score).abs() < 1e-4 && (g.1 - rank).abs() < 1e-4;
            match groups.iter_mut().find(|(g, _)| tied(g)) {
                Some((_, h)) => *h |= hit,
                None => groups.push(((*score, *rank), hit)),
            }
        }
        let found = groups.iter().any(|(_, h)| *h);
        fp += groups.iter().filter(|(_, h)| !h).count();
        if truth.is_some() {
            if found {
                tp += 1;
            } else {
                fn_ += 1;
            }
        }
    }
    ratios(threshold, tp, fp, 0, fn_)
}

fn ratios(threshold: f32, tp: usize, fp: usize, fp_same_name: usize, fn_: usize) -> Metrics {
    let precision = if tp + fp == 0 {
        0.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let recall = if tp + fn_ == 0 {
        0.0
    } else {
        tp as f64 / (tp + fn_) as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Metrics {
        threshold,
        tp,
        fp,
        fp_same_name,
        fn_,
        precision,
        recall,
        f1,
    }
}

/// The best F1 over thresholds 0.30, 0.31 … 0.99.
pub fn best_f1(scored: &[Scored]) -> Metrics {
    (30..100)
        .map(|t| metrics(scored, t as f32 / 100.0))
        .max_by(|a, b| a.f1.total_cmp(&b.f1))
        .unwrap_or_else(|| metrics(scored, 0.5))
}

/// Share of positive queries whose listed party was retrieved at all.
pub fn retrieval_recall(scored: &[Scored]) -> f64 {
    let pos: Vec<&Scored> = scored
        .iter()
        .filter(|s| s.labelled.truth.is_some())
        .collect();
    let hit = pos
        .iter()
        .filter(|s| {
            let t = s.labelled.truth.as_deref();
            s.candidates.iter().any(|(id, _, _)| Some(id.as_str()) == t)
        })
        .count();
    hit as f64 / pos.len().max(1) as f64
}

/// Per-category outcome at `threshold`, keyed `Per:typo`, `Com:legal_form`:
/// (correct, total), where correct means the listed party alerted for a
/// positive, and nothing alerted for a negative.
pub fn per_category(scored: &[Scored], threshold: f32) -> BTreeMap<String, (usize, usize)> {
    let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for s in scored {
        let prefix = if s.labelled.query.schema == "Person" {
            "Per"
        } else {
            "Com"
        };
        // Variants such as `typo+other_country` count under `typo`, as in
        // the peer's published table.
        let base = s.labelled.category.split('+').next().unwrap_or_default();
        let key = format!("{prefix}:{base}");
        let alerted: Vec<&str> = alerts(s, threshold).collect();
        let ok = match s.labelled.truth.as_deref() {
            Some(t) => alerted.contains(&t),
            None => alerted.is_empty(),
        };
        let e = out.entry(key).or_default();
        e.0 += usize::from(ok);
        e.1 += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(truth: Option<&str>, candidates: &[(&str, f32, f32)]) -> Scored {
        Scored {
            labelled: Labelled {
                id: "q".into(),
                query: Query::name("x"),
                truth: truth.map(str::to_string),
                category: "exact".into(),
            },
            candidates: candidates
                .iter()
                .map(|(id, s, r)| (id.to_string(), *s, *r))
                .collect(),
            same_name: Vec::new(),
            margin: 0.05,
        }
    }

    #[test]
    fn tied_alerts_count_once_and_others_each() {
        // Three homonyms tied with the listed party, one weaker look-alike
        // still alerting, one below the threshold.
        let set = [
            scored(
                Some("t"),
                &[
                    ("t", 1.0, 1.04),
                    ("h1", 1.0, 1.04),
                    ("h2", 1.0, 1.04),
                    ("o", 0.99, 1.0),
                    ("low", 0.5, 0.5),
                ],
            ),
            scored(None, &[("n1", 0.9, 0.9), ("n2", 0.9, 0.9)]),
        ];
        let each = metrics(&set, 0.76);
        assert_eq!((each.tp, each.fp, each.fn_), (1, 5, 0));
        let grouped = metrics_grouped(&set, 0.76);
        assert_eq!((grouped.tp, grouped.fp, grouped.fn_), (1, 2, 0));
    }
}
