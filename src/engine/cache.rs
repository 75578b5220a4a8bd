//! Compiled components on disk, keyed by Wasmtime's compatibility hash and
//! the component's digest: a restart compiles nothing. After each write the
//! directory is trimmed to a size bound ([`max_bytes`]) by removing the
//! entries used least recently (a process that has one mapped keeps it).
//!
//! Nothing on disk is trusted: each entry ends with a seal, the SHA-256 of
//! the component's digest and the compiled bytes ([`seal`]). An entry whose
//! seal does not match (damaged, or copied over from another component's
//! entry) is removed and the component compiled again; it is never
//! executed. The seal is not a signature: whoever can write the cache
//! directory can also forge it, as they could replace `warp` itself.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::Result;
use sha2::{Digest, Sha256};
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

/// What ends every entry after its seal: the format, for a later change.
const MAGIC: &[u8; 8] = b"warpcw01";

/// The bytes a seal takes at the end of an entry (digest and magic).
const SEAL_BYTES: usize = 32 + MAGIC.len();

/// The largest entry read back: compiled code is a few times its
/// component, and components are at most 256 MiB.
const MAX_ENTRY_BYTES: u64 = 2 << 30;

/// Cranelift's per-function cache (Wasmtime's incremental compilation):
/// `$cache/functions` ([`functions_dir`]). Two components that share most of their
/// code — every JS component embeds the same 10 MB engine, and each `warp
/// dev` rebuild of any language changes a few functions — compile only
/// what differs. Keys are Cranelift's (a digest of the function and the
/// compiler's settings). Each value is sealed like a compiled component
/// ([`seal`], with the key as its name): compiled code from the disk is
/// used only when the seal holds, and is compiled again otherwise.
/// Bounded by [`FUNCTION_CACHE_BYTES`].
#[derive(Debug)]
pub struct FunctionStore {
    dir: PathBuf,
}

/// At most this much of compiled functions is kept (least recently written first out).
pub const FUNCTION_CACHE_BYTES: u64 = 256 << 20;

impl FunctionStore {
    /// The store, or `None` when warp has no cache directory.
    pub fn open() -> Option<std::sync::Arc<dyn wasmtime::CacheStore>> {
        // Wasmtime's version names the directory: values are Cranelift's own format.
        let dir = functions_dir().ok()?.join(format!("wasmtime-{}", crate::engine::WASMTIME_VERSION));
        std::fs::create_dir_all(&dir).ok()?;
        Some(std::sync::Arc::new(FunctionStore { dir }))
    }

    /// The key in hex (the entry's name, and what its seal names).
    fn name(key: &[u8]) -> String {
        key.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// Removes the oldest entries beyond [`FUNCTION_CACHE_BYTES`].
    pub fn trim() {
        if let Ok(dir) = functions_dir() {
            for versions in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                crate::fs::evict_oldest(&versions.path(), FUNCTION_CACHE_BYTES, &[]);
            }
        }
    }
}

impl wasmtime::CacheStore for FunctionStore {
    fn get(&self, key: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
        let name = FunctionStore::name(key);
        // Never `std::fs::read`: a FIFO or device planted under the name
        // would block the compile (and the start-up) for ever.
        let entry = crate::fs::read_regular_file(&self.dir.join(&name), MAX_ENTRY_BYTES).ok()?;
        unseal(&entry, &name).map(|code| std::borrow::Cow::Owned(code.to_vec()))
    }

    fn insert(&self, key: &[u8], mut value: Vec<u8>) -> bool {
        let name = FunctionStore::name(key);
        let seal = seal(&name, &value);
        value.extend_from_slice(&seal);
        value.extend_from_slice(MAGIC);
        crate::fs::write_atomic(&self.dir.join(name), &value).is_ok()
    }
}

/// Cranelift's per-function cache: `$cache/functions`.
pub fn functions_dir() -> Result<PathBuf> {
    crate::fs::CacheArea::Functions.dir()
}

/// The compiled-code cache: `$cache/compiled`.
pub fn dir() -> Result<PathBuf> {
    crate::fs::CacheArea::Compiled.dir()
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

/// What the cache holds: Wasmtime's compiled components (`warp run`) and
/// core modules (the JS path's Wizer, `lang::ts::wizer`).
pub trait Compiled: Sized {
    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;
    fn serialize(&self) -> wasmtime::Result<Vec<u8>>;
    /// # Safety
    /// As `Component::deserialize`: `code` must be what `serialize` wrote.
    unsafe fn deserialize(engine: &Engine, code: &[u8]) -> wasmtime::Result<Self>;
}

impl Compiled for Component {
    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        Component::new(engine, bytes)
    }
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Component::serialize(self)
    }
    unsafe fn deserialize(engine: &Engine, code: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: the caller's promise.
        unsafe { Component::deserialize(engine, code) }
    }
}

impl Compiled for wasmtime::Module {
    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        wasmtime::Module::new(engine, bytes)
    }
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        wasmtime::Module::serialize(self)
    }
    unsafe fn deserialize(engine: &Engine, code: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: the caller's promise.
        unsafe { wasmtime::Module::deserialize(engine, code) }
    }
}

/// The compiled component, and whether it came from the cache.
pub fn component(engine: &Engine, bytes: &[u8], sha256: &str) -> Result<(Component, bool)> {
    compiled(engine, bytes, sha256)
}

/// The compiled core module (whether it came from the cache is not asked).
pub fn module(engine: &Engine, bytes: &[u8], sha256: &str) -> Result<wasmtime::Module> {
    compiled(engine, bytes, sha256).map(|(module, _)| module)
}

/// `bytes` (with digest `sha256`) compiled, from the cache when it holds
/// them sealed; and whether it did.
fn compiled<T: Compiled>(engine: &Engine, bytes: &[u8], sha256: &str) -> Result<(T, bool)> {
    let max_bytes = max_bytes()?;
    let dir = dir().ok();
    let path = dir.as_deref().map(|dir| entry(dir, engine, sha256));
    if let Some(path) = path.as_ref().filter(|p| p.is_file()) {
        let cached = crate::fs::read_regular_file(path, MAX_ENTRY_BYTES).ok();
        // SAFETY: the seal proves these are the bytes `Component::serialize`
        // wrote for this component (its digest is sealed in) into warp's
        // own cache directory, under a name carrying this engine
        // configuration's compatibility hash; Wasmtime checks the format,
        // its version and settings as well, and such a mismatch is
        // recompiled below. Damaged or swapped bytes fail the seal and are
        // never deserialized.
        let component = cached
            .as_deref()
            .and_then(|cached| unseal(cached, sha256))
            .and_then(|code| unsafe { T::deserialize(engine, code) }.ok());
        match component {
            Some(component) => {
                // A hit counts as a use: eviction removes the least recently used.
                use std::os::unix::fs::OpenOptionsExt;
                let _ = std::fs::File::options()
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(path)
                    .and_then(|file| file.set_modified(std::time::SystemTime::now()));
                return Ok((component, true));
            }
            // Replaced below; removed first in case the new one cannot be written.
            None => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    let component =
        T::compile(engine, bytes).map_err(|e| Diagnostic::env(format!("failed to compile the component: {e:#}")))?;
    if let (Some(dir), Some(path)) = (dir, path) {
        // Best effort: an unwritable cache only costs the next start time.
        if let Ok(mut serialized) = component.serialize() {
            let seal = seal(sha256, &serialized);
            serialized.extend_from_slice(&seal);
            serialized.extend_from_slice(MAGIC);
            if crate::fs::write_atomic(&path, &serialized).is_ok() {
                crate::fs::evict_oldest(&dir, max_bytes, &[&path]);
            }
            FunctionStore::trim();
        }
    }
    Ok((component, false))
}

/// The seal of compiled `code` for the component with digest `sha256`
/// (or, in the [`FunctionStore`], the function with that key).
fn seal(sha256: &str, code: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"warp compiled component\0");
    hasher.update(sha256.as_bytes());
    hasher.update(b"\0");
    hasher.update(code);
    hasher.finalize().into()
}

/// The compiled code in `entry` when its seal is that of the component
/// with digest `sha256`; `None` for anything else.
fn unseal<'a>(entry: &'a [u8], sha256: &str) -> Option<&'a [u8]> {
    let split = entry.len().checked_sub(SEAL_BYTES)?;
    let (code, tail) = entry.split_at(split);
    let (stored, magic) = tail.split_at(32);
    (magic == MAGIC && stored == seal(sha256, code)).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_used_only_with_the_seal_of_its_own_component() {
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let sealed = |sha256: &str, code: &[u8]| [code, &seal(sha256, code), MAGIC].concat();
        let entry = sealed(&a, b"compiled code");
        assert_eq!(unseal(&entry, &a), Some(&b"compiled code"[..]));
        // Another component's entry copied over this one's.
        assert_eq!(unseal(&sealed(&b, b"compiled code"), &a), None);
        // A damaged byte anywhere, a cut-off file, an entry without a seal.
        for at in [0, 5, entry.len() - 20, entry.len() - 1] {
            let mut damaged = entry.clone();
            damaged[at] ^= 1;
            assert_eq!(unseal(&damaged, &a), None, "byte {at}");
        }
        assert_eq!(unseal(&entry[..entry.len() - 1], &a), None);
        assert_eq!(unseal(b"short", &a), None);
        assert_eq!(unseal(b"", &a), None);
    }

    #[test]
    fn a_compiled_function_is_returned_only_under_its_own_seal() {
        use wasmtime::CacheStore;
        let temp = tempfile::tempdir().unwrap();
        let store = FunctionStore { dir: temp.path().to_path_buf() };
        assert!(store.get(b"key").is_none());
        assert!(store.insert(b"key", b"function".to_vec()));
        assert_eq!(store.get(b"key").as_deref(), Some(&b"function"[..]));
        // Another key's value copied over this one's, and a damaged one: not used.
        assert!(store.insert(b"other", b"function".to_vec()));
        let name = FunctionStore::name(b"key");
        std::fs::copy(temp.path().join(FunctionStore::name(b"other")), temp.path().join(&name)).unwrap();
        assert!(store.get(b"key").is_none());
        std::fs::write(temp.path().join(&name), b"function").unwrap();
        assert!(store.get(b"key").is_none());
    }

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
