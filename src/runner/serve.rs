//! The serve loop: accept until told to stop, reload when told to, then
//! drain and report. What drives it is a channel of [`Control`] messages:
//! `warp run` feeds it from process signals, a file watcher can feed it
//! rebuilt manifests. What happens is reported to the caller's
//! [`EventSink`], never printed here.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::{Event, EventSink, Loaded, Server, ShimState, Signal, Stopped};

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
/// [`super::http::DRAIN_DEADLINE`]). A closed channel stops nothing: the
/// server goes on until the future is dropped.
pub async fn serve(
    loaded: Loaded,
    listener: TcpListener,
    mut control: mpsc::Receiver<Control>,
    events: Arc<dyn EventSink>,
) -> Result<Stopped> {
    let address = listener.local_addr().context("failed to read the bound address")?;
    let (name, from_cache, pooling, started) =
        (loaded.manifest.name.clone(), loaded.from_cache, loaded.engine.pooling, loaded.started);
    let shims = ShimState::new(&loaded, events.clone());
    let server = Server::new(loaded, shims, events.clone())?;
    events.emit(&Event::Listening { address, name, from_cache, pooling, ready: started.elapsed() });
    let stop = async {
        loop {
            let Some(message) = control.recv().await else {
                std::future::pending::<()>().await;
                continue;
            };
            let signal = message.signal();
            match message {
                Control::Reload(manifest) => {
                    let event = match server.reload(manifest).await {
                        Ok(reloaded) => Event::Reloaded(reloaded),
                        Err(e) => Event::ReloadFailed { error: format!("{e:#}") },
                    };
                    events.emit(&event);
                    server.shims().deliver(signal);
                }
                Control::Stop(_) => {
                    server.shims().deliver(signal);
                    events.emit(&Event::Stopping { signal });
                    break;
                }
            }
        }
    };
    server.clone().serve(listener, stop).await?;
    let stopped = server.stopped();
    events.emit(&Event::Stopped(stopped));
    Ok(stopped)
}
