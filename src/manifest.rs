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

/// The largest run manifest read: those `warp pack` writes are a few
/// kilobytes; a bigger file is a mistake or an attack on memory.
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// The largest component read: ComponentizeJS's engine, the biggest guests
/// warp makes, is about 11 MB.
pub const MAX_COMPONENT_BYTES: u64 = 256 << 20;

/// Where a manifest's component may be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Placement {
    /// A regular file in the manifest's directory or below, after symlinks
    /// are resolved (where `warp pack` writes it).
    #[default]
    InsideTree,
    /// Any regular file: the user allowed it (`warp run --allow-component-outside`).
    Anywhere,
}

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
    /// Only a regular file of at most [`MAX_MANIFEST_BYTES`] is read: a FIFO
    /// or device is refused at once, never waited on.
    pub fn read(path: &Path) -> Result<Manifest> {
        let bytes = crate::fs::read_regular_file(path, MAX_MANIFEST_BYTES).map_err(|e| {
            Diagnostic::env(format!("failed to read manifest `{}`: {e}", path.display()))
                .help("name the `NAME.warp.json` file that `warp pack` wrote")
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Diagnostic::env(format!("`{}` is not a run manifest: it is not UTF-8 text", path.display()))
        })?;
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
        let invalid = |e: String| Diagnostic::env(format!("invalid run manifest `{}`: {e}", path.display()));
        manifest.limits.check().map_err(invalid)?;
        if let Some(http) = &manifest.http {
            http.check().map_err(invalid)?;
        }
        Ok(manifest)
    }

    /// The component's path, resolved against the manifest's location.
    pub fn component_path(&self, manifest_path: &Path) -> PathBuf {
        manifest_path.parent().unwrap_or(Path::new(".")).join(&self.component.path)
    }

    /// The preopened directories, each checked against the rules every
    /// load applies ([`confine`]): a manifest edited after `warp pack`
    /// gets no more than pack would have given it.
    pub fn preopens(&self, manifest_path: &Path) -> Result<Vec<Preopen>> {
        let base = manifest_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut resolved = Vec::with_capacity(self.dirs.len());
        for (guest, dir) in &self.dirs {
            let path = base.join(&dir.path);
            let Some(real) = path.canonicalize().ok().filter(|p| p.is_dir()) else {
                return Err(Diagnostic::env(format!(
                    "`{}` preopens `{}` as `{guest}` (field `dirs.\"{guest}\"`), but it is not a directory",
                    manifest_path.display(),
                    path.display()
                ))
                .help("create the directory, or re-run `warp pack` after fixing `[dirs]` in warp.toml")
                .into());
            };
            resolved.push((guest.clone(), dir.clone(), real));
        }
        let confinement = Confinement::around(manifest_path, &self.component_path(manifest_path))?;
        confine(&resolved, &confinement).map_err(|refused| {
            let field = format!("`{}` field `dirs.\"{}\"`", manifest_path.display(), refused.guest);
            refused.diagnostic(&field, "then re-run `warp pack`")
        })?;
        Ok(resolved.into_iter().map(|(guest, dir, host)| Preopen { host, guest, mode: dir.mode }).collect())
    }

    /// Reads the component, which must be inside the manifest's tree, and
    /// checks it is the one the manifest describes.
    pub fn read_component(&self, manifest_path: &Path) -> Result<Vec<u8>> {
        self.read_component_placed(manifest_path, Placement::InsideTree)
    }

    /// Reads the component from where `placement` allows: a regular file of
    /// at most [`MAX_COMPONENT_BYTES`]. It is checked against
    /// `component.sha256`; a mismatch does not print the file's digest
    /// (the file may be one the manifest had no business naming).
    pub fn read_component_placed(&self, manifest_path: &Path, placement: Placement) -> Result<Vec<u8>> {
        let path = self.component_path(manifest_path);
        let failed = |e: &dyn std::fmt::Display| {
            Diagnostic::env(format!(
                "failed to read component `{}` named by `{}` (field `component.path`): {e}",
                path.display(),
                manifest_path.display()
            ))
        };
        if placement == Placement::InsideTree {
            let base = manifest_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let base = base.canonicalize().map_err(|e| failed(&e))?;
            let real = path.canonicalize().map_err(|e| failed(&e))?;
            if !real.starts_with(&base) {
                return Err(Diagnostic::env(format!(
                    "`{}` names a component outside its directory (field `component.path`): `{}`",
                    manifest_path.display(),
                    self.component.path
                ))
                .help(
                    "keep the component in the manifest's directory or below (where `warp pack` writes it), \
                     or pass `--allow-component-outside` to `warp run` if you trust this manifest",
                )
                .into());
            }
        }
        let bytes = crate::fs::read_regular_file(&path, MAX_COMPONENT_BYTES).map_err(|e| failed(&e))?;
        if sha256_hex(&bytes) != self.component.sha256 {
            return Err(Diagnostic::env(format!(
                "`{}` does not match its manifest `{}`: the file's sha256 differs from field `component.sha256` ({})",
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

/// Files that mark a project's root, in every language warp packs:
/// `warp run` takes the nearest directory at or above a manifest that
/// holds one as the project whose `[dirs]` the manifest may preopen.
pub const PROJECT_MARKERS: [&str; 7] =
    ["warp.toml", "Cargo.toml", "go.mod", "package.json", "bunfig.toml", "main.c", "src/main.c"];

/// The project a manifest in `dir` belongs to, as `warp run` sees it: the
/// nearest directory at or above `dir` (canonical) that holds one of
/// [`PROJECT_MARKERS`]; `dir` itself when there is none, or when the only
/// one is the filesystem's root (which would let a manifest preopen the
/// whole host). Where the manifest says nothing of its project, its place
/// on disk does.
pub fn project_around(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|candidate| PROJECT_MARKERS.iter().any(|marker| candidate.join(marker).is_file()))
        .filter(|root| root.parent().is_some())
        .unwrap_or(dir)
        .to_path_buf()
}

/// What a preopened directory may reach: one set of rules, applied by
/// `warp pack` before it writes a manifest and by `warp run` at every
/// load and reload.
#[derive(Debug, Clone)]
pub struct Confinement {
    /// The project: a directory outside it needs the entry's
    /// `outside_project = true`.
    pub root: PathBuf,
    /// What warp runs or writes: no read-write preopen may hold one of
    /// these, `outside_project` or not (a guest that could rewrite its
    /// manifest would grant itself anything on the next load).
    pub protected: Vec<Protected>,
}

/// A path warp keeps from read-write preopens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    pub path: PathBuf,
    /// What it is, for the error.
    pub what: &'static str,
    /// A cache: a preopen inside it is refused too, not only one that holds it.
    pub inside_too: bool,
}

impl Confinement {
    /// The rules for the manifest at `manifest_path` and its component:
    /// the project around the manifest; the manifest's directory (warp's
    /// output), the component's, the pack reuse cache beside them and
    /// warp's cache protected.
    pub fn around(manifest_path: &Path, component_path: &Path) -> Result<Confinement> {
        let dir = manifest_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let dir =
            dir.canonicalize().map_err(|e| Diagnostic::env(format!("failed to resolve `{}`: {e}", dir.display())))?;
        let real = |path: PathBuf| path.canonicalize().unwrap_or(path);
        let mut protected = vec![
            Protected { path: dir.clone(), what: "the run manifest", inside_too: false },
            Protected { path: real(dir.join(".cache")), what: "warp pack's reuse cache", inside_too: true },
        ];
        if let Some(parent) = component_path.parent().and_then(|p| p.canonicalize().ok()) {
            protected.push(Protected { path: parent, what: "the component", inside_too: false });
        }
        if let Ok(cache) = crate::fs::cache_root() {
            protected.push(Protected { path: real(cache), what: "warp's cache", inside_too: true });
        }
        Ok(Confinement { root: project_around(&dir), protected })
    }
}

/// Why a preopen was refused, and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirRefused {
    pub guest: String,
    pub host: PathBuf,
    pub reason: DirRefusal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirRefusal {
    /// Outside the project, without `outside_project = true`.
    OutsideProject { root: PathBuf, path: String, rw: bool },
    /// Read-write, and holding (or inside) something warp protects.
    HoldsProtected { what: &'static str, path: PathBuf },
    /// Read-write, and holding another preopen: the guest could swap that
    /// one's directory for a symlink before the next request opens it.
    HoldsPreopen { other: String },
}

impl DirRefused {
    /// The error for people: `field` says where the entry is, `then` what
    /// to do after fixing it.
    pub fn diagnostic(&self, field: &str, then: &str) -> anyhow::Error {
        let (guest, host) = (&self.guest, self.host.display());
        let diagnostic = match &self.reason {
            DirRefusal::OutsideProject { root, path, rw } => {
                let mode = if *rw { ", mode = \"rw\"" } else { "" };
                Diagnostic::env(format!(
                    "`{host}` is outside the project `{}` ({field}): the guest would see the host's files",
                    root.display()
                ))
                .help(format!(
                    "map a directory inside the project, or opt in explicitly in warp.toml: \
                     `\"{guest}\" = {{ path = \"{path}\"{mode}, outside_project = true }}`, {then}"
                ))
            }
            DirRefusal::HoldsProtected { what, path } => Diagnostic::env(format!(
                "`{host}` is preopened read-write ({field}) but it reaches `{}` ({what}): \
                 the guest could rewrite what warp runs",
                path.display()
            ))
            .help(format!(
                "make it read-only, or map a directory that holds data only (`outside_project` does not lift this), {then}"
            )),
            DirRefusal::HoldsPreopen { other } => Diagnostic::env(format!(
                "`{host}` is preopened read-write ({field}) and holds the directory preopened as `{other}`: \
                 the guest could replace that one with a symlink"
            ))
            .help(format!("map directories that do not nest inside a read-write one, {then}")),
        };
        diagnostic.into()
    }
}

/// Applies `confinement` to preopens already resolved (guest path, entry,
/// canonical host directory): the first that breaks a rule is refused.
pub fn confine(preopens: &[(String, Dir, PathBuf)], confinement: &Confinement) -> Result<(), DirRefused> {
    for (guest, dir, host) in preopens {
        let refuse = |reason| DirRefused { guest: guest.clone(), host: host.clone(), reason };
        if !dir.outside_project && !host.starts_with(&confinement.root) {
            return Err(refuse(DirRefusal::OutsideProject {
                root: confinement.root.clone(),
                path: dir.path.clone(),
                rw: dir.mode == DirMode::Rw,
            }));
        }
        if dir.mode != DirMode::Rw {
            continue;
        }
        let reaches = |p: &&Protected| p.path.starts_with(host) || (p.inside_too && host.starts_with(&p.path));
        if let Some(Protected { path, what, .. }) = confinement.protected.iter().find(reaches) {
            return Err(refuse(DirRefusal::HoldsProtected { what, path: path.clone() }));
        }
        if let Some((other, _, _)) =
            // The same directory twice is fine: a preopen's own root cannot be replaced.
            preopens.iter().find(|(_, _, inner)| inner != host && inner.starts_with(host))
        {
            return Err(refuse(DirRefusal::HoldsPreopen { other: other.clone() }));
        }
    }
    Ok(())
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

    #[test]
    fn only_a_regular_file_of_bounded_size_is_read_as_a_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.warp.json");
        std::fs::write(&big, vec![b' '; MAX_MANIFEST_BYTES as usize + 1]).unwrap();
        let err = Manifest::read(&big).unwrap_err();
        assert!(err.to_string().contains("larger than the 4194304-byte limit"), "{err}");
        let fifo = dir.path().join("fifo.warp.json");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let err = Manifest::read(&fifo).unwrap_err();
        assert!(err.to_string().contains("it is a FIFO, not a regular file"), "{err}");
    }

    #[test]
    fn the_component_must_be_a_regular_file_inside_the_manifests_tree() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("app");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(root.path().join("secret"), b"x").unwrap();
        std::fs::write(dir.join("sub/hello.wasm"), b"x").unwrap();
        std::os::unix::fs::symlink(root.path().join("secret"), dir.join("link.wasm")).unwrap();
        let manifest_path = dir.join("hello.warp.json");
        let mut manifest = sample();
        let read = |manifest: &Manifest, placement| manifest.read_component_placed(&manifest_path, placement);

        manifest.component.path = "sub/hello.wasm".into();
        assert_eq!(read(&manifest, Placement::InsideTree).unwrap(), b"x");
        for outside in ["../secret", "link.wasm", "/etc/passwd", "sub/../../secret"] {
            manifest.component.path = outside.into();
            let err = read(&manifest, Placement::InsideTree).unwrap_err().to_string();
            assert!(err.contains("outside its directory (field `component.path`)"), "{outside}: {err}");
        }
        manifest.component.path = "../secret".into();
        assert_eq!(read(&manifest, Placement::Anywhere).unwrap(), b"x");
        // Allowed or not, a device is never read, and a digest mismatch
        // does not reveal the file's digest.
        manifest.component.path = "/dev/zero".into();
        let err = read(&manifest, Placement::Anywhere).unwrap_err().to_string();
        assert!(err.contains("it is a device, not a regular file"), "{err}");
        manifest.component.path = "/etc/hostname".into();
        manifest.component.sha256 = "ab".repeat(32);
        if let Ok(bytes) = std::fs::read("/etc/hostname") {
            let err = read(&manifest, Placement::Anywhere).unwrap_err().to_string();
            assert!(err.contains("field `component.sha256`") && !err.contains(&sha256_hex(&bytes)), "{err}");
        }
    }

    #[test]
    fn preopens_stay_in_the_project_and_never_reach_what_warp_runs() {
        let confinement = Confinement {
            root: PathBuf::from("/p"),
            protected: vec![
                Protected { path: "/p/target/warp".into(), what: "the run manifest", inside_too: false },
                Protected { path: "/cache/warp".into(), what: "warp's cache", inside_too: true },
            ],
        };
        let entry = |guest: &str, path: &str, mode, outside_project| {
            (guest.to_string(), Dir { path: path.into(), mode, outside_project }, PathBuf::from(path))
        };
        let check = |preopens: &[(String, Dir, PathBuf)]| confine(preopens, &confinement).map_err(|r| r.reason);
        let (ro, rw) = (DirMode::Ro, DirMode::Rw);

        assert_eq!(check(&[entry("/d", "/p/data", rw, false), entry("/a", "/p", ro, false)]), Ok(()));
        assert_eq!(check(&[entry("/e", "/etc", ro, true)]), Ok(()), "outside with the opt-in");
        assert!(matches!(check(&[entry("/h", "/", ro, false)]), Err(DirRefusal::OutsideProject { .. })));
        assert!(matches!(check(&[entry("/h", "/p2", ro, false)]), Err(DirRefusal::OutsideProject { .. })));
        // Read-write and holding the manifest: refused even with the opt-in.
        for (path, outside) in [("/", true), ("/p", false), ("/p/target", false), ("/p/target/warp", false)] {
            let refused = check(&[entry("/h", path, rw, outside)]);
            assert!(
                matches!(refused, Err(DirRefusal::HoldsProtected { what: "the run manifest", .. })),
                "{path}: {refused:?}"
            );
        }
        // Inside a cache is refused too; inside the output directory is not.
        let refused = check(&[entry("/c", "/cache/warp/compiled", rw, true)]);
        assert!(matches!(refused, Err(DirRefusal::HoldsProtected { what: "warp's cache", .. })), "{refused:?}");
        assert_eq!(check(&[entry("/o", "/p/target/warp/uploads", rw, false)]), Ok(()));
        // A read-write directory may not hold another preopen.
        assert_eq!(
            check(&[entry("/data", "/p/state/sub", ro, false), entry("/state", "/p/state", rw, false)]),
            Err(DirRefusal::HoldsPreopen { other: "/data".into() })
        );
        assert_eq!(check(&[entry("/up", "/p/state/up", rw, false), entry("/state", "/p/state", ro, false)]), Ok(()));
        assert_eq!(check(&[entry("/a", "/p/state", rw, false), entry("/b", "/p/state", ro, false)]), Ok(()));
    }

    #[test]
    fn the_project_around_a_manifest_is_the_nearest_with_a_project_file() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        let out = root.join("app/target/warp");
        std::fs::create_dir_all(&out).unwrap();
        assert_eq!(project_around(&out), out, "no project file: the manifest's own directory");
        std::fs::write(root.join("package.json"), "{}").unwrap();
        assert_eq!(project_around(&out), root);
        std::fs::write(root.join("app/Cargo.toml"), "").unwrap();
        assert_eq!(project_around(&out), root.join("app"));
    }
}
