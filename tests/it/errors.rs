//! Bad input: each gets a message naming what and where, the fix when there
//! is one, the documented exit code, and nothing half-written.

use std::path::Path;

use crate::support::*;

tests! {
    no_cargo_toml: [],
    lib_crate_without_cdylib: [],
    compile_error_shows_the_compilers_diagnostics: [WasmTarget],
    world_mismatch_names_the_missing_export: [WasmTarget],
    disabled_shim_import_is_refused: [],
    missing_wasm_target_says_how_to_install_it: [],
    invalid_warp_toml_names_file_and_field: [],
    database_ca_has_no_effect_without_tls: [],
    database_ca_must_be_a_file: [WasmTarget],
    budget_breach_on_pack_fails_with_a_table_but_keeps_a_whole_artifact: [WasmTarget],
    usage_errors_exit_2: [],
}

fn out_dir(project: &Path) -> std::path::PathBuf {
    project.join("target/warp")
}

fn no_cargo_toml() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).arg("pack"))
        .expect_code(2)
        .stderr_has("cannot tell the language of `.`")
        .stderr_has("help: name it: `warp pack --lang");
    run(warp(temp.path()).args(["pack", "--lang", "rust"])).expect_code(2).stderr_has("error: no `Cargo.toml` in `.`");
    run(warp(temp.path()).args(["pack", "does/not/exist"])).expect_code(2).stderr_has("no project at `does/not/exist`");
}

fn lib_crate_without_cdylib() {
    let (_temp, dir) = template("rust-http");
    let text =
        std::fs::read_to_string(dir.join("Cargo.toml")).unwrap().replace("[lib]\ncrate-type = [\"cdylib\"]\n", "");
    std::fs::write(dir.join("Cargo.toml"), text).unwrap();
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("package `rust-http` cannot become a component: its library is crate-type `lib`, and a component needs `cdylib`")
        .stderr_has("crate-type = [\"cdylib\"]");
}

fn compile_error_shows_the_compilers_diagnostics() {
    let (_temp, dir) = template("rust-http");
    let lib = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib)
        .unwrap()
        .replace("let path = request", "let _ = undefined_helper();\n        let path = request");
    std::fs::write(&lib, text).unwrap();
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("error[E0425]: cannot find function `undefined_helper`")
        .stderr_has("src/lib.rs")
        .stderr_has("error: could not compile `rust-http` for `wasm32-wasip2`");
    assert!(!out_dir(&dir).join("rust-http.wasm").exists());
    assert_no_temp_files(&out_dir(&dir));
}

fn world_mismatch_names_the_missing_export() {
    let (_temp, dir) = template("rust-http");
    std::fs::write(dir.join("warp.toml"), "world = \"cli\"\n").unwrap();
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("the component does not target world `wasi:cli/command`: missing export `wasi:cli/run`")
        .stderr_has("it exports: `wasi:http/incoming-handler@0.2.12`");
    assert!(!out_dir(&dir).join("rust-http.wasm").exists());
    assert!(!out_dir(&dir).join("rust-http.warp.json").exists());
    assert_no_temp_files(&out_dir(&dir));
}

fn disabled_shim_import_is_refused() {
    // A core module that imports a shim the project did not enable: the world
    // check runs on the component's imports.
    let imports = warp::component::Interfaces {
        imports: vec!["warpgrid:shim/signals@0.1.0".into()],
        exports: vec!["wasi:cli/run@0.2.0".into()],
    };
    let err = warp::component::check_world(warp::project::World::Cli, &imports, &[]).unwrap_err();
    assert!(err.to_string().contains("the `signals` shim is not enabled"), "{err}");
    assert_eq!(warp::error::exit_for(&err), warp::error::Exit::CheckFailed);
}

fn missing_wasm_target_says_how_to_install_it() {
    let (_temp, dir) = template("rust-http");
    // A rustc whose sysroot has no wasm32-wasip2 standard library: what a
    // fresh rustup install without the target looks like to warp.
    let empty_sysroot = tempfile::tempdir().unwrap();
    let wrapper = dir.join("rustc-without-wasm");
    std::fs::write(&wrapper, format!("#!/bin/sh\nexec rustc --sysroot '{}' \"$@\"\n", empty_sysroot.path().display()))
        .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(&wrapper).unwrap().permissions(), 0o755);
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    run(warp(&dir).arg("pack").env("RUSTC", &wrapper))
        .expect_code(2)
        .stderr_has("error: the Rust target `wasm32-wasip2` is not installed")
        .stderr_has("help: run `warp toolchain install rust` (or `rustup target add wasm32-wasip2`)");
}

fn invalid_warp_toml_names_file_and_field() {
    let (_temp, dir) = template("rust-http");
    std::fs::write(dir.join("warp.toml"), "world = \"http\"\n[budget]\nraw = \"lots\"\n").unwrap();
    run(warp(&dir).arg("pack")).expect_code(1).stderr_has("invalid `./warp.toml`").stderr_has("invalid size `lots`");
}

/// A `[[shims.database]]` table to append to the template's `warp.toml`.
const DATABASE_ENDPOINT: &str = "\n[[shims.database]]\nprotocol = \"postgres\"\nhost = \"db\"\nport = 5432\n";

fn database_ca_has_no_effect_without_tls() {
    let (_temp, dir) = template("rust-http");
    let config = std::fs::read_to_string(dir.join("warp.toml")).unwrap();
    std::fs::write(dir.join("warp.toml"), format!("{config}{DATABASE_ENDPOINT}ca = \"ca.pem\"\n")).unwrap();
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("field `shims.database[0].ca` has no effect without `tls = true`");
}

fn database_ca_must_be_a_file() {
    let (_temp, dir) = template("rust-http");
    let config = std::fs::read_to_string(dir.join("warp.toml")).unwrap();
    let endpoint = DATABASE_ENDPOINT;
    std::fs::write(dir.join("warp.toml"), format!("{config}{endpoint}tls = true\nca = \"certs/ca.pem\"\n")).unwrap();
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("certs/ca.pem` is not a file (warp.toml field `shims.database[0].ca`)");
}

fn budget_breach_on_pack_fails_with_a_table_but_keeps_a_whole_artifact() {
    let (_temp, dir) = template("rust-http");
    let config = std::fs::read_to_string(dir.join("warp.toml")).unwrap().replace("raw = \"300KB\"", "raw = \"10KB\"");
    std::fs::write(dir.join("warp.toml"), config).unwrap();
    let run = run(warp(&dir).arg("pack"));
    run.expect_code(1).stderr_has("OVER BUDGET").stderr_has("raw size").stderr_has("over the budget of 10,000 B");
    let component = std::fs::read(out_dir(&dir).join("rust-http.wasm")).unwrap();
    validated_exports(&component);
    assert_no_temp_files(&out_dir(&dir));
}

fn usage_errors_exit_2() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).arg("frobnicate")).expect_code(2);
    run(warp(temp.path()).args(["size-check"])).expect_code(2);
    run(warp(temp.path()).args(["size-check", "x.wasm", "--max-raw", "huge"]))
        .expect_code(2)
        .stderr_has("invalid size `huge`");
    run(warp(temp.path()).args(["toolchain", "install", "fortran"]))
        .expect_code(2)
        .stderr_has("unknown toolchain `fortran`");
}
