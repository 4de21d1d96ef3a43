//! Evaluation on a labelled query set: precision, recall and F1 at a
//! threshold, the best F1 over thresholds, per-category results and the
//! recall of candidate retrieval. Used by the quality test and benchmark.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::entity::Entity;
use crate::screener::{Alert, Match, Query, Screener, CANDIDATES};

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
    /// The retrieved candidates, scored and explained, best first (as
    /// [`Screener::score_query`] returns them).
    pub candidates: Vec<Match>,
}

impl Scored {
    /// Whether candidate `i` has exactly the query's name after
    /// normalisation (a list homonym no scorer can tell apart by name).
    pub fn same_name(&self, i: usize) -> bool {
        let e = &self.candidates[i].explanation;
        e.name_score >= 0.999 && e.unmatched_candidate.is_empty() && e.unmatched_query.is_empty()
    }

    /// The alerts the query raises at `threshold`, decided by
    /// [`Screener::alerts`] as the command line and the hub decide them.
    pub fn alerts(&self, screener: &Screener, threshold: f32) -> Vec<Alert> {
        screener.alerts(&self.candidates, threshold)
    }

    fn is_truth(&self, i: usize) -> bool {
        self.labelled.truth.as_deref() == Some(self.candidates[i].entity_id.as_str())
    }
}

/// Scores every labelled query once.
pub fn score_all(screener: &Screener, set: &[Labelled]) -> Vec<Scored> {
    set.iter()
        .map(|l| Scored {
            labelled: l.clone(),
            candidates: screener.score_query(&l.query, CANDIDATES),
        })
        .collect()
}

/// Precision, recall and F1 at one threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// The threshold.
    pub threshold: f32,
    /// True positives: positive queries whose listed party was raised.
    pub tp: usize,
    /// False positives: alerts (or, per entry, entries) raised that are
    /// not the listed party.
    pub fp: usize,
    /// False positives whose name is identical to the query's.
    pub fp_same_name: usize,
    /// False negatives: positive queries whose listed party was not raised.
    pub fn_: usize,
    /// tp / (tp + fp).
    pub precision: f64,
    /// tp / (tp + fn).
    pub recall: f64,
    /// Harmonic mean.
    pub f1: f64,
}

/// Metrics at `threshold` counting alerts as the officer sees them: an
/// alert raising the listed party (alone or with entries nothing in the
/// query tells apart from it) is a true positive, any other alert one
/// false positive.
pub fn metrics(screener: &Screener, scored: &[Scored], threshold: f32) -> Metrics {
    let (mut tp, mut fp, mut fn_, mut fp_same_name) = (0, 0, 0, 0);
    for s in scored {
        let mut found = false;
        for a in s.alerts(screener, threshold) {
            if a.entries().any(|i| s.is_truth(i)) {
                found = true;
            } else {
                fp += 1;
                fp_same_name += usize::from(s.same_name(a.index));
            }
        }
        if s.labelled.truth.is_some() {
            if found {
                tp += 1;
            } else {
                fn_ += 1;
            }
        }
    }
    ratios(threshold, tp, fp, fp_same_name, fn_)
}

/// Metrics at `threshold` counting every list entry raised, those raised
/// together in one alert each on its own: the view of a scorer that
/// reports entries, not alerts (the peer's published figures).
pub fn metrics_per_entry(screener: &Screener, scored: &[Scored], threshold: f32) -> Metrics {
    let (mut tp, mut fp, mut fn_, mut fp_same_name) = (0, 0, 0, 0);
    for s in scored {
        let mut found = false;
        for a in s.alerts(screener, threshold) {
            for i in a.entries() {
                if s.is_truth(i) {
                    found = true;
                } else {
                    fp += 1;
                    fp_same_name += usize::from(s.same_name(i));
                }
            }
        }
        if s.labelled.truth.is_some() {
            if found {
                tp += 1;
            } else {
                fn_ += 1;
            }
        }
    }
    ratios(threshold, tp, fp, fp_same_name, fn_)
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

/// The best F1 (alerts as reported) over thresholds 0.30, 0.31 … 0.99.
pub fn best_f1(screener: &Screener, scored: &[Scored]) -> Metrics {
    (30..100)
        .map(|t| metrics(screener, scored, t as f32 / 100.0))
        .max_by(|a, b| a.f1.total_cmp(&b.f1))
        .unwrap_or_else(|| metrics(screener, scored, 0.5))
}

/// Share of positive queries whose listed party was retrieved at all.
pub fn retrieval_recall(scored: &[Scored]) -> f64 {
    let pos: Vec<&Scored> = scored
        .iter()
        .filter(|s| s.labelled.truth.is_some())
        .collect();
    let hit = pos
        .iter()
        .filter(|s| (0..s.candidates.len()).any(|i| s.is_truth(i)))
        .count();
    hit as f64 / pos.len().max(1) as f64
}

/// Per-category outcome at `threshold`, keyed `Per:typo`, `Com:legal_form`:
/// (correct, total), where correct means the listed party was raised for a
/// positive, and nothing was raised for a negative.
pub fn per_category(
    screener: &Screener,
    scored: &[Scored],
    threshold: f32,
) -> BTreeMap<String, (usize, usize)> {
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
        let alerts = s.alerts(screener, threshold);
        let ok = match s.labelled.truth {
            Some(_) => alerts.iter().any(|a| a.entries().any(|i| s.is_truth(i))),
            None => alerts.is_empty(),
        };
        let e = out.entry(key).or_default();
        e.0 += usize::from(ok);
        e.1 += 1;
    }
    out
}
