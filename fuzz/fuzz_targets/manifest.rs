//! The run manifest reader (`Manifest::parse`), which `warp run`,
//! `warp size-check` and WarpGrid point at files they did not write: any
//! bytes give a manifest or an error, never a panic; what it accepts
//! survives being written and read again unchanged.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use warp::manifest::Manifest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("fuzz.warp.json");
    if let Ok(manifest) = Manifest::parse(text, path) {
        let again = Manifest::parse(&manifest.to_json(), path).expect("a manifest warp wrote reads back");
        assert_eq!(again, manifest);
    }
});
