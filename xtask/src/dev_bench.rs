//! `cargo xtask bench dev`: `warp dev`'s edit-to-new-response latency on
//! the Rust template, against cargo's own incremental build of the same
//! edit with the same profile, measured in the same run.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::Figure;
use crate::serve::free_port;

/// Edits timed per side; the medians are reported.
const EDITS: usize = 10;

pub const ABOUT: &str = "Produced by `cargo xtask bench` (or `cargo xtask bench dev` for this section alone). \
`warp dev` serves the `rust-http` template; each edit rewrites `src/lib.rs` with a new response text, \
and the time runs from the write until `GET /` on loopback answers with the new text (debounce, \
cargo, componentize, validate, write, compile, swap). The anchor is cargo's own incremental build of \
the same kind of edit in the same project with the same profile (`warp-dev`) and flags, timed \
right after, in the same run. The goal is an overhead (median minus median) under 200 ms.";

pub fn figures(sh: &Shell, warp: &Path, work: &Path) -> Result<Vec<Figure>> {
    let project = work.join("dev-loop");
    if project.exists() {
        std::fs::remove_dir_all(&project)?;
    }
    warp::templates::instantiate(&warp::lang::rust::TEMPLATES[0], "dev-loop", &project)?;
    let lib = project.join("src/lib.rs");
    let original = std::fs::read_to_string(&lib)?;
    let with_text = |text: &str| original.replace("hello from warp", text);

    // The dev loop: started, warmed up (the first build compiles every dependency).
    let port = free_port()?;
    let mut child = Command::new(warp)
        .args(["dev", "--json", "--listen", &format!("127.0.0.1:{port}")])
        .arg(&project)
        .env("WARP_CACHE_DIR", work.join("dev-cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("failed to start `warp dev`")?;
    let (tx, events) = std::sync::mpsc::channel::<serde_json::Value>();
    let stdout = child.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str(&line) {
                let _ = tx.send(value);
            }
        }
    });
    let wait_for = |name: &str, within: Duration| -> Result<serde_json::Value> {
        let deadline = Instant::now() + within;
        loop {
            let event = events
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .with_context(|| format!("no `{name}` event from `warp dev` within {within:?}"))?;
            if event["event"] == name {
                return Ok(event);
            }
        }
    };
    let result = (|| -> Result<(Vec<Duration>, Vec<u64>)> {
        wait_for("watching", Duration::from_secs(600))?;
        let mut latencies = Vec::new();
        let mut built_ms = Vec::new();
        for edit in 0..EDITS + 1 {
            let text = format!("dev edit {edit}");
            let started = Instant::now();
            std::fs::write(&lib, with_text(&text))?;
            wait_for_body(port, &text, Duration::from_secs(120))?;
            let latency = started.elapsed();
            let built = wait_for("built", Duration::from_secs(10))?;
            // The first edit warms the incremental state of the dev profile.
            if edit > 0 {
                latencies.push(latency);
                built_ms.push(built["ms"].as_u64().unwrap_or(0));
            }
        }
        Ok((latencies, built_ms))
    })();
    let _ = child.kill();
    let _ = child.wait();
    let (mut latencies, mut built_ms) = result?;

    // The anchor: cargo alone, the same edits, the same profile and flags.
    sh.change_dir(&project);
    let (profile, settings) = (warp::lang::rust::DEV_PROFILE, warp::lang::rust::DEV_PROFILE_SETTINGS);
    let target = warp::lang::rust::TARGET;
    let config: Vec<String> =
        settings.iter().flat_map(|(k, v)| ["--config".to_string(), format!("profile.{profile}.{k}={v}")]).collect();
    let mut cargo_times = Vec::new();
    for edit in 0..EDITS + 1 {
        std::fs::write(&lib, with_text(&format!("cargo edit {edit}")))?;
        let config = &config;
        let started = Instant::now();
        cmd!(
            sh,
            "cargo rustc --quiet --target {target} --profile {profile} {config...} --lib --crate-type cdylib -- -Clink-arg=--skip-wit-component"
        )
        .run()?;
        if edit > 0 {
            cargo_times.push(started.elapsed());
        }
    }
    sh.change_dir(crate::root());

    latencies.sort();
    built_ms.sort();
    cargo_times.sort();
    let (latency, cargo) = (latencies[EDITS / 2], cargo_times[EDITS / 2]);
    let overhead = latency.as_secs_f64() - cargo.as_secs_f64();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let ms = |d: Duration| format!("{} ms", d.as_millis());
    Ok(vec![
        Figure { what: "cores".into(), value: cores.to_string() },
        Figure {
            what: format!("rust-http: edit to new response with `warp dev`, median of {EDITS}"),
            value: format!("{} (fastest {}, slowest {})", ms(latency), ms(latencies[0]), ms(latencies[EDITS - 1])),
        },
        Figure {
            what: "rust-http: `warp dev`'s own `built` time (from the end of the 50 ms debounce to the new version serving), median".into(),
            value: format!("{} ms", built_ms[EDITS / 2]),
        },
        Figure {
            what: format!("rust-http: cargo's incremental build of the same edit (`{profile}`), median of {EDITS}"),
            value: format!("{} (fastest {}, slowest {})", ms(cargo), ms(cargo_times[0]), ms(cargo_times[EDITS - 1])),
        },
        Figure {
            what: "overhead of `warp dev` over cargo (goal < 200 ms)".into(),
            value: format!("{:.0} ms", overhead * 1000.0),
        },
    ])
}

/// Polls `GET /` until its body contains `text`.
fn wait_for_body(port: u16, text: &str, within: Duration) -> Result<()> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
            let mut response = String::new();
            if stream.read_to_string(&mut response).is_ok() && response.contains(text) {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    bail!("`GET /` never answered with {text:?} within {within:?}")
}
