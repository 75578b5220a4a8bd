//! The run manifest: versioned JSON that `warp pack` writes beside the
//! component, and that `warp run`, `warp size-check` and WarpGrid read.
//!
//! Paths in a manifest are relative to the manifest's directory and nothing
//! in it depends on when or where it was written, so packing the same
//! source twice gives the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::error::Diagnostic;
use crate::fs::sha256_hex;
use crate::project::{Dir, DirMode, Http, Lang, Limits, ShimConfig, World};
use crate::size::{Budget, Contributor, Sizes};

/// The schema version this `warp` writes and the newest it reads.
pub const SCHEMA: u32 = 1;

/// The file name of a component's manifest: `hello.wasm` → `hello.warp.json`.
pub fn path_for(component: &Path) -> PathBuf {
    component.with_extension("warp.json")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: u32,
    pub name: String,
    pub component: ComponentInfo,
    pub toolchain: BTreeMap<String, String>,
    pub budget: Budget,
    #[serde(default)]
    pub shims: ShimConfig,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Http>,
    /// Preopened directories: guest path → host directory, relative to the
    /// manifest's directory, read-only unless its mode is `rw`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dirs: BTreeMap<String, Dir>,
    /// The largest items in the component, named from before the `name`
    /// section was stripped.
    #[serde(default)]
    pub contributors: Vec<Contributor>,
}

/// A host directory as the guest sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    pub host: PathBuf,
    pub guest: String,
    pub mode: DirMode,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentInfo {
    /// Relative to the manifest's directory.
    pub path: String,
    pub sha256: String,
    #[serde(flatten)]
    pub sizes: Sizes,
    pub world: World,
    pub language: Lang,
    pub exports: Vec<String>,
    pub imports: Vec<String>,
}

impl Manifest {
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("manifest serializes");
        text.push('\n');
        text
    }

    /// Reads and checks a manifest: schema version first (so a newer
    /// manifest gets a clear message rather than a field error), then shape.
    pub fn read(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Diagnostic::env(format!("failed to read manifest `{}`: {e}", path.display())))?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Diagnostic::env(format!("`{}` is not a run manifest: invalid JSON: {e}", path.display())))?;
        match value.get("schema").and_then(serde_json::Value::as_u64) {
            Some(0) => {
                return Err(Diagnostic::env(format!(
                    "`{}` has schema version 0; run manifest versions start at 1 (field `schema`)",
                    path.display()
                ))
                .help("re-run `warp pack` to write a current manifest")
                .into());
            }
            Some(version) if version > u64::from(SCHEMA) => {
                return Err(Diagnostic::env(format!(
                    "`{}` has schema version {version}, newer than the {SCHEMA} this warp reads",
                    path.display()
                ))
                .help("upgrade warp, or re-run `warp pack` with this version")
                .into());
            }
            Some(_) => {}
            None => {
                return Err(Diagnostic::env(format!(
                    "`{}` is not a run manifest: field `schema` is missing",
                    path.display()
                ))
                .into());
            }
        }
        let manifest: Manifest = serde_json::from_value(value)
            .map_err(|e| Diagnostic::env(format!("invalid run manifest `{}`: {e}", path.display())))?;
        manifest
            .limits
            .check()
            .map_err(|e| Diagnostic::env(format!("invalid run manifest `{}`: {e}", path.display())))?;
        Ok(manifest)
    }

    /// The component's path, resolved against the manifest's location.
    pub fn component_path(&self, manifest_path: &Path) -> PathBuf {
        manifest_path.parent().unwrap_or(Path::new(".")).join(&self.component.path)
    }

    /// The preopened directories; each must exist.
    pub fn preopens(&self, manifest_path: &Path) -> Result<Vec<Preopen>> {
        let base = manifest_path.parent().unwrap_or(Path::new("."));
        let mut preopens = Vec::with_capacity(self.dirs.len());
        for (guest, dir) in &self.dirs {
            let path = base.join(&dir.path);
            if !path.is_dir() {
                return Err(Diagnostic::env(format!(
                    "`{}` preopens `{}` as `{guest}` (field `dirs.\"{guest}\"`), but it is not a directory",
                    manifest_path.display(),
                    path.display()
                ))
                .help("create the directory, or re-run `warp pack` after fixing `[dirs]` in warp.toml")
                .into());
            }
            preopens.push(Preopen { host: path, guest: guest.clone(), mode: dir.mode });
        }
        Ok(preopens)
    }

    /// Reads the component and checks it is the one the manifest describes.
    pub fn read_component(&self, manifest_path: &Path) -> Result<Vec<u8>> {
        let path = self.component_path(manifest_path);
        let bytes = std::fs::read(&path).map_err(|e| {
            Diagnostic::env(format!(
                "failed to read component `{}` named by `{}` (field `component.path`): {e}",
                path.display(),
                manifest_path.display()
            ))
        })?;
        let digest = sha256_hex(&bytes);
        if digest != self.component.sha256 {
            return Err(Diagnostic::env(format!(
                "`{}` does not match its manifest `{}`: field `component.sha256` is {}, the file's is {digest}",
                path.display(),
                manifest_path.display(),
                self.component.sha256
            ))
            .help("the component changed after packing; re-run `warp pack`")
            .into());
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            schema: SCHEMA,
            name: "hello".into(),
            component: ComponentInfo {
                path: "hello.wasm".into(),
                sha256: sha256_hex(b"x"),
                sizes: Sizes { raw_bytes: 1, gzip_bytes: 21 },
                world: World::Http,
                language: Lang::Rust,
                exports: vec!["wasi:http/incoming-handler@0.2.12".into()],
                imports: vec![],
            },
            toolchain: BTreeMap::from([("warp".into(), "0.1.0".into())]),
            budget: Budget { raw_bytes: Some(300_000), gzip_bytes: Some(120_000) },
            shims: ShimConfig::default(),
            env: BTreeMap::new(),
            limits: Limits::default(),
            http: Some(Http::default()),
            dirs: BTreeMap::new(),
            contributors: vec![],
        }
    }

    #[test]
    fn round_trips() {
        let manifest = sample();
        let parsed = Manifest::parse(&manifest.to_json(), Path::new("m.json")).unwrap();
        assert_eq!(parsed, manifest);
    }

    #[test]
    fn schema_zero_and_out_of_range_limits_are_refused() {
        let mut value: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        value["schema"] = 0.into();
        let err = Manifest::parse(&value.to_string(), Path::new("m.json")).unwrap_err();
        assert!(err.to_string().contains("schema version 0"), "{err}");
        value["schema"] = (u64::from(u32::MAX) + 1).into();
        let err = Manifest::parse(&value.to_string(), Path::new("m.json")).unwrap_err();
        assert!(err.to_string().contains("newer than"), "{err}");
        value["schema"] = 1.into();
        value["limits"] = serde_json::json!({ "memory": 64 });
        let err = Manifest::parse(&value.to_string(), Path::new("m.json")).unwrap_err();
        assert!(err.to_string().contains("`limits.memory`"), "{err}");
        value["limits"] = serde_json::json!({ "request_timeout": "184467440737095517s" });
        let err = Manifest::parse(&value.to_string(), Path::new("m.json")).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }

    #[test]
    fn newer_schema_is_rejected_by_version() {
        let mut value: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        value["schema"] = 2.into();
        value["something_new"] = true.into();
        let err = Manifest::parse(&value.to_string(), Path::new("m.json")).unwrap_err();
        assert!(err.to_string().contains("schema version 2"), "{err}");
    }

    #[test]
    fn unknown_shim_is_rejected_by_name() {
        let mut value: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        value["shims"] = serde_json::json!({ "teleport": true });
        let err = Manifest::parse(&value.to_string(), Path::new("m.json")).unwrap_err();
        assert!(err.to_string().contains("teleport"), "{err}");
    }
}
