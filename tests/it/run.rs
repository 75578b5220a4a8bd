//! `warp run`: real components served over real HTTP on loopback, CLI
//! components run to their exit code, faults contained per request.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;

tests! {
    serves_the_http_template_and_restarts_from_the_cache: [WasmTarget],
    runs_a_cli_component_with_args_and_env: [WasmTarget],
    faults_fail_only_their_own_request_under_load: [WasmTarget],
    refuses_bad_manifests_before_running: [WasmTarget],
    a_full_instance_pool_answers_503_and_recovers: [WasmTarget],
    json_logs_are_one_event_per_line: [WasmTarget],
    a_reload_keeps_the_engine_unless_the_limits_change: [WasmTarget],
    slow_clients_and_idle_connections_are_cut_off: [WasmTarget],
    accept_failures_back_off_at_the_open_file_limit: [WasmTarget],
    a_stop_lets_a_streamed_response_finish_or_reports_it_cut_short: [WasmTarget],
    an_aborted_request_is_counted_and_a_stuck_reload_never_blocks_a_stop: [WasmTarget],
    the_compiled_code_cache_runs_only_its_own_code: [WasmTarget],
    memory_is_limited_by_default_and_the_route_is_honoured: [WasmTarget],
    busy_guests_never_hold_up_other_requests_or_a_stop: [WasmTarget],
    guest_output_never_waits_on_a_stalled_reader: [WasmTarget],
    trickled_bodies_get_408_and_memory_past_the_total_gets_503: [WasmTarget],
    client_mistakes_get_4xx_and_an_idle_server_stops_at_once: [WasmTarget],
    a_low_open_file_limit_still_leaves_room_for_clients: [WasmTarget],
    fifos_planted_in_the_compiled_code_cache_are_never_waited_on: [WasmTarget],
}

fn serves_the_http_template_and_restarts_from_the_cache() {
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
    served.wait_for_stderr("compiled code from cache");
}

fn runs_a_cli_component_with_args_and_env() {
    let (temp, dir) = template("rust-cli");
    let manifest = pack(&dir);
    let run =
        run(warp(Path::new(".")).arg("run").arg(&manifest).args(["--", "a", "b"]).env("WARP_CACHE_DIR", temp.path()));
    run.expect_code(0).stdout_has("howdy from warp a b");

    // The guest's exit status is passed through. WASI 0.2's `wasi:cli/exit`
    // carries only success or failure, so `exit(7)` arrives as failure (1),
    // exactly as under `wasmtime run`.
    std::fs::write(dir.join("src/main.rs"), "fn main() { println!(\"bye\"); std::process::exit(7); }\n").unwrap();
    let compiled = |dir: &Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.join("compiled")).unwrap().flatten().map(|e| e.path()).collect()
    };
    let first = compiled(temp.path());
    assert_eq!(first.len(), 1, "{first:?}");
    let manifest = pack(&dir);
    // A cache bound below one entry keeps only the newest (the one in use).
    self::run(
        warp(Path::new("."))
            .arg("run")
            .arg(&manifest)
            .env("WARP_CACHE_DIR", temp.path())
            .env("WARP_CACHE_MAX_COMPILED", "1"),
    )
    .expect_code(1)
    .stdout_has("bye");
    let second = compiled(temp.path());
    assert_eq!(second.len(), 1, "the older compiled component is evicted: {second:?}");
    assert_ne!(second, first);
}

fn faults_fail_only_their_own_request_under_load() {
    let (temp, dir) = fixture("faults");
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
    served.wait_for_stderr("GET /trap failed: guest trapped");
    served.wait_for_stderr("GET /loop failed: the request ran past its deadline");
}

fn refuses_bad_manifests_before_running() {
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

    let not_pem = manifest.parent().unwrap().join("not-a-ca.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    for (ca, says) in [("missing-ca.pem", "not a readable PEM file"), ("not-a-ca.pem", "holds no certificates")] {
        write_edited_manifest(&manifest, &original, |value| {
            value["shims"] = serde_json::json!({ "database": [
                { "protocol": "redis", "host": "cache", "port": 6379 },
                { "protocol": "postgres", "host": "db", "port": 5432, "tls": true, "ca": ca },
            ] });
        });
        run(&mut warp_run()).expect_code(2).stderr_has(says).stderr_has("field `shims.database[1].ca`");
    }

    write_edited_manifest(&manifest, &original, |value| {
        value["shims"] = serde_json::json!({ "warp-drive": true });
    });
    run(&mut warp_run()).expect_code(2).stderr_has("unknown field `warp-drive`");

    // The component must be a regular file in the manifest's directory or
    // below, unless the user allows otherwise; a device never is read.
    let value: serde_json::Value = serde_json::from_str(&original).unwrap();
    let component = manifest.parent().unwrap().join(value["component"]["path"].as_str().unwrap());
    let outside = temp.path().join("outside.wasm");
    std::fs::copy(&component, &outside).unwrap();
    // The digest is wrong too, so a warp without the check fails fast
    // (exit 2 on the digest) instead of serving.
    for path in [outside.to_str().unwrap(), "../../../outside.wasm", "/dev/zero"] {
        write_edited_manifest(&manifest, &original, |value| {
            value["component"]["path"] = path.into();
            value["component"]["sha256"] = "ab".repeat(32).into();
        });
        run(&mut warp_run())
            .expect_code(2)
            .stderr_has("names a component outside its directory (field `component.path`)");
    }
    write_edited_manifest(&manifest, &original, |value| value["component"]["path"] = "/dev/zero".into());
    run(warp_run().arg("--allow-component-outside")).expect_code(2).stderr_has("it is a device, not a regular file");
    write_edited_manifest(&manifest, &original, |value| {
        value["component"]["path"] = outside.to_str().unwrap().into();
    });
    let served =
        Served::start_with(warp(Path::new(".")).arg("run").arg(&manifest).arg("--allow-component-outside"), &cache);
    assert_eq!(request(served.addr, "GET", "/", "").0, 200);
}

fn a_full_instance_pool_answers_503_and_recovers() {
    let (temp, dir) = fixture("faults");
    let config = std::fs::read_to_string(dir.join("warp.toml")).unwrap() + "instances = 1\n";
    std::fs::write(dir.join("warp.toml"), config).unwrap();
    let manifest = pack(&dir);
    let served = Served::start(&manifest, &temp.path().join("cache"));
    let addr = served.addr;

    // The one instance waits for the rest of a request body, which this
    // test holds back: the guest says on stderr once it holds the slot, and
    // the slot frees up when the test sends the rest (no deadline to race).
    let mut holding = std::net::TcpStream::connect(addr).unwrap();
    holding.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    holding.write_all(b"POST /hold HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: 5\r\n\r\nh").unwrap();
    served.wait_for_stderr("faults: /hold is holding");
    assert_eq!(request(addr, "GET", "/", ""), (503, "503 Service Unavailable\n".to_string()));
    holding.write_all(b"ello").unwrap();
    let mut answer = String::new();
    holding.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The instance is dropped just after its response went out: wait until
    // the slot is back (503 until then), with a deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match request(addr, "GET", "/", "").0 {
            200 => break,
            503 if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            status => panic!("the slot did not come back: {status}"),
        }
    }
    served.wait_for_stderr("GET / failed: no free instance slot (pool exhausted)");
}

/// `warp run --json MANIFEST` on a free port, and a reader of its events
/// (one JSON object per line), which sets aside `guest-output` events
/// (what guests print) in the vector returned with it.
#[allow(clippy::type_complexity)]
fn run_json(
    manifest: &Path,
    cache: &Path,
) -> (
    std::process::Child,
    impl FnMut() -> serde_json::Value + use<>,
    std::rc::Rc<std::cell::RefCell<Vec<serde_json::Value>>>,
) {
    use std::io::BufRead;
    let mut child = warp(Path::new("."))
        .args(["run", "--json", "--listen", "127.0.0.1:0"])
        .arg(manifest)
        .env("WARP_CACHE_DIR", cache)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines().map(|l| l.unwrap());
    let output = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let set_aside = output.clone();
    let next_event = move || loop {
        let event: serde_json::Value = serde_json::from_str(&lines.next().unwrap()).unwrap();
        if event["event"] != "guest-output" {
            return event;
        }
        set_aside.borrow_mut().push(event);
    };
    (child, next_event, output)
}

fn json_logs_are_one_event_per_line() {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let (mut child, mut next_event, output) = run_json(&manifest, &temp.path().join("cache"));

    let listening = next_event();
    assert_eq!(listening["event"], "listening", "{listening}");
    let addr = listening["address"].as_str().unwrap().strip_prefix("http://").unwrap().parse().unwrap();
    assert_eq!(request(addr, "GET", "/trap", "").0, 500);
    let failed = next_event();
    assert_eq!(
        (&failed["event"], &failed["status"], &failed["uri"]),
        (&"request-failed".into(), &500.into(), &"/trap".into())
    );
    assert!(failed["reason"].as_str().unwrap().contains("guest trapped"), "{failed}");
    // What the guest printed comes as events too, never as raw bytes
    // between the lines: its panic message on stderr, 64 KiB on stdout.
    // (The reload's event marks the point by which they have all come.)
    assert_eq!(request(addr, "GET", "/print?kib=64", "").0, 200);
    std::process::Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap();
    assert_eq!(next_event()["event"], "reloaded");
    let printed = output.borrow().clone();
    assert!(
        printed.iter().any(|e| e["stream"] == "stderr" && e["line"].as_str().unwrap().contains("asked to trap")),
        "{printed:#?}"
    );
    let stdout: usize =
        printed.iter().filter(|e| e["stream"] == "stdout").map(|e| e["line"].as_str().unwrap().len()).sum();
    assert_eq!(stdout, 65535, "one 64 KiB line (in 16 KiB pieces) and its newline");

    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert_eq!(next_event()["event"], "stopping");
    let stopped = next_event();
    assert_eq!((&stopped["event"], &stopped["failed"]), (&"stopped".into(), &1.into()), "{stopped}");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

fn a_reload_keeps_the_engine_unless_the_limits_change() {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    let (mut child, mut next_event, _output) = run_json(&manifest, &temp.path().join("cache"));
    let kill = |signal: &str| {
        std::process::Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    };

    let listening = next_event();
    let addr = listening["address"].as_str().unwrap().strip_prefix("http://").unwrap().parse().unwrap();
    write_edited_manifest(&manifest, &original, |value| value["env"]["NOTE"] = "settings only".into());
    kill("-HUP");
    let reloaded = next_event();
    assert_eq!(
        (&reloaded["event"], &reloaded["swapped"], &reloaded["engine_reused"]),
        (&"reloaded".into(), &false.into(), &true.into()),
        "{reloaded}"
    );
    // The pool is sized by the memory limit: a new limit needs a new engine,
    // and the guest still runs (and traps) on it.
    write_edited_manifest(&manifest, &original, |value| value["limits"]["memory"] = 64_000_000.into());
    kill("-HUP");
    let reloaded = next_event();
    assert_eq!((&reloaded["event"], &reloaded["engine_reused"]), (&"reloaded".into(), &false.into()), "{reloaded}");
    assert_eq!(request(addr, "GET", "/trap", "").0, 500);
    assert_eq!(next_event()["event"], "request-failed");

    kill("-TERM");
    assert_eq!(next_event()["event"], "stopping");
    assert_eq!(next_event()["event"], "stopped");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// The faults fixture packed, its manifest edited by `edit`, and served.
fn faults_served(edit: impl FnOnce(&mut serde_json::Value)) -> (tempfile::TempDir, std::path::PathBuf, Served) {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    write_edited_manifest(&manifest, &original, edit);
    let served = Served::start(&manifest, &temp.path().join("cache"));
    (temp, manifest, served)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream
}

/// `warp run MANIFEST` under `ulimit -n 64` (soft and hard).
fn under_ulimit_n_64(manifest: &Path) -> std::process::Command {
    let mut command = std::process::Command::new("sh");
    command
        .args(["-c", "ulimit -n 64 && exec \"$@\"", "sh", env!("CARGO_BIN_EXE_warp"), "run"])
        .arg(manifest)
        .env("NO_COLOR", "1");
    command
}

/// `n` connections each sending `request` (raw bytes, perhaps a part of
/// one), once the guest has said `started` for each of them.
fn raw_requests(served: &Served, n: usize, request: &[u8], started: &str) -> Vec<TcpStream> {
    let streams = (0..n)
        .map(|_| {
            let mut stream = connect(served.addr);
            stream.write_all(request).unwrap();
            stream
        })
        .collect();
    for _ in 0..n {
        served.wait_for_stderr(started);
    }
    streams
}

/// Reads until the server closes the connection; how long that took.
#[track_caller]
fn time_until_closed(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut sink = Vec::new();
    match stream.read_to_end(&mut sink) {
        Ok(_) => started.elapsed(),
        Err(e) => panic!("the server did not close the connection within 10 s: {e}"),
    }
}

/// Reads one response head (up to its blank line) and returns it.
fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the connection closed in the head: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// The acceptance test of issue 9's slow clients, then the connection
/// clock: four clients that send 3 bytes of a 1000-byte body hold all four
/// instance slots, and a healthy client still gets 200 within the request
/// deadline (1 s) plus 1 s; a half-sent head, a silent connection and an
/// idle keep-alive connection are closed by their timeouts; past
/// `limits.connections`, a client waits until a connection closes.
fn slow_clients_and_idle_connections_are_cut_off() {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    write_edited_manifest(&manifest, &original, |value| {
        value["limits"]["instances"] = 4.into();
        value["limits"]["header_timeout"] = "1s".into();
        value["limits"]["idle_timeout"] = "1s".into();
    });
    let served = Served::start(&manifest, &temp.path().join("cache"));
    let addr = served.addr;
    let mut slow = raw_requests(
        &served,
        4,
        b"POST /hold HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\nabc",
        "faults: /hold is holding",
    );
    let started = Instant::now();
    let mut refused = 0;
    loop {
        match request(addr, "GET", "/", "") {
            (200, body) => {
                assert_eq!(body, "ok\n");
                break;
            }
            (503, _) if started.elapsed() < Duration::from_secs(2) => refused += 1,
            (status, body) => panic!("after {:?}: {status} {body}", started.elapsed()),
        }
    }
    assert!(started.elapsed() <= Duration::from_secs(2), "the healthy client waited {:?}", started.elapsed());
    eprintln!("healthy client: 200 after {:?} ({refused} × 503 while the slots were held)", started.elapsed());
    for stream in &mut slow {
        assert!(read_head(stream).starts_with("HTTP/1.1 504"));
    }
    served.wait_for_stderr("POST /hold failed: the request ran past its deadline");

    // A half-sent head, and a connection that sends nothing: the header timeout.
    let mut half = connect(addr);
    half.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    let mut silent = connect(addr);
    assert!(time_until_closed(&mut half) < Duration::from_secs(3));
    assert!(time_until_closed(&mut silent) < Duration::from_secs(3));
    // An idle keep-alive connection: the idle timeout.
    let mut idle = connect(addr);
    idle.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    assert!(read_head(&mut idle).starts_with("HTTP/1.1 200"));
    assert!(time_until_closed(&mut idle) < Duration::from_secs(3));

    // Two connections at most (default timeouts): a third client is answered
    // only once one of two silent connections closes.
    drop(served);
    write_edited_manifest(&manifest, &original, |value| value["limits"]["connections"] = 2.into());
    let served = Served::start(&manifest, &temp.path().join("cache"));
    let mut silent: Vec<TcpStream> = (0..2).map(|_| connect(served.addr)).collect();
    let mut waiting = connect(served.addr);
    waiting.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    waiting.write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
    let early = waiting.read(&mut [0u8; 1]);
    assert!(early.is_err(), "answered past the connection cap: {early:?}");
    silent.pop();
    waiting.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(read_head(&mut waiting).starts_with("HTTP/1.1 200"));
}

/// At the open-file limit `accept` fails; warp pauses between attempts
/// (no core spun), logs the burst once, and serves again once descriptors
/// are free.
fn accept_failures_back_off_at_the_open_file_limit() {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    // More connections allowed than descriptors: the limit is what stops accept.
    write_edited_manifest(&manifest, &original, |value| value["limits"]["connections"] = 10_000.into());
    let served = Served::start_with(&mut under_ulimit_n_64(&manifest), &temp.path().join("cache"));
    let held: Vec<TcpStream> = (0..100).map(|_| connect(served.addr)).collect();
    served.wait_for_stderr("accept failed: Too many open files");

    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", served.child.id())).unwrap();
        let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    };
    let (before, started) = (cpu(), Instant::now());
    // A window to measure in, not a wait for an event.
    std::thread::sleep(Duration::from_secs(2));
    let ticks = cpu() - before;
    let per_second = ticks as f64 / started.elapsed().as_secs_f64();
    eprintln!("at the open-file limit: {per_second:.1} CPU ticks per second");
    assert!(per_second < 20.0, "warp spins while accept fails: {per_second:.1} ticks/s (100 = one core)");
    let failures = served.stderr_lines().iter().filter(|line| line.contains("accept failed")).count();
    assert_eq!(failures, 1, "{:#?}", served.stderr_lines());

    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = std::panic::catch_unwind(|| request(served.addr, "GET", "/", "").0);
        match attempt {
            Ok(200) => break,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            other => panic!("warp did not serve again once descriptors were free: {other:?}"),
        }
    }
}

/// The acceptance test of issue 9's streaming stop: a SIGTERM during a
/// streamed response lets it finish within the drain deadline (exit 0, the
/// whole body); a response that cannot finish by then (its client stopped
/// reading) is cut short and reported as a failure, with exit 1.
fn a_stop_lets_a_streamed_response_finish_or_reports_it_cut_short() {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    let cache = temp.path().join("cache");
    let start_streaming = |served: &Served| {
        let mut client = connect(served.addr);
        client.write_all(b"GET /stream?mib=16 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
        assert!(read_head(&mut client).starts_with("HTTP/1.1 200"));
        served.wait_for_stderr("faults: /stream is streaming");
        client
    };
    let terminate = |served: &Served| {
        std::process::Command::new("kill").args(["-TERM", &served.child.id().to_string()]).status().unwrap();
        served.wait_for_stderr("Stopping");
    };

    write_edited_manifest(&manifest, &original, |value| {
        value["limits"]["request_timeout"] = "30s".into();
        value["limits"]["drain_timeout"] = "10s".into();
    });
    let served = Served::start(&manifest, &cache);
    let mut client = start_streaming(&served);
    // The client reads nothing until the stop has begun, so the response
    // is surely in flight when it does.
    terminate(&served);
    let mut body = Vec::new();
    client.read_to_end(&mut body).unwrap();
    let body = String::from_utf8(body).unwrap();
    let (code, lines) = served.stop();
    let streamed: usize = body
        .split("\r\n")
        .collect::<Vec<_>>()
        .chunks(2)
        .map_while(|pair| Some(usize::from_str_radix(pair[0], 16).ok()?).filter(|&n| n > 0))
        .sum();
    assert_eq!(streamed, 16 << 20, "the streamed body was cut short");
    assert!(body.ends_with("0\r\n\r\n"), "the chunked body did not end");
    assert_eq!(code, 0, "{lines:#?}");
    assert!(lines.iter().any(|line| line.contains("1 requests served, 0 failed")), "{lines:#?}");

    write_edited_manifest(&manifest, &original, |value| {
        value["limits"]["request_timeout"] = "30s".into();
        value["limits"]["drain_timeout"] = "1s".into();
    });
    let served = Served::start(&manifest, &cache);
    let _stalled = start_streaming(&served);
    let started = Instant::now();
    let (code, lines) = served.stop();
    assert!(started.elapsed() < Duration::from_secs(5), "the stop took {:?}", started.elapsed());
    assert_eq!(code, 1, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|line| line.contains("GET /stream?mib=16 failed: cut short by the stop (its response cut off)")),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|line| line.contains("1 failed (1 cut short by the stop)")), "{lines:#?}");
}

/// A request whose client goes away is counted and logged as aborted, and
/// no longer counts as in flight, so a later stop is prompt. A reload whose
/// manifest is now a FIFO is refused at once (never waited on), and a stop
/// after it still works.
fn an_aborted_request_is_counted_and_a_stuck_reload_never_blocks_a_stop() {
    let (_temp, manifest, served) = faults_served(|_| {});
    // The client sends its request and hangs up while the guest computes.
    let mut client = connect(served.addr);
    client.write_all(b"GET /loop HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    served.wait_for_stderr("faults: /loop is looping");
    drop(client);
    served.wait_for_stderr("GET /loop aborted: the connection closed before the response began");

    std::fs::remove_file(&manifest).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(&manifest).status().unwrap().success());
    std::process::Command::new("kill").args(["-HUP", &served.child.id().to_string()]).status().unwrap();
    let lines = served.wait_for_stderr("it is a FIFO, not a regular file");
    assert!(lines.iter().any(|line| line.contains("warning: reload failed; still serving the previous version")));
    assert_eq!(request(served.addr, "GET", "/", "").0, 200);
    // A HEAD response has no body to send: served, not aborted.
    assert_eq!(request(served.addr, "HEAD", "/", "").0, 200);

    let started = Instant::now();
    let (code, lines) = served.stop();
    assert_eq!(code, 0, "{lines:#?}");
    assert!(started.elapsed() < Duration::from_secs(3), "the stop waited {:?}", started.elapsed());
    assert!(lines.iter().any(|line| line.contains("2 requests served, 0 failed, 1 aborted")), "{lines:#?}");
}

/// The acceptance test of issue 9's cache: another component's compiled
/// code copied over this one's cache entry is not run (the right code
/// answers), and a damaged entry is compiled again, then used from the
/// cache once rewritten.
fn the_compiled_code_cache_runs_only_its_own_code() {
    let (temp, hello_dir) = template("rust-http");
    let hello = pack(&hello_dir);
    let (_faults_temp, faults_dir) = fixture("faults");
    let faults = pack(&faults_dir);
    let cache = temp.path().join("cache");
    let entry_of = |manifest: &Path| -> std::path::PathBuf {
        let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
        let sha256 = value["component"]["sha256"].as_str().unwrap().to_string();
        let mut entries = std::fs::read_dir(cache.join("compiled")).unwrap().flatten().map(|e| e.path());
        entries.find(|p| p.to_string_lossy().ends_with(&format!("-{sha256}.cwasm"))).unwrap()
    };
    let serve_hello = |from_cache: bool| {
        let served = Served::start(&hello, &cache);
        let lines = served.wait_for_stderr("Serving");
        let serving = lines.iter().find(|line| line.contains("Serving")).unwrap();
        assert_eq!(serving.contains("compiled code from cache"), from_cache, "{serving}");
        assert_eq!(request(served.addr, "GET", "/hello", ""), (200, "hello from warp: /hello\n".to_string()));
    };
    for manifest in [&hello, &faults] {
        let served = Served::start(manifest, &cache);
        assert_eq!(request(served.addr, "GET", "/", "").0, 200);
    }
    let (hello_entry, faults_entry) = (entry_of(&hello), entry_of(&faults));

    std::fs::copy(&faults_entry, &hello_entry).unwrap();
    serve_hello(false);
    let mut damaged = std::fs::read(&hello_entry).unwrap();
    let middle = damaged.len() / 2;
    for byte in &mut damaged[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    std::fs::write(&hello_entry, damaged).unwrap();
    serve_hello(false);
    serve_hello(true);
}

/// Without `limits.memory`, an instance gets the default (128 MiB): a guest
/// that allocates without end fails at it, and warp's memory stays far
/// below the 4 GiB it used to reach. `http.route` is honoured: paths
/// outside it answer 404 without reaching the guest.
fn memory_is_limited_by_default_and_the_route_is_honoured() {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    // A deadline long enough that the memory limit is what stops `/oom`.
    write_edited_manifest(&manifest, &original, |value| {
        value["limits"].as_object_mut().unwrap().remove("memory");
        value["limits"]["request_timeout"] = "30s".into();
    });
    let served = Served::start(&manifest, &temp.path().join("cache"));
    assert_eq!(request(served.addr, "GET", "/oom", "").0, 500);
    served.wait_for_stderr("forcing trap when growing memory");
    let status = std::fs::read_to_string(format!("/proc/{}/status", served.child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    eprintln!("peak resident memory after /oom: {} MiB", peak_kib / 1024);
    assert!(peak_kib < 1 << 20, "warp reached {} MiB", peak_kib / 1024);

    write_edited_manifest(&manifest, &original, |value| value["http"]["route"] = "/api".into());
    std::process::Command::new("kill").args(["-HUP", &served.child.id().to_string()]).status().unwrap();
    served.wait_for_stderr("Reloaded");
    assert_eq!(request(served.addr, "GET", "/api", ""), (200, "ok\n".to_string()));
    assert_eq!(request(served.addr, "GET", "/api/v1?x=1", ""), (200, "ok\n".to_string()));
    for outside in ["/", "/apiary", "/other/api"] {
        assert_eq!(request(served.addr, "GET", outside, "").0, 404, "{outside}");
    }
}

/// A GET of `path` and how long its answer took.
fn timed_get(addr: SocketAddr, path: &str) -> ((u16, String), Duration) {
    let started = Instant::now();
    let answer = request(addr, "GET", path, "");
    (answer, started.elapsed())
}

/// Issue 27's busy guests: four guests computing without end on a 2-core
/// machine (a 10 s deadline) do not hold up a healthy request (under 1 s),
/// and SIGTERM stops warp within `limits.drain_timeout` plus 1 s, the four
/// cut short.
fn busy_guests_never_hold_up_other_requests_or_a_stop() {
    let (_temp, _manifest, served) = faults_served(|value| {
        value["limits"]["request_timeout"] = "10s".into();
        value["limits"]["drain_timeout"] = "2s".into();
    });
    let addr = served.addr;
    // Raw requests: these are cut short by the stop, with no answer to read.
    let loops = raw_requests(&served, 4, b"GET /loop HTTP/1.1\r\nHost: test\r\n\r\n", "faults: /loop is looping");
    for _ in 0..5 {
        let (answer, took) = timed_get(addr, "/");
        assert_eq!(answer, (200, "ok\n".to_string()));
        assert!(took < Duration::from_secs(1), "a healthy request beside 4 busy guests took {took:?}");
    }
    let (answer, took) = timed_get(addr, "/busy?ms=300");
    assert_eq!(answer.0, 200, "{answer:?}");
    assert!(took < Duration::from_secs(3), "300 ms of compute beside 4 busy guests took {took:?}");

    let started = Instant::now();
    let (code, lines) = served.stop();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "the stop took {took:?} (drain_timeout 2s)");
    assert_eq!(code, 1, "the loops were cut short: {lines:#?}");
    assert!(lines.iter().any(|line| line.contains("4 cut short by the stop")), "{lines:#?}");
    drop(loops);
}

/// Issue 27's stalled reader: a guest writes 1 GiB to stdout while
/// nobody reads `warp run`'s stdout. Other requests are not delayed, the
/// guest is not held up either (what does not fit is dropped), and the
/// drop is reported.
fn guest_output_never_waits_on_a_stalled_reader() {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    write_edited_manifest(&manifest, &original, |value| value["limits"]["request_timeout"] = "60s".into());
    let mut child = warp(Path::new("."))
        .arg("run")
        .arg(&manifest)
        .args(["--listen", "127.0.0.1:0"])
        .env("WARP_CACHE_DIR", temp.path().join("cache"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read the address a byte at a time, then leave stdout unread (open).
    let mut stdout = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1);
        line.push(byte[0]);
    }
    let line = String::from_utf8(line).unwrap();
    let addr: SocketAddr = line.trim().strip_prefix("listening on http://").unwrap().parse().unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::BufReader::new(stderr).read_to_string(&mut text);
        text
    });

    let printer = std::thread::spawn(move || timed_get(addr, "/print?mib=1024"));
    let mut slowest = Duration::ZERO;
    while !printer.is_finished() {
        let (answer, took) = timed_get(addr, "/");
        assert_eq!(answer.0, 200);
        slowest = slowest.max(took);
    }
    let (answer, took) = printer.join().unwrap();
    assert_eq!(answer, (200, "printed\n".to_string()));
    eprintln!("1 GiB to a stalled stdout took {took:?}; the slowest healthy request beside it {slowest:?}");
    assert!(slowest < Duration::from_secs(1), "a healthy request waited {slowest:?}");
    assert_eq!(terminate(&mut child, Duration::from_secs(5), "warp run"), 0);
    drop(stdout);
    let stderr = reader.join().unwrap();
    assert!(stderr.contains("bytes of guest stdout output: warp's stdout was not read fast enough"), "{stderr}");
}

/// Issue 27's slow bodies and memory: a client that stalls its body past
/// `limits.body_timeout`, or trickles it below 240 bytes/s, gets 408 and
/// frees its instance while a healthy client gets 200; a guest that would
/// grow past `limits.total_memory` gets 503, and so does every request
/// when the total cannot hold even one instance.
fn trickled_bodies_get_408_and_memory_past_the_total_gets_503() {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    write_edited_manifest(&manifest, &original, |value| {
        value["limits"]["request_timeout"] = "30s".into();
        value["limits"]["body_timeout"] = "1s".into();
        value["limits"]["total_memory"] = "24MB".into();
    });
    let served = Served::start(&manifest, &temp.path().join("cache"));
    let addr = served.addr;

    let started = Instant::now();
    let mut stalled = connect(addr);
    stalled.write_all(b"POST /hold HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\nabc").unwrap();
    assert!(read_head(&mut stalled).starts_with("HTTP/1.1 408"));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "a stalled body was answered after {took:?}");

    let trickler = std::thread::spawn(move || {
        let started = Instant::now();
        let mut stream = connect(addr);
        stream.write_all(b"POST /hold HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n").unwrap();
        // A byte every 400 ms: inside the body timeout, far below the rate.
        for _ in 0..40 {
            if stream.write_all(b"x").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(400));
            stream.set_nonblocking(true).unwrap();
            let mut peek = [0u8; 1];
            let answered = stream.peek(&mut peek).is_ok_and(|n| n > 0);
            stream.set_nonblocking(false).unwrap();
            if answered {
                break;
            }
        }
        (read_head(&mut stream), started.elapsed())
    });
    assert_eq!(request(addr, "GET", "/", ""), (200, "ok\n".to_string()));
    let (head, took) = trickler.join().unwrap();
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(took < Duration::from_secs(10), "a trickled body was answered after {took:?}");
    served.wait_for_stderr("POST /hold failed: the client sent its body too slowly");

    // `/oom` grows until the total (24 MB, below its own 32 MB) stops it.
    assert_eq!(request(addr, "GET", "/oom", "").0, 503);
    served.wait_for_stderr("limits.total_memory");
    assert_eq!(request(addr, "GET", "/", ""), (200, "ok\n".to_string()), "the memory was given back");
    drop(served);
    write_edited_manifest(&manifest, &original, |value| value["limits"]["total_memory"] = "64KiB".into());
    let served = Served::start(&manifest, &temp.path().join("cache"));
    assert_eq!(request(served.addr, "GET", "/", "").0, 503);
}

/// A request without `Host` is 400 and `CONNECT` 501, from warp, counted
/// as served; an idle server stops at once on SIGTERM.
fn client_mistakes_get_4xx_and_an_idle_server_stops_at_once() {
    let (_temp, _manifest, served) = faults_served(|_| {});
    for (request, status) in [
        (&b"GET / HTTP/1.0\r\n\r\n"[..], "400"),
        (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", "501"),
    ] {
        let mut stream = connect(served.addr);
        stream.write_all(request).unwrap();
        let head = read_head(&mut stream);
        assert_eq!(head.split(' ').nth(1), Some(status), "{head}");
    }
    assert_eq!(request(served.addr, "GET", "/", "").0, 200);
    let started = Instant::now();
    let (code, lines) = served.stop();
    let took = started.elapsed();
    assert_eq!(code, 0);
    assert!(lines.iter().any(|line| line.contains("3 requests served, 0 failed")), "{lines:#?}");
    assert!(took < Duration::from_millis(500), "an idle server took {took:?} to stop");
}

/// Under `ulimit -n 64` (soft and hard) the connection cap keeps a quarter
/// of the descriptors for the rest, not all 64: it is logged, and an idle
/// client does not keep a healthy one waiting.
fn a_low_open_file_limit_still_leaves_room_for_clients() {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let served = Served::start_with(&mut under_ulimit_n_64(&manifest), &temp.path().join("cache"));
    served.wait_for_stderr("up to 48 connections");
    let _idle = connect(served.addr);
    let (answer, took) = timed_get(served.addr, "/");
    assert_eq!(answer.0, 200);
    assert!(took < Duration::from_secs(1), "beside one idle client a request took {took:?}");
}

/// Every entry of the per-function compiled-code cache replaced by a FIFO:
/// `warp run` compiles instead of waiting on them, and serves.
fn fifos_planted_in_the_compiled_code_cache_are_never_waited_on() {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let cache = temp.path().join("cache");
    let served = Served::start(&manifest, &cache);
    assert_eq!(request(served.addr, "GET", "/", "").0, 200);
    assert_eq!(served.terminate(), 0);
    std::fs::remove_dir_all(cache.join("compiled")).unwrap();
    let mut planted = 0;
    for version in std::fs::read_dir(cache.join("functions")).unwrap().flatten() {
        for entry in std::fs::read_dir(version.path()).unwrap().flatten() {
            std::fs::remove_file(entry.path()).unwrap();
            assert!(std::process::Command::new("mkfifo").arg(entry.path()).status().unwrap().success());
            planted += 1;
        }
    }
    assert!(planted > 0, "the function cache was empty");
    let served = Served::start(&manifest, &cache);
    assert_eq!(request(served.addr, "GET", "/", "").0, 200);
}
