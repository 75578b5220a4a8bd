//! What a running deployment reports as it goes: listening, failed
//! requests, reloads, threading notes, stopping. The runner hands each
//! [`Event`] to the [`EventSink`] its caller chose and never prints itself;
//! `warp run` picks human lines (`ui::HumanEvents`) or [`JsonLines`].

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::Signal;
use crate::project::ThreadingModel;

/// Where a runner's events go. Called from any thread, while serving.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: &Event);

    /// Whether every request ends in an [`Event::Request`] (an access
    /// log). Off unless asked for: it costs two strings per request.
    fn logs_requests(&self) -> bool {
        false
    }

    /// Whether guests' stdout and stderr come here as
    /// [`Event::GuestOutput`] lines instead of going to the process's own.
    fn captures_guest_output(&self) -> bool {
        false
    }
}

/// A guest's output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The server accepts connections.
    Listening {
        address: SocketAddr,
        name: String,
        from_cache: bool,
        pooling: bool,
        /// Client connections served at once (`limits.connections`, or
        /// what the open-file limit leaves).
        connections: u32,
        ready: Duration,
    },
    /// `accept` failed for lack of resources (the open-file limit): the
    /// first failure of a burst, then one a minute while it lasts, with the
    /// number of failures in between that were not reported.
    AcceptFailed {
        error: String,
        suppressed: u64,
    },
    /// A request ended (only for sinks that [`EventSink::logs_requests`]):
    /// `status` is the one sent (0 when no response head went out), `ok`
    /// whether it was served in full, `elapsed` from its head to the end of
    /// its response.
    Request {
        method: String,
        uri: String,
        status: u16,
        ok: bool,
        elapsed: Duration,
    },
    /// One line a guest wrote (only for sinks that
    /// [`EventSink::captures_guest_output`]), without its newline.
    GuestOutput {
        name: String,
        stream: Stream,
        line: String,
    },
    /// Guests wrote faster than the process's stdout or stderr was read:
    /// `bytes` of their output were dropped rather than waited on (since
    /// the last such event).
    OutputDropped {
        stream: Stream,
        bytes: u64,
    },
    /// Events came faster than the sink could take them (its output is
    /// stalled): `count` were dropped rather than waited on.
    EventsDropped {
        count: u64,
    },
    /// A request failed; `status` is `None` when the response head had
    /// already gone out (the body was cut short).
    RequestFailed {
        method: String,
        uri: String,
        status: Option<u16>,
        reason: String,
    },
    /// The connection closed before the response was complete (`began`:
    /// after its head had gone out): the client went away, or stopped
    /// reading for `limits.idle_timeout` plus `limits.request_timeout`.
    RequestAborted {
        method: String,
        uri: String,
        began: bool,
    },
    /// A stop's drain deadline passed with the request still in flight; it
    /// counts as failed, and `warp run` exits non-zero.
    RequestCutShort {
        method: String,
        uri: String,
        began: bool,
        drain: Duration,
    },
    /// A guest or the manifest chose a threading model that changes how
    /// warp runs the deployment (`cooperative`, `parallel-required`).
    Threading {
        name: String,
        model: ThreadingModel,
    },
    /// The signal queue was full; the oldest signal was dropped.
    SignalDropped {
        dropped: Signal,
        capacity: usize,
    },
    /// A guest asked for a database endpoint the manifest does not list.
    DatabaseRefused {
        name: String,
        host: String,
        port: u16,
    },
    /// A TLS handshake with a database failed (the guest sees `protocol-error`).
    DatabaseTlsFailed {
        name: String,
        reason: String,
    },
    Reloaded(Reloaded),
    /// A reload was refused; the previous version keeps serving.
    ReloadFailed {
        error: String,
    },
    /// A stop was asked for; in-flight requests drain.
    Stopping {
        signal: Signal,
    },
    Stopped(Stopped),
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    pub name: String,
    /// The component changed (not only its settings).
    pub swapped: bool,
    pub from_cache: bool,
    /// The Wasmtime engine (and its epoch ticker) was kept: the limits that
    /// shape it did not change.
    pub engine_reused: bool,
}

/// How a server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    pub served: u64,
    /// Failed requests, those cut short included.
    pub failed: u64,
    /// Requests whose client closed the connection before the response was complete.
    pub aborted: u64,
    /// Requests a stop cut short at its drain deadline.
    pub cut_short: u64,
    /// A guest asked for something warp cannot give (`parallel-required`).
    pub degraded: bool,
}

impl Event {
    /// The `event` field of its JSON line.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Listening { .. } => "listening",
            Event::AcceptFailed { .. } => "accept-failed",
            Event::Request { .. } => "request",
            Event::GuestOutput { .. } => "guest-output",
            Event::OutputDropped { .. } => "output-dropped",
            Event::EventsDropped { .. } => "events-dropped",
            Event::RequestFailed { .. } => "request-failed",
            Event::RequestAborted { .. } => "request-aborted",
            Event::RequestCutShort { .. } => "request-cut-short",
            Event::Threading { .. } => "threading",
            Event::SignalDropped { .. } => "signal-dropped",
            Event::DatabaseRefused { .. } => "database-refused",
            Event::DatabaseTlsFailed { .. } => "database-tls-failed",
            Event::Reloaded(_) => "reloaded",
            Event::ReloadFailed { .. } => "reload-failed",
            Event::Stopping { .. } => "stopping",
            Event::Stopped(_) => "stopped",
        }
    }

    /// The event as one JSON object: `event` and its fields.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = match self {
            Event::Listening { address, name, from_cache, pooling, connections, ready } => json!({
                "address": format!("http://{address}"),
                "name": name,
                "from_cache": from_cache,
                "pooling": pooling,
                "connections": connections,
                "ready_ms": ready.as_millis() as u64,
            }),
            Event::AcceptFailed { error, suppressed } => json!({ "error": error, "suppressed": suppressed }),
            Event::Request { method, uri, status, ok, elapsed } => json!({
                "method": method,
                "uri": uri,
                "status": status,
                "ok": ok,
                "ms": elapsed.as_secs_f64() * 1000.0,
            }),
            Event::GuestOutput { name, stream, line } => {
                json!({ "name": name, "stream": stream.name(), "line": line })
            }
            Event::OutputDropped { stream, bytes } => json!({ "stream": stream.name(), "bytes": bytes }),
            Event::EventsDropped { count } => json!({ "count": count }),
            Event::RequestFailed { method, uri, status, reason } => {
                json!({ "method": method, "uri": uri, "status": status, "reason": reason })
            }
            Event::RequestAborted { method, uri, began } => json!({ "method": method, "uri": uri, "began": began }),
            Event::RequestCutShort { method, uri, began, drain } => {
                json!({ "method": method, "uri": uri, "began": began, "drain_ms": drain.as_millis() as u64 })
            }
            Event::Threading { name, model: ThreadingModel::ParallelRequired } => {
                json!({ "name": name, "model": "parallel-required", "degraded": true })
            }
            Event::Threading { name, model } => json!({ "name": name, "model": model }),
            Event::SignalDropped { dropped, capacity } => json!({ "dropped": dropped.name(), "capacity": capacity }),
            Event::DatabaseRefused { name, host, port } => json!({ "name": name, "host": host, "port": port }),
            Event::DatabaseTlsFailed { name, reason } => json!({ "name": name, "reason": reason }),
            Event::Reloaded(reloaded) => json!({
                "name": reloaded.name,
                "swapped": reloaded.swapped,
                "from_cache": reloaded.from_cache,
                "engine_reused": reloaded.engine_reused,
            }),
            Event::ReloadFailed { error } => json!({ "error": error }),
            Event::Stopping { signal } => json!({ "signal": signal.name() }),
            Event::Stopped(stopped) => json!({
                "served": stopped.served,
                "failed": stopped.failed,
                "aborted": stopped.aborted,
                "cut_short": stopped.cut_short,
                "degraded": stopped.degraded,
            }),
        };
        value["event"] = self.name().into();
        value
    }
}

/// One JSON object per line (NDJSON), flushed per event, for log collectors.
pub struct JsonLines<W: Write + Send> {
    out: Mutex<W>,
}

impl JsonLines<std::io::Stdout> {
    pub fn stdout() -> Self {
        JsonLines::new(std::io::stdout())
    }
}

impl<W: Write + Send> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out: Mutex::new(out) }
    }

    pub fn into_inner(self) -> W {
        self.out.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<W: Write + Send> EventSink for JsonLines<W> {
    fn emit(&self, event: &Event) {
        let mut out = self.out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // A closed stdout must not take the server down.
        let _ = writeln!(out, "{}", event.to_json());
        let _ = out.flush();
    }

    /// Guests' output comes as `guest-output` events: raw bytes written
    /// between the lines would break the one-object-per-line stream.
    fn captures_guest_output(&self) -> bool {
        true
    }
}

/// Hands events to another sink on a thread of its own, through a bounded
/// queue: whoever emits (a runtime thread serving requests) never waits on
/// a slow terminal or a stalled pipe. When the queue is full an event is
/// dropped and counted, and the count is reported once the queue drains
/// ([`Event::EventsDropped`]). [`Background::flush`] waits, within a
/// bound, for what is queued (the last lines before exiting).
pub struct Background {
    queue: std::sync::mpsc::SyncSender<Queued>,
    dropped: Arc<AtomicU64>,
    logs_requests: bool,
    captures_guest_output: bool,
}

enum Queued {
    Event(Box<Event>),
    Flush(std::sync::mpsc::Sender<()>),
}

/// Events a [`Background`] sink holds before it drops new ones.
pub const BACKGROUND_QUEUE: usize = 4096;

impl Background {
    pub fn new(inner: Arc<dyn EventSink>) -> Arc<Background> {
        let (queue, receiver) = std::sync::mpsc::sync_channel::<Queued>(BACKGROUND_QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let (logs_requests, captures_guest_output) = (inner.logs_requests(), inner.captures_guest_output());
        let counted = dropped.clone();
        std::thread::Builder::new()
            .name("warp-events".into())
            .spawn(move || {
                for queued in receiver {
                    match queued {
                        Queued::Event(event) => inner.emit(&event),
                        Queued::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                    let count = counted.swap(0, Ordering::Relaxed);
                    if count > 0 {
                        inner.emit(&Event::EventsDropped { count });
                    }
                }
            })
            .expect("failed to start the event thread");
        Arc::new(Background { queue, dropped, logs_requests, captures_guest_output })
    }

    /// Waits until the events queued so far are written, or `within` passes.
    pub fn flush(&self, within: Duration) {
        let deadline = std::time::Instant::now() + within;
        let (done, wait) = std::sync::mpsc::channel();
        let mut item = Queued::Flush(done);
        // `SyncSender` has no timed send: try until the queue has room.
        loop {
            match self.queue.try_send(item) {
                Ok(()) => break,
                Err(std::sync::mpsc::TrySendError::Full(back)) if std::time::Instant::now() < deadline => {
                    item = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return,
            }
        }
        let _ = wait.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()));
    }
}

impl EventSink for Background {
    fn emit(&self, event: &Event) {
        if self.queue.try_send(Queued::Event(Box::new(event.clone()))).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn logs_requests(&self) -> bool {
        self.logs_requests
    }

    fn captures_guest_output(&self) -> bool {
        self.captures_guest_output
    }
}

/// Drops every event (benchmarks, tests that look only at results).
pub struct Discard;

impl EventSink for Discard {
    fn emit(&self, _: &Event) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_the_event_name_and_its_fields() {
        let sink = JsonLines::new(Vec::new());
        sink.emit(&Event::RequestFailed {
            method: "GET".into(),
            uri: "/trap".into(),
            status: None,
            reason: "guest trapped".into(),
        });
        sink.emit(&Event::Threading { name: "app".into(), model: ThreadingModel::Cooperative });
        sink.emit(&Event::Stopped(Stopped { served: 3, failed: 1, aborted: 2, cut_short: 0, degraded: false }));
        let text = String::from_utf8(sink.into_inner()).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(
            lines,
            [
                json!({ "event": "request-failed", "method": "GET", "uri": "/trap", "status": null, "reason": "guest trapped" }),
                json!({ "event": "threading", "name": "app", "model": "cooperative" }),
                json!({ "event": "stopped", "served": 3, "failed": 1, "aborted": 2, "cut_short": 0, "degraded": false }),
            ]
        );
    }
}
