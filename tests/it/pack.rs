//! `warp new` + `warp pack` for Rust: templates, a third-party crate,
//! reproducibility, workspaces.

use crate::support::*;

tests! {
    new_then_pack_gives_a_valid_http_component: [WasmTarget],
    cli_template_targets_wasi_cli: [WasmTarget],
    third_party_wstd_service_packs_without_edits: [WasmTarget],
    packing_twice_in_different_places_is_byte_identical: [WasmTarget],
    workspace_needs_a_package_choice: [WasmTarget],
    new_refuses_to_overwrite: [],
    new_takes_a_path_and_names_the_project_after_it: [],
}

fn new_then_pack_gives_a_valid_http_component() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).args(["new", "--lang", "rust", "hello"])).expect_code(0);
    let packed = run(warp(temp.path()).args(["pack", "hello", "--json"]));
    packed.expect_code(0);
    let json = packed.json();
    let component_path = json["component"].as_str().unwrap();
    let component = std::fs::read(component_path).unwrap();
    assert_eq!(json["raw_bytes"], component.len() as u64);
    assert!(json["gzip_bytes"].as_u64().unwrap() < component.len() as u64);
    let exports = validated_exports(&component);
    assert!(exports.iter().any(|e| e.starts_with("wasi:http/incoming-handler@0.2")), "{exports:?}");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(json["manifest"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(manifest["schema"], 1);
    assert_eq!(manifest["name"], "hello");
    assert_eq!(manifest["component"]["path"], "hello.wasm");
    assert_eq!(manifest["component"]["world"], "http");
    assert_eq!(manifest["component"]["language"], "rust");
    assert_eq!(manifest["component"]["sha256"], json["sha256"]);
    assert!(manifest["toolchain"]["rustc"].as_str().unwrap().starts_with("rustc "));
    assert_eq!(manifest["budget"]["raw_bytes"], 300_000);
    // What cargo read, the vendored SDK (a path dependency) included, and
    // nothing from the registry.
    let root = temp.path().canonicalize().unwrap().join("hello");
    let sources: Vec<std::path::PathBuf> =
        json["sources"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().into()).collect();
    for wanted in ["src/lib.rs", "Cargo.toml", "Cargo.lock", "vendor/warpgrid-sdk/src/lib.rs"] {
        assert!(sources.contains(&root.join(wanted)), "{wanted} is missing from {sources:?}");
    }
    assert!(sources.iter().all(|s| s.starts_with(&root)), "{sources:?}");
    // Contributors are named even though the name section was stripped.
    let names: Vec<&str> =
        manifest["contributors"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.iter().any(|n| n.contains("incoming-handler")), "{names:?}");
}

fn cli_template_targets_wasi_cli() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).args(["new", "--lang", "rust", "--template", "cli", "tool"])).expect_code(0);
    let json = run(warp(temp.path()).args(["pack", "tool", "--json"])).expect_code(0).json();
    let component = std::fs::read(json["component"].as_str().unwrap()).unwrap();
    let exports = validated_exports(&component);
    assert!(exports.iter().any(|e| e.starts_with("wasi:cli/run@0.2")), "{exports:?}");
    assert_eq!(json["world"], "cli");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(json["manifest"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(manifest["env"]["GREETING"], "howdy");
}

fn third_party_wstd_service_packs_without_edits() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("wstd-echo");
    copy_project(&repo().join("tests/fixtures/wstd-echo"), &dir);
    let cargo_toml = std::fs::read(dir.join("Cargo.toml")).unwrap();
    let lock = std::fs::read(dir.join("Cargo.lock")).unwrap();

    let json = run(warp(&dir).args(["pack", "--json"])).expect_code(0).json();
    let component = std::fs::read(json["component"].as_str().unwrap()).unwrap();
    let exports = validated_exports(&component);
    assert!(exports.iter().any(|e| e.starts_with("wasi:http/incoming-handler@0.2")), "{exports:?}");
    assert_eq!(json["world"], "http");
    // warp supplied its profile on the command line: the user's files are untouched.
    assert_eq!(std::fs::read(dir.join("Cargo.toml")).unwrap(), cargo_toml);
    assert_eq!(std::fs::read(dir.join("Cargo.lock")).unwrap(), lock);
    assert!(!dir.join("warp.toml").exists());
}

fn packing_twice_in_different_places_is_byte_identical() {
    let (_a, first) = template("rust-http");
    let (_b, second) = template("rust-http");
    let out = |dir: &std::path::Path| {
        let json = run(warp(dir).args(["pack", "--json"])).expect_code(0).json();
        (
            std::fs::read(json["component"].as_str().unwrap()).unwrap(),
            std::fs::read(json["manifest"].as_str().unwrap()).unwrap(),
        )
    };
    let (component_a, manifest_a) = out(&first);
    let (component_b, manifest_b) = out(&second);
    assert!(component_a == component_b, "components differ between two clean builds");
    assert_eq!(String::from_utf8(manifest_a).unwrap(), String::from_utf8(manifest_b).unwrap());
}

fn workspace_needs_a_package_choice() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = [\"api\", \"worker\"]\nresolver = \"2\"\n")
        .unwrap();
    copy_project(&repo().join("templates/rust-http"), &root.join("api"));
    copy_project(&repo().join("templates/rust-cli"), &root.join("worker"));
    for (dir, from) in [("api", "rust-http"), ("worker", "rust-cli")] {
        let path = root.join(dir).join("Cargo.toml");
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(&format!("name = \"{from}\""), &format!("name = \"{dir}\""));
        std::fs::write(&path, text).unwrap();
        std::fs::remove_file(root.join(dir).join("Cargo.lock")).unwrap();
    }
    run(warp(root).arg("pack"))
        .expect_code(2)
        .stderr_has("is a workspace with 2 packages")
        .stderr_has("help: pick one with `-p`: `api`, `worker`");
    run(warp(root).args(["pack", "-p", "nope"])).expect_code(2).stderr_has("package `nope` is not a member");

    let out = root.join("dist/worker.wasm");
    let json = run(warp(root).args(["pack", "-p", "worker", "-o"]).arg(&out).arg("--json")).expect_code(0).json();
    assert_eq!(json["world"], "cli");
    assert!(out.is_file());
    // The member's own warp.toml applies (its env and dns shim).
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("dist/worker.warp.json")).unwrap()).unwrap();
    assert_eq!(manifest["env"]["GREETING"], "howdy");
    assert!(manifest["shims"]["dns"]["registry"].is_object(), "{manifest}");
}

fn new_refuses_to_overwrite() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::create_dir(temp.path().join("taken")).unwrap();
    std::fs::write(temp.path().join("taken/keep.txt"), "mine").unwrap();
    run(warp(temp.path()).args(["new", "taken"])).expect_code(2).stderr_has("destination `taken` already exists");
    assert_eq!(std::fs::read_to_string(temp.path().join("taken/keep.txt")).unwrap(), "mine");
    run(warp(temp.path()).args(["new", "9lives"])).expect_code(2).stderr_has("invalid project name `9lives`");
}

fn new_takes_a_path_and_names_the_project_after_it() {
    let temp = tempfile::tempdir().unwrap();
    let made = run(warp(temp.path()).args(["new", "services/api", "--json"]));
    assert_eq!(made.expect_code(0).json()["name"], "api");
    let manifest = std::fs::read_to_string(temp.path().join("services/api/Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"api\""), "{manifest}");
    assert!(temp.path().join("services/api/vendor/warpgrid-sdk/Cargo.toml").is_file());
    run(warp(temp.path()).args(["new", "--lang", "c", "tools/hello-c", "--name", "greeter"])).expect_code(0);
    let config = std::fs::read_to_string(temp.path().join("tools/hello-c/warp.toml")).unwrap();
    assert!(config.contains("lang = \"c\""), "{config}");
    run(warp(temp.path()).args(["new", "other/9lives"])).expect_code(2).stderr_has("invalid project name `9lives`");
    assert!(!temp.path().join("other/9lives").exists(), "a refused project leaves nothing behind");
}
