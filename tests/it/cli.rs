//! The command line itself: help text (snapshotted), doctor, toolchain.

use std::path::Path;

use crate::support::*;

tests! {
    help_snapshot: [],
    corrupt_artifact_snapshot: [],
    toolchain_install_then_doctor_is_happy: [WasmTarget],
    unsupported_languages_say_so: [],
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
}

fn unsupported_languages_say_so() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).args(["new", "--lang", "go", "svc"]))
        .expect_code(2)
        .stderr_has("there is no `go` template yet");
    std::fs::write(temp.path().join("go.mod"), "module example.com/svc\n\ngo 1.24\n").unwrap();
    run(warp(temp.path()).arg("pack")).expect_code(2).stderr_has("`warp pack --lang go` is not implemented yet");
}
