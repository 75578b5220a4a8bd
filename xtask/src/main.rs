//! Repository automation: `cargo xtask ci` (what `.ci/run` runs),
//! `cargo xtask bench` (size and speed against the anchors the issues name),
//! `cargo xtask soak` (a long mixed load against `warp run`),
//! `cargo xtask fuzz` (the `fuzz/` targets, each for a while) and
//! `cargo xtask compat go|npm` (measures compat-db's Go and npm records).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

mod bindings;
mod bun_bench;
mod compat;
mod dev_bench;
mod fuzz;
mod go_bench;
mod mirror;
mod serve;
mod soak;
mod ts_bench;

use serve::{free_port, wait_for_200, warp_run};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci      install what the tests need, check formatting, generated files
          and clippy (warnings are errors), then run every test (release
          profile; under CI=true a test whose tool is missing fails)
  bindings [--check]
          regenerate the guest SDKs' bindings from wit/ (--check: fail
          when the committed ones are stale)
  mirror wasi-libc DIR
          a git mirror of upstream wasi-libc (9886d3d) from Debian's
          source package, for WARP_MIRROR_DIR
  {compat}
  bench [go|dev|ts|bun]
          packed size vs plain `cargo build --release`, no-op repack time,
          `warp run` vs `wasmtime serve`, then the Go path against `go
          build` and the Rust hello, then `warp dev`'s edit-to-response
          time against cargo's incremental build, then the TypeScript
          template's pack times, size and `warp run` vs `wasmtime serve`;
          writes docs/BENCHMARKS.md (`go`, `dev`, `ts`: only that section)
  soak [--minutes N]
          N minutes (default 10) of good, trapping, looping, allocating and
          body-holding requests against `warp run` of tests/fixtures/faults,
          with a SIGHUP reload every 30 s; requests served, failures by
          class, RSS at start and end; writes its section of docs/BENCHMARKS.md
  fuzz [--time 60s] [TARGET…]
          runs each `fuzz/` target (cargo +nightly fuzz; installs cargo-fuzz
          when missing) for the time given; writes its section of
          docs/BENCHMARKS.md";

fn main() -> Result<()> {
    let usage = USAGE.replace("{compat}", compat::USAGE);
    let task = std::env::args().nth(1).unwrap_or_default();
    forget_cargo_run_env();
    let sh = Shell::new()?;
    sh.change_dir(root());
    match task.as_str() {
        "ci" => ci(&sh),
        "bench" if std::env::args().nth(2).as_deref() == Some("go") => bench_go(&sh),
        "bench" if std::env::args().nth(2).as_deref() == Some("dev") => bench_dev(&sh),
        "bench" if std::env::args().nth(2).as_deref() == Some("ts") => bench_ts(&sh),
        "bench" if std::env::args().nth(2).as_deref() == Some("bun") => bench_bun(&sh),
        "bench" => bench(&sh),
        "soak" => soak::run(&sh, &std::env::args().skip(2).collect::<Vec<_>>()),
        "fuzz" => fuzz::run(&sh, &std::env::args().skip(2).collect::<Vec<_>>()),
        "bindings" => bindings::run(&root(), std::env::args().nth(2).as_deref() == Some("--check")),
        "mirror" => mirror::run(&sh, &std::env::args().skip(2).collect::<Vec<_>>()),
        "compat" => compat::run(&sh, &root(), &std::env::args().skip(2).collect::<Vec<_>>()),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}

/// Drops what `cargo run` set for this program (`CARGO_PKG_NAME=xtask`,
/// `CARGO_MANIFEST_DIR`, …) from the cargo commands xtask runs. Build
/// scripts such as ring's rerun when those change, so leaving them would
/// rebuild ring, rustls and everything above them (Wasmtime's HTTP crate,
/// warp) on every switch between `cargo xtask` and a plain `cargo`.
fn forget_cargo_run_env() {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let per_package = key.starts_with("CARGO_PKG_")
            || matches!(
                key,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_MANIFEST_LINKS"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "OUT_DIR"
            );
        if per_package {
            // SAFETY: called first thing in `main`, before any other thread exists.
            unsafe { std::env::remove_var(key) };
        }
    }
}

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repo").to_path_buf()
}

/// Where CI keeps what outlives a checkout: tools it built, downloads.
fn ci_cache() -> Result<PathBuf> {
    let cache = match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cache"),
    };
    Ok(cache.join("warp-ci"))
}

/// Debian packages the database-proxy tests need: the servers they start
/// on their own ports, and `openssl`, which makes their certificates.
const SERVER_PACKAGES: [&str; 4] = ["redis-server", "postgresql", "mariadb-server", "openssl"];

/// Debian packages the tests need: what `toolchains/wasi-libc.toml`
/// requires to build the sysroot (clang/lld/llvm 19, compiler-rt for
/// wasm32, make; also what `warp pack --lang c` uses), then the servers.
fn debian_packages() -> Result<Vec<String>> {
    let libc = warp::fork::recipe::load(&root(), "wasi-libc")?;
    let mut packages: Vec<String> = Vec::new();
    for requirement in libc.recipe.build.map(|build| build.requires).unwrap_or_default() {
        packages.extend(requirement.debian.filter(|package| !packages.contains(package)));
    }
    packages.extend(SERVER_PACKAGES.map(String::from));
    // The JS path runs the machine's node; Debian's when there is none.
    if warp::fs::find_program("node").is_none() {
        packages.extend(["nodejs", "npm"].map(String::from));
    }
    Ok(packages)
}

/// Everything the test suite needs, installed by the suite's own command.
fn install_prerequisites(sh: &Shell) -> Result<()> {
    cmd!(sh, "rustup target add wasm32-wasip2 wasm32-wasip1").run().context("failed to add the Rust wasm targets")?;
    cmd!(sh, "rustup component add rustfmt clippy").run().context("failed to add rustfmt and clippy")?;
    let format = "${Status}";
    let missing: Vec<String> = debian_packages()?
        .into_iter()
        .filter(|package| {
            !cmd!(sh, "dpkg-query -W -f={format} {package}")
                .quiet()
                .ignore_stderr()
                .read()
                .is_ok_and(|s| s.ends_with(" installed"))
        })
        .collect();
    if !missing.is_empty() {
        let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
        cmd!(sh, "apt-get update -qq").run().context("apt-get update failed")?;
        cmd!(sh, "apt-get install -y -qq --no-install-recommends {missing...}")
            .run()
            .context("failed to install the tests' Debian packages")?;
    }
    Ok(())
}

/// The Wasmtime version `warp run` embeds: its CLI is the reference that
/// `tests/it/serve_compat.rs` and the bench compare against.
const WASMTIME_VERSION: &str = warp::engine::WASMTIME_VERSION;

/// Installs `wasmtime` (serve only) into a cache outside the checkout, so
/// a warm machine reuses it; a cold one builds it (about 8 minutes on 2
/// cores). Returns the binary.
fn install_wasmtime(sh: &Shell) -> Result<PathBuf> {
    let root = ci_cache()?.join(format!("wasmtime-{WASMTIME_VERSION}"));
    let binary = root.join("bin/wasmtime");
    if cmd!(sh, "{binary} --version").read().is_ok_and(|v| v.contains(WASMTIME_VERSION)) {
        return Ok(binary);
    }
    let package = format!("wasmtime-cli@{WASMTIME_VERSION}");
    let features = "serve,run,component-model-async,cranelift,parallel-compilation,pooling-allocator";
    cmd!(sh, "cargo install {package} --locked --no-default-features --features {features} --root {root}")
        .run()
        .context("failed to install the wasmtime CLI")?;
    Ok(binary)
}

fn ci(sh: &Shell) -> Result<()> {
    install_prerequisites(sh)?;
    // The cheap checks first. Clippy runs with the release profile, the one
    // the tests use, on every target of every member: the test harness
    // relies on it, since an unregistered test function is dead code.
    cmd!(sh, "cargo fmt --check").run().context("`cargo fmt --check` failed: run `cargo fmt`")?;
    bindings::run(&root(), true)?;
    gofmt_check(sh)?;
    cmd!(sh, "cargo clippy --workspace --all-targets --release --locked -- -D warnings")
        .run()
        .context("clippy found problems")?;
    // The JS toolchain, the way users get it (npm ci of warp's lock file).
    cmd!(sh, "cargo run --release --locked --quiet --bin warp -- toolchain install js").run()?;
    let wasmtime = install_wasmtime(sh)?;
    let mirrors = ci_cache()?.join("mirrors");
    mirror::wasi_libc(sh, &mirrors.join("wasi-libc"))?;
    // One profile for the binary and the tests: release (see docs/ARCHITECTURE.md).
    let _ci = sh.push_env("CI", "true");
    let _wasmtime = sh.push_env("WASMTIME", &wasmtime);
    // The fork tests clone wasi-libc from here (never from the network).
    let _mirrors = sh.push_env("WARP_TEST_MIRRORS", &mirrors);
    cmd!(sh, "cargo test --release --workspace --locked").run()?;
    Ok(())
}

struct Figure {
    what: String,
    value: String,
}

/// The Go that warp carries (the SDK and bridge) and its Go templates and
/// fixtures are gofmt-clean.
fn gofmt_check(sh: &Shell) -> Result<()> {
    let dirs = ["sdk/go", "templates/go-http", "templates/go-cli", "tests/fixtures"];
    let unformatted = cmd!(sh, "gofmt -l {dirs...}").read().context("gofmt (Go's) is needed for the Go checks")?;
    if !unformatted.trim().is_empty() {
        bail!("not gofmt-formatted (run `gofmt -w` on them):\n{unformatted}");
    }
    Ok(())
}

fn table(figures: &[Figure]) -> String {
    let mut table = String::from("| measurement | value |\n|---|---|\n");
    for figure in figures {
        table.push_str(&format!("| {} | {} |\n", figure.what, figure.value));
    }
    table
}

/// `cargo xtask bench go`: only the Go section.
fn bench_go(sh: &Shell) -> Result<()> {
    let warp = serve::build_warp(sh)?;
    let work = scratch_dir(sh, "warp-xtask-bench-go")?;
    let hello = work.join("hello-http");
    copy_tree(&root().join("tests/fixtures/hello-http"), &hello)?;
    sh.change_dir(&hello);
    cmd!(sh, "{warp} pack --quiet").ignore_stdout().run()?;
    sh.change_dir(root());
    go_section(sh, &warp, &work, &hello)
}

/// `cargo xtask bench dev`: only the dev-loop section.
fn bench_dev(sh: &Shell) -> Result<()> {
    let warp = serve::build_warp(sh)?;
    let work = scratch_dir(sh, "warp-xtask-bench-dev")?;
    dev_section(sh, &warp, &work)
}

/// `cargo xtask bench ts`: only the TypeScript section.
fn bench_ts(sh: &Shell) -> Result<()> {
    let warp = serve::build_warp(sh)?;
    let work = scratch_dir(sh, "warp-xtask-bench-ts")?;
    ts_section(sh, &warp, &work)
}

/// The TypeScript figures, printed and written as their own section.
fn ts_section(sh: &Shell, warp: &Path, work: &Path) -> Result<()> {
    cmd!(sh, "{warp} toolchain install js --quiet").run()?;
    let wasmtime = match std::env::var("WASMTIME") {
        Ok(path) => path,
        Err(_) => install_wasmtime(sh)?.to_string_lossy().into_owned(),
    };
    let table = table(&ts_bench::figures(sh, warp, work, Some(&wasmtime))?);
    println!("{table}");
    write_benchmarks(Some("TypeScript"), &format!("{}\n\n{table}", ts_bench::ABOUT))
}

/// `cargo xtask bench bun`: only the Bun section.
fn bench_bun(sh: &Shell) -> Result<()> {
    let warp = serve::build_warp(sh)?;
    let work = scratch_dir(sh, "warp-xtask-bench-bun")?;
    bun_section(sh, &warp, &work)
}

/// The Bun figures, printed and written as their own section.
fn bun_section(sh: &Shell, warp: &Path, work: &Path) -> Result<()> {
    cmd!(sh, "{warp} toolchain install bun --quiet").run()?;
    let table = table(&bun_bench::figures(sh, warp, work)?);
    println!("{table}");
    write_benchmarks(Some("Bun"), &format!("{}\n\n{table}", bun_bench::ABOUT))
}

/// The dev-loop figures, printed and written as their own section.
fn dev_section(sh: &Shell, warp: &Path, work: &Path) -> Result<()> {
    let table = table(&dev_bench::figures(sh, warp, work)?);
    println!("{table}");
    write_benchmarks(Some("Dev loop"), &format!("{}\n\n{table}", dev_bench::ABOUT))
}

/// The Go figures, printed and written as their own section.
fn go_section(sh: &Shell, warp: &Path, work: &Path, hello: &Path) -> Result<()> {
    let figures = go_bench::figures(sh, warp, work, &hello.join("target/warp/hello-http.warp.json"))?;
    let table = table(&figures);
    println!("{table}");
    write_benchmarks(Some("Go"), &format!("{}\n\n{table}", go_bench::ABOUT))
}

fn bench(sh: &Shell) -> Result<()> {
    install_prerequisites(sh)?;
    let warp = serve::build_warp(sh)?;
    let work = scratch_dir(sh, "warp-xtask-bench")?;
    let mut figures = Vec::new();

    for (name, source, artifact) in [
        ("rust-http template", "templates/rust-http", "rust_http.wasm"),
        ("wstd-echo (third-party style)", "tests/fixtures/wstd-echo", "wstd-echo.wasm"),
    ] {
        let plain_dir = work.join(format!("plain-{}", artifact));
        let packed_dir = work.join(format!("packed-{}", artifact));
        for dir in [&plain_dir, &packed_dir] {
            match source.strip_prefix("templates/") {
                // What `warp new` writes: the template with the SDK vendored.
                Some("rust-http") => {
                    warp::templates::instantiate(&warp::lang::rust::TEMPLATES[0], "rust-http", dir)?;
                }
                _ => copy_tree(&root().join(source), dir)?,
            }
        }

        // The anchor: what a user gets from plain cargo.
        sh.change_dir(&plain_dir);
        cmd!(sh, "cargo build --release --target wasm32-wasip2 --quiet").run()?;
        let plain = std::fs::metadata(plain_dir.join("target/wasm32-wasip2/release").join(artifact))?.len();

        sh.change_dir(&packed_dir);
        let started = Instant::now();
        let json = cmd!(sh, "{warp} pack --json --quiet").read()?;
        let cold = started.elapsed();
        let json: serde_json::Value = serde_json::from_str(&json)?;
        let packed = json["raw_bytes"].as_u64().context("raw_bytes")?;
        let gzip = json["gzip_bytes"].as_u64().context("gzip_bytes")?;

        // No-op repack: nothing changed since the last pack.
        let mut times: Vec<Duration> = (0..10)
            .map(|_| {
                let started = Instant::now();
                cmd!(sh, "{warp} pack --quiet").ignore_stdout().run().map(|()| started.elapsed())
            })
            .collect::<Result<_, _>>()?;
        times.sort();
        let median = times[times.len() / 2];
        sh.change_dir(root());

        figures.push(Figure {
            what: format!("{name}: plain `cargo build --release --target wasm32-wasip2`"),
            value: format!("{plain} B"),
        });
        figures.push(Figure { what: format!("{name}: `warp pack`"), value: format!("{packed} B (gzip {gzip} B)") });
        figures.push(Figure {
            what: format!("{name}: packed / plain"),
            value: format!("{:.3}×", packed as f64 / plain as f64),
        });
        figures.push(Figure {
            what: format!("{name}: first pack, dependencies cold"),
            value: format!("{:.2} s", cold.as_secs_f64()),
        });
        figures.push(Figure {
            what: format!("{name}: no-op repack, median of 10"),
            value: format!("{} ms", median.as_millis()),
        });
    }

    let hello = work.join("hello-http");
    copy_tree(&root().join("tests/fixtures/hello-http"), &hello)?;
    sh.change_dir(&hello);
    cmd!(sh, "{warp} pack --quiet").ignore_stdout().run()?;
    sh.change_dir(root());
    figures.extend(serve_bench(sh, &warp, &hello)?);
    figures.extend(toolchain_bench(sh, &warp, &work)?);
    figures.extend(database_bench(sh, &warp, &work)?);

    let table = table(&figures);
    println!("{table}");
    let rustc = cmd!(sh, "rustc --version").read()?;
    let doc = format!(
        "Produced by `cargo xtask bench` on the development machine (2 cores), {rustc}.\n\
         Sizes are of the component; the anchor is plain `cargo build --release --target wasm32-wasip2` \
         of the same crate, built in the same run. The no-op repack is `warp pack` with nothing changed \
         (goal: under 300 ms); the size goal for the template is packed / plain ≤ 0.5. \
         The serving figures use `tests/fixtures/hello-http` (plain wasi:http, no shims, so that \
         `wasmtime serve` can run it too); throughput runs `wrk -t2 -c32 -d10s` against \
         `wasmtime serve` (the wasmtime 48 CLI) and then `warp run`, on the same 2 cores as the servers. \
         The toolchain figures build the patched wasi-libc sysroot with clang-19 from a fresh cache \
         (clone from the Debian-source mirror, apply the series, `make`), then again with nothing \
         changed (goal: under 1 s). The database figures run `tests/fixtures/c-redis-ping` (C, \
         plain sockets) against a local `redis-server`: packed against that sysroot and run by \
         `warp run` (through the database proxy, which pools and resets connections), and built \
         natively with clang-19 (straight to Redis), in the same run; loopback latencies on this VM \
         move with load (an idle machine wakes more slowly), so compare the ratios.\n\n{table}"
    );
    write_benchmarks(None, &doc)?;
    go_section(sh, &warp, &work, &hello)?;
    dev_section(sh, &warp, &work)?;
    ts_section(sh, &warp, &work)?;
    bun_section(sh, &warp, &work)?;
    if figures.iter().any(|f| {
        f.what.starts_with("rust-http template: packed / plain")
            && f.value.trim_end_matches('×').parse::<f64>().unwrap_or(9.0) > 0.5
    }) {
        bail!("the template's packed size is over half the plain build");
    }
    Ok(())
}

/// `warp run` against `wasmtime serve` (same Wasmtime major) on the packed
/// hello component: throughput under wrk, per-request instantiate time, and time to
/// first response after a restart with a warm compiled-code cache.
fn serve_bench(sh: &Shell, warp: &Path, project: &Path) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let manifest = project.join("target/warp/hello-http.warp.json");
    let component = project.join("target/warp/hello-http.wasm");
    let cache = std::env::temp_dir().join("warp-xtask-bench-cache");
    let _ = std::fs::remove_dir_all(&cache);

    // Per-request instantiation, measured in-process through the library.
    let loaded = warp::runner::load(&manifest, None, warp::manifest::Placement::InsideTree)?;
    let events: std::sync::Arc<dyn warp::runner::EventSink> = std::sync::Arc::new(warp::runner::events::Discard);
    let shims = warp::runner::ShimState::new(&loaded, events.clone());
    let server = warp::runner::Server::new(loaded, shims, events)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut timings = runtime.block_on(server.instantiate_timings(2000))?;
    timings.sort();
    figures.push(Figure {
        what: "`warp run`: instantiate per request, p50 of 2000 (goal < 20 µs)".into(),
        value: format!("{:.1} µs", timings[timings.len() / 2].as_secs_f64() * 1e6),
    });

    // Time to first response: a cold start fills the cache, the second is warm.
    let mut first_response = Vec::new();
    for _ in 0..2 {
        let port = free_port()?;
        let started = Instant::now();
        let mut child = warp_run(warp, &manifest, &format!("127.0.0.1:{port}"), &cache).spawn()?;
        wait_for_200(port)?;
        first_response.push(started.elapsed());
        child.kill()?;
        child.wait()?;
    }
    figures.push(Figure {
        what: "`warp run`: time to first response, restart with warm cache (goal < 50 ms)".into(),
        value: format!("{} ms (cold: {} ms)", first_response[1].as_millis(), first_response[0].as_millis()),
    });

    // Throughput: the same client against both servers, one after the other.
    let wasmtime = match std::env::var("WASMTIME") {
        Ok(path) => path,
        Err(_) => install_wasmtime(sh)?.to_string_lossy().into_owned(),
    };
    let have_wasmtime = cmd!(sh, "{wasmtime} --version").read().is_ok_and(|v| v.contains("wasmtime 48."));
    if !have_wasmtime || !serve::have_wrk(sh) {
        figures.push(Figure {
            what: "`warp run` vs `wasmtime serve` throughput".into(),
            value: "not measured: needs `wrk` (apt-get install wrk) and a wasmtime 48 CLI (`cargo install wasmtime-cli@48.0.8`, or WASMTIME=path)".into(),
        });
        return Ok(figures);
    }
    let results = serve::versus_wasmtime_serve(
        sh,
        warp,
        &wasmtime,
        (&manifest, &component),
        &cache,
        "/",
        Duration::from_secs(10),
    )?;
    for (server, serve::Wrk { rate, errors, .. }) in serve::SERVERS.iter().zip(&results) {
        figures.push(Figure {
            what: format!("`{server}` (wasmtime 48), wrk -t2 -c32 -d10s"),
            value: format!("{rate:.0} req/s ({errors})"),
        });
    }
    let rates: Vec<f64> = results.iter().map(|r| r.rate).collect();
    figures.push(Figure {
        what: "`warp run` / `wasmtime serve` throughput (goal ≥ 1.0)".into(),
        value: format!("{:.2}×", rates[1] / rates[0]),
    });
    Ok(figures)
}

/// `warp toolchain build wasi-libc`: cold (fresh cache) and with nothing
/// changed.
fn toolchain_bench(sh: &Shell, warp: &Path, work: &Path) -> Result<Vec<Figure>> {
    let mirrors = ci_cache()?.join("mirrors");
    mirror::wasi_libc(sh, &mirrors.join("wasi-libc"))?;
    let _mirror = sh.push_env("WARP_MIRROR_DIR", &mirrors);
    let _cache = sh.push_env("WARP_CACHE_DIR", work.join("toolchain-cache"));
    let started = Instant::now();
    cmd!(sh, "{warp} toolchain build wasi-libc --quiet").ignore_stdout().run()?;
    let cold = started.elapsed();
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            cmd!(sh, "{warp} toolchain build wasi-libc --quiet").ignore_stdout().run().map(|()| started.elapsed())
        })
        .collect::<Result<_, _>>()?;
    times.sort();
    Ok(vec![
        Figure {
            what: "`warp toolchain build wasi-libc`, cold (clone, apply the series, make)".into(),
            value: format!("{:.1} s", cold.as_secs_f64()),
        },
        Figure {
            what: "`warp toolchain build wasi-libc`, nothing changed, median of 5".into(),
            value: format!("{} ms", times[times.len() / 2].as_millis()),
        },
    ])
}

/// Redis round trips and short connections from a C program under `warp
/// run` (through the database proxy) against the same program built
/// natively, both talking to one local `redis-server`.
fn database_bench(sh: &Shell, warp: &Path, work: &Path) -> Result<Vec<Figure>> {
    let port = free_port()?;
    let mut redis = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("failed to start redis-server (`apt-get install redis-server`)")?;
    let measured = (|| {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("redis-server did not listen on {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let project = work.join("c-redis-ping");
        copy_tree(&root().join("tests/fixtures/c-redis-ping"), &project)?;
        let config = std::fs::read_to_string(project.join("warp.toml"))?.replace("6379", &port.to_string());
        std::fs::write(project.join("warp.toml"), config)?;
        let _dir = sh.push_dir(&project);
        let _cache = sh.push_env("WARP_CACHE_DIR", work.join("toolchain-cache"));
        let json = cmd!(sh, "{warp} pack --json --quiet").read()?;
        let manifest: serde_json::Value = serde_json::from_str(&json)?;
        let manifest = manifest["manifest"].as_str().context("no manifest in `warp pack --json`")?.to_string();
        let proxied = cmd!(sh, "{warp} run {manifest}").read()?;
        let native = project.join("native");
        cmd!(sh, "clang-19 -O2 -o {native} src/main.c").run()?;
        let direct = cmd!(sh, "{native}")
            .env("REDIS_HOST", "127.0.0.1")
            .env("REDIS_PORT", port.to_string())
            .env("ROUND_TRIPS", "20000")
            .env("CONNECTIONS", "2000")
            .read()?;
        Ok((proxied, direct))
    })();
    let _ = redis.kill();
    let _ = redis.wait();
    let (proxied, direct) = measured?;
    let figure = |out: &str, what: &str| -> Result<f64> {
        out.lines()
            .find_map(|line| line.strip_prefix(&format!("{what}: "))?.strip_suffix(" us")?.parse().ok())
            .with_context(|| format!("no `{what}` in:\n{out}"))
    };
    let mut figures = Vec::new();
    for what in ["round trip", "connect, ping, close"] {
        let (warp_us, native_us) = (figure(&proxied, what)?, figure(&direct, what)?);
        figures.push(Figure {
            what: format!("Redis {what}: native C, straight to the server"),
            value: format!("{native_us:.1} µs"),
        });
        figures.push(Figure {
            what: format!("Redis {what}: the same C under `warp run`, through the database proxy"),
            value: format!("{warp_us:.1} µs ({:.2}× native)", warp_us / native_us),
        });
    }
    Ok(figures)
}

/// A fresh `$TMPDIR/NAME`: outside the repository, so the copies made
/// there are not taken for workspace members.
pub(crate) fn scratch_dir(sh: &Shell, name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(name);
    if dir.exists() {
        sh.remove_path(&dir)?;
    }
    sh.create_dir(&dir)?;
    Ok(dir)
}

pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_name() == "target" {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

/// Rewrites one part of `docs/BENCHMARKS.md`, keeping the others: `None`
/// is the part `bench` owns (everything before the first `## ` heading),
/// `Some(heading)` the section under `## heading` (added at the end when
/// absent). Each task writes only its own figures.
pub(crate) fn write_benchmarks(heading: Option<&str>, body: &str) -> Result<()> {
    let path = root().join("docs/BENCHMARKS.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let title = "# Benchmarks\n\n";
    let rest = doc.strip_prefix(title).unwrap_or(&doc);
    // Split into the untitled head and the `## ` sections, each with its heading line.
    let mut parts: Vec<String> = vec![String::new()];
    for line in rest.split_inclusive('\n') {
        if line.starts_with("## ") {
            parts.push(String::new());
        }
        parts.last_mut().expect("never empty").push_str(line);
    }
    let body = format!("{}\n\n", body.trim_end());
    match heading {
        None => parts[0] = body,
        Some(heading) => {
            let line = format!("## {heading}\n");
            let section = format!("{line}\n{body}");
            match parts.iter_mut().skip(1).find(|part| part.starts_with(&line)) {
                Some(part) => *part = section,
                None => parts.push(section),
            }
        }
    }
    let text = format!("{title}{}", parts.concat().trim_end());
    std::fs::write(&path, text + "\n").with_context(|| format!("failed to write `{}`", path.display()))
}
