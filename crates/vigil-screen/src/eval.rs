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

/// The best per-entry precision any engine can reach on a labelled set if
/// it treats alike what the query cannot tell apart: for each positive
/// query, the other list entries of the listed party's schema whose primary
/// name is the listed party's (same words, any order, case and punctuation
/// aside) and which stand to each fact of the query (birth year, country,
/// identifier) as the listed party does. Raising the listed party raises
/// those too; they are false positives per entry whatever the scorer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ceiling {
    /// Positive queries whose listed party is in the list.
    pub positives: usize,
    /// Entries that cannot be told apart from the listed party.
    pub forced_fp: usize,
    /// positives / (positives + forced_fp).
    pub precision: f64,
}

/// Works out the [`Ceiling`] of a labelled set against a list.
pub fn per_entry_ceiling(entities: &[Entity], set: &[Labelled]) -> Ceiling {
    fn name_key(name: &str) -> String {
        let lower = name.to_lowercase();
        let mut words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        words.sort_unstable();
        words.join(" ")
    }
    let mut by_name: HashMap<(String, String), Vec<&Entity>> = HashMap::new();
    let mut by_id: HashMap<&str, &Entity> = HashMap::new();
    for e in entities {
        by_id.insert(e.id.as_str(), e);
        if let Some(n) = e.names.first() {
            by_name
                .entry((e.schema.clone(), name_key(n)))
                .or_default()
                .push(e);
        }
    }
    let (mut positives, mut forced_fp) = (0, 0);
    for l in set {
        let Some(truth) = l.truth.as_deref().and_then(|t| by_id.get(t)) else {
            continue;
        };
        positives += 1;
        let Some(name) = truth.names.first() else {
            continue;
        };
        let facts = |e: &Entity| facts_against(&l.query, e);
        let want = facts(truth);
        forced_fp += by_name
            .get(&(truth.schema.clone(), name_key(name)))
            .map_or(0, |same| {
                same.iter()
                    .filter(|e| e.id != truth.id && facts(e) == want)
                    .count()
            });
    }
    let precision = if positives + forced_fp == 0 {
        0.0
    } else {
        positives as f64 / (positives + forced_fp) as f64
    };
    Ceiling {
        positives,
        forced_fp,
        precision,
    }
}

/// How each fact of a query (birth year, country, identifier) stands to an
/// entry's: `None` when either side lacks it, else whether they agree.
fn facts_against(q: &Query, e: &Entity) -> [Option<bool>; 3] {
    fn relation(a: &[String], b: &[String]) -> Option<bool> {
        (!a.is_empty() && !b.is_empty()).then(|| a.iter().any(|x| b.contains(x)))
    }
    let year = |d: &String| d.chars().take(4).collect::<String>();
    let qy: Vec<String> = q.birth_dates.iter().map(year).collect();
    let ey: Vec<String> = e.birth_dates.iter().map(year).collect();
    let qc: Vec<String> = q.countries.iter().map(|c| c.to_lowercase()).collect();
    let qi: Vec<String> = q
        .identifiers
        .iter()
        .map(|i| crate::entity::normalise_identifier(i))
        .collect();
    let ei: Vec<String> = e.identifiers.iter().map(|i| i.normalised()).collect();
    [
        relation(&qy, &ey),
        relation(&qc, &e.countries),
        relation(&qi, &ei),
    ]
}
