//! What warp keeps in its cache directory (`$WARP_CACHE_DIR`, else
//! `~/.cache/warp`), area by area, for `warp cache` and `warp doctor`.
//!
//! Each area belongs to the module that fills it, which asks
//! [`CacheArea::dir`] for its directory; this one only measures and clears
//! them.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::error::Diagnostic;
use crate::fs::CacheArea;

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

/// Every area, measured.
pub fn areas() -> Result<Vec<Area>> {
    CacheArea::ALL
        .iter()
        .map(|area| {
            let dir = area.dir()?;
            Ok(Area {
                name: area.name(),
                what: area.what(),
                bytes: crate::fs::dir_size(&dir),
                dir,
                holds_work: area.holds_work(),
            })
        })
        .collect()
}

/// The names `warp cache clear` accepts.
pub fn names() -> Vec<&'static str> {
    CacheArea::ALL.iter().map(|area| area.name()).collect()
}

/// Removes the named areas (all of them with `all`; without names, those
/// that hold no work). Returns the areas cleared, as they were.
pub fn clear(names: &[String], all: bool) -> Result<Vec<Area>> {
    for name in names {
        if !CacheArea::ALL.iter().any(|known| known.name() == name) {
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
