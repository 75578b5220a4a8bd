//! Toolchains `warp` drives. For Rust that is rustup's wasm targets; the
//! forked toolchains (wasi-libc, TinyGo, ComponentizeJS) come with their
//! recipes in `toolchains/`.

use std::process::Command;

use anyhow::Result;

use crate::error::Diagnostic;
use crate::report::Reporter;

pub const RUST_TARGETS: &[&str] = &["wasm32-wasip2", "wasm32-wasip1"];

/// Names `warp toolchain install` accepts.
pub const KNOWN: &[&str] = &["rust"];

pub fn install(name: &str, reporter: &dyn Reporter) -> Result<()> {
    match name {
        "rust" => install_rust(reporter),
        other => Err(Diagnostic::env(format!("unknown toolchain `{other}`"))
            .help(format!("known toolchains: {}", KNOWN.join(", ")))
            .into()),
    }
}

fn install_rust(reporter: &dyn Reporter) -> Result<()> {
    reporter.phase("Installing");
    reporter.detail(&format!("rustup target add {}", RUST_TARGETS.join(" ")));
    let output = Command::new("rustup").arg("target").arg("add").args(RUST_TARGETS).output().map_err(|e| {
        Diagnostic::env(format!("failed to run `rustup`: {e}"))
            .help("install rustup (https://rustup.rs), or add the wasm32-wasip2 standard library some other way")
    })?;
    if !output.status.success() {
        return Err(Diagnostic::env(format!(
            "`rustup target add {}` failed:\n{}",
            RUST_TARGETS.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
        .into());
    }
    Ok(())
}
