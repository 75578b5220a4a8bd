//! A project as `warp` sees it: its directory, its language, and the
//! settings from `warp.toml` (all optional; everything has a default).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::error::Diagnostic;
use crate::shim::Shim;
use crate::size::{Budget, ByteSize};

pub const CONFIG_FILE: &str = "warp.toml";

/// The languages `warp` knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Rust,
    Go,
    Ts,
    Bun,
    C,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Go => "go",
            Lang::Ts => "ts",
            Lang::Bun => "bun",
            Lang::C => "c",
        }
    }

    /// The language's name in prose: "TypeScript".
    pub fn display_name(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::Go => "Go",
            Lang::Ts => "TypeScript",
            Lang::Bun => "Bun",
            Lang::C => "C",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The WIT world a component targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum World {
    /// `wasi:http/proxy`: exports `wasi:http/incoming-handler`.
    Http,
    /// `wasi:cli/command`: exports `wasi:cli/run`.
    Cli,
}

impl World {
    pub fn name(self) -> &'static str {
        match self {
            World::Http => "http",
            World::Cli => "cli",
        }
    }

    /// The WIT world, for messages.
    pub fn wit(self) -> &'static str {
        match self {
            World::Http => "wasi:http/proxy",
            World::Cli => "wasi:cli/command",
        }
    }

    /// The interface the component must export, without version.
    pub fn required_export(self) -> &'static str {
        match self {
            World::Http => "wasi:http/incoming-handler",
            World::Cli => "wasi:cli/run",
        }
    }
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `warp.toml`, as the user writes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub lang: Option<Lang>,
    pub world: Option<World>,
    #[serde(default)]
    pub budget: BudgetConfig,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub shims: ShimConfig,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub http: Http,
    /// Host directories the guest sees: guest path → directory relative to
    /// the project, like `wasmtime run --dir host::guest`; read-only unless
    /// marked `mode = "rw"` (see [`Dir`]).
    #[serde(default)]
    pub dirs: BTreeMap<String, Dir>,
    /// How a C project is built (`lang = "c"`).
    #[serde(default)]
    pub c: CConfig,
    /// How a Go project is built (`lang = "go"`).
    #[serde(default)]
    pub go: GoConfig,
}

/// `[go]`: which package of a Go module is the program, and its build tags.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoConfig {
    /// The component's name; the main package's last path element by default.
    pub name: Option<String>,
    /// The main package, as `go build` takes it (`./cmd/api`); `.` by default.
    pub package: Option<String>,
    /// Build tags (`go build -tags`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The compiler: `go` (the default) or `tinygo` (`--toolchain`).
    pub toolchain: Option<String>,
    /// Whether `wasm-opt -O1` runs on the module (true by default): about
    /// 3% smaller, 6-17 s on a net/http program on 2 cores.
    pub optimize: Option<bool>,
}

/// `[c]`: sources, flags and sysroot of a C project.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CConfig {
    /// The component's name; the directory's name by default.
    pub name: Option<String>,
    /// Source files, or directories searched for `*.c`; `src/` (or the
    /// project directory) by default.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Extra compiler flags, e.g. `["-DNDEBUG", "-Wall"]`.
    #[serde(default)]
    pub cflags: Vec<String>,
    /// A wasi-libc sysroot to use instead of warp's own build.
    pub sysroot: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    pub raw: Option<ByteSize>,
    pub gzip: Option<ByteSize>,
}

/// Which shims the component may import, and how they are set up. This is
/// copied verbatim into the run manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShimConfig {
    #[serde(default, skip_serializing_if = "is_false")]
    pub filesystem: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub signals: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threading: Option<ThreadingModel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Dns>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub database: Vec<Database>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl ShimConfig {
    /// Whether these settings enable `shim`.
    pub fn enables(&self, shim: Shim) -> bool {
        match shim {
            Shim::Filesystem => self.filesystem,
            Shim::Dns => self.dns.is_some(),
            Shim::Signals => self.signals,
            Shim::DatabaseProxy => !self.database.is_empty(),
            Shim::Threading => self.threading.is_some(),
        }
    }

    /// The shims these settings enable, in [`Shim::ALL`]'s order.
    pub fn enabled(&self) -> Vec<Shim> {
        Shim::ALL.into_iter().filter(|&shim| self.enables(shim)).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThreadingModel {
    SingleThreaded,
    Cooperative,
    ParallelRequired,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// How long a resolved name is cached, e.g. `30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<HumanDuration>,
    /// `name.namespace.warp.local` → addresses, served round-robin.
    #[serde(default)]
    pub registry: BTreeMap<String, Vec<IpAddr>>,
    /// Extra `/etc/hosts` entries: any name → addresses. Consulted after the
    /// registry and before the host's resolver.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hosts: BTreeMap<String, Vec<IpAddr>>,
}

impl Dns {
    /// The cache duration when `ttl` is not set.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

    pub fn ttl(&self) -> Duration {
        self.ttl.as_ref().map_or(Self::DEFAULT_TTL, |t| t.duration)
    }

    /// Checks names and addresses; the error names the offending field.
    fn check(&self) -> Result<(), String> {
        for (name, addrs) in &self.registry {
            let labels: Vec<&str> = name.strip_suffix(".warp.local").unwrap_or("").split('.').collect();
            if labels.len() != 2 || labels.iter().any(|l| !is_dns_label(l)) {
                return Err(format!(
                    "field `shims.dns.registry.\"{name}\"`: registry names have the form \
                     `<name>.<namespace>.warp.local`, e.g. `db.production.warp.local`"
                ));
            }
            if addrs.is_empty() {
                return Err(format!("field `shims.dns.registry.\"{name}\"`: lists no addresses"));
            }
        }
        for (name, addrs) in &self.hosts {
            if name.is_empty() || !name.split('.').all(is_dns_label) {
                return Err(format!("field `shims.dns.hosts.\"{name}\"`: `{name}` is not a host name"));
            }
            if addrs.is_empty() {
                return Err(format!("field `shims.dns.hosts.\"{name}\"`: lists no addresses"));
            }
        }
        Ok(())
    }
}

fn is_dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// One `[dirs]` entry: a host directory the guest sees.
///
/// Written as a plain path (`"/assets" = "assets"`: read-only) or as a
/// table (`"/data" = { path = "data", mode = "rw" }`). The project's data
/// directories are exactly those marked `mode = "rw"`; everything else is
/// read-only, so a guest cannot change its own code, configuration or
/// anything else it was only meant to read. A directory that resolves
/// outside the project (`/`, `..`, a symlink out) is refused by `warp pack`
/// unless the entry says `outside_project = true`.
///
/// The run manifest uses the same two forms (the path relative to the
/// manifest), so a manifest from before modes existed reads as read-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    pub path: String,
    pub mode: DirMode,
    /// The user's explicit consent to a directory outside the project.
    pub outside_project: bool,
}

impl Dir {
    pub fn read_only(path: impl Into<String>) -> Dir {
        Dir { path: path.into(), mode: DirMode::Ro, outside_project: false }
    }
}

/// What a guest may do in a preopened directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirMode {
    /// Read files and list directories; no creating, writing or removing.
    #[default]
    Ro,
    /// Everything: a data directory.
    Rw,
}

/// `[dirs]`'s table form.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirTable {
    path: String,
    #[serde(default, skip_serializing_if = "is_ro")]
    mode: DirMode,
    #[serde(default, skip_serializing_if = "is_false")]
    outside_project: bool,
}

fn is_ro(mode: &DirMode) -> bool {
    *mode == DirMode::Ro
}

impl Serialize for Dir {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.mode == DirMode::Ro && !self.outside_project {
            return serializer.serialize_str(&self.path);
        }
        DirTable { path: self.path.clone(), mode: self.mode, outside_project: self.outside_project }
            .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Dir {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Dir, D::Error> {
        // By hand rather than `#[serde(untagged)]`, so that a mistake in the
        // table form is reported by field instead of "did not match any variant".
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Dir;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a directory path, or a table like `{ path = "data", mode = "rw" }`"#)
            }
            fn visit_str<E: serde::de::Error>(self, path: &str) -> Result<Dir, E> {
                Ok(Dir::read_only(path))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Dir, A::Error> {
                let table = DirTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Dir { path: table.path, mode: table.mode, outside_project: table.outside_project })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DbProtocol {
    Postgres,
    Mysql,
    Redis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub protocol: DbProtocol,
    pub host: String,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(default = "default_pool_size")]
    pub pool_size: u32,
    #[serde(default)]
    pub tls: bool,
    /// A PEM file of the CA certificates to trust for this endpoint's TLS
    /// (relative to the project in warp.toml, to the manifest in the
    /// manifest); without it, the Mozilla roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
}

fn default_pool_size() -> u32 {
    10
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<ByteSize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<HumanDuration>,
    /// Instances alive at once (the pooling allocator's size): requests
    /// past it are answered 503. Default 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<u32>,
    /// How long a client may take to send a request's head (its first, or
    /// the next once it started one); then the connection is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_timeout: Option<HumanDuration>,
    /// How long a keep-alive connection may sit between requests, or a
    /// response sit unread by its client; then the connection is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<HumanDuration>,
    /// Client connections open at once; more wait in the listen backlog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
    /// How long a stop waits for requests in flight before cutting them short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_timeout: Option<HumanDuration>,
    /// How long a request body may stall while the guest waits for it (and
    /// it must average at least 240 bytes a second once it has taken 5 s):
    /// then the request is answered 408 and its instance freed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_timeout: Option<HumanDuration>,
    /// The linear memory all instances may hold together; past it, new
    /// requests are answered 503. Default: half the machine's memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_memory: Option<ByteSize>,
}
impl Limits {
    /// The smallest `memory` limit: one WebAssembly page.
    pub const MIN_MEMORY: u64 = 64 * 1024;

    /// The shortest `request_timeout`: one tick of the runner's clock.
    pub const MIN_REQUEST_TIMEOUT: Duration = Duration::from_millis(10);

    /// Checks the values' ranges; the error names the field (`limits.memory`).
    pub fn check(&self) -> Result<(), String> {
        if let Some(memory) = self.memory
            && memory.0 < Self::MIN_MEMORY
        {
            return Err(format!(
                "field `limits.memory`: {} bytes is below one WebAssembly page (64KiB); guests need several, e.g. `\"64MB\"`",
                memory.0
            ));
        }
        if let Some(timeout) = &self.request_timeout
            && timeout.duration < Self::MIN_REQUEST_TIMEOUT
        {
            return Err(format!(
                "field `limits.request_timeout`: `{}` is shorter than the runner's 10ms clock tick",
                timeout.text
            ));
        }
        if self.instances == Some(0) {
            return Err("field `limits.instances`: 0 instances could serve nothing; leave it out for 1000".into());
        }
        for (field, value) in [
            ("header_timeout", &self.header_timeout),
            ("idle_timeout", &self.idle_timeout),
            ("drain_timeout", &self.drain_timeout),
            ("body_timeout", &self.body_timeout),
        ] {
            if let Some(timeout) = value
                && timeout.duration < Self::MIN_REQUEST_TIMEOUT
            {
                return Err(format!(
                    "field `limits.{field}`: `{}` is shorter than the runner's 10ms clock tick",
                    timeout.text
                ));
            }
        }
        if let Some(total) = self.total_memory
            && total.0 < Self::MIN_MEMORY
        {
            return Err(format!(
                "field `limits.total_memory`: {} bytes is below one WebAssembly page (64KiB); \
                 leave it out for half the machine's memory",
                total.0
            ));
        }
        if self.connections == Some(0) {
            return Err(
                "field `limits.connections`: 0 connections could serve nothing; leave it out for the default".into()
            );
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Path prefix the component serves.
    #[serde(default = "default_route")]
    pub route: String,
    /// Port `warp run` listens on unless `--listen` says otherwise.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Requests one instance serves, one at a time, before it is retired:
    /// 1 is a fresh instance per request; 0 keeps an instance until it
    /// fails. `warp pack` writes the language's default when absent (1
    /// for Rust and C, 0 for Go, whose start-up is milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reuse: Option<u32>,
}

impl Default for Http {
    fn default() -> Self {
        Http { route: default_route(), port: default_port(), reuse: None }
    }
}

impl Http {
    /// Checks `route`; the error names the field.
    pub fn check(&self) -> Result<(), String> {
        if !self.route.starts_with('/') || self.route.contains(['?', '#']) {
            return Err(format!(
                "field `http.route`: `{}` is not a path prefix; it starts with `/`, e.g. `\"/api\"`",
                self.route
            ));
        }
        Ok(())
    }

    /// Whether the request path `path` is under `route`: `/api` takes
    /// `/api`, `/api/…` and `/api?…`, not `/apiary`; `/` takes everything.
    pub fn routes(&self, path: &str) -> bool {
        let prefix = self.route.trim_end_matches('/');
        match path.strip_prefix(prefix) {
            Some(rest) => rest.is_empty() || rest.starts_with(['/', '?']),
            None => false,
        }
    }
}

fn default_route() -> String {
    "/".into()
}

fn default_port() -> u16 {
    8080
}

/// A duration written by a person: `30s`, `500ms`, `2m`, `1h`. Kept as
/// written so the manifest reads like `warp.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HumanDuration {
    pub text: String,
    pub duration: Duration,
}

impl HumanDuration {
    /// The longest duration any setting takes: a week. Longer is a typo,
    /// and would overflow the runner's clock arithmetic.
    pub const MAX: Duration = Duration::from_secs(7 * 24 * 3600);
}

impl TryFrom<String> for HumanDuration {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text.parse().map_err(|e: anyhow::Error| e.to_string())
    }
}

impl From<HumanDuration> for String {
    fn from(d: HumanDuration) -> String {
        d.text
    }
}

impl FromStr for HumanDuration {
    type Err = anyhow::Error;
    fn from_str(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        let split = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let number: u64 =
            number.parse().map_err(|_| anyhow::anyhow!("invalid duration `{text}`: expected e.g. `30s` or `500ms`"))?;
        let millis_per_unit: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => anyhow::bail!("invalid duration `{text}`: unit must be one of ms, s, m, h, d"),
        };
        let duration = number
            .checked_mul(millis_per_unit)
            .map(Duration::from_millis)
            .filter(|d| *d <= HumanDuration::MAX)
            .ok_or_else(|| anyhow::anyhow!("duration `{text}` is out of range: at most 7 days (`7d`)"))?;
        Ok(HumanDuration { text: trimmed.to_string(), duration })
    }
}

/// A project directory with its (possibly empty) `warp.toml`.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub config: Config,
    /// Whether `warp.toml` exists (for messages).
    pub has_config: bool,
}

impl Project {
    /// Opens the project at `path`: a directory, or a file inside one
    /// (`Cargo.toml`, `warp.toml`).
    pub fn open(path: &Path) -> Result<Project> {
        let root = if path.is_file() {
            path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
        } else if path.is_dir() {
            path.to_path_buf()
        } else {
            return Err(Diagnostic::env(format!("no project at `{}`: no such file or directory", path.display()))
                .help("pass the directory of a project, e.g. `warp pack templates/rust-http`")
                .into());
        };
        let config_path = root.join(CONFIG_FILE);
        let (config, has_config) = match std::fs::read_to_string(&config_path) {
            Ok(text) => (parse_config(&text, &config_path)?, true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Config::default(), false),
            Err(e) => {
                return Err(e).with_context(|| format!("failed to read `{}`", config_path.display()));
            }
        };
        Ok(Project { root, config, has_config })
    }

    /// The project at `member` when it is another directory with its own
    /// `warp.toml` (a workspace member packed from the workspace root).
    pub fn for_member(&self, member: &Path) -> Result<Option<Project>> {
        let same = member.canonicalize().ok() == self.root.canonicalize().ok();
        if same || !member.join(CONFIG_FILE).is_file() {
            return Ok(None);
        }
        Project::open(member).map(Some)
    }

    /// The budget: `warp.toml` over the language's default.
    pub fn budget(&self, default: Budget) -> Budget {
        Budget {
            raw_bytes: self.config.budget.raw.map(|b| b.0).or(default.raw_bytes),
            gzip_bytes: self.config.budget.gzip.map(|b| b.0).or(default.gzip_bytes),
        }
    }
}

/// The `warp.toml` tables that only the runner reads (through the run
/// manifest): a change to these alone needs no rebuild (`warp dev`
/// rewrites the manifest and reloads).
pub const RUN_TIME_KEYS: &[&str] = &["env", "shims", "limits", "http", "dirs", "budget"];

/// Whether two `warp.toml` texts agree on everything outside
/// [`RUN_TIME_KEYS`]. Text that does not parse agrees with nothing (the
/// rebuild then reports what is wrong with it).
pub fn same_build_settings(old: &str, new: &str) -> bool {
    let build_part = |text: &str| {
        let mut table = text.parse::<toml::Table>().ok()?;
        table.retain(|key, _| !RUN_TIME_KEYS.contains(&key));
        Some(table)
    };
    match (build_part(old), build_part(new)) {
        (Some(old), Some(new)) => old == new,
        _ => false,
    }
}

/// Parses `warp.toml` text; errors name the file, line and field.
pub fn parse_config(text: &str, path: &Path) -> Result<Config> {
    let invalid = |what: &str| Diagnostic::check(format!("invalid `{}`: {}", path.display(), what.trim_end()));
    let config: Config = toml::from_str(text).map_err(|e| invalid(&e.to_string()))?;
    if let Some(dns) = &config.shims.dns {
        dns.check().map_err(|e| invalid(&e))?;
    }
    config.limits.check().map_err(|e| invalid(&e))?;
    config.http.check().map_err(|e| invalid(&e))?;
    for (index, database) in config.shims.database.iter().enumerate() {
        if database.ca.is_some() && !database.tls {
            return Err(invalid(&format!(
                "field `shims.database[{index}].ca` has no effect without `tls = true` in the same entry"
            ))
            .into());
        }
    }
    for guest in config.dirs.keys() {
        if !guest.starts_with('/') {
            return Err(invalid(&format!(
                "field `dirs.\"{guest}\"`: the guest path must be absolute, e.g. `\"/data\" = \"data\"`"
            ))
            .into());
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_run_time_tables_change_without_a_rebuild() {
        let old = "lang = \"rust\"\n[env]\nA = \"1\"\n";
        assert!(same_build_settings(old, "lang = \"rust\"\n[env]\nA = \"2\"\n[limits]\nmemory = \"64MiB\"\n"));
        assert!(!same_build_settings(old, "lang = \"c\"\n[env]\nA = \"1\"\n"));
        assert!(!same_build_settings(old, "lang = \"rust\"\n[go]\ntags = [\"x\"]\n[env]\nA = \"1\"\n"));
        assert!(!same_build_settings(old, "lang = \"rust\"\n[env\n"));
    }

    #[test]
    fn design_example_parses() {
        let text = r#"
lang = "rust"
world = "http"
[budget]
raw = "300KB"
gzip = "120KB"
[env]
GREETING = "howdy"
[shims]
filesystem = true
signals = true
threading = "cooperative"
[shims.dns]
ttl = "30s"
[shims.dns.registry]
"db.production.warp.local" = ["10.0.0.5", "10.0.0.6"]
[[shims.database]]
protocol = "postgres"
host = "db.production.warp.local"
port = 5432
database = "app"
pool_size = 10
tls = false
[limits]
memory = "128MB"
request_timeout = "10s"
"#;
        let config = parse_config(text, Path::new("warp.toml")).unwrap();
        assert_eq!(config.lang, Some(Lang::Rust));
        assert_eq!(config.budget.raw, Some(ByteSize(300_000)));
        assert_eq!(config.shims.enabled(), Shim::ALL);
        assert_eq!(config.shims.dns.unwrap().ttl.unwrap().duration, Duration::from_secs(30));
        assert_eq!(config.limits.memory, Some(ByteSize(128_000_000)));
    }

    #[test]
    fn dirs_are_read_only_unless_marked_rw() {
        let text = "[dirs]\n\"/assets\" = \"assets\"\n\"/data\" = { path = \"data\", mode = \"rw\" }\n\
                    \"/etc-host\" = { path = \"/etc\", outside_project = true }\n";
        let dirs = parse_config(text, Path::new("warp.toml")).unwrap().dirs;
        assert_eq!(dirs["/assets"], Dir::read_only("assets"));
        assert_eq!(dirs["/data"], Dir { path: "data".into(), mode: DirMode::Rw, outside_project: false });
        assert_eq!(dirs["/etc-host"], Dir { path: "/etc".into(), mode: DirMode::Ro, outside_project: true });
        // The manifest's form: a plain string when read-only, so older
        // manifests (always strings) read as read-only.
        assert_eq!(serde_json::to_value(&dirs["/assets"]).unwrap(), serde_json::json!("assets"));
        assert_eq!(serde_json::to_value(&dirs["/data"]).unwrap(), serde_json::json!({ "path": "data", "mode": "rw" }));
        let err = parse_config("[dirs]\n\"/d\" = { path = \"d\", mode = \"rwx\" }\n", Path::new("warp.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("rwx") && err.contains("`ro`"), "{err}");
    }

    #[test]
    fn unknown_field_names_file_and_field() {
        let err = parse_config("lang = \"rust\"\n[budget]\nraws = \"1KB\"\n", Path::new("x/warp.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("x/warp.toml"), "{text}");
        assert!(text.contains("raws"), "{text}");
    }

    #[test]
    fn bad_values_are_rejected() {
        for bad in [
            "lang = \"cobol\"",
            "[budget]\nraw = \"12 parsecs\"",
            "[shims.dns]\nttl = \"soon\"",
            "[shims.dns.registry]\n\"a.b.warp.local\" = [\"not-an-ip\"]",
            "[shims.dns.registry]\n\"db.example.com\" = [\"10.0.0.1\"]",
            "[shims.dns.registry]\n\"db.warp.local\" = [\"10.0.0.1\"]",
            "[shims.dns.registry]\n\"db.prod.warp.local\" = []",
            "[shims.dns.hosts]\n\"bad name\" = [\"10.0.0.1\"]",
            "[dirs]\n\"data\" = \"data\"",
            "[limits]\nrequest_timeout = \"184467440737095517s\"",
            "[limits]\nrequest_timeout = \"200000h\"",
            "[limits]\nrequest_timeout = \"0s\"",
            "[limits]\nmemory = 64",
            "[limits]\nmemory = \"0\"",
            "[limits]\ninstances = 0",
            "[limits]\nheader_timeout = \"0s\"",
            "[limits]\nidle_timeout = \"5ms\"",
            "[limits]\ndrain_timeout = \"0ms\"",
            "[limits]\nconnections = 0",
            "[limits]\nmemory = \"99999999999999999999GiB\"",
            "[limits]\ntotal_memory = \"1KB\"",
            "[limits]\nbody_timeout = \"1ms\"",
            "[limits]\nrequest_timeout = \"8d\"",
            "[http]\nroute = \"api\"",
            "[dirs]\n\"/data\" = { path = \"data\", mode = \"rwx\" }",
            "[dirs]\n\"/data\" = { path = \"data\", writable = true }",
            "[dirs]\n\"/data\" = 7",
        ] {
            assert!(parse_config(bad, Path::new("warp.toml")).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_take_days_up_to_a_week() {
        let week: HumanDuration = "7d".parse().unwrap();
        assert_eq!(week.duration, HumanDuration::MAX);
        assert_eq!("2d".parse::<HumanDuration>().unwrap().duration, Duration::from_secs(2 * 86_400));
        let err = "8d".parse::<HumanDuration>().unwrap_err().to_string();
        assert!(err.contains("at most 7 days (`7d`)"), "{err}");
    }

    #[test]
    fn a_route_takes_its_own_paths_only() {
        let http = |route: &str| Http { route: route.into(), ..Http::default() };
        assert!(http("/").routes("/") && http("/").routes("/anything?x=1"));
        let api = http("/api");
        assert!(api.routes("/api") && api.routes("/api/") && api.routes("/api/v1") && api.routes("/api?x"));
        assert!(!api.routes("/apiary") && !api.routes("/") && !api.routes("/other/api"));
        assert!(http("/api/").routes("/api/v1") && http("/api/").routes("/api"));
        assert!(http("/api").check().is_ok() && http("api").check().is_err());
    }
}
