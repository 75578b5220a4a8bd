//! The engine room below `pack`, the runner and the languages: the one
//! Wasmtime configuration warp compiles and serves with, the WebAssembly
//! features it accepts (what `warp pack` validates against, so what packs
//! also loads), and the compiled-code cache ([`cache`]). It knows nothing
//! of manifests, requests or projects.

pub mod cache;

use std::sync::OnceLock;

use anyhow::Result;
use wasmtime::{Config, Engine};

use crate::error::Diagnostic;

/// The Wasmtime release warp embeds (the `wasmtime` crate in Cargo.lock;
/// a unit test keeps them equal): the cache names its areas after it, and
/// the benches and compatibility tests install its CLI as their anchor.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// The configuration every serving engine starts from; what it enables is
/// what `warp pack` validates against ([`wasm_features`]); the runner adds
/// the pooling allocator, and `lang::ts`'s Wizer compiles with it too.
pub fn base_config() -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    if let Some(store) = cache::FunctionStore::open() {
        // Only fails when the compiler is disabled, which it is not.
        let _ = config.enable_incremental_compilation(store);
    }
    config
}

/// The WebAssembly features the runner's engines accept: this build's
/// Wasmtime defaults, narrowed by the Wasmtime crate features warp enables
/// (no `gc`, no `threads`). `warp pack` validates with these, so what packs
/// also loads.
pub fn wasm_features() -> Result<wasmparser::WasmFeatures> {
    static FEATURES: OnceLock<wasmparser::WasmFeatures> = OnceLock::new();
    if let Some(features) = FEATURES.get() {
        return Ok(*features);
    }
    // The allocator does not change the features, so a plain engine will do
    // (the pooling one reserves gigabytes of address space).
    let engine = Engine::new(&base_config())
        .map_err(|e| Diagnostic::env(format!("failed to create the Wasmtime engine: {e}")))?;
    Ok(*FEATURES.get_or_init(|| engine.get_wasm_features()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_wasmtime_version_is_the_one_in_the_lock_file() {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
        let version = lock
            .split("[[package]]")
            .find(|package| package.contains("\nname = \"wasmtime\"\n"))
            .and_then(|package| package.lines().find_map(|line| line.strip_prefix("version = \"")))
            .map(|version| version.trim_end_matches('"'))
            .unwrap();
        assert_eq!(version, super::WASMTIME_VERSION);
    }
}
