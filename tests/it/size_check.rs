//! `warp size-check`: budgets, baselines, contributors, corrupt input,
//! and manifests that cannot be trusted.

use std::path::{Path, PathBuf};

use crate::support::*;

tests! {
    within_budget_passes_and_lists_named_contributors: [WasmTarget],
    breach_exits_1_with_a_table: [WasmTarget],
    baseline_shows_change_and_what_grew: [WasmTarget],
    corrupt_wasm_is_a_failed_check: [],
    untrustworthy_manifests_are_rejected: [WasmTarget],
    only_components_inside_the_manifest_tree_pass: [],
    devices_fifos_and_huge_files_are_refused_unread: [],
}

/// Packs the http template in a temp dir; returns (temp, project, manifest path).
fn packed_template() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (temp, dir) = template("rust-http");
    let json = run(warp(&dir).args(["pack", "--json"])).expect_code(0).json();
    let manifest = PathBuf::from(json["manifest"].as_str().unwrap());
    (temp, dir, manifest)
}

fn within_budget_passes_and_lists_named_contributors() {
    let (_temp, _dir, manifest) = packed_template();
    let run = run(warp(Path::new(".")).arg("size-check").arg(&manifest));
    run.expect_code(0)
        .stdout_has("artifact")
        .stdout_has("rust-http")
        .stdout_has("top 10 contributors to `rust-http`")
        .stdout_has("incoming-handler");
    // A bare .wasm finds the manifest beside it for budget and names.
    let wasm = manifest.with_file_name("rust-http.wasm");
    run_json_ok(&wasm);
}

fn run_json_ok(path: &Path) {
    let json = run(warp(Path::new(".")).args(["size-check", "--json"]).arg(path)).expect_code(0).json();
    assert_eq!(json["ok"], true);
    assert_eq!(json["artifacts"][0]["budget"]["raw_bytes"], 300_000);
}

fn breach_exits_1_with_a_table() {
    let (_temp, _dir, manifest) = packed_template();
    let run =
        run(warp(Path::new(".")).arg("size-check").arg(&manifest).args(["--max-raw", "10KB", "--max-gzip", "1MB"]));
    run.expect_code(1).stdout_has("OVER BUDGET").stdout_has("error: `rust-http`: raw size");
    let json = self::run(warp(Path::new(".")).args(["size-check", "--json", "--max-gzip", "1KB"]).arg(&manifest))
        .expect_code(1)
        .json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["artifacts"][0]["breaches"][0]["measure"], "gzip");
}

fn baseline_shows_change_and_what_grew() {
    let (temp, dir, manifest) = packed_template();
    let baseline = temp.path().join("baseline.json");
    let report = run(warp(Path::new(".")).args(["size-check", "--json"]).arg(&manifest));
    report.expect_code(0);
    std::fs::write(&baseline, &report.stdout).unwrap();

    // Grow the handler: a lookup table the compiler cannot fold away.
    let lib = dir.join("src/lib.rs");
    let grown = std::fs::read_to_string(&lib).unwrap().replace(
        "None => (200, format!(\"hello from warp: {path}\\n\")),",
        "None => {\n                let words = [\"alpha\", \"bravo\", \"charlie\", \"delta\", \"echo\", \"foxtrot\", \"golf\", \"hotel\", \"india\", \"juliett\", \"kilo\", \"lima\"];\n                let word = words[path.len() % words.len()];\n                (200, format!(\"hello from warp: {path} {word} {}\\n\", path.to_uppercase()))\n            }",
    );
    std::fs::write(&lib, grown).unwrap();
    run(warp(&dir).arg("pack")).expect_code(0);

    let run = run(warp(Path::new(".")).arg("size-check").arg(&manifest).arg("--baseline").arg(&baseline));
    run.expect_code(0).stdout_has("raw change").stdout_has("what grew in `rust-http`:");
    let delta_line = run.stdout.lines().nth(1).unwrap().to_string();
    assert!(delta_line.contains("(+"), "expected growth in {delta_line:?}");

    // The old manifest works as a baseline too.
    let json =
        self::run(warp(Path::new(".")).args(["size-check", "--json"]).arg(&manifest).arg("--baseline").arg(&baseline))
            .json();
    assert!(json["artifacts"][0]["delta"]["raw"]["bytes"].as_i64().unwrap() > 0);
}

fn corrupt_wasm_is_a_failed_check() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("broken.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0\x01\x05\x01\x60").unwrap();
    run(warp(temp.path()).args(["size-check", "broken.wasm"])).expect_code(1).stderr_has("`broken.wasm` is corrupt");
    std::fs::write(&path, b"hello").unwrap();
    run(warp(temp.path()).args(["size-check", "broken.wasm"]))
        .expect_code(1)
        .stderr_has("neither a WebAssembly binary nor a run manifest");
    run(warp(temp.path()).args(["size-check", "missing.wasm"]))
        .expect_code(2)
        .stderr_has("failed to read `missing.wasm`");
}

fn untrustworthy_manifests_are_rejected() {
    let (_temp, _dir, manifest) = packed_template();
    let original = std::fs::read_to_string(&manifest).unwrap();
    write_edited_manifest(&manifest, &original, |value| value["schema"] = 7.into());
    run(warp(Path::new(".")).arg("size-check").arg(&manifest))
        .expect_code(2)
        .stderr_has("has schema version 7, newer than the 1");

    write_edited_manifest(&manifest, &original, |value| value["component"]["sha256"] = "00".repeat(32).into());
    run(warp(Path::new(".")).arg("size-check").arg(&manifest))
        .expect_code(2)
        .stderr_has("does not match its manifest")
        .stderr_has("field `component.sha256`");

    write_edited_manifest(&manifest, &original, |value| {
        value["shims"]["teleport"] = true.into();
    });
    run(warp(Path::new(".")).arg("size-check").arg(&manifest)).expect_code(2).stderr_has("unknown field `teleport`");
}

/// A manifest as `warp pack` would write it, naming `path` with the
/// digest of `bytes`.
fn manifest_naming(manifest: &Path, path: &str, bytes: &[u8]) {
    let value = serde_json::json!({
        "schema": 1,
        "name": "gate",
        "component": {
            "path": path, "sha256": warp::fs::sha256_hex(bytes),
            "raw_bytes": bytes.len(), "gzip_bytes": 0,
            "world": "cli", "language": "rust", "exports": [], "imports": [],
        },
        "toolchain": {},
        "budget": {},
    });
    std::fs::write(manifest, value.to_string()).unwrap();
}

/// The gate passes only what `warp run` could serve: a component, named by
/// a manifest that keeps to its own directory. A core module, and a
/// manifest naming `/etc/passwd` (with the right digest), a file above its
/// directory or a symlink out of it, fail the check with the reason.
fn only_components_inside_the_manifest_tree_pass() {
    let temp = tempfile::tempdir().unwrap();
    let dist = temp.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    let component = wat::parse_str("(component)").unwrap();
    let module = wat::parse_str("(module (func (export \"f\")))").unwrap();
    std::fs::write(dist.join("good.wasm"), &component).unwrap();
    std::fs::write(dist.join("module.wasm"), &module).unwrap();
    std::fs::write(temp.path().join("above.wasm"), &component).unwrap();
    std::os::unix::fs::symlink(temp.path().join("above.wasm"), dist.join("link.wasm")).unwrap();
    let check = |artifact: &str| run(warp(&dist).args(["size-check", artifact]));

    let manifest = dist.join("gate.warp.json");
    manifest_naming(&manifest, "good.wasm", &component);
    check("gate.warp.json").expect_code(0);
    check("good.wasm").expect_code(0);

    check("module.wasm").expect_code(1).stderr_has("`module.wasm` is a core WebAssembly module, not a component");
    manifest_naming(&manifest, "module.wasm", &module);
    check("gate.warp.json").expect_code(1).stderr_has("is a core WebAssembly module, not a component");

    let passwd = std::fs::read("/etc/passwd").unwrap();
    manifest_naming(&manifest, "/etc/passwd", &passwd);
    let refused = check("gate.warp.json");
    refused
        .expect_code(1)
        .stderr_has("`gate.warp.json` names a component outside its directory (field `component.path`: `/etc/passwd`)");
    assert!(!refused.stderr.contains(&warp::fs::sha256_hex(&passwd)), "{}", refused.stderr);
    for path in ["../above.wasm", "link.wasm"] {
        manifest_naming(&manifest, path, &component);
        check("gate.warp.json").expect_code(1).stderr_has("names a component outside its directory");
    }
}

/// What is not a regular file of a component's size is refused before it
/// is read (exit 2): a device would never end, a FIFO would wait for a
/// writer, and a huge sparse file would be read whole.
fn devices_fifos_and_huge_files_are_refused_unread() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).args(["size-check", "/dev/zero"])).expect_code(2).stderr_has("it is a device");
    let fifo = temp.path().join("pipe.wasm");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    run(warp(temp.path()).args(["size-check", "pipe.wasm"])).expect_code(2).stderr_has("it is a FIFO");
    let huge = std::fs::File::create(temp.path().join("huge.wasm")).unwrap();
    huge.set_len(3 << 30).unwrap();
    run(warp(temp.path()).args(["size-check", "huge.wasm"])).expect_code(2).stderr_has("larger than the");
}
