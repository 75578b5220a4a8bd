//! `warp run`: serve a `wasi:http` component or run a `wasi:cli` one. The
//! runner does the work; this file picks the event sink and turns process
//! signals into the runner's control messages.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use tokio::sync::mpsc;

use crate::error::Exit;
use crate::manifest::Placement;
use crate::project::World;
use crate::runner::events::JsonLines;
use crate::runner::{self, CliExit, Control, EventSink, ShimState, Signal};
use crate::ui::{HumanEvents, Printer};

const AFTER_HELP: &str = "\
Examples:
  warp run target/warp/hello.warp.json                    serve on 127.0.0.1:8080
  warp run target/warp/hello.warp.json --listen 0.0.0.0:9000
  warp run target/warp/tool.warp.json -- --name world     a CLI component with arguments

The manifest is checked before anything runs: schema version, the component's
sha256, and the shims it enables. The component must be a regular file in the
manifest's directory or below (`--allow-component-outside` lifts that). Compiled
code is cached, and checked before use, in
`$WARP_CACHE_DIR` (default `~/.cache/warp`), so a restart compiles nothing;
`WARP_CACHE_MAX_COMPILED` bounds that cache (default 512MiB).
Each request gets a fresh instance (memory up to `limits.memory`, default
128MiB); a trap answers 500, a request past `limits.request_timeout` (default
30s, the client's sending and reading included) 504, a full instance pool 503.
Connections close after `limits.header_timeout` (30s) without a request head,
or `limits.idle_timeout` (75s) idle; at most `limits.connections` (1024) open.
Ctrl-C or SIGTERM stops accepting and drains in-flight requests (up to
`limits.drain_timeout`, 10s); requests still running then are cut short.
SIGHUP reloads the manifest and swaps in its component while serving;
guests that subscribed through the signals shim see hangup/terminate/interrupt.
Only the shims the manifest enables are linked (see docs/RUN.md).

Exit status:
  http: 0 after a clean stop; 1 when the stop cut requests short;
        2 when the manifest or component is refused
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
    /// Serve the component even when `component.path` leads outside the
    /// manifest's directory (only for a manifest you trust).
    #[arg(long)]
    pub allow_component_outside: bool,
    /// Arguments for a CLI component (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    let events: Arc<dyn EventSink> =
        if printer.json { Arc::new(JsonLines::stdout()) } else { Arc::new(HumanEvents::new(*printer)) };
    let placement = if opts.allow_component_outside { Placement::Anywhere } else { Placement::InsideTree };
    let loaded = runner::load(&opts.manifest, None, placement)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let exit: Result<Exit> = match loaded.manifest.component.world {
        World::Http => runtime.block_on(async {
            let listener =
                runner::bind(opts.listen.unwrap_or_else(|| runner::default_listen(&loaded.manifest))).await?;
            let control = forward(OsSignals::install()?);
            let stopped = runner::serve(loaded, listener, control, events).await?;
            // Requests the stop cut short failed: the stop did not keep its word.
            Ok(if stopped.cut_short > 0 { Exit::CheckFailed } else { Exit::Ok })
        }),
        World::Cli => runtime.block_on(async {
            let shims = ShimState::new(&loaded, events);
            // Without the signals shim, process signals keep their usual
            // effect: nothing is installed, and the channel is closed.
            let control =
                if loaded.manifest.shims.signals { forward(OsSignals::install()?) } else { mpsc::channel(1).1 };
            Ok(match runner::run_cli(&loaded, &shims, &opts.args, control).await? {
                CliExit::Code(0) => Exit::Ok,
                CliExit::Code(code) => Exit::Guest(code),
                // What a shell reports for a program killed by the signal.
                CliExit::Stopped(Signal::Terminate) => Exit::Guest(128 + 15),
                CliExit::Stopped(Signal::Interrupt) => Exit::Guest(128 + 2),
                CliExit::Stopped(Signal::Hangup) => Exit::Guest(128 + 1),
            })
        }),
    };
    // What is still running (a guest past the drain, a stuck reload on a
    // blocking thread) must not keep the process from exiting.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    exit
}

/// SIGHUP reloads; SIGTERM and Ctrl-C stop (each queued first for guests
/// that asked for it, by the runner).
fn forward(signals: OsSignals) -> mpsc::Receiver<Control> {
    signals.forward(|signal| match signal {
        Signal::Hangup => Control::Reload(None),
        signal => Control::Stop(signal),
    })
}

/// The process signals `warp run` maps to the shim's lifecycle signals:
/// SIGTERM → terminate, SIGHUP → hangup, SIGINT (Ctrl-C) → interrupt.
pub(crate) struct OsSignals {
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl OsSignals {
    /// Installs the handlers (which replaces the default actions).
    pub(crate) fn install() -> Result<OsSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        let install = |kind: SignalKind| signal(kind).context("failed to install a signal handler");
        Ok(OsSignals {
            terminate: install(SignalKind::terminate())?,
            hangup: install(SignalKind::hangup())?,
            interrupt: install(SignalKind::interrupt())?,
        })
    }

    /// Each signal, as `map` makes it, on a channel (until its receiver is dropped).
    pub(crate) fn forward<T: Send + 'static>(mut self, map: fn(Signal) -> T) -> mpsc::Receiver<T> {
        let (sender, receiver) = mpsc::channel(8);
        tokio::spawn(async move {
            loop {
                if sender.send(map(self.recv().await)).await.is_err() {
                    break;
                }
            }
        });
        receiver
    }

    pub(crate) async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.terminate.recv() => Signal::Terminate,
            _ = self.hangup.recv() => Signal::Hangup,
            _ = self.interrupt.recv() => Signal::Interrupt,
        }
    }
}
