//! `warp run`: real components served over real HTTP on loopback, CLI
//! components run to their exit code, faults contained per request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::*;

/// Packs the project at `dir` and returns its manifest.
fn pack(dir: &Path) -> PathBuf {
    let json = run(warp(dir).args(["pack", "--json"])).expect_code(0).json();
    PathBuf::from(json["manifest"].as_str().unwrap())
}

/// A `warp run` serving on a free loopback port; stopped on drop.
struct Served {
    child: Child,
    addr: SocketAddr,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Served {
    fn start(manifest: &Path, cache: &Path) -> Served {
        let mut child = warp(Path::new("."))
            .arg("run")
            .arg(manifest)
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
        Served { child, addr, stderr }
    }

    fn stderr_lines(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> i32 {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        for _ in 0..500 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("warp run did not stop within 10 s of SIGTERM");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 request; returns status and body.
fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
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

#[test]
fn serves_the_http_template_and_restarts_from_the_cache() {
    if !have_wasm_target() {
        return;
    }
    let (temp, dir) = template("rust-http");
    let manifest = pack(&dir);
    let cache = temp.path().join("cache");

    let served = Served::start(&manifest, &cache);
    assert_eq!(request(served.addr, "GET", "/hello?x=1", ""), (200, "hello from warp: /hello?x=1\n".to_string()));
    assert_eq!(request(served.addr, "POST", "/", "ignored").0, 200);
    assert_eq!(served.terminate(), 0);

    // The second start finds the compiled code on disk.
    let served = Served::start(&manifest, &cache);
    assert_eq!(request(served.addr, "GET", "/", "").0, 200);
    let lines = served.stderr_lines();
    assert!(lines.iter().any(|l| l.contains("compiled code from cache")), "{lines:?}");
}

#[test]
fn runs_a_cli_component_with_args_and_env() {
    if !have_wasm_target() {
        return;
    }
    let (temp, dir) = template("rust-cli");
    let manifest = pack(&dir);
    let run =
        run(warp(Path::new(".")).arg("run").arg(&manifest).args(["--", "a", "b"]).env("WARP_CACHE_DIR", temp.path()));
    run.expect_code(0).stdout_has("howdy from warp a b");

    // The guest's exit status is passed through. WASI 0.2's `wasi:cli/exit`
    // carries only success or failure, so `exit(7)` arrives as failure (1),
    // exactly as under `wasmtime run`.
    std::fs::write(dir.join("src/main.rs"), "fn main() { println!(\"bye\"); std::process::exit(7); }\n").unwrap();
    let manifest = pack(&dir);
    self::run(warp(Path::new(".")).arg("run").arg(&manifest).env("WARP_CACHE_DIR", temp.path()))
        .expect_code(1)
        .stdout_has("bye");
}

#[test]
fn faults_fail_only_their_own_request_under_load() {
    if !have_wasm_target() {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("faults");
    copy_project(&repo().join("tests/fixtures/faults"), &dir);
    let manifest = pack(&dir);
    let served = Served::start(&manifest, &temp.path().join("cache"));
    let addr = served.addr;

    // Healthy traffic on two threads while the faults happen.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (mut ok, mut bad) = (0u32, 0u32);
                let deadline = std::time::Instant::now() + Duration::from_secs(60);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && std::time::Instant::now() < deadline {
                    match request(addr, "GET", "/", "") {
                        (200, body) if body == "ok\n" => ok += 1,
                        _ => bad += 1,
                    }
                }
                (ok, bad)
            })
        })
        .collect();

    let mut statuses = Vec::new();
    for _ in 0..2 {
        statuses.push(("trap", request(addr, "GET", "/trap", "").0));
        statuses.push(("loop", request(addr, "GET", "/loop", "").0));
        statuses.push(("oom", request(addr, "GET", "/oom", "").0));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, bad) = load.into_iter().map(|t| t.join().unwrap()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));

    eprintln!("faults: {statuses:?}; healthy requests meanwhile: {ok} ok, {bad} failed");
    assert_eq!(statuses, [("trap", 500), ("loop", 504), ("oom", 500), ("trap", 500), ("loop", 504), ("oom", 500)]);
    assert_eq!(bad, 0, "healthy requests failed while faults were served");
    assert!(ok > 10, "too few healthy requests got through: {ok}");
    assert_eq!(request(addr, "GET", "/", "").0, 200);
    let log = served.stderr_lines().join("\n");
    assert!(log.contains("GET /trap failed: guest trapped"), "{log}");
    assert!(log.contains("GET /loop failed: the request ran past its deadline"), "{log}");
}

#[test]
fn refuses_bad_manifests_before_running() {
    if !have_wasm_target() {
        return;
    }
    let (temp, dir) = template("rust-http");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    let cache = temp.path().join("cache");
    let warp_run = || {
        let mut cmd = warp(Path::new("."));
        cmd.arg("run").arg(&manifest).args(["--listen", "127.0.0.1:0"]).env("WARP_CACHE_DIR", &cache);
        cmd
    };

    write_edited_manifest(&manifest, &original, |value| {
        value["component"]["sha256"] = "ab".repeat(32).into();
    });
    run(&mut warp_run()).expect_code(2).stderr_has("field `component.sha256`");

    write_edited_manifest(&manifest, &original, |value| {
        value["schema"] = 2.into();
    });
    run(&mut warp_run()).expect_code(2).stderr_has("schema version 2");

    write_edited_manifest(&manifest, &original, |value| {
        value["component"]["path"] = "gone.wasm".into();
    });
    run(&mut warp_run()).expect_code(2).stderr_has("field `component.path`");

    write_edited_manifest(&manifest, &original, |value| {
        value["shims"] = serde_json::json!({ "signals": true });
    });
    run(&mut warp_run()).expect_code(2).stderr_has("enables shims (signals)");

    write_edited_manifest(&manifest, &original, |value| {
        value["shims"] = serde_json::json!({ "warp-drive": true });
    });
    run(&mut warp_run()).expect_code(2).stderr_has("unknown field `warp-drive`");
}
