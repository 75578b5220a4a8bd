//! One module per subcommand: a clap `Opts` and a `run` that calls the
//! domain modules and prints. No build logic lives here. What several
//! commands share (flattened flags, process signals) is here, so no
//! command imports another.

pub mod cache;
pub mod compat;
pub mod dev;
pub mod doctor;
pub mod new;
pub mod pack;
pub mod patches;
pub mod rebase;
pub mod run;
pub mod size_check;
pub mod toolchain;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tokio::sync::mpsc;

use crate::lang::BuildRequest;
use crate::pack::PackOptions;
use crate::project::Lang;
use crate::runner::Signal;
use crate::ui::Printer;

/// Which project, and which part of it, becomes the component (`pack`
/// and `dev` take the same).
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// The project directory (or its Cargo.toml / warp.toml).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The language; inferred from the project's files when absent.
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// The package, in a workspace.
    #[arg(short, long)]
    pub package: Option<String>,
    /// The binary, when the package has several.
    #[arg(long)]
    pub bin: Option<String>,
    /// The compiler, where a language has several: Go's `go` (the default)
    /// or `tinygo`.
    #[arg(long, value_name = "NAME")]
    pub toolchain: Option<String>,
}

impl ProjectArgs {
    /// What `pack::pack` is asked for (`dev`: a `warp dev` build).
    pub fn pack_options(self, printer: &Printer, out: Option<PathBuf>, dev: bool) -> (PathBuf, PackOptions) {
        let build =
            BuildRequest { package: self.package, bin: self.bin, color: printer.color, toolchain: self.toolchain, dev };
        (self.path, PackOptions { lang: self.lang, build, out })
    }
}

#[derive(Debug, Args)]
pub struct UpstreamOpts {
    /// Fetch the upstream from this URL or local git repository instead of
    /// the recipe's (WARP_MIRROR_DIR=DIR does the same with DIR/NAME).
    #[arg(long, value_name = "URL|PATH")]
    pub upstream: Option<String>,
}

/// The first 12 hex digits of a commit id.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
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
