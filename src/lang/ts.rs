//! TypeScript and JavaScript: esbuild bundles the app and its npm
//! dependencies into one ES module, ComponentizeJS (StarlingMonkey)
//! turns it into a `wasi:http` component. Both run in the machine's
//! `node`, from the JS toolchain `warp toolchain install js` puts in warp's
//! cache (pinned by `toolchains/js/package-lock.json`), driven by
//! `toolchains/js/warp-js.mjs`.
//!
//! The app's top level is not run at build time: ComponentizeJS
//! pre-initializes the module, where no import may be called, so warp's
//! prelude (`toolchains/js/prelude.js`) wraps the bundle in a function run
//! on an instance's first request, with `process.env` reading the
//! deployment's environment. The engine exports
//! `wasi:http/incoming-handler@0.2.10` and needs that exact WIT, which warp
//! derives from its own WASI WIT ([`engine_wit`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{Artifact, BuildOutput, BuildRequest, Language, Resolved, Unit};
use crate::error::{Diagnostic, ToolOutput};
use crate::lang::Check;
use crate::lang::{Kind, Sdk, Template};
use crate::project::{DirMode, Lang, Project, World};
use crate::report::Reporter;
use crate::size::Budget;

pub mod wizer;

/// An empty handler's component (the engine and a minimal snapshot) is
/// 13.0 MB raw, 4.1 MB gzip; the ts-http template 13.3 MB, 4.3 MB
/// (docs/BENCHMARKS.md, "TypeScript"): about 3 MB raw of room for the app.
pub const TS_BUDGET: Budget = Budget { raw_bytes: Some(16_000_000), gzip_bytes: Some(5_500_000) };

/// The WASI version of the WIT warp ships (`wit/http/deps`).
const SHIPPED_WASI: &str = "0.2.12";
/// The WASI version ComponentizeJS 0.23's engine was built against: its
/// world must name exactly this one ("failed to find export" otherwise).
pub const ENGINE_WASI: &str = "0.2.10";

/// The oldest `node` the toolchain runs on (esbuild and ComponentizeJS need 18).
const NODE_MIN_MAJOR: u32 = 18;

/// The files the bundler starts from when package.json names none
/// (`module`, then `main`), in order.
const ENTRY_CANDIDATES: &[&str] = &[
    "src/index.ts",
    "src/index.tsx",
    "src/index.js",
    "src/index.mjs",
    "src/worker.ts",
    "src/server.ts",
    "src/app.ts",
    "index.ts",
    "index.js",
    "index.mjs",
    "worker.ts",
    "server.ts",
];

/// The JS path.
pub struct Ts;

/// The SDK as a project gets it: a copy beside the code, named in
/// package.json as a `file:` dependency, so `node` runs the same code.
pub(crate) const JS_SDK: Sdk = Sdk {
    source: "sdk/js",
    vendor_dir: "vendor/warpgrid-sdk",
    repo_reference: "file:../../sdk/js",
    vendored_reference: "file:./vendor/warpgrid-sdk",
    include: |file| file == "package.json" || file == "README.md" || file.starts_with("src/"),
};

pub static TEMPLATES: [Template; 1] =
    [Template { dir: "ts-http", kind: Kind::Http, placeholder: "ts-http", sdk: Some(JS_SDK) }];

impl Language for Ts {
    fn lang(&self) -> Lang {
        Lang::Ts
    }

    fn detect(&self, dir: &Path) -> bool {
        dir.join("package.json").is_file() || dir.join("tsconfig.json").is_file()
    }

    fn default_budget(&self) -> Budget {
        TS_BUDGET
    }

    fn checks(&self) -> Vec<Check> {
        js_checks(Lang::Ts, self.toolchain())
    }

    fn toolchain(&self) -> &'static str {
        "js"
    }

    fn install(&self, reporter: &dyn Reporter) -> Result<()> {
        JsToolchain::install(reporter).map(drop)
    }

    fn templates(&self) -> &'static [Template] {
        &TEMPLATES
    }

    fn resolve(&self, project: &Project, request: &BuildRequest, reporter: &dyn Reporter) -> Result<Box<dyn Resolved>> {
        resolve_js(project, request, reporter, Flavor::Ts)
    }
}

/// Which bundler turns the app into one module: the JS path's esbuild, or
/// Bun's own with warp's Bun runtime (`--lang bun`, src/lang/bun.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Ts,
    Bun,
}

impl Flavor {
    fn lang(self) -> Lang {
        match self {
            Flavor::Ts => Lang::Ts,
            Flavor::Bun => Lang::Bun,
        }
    }
}

/// Finds the entry and the name of a JS project (both flavors).
pub(crate) fn resolve_js(
    project: &Project,
    request: &BuildRequest,
    reporter: &dyn Reporter,
    flavor: Flavor,
) -> Result<Box<dyn Resolved>> {
    reporter.phase("Resolving");
    let root = project.root.canonicalize().unwrap_or_else(|_| project.root.clone());
    let package = PackageJson::read(&root)?;
    if project.config.world == Some(World::Cli) {
        let lang = flavor.lang().display_name();
        return Err(Diagnostic::check(format!(
            "`world = \"cli\"` is not supported for {lang} yet: a JS component is a wasi:http service"
        ))
        .help(format!("remove `world` from warp.toml ({lang} packs as `http`)"))
        .into());
    }
    let entry = entry_point(&root, &package)?;
    let name = package
        .name
        .as_deref()
        .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
        .filter(|n| !n.is_empty())
        .or_else(|| root.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".into());
    let unit =
        Unit { name, package_root: root.clone(), out_dir: root.join("target").join("warp"), project: project.clone() };
    Ok(Box::new(TsUnit { root, entry, package, unit, color: request.color, flavor }))
}

/// What every JS path needs: `node` and the JS toolchain (the same checks
/// for TypeScript and Bun, so `warp doctor` shows them once).
pub(crate) fn js_checks(lang: Lang, toolchain: &str) -> Vec<Check> {
    let node = find_node().ok();
    let engine = JsToolchain::find().ok().map(|t| format!("componentize-js {}, esbuild {}", t.engine, t.esbuild));
    vec![
        Check::new(lang, "node", node.map(|n| n.version), NODE_HELP),
        Check::new(lang, "JS toolchain", engine, &format!("warp toolchain install {toolchain}")),
    ]
}

const NODE_HELP: &str = "install Node.js 18 or later (Debian: `apt-get install nodejs npm`)";

/// The parts of package.json warp reads.
#[derive(Debug, Default, Deserialize)]
struct PackageJson {
    name: Option<String>,
    main: Option<String>,
    module: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, serde_json::Value>,
}

impl PackageJson {
    fn read(root: &Path) -> Result<PackageJson> {
        let path = root.join("package.json");
        let Ok(text) = std::fs::read_to_string(&path) else { return Ok(PackageJson::default()) };
        serde_json::from_str(&text).map_err(|e| {
            Diagnostic::check(format!("`{}` is not valid package.json: {e}", path.display()))
                .help("fix the JSON (line and column above)")
                .into()
        })
    }
}

/// The file the bundle starts from: package.json's `module` or `main`
/// when it names a source file, else the first of [`ENTRY_CANDIDATES`].
fn entry_point(root: &Path, package: &PackageJson) -> Result<PathBuf> {
    let named = [&package.module, &package.main].into_iter().flatten().map(|p| root.join(p)).find(|p| {
        p.is_file()
            && p.extension().is_some_and(|e| ["ts", "tsx", "js", "mjs", "jsx", "mts"].contains(&&*e.to_string_lossy()))
    });
    named.or_else(|| ENTRY_CANDIDATES.iter().map(|c| root.join(c)).find(|p| p.is_file())).ok_or_else(|| {
        Diagnostic::check(format!("no entry point in `{}`", root.display()))
            .help(format!(
                "set `main` in package.json to the file that exports the handler, or create one of: {}",
                ENTRY_CANDIDATES[..4].join(", ")
            ))
            .into()
    })
}

/// A resolved JS project.
struct TsUnit {
    root: PathBuf,
    entry: PathBuf,
    package: PackageJson,
    unit: Unit,
    /// Whether the bundler's messages may carry ANSI colour.
    color: bool,
    flavor: Flavor,
}

/// What `warp-js.mjs bundle` answers.
#[derive(Debug, Deserialize)]
struct Bundled {
    inputs: Vec<PathBuf>,
    handler: bool,
    /// Whether the bundle calls `Bun.serve` (a Bun app packed as TypeScript).
    #[serde(default)]
    bun: bool,
}

impl Resolved for TsUnit {
    fn unit(&self) -> &Unit {
        &self.unit
    }

    fn build(&self, reporter: &dyn Reporter) -> Result<BuildOutput> {
        let toolchain = JsToolchain::find()?;
        let bun = match self.flavor {
            Flavor::Bun => Some(toolchain.bun()?),
            Flavor::Ts => None,
        };
        self.install_dependencies(&toolchain, bun.as_ref(), reporter)?;
        let work = self.unit.out_dir.join("js");
        std::fs::create_dir_all(&work).with_context(|| format!("failed to create `{}`", work.display()))?;

        let config = &self.unit.project.config;
        let shims = config.shims.enabled();
        let mut interfaces = vec![format!("wasi:cli/environment@{ENGINE_WASI}")];
        if self.flavor == Flavor::Bun && !config.dirs.is_empty() {
            // Bun.file and Bun.write reach the preopened directories.
            interfaces.push(format!("wasi:filesystem/types@{ENGINE_WASI}"));
            interfaces.push(format!("wasi:filesystem/preopens@{ENGINE_WASI}"));
        }
        interfaces.extend(shims.iter().map(|shim| shim.import_name()));

        reporter.phase("Bundling");
        let source = work.join("app.js");
        let mut request = serde_json::json!({
            "toolchain": toolchain.dir,
            "entry": self.entry,
            "root": self.root,
            "out": source,
            "sdk_path": sdk_path()?,
            "color": self.color,
            "interfaces": interfaces,
        });
        let bundled: Bundled = match &bun {
            None => {
                reporter.detail(&format!("esbuild {} ({})", toolchain.esbuild, self.relative(&self.entry)));
                toolchain.run(&toolchain.node_driver(&self.root), "bundle", &request, &work, &self.unit.name)?
            }
            Some(bun) => {
                reporter.detail(&format!("bun build {} ({})", bun.version, self.relative(&self.entry)));
                request["bun_version"] = bun.version.clone().into();
                request["dirs"] = config
                    .dirs
                    .iter()
                    .map(|(guest, dir)| serde_json::json!({ "guest": guest, "writable": dir.mode == DirMode::Rw }))
                    .collect();
                let driver = Driver {
                    program: &bun.program,
                    script: toolchain.driver.with_file_name("warp-bun.mjs"),
                    cwd: &self.root,
                };
                toolchain.run(&driver, "bundle", &request, &work, &self.unit.name)?
            }
        };
        if !bundled.handler {
            let (what, help) = match self.flavor {
                Flavor::Ts if bundled.bun => (
                    "exports no request handler",
                    "it calls `Bun.serve`: it is a Bun app, so pack it with `--lang bun` (or add a bunfig.toml, which warp detects)",
                ),
                Flavor::Ts => (
                    "exports no request handler",
                    "export one: `export default { fetch(request) { … } }` (hono: `export default app`), or call `addEventListener('fetch', …)`",
                ),
                Flavor::Bun => (
                    "serves no requests",
                    "serve one: `Bun.serve({ fetch(request) { … } })`, or `export default { fetch(request) { … } }` (hono: `export default app`)",
                ),
            };
            return Err(Diagnostic::check(format!("`{}` {what}", self.relative(&self.entry))).help(help).into());
        }

        let wit = work.join("wit");
        write_engine_wit(&wit, &interfaces)?;
        let js = std::fs::read(&source).with_context(|| format!("failed to read `{}`", source.display()))?;
        let cache = work.join("cache");
        let key = {
            let mut keyed = js.clone();
            keyed.extend_from_slice(JS_PIPELINE.as_bytes());
            keyed.extend_from_slice(crate::assets::digest().as_bytes());
            keyed.extend_from_slice(toolchain.engine.as_bytes());
            keyed.extend_from_slice(world_wit(&interfaces).as_bytes());
            crate::fs::sha256_hex(&keyed)
        };
        let cached = cache.join(format!("{key}.wasm"));
        let component = match std::fs::read(&cached) {
            Ok(component) => component,
            Err(_) => {
                reporter.phase("Componentizing");
                reporter.detail(&format!("ComponentizeJS {}", toolchain.engine));
                std::fs::create_dir_all(&cache).with_context(|| format!("failed to create `{}`", cache.display()))?;
                let out = tempfile::Builder::new()
                    .prefix(".warp-")
                    .suffix(".tmp")
                    .tempfile_in(&cache)
                    .context("failed to create a temporary file")?;
                let _: serde_json::Value = toolchain.run(
                    &toolchain.node_driver(&work),
                    "componentize",
                    &serde_json::json!({
                        "toolchain": toolchain.dir,
                        "source": source,
                        "wit": wit,
                        "world": WORLD_NAME,
                        "out": out.path(),
                        "wizer": wizer_command(&work)?,
                    }),
                    &work,
                    &self.unit.name,
                )?;
                let component = std::fs::read(out.path()).context("failed to read ComponentizeJS's output")?;
                out.persist(&cached).context("failed to keep the component in the cache")?;
                crate::fs::evict_oldest(&cache, JS_CACHE_BYTES, &[&cached]);
                component
            }
        };

        let mut versions = BTreeMap::new();
        versions.insert("node".into(), toolchain.node.version.clone());
        versions.insert("componentize-js".into(), toolchain.engine.clone());
        match &bun {
            None => versions.insert("esbuild".into(), toolchain.esbuild.clone()),
            Some(bun) => versions.insert("bun".into(), bun.version.clone()),
        };
        Ok(BuildOutput {
            artifact: Artifact::Component(component),
            toolchain: versions,
            sources: self.sources(bundled.inputs),
            optimize: None,
        })
    }
}

/// An executable ComponentizeJS can run as its Wizer (`wizerBin` takes a
/// program, not a command line): a script that runs this warp's
/// [`wizer`] subcommand.
fn wizer_command(work: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let warp = std::env::current_exe().context("failed to find warp's own executable")?;
    let quote = |path: &Path| format!("'{}'", path.to_string_lossy().replace('\'', "'\\''"));
    let cache = crate::fs::cache_root()?;
    let script = work.join("warp-wizer");
    let text =
        format!("#!/bin/sh\nexec {} {} --warp-cache={} \"$@\"\n", quote(&warp), wizer::SUBCOMMAND, quote(&cache));
    crate::fs::write_atomic(&script, text.as_bytes())?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("failed to make `{}` executable", script.display()))?;
    Ok(script)
}

/// Part of the component cache's key with the bundle, warp's embedded
/// files (the driver, the prelude) and the engine: bump when what turns a
/// bundle into a component changes on warp's side (its Wizer).
const JS_PIPELINE: &str = "js-1: warp __wizer, seeded random, steady clock, fixed guest paths, no shell variables";

/// At most this much of a project's output directory holds earlier
/// components (about 13 MB each), oldest evicted first.
const JS_CACHE_BYTES: u64 = 80 * 1024 * 1024;

impl TsUnit {
    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root).unwrap_or(path).display().to_string()
    }

    /// The project's dependencies when package.json names some and there
    /// is no `node_modules/` yet, as cargo fetches crates before building:
    /// `npm ci` (`npm install` without a lock file), or for Bun `bun
    /// install` (`--frozen-lockfile` with a lock file).
    fn install_dependencies(
        &self,
        toolchain: &JsToolchain,
        bun: Option<&BunProgram>,
        reporter: &dyn Reporter,
    ) -> Result<()> {
        let none = self.package.dependencies.is_empty() && self.package.dev_dependencies.is_empty();
        if none || self.root.join("node_modules").is_dir() {
            return Ok(());
        }
        let (program, args): (&Path, &[&str]) = match bun {
            Some(bun) if ["bun.lock", "bun.lockb"].iter().any(|f| self.root.join(f).is_file()) => {
                (&bun.program, &["install", "--frozen-lockfile"])
            }
            Some(bun) => (&bun.program, &["install"]),
            None if self.root.join("package-lock.json").is_file() => {
                (&toolchain.node.npm, &["ci", "--no-audit", "--no-fund"])
            }
            None => (&toolchain.node.npm, &["install", "--no-audit", "--no-fund"]),
        };
        let command = format!("{} {}", if bun.is_some() { "bun" } else { "npm" }, args[..args.len().min(2)].join(" "));
        reporter.phase("Installing");
        reporter.detail(&format!("{command} (the project's dependencies)"));
        let output = Command::new(program)
            .args(args)
            .current_dir(&self.root)
            .output()
            .with_context(|| format!("failed to run `{}`", program.display()))?;
        if !output.status.success() {
            return Err(anyhow::Error::new(ToolOutput { text: String::from_utf8_lossy(&output.stderr).into() })
                .context(Diagnostic::check(format!("`{command}` failed in `{}`", self.root.display()))));
        }
        Ok(())
    }

    /// The files the bundle read outside `node_modules/`, with the
    /// project's package files and warp.toml.
    fn sources(&self, inputs: Vec<PathBuf>) -> Vec<PathBuf> {
        let mut files = inputs;
        let package_files =
            ["package.json", "package-lock.json", "tsconfig.json", "bun.lock", "bun.lockb", "bunfig.toml"];
        for file in package_files.into_iter().chain([crate::project::CONFIG_FILE]) {
            files.push(self.root.join(file));
        }
        let files = files.into_iter().filter(|f| f.is_file()).collect();
        super::normalize_sources(files, &self.root, &[self.root.join("node_modules"), self.unit.out_dir.clone()])
    }
}

/// The machine's `node` and `npm`.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    program: PathBuf,
    npm: PathBuf,
    pub version: String,
}

pub(crate) fn find_node() -> Result<Node> {
    let name = std::env::var("WARP_NODE").unwrap_or_else(|_| "node".into());
    let program = crate::fs::find_program(&name).ok_or_else(|| {
        Diagnostic::env(format!("no `{name}` on PATH: TypeScript projects build with Node.js")).help(NODE_HELP)
    })?;
    let output = Command::new(&program)
        .arg("--version")
        .output()
        .with_context(|| format!("failed to run `{}`", program.display()))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let major = version.strip_prefix('v').and_then(|v| v.split('.').next()).and_then(|m| m.parse::<u32>().ok());
    if major.is_none_or(|m| m < NODE_MIN_MAJOR) {
        return Err(Diagnostic::env(format!(
            "`{}` is Node.js {version}; warp needs {NODE_MIN_MAJOR} or later",
            program.display()
        ))
        .help(NODE_HELP)
        .into());
    }
    let npm = program.with_file_name("npm");
    let npm = if npm.is_file() { npm } else { crate::fs::find_program("npm").unwrap_or(npm) };
    Ok(Node { program, npm, version })
}

/// The installed JS toolchain: `$cache/js/<lock digest>/node_modules`.
#[derive(Debug)]
pub(crate) struct JsToolchain {
    node: Node,
    dir: PathBuf,
    /// The driver script, from warp's embedded files.
    driver: PathBuf,
    engine: String,
    esbuild: String,
}

/// The lock file's digest names the install: another lock is another directory.
fn lock_digest() -> String {
    let lock = crate::assets::file("toolchains/js/package-lock.json").expect("the JS lock file is embedded");
    crate::fs::sha256_hex(lock)[..16].to_string()
}

/// Whether `node` and the JS toolchain are there (`Err` says what is missing).
pub fn toolchain_ready() -> Result<()> {
    JsToolchain::find().map(drop)
}

/// Where `warp toolchain install js` installs (the `js` cache area).
pub fn toolchains_dir() -> Result<PathBuf> {
    crate::fs::CacheArea::Js.dir()
}

/// warp's JS SDK as a bundler search path: `<dir>/@warpgrid/sdk` (a
/// project's own `node_modules` copy wins).
fn sdk_path() -> Result<PathBuf> {
    let unpacked = crate::assets::unpacked()?;
    let dir = unpacked.join("js-path");
    let link = dir.join("@warpgrid").join("sdk");
    if !link.exists() {
        std::fs::create_dir_all(link.parent().expect("has a parent"))
            .with_context(|| format!("failed to create `{}`", dir.display()))?;
        match std::os::unix::fs::symlink(unpacked.join("sdk").join("js"), &link) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("failed to create `{}`", link.display())),
        }
    }
    Ok(dir)
}

impl JsToolchain {
    pub(crate) fn find() -> Result<JsToolchain> {
        let node = find_node()?;
        let dir = toolchains_dir()?.join(lock_digest());
        if !dir.join(".complete").is_file() {
            return Err(Diagnostic::env("the JS toolchain (ComponentizeJS, esbuild, bun) is not installed")
                .help("warp toolchain install js")
                .into());
        }
        let version = |package: &str| -> Result<String> {
            let path = dir.join("node_modules").join(package).join("package.json");
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("failed to read `{}`", path.display()))?;
            let value: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("`{}` is not JSON", path.display()))?;
            Ok(value["version"].as_str().unwrap_or("unknown").to_string())
        };
        let engine = version("@bytecodealliance/componentize-js")?;
        let esbuild = version("esbuild")?;
        let driver = crate::assets::unpacked()?.join("toolchains").join("js").join("warp-js.mjs");
        Ok(JsToolchain { node, dir, driver, engine, esbuild })
    }

    /// `npm ci` of warp's lock file into a temporary directory, renamed
    /// into place when complete; an install that exists is kept.
    pub(crate) fn install(reporter: &dyn Reporter) -> Result<JsToolchain> {
        if let Ok(installed) = JsToolchain::find() {
            reporter.detail(&format!("already installed: {}", installed.dir.display()));
            return Ok(installed);
        }
        let node = find_node()?;
        let root = toolchains_dir()?;
        std::fs::create_dir_all(&root).with_context(|| format!("failed to create `{}`", root.display()))?;
        let temp = tempfile::Builder::new()
            .prefix(".install-")
            .tempdir_in(&root)
            .with_context(|| format!("failed to create a temporary directory in `{}`", root.display()))?;
        for file in ["package.json", "package-lock.json"] {
            let bytes = crate::assets::file(&format!("toolchains/js/{file}")).expect("embedded");
            std::fs::write(temp.path().join(file), bytes).with_context(|| format!("failed to write {file}"))?;
        }
        reporter.phase("Installing");
        reporter.detail("npm ci (ComponentizeJS, esbuild, bun; toolchains/js/package-lock.json)");
        // Install scripts are not run: esbuild works through its platform
        // package, and weval's would download from GitHub (AOT is not used).
        let output = Command::new(&node.npm)
            .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
            .current_dir(temp.path())
            .output()
            .with_context(|| format!("failed to run `{}`", node.npm.display()))?;
        if !output.status.success() {
            return Err(anyhow::Error::new(ToolOutput { text: String::from_utf8_lossy(&output.stderr).into() })
                .context(
                    Diagnostic::env("`npm ci` of the JS toolchain failed")
                        .help("check that the npm registry is reachable (`npm ping`)"),
                ));
        }
        std::fs::write(temp.path().join(".complete"), lock_digest()).context("failed to mark the install complete")?;
        let dest = root.join(lock_digest());
        if dest.exists() {
            std::fs::remove_dir_all(&dest)
                .with_context(|| format!("failed to remove the partial `{}`", dest.display()))?;
        }
        let temp = temp.keep();
        std::fs::rename(&temp, &dest).with_context(|| format!("failed to move the install to `{}`", dest.display()))?;
        JsToolchain::find()
    }

    /// Runs `driver`'s `command` with `request` (written into `work`); a
    /// failure in the user's code (exit 1) is a check failure with the
    /// bundler's messages.
    fn run<T: for<'de> Deserialize<'de>>(
        &self,
        driver: &Driver,
        command: &str,
        request: &impl Serialize,
        work: &Path,
        name: &str,
    ) -> Result<T> {
        let request_file = work.join(format!("{command}.json"));
        crate::fs::write_atomic(&request_file, serde_json::to_string(request)?.as_bytes())?;
        let output: Output = Command::new(driver.program)
            .arg(&driver.script)
            .arg(command)
            .arg(&request_file)
            .current_dir(driver.cwd)
            .output()
            .with_context(|| format!("failed to run `{}`", driver.program.display()))?;
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        match output.status.code() {
            Some(0) => {
                let stdout = String::from_utf8_lossy(&output.stdout);
                let last = stdout.lines().last().unwrap_or_default();
                serde_json::from_str(last).with_context(|| format!("warp's JS driver answered `{last}` to `{command}`"))
            }
            Some(1) => Err(anyhow::Error::new(ToolOutput { text: stderr })
                .context(Diagnostic::check(format!("`{name}` failed to bundle")))),
            _ => Err(anyhow::Error::new(ToolOutput { text: stderr }).context(
                Diagnostic::env(format!("the JS toolchain failed to {command} `{name}`"))
                    .help("if this persists, reinstall it: `warp cache clear js && warp toolchain install js`"),
            )),
        }
    }

    /// The pinned `bun` of this install (npm's `bun` package ships the
    /// binary in its platform package; its install script, which only
    /// moves it, is not run).
    pub(crate) fn bun(&self) -> Result<BunProgram> {
        let oven = self.dir.join("node_modules").join("@oven");
        let mut candidates: Vec<PathBuf> = std::fs::read_dir(&oven)
            .map(|entries| {
                entries.flatten().map(|e| e.path().join("bin").join("bun")).filter(|p| p.is_file()).collect()
            })
            .unwrap_or_default();
        // The baseline build (no AVX2) is the fallback: it runs everywhere, slower.
        candidates.sort_by_key(|p| p.to_string_lossy().contains("baseline"));
        let missing = || {
            Diagnostic::env(format!("the JS toolchain in `{}` has no `bun` for this platform", self.dir.display()))
                .help("reinstall it: `warp cache clear js && warp toolchain install bun`")
        };
        for program in candidates {
            let Ok(output) = Command::new(&program).arg("--version").output() else { continue };
            if output.status.success() {
                let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
                return Ok(BunProgram { program, version });
            }
        }
        Err(missing().into())
    }

    fn node_driver<'a>(&'a self, cwd: &'a Path) -> Driver<'a> {
        Driver { program: &self.node.program, script: self.driver.clone(), cwd }
    }
}

/// A driver script and the program that runs it.
struct Driver<'a> {
    program: &'a Path,
    script: PathBuf,
    cwd: &'a Path,
}

/// The `bun` executable warp's JS toolchain pins.
#[derive(Debug, Clone)]
pub(crate) struct BunProgram {
    pub program: PathBuf,
    pub version: String,
}

/// The world every JS component is componentized against.
const WORLD_NAME: &str = "app";

/// The world's WIT: `wasi:http/proxy` and `interfaces` (the environment
/// for the prelude's `process.env`, the enabled shims, …).
fn world_wit(interfaces: &[String]) -> String {
    let mut wit = format!(
        "// Written by warp pack: the world of a JS component.\npackage warpgrid:js@0.1.0;\n\nworld {WORLD_NAME} {{\n  include wasi:http/proxy@{ENGINE_WASI};\n"
    );
    for interface in interfaces {
        wit.push_str(&format!("  import {interface};\n"));
    }
    wit.push_str("}\n");
    wit
}

/// Writes the engine's WIT into `dir`: [`world_wit`], warp's WASI WIT
/// restated at [`ENGINE_WASI`], and the shims.
fn write_engine_wit(dir: &Path, interfaces: &[String]) -> Result<()> {
    let deps = dir.join("deps");
    std::fs::create_dir_all(&deps).with_context(|| format!("failed to create `{}`", deps.display()))?;
    for (file, bytes) in crate::assets::under("wit/http/deps") {
        let text = std::str::from_utf8(bytes).context("embedded WIT is UTF-8")?;
        crate::fs::write_atomic(&deps.join(file), engine_wit(text).as_bytes())?;
    }
    crate::fs::write_atomic(&deps.join("shim.wit"), crate::assets::file("wit/shim.wit").expect("embedded"))?;
    crate::fs::write_atomic(&dir.join("world.wit"), world_wit(interfaces).as_bytes())
}

/// One WASI WIT file restated at [`ENGINE_WASI`]: the package versions
/// rewritten, and the items added after it (`@since` a later version, one
/// line each) left out, as that release's WIT did not have them.
pub fn engine_wit(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(version) = since_version(line)
            && newer_than_engine(version)
        {
            lines.next();
            continue;
        }
        out.push_str(&line.replace(&format!("@{SHIPPED_WASI}"), &format!("@{ENGINE_WASI}")));
        out.push('\n');
    }
    out
}

/// `@since(version = 0.2.12)` → `0.2.12`.
fn since_version(line: &str) -> Option<&str> {
    line.trim().strip_prefix("@since(version = ")?.strip_suffix(')')
}

fn newer_than_engine(version: &str) -> bool {
    let parse = |v: &str| -> Vec<u32> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    parse(version) > parse(ENGINE_WASI)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shim::Shim;

    #[test]
    fn engine_wit_names_only_the_engine_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut interfaces = vec![format!("wasi:cli/environment@{ENGINE_WASI}")];
        interfaces.extend(Shim::ALL.iter().map(|shim| shim.import_name()));
        write_engine_wit(dir.path(), &interfaces).unwrap();
        let mut resolve = wit_parser::Resolve::default();
        let (package, _) = resolve.push_dir(dir.path()).expect("the engine's WIT parses");
        let world = resolve.select_world(&[package], Some(WORLD_NAME)).unwrap();
        let names: Vec<String> = resolve.worlds[world].imports.keys().map(|key| resolve.name_world_key(key)).collect();
        assert!(names.contains(&format!("wasi:cli/environment@{ENGINE_WASI}")), "{names:?}");
        assert!(names.contains(&"warpgrid:shim/dns@0.1.0".to_string()), "{names:?}");
        for (_, package) in resolve.packages.iter() {
            if package.name.namespace == "wasi" {
                assert_eq!(package.name.version.as_ref().unwrap().to_string(), ENGINE_WASI);
            }
        }
    }

    #[test]
    fn items_newer_than_the_engine_are_left_out() {
        let text = "package wasi:cli@0.2.12;\ninterface exit {\n  @since(version = 0.2.0)\n  exit: func();\n  @since(version = 0.2.12)\n  exit-with-code: func(status-code: u8);\n}\n";
        assert_eq!(
            engine_wit(text),
            "package wasi:cli@0.2.10;\ninterface exit {\n  @since(version = 0.2.0)\n  exit: func();\n}\n"
        );
    }

    #[test]
    fn the_entry_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert!(entry_point(root, &PackageJson::default()).unwrap_err().to_string().contains("no entry point"));
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/index.ts"), "").unwrap();
        assert_eq!(entry_point(root, &PackageJson::default()).unwrap(), root.join("src/index.ts"));
        std::fs::write(root.join("app.mjs"), "").unwrap();
        let package = PackageJson { main: Some("app.mjs".into()), ..PackageJson::default() };
        assert_eq!(entry_point(root, &package).unwrap(), root.join("app.mjs"));
        let package = PackageJson { main: Some("dist/index.js".into()), ..PackageJson::default() };
        assert_eq!(entry_point(root, &package).unwrap(), root.join("src/index.ts"));
    }
}
