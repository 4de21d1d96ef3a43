//! Observation expressions: finding a binding of observations to the
//! pattern's `[...]` parts that satisfies AND, OR, FOLLOWEDBY and the
//! qualifiers.
//!
//! A binding is kept as the sorted multiset of the observation indexes it
//! uses; an observation with `number_observed = n` may appear up to `n`
//! times. Every constraint of the language depends only on that multiset
//! (its time windows and how often each observation is used), so two
//! bindings with the same multiset are interchangeable and kept once.

use std::collections::HashSet;

use super::test::PCmp;
use super::ObservedData;
use crate::ast::*;
use crate::EvalError;

/// Largest number of distinct bindings kept for one sub-expression, and
/// largest number of combination steps for the whole evaluation.
const MAX_BINDINGS: usize = 100_000;
const MAX_STEPS: u64 = 20_000_000;

type Binding = Vec<u32>;

pub(super) enum PObs {
    Leaf(PCmp),
    And(Vec<PObs>),
    Or(Vec<PObs>),
    FollowedBy(Vec<PObs>),
    Qualified(Box<PObs>, Vec<PQual>),
}

pub(super) enum PQual {
    Within(i64),
    Repeats(usize),
    StartStop(i64, i64),
}

pub(super) fn prepare(e: &ObservationExpr) -> Result<PObs, EvalError> {
    let all = |v: &[ObservationExpr]| v.iter().map(prepare).collect::<Result<Vec<_>, _>>();
    Ok(match e {
        ObservationExpr::Observation(c) => PObs::Leaf(PCmp::new(c)?),
        ObservationExpr::Group(inner) => prepare(inner)?,
        ObservationExpr::And(v) => PObs::And(all(v)?),
        ObservationExpr::Or(v) => PObs::Or(all(v)?),
        ObservationExpr::FollowedBy(v) => PObs::FollowedBy(all(v)?),
        ObservationExpr::Qualified { expr, qualifiers } => {
            let mut qs = Vec::new();
            for q in qualifiers {
                qs.push(match q {
                    Qualifier::Within(s) => {
                        let secs = s.as_f64();
                        if secs.is_nan() || secs <= 0.0 {
                            return Err(EvalError::Pattern(format!(
                                "{q}: the window must be positive"
                            )));
                        }
                        // Microseconds, saturating: a window beyond the
                        // representable range contains every observation.
                        PQual::Within((secs * 1e6).round().min(i64::MAX as f64) as i64)
                    }
                    Qualifier::Repeats(n) => {
                        if *n < 1 {
                            return Err(EvalError::Pattern(format!(
                                "{q}: the count must be at least 1"
                            )));
                        }
                        PQual::Repeats(usize::try_from(*n).unwrap_or(usize::MAX))
                    }
                    Qualifier::StartStop { start, stop } => {
                        let t = |ts: &crate::Timestamp| {
                            ts.micros().ok_or_else(|| {
                                EvalError::Pattern(format!("t'{ts}' is not a real instant"))
                            })
                        };
                        PQual::StartStop(t(start)?, t(stop)?)
                    }
                });
            }
            PObs::Qualified(Box::new(prepare(expr)?), qs)
        }
    })
}

struct Search<'a> {
    obs: &'a [ObservedData],
    steps: u64,
}

impl Search<'_> {
    fn tick(&mut self, n: u64) -> Result<(), EvalError> {
        self.steps += n;
        if self.steps > MAX_STEPS {
            return Err(EvalError::Budget(MAX_STEPS));
        }
        Ok(())
    }

    fn cap(&self, k: u32) -> u64 {
        self.obs[k as usize].number_observed
    }

    /// The union of two bindings, if no observation is used more often than it was observed.
    fn join(&self, a: &[u32], b: &[u32]) -> Option<Binding> {
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if j >= b.len() || (i < a.len() && a[i] <= b[j]) {
                out.push(a[i]);
                i += 1;
            } else {
                out.push(b[j]);
                j += 1;
            }
        }
        let mut run = 0u64;
        for w in 0..out.len() {
            run = if w > 0 && out[w] == out[w - 1] {
                run + 1
            } else {
                1
            };
            if run > self.cap(out[w]) {
                return None;
            }
        }
        Some(out)
    }

    fn latest_first(&self, b: &[u32]) -> i64 {
        b.iter()
            .map(|k| self.obs[*k as usize].first_observed)
            .max()
            .unwrap_or(i64::MIN)
    }

    fn earliest_last(&self, b: &[u32]) -> i64 {
        b.iter()
            .map(|k| self.obs[*k as usize].last_observed)
            .min()
            .unwrap_or(i64::MAX)
    }

    fn eval(&mut self, e: &PObs) -> Result<Vec<Binding>, EvalError> {
        match e {
            PObs::Leaf(c) => {
                let mut out = Vec::new();
                for (k, o) in self.obs.iter().enumerate() {
                    self.tick(1)?;
                    if !c.roots(o)?.is_empty() {
                        out.push(vec![k as u32]);
                    }
                }
                Ok(out)
            }
            PObs::Or(v) => {
                let mut parts = Vec::new();
                for x in v {
                    parts.push(self.eval(x)?);
                }
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                for b in parts.into_iter().flatten() {
                    if seen.insert(b.clone()) {
                        out.push(b);
                    }
                }
                self.limit(out)
            }
            PObs::And(v) => self.fold(v, |_, _, _| true),
            PObs::FollowedBy(v) => self.fold(v, |s, l, r| s.latest_first(l) <= s.earliest_last(r)),
            PObs::Qualified(inner, qs) => {
                let mut b = self.eval(inner)?;
                for q in qs {
                    b = match q {
                        PQual::Within(d) => b
                            .into_iter()
                            .filter(|x| {
                                self.latest_first(x) <= self.earliest_last(x).saturating_add(*d)
                            })
                            .collect(),
                        PQual::StartStop(start, stop) => {
                            if start >= stop {
                                Vec::new()
                            } else {
                                b.into_iter()
                                    .filter(|x| {
                                        x.iter().all(|k| {
                                            let o = &self.obs[*k as usize];
                                            o.first_observed < *stop && o.last_observed >= *start
                                        })
                                    })
                                    .collect()
                            }
                        }
                        PQual::Repeats(n) => self.repeats(&b, *n)?,
                    };
                }
                Ok(b)
            }
        }
    }

    /// Evaluates every operand (so errors in any surface), then joins left to right.
    fn fold(
        &mut self,
        v: &[PObs],
        ok: impl Fn(&Self, &[u32], &[u32]) -> bool,
    ) -> Result<Vec<Binding>, EvalError> {
        let mut parts = Vec::new();
        for x in v {
            parts.push(self.eval(x)?);
        }
        let mut iter = parts.into_iter();
        let mut acc = iter.next().unwrap_or_default();
        for rhs in iter {
            let mut seen = HashSet::new();
            let mut next = Vec::new();
            for l in &acc {
                self.tick(rhs.len() as u64)?;
                for r in &rhs {
                    if ok(self, l, r) {
                        if let Some(j) = self.join(l, r) {
                            if seen.insert(j.clone()) {
                                next.push(j);
                            }
                        }
                    }
                }
            }
            acc = self.limit(next)?;
        }
        Ok(acc)
    }

    /// All unions of `n` bindings of `b` (a binding may be reused while its
    /// observations have instances left).
    fn repeats(&mut self, b: &[Binding], n: usize) -> Result<Vec<Binding>, EvalError> {
        if n == 1 {
            return Ok(b.to_vec());
        }
        let mut level: Vec<(usize, Binding)> = b.iter().cloned().enumerate().collect();
        for _ in 1..n {
            let mut seen = HashSet::new();
            let mut next = Vec::new();
            for (start, acc) in &level {
                self.tick((b.len() - start) as u64)?;
                for (i, x) in b.iter().enumerate().skip(*start) {
                    if let Some(j) = self.join(acc, x) {
                        if seen.insert((i, j.clone())) {
                            next.push((i, j));
                        }
                    }
                }
            }
            if next.len() > MAX_BINDINGS {
                return Err(EvalError::Budget(self.steps));
            }
            level = next;
            if level.is_empty() {
                break;
            }
        }
        let mut seen = HashSet::new();
        Ok(level
            .into_iter()
            .filter_map(|(_, j)| seen.insert(j.clone()).then_some(j))
            .collect())
    }

    fn limit(&self, v: Vec<Binding>) -> Result<Vec<Binding>, EvalError> {
        if v.len() > MAX_BINDINGS {
            Err(EvalError::Budget(self.steps))
        } else {
            Ok(v)
        }
    }
}

pub(super) fn any_binding(tree: &PObs, observed: &[ObservedData]) -> Result<bool, EvalError> {
    let mut search = Search {
        obs: observed,
        steps: 0,
    };
    Ok(!search.eval(tree)?.is_empty())
}
