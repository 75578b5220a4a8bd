//! `warp run`: an embedded Wasmtime that serves `wasi:http` components or
//! runs `wasi:cli` ones, as a run manifest describes.
//!
//! Load path: manifest checks (schema, digest, shims) → engine (pooling
//! allocator on `engine::base_config`, epoch interruption; the previous one
//! when a reload keeps the limits) → compiled component from the on-disk
//! cache (`engine::cache`) or freshly compiled
//! → pre-instantiated once → a fresh instance per request (`http`) or one
//! run (`cli`).
//!
//! It is a library: [`load`], then [`serve`] or [`run_cli`], driven by a
//! channel of [`Control`] messages and reporting [`Event`]s to the caller's
//! [`EventSink`]. `warp run` is one caller; nothing here prints.

mod cli;
pub mod conn;
pub mod events;
pub mod http;
pub mod limits;
pub mod memory;
mod output;
mod serve;
pub mod shims;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::component;
use crate::engine;
use crate::error::Diagnostic;
use crate::manifest::{Manifest, Placement, Preopen};
use crate::project::{DirMode, World};

pub use cli::{CliExit, run_cli};
pub use events::{Event, EventSink, Reloaded, Stopped};
pub use http::{Server, bind};
pub use memory::MemoryAccount;
pub use serve::{Control, Reply, serve};
pub use shims::{ShimHost, ShimState, Signal};

/// How often the epoch advances; request deadlines are counted in ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Time per request when the manifest sets none.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Instances alive at once unless `limits.instances` says otherwise.
pub const DEFAULT_INSTANCES: u32 = 1000;

/// Each instance's largest linear memory unless `limits.memory` says
/// otherwise: enough for ordinary services, and 1000 instances cannot ask
/// for 4 GiB each.
pub const DEFAULT_MEMORY: u64 = 128 << 20;

/// A manifest whose component is compiled and ready to instantiate.
pub struct Loaded {
    pub manifest: Manifest,
    /// Where the manifest was read from (a reload without a path re-reads it).
    pub manifest_path: PathBuf,
    /// Where the component may be; a reload keeps what `load` was given.
    pub placement: Placement,
    pub engine: Arc<ServingEngine>,
    /// Whether `engine` is the one `load` was offered (not a new one).
    pub engine_reused: bool,
    pub component: Component,
    pub linker: Linker<Host>,
    /// Preopened directories, each read-only or read-write.
    pub preopens: Vec<Preopen>,
    /// Whether the compiled code came from the on-disk cache.
    pub from_cache: bool,
    /// TLS client settings per `shims.database` entry.
    pub database_tls: shims::database::tls::Configs,
    /// When `load` began (for the time to ready).
    pub started: Instant,
}

/// Per-store host state: WASI, WASI HTTP, the shims, and limits.
pub struct Host {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    limits: memory::Limiter,
    shims: ShimHost,
    /// When the guest's time is up: it traps at the next epoch tick after
    /// (see `http::yield_regularly`). Set per request; none for a CLI run,
    /// which counts its own.
    deadline: Option<Instant>,
}

impl Host {
    /// A store's state for `loaded`; its linear memory is also counted in
    /// `account` when there is one (a server's `limits.total_memory`).
    pub fn new(
        loaded: &Loaded,
        shims: &Arc<ShimState>,
        args: &[String],
        account: Option<Arc<MemoryAccount>>,
    ) -> Result<Host> {
        let manifest = &loaded.manifest;
        let mut wasi = WasiCtx::builder();
        let events = shims.events();
        if events.captures_guest_output() {
            let lines = |stream| output::Lines { events: events.clone(), name: manifest.name.clone(), stream };
            wasi.stdout(lines(events::Stream::Stdout)).stderr(lines(events::Stream::Stderr));
        } else if manifest.component.world == World::Http {
            // A server's guests never wait on whoever reads warp's output;
            // a CLI program's output is its result, so it keeps the back-pressure.
            let shared = |stream| output::Passthrough { events: events.clone(), stream };
            wasi.inherit_stdin().stdout(shared(events::Stream::Stdout)).stderr(shared(events::Stream::Stderr));
        } else {
            wasi.inherit_stdio();
        }
        for (key, value) in &manifest.env {
            wasi.env(key, value);
        }
        // argv[0] is the component's name, as a process's is its program's
        // (Go's flag packages, for one, read os.Args[0] at init).
        let mut argv = vec![manifest.name.clone()];
        argv.extend(args.iter().cloned());
        wasi.args(&argv);
        for Preopen { host, guest, mode } in &loaded.preopens {
            let perms = match mode {
                DirMode::Ro => FsPerms::ReadOnly,
                DirMode::Rw => FsPerms::ReadWrite,
            };
            wasi.preopened_dir(host, guest, perms)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("failed to open `{}` for the guest's `{guest}`", host.display()))?;
        }
        let memory = usize::try_from(EngineShape::of(manifest).memory).unwrap_or(usize::MAX);
        let limits = StoreLimitsBuilder::new().trap_on_grow_failure(true).memory_size(memory);
        Ok(Host {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            limits: memory::Limiter::new(limits.build(), account),
            shims: ShimHost::new(shims),
            deadline: None,
        })
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: Default::default() }
    }
}

/// Reads and checks a manifest and compiles (or loads) its component,
/// which must be where `placement` allows. `engine` is offered for reuse:
/// it is kept when the manifest's limits would configure an identical one,
/// so a reload keeps the engine and its epoch ticker.
pub fn load(manifest_path: &Path, engine: Option<&Arc<ServingEngine>>, placement: Placement) -> Result<Loaded> {
    let started = Instant::now();
    let manifest = Manifest::read(manifest_path)?;
    let bytes = manifest.read_component_placed(manifest_path, placement)?;
    // Unknown shims were refused when the manifest was read; every `Shim`
    // can be linked (`shims::link` matches them all).
    let enabled = manifest.shims.enabled();
    let database_tls = shims::database::tls::configs(&manifest, manifest_path)?;
    let preopens = manifest.preopens(manifest_path)?;
    let interfaces = component::interfaces(&bytes)
        .map_err(|e| Diagnostic::env(format!("`{}` is not a component: {e}", manifest.component.path)))?;
    component::check_world(manifest.component.world, &interfaces, &enabled)
        .map_err(|e| Diagnostic::env(format!("refusing to load `{}`: {e:#}", manifest.component.path)))?;

    let shape = EngineShape::of(&manifest);
    let (engine, engine_reused) = match engine.filter(|engine| engine.shape == shape) {
        Some(engine) => (engine.clone(), true),
        None => (Arc::new(ServingEngine::new(shape)?), false),
    };
    let (component, from_cache) = engine::cache::component(&engine.engine, &bytes, &manifest.component.sha256)?;
    let mut linker: Linker<Host> = Linker::new(&engine.engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from).context("failed to link WASI")?;
    if manifest.component.world == World::Http {
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(anyhow::Error::from)
            .context("failed to link WASI HTTP")?;
    }
    shims::link(&mut linker, &enabled, |host| &mut host.shims)?;
    Ok(Loaded {
        manifest,
        manifest_path: manifest_path.to_path_buf(),
        placement,
        engine,
        engine_reused,
        component,
        linker,
        preopens,
        from_cache,
        database_tls,
        started,
    })
}

/// What a manifest sets that goes into the engine's configuration. Two
/// manifests with the same shape are served by identical engines, so a
/// reload that keeps the shape keeps the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineShape {
    /// Instances alive at once (the pool's size).
    pub instances: u32,
    /// The largest linear memory, in bytes (`limits.memory`, else
    /// [`DEFAULT_MEMORY`]).
    pub memory: u64,
}

impl EngineShape {
    pub fn of(manifest: &Manifest) -> EngineShape {
        EngineShape {
            instances: manifest.limits.instances.unwrap_or(DEFAULT_INSTANCES).max(1),
            memory: manifest.limits.memory.map_or(DEFAULT_MEMORY, |memory| memory.0),
        }
    }
}

/// A Wasmtime engine for serving (async, epoch interruption, the pooling
/// allocator when the machine grants its virtual memory reservation) and
/// the thread that advances its epoch, which stops when the last
/// [`Loaded`] using the engine is gone.
pub struct ServingEngine {
    pub engine: Engine,
    pub shape: EngineShape,
    /// Whether instances come from the pooling allocator.
    pub pooling: bool,
    _ticker: Ticker,
}

impl ServingEngine {
    pub fn new(shape: EngineShape) -> Result<ServingEngine> {
        let config = engine::base_config();
        let (engine, pooling) = match Engine::new(&pooled(&config, shape)) {
            Ok(engine) => (engine, true),
            Err(_) => (
                Engine::new(&config)
                    .map_err(|e| Diagnostic::env(format!("failed to create the Wasmtime engine: {e}")))?,
                false,
            ),
        };
        let ticker = Ticker::start(engine.clone());
        Ok(ServingEngine { engine, shape, pooling, _ticker: ticker })
    }
}

/// `config` with the pooling allocator sized for `shape`.
fn pooled(config: &Config, shape: EngineShape) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    // A component instance holds several core instances (its module plus
    // wit-component's shim and fixup modules), one memory, and a table or
    // two (the shim module has its own).
    pool.total_component_instances(shape.instances)
        .total_core_instances(shape.instances.saturating_mul(8))
        .total_memories(shape.instances)
        .total_tables(shape.instances.saturating_mul(4));
    pool.max_memory_size(usize::try_from(shape.memory).unwrap_or(usize::MAX));
    let mut pooled = config.clone();
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    pooled
}

/// Whether this process can have the pooling allocator for the default
/// limits (`warp doctor`): it reserves virtual memory for every instance
/// slot up front, which `ulimit -v` (or an overcommit policy) can refuse.
/// Without it `warp run` still serves, allocating per instance, and
/// answers 503 when that allocation fails.
pub fn pooling_allocator() -> Result<(), String> {
    let shape = EngineShape { instances: DEFAULT_INSTANCES, memory: DEFAULT_MEMORY };
    Engine::new(&pooled(&engine::base_config(), shape)).map(drop).map_err(|e| format!("{e:#}"))
}

/// `duration` in epoch ticks, at least one; saturating, never wrapping.
pub fn ticks(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis() / EPOCH_TICK.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    fn start(engine: Engine) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        });
        Ticker { stop }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Task polls between two looks at the I/O driver on a runtime from
/// [`runtime`]. Tokio's default, 61, assumes short polls; a guest computing
/// without end yields only every `http::YIELD_EVERY_TICKS` (10 ms), so with
/// every worker busy a new connection, a timer or a signal would wait 61
/// such polls (0.6 s). Measured: 8 let a healthy request beside four busy
/// guests wait 1.7 s; 2 costs the hello bench under 4% (docs/BENCHMARKS.md).
pub const EVENT_INTERVAL: u32 = 2;

/// The runtime [`serve`] and [`run_cli`] keep their promises on: multi-
/// threaded, and looking at sockets and timers every [`EVENT_INTERVAL`]
/// polls, so busy guests (each yielding every 10 ms) never starve accepting,
/// other requests, deadlines or a stop.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .event_interval(EVENT_INTERVAL)
        .build()
        .context("failed to start the async runtime")
}

/// Where `warp run` listens unless told otherwise: loopback, the manifest's port.
pub fn default_listen(manifest: &Manifest) -> SocketAddr {
    let port = manifest.http.as_ref().map_or(8080, |h| h.port);
    SocketAddr::from(([127, 0, 0, 1], port))
}
