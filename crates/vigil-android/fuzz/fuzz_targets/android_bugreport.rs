#![no_main]
// The bugreport zip reader on arbitrary bytes.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("vigil-android-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let path = dir.join("bugreport.zip");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(modules) = vigil_android::bugreport_modules(&path) {
        for m in modules {
            let _ = m.run(&mut |_| {});
        }
    }
});
