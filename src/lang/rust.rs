//! Rust: `cargo rustc --target wasm32-wasip2` with a size-tuned profile that
//! `warp` supplies on the command line, never by editing `Cargo.toml`.
//!
//! The linker is told to stop at the core module (`--skip-wit-component`)
//! so that `wasm-opt` can work on it before it is componentized.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use cargo_metadata::{Message, MetadataCommand, Package, Target, TargetKind};

use super::{Artifact, BuildOutput, BuildRequest, Language, Resolved, Unit};
use crate::error::{Diagnostic, ToolOutput};
use crate::lang::{Check, version};
use crate::lang::{Kind, Sdk, Template};
use crate::project::{Lang, Project};
use crate::report::Reporter;
use crate::size::{Budget, SMALL_COMPONENT_BUDGET};

pub const TARGET: &str = "wasm32-wasip2";

/// The cargo profile `warp` defines through `--config`.
pub const PROFILE: &str = "warp";

/// The profile `warp dev` builds with: cargo's `dev` (incremental, many
/// codegen units, no LTO) with `opt-level = 1`, so a rebuild costs what
/// `cargo build` costs and the guest still runs at a usable speed.
pub const DEV_PROFILE: &str = "warp-dev";

pub const DEV_PROFILE_SETTINGS: &[(&str, &str)] = &[
    ("inherits", "\"dev\""),
    ("opt-level", "1"),
    ("panic", "\"abort\""),
    ("debug", "false"),
    ("strip", "\"debuginfo\""),
    ("incremental", "true"),
];

/// The profile and its settings for `request`.
pub fn profile(request: &BuildRequest) -> (&'static str, &'static [(&'static str, &'static str)]) {
    if request.dev { (DEV_PROFILE, DEV_PROFILE_SETTINGS) } else { (PROFILE, PROFILE_SETTINGS) }
}

/// The profile settings: smallest code, whole-program optimization, no
/// unwinding (wasm32-wasip2 cannot unwind anyway). Debug info is dropped but
/// symbol names stay until `warp` has read them for the size report.
pub const PROFILE_SETTINGS: &[(&str, &str)] = &[
    ("inherits", "\"release\""),
    ("opt-level", "\"z\""),
    ("lto", "true"),
    ("codegen-units", "1"),
    ("panic", "\"abort\""),
    ("debug", "false"),
    ("strip", "\"debuginfo\""),
    ("incremental", "false"),
];

/// The Rust path: cargo's projects, rustup's wasm targets.
pub struct Rust;

/// How the Rust templates name the SDK inside this repository.
const RUST_SDK: Sdk = Sdk {
    source: "sdk/rust",
    vendor_dir: "vendor/warpgrid-sdk",
    repo_reference: "path = \"../../sdk/rust\"",
    vendored_reference: "path = \"vendor/warpgrid-sdk\"",
    // The manifest and sources, not a local build's lock file.
    include: |file| file == "Cargo.toml" || file.starts_with("src/"),
};

pub static TEMPLATES: [Template; 2] = [
    Template { dir: "rust-http", kind: Kind::Http, placeholder: "rust-http", sdk: Some(RUST_SDK) },
    Template { dir: "rust-cli", kind: Kind::Cli, placeholder: "rust-cli", sdk: Some(RUST_SDK) },
];

/// The wasm targets `warp toolchain install rust` adds: wasip2 for
/// components, wasip1 for preview1 modules.
pub const TARGETS: &[&str] = &["wasm32-wasip2", "wasm32-wasip1"];

impl Language for Rust {
    fn lang(&self) -> Lang {
        Lang::Rust
    }

    fn detect(&self, dir: &Path) -> bool {
        dir.join("Cargo.toml").is_file()
    }

    fn default_budget(&self) -> Budget {
        SMALL_COMPONENT_BUDGET
    }

    fn checks(&self) -> Vec<Check> {
        let rustup = "install Rust with rustup (https://rustup.rs)";
        let target = |target: &str| {
            let installed = std_installed(Path::new("."), target).unwrap_or(false);
            Check::new(
                Lang::Rust,
                &format!("target {target}"),
                installed.then(|| "installed".into()),
                "warp toolchain install rust",
            )
        };
        let mut checks = vec![
            Check::new(Lang::Rust, "cargo", version("cargo", &["--version"]), rustup),
            Check::new(Lang::Rust, "rustc", version("rustc", &["--version"]), rustup),
        ];
        checks.extend(TARGETS.iter().map(|t| target(t)));
        checks
    }

    fn toolchain(&self) -> &'static str {
        "rust"
    }

    fn install(&self, reporter: &dyn Reporter) -> Result<()> {
        reporter.phase("Installing");
        reporter.detail(&format!("rustup target add {}", TARGETS.join(" ")));
        let output = Command::new("rustup").arg("target").arg("add").args(TARGETS).output().map_err(|e| {
            Diagnostic::env(format!("failed to run `rustup`: {e}"))
                .help("install rustup (https://rustup.rs), or add the wasm32-wasip2 standard library some other way")
        })?;
        if !output.status.success() {
            return Err(Diagnostic::env(format!(
                "`rustup target add {}` failed:\n{}",
                TARGETS.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ))
            .into());
        }
        Ok(())
    }

    fn templates(&self) -> &'static [Template] {
        &TEMPLATES
    }

    fn resolve(&self, project: &Project, request: &BuildRequest, reporter: &dyn Reporter) -> Result<Box<dyn Resolved>> {
        let manifest_path = project.root.join("Cargo.toml");
        if !manifest_path.is_file() {
            return Err(Diagnostic::env(format!("no `Cargo.toml` in `{}`", project.root.display()))
                .help("run `warp pack` in a Rust project, or name the language with `--lang`")
                .into());
        }
        reporter.phase("Resolving");
        let metadata = MetadataCommand::new().manifest_path(&manifest_path).no_deps().exec().map_err(|e| {
            Diagnostic::check(format!(
                "`cargo metadata` failed for `{}`: {}",
                manifest_path.display(),
                metadata_error(&e)
            ))
        })?;
        let package = select_package(&metadata, &manifest_path, request.package.as_deref())?.clone();
        let target = select_target(&package, request.bin.as_deref())?.clone();
        let package_root =
            package.manifest_path.parent().map_or_else(|| project.root.clone(), |p| p.as_std_path().to_path_buf());
        // A workspace member's own warp.toml describes that member.
        let member = project.for_member(&package_root)?.unwrap_or_else(|| project.clone());
        let unit = Unit {
            name: package.name.to_string(),
            package_root,
            out_dir: metadata.target_directory.as_std_path().join("warp"),
            project: member,
        };
        Ok(Box::new(RustUnit {
            unit,
            manifest_path,
            package,
            target,
            workspace_root: metadata.workspace_root.as_std_path().to_path_buf(),
            request: request.clone(),
        }))
    }
}

/// A cargo package and target, resolved.
struct RustUnit {
    unit: Unit,
    manifest_path: PathBuf,
    package: Package,
    target: Target,
    workspace_root: PathBuf,
    request: BuildRequest,
}

impl Resolved for RustUnit {
    fn unit(&self) -> &Unit {
        &self.unit
    }

    fn build(&self, reporter: &dyn Reporter) -> Result<BuildOutput> {
        let root = &self.unit.project.root;
        // Three quick tool queries, each a rustup proxy start: at once, not
        // one after another (they are most of a no-op repack's time).
        let (installed, toolchain) = std::thread::scope(|scope| {
            let installed = scope.spawn(|| check_target_installed(root));
            let toolchain = toolchain_versions(root);
            (installed.join().expect("the target check does not panic"), toolchain)
        });
        installed?;
        reporter.phase("Compiling");
        let module_path = cargo_rustc(
            &self.manifest_path,
            &self.package,
            &self.target,
            &self.workspace_root,
            &self.request,
            reporter,
        )?;
        let bytes =
            std::fs::read(&module_path).with_context(|| format!("failed to read `{}`", module_path.display()))?;
        let artifact = if wasmparser::Parser::is_component(&bytes) {
            Artifact::Component(bytes)
        } else {
            Artifact::CoreModule(bytes)
        };
        Ok(BuildOutput {
            artifact,
            toolchain,
            sources: self.sources(&module_path),
            optimize: Some(crate::optimize::Level::Smallest),
        })
    }
}

impl RustUnit {
    /// What cargo's dep-info beside the artifact lists (the crate, its path
    /// dependencies and build scripts' inputs), minus registry and git
    /// checkouts (under `CARGO_HOME`), plus the manifests and lock file that
    /// steer the build.
    fn sources(&self, artifact: &Path) -> Vec<PathBuf> {
        let mut files = std::fs::read_to_string(artifact.with_extension("d"))
            .map(|text| crate::lang::parse_dep_info(&text))
            .unwrap_or_default();
        files.push(self.package.manifest_path.as_std_path().to_path_buf());
        files.push(self.workspace_root.join("Cargo.toml"));
        files.push(self.workspace_root.join("Cargo.lock"));
        // The standard library is prebuilt, so the Rust sysroot never shows up.
        let exclude: Vec<PathBuf> = cargo_home().into_iter().collect();
        let files: Vec<PathBuf> = files.into_iter().filter(|f| f.exists()).collect();
        crate::lang::normalize_sources(files, &self.workspace_root, &exclude)
    }
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

fn metadata_error(error: &cargo_metadata::Error) -> String {
    match error {
        cargo_metadata::Error::CargoMetadata { stderr } => stderr.trim().trim_start_matches("error: ").to_string(),
        other => other.to_string(),
    }
}

fn select_package<'m>(
    metadata: &'m cargo_metadata::Metadata,
    manifest_path: &Path,
    wanted: Option<&str>,
) -> Result<&'m Package> {
    let members = metadata.workspace_packages();
    if let Some(name) = wanted {
        return members.into_iter().find(|p| p.name.as_str() == name).ok_or_else(|| {
            let names: Vec<_> = metadata.workspace_packages().iter().map(|p| format!("`{}`", p.name)).collect();
            Diagnostic::env(format!(
                "package `{name}` is not a member of the workspace at `{}`",
                metadata.workspace_root
            ))
            .help(format!("members are: {}", names.join(", ")))
            .into()
        });
    }
    let canonical = manifest_path.canonicalize().unwrap_or_else(|_| manifest_path.to_path_buf());
    if let Some(package) = members.iter().find(|p| p.manifest_path.as_std_path() == canonical) {
        return Ok(package);
    }
    match members.as_slice() {
        [only] => Ok(only),
        _ => {
            let names: Vec<_> = members.iter().map(|p| format!("`{}`", p.name)).collect();
            Err(Diagnostic::env(format!(
                "`{}` is a workspace with {} packages; which one should be packed?",
                manifest_path.display(),
                members.len()
            ))
            .help(format!("pick one with `-p`: {}", names.join(", ")))
            .into())
        }
    }
}

/// The target that becomes the component: a `cdylib` library, else a binary.
fn select_target<'p>(package: &'p Package, bin: Option<&str>) -> Result<&'p Target> {
    let bins: Vec<&Target> = package.targets.iter().filter(|t| t.kind.contains(&TargetKind::Bin)).collect();
    if let Some(name) = bin {
        return bins
            .iter()
            .copied()
            .find(|t| t.name == name)
            .ok_or_else(|| Diagnostic::env(format!("package `{}` has no binary `{name}`", package.name)).into());
    }
    let lib = package.targets.iter().find(|t| {
        t.kind.iter().any(|k| {
            matches!(
                k,
                TargetKind::Lib | TargetKind::RLib | TargetKind::DyLib | TargetKind::CDyLib | TargetKind::StaticLib
            )
        })
    });
    if let Some(lib) = lib.filter(|t| t.kind.contains(&TargetKind::CDyLib)) {
        return Ok(lib);
    }
    match (bins.as_slice(), lib) {
        ([only], _) => Ok(only),
        ([], Some(lib)) => {
            let kinds: Vec<String> = lib.kind.iter().map(|k| format!("`{k}`")).collect();
            Err(Diagnostic::check(format!(
                "package `{}` cannot become a component: its library is crate-type {}, and a component needs `cdylib`",
                package.name,
                kinds.join(", ")
            ))
            .help(format!("add to `{}`:\n\n    [lib]\n    crate-type = [\"cdylib\"]", package.manifest_path))
            .into())
        }
        ([], None) => {
            Err(Diagnostic::check(format!("package `{}` has neither a library nor a binary", package.name)).into())
        }
        (many, _) => {
            if let Some(default) = package.default_run.as_deref().and_then(|d| many.iter().find(|t| t.name == d)) {
                return Ok(default);
            }
            let names: Vec<_> = many.iter().map(|t| format!("`{}`", t.name)).collect();
            Err(Diagnostic::env(format!("package `{}` has several binaries", package.name))
                .help(format!("pick one with `--bin`: {}", names.join(", ")))
                .into())
        }
    }
}

fn rustc_command(dir: &Path) -> Command {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut cmd = Command::new(rustc);
    cmd.current_dir(dir);
    cmd
}

/// Fails with the fix when the standard library for `wasm32-wasip2` is absent.
fn check_target_installed(dir: &Path) -> Result<()> {
    match std_installed(dir, TARGET) {
        Ok(true) => Ok(()),
        Ok(false) => Err(missing_target()),
        Err(StdCheck::NoRustc(e)) => Err(Diagnostic::env(format!("failed to run `rustc`: {e}"))
            .help("install Rust with rustup, then run `warp toolchain install rust`")
            .into()),
        Err(StdCheck::UnknownTarget(stderr)) => {
            Err(Diagnostic::env(format!("this rustc does not know the target `{TARGET}`: {stderr}"))
                .help("wasm32-wasip2 needs Rust 1.82 or newer: run `rustup update`")
                .into())
        }
    }
}

pub enum StdCheck {
    NoRustc(std::io::Error),
    UnknownTarget(String),
}

/// Whether rustc (as `RUSTC` or `rustc`, run in `dir` so toolchain files
/// apply) has the standard library for `target`.
pub fn std_installed(dir: &Path, target: &str) -> Result<bool, StdCheck> {
    let output = rustc_command(dir)
        .args(["--print", "target-libdir", "--target", target])
        .output()
        .map_err(StdCheck::NoRustc)?;
    if !output.status.success() {
        return Err(StdCheck::UnknownTarget(String::from_utf8_lossy(&output.stderr).trim().to_string()));
    }
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    Ok(std::fs::read_dir(&libdir)
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
        .unwrap_or(false))
}

fn missing_target() -> anyhow::Error {
    Diagnostic::env(format!("the Rust target `{TARGET}` is not installed"))
        .help(format!("run `warp toolchain install rust` (or `rustup target add {TARGET}`)"))
        .into()
}

/// `rustc` and `cargo` versions, as they print them.
fn toolchain_versions(dir: &Path) -> BTreeMap<String, String> {
    let version_of = |mut cmd: Command| -> Option<String> {
        let output = cmd.arg("--version").output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let mut cargo = Command::new("cargo");
    cargo.current_dir(dir);
    let (rustc, cargo) = std::thread::scope(|scope| {
        let rustc = scope.spawn(|| version_of(rustc_command(dir)));
        let cargo = version_of(cargo);
        (rustc.join().expect("a version query does not panic"), cargo)
    });
    [("rustc", rustc), ("cargo", cargo)].into_iter().filter_map(|(tool, v)| Some((tool.to_string(), v?))).collect()
}

/// Builds the chosen target as a core module and returns its path.
fn cargo_rustc(
    manifest_path: &Path,
    package: &Package,
    target: &Target,
    workspace_root: &Path,
    request: &BuildRequest,
    reporter: &dyn Reporter,
) -> Result<PathBuf> {
    let (profile, settings) = profile(request);
    let mut cmd = Command::new("cargo");
    cmd.arg("rustc")
        .arg("--manifest-path")
        .arg(manifest_path)
        .args(["--package", &format!("{}@{}", package.name, package.version)])
        .args(["--target", TARGET, "--profile", profile])
        .arg("--message-format")
        .arg(if request.color { "json-diagnostic-rendered-ansi" } else { "json" });
    if request.color {
        cmd.args(["--color", "always"]);
    }
    for (key, value) in settings {
        cmd.arg("--config").arg(format!("profile.{profile}.{key}={value}"));
    }
    if target.kind.contains(&TargetKind::Bin) {
        cmd.args(["--bin", &target.name]);
    } else {
        cmd.args(["--lib", "--crate-type", "cdylib"]);
    }
    // Only the final crate gets these: stop at the core module, and keep the
    // checkout's location out of the binary so builds are reproducible.
    cmd.arg("--")
        .arg("-Clink-arg=--skip-wit-component")
        .arg(format!("--remap-path-prefix={}=.", workspace_root.display()));
    if let Some(home) = cargo_home() {
        cmd.arg(format!("--remap-path-prefix={}=/cargo", home.display()));
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());

    let command_line = format!("cargo rustc --target {TARGET} --profile {profile} -p {}", package.name);
    let mut child = cmd.spawn().map_err(|e| {
        Diagnostic::env(format!("failed to run `cargo`: {e}")).help("install Rust with rustup: https://rustup.rs")
    })?;

    // Cargo's status lines arrive on stderr; read them on a thread while the
    // JSON messages are read here, so neither pipe fills up.
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr_reader = std::thread::spawn(move || {
        let mut kept = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            if !is_progress_line(&line) {
                kept.push(line);
            }
        }
        kept
    });

    let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut diagnostics = String::new();
    let mut missing_std = false;
    let mut artifact: Option<PathBuf> = None;
    for message in Message::parse_stream(stdout) {
        while let Ok(line) = rx.try_recv() {
            reporter.detail(&line);
        }
        match message.context("failed to read cargo's output")? {
            Message::CompilerMessage(msg) => {
                let is_error = matches!(msg.message.level, cargo_metadata::diagnostic::DiagnosticLevel::Error);
                if let Some(rendered) = &msg.message.rendered {
                    if is_error {
                        diagnostics.push_str(rendered);
                    }
                    if rendered.contains("target may not be installed") {
                        missing_std = true;
                    }
                }
            }
            Message::CompilerArtifact(art) if art.package_id == package.id && art.target.name == target.name => {
                artifact =
                    art.filenames.iter().find(|f| f.extension() == Some("wasm")).map(|f| f.clone().into_std_path_buf());
            }
            _ => {}
        }
    }
    let status = child.wait().with_context(|| format!("failed to wait for `{command_line}`"))?;
    let stderr_lines = stderr_reader.join().unwrap_or_default();
    for line in rx.try_iter() {
        reporter.detail(&line);
    }
    if missing_std {
        return Err(missing_target());
    }
    if !status.success() {
        for line in &stderr_lines {
            diagnostics.push_str(line);
            diagnostics.push('\n');
        }
        return Err(anyhow::Error::new(ToolOutput { text: diagnostics })
            .context(Diagnostic::check(format!("could not compile `{}` for `{TARGET}`", package.name))));
    }
    artifact
        .ok_or_else(|| anyhow::anyhow!("`{command_line}` succeeded but reported no `.wasm` file for `{}`", target.name))
}

fn is_progress_line(line: &str) -> bool {
    const VERBS: &[&str] = &[
        "Compiling",
        "Checking",
        "Downloading",
        "Downloaded",
        "Updating",
        "Locking",
        "Adding",
        "Blocking",
        "Fresh",
        "Finished",
        "Running",
        "Building",
        "Packaging",
        "Updated",
    ];
    let first = line.trim_start().split(' ').next().unwrap_or("");
    VERBS.contains(&first)
}
