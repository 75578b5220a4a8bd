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
#[derive(Debug)]
pub enum Control {
    /// Re-read the manifest at this path (or the one being served) and
    /// swap in what it names while serving; a refused manifest leaves the
    /// running version in place. Then guests that asked for `hangup` get it.
    /// The outcome goes to `reply` when there is one (as well as to the
    /// event sink), so a caller such as `warp dev` waits on its own reload.
    Reload { manifest: Option<PathBuf>, reply: Option<Reply> },
    /// Guests that asked for this signal get it; then stop accepting,
    /// drain in-flight requests, and return.
    Stop(Signal),
}

impl Control {
    /// The lifecycle signal guests see for this message.
    pub fn signal(&self) -> Signal {
        match self {
            Control::Reload { .. } => Signal::Hangup,
            Control::Stop(signal) => *signal,
        }
    }
}

/// Where a [`Control::Reload`]'s outcome goes: what was swapped in, or why
/// the running version stays.
pub type Reply = tokio::sync::oneshot::Sender<Result<Reloaded, String>>;

impl Control {
    /// A reload of the manifest being served, answered to nobody (SIGHUP).
    pub fn reload() -> Control {
        Control::Reload { manifest: None, reply: None }
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
        // (several collapse into the latest, and all their askers get its
        // outcome).
        let mut reloading: Option<(JoinHandle<Result<Reloaded>>, Vec<Reply>)> = None;
        let mut queued: Option<(Option<PathBuf>, Vec<Reply>)> = None;
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
                    Some(Control::Reload { manifest, reply }) if reloading.is_some() => {
                        let mut replies = queued.take().map(|(_, replies)| replies).unwrap_or_default();
                        replies.extend(reply);
                        queued = Some((manifest, replies));
                    }
                    Some(Control::Reload { manifest, reply }) => {
                        reloading = Some((start(manifest), reply.into_iter().collect()));
                    }
                    Some(Control::Stop(signal)) => {
                        server.shims().deliver(signal);
                        events.emit(&Event::Stopping { signal });
                        break;
                    }
                },
                result = async { (&mut reloading.as_mut().expect("guarded").0).await }, if reloading.is_some() => {
                    let (_, replies) = reloading.take().expect("guarded");
                    reloading = queued.take().map(|(manifest, replies)| (start(manifest), replies));
                    let outcome = match result {
                        Ok(Ok(reloaded)) => Ok(reloaded),
                        Ok(Err(e)) => Err(format!("{e:#}")),
                        Err(e) => Err(format!("the reload task failed: {e}")),
                    };
                    events.emit(&match &outcome {
                        Ok(reloaded) => Event::Reloaded(reloaded.clone()),
                        Err(error) => Event::ReloadFailed { error: error.clone() },
                    });
                    for reply in replies {
                        let _ = reply.send(outcome.clone());
                    }
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
