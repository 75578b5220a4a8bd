//! Serving `wasi:http/incoming-handler` over HTTP/1.1: one pre-instantiated
//! component, a fresh instance per request (or, with `http.reuse`, warm
//! instances that serve one request at a time), faults contained per request.
//!
//! What is served is a [`Generation`]: a loaded manifest, pre-instantiated.
//! [`Server::reload`] swaps in a new one while serving; a request holds the
//! generation it started on, so requests in flight finish on the old one.
//! Accepting, connections and the accounting of requests are `conn.rs`'s.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::net::TcpListener;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::events::{Event, EventSink, Reloaded, Stopped};
use super::limits::ConnLimits;
use super::memory::{MemoryAccount, TotalMemoryExhausted};
use super::{Host, Loaded, ShimState};

/// Counters a caller (or a test) can read while serving; a request counts
/// once its response has ended (`conn.rs`).
#[derive(Debug, Default)]
pub struct Stats {
    pub served: AtomicU64,
    pub failed: AtomicU64,
    /// Closed by the client before the response was complete.
    pub aborted: AtomicU64,
    /// Still in flight when a stop's drain deadline passed (also in `failed`).
    pub cut_short: AtomicU64,
    pub in_flight: AtomicUsize,
}

pub struct Server {
    current: RwLock<Arc<Generation>>,
    /// What all instances hold together, against `limits.total_memory`.
    pub memory: Arc<MemoryAccount>,
    shims: Arc<ShimState>,
    pub(super) events: Arc<dyn EventSink>,
    /// Held for the whole request while the deployment runs cooperatively.
    sequential: Arc<tokio::sync::Mutex<()>>,
    pub stats: Arc<Stats>,
}

/// How long a request waits for an instance that has answered and is
/// about to return, rather than starting a new one (a Go instance's start
/// costs 4–8 ms and megabytes).
pub const WARM_WAIT: Duration = Duration::from_millis(50);

/// A request's guest: running, answered (counted in
/// `Generation::finishing`), or returned.
const RUNNING: u8 = 0;
const ANSWERED: u8 = 1;
const RETURNED: u8 = 2;

/// Idle warm instances kept per generation; one returned past this is
/// dropped (a burst's extra instances do not stay resident).
pub const MAX_IDLE: usize = 16;

/// One loaded version of the deployment. Its engine's epoch ticker runs
/// while any generation on that engine is alive.
pub struct Generation {
    pre: ProxyPre<Host>,
    pub(super) loaded: Loaded,
    /// The manifest's limits with their defaults, resolved once:
    /// `request` (the guest's compute and the whole request, waits on the
    /// client included), `body`, and the connection layer's.
    pub(super) limits: ConnLimits,
    /// `http.reuse`: requests per instance (1 = fresh each time, 0 = no limit).
    reuse: u32,
    /// Instances that served a request and wait for the next, most recent last.
    idle: Mutex<Vec<Warm>>,
    /// Instances whose guest has answered but not yet returned (a Go
    /// program finishing up after its response): the next request waits
    /// a moment for one of them rather than starting another instance.
    finishing: AtomicUsize,
    /// Told whenever a request's guest returns (its instance checked in or dropped).
    returned: tokio::sync::Notify,
}

/// An instantiated component between requests.
struct Warm {
    store: Store<Host>,
    proxy: Proxy,
    served: u32,
}

impl Generation {
    pub fn new(loaded: Loaded) -> Result<Generation> {
        let pre = loaded
            .linker
            .instantiate_pre(&loaded.component)
            .map_err(anyhow::Error::from)
            .context("failed to link the component")?;
        let pre = ProxyPre::new(pre)
            .map_err(anyhow::Error::from)
            .context("the component does not export `wasi:http/incoming-handler`")?;
        let limits = ConnLimits::of(&loaded.manifest);
        let reuse = loaded.manifest.http.as_ref().and_then(|h| h.reuse).unwrap_or(1);
        Ok(Generation {
            pre,
            loaded,
            limits,
            reuse,
            idle: Mutex::default(),
            finishing: AtomicUsize::new(0),
            returned: tokio::sync::Notify::new(),
        })
    }

    /// An idle instance, or, when none is idle but one has answered and is
    /// about to return, that one after a wait of at most [`WARM_WAIT`]:
    /// a program with state between requests (`http.reuse`) keeps meeting
    /// the same instance, and a burst of sequential requests does not
    /// start instances that are not needed.
    async fn checkout_or_wait(&self) -> Option<Warm> {
        if self.reuse == 1 {
            return None;
        }
        let returned = self.returned.notified();
        if let Some(warm) = self.checkout() {
            return Some(warm);
        }
        if self.finishing.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let _ = tokio::time::timeout(WARM_WAIT, returned).await;
        self.checkout()
    }

    /// The most recently used idle instance (its state the warmest), if any.
    fn checkout(&self) -> Option<Warm> {
        self.idle.lock().unwrap().pop()
    }

    /// Keeps an instance that finished a request cleanly for the next one,
    /// unless it has served its `reuse` or enough instances are idle.
    fn checkin(&self, warm: Warm) {
        if self.reuse == 1 || (self.reuse != 0 && warm.served >= self.reuse) {
            return;
        }
        let mut idle = self.idle.lock().unwrap();
        if idle.len() < MAX_IDLE {
            idle.push(warm);
        }
    }

    fn store(&self, shims: &Arc<ShimState>, memory: &Arc<MemoryAccount>) -> Result<Store<Host>> {
        let mut store = Store::new(self.pre.engine(), Host::new(&self.loaded, shims, &[], Some(memory.clone()))?);
        store.limiter(|host| &mut host.limits);
        yield_regularly(&mut store);
        Ok(store)
    }
}

impl Server {
    /// A server for `loaded`, sharing `shims` with its later generations;
    /// failed requests go to `events`.
    pub fn new(loaded: Loaded, shims: Arc<ShimState>, events: Arc<dyn EventSink>) -> Result<Arc<Server>> {
        let memory = MemoryAccount::new(total_memory(&loaded));
        Ok(Arc::new(Server {
            current: RwLock::new(Arc::new(Generation::new(loaded)?)),
            memory,
            shims,
            events,
            sequential: Arc::default(),
            stats: Arc::default(),
        }))
    }

    pub(super) fn current(&self) -> Arc<Generation> {
        self.current.read().unwrap().clone()
    }

    pub fn shims(&self) -> &Arc<ShimState> {
        &self.shims
    }

    /// What the server has done so far.
    pub fn stopped(&self) -> Stopped {
        Stopped {
            served: self.stats.served.load(Ordering::Relaxed),
            failed: self.stats.failed.load(Ordering::Relaxed),
            aborted: self.stats.aborted.load(Ordering::Relaxed),
            cut_short: self.stats.cut_short.load(Ordering::Relaxed),
            degraded: self.shims.degraded(),
        }
    }

    /// Re-reads the manifest (`manifest`, or the one being served) and swaps
    /// in what it names, on the same engine when its limits allow. On any
    /// error the server keeps serving what it had.
    pub async fn reload(&self, manifest: Option<PathBuf>) -> Result<Reloaded> {
        let current = self.current();
        let path = manifest.unwrap_or_else(|| current.loaded.manifest_path.clone());
        let (engine, placement) = (current.loaded.engine.clone(), current.loaded.placement);
        let loaded = tokio::task::spawn_blocking(move || super::load(&path, Some(&engine), placement))
            .await
            .context("the reload task failed")??;
        anyhow::ensure!(
            loaded.manifest.component.world == crate::project::World::Http,
            "the manifest now names a `{}` component; `warp run` keeps serving the http one",
            loaded.manifest.component.world
        );
        let generation = Generation::new(loaded)?;
        let reloaded = Reloaded {
            name: generation.loaded.manifest.name.clone(),
            swapped: generation.loaded.manifest.component.sha256 != current.loaded.manifest.component.sha256,
            from_cache: generation.loaded.from_cache,
            engine_reused: generation.loaded.engine_reused,
        };
        self.shims.configure(&generation.loaded);
        self.memory.set_cap(total_memory(&generation.loaded));
        *self.current.write().unwrap() = Arc::new(generation);
        Ok(reloaded)
    }

    /// Times `n` instantiations of the pre-instantiated component, each in a
    /// fresh store as a request gets (for `cargo xtask bench`).
    pub async fn instantiate_timings(&self, n: usize) -> Result<Vec<Duration>> {
        let generation = self.current();
        let mut timings = Vec::with_capacity(n);
        for _ in 0..n {
            let mut store = generation.store(&self.shims, &self.memory)?;
            let started = std::time::Instant::now();
            generation.pre.instantiate_async(&mut store).await.map_err(anyhow::Error::from)?;
            timings.push(started.elapsed());
        }
        Ok(timings)
    }

    /// Runs the guest on `request` in a fresh instance: its response, or
    /// why there is none (the caller logs and answers the failure).
    pub(super) async fn dispatch(
        self: Arc<Self>,
        request: hyper::Request<hyper::body::Incoming>,
        method: &hyper::Method,
        uri: &hyper::Uri,
    ) -> Result<hyper::Response<HyperOutgoingBody>, Failure> {
        let generation = self.current();
        if !self.memory.has_room() {
            return Err(Failure::total_memory(self.memory.cap()));
        }
        let (mut store, warm, served) = match generation.checkout_or_wait().await {
            Some(Warm { store, proxy, served }) => (store, Some(proxy), served),
            None => (generation.store(&self.shims, &self.memory).map_err(Failure::internal)?, None, 0),
        };
        let progress = Arc::new(AtomicU8::new(RUNNING));
        let task_progress = progress.clone();
        // The deadline counts from now, for a warm instance as for a fresh
        // one; so does the first slice (a warm instance's epoch deadline
        // has long passed, and would yield at the request's first check).
        store.data_mut().deadline = Some(Instant::now() + generation.limits.request);
        store.set_epoch_deadline(YIELD_EVERY_TICKS);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let body_timeout = generation.limits.body;
        let (request, too_slow) = Paced::wrap(request, body_timeout);
        let incoming =
            store.data_mut().http().new_incoming_request(Scheme::Http, request).map_err(Failure::internal)?;
        let outparam = store.data_mut().http().new_response_outparam(sender).map_err(Failure::internal)?;
        let turn = match self.shims.sequential() {
            true => Some(self.sequential.clone().lock_owned().await),
            false => None,
        };
        // The guest runs in its own task so it can keep streaming the body
        // after the response head has gone out; it holds its generation (and
        // its turn, when requests run one at a time) until it is done. The
        // deadline covers the whole request: a guest waiting on a slow
        // client (which no epoch tick interrupts) is dropped with its
        // instance, as a guest that computes too long is trapped. An
        // instance that returned cleanly in time may serve again.
        let timeout = generation.limits.request;
        let counted = generation.clone();
        let task = tokio::spawn(async move {
            let _turn = turn;
            let run = async {
                let proxy = match warm {
                    Some(proxy) => proxy,
                    None => generation.pre.instantiate_async(&mut store).await?,
                };
                proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, outparam).await?;
                Ok::<_, wasmtime::Error>(proxy)
            };
            let result = match tokio::time::timeout(timeout, run).await {
                Ok(Ok(proxy)) => {
                    generation.checkin(Warm { store, proxy, served: served + 1 });
                    Ok(())
                }
                Ok(Err(e)) => Err(e),
                Err(_) => Err(wasmtime::Trap::Interrupt.into()),
            };
            if task_progress.swap(RETURNED, Ordering::SeqCst) == ANSWERED {
                generation.finishing.fetch_sub(1, Ordering::SeqCst);
            }
            generation.returned.notify_waiters();
            result
        });
        let answered = receiver.await;
        if matches!(answered, Ok(Ok(_))) {
            // Counted first, so the task's count-down never goes below zero.
            counted.finishing.fetch_add(1, Ordering::SeqCst);
            if progress.compare_exchange(RUNNING, ANSWERED, Ordering::SeqCst, Ordering::SeqCst).is_err() {
                counted.finishing.fetch_sub(1, Ordering::SeqCst);
            }
        }
        // A client that sent its body too slowly gets 408 whatever the guest
        // made of the cut-off body, when no response has gone out yet.
        if too_slow.load(Ordering::Relaxed) {
            return Err(Failure {
                status: 408,
                reason: format!(
                    "the client sent its body too slowly (limits.body_timeout {} ms between reads, at least {} \
                     bytes/s after {} s)",
                    body_timeout.as_millis(),
                    BODY_MIN_RATE,
                    BODY_RATE_GRACE.as_secs()
                ),
            });
        }
        match answered {
            Ok(Ok(response)) => {
                // The head is out; a failure now can only cut the body short.
                // Cheap clones (shared buffers); text only when something failed.
                let (method, uri, events) = (method.clone(), uri.clone(), self.events.clone());
                tokio::spawn(async move {
                    if let Ok(Err(e)) = task.await {
                        let reason = Failure::from_guest(e).reason;
                        let (method, uri) = (method.to_string(), uri.to_string());
                        events.emit(&Event::RequestFailed { method, uri, status: None, reason });
                    }
                });
                Ok(response.map(|body| FlushBeforeError::new(body).boxed_unsync()))
            }
            Ok(Err(code)) => Err(Failure { status: 500, reason: format!("the guest answered with error: {code:?}") }),
            Err(_) => Err(match task.await {
                Ok(Ok(())) => Failure { status: 500, reason: "the guest returned without setting a response".into() },
                Ok(Err(e)) => Failure::from_guest(e),
                Err(e) => Failure { status: 500, reason: format!("the request task failed: {e}") },
            }),
        }
    }
}

/// Epoch ticks a guest computes before it gives its thread back: one, 10
/// ms. Measured with four guests looping on two cores: at 5 ticks (50 ms) a
/// healthy request beside them waited up to 1.9 s (several scheduling hops
/// each behind the busy guests' slices); at 1 tick, under 0.2 s.
pub const YIELD_EVERY_TICKS: u64 = 1;

/// Makes a guest give its thread back every [`YIELD_EVERY_TICKS`], so that
/// a guest computing without end holds a runtime thread for 10 ms at most:
/// accepting, other requests and a stop go on beside it. Past the store's
/// deadline (`Host::deadline`, set per request) the guest traps with
/// [`wasmtime::Trap::Interrupt`] at the next tick, as the timer around the
/// request would also end it.
pub(super) fn yield_regularly(store: &mut Store<Host>) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|context| {
        let now = Instant::now();
        let Some(deadline) = context.data().deadline else {
            return Ok(wasmtime::UpdateDeadline::Yield(YIELD_EVERY_TICKS));
        };
        if now >= deadline {
            return Err(wasmtime::Trap::Interrupt.into());
        }
        // Never sleep past the deadline: come back at the tick after it.
        let left = super::ticks(deadline - now);
        Ok(wasmtime::UpdateDeadline::Yield(left.min(YIELD_EVERY_TICKS)))
    });
}

pub(super) struct Failure {
    pub(super) status: u16,
    pub(super) reason: String,
}

impl Failure {
    fn internal(e: impl std::fmt::Display) -> Failure {
        Failure { status: 500, reason: e.to_string() }
    }

    fn total_memory(cap: u64) -> Failure {
        Failure {
            status: 503,
            reason: format!("the instances together hold `limits.total_memory` ({cap} bytes); try again later"),
        }
    }

    fn from_guest(error: wasmtime::Error) -> Failure {
        if error.chain().any(|cause| cause.downcast_ref::<wasmtime::PoolConcurrencyLimitError>().is_some()) {
            return Failure { status: 503, reason: "no free instance slot (pool exhausted)".into() };
        }
        if let Some(exhausted) = error.chain().find_map(|cause| cause.downcast_ref::<TotalMemoryExhausted>()) {
            return Failure::total_memory(exhausted.cap);
        }
        // Memory for a new instance could not be had (the pooling
        // allocator off, e.g. under `ulimit -v`): the server is full, not broken.
        if error.chain().any(|cause| {
            cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.raw_os_error() == Some(libc::ENOMEM))
                || cause.to_string().contains("Cannot allocate memory")
        }) {
            return Failure { status: 503, reason: format!("no memory for a new instance: {error:#}") };
        }
        if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
            if *trap == wasmtime::Trap::Interrupt {
                return Failure {
                    status: 504,
                    reason: "the request ran past its deadline (limits.request_timeout)".into(),
                };
            }
            return Failure { status: 500, reason: format!("guest trapped: {trap}") };
        }
        Failure { status: 500, reason: format!("guest failed: {error:#}") }
    }
}

pub(super) fn plain(status: u16) -> hyper::Response<HyperOutgoingBody> {
    let status = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let text = format!("{} {}\n", status.as_u16(), status.canonical_reason().unwrap_or("error"));
    let body = Full::new(Bytes::from(text)).map_err(|never| match never {}).boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// A response body that hands an error to hyper only after the data
/// before it had a chance to be flushed. Hyper drops the connection on a
/// body error; without the pause, bytes the guest sent just before failing
/// would be dropped with it (and the client would see no response at all).
struct FlushBeforeError<B: hyper::body::Body> {
    inner: B,
    pending_error: Option<B::Error>,
}

impl<B: hyper::body::Body> FlushBeforeError<B> {
    fn new(inner: B) -> Self {
        FlushBeforeError { inner, pending_error: None }
    }
}

impl<B> hyper::body::Body for FlushBeforeError<B>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        use std::task::Poll;
        if let Some(error) = self.pending_error.take() {
            return Poll::Ready(Some(Err(error)));
        }
        match std::pin::Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Err(error))) => {
                // Let hyper flush what it has, then fail on the next poll.
                self.pending_error = Some(error);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pending_error.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The slowest a request body may arrive on average, in bytes a second,
/// once the guest has waited for it [`BODY_RATE_GRACE`] (Kestrel's
/// `MinRequestBodyDataRate`): a client that trickles a byte just inside
/// every timeout still cannot hold an instance for long.
pub const BODY_MIN_RATE: u64 = 240;
pub const BODY_RATE_GRACE: Duration = Duration::from_secs(5);

/// The `limits.total_memory` of `loaded`, else half the machine's memory.
fn total_memory(loaded: &Loaded) -> u64 {
    loaded.manifest.limits.total_memory.map_or_else(super::memory::default_total, |total| total.0)
}

/// A request body that must keep coming while the guest waits for it: no
/// stall longer than the body timeout, and [`BODY_MIN_RATE`] on average
/// over the time spent waiting (time the guest spends elsewhere does not
/// count against the client). When either fails, the guest's read fails
/// with `connection-read-timeout` and the flag tells the request path to
/// answer 408.
struct Paced {
    inner: hyper::body::Incoming,
    timeout: Duration,
    /// Armed while the guest waits for data.
    stall: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    waiting_since: Option<Instant>,
    waited: Duration,
    received: u64,
    too_slow: Arc<AtomicBool>,
}

impl Paced {
    fn wrap(
        request: hyper::Request<hyper::body::Incoming>,
        timeout: Duration,
    ) -> (hyper::Request<Paced>, Arc<AtomicBool>) {
        let too_slow = Arc::new(AtomicBool::new(false));
        let flag = too_slow.clone();
        let request = request.map(|inner| Paced {
            inner,
            timeout,
            stall: None,
            waiting_since: None,
            waited: Duration::ZERO,
            received: 0,
            too_slow: flag,
        });
        (request, too_slow)
    }

    fn fail(&mut self) -> Option<Result<hyper::body::Frame<Bytes>, wasmtime_wasi_http::Error>> {
        self.too_slow.store(true, Ordering::Relaxed);
        Some(Err(wasmtime_wasi_http::Error::ConnectionReadTimeout))
    }
}

impl hyper::body::Body for Paced {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        use std::task::Poll;
        if self.too_slow.load(Ordering::Relaxed) {
            return Poll::Ready(self.fail());
        }
        match std::pin::Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(since) = self.waiting_since.take() {
                    self.waited += since.elapsed();
                }
                self.stall = None;
                if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(|f| f.data_ref())) {
                    self.received += data.map_or(0, |d| d.len() as u64);
                }
                let slow = self.waited > BODY_RATE_GRACE
                    && (self.received as f64) < BODY_MIN_RATE as f64 * self.waited.as_secs_f64();
                if slow && !self.inner.is_end_stream() && frame.is_some() {
                    return Poll::Ready(self.fail());
                }
                Poll::Ready(frame.map(|frame| frame.map_err(wasmtime_wasi_http::Error::from)))
            }
            Poll::Pending => {
                let timeout = self.timeout;
                self.waiting_since.get_or_insert_with(Instant::now);
                let stall = self.stall.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match std::future::Future::poll(stall.as_mut(), cx) {
                    Poll::Ready(()) => Poll::Ready(self.fail()),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// Binds `addr` (exit 2 with the cause when it cannot).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        crate::error::Diagnostic::env(format!("failed to listen on `{addr}`: {e}"))
            .help("pick another address with `--listen 127.0.0.1:PORT` (port 0 picks a free one)")
            .into()
    })
}
