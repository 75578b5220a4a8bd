//! `warp run`: serve a `wasi:http` component or run a `wasi:cli` one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use anyhow::{Context, Result};
use clap::Args;

use crate::error::Exit;
use crate::project::World;
use crate::runner::{self, OsSignals, ShimState, Signal, log};
use crate::ui::Printer;
use serde_json::json;

const AFTER_HELP: &str = "\
Examples:
  warp run target/warp/hello.warp.json                    serve on 127.0.0.1:8080
  warp run target/warp/hello.warp.json --listen 0.0.0.0:9000
  warp run target/warp/tool.warp.json -- --name world     a CLI component with arguments

The manifest is checked before anything runs: schema version, the component's
sha256, and the shims it enables. Compiled code is cached in
`$WARP_CACHE_DIR` (default `~/.cache/warp`), so a restart compiles nothing;
`WARP_CACHE_MAX_COMPILED` bounds that cache (default 512MiB).
Each request gets a fresh instance; a trap answers 500, a request past
`limits.request_timeout` (default 30s) 504, a full instance pool 503.
Ctrl-C or SIGTERM stops accepting and drains in-flight requests (up to 10s).
SIGHUP reloads the manifest and swaps in its component while serving;
guests that subscribed through the signals shim see hangup/terminate/interrupt.
Only the shims the manifest enables are linked (see docs/RUN.md).

Exit status:
  http: 0 after a clean stop; 2 when the manifest or component is refused
  cli:  the program's own exit status; 2 when refused";

/// Serve or run a packed component from its run manifest.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct Opts {
    /// The run manifest written by `warp pack` (`NAME.warp.json`).
    pub manifest: PathBuf,
    /// Address to serve on (http components).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Arguments for a CLI component (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    let started = std::time::Instant::now();
    runner::log::use_json(printer.json);
    let loaded = runner::load(&opts.manifest)?;
    let shims = ShimState::new(&loaded);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    match loaded.manifest.component.world {
        World::Cli => runtime.block_on(run_cli(&loaded, &shims, &opts.args)),
        World::Http => runtime.block_on(async {
            let addr = opts.listen.unwrap_or_else(|| runner::default_listen(&loaded.manifest));
            let listener = runner::http::bind(addr).await?;
            let local = listener.local_addr().context("failed to read the bound address")?;
            let mut signals = OsSignals::install()?;
            let (name, from_cache, pooling) = (loaded.manifest.name.clone(), loaded.from_cache, loaded.pooling);
            let server = runner::Server::new(loaded, shims)?;
            let origin = if from_cache { "compiled code from cache" } else { "compiled" };
            let pool = if pooling { ", pooling allocator" } else { "" };
            let ready = started.elapsed().as_millis();
            printer.status("Serving", format_args!("{name} ({origin}{pool}, ready in {ready} ms)"));
            log::record(
                "listening",
                json!({ "address": format!("http://{local}"), "name": name, "from_cache": from_cache }),
            );
            printer.out(format_args!("listening on http://{local}\n"));
            let stop = async {
                loop {
                    let signal = signals.recv().await;
                    if signal == Signal::Hangup {
                        reload(&server, &opts.manifest, printer).await;
                    }
                    server.shims().deliver(signal);
                    if signal != Signal::Hangup {
                        printer.status("Stopping", format_args!("{}: draining in-flight requests", signal.name()));
                        log::record("stopping", json!({ "signal": signal.name() }));
                        break;
                    }
                }
            };
            server.clone().serve(listener, stop).await?;
            let (served, failed) = (server.stats.served.load(Relaxed), server.stats.failed.load(Relaxed));
            let status = if server.shims().degraded() { " (deployment degraded: see the warning above)" } else { "" };
            printer.status("Stopped", format_args!("{served} requests served, {failed} failed{status}"));
            log::record(
                "stopped",
                json!({ "served": served, "failed": failed, "degraded": server.shims().degraded() }),
            );
            Ok(Exit::Ok)
        }),
    }
}

/// SIGHUP: re-read the manifest and swap in what it names; keep serving
/// the old version when the new one is refused.
async fn reload(server: &runner::Server, manifest: &Path, printer: &Printer) {
    match server.reload(manifest).await {
        Ok(reloaded) => {
            let what = match (reloaded.swapped, reloaded.from_cache) {
                (false, _) => "same component, new settings",
                (true, true) => "new component, compiled code from cache",
                (true, false) => "new component, compiled",
            };
            printer.status("Reloaded", format_args!("{} ({what})", reloaded.name));
            log::record(
                "reloaded",
                json!({ "name": reloaded.name, "swapped": reloaded.swapped, "from_cache": reloaded.from_cache }),
            );
        }
        Err(e) => {
            printer.warn(format_args!("reload failed; still serving the previous version: {e:#}"));
            log::record("reload-failed", json!({ "error": format!("{e:#}") }));
        }
    }
}

/// Runs a CLI component. With the signals shim enabled, a signal the guest
/// asked for is queued for it; any other keeps its usual effect (SIGTERM
/// and Ctrl-C stop the program, SIGHUP is ignored).
async fn run_cli(loaded: &runner::Loaded, shims: &Arc<ShimState>, args: &[String]) -> Result<Exit> {
    let exit = |code: u8| if code == 0 { Exit::Ok } else { Exit::Guest(code) };
    if !loaded.manifest.shims.signals {
        return Ok(exit(runner::run_cli(loaded, shims, args).await?));
    }
    let mut signals = OsSignals::install()?;
    let program = runner::run_cli(loaded, shims, args);
    tokio::pin!(program);
    loop {
        tokio::select! {
            code = &mut program => return Ok(exit(code?)),
            signal = signals.recv() => {
                if shims.signals.wants(signal) {
                    shims.deliver(signal);
                    continue;
                }
                match signal {
                    Signal::Hangup => continue,
                    // What a shell reports for a program killed by the signal.
                    Signal::Terminate => return Ok(Exit::Guest(128 + 15)),
                    Signal::Interrupt => return Ok(Exit::Guest(128 + 2)),
                }
            }
        }
    }
}
