//! Integration tests of the iOS readers on generated acquisitions.

mod backup;
mod keybag;
mod sysdiagnose;

use std::collections::BTreeSet;

use vigil_artefact::{Module, ModuleError, ModuleSummary, ObservableKind, Record};

pub type Outcomes = Vec<(String, Result<ModuleSummary, ModuleError>)>;

/// Runs every module and returns (records, results by module name).
pub fn run_all(modules: &[Box<dyn Module>]) -> (Vec<Record>, Outcomes) {
    let mut records = Vec::new();
    let mut results = Vec::new();
    for m in modules {
        let res = m.run(&mut |r| records.push(r));
        results.push((m.name().to_string(), res));
    }
    (records, results)
}

/// (module, kind, value) of every observable.
pub fn observed(records: &[Record]) -> BTreeSet<(String, ObservableKind, String)> {
    records
        .iter()
        .flat_map(|r| {
            r.observables
                .iter()
                .map(move |o| (r.module.clone(), o.kind, o.value.clone()))
        })
        .collect()
}

/// Whether `host` is `domain` or one of its subdomains.
pub fn on_domain(url: &str, domain: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':', '?'])
        .next()
        .unwrap_or("");
    host == domain || host.ends_with(&format!(".{domain}"))
}
