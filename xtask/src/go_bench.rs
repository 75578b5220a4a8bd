//! The Go figures of `cargo xtask bench`: `warp pack --lang go` against
//! the raw `go build` of the same program, the component's size against
//! the plain wasip1 build, and the Go hello's throughput, latency and
//! memory per instance under `warp run` against the Rust hello, same run.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

use crate::serve::{Wrk, free_port, rss_bytes, wait_for_200_within, warp_run, wrk};
use crate::{Figure, copy_tree, root};

/// The stock net/http program of the Go tests.
const FIXTURE: &str = "tests/fixtures/go-stock";

/// What the Go section says about its figures.
pub const ABOUT: &str = "Produced by `cargo xtask bench` (or `cargo xtask bench go` for this section alone). \
    The Go figures pack `tests/fixtures/go-stock` (a stock net/http program) against plain \
    `GOOS=wasip1 go build` of it, both with Go's build cache warm, and serve its `/` under \
    `warp run` (warm instances, `http.reuse = 0`) against the Rust hello (`tests/fixtures/hello-http`, \
    a fresh instance per request), one after the other on the same 2 cores, wrk -t2 -c32 -d10s.";

pub fn figures(sh: &Shell, warp: &Path, work: &Path, rust_hello: &Path) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let go_version = cmd!(sh, "go env GOVERSION").read().context("Go is needed for the Go figures")?;

    // The anchor: plain `go build` for wasip1 (a command module), with the
    // build cache warm, as after any first build.
    let plain_dir = work.join("go-plain");
    copy_tree(&root().join(FIXTURE), &plain_dir)?;
    sh.change_dir(&plain_dir);
    let _goos = sh.push_env("GOOS", "wasip1");
    let _goarch = sh.push_env("GOARCH", "wasm");
    cmd!(sh, "go build -o warm.wasm .").run()?;
    let started = Instant::now();
    cmd!(sh, "go build -o plain.wasm .").run()?;
    let go_build = started.elapsed();
    let plain = std::fs::read(plain_dir.join("plain.wasm"))?;
    let plain_gzip = warp::size::Sizes::of(&plain).gzip_bytes;
    drop((_goos, _goarch));

    // warp pack of the same program, fresh output directory, Go's cache warm.
    let packed_dir = work.join("go-packed");
    copy_tree(&root().join(FIXTURE), &packed_dir)?;
    sh.change_dir(&packed_dir);
    let started = Instant::now();
    let json = cmd!(sh, "{warp} pack --json --quiet").read()?;
    let pack = started.elapsed();
    let json: serde_json::Value = serde_json::from_str(&json)?;
    let raw = json["raw_bytes"].as_u64().context("raw_bytes")?;
    let gzip = json["gzip_bytes"].as_u64().context("gzip_bytes")?;
    let started = Instant::now();
    cmd!(sh, "{warp} pack --quiet").ignore_stdout().run()?;
    let repack = started.elapsed();
    sh.change_dir(root());

    let unoptimized_dir = work.join("go-unoptimized");
    copy_tree(&root().join(FIXTURE), &unoptimized_dir)?;
    let config = unoptimized_dir.join("warp.toml");
    std::fs::write(&config, std::fs::read_to_string(&config)? + "\n[go]\noptimize = false\n")?;
    sh.change_dir(&unoptimized_dir);
    let started = Instant::now();
    cmd!(sh, "{warp} pack --quiet").ignore_stdout().run()?;
    let pack_unoptimized = started.elapsed();
    sh.change_dir(root());

    figures.push(Figure {
        what: format!("go-stock ({go_version}): plain `GOOS=wasip1 go build`, build cache warm"),
        value: format!("{:.2} s, {} B (gzip {plain_gzip} B)", go_build.as_secs_f64(), plain.len()),
    });
    figures.push(Figure {
        what: "go-stock: `warp pack` (bridge, wasm-opt -O1, componentize), Go's cache warm".into(),
        value: format!("{:.2} s ({:.1}× go build), {raw} B (gzip {gzip} B)", pack.as_secs_f64(), ratio(pack, go_build)),
    });
    figures.push(Figure {
        what: "go-stock: packed / plain wasip1 build (goal ≤ 1.0)".into(),
        value: format!("{:.3}× raw, {:.3}× gzip", raw as f64 / plain.len() as f64, gzip as f64 / plain_gzip as f64),
    });
    figures.push(Figure {
        what: "go-stock: `warp pack` with `[go] optimize = false`".into(),
        value: format!("{:.2} s ({:.1}× go build)", pack_unoptimized.as_secs_f64(), ratio(pack_unoptimized, go_build)),
    });
    figures.push(Figure { what: "go-stock: no-op repack".into(), value: format!("{} ms", repack.as_millis()) });

    figures.extend(serving(sh, warp, &packed_dir.join("target/warp/stock.warp.json"), rust_hello)?);
    Ok(figures)
}

/// The Go hello against the Rust hello under `warp run`, wrk, one after the
/// other; and the Go server's memory as its warm instances grow.
fn serving(sh: &Shell, warp: &Path, go_manifest: &Path, rust_hello: &Path) -> Result<Vec<Figure>> {
    if !crate::serve::have_wrk(sh) {
        return Ok(vec![Figure {
            what: "Go hello vs Rust hello under `warp run`".into(),
            value: "not measured: needs `wrk` (apt-get install wrk)".into(),
        }]);
    }
    let cache = std::env::temp_dir().join("warp-xtask-bench-go-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let mut figures = Vec::new();
    let mut rates = Vec::new();
    for (name, manifest) in [("Rust hello (hello-http)", rust_hello), ("Go hello (go-stock `/`)", go_manifest)] {
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut child = warp_run(warp, manifest, &addr, &cache).spawn()?;
        // Requests one after another: one instance serves them all.
        wait_for_200_within(port, Duration::from_secs(120))?;
        let url = format!("http://{addr}/");
        if name.starts_with("Go") {
            let one = rss_bytes(child.id())? / 1024;
            // 16 clients at once: 16 instances, all kept warm (the idle pool's size).
            cmd!(sh, "wrk -t2 -c16 -d3s {url}").ignore_stdout().run()?;
            let sixteen = rss_bytes(child.id())? / 1024;
            figures.push(Figure {
                what: "Go hello: memory per warm instance, (RSS at 16 instances − RSS at 1) / 15".into(),
                value: format!(
                    "{:.1} MiB (RSS {:.0} → {:.0} MiB)",
                    sixteen.saturating_sub(one) as f64 / 15.0 / 1024.0,
                    one as f64 / 1024.0,
                    sixteen as f64 / 1024.0
                ),
            });
        }
        let Wrk { rate, p50, errors } = wrk(sh, &url)?;
        child.kill()?;
        child.wait()?;
        figures.push(Figure {
            what: format!("{name} under `warp run`, wrk -t2 -c32 -d10s"),
            value: format!("{rate:.0} req/s, p50 {p50} ({errors})"),
        });
        rates.push(rate);
    }
    figures.push(Figure {
        what: "Go hello / Rust hello throughput under `warp run` (goal ≥ 0.25)".into(),
        value: format!("{:.2}×", rates[1] / rates[0]),
    });
    Ok(figures)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
