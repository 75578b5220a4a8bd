//! Bun: Bun's own bundler (the `bun` warp's JS toolchain pins) bundles the
//! app with warp's Bun runtime (`toolchains/js/bun/runtime.js`), which maps
//! `Bun.serve`, `Bun.env`, `Bun.file` and the rest onto the component;
//! then the same ComponentizeJS path as TypeScript ([`super::ts`]).
//! `toolchains/js/warp-bun.mjs` refuses, at pack time and with the file
//! and line, what a component cannot do (`Bun.spawn`, `bun:sqlite`, …).

use std::path::Path;

use anyhow::Result;

use super::ts::{self, Flavor, JsToolchain};
use super::{BuildRequest, Language, Resolved};
use crate::lang::Check;
use crate::lang::{Kind, Template};
use crate::project::{Lang, Project};
use crate::report::Reporter;
use crate::size::Budget;

/// The Bun path.
pub struct Bun;

/// The engine is TypeScript's (13.0 MB raw, 4.1 MB gzip), with warp's Bun
/// runtime; Bun's main framework weighs more than hono: an Elysia hello is
/// 21.1 MB raw, 6.8 MB gzip (its ~0.9 MB bundle, parsed into the snapshot).
pub const BUN_BUDGET: Budget = Budget { raw_bytes: Some(24_000_000), gzip_bytes: Some(8_000_000) };

/// The files that mark a Bun project on their own.
const MARKERS: &[&str] = &["bunfig.toml", "bun.lock", "bun.lockb"];

pub static TEMPLATES: [Template; 1] =
    [Template { dir: "bun-http", kind: Kind::Http, placeholder: "bun-http", sdk: Some(ts::JS_SDK) }];

impl Language for Bun {
    fn lang(&self) -> Lang {
        Lang::Bun
    }

    fn detect(&self, dir: &Path) -> bool {
        MARKERS.iter().any(|file| dir.join(file).is_file()) || package_says_bun(dir)
    }

    fn default_budget(&self) -> Budget {
        BUN_BUDGET
    }

    fn checks(&self) -> Vec<Check> {
        let bun = JsToolchain::find().ok().and_then(|t| t.bun().ok()).map(|b| b.version);
        let mut checks = ts::js_checks(Lang::Bun, self.toolchain());
        checks.push(Check::new(Lang::Bun, "bun", bun, "warp toolchain install bun"));
        checks
    }

    fn toolchain(&self) -> &'static str {
        "bun"
    }

    /// The JS toolchain (one lock file pins ComponentizeJS and `bun`), and
    /// a check that its `bun` runs here.
    fn install(&self, reporter: &dyn Reporter) -> Result<()> {
        let toolchain = JsToolchain::install(reporter)?;
        let bun = toolchain.bun()?;
        reporter.detail(&format!("bun {} ({})", bun.version, bun.program.display()));
        Ok(())
    }

    fn templates(&self) -> &'static [Template] {
        &TEMPLATES
    }

    fn resolve(&self, project: &Project, request: &BuildRequest, reporter: &dyn Reporter) -> Result<Box<dyn Resolved>> {
        ts::resolve_js(project, request, reporter, Flavor::Bun)
    }
}

/// The pinned `bun`, when the JS toolchain is installed (what the tests run natively).
pub fn program() -> Result<std::path::PathBuf> {
    Ok(JsToolchain::find()?.bun()?.program)
}

/// Whether package.json says Bun: `@types/bun` (or `bun-types`) among the
/// dependencies, a `bun` field, `engines.bun`, or `packageManager: bun@…`.
fn package_says_bun(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("package.json")) else { return false };
    let Ok(package) = serde_json::from_str::<serde_json::Value>(&text) else { return false };
    let depends =
        |name: &str| ["dependencies", "devDependencies"].iter().any(|field| package[field].get(name).is_some());
    depends("@types/bun")
        || depends("bun-types")
        || package.get("bun").is_some()
        || package["engines"].get("bun").is_some()
        || package["packageManager"].as_str().is_some_and(|pm| pm.starts_with("bun@"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bun_projects_are_told_from_node_ones() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| std::fs::write(dir.path().join("package.json"), text).unwrap();
        write(r#"{"name":"a","dependencies":{"hono":"4"}}"#);
        assert!(!Bun.detect(dir.path()));
        write(r#"{"name":"a","devDependencies":{"@types/bun":"1"}}"#);
        assert!(Bun.detect(dir.path()));
        write(r#"{"name":"a","packageManager":"bun@1.4.5"}"#);
        assert!(Bun.detect(dir.path()));
        write(r#"{"name":"a","engines":{"bun":">=1"}}"#);
        assert!(Bun.detect(dir.path()));
        write(r#"{"name":"a"}"#);
        std::fs::write(dir.path().join("bun.lock"), "{}").unwrap();
        assert!(Bun.detect(dir.path()));
    }
}
