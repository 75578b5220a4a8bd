//! The host side of `warpgrid:shim@0.1.0` (`wit/shim.wit`).
//!
//! One [`ShimState`] per deployment holds what outlives a single instance: the
//! virtual files and DNS table generated from the manifest, the DNS cache,
//! the signal queue and the declared threading model. Every store gets a
//! [`ShimHost`] pointing at it. [`link`] adds to a linker only the
//! interfaces the manifest enables; a component importing any other was
//! already refused by `component::check_world`.

pub mod database;
pub mod dns;
pub mod filesystem;
pub mod signals;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use wasmtime::component::{HasSelf, Linker};

use super::Loaded;
use super::events::{Event, EventSink};
use crate::project::{DbProtocol, ThreadingModel};
use crate::shim::Shim;

pub use signals::Signal;

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "warpgrid:shim/shims",
        imports: {
            "warpgrid:shim/dns.resolve": async,
            "warpgrid:shim/database-proxy.connect": async,
            "warpgrid:shim/database-proxy.send": async,
            "warpgrid:shim/database-proxy.recv": async,
        },
    });
}

use bindings::warpgrid::shim::{
    database_proxy as wit_db, dns as wit_dns, filesystem as wit_fs, signals as wit_signals, threading as wit_threading,
};

/// What the manifest configures; replaced whole on reload.
struct Setup {
    files: filesystem::VirtualFs,
    dns: dns::Table,
}

/// A deployment's shim state, shared by all its instances and kept across
/// reloads (the DNS cache and queued signals survive a SIGHUP).
pub struct ShimState {
    name: RwLock<String>,
    events: Arc<dyn EventSink>,
    setup: RwLock<Arc<Setup>>,
    dns_cache: dns::Cache,
    pub signals: signals::Queue,
    /// Database endpoints and their connection pools.
    pub databases: database::Proxy,
    /// Requests run one at a time (`cooperative`).
    sequential: AtomicBool,
    /// A guest declared `parallel-required`, which warp cannot give it.
    degraded: AtomicBool,
}

impl ShimState {
    /// Where this deployment's events go.
    pub fn events(&self) -> &Arc<dyn EventSink> {
        &self.events
    }

    /// The state for `loaded`'s deployment; what it notices goes to `events`.
    pub fn new(loaded: &Loaded, events: Arc<dyn EventSink>) -> Arc<ShimState> {
        let shims = Arc::new(ShimState {
            name: RwLock::new(String::new()),
            events,
            setup: RwLock::new(Arc::new(Setup { files: Default::default(), dns: Default::default() })),
            dns_cache: dns::Cache::default(),
            signals: signals::Queue::default(),
            databases: database::Proxy::default(),
            sequential: AtomicBool::new(false),
            degraded: AtomicBool::new(false),
        });
        shims.configure(loaded);
        shims
    }

    /// Takes the manifest's settings (at start and on reload).
    pub fn configure(&self, loaded: &Loaded) {
        let manifest = &loaded.manifest;
        let dns = dns::Table::new(manifest.shims.dns.as_ref());
        let files = filesystem::VirtualFs::new(manifest, &dns);
        *self.setup.write().unwrap() = Arc::new(Setup { files, dns });
        self.databases.configure(&manifest.shims.database, loaded.database_tls.clone());
        *self.name.write().unwrap() = manifest.name.clone();
        if let Some(model) = manifest.shims.threading {
            self.declare(model);
        }
    }

    /// The deployment's name (the manifest's `name`).
    pub fn name(&self) -> String {
        self.name.read().unwrap().clone()
    }

    fn setup(&self) -> Arc<Setup> {
        self.setup.read().unwrap().clone()
    }

    /// Whether requests must run one at a time.
    pub fn sequential(&self) -> bool {
        self.sequential.load(Ordering::Relaxed)
    }

    /// Whether a guest asked for something warp cannot give (the deployment
    /// status WarpGrid shows as degraded).
    pub fn degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }

    pub fn declare(&self, model: ThreadingModel) {
        match model {
            ThreadingModel::SingleThreaded => {}
            ThreadingModel::Cooperative => {
                if !self.sequential.swap(true, Ordering::Relaxed) {
                    self.events.emit(&Event::Threading { name: self.name(), model });
                }
            }
            ThreadingModel::ParallelRequired => {
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    self.events.emit(&Event::Threading { name: self.name(), model });
                }
            }
        }
    }

    /// Hands an OS signal to the guests that asked for it.
    pub fn deliver(&self, signal: Signal) -> signals::Delivery {
        let delivery = self.signals.deliver(signal);
        if let signals::Delivery::QueuedDroppingOldest(oldest) = delivery {
            self.events.emit(&Event::SignalDropped { dropped: oldest, capacity: signals::CAPACITY });
        }
        delivery
    }
}

/// Per-store view of the deployment's [`ShimState`].
pub struct ShimHost {
    shims: Arc<ShimState>,
    /// This instance's database connections, by handle.
    connections: HashMap<u64, database::Connection>,
    next_connection: u64,
    /// What was reported about database connections (once each per instance).
    /// (A handful at most, so a list.)
    reported: Vec<Event>,
}

impl ShimHost {
    pub fn new(shims: &Arc<ShimState>) -> ShimHost {
        ShimHost { shims: shims.clone(), connections: HashMap::new(), next_connection: 1, reported: Vec::new() }
    }
}

impl Drop for ShimHost {
    /// Connections a guest did not close go back (or are closed) when its
    /// instance ends.
    fn drop(&mut self) {
        for (_, connection) in self.connections.drain() {
            self.shims.databases.close(connection);
        }
    }
}

/// Adds the enabled shim interfaces to `linker`. Every [`Shim`] has an arm
/// here, so whatever a manifest can enable, this warp can link.
pub fn link<T: Send + 'static>(
    linker: &mut Linker<T>,
    enabled: &[Shim],
    host: fn(&mut T) -> &mut ShimHost,
) -> Result<()> {
    for &shim in enabled {
        let linked = match shim {
            Shim::Filesystem => wit_fs::add_to_linker::<T, HasSelf<ShimHost>>(linker, host),
            Shim::Dns => wit_dns::add_to_linker::<T, HasSelf<ShimHost>>(linker, host),
            Shim::Signals => wit_signals::add_to_linker::<T, HasSelf<ShimHost>>(linker, host),
            Shim::Threading => wit_threading::add_to_linker::<T, HasSelf<ShimHost>>(linker, host),
            Shim::DatabaseProxy => wit_db::add_to_linker::<T, HasSelf<ShimHost>>(linker, host),
        };
        linked.map_err(anyhow::Error::from).with_context(|| format!("failed to link the `{shim}` shim"))?;
    }
    Ok(())
}

impl wit_fs::Host for ShimHost {
    fn read_virtual(&mut self, path: String) -> Option<Vec<u8>> {
        self.shims.setup().files.read(&path)
    }

    fn is_virtual(&mut self, path: String) -> bool {
        self.shims.setup().files.is_virtual(&path)
    }

    fn list_virtual_paths(&mut self) -> Vec<String> {
        self.shims.setup().files.paths()
    }
}

impl wit_dns::Host for ShimHost {
    async fn resolve(&mut self, hostname: String) -> Result<Vec<wit_dns::IpAddress>, wit_dns::DnsError> {
        let setup = self.shims.setup();
        match dns::resolve(&setup.dns, &self.shims.dns_cache, &hostname).await {
            Ok(addrs) => Ok(addrs.into_iter().map(ip_address).collect()),
            Err(dns::Error::NotFound) => Err(wit_dns::DnsError::NotFound),
            Err(dns::Error::Timeout) => Err(wit_dns::DnsError::Timeout),
            Err(dns::Error::Internal) => Err(wit_dns::DnsError::Internal),
        }
    }
}

fn ip_address(addr: IpAddr) -> wit_dns::IpAddress {
    match addr {
        IpAddr::V4(v4) => wit_dns::IpAddress { octets: v4.octets().to_vec(), is_v6: false },
        IpAddr::V6(v6) => wit_dns::IpAddress { octets: v6.octets().to_vec(), is_v6: true },
    }
}

impl wit_signals::Host for ShimHost {
    fn on_signal(&mut self, signal: wit_signals::SignalType) -> bool {
        self.shims.signals.register(from_wit(signal))
    }

    fn poll_signal(&mut self) -> Option<wit_signals::SignalType> {
        self.shims.signals.poll().map(|signal| match signal {
            Signal::Terminate => wit_signals::SignalType::Terminate,
            Signal::Hangup => wit_signals::SignalType::Hangup,
            Signal::Interrupt => wit_signals::SignalType::Interrupt,
        })
    }
}

fn from_wit(signal: wit_signals::SignalType) -> Signal {
    match signal {
        wit_signals::SignalType::Terminate => Signal::Terminate,
        wit_signals::SignalType::Hangup => Signal::Hangup,
        wit_signals::SignalType::Interrupt => Signal::Interrupt,
    }
}

impl wit_db::Host for ShimHost {
    async fn connect(&mut self, config: wit_db::DbConfig) -> Result<wit_db::Connection, wit_db::DbError> {
        let request = database::Request {
            protocol: match config.protocol {
                wit_db::DbProtocol::Postgres => DbProtocol::Postgres,
                wit_db::DbProtocol::Mysql => DbProtocol::Mysql,
                wit_db::DbProtocol::Redis => DbProtocol::Redis,
            },
            host: config.host,
            port: config.port,
            database: config.database,
        };
        let setup = self.shims.setup();
        match self.shims.databases.connect(&request, &setup.dns, &self.shims.dns_cache).await {
            Ok(connection) => {
                let handle = self.next_connection;
                self.next_connection += 1;
                self.connections.insert(handle, connection);
                Ok(handle)
            }
            Err(e) => {
                let unlisted = e == database::Error::ConnectionRefused
                    && !self.shims.databases.lists_address(&request, &setup.dns, &self.shims.dns_cache).await;
                if unlisted {
                    self.report(Event::DatabaseRefused {
                        name: self.shims.name(),
                        host: request.host.clone(),
                        port: request.port,
                    });
                }
                Err(self.failed(e))
            }
        }
    }

    async fn send(&mut self, conn: wit_db::Connection, data: Vec<u8>) -> Result<u32, wit_db::DbError> {
        let connection = self.connections.get_mut(&conn).ok_or(wit_db::DbError::Closed)?;
        match connection.send(&data).await {
            Ok(sent) => Ok(sent),
            Err(e) => Err(self.failed(e)),
        }
    }

    async fn recv(&mut self, conn: wit_db::Connection, max_bytes: u32) -> Result<Vec<u8>, wit_db::DbError> {
        let connection = self.connections.get_mut(&conn).ok_or(wit_db::DbError::Closed)?;
        connection.recv(max_bytes).await.map_err(db_error)
    }

    fn close(&mut self, conn: wit_db::Connection) {
        if let Some(connection) = self.connections.remove(&conn) {
            self.shims.databases.close(connection);
        }
    }
}

impl ShimHost {
    /// Reports `event` once per instance.
    fn report(&mut self, event: Event) {
        if !self.reported.contains(&event) {
            self.shims.events.emit(&event);
            self.reported.push(event);
        }
    }

    /// The guest's error for a failed connection; TLS failures are logged
    /// (the guest sees only `protocol-error`).
    fn failed(&mut self, error: database::Error) -> wit_db::DbError {
        if let database::Error::Tls(reason) = &error {
            self.report(Event::DatabaseTlsFailed { name: self.shims.name(), reason: reason.clone() });
        }
        db_error(error)
    }
}

fn db_error(error: database::Error) -> wit_db::DbError {
    match error {
        database::Error::ConnectionRefused => wit_db::DbError::ConnectionRefused,
        database::Error::Timeout => wit_db::DbError::Timeout,
        database::Error::ProtocolError => wit_db::DbError::ProtocolError,
        database::Error::PoolExhausted => wit_db::DbError::PoolExhausted,
        database::Error::Closed => wit_db::DbError::Closed,
        database::Error::Tls(_) => wit_db::DbError::ProtocolError,
    }
}

impl wit_threading::Host for ShimHost {
    fn declare_threading_model(&mut self, model: wit_threading::ThreadingModel) {
        self.shims.declare(match model {
            wit_threading::ThreadingModel::SingleThreaded => ThreadingModel::SingleThreaded,
            wit_threading::ThreadingModel::Cooperative => ThreadingModel::Cooperative,
            wit_threading::ThreadingModel::ParallelRequired => ThreadingModel::ParallelRequired,
        });
    }
}
