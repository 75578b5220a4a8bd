//! Helpers shared by the integration tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `warp` with colour off, so output can be matched as text. The guests it
/// builds keep their final artifacts in their own `target/` (where `warp
/// pack` looks), and their intermediate ones in the run's one build dir,
/// so each dependency is compiled once per test run; cargo locks that dir,
/// so concurrent tests take turns building in it.
pub fn warp(dir: &Path) -> Command {
    with_warp_env(Command::new(env!("CARGO_BIN_EXE_warp")), dir)
}

/// [`warp`] started by `sh` under `umask` (e.g. `"027"`): what a user's
/// shell would give it.
pub fn warp_under_umask(dir: &Path, umask: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &format!("umask {umask} && exec \"$0\" \"$@\""), env!("CARGO_BIN_EXE_warp")]);
    with_warp_env(cmd, dir)
}

fn with_warp_env(mut cmd: Command, dir: &Path) -> Command {
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CARGO_TARGET_DIR")
        .env("CARGO_BUILD_BUILD_DIR", crate::harness::guest_build_dir());
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let Output { status, stdout, stderr } = cmd.output().expect("failed to spawn warp");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

impl Run {
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}\n--- stderr\n{}", self.stderr);
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n--- stdout\n{}", self.stdout);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// The `wasmtime` CLI to compare with: `$WASMTIME`, else `wasmtime` on the
/// PATH, if it is 48.x (`cargo xtask ci` installs it and sets `WASMTIME`);
/// else what is wrong with it.
pub fn wasmtime_cli() -> Result<PathBuf, String> {
    let candidate = std::env::var_os("WASMTIME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("wasmtime"));
    let version = Command::new(&candidate).arg("--version").output().ok().filter(|o| o.status.success());
    match version.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()) {
        Some(version) if version.starts_with("wasmtime 48.") => Ok(candidate),
        Some(version) => Err(format!("`{}` is {}, not 48.x", candidate.display(), version.trim())),
        None => Err(format!("no `{}`", candidate.display())),
    }
}

/// `$WARP_TEST_MIRRORS`, when it holds a git mirror of upstream wasi-libc
/// (9886d3d) in `wasi-libc/`.
pub fn libc_mirrors() -> Option<PathBuf> {
    let dir = std::env::var_os("WARP_TEST_MIRRORS").map(PathBuf::from)?;
    dir.join("wasi-libc/.git").is_dir().then_some(dir)
}

/// The newest Debian PostgreSQL server's `bin` directory.
pub fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("postgres").is_file())
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// Copies a project tree (without `target/`) into `dest`.
pub fn copy_project(from: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let to = dest.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_project(&entry.path(), &to);
        } else if name == "Cargo.toml" {
            std::fs::write(&to, with_absolute_sdk(&std::fs::read_to_string(entry.path()).unwrap())).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A manifest's relative path dependency on the repo's `sdk/rust` made
/// absolute, so the copy builds anywhere.
fn with_absolute_sdk(manifest: &str) -> String {
    let sdk = repo().join("sdk/rust");
    manifest
        .lines()
        .map(|line| match (line.find("path = \""), line.find("sdk/rust\"")) {
            (Some(start), Some(end)) if start < end => {
                format!("{}path = \"{}\"{}", &line[..start], sdk.display(), &line[end + "sdk/rust\"".len()..])
            }
            _ => line.to_string(),
        })
        .map(|line| line + "\n")
        .collect()
}

/// A copy of `tests/fixtures/NAME` in a fresh temporary directory.
pub fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join(name);
    copy_project(&repo().join("tests/fixtures").join(name), &dir);
    (temp, dir)
}

/// A copy of a template in a fresh temporary directory.
pub fn template(name: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join(name);
    copy_project(&repo().join("templates").join(name), &dir);
    (temp, dir)
}

/// The top-level exports of a component, validated first as `wasm-tools
/// validate` would.
pub fn validated_exports(component: &[u8]) -> Vec<String> {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(component)
        .expect("component validates");
    let mut exports = Vec::new();
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload.unwrap() {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    exports.push(export.unwrap().name.name.to_string());
                }
            }
            _ => {}
        }
    }
    exports
}

/// No temporary file of an atomic write was left behind in `dir`.
#[track_caller]
pub fn assert_no_temp_files(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with(".warp-"), "left behind: {}", entry.path().display());
        }
    }
}

/// Compares `actual` with `tests/it/snapshots/NAME`; `BLESS=1` rewrites it.
#[track_caller]
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = repo().join("tests/it/snapshots").join(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no snapshot `{}`; run with BLESS=1 to create it", path.display()));
    assert!(
        expected == actual,
        "snapshot `{name}` differs (BLESS=1 to accept)\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// Writes `original` (a manifest's JSON) to `path` with `edit` applied.
pub fn write_edited_manifest(path: &Path, original: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut value: serde_json::Value = serde_json::from_str(original).unwrap();
    edit(&mut value);
    std::fs::write(path, value.to_string()).unwrap();
}

/// Packs the project at `dir` and returns its manifest.
pub fn pack(dir: &Path) -> PathBuf {
    let json = run(warp(dir).args(["pack", "--json"])).expect_code(0).json();
    PathBuf::from(json["manifest"].as_str().unwrap())
}

/// A `warp run` serving on a free loopback port; stopped on drop.
pub struct Served {
    pub child: Child,
    pub addr: SocketAddr,
    stderr: std::sync::mpsc::Receiver<String>,
    /// Every stderr line received so far, and whether a wait matched it.
    seen: std::cell::RefCell<Vec<(String, bool)>>,
}

impl Served {
    pub fn start(manifest: &Path, cache: &Path) -> Served {
        Served::start_with(warp(Path::new(".")).arg("run").arg(manifest), cache)
    }

    /// Starts `command` (a `warp run MANIFEST` of some warp binary).
    pub fn start_with(command: &mut Command, cache: &Path) -> Served {
        let mut child = command
            .args(["--listen", "127.0.0.1:0"])
            .env("WARP_CACHE_DIR", cache)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, stderr) = std::sync::mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .parse()
            .unwrap();
        Served { child, addr, stderr, seen: Default::default() }
    }

    /// Every line `warp run` (and its guests) printed on stderr so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        let mut seen = self.seen.borrow_mut();
        seen.extend(self.stderr.try_iter().map(|line| (line, false)));
        seen.iter().map(|(line, _)| line.clone()).collect()
    }

    /// Waits (10 s at most) for a stderr line containing `needle` that no
    /// earlier wait matched, and returns every line so far: what a test
    /// waits on to know the server or a guest got somewhere.
    #[track_caller]
    pub fn wait_for_stderr(&self, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut seen = self.seen.borrow_mut();
            if let Some((_, matched)) = seen.iter_mut().find(|(line, matched)| !matched && line.contains(needle)) {
                *matched = true;
                return seen.iter().map(|(line, _)| line.clone()).collect();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => seen.push((line, false)),
                Err(_) => panic!("no stderr line with {needle:?} within 10 s; saw {:#?}", *seen),
            }
        }
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(self) -> i32 {
        self.stop().0
    }

    /// SIGTERM, then the exit status and every stderr line up to the end
    /// (what `warp run` printed while stopping included).
    pub fn stop(mut self) -> (i32, Vec<String>) {
        let code = terminate(&mut self.child, Duration::from_secs(10), "warp run");
        // The reader thread ends at EOF, closing the channel.
        let mut lines = self.stderr_lines();
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(5)) {
            lines.push(line);
        }
        (code, lines)
    }
}

/// SIGTERM to `child`, then its exit status once it has exited (`within`
/// at most, else the test fails naming `what`).
#[track_caller]
pub fn terminate(child: &mut Child, within: Duration, what: &str) -> i32 {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not stop within {within:?} of SIGTERM");
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 request; returns status and body.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status =
        text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("bad response: {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}
