//! The connection layer of the HTTP server: accepting (a cap on open
//! connections, back-off when `accept` fails), each connection's clock
//! (header-read, idle keep-alive and unread-response timeouts), the
//! accounting of every request from its head to the end of its response
//! body (served, failed, aborted by its client, cut short by a stop),
//! `http.route`, and the drain when the server stops.
//!
//! What happens inside a request (an instance, the guest, its deadline) is
//! `http.rs`'s; this file sees requests only from the outside.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Body;
use hyper::server::conn::http1;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::events::Event;
use super::http::{Server, plain};
use super::limits::ConnLimits;

/// The first pause after `accept` fails for lack of resources; it doubles
/// on each failure in a row, up to [`ACCEPT_BACKOFF_MAX`].
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// While `accept` keeps failing, how often the failure is logged again.
const ACCEPT_LOG_EVERY: Duration = Duration::from_secs(60);

/// Raises the process's soft open-file limit to its hard limit, as servers
/// do at start: every connection is a file descriptor, and a soft limit
/// left at a shell's default would cap them needlessly. Best effort.
pub fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write only the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 || limit.rlim_cur >= limit.rlim_max {
            return;
        }
        let wanted = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) != 0 {
            // An unlimited hard limit is refused for files: take the kernel's ceiling.
            let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open")
                .ok()
                .and_then(|text| text.trim().parse::<libc::rlim_t>().ok());
            if let Some(ceiling) = ceiling.filter(|ceiling| *ceiling > limit.rlim_cur) {
                let wanted = libc::rlimit { rlim_cur: ceiling.min(limit.rlim_max), rlim_max: limit.rlim_max };
                libc::setrlimit(libc::RLIMIT_NOFILE, &wanted);
            }
        }
    }
}

impl Server {
    /// Accepts connections until `shutdown` resolves, then stops accepting,
    /// asks open connections to close once their current response is done,
    /// and waits for them up to `limits.drain_timeout`; requests still in
    /// flight then are cut short and counted as failed
    /// ([`super::Stopped::cut_short`]).
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<()> {
        let cap = self.current().limits.connections as usize;
        let permits = Arc::new(Semaphore::new(cap));
        let in_flight = Arc::new(InFlight::default());
        let (stopping, stop_seen) = watch::channel(false);
        let mut backoff = AcceptBackoff::default();
        tokio::pin!(shutdown);
        loop {
            // At the cap, wait for a connection to close before accepting:
            // new clients wait in the listen backlog meanwhile.
            let permit = tokio::select! {
                _ = &mut shutdown => break,
                permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            };
            let accepted = tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, _peer)) => {
                    backoff.succeeded();
                    let _ = stream.set_nodelay(true);
                    let limits = self.current().limits;
                    let connection = Connection {
                        server: self.clone(),
                        in_flight: in_flight.clone(),
                        activity: Arc::new(Activity::new()),
                        limits,
                    };
                    tokio::spawn(connection.run(stream, permit, stop_seen.clone()));
                }
                Err(e) if is_per_connection(&e) => {}
                Err(e) => {
                    drop(permit);
                    let (pause, log) = backoff.failed(Instant::now());
                    if let Some(suppressed) = log {
                        self.events.emit(&Event::AcceptFailed { error: e.to_string(), suppressed });
                    }
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
        drop(listener);
        let _ = stopping.send(true);
        let drain = self.current().limits.drain;
        // Each connection closes once its response is out (flushed, which a
        // request's end does not yet mean); idle ones close at once.
        let deadline = Instant::now() + drain;
        while (!in_flight.is_empty() || permits.available_permits() < cap) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for request in in_flight.take_all() {
            self.stats.failed.fetch_add(1, Ordering::Relaxed);
            self.stats.cut_short.fetch_add(1, Ordering::Relaxed);
            self.stats.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.events.emit(&Event::RequestCutShort {
                method: request.method.to_string(),
                uri: request.uri.to_string(),
                began: request.began.load(Ordering::Relaxed),
                drain,
            });
        }
        Ok(())
    }
}

/// Errors of `accept` that concern only the connection being accepted (it
/// went away first); the next accept is unaffected, so no pause and no log.
fn is_per_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(error.kind(), ConnectionAborted | ConnectionReset | Interrupted | WouldBlock)
}

/// The pause and the logging when `accept` keeps failing (the open-file
/// limit reached, memory short): the pause doubles up to a second so a
/// core is not spent retrying, and a burst of failures is logged once,
/// then once a minute with the count of those not logged.
#[derive(Debug, Default)]
struct AcceptBackoff {
    pause: Option<Duration>,
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl AcceptBackoff {
    /// How long to pause, and whether to log (with the failures not logged
    /// since the last line).
    fn failed(&mut self, now: Instant) -> (Duration, Option<u64>) {
        let pause = self.pause.map_or(ACCEPT_BACKOFF_MIN, |pause| (pause * 2).min(ACCEPT_BACKOFF_MAX));
        self.pause = Some(pause);
        let log = match self.last_logged {
            Some(at) if now.duration_since(at) < ACCEPT_LOG_EVERY => None,
            _ => Some(std::mem::take(&mut self.unlogged)),
        };
        match log {
            Some(_) => self.last_logged = Some(now),
            None => self.unlogged += 1,
        }
        (pause, log)
    }

    /// An accept succeeded: the burst is over.
    fn succeeded(&mut self) {
        if self.pause.is_some() {
            *self = AcceptBackoff::default();
        }
    }
}

/// One client connection and what its requests share.
struct Connection {
    server: Arc<Server>,
    in_flight: Arc<InFlight>,
    activity: Arc<Activity>,
    limits: ConnLimits,
}

impl Connection {
    /// Serves HTTP/1.1 on `stream` until the client closes it, its clock
    /// runs out, or a stop lets its current response finish.
    async fn run(self, stream: TcpStream, permit: OwnedSemaphorePermit, mut stopping: watch::Receiver<bool>) {
        let io = TokioIo::new(Watched { stream, activity: self.activity.clone() });
        let (server, in_flight, activity) = (self.server.clone(), self.in_flight.clone(), self.activity.clone());
        let service = hyper::service::service_fn(move |request| {
            let (server, in_flight, activity) = (server.clone(), in_flight.clone(), activity.clone());
            async move { Ok::<_, std::convert::Infallible>(handle(server, request, in_flight, activity).await) }
        });
        let connection = http1::Builder::new().keep_alive(true).serve_connection(io, service);
        tokio::pin!(connection);
        let clock = self.activity.expired(self.limits);
        tokio::pin!(clock);
        let mut closing = false;
        loop {
            tokio::select! {
                _ = connection.as_mut() => break,
                // Dropping the connection closes it (and cuts short a
                // response its client stopped reading).
                _ = &mut clock => break,
                _ = stopping.changed(), if !closing => {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
        drop(permit);
    }
}

/// What a connection is doing, for its clock: the times are milliseconds
/// since it opened.
struct Activity {
    opened: Instant,
    /// Requests of this connection between their head and the end of their
    /// response (more than one only while pipelining).
    busy: AtomicUsize,
    /// When the head being read began (its first byte, or the opening for
    /// the first request); [`NOT_READING`] between requests.
    head_since: AtomicU64,
    /// When the last response ended.
    idle_since: AtomicU64,
    /// When bytes last moved either way.
    progress: AtomicU64,
}

const NOT_READING: u64 = u64::MAX;

impl Activity {
    fn new() -> Activity {
        // A new connection waits for its first head: the header timeout
        // counts from the opening, so a silent client is closed too.
        Activity {
            opened: Instant::now(),
            busy: AtomicUsize::new(0),
            head_since: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            progress: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn read(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let now = self.now();
        self.progress.store(now, Ordering::Relaxed);
        if self.busy.load(Ordering::SeqCst) == 0 {
            let _ = self.head_since.compare_exchange(NOT_READING, now, Ordering::SeqCst, Ordering::SeqCst);
        }
    }

    fn wrote(&self, bytes: usize) {
        if bytes > 0 {
            self.progress.store(self.now(), Ordering::Relaxed);
        }
    }

    fn request_began(&self) {
        self.busy.fetch_add(1, Ordering::SeqCst);
        self.head_since.store(NOT_READING, Ordering::SeqCst);
        self.progress.store(self.now(), Ordering::Relaxed);
    }

    fn request_ended(&self) {
        let now = self.now();
        self.idle_since.store(now, Ordering::SeqCst);
        self.progress.store(now, Ordering::Relaxed);
        self.busy.fetch_sub(1, Ordering::SeqCst);
    }

    /// When the connection's clock runs out, in milliseconds since it
    /// opened: a head must arrive within the header timeout; between
    /// requests the connection may idle for the idle timeout; while a
    /// request is served, bytes must move at least once per idle timeout
    /// plus the request deadline (the guest may take all of its deadline
    /// before it answers, and its 504 must still reach the client).
    fn deadline(&self, limits: ConnLimits) -> u64 {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        if self.busy.load(Ordering::SeqCst) > 0 {
            return self.progress.load(Ordering::Relaxed).saturating_add(millis(limits.idle + limits.request));
        }
        match self.head_since.load(Ordering::SeqCst) {
            NOT_READING => self.idle_since.load(Ordering::SeqCst).saturating_add(millis(limits.idle)),
            since => since.saturating_add(millis(limits.header)),
        }
    }

    /// Resolves once the clock has run out.
    async fn expired(&self, limits: ConnLimits) {
        loop {
            let (now, deadline) = (self.now(), self.deadline(limits));
            if now >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(deadline - now)).await;
        }
    }
}

/// A client connection that tells its [`Activity`] when bytes move.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            self.activity.read(buf.filled().len() - before);
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = result {
            self.activity.wrote(written);
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(written)) = result {
            self.activity.wrote(written);
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Requests between their head and the end of their response, so a stop
/// can wait for them and name those it cuts short.
#[derive(Default)]
struct InFlight {
    next: AtomicU64,
    live: Mutex<HashMap<u64, Arc<RequestInfo>>>,
}

struct RequestInfo {
    method: hyper::Method,
    uri: hyper::Uri,
    /// The response head went out.
    began: AtomicBool,
    /// The status of that head (for the access log).
    status: AtomicU16,
    /// When the request head was read.
    received: Instant,
}

impl InFlight {
    fn insert(&self, info: Arc<RequestInfo>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(id, info);
        id
    }

    /// Whether `id` was still in flight (and now is not): whoever removes a
    /// request accounts for it, so it is counted once.
    fn remove(&self, id: u64) -> bool {
        self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&id).is_some()
    }

    fn is_empty(&self) -> bool {
        self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).is_empty()
    }

    fn take_all(&self) -> Vec<Arc<RequestInfo>> {
        self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).drain().map(|(_, info)| info).collect()
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Served,
    Failed,
    /// The connection closed before the response was complete: the client
    /// went away, or moved no bytes for the idle timeout plus the request
    /// deadline.
    Aborted,
}

/// One request's place in the accounting, from its head to the end of its
/// response body; dropped without an outcome, the request was aborted.
struct Tracked {
    id: u64,
    info: Arc<RequestInfo>,
    server: Arc<Server>,
    in_flight: Arc<InFlight>,
    activity: Arc<Activity>,
    /// Set when the failure was decided before the response (a 5xx from warp).
    failed: bool,
    ended: bool,
}

impl Tracked {
    fn begin(server: Arc<Server>, in_flight: Arc<InFlight>, activity: Arc<Activity>, info: RequestInfo) -> Tracked {
        activity.request_began();
        server.stats.in_flight.fetch_add(1, Ordering::SeqCst);
        let info = Arc::new(info);
        let id = in_flight.insert(info.clone());
        Tracked { id, info, server, in_flight, activity, failed: false, ended: false }
    }

    fn end(&mut self, outcome: Outcome) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        self.activity.request_ended();
        // A request the drain already cut short was counted there.
        if !self.in_flight.remove(self.id) {
            return;
        }
        let stats = &self.server.stats;
        stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        let outcome = if self.failed { Outcome::Failed } else { outcome };
        if self.server.events.logs_requests() {
            self.server.events.emit(&Event::Request {
                method: self.info.method.to_string(),
                uri: self.info.uri.to_string(),
                status: self.info.status.load(Ordering::Relaxed),
                ok: outcome == Outcome::Served,
                elapsed: self.info.received.elapsed(),
            });
        }
        match outcome {
            Outcome::Served => stats.served.fetch_add(1, Ordering::Relaxed),
            Outcome::Failed => stats.failed.fetch_add(1, Ordering::Relaxed),
            Outcome::Aborted => {
                self.server.events.emit(&Event::RequestAborted {
                    method: self.info.method.to_string(),
                    uri: self.info.uri.to_string(),
                    began: self.info.began.load(Ordering::Relaxed),
                });
                stats.aborted.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.end(Outcome::Aborted);
    }
}

/// One request, as the connection sees it: routed, dispatched to the
/// guest, and tracked until its response body ends.
async fn handle(
    server: Arc<Server>,
    request: hyper::Request<hyper::body::Incoming>,
    in_flight: Arc<InFlight>,
    activity: Arc<Activity>,
) -> hyper::Response<HyperOutgoingBody> {
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let info = RequestInfo {
        method: method.clone(),
        uri: uri.clone(),
        began: AtomicBool::new(false),
        status: AtomicU16::new(0),
        received: Instant::now(),
    };
    let mut tracked = Tracked::begin(server.clone(), in_flight, activity, info);
    let routed = server.current().loaded.manifest.http.as_ref().is_none_or(|http| http.routes(uri.path()));
    let response = if let Some(status) = refused_before_the_guest(&request) {
        plain(status)
    } else if !routed {
        plain(404)
    } else {
        match server.clone().dispatch(request, &method, &uri).await {
            Ok(response) => response,
            Err(failure) => {
                tracked.failed = true;
                server.events.emit(&Event::RequestFailed {
                    method: method.to_string(),
                    uri: uri.to_string(),
                    status: Some(failure.status),
                    reason: failure.reason,
                });
                // The reason is for the operator's log, not for clients.
                plain(failure.status)
            }
        }
    };
    tracked.info.began.store(true, Ordering::Relaxed);
    tracked.info.status.store(response.status().as_u16(), Ordering::Relaxed);
    // Hyper sends no body for these and drops it unread.
    let status = response.status();
    let bodiless = method == hyper::Method::HEAD
        || status.is_informational()
        || status == hyper::StatusCode::NO_CONTENT
        || status == hyper::StatusCode::NOT_MODIFIED;
    // Hyper stops reading a body once it has sent the Content-Length it
    // announced; the guest's end-of-body may come after that.
    let length = response
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    response.map(|body| Counted { inner: body, tracked, bodiless, length, sent: 0 }.boxed_unsync())
}

/// The client's mistakes that warp answers itself, as a proxy in front of
/// the guest would: a request with no `Host` (nor an absolute URI) is 400,
/// since `wasi:http` requests carry an authority; `CONNECT` (a tunnel, not
/// a request for the guest) is 501.
fn refused_before_the_guest<B>(request: &hyper::Request<B>) -> Option<u16> {
    if request.method() == hyper::Method::CONNECT {
        return Some(501);
    }
    if request.uri().authority().is_none() && !request.headers().contains_key(hyper::header::HOST) {
        return Some(400);
    }
    None
}

/// A response body that ends its request's [`Tracked`]: served at its end,
/// failed on an error, aborted when dropped before either.
struct Counted {
    inner: HyperOutgoingBody,
    tracked: Tracked,
    /// The response has no body on the wire (`HEAD`, 1xx, 204, 304).
    bodiless: bool,
    /// The Content-Length the response announced, and the bytes sent so far.
    length: Option<u64>,
    sent: u64,
}

impl Body for Counted {
    type Data = Bytes;
    type Error = <HyperOutgoingBody as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.tracked.end(Outcome::Served),
            Poll::Ready(Some(Err(_))) => self.tracked.end(Outcome::Failed),
            Poll::Ready(Some(Ok(frame))) => {
                self.sent += frame.data_ref().map_or(0, |data| data.len() as u64);
                if self.inner.is_end_stream() || self.length.is_some_and(|length| self.sent >= length) {
                    self.tracked.end(Outcome::Served);
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        // A body with nothing left, or none to send, may never be polled
        // to its end.
        if self.bodiless || self.inner.is_end_stream() || self.length.is_some_and(|length| self.sent >= length) {
            self.tracked.end(Outcome::Served);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_failures_pause_longer_each_time_and_log_once_per_burst() {
        let mut backoff = AcceptBackoff::default();
        let start = Instant::now();
        assert_eq!(backoff.failed(start), (ACCEPT_BACKOFF_MIN, Some(0)));
        let mut pauses = Vec::new();
        for i in 1..10 {
            let (pause, log) = backoff.failed(start + Duration::from_millis(i));
            assert_eq!(log, None);
            pauses.push(pause);
        }
        assert_eq!(pauses[0], ACCEPT_BACKOFF_MIN * 2);
        assert_eq!(*pauses.last().unwrap(), ACCEPT_BACKOFF_MAX);
        // A minute on, the failure is logged again with the count not logged.
        assert_eq!(backoff.failed(start + ACCEPT_LOG_EVERY).1, Some(9));
        backoff.succeeded();
        assert_eq!(backoff.failed(start + ACCEPT_LOG_EVERY * 2), (ACCEPT_BACKOFF_MIN, Some(0)));
    }

    #[test]
    fn a_connections_clock_follows_what_it_is_doing() {
        let limits = ConnLimits {
            header: Duration::from_secs(1),
            idle: Duration::from_secs(5),
            drain: Duration::from_secs(10),
            request: Duration::from_secs(30),
            body: Duration::from_secs(10),
            connections: 1,
        };
        let activity = Activity::new();
        // A new connection owes its first head within the header timeout.
        assert_eq!(activity.deadline(limits), 1_000);
        activity.request_began();
        assert!(activity.deadline(limits) >= 35_000, "a request in flight has idle and request together");
        activity.request_ended();
        let idle = activity.deadline(limits);
        assert!((5_000..6_000).contains(&idle), "{idle}");
        // A byte of the next head starts the header clock again.
        activity.read(1);
        assert!(activity.deadline(limits) < 2_000);
        activity.read(0);
        assert!(activity.deadline(limits) < 2_000);
    }
}
