//! What travels inside the binary: toolchain recipes and patch series,
//! the shim WIT, the guest SDKs and the `warp new` templates, embedded at
//! build time by `build.rs` from the repository's own directories.
//!
//! Code that needs them as files (a recipe's patch series, which git
//! applies from disk) unpacks them into warp's cache, under a directory
//! named by the digest of everything embedded, so two warp versions never
//! share (or half-overwrite) one copy.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The embedded files under `dir` (e.g. `templates/rust-http`), with their
/// paths relative to it.
pub fn under(dir: &str) -> impl Iterator<Item = (&'static str, &'static [u8])> + '_ {
    FILES.iter().filter_map(move |(path, bytes)| {
        let rest = path.strip_prefix(dir)?.strip_prefix('/')?;
        Some((rest, *bytes))
    })
}

/// One embedded file, by its path in the repository.
pub fn file(path: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, bytes)| *bytes)
}

/// The digest of every embedded path and its contents.
pub fn digest() -> &'static str {
    static DIGEST: OnceLock<String> = OnceLock::new();
    DIGEST.get_or_init(|| {
        let mut all = Vec::new();
        for (path, bytes) in FILES {
            all.extend_from_slice(path.as_bytes());
            all.push(0);
            all.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            all.extend_from_slice(bytes);
        }
        crate::fs::sha256_hex(&all)
    })
}

/// The directories that code needs as files: recipes and their series,
/// the WIT that wit-parser reads as a directory, and the guest SDKs that
/// builds reference by path (the Go bridge).
const UNPACKED: &[&str] = &["toolchains", "patches", "wit", "sdk"];

/// The embedded recipes, patch series, WIT and SDKs as files in warp's cache; returns
/// the directory that holds them, laid out as in the repository.
pub fn unpacked() -> Result<PathBuf> {
    unpack_into(&cache_dir()?)
}

/// Where unpacked copies live, one directory per digest.
pub fn cache_dir() -> Result<PathBuf> {
    crate::fs::CacheArea::Embedded.dir()
}

/// Writes [`UNPACKED`] once per digest under `root`: into a temporary
/// directory, then renamed into place, so a reader never sees a partial copy.
fn unpack_into(root: &Path) -> Result<PathBuf> {
    let dest = root.join(&digest()[..16]);
    if dest.join(".complete").is_file() {
        return Ok(dest);
    }
    std::fs::create_dir_all(root).with_context(|| format!("failed to create `{}`", root.display()))?;
    let temp = tempfile::Builder::new()
        .prefix(".unpack-")
        .tempdir_in(root)
        .with_context(|| format!("failed to create a temporary directory in `{}`", root.display()))?;
    for dir in UNPACKED {
        for (relative, bytes) in under(dir) {
            write(&temp.path().join(dir).join(relative), bytes)?;
        }
    }
    write(&temp.path().join(".complete"), digest().as_bytes())?;
    match std::fs::rename(temp.path(), &dest) {
        Ok(()) => {
            // The directory now lives at `dest`; nothing is left to delete.
            let _ = temp.keep();
            Ok(dest)
        }
        // Another warp unpacked the same digest first: theirs is identical.
        Err(_) if dest.join(".complete").is_file() => Ok(dest),
        Err(e) => Err(e).with_context(|| format!("failed to move the unpacked files to `{}`", dest.display())),
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("failed to create `{}`", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("failed to write `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_directories_are_embedded() {
        for needed in
            ["toolchains/wasi-libc.toml", "patches/wasi-libc/UPSTREAM_REF", "wit/shim.wit", "sdk/rust/Cargo.toml"]
        {
            assert!(file(needed).is_some(), "{needed} is not embedded");
        }
        assert!(FILES.iter().all(|(path, _)| !path.contains("/target/")), "build outputs are embedded");
        let on_disk = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/wit/shim.wit")).unwrap();
        assert_eq!(file("wit/shim.wit").unwrap(), on_disk);
    }

    #[test]
    fn unpacking_writes_each_digest_once() {
        let cache = tempfile::tempdir().unwrap();
        let first = unpack_into(cache.path()).unwrap();
        assert!(first.join("toolchains/wasi-libc.toml").is_file());
        assert!(first.join("patches/wasi-libc/UPSTREAM_REF").is_file());
        std::fs::write(first.join("toolchains/marker"), "").unwrap();
        assert_eq!(unpack_into(cache.path()).unwrap(), first);
        assert!(first.join("toolchains/marker").is_file(), "a complete copy is not written again");
        let entries = std::fs::read_dir(cache.path()).unwrap().count();
        assert_eq!(entries, 1, "no temporary directory is left behind");
    }
}
