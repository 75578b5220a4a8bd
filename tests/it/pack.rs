//! `warp new` + `warp pack` for Rust: templates, a third-party crate,
//! reproducibility, workspaces; what a pack may expose to its guest, and
//! how packs share an output directory.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use crate::support::*;

tests! {
    new_then_pack_gives_a_valid_http_component: [WasmTarget],
    cli_template_targets_wasi_cli: [WasmTarget],
    third_party_wstd_service_packs_without_edits: [WasmTarget],
    packing_twice_in_different_places_is_byte_identical: [WasmTarget],
    workspace_needs_a_package_choice: [WasmTarget],
    dirs_outside_the_project_are_refused_unless_opted_in: [WasmTarget],
    concurrent_packs_take_turns_and_clean_up_after_a_killed_one: [WasmTarget],
    artifacts_respect_the_umask: [WasmTarget],
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

/// `[dirs]` entries that reach outside the project: `/`, `..`, and a
/// symlink inside the project that points out. Each is refused (exit 2)
/// naming the field and the path, with the opt-in in `help:`; with the
/// opt-in, the pack goes through.
fn dirs_outside_the_project_are_refused_unless_opted_in() {
    let (temp, dir) = template("rust-http");
    let outside = temp.path().join("elsewhere");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("escape")).unwrap();
    std::fs::create_dir(dir.join("assets")).unwrap();
    std::os::unix::fs::symlink("assets", dir.join("inner-link")).unwrap();
    let config = std::fs::read_to_string(dir.join("warp.toml")).unwrap();
    let with_dirs =
        |entries: &str| std::fs::write(dir.join("warp.toml"), format!("{config}\n[dirs]\n{entries}\n")).unwrap();

    for (entry, guest, shown) in [
        (r#""/host" = "/""#, "/host", "`/` is outside the project".to_string()),
        (r#""/up" = "..""#, "/up", format!("resolves to `{}`", temp.path().canonicalize().unwrap().display())),
        (
            r#""/link" = { path = "escape", mode = "rw" }"#,
            "/link",
            format!("resolves to `{}`", outside.canonicalize().unwrap().display()),
        ),
    ] {
        with_dirs(entry);
        run(warp(&dir).arg("pack"))
            .expect_code(2)
            .stderr_has(&format!("warp.toml field `dirs.\"{guest}\"`"))
            .stderr_has(&shown)
            .stderr_has("outside_project = true");
        assert!(!dir.join("target/warp/rust-http.warp.json").exists(), "a refused pack wrote a manifest");
    }

    // Inside the project (through a symlink that stays inside): fine, and
    // read-only unless marked; outside with the explicit opt-in: fine too.
    with_dirs(
        r#""/assets" = "inner-link"
"/up" = { path = "..", outside_project = true }"#,
    );
    let manifest = pack(&dir);
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    assert_eq!(manifest["dirs"]["/assets"], "../../assets");
    assert_eq!(manifest["dirs"]["/up"], serde_json::json!({ "path": "../../..", "outside_project": true }));
}

/// A pack waits while another holds the output directory (here the test
/// holds its lock), says so, and only then builds: what it writes is one
/// matching component and manifest, from the source as it was when it got
/// the lock. Holding the lock, it removes the temporary file a killed pack
/// left behind.
fn concurrent_packs_take_turns_and_clean_up_after_a_killed_one() {
    let (_temp, dir) = template("rust-http");
    let out = pack(&dir).parent().unwrap().to_path_buf();
    let stale = out.join(".warp-Xk2f9a.tmp");
    std::fs::write(&stale, "half a component").unwrap();
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&stale).unwrap().set_modified(an_hour_ago).unwrap();

    let lock = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(out.join(".warp.lock"))
        .unwrap();
    lock.lock().unwrap();
    let mut waiting = warp(&dir).arg("pack").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = BufReader::new(waiting.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "`warp pack` never said it waits for the lock:\n{seen}");
        seen.push_str(&line);
        if line.contains("Blocking waiting for the lock on") {
            break;
        }
    }
    // The source changes while it waits; the stale file is still there.
    let lib = dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    assert!(source.contains("hello from warp"), "the template changed: {source}");
    std::fs::write(&lib, source.replace("hello from warp", "hello again from warp")).unwrap();
    assert!(waiting.try_wait().unwrap().is_none(), "`warp pack` finished while the lock was held");
    assert!(stale.exists());

    lock.unlock().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(waiting.wait().unwrap().success(), "{seen}{rest}");
    let component = std::fs::read(out.join("rust-http.wasm")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("rust-http.warp.json")).unwrap()).unwrap();
    assert_eq!(manifest["component"]["sha256"], warp::fs::sha256_hex(&component));
    assert!(component.windows(b"hello again from warp".len()).any(|w| w == b"hello again from warp"));
    assert!(!stale.exists(), "the killed pack's temporary file is still there");
    assert_no_temp_files(&out);
}

/// The component and manifest get `0666 & !umask`, like cargo's outputs.
fn artifacts_respect_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let (_temp, dir) = template("rust-http");
    run(warp_under_umask(&dir, "027").arg("pack")).expect_code(0);
    for file in ["rust-http.wasm", "rust-http.warp.json"] {
        let mode = std::fs::metadata(dir.join("target/warp").join(file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "`{file}` has mode {mode:o}");
    }
}
