//! What the database proxy follows of a Postgres session (frontend/backend
//! protocol 3.0) in the bytes it passes through, so that a connection can go
//! back to the pool and serve the next guest without a new login.
//!
//! The guest's bytes are cut into whole messages and forwarded unchanged,
//! except that:
//! - `SSLRequest` and `GSSENCRequest` are answered `N` by the proxy (the
//!   link to the server is the proxy's, not the guest's);
//! - `Terminate` is kept from the server: the session goes back to the pool;
//! - on a pooled session, a `StartupMessage` byte for byte equal to the one
//!   that opened it (same user, database, options) is answered with the
//!   greeting the server gave then (`AuthenticationOk`, `ParameterStatus`…,
//!   `BackendKeyData`, `ReadyForQuery`). A different one gets a fresh
//!   connection ([`Step::Fresh`]).
//!
//! The server's bytes go to the guest as they come; the proxy follows their
//! framing to record the greeting and to know when the session is at rest:
//! the last `ReadyForQuery` said idle (`I`), every `Query`, `Sync` and
//! `FunctionCall` has had its `ReadyForQuery`, and no extended-protocol
//! message waits for a `Sync`. Only a session at rest is pooled. Anything
//! the proxy does not follow (a `CancelRequest`, another protocol version,
//! a malformed length, a failed login) makes the session opaque: passed
//! through, never pooled.

use super::framer::{Format, Framer};

const SSL_REQUEST: u32 = 80877103;
const GSSENC_REQUEST: u32 = 80877104;
const PROTOCOL_3: u32 = 196608;
/// Longer startup packets are not Postgres (the server's own limit is 10000).
const MAX_STARTUP: usize = 10_000;

/// How a pooled session was opened: the guest's `StartupMessage` and what
/// the server answered once the login succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub startup: Vec<u8>,
    pub greeting: Vec<u8>,
}

/// What [`Session::from_guest`] asks of the connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Forward what was put in `to_server`, answer what was put in `to_guest`.
    Go,
    /// The guest logs in differently from the pooled session: open a fresh
    /// connection and give these bytes to a fresh [`Session`].
    Fresh(Vec<u8>),
}

#[derive(Debug, Default)]
pub struct Session {
    /// The login of the pooled connection, until the guest's startup.
    pooled: Option<Login>,
    startup: Option<Vec<u8>>,
    greeting: Vec<u8>,
    /// The server has sent its first `ReadyForQuery`.
    greeted: bool,
    /// A guest message not yet whole.
    guest: Vec<u8>,
    server: Framer,
    /// `Query`, `Sync` and `FunctionCall` messages without their
    /// `ReadyForQuery` yet.
    awaiting: u32,
    /// The last `ReadyForQuery`'s transaction status.
    status: u8,
    /// Extended-protocol messages sent since the last `Sync`.
    unsynced: bool,
    opaque: bool,
}

impl Session {
    /// A session on a connection the pool opened with `login`.
    pub fn pooled(login: Login) -> Session {
        Session { pooled: Some(login), ..Session::default() }
    }

    /// Takes the guest's bytes: whole messages to forward go to
    /// `to_server`, the proxy's own answers to `to_guest`.
    pub fn from_guest(&mut self, data: &[u8], to_server: &mut Vec<u8>, to_guest: &mut Vec<u8>) -> Step {
        if self.opaque {
            to_server.extend_from_slice(data);
            return Step::Go;
        }
        self.guest.extend_from_slice(data);
        loop {
            if self.startup.is_none() {
                if self.guest.len() < 8 {
                    return Step::Go;
                }
                let len = be32(&self.guest[..4]) as usize;
                if !(8..=MAX_STARTUP).contains(&len) {
                    return self.give_up(to_server);
                }
                if self.guest.len() < len {
                    return Step::Go;
                }
                let message: Vec<u8> = self.guest.drain(..len).collect();
                match be32(&message[4..8]) {
                    SSL_REQUEST | GSSENC_REQUEST => to_guest.push(b'N'),
                    PROTOCOL_3 => match self.pooled.take() {
                        Some(login) if login.startup == message => {
                            to_guest.extend_from_slice(&login.greeting);
                            self.startup = Some(login.startup);
                            self.greeting = login.greeting;
                            self.greeted = true;
                            self.status = b'I';
                        }
                        Some(_) => {
                            let mut bytes = message;
                            bytes.append(&mut self.guest);
                            return Step::Fresh(bytes);
                        }
                        None => {
                            to_server.extend_from_slice(&message);
                            self.startup = Some(message);
                        }
                    },
                    // A CancelRequest, or a protocol this proxy does not follow.
                    _ => {
                        to_server.extend_from_slice(&message);
                        return self.give_up(to_server);
                    }
                }
                continue;
            }
            if self.guest.len() < 5 {
                return Step::Go;
            }
            let len = be32(&self.guest[1..5]) as usize;
            if len < 4 {
                return self.give_up(to_server);
            }
            if self.guest.len() < 1 + len {
                return Step::Go;
            }
            let message: Vec<u8> = self.guest.drain(..1 + len).collect();
            match message[0] {
                // Terminate: the session outlives this guest's connection.
                b'X' => continue,
                b'Q' | b'F' => self.awaiting += 1,
                b'S' => {
                    self.awaiting += 1;
                    self.unsynced = false;
                }
                // Copy data, done and fail; password and SASL responses.
                b'd' | b'c' | b'f' | b'p' => {}
                _ => self.unsynced = true,
            }
            to_server.extend_from_slice(&message);
        }
    }

    /// Follows the server's bytes (passed to the guest unchanged).
    pub fn from_server(&mut self, data: &[u8]) {
        if self.opaque {
            return;
        }
        let mut rest = data;
        while let Some(message) = self.server.next(Format::Postgres, &mut rest, !self.greeted) {
            if !self.message(message.header[0], &message.body) {
                self.opaque = true;
                return;
            }
        }
        if self.server.broken {
            self.opaque = true;
        }
    }

    /// One whole server message; false when the session cannot be followed.
    fn message(&mut self, kind: u8, body: &[u8]) -> bool {
        if self.greeted {
            if kind == b'Z' {
                self.awaiting = self.awaiting.saturating_sub(1);
                self.status = body.first().copied().unwrap_or(0);
            }
            return true;
        }
        let record = match kind {
            b'R' => body.get(..4) == Some(&[0, 0, 0, 0]),
            b'S' | b'K' => !self.greeting.is_empty(),
            b'Z' => {
                self.greeted = true;
                self.status = body.first().copied().unwrap_or(0);
                !self.greeting.is_empty()
            }
            // The login failed: the server closes the connection.
            b'E' => return false,
            _ => false,
        };
        if record {
            self.greeting.extend(message(kind, body));
        }
        true
    }

    fn give_up(&mut self, to_server: &mut Vec<u8>) -> Step {
        self.opaque = true;
        to_server.append(&mut self.guest);
        Step::Go
    }

    /// The login to pool this session under, when it is at rest.
    pub fn at_rest(&self) -> Option<Login> {
        let rest = !self.opaque
            && self.greeted
            && self.guest.is_empty()
            && self.server.at_boundary()
            && self.awaiting == 0
            && !self.unsynced
            && self.status == b'I';
        let startup = self.startup.clone().filter(|_| rest)?;
        Some(Login { startup, greeting: self.greeting.clone() })
    }
}

fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes(bytes[..4].try_into().unwrap())
}

/// A typed message: `kind`, then the length (itself included), then `body`.
pub fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![kind];
    bytes.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// The `SSLRequest` a TLS connection starts with (the server answers `S`).
pub fn ssl_request() -> Vec<u8> {
    [8u32.to_be_bytes(), SSL_REQUEST.to_be_bytes()].concat()
}

/// `DISCARD ALL` as a simple query: what a pooled session runs before it is
/// handed out again (it resets settings, prepared statements, temporary
/// tables and advisory locks, and fails if the server is gone).
pub fn reset_query() -> Vec<u8> {
    message(b'Q', b"DISCARD ALL\0")
}

/// Follows the server's answer to [`reset_query`]: `Some(true)` once it
/// ended idle without an error, `Some(false)` on an error, `None` while
/// more is to come.
#[derive(Debug, Default)]
pub struct ResetReply {
    framer: Framer,
    failed: bool,
}

impl ResetReply {
    pub fn feed(&mut self, data: &[u8]) -> Option<bool> {
        let mut rest = data;
        while let Some(message) = self.framer.next(Format::Postgres, &mut rest, false) {
            match message.header[0] {
                b'E' => self.failed = true,
                b'Z' => return Some(!self.failed && message.body == b"I" && rest.is_empty()),
                _ => {}
            }
        }
        self.framer.broken.then_some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn startup(user: &str) -> Vec<u8> {
        let mut body = PROTOCOL_3.to_be_bytes().to_vec();
        body.extend_from_slice(format!("user\0{user}\0database\0app\0\0").as_bytes());
        let mut bytes = (body.len() as u32 + 4).to_be_bytes().to_vec();
        bytes.extend(body);
        bytes
    }

    fn greeting() -> Vec<u8> {
        [
            message(b'R', &[0, 0, 0, 0]),
            message(b'S', b"server_version\x0017\0"),
            message(b'K', &[0, 0, 0, 42, 1, 2, 3, 4]),
            message(b'Z', b"I"),
        ]
        .concat()
    }

    /// A fresh session: the guest logs in (with a password) and runs a query.
    fn logged_in() -> Session {
        let mut session = Session::default();
        let (mut to_server, mut to_guest) = (Vec::new(), Vec::new());
        let ssl = [0, 0, 0, 8, 4, 210, 22, 47];
        assert_eq!(session.from_guest(&ssl, &mut to_server, &mut to_guest), Step::Go);
        assert_eq!((to_server.as_slice(), to_guest.as_slice()), (&[][..], &b"N"[..]));
        // The startup arrives in two pieces.
        let login = startup("app");
        session.from_guest(&login[..5], &mut to_server, &mut to_guest);
        assert!(to_server.is_empty());
        session.from_guest(&login[5..], &mut to_server, &mut to_guest);
        assert_eq!(to_server, login);
        session.from_server(&message(b'R', &[0, 0, 0, 3]));
        session.from_guest(&message(b'p', b"secret\0"), &mut to_server, &mut to_guest);
        // The greeting arrives split in the middle of a message.
        let greeting = greeting();
        session.from_server(&greeting[..12]);
        session.from_server(&greeting[12..]);
        assert_eq!(session.greeting, greeting);
        session
    }

    #[test]
    fn an_idle_session_is_pooled_with_its_login() {
        let mut session = logged_in();
        let (mut to_server, mut to_guest) = (Vec::new(), Vec::new());
        session.from_guest(&message(b'Q', b"SELECT 1\0"), &mut to_server, &mut to_guest);
        assert!(session.at_rest().is_none(), "a query is in flight");
        session.from_server(&[message(b'T', &[0; 20]), message(b'D', &[0; 9]), message(b'C', b"SELECT 1\0")].concat());
        assert!(session.at_rest().is_none());
        session.from_server(&message(b'Z', b"I"));
        to_server.clear();
        session.from_guest(&message(b'X', b""), &mut to_server, &mut to_guest);
        assert!(to_server.is_empty(), "Terminate is kept from the server");
        assert_eq!(session.at_rest(), Some(Login { startup: startup("app"), greeting: greeting() }));
    }

    #[test]
    fn busy_sessions_are_not_pooled() {
        // Inside a transaction.
        let mut session = logged_in();
        let (mut to_server, mut to_guest) = (Vec::new(), Vec::new());
        session.from_guest(&message(b'Q', b"BEGIN\0"), &mut to_server, &mut to_guest);
        session.from_server(&[message(b'C', b"BEGIN\0"), message(b'Z', b"T")].concat());
        assert!(session.at_rest().is_none());
        // Extended protocol without its Sync.
        let mut session = logged_in();
        session.from_guest(&message(b'P', b"\0SELECT 1\0\0\0"), &mut to_server, &mut to_guest);
        assert!(session.at_rest().is_none());
        session.from_guest(&message(b'S', b""), &mut to_server, &mut to_guest);
        session.from_server(&[message(b'1', b""), message(b'Z', b"I")].concat());
        assert!(session.at_rest().is_some());
        // Half a server message.
        session.from_server(&message(b'N', b"notice")[..3]);
        assert!(session.at_rest().is_none());
        // A failed login.
        let mut session = Session::default();
        session.from_guest(&startup("app"), &mut to_server, &mut to_guest);
        session.from_server(&message(b'E', b"SFATAL\0"));
        assert!(session.at_rest().is_none());
    }

    #[test]
    fn a_pooled_session_answers_the_same_login_itself() {
        let mut session = Session::pooled(Login { startup: startup("app"), greeting: greeting() });
        let (mut to_server, mut to_guest) = (Vec::new(), Vec::new());
        assert_eq!(session.from_guest(&startup("app"), &mut to_server, &mut to_guest), Step::Go);
        assert!(to_server.is_empty());
        assert_eq!(to_guest, greeting());
        assert!(session.at_rest().is_some());

        let mut session = Session::pooled(Login { startup: startup("app"), greeting: greeting() });
        assert_eq!(session.from_guest(&startup("admin"), &mut to_server, &mut to_guest), Step::Fresh(startup("admin")));
    }

    #[test]
    fn what_the_proxy_does_not_follow_passes_through() {
        let mut session = Session::default();
        let (mut to_server, mut to_guest) = (Vec::new(), Vec::new());
        let cancel = [0, 0, 0, 16, 4, 210, 22, 46, 0, 0, 0, 42, 1, 2, 3, 4];
        session.from_guest(&cancel, &mut to_server, &mut to_guest);
        session.from_guest(b"anything", &mut to_server, &mut to_guest);
        assert_eq!(to_server, [&cancel[..], b"anything"].concat());
        assert!(session.at_rest().is_none());
    }

    #[test]
    fn the_reset_reply_must_end_idle_without_error() {
        let ok = [message(b'C', b"DISCARD ALL\0"), message(b'Z', b"I")].concat();
        let mut reply = ResetReply::default();
        assert_eq!(reply.feed(&ok[..4]), None);
        assert_eq!(reply.feed(&ok[4..]), Some(true));
        let failed = [message(b'E', b"SERROR\0"), message(b'Z', b"I")].concat();
        assert_eq!(ResetReply::default().feed(&failed), Some(false));
        // Leftovers of an earlier answer: not a clean session.
        let leftover = [message(b'Z', b"I"), message(b'C', b"DISCARD ALL\0"), message(b'Z', b"I")].concat();
        assert_eq!(ResetReply::default().feed(&leftover), Some(false));
    }
}
