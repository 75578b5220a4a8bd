//! The `warp.toml` reader (`project::parse_config`): any text gives a
//! configuration or an error naming the field, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = warp::project::parse_config(text, Path::new("warp.toml"));
});
