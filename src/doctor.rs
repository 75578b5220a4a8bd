//! `warp doctor`: which tools each language path needs, which are present,
//! and the exact command that fixes what is missing.

use std::process::Command;

use serde::Serialize;

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
    pub fn ok(&self) -> bool {
        self.found.is_some()
    }
}

fn version(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Some(text.lines().next().unwrap_or("").trim().to_string())
}

fn rust_target(target: &str) -> Option<String> {
    let installed = crate::lang::rust::std_installed(std::path::Path::new("."), target).unwrap_or(false);
    installed.then(|| "installed".to_string())
}

/// Runs every check.
pub fn run_checks() -> Vec<Check> {
    let check = |name: &str, needed_for: &[Lang], found: Option<String>, fix: &str| Check {
        name: name.into(),
        needed_for: needed_for.to_vec(),
        fix: found.is_none().then(|| fix.to_string()),
        found,
    };
    let go = version("go", &["version"]).filter(|v| go_is_new_enough(v));
    vec![
        check("cargo", &[Lang::Rust], version("cargo", &["--version"]), "install Rust with rustup (https://rustup.rs)"),
        check("rustc", &[Lang::Rust], version("rustc", &["--version"]), "install Rust with rustup (https://rustup.rs)"),
        check("target wasm32-wasip2", &[Lang::Rust], rust_target("wasm32-wasip2"), "warp toolchain install rust"),
        check("target wasm32-wasip1", &[Lang::Rust], rust_target("wasm32-wasip1"), "warp toolchain install rust"),
        check("go >= 1.24", &[Lang::Go], go, "install Go 1.24 or newer (e.g. `apt-get install golang-1.24`)"),
        check("node", &[Lang::Ts, Lang::Bun], version("node", &["--version"]), "apt-get install nodejs npm"),
        check("npm", &[Lang::Ts, Lang::Bun], version("npm", &["--version"]), "apt-get install npm"),
        check(
            "clang-19",
            &[Lang::C],
            version("clang-19", &["--version"]),
            "apt-get install clang-19 lld-19 libclang-rt-19-dev-wasm32",
        ),
    ]
}

/// `go version go1.26.8 linux/amd64` → at least 1.24?
fn go_is_new_enough(version: &str) -> bool {
    let Some(rest) = version.split_whitespace().nth(2).and_then(|v| v.strip_prefix("go")) else { return false };
    let mut parts = rest.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (1, 24)
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_versions() {
        assert!(super::go_is_new_enough("go version go1.26.8 linux/amd64"));
        assert!(super::go_is_new_enough("go version go1.24 linux/amd64"));
        assert!(!super::go_is_new_enough("go version go1.21.5 linux/amd64"));
        assert!(!super::go_is_new_enough("garbage"));
    }
}
