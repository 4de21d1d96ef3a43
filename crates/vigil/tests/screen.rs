//! `vigil screen` end to end: exit codes, output, batch mode, decisions and
//! item classification.

use std::process::{Command, Output};

fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .output()
        .expect("run vigil")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_listed_vendor_is_a_hit_with_its_listing_and_explanation() {
    let o = vigil(&["screen", "Intelexa SA", "--country", "gr"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("[seed-intellexa-sa]"), "{out}");
    assert!(out.contains("2023-07-18"), "{out}");
    assert!(
        out.contains("https://www.federalregister.gov/d/2023-15343"),
        "{out}"
    );
    assert!(out.contains("'intelexa' ≈ 'intellexa'"), "{out}");
    assert!(out.contains("legal form sa = Société Anonyme"), "{out}");
}

#[test]
fn an_unrelated_party_is_no_hit() {
    let o = vigil(&[
        "screen",
        "--schema",
        "company",
        "Fabrikam Garden Supplies Ltd",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("no hit"));
}

#[test]
fn json_output_carries_score_explanation_and_listings() {
    let o = vigil(&["screen", "--json", "--schema", "person", "DILIAN, Tal"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let hit = &v["hits"][0];
    assert_eq!(hit["entity_id"], "seed-tal-dilian");
    assert!(hit["score"].as_f64().unwrap() >= 0.76);
    assert!(hit["explanation"]["parts"].as_array().unwrap().len() >= 2);
    assert_eq!(hit["listings"][0]["listed_on"], "2024-03-05");
}

#[test]
fn a_bad_birth_date_is_a_usage_error() {
    let o = vigil(&["screen", "Tal Dilian", "--birth-date", "1970-13-45"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--birth-date"));
}

#[test]
fn batch_mode_reports_bad_records_by_line_and_screens_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("parties.csv");
    std::fs::write(
        &input,
        "name,schema,country,birth_date\nCytrox AD,company,mk,\n,person,,\nJane Example,person,gb,1980-02-31\nBlue Garden Co,company,nl,\n",
    )
    .unwrap();
    let output = dir.path().join("results.jsonl");
    let o = vigil(&[
        "screen",
        "--batch",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("parties.csv:3: skipped"), "{err}");
    assert!(
        err.contains("parties.csv:4: skipped") && err.contains("invalid birth date"),
        "{err}"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["line"], 2);
    assert_eq!(lines[0]["hits"][0]["entity_id"], "seed-cytrox-ad");
    assert!(lines[1]["error"].is_string());
    assert_eq!(lines[3]["hits"].as_array().unwrap().len(), 0);
}

#[test]
fn a_cleared_false_positive_is_not_raised_again() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("decisions.jsonl");
    let book = book.to_str().unwrap();
    let o = vigil(&[
        "screen",
        "decide",
        "--decisions",
        book,
        "--entity",
        "seed-merom-harpaz",
        "--disposition",
        "false-positive",
        "--reason",
        "different person, born 1990",
        "--officer",
        "officer-7",
        "--schema",
        "person",
        "Merom Harpaz",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = vigil(&[
        "screen",
        "--decisions",
        book,
        "--schema",
        "person",
        "Merom Harpaz",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("CLEARED"), "{}", stdout(&o));
    assert!(stdout(&o).contains("officer-7"));
    // Without the seed list the list version changes: raised again.
    let dir2 = tempfile::tempdir().unwrap();
    let list = dir2.path().join("list.jsonl");
    std::fs::write(
        &list,
        "{\"id\": \"seed-merom-harpaz\", \"schema\": \"Person\", \"properties\": {\"name\": [\"Merom Harpaz\"]}}\n",
    )
    .unwrap();
    let o = vigil(&[
        "screen",
        "--no-seed",
        "--list",
        list.to_str().unwrap(),
        "--decisions",
        book,
        "--schema",
        "person",
        "Merom Harpaz",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("no longer applies"), "{}", stdout(&o));
}

#[test]
fn list_problems_are_reported_by_line_and_the_rest_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.jsonl");
    std::fs::write(
        &list,
        "{\"id\": \"a\", \"schema\": \"Company\", \"properties\": {\"name\": [\"Orchid Intercept Systems GmbH\"]}}\n{broken\n{\"id\": \"b\", \"schema\": \"Starship\", \"properties\": {}}\n",
    )
    .unwrap();
    let o = vigil(&[
        "screen",
        "--no-seed",
        "--list",
        list.to_str().unwrap(),
        "Orchid Intercept Systems",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("list.jsonl:2: skipped: malformed JSON"),
        "{err}"
    );
    assert!(
        err.contains("list.jsonl:3 (b): skipped: unknown schema"),
        "{err}"
    );
    assert!(stdout(&o).contains("[a]"));
}

#[test]
fn classify_records_entries_determination_and_risk_notes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("classifications.jsonl");
    let o = vigil(&[
        "screen",
        "classify",
        "--application",
        "LA-2026-041",
        "--item",
        "Remote device-exploitation toolkit",
        "--entry",
        "4D004=applies",
        "--entry",
        "4A005=does-not-apply",
        "--entry",
        "ART5=undetermined",
        "--destination",
        "XX",
        "--risk-notes",
        "reports of journalists targeted",
        "--officer",
        "officer-7",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("LICENCE REQUIRED"));
    assert!(stdout(&o).contains("still to determine: ART5"));
    let rec: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&out).unwrap().trim()).unwrap();
    assert_eq!(rec["entries"][0]["entry"], "4D004");
    assert_eq!(rec["entries"][0]["determination"], "applies");
    assert_eq!(rec["risk_notes"], "reports of journalists targeted");
    let o = vigil(&[
        "screen",
        "classify",
        "--application",
        "x",
        "--item",
        "y",
        "--entry",
        "9Z999=applies",
        "--destination",
        "XX",
        "--officer",
        "o",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn same_name_entries_are_one_hit_until_a_fact_tells_them_apart() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.jsonl");
    let entry = |id: &str, name: &str, born: &str, nationality: &str| {
        format!(
            "{{\"id\": \"{id}\", \"schema\": \"Person\", \"datasets\": [\"list-of-{id}\"], \"properties\": {{\"name\": [\"{name}\"], \"birthDate\": [\"{born}\"], \"nationality\": [\"{nationality}\"]}}}}\n"
        )
    };
    std::fs::write(
        &list,
        [
            entry("li-1", "Li Hong", "1978-12-19", "cn"),
            entry("li-2", "LI, Hong", "1988-08-26", "cn"),
            entry("li-3", "Li Hong", "1962-07-02", "sg"),
        ]
        .concat(),
    )
    .unwrap();
    let list = list.to_str().unwrap();
    let screen = |extra: &[&str]| {
        let mut args = vec!["screen", "--no-seed", "--list", list, "--schema", "person"];
        args.extend_from_slice(extra);
        args.push("Li Hong");
        vigil(&args)
    };
    // No facts: nothing tells the three apart, so they are one hit naming
    // the other two, not three hits.
    let o = screen(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.matches("\nHIT ").count(), 1, "{out}");
    assert!(out.contains("raised with it (2 more entries"), "{out}");
    // Each entry raised with it shows its own listing.
    assert!(out.contains("[li-2] — list-of-li-2"), "{out}");
    assert!(out.contains("[li-3] — list-of-li-3"), "{out}");
    // A nationality that two share and one contradicts: the contradicted
    // one is set aside, the other two stay one hit.
    let o = screen(&["--country", "cn", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{v:#}");
    assert_eq!(hits[0]["explanation"]["tied"].as_array().unwrap().len(), 1);
    assert_eq!(hits[0]["explanation"]["set_aside"][0]["entity_id"], "li-3");
    // A birth date settles it: one entry, the others not raised.
    let o = screen(&["--country", "cn", "--birth-date", "1988-08-26"]);
    let out = stdout(&o);
    assert_eq!(out.matches("\nHIT ").count(), 1, "{out}");
    assert!(out.contains("[li-2]"), "{out}");
    assert!(!out.contains("raised with it"), "{out}");
    // Clearing one entry of a tied hit does not clear the hit; clearing
    // all of them does.
    let book = dir.path().join("decisions.jsonl");
    let book = book.to_str().unwrap();
    let decide = |entity: &str| {
        let o = vigil(&[
            "screen",
            "decide",
            "--no-seed",
            "--list",
            list,
            "--decisions",
            book,
            "--entity",
            entity,
            "--disposition",
            "false-positive",
            "--reason",
            "other person: born 1975 per passport",
            "--officer",
            "officer-2",
            "--schema",
            "person",
            "Li Hong",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    };
    decide("li-1");
    let o = screen(&["--decisions", book]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    decide("li-2");
    decide("li-3");
    let o = screen(&["--decisions", book]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("CLEARED"), "{}", stdout(&o));
}
