#![no_main]
// The androidqf readers on arbitrary packages.json and getprop/ps text.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("vigil-aqf-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let half = data.len() / 2;
    let ok = std::fs::write(dir.join("packages.json"), &data[..half]).is_ok()
        && std::fs::write(dir.join("getprop.txt"), &data[half..]).is_ok()
        && std::fs::write(dir.join("ps.txt"), &data[half..]).is_ok()
        && std::fs::write(dir.join("dumpsys.txt"), &data[half..]).is_ok();
    if !ok {
        return;
    }
    if let Ok(modules) = vigil_android::androidqf_modules(&dir) {
        for m in modules {
            let _ = m.run(&mut |_| {});
        }
    }
});
