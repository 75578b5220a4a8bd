//! `warp run`: serve a `wasi:http` component or run a `wasi:cli` one. The
//! runner does the work; this file picks the event sink and turns process
//! signals into the runner's control messages.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tokio::sync::mpsc;

use super::OsSignals;
use crate::error::Exit;
use crate::manifest::Placement;
use crate::project::World;
use crate::runner::events::{Background, JsonLines};
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
A request body that stalls for `limits.body_timeout` (10s) answers 408; past
`limits.total_memory` (half the machine's) for all instances, 503.
The manifest's `dirs` are checked again at every load: inside the project
around the manifest unless `outside_project`, and never a read-write one
holding the manifest, the component or warp's caches.
Ctrl-C or SIGTERM stops accepting and drains in-flight requests (up to
`limits.drain_timeout`, 10s); requests still running then are cut short, and
the process exits at most 1s later whatever runs (a second Ctrl-C: at once).
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
    let sink: Arc<dyn EventSink> =
        if printer.json { Arc::new(JsonLines::stdout()) } else { Arc::new(HumanEvents::new(*printer)) };
    // Whoever emits an event (a thread serving requests) never waits on
    // the terminal or a stalled pipe.
    let background = Background::new(sink);
    let events: Arc<dyn EventSink> = background.clone();
    let placement = if opts.allow_component_outside { Placement::Anywhere } else { Placement::InsideTree };
    runner::conn::raise_open_file_limit();
    let loaded = runner::load(&opts.manifest, None, placement)?;
    let runtime = runner::runtime()?;
    let exit: Result<Exit> = match loaded.manifest.component.world {
        World::Http => runtime.block_on(async {
            let listener =
                runner::bind(opts.listen.unwrap_or_else(|| runner::default_listen(&loaded.manifest))).await?;
            let drain = runner::limits::ConnLimits::of(&loaded.manifest).drain;
            let control = signals_on_their_own_thread(drain)?;
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
    background.flush(EVENT_FLUSH);
    exit
}

/// How long the last events may take to be written before `warp run` exits.
const EVENT_FLUSH: Duration = Duration::from_secs(1);

/// How long past `limits.drain_timeout` a stop may take before `warp run`
/// exits regardless (a stop always ends; see [`signals_on_their_own_thread`]).
const STOP_GRACE: Duration = Duration::from_secs(1);

/// Process signals as the serve loop's control messages, received on a
/// thread of their own (with a small runtime of its own), so a signal is
/// seen whatever the serving threads are doing. A stop is bounded: if the
/// process still runs `drain` + [`STOP_GRACE`] after SIGTERM or Ctrl-C, it
/// exits with status 1 (the stop did not keep its word), and a second
/// Ctrl-C during a stop exits at once.
fn signals_on_their_own_thread(drain: Duration) -> Result<mpsc::Receiver<Control>> {
    let (sender, receiver) = mpsc::channel(8);
    let (installed, ready) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("warp-signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => return drop(installed.send(Err(anyhow::Error::from(e)))),
            };
            runtime.block_on(async move {
                let mut signals = match OsSignals::install() {
                    Ok(signals) => signals,
                    Err(e) => return drop(installed.send(Err(e))),
                };
                let _ = installed.send(Ok(()));
                let mut stopping = false;
                loop {
                    let signal = signals.recv().await;
                    if signal == Signal::Hangup {
                        let _ = sender.send(Control::reload()).await;
                        continue;
                    }
                    // A second Ctrl-C is a person who means it (another
                    // SIGTERM is a supervisor repeating itself).
                    if std::mem::replace(&mut stopping, true) {
                        if signal == Signal::Interrupt {
                            eprintln!("warp run: a second interrupt during the stop: exiting now");
                            std::process::exit(1);
                        }
                        continue;
                    }
                    std::thread::spawn(move || {
                        std::thread::sleep(drain + STOP_GRACE);
                        eprintln!(
                            "warp run: the stop took longer than limits.drain_timeout ({} ms) and {} s more: exiting",
                            drain.as_millis(),
                            STOP_GRACE.as_secs()
                        );
                        std::process::exit(1);
                    });
                    let _ = sender.send(Control::Stop(signal)).await;
                }
            })
        })
        .context("failed to start the signal thread")?;
    ready.recv().context("the signal thread failed")??;
    Ok(receiver)
}

/// SIGHUP reloads; SIGTERM and Ctrl-C stop (each queued first for guests
/// that asked for it, by the runner).
fn forward(signals: OsSignals) -> mpsc::Receiver<Control> {
    signals.forward(|signal| match signal {
        Signal::Hangup => Control::reload(),
        signal => Control::Stop(signal),
    })
}
