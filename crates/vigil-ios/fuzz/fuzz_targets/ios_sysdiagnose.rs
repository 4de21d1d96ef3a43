#![no_main]
// The archive reader on arbitrary bytes: a .tar.gz named like a sysdiagnose.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile_dir() else { return };
    let path = dir.join("sysdiagnose_fuzz.tar.gz");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(modules) = vigil_ios::sysdiagnose_modules(&path) {
        for m in modules {
            let _ = m.run(&mut |_| {});
        }
    }
});

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("vigil-ios-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
