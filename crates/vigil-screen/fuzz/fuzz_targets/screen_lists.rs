#![no_main]
// Every list importer on arbitrary bytes: FtM JSON lines, CSL CSV and JSON, simple CSV.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use vigil_screen::import;
    let _ = import::read_ftm(data, "fuzz");
    let _ = import::read_csl_csv(data, "fuzz");
    let _ = import::read_csl_json(data, "fuzz");
    let _ = import::read_simple_csv(data, "fuzz");
});
