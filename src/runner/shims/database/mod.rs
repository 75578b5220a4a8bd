//! `warpgrid:shim/database-proxy`: TCP connections to the databases the
//! manifest lists (`[[shims.database]]`), bytes passed through unchanged.
//!
//! Only listed endpoints are reachable: `connect` matches protocol, port,
//! database and host (by name, or by an address the name resolves to) and
//! answers `connection-refused` for anything else. Each endpoint has a pool
//! of `pool_size` connections (default 10): at most that many are checked
//! out at once (`pool-exhausted` beyond), and idle ones are kept for 60 s.
//!
//! `close` gives a connection back to the pool when its session is at rest,
//! and the next `connect` takes it after a check that also resets the
//! session:
//! - Redis: a guest's `QUIT` is answered by the proxy; on checkout `RESET`
//!   must answer `+RESET` (it also drops `SELECT`, `MULTI`, subscriptions).
//! - Postgres: the proxy follows the protocol ([`postgres`]): `Terminate`
//!   is kept from the server, a session is pooled only when idle, the check
//!   is `DISCARD ALL`, and the next guest's identical login is answered with
//!   the recorded greeting.
//! - MySQL: the proxy follows the protocol ([`mysql`]): `COM_QUIT` is kept
//!   from the server, a session is pooled only when no reply is in flight,
//!   the check is `COM_RESET_CONNECTION` (and `COM_INIT_DB` with the
//!   login's database), and the next guest is greeted with the recorded
//!   greeting; its identical login is answered with the recorded `OK`, any
//!   other is logged in on a fresh connection.

mod framer;
pub mod mysql;
pub mod postgres;
pub mod tls;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::ClientConfig;

use super::dns;
use crate::project::{Database, DbProtocol};
use tls::Stream;

/// How long an idle pooled connection is kept.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long opening a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a `recv` waits for the first byte.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(30);
/// The most one `recv` returns.
pub const RECV_MAX: u32 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    ConnectionRefused,
    Timeout,
    ProtocolError,
    PoolExhausted,
    Closed,
    /// TLS to the server could not be set up (a `protocol-error` for the
    /// guest; the reason goes to the log).
    Tls(String),
}

/// What a guest asks to connect to.
#[derive(Debug, Clone)]
pub struct Request {
    pub protocol: DbProtocol,
    pub host: String,
    pub port: u16,
    pub database: Option<String>,
}

/// Which pool a connection belongs to: the manifest's endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    index: usize,
}

/// A connection waiting in its pool.
struct Idle {
    stream: Stream,
    peer: SocketAddr,
    since: Instant,
    login: Login,
}

/// How a pooled connection's session logged in.
enum Login {
    Redis,
    Postgres(postgres::Login),
    Mysql(mysql::Login),
}

/// What the proxy follows of a checked-out connection's session.
enum Follow {
    Redis {
        /// The guest sent `QUIT` (answered by the proxy).
        quit: bool,
    },
    Postgres(postgres::Session),
    Mysql(mysql::Session),
}

#[derive(Default)]
struct Pool {
    idle: Vec<Idle>,
    checked_out: u32,
}

/// A deployment's endpoints and their pools (kept across reloads).
#[derive(Default)]
pub struct Proxy {
    endpoints: Mutex<Vec<Database>>,
    tls: Mutex<tls::Configs>,
    pools: Mutex<HashMap<Key, Pool>>,
}

/// An endpoint a request matched.
#[derive(Clone)]
struct Endpoint {
    key: Key,
    database: Database,
    tls: Option<Arc<ClientConfig>>,
}

/// A checked-out connection, owned by one instance.
pub struct Connection {
    endpoint: Endpoint,
    stream: Stream,
    /// Where `stream` goes, for a fresh connection to the same server.
    peer: SocketAddr,
    /// What the guest gets next, before more is read from the stream.
    inbox: Vec<u8>,
    follow: Follow,
    broken: bool,
}

impl Proxy {
    /// Takes the manifest's endpoints. Pools of endpoints that changed are
    /// dropped (their connections close as they come back).
    pub fn configure(&self, endpoints: &[Database], tls: tls::Configs) {
        let mut current = self.endpoints.lock().unwrap();
        if *current != endpoints {
            *current = endpoints.to_vec();
            self.pools.lock().unwrap().clear();
        }
        *self.tls.lock().unwrap() = tls;
    }

    /// The endpoint `request` names, if the manifest lists it.
    async fn endpoint(&self, request: &Request, table: &dns::Table, cache: &dns::Cache) -> Option<Endpoint> {
        let endpoints = self.endpoints.lock().unwrap().clone();
        let tls = self.tls.lock().unwrap().clone();
        let wanted_ip = request.host.parse::<IpAddr>().ok();
        for (index, endpoint) in endpoints.into_iter().enumerate() {
            if endpoint.protocol != request.protocol || endpoint.port != request.port {
                continue;
            }
            if request.database.is_some() && endpoint.database.is_some() && request.database != endpoint.database {
                continue;
            }
            let same_host = dns::normalize(&endpoint.host) == dns::normalize(&request.host)
                || match wanted_ip {
                    Some(ip) => dns::resolve(table, cache, &endpoint.host).await.is_ok_and(|addrs| addrs.contains(&ip)),
                    None => false,
                };
            if same_host {
                let tls = tls.get(index).cloned().flatten();
                return Some(Endpoint { key: Key { index }, database: endpoint, tls });
            }
        }
        None
    }

    /// Whether any endpoint has `request`'s host and port, whatever its
    /// protocol (guests that guess the protocol try several).
    pub async fn lists_address(&self, request: &Request, table: &dns::Table, cache: &dns::Cache) -> bool {
        for protocol in [DbProtocol::Postgres, DbProtocol::Mysql, DbProtocol::Redis] {
            let probe = Request { protocol, database: None, ..request.clone() };
            if self.endpoint(&probe, table, cache).await.is_some() {
                return true;
            }
        }
        false
    }

    pub async fn connect(
        &self,
        request: &Request,
        table: &dns::Table,
        cache: &dns::Cache,
    ) -> Result<Connection, Error> {
        let endpoint = self.endpoint(request, table, cache).await.ok_or(Error::ConnectionRefused)?;
        let key = endpoint.key.clone();
        // Reserve a place, taking the idle connections out to check them.
        let idle = {
            let mut pools = self.pools.lock().unwrap();
            let pool = pools.entry(key.clone()).or_default();
            if pool.checked_out >= endpoint.database.pool_size.max(1) {
                return Err(Error::PoolExhausted);
            }
            pool.checked_out += 1;
            std::mem::take(&mut pool.idle)
        };
        let mut reused = None;
        let mut keep = Vec::new();
        for idle in idle {
            if idle.since.elapsed() >= IDLE_TIMEOUT {
                continue;
            }
            if reused.is_some() {
                keep.push(idle);
            } else if let Some(checked) = checked(idle).await {
                reused = Some(checked);
            }
        }
        self.pools.lock().unwrap().entry(key.clone()).or_default().idle.extend(keep);
        let opened = match reused {
            Some(idle) => {
                Ok(Opened { stream: idle.stream, peer: idle.peer, early: Vec::new(), login: Some(idle.login) })
            }
            None => open(&endpoint, table, cache).await,
        };
        match opened {
            Ok(opened) => Ok(Connection::new(endpoint, opened)),
            Err(e) => {
                self.release(&key);
                Err(e)
            }
        }
    }

    fn release(&self, key: &Key) {
        if let Some(pool) = self.pools.lock().unwrap().get_mut(key) {
            pool.checked_out = pool.checked_out.saturating_sub(1);
        }
    }

    /// Gives `connection` back: to the pool when its session is at rest,
    /// otherwise it is closed.
    pub fn close(&self, connection: Connection) {
        let mut pools = self.pools.lock().unwrap();
        let Some(pool) = pools.get_mut(&connection.endpoint.key) else { return };
        pool.checked_out = pool.checked_out.saturating_sub(1);
        if connection.broken || !connection.inbox.is_empty() {
            return;
        }
        let login = match &connection.follow {
            Follow::Redis { .. } => Some(Login::Redis),
            Follow::Postgres(session) => session.at_rest().map(Login::Postgres),
            Follow::Mysql(session) => session.at_rest().map(Login::Mysql),
        };
        if let Some(login) = login {
            pool.idle.push(Idle { stream: connection.stream, peer: connection.peer, since: Instant::now(), login });
        }
    }
}

/// A connection to a server, ready for the guest's bytes.
struct Opened {
    stream: Stream,
    peer: SocketAddr,
    /// What the server sent while the proxy set up TLS, for the guest
    /// (MySQL's greeting).
    early: Vec<u8>,
    /// How a pooled session logged in.
    login: Option<Login>,
}

impl Connection {
    fn new(endpoint: Endpoint, opened: Opened) -> Connection {
        let mut inbox = Vec::new();
        let tls = endpoint.tls.is_some();
        let follow = match (endpoint.database.protocol, opened.login) {
            (DbProtocol::Redis, _) => Follow::Redis { quit: false },
            (DbProtocol::Postgres, Some(Login::Postgres(login))) => Follow::Postgres(postgres::Session::pooled(login)),
            (DbProtocol::Postgres, _) => Follow::Postgres(postgres::Session::default()),
            (DbProtocol::Mysql, Some(Login::Mysql(login))) => {
                // The guest is greeted as the server greeted the first one.
                inbox.extend_from_slice(&login.greeting);
                Follow::Mysql(mysql::Session::pooled(login))
            }
            (DbProtocol::Mysql, _) => {
                let mut session = mysql::Session::new(tls);
                session.from_server(&opened.early, &mut inbox);
                Follow::Mysql(session)
            }
        };
        Connection { endpoint, stream: opened.stream, peer: opened.peer, inbox, follow, broken: false }
    }

    pub async fn send(&mut self, data: &[u8]) -> Result<u32, Error> {
        let mut to_server = Vec::new();
        match &mut self.follow {
            Follow::Postgres(session) => {
                if let postgres::Step::Fresh(bytes) = session.from_guest(data, &mut to_server, &mut self.inbox) {
                    // The pooled session logged in as someone else.
                    self.stream = reopen(&self.endpoint, self.peer).await?.stream;
                    let mut fresh = postgres::Session::default();
                    fresh.from_guest(&bytes, &mut to_server, &mut self.inbox);
                    *session = fresh;
                }
            }
            Follow::Mysql(session) => match session.from_guest(data, &mut to_server, &mut self.inbox) {
                mysql::Step::Go => {}
                mysql::Step::Fresh(response) => {
                    // The pooled session logged in as someone else: log in
                    // on a fresh connection (its greeting comes first).
                    let opened = reopen(&self.endpoint, self.peer).await?;
                    self.stream = opened.stream;
                    *session = mysql::Session::switching(response, self.endpoint.tls.is_some());
                    session.from_server(&opened.early, &mut self.inbox);
                }
                mysql::Step::StartTls { request, then } => {
                    let host = &self.endpoint.database.host;
                    self.stream.write_all(&request).await.map_err(|_| Error::Closed)?;
                    let config = self.endpoint.tls.clone().ok_or(Error::ProtocolError)?;
                    self.stream.upgrade(config, host).await.map_err(|reason| {
                        self.broken = true;
                        Error::Tls(format!("{host}:{} failed: {reason}", self.peer.port()))
                    })?;
                    to_server.extend(then);
                }
            },
            Follow::Redis { quit } if is_redis_quit(data) => {
                *quit = true;
                self.inbox.extend_from_slice(b"+OK\r\n");
            }
            Follow::Redis { .. } => to_server.extend_from_slice(data),
        }
        match self.stream.write_all(&to_server).await {
            Ok(()) => Ok(data.len() as u32),
            Err(_) => {
                self.broken = true;
                Err(Error::Closed)
            }
        }
    }

    /// Up to `max` bytes, waiting for at least one; empty at end of stream.
    pub async fn recv(&mut self, max: u32) -> Result<Vec<u8>, Error> {
        let max = max.clamp(1, RECV_MAX) as usize;
        loop {
            if !self.inbox.is_empty() {
                let n = max.min(self.inbox.len());
                return Ok(self.inbox.drain(..n).collect());
            }
            let quit = match &self.follow {
                Follow::Redis { quit } => *quit,
                Follow::Mysql(session) => session.quit(),
                Follow::Postgres(_) => false,
            };
            if quit {
                return Ok(Vec::new());
            }
            let mut buf = vec![0; max];
            let n = match tokio::time::timeout(RECV_TIMEOUT, self.stream.read(&mut buf)).await {
                Err(_) => return Err(Error::Timeout),
                Ok(Ok(0)) => {
                    self.broken = true;
                    return Ok(Vec::new());
                }
                Ok(Err(_)) => {
                    self.broken = true;
                    return Err(Error::Closed);
                }
                Ok(Ok(n)) => n,
            };
            buf.truncate(n);
            match &mut self.follow {
                // A MySQL session may hold part of a packet it rewrites.
                Follow::Mysql(session) => session.from_server(&buf, &mut self.inbox),
                Follow::Postgres(session) => {
                    session.from_server(&buf);
                    return Ok(buf);
                }
                Follow::Redis { .. } => return Ok(buf),
            }
        }
    }
}

/// Whether `data` is exactly Redis `QUIT` (inline or as a RESP array).
fn is_redis_quit(data: &[u8]) -> bool {
    [&b"QUIT\r\n"[..], b"*1\r\n$4\r\nQUIT\r\n"].iter().any(|quit| data.eq_ignore_ascii_case(quit))
}

async fn open(endpoint: &Endpoint, table: &dns::Table, cache: &dns::Cache) -> Result<Opened, Error> {
    let addrs = dns::resolve(table, cache, &endpoint.database.host).await.map_err(|_| Error::ConnectionRefused)?;
    let mut last = Error::ConnectionRefused;
    for ip in addrs {
        match reopen(endpoint, SocketAddr::new(ip, endpoint.database.port)).await {
            Ok(opened) => return Ok(opened),
            Err(e @ Error::Tls(_)) => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A fresh connection to `peer`, with TLS when the endpoint asks for it.
async fn reopen(endpoint: &Endpoint, peer: SocketAddr) -> Result<Opened, Error> {
    let mut tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(peer)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(_)) => return Err(Error::ConnectionRefused),
        Err(_) => return Err(Error::Timeout),
    };
    let _ = tcp.set_nodelay(true);
    let Some(config) = endpoint.tls.clone() else {
        return Ok(Opened { stream: Stream::Tcp(tcp), peer, early: Vec::new(), login: None });
    };
    let host = &endpoint.database.host;
    let refused = |what: &str| Error::Tls(format!("{host}:{} {what}", peer.port()));
    // Each protocol starts TLS its own way.
    let early = match endpoint.database.protocol {
        DbProtocol::Redis => Vec::new(),
        DbProtocol::Postgres => {
            let ask = tokio::time::timeout(CHECK_TIMEOUT, async {
                tcp.write_all(&postgres::ssl_request()).await?;
                let mut answer = [0u8; 1];
                tcp.read_exact(&mut answer).await.map(|_| answer[0])
            });
            match ask.await {
                Ok(Ok(b'S')) => Vec::new(),
                Ok(Ok(_)) => return Err(refused("does not accept TLS (the server answered `N` to SSLRequest)")),
                Ok(Err(_)) => return Err(Error::Closed),
                Err(_) => return Err(Error::Timeout),
            }
        }
        DbProtocol::Mysql => {
            // TLS starts once the guest's login says which capabilities to
            // ask for ([`mysql::Step::StartTls`]).
            let greeting = match tokio::time::timeout(CHECK_TIMEOUT, read_mysql_packet(&mut tcp)).await {
                Ok(Some(packet)) => packet,
                Ok(None) => return Err(Error::Closed),
                Err(_) => return Err(Error::Timeout),
            };
            if !mysql::offers_tls(&greeting) {
                return Err(refused("does not offer TLS (no CLIENT_SSL in its greeting)"));
            }
            return Ok(Opened { stream: Stream::Tcp(tcp), peer, early: greeting, login: None });
        }
    };
    let stream = tls::connect(config, host, tcp).await.map_err(|reason| refused(&format!("failed: {reason}")))?;
    Ok(Opened { stream: Stream::Tls(Box::new(stream)), peer, early, login: None })
}

/// One whole MySQL packet (header included), at most 1 MiB.
async fn read_mysql_packet(stream: &mut (impl AsyncRead + Unpin)) -> Option<Vec<u8>> {
    let mut packet = vec![0u8; 4];
    stream.read_exact(&mut packet).await.ok()?;
    let len = u32::from_le_bytes([packet[0], packet[1], packet[2], 0]) as usize;
    if len > 1 << 20 {
        return None;
    }
    packet.resize(4 + len, 0);
    stream.read_exact(&mut packet[4..]).await.ok()?;
    Some(packet)
}

/// How long the checkout check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// A pooled connection that answered its check (which also reset its
/// session), or `None` (it is dropped, closing it).
async fn checked(mut idle: Idle) -> Option<Idle> {
    let stream = &mut idle.stream;
    let login = &idle.login;
    let check = async {
        match login {
            Login::Redis => {
                stream.write_all(b"RESET\r\n").await.ok()?;
                let mut reply = [0u8; 8];
                stream.read_exact(&mut reply).await.ok()?;
                (&reply == b"+RESET\r\n").then_some(())
            }
            Login::Postgres(_) => {
                stream.write_all(&postgres::reset_query()).await.ok()?;
                let mut reply = postgres::ResetReply::default();
                let mut buf = [0u8; 512];
                loop {
                    let n = stream.read(&mut buf).await.ok().filter(|n| *n > 0)?;
                    if let Some(clean) = reply.feed(&buf[..n]) {
                        return clean.then_some(());
                    }
                }
            }
            Login::Mysql(login) => {
                for command in mysql::reset_commands(login) {
                    stream.write_all(&command).await.ok()?;
                    let reply = read_mysql_packet(stream).await?;
                    (reply[3] == 1 && reply.get(4) == Some(&0x00)).then_some(())?;
                }
                Some(())
            }
        }
    };
    matches!(tokio::time::timeout(CHECK_TIMEOUT, check).await, Ok(Some(()))).then_some(idle)
}
