//! Go: the machine's standard Go (`GOOS=wasip1 GOARCH=wasm`), then the
//! usual pipeline (the preview1 adapter turns the module into a component).
//!
//! An HTTP service is an unchanged `net/http` program. warp builds it as a
//! reactor (`-buildmode=c-shared`) with the bridge of `sdk/go` added at
//! build time, never by editing the user's files: `go build -overlay`
//! adds one generated file to the main package (an `init` that hands
//! `main` to the bridge) and a `go.mod` that requires and replaces the SDK
//! module with warp's embedded copy. The bridge exports
//! `wasi:http/incoming-handler`; see `sdk/go/bridge` for how it reaches the
//! program's listener. A program that does not import `net/http` is a
//! `wasi:cli` command, built as an ordinary wasip1 executable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use serde::Deserialize;
use wit_component::StringEncoding;

use super::{Artifact, BuildOutput, BuildRequest, Language, Resolved, Unit};
use crate::error::{Diagnostic, ToolOutput};
use crate::lang::Check;
use crate::lang::{Kind, Sdk, Template};
use crate::project::{Lang, Project, World};
use crate::report::Reporter;
use crate::size::Budget;

mod tinygo;

/// The Go releases warp supports (major.minor, inclusive): the bridge
/// reads `net`'s in-process network by name, so each release is tested
/// before it is admitted. CI runs the suite with the machine's Go.
pub const SUPPORTED: ((u32, u32), (u32, u32)) = ((1, 24), (1, 26));

/// The SDK module that carries the bridge; warp replaces it with its own
/// embedded copy in every build, so it is never downloaded.
pub const SDK_MODULE: &str = "warpgrid.dev/sdk";

/// The file the overlay adds to the main package.
const BRIDGE_FILE: &str = "zz_warpgrid_bridge.go";

/// A net/http server is a runtime and a standard library (about 10 MB raw,
/// 2.6 MB gzip); one with pgx about 19 MB.
pub const GO_BUDGET: Budget = Budget { raw_bytes: Some(25_000_000), gzip_bytes: Some(7_000_000) };

/// The Go path.
pub struct Go;

/// The SDK module as a project gets it: a copy beside the code, replaced
/// in go.mod so `go run` works natively (warp pack uses its own copy).
const GO_SDK: Sdk = Sdk {
    source: "sdk/go",
    vendor_dir: "third_party/warpgrid-sdk",
    repo_reference: "=> ../../sdk/go",
    vendored_reference: "=> ./third_party/warpgrid-sdk",
    include: |file| file == "go.mod" || file.ends_with(".go"),
};

pub static TEMPLATES: [Template; 2] = [
    Template { dir: "go-http", kind: Kind::Http, placeholder: "go-http", sdk: Some(GO_SDK) },
    Template { dir: "go-cli", kind: Kind::Cli, placeholder: "go-cli", sdk: None },
];

impl Language for Go {
    fn lang(&self) -> Lang {
        Lang::Go
    }

    fn detect(&self, dir: &Path) -> bool {
        dir.join("go.mod").is_file()
    }

    fn default_budget(&self) -> Budget {
        GO_BUDGET
    }

    fn checks(&self) -> Vec<Check> {
        let found = find_go().ok().map(|go| go.version);
        vec![Check::new(Lang::Go, "go", found, &install_help())]
    }

    fn toolchain(&self) -> &'static str {
        "go"
    }

    /// Go is the machine's own; installing checks it and compiles the
    /// standard library for wasip1 once, so the first pack is not the slow one.
    fn install(&self, reporter: &dyn Reporter) -> Result<()> {
        let go = find_go()?;
        reporter.phase("Compiling");
        reporter.detail(&format!("{} std for wasip1/wasm", go.version));
        let output = go
            .command()
            .args(["build", "std"])
            .output()
            .with_context(|| format!("failed to run `{}`", go.program.display()))?;
        if !output.status.success() {
            return Err(anyhow::Error::new(ToolOutput { text: String::from_utf8_lossy(&output.stderr).into() })
                .context(Diagnostic::env("could not compile Go's standard library for wasip1")));
        }
        Ok(())
    }

    fn templates(&self) -> &'static [Template] {
        &TEMPLATES
    }

    /// An instance keeps serving: Go's runtime start and `main` run once
    /// per instance, and package-level state lives on as under `go run`.
    fn default_reuse(&self) -> u32 {
        0
    }

    fn compilers(&self) -> &'static [&'static str] {
        &["go", "tinygo"]
    }

    fn resolve(&self, project: &Project, request: &BuildRequest, reporter: &dyn Reporter) -> Result<Box<dyn Resolved>> {
        reporter.phase("Resolving");
        let mut go = find_go()?;
        let root = project.root.canonicalize().unwrap_or_else(|_| project.root.clone());
        let out_dir = root.join("target").join("warp");
        let module = ModuleOverlay::write(&go, &root, &out_dir.join("go"))?;
        go.overlay = Some(module.overlay_file.clone());
        // The SDK is not in a vendor/ directory: resolve from the module cache.
        go.mod_mod = module.go_mod.with_file_name("vendor").join("modules.txt").is_file();
        let pattern = project.config.go.package.clone().unwrap_or_else(|| ".".into());
        let main = main_package(&go, &root, &pattern)?;
        let world = match project.config.world {
            Some(world) => world,
            None if main.deps.iter().any(|d| d == "net/http") => World::Http,
            None => World::Cli,
        };
        let tinygo = match request.toolchain.as_deref().or(project.config.go.toolchain.as_deref()) {
            None | Some("go") => None,
            Some("tinygo") => Some(tinygo::find(world)?),
            Some(other) => {
                return Err(Diagnostic::env(format!(
                    "`{other}` is not a Go compiler warp knows (warp.toml field `go.toolchain`)"
                ))
                .help("use `go` (the default) or `tinygo`")
                .into());
            }
        };
        let unit = Unit {
            name: project.config.go.name.clone().unwrap_or_else(|| program_name(&main.import_path)),
            package_root: main.dir.clone(),
            out_dir,
            project: project.clone(),
        };
        Ok(Box::new(GoUnit { go, tinygo, root, main, world, module, unit }))
    }
}

/// A Go program, resolved to its main package.
struct GoUnit {
    go: GoTool,
    /// `--toolchain tinygo`: TinyGo builds instead of Go.
    tinygo: Option<tinygo::TinyGo>,
    root: PathBuf,
    main: Package,
    module: ModuleOverlay,
    world: World,
    unit: Unit,
}

impl Resolved for GoUnit {
    fn unit(&self) -> &Unit {
        &self.unit
    }

    fn build(&self, reporter: &dyn Reporter) -> Result<BuildOutput> {
        let name = &self.unit.name;
        let work = self.unit.out_dir.join("go");
        if let Some(tinygo) = &self.tinygo {
            let artifact = tinygo.build(&self.root, &self.main.import_path, &work, name, reporter)?;
            let mut toolchain = BTreeMap::new();
            toolchain.insert("tinygo".into(), tinygo.version.clone());
            return Ok(BuildOutput { artifact, toolchain, sources: self.sources()?, optimize: None });
        }
        std::fs::create_dir_all(&work).with_context(|| format!("failed to create `{}`", work.display()))?;
        let module_path = work.join(format!("{name}.core.wasm"));

        let mut command = self.go.command();
        command.current_dir(&self.root).arg("build").arg("-trimpath").arg("-o").arg(&module_path);
        // DWARF is dropped (`-w`); the name section stays for size reports.
        let mut ldflags = vec!["-w".to_string()];
        if self.world == World::Http {
            let overlay = self.overlay(&work)?;
            command.arg("-buildmode=c-shared").arg(format!("-overlay={}", overlay.display()));
            // The bridge reads `net`'s in-process network by name.
            ldflags.push("-checklinkname=0".into());
        } else {
            command.arg(format!("-overlay={}", self.module.overlay_file.display()));
        }
        if self.go.mod_mod {
            command.arg("-mod=mod");
        }
        if !self.unit.project.config.go.tags.is_empty() {
            command.arg(format!("-tags={}", self.unit.project.config.go.tags.join(",")));
        }
        command.arg(format!("-ldflags={}", ldflags.join(" "))).arg(&self.main.import_path);

        reporter.phase("Compiling");
        reporter.detail(&format!("{} build ({})", self.go.version, self.main.import_path));
        let output = command.output().with_context(|| format!("failed to run `{}`", self.go.program.display()))?;
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if !output.status.success() {
            return Err(compile_error(name, &stderr));
        }
        let mut module =
            std::fs::read(&module_path).with_context(|| format!("failed to read `{}`", module_path.display()))?;
        if self.world == World::Http {
            embed_bridge_world(&mut module)?;
        } else if crate::component::imports_shims(&module)? {
            crate::component::embed_shim_types(&mut module)?;
        }

        let mut toolchain = BTreeMap::new();
        toolchain.insert("go".into(), self.go.version.clone());
        Ok(BuildOutput {
            artifact: Artifact::CoreModule(module),
            toolchain,
            sources: self.sources()?,
            optimize: self.unit.project.config.go.optimize.unwrap_or(true).then_some(crate::optimize::Level::Runtime),
        })
    }
}

impl GoUnit {
    /// Writes the overlay of an HTTP build: the module's (see
    /// [`ModuleOverlay`]), the generated file that hands the main
    /// package's `main` to the bridge, and `net`'s socket options made
    /// no-ops on in-process connections ([`sockopt_overlays`]). Returns the
    /// overlay file.
    fn overlay(&self, work: &Path) -> Result<PathBuf> {
        let bridge_file = work.join(BRIDGE_FILE);
        crate::fs::write_atomic(&bridge_file, BRIDGE_SOURCE.as_bytes())?;
        let mut replace = serde_json::Map::new();
        replace.insert(self.main.dir.join(BRIDGE_FILE).to_string_lossy().into(), bridge_file.to_string_lossy().into());
        replace.insert(self.module.go_mod.to_string_lossy().into(), self.module.replacement.to_string_lossy().into());
        if let Some(goroot) = self.go.env("GOROOT") {
            for (original, patched) in sockopt_overlays(Path::new(&goroot)) {
                let file = work.join(original.file_name().expect("a file"));
                crate::fs::write_atomic(&file, patched.as_bytes())?;
                replace.insert(original.to_string_lossy().into(), file.to_string_lossy().into());
            }
        }
        let overlay = serde_json::json!({ "Replace": replace });
        let overlay_file = work.join("overlay.json");
        crate::fs::write_atomic(&overlay_file, overlay.to_string().as_bytes())?;
        Ok(overlay_file)
    }

    /// The files the build read: the Go files (and embedded files) of every
    /// package outside Go's root and the module cache, with the go.mod and
    /// go.sum of their modules, and warp.toml.
    fn sources(&self) -> Result<Vec<PathBuf>> {
        let packages = self.go.list(&self.root, &["-deps", &self.main.import_path])?;
        let (goroot, modcache) = (self.go.env("GOROOT"), self.go.env("GOMODCACHE"));
        let mut outside: Vec<PathBuf> = [goroot, modcache].into_iter().flatten().map(PathBuf::from).collect();
        outside.push(self.module.sdk.clone());
        let mut files = vec![self.root.join(crate::project::CONFIG_FILE)];
        for package in packages.iter().filter(|p| !p.standard) {
            if outside.iter().any(|o| package.dir.starts_with(o)) {
                continue;
            }
            files.extend(package.go_files.iter().chain(&package.embed_files).map(|f| package.dir.join(f)));
            if let Some(module) = &package.module {
                files.push(module.go_mod.clone());
                files.push(module.go_mod.with_file_name("go.sum"));
            }
        }
        let files: Vec<PathBuf> = files.into_iter().filter(|f| f.is_file()).collect();
        Ok(crate::lang::normalize_sources(files, &self.root, &outside))
    }
}

/// The module's `go.mod` as every `go` command of the build sees it: the
/// SDK module required and replaced by warp's embedded copy (so a program
/// that imports `warpgrid.dev/sdk/warpgrid` builds offline, and the bridge
/// can be added), through `-overlay`: the file on disk is not touched.
struct ModuleOverlay {
    /// The module's own `go.mod`.
    go_mod: PathBuf,
    /// What the build reads instead.
    replacement: PathBuf,
    /// The overlay file naming just that replacement (for `go list`).
    overlay_file: PathBuf,
    /// warp's copy of the SDK module.
    sdk: PathBuf,
}

impl ModuleOverlay {
    fn write(go: &GoTool, root: &Path, work: &Path) -> Result<ModuleOverlay> {
        let go_mod = go.env_in(root, "GOMOD").filter(|m| m != "/dev/null" && m != "NUL").ok_or_else(|| {
            Diagnostic::check(format!("`{}` is not in a Go module: warp builds module-aware", root.display()))
                .help("run `go mod init NAME` in the project")
        })?;
        let go_mod = PathBuf::from(go_mod);
        let sdk = crate::assets::unpacked()?.join("sdk").join("go");
        let text =
            std::fs::read_to_string(&go_mod).with_context(|| format!("failed to read `{}`", go_mod.display()))?;
        std::fs::create_dir_all(work).with_context(|| format!("failed to create `{}`", work.display()))?;
        let replacement = work.join("go.mod");
        crate::fs::write_atomic(&replacement, with_sdk(&text, &sdk).as_bytes())?;
        let overlay = serde_json::json!({
            "Replace": { go_mod.to_string_lossy(): replacement.to_string_lossy() }
        });
        let overlay_file = work.join("module-overlay.json");
        crate::fs::write_atomic(&overlay_file, overlay.to_string().as_bytes())?;
        Ok(ModuleOverlay { go_mod, replacement, overlay_file, sdk })
    }
}

/// `net`'s socket options for wasip1 (`sockopt_fake.go`,
/// `tcpsockopt_stub.go`) answer ENOPROTOOPT even on the in-process
/// network the bridge serves through, and routers that check the error of
/// `SetKeepAlive` on each accepted connection (echo) then fail to serve.
/// On an in-process connection those options mean nothing, so the overlay
/// makes them succeed there (and only there: `fd.fakeNetFD != nil`).
/// Generated from the machine's own files: a function whose text is not
/// the expected one (another Go release) is left as it is.
fn sockopt_overlays(goroot: &Path) -> Vec<(PathBuf, String)> {
    let files: [(&str, &[(&str, &str)]); 2] = [
        ("sockopt_fake.go", &[("setKeepAlive", "fd *netFD, keepalive bool")]),
        (
            "tcpsockopt_stub.go",
            &[
                ("setNoDelay", "fd *netFD, noDelay bool"),
                ("setKeepAliveIdle", "fd *netFD, d time.Duration"),
                ("setKeepAliveInterval", "fd *netFD, d time.Duration"),
                ("setKeepAliveCount", "fd *netFD, n int"),
            ],
        ),
    ];
    let mut out = Vec::new();
    for (file, functions) in files {
        let path = goroot.join("src").join("net").join(file);
        let Ok(mut text) = std::fs::read_to_string(&path) else { continue };
        let mut changed = false;
        for (name, params) in functions {
            let original = format!("func {name}({params}) error {{\n\treturn syscall.ENOPROTOOPT\n}}");
            let patched = format!(
                "func {name}({params}) error {{\n\tif fd.fakeNetFD != nil {{\n\t\treturn nil // warp: in-process connection\n\t}}\n\treturn syscall.ENOPROTOOPT\n}}"
            );
            if text.contains(&original) {
                text = text.replace(&original, &patched);
                changed = true;
            }
        }
        if changed {
            out.push((path, text));
        }
    }
    out
}

/// The generated file the overlay adds to the main package.
const BRIDGE_SOURCE: &str = "// Code generated by warp pack; DO NOT EDIT. It exists only in the build's overlay.

package main

import warpgridbridge \"warpgrid.dev/sdk/bridge\"

func init() { warpgridbridge.Main(main) }
";

/// `go_mod` with the SDK module required and replaced by `sdk`; a
/// `replace` of the SDK the project has is dropped (warp's copy is the
/// one whose bridge matches this warp).
fn with_sdk(go_mod: &str, sdk: &Path) -> String {
    let mut out: String = go_mod
        .lines()
        .filter(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            !(words.first() == Some(&"replace") && words.get(1) == Some(&SDK_MODULE))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let requires_sdk = go_mod.lines().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words.first() == Some(&SDK_MODULE) || (words.first() == Some(&"require") && words.get(1) == Some(&SDK_MODULE))
    });
    if !requires_sdk {
        out.push_str(&format!("\nrequire {SDK_MODULE} v0.0.0\n"));
    }
    out.push_str(&format!("\nreplace {SDK_MODULE} => {}\n", sdk.display()));
    out
}

/// The error for a failed `go build` (or `tinygo build`): the compiler's own diagnostics (`file:line`),
/// with the ones the bridge causes said in the program's terms.
fn compile_error(name: &str, stderr: &str) -> anyhow::Error {
    if stderr.contains(BRIDGE_FILE) && stderr.contains("undefined: main") {
        return Diagnostic::check(format!("`{name}`: the main package has no `func main()`"))
            .help("a Go service is a main package whose main starts the server: `http.ListenAndServe(\":8080\", nil)`")
            .into();
    }
    anyhow::Error::new(ToolOutput { text: stderr.to_string() })
        .context(Diagnostic::check(format!("could not compile `{name}` for wasip1/wasm")))
}

/// Adds the `component-type` section of the bridge's world (`wit/http`,
/// which includes the shims: wit-component keeps the interfaces the module
/// really imports).
fn embed_bridge_world(module: &mut Vec<u8>) -> Result<()> {
    let wit = crate::assets::unpacked()?.join("wit").join("http");
    let mut resolve = wit_parser::Resolve::default();
    resolve.push_str("wit/shim.wit", crate::component::SHIM_WIT).context("failed to parse the embedded shim WIT")?;
    let (package, _) = resolve.push_dir(&wit).with_context(|| format!("failed to parse `{}`", wit.display()))?;
    let world = resolve.select_world(&[package], Some("http-bridge"))?;
    wit_component::embed_component_metadata(module, &resolve, world, StringEncoding::UTF8)
        .context("failed to embed the bridge's world")
}

/// `github.com/acme/api/cmd/server` → `server`; a major-version suffix
/// (`/v2`) is not the name, as `go build` names its output.
fn program_name(import_path: &str) -> String {
    let mut parts = import_path.rsplit('/');
    let last = parts.next().unwrap_or("main");
    let is_version = last.len() > 1 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit());
    match (is_version, parts.next()) {
        (true, Some(before)) => before.to_string(),
        _ => last.to_string(),
    }
}

/// What `go list -json` says of a package (the fields warp reads).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Package {
    dir: PathBuf,
    import_path: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    standard: bool,
    #[serde(default)]
    go_files: Vec<String>,
    /// Filled when listed with cgo on: the files that import "C" and
    /// would be built for wasip1.
    #[serde(default)]
    cgo_files: Vec<String>,
    #[serde(default)]
    embed_files: Vec<String>,
    #[serde(default)]
    deps: Vec<String>,
    module: Option<Module>,
    error: Option<PackageError>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Module {
    path: String,
    go_mod: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PackageError {
    err: String,
}

/// Finds the main package `pattern` names and refuses what cannot run in
/// a component: cgo, and `os/exec` in the program's own packages.
fn main_package(go: &GoTool, root: &Path, pattern: &str) -> Result<Package> {
    let mut listed = go.list(root, &[pattern])?;
    let config = root.join(crate::project::CONFIG_FILE);
    let package = match listed.len() {
        1 => listed.remove(0),
        0 => return Err(Diagnostic::check(format!("`{pattern}` names no Go package in `{}`", root.display())).into()),
        _ => {
            return Err(Diagnostic::check(format!(
                "`{pattern}` names {} packages; warp builds one main package",
                listed.len()
            ))
            .help(format!("name one in `{}`: `[go] package = \"./cmd/NAME\"`", config.display()))
            .into());
        }
    };
    // The program's own packages (in its module): cgo and os/exec are
    // refused where they are written; in dependencies they are compiled
    // out (cgo) or fail when called (os/exec), as with any wasip1 build.
    // Listed with cgo on, so that the files which would need it show (a
    // package that is all cgo does not even list as buildable without).
    let module_path = package.module.as_ref().map(|m| m.path.clone());
    for p in go.list_with(root, &["-deps", pattern], true)? {
        if p.dir == package.dir || (module_path.is_some() && p.module.as_ref().map(|m| &m.path) == module_path.as_ref())
        {
            refuse_unportable(&p, root)?;
        }
    }
    if let Some(error) = &package.error {
        return Err(Diagnostic::check(format!("no Go package to build in `{}`: {}", package.dir.display(), error.err))
            .help(format!("name the main package in `{}`: `[go] package = \"./cmd/NAME\"`", config.display()))
            .into());
    }
    if package.name != "main" {
        let mains = main_packages(go, root);
        let help = match mains.as_slice() {
            [] => "a Go service is a `package main` with a `func main()`".to_string(),
            found => format!(
                "name the main package in `{}`: `[go] package = \"{}\"`",
                config.display(),
                found.first().map(String::as_str).unwrap_or_default()
            ),
        };
        return Err(Diagnostic::check(format!(
            "`{}` is `package {}`, not a main package: warp builds a Go program",
            package.dir.display(),
            package.name
        ))
        .help(help)
        .into());
    }
    Ok(package)
}

/// Refuses cgo and `os/exec` in `package`, naming the file and line.
fn refuse_unportable(package: &Package, root: &Path) -> Result<()> {
    for file in package.cgo_files.iter().chain(&package.go_files) {
        let path = package.dir.join(file);
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        if package.cgo_files.contains(file)
            && let Some(line) = import_line(&text, "C")
        {
            return Err(Diagnostic::check(format!(
                "{}:{line}: imports \"C\": cgo cannot be built for WebAssembly (Go has no cgo on wasip1)",
                relative(&path, root)
            ))
            .help("move the cgo code behind a build tag (`//go:build !wasip1`) with a pure-Go fallback")
            .into());
        }
        if package.go_files.contains(file)
            && let Some(line) = import_line(&text, "os/exec")
        {
            return Err(Diagnostic::check(format!(
                "{}:{line}: imports \"os/exec\": a component cannot start processes (WASI has no process API)",
                relative(&path, root)
            ))
            .help("move the code that runs commands behind a build tag (`//go:build !wasip1`)")
            .into());
        }
    }
    Ok(())
}

/// The main packages under `root`, for the help of a wrong `package`.
fn main_packages(go: &GoTool, root: &Path) -> Vec<String> {
    let Ok(all) = go.list(root, &["-e", "./..."]) else { return Vec::new() };
    all.into_iter()
        .filter(|p| p.name == "main")
        .map(|p| format!("./{}", relative(&p.dir, root)))
        .map(|p| if p == "./" { ".".into() } else { p })
        .collect()
}

/// The line (1-based) where `text` imports `path`, in a single import or
/// an import block.
fn import_line(text: &str, path: &str) -> Option<usize> {
    let quoted = format!("\"{path}\"");
    let mut in_block = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if in_block {
            if trimmed.starts_with(')') {
                in_block = false;
            } else if trimmed.split_whitespace().any(|w| w == quoted) {
                return Some(i + 1);
            }
        } else if let Some(rest) = trimmed.strip_prefix("import") {
            let rest = rest.trim();
            if let Some(first) = rest.strip_prefix('(') {
                in_block = true;
                if first.split_whitespace().any(|w| w == quoted) {
                    return Some(i + 1);
                }
            } else if rest.split_whitespace().any(|w| w == quoted) {
                return Some(i + 1);
            }
        }
    }
    None
}

fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().into_owned()
}

/// The machine's `go`, checked against [`SUPPORTED`].
struct GoTool {
    program: PathBuf,
    /// `go1.26.8`.
    version: String,
    /// The module overlay `go list` reads with (see [`ModuleOverlay`]).
    overlay: Option<PathBuf>,
    /// `-mod=mod`: the module vendors its dependencies, but not the SDK.
    mod_mod: bool,
}

impl GoTool {
    /// `go` for wasip1/wasm, cgo off.
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.env("GOOS", "wasip1").env("GOARCH", "wasm").env("CGO_ENABLED", "0");
        command
    }

    /// `go list -json` of `args` in `dir`.
    fn list(&self, dir: &Path, args: &[&str]) -> Result<Vec<Package>> {
        self.list_with(dir, args, false)
    }

    /// `go list -json` of `args` in `dir`, with cgo on or off.
    fn list_with(&self, dir: &Path, args: &[&str], cgo: bool) -> Result<Vec<Package>> {
        let output = self
            .command()
            .env("CGO_ENABLED", if cgo { "1" } else { "0" })
            .current_dir(dir)
            .args(["list", "-e", "-json=Dir,ImportPath,Name,Standard,GoFiles,CgoFiles,EmbedFiles,Deps,Module,Error"])
            .args(self.overlay.iter().map(|o| format!("-overlay={}", o.display())))
            .args(self.mod_mod.then_some("-mod=mod"))
            .args(args)
            .output()
            .with_context(|| format!("failed to run `{}`", self.program.display()))?;
        if !output.status.success() {
            return Err(anyhow::Error::new(ToolOutput { text: String::from_utf8_lossy(&output.stderr).into() })
                .context(Diagnostic::check(format!("`go list` failed in `{}`", dir.display()))));
        }
        serde_json::Deserializer::from_slice(&output.stdout)
            .into_iter::<Package>()
            .collect::<Result<Vec<_>, _>>()
            .context("failed to read `go list -json`")
    }

    fn env(&self, name: &str) -> Option<String> {
        self.env_in(Path::new("."), name)
    }

    /// `go env NAME` in `dir` (GOMOD depends on where it is asked).
    fn env_in(&self, dir: &Path, name: &str) -> Option<String> {
        let output = self.command().current_dir(dir).args(["env", name]).output().ok()?;
        let value = String::from_utf8_lossy(&output.stdout).trim().to_string();
        (output.status.success() && !value.is_empty()).then_some(value)
    }
}

fn install_help() -> String {
    let ((lo_major, lo_minor), (hi_major, hi_minor)) = SUPPORTED;
    format!("install Go {lo_major}.{lo_minor} to {hi_major}.{hi_minor} from https://go.dev/dl (or set WARP_GO)")
}

/// The version of the Go warp would use (`go1.26.8`), or why there is none.
pub fn go_version() -> Result<String> {
    find_go().map(|go| go.version)
}

/// `$WARP_GO`, else `go` on PATH, of a supported release.
fn find_go() -> Result<GoTool> {
    let name = std::env::var("WARP_GO").unwrap_or_else(|_| "go".into());
    let program = crate::fs::find_program(&name).ok_or_else(|| {
        Diagnostic::env(format!("no `{name}` on PATH: Go projects build with the machine's Go")).help(install_help())
    })?;
    let output = Command::new(&program)
        .args(["env", "GOVERSION"])
        .output()
        .with_context(|| format!("failed to run `{}`", program.display()))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    match parse_version(&version) {
        Some(found) if found >= SUPPORTED.0 && found <= SUPPORTED.1 => {
            Ok(GoTool { program, version, overlay: None, mod_mod: false })
        }
        _ => {
            let ((lo_major, lo_minor), (hi_major, hi_minor)) = SUPPORTED;
            Err(Diagnostic::env(format!(
                "`{}` is {}; warp supports Go {lo_major}.{lo_minor} to {hi_major}.{hi_minor} (its net/http bridge depends on the Go release)",
                program.display(),
                if version.is_empty() { "of an unknown version" } else { &version },
            ))
            .help(install_help())
            .into())
        }
    }
}

/// `go1.26.8` (or `go1.26rc1`) → (1, 26).
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let rest = text.strip_prefix("go")?;
    let mut parts = rest.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts.next()?.chars().take_while(char::is_ascii_digit).collect();
    Some((major, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_options_succeed_on_in_process_connections_only() {
        let goroot = tempfile::tempdir().unwrap();
        let net = goroot.path().join("src/net");
        std::fs::create_dir_all(&net).unwrap();
        std::fs::write(
            net.join("sockopt_fake.go"),
            "package net\n\nfunc setKeepAlive(fd *netFD, keepalive bool) error {\n\treturn syscall.ENOPROTOOPT\n}\n",
        )
        .unwrap();
        std::fs::write(net.join("tcpsockopt_stub.go"), "package net\n\nfunc somethingElse() {}\n").unwrap();
        let overlays = sockopt_overlays(goroot.path());
        assert_eq!(overlays.len(), 1, "a file with nothing to change is not overlaid");
        assert!(overlays[0].1.contains("if fd.fakeNetFD != nil {\n\t\treturn nil"), "{}", overlays[0].1);
        assert!(overlays[0].1.contains("return syscall.ENOPROTOOPT"));
    }

    #[test]
    fn versions_parse_to_major_minor() {
        assert_eq!(parse_version("go1.26.8"), Some((1, 26)));
        assert_eq!(parse_version("go1.27rc1"), Some((1, 27)));
        assert_eq!(parse_version("go1.24"), Some((1, 24)));
        assert_eq!(parse_version("devel +abc"), None);
    }

    #[test]
    fn program_names_follow_go_build() {
        assert_eq!(program_name("example.com/hello"), "hello");
        assert_eq!(program_name("github.com/acme/api/cmd/server"), "server");
        assert_eq!(program_name("github.com/acme/api/v2"), "api");
        assert_eq!(program_name("hello"), "hello");
    }

    #[test]
    fn the_sdk_is_required_and_replaced_once() {
        let sdk = Path::new("/cache/sdk/go");
        let plain = with_sdk("module example.com/x\n\ngo 1.24\n", sdk);
        assert!(plain.contains("require warpgrid.dev/sdk v0.0.0\n"));
        assert!(plain.ends_with("replace warpgrid.dev/sdk => /cache/sdk/go\n"));

        let using = "module x\n\nrequire (\n\twarpgrid.dev/sdk v0.1.0\n)\n\nreplace warpgrid.dev/sdk => ../sdk\n";
        let out = with_sdk(using, sdk);
        assert!(!out.contains("../sdk"), "the project's replace is dropped: {out}");
        assert_eq!(out.matches("require").count(), 1, "not required twice: {out}");
        assert_eq!(out.matches("replace").count(), 1);
    }

    #[test]
    fn imports_are_found_with_their_line() {
        let single = "package main\n\nimport \"C\"\n";
        assert_eq!(import_line(single, "C"), Some(3));
        let block = "package main\n\nimport (\n\t\"fmt\"\n\tx \"os/exec\"\n)\n\nvar _ = \"os/exec\"\n";
        assert_eq!(import_line(block, "os/exec"), Some(5));
        assert_eq!(import_line(block, "C"), None);
        assert_eq!(import_line("import (\"os/exec\"\n)", "os/exec"), Some(1));
    }
}
