//! The `warpgrid:shim` interfaces, proven from inside real guests packed by
//! `warp pack` and served by `warp run`: `tests/fixtures/shim-probe` (http)
//! answers with what each shim gave it; `tests/fixtures/signal-wait` (cli)
//! reports the signals it polls.

use std::io::{BufRead, BufReader};
use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

tests! {
    virtual_files_from_inside_a_guest: [WasmTarget],
    dns_round_robin_ttl_and_fall_through_from_inside_a_guest: [WasmTarget],
    sighup_reloads_while_serving_and_the_guest_polls_it: [WasmTarget],
    threading_models_change_scheduling_and_status: [WasmTarget],
    a_cli_guest_polls_the_signals_warp_run_receives: [WasmTarget],
    components_importing_disabled_shims_are_refused_at_load: [WasmTarget],
    preopened_dirs_are_read_only_unless_marked_rw: [WasmTarget],
    an_edited_manifest_gets_no_more_of_the_host_than_pack_gives: [WasmTarget],
}

/// `[shims.dns] ttl` in `tests/fixtures/shim-probe/warp.toml`.
const PROBE_DNS_TTL: Duration = Duration::from_secs(5);

/// `shim-probe`, packed and served. Bind `_temp` when destructuring: `..`
/// would drop it, and the project with it.
struct Probe {
    _temp: tempfile::TempDir,
    /// The project; `data/` is the guest's `/data`.
    dir: PathBuf,
    manifest: PathBuf,
    /// The manifest as packed, for edits.
    original: String,
    served: Served,
}

fn serve_probe() -> Probe {
    let (temp, dir) = fixture("shim-probe");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    let served = Served::start(&manifest, &temp.path().join("cache"));
    Probe { _temp: temp, dir, manifest, original, served }
}

fn get(served: &Served, path: &str) -> (u16, String) {
    request(served.addr, "GET", path, "")
}

fn signal(pid: u32, name: &str) {
    assert!(Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().unwrap().success());
}

fn virtual_files_from_inside_a_guest() {
    let Probe { _temp, served, .. } = serve_probe();

    let (status, resolv) = get(&served, "/fs/etc/resolv.conf");
    assert_eq!(status, 200);
    assert!(resolv.contains("search production.warp.local warp.local\n"), "{resolv}");
    assert!(resolv.contains("\nnameserver "), "{resolv}");
    let (_, hosts) = get(&served, "/fs/etc/hosts");
    for line in
        ["10.0.0.5\tdb.production.warp.local", "10.0.0.6\tdb.production.warp.local", "192.0.2.10\tlegacy.internal"]
    {
        assert!(hosts.contains(line), "{line:?} missing from /etc/hosts:\n{hosts}");
    }
    // Host randomness, a fresh 4096 bytes per read.
    assert_eq!(get(&served, "/urandom"), (200, "4096 4096 differ=true".into()));
    assert_eq!(get(&served, "/fs/dev/null"), (200, String::new()));
    // The embedded tz database: the rule at the end of a real TZif file.
    assert_eq!(get(&served, "/zone/Europe/Berlin"), (200, "CET-1CEST,M3.5.0,M10.5.0/3".into()));
    assert_eq!(get(&served, "/zone/America/New_York"), (200, "EST5EDT,M3.2.0,M11.1.0".into()));
    assert_eq!(get(&served, "/fs/etc/timezone"), (200, "Europe/Berlin\n".into()), "from the manifest's TZ");
    let (_, status_file) = get(&served, "/fs/proc/self/status");
    assert!(status_file.contains("Name:\tshim-probe\n") && status_file.contains("Pid:\t1\n"), "{status_file}");
    assert_eq!(get(&served, "/virtual/usr/share/zoneinfo/Asia/Tokyo"), (200, "true".into()));
    assert_eq!(get(&served, "/virtual/data/hello.txt"), (200, "false".into()));
    // Everything else falls through to the preopened directory (`[dirs]`).
    assert_eq!(get(&served, "/fs/data/hello.txt"), (200, "hello from the real filesystem\n".into()));
    let (status, missing) = get(&served, "/fs/data/missing.txt");
    assert_eq!(status, 404, "{missing}");
    assert_eq!(served.terminate(), 0);
}

fn dns_round_robin_ttl_and_fall_through_from_inside_a_guest() {
    let Probe { _temp, manifest, original, served, .. } = serve_probe();

    // `/etc/hosts` entries from `[shims.dns.hosts]`.
    assert_eq!(get(&served, "/resolve/legacy.internal"), (200, "192.0.2.10".into()));
    // Cluster names outside the registry never reach the host's resolver.
    let (status, body) = get(&served, "/resolve/cache.production.warp.local");
    assert_eq!((status, body.as_str()), (404, "cache.production.warp.local: name not found"));
    // Any other name falls through to the host's resolver: this machine's
    // own name resolves the same inside and out.
    let hostname = String::from_utf8(Command::new("hostname").output().unwrap().stdout).unwrap().trim().to_string();
    let mut expected: Vec<String> = Vec::new();
    for addr in (hostname.as_str(), 0).to_socket_addrs().expect("the host resolves its own name") {
        if !expected.contains(&addr.ip().to_string()) {
            expected.push(addr.ip().to_string());
        }
    }
    assert_eq!(get(&served, &format!("/resolve/{hostname}")), (200, expected.join(",")));

    // The registry, rotating one place per lookup. The first lookup caches
    // the answer, at some instant between these two.
    let before_fill = Instant::now();
    assert_eq!(get(&served, "/resolve/db.production.warp.local"), (200, "10.0.0.5,10.0.0.6".into()));
    let after_fill = Instant::now();
    assert_eq!(get(&served, "/resolve/db.production.warp.local"), (200, "10.0.0.6,10.0.0.5".into()));
    assert_eq!(get(&served, "/resolve/DB.production.warp.local."), (200, "10.0.0.5,10.0.0.6".into()));

    // A reload changes the registry; the guest sees the new address only
    // once the cached answer's TTL has run out.
    write_edited_manifest(&manifest, &original, |value| {
        value["shims"]["dns"]["registry"]["db.production.warp.local"] = serde_json::json!(["10.0.0.7"]);
    });
    signal(served.child.id(), "HUP");
    served.wait_for_stderr("Reloaded");
    let (_, cached) = get(&served, "/resolve/db.production.warp.local");
    let observed = before_fill.elapsed();
    assert!(observed < PROBE_DNS_TTL, "too slow to observe the cache: {observed:?} after filling it");
    assert!(cached.starts_with("10.0.0."), "{cached}");
    assert_ne!(cached, "10.0.0.7", "answered from the new registry before the TTL ran out");
    // The TTL runs out: wait until it has surely elapsed since the fill.
    std::thread::sleep((after_fill + PROBE_DNS_TTL).saturating_duration_since(Instant::now()));
    assert_eq!(get(&served, "/resolve/db.production.warp.local"), (200, "10.0.0.7".into()));
    assert_eq!(served.terminate(), 0);
}

fn sighup_reloads_while_serving_and_the_guest_polls_it() {
    let Probe { _temp, dir, manifest, original, served } = serve_probe();
    let addr = served.addr;

    assert_eq!(get(&served, "/signal/subscribe/hangup"), (200, "true".into()));
    assert_eq!(get(&served, "/signal/subscribe/hangup"), (200, "false".into()), "already subscribed");
    assert_eq!(get(&served, "/signal/poll"), (200, "none".into()));
    assert_eq!(get(&served, "/env/GREETING"), (200, "hello".into()));

    // A request is in flight across the reload (the guest holds it until
    // `data/release` exists): it finishes on the version it started on,
    // with the old GREETING; requests after the reload see the new one.
    let in_flight = std::thread::spawn(move || request(addr, "GET", "/hold/release", ""));
    served.wait_for_stderr("shim-probe: holding until /data/release exists");
    write_edited_manifest(&manifest, &original, |value| {
        value["env"]["GREETING"] = "reloaded".into();
    });
    signal(served.child.id(), "HUP");
    served.wait_for_stderr("Reloaded shim-probe (same component, new settings)");
    assert_eq!(get(&served, "/env/GREETING"), (200, "reloaded".into()));
    assert_eq!(get(&served, "/signal/poll"), (200, "Hangup".into()));
    assert_eq!(get(&served, "/signal/poll"), (200, "none".into()));
    std::fs::write(dir.join("data/release"), "").unwrap();
    assert_eq!(in_flight.join().unwrap(), (200, "hello".into()));

    // A manifest that no longer checks out is refused; the old version stays.
    write_edited_manifest(&manifest, &original, |value| {
        value["component"]["sha256"] = "ab".repeat(32).into();
    });
    signal(served.child.id(), "HUP");
    served.wait_for_stderr("reload failed; still serving the previous version");
    assert_eq!(get(&served, "/env/GREETING"), (200, "reloaded".into()));
    assert_eq!(served.terminate(), 0);
}

fn threading_models_change_scheduling_and_status() {
    let Probe { _temp, served, .. } = serve_probe();
    let addr = served.addr;
    let overlapping = |n: usize| {
        let started = Instant::now();
        let requests: Vec<_> =
            (0..n).map(|_| std::thread::spawn(move || request(addr, "GET", "/sleep/400", ""))).collect();
        for handle in requests {
            assert_eq!(handle.join().unwrap().0, 200);
        }
        started.elapsed()
    };

    assert_eq!(get(&served, "/threading/cooperative"), (200, "declared".into()));
    served.wait_for_stderr("runs cooperatively: requests now run one at a time");
    let took = overlapping(3);
    assert!(took >= Duration::from_millis(1200), "3 × 400 ms requests overlapped under `cooperative`: {took:?}");

    assert_eq!(get(&served, "/threading/parallel-required"), (200, "declared".into()));
    served.wait_for_stderr("requires parallel threads");
    let (code, log) = served.stop();
    assert_eq!(code, 0);
    let log = log.join("\n");
    assert!(log.contains("deployment degraded"), "{log}");
}

fn a_cli_guest_polls_the_signals_warp_run_receives() {
    let (temp, dir) = fixture("signal-wait");
    let manifest = pack(&dir);
    let start = || {
        let mut child = warp(Path::new("."))
            .arg("run")
            .arg(&manifest)
            .env("WARP_CACHE_DIR", temp.path().join("cache"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        (child, lines)
    };
    let next = |lines: &mut std::io::Lines<BufReader<std::process::ChildStdout>>| lines.next().unwrap().unwrap();

    let (mut child, mut lines) = start();
    assert_eq!(next(&mut lines), "ready");
    signal(child.id(), "HUP");
    assert_eq!(next(&mut lines), "got Hangup");
    signal(child.id(), "HUP");
    assert_eq!(next(&mut lines), "got Hangup");
    signal(child.id(), "TERM");
    assert_eq!(next(&mut lines), "got Terminate");
    assert_eq!(next(&mut lines), "bye");
    assert_eq!(child.wait().unwrap().code(), Some(0), "the guest handled terminate and returned");

    // Interrupt is not subscribed: Ctrl-C stops the program as usual.
    let (mut child, mut lines) = start();
    assert_eq!(next(&mut lines), "ready");
    signal(child.id(), "INT");
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

fn components_importing_disabled_shims_are_refused_at_load() {
    let (temp, dir) = fixture("shim-probe");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    let warp_run = || {
        let mut cmd = warp(Path::new("."));
        cmd.arg("run").arg(&manifest).args(["--listen", "127.0.0.1:0"]).env("WARP_CACHE_DIR", temp.path());
        cmd
    };
    write_edited_manifest(&manifest, &original, |value| {
        value["shims"].as_object_mut().unwrap().remove("dns");
    });
    run(&mut warp_run()).expect_code(2).stderr_has("warpgrid:shim/dns");

    write_edited_manifest(&manifest, &original, |value| {
        value["dirs"]["/data"] = "../no-such-dir".into();
    });
    run(&mut warp_run()).expect_code(2).stderr_has("field `dirs.\"/data\"`");
}

/// `[dirs]` as the guest lives it: `/data` (a plain path) is read-only,
/// `/state` (`mode = "rw"`) takes writes, and both can be read.
fn preopened_dirs_are_read_only_unless_marked_rw() {
    let (temp, dir) = fixture("shim-probe");
    let config = std::fs::read_to_string(dir.join("warp.toml")).unwrap();
    let config = config
        .replace("\"/data\" = \"data\"\n", "\"/data\" = \"data\"\n\"/state\" = { path = \"state\", mode = \"rw\" }\n");
    std::fs::write(dir.join("warp.toml"), config).unwrap();
    std::fs::create_dir(dir.join("state")).unwrap();
    let manifest = pack(&dir);
    let served = Served::start(&manifest, &temp.path().join("cache"));

    let (status, body) = get(&served, "/write/data/new.txt");
    assert_eq!(status, 403, "a write to the read-only `/data` answered: {body}");
    assert!(!dir.join("data/new.txt").exists());
    let (status, body) = get(&served, "/write/data/hello.txt");
    assert_eq!(status, 403, "an overwrite in the read-only `/data` answered: {body}");
    assert_eq!(get(&served, "/fs/data/hello.txt"), (200, "hello from the real filesystem\n".into()));

    assert_eq!(get(&served, "/write/state/new.txt"), (200, "written".into()));
    assert_eq!(std::fs::read_to_string(dir.join("state/new.txt")).unwrap(), "written by the guest\n");
    assert_eq!(get(&served, "/fs/state/new.txt"), (200, "written by the guest\n".into()));
    assert_eq!(served.terminate(), 0);
}

/// The sandbox holds against the manifest: `warp pack` refuses a
/// read-write directory that holds its output, and `warp run` applies the
/// same rules again to a manifest edited afterwards (exit 2 before
/// anything is served), `outside_project` being the one way out of the
/// project and no way at all to a read-write view of what warp runs.
fn an_edited_manifest_gets_no_more_of_the_host_than_pack_gives() {
    let (temp, dir) = fixture("shim-probe");
    let config = std::fs::read_to_string(dir.join("warp.toml")).unwrap();
    let with_dirs = |extra: &str| {
        let edited = config.replace("\"/data\" = \"data\"\n", &format!("\"/data\" = \"data\"\n{extra}\n"));
        std::fs::write(dir.join("warp.toml"), edited).unwrap();
    };
    with_dirs(r#""/p" = { path = ".", mode = "rw" }"#);
    run(warp(&dir).arg("pack"))
        .expect_code(2)
        .stderr_has("warp.toml field `dirs.\"/p\"`")
        .stderr_has("the run manifest")
        .stderr_has("outside_project` does not lift this");
    assert!(!dir.join("target/warp/shim-probe.warp.json").exists(), "a refused pack wrote a manifest");
    std::fs::create_dir_all(dir.join("data/sub")).unwrap();
    with_dirs(
        r#""/sub" = "data/sub"
"/all" = { path = "data", mode = "rw" }"#,
    );
    run(warp(&dir).arg("pack")).expect_code(2).stderr_has("holds the directory preopened as `/sub`");

    with_dirs("");
    let manifest = pack(&dir);
    let original = std::fs::read_to_string(&manifest).unwrap();
    let warp_run = || {
        let mut cmd = warp(Path::new("."));
        cmd.arg("run")
            .arg(&manifest)
            .args(["--listen", "127.0.0.1:0"])
            .env("WARP_CACHE_DIR", temp.path().join("cache"));
        cmd
    };
    let cases = [
        (serde_json::json!({ "path": "/", "mode": "rw" }), "outside_project = true"),
        (serde_json::json!({ "path": "/", "mode": "rw", "outside_project": true }), "the run manifest"),
        (serde_json::json!("../../.."), "is outside the project"),
        (serde_json::json!({ "path": "..", "mode": "rw" }), "the run manifest"),
        (serde_json::json!({ "path": "../..", "mode": "rw" }), "the run manifest"),
        (serde_json::json!({ "path": "../../data", "mode": "rw" }), "holds the directory preopened as `/data`"),
    ];
    for (entry, shown) in cases {
        write_edited_manifest(&manifest, &original, |value| {
            value["dirs"]["/h"] = entry.clone();
            if shown.contains("`/data`") {
                value["dirs"]["/data"] = "../../data/sub".into();
            }
        });
        run(&mut warp_run()).expect_code(2).stderr_has("field `dirs.\"/h\"`").stderr_has(shown);
    }
    // What pack wrote still runs.
    std::fs::write(&manifest, &original).unwrap();
    let served = Served::start(&manifest, &temp.path().join("cache"));
    assert_eq!(served.terminate(), 0);
}
