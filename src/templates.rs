//! `warp new`: writes a template into a new project. The templates live in
//! `templates/` and are embedded in the binary (`crate::assets`); each
//! language lists its own ([`crate::lang::Language::templates`]), with the
//! [`Template`] type the languages define.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::Diagnostic;
use crate::lang::{self, Kind, Template};
use crate::project::Lang;

/// The `kind` template of `lang`.
pub fn find(lang: Lang, kind: Kind) -> Result<&'static Template> {
    let templates = templates_of(lang)?;
    templates.iter().find(|t| t.kind == kind).ok_or_else(|| {
        let kinds: Vec<&str> = templates.iter().map(|t| t.kind.name()).collect();
        Diagnostic::env(format!("there is no `{}` template for {}", kind.name(), lang.display_name()))
            .help(format!("{} templates: {}", lang.display_name(), kinds.join(", ")))
            .into()
    })
}

/// The first template of `lang` (`warp new` without `--template`).
pub fn first(lang: Lang) -> Result<&'static Template> {
    let templates = templates_of(lang)?;
    templates.first().ok_or_else(|| Diagnostic::env(format!("there is no `{lang}` template yet")).into())
}

fn templates_of(lang: Lang) -> Result<&'static [Template]> {
    Ok(lang::get(lang)?.templates())
}

/// Checks `name` is usable as a package name in every language.
pub fn check_name(name: &str) -> Result<()> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(Diagnostic::env(format!("invalid project name `{name}`"))
            .help("start with a letter; use letters, digits, `-` and `_` (or pass `--name`)")
            .into());
    }
    Ok(())
}

/// The project name `warp new PATH` gives: the last part of the path.
pub fn name_from_path(path: &Path) -> Result<String> {
    let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        Diagnostic::env(format!("`{}` does not end in a directory name", path.display()))
            .help("give a path such as `services/api`, or name the project with `--name`")
    })?;
    Ok(name.to_string())
}

/// Writes `template` into `dest` (which must not exist or be empty) with the
/// package named `name`. Returns the files written. Nothing is written when
/// a check fails; a failure midway removes what it created.
pub fn instantiate(template: &Template, name: &str, dest: &Path) -> Result<Vec<PathBuf>> {
    check_name(name)?;
    // `exists` follows symlinks: a dangling one would look absent, and a
    // failed write would then remove the user's link. Refuse any symlink.
    if dest.symlink_metadata().is_ok_and(|metadata| metadata.file_type().is_symlink()) {
        return Err(Diagnostic::env(format!("destination `{}` is a symbolic link", dest.display()))
            .help("choose another path, or create the project where the link points")
            .into());
    }
    if dest.exists() && dest.read_dir().map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Diagnostic::env(format!("destination `{}` already exists", dest.display()))
            .help("choose another path, or remove the directory")
            .into());
    }
    let created = !dest.exists();
    let result = write_all(template, name, dest);
    if result.is_err() && created {
        let _ = std::fs::remove_dir_all(dest);
    }
    result
}

fn write_all(template: &Template, name: &str, dest: &Path) -> Result<Vec<PathBuf>> {
    let source = format!("templates/{}", template.dir);
    let mut written = Vec::new();
    for (file, bytes) in crate::assets::under(&source) {
        let mut text = String::from_utf8_lossy(bytes).replace(template.placeholder, name);
        if let Some(sdk) = &template.sdk {
            text = text.replace(sdk.repo_reference, sdk.vendored_reference);
        }
        written.push(write(&dest.join(file), &text)?);
    }
    if let Some(sdk) = &template.sdk {
        for (file, bytes) in crate::assets::under(sdk.source).filter(|(f, _)| (sdk.include)(f)) {
            written.push(write(&dest.join(sdk.vendor_dir).join(file), &String::from_utf8_lossy(bytes))?);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_as_destination_is_refused_and_left_alone() {
        let temp = tempfile::tempdir().unwrap();
        let (dangling, pointing) = (temp.path().join("dang"), temp.path().join("link"));
        std::os::unix::fs::symlink(temp.path().join("nowhere"), &dangling).unwrap();
        std::fs::create_dir(temp.path().join("empty")).unwrap();
        std::os::unix::fs::symlink(temp.path().join("empty"), &pointing).unwrap();
        let template = find(crate::project::Lang::Rust, Kind::Http).unwrap();
        for link in [&dangling, &pointing] {
            let err = instantiate(template, "app", link).unwrap_err().to_string();
            assert!(err.contains("is a symbolic link"), "{err}");
            assert!(link.symlink_metadata().unwrap().file_type().is_symlink(), "the link is kept");
        }
        assert!(!temp.path().join("nowhere").exists());
    }

    #[test]
    fn names_come_from_the_last_path_component() {
        assert_eq!(name_from_path(Path::new("services/api")).unwrap(), "api");
        assert_eq!(name_from_path(Path::new("api")).unwrap(), "api");
        assert!(name_from_path(Path::new("..")).is_err());
    }
}
