//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `warp` with colour off, so output can be matched as text.
pub fn warp(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warp"));
    cmd.current_dir(dir).env("NO_COLOR", "1").env_remove("CARGO_TARGET_DIR");
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let Output { status, stdout, stderr } = cmd.output().expect("failed to spawn warp");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

impl Run {
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}\n--- stderr\n{}", self.stderr);
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n--- stdout\n{}", self.stdout);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Whether the Rust wasm target is installed. Absent: locally the test is
/// skipped with a loud reason; under `CI=true` it fails, because CI must
/// install everything (`cargo xtask ci` does).
pub fn have_wasm_target() -> bool {
    let present = warp::lang::rust::std_installed(Path::new("."), "wasm32-wasip2").unwrap_or(false);
    if !present {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("the wasm32-wasip2 target is missing under CI=true; run `warp toolchain install rust`");
        }
        eprintln!("SKIPPED: the wasm32-wasip2 Rust target is not installed; run `warp toolchain install rust`");
    }
    present
}

/// Copies a project tree (without `target/`) into `dest`.
pub fn copy_project(from: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let to = dest.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_project(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A copy of a template in a fresh temporary directory.
pub fn template(name: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join(name);
    copy_project(&repo().join("templates").join(name), &dir);
    (temp, dir)
}

/// The top-level exports of a component, validated first as `wasm-tools
/// validate` would.
pub fn validated_exports(component: &[u8]) -> Vec<String> {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(component)
        .expect("component validates");
    let mut exports = Vec::new();
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload.unwrap() {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    exports.push(export.unwrap().name.name.to_string());
                }
            }
            _ => {}
        }
    }
    exports
}

/// No temporary file of an atomic write was left behind in `dir`.
#[track_caller]
pub fn assert_no_temp_files(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with(".warp-"), "left behind: {}", entry.path().display());
        }
    }
}

/// Compares `actual` with `tests/it/snapshots/NAME`; `BLESS=1` rewrites it.
#[track_caller]
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = repo().join("tests/it/snapshots").join(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no snapshot `{}`; run with BLESS=1 to create it", path.display()));
    assert!(
        expected == actual,
        "snapshot `{name}` differs (BLESS=1 to accept)\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// Writes `original` (a manifest's JSON) to `path` with `edit` applied.
pub fn write_edited_manifest(path: &Path, original: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut value: serde_json::Value = serde_json::from_str(original).unwrap();
    edit(&mut value);
    std::fs::write(path, value.to_string()).unwrap();
}
