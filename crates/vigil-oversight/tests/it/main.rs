//! The oversight workflow's rules, its log entries and the transparency
//! report derived from them.

mod report;
mod rules;

use vigil_ledger::MemoryTree;
use vigil_oversight::*;

/// A log in memory that can be made to fail.
#[derive(Debug, Default)]
pub struct TestLog {
    pub entries: Vec<Vec<u8>>,
    pub tree: MemoryTree,
    pub fail: bool,
}

impl LogSink for TestLog {
    fn append(&mut self, entry: Vec<u8>) -> Result<u64, String> {
        if self.fail {
            return Err("disk full".into());
        }
        self.tree.push(&entry);
        self.entries.push(entry);
        Ok(self.entries.len() as u64 - 1)
    }
}

pub const T0: u64 = 1_780_000_000;

pub fn pid(s: &str) -> PersonId {
    PersonId(s.to_string())
}

pub fn workflow() -> Oversight<TestLog> {
    let mut o = Oversight::new(
        Policy::default(),
        TestLog::default(),
        Pseudonymiser::new([42; 32]),
    );
    for (id, org, roles) in [
        ("officer-ana", "National Police", vec![Role::Requester]),
        ("officer-ben", "National Police", vec![Role::Requester]),
        ("police-chief", "National Police", vec![Role::Approver]),
        (
            "judge-carla",
            "Investigatory Powers Court",
            vec![Role::Approver],
        ),
        (
            "judge-dev",
            "Investigatory Powers Court",
            vec![Role::Approver],
        ),
        ("operator-eli", "National Police", vec![Role::Operator]),
        (
            "operator-fay",
            "National Police",
            vec![Role::Operator, Role::Requester],
        ),
        ("auditor-gus", "Oversight Commission", vec![Role::Auditor]),
    ] {
        o.add_person(Person {
            id: pid(id),
            organisation: org.into(),
            roles,
        });
    }
    o
}

pub fn request(target: TargetCategory) -> AuthorisationRequest {
    AuthorisationRequest {
        agency: "National Police".into(),
        officer: pid("officer-ana"),
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
        target_category: target,
        target_ref: "suspect-record-7781 (Jane Roe)".into(),
        scope: Scope {
            max_devices: 2,
            data_types: vec!["location".into(), "messages".into()],
            geography: vec!["XX".into()],
        },
        assessment: Assessment {
            necessity: "Victim's life at risk; suspects use encrypted messengers only".into(),
            proportionality: "Limited to two devices, location and messages, 30 days".into(),
            alternatives: vec![AlternativeConsidered {
                means: "Carrier location data".into(),
                why_rejected: "Suspects switch SIM cards daily".into(),
            }],
            collateral_intrusion: "Family members' messages to the suspects".into(),
        },
        duration_days: 30,
    }
}

pub fn access(op: &str, device: &str, data: &str) -> AccessRequest {
    AccessRequest {
        operator: pid(op),
        device_ref: device.into(),
        data_type: data.into(),
        geography: "XX".into(),
    }
}
