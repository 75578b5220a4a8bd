//! Repository automation: `cargo xtask ci` (what `.ci/run` runs) and
//! `cargo xtask bench` (size and speed against the anchors the issues name).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci      install what the tests need, then run every test (release profile)
  bench   measure packed size vs plain `cargo build --release` and no-op
          repack time; writes docs/BENCHMARKS.md";

fn main() -> Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    let sh = Shell::new()?;
    sh.change_dir(root());
    match task.as_str() {
        "ci" => ci(&sh),
        "bench" => bench(&sh),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repo").to_path_buf()
}

/// Everything the test suite needs, installed by the suite's own command.
fn install_prerequisites(sh: &Shell) -> Result<()> {
    cmd!(sh, "rustup target add wasm32-wasip2 wasm32-wasip1").run().context("failed to add the Rust wasm targets")?;
    Ok(())
}

fn ci(sh: &Shell) -> Result<()> {
    install_prerequisites(sh)?;
    // One profile for the binary and the tests: release (see docs/ARCHITECTURE.md).
    let _ci = sh.push_env("CI", "true");
    cmd!(sh, "cargo test --release --workspace --locked").run()?;
    Ok(())
}

struct Figure {
    what: String,
    value: String,
}

fn bench(sh: &Shell) -> Result<()> {
    install_prerequisites(sh)?;
    cmd!(sh, "cargo build --release --locked --bin warp").run()?;
    let warp = root().join("target/release/warp");
    let work = tempfile_dir(sh)?;
    let mut figures = Vec::new();

    for (name, source, artifact) in [
        ("rust-http template", "templates/rust-http", "rust_http.wasm"),
        ("wstd-echo (third-party style)", "tests/fixtures/wstd-echo", "wstd-echo.wasm"),
    ] {
        let plain_dir = work.join(format!("plain-{}", artifact));
        let packed_dir = work.join(format!("packed-{}", artifact));
        copy_tree(&root().join(source), &plain_dir)?;
        copy_tree(&root().join(source), &packed_dir)?;

        // The anchor: what a user gets from plain cargo.
        sh.change_dir(&plain_dir);
        cmd!(sh, "cargo build --release --target wasm32-wasip2 --quiet").run()?;
        let plain = std::fs::metadata(plain_dir.join("target/wasm32-wasip2/release").join(artifact))?.len();

        sh.change_dir(&packed_dir);
        let started = Instant::now();
        let json = cmd!(sh, "{warp} pack --json --quiet").read()?;
        let cold = started.elapsed();
        let json: serde_json::Value = serde_json::from_str(&json)?;
        let packed = json["raw_bytes"].as_u64().context("raw_bytes")?;
        let gzip = json["gzip_bytes"].as_u64().context("gzip_bytes")?;

        // No-op repack: nothing changed since the last pack.
        let mut times: Vec<Duration> = (0..10)
            .map(|_| {
                let started = Instant::now();
                cmd!(sh, "{warp} pack --quiet").ignore_stdout().run().map(|()| started.elapsed())
            })
            .collect::<Result<_, _>>()?;
        times.sort();
        let median = times[times.len() / 2];
        sh.change_dir(root());

        figures.push(Figure { what: format!("{name}: plain `cargo build --release --target wasm32-wasip2`"), value: format!("{plain} B") });
        figures.push(Figure { what: format!("{name}: `warp pack`"), value: format!("{packed} B (gzip {gzip} B)") });
        figures.push(Figure { what: format!("{name}: packed / plain"), value: format!("{:.3}×", packed as f64 / plain as f64) });
        figures.push(Figure { what: format!("{name}: first pack, dependencies cold"), value: format!("{:.2} s", cold.as_secs_f64()) });
        figures.push(Figure { what: format!("{name}: no-op repack, median of 10"), value: format!("{} ms", median.as_millis()) });
    }

    let mut table = String::from("| measurement | value |\n|---|---|\n");
    for figure in &figures {
        table.push_str(&format!("| {} | {} |\n", figure.what, figure.value));
    }
    println!("{table}");
    let rustc = cmd!(sh, "rustc --version").read()?;
    let doc = format!(
        "# Benchmarks\n\nProduced by `cargo xtask bench` on the development machine (2 cores), {rustc}.\n\
         Sizes are of the component; the anchor is plain `cargo build --release --target wasm32-wasip2` \
         of the same crate, built in the same run. The no-op repack is `warp pack` with nothing changed \
         (goal: under 300 ms); the size goal for the template is packed / plain ≤ 0.5.\n\n{table}"
    );
    std::fs::write(root().join("docs/BENCHMARKS.md"), doc)?;
    if figures.iter().any(|f| f.what.starts_with("rust-http template: packed / plain") && f.value.trim_end_matches('×').parse::<f64>().unwrap_or(9.0) > 0.5) {
        bail!("the template's packed size is over half the plain build");
    }
    Ok(())
}

fn tempfile_dir(sh: &Shell) -> Result<PathBuf> {
    // Outside the repository, so the copies are not taken for workspace members.
    let dir = std::env::temp_dir().join("warp-xtask-bench");
    if dir.exists() {
        sh.remove_path(&dir)?;
    }
    sh.create_dir(&dir)?;
    Ok(dir)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_name() == "target" {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}
