//! compat-db: which packages work in a WebAssembly component, per
//! ecosystem, as measured by `cargo xtask compat ECOSYSTEM` (which packs
//! and runs a small program per package), and `warp compat analyze`,
//! which reads a project's dependency files and looks each one up (a Bun
//! project's package.json in the Bun records, as `--lang bun` bundles it).
//!
//! The records are the files in `compat-db/` (one per ecosystem, format in
//! `compat-db/README.md`), embedded in the binary by `build.rs`. The types
//! here are the one definition of that format: the xtask writes records
//! with them and `analyze` reads them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::error::Diagnostic;
use crate::lang::Language;
use crate::project::{Lang, Project};

pub mod gomod;
pub mod packagejson;

/// The version of the compat-db file format this build reads and writes.
pub const SCHEMA: u32 = 1;

/// A package ecosystem: one compat-db file each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Go modules (`go.mod`).
    Go,
    /// npm packages for the ts path (`package.json`).
    Npm,
    /// Packages as the Bun path bundles them (`package.json`).
    Bun,
    /// Rust crates (`Cargo.lock`).
    Crates,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 4] = [Ecosystem::Go, Ecosystem::Npm, Ecosystem::Bun, Ecosystem::Crates];

    pub fn name(self) -> &'static str {
        match self {
            Ecosystem::Go => "go",
            Ecosystem::Npm => "npm",
            Ecosystem::Bun => "bun",
            Ecosystem::Crates => "crates",
        }
    }

    /// The ecosystem's file, relative to the repository: `compat-db/go.json`.
    pub fn db_path(self) -> String {
        format!("compat-db/{}.json", self.name())
    }
}

/// What happened when the package was packed and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Packed, ran, and answered what the program should.
    Works,
    /// Packed and ran, but a part did not do what it does natively (and
    /// said so with an error rather than a trap).
    Partial,
    /// Did not pack, trapped, or answered wrongly where it matters.
    Fails,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Works => "works",
            Verdict::Partial => "partial",
            Verdict::Fails => "fails",
        }
    }
}

/// Which tools produced a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestedWith {
    /// `warp --version`'s first line and the commit it was built from.
    pub warp: String,
    /// The language toolchain that built the program: `go1.26.8`.
    pub toolchain: String,
    /// The day it ran (UTC, `YYYY-MM-DD`).
    pub date: String,
}

/// One package's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The package as its ecosystem names it: a Go module path, an npm name.
    pub name: String,
    /// The version that was tested (resolved from `@latest` at the time).
    pub version: String,
    pub verdict: Verdict,
    /// One line: for `partial` and `fails`, what broke (the error, the API);
    /// for `works`, what was checked.
    pub reason: String,
    /// What the program did with the package.
    pub exercised: String,
    pub tested_with: TestedWith,
}

/// One ecosystem's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Db {
    pub schema: u32,
    pub ecosystem: Ecosystem,
    /// The command that regenerates this file.
    pub refresh: String,
    /// Sorted by name, one per name.
    pub packages: Vec<Record>,
}

impl Db {
    pub fn new(ecosystem: Ecosystem) -> Db {
        Db {
            schema: SCHEMA,
            ecosystem,
            refresh: format!("cargo xtask compat {}", ecosystem.name()),
            packages: Vec::new(),
        }
    }

    /// Parses a compat-db file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Db> {
        let db: Db = serde_json::from_str(text).with_context(|| format!("failed to parse `{origin}`"))?;
        if db.schema > SCHEMA {
            return Err(Diagnostic::env(format!(
                "`{origin}` is compat-db schema {}; this warp reads schema {SCHEMA}",
                db.schema
            ))
            .help("update warp")
            .into());
        }
        Ok(db)
    }

    /// The file's text: pretty JSON, packages sorted, ending in a newline.
    pub fn to_text(&self) -> String {
        let mut db = self.clone();
        db.packages.sort_by(|a, b| a.name.cmp(&b.name));
        let mut text = serde_json::to_string_pretty(&db).expect("a compat-db serializes");
        text.push('\n');
        text
    }

    /// Adds `records`, replacing those of the same name.
    pub fn merge(&mut self, records: impl IntoIterator<Item = Record>) {
        for record in records {
            self.packages.retain(|r| r.name != record.name);
            self.packages.push(record);
        }
        self.packages.sort_by(|a, b| a.name.cmp(&b.name));
    }

    pub fn get(&self, name: &str) -> Option<&Record> {
        self.packages.iter().find(|r| r.name == name)
    }

    /// The copy built into this binary, if this build has one for `ecosystem`.
    pub fn embedded(ecosystem: Ecosystem) -> Result<Option<Db>> {
        let path = ecosystem.db_path();
        let Some(bytes) = crate::assets::file(&path) else { return Ok(None) };
        let text = std::str::from_utf8(bytes).with_context(|| format!("`{path}` is not UTF-8"))?;
        Db::parse(text, &path).map(Some)
    }
}

/// A dependency as a project's file declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    pub name: String,
    /// The version the project requires (go.mod), or the range it asks
    /// for as written (package.json: `^4.1.0`, `file:…`).
    pub version: String,
    /// Required only for another dependency (`// indirect` in go.mod;
    /// never in package.json, which names only the project's own).
    pub indirect: bool,
    /// The line of the project's file that declares it (1-based).
    pub line: usize,
}

/// What a dependency file declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declared {
    /// What is looked up in compat-db, in file order.
    pub dependencies: Vec<Dependency>,
    /// What the file declares but `analyze` does not look up.
    pub skipped: Option<Skipped>,
}

/// Packages a file declares that are not looked up, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The part of the file: `devDependencies`.
    pub what: &'static str,
    /// Why they are not looked up: `build and test tools, not bundled`.
    pub why: &'static str,
    pub names: Vec<String>,
}

/// The files `analyze` recognizes, in the order it looks for them, and the
/// reader of each. A file without a reader is recognized and reported as
/// not read yet; adding an ecosystem is adding its reader here. A
/// package.json is looked up in the npm records, or the Bun ones when its
/// project is a Bun project ([`records_for`]).
pub const DEPENDENCY_FILES: &[DependencyFile] = &[
    DependencyFile { file: "go.mod", ecosystem: Ecosystem::Go, read: Some(go_mod) },
    DependencyFile { file: "package.json", ecosystem: Ecosystem::Npm, read: Some(packagejson::dependencies) },
    DependencyFile { file: "Cargo.lock", ecosystem: Ecosystem::Crates, read: None },
];

/// A go.mod's requirements, all of them looked up (`// indirect` ones too).
fn go_mod(text: &str) -> Result<Declared> {
    Ok(Declared { dependencies: gomod::requirements(text)?, skipped: None })
}

/// A kind of dependency file.
pub struct DependencyFile {
    pub file: &'static str,
    pub ecosystem: Ecosystem,
    /// `None`: recognized, not read yet.
    pub read: Option<Reader>,
}

/// Reads a dependency file's text into what it declares.
pub type Reader = fn(&str) -> Result<Declared>;

/// One dependency and what compat-db says of it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    #[serde(flatten)]
    pub dependency: Dependency,
    /// `None`: not in compat-db (`unknown`).
    pub record: Option<Record>,
}

impl Finding {
    /// `works`, `partial`, `fails` or `unknown`.
    pub fn verdict_name(&self) -> &'static str {
        self.record.as_ref().map_or("unknown", |r| r.verdict.name())
    }
}

/// One dependency file of the project, read.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub file: PathBuf,
    pub ecosystem: Ecosystem,
    /// How many packages compat-db holds for the ecosystem.
    pub known_packages: usize,
    pub dependencies: Vec<Finding>,
    /// Declared but not looked up (package.json's `devDependencies`).
    pub skipped: Option<Skipped>,
}

/// What `analyze` found.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub reports: Vec<FileReport>,
    /// Dependency files that are present but not read yet.
    pub not_read: Vec<PathBuf>,
}

impl Analysis {
    /// How many dependencies have each verdict (`unknown` included).
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> =
            ["works", "partial", "fails", "unknown"].into_iter().map(|name| (name, 0)).collect();
        for finding in self.reports.iter().flat_map(|r| &r.dependencies) {
            *counts.entry(finding.verdict_name()).or_default() += 1;
        }
        counts
    }

    /// The dependencies recorded as `fails`.
    pub fn failing(&self) -> Vec<&Finding> {
        self.reports
            .iter()
            .flat_map(|r| &r.dependencies)
            .filter(|f| f.record.as_ref().is_some_and(|r| r.verdict == Verdict::Fails))
            .collect()
    }
}

/// Reads the dependency files of the project at `path` (a directory, or
/// one of its dependency files) and looks each dependency up in `db`
/// (the embedded compat-db, for `warp compat analyze`).
pub fn analyze(path: &Path, db: impl Fn(Ecosystem) -> Result<Option<Db>>) -> Result<Analysis> {
    let candidates: Vec<(PathBuf, &DependencyFile)> = if path.is_file() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let kind = DEPENDENCY_FILES.iter().find(|f| f.file == name).ok_or_else(|| {
            Diagnostic::env(format!("`{}` is not a dependency file warp knows", path.display()))
                .help(format!("give a project directory, or one of: {}", file_names()))
        })?;
        vec![(path.to_path_buf(), kind)]
    } else if path.is_dir() {
        DEPENDENCY_FILES.iter().map(|f| (path.join(f.file), f)).filter(|(p, _)| p.is_file()).collect()
    } else {
        return Err(Diagnostic::env(format!("`{}` does not exist", path.display()))
            .help("give a project directory: `warp compat analyze .`")
            .into());
    };
    if candidates.is_empty() {
        return Err(Diagnostic::env(format!("no {} in `{}`", file_names(), path.display()))
            .help("run `warp compat analyze` on a project directory that has one of them")
            .into());
    }
    let mut analysis = Analysis { reports: Vec::new(), not_read: Vec::new() };
    for (file, kind) in candidates {
        let Some(read) = kind.read else {
            analysis.not_read.push(file);
            continue;
        };
        let text = std::fs::read_to_string(&file).with_context(|| format!("failed to read `{}`", file.display()))?;
        let declared = read(&text).with_context(|| format!("failed to read `{}`", file.display()))?;
        let ecosystem = records_for(kind, &file);
        let db = db(ecosystem)?.unwrap_or_else(|| Db::new(ecosystem));
        let dependencies = declared
            .dependencies
            .into_iter()
            .map(|dependency| {
                let record = db.get(&dependency.name).cloned();
                Finding { dependency, record }
            })
            .collect();
        analysis.reports.push(FileReport {
            file,
            ecosystem,
            known_packages: db.packages.len(),
            dependencies,
            skipped: declared.skipped,
        });
    }
    if analysis.reports.is_empty() {
        let names: Vec<String> = analysis.not_read.iter().map(|f| format!("`{}`", f.display())).collect();
        return Err(Diagnostic::env(format!(
            "{} {} not read yet: {READS}",
            names.join(" and "),
            if names.len() == 1 { "is" } else { "are" }
        ))
        .help("compat-db has Go, npm and Bun records; crates come later")
        .into());
    }
    Ok(analysis)
}

/// The records `file` (a dependency file of kind `kind`) is looked up in:
/// a package.json of a Bun project in the Bun records, as `warp pack`
/// bundles it with Bun's bundler and runtime, not esbuild.
fn records_for(kind: &DependencyFile, file: &Path) -> Ecosystem {
    let dir = file.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if kind.ecosystem == Ecosystem::Npm && is_bun_project(dir) { Ecosystem::Bun } else { kind.ecosystem }
}

/// Whether `warp pack` packs the project in `dir` with Bun: the `lang` of
/// its warp.toml when it names one, else the Bun path's own detection
/// (`bunfig.toml`, `bun.lock`, `bun.lockb`, or a package.json that says
/// Bun). A warp.toml that does not parse is left to `warp pack` to report.
pub fn is_bun_project(dir: &Path) -> bool {
    match Project::open(dir).ok().and_then(|project| project.config.lang) {
        Some(lang) => lang == Lang::Bun,
        None => crate::lang::bun::Bun.detect(dir),
    }
}

/// What `analyze` reads so far, for the messages about the files it does not.
pub const READS: &str = "`warp compat analyze` reads `go.mod` and `package.json` so far";

fn file_names() -> String {
    let names: Vec<String> = DEPENDENCY_FILES.iter().map(|f| format!("`{}`", f.file)).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests;
