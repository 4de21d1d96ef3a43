//! Streams arbitrary bytes as a bundle with small limits; every object that
//! types must serialise back to the JSON it came from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_stix::bundle::{BundleReader, Limits};
use vigil_stix::StixObject;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_object_bytes: 4096,
        max_depth: 16,
    };
    for raw in BundleReader::with_limits(data, limits).flatten() {
        let value = raw.value.clone();
        if let Ok(object) = StixObject::from_value(raw.value) {
            assert_eq!(object.to_value(), value);
        }
    }
});
