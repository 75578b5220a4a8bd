//! The command line itself: help text (snapshotted), doctor, toolchain.

use std::path::Path;

use crate::support::*;

tests! {
    help_snapshot: [],
    corrupt_artifact_snapshot: [],
    toolchain_install_then_doctor_is_happy: [WasmTarget],
    a_missing_template_says_which_there_are: [],
    version_lists_the_carried_series_and_cache_reports_its_areas: [],
}

fn help_snapshot() {
    let run = run(warp(Path::new(".")).arg("--help"));
    run.expect_code(0);
    assert_snapshot("help.txt", &run.stdout);
}

fn corrupt_artifact_snapshot() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("broken.wasm"), b"\0asm\x01\0\0\0\x01\x05\x01\x60").unwrap();
    let run = run(warp(temp.path()).args(["size-check", "broken.wasm"]));
    run.expect_code(1);
    assert_snapshot("size-check-corrupt.txt", &run.stderr);
}

fn toolchain_install_then_doctor_is_happy() {
    run(warp(Path::new(".")).args(["toolchain", "install", "rust"])).expect_code(0);
    let json = run(warp(Path::new(".")).args(["doctor", "--lang", "rust", "--json"])).expect_code(0).json();
    assert_eq!(json["ok"], true);
    let checks = json["checks"].as_array().unwrap();
    let target = checks.iter().find(|c| c["name"] == "target wasm32-wasip2").unwrap();
    assert_eq!(target["found"], "installed");
    run(warp(Path::new(".")).arg("doctor")).expect_code(0).stdout_has("target wasm32-wasip2");
    // `--lang` shows that language's needs alone.
    assert!(
        checks.iter().all(|c| c["needed_for"].as_array().unwrap().contains(&"rust".into())),
        "a check another language needs: {checks:#?}"
    );
    assert_eq!(json["runner"]["pooling"], true, "{json}");
    // Under `ulimit -v` the pooling allocator cannot reserve its slots:
    // doctor says so and why (warp run then answers 503, not 500, when
    // memory for an instance runs out).
    let limited = std::process::Command::new("sh")
        .args(["-c", "ulimit -v 4000000 && exec \"$@\"", "sh", env!("CARGO_BIN_EXE_warp"), "doctor", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&limited.stdout).unwrap();
    assert_eq!(json["runner"]["pooling"], false, "{json}");
    assert!(json["runner"]["pooling_error"].as_str().is_some_and(|e| !e.is_empty()), "{json}");
}

fn a_missing_template_says_which_there_are() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).args(["new", "--lang", "bun", "--template", "cli", "svc"]))
        .expect_code(2)
        .stderr_has("there is no `cli` template for Bun")
        .stderr_has("Bun templates: http");
    assert!(!temp.path().join("svc").exists(), "nothing written");
}

fn version_lists_the_carried_series_and_cache_reports_its_areas() {
    let version = run(warp(Path::new(".")).arg("--version"));
    version.expect_code(0).stdout_has("wasi-libc").stdout_has("5 patches (alias libc)");
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("cache");
    std::fs::create_dir_all(cache.join("compiled")).unwrap();
    std::fs::write(cache.join("compiled/x.cwasm"), [0u8; 1000]).unwrap();
    std::fs::create_dir_all(cache.join("toolchains/demo")).unwrap();
    std::fs::write(cache.join("toolchains/demo/work"), [0u8; 10]).unwrap();
    let warp_in_cache = |args: &[&str]| {
        let mut cmd = warp(temp.path());
        cmd.args(args).env("WARP_CACHE_DIR", &cache);
        cmd
    };
    let shown = run(&mut warp_in_cache(&["cache", "--json"])).expect_code(0).json();
    assert_eq!(shown["bytes"], 1010);
    let areas = shown["areas"].as_array().unwrap();
    let compiled = areas.iter().find(|a| a["name"] == "compiled").unwrap();
    assert_eq!(compiled["bytes"], 1000);
    assert_eq!(run(&mut warp_in_cache(&["doctor", "--json"])).json()["cache"]["bytes"], 1010);
    // Clearing keeps work trees unless asked: they may hold unexported patches.
    run(&mut warp_in_cache(&["cache", "clear"])).expect_code(0);
    assert!(!cache.join("compiled").exists() && cache.join("toolchains/demo/work").exists());
    run(&mut warp_in_cache(&["cache", "clear", "--all"])).expect_code(0);
    assert!(!cache.join("toolchains").exists());
    run(&mut warp_in_cache(&["cache", "clear", "nonsense"])).expect_code(2).stderr_has("unknown cache area `nonsense`");
}
