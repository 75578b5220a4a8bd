//! `cargo xtask compat go [--only MODULE]... [--out FILE] [--warp BIN]`:
//! measures compat-db's Go records. For each module, a small real program
//! that imports and uses it (its probe, in `GO_CASES`) is written to a
//! temporary module, the module is fetched with `go get MODULE@latest`
//! (its resolved version is what the record names), the program is packed
//! with the real `warp pack` and run with the real `warp run`, and what it
//! answers over loopback HTTP (or prints, for a CLI) is compared with what
//! it should answer. The verdict is derived from that, never typed:
//!
//! - `fails`: the pack failed (the first compiler error is the reason), the
//!   server did not start, a request trapped or was answered 5xx, or an
//!   answer was wrong;
//! - `partial`: everything answered as it should, and a probe that opens a
//!   connection to an address the manifest does not list (the database
//!   drivers) got a clean Go error, which is the reason;
//! - `works`: everything answered as it should.
//!
//! Each probe is first built natively (`go build`), so a mistake in a
//! probe is an error of this task, not a `fails` of the module.
//!
//! `cargo xtask compat npm` does the same for npm packages (a fetch handler
//! per package, `npm install PACKAGE@latest`, checked under node first), and
//! `cargo xtask compat bun` for packages as `--lang bun` packs them (`bun add
//! PACKAGE@latest`, checked under the real bun first): `compat_npm.rs`, a
//! child module that shares the server, the requests and the checks here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use warp::compat::{Db, Ecosystem, Record, TestedWith, Verdict};
use xshell::{Shell, cmd};

pub const USAGE: &str = "compat go|npm|bun [--only NAME]... [--out FILE] [--warp BIN]
          pack and run a small program per Go module (go get MODULE@latest),
          npm package (npm install PACKAGE@latest) or package of a Bun
          service (bun add PACKAGE@latest, packed with --lang bun), with
          warp pack and warp run, check the answers and write the records
          to compat-db/go.json, npm.json or bun.json (--out: elsewhere;
          records already in the file for other packages are kept);
          --warp: a built warp to use instead of `cargo build --release
          --bin warp`";

#[path = "compat_npm.rs"]
mod npm;

pub fn run(sh: &Shell, root: &Path, args: &[String]) -> Result<()> {
    let mut args = args.iter();
    let ecosystem = match args.next().map(String::as_str) {
        Some("go") => Ecosystem::Go,
        Some("npm") => Ecosystem::Npm,
        Some("bun") => Ecosystem::Bun,
        other => bail!("usage: cargo xtask {USAGE}\n(got {other:?}; `go`, `npm` and `bun` are measured so far)"),
    };
    // The JS ecosystems' probes and how they are packed (compat_npm.rs).
    let js = npm::Flavor::of(ecosystem);
    let (mut only, mut out, mut warp) = (Vec::new(), root.join(ecosystem.db_path()), None);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("`{arg}` needs a value"));
        match arg.as_str() {
            "--only" => only.push(value()?.clone()),
            "--out" => out = PathBuf::from(value()?),
            "--warp" => warp = Some(PathBuf::from(value()?)),
            other => bail!("unknown argument `{other}`\nusage: cargo xtask {USAGE}"),
        }
    }
    let known: Vec<&str> = match js {
        Some(flavor) => flavor.cases().iter().map(|c| c.package).collect(),
        None => GO_CASES.iter().map(|c| c.module).collect(),
    };
    let names: Vec<&str> = if only.is_empty() {
        known.clone()
    } else {
        only.iter()
            .map(|name| {
                known
                    .iter()
                    .copied()
                    .find(|k| *k == name.as_str())
                    .with_context(|| format!("no probe for `{name}`; the probes are for: {}", known.join(", ")))
            })
            .collect::<Result<_>>()?
    };

    // Relative paths are the caller's (the shell works in the repository root).
    let out = std::path::absolute(&out)?;
    // The records the run is merged into, read first: a wrong file fails now, not after the run.
    let mut db = match std::fs::read_to_string(&out) {
        Ok(text) => Db::parse(&text, &out.display().to_string())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Db::new(ecosystem),
        Err(e) => return Err(e).with_context(|| format!("failed to read `{}`", out.display())),
    };
    if db.ecosystem != ecosystem {
        bail!("`{}` holds {} records, not {}", out.display(), db.ecosystem.name(), ecosystem.name());
    }
    let warp = match warp {
        Some(warp) => std::path::absolute(warp)?,
        None => {
            cmd!(sh, "cargo build --release --locked --bin warp").run().context("failed to build warp")?;
            root.join("target/release/warp")
        }
    };
    let toolchain = match js {
        Some(flavor) => npm::toolchain(sh, &warp, flavor)?,
        None => cmd!(sh, "go env GOVERSION").read().context("failed to run `go env GOVERSION`")?,
    };
    let tested_with = tested_with(sh, root, &warp, &toolchain)?;
    // Outside the repository; the runner's compiled-code cache is shared by
    // every probe and kept between runs (a rerun of an unchanged probe
    // packs to the same component and skips Cranelift).
    let work = std::env::temp_dir().join("warp-xtask-compat").join(ecosystem.name());
    let cache = std::env::temp_dir().join("warp-xtask-compat-cache");
    std::fs::create_dir_all(&cache)?;

    let mut records = Vec::new();
    for (i, name) in names.iter().enumerate() {
        eprintln!("[{}/{}] {name}", i + 1, names.len());
        let dir = work.join(slug(name));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("failed to remove `{}`", dir.display()))?;
        }
        let started = Instant::now();
        let record = match js {
            Some(flavor) => {
                let case = flavor.cases().into_iter().find(|c| c.package == *name).expect("a known name");
                npm::measure(sh, flavor, case, &dir, &warp, &cache, &tested_with)?
            }
            None => {
                let case = GO_CASES.iter().find(|c| c.module == *name).expect("a known name");
                measure(sh, case, &dir, &warp, &cache, &tested_with)?
            }
        };
        eprintln!(
            "      {} {} {}: {} ({:.0} s)",
            record.name,
            record.version,
            record.verdict.name(),
            record.reason,
            started.elapsed().as_secs_f64()
        );
        records.push(record);
    }

    db.merge(records.iter().cloned());
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, db.to_text()).with_context(|| format!("failed to write `{}`", out.display()))?;
    let kind = if ecosystem == Ecosystem::Go { "module" } else { "package" };
    println!("| {kind} | version | verdict | reason |\n|---|---|---|---|");
    for record in &records {
        println!("| {} | {} | {} | {} |", record.name, record.version, record.verdict.name(), record.reason);
    }
    let count = |verdict: Verdict| records.iter().filter(|r| r.verdict == verdict).count();
    eprintln!(
        "wrote {} records to `{}`: {} works, {} partial, {} fails",
        records.len(),
        out.display(),
        count(Verdict::Works),
        count(Verdict::Partial),
        count(Verdict::Fails)
    );
    Ok(())
}

/// A directory name for a package: `github.com/go-chi/chi/v5` →
/// `github.com-go-chi-chi-v5`, `@sinclair/typebox` → `sinclair-typebox`.
fn slug(name: &str) -> String {
    name.trim_start_matches('@').replace(['/', '.'], "-")
}

/// What decides a verdict besides the probes: warp's sources and what it embeds.
const MEASURED: [&str; 8] = ["src", "sdk", "wit", "build.rs", "Cargo.toml", "Cargo.lock", "xtask", "toolchains"];

/// `warp 0.1.0 (abc1234)` (`+changes` when the tree has uncommitted
/// edits to what is [`MEASURED`]), the language toolchain (`go1.26.8`;
/// node, ComponentizeJS and esbuild for npm; node, bun and ComponentizeJS
/// for Bun), and today's date.
fn tested_with(sh: &Shell, root: &Path, warp: &Path, toolchain: &str) -> Result<TestedWith> {
    let version = cmd!(sh, "{warp} -V").read().context("failed to run `warp -V`")?;
    let _dir = sh.push_dir(root);
    let commit = cmd!(sh, "git rev-parse --short HEAD").read().unwrap_or_else(|_| "unknown commit".into());
    let dirty =
        !cmd!(sh, "git status --porcelain --untracked-files=no -- {MEASURED...}").read().unwrap_or_default().is_empty();
    let date = cmd!(sh, "date -u +%F").read().context("failed to run `date`")?;
    Ok(TestedWith {
        warp: format!("{} ({commit}{})", version.trim(), if dirty { "+changes" } else { "" }),
        toolchain: toolchain.trim().to_string(),
        date: date.trim().to_string(),
    })
}

/// Fetches, packs and probes one module.
fn measure(sh: &Shell, case: &Case, dir: &Path, warp: &Path, cache: &Path, tested: &TestedWith) -> Result<Record> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("main.go"), case.main_go)?;
    let mut config = String::from(
        "lang = \"go\"\n\n[go]\n# wasm-opt takes ~17 s and changes no verdict.\noptimize = false\n\n\
         # Unoptimized components are larger; sizes are not what compat measures.\n\
         [budget]\nraw = \"500MB\"\ngzip = \"500MB\"\n",
    );
    if !case.env.is_empty() {
        config.push_str("\n[env]\n");
        for (name, value) in case.env {
            config.push_str(&format!("{name} = {value:?}\n"));
        }
    }
    std::fs::write(dir.join("warp.toml"), config)?;
    let _dir = sh.push_dir(dir);
    let module = case.module;
    let slug = slug(module);
    cmd!(sh, "go mod init compat.example/{slug}").quiet().ignore_stderr().run()?;
    cmd!(sh, "go get {module}@latest").quiet().run().with_context(|| format!("`go get {module}@latest` failed"))?;
    cmd!(sh, "go mod tidy").quiet().run().context("`go mod tidy` failed")?;
    let listed = cmd!(sh, "go list -m {module}").read()?;
    let version = listed.split_whitespace().nth(1).with_context(|| format!("no version in `{listed}`"))?.to_string();
    // The probe must be right before the module can be judged by it.
    cmd!(sh, "go build -o /dev/null .")
        .quiet()
        .run()
        .with_context(|| format!("the probe for `{module}` does not build natively: fix it in xtask/src/compat.rs"))?;

    let record = |verdict: Verdict, reason: String| Record {
        name: module.to_string(),
        version: version.clone(),
        verdict,
        reason: one_line(&reason),
        exercised: case.exercised.to_string(),
        tested_with: tested.clone(),
    };
    let packed = Command::new(warp)
        .current_dir(dir)
        .args(["pack", "--json", "--quiet"])
        .env("NO_COLOR", "1")
        .env("WARP_CACHE_DIR", cache)
        .output()
        .with_context(|| format!("failed to run `{}`", warp.display()))?;
    if !packed.status.success() {
        let output = format!("{}{}", String::from_utf8_lossy(&packed.stderr), String::from_utf8_lossy(&packed.stdout));
        return Ok(record(Verdict::Fails, format!("warp pack: {}", pack_error(&output))));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&packed.stdout).context("`warp pack --json` printed no JSON")?;
    let manifest = PathBuf::from(json["manifest"].as_str().context("no manifest in `warp pack --json`")?);

    let outcome = match &case.probe {
        Probe::Http { requests, stderr } => probe_http(warp, &manifest, cache, requests, stderr)?,
        Probe::Cli { args, stdout } => probe_cli(warp, &manifest, cache, args, stdout)?,
    };
    Ok(match outcome {
        Outcome::Answered(checked) => record(Verdict::Works, format!("answered as it should: {checked}")),
        Outcome::CleanError(error) => record(
            Verdict::Partial,
            format!("runs; a connection to an address the manifest does not list is a Go error: {error}"),
        ),
        Outcome::Broken(why) => record(Verdict::Fails, why),
    })
}

/// What a probe saw.
enum Outcome {
    /// Every check passed (what was checked).
    Answered(String),
    /// Every check passed, and the connection probe got this error.
    CleanError(String),
    /// The first thing that went wrong.
    Broken(String),
}

/// The reason a pack failed: Go's first `file:line` diagnostic (with the
/// module cache's prefix dropped), else warp's `error:` line.
fn pack_error(stderr: &str) -> String {
    let diagnostic = stderr.lines().find(|l| l.contains(".go:") && !l.starts_with('#'));
    let line = diagnostic
        .or_else(|| stderr.lines().find(|l| l.starts_with("error:")))
        .unwrap_or_else(|| stderr.lines().next().unwrap_or("failed with no message"));
    let line = line.trim();
    match line.find("/pkg/mod/") {
        Some(at) => line[at + "/pkg/mod/".len()..].to_string(),
        None => line.to_string(),
    }
}

fn one_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 400 { format!("{}…", line.chars().take(400).collect::<String>()) } else { line }
}

/// `warp run` serving the manifest, its stderr collected.
struct Server {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
    /// What came after the `listening on` line: the guest's stdout.
    stdout: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(warp: &Path, manifest: &Path, cache: &Path) -> Result<std::result::Result<Server, String>> {
        let mut child = Command::new(warp)
            .args(["run", "--listen", "127.0.0.1:0"])
            .arg(manifest)
            .env("NO_COLOR", "1")
            .env("WARP_CACHE_DIR", cache)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("failed to run `{}`", warp.display()))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let (pipe, collected) = (child.stderr.take().expect("piped"), stderr.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut all = collected.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let (tx, rx) = mpsc::channel();
        let (pipe, guest_stdout) = (child.stdout.take().expect("piped"), Arc::new(Mutex::new(String::new())));
        let collected = guest_stdout.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(pipe).lines().map_while(Result::ok);
            let _ = tx.send(lines.next().unwrap_or_default());
            // Keep reading, so the runner never blocks on a full pipe.
            for line in lines {
                let mut all = collected.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        // Cranelift compiles a Go component in 10–40 s, depending on load.
        let line = rx.recv_timeout(Duration::from_secs(300)).unwrap_or_default();
        let addr = line.trim().strip_prefix("listening on http://").and_then(|a| a.parse().ok());
        let mut server = Server { child, addr: "127.0.0.1:0".parse().unwrap(), stderr, stdout: guest_stdout };
        match addr {
            Some(addr) => {
                server.addr = addr;
                Ok(Ok(server))
            }
            None => {
                // Its stdout closed, or it said nothing for 5 minutes: how it ended, when it did.
                let deadline = Instant::now() + Duration::from_secs(2);
                let mut exited = server.child.try_wait().ok().flatten();
                while exited.is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                    exited = server.child.try_wait().ok().flatten();
                }
                let _ = server.child.kill();
                let _ = server.child.wait();
                std::thread::sleep(Duration::from_millis(200));
                let how = exited.map(|status| format!(" (it ended: {status})")).unwrap_or_default();
                Ok(Err(format!("warp run did not start serving{how}: {}", server.why())))
            }
        }
    }

    /// What the guest printed that looks like the cause (a Go panic, the
    /// JS prelude's `warp: the handler threw`, a Go logger's fatal line on
    /// stdout), then the runner's line about the failure.
    fn why(&self) -> String {
        std::thread::sleep(Duration::from_millis(300));
        let (stdout, stderr) = (self.stdout.lock().unwrap().clone(), self.stderr.lock().unwrap().clone());
        let guest = go_panic(&stderr)
            .or_else(|| go_panic(&stdout))
            .or_else(|| npm::prelude_error(&stderr))
            .or_else(|| telling_line(&stdout));
        // `Serving NAME (compiled, …)`, `Stopping …` and `Stopped N requests
        // served, …` are the runner's status, never a cause.
        let status =
            |line: &str| ["Serving ", "Stopping ", "Stopped "].iter().any(|s| line.trim_start().starts_with(s));
        let stderr: String = stderr.lines().filter(|l| !status(l)).map(|l| format!("{l}\n")).collect();
        let runner = telling_line(&stderr).map(|line| line.trim_start_matches("warp run: ").to_string());
        match (guest, runner) {
            (Some(guest), Some(runner)) => format!("the program printed {guest}; warp run: {runner}"),
            (Some(only), None) | (None, Some(only)) => only,
            (None, None) => "no output".into(),
        }
    }

    /// Waits (10 s at most) for `needle` on the runner's stderr.
    fn stderr_has(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.stderr.lock().unwrap().contains(needle) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A Go panic in some output: its message and where it happened (the
/// first frame of the panicking goroutine, with file and line).
fn go_panic(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("panic: ") || l.starts_with("fatal error: "))?;
    let goroutine = lines[at..].iter().position(|l| l.starts_with("goroutine "))? + at;
    let frame: Vec<&str> = lines.iter().skip(goroutine + 1).take(2).map(|l| l.trim()).collect();
    Some(match frame.as_slice() {
        [function, file] => format!("{} in {function} at {file}", lines[at]),
        _ => lines[at].to_string(),
    })
}

/// The most telling line of some output: the last one that names a
/// panic, a fatal error, a trap, an exit or an error (a wasm backtrace's
/// last frame is cut to its `Exited with …`), else the last line.
fn telling_line(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let telling = ["panic", "fatal", "trap", "exited with", "error", "failed"];
    let line = lines.iter().rev().find(|l| telling.iter().any(|t| l.to_lowercase().contains(t))).or(lines.last())?;
    Some(match line.find("Exited with") {
        Some(at) => line[at..].to_string(),
        None => line.to_string(),
    })
}

fn probe_http(warp: &Path, manifest: &Path, cache: &Path, requests: &[Request], stderr: &[&str]) -> Result<Outcome> {
    let server = match Server::start(warp, manifest, cache)? {
        Ok(server) => server,
        Err(why) => return Ok(Outcome::Broken(why)),
    };
    let mut checked = Vec::new();
    let mut clean_error = None;
    for request in requests {
        let what = format!("{} {}", request.method, request.path);
        let response = match send(server.addr, request) {
            Ok(response) => response,
            Err(e) => return Ok(Outcome::Broken(format!("{what}: no response ({e:#}); {}", server.why()))),
        };
        if response.status >= 500 {
            let body = response.text();
            let body = short(body.trim());
            // The body may be the whole story (a JS handler's error): then no "; no output".
            let why = Some(server.why()).filter(|why| why != "no output").map(|why| format!("; {why}"));
            return Ok(Outcome::Broken(format!("{what}: {} {body:?}{}", response.status, why.unwrap_or_default())));
        }
        match judge(&what, &request.expect, &response) {
            Ok(error) => clean_error = error.or(clean_error),
            Err(why) => return Ok(Outcome::Broken(why)),
        }
        checked.push(what);
    }
    for needle in stderr {
        if !server.stderr_has(needle) {
            return Ok(Outcome::Broken(format!("the handler's log line with {needle:?} did not reach stderr")));
        }
        checked.push(format!("stderr has {needle}"));
    }
    Ok(match clean_error {
        Some(error) => Outcome::CleanError(error),
        None => Outcome::Answered(checked.join(", ")),
    })
}

/// Whether one answer (to the request `what`) is what `expect` says:
/// `Ok(Some(error))` for the clean error of a connection probe, `Err`
/// what was wrong.
fn judge(what: &str, expect: &Expect, response: &Response) -> std::result::Result<Option<String>, String> {
    let text = response.text();
    let wrong = |expected: String| format!("{what}: expected {expected}, got {} {:?}", response.status, short(&text));
    match expect {
        Expect::Answer(status, body) => {
            if response.status != *status || text != *body {
                return Err(wrong(format!("{status} {body:?}")));
            }
        }
        Expect::Contains(status, needles) => {
            if response.status != *status {
                return Err(wrong(format!("{status}")));
            }
            if let Some(missing) = needles.iter().find(|n| !text.contains(*n)) {
                return Err(wrong(format!("{status} with {missing:?}")));
            }
        }
        Expect::Check(check) => {
            if let Err(expected) = check(response.status, &text) {
                return Err(wrong(expected));
            }
        }
        Expect::WebSocketEcho => {
            if response.status != 101 {
                return Err(wrong("101 Switching Protocols".into()));
            }
            match &response.echo {
                Some(Ok(echoed)) if echoed == "ping" => {}
                Some(Ok(echoed)) => return Err(wrong(format!("the echo of \"ping\", got {echoed:?}"))),
                Some(Err(e)) => return Err(format!("{what}: upgraded, but no echo: {e}")),
                None => return Err(format!("{what}: upgraded, but no echo")),
            }
        }
        Expect::CleanError { before } => {
            let error = text.strip_prefix(before).and_then(|rest| rest.strip_prefix("error: "));
            return match error {
                Some(error) if response.status == 200 => Ok(Some(error.trim().to_string())),
                _ => Err(wrong(format!("200 {:?}", format!("{before}error: …")))),
            };
        }
    }
    Ok(None)
}

fn probe_cli(warp: &Path, manifest: &Path, cache: &Path, args: &[&str], stdout: &str) -> Result<Outcome> {
    let output = Command::new(warp)
        .arg("run")
        .arg(manifest)
        .arg("--")
        .args(args)
        .env("NO_COLOR", "1")
        .env("WARP_CACHE_DIR", cache)
        .output()
        .with_context(|| format!("failed to run `{}`", warp.display()))?;
    let (out, err) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let what = format!("run with `{}`", args.join(" "));
    Ok(if !output.status.success() {
        let why = telling_line(&format!("{out}\n{err}")).unwrap_or_else(|| "no output".into());
        Outcome::Broken(format!("{what}: exit {:?}: {why}", output.status.code()))
    } else if !out.lines().any(|line| line == stdout.trim_end()) {
        Outcome::Broken(format!("{what}: expected {stdout:?} on stdout, got {:?}", short(&out)))
    } else {
        Outcome::Answered(format!("{what} printed {:?}", stdout.trim()))
    })
}

fn short(text: &str) -> String {
    if text.chars().count() > 120 { format!("{}…", text.chars().take(120).collect::<String>()) } else { text.into() }
}

struct Response {
    status: u16,
    body: Vec<u8>,
    /// After a 101: the text of the frame the server sent back for ours.
    echo: Option<std::result::Result<String, String>>,
}

impl Response {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request and its whole response (60 s at most); after a
/// `101 Switching Protocols`, one masked WebSocket text frame `ping` and
/// the frame that comes back.
fn send(addr: SocketAddr, request: &Request) -> Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{} {} HTTP/1.1\r\nHost: compat.test\r\n", request.method, request.path);
    if !request.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("connection")) {
        head.push_str("Connection: close\r\n");
    }
    for (name, value) in request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", request.body.len()));
    stream.write_all(head.as_bytes())?;
    stream.write_all(request.body.as_bytes())?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 =
        line.split(' ').nth(1).and_then(|s| s.parse().ok()).with_context(|| format!("bad status line {line:?}"))?;
    let (mut chunked, mut length) = (false, None);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            chunked |= name == "transfer-encoding" && value.contains("chunked");
            if name == "content-length" {
                length = value.parse::<usize>().ok();
            }
        }
    }
    if status == 101 {
        let echo = websocket_echo(&mut stream, &mut reader).map_err(|e| format!("{e:#}"));
        return Ok(Response { status, body: Vec::new(), echo: Some(echo) });
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).context("bad chunk size")?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok(Response { status, body, echo: None })
}

fn websocket_echo(stream: &mut TcpStream, reader: &mut impl Read) -> Result<String> {
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81, 0x80 | 4];
    frame.extend_from_slice(&mask);
    frame.extend(b"ping".iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    stream.write_all(&frame)?;
    let mut head = [0u8; 2];
    reader.read_exact(&mut head)?;
    let length = (head[1] & 0x7f) as usize;
    if length > 125 {
        bail!("a frame of {length} bytes, expected 4");
    }
    let mut payload = vec![0; length];
    reader.read_exact(&mut payload)?;
    Ok(String::from_utf8_lossy(&payload).into_owned())
}

/// One module's probe: the program and what it must answer.
struct Case {
    /// What `go get` fetches and the record names.
    module: &'static str,
    exercised: &'static str,
    main_go: &'static str,
    /// `warp.toml`'s `[env]`.
    env: &'static [(&'static str, &'static str)],
    probe: Probe,
}

enum Probe {
    /// Served by `warp run`: these requests, in order, then these strings
    /// on the runner's stderr (what the program logged).
    Http { requests: &'static [Request], stderr: &'static [&'static str] },
    /// Run by `warp run MANIFEST -- ARGS`: exit 0 and this line on stdout.
    Cli { args: &'static [&'static str], stdout: &'static str },
}

struct Request {
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    expect: Expect,
}

const fn get(path: &'static str, expect: Expect) -> Request {
    Request { method: "GET", path, headers: &[], body: "", expect }
}

const fn post(path: &'static str, body: &'static str, expect: Expect) -> Request {
    Request { method: "POST", path, headers: &[], body, expect }
}

enum Expect {
    /// This status and exactly this body.
    Answer(u16, &'static str),
    /// This status and a body with each of these.
    Contains(u16, &'static [&'static str]),
    /// A check of status and body; `Err` says what was expected.
    Check(fn(u16, &str) -> std::result::Result<(), String>),
    /// 101, then our frame echoed.
    WebSocketEcho,
    /// 200 with `before`, then `error: MESSAGE`: what the driver said when
    /// it could not connect.
    CleanError { before: &'static str },
}

/// The answer of `/uuid`: the name-based UUID of `example.com` in the DNS
/// namespace (RFC 9562's example), then a random version-4 UUID.
fn uuid_answer(status: u16, body: &str) -> std::result::Result<(), String> {
    let expected = "200, cfbff0d1-9375-5685-968c-48ce8b15ae17 then a version-4 UUID".to_string();
    let mut lines = body.lines();
    let (Some(sha1), Some(random)) = (lines.next(), lines.next()) else { return Err(expected) };
    let v4 = random.len() == 36 && random.as_bytes()[14] == b'4' && random.chars().filter(|c| *c == '-').count() == 4;
    if status == 200 && sha1 == "cfbff0d1-9375-5685-968c-48ce8b15ae17" && v4 { Ok(()) } else { Err(expected) }
}

const LOG_REQUEST: &[Request] = &[get("/hello", Expect::Answer(200, "logged"))];

/// The measured set: the modules HTTP services use most.
static GO_CASES: &[Case] = &[
    Case {
        module: "github.com/go-chi/chi/v5",
        exercised: "chi router: GET /items/{id} with chi.URLParam, and chi's 404",
        main_go: r#"package main

import (
	"log"
	"net/http"

	"github.com/go-chi/chi/v5"
)

func main() {
	r := chi.NewRouter()
	r.Get("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("item " + chi.URLParam(r, "id")))
	})
	log.Fatal(http.ListenAndServe(":8080", r))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: &[
                get("/items/abc", Expect::Answer(200, "item abc")),
                get("/nowhere", Expect::Answer(404, "404 page not found\n")),
            ],
            stderr: &[],
        },
    },
    Case {
        module: "github.com/gorilla/mux",
        exercised: "gorilla/mux router: GET /items/{id} with mux.Vars, and a 405 for another method",
        main_go: r#"package main

import (
	"log"
	"net/http"

	"github.com/gorilla/mux"
)

func main() {
	r := mux.NewRouter()
	r.HandleFunc("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("item " + mux.Vars(r)["id"]))
	}).Methods(http.MethodGet)
	log.Fatal(http.ListenAndServe(":8080", r))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: &[
                get("/items/abc", Expect::Answer(200, "item abc")),
                post(
                    "/items/abc",
                    "",
                    Expect::Check(|status, _| if status == 405 { Ok(()) } else { Err("405".into()) }),
                ),
            ],
            stderr: &[],
        },
    },
    Case {
        module: "github.com/labstack/echo/v4",
        exercised: "echo server started with e.Start(\":8080\"): GET /items/:id with c.Param, JSON with c.JSON",
        main_go: r#"package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func main() {
	e := echo.New()
	e.HideBanner = true
	e.GET("/items/:id", func(c echo.Context) error {
		return c.String(http.StatusOK, "item "+c.Param("id"))
	})
	e.GET("/json", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"ok": true})
	})
	e.Logger.Fatal(e.Start(":8080"))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: &[
                get("/items/abc", Expect::Answer(200, "item abc")),
                get("/json", Expect::Answer(200, "{\"ok\":true}\n")),
            ],
            stderr: &[],
        },
    },
    Case {
        module: "github.com/gin-gonic/gin",
        exercised: "gin engine started with r.Run(\":8080\"): GET /items/:id with c.Param, JSON with c.JSON",
        main_go: r#"package main

import (
	"log"
	"net/http"

	"github.com/gin-gonic/gin"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/items/:id", func(c *gin.Context) {
		c.String(http.StatusOK, "item %s", c.Param("id"))
	})
	r.GET("/json", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"ok": true})
	})
	log.Fatal(r.Run(":8080"))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: &[
                get("/items/abc", Expect::Answer(200, "item abc")),
                get("/json", Expect::Answer(200, "{\"ok\":true}")),
            ],
            stderr: &[],
        },
    },
    Case {
        module: "github.com/go-playground/validator/v10",
        exercised: "validate.Struct on a JSON body in a handler (required, email, gte): a valid and an invalid user",
        main_go: r#"package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/go-playground/validator/v10"
)

type User struct {
	Name  string `json:"name" validate:"required"`
	Email string `json:"email" validate:"required,email"`
	Age   int    `json:"age" validate:"gte=18,lte=130"`
}

var validate = validator.New(validator.WithRequiredStructEnabled())

func main() {
	http.HandleFunc("POST /users", func(w http.ResponseWriter, r *http.Request) {
		var u User
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := validate.Struct(u); err != nil {
			var errs validator.ValidationErrors
			if !errors.As(err, &errs) {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			var fields []string
			for _, e := range errs {
				fields = append(fields, e.Field()+":"+e.Tag())
			}
			http.Error(w, strings.Join(fields, ","), http.StatusUnprocessableEntity)
			return
		}
		fmt.Fprintf(w, "valid %s", u.Name)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: &[
                post(
                    "/users",
                    r#"{"name":"Ada","email":"ada@example.com","age":36}"#,
                    Expect::Answer(200, "valid Ada"),
                ),
                post(
                    "/users",
                    r#"{"name":"","email":"nope","age":7}"#,
                    Expect::Answer(422, "Name:required,Email:email,Age:gte\n"),
                ),
            ],
            stderr: &[],
        },
    },
    Case {
        module: "github.com/google/uuid",
        exercised: "uuid.NewSHA1 (name-based, checked against the RFC value) and uuid.New (random) in a handler",
        main_go: r#"package main

import (
	"fmt"
	"log"
	"net/http"

	"github.com/google/uuid"
)

func main() {
	http.HandleFunc("/uuid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s\n%s\n", uuid.NewSHA1(uuid.NameSpaceDNS, []byte("example.com")), uuid.New())
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http { requests: &[get("/uuid", Expect::Check(uuid_answer))], stderr: &[] },
    },
    Case {
        module: "github.com/golang-jwt/jwt/v5",
        exercised: "HS256 token signed in a handler (checked byte for byte) and parsed back with jwt.Parse",
        main_go: r#"package main

import (
	"fmt"
	"log"
	"net/http"

	"github.com/golang-jwt/jwt/v5"
)

var key = []byte("compat-secret")

func main() {
	http.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		claims := jwt.MapClaims{"sub": r.URL.Query().Get("sub"), "iat": 1700000000}
		signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		parsed, err := jwt.Parse(signed, func(*jwt.Token) (any, error) { return key, nil },
			jwt.WithValidMethods([]string{"HS256"}))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		sub, _ := parsed.Claims.GetSubject()
		fmt.Fprintf(w, "%s\nsub=%s valid=%t", signed, sub, parsed.Valid)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: &[get(
                "/token?sub=alice",
                Expect::Answer(
                    200,
                    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsInN1YiI6ImFsaWNlIn0.\
                     1o9krzm8xJ5GEihCVw9yL-DleHhCfXlrrB_YGyUo9rc\nsub=alice valid=true",
                ),
            )],
            stderr: &[],
        },
    },
    Case {
        module: "github.com/rs/zerolog",
        exercised: "zerolog.New(os.Stderr) logging a line with a field in a handler",
        main_go: r#"package main

import (
	"log"
	"net/http"
	"os"

	"github.com/rs/zerolog"
)

func main() {
	logger := zerolog.New(os.Stderr).With().Timestamp().Logger()
	http.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		logger.Info().Str("path", r.URL.Path).Msg("compat zerolog line")
		w.Write([]byte("logged"))
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: LOG_REQUEST,
            stderr: &[r#""path":"/hello""#, r#""message":"compat zerolog line""#],
        },
    },
    Case {
        module: "go.uber.org/zap",
        exercised: "zap.NewProduction() logging a line with a field in a handler",
        main_go: r#"package main

import (
	"log"
	"net/http"

	"go.uber.org/zap"
)

func main() {
	logger, err := zap.NewProduction()
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		logger.Info("compat zap line", zap.String("path", r.URL.Path))
		w.Write([]byte("logged"))
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http { requests: LOG_REQUEST, stderr: &[r#""msg":"compat zap line""#, r#""path":"/hello""#] },
    },
    Case {
        module: "github.com/sirupsen/logrus",
        exercised: "logrus with the JSON formatter logging a line with a field in a handler",
        main_go: r#"package main

import (
	"log"
	"net/http"

	"github.com/sirupsen/logrus"
)

func main() {
	logrus.SetFormatter(&logrus.JSONFormatter{})
	http.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		logrus.WithField("path", r.URL.Path).Info("compat logrus line")
		w.Write([]byte("logged"))
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http { requests: LOG_REQUEST, stderr: &[r#""msg":"compat logrus line""#, r#""path":"/hello""#] },
    },
    Case {
        module: "github.com/jackc/pgx/v5",
        exercised: "pgx.Connect in a handler to postgres://127.0.0.1:1 (not a listed database endpoint); the error is reported",
        main_go: r#"package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	http.HandleFunc("/db", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, "postgres://compat:secret@127.0.0.1:1/compat?sslmode=disable")
		if err != nil {
			fmt.Fprintf(w, "error: %v", err)
			return
		}
		defer conn.Close(ctx)
		var one int
		err = conn.QueryRow(ctx, "select 1").Scan(&one)
		fmt.Fprintf(w, "connected: %d %v", one, err)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http { requests: &[get("/db", Expect::CleanError { before: "" })], stderr: &[] },
    },
    Case {
        module: "github.com/redis/go-redis/v9",
        exercised: "redis.NewClient + Ping in a handler to 127.0.0.1:1 (not a listed database endpoint); the error is reported",
        main_go: r#"package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 3 * time.Second, MaxRetries: -1})
	http.HandleFunc("/db", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := rdb.Ping(ctx).Err(); err != nil {
			fmt.Fprintf(w, "error: %v", err)
			return
		}
		fmt.Fprint(w, "connected")
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http { requests: &[get("/db", Expect::CleanError { before: "" })], stderr: &[] },
    },
    Case {
        module: "github.com/go-sql-driver/mysql",
        exercised: "database/sql with the mysql driver: Open + PingContext in a handler to 127.0.0.1:1 (not a listed database endpoint); the error is reported",
        main_go: r#"package main

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

func main() {
	db, err := sql.Open("mysql", "compat:secret@tcp(127.0.0.1:1)/compat?timeout=3s")
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/db", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			fmt.Fprintf(w, "error: %v", err)
			return
		}
		fmt.Fprint(w, "connected")
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http { requests: &[get("/db", Expect::CleanError { before: "" })], stderr: &[] },
    },
    Case {
        module: "github.com/jmoiron/sqlx",
        exercised: "sqlx.In + sqlx.Rebind (query building, checked), then sqlx.ConnectContext with the mysql driver to 127.0.0.1:1 (not a listed database endpoint); the error is reported",
        main_go: r#"package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

func main() {
	http.HandleFunc("/db", func(w http.ResponseWriter, r *http.Request) {
		query, args, err := sqlx.In("SELECT name FROM users WHERE id IN (?)", []int{1, 2, 3})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s %v\n", sqlx.Rebind(sqlx.DOLLAR, query), args)
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		db, err := sqlx.ConnectContext(ctx, "mysql", "compat:secret@tcp(127.0.0.1:1)/compat?timeout=3s")
		if err != nil {
			fmt.Fprintf(w, "error: %v", err)
			return
		}
		db.Close()
		fmt.Fprint(w, "connected")
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: &[get(
                "/db",
                Expect::CleanError { before: "SELECT name FROM users WHERE id IN ($1, $2, $3) [1 2 3]\n" },
            )],
            stderr: &[],
        },
    },
    Case {
        module: "gopkg.in/yaml.v3",
        exercised: "yaml.NewDecoder on a request body into a struct, changed, then yaml.Marshal as the answer",
        main_go: r#"package main

import (
	"log"
	"net/http"

	"gopkg.in/yaml.v3"
)

type Config struct {
	Name     string   `yaml:"name"`
	Replicas int      `yaml:"replicas"`
	Tags     []string `yaml:"tags"`
}

func main() {
	http.HandleFunc("POST /yaml", func(w http.ResponseWriter, r *http.Request) {
		var c Config
		if err := yaml.NewDecoder(r.Body).Decode(&c); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.Replicas *= 2
		out, err := yaml.Marshal(c)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(out)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: &[post(
                "/yaml",
                "name: api\nreplicas: 2\ntags: [a, b]\n",
                Expect::Contains(200, &["name: api\n", "replicas: 4\n", "- a\n", "- b\n"]),
            )],
            stderr: &[],
        },
    },
    Case {
        module: "github.com/spf13/cobra",
        exercised: "a cobra CLI (wasi:cli): subcommand `hello NAME` with a `--shout` flag",
        main_go: r#"package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	var shout bool
	root := &cobra.Command{Use: "greet", SilenceUsage: true}
	hello := &cobra.Command{
		Use:  "hello NAME",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			msg := "Hello, " + args[0] + "!"
			if shout {
				msg = strings.ToUpper(msg)
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	hello.Flags().BoolVar(&shout, "shout", false, "say it louder")
	root.AddCommand(hello)
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}
"#,
        env: &[],
        probe: Probe::Cli { args: &["hello", "World", "--shout"], stdout: "HELLO, WORLD!\n" },
    },
    Case {
        module: "github.com/gorilla/websocket",
        exercised: "websocket.Upgrader in a handler: the upgrade (101) and one text message echoed",
        main_go: r#"package main

import (
	"log"
	"net/http"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{}

func main() {
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered with the error
		}
		defer conn.Close()
		kind, message, err := conn.ReadMessage()
		if err != nil {
			return
		}
		conn.WriteMessage(kind, message)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: &[Request {
                method: "GET",
                path: "/ws",
                headers: &[
                    ("Connection", "Upgrade"),
                    ("Upgrade", "websocket"),
                    ("Sec-WebSocket-Version", "13"),
                    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ],
                body: "",
                expect: Expect::WebSocketEcho,
            }],
            stderr: &[],
        },
    },
    Case {
        module: "github.com/prometheus/client_golang",
        exercised: "a promauto counter incremented in a handler, and promhttp.Handler() serving /metrics (default registry, Go and process collectors)",
        main_go: r#"package main

import (
	"log"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var hits = promauto.NewCounter(prometheus.CounterOpts{Name: "compat_hits_total", Help: "Hits of /hit."})

func main() {
	http.HandleFunc("/hit", func(w http.ResponseWriter, r *http.Request) {
		hits.Inc()
		w.Write([]byte("hit"))
	})
	http.Handle("/metrics", promhttp.Handler())
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: &[
                get("/hit", Expect::Answer(200, "hit")),
                get("/metrics", Expect::Contains(200, &["# TYPE compat_hits_total counter\n", "go_goroutines "])),
            ],
            stderr: &[],
        },
    },
    Case {
        module: "github.com/spf13/viper",
        exercised: "viper reading YAML config from a reader plus AutomaticEnv with a prefix (the deployment's env), read in a handler",
        main_go: r#"package main

import (
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/spf13/viper"
)

func main() {
	viper.SetConfigType("yaml")
	viper.SetEnvPrefix("compat")
	viper.AutomaticEnv()
	if err := viper.ReadConfig(strings.NewReader("server:\n  port: 8080\ngreeting: hello\n")); err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/config", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "port=%d greeting=%s mode=%s",
			viper.GetInt("server.port"), viper.GetString("greeting"), viper.GetString("mode"))
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[("COMPAT_MODE", "production")],
        probe: Probe::Http {
            requests: &[get("/config", Expect::Answer(200, "port=8080 greeting=hello mode=production"))],
            stderr: &[],
        },
    },
    Case {
        module: "golang.org/x/crypto",
        exercised: "bcrypt (golang.org/x/crypto/bcrypt): GenerateFromPassword of a request body, then CompareHashAndPassword with it and with a wrong one",
        main_go: r#"package main

import (
	"fmt"
	"io"
	"log"
	"net/http"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	http.HandleFunc("POST /hash", func(w http.ResponseWriter, r *http.Request) {
		password, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		hash, err := bcrypt.GenerateFromPassword(password, bcrypt.MinCost)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		match := bcrypt.CompareHashAndPassword(hash, password) == nil
		wrong := bcrypt.CompareHashAndPassword(hash, []byte("wrong")) == nil
		fmt.Fprintf(w, "%s\nmatch=%t wrong=%t", hash[:7], match, wrong)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
"#,
        env: &[],
        probe: Probe::Http {
            requests: &[post("/hash", "correct horse", Expect::Answer(200, "$2a$04$\nmatch=true wrong=false"))],
            stderr: &[],
        },
    },
];
