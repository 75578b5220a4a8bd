//! The Bun figures of `cargo xtask bench`: `warp pack --lang bun` of the
//! bun-http template (cold, no-op, one-line change) and its size; then its
//! throughput under `warp run` against the same, unedited project under
//! the real `bun run` on the same machine (for information: no goal).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Result;
use xshell::Shell;

use crate::Figure;
use crate::serve::{Wrk, free_port, have_wrk, wait_for_200_within, warp_run, wrk};
use crate::ts_bench::pack_figures;

/// What the Bun section says about its figures.
pub const ABOUT: &str = "Produced by `cargo xtask bench` (or `cargo xtask bench bun` for this section alone). \
    The project is what `warp new --lang bun --template http` writes (Bun.serve with hono's router, Bun.env, \
    the SDK's pg Pool). Serving: wrk -t2 -c32 -d10s on `GET /hello/ada`, first the project under the pinned \
    `bun run src/index.ts` (Bun's own server, natively), then its component under `warp run`, one after the \
    other on the same 2 cores. The ratio is for information; a component runs on SpiderMonkey in Wasm, \
    Bun natively on JavaScriptCore.";

pub fn figures(sh: &Shell, warp: &Path, work: &Path) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let dir = work.join("bun-http");
    warp::templates::instantiate(&warp::lang::bun::TEMPLATES[0], "bun-http", &dir)?;
    let (packing, _, _) = pack_figures(sh, warp, &dir, "bun-http", "bun install")?;
    figures.extend(packing);
    figures.extend(serving(sh, warp, &dir)?);
    Ok(figures)
}

/// Kills the child when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serving(sh: &Shell, warp: &Path, dir: &Path) -> Result<Vec<Figure>> {
    if !have_wrk(sh) {
        return Ok(vec![Figure {
            what: "bun-http: `warp run` vs `bun run`".into(),
            value: "not measured: needs `wrk`".into(),
        }]);
    }
    let bun = warp::lang::bun::program()?;
    let mut results = Vec::new();
    {
        let port = free_port()?;
        let _native = Running(
            Command::new(&bun)
                .args(["run", "src/index.ts"])
                .current_dir(dir)
                .env("PORT", port.to_string())
                .stdout(Stdio::null())
                .spawn()?,
        );
        wait_for_200_within(port, Duration::from_secs(30))?;
        results.push(("bun run (native)", wrk(sh, &format!("http://127.0.0.1:{port}/hello/ada"))?));
    }
    {
        let cache = std::env::temp_dir().join("warp-xtask-bench-bun-cache");
        let _ = std::fs::remove_dir_all(&cache);
        let port = free_port()?;
        let manifest = dir.join("target/warp/bun-http.warp.json");
        let _warp = Running(warp_run(warp, &manifest, &format!("127.0.0.1:{port}"), &cache).spawn()?);
        wait_for_200_within(port, Duration::from_secs(120))?;
        results.push(("warp run", wrk(sh, &format!("http://127.0.0.1:{port}/hello/ada"))?));
    }
    let mut figures = Vec::new();
    for (server, Wrk { rate, p50, errors }) in &results {
        figures.push(Figure {
            what: format!("bun-http under `{server}`, wrk -t2 -c32 -d10s"),
            value: format!("{rate:.0} req/s, p50 {p50} ({errors})"),
        });
    }
    figures.push(Figure {
        what: "bun-http: `warp run` / `bun run` throughput (information, no goal)".into(),
        value: format!(
            "{:.4}× (`bun run` is {:.0}× faster)",
            results[1].1.rate / results[0].1.rate,
            results[0].1.rate / results[1].1.rate
        ),
    });
    Ok(figures)
}
