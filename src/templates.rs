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

/// The Rust guest SDK (`sdk/rust`), written into each new Rust project at
/// [`SDK_VENDOR_DIR`]: it is not on crates.io, and a vendored copy keeps the
/// project buildable anywhere, offline, at the version this warp speaks.
pub const RUST_SDK: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../sdk/rust/Cargo.toml")),
    ("src/lib.rs", include_str!("../sdk/rust/src/lib.rs")),
    ("src/bindings.rs", include_str!("../sdk/rust/src/bindings.rs")),
];

pub const SDK_VENDOR_DIR: &str = "vendor/warpgrid-sdk";

/// How the templates in this repository name the SDK.
const SDK_REPO_PATH: &str = "path = \"../../sdk/rust\"";

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
    let vendored = format!("path = \"{SDK_VENDOR_DIR}\"");
    let mut written = Vec::new();
    let mut uses_sdk = false;
    for (file, contents) in template.files {
        let contents = match *file {
            "Cargo.toml" => {
                uses_sdk = contents.contains(SDK_REPO_PATH);
                contents.replace(&from, &to).replace(SDK_REPO_PATH, &vendored)
            }
            "Cargo.lock" => contents.replace(&from, &to),
            _ => contents.to_string(),
        };
        written.push(write(&dest.join(file), &contents)?);
    }
    if uses_sdk {
        for (file, contents) in RUST_SDK {
            written.push(write(&dest.join(SDK_VENDOR_DIR).join(file), contents)?);
        }
    }
    Ok(written)
}

fn write(path: &Path, contents: &str) -> Result<PathBuf> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("failed to create `{}`", parent.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(path.to_path_buf())
}
