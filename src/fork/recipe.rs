//! Toolchain recipes: `toolchains/NAME.toml` beside `patches/NAME/`.
//!
//! ```toml
//! description = "wasi-libc with the warpgrid shims"
//! [upstream]
//! git = "https://github.com/WebAssembly/wasi-libc.git"
//! ref = "main"                 # what `warp rebase` follows by default
//! # or: npm = "@bytecodealliance/componentize-js", version = "0.19.3"
//! [build]
//! requires = [{ tool = "clang-19", debian = "clang-19" }]
//! steps = [["make", "-j{jobs}", "CC=clang-19", "SYSROOT={out}/sysroot"]]
//! outputs = ["sysroot"]
//! ```
//!
//! The exact commit the series applies to is `patches/NAME/UPSTREAM_REF`
//! (written by `warp rebase`); without it, `ref` is resolved.
//!
//! Recipes and series travel inside the binary (`crate::assets`); a
//! checkout that keeps its own `toolchains/` wins, so the people who
//! maintain the forks edit and rebase the series in their repository.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::error::Diagnostic;

pub const RECIPES_DIR: &str = "toolchains";
pub const PATCHES_DIR: &str = "patches";
pub const UPSTREAM_REF_FILE: &str = "UPSTREAM_REF";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    #[serde(default)]
    pub description: Option<String>,
    /// Short names that also find this recipe (`libc` for `wasi-libc`).
    #[serde(default)]
    pub aliases: Vec<String>,
    pub upstream: Upstream,
    #[serde(default)]
    pub build: Option<Build>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    pub git: Option<String>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub npm: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    #[serde(default)]
    pub requires: Vec<Requirement>,
    pub steps: Vec<Vec<String>>,
    #[serde(default)]
    pub outputs: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// A program that must be on PATH.
    #[serde(default)]
    pub tool: Option<String>,
    /// A file that must exist (e.g. a runtime library).
    #[serde(default)]
    pub file: Option<String>,
    /// The Debian package that provides it, for the error's `help:`.
    #[serde(default)]
    pub debian: Option<String>,
}

/// Where the upstream comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Git { url: String, reference: String },
    Npm { package: String, version: String },
}

impl Recipe {
    pub fn source(&self) -> Source {
        match (&self.upstream.git, &self.upstream.npm) {
            (Some(url), _) => Source::Git {
                url: url.clone(),
                reference: self.upstream.reference.clone().unwrap_or_else(|| "HEAD".into()),
            },
            (None, Some(package)) => {
                Source::Npm { package: package.clone(), version: self.upstream.version.clone().unwrap_or_default() }
            }
            (None, None) => unreachable!("checked when parsed"),
        }
    }
}

/// Where a recipe was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A checkout that keeps `toolchains/` and `patches/` (the people who
    /// maintain the forks): its series is the one to edit and rebase.
    Checkout(PathBuf),
    /// The copy embedded in this binary, unpacked into warp's cache.
    Embedded(PathBuf),
}

/// A recipe found on disk, with the places that go with it.
#[derive(Debug, Clone)]
pub struct Fork {
    pub name: String,
    pub recipe: Recipe,
    pub recipe_path: PathBuf,
    /// `patches/NAME/`: the series, in file-name order, and `UPSTREAM_REF`.
    pub patches_dir: PathBuf,
    pub origin: Origin,
}

/// The nearest directory at or above `start` that keeps recipes.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| !names(dir).is_empty()).map(Path::to_path_buf)
}

/// The recipe names under `root/toolchains`, sorted.
pub fn names(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join(RECIPES_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.strip_suffix(".toml").map(str::to_string))
        .collect();
    names.sort();
    names
}

/// The recipes embedded in this binary: (name, recipe), sorted by name.
pub fn embedded() -> Vec<(String, Recipe)> {
    crate::assets::under(RECIPES_DIR)
        .filter_map(|(file, bytes)| {
            let name = file.strip_suffix(".toml").filter(|n| !n.contains('/'))?;
            let path = Path::new(RECIPES_DIR).join(file);
            let recipe = parse(std::str::from_utf8(bytes).ok()?, &path).ok()?;
            Some((name.to_string(), recipe))
        })
        .collect()
}

/// One line per recipe carried in this binary, for `warp --version`:
/// name, aliases, upstream and pinned base, and the length of its series.
pub fn embedded_summary() -> Vec<String> {
    let recipes = embedded();
    let width = recipes.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    recipes
        .iter()
        .map(|(name, recipe)| {
            let series = crate::assets::under(&format!("{PATCHES_DIR}/{name}"))
                .filter(|(file, _)| file.ends_with(".patch"))
                .count();
            let pinned = crate::assets::file(&format!("{PATCHES_DIR}/{name}/{UPSTREAM_REF_FILE}"))
                .map(|id| String::from_utf8_lossy(id).trim().chars().take(12).collect::<String>());
            let upstream = match recipe.source() {
                Source::Git { reference, .. } => format!("git {}", pinned.unwrap_or(reference)),
                Source::Npm { package, version } => format!("npm {package}@{version}"),
            };
            let aliases = if recipe.aliases.is_empty() {
                String::new()
            } else {
                format!(" (alias {})", recipe.aliases.join(", "))
            };
            let plural = if series == 1 { "" } else { "es" };
            format!("{name:<width$}  {upstream}, {series} patch{plural}{aliases}")
        })
        .collect()
}

/// `name`, or the recipe in `root` that carries it as an alias.
fn canonical(root: &Path, name: &str) -> Option<String> {
    let known = names(root);
    if known.iter().any(|n| n == name) {
        return Some(name.to_string());
    }
    known.into_iter().find(|candidate| {
        let path = root.join(RECIPES_DIR).join(format!("{candidate}.toml"));
        std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| parse(&text, &path).ok())
            .is_some_and(|recipe| recipe.aliases.iter().any(|alias| alias == name))
    })
}

/// Loads recipe `name` (or an alias such as `libc`): from a checkout at or
/// above `start` when it has that recipe, else the copy in this binary.
pub fn load(start: &Path, name: &str) -> Result<Fork> {
    let checkout = find_root(start);
    if let Some(root) = &checkout
        && let Some(found) = canonical(root, name)
    {
        return load_from(root, &found, Origin::Checkout(root.clone()));
    }
    let unpacked = crate::assets::unpacked()?;
    if let Some(found) = canonical(&unpacked, name) {
        return load_from(&unpacked, &found, Origin::Embedded(unpacked.clone()));
    }
    let mut known = checkout.as_deref().map(names).unwrap_or_default();
    for (embedded, recipe) in embedded() {
        if !known.contains(&embedded) {
            known.push(match recipe.aliases.as_slice() {
                [] => embedded,
                aliases => format!("{embedded} ({})", aliases.join(", ")),
            });
        }
    }
    Err(Diagnostic::env(format!("unknown toolchain `{name}`"))
        .help(format!(
            "known toolchains: {}; a new one is a recipe at `{RECIPES_DIR}/{name}.toml` (see docs/FORK-MAINTENANCE.md)",
            known.join(", ")
        ))
        .into())
}

/// Loads recipe `name` from a checkout, for the commands that rewrite its
/// series (`warp rebase`, `warp patches export`): the copy inside the
/// binary is not anyone's to edit.
pub fn load_for_editing(start: &Path, name: &str) -> Result<Fork> {
    let fork = load(start, name)?;
    if let Origin::Embedded(_) = fork.origin {
        return Err(Diagnostic::env(format!(
            "no `{RECIPES_DIR}/{0}.toml` in `{1}` or above it: the `{0}` series to rewrite lives in a checkout",
            fork.name,
            start.display()
        ))
        .help(format!(
            "run this in the repository that keeps `{RECIPES_DIR}/` and `{PATCHES_DIR}/` (a clone of warp's own); \
             `warp toolchain prepare {}` works anywhere with the series built into warp",
            fork.name
        ))
        .into());
    }
    Ok(fork)
}

fn load_from(root: &Path, name: &str, origin: Origin) -> Result<Fork> {
    let recipe_path = root.join(RECIPES_DIR).join(format!("{name}.toml"));
    let text =
        std::fs::read_to_string(&recipe_path).with_context(|| format!("failed to read `{}`", recipe_path.display()))?;
    let recipe = parse(&text, &recipe_path)?;
    Ok(Fork { name: name.to_string(), recipe, recipe_path, patches_dir: root.join(PATCHES_DIR).join(name), origin })
}

/// Parses a recipe; errors name the file and the field.
pub fn parse(text: &str, path: &Path) -> Result<Recipe> {
    let invalid = |what: &str| Diagnostic::check(format!("invalid recipe `{}`: {}", path.display(), what.trim_end()));
    let recipe: Recipe = toml::from_str(text).map_err(|e| invalid(&e.to_string()))?;
    let upstream = &recipe.upstream;
    match (&upstream.git, &upstream.npm) {
        (Some(_), Some(_)) => Err(invalid("`upstream` names both `git` and `npm`; pick one"))?,
        (None, None) => Err(invalid("`upstream` needs `git` (with `ref`) or `npm` (with `version`)"))?,
        (None, Some(_)) if upstream.version.is_none() => Err(invalid("`upstream.npm` needs `upstream.version`"))?,
        (Some(_), None) if upstream.version.is_some() => {
            Err(invalid("`upstream.version` goes with `npm`; a git upstream pins with `ref`"))?
        }
        _ => {}
    }
    if let Some(build) = &recipe.build {
        if let Some(index) = build.steps.iter().position(Vec::is_empty) {
            Err(invalid(&format!("`build.steps[{index}]` is empty: a step is a command and its arguments")))?;
        }
        for (index, requirement) in build.requires.iter().enumerate() {
            if requirement.tool.is_some() == requirement.file.is_some() {
                Err(invalid(&format!("`build.requires[{index}]` needs exactly one of `tool` and `file`")))?;
            }
        }
    }
    Ok(recipe)
}

impl Fork {
    /// The series: `patches/NAME/*.patch` in file-name order.
    pub fn patch_files(&self) -> Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&self.patches_dir) {
            Ok(entries) => entries
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "patch"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => Err(Diagnostic::env(format!("failed to read `{}`: {e}", self.patches_dir.display())))?,
        };
        files.sort();
        Ok(files)
    }

    /// The commit recorded in `patches/NAME/UPSTREAM_REF`, if any.
    pub fn upstream_ref(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.patches_dir.join(UPSTREAM_REF_FILE)).ok()?;
        let id = text.trim();
        (!id.is_empty()).then(|| id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_recipe_parses_and_libc_is_an_alias() {
        let embedded = embedded();
        let names: Vec<&str> = embedded.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(crate::assets::under(RECIPES_DIR).filter(|(f, _)| f.ends_with(".toml")).count(), names.len());
        let (_, libc) = embedded.iter().find(|(name, _)| name == "wasi-libc").expect("wasi-libc is embedded");
        assert_eq!(libc.aliases, ["libc"]);
    }

    #[test]
    fn recipes_parse_and_bad_ones_name_the_field() {
        let path = Path::new("toolchains/x.toml");
        let git = parse("[upstream]\ngit = \"https://example.org/x.git\"\nref = \"main\"\n", path).unwrap();
        assert_eq!(git.source(), Source::Git { url: "https://example.org/x.git".into(), reference: "main".into() });
        let npm = parse("[upstream]\nnpm = \"@scope/pkg\"\nversion = \"1.2.3\"\n", path).unwrap();
        assert_eq!(npm.source(), Source::Npm { package: "@scope/pkg".into(), version: "1.2.3".into() });
        for (bad, says) in [
            ("[upstream]\n", "needs `git`"),
            ("[upstream]\ngit = \"a\"\nnpm = \"b\"\n", "both"),
            ("[upstream]\nnpm = \"b\"\n", "needs `upstream.version`"),
            ("[upstream]\ngit = \"a\"\nversion = \"1\"\n", "goes with `npm`"),
            ("[upstream]\ngit = \"a\"\nbranch = \"main\"\n", "unknown field `branch`"),
            ("[upstream]\ngit = \"a\"\n[build]\nsteps = [[]]\n", "`build.steps[0]` is empty"),
            (
                "[upstream]\ngit = \"a\"\n[build]\nsteps = [[\"make\"]]\nrequires = [{ debian = \"x\" }]\n",
                "`build.requires[0]`",
            ),
            ("upstream = 3\n", "invalid type"),
        ] {
            let message = parse(bad, path).unwrap_err().to_string();
            assert!(message.contains("toolchains/x.toml") && message.contains(says), "{bad:?}: {message}");
        }
    }
}
