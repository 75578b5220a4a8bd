//! Running a `wasi:cli/run` component to its end, with the same control
//! messages a server takes: a stop the guest asked to see (through the
//! signals shim) is queued for it, any other ends the run.

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::mpsc;

use super::{Control, Host, Loaded, ShimState, Signal, ticks};

/// How a CLI run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CliExit {
    /// The program's exit code.
    Code(u8),
    /// A stop the guest had not asked to see ended the run.
    Stopped(Signal),
}

/// Runs the component to completion. Messages on `control` map to signals
/// (a reload is `hangup`: a program has nothing to reload): one the guest
/// subscribed to is queued for it; an unwanted `hangup` is ignored; an
/// unwanted stop ends the run. A closed channel lets the program run on.
pub async fn run_cli(
    loaded: &Loaded,
    shims: &Arc<ShimState>,
    args: &[String],
    mut control: mpsc::Receiver<Control>,
) -> Result<CliExit> {
    let program = run_program(loaded, shims, args);
    tokio::pin!(program);
    let mut open = true;
    loop {
        tokio::select! {
            code = &mut program => return Ok(CliExit::Code(code?)),
            message = control.recv(), if open => {
                let signal = match message {
                    None => {
                        open = false;
                        continue;
                    }
                    Some(message) => message.signal(),
                };
                if shims.signals.wants(signal) {
                    shims.deliver(signal);
                } else if signal != Signal::Hangup {
                    return Ok(CliExit::Stopped(signal));
                }
            }
        }
    }
}

async fn run_program(loaded: &Loaded, shims: &Arc<ShimState>, args: &[String]) -> Result<u8> {
    let pre = loaded
        .linker
        .instantiate_pre(&loaded.component)
        .map_err(anyhow::Error::from)
        .context("failed to link the component")?;
    let pre = wasmtime_wasi::p2::bindings::CommandPre::new(pre)
        .map_err(anyhow::Error::from)
        .context("the component does not export `wasi:cli/run`")?;
    let mut store = wasmtime::Store::new(&loaded.engine.engine, Host::new(loaded, shims, args, None)?);
    store.limiter(|host| &mut host.limits);
    // CLI programs run without a deadline unless the manifest sets one. The
    // guest yields to the runtime every tick so signals are handled even
    // while it computes.
    let limit = loaded.manifest.limits.request_timeout.as_ref().map_or(u64::MAX, |t| ticks(t.duration));
    let mut elapsed = 0u64;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        elapsed += 1;
        if elapsed >= limit {
            return Err(wasmtime::Trap::Interrupt.into());
        }
        Ok(wasmtime::UpdateDeadline::Yield(1))
    });
    let command = pre
        .instantiate_async(&mut store)
        .await
        .map_err(anyhow::Error::from)
        .context("failed to instantiate the component")?;
    match command.wasi_cli_run().call_run(&mut store).await {
        Ok(Ok(())) => Ok(0),
        Ok(Err(())) => Ok(1),
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => Ok(exit.0.clamp(0, 255) as u8),
            None => Err(anyhow::Error::from(e).context("the program trapped")),
        },
    }
}
