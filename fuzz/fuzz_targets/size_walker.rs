//! The size walker (`size::contributors`, `size::function_names`), which
//! `warp size-check` runs on any `.wasm` it is given: arbitrary bytes,
//! valid or not, give contributors or an error, never a panic, and the
//! contributors never claim more bytes than the input has.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warp::size;

fuzz_target!(|data: &[u8]| {
    if let Ok(contributors) = size::contributors(data, None) {
        let total: u64 = contributors.iter().map(|c| c.bytes).sum();
        assert!(total <= data.len() as u64, "{total} bytes of contributors in {} bytes", data.len());
    }
    let _ = size::function_names(data);
});
