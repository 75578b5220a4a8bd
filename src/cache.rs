//! What warp keeps in its cache directory (`$WARP_CACHE_DIR`, else
//! `~/.cache/warp`), area by area, for `warp cache` and `warp doctor`.
//!
//! Each area belongs to the module that fills it; this one only names them,
//! measures them and clears them.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::error::Diagnostic;

/// One area of the cache.
#[derive(Debug, Clone, Serialize)]
pub struct Area {
    pub name: &'static str,
    pub what: &'static str,
    pub dir: PathBuf,
    pub bytes: u64,
    /// Clearing it can lose work that exists nowhere else (unexported
    /// commits in a toolchain's work tree), so only `--all` clears it.
    pub holds_work: bool,
}

type Locate = fn() -> Result<PathBuf>;

/// (name, where its owner keeps it, what it holds, whether it holds work).
const AREAS: &[(&str, Locate, &str, bool)] = &[
    (
        "compiled",
        crate::runner::cache::dir,
        "compiled components of `warp run` (bounded; least recently used evicted first)",
        false,
    ),
    (
        "functions",
        crate::runner::cache::functions_dir,
        "Cranelift's compiled functions, shared by components that share code (bounded)",
        false,
    ),
    (
        "js",
        crate::lang::ts::toolchains_dir,
        "the JS toolchain (ComponentizeJS, esbuild) of `warp toolchain install js`",
        false,
    ),
    ("embedded", crate::assets::cache_dir, "recipes and patch series unpacked from this binary", false),
    (
        "toolchain-builds",
        crate::fork::build::builds_dir,
        "outputs of `warp toolchain build` (e.g. the wasi-libc sysroot)",
        false,
    ),
    ("toolchains", crate::fork::work_root, "toolchain work trees: upstream + patch series as git commits", true),
];

/// Every area, measured.
pub fn areas() -> Result<Vec<Area>> {
    AREAS
        .iter()
        .map(|(name, locate, what, holds_work)| {
            let dir = locate()?;
            Ok(Area { name, what, bytes: crate::fs::dir_size(&dir), dir, holds_work: *holds_work })
        })
        .collect()
}

/// The names `warp cache clear` accepts.
pub fn names() -> Vec<&'static str> {
    AREAS.iter().map(|(name, ..)| *name).collect()
}

/// Removes the named areas (all of them with `all`; without names, those
/// that hold no work). Returns the areas cleared, as they were.
pub fn clear(names: &[String], all: bool) -> Result<Vec<Area>> {
    for name in names {
        if !AREAS.iter().any(|(known, ..)| known == name) {
            return Err(Diagnostic::env(format!("unknown cache area `{name}`"))
                .help(format!("areas: {}", self::names().join(", ")))
                .into());
        }
    }
    let chosen: Vec<Area> = areas()?
        .into_iter()
        .filter(|area| if names.is_empty() { all || !area.holds_work } else { names.iter().any(|n| n == area.name) })
        .collect();
    for area in &chosen {
        match std::fs::remove_dir_all(&area.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("failed to remove `{}`", area.dir.display()))?
            }
            _ => {}
        }
    }
    Ok(chosen)
}
