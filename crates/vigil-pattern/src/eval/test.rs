//! Comparison expressions: selecting values by object path and testing them.

use std::cmp::Ordering;

use regex::bytes::Regex as BytesRegex;
use regex::Regex;
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use super::net::ip_in_subnet;
use super::ObservedData;
use crate::ast::*;
use crate::literal::{base64_decode_str, hex_decode, parse_timestamp_micros};
use crate::EvalError;

/// A literal turned into the value the comparison uses.
#[derive(Debug, Clone)]
enum Lit {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    /// Microseconds since the epoch.
    Time(i64),
}

fn lit(l: &Literal) -> Result<Lit, EvalError> {
    Ok(match l {
        Literal::Int(i) => Lit::Int(*i),
        Literal::Float(f) => Lit::Float(*f),
        Literal::Str(s) => Lit::Str(s.clone()),
        Literal::Bool(b) => Lit::Bool(*b),
        Literal::Binary(b) | Literal::Hex(b) => Lit::Bytes(b.clone()),
        Literal::Timestamp(t) => Lit::Time(
            t.micros()
                .ok_or_else(|| EvalError::Pattern(format!("t'{t}' is not a real instant")))?,
        ),
    })
}

#[derive(Debug)]
enum Test {
    Eq(Lit),
    Ne(Lit),
    Order(Ordering, bool, Lit),
    In(Vec<Lit>),
    Like {
        re: Regex,
        bytes_ok: bool,
    },
    /// `bytes` is the pattern for `*_hex`/`*_bin` values (Latin-1 patterns
    /// only); a pattern that has no bytes form is reported when used on bytes.
    Matches {
        re: Regex,
        bytes: Option<Result<BytesRegex, EvalError>>,
    },
    IsSubset(String),
    IsSuperset(String),
    Exists,
}

/// A comparison expression with its literals converted and regexes compiled.
#[derive(Debug)]
pub(super) struct PCmp(Node);

impl PCmp {
    pub(super) fn new(c: &ComparisonExpr) -> Result<PCmp, EvalError> {
        Node::new(c).map(PCmp)
    }

    /// The indexes (into `obs.objects`) of the root objects for which the
    /// expression holds.
    pub(super) fn roots(&self, obs: &ObservedData) -> Result<Vec<usize>, EvalError> {
        self.0.roots(obs)
    }
}

#[derive(Debug)]
enum Node {
    Test {
        path: ObjectPath,
        negated: bool,
        test: Test,
    },
    And(Vec<Node>),
    Or(Vec<Node>),
}

impl Node {
    fn new(c: &ComparisonExpr) -> Result<Node, EvalError> {
        Ok(match c {
            ComparisonExpr::Group(inner) => Node::new(inner)?,
            ComparisonExpr::And(v) => Node::And(v.iter().map(Node::new).collect::<Result<_, _>>()?),
            ComparisonExpr::Or(v) => Node::Or(v.iter().map(Node::new).collect::<Result<_, _>>()?),
            ComparisonExpr::Comparison(cmp) => Node::Test {
                path: cmp.path.clone(),
                negated: cmp.negated,
                test: prepare(&cmp.op)?,
            },
        })
    }

    fn roots(&self, obs: &ObservedData) -> Result<Vec<usize>, EvalError> {
        match self {
            Node::Test {
                path,
                negated,
                test,
            } => {
                let mut out = Vec::new();
                for (root, obj) in obs.of_type(&path.object_type) {
                    let values = select(obs, obj, &path.steps)?;
                    if holds(test, *negated, &values)? {
                        out.push(root);
                    }
                }
                Ok(out)
            }
            Node::And(v) => {
                // Every operand is evaluated (as the reference does), so an
                // error in any of them surfaces.
                let mut acc: Option<Vec<usize>> = None;
                for x in v {
                    let r = x.roots(obs)?;
                    acc = Some(match acc {
                        None => r,
                        Some(a) => a.into_iter().filter(|i| r.contains(i)).collect(),
                    });
                }
                Ok(acc.unwrap_or_default())
            }
            Node::Or(v) => {
                let mut acc = Vec::new();
                for x in v {
                    for i in x.roots(obs)? {
                        if !acc.contains(&i) {
                            acc.push(i);
                        }
                    }
                }
                Ok(acc)
            }
        }
    }
}

fn nfc(s: &str) -> String {
    s.nfc().collect()
}

fn compile_regex(src: &str) -> Result<Regex, EvalError> {
    Regex::new(src).map_err(|e| EvalError::Pattern(format!("regular expression {src:?}: {e}")))
}

/// The LIKE operand as an anchored regular expression: `%` any run, `_` any
/// one character (neither crosses a newline, as in the reference), and a
/// final newline may follow the match (Python's `$`).
fn like_regex(operand: &str) -> String {
    let mut re = String::from("^(?:");
    for c in operand.chars() {
        match c {
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    re.push_str(")\n?\\z");
    re
}

/// The bytes version of a regular expression whose characters are all below
/// U+0100, matching raw bytes the way Python's bytes patterns do.
fn bytes_regex(src: &str) -> Option<Result<BytesRegex, EvalError>> {
    if !src.chars().all(|c| (c as u32) < 256) {
        return None;
    }
    let mut re = String::from("(?-u)");
    for c in src.chars() {
        if c.is_ascii() {
            re.push(c);
        } else {
            re.push_str(&format!("\\x{:02X}", c as u32));
        }
    }
    Some(
        BytesRegex::new(&re)
            .map_err(|e| EvalError::Pattern(format!("regular expression {src:?}: {e}"))),
    )
}

fn prepare(op: &Operator) -> Result<Test, EvalError> {
    Ok(match op {
        Operator::Eq(l) => Test::Eq(lit(l)?),
        Operator::Ne(l) => Test::Ne(lit(l)?),
        Operator::Gt(l) => Test::Order(Ordering::Greater, false, lit(l)?),
        Operator::Lt(l) => Test::Order(Ordering::Less, false, lit(l)?),
        Operator::Ge(l) => Test::Order(Ordering::Greater, true, lit(l)?),
        Operator::Le(l) => Test::Order(Ordering::Less, true, lit(l)?),
        Operator::In(set) => {
            let lits: Vec<Lit> = set.iter().map(lit).collect::<Result<_, _>>()?;
            let numeric = |l: &Lit| matches!(l, Lit::Int(_) | Lit::Float(_));
            let same = |a: &Lit, b: &Lit| std::mem::discriminant(a) == std::mem::discriminant(b);
            if let Some(first) = lits.first() {
                let homogeneous = lits.iter().all(|l| same(l, first)) || lits.iter().all(numeric);
                if !homogeneous {
                    return Err(EvalError::Pattern(format!(
                        "the set {} mixes literal types",
                        crate::print::set_text(set)
                    )));
                }
            }
            Test::In(lits)
        }
        Operator::Like(s) => {
            let operand = nfc(s);
            Test::Like {
                re: compile_regex(&like_regex(&operand))?,
                bytes_ok: operand.chars().all(|c| (c as u32) < 256),
            }
        }
        Operator::Matches(s) => {
            let src = nfc(s);
            Test::Matches {
                re: compile_regex(&src)?,
                bytes: bytes_regex(&src),
            }
        }
        Operator::IsSubset(s) => Test::IsSubset(s.clone()),
        Operator::IsSuperset(s) => Test::IsSuperset(s.clone()),
        Operator::Exists => Test::Exists,
    })
}

/// A value selected by an object path.
#[derive(Debug, Clone)]
enum V<'a> {
    Json(&'a Value),
    /// The decoded value of a `*_hex` or `*_bin` property.
    Bytes(Vec<u8>),
    /// The objects a `*_refs` list resolved to.
    List(Vec<V<'a>>),
}

fn select<'a>(
    obs: &'a ObservedData,
    root: &'a Value,
    steps: &[PathStep],
) -> Result<Vec<V<'a>>, EvalError> {
    let mut cur = vec![V::Json(root)];
    for step in steps {
        let mut next = Vec::new();
        for v in cur {
            match step {
                PathStep::Key(k) => {
                    if let V::Json(Value::Object(m)) = v {
                        if let Some(x) = m.get(k) {
                            step_key(obs, k, x, &mut next)?;
                        }
                    }
                }
                PathStep::Index(i) => {
                    let len = list_len(&v);
                    let idx = if *i < 0 { len as i64 + i } else { *i };
                    if (0..len as i64).contains(&idx) {
                        next.extend(list_item(v, idx as usize));
                    }
                }
                PathStep::AnyIndex => match v {
                    V::Json(Value::Array(a)) => next.extend(a.iter().map(V::Json)),
                    V::List(l) => next.extend(l),
                    _ => {}
                },
            }
        }
        cur = next;
        if cur.is_empty() {
            break;
        }
    }
    Ok(cur)
}

fn list_len(v: &V<'_>) -> usize {
    match v {
        V::Json(Value::Array(a)) => a.len(),
        V::List(l) => l.len(),
        _ => 0,
    }
}

fn list_item(v: V<'_>, i: usize) -> Option<V<'_>> {
    match v {
        V::Json(Value::Array(a)) => a.get(i).map(V::Json),
        V::List(mut l) if i < l.len() => Some(l.swap_remove(i)),
        _ => None,
    }
}

fn step_key<'a>(
    obs: &'a ObservedData,
    key: &str,
    x: &'a Value,
    out: &mut Vec<V<'a>>,
) -> Result<(), EvalError> {
    if key.ends_with("_hex") || key.ends_with("_bin") {
        let decoded = x.as_str().and_then(|s| {
            if key.ends_with("_hex") {
                hex_decode(s)
            } else {
                base64_decode_str(s)
            }
        });
        let bytes = decoded
            .ok_or_else(|| EvalError::Value(format!("{key} holds {x}, not valid encoded bytes")))?;
        out.push(V::Bytes(bytes));
    } else if key.ends_with("_ref") {
        let id = x.as_str().ok_or_else(|| {
            EvalError::Value(format!("reference {key} holds {x}, not an identifier"))
        })?;
        out.extend(obs.resolve(id).map(V::Json));
    } else if key.ends_with("_refs") {
        let ids = x.as_array().ok_or_else(|| {
            EvalError::Value(format!("reference list {key} holds {x}, not a list"))
        })?;
        let mut objs = Vec::new();
        for id in ids {
            let id = id.as_str().ok_or_else(|| {
                EvalError::Value(format!(
                    "reference list {key} holds {id}, not an identifier"
                ))
            })?;
            objs.extend(obs.resolve(id).map(V::Json));
        }
        if !objs.is_empty() {
            out.push(V::List(objs));
        }
    } else {
        out.push(V::Json(x));
    }
    Ok(())
}

/// A selected value as the comparisons see it (Python's types in the reference).
enum Py<'a> {
    Str(&'a str),
    Int(i128),
    Float(f64),
    Bool(bool),
    Bytes(&'a [u8]),
    Other,
}

fn py<'a>(v: &'a V<'_>) -> Py<'a> {
    match v {
        V::Json(Value::String(s)) => Py::Str(s),
        V::Json(Value::Bool(b)) => Py::Bool(*b),
        V::Json(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Py::Int(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Py::Int(i128::from(u))
            } else {
                Py::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        V::Bytes(b) => Py::Bytes(b),
        _ => Py::Other,
    }
}

#[derive(Clone, Copy)]
enum Num {
    I(i128),
    F(f64),
}

fn num_cmp(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
        (Num::F(x), Num::F(y)) => x.partial_cmp(&y),
        (Num::I(x), Num::F(y)) => int_float_cmp(x, y),
        (Num::F(x), Num::I(y)) => int_float_cmp(y, x).map(Ordering::reverse),
    }
}

/// Exact comparison of an integer with a float (Python's rule).
fn int_float_cmp(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    match (i as f64).partial_cmp(&f)? {
        Ordering::Equal => Some(i.cmp(&(f as i128))),
        o => Some(o),
    }
}

fn lit_num(l: &Lit) -> Option<Num> {
    match l {
        Lit::Int(i) => Some(Num::I(i128::from(*i))),
        Lit::Float(f) => Some(Num::F(*f)),
        _ => None,
    }
}

fn val_num(v: &Py<'_>) -> Option<Num> {
    match v {
        Py::Int(i) => Some(Num::I(*i)),
        Py::Float(f) => Some(Num::F(*f)),
        _ => None,
    }
}

/// The string as Latin-1 bytes, if every character fits in one byte.
fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(c as u32).ok()).collect()
}

fn json_time(s: &str) -> Result<i64, EvalError> {
    parse_timestamp_micros(s).ok_or_else(|| {
        EvalError::Value(format!("{s:?} is compared with a timestamp but is not one"))
    })
}

/// `=` as the reference defines it: numbers across int and float, bytes
/// against Latin-1 strings, timestamps against timestamp strings; other
/// pairs of types are unequal.
fn equal(l: &Lit, v: &Py<'_>) -> Result<bool, EvalError> {
    Ok(match (l, v) {
        (Lit::Time(t), Py::Str(s)) => json_time(s)? == *t,
        (Lit::Str(a), Py::Str(b)) => a == b,
        (Lit::Bool(a), Py::Bool(b)) => a == b,
        (Lit::Bytes(a), Py::Bytes(b)) => a.as_slice() == *b,
        (Lit::Bytes(a), Py::Str(s)) => latin1(s).is_some_and(|b| &b == a),
        (Lit::Str(s), Py::Bytes(b)) => latin1(s).is_some_and(|a| a == *b),
        _ => match (lit_num(l), val_num(v)) {
            (Some(a), Some(b)) => num_cmp(b, a) == Some(Ordering::Equal),
            _ => false,
        },
    })
}

/// How the value orders against the literal: `None` when the types cannot
/// be ordered (the test is then false even under NOT, as in the reference),
/// `Some(None)` when a string cannot be compared with bytes (false, but NOT
/// applies).
fn order(l: &Lit, v: &Py<'_>) -> Result<Option<Option<Ordering>>, EvalError> {
    Ok(match (l, v) {
        (Lit::Time(t), Py::Str(s)) => Some(Some(json_time(s)?.cmp(t))),
        (Lit::Str(a), Py::Str(b)) => Some(Some((*b).cmp(a.as_str()))),
        (Lit::Bytes(a), Py::Bytes(b)) => Some(Some((*b).cmp(a.as_slice()))),
        (Lit::Bytes(a), Py::Str(s)) => Some(latin1(s).map(|b| b.as_slice().cmp(a))),
        (Lit::Str(s), Py::Bytes(b)) => Some(latin1(s).map(|a| (*b).cmp(a.as_slice()))),
        _ => match (lit_num(l), val_num(v)) {
            (Some(a), Some(b)) => num_cmp(b, a).map(Some),
            _ => None,
        },
    })
}

/// Set membership as Python's `in` on a set: numbers (and booleans, as 0
/// and 1) compare across types, strings with strings, bytes with bytes.
fn member(set: &[Lit], v: &Py<'_>) -> Result<bool, EvalError> {
    if let (Some(Lit::Time(_)), Py::Str(s)) = (set.first(), v) {
        let t = json_time(s)?;
        return Ok(set.iter().any(|l| matches!(l, Lit::Time(x) if *x == t)));
    }
    let as_num = |l: &Lit| match l {
        Lit::Bool(b) => Some(Num::I(i128::from(*b))),
        other => lit_num(other),
    };
    let vnum = match v {
        Py::Bool(b) => Some(Num::I(i128::from(*b))),
        other => val_num(other),
    };
    Ok(set.iter().any(|l| match (l, v) {
        (Lit::Str(a), Py::Str(b)) => a == b,
        (Lit::Bytes(a), Py::Bytes(b)) => a.as_slice() == *b,
        _ => matches!((as_num(l), vnum), (Some(a), Some(b)) if num_cmp(a, b) == Some(Ordering::Equal)),
    }))
}

/// Whether a root object passes: any selected value passes the test (the
/// first passing value ends the search, so later values are not examined).
fn holds(test: &Test, negated: bool, values: &[V<'_>]) -> Result<bool, EvalError> {
    if let Test::Exists = test {
        return Ok(values.is_empty() == negated);
    }
    for v in values {
        let p = py(v);
        let result = match test {
            Test::Eq(l) => equal(l, &p)? != negated,
            Test::Ne(l) => equal(l, &p)? == negated,
            Test::Order(want, or_equal, l) => match order(l, &p)? {
                None => false,
                Some(None) => negated,
                Some(Some(o)) => ((o == *want) || (*or_equal && o == Ordering::Equal)) != negated,
            },
            Test::In(set) => member(set, &p)? != negated,
            Test::Like { re, bytes_ok } => {
                let text = match p {
                    Py::Str(s) => Some(nfc(s)),
                    Py::Bytes(b) if *bytes_ok => {
                        Some(nfc(std::str::from_utf8(b).map_err(|_| {
                            EvalError::Value("LIKE on bytes that are not UTF-8".into())
                        })?))
                    }
                    _ => None,
                };
                text.is_some_and(|t| re.is_match(&t)) != negated
            }
            Test::Matches { re, bytes } => {
                let hit = match (p, bytes) {
                    (Py::Str(s), _) => re.is_match(&nfc(s)),
                    (Py::Bytes(b), Some(Ok(bre))) => bre.is_match(b),
                    (Py::Bytes(_), Some(Err(e))) => return Err(e.clone()),
                    _ => false,
                };
                hit != negated
            }
            Test::IsSubset(subnet) => match p {
                Py::Str(s) => ip_in_subnet(s, subnet)? != negated,
                _ => negated,
            },
            Test::IsSuperset(inner) => match p {
                Py::Str(s) => ip_in_subnet(inner, s)? != negated,
                _ => negated,
            },
            Test::Exists => false,
        };
        if result {
            return Ok(true);
        }
    }
    Ok(false)
}
