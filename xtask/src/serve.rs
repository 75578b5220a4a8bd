//! What `bench` and `soak` share to drive a server: the `warp` binary they
//! test, free ports, `warp run` started the same way, readiness, and the
//! resident memory of a running server.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

/// Builds the release `warp` and returns its path.
pub fn build_warp(sh: &Shell) -> Result<PathBuf> {
    cmd!(sh, "cargo build --release --locked --bin warp").run()?;
    Ok(crate::root().join("target/release/warp"))
}

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `warp run --listen ADDR MANIFEST` with its compiled-code cache in
/// `cache`, stdout discarded (callers redirect it when they read events).
pub fn warp_run(warp: &Path, manifest: &Path, addr: &str, cache: &Path) -> Command {
    let mut command = Command::new(warp);
    command
        .args(["run", "--quiet", "--listen", addr])
        .arg(manifest)
        .env("WARP_CACHE_DIR", cache)
        .stdout(std::process::Stdio::null());
    command
}

/// Polls `GET /` until it answers 200 (10 s at most).
pub fn wait_for_200(port: u16) -> Result<()> {
    wait_for_200_within(port, Duration::from_secs(10))
}

/// Polls `GET /` until it answers 200 (`within` at most: a Go component's
/// first compile takes longer).
pub fn wait_for_200_within(port: u16, within: Duration) -> Result<()> {
    use std::io::{Read, Write};
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
            let mut head = [0u8; 12];
            if stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200") {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    bail!("no 200 from 127.0.0.1:{port} within {within:?}")
}

/// The resident set of process `pid`, in bytes (`VmRSS` in `/proc`).
pub fn rss_bytes(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("failed to read `/proc/{pid}/status`"))?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().strip_suffix("kB")?.trim().parse().ok())
        .with_context(|| format!("no VmRSS in `/proc/{pid}/status`"))?;
    Ok(kib * 1024)
}

/// Sends `signal` (`HUP`, `TERM`) to `pid` with `kill`.
pub fn signal(sh: &Shell, pid: u32, signal: &str) -> Result<()> {
    let pid = pid.to_string();
    cmd!(sh, "kill -{signal} {pid}").quiet().run().with_context(|| format!("failed to send SIG{signal} to {pid}"))
}

/// What `wrk -t2 -c32 -d10s --latency` reported.
pub struct Wrk {
    pub rate: f64,
    /// The median latency as wrk prints it (`2.50ms`).
    pub p50: String,
    /// wrk's error line, or "no errors".
    pub errors: String,
}

/// Runs `wrk -t2 -c32 -d10s --latency` against `url`.
pub fn wrk(sh: &Shell, url: &str) -> Result<Wrk> {
    let out = cmd!(sh, "wrk -t2 -c32 -d10s --latency {url}").read()?;
    let rate = out
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .context("wrk printed no Requests/sec")?;
    let p50 = out.lines().find_map(|l| l.trim().strip_prefix("50%")).unwrap_or("?").trim().to_string();
    let errors = out
        .lines()
        .find(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
        .unwrap_or("no errors")
        .trim()
        .to_string();
    Ok(Wrk { rate, p50, errors })
}

/// Whether `wrk` is installed (it prints its version on stderr or stdout).
pub fn have_wrk(sh: &Shell) -> bool {
    cmd!(sh, "wrk --version").ignore_status().read_stderr().is_ok_and(|v| v.contains("wrk"))
        || cmd!(sh, "wrk --version").ignore_status().read().is_ok_and(|v| v.contains("wrk"))
}

/// The servers [`versus_wasmtime_serve`] compares, in the order it runs them.
pub const SERVERS: [&str; 2] = ["wasmtime serve", "warp run"];

/// `wasmtime serve -Scli` of `component`, then `warp run` of `manifest`
/// (compiled-code cache in `cache`), one after the other under the same
/// [`wrk`] load on `path`; each server is up once `GET /` answers 200
/// (within `startup`). The results in the order of [`SERVERS`].
pub fn versus_wasmtime_serve(
    sh: &Shell,
    warp: &Path,
    wasmtime: &str,
    (manifest, component): (&Path, &Path),
    cache: &Path,
    path: &str,
    startup: Duration,
) -> Result<Vec<Wrk>> {
    let mut results = Vec::new();
    for server in SERVERS {
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut child = if server == "warp run" {
            warp_run(warp, manifest, &addr, cache).spawn()?
        } else {
            Command::new(wasmtime)
                .args(["serve", "-Scli", "--addr", &addr])
                .arg(component)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()?
        };
        wait_for_200_within(port, startup)?;
        let result = wrk(sh, &format!("http://{addr}{path}"));
        child.kill()?;
        child.wait()?;
        results.push(result?);
    }
    Ok(results)
}
