//! `warp dev`: pack, serve, watch, and swap rebuilt components in while
//! serving. The loop is `crate::dev`'s; this file prints its events and
//! turns process signals into its commands.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use tokio::sync::mpsc;

use super::{OsSignals, ProjectArgs};
use crate::dev::{self, Command, DevEvent, DevOptions, Observer};
use crate::error::Exit;
use crate::runner::events::JsonLines;
use crate::runner::{self, CliExit, EventSink, Signal};
use crate::size::human_bytes;
use crate::ui::{HumanEvents, Printer};

const AFTER_HELP: &str = "\
Examples:
  warp dev                              pack, serve on 127.0.0.1:3000, rebuild on save
  warp dev services/api --listen 127.0.0.1:8080
  warp dev --json                       one JSON event per line, for editors

A `cli` component is run instead (with the arguments after `--`), and rerun
after each rebuild; a run still going is interrupted first.

It watches the files the last build read (cargo's dep-info with path
dependencies, clang's dependency files, the Go packages' files) and each
warp.toml, never `target/`, `node_modules/` or warp's own outputs. Saves are
debounced; a rebuild uses `warp pack`'s pipeline without wasm-opt (and, for
Rust, cargo's incremental `warp-dev` profile), writes to `<out>/dev/`, and
swaps the new component into the running server: requests in flight finish
on the old version, the port stays open. A build that fails prints the
compiler's diagnostics and the last good version keeps serving. An edit of
warp.toml's env, shims, limits, http, dirs or budget applies without a build,
and guests subscribed to `hangup` (signals shim) receive it.
SIGHUP rebuilds now; Ctrl-C or SIGTERM stops.

Exit status: 0 after a clean stop; 1 when the stop cut requests short;
2 when the project cannot be served (not an http component, port taken)";

/// Pack, serve and watch: rebuild on save and swap the new version in while serving.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct Opts {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Address to serve on.
    #[arg(long, value_name = "ADDR", default_value = dev::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// How long files must be quiet before a rebuild, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = dev::DEFAULT_DEBOUNCE.as_millis() as u64)]
    pub debounce: u64,
    /// Arguments for a CLI component (after `--`), rerun after each build.
    #[arg(last = true)]
    pub args: Vec<String>,
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    let (path, pack) = opts.project.pack_options(printer, None, true);
    let root = path.canonicalize().unwrap_or_else(|_| path.clone());
    let root = if root.is_file() { root.parent().map(Path::to_path_buf).unwrap_or(root) } else { root };
    let options =
        DevOptions { path, pack, listen: opts.listen, debounce: Duration::from_millis(opts.debounce), args: opts.args };
    let (observer, events): (Arc<dyn Observer>, Arc<dyn EventSink>) = if printer.json {
        (Arc::new(JsonObserver), Arc::new(JsonLines::stdout()))
    } else {
        (
            Arc::new(HumanObserver { printer: *printer, root, watching: Mutex::new(None) }),
            Arc::new(HumanEvents::dev(*printer)),
        )
    };
    let runtime = runner::runtime()?;
    let exit = runtime.block_on(async {
        let commands = forward(OsSignals::install()?);
        let stopped = dev::run(options, commands, observer, events).await?;
        Ok(match stopped {
            Some(stopped) if stopped.cut_short > 0 => Exit::CheckFailed,
            _ => Exit::Ok,
        })
    });
    runtime.shutdown_timeout(Duration::from_millis(100));
    exit
}

/// SIGHUP rebuilds; SIGTERM and Ctrl-C stop.
fn forward(signals: OsSignals) -> mpsc::Receiver<Command> {
    signals.forward(|signal| match signal {
        Signal::Hangup => Command::Rebuild,
        signal => Command::Stop(signal),
    })
}

/// Build events as a person reads them: one line per rebuild, the
/// compiler's own diagnostics when one fails.
struct HumanObserver {
    printer: Printer,
    /// Paths are shown relative to this.
    root: PathBuf,
    /// The file count last shown (shown again only when it changes).
    watching: Mutex<Option<usize>>,
}

impl HumanObserver {
    fn paths(&self, changed: &[PathBuf]) -> String {
        let shown: Vec<String> =
            changed.iter().take(3).map(|p| p.strip_prefix(&self.root).unwrap_or(p).display().to_string()).collect();
        match changed.len() {
            n if n > 3 => format!("{} and {} more", shown.join(", "), n - 3),
            _ => shown.join(", "),
        }
    }
}

impl Observer for HumanObserver {
    fn dev(&self, event: &DevEvent) {
        let printer = &self.printer;
        match event {
            DevEvent::Building { changed } if changed.is_empty() => {
                printer.status("Building", self.root.display());
            }
            DevEvent::Building { changed } => printer.status("Changed", self.paths(changed)),
            DevEvent::Built(built) => {
                let verb = match (built.version, built.settings_only) {
                    (1, _) => "Built",
                    (_, true) => "Reconfigured",
                    (_, false) => "Rebuilt",
                };
                let what = if built.settings_only {
                    "warp.toml settings, same component".to_string()
                } else {
                    format!(
                        "{} (gzip {}, not optimized)",
                        human_bytes(built.sizes.raw_bytes),
                        human_bytes(built.sizes.gzip_bytes)
                    )
                };
                printer.status(
                    verb,
                    format_args!(
                        "{} in {:.2}s: {what}; serving v{}",
                        built.name,
                        built.elapsed.as_secs_f64(),
                        built.version
                    ),
                );
                for breach in &built.breaches {
                    printer
                        .warn(format_args!("{breach}, not optimized (`warp pack` optimizes; `warp size-check` gates)"));
                }
            }
            DevEvent::Unchanged { version, elapsed, .. } => printer.status(
                "Unchanged",
                format_args!("same component in {:.2}s; still serving v{version}", elapsed.as_secs_f64()),
            ),
            DevEvent::BuildFailed { error, serving, .. } => {
                printer.error(error);
                match serving {
                    Some(version) => printer.warn(format_args!("still serving v{version}; fix and save to rebuild")),
                    None => printer.warn("nothing is serving yet; fix and save to rebuild"),
                }
            }
            DevEvent::SwapFailed { error, serving } => {
                printer.warn(format_args!("the new build was refused: {error}; still serving v{serving}"))
            }
            DevEvent::Ran { version, outcome, elapsed } => {
                let secs = elapsed.as_secs_f64();
                match outcome {
                    Ok(CliExit::Code(0)) => printer.status("Finished", format_args!("v{version} in {secs:.2}s")),
                    Ok(CliExit::Code(code)) => {
                        printer.status("Exited", format_args!("v{version} with status {code} after {secs:.2}s"))
                    }
                    Ok(CliExit::Stopped(signal)) => {
                        printer.status("Stopped", format_args!("v{version} ({}) after {secs:.2}s", signal.name()))
                    }
                    Err(error) => printer.warn(format_args!("v{version} could not run: {error}")),
                }
            }
            DevEvent::Watching { files } => {
                let mut shown = self.watching.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if *shown != Some(*files) {
                    *shown = Some(*files);
                    match files {
                        0 => printer.status("Watching", "the project (Ctrl-C to stop)"),
                        n => printer.status("Watching", format_args!("{n} files (Ctrl-C to stop)")),
                    }
                }
            }
        }
    }
}

/// One JSON object per line on stdout, beside the server's events.
struct JsonObserver;

impl Observer for JsonObserver {
    fn dev(&self, event: &DevEvent) {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", event.to_json());
        let _ = stdout.flush();
    }
}
