//! The serve loop: accept until told to stop, reload when told to, then
//! drain and report. What drives it is a channel of [`Control`] messages:
//! `warp run` feeds it from process signals, a file watcher can feed it
//! rebuilt manifests. What happens is reported to the caller's
//! [`EventSink`], never printed here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Event, EventSink, Loaded, Reloaded, Server, ShimState, Signal, Stopped};

/// How long a reload may take (reading, checking, compiling) before it is
/// given up and the running version kept.
pub const RELOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// What the caller of [`serve`] or [`super::run_cli`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Re-read the manifest at this path (or the one being served) and
    /// swap in what it names while serving; a refused manifest leaves the
    /// running version in place. Then guests that asked for `hangup` get it.
    Reload(Option<PathBuf>),
    /// Guests that asked for this signal get it; then stop accepting,
    /// drain in-flight requests, and return.
    Stop(Signal),
}

impl Control {
    /// The lifecycle signal guests see for this message.
    pub fn signal(&self) -> Signal {
        match self {
            Control::Reload(_) => Signal::Hangup,
            Control::Stop(signal) => *signal,
        }
    }
}

/// Serves `loaded` (a `wasi:http` component) on `listener` until a
/// [`Control::Stop`] arrives, then drains in-flight requests (up to
/// `limits.drain_timeout`). A reload runs beside the serve loop, bounded
/// by [`RELOAD_TIMEOUT`]: a stop is never kept waiting behind one. A
/// closed channel stops nothing: the server goes on until the future is
/// dropped.
pub async fn serve(
    loaded: Loaded,
    listener: TcpListener,
    mut control: mpsc::Receiver<Control>,
    events: Arc<dyn EventSink>,
) -> Result<Stopped> {
    let address = listener.local_addr().context("failed to read the bound address")?;
    let (name, from_cache, pooling, started) =
        (loaded.manifest.name.clone(), loaded.from_cache, loaded.engine.pooling, loaded.started);
    let connections = super::limits::ConnLimits::of(&loaded.manifest).connections;
    let shims = ShimState::new(&loaded, events.clone());
    let server = Server::new(loaded, shims, events.clone())?;
    events.emit(&Event::Listening { address, name, from_cache, pooling, connections, ready: started.elapsed() });
    let stop = async {
        // One reload at a time; one more asked for meanwhile waits its turn
        // (several collapse into the latest).
        let mut reloading: Option<JoinHandle<Result<Reloaded>>> = None;
        let mut queued: Option<Option<PathBuf>> = None;
        let mut open = true;
        let start = |manifest: Option<PathBuf>| {
            let server = server.clone();
            tokio::spawn(async move {
                tokio::time::timeout(RELOAD_TIMEOUT, server.reload(manifest)).await.unwrap_or_else(|_| {
                    Err(anyhow::anyhow!(
                        "gave up after {} s (reading, checking and compiling the manifest's component)",
                        RELOAD_TIMEOUT.as_secs()
                    ))
                })
            })
        };
        loop {
            tokio::select! {
                message = control.recv(), if open => match message {
                    None => open = false,
                    Some(Control::Reload(manifest)) if reloading.is_some() => queued = Some(manifest),
                    Some(Control::Reload(manifest)) => reloading = Some(start(manifest)),
                    Some(Control::Stop(signal)) => {
                        server.shims().deliver(signal);
                        events.emit(&Event::Stopping { signal });
                        break;
                    }
                },
                result = async { reloading.as_mut().expect("guarded").await }, if reloading.is_some() => {
                    reloading = queued.take().map(start);
                    let event = match result {
                        Ok(Ok(reloaded)) => Event::Reloaded(reloaded),
                        Ok(Err(e)) => Event::ReloadFailed { error: format!("{e:#}") },
                        Err(e) => Event::ReloadFailed { error: format!("the reload task failed: {e}") },
                    };
                    events.emit(&event);
                    server.shims().deliver(Signal::Hangup);
                }
                else => std::future::pending::<()>().await,
            }
        }
    };
    server.clone().serve(listener, stop).await?;
    let stopped = server.stopped();
    events.emit(&Event::Stopped(stopped));
    Ok(stopped)
}
