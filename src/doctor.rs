//! `warp doctor`: which tools each language path needs, which are present,
//! and the exact command that fixes what is missing. Each language owns its
//! checks ([`crate::lang::Language::checks`]); this module gathers them.

use crate::lang::{self, Check};

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
