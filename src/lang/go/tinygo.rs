//! `warp pack --toolchain tinygo`: TinyGo instead of Go, for `wasi:cli`
//! programs. TinyGo's `-target=wasip2` writes a component itself; warp
//! validates, measures and writes the manifest as for any build.
//!
//! TinyGo cannot be obtained on the machines warp is developed on (no
//! registry carries it), so what is tested is warp's side: finding it,
//! its invocation, and packing what it writes (with a stand-in compiler
//! that writes a real component); TinyGo itself has not run here.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::error::Diagnostic;
use crate::lang::Artifact;
use crate::project::World;
use crate::report::Reporter;

pub struct TinyGo {
    program: PathBuf,
    /// `tinygo version`'s line.
    pub version: String,
}

/// `$WARP_TINYGO`, else `tinygo` on PATH, else warp's own build (`warp
/// toolchain build tinygo`). An HTTP service is refused: the net/http
/// bridge is standard Go's.
pub fn find(world: World) -> Result<TinyGo> {
    if world == World::Http {
        return Err(Diagnostic::check(
            "TinyGo builds `wasi:cli` programs here; a net/http service is built with standard Go (its bridge needs Go's runtime)",
        )
        .help("leave out `--toolchain tinygo` (and `go.toolchain`), or set `world = \"cli\"` for a program that does not serve")
        .into());
    }
    let built = crate::fork::build::finished_output("tinygo").ok().flatten().map(|dir| dir.join("bin").join("tinygo"));
    let candidates = [std::env::var("WARP_TINYGO").ok().map(PathBuf::from), crate::fs::find_program("tinygo"), built];
    let program = candidates.into_iter().flatten().find(|p| p.is_file()).ok_or_else(|| {
        Diagnostic::env("no TinyGo: looked at $WARP_TINYGO, `tinygo` on PATH and warp's own build")
            .help("install TinyGo (https://tinygo.org), or `warp toolchain build tinygo`; or drop `--toolchain tinygo` to build with Go")
    })?;
    let output = Command::new(&program)
        .arg("version")
        .output()
        .with_context(|| format!("failed to run `{}`", program.display()))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || !version.starts_with("tinygo version") {
        return Err(Diagnostic::env(format!("`{} version` did not report a TinyGo version", program.display())).into());
    }
    Ok(TinyGo { program, version })
}

impl TinyGo {
    /// `tinygo build -target=wasip2` of `package`; the component it writes.
    pub fn build(
        &self,
        root: &Path,
        package: &str,
        work: &Path,
        name: &str,
        reporter: &dyn Reporter,
    ) -> Result<Artifact> {
        std::fs::create_dir_all(work).with_context(|| format!("failed to create `{}`", work.display()))?;
        let out = work.join(format!("{name}.tinygo.wasm"));
        reporter.phase("Compiling");
        reporter.detail(&format!("{} build -target=wasip2 ({package})", self.version));
        let output = Command::new(&self.program)
            .current_dir(root)
            .args(["build", "-target=wasip2", "-no-debug", "-o"])
            .arg(&out)
            .arg(package)
            .output()
            .with_context(|| format!("failed to run `{}`", self.program.display()))?;
        if !output.status.success() {
            return Err(super::compile_error(name, &String::from_utf8_lossy(&output.stderr)));
        }
        let bytes = std::fs::read(&out).with_context(|| format!("TinyGo wrote no `{}`", out.display()))?;
        Ok(if wasmparser::Parser::is_component(&bytes) {
            Artifact::Component(bytes)
        } else {
            Artifact::CoreModule(bytes)
        })
    }
}
