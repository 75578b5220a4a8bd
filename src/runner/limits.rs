//! The serving limits of a manifest with their defaults (`ConnLimits`),
//! resolved once per generation and read by the connection layer
//! (`conn.rs`) and the request path (`http.rs`) alike.

use std::time::Duration;

use crate::manifest::Manifest;

/// How long a client may take to send a request head unless
/// `limits.header_timeout` says otherwise (hyper's default).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a keep-alive connection may wait for its next request unless
/// `limits.idle_timeout` says otherwise (nginx's `keepalive_timeout`).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);

/// How long a stop waits for requests in flight unless
/// `limits.drain_timeout` says otherwise.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Open client connections unless `limits.connections` says otherwise (and
/// fewer when the open-file limit is lower: see [`ConnLimits::of`]).
pub const DEFAULT_CONNECTIONS: u32 = 1024;

/// File descriptors left for everything but client connections (listener,
/// cache and component files, database connections, stdio) when the
/// default connection cap is fitted under the open-file limit.
const RESERVED_FDS: u64 = 64;

/// How long a request body may stall unless `limits.body_timeout` says
/// otherwise (counted only while the guest waits for it).
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The serving limits a manifest sets, with their defaults: resolved once per
/// generation (`http::Generation::limits`), read by the connection layer
/// and the request path alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    pub header: Duration,
    pub idle: Duration,
    pub drain: Duration,
    /// The request deadline: a request in flight may move no bytes for it
    /// plus the idle timeout.
    pub request: Duration,
    /// How long a request body may stall while the guest waits for it.
    pub body: Duration,
    pub connections: u32,
}

impl ConnLimits {
    pub fn of(manifest: &Manifest) -> ConnLimits {
        let limits = &manifest.limits;
        let or =
            |value: &Option<crate::project::HumanDuration>, default| value.as_ref().map_or(default, |t| t.duration);
        ConnLimits {
            header: or(&limits.header_timeout, DEFAULT_HEADER_TIMEOUT),
            idle: or(&limits.idle_timeout, DEFAULT_IDLE_TIMEOUT),
            drain: or(&limits.drain_timeout, DEFAULT_DRAIN_TIMEOUT),
            request: or(&limits.request_timeout, super::DEFAULT_REQUEST_TIMEOUT),
            body: or(&limits.body_timeout, DEFAULT_BODY_TIMEOUT),
            connections: limits.connections.unwrap_or_else(default_connections),
        }
    }
}

/// [`DEFAULT_CONNECTIONS`], or fewer when the process's open-file limit
/// would run out first (each connection is a file descriptor).
fn default_connections() -> u32 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes only the struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur
    } else {
        libc::RLIM_INFINITY
    };
    // A small limit keeps a quarter for the rest, not all of it.
    let fitted = soft.saturating_sub(RESERVED_FDS.min(soft / 4)).max(1);
    DEFAULT_CONNECTIONS.min(u32::try_from(fitted).unwrap_or(u32::MAX))
}
