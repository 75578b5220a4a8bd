//! `cargo xtask soak [--minutes N]`: a long mixed load against `warp run`
//! serving `tests/fixtures/faults` — mostly healthy requests, with traps,
//! endless loops, allocations past the memory limit, requests that hold
//! their instance until their body arrives, CPU-bound ones, ones that write
//! to stdout, and bodies that stall, plus a SIGHUP reload every 30 s —
//! then what was served, the failures by class, and the server's resident
//! memory at start and end, written into `docs/BENCHMARKS.md`.
//!
//! A request "fails" when its answer is not the one its route must give
//! (`/`, `/hold`, `/busy`, `/print` → 200, `/trap` and `/oom` → 500,
//! `/loop` → 504, a stalled body → 408):
//! a fault contained to its own request is the expected answer, not a
//! failure. The goals: no failures, and memory after the run within 10% of
//! memory after the warm-up.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::serve::{self, free_port, wait_for_200, warp_run};

/// Client threads sending requests, each one request at a time.
const CLIENTS: usize = 8;

/// Between two SIGHUPs.
const RELOAD_EVERY: Duration = Duration::from_secs(30);

/// How often the server's RSS is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Memory may move this much between the end of the warm-up and the end.
const RSS_TOLERANCE: f64 = 0.10;

/// One route of the faults guest and the answer it must give.
struct Route {
    name: &'static str,
    request: &'static str,
    expect: u16,
}

const GOOD: Route =
    Route { name: "GET /", request: "GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n", expect: 200 };

/// A trap, a loop past `request_timeout` (1 s), an allocation past
/// `limits.memory` (32 MB), a request whose instance reads its whole body,
/// 50 ms of compute, 256 KiB written to stdout (the events file), and a
/// body that stalls after 3 bytes (`limits.body_timeout`, 500 ms here).
const FAULTS: [Route; 7] = [
    Route { name: "GET /trap", request: "GET /trap HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n", expect: 500 },
    Route { name: "GET /loop", request: "GET /loop HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n", expect: 504 },
    Route { name: "GET /oom", request: "GET /oom HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n", expect: 500 },
    Route {
        name: "POST /hold",
        request: "POST /hold HTTP/1.1\r\nHost: soak\r\nConnection: close\r\nContent-Length: 11\r\n\r\nhello, hold",
        expect: 200,
    },
    Route {
        name: "GET /busy?ms=50",
        request: "GET /busy?ms=50 HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
        expect: 200,
    },
    Route {
        name: "GET /print?kib=256",
        request: "GET /print?kib=256 HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
        expect: 200,
    },
    Route {
        name: "POST /hold (stalled body)",
        request: "POST /hold HTTP/1.1\r\nHost: soak\r\nConnection: close\r\nContent-Length: 1000\r\n\r\nabc",
        expect: 408,
    },
];

/// Healthy requests per fault in each client's cycle: the mix is mostly
/// healthy traffic, so the figure is a throughput, not a count of waits.
const GOOD_PER_FAULT: usize = 40;

#[derive(Default)]
struct Tally {
    /// Route → requests answered as the route must answer.
    served: BTreeMap<&'static str, u64>,
    /// Failure class → count.
    failures: BTreeMap<String, u64>,
}

pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let minutes: f64 = match args {
        [] => 10.0,
        [flag, value] if flag == "--minutes" => {
            value.parse().ok().filter(|m: &f64| *m > 0.0).context("--minutes takes a positive number")?
        }
        _ => bail!("usage: cargo xtask soak [--minutes N]"),
    };
    let duration = Duration::from_secs_f64(minutes * 60.0);
    let warm_up = (duration / 10).min(Duration::from_secs(60));

    cmd!(sh, "rustup target add wasm32-wasip2").run().context("failed to add the wasm32-wasip2 target")?;
    let warp = serve::build_warp(sh)?;
    let work = crate::scratch_dir(sh, "warp-xtask-soak")?;
    let project = work.join("faults");
    crate::copy_tree(&crate::root().join("tests/fixtures/faults"), &project)?;
    // A stalled body is answered within the 1 s request deadline.
    let config = std::fs::read_to_string(project.join("warp.toml"))?;
    std::fs::write(project.join("warp.toml"), config.replace("[limits]\n", "[limits]\nbody_timeout = \"500ms\"\n"))?;
    {
        let _dir = sh.push_dir(&project);
        cmd!(sh, "{warp} pack --quiet").ignore_stdout().run()?;
    }
    let manifest = project.join("target/warp/faults.warp.json");

    let port = free_port()?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let events_path = work.join("events.ndjson");
    let mut server = warp_run(&warp, &manifest, &addr.to_string(), &work.join("cache"))
        .arg("--json")
        .stdout(std::fs::File::create(&events_path)?)
        .stderr(Stdio::null())
        .spawn()
        .context("failed to start `warp run`")?;
    let pid = server.id();
    let measured = (|| -> Result<Soaked> {
        wait_for_200(port)?;
        soak(sh, addr, pid, duration, warm_up)
    })();
    let stopped = serve::signal(sh, pid, "TERM").and_then(|()| server.wait().context("`warp run` did not stop"));
    if measured.is_err() || stopped.is_err() {
        let _ = server.kill();
        let _ = server.wait();
    }
    let soaked = measured?;
    let exit = stopped?;
    let events = std::fs::read_to_string(&events_path)?;
    let report = Report::new(&soaked, &events, exit.code());
    let rustc = cmd!(sh, "rustc --version").read()?;
    let date = cmd!(sh, "date -u +%Y-%m-%d").read()?;
    let minutes_arg = if args.is_empty() { String::new() } else { format!(" --minutes {minutes}") };
    let body = report.render(&format!(
        "`cargo xtask soak{minutes_arg}` on the development machine (2 cores), {date}, {rustc}: \
         `warp run` serving `tests/fixtures/faults` (`limits`: memory 32MB, request_timeout 1s; \
         1000 instances) to {CLIENTS} client threads, each sending one request at a time on a new \
         connection, cycling through {GOOD_PER_FAULT} × `GET /` and one fault, the faults in turn: \
         `/trap` (a panic), `/loop` (past the timeout), `/oom` (past the memory limit), `POST /hold` \
         (the instance reads the body to its end), `/busy?ms=50` (CPU-bound), `/print?kib=256` \
         (256 KiB to stdout, which `--json` turns into `guest-output` events in the events file), \
         `POST /hold` with a body that stalls after 3 bytes (`body_timeout` 500ms); a SIGHUP reload \
         every {} s. A request fails when its answer is not its route's (`/`, `/hold`, `/busy`, \
         `/print` 200, `/trap` and `/oom` 500, `/loop` 504, the stalled body 408). \
         RSS is `VmRSS` of the server, sampled every {} s; the warm-up is the first {} s.",
        RELOAD_EVERY.as_secs(),
        SAMPLE_EVERY.as_secs(),
        warm_up.as_secs()
    ));
    println!("{body}");
    crate::write_benchmarks(Some("Soak (`cargo xtask soak`)"), &body)?;
    report.check()
}

/// What the load saw.
struct Soaked {
    duration: Duration,
    tally: Tally,
    hangups: u64,
    rss_start: u64,
    rss_warm: u64,
    rss_end: u64,
    rss_peak: u64,
}

fn soak(sh: &Shell, addr: SocketAddr, pid: u32, duration: Duration, warm_up: Duration) -> Result<Soaked> {
    let rss_start = serve::rss_bytes(pid)?;
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (stop, tally) = (stop.clone(), tally.clone());
            std::thread::spawn(move || {
                // Each client starts at a different place in the cycle, so
                // the faults are spread over time.
                let cycle = FAULTS.len() * (GOOD_PER_FAULT + 1);
                let mut step = client * cycle / CLIENTS;
                while !stop.load(Ordering::Relaxed) {
                    let route = match step % (GOOD_PER_FAULT + 1) {
                        0 => &FAULTS[(step / (GOOD_PER_FAULT + 1)) % FAULTS.len()],
                        _ => &GOOD,
                    };
                    step += 1;
                    let outcome = request(addr, route);
                    let mut tally = tally.lock().expect("no client panics holding it");
                    match outcome {
                        Ok(()) => *tally.served.entry(route.name).or_default() += 1,
                        Err(class) => *tally.failures.entry(format!("{}: {class}", route.name)).or_default() += 1,
                    }
                }
            })
        })
        .collect();

    let mut hangups = 0;
    let mut next_reload = started + RELOAD_EVERY;
    let mut next_sample = started + SAMPLE_EVERY;
    let (mut rss_warm, mut rss_peak) = (None, rss_start);
    let end = started + duration;
    let result = (|| -> Result<()> {
        while Instant::now() < end {
            std::thread::sleep(Duration::from_millis(100));
            let now = Instant::now();
            if now >= next_reload {
                serve::signal(sh, pid, "HUP")?;
                hangups += 1;
                next_reload += RELOAD_EVERY;
            }
            if now >= next_sample {
                let rss = serve::rss_bytes(pid)?;
                rss_peak = rss_peak.max(rss);
                if rss_warm.is_none() && now >= started + warm_up {
                    rss_warm = Some(rss);
                }
                next_sample += SAMPLE_EVERY;
                let elapsed = started.elapsed().as_secs();
                let served: u64 = tally.lock().expect("not poisoned").served.values().sum();
                eprintln!("soak: {elapsed:>4} s, {served} served, RSS {:.1} MiB", rss as f64 / 1048576.0);
            }
        }
        Ok(())
    })();
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let _ = client.join();
    }
    result?;
    let rss_end = serve::rss_bytes(pid)?;
    let tally = std::mem::take(&mut *tally.lock().expect("not poisoned"));
    Ok(Soaked {
        duration: started.elapsed(),
        tally,
        hangups,
        rss_start,
        rss_warm: rss_warm.unwrap_or(rss_start),
        rss_end,
        rss_peak: rss_peak.max(rss_end),
    })
}

/// One request on a new connection; `Err` names the failure's class.
fn request(addr: SocketAddr, route: &Route) -> Result<(), String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| format!("connect: {}", e.kind()))?;
    stream.set_read_timeout(Some(Duration::from_secs(15))).map_err(|e| e.to_string())?;
    stream.write_all(route.request.as_bytes()).map_err(|e| format!("send: {}", e.kind()))?;
    let mut response = Vec::new();
    match stream.read_to_end(&mut response) {
        Ok(_) => {}
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
            return Err("no answer within 15 s".into());
        }
        Err(e) => return Err(format!("receive: {}", e.kind())),
    }
    let status = std::str::from_utf8(response.get(..12).unwrap_or_default())
        .ok()
        .and_then(|head| head.strip_prefix("HTTP/1.1 ")?.parse::<u16>().ok())
        .ok_or_else(|| {
            if response.is_empty() { "closed without an answer".to_string() } else { "malformed answer".into() }
        })?;
    if status != route.expect {
        return Err(format!("status {status} (expected {})", route.expect));
    }
    Ok(())
}

/// The figures, with what `warp run` itself reported (its `--json` events).
struct Report<'a> {
    soaked: &'a Soaked,
    reloaded: u64,
    reload_failed: u64,
    /// `request-failed` events by reason.
    server_failed: BTreeMap<String, u64>,
    /// The `stopped` event's `served` and `failed`.
    stopped: Option<(u64, u64)>,
    exit: Option<i32>,
}

impl<'a> Report<'a> {
    fn new(soaked: &'a Soaked, events: &str, exit: Option<i32>) -> Report<'a> {
        let mut report =
            Report { soaked, reloaded: 0, reload_failed: 0, server_failed: BTreeMap::new(), stopped: None, exit };
        for event in events.lines().filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok()) {
            match event["event"].as_str() {
                Some("reloaded") => report.reloaded += 1,
                Some("reload-failed") => report.reload_failed += 1,
                Some("request-failed") => {
                    let reason = event["reason"].as_str().unwrap_or("?");
                    // Reasons carry details (a trap's message); the class is before the colon.
                    let class = reason.split(':').next().unwrap_or(reason).trim().to_string();
                    *report.server_failed.entry(class).or_default() += 1;
                }
                Some("stopped") => {
                    report.stopped =
                        Some((event["served"].as_u64().unwrap_or(0), event["failed"].as_u64().unwrap_or(0)))
                }
                _ => {}
            }
        }
        report
    }

    fn failures(&self) -> u64 {
        self.soaked.tally.failures.values().sum()
    }

    fn rss_change(&self) -> f64 {
        self.soaked.rss_end as f64 / self.soaked.rss_warm.max(1) as f64 - 1.0
    }

    fn render(&self, preamble: &str) -> String {
        let soaked = self.soaked;
        let mib = |bytes: u64| format!("{:.1} MiB", bytes as f64 / 1048576.0);
        let served: u64 = soaked.tally.served.values().sum();
        let seconds = soaked.duration.as_secs_f64();
        let mut rows: Vec<(String, String)> = vec![
            ("duration".into(), format!("{:.1} min", seconds / 60.0)),
            (
                "requests answered as their route must answer".into(),
                format!("{served} ({:.0}/s)", served as f64 / seconds.max(1.0)),
            ),
        ];
        for (route, count) in &soaked.tally.served {
            rows.push((format!("… `{route}`"), count.to_string()));
        }
        let failures = self.failures();
        rows.push(("failures (goal: 0)".into(), failures.to_string()));
        for (class, count) in &soaked.tally.failures {
            rows.push((format!("… {class}"), count.to_string()));
        }
        rows.push((
            "SIGHUP reloads sent / `reloaded` / `reload-failed` events".into(),
            format!("{} / {} / {}", soaked.hangups, self.reloaded, self.reload_failed),
        ));
        let server_failed = if self.server_failed.is_empty() {
            "none".to_string()
        } else {
            self.server_failed.iter().map(|(reason, n)| format!("{reason}: {n}")).collect::<Vec<_>>().join("; ")
        };
        rows.push(("`request-failed` events by reason (the contained faults)".into(), server_failed));
        rows.push((
            "`warp run`'s own count at SIGTERM: served / failed; exit status".into(),
            match (self.stopped, self.exit) {
                (Some((served, failed)), Some(code)) => format!("{served} / {failed}; {code}"),
                (Some((served, failed)), None) => format!("{served} / {failed}; killed by a signal"),
                (None, code) => format!("no `stopped` event; exit {code:?}"),
            },
        ));
        rows.push(("RSS at start (idle, compiled, listening)".into(), mib(soaked.rss_start)));
        rows.push(("RSS after the warm-up".into(), mib(soaked.rss_warm)));
        rows.push(("RSS at the end".into(), mib(soaked.rss_end)));
        rows.push(("RSS peak".into(), mib(soaked.rss_peak)));
        rows.push((
            "RSS change, warm-up → end (goal: within ±10%)".into(),
            format!("{:+.1}%", self.rss_change() * 100.0),
        ));
        let mut table = String::from("| measurement | value |\n|---|---|\n");
        for (what, value) in rows {
            table.push_str(&format!("| {what} | {value} |\n"));
        }
        format!("{preamble}\n\n{table}")
    }

    /// The goals, as an error when one is missed (after the figures are written).
    fn check(&self) -> Result<()> {
        if self.failures() > 0 {
            bail!("{} requests failed during the soak (see the table above)", self.failures());
        }
        if self.reload_failed > 0 || self.reloaded < self.soaked.hangups {
            bail!(
                "{} SIGHUPs gave {} reloads and {} failed reloads",
                self.soaked.hangups,
                self.reloaded,
                self.reload_failed
            );
        }
        if self.rss_change().abs() > RSS_TOLERANCE {
            bail!("the server's RSS moved {:+.1}% between the warm-up and the end", self.rss_change() * 100.0);
        }
        Ok(())
    }
}
