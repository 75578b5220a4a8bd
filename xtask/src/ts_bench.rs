//! The TypeScript figures of `cargo xtask bench`: `warp pack` of the
//! ts-http template (cold, no-op, one-line change), its size with the
//! engine's share shown apart; then a plain hono app's time to the first
//! response after a restart and its throughput under `warp run` against
//! `wasmtime serve` of the same component in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

use crate::Figure;
use crate::serve::{SERVERS, Wrk, free_port, have_wrk, versus_wasmtime_serve, wait_for_200_within, warp_run};

/// What the TypeScript section says about its figures.
pub const ABOUT: &str = "Produced by `cargo xtask bench` (or `cargo xtask bench ts` for this section alone). \
    The project is what `warp new --lang ts --template http` writes (hono, the SDK's pg Pool). \
    \"Engine\" is the component of an app whose handler returns an empty response: ComponentizeJS's \
    StarlingMonkey engine and a minimal snapshot, the same for every app with the same world; the \
    app's part is the template's size minus that. Serving uses `tests/fixtures/ts-hono` (a plain hono app \
    with no shims, so `wasmtime serve` runs it too): time to the first response of a restarted `warp run`, \
    and wrk -t2 -c32 -d10s on `GET /users/2`, `wasmtime serve -Scli` then `warp run` of the same \
    component, one after the other on the same 2 cores.";

pub fn figures(sh: &Shell, warp: &Path, work: &Path, wasmtime: Option<&str>) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let dir = work.join("ts-http");
    warp::templates::instantiate(&warp::lang::ts::TEMPLATES[0], "ts-http", &dir)?;
    let (packing, raw, gzip) = pack_figures(sh, warp, &dir, "ts-http", "npm install")?;
    figures.extend(packing);

    // The engine's share: an app that does nothing.
    let empty = work.join("ts-empty");
    std::fs::create_dir_all(empty.join("src"))?;
    std::fs::write(empty.join("package.json"), r#"{"name":"empty","private":true,"type":"module"}"#)?;
    std::fs::write(empty.join("src/index.js"), "export default { fetch: () => new Response('') };\n")?;
    sh.change_dir(&empty);
    let json: serde_json::Value = serde_json::from_str(&cmd!(sh, "{warp} pack --json --quiet").read()?)?;
    let engine_raw = json["raw_bytes"].as_u64().context("raw_bytes")?;
    let engine_gzip = json["gzip_bytes"].as_u64().context("gzip_bytes")?;
    sh.change_dir(crate::root());

    figures.push(Figure {
        what: "engine (an empty handler's component)".into(),
        value: format!("{engine_raw} B (gzip {engine_gzip} B)"),
    });
    figures.push(Figure {
        what: "ts-http: the app's part (component − engine)".into(),
        value: format!("{} B (gzip {} B)", raw.saturating_sub(engine_raw), gzip.saturating_sub(engine_gzip)),
    });
    // Serving: the hono fixture, which enables no shims (so `wasmtime serve` runs it too).
    let hono = work.join("ts-hono");
    crate::copy_tree(&crate::root().join("tests/fixtures/ts-hono"), &hono)?;
    sh.change_dir(&hono);
    cmd!(sh, "{warp} pack --quiet").ignore_stdout().run()?;
    sh.change_dir(crate::root());
    figures.extend(serving(sh, warp, &hono, wasmtime)?);
    Ok(figures)
}

/// `warp pack` of a JS template instantiated as `name` in `dir` (whose
/// first pack runs `installer`): first, cold, no-op and one-line-change
/// times, and the component; with its raw and gzip sizes. The one-line
/// change edits the string `from NAME` (a comment would not change the
/// bundle). Leaves the project packed, unedited.
pub fn pack_figures(
    sh: &Shell,
    warp: &Path,
    dir: &Path,
    name: &str,
    installer: &str,
) -> Result<(Vec<Figure>, u64, u64)> {
    sh.change_dir(dir);
    let started = Instant::now();
    cmd!(sh, "{warp} pack --quiet").ignore_stdout().run()?;
    let first = started.elapsed();
    // Cold: dependencies installed, nothing of warp's in target/.
    std::fs::remove_dir_all(dir.join("target"))?;
    let started = Instant::now();
    let json = cmd!(sh, "{warp} pack --json --quiet").read()?;
    let cold = started.elapsed();
    let json: serde_json::Value = serde_json::from_str(&json)?;
    let raw = json["raw_bytes"].as_u64().context("raw_bytes")?;
    let gzip = json["gzip_bytes"].as_u64().context("gzip_bytes")?;
    let noop = median_of(10, || {
        let started = Instant::now();
        cmd!(sh, "{warp} pack --quiet").ignore_stdout().run()?;
        Ok(started.elapsed())
    })?;
    let source = dir.join("src/index.ts");
    let original = std::fs::read_to_string(&source)?;
    let mut edits = 0;
    let one_line = median_of(3, || {
        edits += 1;
        std::fs::write(&source, original.replace(&format!("from {name}"), &format!("from {name} (edit {edits})")))?;
        let started = Instant::now();
        cmd!(sh, "{warp} pack --quiet").ignore_stdout().run()?;
        Ok(started.elapsed())
    })?;
    std::fs::write(&source, &original)?;
    cmd!(sh, "{warp} pack --quiet").ignore_stdout().run()?;
    sh.change_dir(crate::root());
    let figures = vec![
        Figure {
            what: format!("{name}: first `warp pack` ({installer} of hono included)"),
            value: format!("{:.2} s", first.as_secs_f64()),
        },
        Figure {
            what: format!("{name}: cold `warp pack` (dependencies installed, no cache)"),
            value: format!("{:.2} s", cold.as_secs_f64()),
        },
        Figure {
            what: format!("{name}: no-op repack, median of 10 (goal < 1 s)"),
            value: format!("{} ms", noop.as_millis()),
        },
        Figure {
            what: format!("{name}: repack after a one-line change, median of 3"),
            value: format!("{:.2} s", one_line.as_secs_f64()),
        },
        Figure { what: format!("{name}: component"), value: format!("{raw} B (gzip {gzip} B)") },
    ];
    Ok((figures, raw, gzip))
}

/// Time to the first response after a restart, and throughput against
/// `wasmtime serve`.
fn serving(sh: &Shell, warp: &Path, dir: &Path, wasmtime: Option<&str>) -> Result<Vec<Figure>> {
    let manifest = dir.join("target/warp/ts-hono.warp.json");
    let component = dir.join("target/warp/ts-hono.wasm");
    let cache = std::env::temp_dir().join("warp-xtask-bench-ts-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let mut figures = Vec::new();

    let mut first_response = Vec::new();
    for _ in 0..2 {
        let port = free_port()?;
        let started = Instant::now();
        let mut child = warp_run(warp, &manifest, &format!("127.0.0.1:{port}"), &cache).spawn()?;
        wait_for_200_within(port, Duration::from_secs(120))?;
        first_response.push(started.elapsed());
        child.kill()?;
        child.wait()?;
    }
    figures.push(Figure {
        what: "ts-hono under `warp run`: time to first response, restart with the compiled engine cached".into(),
        value: format!(
            "{} ms (first start, compiling: {} ms)",
            first_response[1].as_millis(),
            first_response[0].as_millis()
        ),
    });

    let Some(wasmtime) = wasmtime.filter(|_| have_wrk(sh)) else {
        figures.push(Figure {
            what: "ts-hono: `warp run` vs `wasmtime serve`".into(),
            value: "not measured: needs `wrk` and a wasmtime 48 CLI".into(),
        });
        return Ok(figures);
    };
    let results = versus_wasmtime_serve(
        sh,
        warp,
        wasmtime,
        (&manifest, &component),
        &cache,
        "/users/2",
        Duration::from_secs(120),
    )?;
    for (server, Wrk { rate, p50, errors }) in SERVERS.iter().zip(&results) {
        figures.push(Figure {
            what: format!("ts-hono under `{server}`, wrk -t2 -c32 -d10s"),
            value: format!("{rate:.0} req/s, p50 {p50} ({errors})"),
        });
    }
    let rates: Vec<f64> = results.iter().map(|r| r.rate).collect();
    figures.push(Figure {
        what: "ts-hono: `warp run` / `wasmtime serve` throughput (goal ≥ 1.0)".into(),
        value: format!("{:.2}×", rates[1] / rates[0]),
    });
    Ok(figures)
}

fn median_of(n: usize, mut measure: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    let mut times = (0..n).map(|_| measure()).collect::<Result<Vec<_>>>()?;
    times.sort();
    Ok(times[times.len() / 2])
}
