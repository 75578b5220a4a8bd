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

use std::path::{Path, PathBuf};

use anyhow::Result;
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

/// A recipe found on disk, with the places that go with it.
#[derive(Debug, Clone)]
pub struct Fork {
    pub name: String,
    pub recipe: Recipe,
    pub recipe_path: PathBuf,
    /// `patches/NAME/`: the series, in file-name order, and `UPSTREAM_REF`.
    pub patches_dir: PathBuf,
}

/// The directory holding `toolchains/`: `start` or the nearest ancestor.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| dir.join(RECIPES_DIR).is_dir()).map(Path::to_path_buf)
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

/// Loads recipe `name` from the `toolchains/` at or above `start`.
pub fn load(start: &Path, name: &str) -> Result<Fork> {
    let root = find_root(start).ok_or_else(|| {
        Diagnostic::env(format!("no `{RECIPES_DIR}/` directory in `{}` or above it", start.display()))
            .help("run warp from the repository that keeps the toolchain recipes")
    })?;
    let recipe_path = root.join(RECIPES_DIR).join(format!("{name}.toml"));
    let text = match std::fs::read_to_string(&recipe_path) {
        Ok(text) => text,
        Err(_) => {
            let known = names(&root);
            return Err(Diagnostic::env(format!("unknown toolchain `{name}`: no `{}`", recipe_path.display()))
                .help(if known.is_empty() {
                    format!("add a recipe at `{RECIPES_DIR}/{name}.toml` (see docs/FORK-MAINTENANCE.md)")
                } else {
                    format!("known toolchains: {}", known.join(", "))
                })
                .into());
        }
    };
    let recipe = parse(&text, &recipe_path)?;
    Ok(Fork { name: name.to_string(), recipe, recipe_path, patches_dir: root.join(PATCHES_DIR).join(name) })
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
