//! Helpers for tests that run reader modules over generated inputs.

use std::collections::BTreeSet;

use vigil_artefact::{Module, ModuleError, ModuleSummary, ObservableKind, Record};

/// Each module's name with its result.
pub type Outcomes = Vec<(String, Result<ModuleSummary, ModuleError>)>;

/// Runs every module and returns all records and each module's result.
pub fn run_all(modules: &[Box<dyn Module>]) -> (Vec<Record>, Outcomes) {
    let mut records = Vec::new();
    let mut results = Vec::new();
    for m in modules {
        let res = m.run(&mut |r| records.push(r));
        results.push((m.name().to_string(), res));
    }
    (records, results)
}

/// Every observable as (module, kind, value).
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
