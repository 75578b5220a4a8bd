//! The patched wasi-libc, end to end: clone the real upstream snapshot from
//! a mirror (built from Debian's source package by `cargo xtask mirror`),
//! apply `patches/wasi-libc/`, build the sysroot with clang 19, `warp pack
//! --lang c` a C program that uses plain libc calls, and `warp run` it. The
//! same program against the unpatched sysroot still links and runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// `$WARP_TEST_MIRRORS/wasi-libc`, a git mirror of upstream 9886d3d.
fn mirrors() -> Option<PathBuf> {
    let dir = std::env::var_os("WARP_TEST_MIRRORS").map(PathBuf::from)?;
    dir.join("wasi-libc/.git").is_dir().then_some(dir)
}

fn have_clang() -> bool {
    Command::new("clang-19").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// The program's report, from `warp run`.
fn run_program(manifest: &Path, cache: &Path) -> String {
    let run = run(warp(manifest.parent().unwrap()).args(["run"]).arg(manifest).env("WARP_CACHE_DIR", cache));
    run.expect_code(0);
    run.stdout
}

#[test]
fn a_c_program_reaches_the_shims_through_the_patched_libc() {
    let mirrors = mirrors();
    if !prerequisite(
        mirrors.is_some(),
        "no wasi-libc mirror: set WARP_TEST_MIRRORS (`cargo xtask mirror wasi-libc DIR/wasi-libc`)",
    ) || !prerequisite(
        have_clang(),
        "no clang-19: `apt-get install clang-19 lld-19 llvm-19 libclang-rt-19-dev-wasm32`",
    ) {
        return;
    }
    let mirrors = mirrors.unwrap();
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("cache");
    let with_cache = |cmd: &mut Command| {
        cmd.env("WARP_CACHE_DIR", &cache).env("WARP_MIRROR_DIR", &mirrors);
    };

    // Clone from the mirror, apply the series, build the sysroot.
    let mut build = warp(&repo());
    build.args(["toolchain", "build", "wasi-libc", "--json"]);
    with_cache(&mut build);
    let built = run(&mut build);
    built.expect_code(0);
    let built = built.json();
    assert_eq!(built["fresh"], false);
    assert_eq!(
        built["patches"].as_u64().unwrap() as usize,
        std::fs::read_dir(repo().join("patches/wasi-libc"))
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "patch"))
            .count()
    );
    let sysroot = Path::new(built["out"].as_str().unwrap()).join("sysroot");
    assert!(sysroot.join("lib/wasm32-wasi/libwarpgrid-shims.a").is_file());
    assert!(sysroot.join("include/netdb.h").is_file());

    // Nothing changed: nothing runs.
    let mut again = warp(&repo());
    again.args(["toolchain", "build", "wasi-libc", "--json"]);
    with_cache(&mut again);
    assert_eq!(run(&mut again).expect_code(0).json()["fresh"], true);

    // The program, with the dns and filesystem shims enabled.
    let (_project_temp, project) = fixture("c-shims");
    let mut pack = warp(&project);
    pack.args(["pack", "--json"]);
    with_cache(&mut pack);
    let packed = run(&mut pack);
    packed.expect_code(0);
    let manifest = PathBuf::from(packed.json()["manifest"].as_str().unwrap());
    let imports = std::fs::read_to_string(&manifest).unwrap();
    assert!(imports.contains("warpgrid:shim/dns@0.1.0") && imports.contains("warpgrid:shim/filesystem@0.1.0"));
    let out = run_program(&manifest, &cache);
    // The registry's addresses, in order, from getaddrinfo and gethostbyname.
    assert!(
        out.contains("getaddrinfo db.production.warp.local: 10.0.0.7:5432 10.0.0.8:5432\n"),
        "getaddrinfo did not ask the dns shim:\n{out}"
    );
    assert!(out.contains("gethostbyname db.production.warp.local: "), "{out}");
    // /etc/resolv.conf as the filesystem shim generates it.
    assert!(out.contains("/etc/resolv.conf: "), "{out}");
    assert!(out.contains("  search production.warp.local"), "resolv.conf is not the shim's:\n{out}");
    // TZ = Europe/Berlin from the manifest: 12:00 UTC is 14:00 CEST.
    assert!(out.contains("localtime: 2024-07-01 14:00:00 CEST +0200\n"), "localtime ignored TZ:\n{out}");

    // The same sources without the shims: libc falls through (no import,
    // /etc/hosts has no such name, no zoneinfo to read: UTC).
    std::fs::write(project.join("warp.toml"), "lang = \"c\"\nworld = \"cli\"\n[env]\nTZ = \"Europe/Berlin\"\n")
        .unwrap();
    let mut pack = warp(&project);
    pack.args(["pack", "--json"]);
    with_cache(&mut pack);
    let manifest = PathBuf::from(run(&mut pack).expect_code(0).json()["manifest"].as_str().unwrap().to_string());
    assert!(!std::fs::read_to_string(&manifest).unwrap().contains("warpgrid:shim"));
    let out = run_program(&manifest, &cache);
    assert!(out.contains("getaddrinfo db.production.warp.local: error: Name does not resolve\n"), "{out}");
    assert!(out.contains("/etc/resolv.conf: error: "), "{out}");
    assert!(out.contains("localtime: 2024-07-01 12:00:00 UTC +0000\n"), "{out}");

    // The unpatched upstream sysroot: the program still links and runs.
    let upstream = temp.path().join("upstream");
    let clone = Command::new("git")
        .args(["-c", "advice.detachedHead=false", "clone", "-q", "--branch", "9886d3d"])
        .arg(mirrors.join("wasi-libc"))
        .arg(&upstream)
        .status()
        .unwrap();
    assert!(clone.success());
    let unpatched = temp.path().join("unpatched");
    let make = Command::new("make")
        .current_dir(&upstream)
        .args(["-j2", "CC=clang-19", "AR=llvm-ar-19", "NM=llvm-nm-19", "THREAD_MODEL=single"])
        .arg(format!("SYSROOT={}", unpatched.display()))
        .arg(format!("OBJDIR={}", temp.path().join("unpatched-obj").display()))
        // `check-symbols` fails on any clang newer than 2022's; the
        // libraries are complete before it.
        .args(["startup_files", "libc"])
        .output()
        .unwrap();
    assert!(make.status.success(), "{}", String::from_utf8_lossy(&make.stderr));
    let mut pack = warp(&project);
    pack.args(["pack", "--json"]).env("WASI_SYSROOT", &unpatched);
    with_cache(&mut pack);
    let manifest = PathBuf::from(run(&mut pack).expect_code(0).json()["manifest"].as_str().unwrap().to_string());
    let out = run_program(&manifest, &cache);
    assert!(out.contains("getaddrinfo db.production.warp.local: not in this libc\n"), "{out}");
    assert!(out.contains("localtime: 2024-07-01 12:00:00 UTC +0000\n"), "{out}");
}

#[test]
fn missing_clang_names_the_debian_packages() {
    let empty = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    run(warp(&repo())
        .args(["toolchain", "build", "wasi-libc"])
        .env("PATH", empty.path())
        .env("WARP_CACHE_DIR", cache.path()))
    .expect_code(2)
    .stderr_has("building `wasi-libc` needs `clang-19` (not on PATH)")
    .stderr_has("apt-get install clang-19 llvm-19 lld-19");
    assert!(!cache.path().join("toolchains").exists(), "nothing was cloned before the check");

    let (_temp, project) = fixture("c-shims");
    run(warp(&project).args(["pack"]).env("WARP_CC", "clang-0-missing").env("WARP_CACHE_DIR", cache.path()))
        .expect_code(2)
        .stderr_has("no clang 19 or newer")
        .stderr_has("apt-get install clang-19 lld-19 libclang-rt-19-dev-wasm32");
}
