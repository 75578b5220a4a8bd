//! `warp run`: serve a `wasi:http` component or run a `wasi:cli` one.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use crate::error::Exit;
use crate::project::World;
use crate::runner;
use crate::ui::Printer;

const AFTER_HELP: &str = "\
Examples:
  warp run target/warp/hello.warp.json                    serve on 127.0.0.1:8080
  warp run target/warp/hello.warp.json --listen 0.0.0.0:9000
  warp run target/warp/tool.warp.json -- --name world     a CLI component with arguments

The manifest is checked before anything runs: schema version, the component's
sha256, and the shims it enables. Compiled code is cached in
`$WARP_CACHE_DIR` (default `~/.cache/warp`), so a restart compiles nothing.
Each request gets a fresh instance; a trap answers 500, a request past
`limits.request_timeout` (default 30s) 504, a full instance pool 503.
Ctrl-C or SIGTERM stops accepting and drains in-flight requests (up to 10s).

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
    let loaded = runner::load(&opts.manifest)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    match loaded.manifest.component.world {
        World::Cli => {
            let code = runtime.block_on(runner::run_cli(&loaded, &opts.args))?;
            Ok(if code == 0 { Exit::Ok } else { Exit::Guest(code) })
        }
        World::Http => runtime.block_on(async {
            let addr = opts.listen.unwrap_or_else(|| runner::default_listen(&loaded.manifest));
            let listener = runner::http::bind(addr).await?;
            let local = listener.local_addr().context("failed to read the bound address")?;
            let server = runner::Server::new(&loaded)?;
            printer.status(
                "Serving",
                format_args!(
                    "{} ({}{}, ready in {} ms)",
                    loaded.manifest.name,
                    if loaded.from_cache { "compiled code from cache" } else { "compiled" },
                    if loaded.pooling { ", pooling allocator" } else { "" },
                    started.elapsed().as_millis()
                ),
            );
            printer.json(&serde_json::json!({ "event": "listening", "address": format!("http://{local}"), "name": loaded.manifest.name, "from_cache": loaded.from_cache }));
            printer.out(format_args!("listening on http://{local}\n"));
            server.clone().serve(listener, shutdown_signal()).await?;
            printer.status("Stopped", format_args!("{} requests served, {} failed", server.stats.served.load(std::sync::atomic::Ordering::Relaxed), server.stats.failed.load(std::sync::atomic::Ordering::Relaxed)));
            Ok(Exit::Ok)
        }),
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match terminate.as_mut() {
                Some(signal) => { signal.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}
