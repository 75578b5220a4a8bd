//! An installed `warp`, as a user gets it: `cargo install --path .` into a
//! temporary root, run from a directory with no repository above it. Every
//! recipe, patch series, template and SDK it needs travels inside it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

tests! {
    an_installed_warp_works_outside_the_repository: [WasmTarget, LibcMirror, Clang],
}

/// Installs warp from this checkout into `root` with cargo, as the README
/// says, in a user's environment: without the variables cargo sets for a
/// test (`OUT_DIR`, `CARGO_PKG_*`, …), which would make build scripts rerun
/// and the install rebuild what the test build already has.
fn install(root: &Path) -> PathBuf {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.env_clear();
    for (key, value) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if matches!(key_text.as_ref(), "PATH" | "HOME" | "CARGO_HOME" | "RUSTUP_HOME" | "RUSTUP_TOOLCHAIN" | "TMPDIR") {
            cargo.env(&key, value);
        }
    }
    let output = cargo
        .args(["install", "--locked", "--quiet", "--path"])
        .arg(repo())
        .arg("--root")
        .arg(root)
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo install failed:\n{}", String::from_utf8_lossy(&output.stderr));
    root.join("bin/warp")
}

fn an_installed_warp_works_outside_the_repository() {
    let mirrors = libc_mirrors().expect("the test declares Need::LibcMirror");
    let temp = tempfile::tempdir().unwrap();
    let warp_bin = install(&temp.path().join("root"));
    let work = temp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    assert!(
        work.ancestors().all(|dir| !dir.join("toolchains").is_dir() && !dir.join("patches").is_dir()),
        "the test directory must have no recipes above it"
    );
    let cache = temp.path().join("cache");
    let installed = |args: &[&str]| {
        let mut cmd = Command::new(&warp_bin);
        cmd.current_dir(&work)
            .args(args)
            .env("NO_COLOR", "1")
            .env("WARP_CACHE_DIR", &cache)
            .env("WARP_MIRROR_DIR", &mirrors)
            .env_remove("CARGO_TARGET_DIR");
        cmd
    };

    let version = run(&mut installed(&["--version"]));
    version.expect_code(0).stdout_has("wasi-libc").stdout_has("(alias libc)");

    // Rust: a new service from the embedded template, packed and served.
    run(&mut installed(&["new", "services/api"])).expect_code(0);
    assert!(work.join("services/api/vendor/warpgrid-sdk/src/lib.rs").is_file(), "the SDK is vendored");
    let packed = run(&mut installed(&["pack", "services/api", "--json"]));
    let api_manifest = PathBuf::from(packed.expect_code(0).json()["manifest"].as_str().unwrap());
    assert_eq!(api_manifest.file_name().unwrap(), "api.warp.json");
    let served = Served::start_with(installed(&["run"]).arg(&api_manifest), &cache);
    let (status, body) = request(served.addr, "GET", "/", "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(served.terminate(), 0);

    // C: warp's wasi-libc, built by the alias from the series inside the
    // binary, then a C program packed against it and run.
    let built = run(&mut installed(&["toolchain", "build", "libc", "--json"]));
    let built = built.expect_code(0).json();
    assert_eq!(built["name"], "wasi-libc");
    assert!(built["out"].as_str().unwrap().starts_with(cache.to_str().unwrap()));
    run(&mut installed(&["new", "--lang", "c", "tool"])).expect_code(0);
    let packed = run(&mut installed(&["pack", "tool", "--json"]));
    let tool_manifest = PathBuf::from(packed.expect_code(0).json()["manifest"].as_str().unwrap());
    run(installed(&["run"]).arg(&tool_manifest).args(["--", "installer"]))
        .expect_code(0)
        .stdout_has("hello, installer!");

    // Rewriting a series needs a checkout; the message says so.
    run(&mut installed(&["rebase", "libc"])).expect_code(2).stderr_has("lives in a checkout");
}
