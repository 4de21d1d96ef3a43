//! Evaluation of patterns over observed-data, with the semantics of the
//! OASIS `stix2-matcher` (STIX 2.1 mode) except where the specification
//! decides otherwise:
//!
//! - `EXISTS` and `NOT EXISTS` are evaluated (the reference ignores the
//!   `NOT` and fails when `EXISTS` is combined with other comparisons);
//! - `ISSUBSET`/`ISSUPERSET` take IPv6 as well as IPv4, a plain address is a
//!   one-address subnet (the reference raises an error), and `/0` is allowed;
//! - negative list indexes count from the end (`[-1]` is the last element);
//!   the reference never matches them;
//! - `MATCHES` uses the Rust `regex` syntax (no look-around or
//!   back-references, which the specification's PCRE has); Python's `$`
//!   before a final newline is not emulated for `MATCHES` (it is for `LIKE`).
//!
//! Bindings are computed as multisets of observation indexes rather than the
//! reference's per-instance tuples: instances of one observed-data object are
//! interchangeable, so the two give the same verdicts, and the multiset form
//! does not grow with `number_observed`.

mod bind;
mod net;
mod test;

use serde_json::Value;

use crate::ast::Pattern;
use crate::literal::parse_timestamp_micros;
use crate::EvalError;

/// One observed-data object, ready for evaluation: its time window, its
/// count and the Cyber-observable objects it refers to.
#[derive(Debug, Clone)]
pub struct ObservedData {
    /// `first_observed`, in microseconds since the epoch.
    pub first_observed: i64,
    /// `last_observed`, in microseconds since the epoch.
    pub last_observed: i64,
    /// `number_observed` (at least 1).
    pub number_observed: u64,
    /// The SCOs of this observation with the identifier references resolve
    /// against (the SCO `id`, or the key of a deprecated `objects` dictionary).
    pub objects: Vec<(String, Value)>,
}

/// Whether `object_type` is a STIX 2.1 type that is not a cyber-observable
/// (an SDO, SRO, meta object or bundle): patterns never match objects of these types.
fn never_matched(object_type: &str) -> bool {
    object_type == "bundle"
        || vigil_stix::category_of(object_type).is_some_and(|c| c != vigil_stix::Category::Sco)
}

fn field<'a>(od: &'a Value, name: &str, index: usize) -> Result<&'a Value, EvalError> {
    od.get(name).ok_or_else(|| EvalError::ObservedData {
        index,
        message: format!("missing {name}"),
    })
}

fn time_field(od: &Value, name: &str, index: usize) -> Result<i64, EvalError> {
    let v = field(od, name, index)?;
    v.as_str()
        .and_then(parse_timestamp_micros)
        .ok_or_else(|| EvalError::ObservedData {
            index,
            message: format!("{name} is not a STIX timestamp: {v}"),
        })
}

impl ObservedData {
    /// Reads observed-data from STIX JSON the way `stix2-matcher` takes it in
    /// 2.1 mode: a list of bundles (or bare objects) whose `objects` are
    /// pooled; each `observed-data` object is one observation, and its
    /// `object_refs` are resolved against the SCOs of the pool. An
    /// `observed-data` with the deprecated `objects` dictionary instead of
    /// `object_refs` is read too. Objects are numbered in pool order for
    /// error messages.
    pub fn from_stix(values: &[Value]) -> Result<Vec<ObservedData>, EvalError> {
        let mut pool: Vec<&Value> = Vec::new();
        for v in values {
            match v {
                Value::Array(items) => pool.extend(items.iter()),
                Value::Object(m) => match m.get("objects") {
                    Some(Value::Array(objs)) => pool.extend(objs.iter()),
                    _ => pool.push(v),
                },
                _ => {
                    return Err(EvalError::ObservedData {
                        index: pool.len(),
                        message: "not a JSON object".into(),
                    })
                }
            }
        }
        let mut scos: std::collections::HashMap<&str, &Value> = Default::default();
        for (index, obj) in pool.iter().enumerate() {
            if obj.get("type").and_then(Value::as_str) == Some("observed-data") {
                continue;
            }
            let id =
                obj.get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| EvalError::ObservedData {
                        index,
                        message: "object without a string id".into(),
                    })?;
            scos.insert(id, obj);
        }
        let mut out = Vec::new();
        for (index, od) in pool.iter().enumerate() {
            if od.get("type").and_then(Value::as_str) != Some("observed-data") {
                continue;
            }
            let first_observed = time_field(od, "first_observed", index)?;
            let last_observed = time_field(od, "last_observed", index)?;
            let number_observed = field(od, "number_observed", index)?
                .as_u64()
                .filter(|n| *n >= 1)
                .ok_or_else(|| EvalError::ObservedData {
                    index,
                    message: "number_observed must be an integer of at least 1".into(),
                })?;
            let mut objects: Vec<(String, Value)> = Vec::new();
            match (od.get("object_refs"), od.get("objects")) {
                (Some(Value::Array(refs)), _) => {
                    for r in refs {
                        let Some(id) = r.as_str() else {
                            return Err(EvalError::ObservedData {
                                index,
                                message: format!("object_refs holds a non-string {r}"),
                            });
                        };
                        if let Some(obj) = scos.get(id) {
                            if !objects.iter().any(|(k, _)| k == id) {
                                objects.push((id.to_string(), (*obj).clone()));
                            }
                        }
                    }
                }
                (None, Some(Value::Object(m))) => {
                    objects.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                _ => {
                    return Err(EvalError::ObservedData {
                        index,
                        message: "needs object_refs (a list) or the deprecated objects dictionary"
                            .into(),
                    })
                }
            }
            out.push(
                ObservedData::new(first_observed, last_observed, number_observed, objects)
                    .map_err(|message| EvalError::ObservedData { index, message })?,
            );
        }
        Ok(out)
    }

    /// Makes an observation from its parts; `first` must not be after `last`.
    pub fn new(
        first_observed: i64,
        last_observed: i64,
        number_observed: u64,
        objects: Vec<(String, Value)>,
    ) -> Result<ObservedData, String> {
        if first_observed > last_observed {
            return Err("first_observed is after last_observed".into());
        }
        if number_observed == 0 {
            return Err("number_observed must be at least 1".into());
        }
        Ok(ObservedData {
            first_observed,
            last_observed,
            number_observed,
            objects,
        })
    }

    /// The objects of `object_type`, with their position in `objects`.
    fn of_type<'a>(
        &'a self,
        object_type: &'a str,
    ) -> impl Iterator<Item = (usize, &'a Value)> + 'a {
        let skip = never_matched(object_type);
        self.objects
            .iter()
            .enumerate()
            .filter(move |(_, (_, o))| {
                !skip && o.get("type").and_then(Value::as_str) == Some(object_type)
            })
            .map(|(i, (_, o))| (i, o))
    }

    /// The object a reference names, if it is part of this observation.
    fn resolve(&self, id: &str) -> Option<&Value> {
        self.objects.iter().find(|(k, _)| k == id).map(|(_, v)| v)
    }
}

/// A pattern made ready for evaluation: literals converted, regular
/// expressions compiled, qualifiers checked. Build it once and evaluate it
/// against many sets of observations.
pub struct Evaluator {
    tree: bind::PObs,
}

impl Evaluator {
    /// Prepares `pattern`; fails on what fails regardless of the data (an
    /// impossible timestamp literal, a bad regular expression, a set of mixed
    /// literal types, `REPEATS 0`, `WITHIN 0`).
    pub fn new(pattern: &Pattern) -> Result<Evaluator, EvalError> {
        Ok(Evaluator {
            tree: bind::prepare(&pattern.root)?,
        })
    }

    /// True if the pattern matches the observations (see [`matches`]).
    pub fn matches(&self, observed: &[ObservedData]) -> Result<bool, EvalError> {
        bind::any_binding(&self.tree, observed)
    }
}

/// True if `pattern` matches the observations (see the module documentation
/// for the semantics). Errors are those the reference matcher raises too:
/// an impossible literal (a timestamp on February 30th, a bad regular
/// expression, a `REPEATS 0`), a value that cannot be compared as asked (a
/// malformed timestamp or address), or a search that exceeds its budget.
/// To evaluate one pattern many times, build an [`Evaluator`] once.
pub fn matches(pattern: &Pattern, observed: &[ObservedData]) -> Result<bool, EvalError> {
    Evaluator::new(pattern)?.matches(observed)
}

/// [`matches`] over STIX JSON read with [`ObservedData::from_stix`].
pub fn matches_stix(pattern: &Pattern, stix: &[Value]) -> Result<bool, EvalError> {
    let observed = ObservedData::from_stix(stix)?;
    matches(pattern, &observed)
}
