//! What the database proxy follows of a MySQL/MariaDB session (client/server
//! protocol 4.1) in the bytes it passes through, so that a connection can go
//! back to the pool and serve the next guest without a new login.
//!
//! On a fresh connection the server's greeting goes to the guest with
//! `CLIENT_SSL` cleared (the link to the server is the proxy's), and the
//! login passes through; the proxy records the greeting, the guest's
//! `HandshakeResponse` and the server's final `OK`.
//!
//! A pooled connection greets the next guest with the recorded greeting. A
//! `HandshakeResponse` byte for byte equal to the recorded one (same user,
//! password, since the scramble is the same; database, capabilities and
//! attributes) is answered with the recorded `OK`. A different one is
//! logged in on a fresh connection: the proxy asks the guest to
//! authenticate again against the fresh server's scramble (an
//! `AuthSwitchRequest`) and sends the server the guest's response with that
//! answer in it ([`Step::Fresh`], [`Session::switching`]).
//!
//! In the command phase the proxy follows each command's reply (OK, ERR,
//! result sets, prepared-statement replies; more results) so that it knows
//! when nothing is in flight, and keeps `COM_QUIT` from the server. A
//! command it does not follow (binlog, `LOAD DATA LOCAL`, `COM_CHANGE_USER`…)
//! makes the session opaque: passed through, never pooled.

use std::collections::VecDeque;

use super::framer::{self, Format, Framer};

const CLIENT_CONNECT_WITH_DB: u32 = 0x8;
const CLIENT_SSL: u32 = 0x800;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_PLUGIN_AUTH: u32 = 0x8_0000;
const CLIENT_PLUGIN_AUTH_LENENC: u32 = 0x20_0000;
const CLIENT_DEPRECATE_EOF: u32 = 0x100_0000;
const SERVER_MORE_RESULTS_EXISTS: u16 = 0x8;
/// A payload this long continues in the next packet.
const MAX_PAYLOAD: usize = 0xFF_FFFF;

const COM_QUIT: u8 = 0x01;
const COM_INIT_DB: u8 = 0x02;
const COM_QUERY: u8 = 0x03;
const COM_PING: u8 = 0x0e;
const COM_STMT_PREPARE: u8 = 0x16;
const COM_STMT_EXECUTE: u8 = 0x17;
const COM_STMT_SEND_LONG_DATA: u8 = 0x18;
const COM_STMT_CLOSE: u8 = 0x19;
const COM_STMT_RESET: u8 = 0x1a;
const COM_STMT_FETCH: u8 = 0x1c;
const COM_RESET_CONNECTION: u8 = 0x1f;

/// How a pooled session logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The greeting packet as the guest received it.
    pub greeting: Vec<u8>,
    /// The guest's `HandshakeResponse` payload.
    pub response: Vec<u8>,
    /// The server's final `OK` payload.
    pub ok: Vec<u8>,
}

impl Login {
    /// The database the login named, which the checkout check selects again.
    pub fn database(&self) -> Option<Vec<u8>> {
        Response::parse(&self.response)?.database.map(<[u8]>::to_vec)
    }
}

/// What [`Session::from_guest`] asks of the connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Go,
    /// The guest logs in differently from the pooled session: open a fresh
    /// connection and give it [`Session::switching`] with this response.
    Fresh(Vec<u8>),
    /// Send `request` (an `SSLRequest` with the guest's capabilities), start
    /// TLS, then send `then` (the guest's login) over it.
    StartTls {
        request: Vec<u8>,
        then: Vec<u8>,
    },
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The server's greeting is due.
    #[default]
    Greeting,
    /// The guest's `HandshakeResponse` is due.
    Response,
    /// The guest's answer to the proxy's `AuthSwitchRequest` is due.
    Switching,
    /// Authentication packets until the server's `OK`.
    Auth,
    Command,
}

/// What the server's next packets are, in a command's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// OK, ERR, or the start of a result set.
    First,
    /// The reply to `COM_STMT_PREPARE`.
    Prepared,
    /// This many definitions.
    Packets(u32),
    /// An EOF packet (without `CLIENT_DEPRECATE_EOF`).
    Eof,
    /// Rows until EOF (or OK) or ERR.
    Rows,
}

#[derive(Debug, Default)]
pub struct Session {
    phase: Phase,
    /// The login of the pooled connection, until the guest's response.
    pooled: Option<Login>,
    /// The guest's response a switching session logs in with.
    switch_response: Option<Vec<u8>>,
    /// The fresh server's auth plugin, for the rewritten response.
    switch_plugin: Vec<u8>,
    /// Added to the server's sequence ids on the way to the guest while
    /// authenticating, taken from the guest's on the way to the server:
    /// 2 after the proxy's `AuthSwitchRequest`, one less over TLS (the
    /// proxy's `SSLRequest` took a sequence id).
    shift: u8,
    /// The proxy speaks TLS to the server.
    tls: bool,
    greeting: Vec<u8>,
    response: Vec<u8>,
    ok: Vec<u8>,
    capabilities: u32,
    guest: Vec<u8>,
    guest_continues: bool,
    server: Framer,
    server_continues: bool,
    expect: VecDeque<Expect>,
    /// The guest changed the default database.
    changed_database: bool,
    quit: bool,
    opaque: bool,
}

impl Session {
    /// A session on a connection the pool opened with `login`; the guest is
    /// greeted with the recorded greeting (returned by [`Session::greeting`]).
    pub fn pooled(login: Login) -> Session {
        Session { phase: Phase::Response, pooled: Some(login), ..Session::default() }
    }

    /// A session on a fresh connection; over TLS the proxy has already
    /// sent its `SSLRequest` ([`ssl_request`]).
    pub fn new(tls: bool) -> Session {
        Session { tls, shift: if tls { 0xFF } else { 0 }, ..Session::default() }
    }

    /// A fresh connection for a guest that already sent `response` to a
    /// pooled session's greeting.
    pub fn switching(response: Vec<u8>, tls: bool) -> Session {
        Session { switch_response: Some(response), ..Session::new(tls) }
    }

    /// Sends the guest's login (guest sequence id `seq`) to the server;
    /// over TLS, after an `SSLRequest` with the same capabilities and the
    /// handshake, which the connection runs ([`Step::StartTls`]).
    fn send_response(&self, seq: u8, mut payload: Vec<u8>, to_server: &mut Vec<u8>) -> Option<Step> {
        let seq = seq.wrapping_sub(self.shift);
        if !self.tls {
            to_server.extend(packet(seq, &payload));
            return None;
        }
        payload[1] |= (CLIENT_SSL >> 8) as u8;
        let request = packet(seq.wrapping_sub(1), &payload[..32]);
        Some(Step::StartTls { request, then: packet(seq, &payload) })
    }

    /// The greeting a pooled session gives the guest first.
    pub fn greeting(&self) -> Option<&[u8]> {
        self.pooled.as_ref().map(|login| login.greeting.as_slice())
    }

    /// The guest sent `COM_QUIT` (kept from the server).
    pub fn quit(&self) -> bool {
        self.quit
    }

    pub fn from_guest(&mut self, data: &[u8], to_server: &mut Vec<u8>, to_guest: &mut Vec<u8>) -> Step {
        if self.opaque {
            to_server.extend_from_slice(data);
            return Step::Go;
        }
        self.guest.extend_from_slice(data);
        while let Some((seq, payload)) = take_packet(&mut self.guest) {
            let continues = std::mem::replace(&mut self.guest_continues, payload.len() == MAX_PAYLOAD);
            match self.phase {
                Phase::Response => match self.pooled.take() {
                    Some(login) if login.response == payload => {
                        to_guest.extend(packet(seq + 1, &login.ok));
                        self.capabilities = Response::parse(&login.response).map_or(0, |r| r.capabilities);
                        (self.greeting, self.response, self.ok) = (login.greeting, login.response, login.ok);
                        self.phase = Phase::Command;
                    }
                    Some(_) => {
                        // The guest waits for the answer: nothing follows.
                        self.guest.clear();
                        return Step::Fresh(payload);
                    }
                    None => {
                        let Some(response) = Response::parse(&payload).filter(|r| r.capabilities & CLIENT_SSL == 0)
                        else {
                            to_server.extend(packet(seq, &payload));
                            return self.give_up(to_server);
                        };
                        self.capabilities = response.capabilities;
                        self.response = payload.clone();
                        self.phase = Phase::Auth;
                        if let Some(step) = self.send_response(seq, payload, to_server) {
                            return step;
                        }
                    }
                },
                Phase::Switching => {
                    let original = self.switch_response.take().unwrap_or_default();
                    let Some(rewritten) =
                        Response::parse(&original).map(|r| r.with_auth(&payload, &self.switch_plugin))
                    else {
                        return self.give_up(to_server);
                    };
                    self.capabilities = Response::parse(&rewritten).map_or(0, |r| r.capabilities);
                    self.response = rewritten.clone();
                    self.phase = Phase::Auth;
                    if let Some(step) = self.send_response(seq, rewritten, to_server) {
                        return step;
                    }
                }
                Phase::Auth => to_server.extend(packet(seq.wrapping_sub(self.shift), &payload)),
                // The guest speaks before the server's greeting: not MySQL.
                Phase::Greeting => {
                    to_server.extend(packet(seq, &payload));
                    return self.give_up(to_server);
                }
                Phase::Command if continues => to_server.extend(packet(seq, &payload)),
                Phase::Command => {
                    let command = payload.first().copied().unwrap_or(0);
                    if seq != 0 || !self.expect.is_empty() && command != COM_QUIT {
                        to_server.extend(packet(seq, &payload));
                        return self.give_up(to_server);
                    }
                    match command {
                        COM_QUIT => {
                            self.quit = true;
                            continue;
                        }
                        COM_QUERY => {
                            let sql = String::from_utf8_lossy(&payload[1..payload.len().min(16)]).to_ascii_lowercase();
                            if sql.trim_start().starts_with("use") {
                                self.changed_database = true;
                            }
                            self.expect.push_back(Expect::First);
                        }
                        COM_INIT_DB => {
                            self.changed_database = true;
                            self.expect.push_back(Expect::First);
                        }
                        COM_PING | COM_STMT_EXECUTE | COM_STMT_RESET | COM_RESET_CONNECTION => {
                            self.expect.push_back(Expect::First)
                        }
                        COM_STMT_PREPARE => self.expect.push_back(Expect::Prepared),
                        COM_STMT_FETCH => self.expect.push_back(Expect::Rows),
                        COM_STMT_CLOSE | COM_STMT_SEND_LONG_DATA => {}
                        _ => {
                            to_server.extend(packet(seq, &payload));
                            return self.give_up(to_server);
                        }
                    }
                    to_server.extend(packet(seq, &payload));
                }
            }
        }
        Step::Go
    }

    /// Takes the server's bytes; what the guest gets goes to `to_guest`.
    pub fn from_server(&mut self, data: &[u8], to_guest: &mut Vec<u8>) {
        if self.opaque {
            to_guest.extend_from_slice(data);
            return;
        }
        let mut rest = data;
        while self.phase != Phase::Command {
            let Some(framer::Message { header, len, body: payload }) = self.server.next(Format::Mysql, &mut rest, true)
            else {
                if self.server.broken {
                    self.opaque = true;
                }
                return;
            };
            let seq = header[3];
            if len == MAX_PAYLOAD {
                // A greeting or auth packet this long is not one.
                to_guest.extend(packet(seq, &payload));
                self.opaque = true;
                to_guest.extend_from_slice(rest);
                return;
            }
            match self.phase {
                Phase::Greeting => match Greeting::parse(&payload) {
                    Some(greeting) if self.switch_response.is_some() => {
                        to_guest.extend(packet(2, &greeting.switch_request()));
                        // What the next guest on this connection is greeted with.
                        self.greeting = packet(seq, &greeting.without_ssl());
                        self.switch_plugin = greeting.plugin.to_vec();
                        self.shift = self.shift.wrapping_add(2);
                        self.phase = Phase::Switching;
                    }
                    Some(greeting) => {
                        let greeting = packet(seq, &greeting.without_ssl());
                        to_guest.extend_from_slice(&greeting);
                        self.greeting = greeting;
                        self.phase = Phase::Response;
                    }
                    None => {
                        to_guest.extend(packet(seq, &payload));
                        self.opaque = true;
                    }
                },
                Phase::Auth => {
                    to_guest.extend(packet(seq.wrapping_add(self.shift), &payload));
                    match payload.first() {
                        Some(0x00) => {
                            self.ok = payload;
                            self.phase = Phase::Command;
                        }
                        Some(0xFF) | None => self.opaque = true,
                        _ => {}
                    }
                }
                // The server speaks out of turn.
                Phase::Response | Phase::Switching | Phase::Command => {
                    to_guest.extend(packet(seq, &payload));
                    self.opaque = true;
                }
            }
            if self.opaque {
                to_guest.extend_from_slice(rest);
                return;
            }
        }
        to_guest.extend_from_slice(rest);
        while let Some(framer::Message { len, body: prefix, .. }) = self.server.next(Format::Mysql, &mut rest, false) {
            let continues = std::mem::replace(&mut self.server_continues, len == MAX_PAYLOAD);
            if !continues && !self.reply(&prefix, len) {
                self.opaque = true;
                return;
            }
        }
        if self.server.broken {
            self.opaque = true;
        }
    }

    /// One packet of a command's reply (`prefix`: the payload's start);
    /// false when it is not what the reply should hold.
    fn reply(&mut self, prefix: &[u8], len: usize) -> bool {
        let deprecate_eof = self.capabilities & CLIENT_DEPRECATE_EOF != 0;
        let header = prefix.first().copied();
        match self.expect.pop_front() {
            None => false,
            Some(Expect::First) => match header {
                Some(0x00) => {
                    if ok_status(prefix).is_some_and(|s| s & SERVER_MORE_RESULTS_EXISTS != 0) {
                        self.expect.push_front(Expect::First);
                    }
                    true
                }
                Some(0xFF) => true,
                // LOCAL INFILE requests and anything else unexpected.
                Some(0xFB | 0xFE) | None => false,
                Some(_) => {
                    let Some((columns, _)) = lenenc(prefix) else { return false };
                    self.expect.push_front(Expect::Rows);
                    if !deprecate_eof {
                        self.expect.push_front(Expect::Eof);
                    }
                    if columns > 0 {
                        self.expect.push_front(Expect::Packets(columns as u32));
                    }
                    true
                }
            },
            Some(Expect::Prepared) => match header {
                Some(0xFF) => true,
                Some(0x00) if prefix.len() >= 9 => {
                    let columns = u16::from_le_bytes([prefix[5], prefix[6]]);
                    let params = u16::from_le_bytes([prefix[7], prefix[8]]);
                    for count in [columns, params] {
                        if count > 0 {
                            if !deprecate_eof {
                                self.expect.push_front(Expect::Eof);
                            }
                            self.expect.push_front(Expect::Packets(count.into()));
                        }
                    }
                    true
                }
                _ => false,
            },
            Some(Expect::Packets(n)) => {
                if n > 1 {
                    self.expect.push_front(Expect::Packets(n - 1));
                }
                true
            }
            Some(Expect::Eof) => header == Some(0xFE),
            Some(Expect::Rows) => match header {
                Some(0xFF) => true,
                Some(0xFE) if len < MAX_PAYLOAD => {
                    let status = if deprecate_eof {
                        ok_status(prefix)
                    } else {
                        prefix.get(3..5).map(|s| u16::from_le_bytes([s[0], s[1]]))
                    };
                    if status.is_some_and(|s| s & SERVER_MORE_RESULTS_EXISTS != 0) {
                        self.expect.push_front(Expect::First);
                    }
                    true
                }
                _ => {
                    self.expect.push_front(Expect::Rows);
                    true
                }
            },
        }
    }

    fn give_up(&mut self, to_server: &mut Vec<u8>) -> Step {
        self.opaque = true;
        to_server.append(&mut self.guest);
        Step::Go
    }

    /// The login to pool this session under, when it is at rest.
    pub fn at_rest(&self) -> Option<Login> {
        let login = Login { greeting: self.greeting.clone(), response: self.response.clone(), ok: self.ok.clone() };
        let database_kept = !self.changed_database || login.database().is_some();
        let rest = !self.opaque
            && self.phase == Phase::Command
            && self.expect.is_empty()
            && self.guest.is_empty()
            && !self.guest_continues
            && self.server.at_boundary()
            && database_kept;
        rest.then_some(login)
    }
}

/// The commands a pooled session is reset with before it is handed out:
/// `COM_RESET_CONNECTION` (session variables, user variables, temporary
/// tables, prepared statements, transactions), then `COM_INIT_DB` with the
/// login's database. Each must be answered OK.
pub fn reset_commands(login: &Login) -> Vec<Vec<u8>> {
    let mut commands = vec![packet(0, &[COM_RESET_CONNECTION])];
    if let Some(database) = login.database() {
        commands.push(packet(0, &[&[COM_INIT_DB][..], &database].concat()));
    }
    commands
}

/// Whether a server's greeting (a whole packet) offers TLS.
pub fn offers_tls(greeting: &[u8]) -> bool {
    let Some(greeting) = greeting.get(4..).and_then(Greeting::parse) else { return false };
    let at = greeting.capabilities_at;
    greeting.payload.get(at + 1).is_some_and(|byte| byte & (CLIENT_SSL >> 8) as u8 != 0)
}

/// A packet: 3-byte length, sequence id, payload.
pub fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut bytes = len.to_le_bytes()[..3].to_vec();
    bytes.push(seq);
    bytes.extend_from_slice(payload);
    bytes
}

/// A whole packet from the front of `buf`.
fn take_packet(buf: &mut Vec<u8>) -> Option<(u8, Vec<u8>)> {
    let len = u32::from_le_bytes([*buf.first()?, *buf.get(1)?, *buf.get(2)?, 0]) as usize;
    let seq = *buf.get(3)?;
    if buf.len() < 4 + len {
        return None;
    }
    let payload = buf[4..4 + len].to_vec();
    buf.drain(..4 + len);
    Some((seq, payload))
}

/// A length-encoded integer and the bytes after it.
fn lenenc(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let (&first, rest) = bytes.split_first()?;
    let width = match first {
        0..=0xFA => return Some((first.into(), rest)),
        0xFC => 2,
        0xFD => 3,
        0xFE => 8,
        _ => return None,
    };
    let digits = rest.get(..width)?;
    let mut value = [0u8; 8];
    value[..width].copy_from_slice(digits);
    Some((u64::from_le_bytes(value), &rest[width..]))
}

/// The status flags of an OK packet (header, affected rows, last insert id,
/// status).
fn ok_status(payload: &[u8]) -> Option<u16> {
    let (_, rest) = lenenc(payload.get(1..)?)?;
    let (_, rest) = lenenc(rest)?;
    Some(u16::from_le_bytes([*rest.first()?, *rest.get(1)?]))
}

fn nul_terminated(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = bytes.iter().position(|&b| b == 0)?;
    Some((&bytes[..end], &bytes[end + 1..]))
}

/// The parts of a `HandshakeV10` greeting the proxy uses.
struct Greeting<'a> {
    payload: &'a [u8],
    /// Where the lower capability flags are.
    capabilities_at: usize,
    scramble: Vec<u8>,
    plugin: &'a [u8],
}

impl<'a> Greeting<'a> {
    fn parse(payload: &'a [u8]) -> Option<Greeting<'a>> {
        if payload.first() != Some(&10) {
            return None;
        }
        let (version, _) = nul_terminated(&payload[1..])?;
        let part1_at = 1 + version.len() + 1 + 4;
        let capabilities_at = part1_at + 8 + 1;
        let mut scramble = payload.get(part1_at..part1_at + 8)?.to_vec();
        let mut plugin: &[u8] = b"mysql_native_password";
        // Charset, status, upper capabilities, auth data length, reserved.
        if let Some(after) = payload.get(capabilities_at + 2 + 1 + 2 + 2..) {
            let data_len = *after.first()? as usize;
            let part2 = after.get(1 + 10..)?;
            let part2_len = data_len.saturating_sub(8).max(13);
            let (part2, rest) = part2.split_at(part2_len.min(part2.len()));
            scramble.extend(part2.iter().take_while(|&&b| b != 0));
            if let Some((name, _)) = nul_terminated(rest) {
                plugin = name;
            }
        }
        Some(Greeting { payload, capabilities_at, scramble, plugin })
    }

    /// The greeting with `CLIENT_SSL` cleared: the guest cannot ask for TLS.
    fn without_ssl(&self) -> Vec<u8> {
        let mut payload = self.payload.to_vec();
        payload[self.capabilities_at + 1] &= !((CLIENT_SSL >> 8) as u8);
        payload
    }

    /// An `AuthSwitchRequest` asking for this server's plugin and scramble.
    fn switch_request(&self) -> Vec<u8> {
        [&[0xFE][..], self.plugin, &[0], &self.scramble, &[0]].concat()
    }
}

/// A `HandshakeResponse41`, cut into its fields.
struct Response<'a> {
    capabilities: u32,
    /// Capabilities, max packet size, charset, filler.
    head: &'a [u8],
    user: &'a [u8],
    database: Option<&'a [u8]>,
    plugin: Option<&'a [u8]>,
    /// Connection attributes and anything after.
    rest: &'a [u8],
}

impl<'a> Response<'a> {
    fn parse(payload: &'a [u8]) -> Option<Response<'a>> {
        let head = payload.get(..32)?;
        let capabilities = u32::from_le_bytes(head[..4].try_into().ok()?);
        let (user, rest) = nul_terminated(&payload[32..])?;
        let rest = if capabilities & CLIENT_PLUGIN_AUTH_LENENC != 0 {
            let (len, rest) = lenenc(rest)?;
            rest.get(usize::try_from(len).ok()?..)?
        } else if capabilities & CLIENT_SECURE_CONNECTION != 0 {
            let (&len, rest) = rest.split_first()?;
            rest.get(len as usize..)?
        } else {
            nul_terminated(rest)?.1
        };
        let (database, rest) = match capabilities & CLIENT_CONNECT_WITH_DB != 0 {
            true => nul_terminated(rest).map(|(db, rest)| (Some(db), rest))?,
            false => (None, rest),
        };
        let (plugin, rest) = match capabilities & CLIENT_PLUGIN_AUTH != 0 && !rest.is_empty() {
            true => nul_terminated(rest).map(|(name, rest)| (Some(name), rest))?,
            false => (None, rest),
        };
        Some(Response { capabilities, head, user, database, plugin, rest })
    }

    /// The same response with `auth` as its auth data, for `plugin`.
    fn with_auth(&self, auth: &[u8], plugin: &[u8]) -> Vec<u8> {
        let mut out = [self.head, self.user, &[0]].concat();
        if self.capabilities & CLIENT_PLUGIN_AUTH_LENENC != 0 {
            let len = auth.len() as u64;
            match len {
                0..=0xFA => out.push(len as u8),
                _ => {
                    out.push(0xFE);
                    out.extend_from_slice(&len.to_le_bytes());
                }
            }
            out.extend_from_slice(auth);
        } else if self.capabilities & CLIENT_SECURE_CONNECTION != 0 {
            out.push(auth.len().min(255) as u8);
            out.extend_from_slice(&auth[..auth.len().min(255)]);
        } else {
            out.extend_from_slice(auth);
            out.push(0);
        }
        if let Some(database) = self.database {
            out.extend_from_slice(database);
            out.push(0);
        }
        if self.plugin.is_some() {
            out.extend_from_slice(plugin);
            out.push(0);
        }
        out.extend_from_slice(self.rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPS: u32 = 0x200 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_WITH_DB | 0x1;

    fn greeting(scramble: &[u8; 20]) -> Vec<u8> {
        let mut p = vec![10];
        p.extend_from_slice(b"10.11.19-MariaDB\0");
        p.extend_from_slice(&7u32.to_le_bytes());
        p.extend_from_slice(&scramble[..8]);
        p.push(0);
        p.extend_from_slice(&(0xF7FFu16 | 0x0800).to_le_bytes()); // with CLIENT_SSL
        p.push(45);
        p.extend_from_slice(&2u16.to_le_bytes());
        p.extend_from_slice(&0x81BFu16.to_le_bytes());
        p.push(21);
        p.extend_from_slice(&[0; 10]);
        p.extend_from_slice(&scramble[8..]);
        p.push(0);
        p.extend_from_slice(b"mysql_native_password\0");
        p
    }

    fn response(user: &str, auth: &[u8]) -> Vec<u8> {
        let mut p = CAPS.to_le_bytes().to_vec();
        p.extend_from_slice(&(1u32 << 24).to_le_bytes());
        p.push(45);
        p.extend_from_slice(&[0; 23]);
        p.extend_from_slice(user.as_bytes());
        p.push(0);
        p.push(auth.len() as u8);
        p.extend_from_slice(auth);
        p.extend_from_slice(b"app\0mysql_native_password\0");
        p
    }

    const OK: &[u8] = &[0, 0, 0, 2, 0, 0, 0];

    /// A fresh session through its login.
    fn logged_in() -> (Session, Vec<u8>) {
        let mut session = Session::default();
        let mut to_guest = Vec::new();
        let server_greeting = packet(0, &greeting(b"abcdefghijklmnopqrst"));
        session.from_server(&server_greeting[..10], &mut to_guest);
        assert!(to_guest.is_empty(), "half a greeting is held");
        session.from_server(&server_greeting[10..], &mut to_guest);
        let seen = Greeting::parse(&to_guest[4..]).unwrap();
        let caps = u16::from_le_bytes([to_guest[4 + seen.capabilities_at], to_guest[5 + seen.capabilities_at]]);
        assert_eq!(caps & 0x0800, 0, "the guest is not offered TLS");
        assert_eq!(seen.scramble, b"abcdefghijklmnopqrst");
        let (mut to_server, mut to_guest) = (Vec::new(), Vec::new());
        session.from_guest(&packet(1, &response("warp", &[9; 20])), &mut to_server, &mut to_guest);
        assert_eq!(to_server, packet(1, &response("warp", &[9; 20])));
        session.from_server(&packet(2, OK), &mut to_guest);
        assert_eq!(to_guest, packet(2, OK));
        (session, response("warp", &[9; 20]))
    }

    fn command(session: &mut Session, payload: &[u8]) -> Vec<u8> {
        let (mut to_server, mut to_guest) = (Vec::new(), Vec::new());
        session.from_guest(&packet(0, payload), &mut to_server, &mut to_guest);
        to_server
    }

    fn text_result() -> Vec<u8> {
        [
            packet(1, &[2]),
            packet(2, b"def-column-1"),
            packet(3, b"def-column-2"),
            packet(4, &[0xFE, 0, 0, 2, 0]),
            packet(5, &[1, b'7', 2, b'4', b'2']),
            packet(6, &[0xFE, 0, 0, 2, 0]),
        ]
        .concat()
    }

    #[test]
    fn a_session_is_pooled_once_every_reply_is_in() {
        let (mut session, response) = logged_in();
        command(&mut session, b"\x03SELECT CONNECTION_ID(), 42");
        assert!(session.at_rest().is_none(), "a query is in flight");
        let reply = text_result();
        let mut to_guest = Vec::new();
        session.from_server(&reply[..15], &mut to_guest);
        assert!(session.at_rest().is_none());
        session.from_server(&reply[15..], &mut to_guest);
        assert_eq!(to_guest, reply, "the reply passes through unchanged");
        assert!(command(&mut session, &[COM_QUIT]).is_empty(), "COM_QUIT is kept from the server");
        assert!(session.quit());
        let login = session.at_rest().expect("at rest");
        assert_eq!(login.response, response);
        assert_eq!(login.database(), Some(b"app".to_vec()));
    }

    #[test]
    fn more_results_and_prepared_statements_are_followed() {
        let (mut session, _) = logged_in();
        command(&mut session, b"\x03CALL p()");
        let mut to_guest = Vec::new();
        // An OK saying more results follow, then a result set.
        session.from_server(&packet(1, &[0, 0, 0, 0x0A, 0, 0, 0]), &mut to_guest);
        assert!(session.at_rest().is_none());
        session.from_server(&text_result(), &mut to_guest);
        assert!(session.at_rest().is_some());

        command(&mut session, b"\x16SELECT ?, ?");
        // OK_prepare: id 1, 1 column, 2 params; then 2 + EOF, 1 + EOF.
        session.from_server(&packet(1, &[0, 1, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0]), &mut to_guest);
        for n in 0..5 {
            assert!(session.at_rest().is_none());
            let def = if n == 2 || n == 4 { vec![0xFE, 0, 0, 2, 0] } else { b"def".to_vec() };
            session.from_server(&packet(2 + n, &def), &mut to_guest);
        }
        assert!(session.at_rest().is_some());
        command(&mut session, &[COM_STMT_CLOSE, 1, 0, 0, 0]);
        assert!(session.at_rest().is_some(), "closing a statement has no reply");
    }

    #[test]
    fn what_the_proxy_does_not_follow_is_never_pooled() {
        let (mut session, _) = logged_in();
        command(&mut session, &[0x12, 0, 0, 0, 0]); // COM_BINLOG_DUMP
        assert!(session.at_rest().is_none());
        // LOCAL INFILE.
        let (mut session, _) = logged_in();
        command(&mut session, b"\x03LOAD DATA LOCAL INFILE 'x' INTO TABLE t");
        session.from_server(&packet(1, b"\xFBx"), &mut Vec::new());
        assert!(session.at_rest().is_none());
        // A changed database the reset cannot put back.
        let mut session = Session::default();
        session.from_server(&packet(0, &greeting(&[1; 20])), &mut Vec::new());
        let mut no_db = response("warp", &[]);
        no_db[0] &= !(CLIENT_CONNECT_WITH_DB as u8);
        no_db.truncate(no_db.len() - b"app\0mysql_native_password\0".len());
        no_db.extend_from_slice(b"mysql_native_password\0");
        session.from_guest(&packet(1, &no_db), &mut Vec::new(), &mut Vec::new());
        session.from_server(&packet(2, OK), &mut Vec::new());
        assert!(session.at_rest().is_some());
        command(&mut session, b"\x03  USE other");
        session.from_server(&packet(1, OK), &mut Vec::new());
        assert!(session.at_rest().is_none());
        // A failed login.
        let mut session = Session::default();
        session.from_server(&packet(0, &greeting(&[1; 20])), &mut Vec::new());
        session.from_guest(&packet(1, &response("warp", &[])), &mut Vec::new(), &mut Vec::new());
        session.from_server(&packet(2, b"\xFF\x15\x04#28000Access denied"), &mut Vec::new());
        assert!(session.at_rest().is_none());
    }

    #[test]
    fn a_pooled_session_answers_the_same_login_itself() {
        let (session, response) = logged_in();
        let login = session.at_rest().unwrap();
        let mut pooled = Session::pooled(login.clone());
        assert_eq!(pooled.greeting(), Some(login.greeting.as_slice()));
        let (mut to_server, mut to_guest) = (Vec::new(), Vec::new());
        assert_eq!(pooled.from_guest(&packet(1, &response), &mut to_server, &mut to_guest), Step::Go);
        assert!(to_server.is_empty());
        assert_eq!(to_guest, packet(2, OK));
        assert_eq!(pooled.at_rest(), Some(login.clone()));
        assert_eq!(
            reset_commands(&login),
            [packet(0, &[COM_RESET_CONNECTION]), packet(0, b"\x02app")],
            "reset, then the login's database again"
        );
    }

    #[test]
    fn another_login_switches_to_a_fresh_connection() {
        let (session, _) = logged_in();
        let mut pooled = Session::pooled(session.at_rest().unwrap());
        let other = response("admin", &[5; 20]);
        let step = pooled.from_guest(&packet(1, &other), &mut Vec::new(), &mut Vec::new());
        assert_eq!(step, Step::Fresh(other.clone()));

        // The fresh server greets the proxy; the guest is asked to
        // authenticate against the fresh scramble.
        let mut fresh = Session::switching(other, false);
        let mut to_guest = Vec::new();
        fresh.from_server(&packet(0, &greeting(b"ABCDEFGHIJKLMNOPQRST")), &mut to_guest);
        assert_eq!(to_guest, packet(2, b"\xFEmysql_native_password\0ABCDEFGHIJKLMNOPQRST\0"));
        let (mut to_server, mut to_guest) = (Vec::new(), Vec::new());
        fresh.from_guest(&packet(3, &[6; 20]), &mut to_server, &mut to_guest);
        assert_eq!(to_server, packet(1, &response("admin", &[6; 20])), "the response, with the new answer");
        fresh.from_server(&packet(2, OK), &mut to_guest);
        assert_eq!(to_guest, packet(4, OK), "sequence ids continue the guest's exchange");
        assert_eq!(fresh.at_rest().unwrap().response, response("admin", &[6; 20]));
    }

    #[test]
    fn over_tls_the_proxy_asks_with_the_guests_capabilities() {
        let server_greeting = packet(0, &greeting(b"abcdefghijklmnopqrst"));
        assert!(offers_tls(&server_greeting));
        let mut session = Session::new(true);
        let mut to_guest = Vec::new();
        session.from_server(&server_greeting, &mut to_guest);
        let (mut to_server, mut to_guest) = (Vec::new(), Vec::new());
        let step = session.from_guest(&packet(1, &response("warp", &[9; 20])), &mut to_server, &mut to_guest);
        let mut expected = response("warp", &[9; 20]);
        expected[1] |= 0x08;
        assert_eq!(step, Step::StartTls { request: packet(1, &expected[..32]), then: packet(2, &expected) });
        assert!(to_server.is_empty());
        session.from_server(&packet(3, OK), &mut to_guest);
        assert_eq!(to_guest, packet(2, OK), "sequence ids as the guest counts them");
        assert_eq!(session.at_rest().unwrap().response, response("warp", &[9; 20]), "recorded as the guest sent it");
    }
}
