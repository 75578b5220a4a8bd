//! `warp run`: real components served over real HTTP on loopback, CLI
//! components run to their exit code, faults contained per request.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::support::*;

tests! {
    serves_the_http_template_and_restarts_from_the_cache: [WasmTarget],
    runs_a_cli_component_with_args_and_env: [WasmTarget],
    faults_fail_only_their_own_request_under_load: [WasmTarget],
    refuses_bad_manifests_before_running: [WasmTarget],
    a_full_instance_pool_answers_503_and_recovers: [WasmTarget],
    json_logs_are_one_event_per_line: [WasmTarget],
    a_reload_keeps_the_engine_unless_the_limits_change: [WasmTarget],
    the_compiled_code_cache_runs_only_its_own_code: [WasmTarget],
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
    for path in [outside.to_str().unwrap(), "../../../outside.wasm", "/dev/zero"] {
        write_edited_manifest(&manifest, &original, |value| value["component"]["path"] = path.into());
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
/// (one JSON object per line).
fn run_json(manifest: &Path, cache: &Path) -> (std::process::Child, impl FnMut() -> serde_json::Value + use<>) {
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
    (child, move || serde_json::from_str(&lines.next().unwrap()).unwrap())
}

fn json_logs_are_one_event_per_line() {
    let (temp, dir) = fixture("faults");
    let manifest = pack(&dir);
    let (mut child, mut next_event) = run_json(&manifest, &temp.path().join("cache"));

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
    let (mut child, mut next_event) = run_json(&manifest, &temp.path().join("cache"));
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
