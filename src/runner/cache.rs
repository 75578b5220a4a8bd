//! Compiled components on disk, keyed by Wasmtime's compatibility hash and
//! the component's digest: a restart compiles nothing. After each write the
//! directory is trimmed to a size bound ([`max_bytes`]) by removing the
//! entries used least recently (a process that has one mapped keeps it).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::Result;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::Diagnostic;
use crate::size::ByteSize;

/// The bound on the compiled-code cache unless `WARP_CACHE_MAX_COMPILED`
/// sets another.
pub const DEFAULT_MAX_BYTES: u64 = 512 << 20;

/// The environment variable that bounds the compiled-code cache: bytes, or
/// a size such as `2GiB`.
pub const MAX_BYTES_VAR: &str = "WARP_CACHE_MAX_COMPILED";

/// The compiled-code cache: `$cache/compiled`.
pub fn dir() -> Result<PathBuf> {
    Ok(crate::fs::cache_root()?.join("compiled"))
}

/// The cache's size bound: `WARP_CACHE_MAX_COMPILED`, else [`DEFAULT_MAX_BYTES`].
pub fn max_bytes() -> Result<u64> {
    parse_max_bytes(std::env::var(MAX_BYTES_VAR).ok().as_deref())
}

fn parse_max_bytes(value: Option<&str>) -> Result<u64> {
    match value.filter(|v| !v.trim().is_empty()) {
        None => Ok(DEFAULT_MAX_BYTES),
        Some(text) => text.parse::<ByteSize>().map(|size| size.0).map_err(|e| {
            Diagnostic::env(format!("{MAX_BYTES_VAR} is not a size: {e}"))
                .help(format!("set {MAX_BYTES_VAR} to a byte count or a size such as `2GiB`, or unset it"))
                .into()
        }),
    }
}

fn entry(dir: &Path, engine: &Engine, sha256: &str) -> PathBuf {
    // `DefaultHasher::new()` has fixed keys, so this is stable across runs.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{:016x}-{sha256}.cwasm", hasher.finish()))
}

/// The compiled component, and whether it came from the cache.
pub fn component(engine: &Engine, bytes: &[u8], sha256: &str) -> Result<(Component, bool)> {
    let max_bytes = max_bytes()?;
    let dir = dir().ok();
    let path = dir.as_deref().map(|dir| entry(dir, engine, sha256));
    if let Some(path) = path.as_ref().filter(|p| p.is_file()) {
        // SAFETY: the file was written by `Component::serialize` of this
        // engine configuration (the compatibility hash is in its name) into
        // warp's own cache directory. Wasmtime checks the file's format and
        // the Wasmtime version and settings it was compiled with, so such a
        // mismatch fails here and is recompiled below. Damaged contents are
        // not detected: a corrupted file can crash the process when its code
        // runs (hardening this is a separate issue).
        if let Ok(component) = unsafe { Component::deserialize_file(engine, path) } {
            // A hit counts as a use: eviction removes the least recently used.
            let _ = std::fs::File::options()
                .write(true)
                .open(path)
                .and_then(|file| file.set_modified(std::time::SystemTime::now()));
            return Ok((component, true));
        }
    }
    let component = Component::new(engine, bytes)
        .map_err(|e| Diagnostic::env(format!("failed to compile the component: {e:#}")))?;
    if let (Some(dir), Some(path)) = (dir, path) {
        // Best effort: an unwritable cache only costs the next start time.
        if let Ok(serialized) = component.serialize()
            && crate::fs::write_atomic(&path, &serialized).is_ok()
        {
            crate::fs::evict_oldest(&dir, max_bytes, &[&path]);
        }
    }
    Ok((component, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_bytes_or_a_size() {
        assert_eq!(parse_max_bytes(None).unwrap(), DEFAULT_MAX_BYTES);
        assert_eq!(parse_max_bytes(Some("")).unwrap(), DEFAULT_MAX_BYTES);
        assert_eq!(parse_max_bytes(Some("1000000")).unwrap(), 1_000_000);
        assert_eq!(parse_max_bytes(Some("2GiB")).unwrap(), 2 << 30);
        let err = parse_max_bytes(Some("lots")).unwrap_err();
        assert!(err.to_string().contains("WARP_CACHE_MAX_COMPILED is not a size"), "{err}");
    }
}
