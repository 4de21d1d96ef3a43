//! One authorisation from request to the end of its life, every step
//! appended to a transparency log directory:
//!
//! ```text
//! cargo run -p vigil-oversight --example authorisation -- LOG_DIR
//! ```
//!
//! Then sign a checkpoint and compute the transparency report with
//! `vigil log checkpoint` and `vigil log report`.

use std::process::ExitCode;

use vigil_oversight::*;
use vigil_tlog::{Log, Options};

/// Appends workflow entries to a log directory.
struct DirLog(Log);

impl LogSink for DirLog {
    fn append(&mut self, entry: Vec<u8>) -> Result<u64, String> {
        self.0.append(entry).map_err(|e| e.to_string())
    }
}

fn person(id: &str, org: &str, roles: Vec<Role>) -> Person {
    Person {
        id: PersonId(id.into()),
        organisation: org.into(),
        roles,
    }
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: authorisation LOG_DIR");
        return ExitCode::from(2);
    };
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(dir: &str) -> Result<(), Box<dyn std::error::Error>> {
    let log = Log::open(std::path::Path::new(dir), Options::default())?;
    // Demo salt only: a deployment keeps a random secret salt with its database.
    let mut o = Oversight::new(Policy::default(), DirLog(log), Pseudonymiser::new([7; 32]));
    o.add_person(person(
        "officer-ana",
        "National Police",
        vec![Role::Requester],
    ));
    o.add_person(person(
        "judge-carla",
        "Investigatory Powers Court",
        vec![Role::Approver],
    ));
    o.add_person(person(
        "judge-dev",
        "Investigatory Powers Court",
        vec![Role::Approver],
    ));
    o.add_person(person(
        "operator-eli",
        "National Police",
        vec![Role::Operator],
    ));
    o.add_person(person(
        "auditor-gus",
        "Oversight Commission",
        vec![Role::Auditor],
    ));
    let t0 = 1_780_000_000;

    let request = AuthorisationRequest {
        agency: "National Police".into(),
        officer: PersonId("officer-ana".into()),
        tool: ToolRef {
            registry_id: "tool--8a0a5d8e-3f57-4a34-9d44-2a9d6f1c0b11".into(),
            vendor_id: "identity--5b1f1d3c-2f0e-4e7b-8d5e-6a7c1b9e0f22".into(),
            product: "ExampleIntercept".into(),
            export_licence: "EL-2026-0042".into(),
        },
        legal_basis: LegalBasis {
            jurisdiction: "XX".into(),
            instrument: "Investigatory Powers Act".into(),
            provision: "s. 12(3)".into(),
        },
        purpose: "Locate the members of a kidnapping gang".into(),
        offence_category: "kidnapping".into(),
        target_category: TargetCategory::Journalist,
        target_ref: "record-7781".into(),
        scope: Scope {
            max_devices: 1,
            data_types: vec!["location".into()],
            geography: vec!["XX".into()],
        },
        assessment: Assessment {
            necessity: "Victim's life at risk".into(),
            proportionality: "One device, location only, 14 days".into(),
            alternatives: vec![AlternativeConsidered {
                means: "Carrier location data".into(),
                why_rejected: "Suspect switches SIM cards daily".into(),
            }],
            collateral_intrusion: "None expected beyond the device holder".into(),
        },
        duration_days: 14,
    };
    let id = o.submit(request, t0)?;
    println!("{id}: requested (journalist: double lock applies)");
    let s = o.approve(&id, &PersonId("judge-carla".into()), 14, t0 + 3600)?;
    println!("{id}: first approval by judge-carla -> {s:?}");
    let s = o.approve(&id, &PersonId("judge-dev".into()), 14, t0 + 7200)?;
    println!("{id}: second approval by judge-dev -> {s:?}");
    let access = |data: &str| AccessRequest {
        operator: PersonId("operator-eli".into()),
        device_ref: "device-1".into(),
        data_type: data.into(),
        geography: "XX".into(),
    };
    let i = o.access(&id, &access("location"), t0 + 8000)?;
    println!("{id}: access to location granted, log index {i}");
    if let Err(e) = o.access(&id, &access("messages"), t0 + 9000) {
        println!("{id}: {e}");
    }
    o.review(&id, &PersonId("auditor-gus".into()), true, t0 + 10 * DAY)?;
    println!("{id}: reviewed by auditor-gus, compliant");
    o.expire_due(t0 + 15 * DAY)?;
    println!("{id}: expired");
    o.destroy(&id, &PersonId("operator-eli".into()), t0 + 16 * DAY)?;
    println!("{id}: collected data destroyed");
    o.notify(&id, t0 + 20 * DAY)?;
    println!("{id}: target notified");
    let a = o.get(&id).ok_or("authorisation vanished")?;
    println!("{id}: log entries {:?}", a.log_indices);
    Ok(())
}
