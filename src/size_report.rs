//! `warp size-check`'s data: measure artifacts (components or run
//! manifests), apply budgets, compare with a baseline, name what grew.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::component;
use crate::error::Diagnostic;
use crate::manifest::{self, Manifest};
use crate::size::{self, Breach, Budget, Contributor, Delta, Sizes};

/// One measured artifact.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub name: String,
    pub path: PathBuf,
    #[serde(flatten)]
    pub sizes: Sizes,
    pub budget: Budget,
    pub breaches: Vec<Breach>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<SizeDelta>,
    pub contributors: Vec<Contributor>,
    /// Contributors that grew against the baseline, most first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grew: Vec<Growth>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct SizeDelta {
    pub raw: Delta,
    pub gzip: Delta,
}

#[derive(Debug, Clone, Serialize)]
pub struct Growth {
    pub module: String,
    pub name: String,
    pub before: u64,
    pub after: u64,
}

/// A previous measurement to compare against.
#[derive(Debug, Clone, Deserialize)]
pub struct BaselineEntry {
    pub name: String,
    #[serde(flatten)]
    pub sizes: Sizes,
    #[serde(default)]
    pub contributors: Vec<Contributor>,
}

/// Budget given on the command line; each field overrides the artifact's own.
pub type BudgetOverride = Budget;

/// Measures one artifact: a component `.wasm` or a run manifest.
pub fn measure(path: &Path, overrides: BudgetOverride, top: usize) -> Result<Entry> {
    let (name, bytes, manifest) = load(path)?;
    let sizes = Sizes::of(&bytes);
    let default = manifest.as_ref().map_or(size::SMALL_COMPONENT_BUDGET, |m| m.budget);
    let budget = Budget {
        raw_bytes: overrides.raw_bytes.or(default.raw_bytes),
        gzip_bytes: overrides.gzip_bytes.or(default.gzip_bytes),
    };
    let mut contributors = match &manifest {
        Some(m) if !m.contributors.is_empty() => m.contributors.clone(),
        _ => size::contributors(&bytes, None)?,
    };
    contributors.truncate(top.max(1).max(size::MANIFEST_CONTRIBUTORS));
    Ok(Entry {
        name,
        path: path.to_path_buf(),
        sizes,
        budget,
        breaches: size::check_budget(sizes, budget),
        delta: None,
        contributors,
        grew: Vec::new(),
    })
}

/// Reads an artifact and, where there is one, its manifest.
fn load(path: &Path) -> Result<(String, Vec<u8>, Option<Manifest>)> {
    // The bound `warp run` reads components with: a device, a FIFO or a
    // huge sparse file is refused before anything is read, never waited on
    // or held in memory whole.
    let bytes = crate::fs::read_regular_file(path, manifest::MAX_COMPONENT_BYTES)
        .map_err(|e| Diagnostic::env(format!("failed to read `{}`: {e}", path.display())))?;
    let stem = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if !bytes.starts_with(b"\0asm") {
        if bytes.first() == Some(&b'{') {
            let manifest = Manifest::parse(&String::from_utf8_lossy(&bytes), path)?;
            check_component_path(&manifest, path)?;
            let component = manifest.read_component(path)?;
            let shown = manifest.component_path(path);
            check_is_component(&component, &shown)?;
            return Ok((manifest.name.clone(), component, Some(manifest)));
        }
        return Err(Diagnostic::check(format!(
            "`{}` is neither a WebAssembly binary nor a run manifest (it does not start with `\\0asm` or `{{`)",
            path.display()
        ))
        .into());
    }
    check_is_component(&bytes, path)?;
    let name = stem.strip_suffix(".wasm").unwrap_or(&stem).to_string();
    // A manifest beside the artifact carries its budget and contributor names.
    let beside = manifest::path_for(path);
    let manifest = Manifest::read(&beside).ok().filter(|m| m.component.sha256 == crate::fs::sha256_hex(&bytes));
    Ok((name, bytes, manifest))
}

/// The gate measures what `warp pack` ships and `warp run` serves: a valid
/// component. A core module would pass any budget while serving nothing.
fn check_is_component(bytes: &[u8], path: &Path) -> Result<()> {
    component::validate(bytes).map_err(|e| Diagnostic::check(format!("`{}` is corrupt: {e}", path.display())))?;
    if !wasmparser::Parser::is_component(bytes) {
        return Err(Diagnostic::check(format!(
            "`{}` is a core WebAssembly module, not a component: `warp run` cannot serve it",
            path.display()
        ))
        .help("check the component `warp pack` writes (`<name>.wasm` or its `<name>.warp.json`), not a module from the build")
        .into());
    }
    Ok(())
}

/// A manifest names the component beside it, as `warp pack` writes it: a
/// regular file inside the manifest's directory tree (symlinks resolved).
/// Anything else (`/etc/passwd` with its digest, `../other.wasm`, a device)
/// is refused before it is read, so the gate never reports on a file the
/// manifest had no business naming.
fn check_component_path(manifest: &Manifest, manifest_path: &Path) -> Result<()> {
    let named = manifest.component_path(manifest_path);
    let refuse = |why: &str| -> anyhow::Error {
        Diagnostic::check(format!(
            "`{}` names a component {why} (field `component.path`: `{}`)",
            manifest_path.display(),
            manifest.component.path
        ))
        .help("a manifest names the component beside it; re-run `warp pack` to write both")
        .into()
    };
    let base = manifest_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let base = base.canonicalize().map_err(|e| {
        Diagnostic::env(format!("failed to resolve the directory of `{}`: {e}", manifest_path.display()))
    })?;
    let resolved = match named.canonicalize() {
        Ok(resolved) => resolved,
        // Missing: `read_component` says so, naming the field (exit 2).
        Err(_) if !Path::new(&manifest.component.path).is_absolute() => return Ok(()),
        Err(_) => return Err(refuse("outside its directory")),
    };
    if !resolved.starts_with(&base) {
        return Err(refuse("outside its directory"));
    }
    if !std::fs::metadata(&resolved).is_ok_and(|m| m.is_file()) {
        return Err(refuse("that is not a regular file"));
    }
    Ok(())
}

/// Reads a baseline: a run manifest, a `size-check --json` report, or a `.wasm`.
pub fn read_baseline(path: &Path) -> Result<Vec<BaselineEntry>> {
    let bytes = crate::fs::read_regular_file(path, manifest::MAX_MANIFEST_BYTES)
        .map_err(|e| Diagnostic::env(format!("failed to read baseline `{}`: {e}", path.display())))?;
    if bytes.starts_with(b"\0asm") {
        let (name, bytes, _) = load(path)?;
        let contributors = size::contributors(&bytes, None)?;
        return Ok(vec![BaselineEntry { name, sizes: Sizes::of(&bytes), contributors }]);
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Diagnostic::env(format!("baseline `{}` is not JSON or wasm: {e}", path.display())))?;
    if let Some(artifacts) = value.get("artifacts") {
        return serde_json::from_value(artifacts.clone()).map_err(|e| {
            Diagnostic::env(format!("baseline `{}` is not a `warp size-check --json` report: {e}", path.display()))
                .into()
        });
    }
    let manifest = Manifest::parse(&String::from_utf8_lossy(&bytes), path)?;
    Ok(vec![BaselineEntry {
        name: manifest.name,
        sizes: manifest.component.sizes,
        contributors: manifest.contributors,
    }])
}

/// Fills in deltas and growth from the baseline. Entries match by name; a
/// single artifact against a single baseline matches whatever the names.
pub fn compare(entries: &mut [Entry], baseline: &[BaselineEntry]) {
    let by_name: BTreeMap<&str, &BaselineEntry> = baseline.iter().map(|b| (b.name.as_str(), b)).collect();
    let single = (entries.len() == 1 && baseline.len() == 1).then(|| &baseline[0]);
    for entry in entries.iter_mut() {
        let Some(before) = by_name.get(entry.name.as_str()).copied().or(single) else { continue };
        entry.delta = Some(SizeDelta {
            raw: Delta::between(before.sizes.raw_bytes, entry.sizes.raw_bytes),
            gzip: Delta::between(before.sizes.gzip_bytes, entry.sizes.gzip_bytes),
        });
        entry.grew = growth(&before.contributors, &entry.contributors);
    }
}

fn growth(before: &[Contributor], after: &[Contributor]) -> Vec<Growth> {
    let old: BTreeMap<(&str, &str), u64> =
        before.iter().map(|c| ((c.module.as_str(), c.name.as_str()), c.bytes)).collect();
    let mut grew: Vec<Growth> = after
        .iter()
        .filter_map(|c| {
            let previous = old.get(&(c.module.as_str(), c.name.as_str())).copied().unwrap_or(0);
            (c.bytes > previous).then(|| Growth {
                module: c.module.clone(),
                name: c.name.clone(),
                before: previous,
                after: c.bytes,
            })
        })
        .collect();
    grew.sort_by_key(|g| std::cmp::Reverse(g.after - g.before));
    grew.truncate(5);
    grew
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::size::ContributorKind;

    fn contributor(name: &str, bytes: u64) -> Contributor {
        Contributor { kind: ContributorKind::Function, module: "main".into(), name: name.into(), bytes }
    }

    #[test]
    fn growth_lists_new_and_larger_items() {
        let before = [contributor("a", 10), contributor("b", 50)];
        let after = [contributor("a", 30), contributor("b", 40), contributor("c", 5)];
        let grew = growth(&before, &after);
        let names: Vec<_> = grew.iter().map(|g| (g.name.as_str(), g.before, g.after)).collect();
        assert_eq!(names, [("a", 10, 30), ("c", 0, 5)]);
    }
}
