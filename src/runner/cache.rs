//! Compiled components on disk, keyed by Wasmtime's compatibility hash and
//! the component's digest: a restart compiles nothing.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use anyhow::Result;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::Diagnostic;

fn entry(engine: &Engine, sha256: &str) -> Option<PathBuf> {
    // `DefaultHasher::new()` has fixed keys, so this is stable across runs.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    Some(crate::fs::cache_root().ok()?.join("compiled").join(format!("{:016x}-{sha256}.cwasm", hasher.finish())))
}

/// The compiled component, and whether it came from the cache.
pub fn component(engine: &Engine, bytes: &[u8], sha256: &str) -> Result<(Component, bool)> {
    let path = entry(engine, sha256);
    if let Some(path) = path.as_ref().filter(|p| p.is_file()) {
        // SAFETY: the file was written by `Component::serialize` of this
        // engine configuration (the compatibility hash is in its name) into
        // warp's own cache directory; a damaged file fails to deserialize
        // and is recompiled below.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, path) } {
            return Ok((component, true));
        }
    }
    let component = Component::new(engine, bytes)
        .map_err(|e| Diagnostic::env(format!("failed to compile the component: {e:#}")))?;
    if let Some(path) = path {
        // Best effort: an unwritable cache only costs the next start time.
        if let Ok(serialized) = component.serialize() {
            let _ = crate::fs::write_atomic(&path, &serialized);
        }
    }
    Ok((component, false))
}
