//! Ownership and control: a party owned 50% or more in aggregate, or
//! controlled, by listed parties is treated as restricted too (the OFAC
//! 50 percent rule), and the path that makes it so is kept.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::entity::{Relation, RelationKind};

/// Aggregate share at or above which owners' control is presumed.
pub const OWNERSHIP_THRESHOLD: f64 = 50.0;

/// One step of an ownership path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathStep {
    /// Owner or controller.
    pub from: String,
    /// Owned or controlled party.
    pub to: String,
    /// Ownership or control.
    pub kind: RelationKind,
    /// Share, when an ownership with a known percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<f64>,
}

/// Why a party is restricted through others: the listed party at the root
/// and the chain of steps down to the party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnershipPath {
    /// The listed party at the top of the chain.
    pub listed: String,
    /// The steps from the listed party down to the screened party.
    pub steps: Vec<PathStep>,
    /// Aggregate share held by restricted owners in the final party.
    pub aggregate_percentage: f64,
}

/// The restricted-by-ownership closure of a set of listed parties.
#[derive(Debug, Clone, Default)]
pub struct OwnershipGraph {
    /// For each restricted (not directly listed) party: how it became so.
    derived: HashMap<String, Vec<OwnershipPath>>,
}

impl OwnershipGraph {
    /// Computes which parties are owned ≥ 50% (aggregated over restricted
    /// owners) or controlled by `listed` parties, transitively.
    pub fn build(relations: Vec<Relation>, listed: HashSet<String>) -> OwnershipGraph {
        let mut incoming: HashMap<&str, Vec<&Relation>> = HashMap::new();
        for r in &relations {
            if r.from != r.to {
                incoming.entry(r.to.as_str()).or_default().push(r);
            }
        }
        let mut derived: HashMap<String, Vec<OwnershipPath>> = HashMap::new();
        let restricted = |id: &str, derived: &HashMap<String, Vec<OwnershipPath>>| {
            listed.contains(id) || derived.contains_key(id)
        };
        // Fixpoint: each round may restrict parties owned by those restricted
        // in the previous round. Bounded by the number of parties.
        let mut changed = true;
        let mut rounds = 0;
        while changed && rounds <= incoming.len() {
            changed = false;
            rounds += 1;
            for (&asset, edges) in &incoming {
                if listed.contains(asset) || derived.contains_key(asset) {
                    continue;
                }
                let mut aggregate = 0.0;
                let mut owners: Vec<&Relation> = Vec::new();
                let mut control: Option<&Relation> = None;
                let mut seen_owner: HashSet<&str> = HashSet::new();
                for r in edges {
                    if !restricted(&r.from, &derived) {
                        continue;
                    }
                    match r.kind {
                        RelationKind::Control => control = control.or(Some(r)),
                        RelationKind::Ownership => {
                            if let Some(p) = r.percentage {
                                if seen_owner.insert(r.from.as_str()) {
                                    aggregate += p;
                                }
                                owners.push(r);
                            }
                        }
                    }
                }
                let chosen: Vec<&Relation> = if aggregate >= OWNERSHIP_THRESHOLD {
                    owners
                } else if let Some(c) = control {
                    vec![c]
                } else {
                    continue;
                };
                let mut paths = Vec::new();
                for r in chosen {
                    let step = PathStep {
                        from: r.from.clone(),
                        to: r.to.clone(),
                        kind: r.kind,
                        percentage: r.percentage,
                    };
                    if listed.contains(&r.from) {
                        paths.push(OwnershipPath {
                            listed: r.from.clone(),
                            steps: vec![step],
                            aggregate_percentage: aggregate,
                        });
                    } else if let Some(up) = derived.get(&r.from) {
                        for p in up.iter().take(8) {
                            let mut steps = p.steps.clone();
                            steps.push(step.clone());
                            paths.push(OwnershipPath {
                                listed: p.listed.clone(),
                                steps,
                                aggregate_percentage: aggregate,
                            });
                        }
                    }
                }
                derived.insert(asset.to_string(), paths);
                changed = true;
            }
        }
        OwnershipGraph { derived }
    }

    /// The paths by which `id` is restricted through ownership or control;
    /// empty when it is not.
    pub fn paths_to(&self, id: &str) -> Vec<OwnershipPath> {
        self.derived.get(id).cloned().unwrap_or_default()
    }

    /// Number of parties restricted through ownership or control.
    pub fn len(&self) -> usize {
        self.derived.len()
    }

    /// True when no party is restricted through ownership or control.
    pub fn is_empty(&self) -> bool {
        self.derived.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(from: &str, to: &str, p: f64) -> Relation {
        Relation {
            kind: RelationKind::Ownership,
            from: from.into(),
            to: to.into(),
            percentage: Some(p),
        }
    }

    #[test]
    fn aggregates_shares_of_listed_owners_across_levels() {
        let listed: HashSet<String> = ["A".to_string(), "B".to_string()].into();
        let g = OwnershipGraph::build(
            vec![
                own("A", "X", 30.0),
                own("B", "X", 25.0),
                own("X", "Y", 60.0),
                own("A", "Z", 49.0),
            ],
            listed,
        );
        assert_eq!(g.paths_to("X").len(), 2);
        let y = g.paths_to("Y");
        assert_eq!(y.len(), 2);
        assert_eq!(y[0].steps.len(), 2);
        assert!(g.paths_to("Z").is_empty(), "49% is below the rule");
    }
}
