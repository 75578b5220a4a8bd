//! `warp new`: the project templates under `templates/`, embedded in the
//! binary so that `warp new` works from anywhere.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::Diagnostic;
use crate::project::Lang;

/// A template: the directory it came from, and its files.
pub struct Template {
    pub dir: &'static str,
    /// The package name the template uses in place of the project's name.
    pub placeholder: &'static str,
    pub files: &'static [(&'static str, &'static str)],
}

macro_rules! template_files {
    ($dir:literal: $($file:literal),+ $(,)?) => {
        &[$(($file, include_str!(concat!("../templates/", $dir, "/", $file)))),+]
    };
}

pub const RUST_HTTP: Template = Template {
    dir: "rust-http",
    placeholder: "rust-http",
    files: template_files!("rust-http": "Cargo.toml", "Cargo.lock", "warp.toml", ".gitignore", "src/lib.rs"),
};

pub const RUST_CLI: Template = Template {
    dir: "rust-cli",
    placeholder: "rust-cli",
    files: template_files!("rust-cli": "Cargo.toml", "Cargo.lock", "warp.toml", ".gitignore", "src/main.rs"),
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A wasi:http service.
    Http,
    /// A wasi:cli program.
    Cli,
}

pub fn find(lang: Lang, kind: Kind) -> Result<&'static Template> {
    match (lang, kind) {
        (Lang::Rust, Kind::Http) => Ok(&RUST_HTTP),
        (Lang::Rust, Kind::Cli) => Ok(&RUST_CLI),
        (other, _) => Err(Diagnostic::env(format!("there is no `{other}` template yet; this warp has Rust templates"))
            .help("use `warp new --lang rust NAME`")
            .into()),
    }
}

/// Checks `name` is usable as a package name in every language.
pub fn check_name(name: &str) -> Result<()> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(Diagnostic::env(format!("invalid project name `{name}`"))
            .help("start with a letter; use letters, digits, `-` and `_`")
            .into());
    }
    Ok(())
}

/// Writes `template` into `dest` (which must not exist or be empty) with the
/// package named `name`. Returns the files written.
pub fn instantiate(template: &Template, name: &str, dest: &Path) -> Result<Vec<PathBuf>> {
    check_name(name)?;
    if dest.exists() && dest.read_dir().map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Diagnostic::env(format!("destination `{}` already exists", dest.display()))
            .help("choose another name, or remove the directory")
            .into());
    }
    let from = format!("name = \"{}\"", template.placeholder);
    let to = format!("name = \"{name}\"");
    let mut written = Vec::new();
    for (file, contents) in template.files {
        let path = dest.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("failed to create `{}`", parent.display()))?;
        }
        let contents = if *file == "Cargo.toml" || *file == "Cargo.lock" {
            contents.replace(&from, &to)
        } else {
            contents.to_string()
        };
        std::fs::write(&path, contents).with_context(|| format!("failed to write `{}`", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
