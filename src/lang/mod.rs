//! Language paths. Each language is one type implementing [`Language`]:
//! it recognizes its projects, knows its default budget, its `doctor`
//! checks and `toolchain install`, carries its `warp new` templates,
//! resolves a project (name, package root, output directory, a member's own
//! `warp.toml`) and builds it, reporting the source files the build read.
//!
//! Adding a language is one module here plus one line in [`REGISTRY`]
//! (the checklist is in docs/ARCHITECTURE.md); the registration tests below
//! fail when a language is only half there.

pub mod bun;
pub mod c;
pub mod go;
pub mod rust;
pub mod ts;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;
use serde::Serialize;

use crate::error::Diagnostic;
use crate::project::{Lang, Project};
use crate::report::Reporter;
use crate::size::Budget;

/// Every language, in detection order: the first that claims a directory
/// wins (Bun before TypeScript: a Bun project has a package.json too).
pub static REGISTRY: &[&dyn Language] = &[&rust::Rust, &go::Go, &bun::Bun, &ts::Ts, &c::C];

/// The languages this warp packs, in detection order.
pub fn languages() -> impl Iterator<Item = &'static dyn Language> {
    REGISTRY.iter().copied()
}

/// One language's whole path through warp.
pub trait Language: Sync {
    fn lang(&self) -> Lang;
    /// Whether the files in `dir` say it is a project in this language.
    fn detect(&self, dir: &Path) -> bool;
    /// The budget when neither `warp.toml` nor flags set one.
    fn default_budget(&self) -> Budget;
    /// What this path needs on the machine: each present or missing, with the fix.
    fn checks(&self) -> Vec<Check>;
    /// The name `warp toolchain install NAME` knows this path's toolchain by.
    fn toolchain(&self) -> &'static str;
    /// `warp toolchain install`: makes [`Language::checks`] pass where warp can.
    fn install(&self, reporter: &dyn Reporter) -> Result<()>;
    /// `warp new --lang L --template KIND` templates.
    fn templates(&self) -> &'static [Template];
    /// The compilers `warp pack --toolchain` may name (the first is the
    /// default); empty when the language has one.
    fn compilers(&self) -> &'static [&'static str] {
        &[]
    }
    /// `http.reuse` when `warp.toml` does not set it: how many requests one
    /// instance serves. 1 (a fresh instance per request) unless the
    /// language's start-up is worth keeping.
    fn default_reuse(&self) -> u32 {
        1
    }
    /// Finds what to build in `project` (before building anything).
    fn resolve(&self, project: &Project, request: &BuildRequest, reporter: &dyn Reporter) -> Result<Box<dyn Resolved>>;
}

/// What the user asked to build.
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    /// `-p`: the package in a workspace.
    pub package: Option<String>,
    /// `--bin`: the binary target, when a package has several.
    pub bin: Option<String>,
    /// Whether compiler diagnostics may carry ANSI colour.
    pub color: bool,
    /// `--toolchain`: one of the language's [`Language::compilers`].
    pub toolchain: Option<String>,
    /// For `warp dev`: build for a quick edit-to-response loop (Rust's
    /// `warp-dev` profile: no LTO, incremental) rather than for size.
    pub dev: bool,
}

/// A project resolved to the one thing that becomes a component.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The component's name (the package name).
    pub name: String,
    /// The built package's directory (a workspace member's, in a workspace).
    pub package_root: PathBuf,
    /// Where the packed component goes unless `-o` says otherwise.
    pub out_dir: PathBuf,
    /// The settings that apply: the member's own `warp.toml` when it has one.
    pub project: Project,
}

/// A resolved project, ready to build.
pub trait Resolved {
    fn unit(&self) -> &Unit;
    fn build(&self, reporter: &dyn Reporter) -> Result<BuildOutput>;
}

/// What a build produced.
#[derive(Debug)]
pub struct BuildOutput {
    pub artifact: Artifact,
    /// Tool → version, recorded in the run manifest.
    pub toolchain: BTreeMap<String, String>,
    /// Every source file the build read (what `warp dev` watches), absolute
    /// and sorted; files of the toolchain itself and of registries are left out.
    pub sources: Vec<PathBuf>,
    /// How hard `wasm-opt` works on a core module; `None` skips it.
    pub optimize: Option<crate::optimize::Level>,
}

#[derive(Debug)]
pub enum Artifact {
    /// A core module with `component-type` sections, to optimize and componentize.
    CoreModule(Vec<u8>),
    /// Already a component (the toolchain componentized it itself).
    Component(Vec<u8>),
}

/// The language registered for `lang`.
pub fn get(lang: Lang) -> Result<&'static dyn Language> {
    languages().find(|l| l.lang() == lang).ok_or_else(|| {
        Diagnostic::env(format!(
            "`warp pack --lang {lang}` is not implemented yet; this warp packs {}",
            implemented("and")
        ))
        .help(format!("track the language's issue, or pack a {} project", implemented("or")))
        .into()
    })
}

/// The language whose files are in `dir`: the first of the registry that claims it.
pub fn detect(dir: &Path) -> Option<&'static dyn Language> {
    languages().find(|language| language.detect(dir))
}

/// The language of `project`: `explicit` (`--lang`), else `warp.toml`'s
/// `lang`, else what its files say.
pub fn for_project(project: &Project, explicit: Option<Lang>) -> Result<&'static dyn Language> {
    match explicit.or(project.config.lang) {
        Some(lang) => get(lang),
        None => detect(&project.root).ok_or_else(|| {
            Diagnostic::env(format!(
                "cannot tell the language of `{}`: no project file of {} here, and no `lang` in warp.toml",
                project.root.display(),
                implemented("or")
            ))
            .help("name it: `warp pack --lang LANG PATH`, or set `lang` in warp.toml")
            .into()
        }),
    }
}

/// The language whose toolchain is called `name` (`warp toolchain install`).
pub fn by_toolchain(name: &str) -> Result<&'static dyn Language> {
    languages().find(|l| l.toolchain() == name).ok_or_else(|| {
        let known: Vec<&str> = languages().map(|l| l.toolchain()).collect();
        Diagnostic::env(format!("unknown toolchain `{name}`"))
            .help(format!(
                "known toolchains: {} (forked toolchains are built with `warp toolchain build NAME`)",
                known.join(", ")
            ))
            .into()
    })
}

/// "Rust and C" (or "Rust or C"): the registered languages, for messages.
fn implemented(conjunction: &str) -> String {
    let names: Vec<&str> = languages().map(|l| l.lang().display_name()).collect();
    match names.as_slice() {
        [] => "nothing".into(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

/// The files a make-style dependency file (`target: dep dep \`, as cargo and
/// clang write) names, with `\ ` unescaped; targets are left out.
pub fn parse_dep_info(text: &str) -> Vec<PathBuf> {
    let joined = text.replace("\\\n", " ");
    let mut files = Vec::new();
    for line in joined.lines() {
        let Some((_, deps)) = split_rule(line) else { continue };
        let mut current = String::new();
        let mut chars = deps.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&' ') => {
                    current.push(' ');
                    chars.next();
                }
                ' ' | '\t' => {
                    if !current.is_empty() {
                        files.push(PathBuf::from(std::mem::take(&mut current)));
                    }
                }
                c => current.push(c),
            }
        }
        if !current.is_empty() {
            files.push(PathBuf::from(current));
        }
    }
    files
}

/// `target: deps` → `deps`; the colon is the first one followed by a space
/// or the end (so `C:\x` on other systems is not split).
fn split_rule(line: &str) -> Option<(&str, &str)> {
    let bytes = line.as_bytes();
    let at = (0..bytes.len()).find(|&i| bytes[i] == b':' && bytes.get(i + 1).is_none_or(|b| *b == b' '))?;
    Some((&line[..at], &line[at + 1..]))
}

/// `files` made absolute against `base`, without those under `exclude`,
/// sorted and deduplicated.
pub fn normalize_sources(files: Vec<PathBuf>, base: &Path, exclude: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = files
        .into_iter()
        .map(|f| if f.is_absolute() { f } else { base.join(f) })
        .filter(|f| !exclude.iter().any(|e| f.starts_with(e)))
        .collect();
    out.sort();
    out.dedup();
    out
}

// What a language says of the tools its path needs, for `warp doctor`
// (which gathers them: `crate::doctor`).

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    /// The languages this is needed for.
    pub needed_for: Vec<Lang>,
    /// The version found, or `None` when missing.
    pub found: Option<String>,
    /// What to run when it is missing.
    pub fix: Option<String>,
}

impl Check {
    /// A check for `lang`: `found` (a version, or `None`) and the `fix` for when it is missing.
    pub fn new(lang: Lang, name: &str, found: Option<String>, fix: &str) -> Check {
        Check { name: name.into(), needed_for: vec![lang], fix: found.is_none().then(|| fix.to_string()), found }
    }

    pub fn ok(&self) -> bool {
        self.found.is_some()
    }
}

/// The first line `program ARGS` prints, when it runs and succeeds.
pub fn version(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Some(text.lines().next().unwrap_or("").trim().to_string())
}

// What a language says of its `warp new` templates (writing one into a
// project is `crate::templates`'s).

/// A template: `templates/DIR`, the name it uses where the project's goes,
/// and the guest SDK it references, if any.
pub struct Template {
    pub dir: &'static str,
    pub kind: Kind,
    /// The package name the template uses, replaced by the project's name in every file.
    pub placeholder: &'static str,
    pub sdk: Option<Sdk>,
}

/// A guest SDK a template depends on by a path into this repository; a new
/// project gets its own copy, so it builds anywhere, offline, at the version
/// this warp speaks.
pub struct Sdk {
    /// Where the SDK is embedded (`sdk/rust`).
    pub source: &'static str,
    /// Where a new project keeps its copy (`vendor/warpgrid-sdk`).
    pub vendor_dir: &'static str,
    /// How the template names the SDK in the repository, and how a new
    /// project names its copy instead.
    pub repo_reference: &'static str,
    pub vendored_reference: &'static str,
    /// Which of the SDK's files a project's copy takes (its sources and
    /// manifest, not a local build's leftovers).
    pub include: fn(&str) -> bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A wasi:http service.
    Http,
    /// A wasi:cli program.
    Cli,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Cli => "cli",
        }
    }
}

#[cfg(test)]
mod tests;
