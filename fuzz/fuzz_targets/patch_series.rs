//! The `git format-patch` reader (`fork::series::parse`) that `warp
//! toolchain` and `warp rebase` run on every file in `patches/`: any bytes
//! give a patch or an error, never a panic; so do the signature rewrite and
//! a series file name made from what it read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warp::fork::series;

fuzz_target!(|data: &[u8]| {
    if let Ok(patch) = series::parse(data) {
        let _ = patch.message();
        let name = series::file_name(1, &patch.subject);
        assert!(name.ends_with(".patch") && !name.contains('/'), "{name}");
    }
    let _ = series::parse(&series::with_signature(data));
});
