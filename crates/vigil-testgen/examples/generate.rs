//! Writes synthetic acquisitions to a folder.
//!
//! ```text
//! cargo run -p vigil-testgen --example generate -- ios-backup OUT [--sms N] [--visits N] [--password PW] [--seed S] [--domain D]...
//! cargo run -p vigil-testgen --example generate -- androidqf OUT [--packages N] [--seed S] [--domain D]...
//! cargo run -p vigil-testgen --example generate -- bugreport OUT.zip [--packages N] [--seed S]
//! ```

use std::path::PathBuf;

use vigil_testgen::{AndroidSpec, IosBackupSpec, Plants};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let usage = "usage: generate ios-backup|androidqf|bugreport OUT [--seed S] [--sms N] [--visits N] [--packages N] [--password PW] [--domain D] [--process P] [--app A] [--property P] [--sha256 H] [--cert H] [--path P]";
    let (kind, out) = match args {
        [k, o, ..] => (k.as_str(), PathBuf::from(o)),
        _ => return Err(usage.into()),
    };
    let mut plants = Plants::default();
    let mut seed = 1u64;
    let (mut sms, mut visits, mut packages) = (1000usize, 1000usize, 100usize);
    let mut password = None;
    let mut it = args[2..].iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let n = || value.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--seed" => seed = value.parse().map_err(|e| format!("--seed: {e}"))?,
            "--sms" => sms = n()?,
            "--visits" => visits = n()?,
            "--packages" => packages = n()?,
            "--password" => password = Some(value.clone()),
            "--domain" => plants.domains.push(value.clone()),
            "--process" => plants.processes.push(value.clone()),
            "--app" => plants.app_ids.push(value.clone()),
            "--property" => plants.properties.push(value.clone()),
            "--sha256" => plants.sha256.push(value.clone()),
            "--cert" => plants.cert_hashes.push(value.clone()),
            "--path" => plants.file_paths.push(value.clone()),
            _ => return Err(format!("unknown flag {flag}\n{usage}")),
        }
    }
    let planted = match kind {
        "ios-backup" => vigil_testgen::write_ios_backup(
            &out,
            &IosBackupSpec {
                seed,
                sms,
                safari_visits: visits,
                password,
                plants,
                ..IosBackupSpec::default()
            },
        ),
        "androidqf" => vigil_testgen::write_androidqf(
            &out,
            &AndroidSpec {
                seed,
                packages,
                plants,
            },
        ),
        "bugreport" => vigil_testgen::write_bugreport(
            &out,
            &AndroidSpec {
                seed,
                packages,
                plants,
            },
        ),
        _ => return Err(usage.into()),
    }
    .map_err(|e| e.to_string())?;
    println!("wrote {} ({} planted hits)", out.display(), planted.len());
    for p in planted {
        println!("  {:<20} {}", p.module, p.value);
    }
    Ok(())
}
