//! Differential tests against the OASIS reference tools: `stix2-patterns`
//! (is the pattern valid?) and `stix2-matcher` (does it match?). Each runs
//! its oracle once over a whole batch (JSON lines in, JSON lines out).
//!
//! Where the reference is wrong, the case is counted as an explained
//! disagreement under one of the `KNOWN_*` entries, each with the text of
//! the specification that decides it. Any other disagreement fails the test.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use vigil_pattern::{parse, validate, ObservedData, Operator, PathStep, Pattern};

use crate::gen::{self, Rng};

/// Runs an oracle script of `interop/pattern/` over `inputs` in one process.
fn oracle(script: &str, inputs: &[Value]) -> Option<Vec<Value>> {
    let python = vigil_testkit::python()?;
    let script = vigil_testkit::workspace_root()
        .join("interop/pattern")
        .join(script);
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let body: String = inputs.iter().map(|v| format!("{v}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(body.as_bytes()));
    let out = child.wait_with_output().expect("oracle output");
    writer
        .join()
        .expect("writer thread")
        .expect("writing to the oracle");
    assert!(out.status.success(), "{} failed", script.display());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("oracle JSON line"))
        .collect();
    assert_eq!(
        lines.len(),
        inputs.len(),
        "oracle answered {} of {}",
        lines.len(),
        inputs.len()
    );
    Some(lines)
}

/// A documented defect of a reference tool, with the text that decides the case.
struct Known {
    name: &'static str,
    decided_by: &'static str,
}

const KNOWN_NEGATIVE_INDEX: Known = Known {
    name: "negative list index",
    decided_by:
        "STIXPattern.g4: indexPathStep : LBRACK (IntPosLiteral|IntNegLiteral|ASTERISK) RBRACK \
                 -- a negative index is grammatical; stix2-patterns crashes on it (int(None)) and \
                 stix2-matcher never selects anything with it. We count from the end of the list.",
};
const KNOWN_HASH_INDEX: Known = Known {
    name: "list index as last step under hashes",
    decided_by:
        "STIXPattern.g4: objectPathComponent allows an index step anywhere; stix2-patterns' \
                 hash check calls .upper() on the integer and crashes.",
};
const KNOWN_HASH_SET: Known = Known {
    name: "IN set on a hash path",
    decided_by: "STIX 2.1, STIX Patterning, Comparison Operators: IN holds when the value is one of \
                 the set's members (paraphrased); stix2-patterns checks the whole set text \"('...','...')\" against the hash format and \
                 so rejects every IN on a hash, however valid its members. We check each member.",
};
const KNOWN_LEADING_COMMENT: Known = Known {
    name: "comment before the first bracket",
    decided_by:
        "STIXPattern.g4: COMMENT : '/*' .*? '*/' -> skip -- comments are skipped anywhere; \
                 stix2-patterns' brackets_check looks at the raw first character.",
};
const KNOWN_EXISTS: Known = Known {
    name: "EXISTS",
    decided_by:
        "STIX 2.1, STIX Patterning, Comparison Operators: EXISTS holds when the object path \
                 names a property present on the object (paraphrased), and NOT negates any \
                 comparison. stix2-matcher has no EXISTS rule: it \
                 ignores NOT and fails (TypeError) when EXISTS is combined with other comparisons.",
};
const KNOWN_SUBNET: Known = Known {
    name: "subnet operand the reference cannot read",
    decided_by: "STIX 2.1, IPv4/IPv6 Address Objects, value: 'Specifies the values of one or more \
                 IPv4 addresses expressed using CIDR notation. If a given IPv4 Address object represents \
                 a single IPv4 address, the CIDR /32 suffix MAY be omitted' (likewise /128 for IPv6), \
                 and ISSUBSET/ISSUPERSET are defined on these values. stix2-matcher raises 'Invalid CIDR subnet' for a plain address where a subnet is expected (we read \
                 it as a one-address subnet), does not know IPv6, and rejects /0.",
};

fn paths(p: &Pattern) -> impl Iterator<Item = &vigil_pattern::ObjectPath> {
    p.comparisons().into_iter().map(|c| &c.path)
}

fn explain_validation(src: &str, ours: bool, theirs: &Value) -> Option<&'static Known> {
    let p = parse(src).ok()?;
    let crashed = !theirs["crash"].is_null();
    if paths(&p).any(|path| {
        path.steps
            .iter()
            .any(|s| matches!(s, PathStep::Index(i) if *i < 0))
    }) && crashed
    {
        return Some(&KNOWN_NEGATIVE_INDEX);
    }
    let hash_index = paths(&p).any(|path| {
        path.steps
            .iter()
            .any(|s| matches!(s, PathStep::Key(k) if k == "hashes"))
            && matches!(path.steps.last(), Some(PathStep::Index(_)))
    });
    if hash_index && crashed {
        return Some(&KNOWN_HASH_INDEX);
    }
    let hash_set = p.comparisons().iter().any(|c| {
        matches!(c.op, Operator::In(_))
            && c.path
                .steps
                .iter()
                .any(|s| matches!(s, PathStep::Key(k) if k == "hashes"))
    });
    let errors = theirs["errors"].to_string();
    if hash_set && ours && errors.contains("is not a valid") {
        return Some(&KNOWN_HASH_SET);
    }
    let first = src.trim_start_matches(|c: char| c == '(' || c.is_whitespace());
    if ours && first.starts_with("/*") && errors.contains("missing square brackets") {
        return Some(&KNOWN_LEADING_COMMENT);
    }
    None
}

fn our_verdict(src: &str) -> bool {
    parse(src).map(|p| validate(&p).is_empty()).unwrap_or(false)
}

#[derive(Default)]
struct Tally {
    agree: usize,
    explained: std::collections::BTreeMap<&'static str, (usize, &'static str)>,
    unexplained: Vec<String>,
}

impl Tally {
    fn report(&self, what: &str) {
        eprintln!(
            "{what}: {} agreements, {} explained disagreements {:?}, {} unexplained",
            self.agree,
            self.explained.values().map(|(n, _)| n).sum::<usize>(),
            self.explained
                .iter()
                .map(|(k, (n, _))| (*k, *n))
                .collect::<Vec<_>>(),
            self.unexplained.len()
        );
        for (name, (n, why)) in &self.explained {
            eprintln!("  {n} x {name}: {why}");
        }
        for u in self.unexplained.iter().take(30) {
            eprintln!("  UNEXPLAINED {u}");
        }
    }
}

#[test]
fn validity_agrees_with_stix2_patterns() {
    let mut rng = Rng::new(0x5715_9a77_e2d1_0001);
    let mut cases: Vec<String> = crate::spec_examples();
    for _ in 0..700 {
        cases.push(gen::valid_pattern(&mut rng));
    }
    for _ in 0..700 {
        cases.push(gen::mutated_pattern(&mut rng));
    }
    // Real indicator patterns: every distinct shape that is not a plain domain, and some domains.
    let mut real = crate::indicators::real_patterns();
    real.sort();
    real.dedup();
    let (domains, others): (Vec<String>, Vec<String>) = real
        .into_iter()
        .partition(|p| p.starts_with("[domain-name:value"));
    cases.extend(others);
    cases.extend(domains.into_iter().step_by(50));
    // Fixed cases for each known reference defect.
    cases.extend(
        [
            "[x:a[-1] = 1]",
            "[file:hashes[0] = 'x']",
            "[file:hashes.MD5 IN ('cead3f77f6cda6ec00f57d76c9a6879f', '79054025255fb1a26e4bc422aef54eb4')]",
            "/* note */ [x:a = 1]",
        ]
        .map(String::from),
    );
    let inputs: Vec<Value> = cases.iter().map(|p| json!({ "pattern": p })).collect();
    let Some(answers) = oracle("validate_oracle.py", &inputs) else {
        return;
    };
    let mut tally = Tally::default();
    let (mut valid, mut invalid) = (0, 0);
    for (src, theirs) in cases.iter().zip(&answers) {
        let ours = our_verdict(src);
        if ours {
            valid += 1;
        } else {
            invalid += 1;
        }
        let theirs_valid = theirs["valid"].as_bool().unwrap_or(false) && theirs["crash"].is_null();
        if ours == theirs_valid {
            tally.agree += 1;
        } else if let Some(k) = explain_validation(src, ours, theirs) {
            tally.explained.entry(k.name).or_insert((0, k.decided_by)).0 += 1;
        } else {
            let why = parse(src).err().map(|e| e.to_string()).unwrap_or_default();
            tally
                .unexplained
                .push(format!("{src:?}: ours {ours} ({why}), reference {theirs}"));
        }
    }
    tally.report("stix2-patterns");
    eprintln!("  ({valid} valid, {invalid} invalid by our verdict)");
    assert!(
        tally.unexplained.is_empty(),
        "{} unexplained disagreements",
        tally.unexplained.len()
    );
    assert!(tally.agree >= 1000, "only {} agreements", tally.agree);
    assert!(
        valid >= 300 && invalid >= 300,
        "unbalanced set: {valid} valid, {invalid} invalid"
    );
}

fn explain_match(p: &Pattern, theirs: &Value) -> Option<&'static Known> {
    if p.comparisons()
        .iter()
        .any(|c| matches!(c.op, Operator::Exists))
    {
        return Some(&KNOWN_EXISTS);
    }
    if paths(p).any(|path| {
        path.steps
            .iter()
            .any(|s| matches!(s, PathStep::Index(i) if *i < 0))
    }) {
        return Some(&KNOWN_NEGATIVE_INDEX);
    }
    let subnet_ops = p
        .comparisons()
        .iter()
        .any(|c| matches!(c.op, Operator::IsSubset(_) | Operator::IsSuperset(_)));
    let detail = theirs["detail"].as_str().unwrap_or("");
    if subnet_ops
        && (detail.contains("Invalid CIDR subnet") || detail.contains("Invalid IPv4 address"))
    {
        return Some(&KNOWN_SUBNET);
    }
    None
}

#[test]
fn match_verdicts_agree_with_stix2_matcher() {
    let mut rng = Rng::new(0x5715_9a77_e2d1_0002);
    let mut cases: Vec<(String, Value)> = Vec::new();
    for _ in 0..1200 {
        let data = gen::bundle(&mut rng);
        cases.push((gen::match_pattern(&mut rng), data));
    }
    // Every spec example against a few generated bundles.
    for ex in crate::spec_examples() {
        for _ in 0..3 {
            cases.push((ex.clone(), gen::bundle(&mut rng)));
        }
    }
    let inputs: Vec<Value> = cases
        .iter()
        .map(|(p, d)| json!({ "pattern": p, "observed": [d] }))
        .collect();
    let Some(answers) = oracle("match_oracle.py", &inputs) else {
        return;
    };
    let mut tally = Tally::default();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for ((src, data), theirs) in cases.iter().zip(&answers) {
        let pattern = parse(src).unwrap_or_else(|e| panic!("generated pattern {src}: {e}"));
        let ours = ObservedData::from_stix(std::slice::from_ref(data))
            .and_then(|obs| vigil_pattern::matches(&pattern, &obs));
        let ours_s = match &ours {
            Ok(true) => "match",
            Ok(false) => "nomatch",
            Err(_) => "error",
        };
        *counts.entry(ours_s).or_default() += 1;
        let theirs_s = theirs["result"].as_str().unwrap_or("?");
        if ours_s == theirs_s {
            tally.agree += 1;
        } else if let Some(k) = explain_match(&pattern, theirs) {
            tally.explained.entry(k.name).or_insert((0, k.decided_by)).0 += 1;
        } else {
            tally.unexplained.push(format!(
                "{src}\n    ours {ours:?}, reference {theirs}\n    data {data}"
            ));
        }
    }
    tally.report("stix2-matcher");
    eprintln!("  our verdicts: {counts:?}");
    assert!(
        tally.unexplained.is_empty(),
        "{} unexplained disagreements",
        tally.unexplained.len()
    );
    assert!(tally.agree >= 1000, "only {} agreements", tally.agree);
    let m = counts.get("match").copied().unwrap_or(0);
    let n = counts.get("nomatch").copied().unwrap_or(0);
    assert!(m >= 200 && n >= 200, "unbalanced set: {counts:?}");
}
