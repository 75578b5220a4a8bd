//! Embeds what warp needs at run time — toolchain recipes, patch series, the
//! shim WIT, the guest SDKs, the `warp new` templates and compat-db — into the binary,
//! so an installed `warp` works anywhere (see `src/assets.rs`).

use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The directories that travel inside the binary, relative to the crate.
const EMBEDDED: &[&str] = &["toolchains", "patches", "wit", "sdk", "templates", "compat-db"];

/// Never embedded: build outputs and vendored copies a local build leaves.
fn skipped(name: &str) -> bool {
    matches!(name, "target" | "vendor" | "node_modules" | ".cache")
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<PathBuf>, watch: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("embedded directory is readable").flatten().collect();
    entries.sort_by_key(|entry| entry.file_name());
    let mut has_skipped = false;
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if skipped(&name) {
            has_skipped = true;
            continue;
        }
        if path.is_dir() {
            walk(root, &path, files, watch);
        } else if path.is_file() {
            files.push(path.strip_prefix(root).expect("under the root").to_path_buf());
        }
    }
    // Cargo rescans a watched directory recursively, so a directory that
    // holds a build output is watched file by file instead (a pack in a
    // template would otherwise rebuild warp).
    if !has_skipped {
        watch.push(dir.to_path_buf());
    }
}

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let (mut files, mut watch) = (Vec::new(), Vec::new());
    for dir in EMBEDDED {
        walk(&root, &root.join(dir), &mut files, &mut watch);
    }
    let mut out = String::from(
        "/// Every embedded file: (path relative to the repository, contents).\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for file in &files {
        let relative = file.to_string_lossy().replace('\\', "/");
        let absolute = root.join(file);
        writeln!(out, "    ({relative:?}, include_bytes!({:?})),", absolute.to_string_lossy()).unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("assets.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
    for file in &files {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
    }
    for dir in &watch {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}
