#![no_main]
// The Android backup reader (header, zlib, tar, message files) on arbitrary bytes.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vigil_android::fuzzing::android_backup(data);
});
