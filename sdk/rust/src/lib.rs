//! The WarpGrid shims for Rust guests.
//!
//! A component that uses a module here imports the matching
//! `warpgrid:shim@0.1.0` interface, so its `warp.toml` must enable that shim
//! (`warp pack` says which one when it is missing):
//!
//! | module        | `warp.toml`                         |
//! |---------------|-------------------------------------|
//! | [`fs`]        | `[shims] filesystem = true`         |
//! | [`dns`]       | `[shims.dns]` (registry, ttl, hosts) |
//! | [`signals`]   | `[shims] signals = true`            |
//! | [`threading`] | `[shims] threading = "..."`         |
//!
//! ```no_run
//! let addrs = warpgrid::dns::resolve("db.production.warp.local")?;
//! let resolv = warpgrid::fs::read_to_string("/etc/resolv.conf")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[allow(clippy::all, unused)]
#[rustfmt::skip]
mod bindings;

use bindings::warpgrid::shim as wit;

/// Files: the host's virtual files first, then the real (preopened) ones.
pub mod fs {
    use std::io;
    use std::path::Path;

    use super::wit::filesystem;

    /// Reads a whole file. A virtual path (`/etc/resolv.conf`, `/etc/hosts`,
    /// `/dev/urandom`, `/proc/self/*`, `/usr/share/zoneinfo/**`, ...) is
    /// answered by the host; any other goes to [`std::fs::read`].
    pub fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
        let path = path.as_ref();
        if let Some(contents) = path.to_str().and_then(filesystem::read_virtual) {
            return Ok(contents);
        }
        std::fs::read(path)
    }

    /// Like [`read`], as UTF-8.
    pub fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
        String::from_utf8(read(path)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Whether the host answers for `path`.
    pub fn is_virtual(path: impl AsRef<Path>) -> bool {
        path.as_ref().to_str().is_some_and(filesystem::is_virtual)
    }

    /// Every virtual path, sorted.
    pub fn virtual_paths() -> Vec<String> {
        filesystem::list_virtual_paths()
    }
}

/// Name resolution: the deployment's registry (`<name>.<namespace>.warp.local`),
/// then `/etc/hosts` entries, then the host's resolver.
pub mod dns {
    use std::fmt;
    use std::io;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

    use super::wit::dns;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Error {
        NotFound,
        Timeout,
        Internal,
    }

    impl fmt::Display for Error {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                Error::NotFound => "name not found",
                Error::Timeout => "name lookup timed out",
                Error::Internal => "name lookup failed in the host",
            })
        }
    }

    impl std::error::Error for Error {}

    impl From<Error> for io::Error {
        fn from(e: Error) -> io::Error {
            let kind = match e {
                Error::NotFound => io::ErrorKind::NotFound,
                Error::Timeout => io::ErrorKind::TimedOut,
                Error::Internal => io::ErrorKind::Other,
            };
            io::Error::new(kind, e)
        }
    }

    /// The addresses for `host`. Successive calls rotate the list
    /// (round-robin); answers are cached by the host for the deployment's TTL.
    pub fn resolve(host: &str) -> Result<Vec<IpAddr>, Error> {
        match dns::resolve(host) {
            Ok(addrs) => Ok(addrs.into_iter().filter_map(ip).collect()),
            Err(dns::DnsError::NotFound) => Err(Error::NotFound),
            Err(dns::DnsError::Timeout) => Err(Error::Timeout),
            Err(dns::DnsError::Internal) => Err(Error::Internal),
        }
    }

    /// [`resolve`] with a port: what to hand to a connect call.
    pub fn lookup(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok(resolve(host)?.into_iter().map(|ip| SocketAddr::new(ip, port)).collect())
    }

    fn ip(addr: dns::IpAddress) -> Option<IpAddr> {
        if addr.is_v6 {
            let octets: [u8; 16] = addr.octets.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(octets)))
        } else {
            let octets: [u8; 4] = addr.octets.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(octets)))
        }
    }
}

/// Lifecycle signals from the host: `warp run` maps SIGTERM to
/// [`Signal::Terminate`], SIGHUP (after reloading its manifest) to
/// [`Signal::Hangup`] and Ctrl-C to [`Signal::Interrupt`].
pub mod signals {
    use super::wit::signals::{self, SignalType};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Signal {
        Terminate,
        Hangup,
        Interrupt,
    }

    /// Asks the host to queue `signal` (at most 16 are held; the oldest is
    /// dropped first). Returns whether this registered it for the first time.
    pub fn subscribe(signal: Signal) -> bool {
        signals::on_signal(match signal {
            Signal::Terminate => SignalType::Terminate,
            Signal::Hangup => SignalType::Hangup,
            Signal::Interrupt => SignalType::Interrupt,
        })
    }

    /// The oldest queued signal, if any.
    pub fn poll() -> Option<Signal> {
        signals::poll_signal().map(|signal| match signal {
            SignalType::Terminate => Signal::Terminate,
            SignalType::Hangup => Signal::Hangup,
            SignalType::Interrupt => Signal::Interrupt,
        })
    }

    /// Every queued signal, oldest first.
    pub fn pending() -> impl Iterator<Item = Signal> {
        std::iter::from_fn(poll)
    }
}

/// Tells the host how this guest expects to be scheduled.
pub mod threading {
    use super::wit::threading::{self, ThreadingModel};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Model {
        /// The default: one request at a time per instance.
        SingleThreaded,
        /// Requests must not overlap: the host runs them one after another.
        Cooperative,
        /// Needs real threads, which components do not have: the host warns
        /// and flags the deployment as degraded.
        ParallelRequired,
    }

    pub fn declare(model: Model) {
        threading::declare_threading_model(match model {
            Model::SingleThreaded => ThreadingModel::SingleThreaded,
            Model::Cooperative => ThreadingModel::Cooperative,
            Model::ParallelRequired => ThreadingModel::ParallelRequired,
        })
    }
}
