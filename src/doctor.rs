//! `warp doctor`: which tools each language path needs, which are present,
//! and the exact command that fixes what is missing. Each language owns its
//! checks ([`crate::lang::Language::checks`]); this module gathers them.

use std::process::Command;

use serde::Serialize;

use crate::lang;
use crate::project::Lang;

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

/// Every registered language's checks; a tool two languages need is listed
/// once, naming both.
pub fn run_checks() -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    for language in lang::languages() {
        for check in language.checks() {
            match checks.iter_mut().find(|c| c.name == check.name) {
                Some(existing) => existing.needed_for.extend(check.needed_for),
                None => checks.push(check),
            }
        }
    }
    checks
}
