//! `warp dev`: the real binary packs, serves on loopback and watches a
//! project; the tests edit its files as an editor would and watch what is
//! served, through its `--json` events and real HTTP.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{fixture, request, template, terminate, warp};

tests! {
    edits_swap_in_under_load_without_a_failed_request: [WasmTarget],
    a_broken_edit_shows_diagnostics_and_the_last_good_version_serves: [WasmTarget],
    saves_are_debounced_and_build_outputs_never_trigger: [WasmTarget],
    warp_toml_settings_apply_without_a_build_and_guests_get_hangup: [WasmTarget],
    go_edits_swap_in: [Go],
    ts_edits_swap_in: [Js],
    bun_edits_and_embedded_files_swap_in: [Bun],
    c_commands_rerun_on_save: [Clang, LibcMirror],
    terminal_output_has_rebuild_request_and_guest_lines: [WasmTarget],
}

/// How long a build may take here: a cold one compiles the guest's dependencies.
const BUILD: Duration = Duration::from_secs(300);

/// A running `warp dev --json`; killed on drop.
struct Dev {
    child: Child,
    addr: Option<SocketAddr>,
    events: std::sync::mpsc::Receiver<Value>,
    /// Every event so far, and whether a wait took it.
    seen: Vec<Value>,
    taken: Vec<bool>,
}

impl Dev {
    fn start(dir: &Path, extra: &[&str]) -> Dev {
        Dev::start_with_cache(dir, extra, &dir.join(".warp-cache"))
    }

    fn start_with_cache(dir: &Path, extra: &[&str], cache: &Path) -> Dev {
        let mut child = warp(dir)
            .args(["dev", "--json", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("WARP_CACHE_DIR", cache)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (tx, events) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                let _ = tx.send(value);
            }
        });
        Dev { child, addr: None, events, seen: Vec::new(), taken: Vec::new() }
    }

    /// Starts and waits until it serves (the first build done).
    fn serving(dir: &Path) -> Dev {
        Dev::serving_with(dir, &[])
    }

    fn serving_with(dir: &Path, extra: &[&str]) -> Dev {
        Dev::serving_from(Dev::start(dir, extra))
    }

    /// [`Dev::serving`] with warp's cache in `cache`.
    fn serving_in(dir: &Path, cache: &Path) -> Dev {
        Dev::serving_from(Dev::start_with_cache(dir, &[], cache))
    }

    fn serving_from(mut dev: Dev) -> Dev {
        let listening = dev.wait("listening", BUILD);
        let address = listening["address"].as_str().unwrap().trim_start_matches("http://");
        dev.addr = Some(address.parse().unwrap());
        assert_eq!(dev.wait("built", Duration::from_secs(10))["version"], 1);
        dev.wait("watching", Duration::from_secs(10));
        dev
    }

    fn addr(&self) -> SocketAddr {
        self.addr.expect("serving")
    }

    /// The first event named `name` that no earlier wait took (the
    /// server's and the loop's events interleave).
    #[track_caller]
    fn wait(&mut self, name: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            if let Some(at) = (0..self.seen.len()).find(|&i| !self.taken[i] && self.seen[i]["event"] == name) {
                self.taken[at] = true;
                return self.seen[at].clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) => {
                    self.seen.push(event);
                    self.taken.push(false);
                }
                Err(_) => panic!("no `{name}` event within {within:?}; saw {:#?}", self.seen),
            }
        }
    }

    /// The events that arrive within `within`.
    fn during(&mut self, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        let mut got = Vec::new();
        while let Ok(event) = self.events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            self.seen.push(event.clone());
            self.taken.push(false);
            got.push(event);
        }
        got
    }

    fn get(&self, path: &str) -> (u16, String) {
        request(self.addr(), "GET", path, "")
    }

    /// SIGTERM; the exit status.
    fn stop(mut self) -> i32 {
        terminate(&mut self.child, Duration::from_secs(15), "warp dev")
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 connection kept open across requests.
struct KeptAlive {
    reader: BufReader<std::net::TcpStream>,
}

impl KeptAlive {
    fn connect(addr: SocketAddr) -> KeptAlive {
        let stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        KeptAlive { reader: BufReader::new(stream) }
    }

    /// A GET on this connection: status and body (chunked or sized).
    fn get(&mut self, path: &str) -> (u16, String) {
        use std::io::{Read, Write};
        write!(self.reader.get_mut(), "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{line:?}"));
        let (mut length, mut chunked) = (None, false);
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            let header = line.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(value) = header.strip_prefix("content-length:") {
                length = value.trim().parse::<usize>().ok();
            }
            chunked |= header == "transfer-encoding: chunked";
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line).unwrap();
                let size = usize::from_str_radix(line.trim(), 16).unwrap();
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk).unwrap();
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else {
            let mut sized = vec![0; length.expect("a length or chunks")];
            self.reader.read_exact(&mut sized).unwrap();
            body = sized;
        }
        (status, String::from_utf8(body).unwrap())
    }
}

/// Rewrites `file` as an editor saving it does: the whole file replaced.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "`{from}` is not in {}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

fn names(events: &[Value]) -> Vec<String> {
    events.iter().filter_map(|e| e["event"].as_str().map(str::to_string)).collect()
}

fn rust_http() -> (tempfile::TempDir, PathBuf) {
    template("rust-http")
}

fn edits_swap_in_under_load_without_a_failed_request() {
    let (_temp, dir) = rust_http();
    let lib = dir.join("src/lib.rs");
    let mut dev = Dev::serving(&dir);
    assert_eq!(dev.get("/").1, "hello from warp: /\n");

    // Loopback clients, bounded in time and count, for the whole run.
    let (stop, ok, failed) =
        (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let addr = dev.addr();
    // Two clients open a connection per request, two keep theirs open
    // across the swaps, as browsers and load balancers do.
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (stop, ok, failed, failures) = (stop.clone(), ok.clone(), failed.clone(), failures.clone());
            std::thread::spawn(move || {
                let until = Instant::now() + Duration::from_secs(240);
                let mut kept = (client >= 2).then(|| KeptAlive::connect(addr));
                while !stop.load(Ordering::Relaxed) && Instant::now() < until && ok.load(Ordering::Relaxed) < 200_000 {
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &mut kept {
                        Some(connection) => connection.get("/load"),
                        None => request(addr, "GET", "/load", ""),
                    }));
                    match result {
                        Ok((200, body)) if body.ends_with(" from warp: /load\n") => ok.fetch_add(1, Ordering::Relaxed),
                        other => {
                            failures.lock().unwrap().push(format!("{other:?}"));
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();

    let mut previous = "hello".to_string();
    for swap in 1..=5 {
        let next = format!("swap{swap}");
        edit(&lib, &format!("{previous} from warp"), &format!("{next} from warp"));
        let built = dev.wait("built", BUILD);
        assert_eq!(built["version"], swap + 1, "{built}");
        assert_eq!(built["changed"][0].as_str().unwrap(), lib.canonicalize().unwrap().to_str().unwrap());
        assert_eq!(dev.get("/").1, format!("{next} from warp: /\n"), "after swap {swap}");
        previous = next;
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert_eq!(failed, 0, "{ok} served, {failed} failed: {:?}", failures.lock().unwrap());
    assert!(ok > 50, "the load client ran too little to mean anything: {ok} requests");
    assert_eq!(dev.stop(), 0);
}

fn a_broken_edit_shows_diagnostics_and_the_last_good_version_serves() {
    let (_temp, dir) = rust_http();
    let lib = dir.join("src/lib.rs");
    let mut dev = Dev::serving(&dir);

    edit(&lib, "let headers = Fields::new();", "let headers = Fields::new()");
    let failed = dev.wait("build-failed", BUILD);
    let diagnostics = failed["diagnostics"].as_str().unwrap_or_default();
    assert!(diagnostics.contains("src/lib.rs:"), "no file:line in {failed:#}");
    assert!(diagnostics.contains("expected `;`"), "not the compiler's message: {failed:#}");
    assert_eq!(failed["serving"], 1);
    assert_eq!(dev.get("/old"), (200, "hello from warp: /old\n".into()), "the last good version serves");

    // The fix, with a new response, is served.
    std::fs::write(
        &lib,
        std::fs::read_to_string(&lib)
            .unwrap()
            .replace("let headers = Fields::new()", "let headers = Fields::new();")
            .replace("hello from warp", "fixed"),
    )
    .unwrap();
    let built = dev.wait("built", BUILD);
    assert_eq!(built["version"], 2);
    assert_eq!(dev.get("/new"), (200, "fixed: /new\n".into()));
    assert_eq!(dev.stop(), 0);
}

fn saves_are_debounced_and_build_outputs_never_trigger() {
    let (_temp, dir) = rust_http();
    let lib = dir.join("src/lib.rs");
    // A window a busy machine cannot overrun between two writes.
    let mut dev = Dev::serving_with(&dir, &["--debounce", "400"]);
    // Serving and building read the sources; neither is a change.
    let idle = dev.during(Duration::from_secs(3));
    assert!(!names(&idle).contains(&"building".to_string()), "rebuilt on its own: {idle:#?}");

    // Two saves well within the window: one rebuild.
    edit(&lib, "hello from warp", "first from warp");
    edit(&lib, "first from warp", "second from warp");
    dev.wait("built", BUILD);
    let after = dev.during(Duration::from_secs(3));
    assert!(!names(&after).contains(&"building".to_string()), "a second rebuild: {after:#?}");
    let builds = names(&dev.seen).iter().filter(|n| *n == "building").count();
    assert_eq!(builds, 2, "the first build and one rebuild: {:#?}", dev.seen);
    assert_eq!(dev.get("/").1, "second from warp: /\n");

    // Writes into build outputs and dependencies' directories: nothing.
    std::fs::write(dir.join("target/notes.rs"), "fn main() {}").unwrap();
    let dev_out = dir.join("target/warp/dev");
    assert!(dev_out.join("rust-http.wasm").is_file(), "dev builds go to target/warp/dev");
    std::fs::write(dev_out.join("stray.txt"), "x").unwrap();
    std::fs::create_dir_all(dir.join("node_modules/x")).unwrap();
    std::fs::write(dir.join("node_modules/x/index.js"), "x").unwrap();
    // A file the build never read, beside one it did.
    std::fs::write(dir.join("src/scratch.txt"), "x").unwrap();
    let quiet = dev.during(Duration::from_secs(2));
    assert!(!names(&quiet).contains(&"building".to_string()), "{quiet:#?}");
    assert!(!dir.join("target/warp/rust-http.wasm").exists(), "warp dev never writes warp pack's output");
    assert_eq!(dev.stop(), 0);
}

fn warp_toml_settings_apply_without_a_build_and_guests_get_hangup() {
    let (_temp, dir) = fixture("shim-probe");
    let config = dir.join("warp.toml");
    let mut dev = Dev::serving(&dir);
    assert_eq!(dev.get("/env/GREETING"), (200, "hello".into()));
    assert_eq!(dev.get("/signal/subscribe/hangup"), (200, "true".into()));

    edit(&config, "GREETING = \"hello\"", "GREETING = \"edited\"");
    let built = dev.wait("built", Duration::from_secs(60));
    assert_eq!(built["settings_only"], true, "{built}");
    assert_eq!(built["version"], 2);
    let builds = names(&dev.seen).iter().filter(|n| *n == "building").count();
    assert_eq!(builds, 1, "only the first build ran: {:#?}", dev.seen);
    assert_eq!(dev.get("/env/GREETING"), (200, "edited".into()));
    assert_eq!(dev.get("/signal/poll"), (200, "Hangup".into()), "the guest got hangup");

    // A bad setting is refused with where it is; the last good one serves.
    edit(&config, "GREETING = \"edited\"", "GREETING = 5");
    let failed = dev.wait("build-failed", Duration::from_secs(60));
    assert!(failed["error"].as_str().unwrap().contains("warp.toml"), "{failed}");
    assert_eq!(dev.get("/env/GREETING"), (200, "edited".into()));

    // A build setting (here the world) is a rebuild.
    edit(&config, "GREETING = 5", "GREETING = \"third\"");
    dev.wait("built", Duration::from_secs(60));
    assert_eq!(dev.get("/env/GREETING"), (200, "third".into()));
    assert_eq!(dev.stop(), 0);
}

fn terminal_output_has_rebuild_request_and_guest_lines() {
    let (_temp, dir) = fixture("shim-probe");
    let mut child = warp(&dir)
        .args(["dev", "--listen", "127.0.0.1:0"])
        .env("WARP_CACHE_DIR", dir.join(".warp-cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    // stdout and stderr arrive in either order: a wait looks at every line
    // seen so far that no earlier wait matched.
    let mut seen: Vec<(String, bool)> = Vec::new();
    let mut wait = |needle: &str, within: Duration| -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some((line, matched)) = seen.iter_mut().find(|(l, m)| !*m && l.contains(needle)) {
                *matched = true;
                return line.clone();
            }
            match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => seen.push((line, false)),
                Err(_) => panic!("no line with {needle:?}; saw {seen:#?}"),
            }
        }
    };
    let listening = wait("listening on http://", BUILD);
    let addr: SocketAddr = listening.trim_start_matches("listening on http://").parse().unwrap();
    let built = wait("Built shim-probe in", Duration::from_secs(5));
    assert!(built.contains("serving v1"), "{built}");
    std::thread::spawn(move || request(addr, "GET", "/hold/release", ""));
    wait("[shim-probe] shim-probe: holding until /data/release exists", Duration::from_secs(10));
    std::fs::write(dir.join("data/release"), "").unwrap();
    let logged = wait("/hold/release 200 in", Duration::from_secs(10));
    assert!(logged.trim_start().starts_with("GET /hold/release 200 in "), "{logged}");
    edit(&dir.join("warp.toml"), "GREETING = \"hello\"", "GREETING = \"again\"");
    let line = wait("Reconfigured", Duration::from_secs(60));
    assert!(line.contains("shim-probe in") && line.contains("serving v2"), "{line}");
    let _ = child.kill();
    let _ = child.wait();
}

fn go_edits_swap_in() {
    let (_temp, dir) = fixture("go-stock");
    let main = dir.join("main.go");
    let mut dev = Dev::serving(&dir);
    let (status, body) = dev.get("/");
    assert!(status == 200 && body.starts_with("hello from stock Go"), "{status} {body}");
    edit(&main, "hello from stock Go", "edited stock Go");
    let built = dev.wait("built", BUILD);
    assert_eq!(built["version"], 2);
    let (status, body) = dev.get("/");
    assert!(status == 200 && body.starts_with("edited stock Go"), "{status} {body}");
    // The Go build never triggers itself (go.mod, go.sum, the overlay).
    let quiet = dev.during(Duration::from_secs(3));
    assert!(!names(&quiet).contains(&"building".to_string()), "{quiet:#?}");
    assert_eq!(dev.stop(), 0);
}

fn ts_edits_swap_in() {
    let (_temp, dir) = fixture("ts-hono");
    // The JS toolchain is where `warp toolchain install js` put it: warp's own cache.
    let cache = warp::fs::cache_root().unwrap();
    let mut dev = Dev::serving_in(&dir, &cache);
    assert_eq!(dev.get("/users/1"), (200, r#"{"id":1,"name":"ada"}"#.into()));
    edit(&dir.join("src/index.ts"), "name: 'ada'", "name: 'lovelace'");
    let built = dev.wait("built", BUILD);
    assert_eq!(built["version"], 2);
    assert_eq!(dev.get("/users/1"), (200, r#"{"id":1,"name":"lovelace"}"#.into()));
    // Nothing the build writes (node_modules from npm ci, target/warp/js) triggers another.
    let quiet = dev.during(Duration::from_secs(3));
    assert!(!names(&quiet).contains(&"building".to_string()), "{quiet:#?}");
    assert_eq!(dev.stop(), 0);
}

/// A Bun app under `warp dev`: an edit of a file it embeds (`Bun.file`)
/// is a source like its code.
fn bun_edits_and_embedded_files_swap_in() {
    let (_temp, dir) = fixture("bun-apis");
    let cache = warp::fs::cache_root().unwrap();
    let mut dev = Dev::serving_in(&dir, &cache);
    assert_eq!(dev.get("/asset"), (200, "hello from an embedded file\n".into()));
    edit(&dir.join("public/hello.txt"), "hello", "edited");
    let built = dev.wait("built", BUILD);
    assert_eq!(built["version"], 2);
    assert_eq!(dev.get("/asset"), (200, "edited from an embedded file\n".into()));
    edit(&dir.join("src/server.ts"), "not found", "nothing here");
    assert_eq!(dev.wait("built", BUILD)["version"], 3);
    assert_eq!(dev.get("/elsewhere"), (404, "nothing here\n".into()));
    assert_eq!(dev.stop(), 0);
}

fn c_commands_rerun_on_save() {
    let (_temp, dir) = fixture("c-shims");
    let main = dir.join("src/main.c");
    let cache = crate::libc::shared_cache();
    let mut dev = Dev::start_with_cache(&dir, &["--", "db.production.warp.local"], &cache);
    let ran = dev.wait("ran", BUILD);
    assert_eq!((ran["version"].clone(), ran["code"].clone()), (1.into(), 0.into()), "{ran}");
    assert!(
        dev.seen.iter().any(|e| e["event"] == "guest-output" && e["line"].as_str().unwrap().contains("10.0.0.7")),
        "the command's output comes as guest-output events: {:#?}",
        dev.seen
    );
    edit(
        &main,
        "int main(int argc, char **argv) {",
        "int main(int argc, char **argv) {\n    fprintf(stderr, \"edited by the test\\n\");",
    );
    let ran = dev.wait("ran", BUILD);
    assert_eq!(ran["version"], 2, "{ran}");
    assert!(
        dev.seen
            .iter()
            .any(|e| e["event"] == "guest-output" && e["stream"] == "stderr" && e["line"] == "edited by the test"),
        "{:#?}",
        dev.seen
    );
    assert_eq!(dev.stop(), 0);
}
