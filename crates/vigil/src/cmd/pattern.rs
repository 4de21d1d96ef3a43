//! `vigil pattern`: check, pretty-print, compile and evaluate STIX patterns.
//!
//! Exit codes: `check` 0 valid / 1 invalid; `match` 0 match / 1 no match /
//! 2 error; `fmt` 0 / 1 invalid; `compile` 0 facts / 1 needs the general
//! evaluator (or invalid).

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use serde_json::{json, Value};
use vigil_pattern::{compile, parse, validate, Compiled, ObservedData, ParseError, Pattern};

use crate::Outcome;

/// Arguments of `vigil pattern`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check a pattern against the STIX 2.1 grammar and the validator's rules.
    Check(PatternArg),
    /// Print a pattern in canonical form.
    Fmt(PatternArg),
    /// Show the facts a pattern lowers to, or why it needs the evaluator.
    Compile(PatternArg),
    /// Evaluate a pattern against observed-data (a STIX bundle or a list of bundles).
    Match {
        /// JSON file with the observed-data and the SCOs it refers to ("-" for stdin).
        #[arg(long, value_name = "FILE")]
        observed: PathBuf,
        #[command(flatten)]
        pattern: PatternArg,
    },
}

#[derive(Debug, clap::Args)]
struct PatternArg {
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// The pattern ("-" reads it from stdin).
    #[arg(allow_hyphen_values = true)]
    pattern: String,
}

impl PatternArg {
    fn text(&self) -> anyhow::Result<String> {
        if self.pattern == "-" {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading the pattern from stdin")?;
            Ok(s.trim_end_matches(['\n', '\r']).to_string())
        } else {
            Ok(self.pattern.clone())
        }
    }
}

/// Runs `vigil pattern`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Check(p) => check(&p),
        Command::Fmt(p) => fmt(&p),
        Command::Compile(p) => compile_cmd(&p),
        Command::Match { observed, pattern } => match_cmd(&observed, &pattern),
    }
}

fn error_json(e: &ParseError) -> Value {
    json!({
        "message": e.to_string(),
        "line": e.line,
        "column": e.column,
        "offset": e.offset,
        "expected": e.expected,
        "found": e.found,
    })
}

fn print_parse_error(src: &str, e: &ParseError) {
    println!("invalid: {e}");
    for line in e.caret(src).lines() {
        println!("  {line}");
    }
}

/// Parses, or reports the error (text or JSON) and returns `None`.
fn parse_or_report(src: &str, as_json: bool) -> Option<Pattern> {
    match parse(src) {
        Ok(p) => Some(p),
        Err(e) => {
            if as_json {
                println!(
                    "{}",
                    json!({ "valid": false, "error": error_json(&e), "issues": [] })
                );
            } else {
                print_parse_error(src, &e);
            }
            None
        }
    }
}

fn check(p: &PatternArg) -> anyhow::Result<Outcome> {
    let src = p.text()?;
    let Some(pattern) = parse_or_report(&src, p.json) else {
        return Ok(Outcome::Findings);
    };
    let issues = validate(&pattern);
    if p.json {
        let list: Vec<String> = issues.iter().map(ToString::to_string).collect();
        println!(
            "{}",
            json!({ "valid": issues.is_empty(), "pattern": pattern.to_string(), "issues": list })
        );
    } else if issues.is_empty() {
        println!("valid: {pattern}");
    } else {
        for i in &issues {
            println!("invalid: {i}");
        }
    }
    Ok(if issues.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

fn fmt(p: &PatternArg) -> anyhow::Result<Outcome> {
    let src = p.text()?;
    let Some(pattern) = parse_or_report(&src, p.json) else {
        return Ok(Outcome::Findings);
    };
    if p.json {
        println!("{}", json!({ "pattern": pattern.to_string() }));
    } else {
        println!("{pattern}");
    }
    Ok(Outcome::Ok)
}

fn compile_cmd(p: &PatternArg) -> anyhow::Result<Outcome> {
    let src = p.text()?;
    let Some(pattern) = parse_or_report(&src, p.json) else {
        return Ok(Outcome::Findings);
    };
    match compile(&pattern) {
        Compiled::Facts(facts) => {
            if p.json {
                println!("{}", json!({ "kind": "facts", "facts": facts }));
            } else {
                for f in &facts {
                    let op = match f.op {
                        vigil_pattern::FactOp::Equals => "=",
                        vigil_pattern::FactOp::IsSubset => "ISSUBSET",
                    };
                    println!("{}:{} {op} {:?}", f.object_type, f.path, f.value);
                }
            }
            Ok(Outcome::Ok)
        }
        Compiled::General { reason } => {
            if p.json {
                println!("{}", json!({ "kind": "general", "reason": reason }));
            } else {
                println!("needs the general evaluator: {reason}");
            }
            Ok(Outcome::Findings)
        }
    }
}

fn read_observed(path: &PathBuf) -> anyhow::Result<Vec<ObservedData>> {
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading observed-data from stdin")?;
        s
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let list = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    ObservedData::from_stix(&list).with_context(|| format!("{}", path.display()))
}

fn match_cmd(observed: &PathBuf, p: &PatternArg) -> anyhow::Result<Outcome> {
    let src = p.text()?;
    let pattern = parse(&src).map_err(|e| anyhow::anyhow!("pattern: {e}\n{}", e.caret(&src)))?;
    let data = read_observed(observed)?;
    let matched = vigil_pattern::matches(&pattern, &data)
        .with_context(|| format!("evaluating {pattern} against {}", observed.display()))?;
    if p.json {
        println!(
            "{}",
            json!({ "matched": matched, "pattern": pattern.to_string(), "observations": data.len() })
        );
    } else {
        println!("{}", if matched { "match" } else { "no match" });
    }
    Ok(if matched {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}
